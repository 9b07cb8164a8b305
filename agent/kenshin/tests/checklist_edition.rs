//! The checklist edition through the real program, on loopback only: by default the
//! report answers the 令和7年度版 and names the 令和8年度版 as newer; `--checklist r8`
//! answers the 令和8年度版 with every item marked unconfirmed in report.json,
//! checklist.csv and report.html; an edition that does not exist is refused before
//! anything is sent.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;

mod support;
use support::{kenshin, refused, stderr};

/// A loopback telnet-like service: kenshin reports it (checklist R7 2-⑫).
fn telnet() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.write_all(b"\xff\xfd\x18\xff\xfd\x20login: ");
        }
    });
    port
}

/// Scans the service into `dir/name` with `extra` flags; returns report.json, the
/// CSV and the HTML.
fn scan(dir: &Path, name: &str, extra: &[&str]) -> (String, String, String) {
    let folder = dir.join(name);
    let port = telnet().to_string();
    let mut args = vec![
        "scan",
        "127.0.0.1",
        "-p",
        &port,
        "-q",
        "--no-snmp",
        "-o",
        folder.to_str().expect("utf-8"),
    ];
    args.extend(extra);
    let o = kenshin(&args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let read = |f: &str| std::fs::read_to_string(folder.join(f)).expect(f);
    // report.json is written compact; laid out again, one field a line, for reading.
    let json: serde_json::Value = serde_json::from_str(&read("report.json")).expect("report.json");
    (
        serde_json::to_string_pretty(&json).expect("json"),
        read("checklist.csv"),
        read("report.html"),
    )
}

#[test]
fn the_default_answers_r7_and_names_r8_as_newer() {
    let dir = tempfile::tempdir().expect("temp");
    let (json, csv, html) = scan(dir.path(), "default", &[]);
    assert!(
        json.contains("\"checklist\": \"mhlw-checklist-r7\""),
        "{json}"
    );
    assert!(
        json.contains("\"checklist_newer\": \"mhlw-checklist-r8\""),
        "{json}"
    );
    assert!(!json.contains("\"framework\": \"mhlw-checklist-r8\""));
    assert!(csv.contains("\"医療機関確認用\",\"2-⑫\""), "{csv}");
    assert!(
        html.contains("（令和7年度版）")
            && html.contains("より新しい版があります")
            && html.contains("mhlw-checklist-r8"),
        "the page names the edition used and the newer one"
    );
}

#[test]
fn checklist_r8_answers_r8_with_every_item_marked_unconfirmed() {
    let dir = tempfile::tempdir().expect("temp");
    let (json, csv, html) = scan(dir.path(), "r8", &["--checklist", "r8"]);
    assert!(
        json.contains("\"checklist\": \"mhlw-checklist-r8\""),
        "{json}"
    );
    assert!(json.contains("\"checklist_newer\": null"), "{json}");
    let items = json.matches("\"framework\": \"mhlw-checklist-r8\"").count();
    assert_eq!(items, 20, "{json}");
    assert!(
        json.matches("\"unconfirmed\": true").count() >= items,
        "{json}"
    );
    assert!(!json.contains("\"unconfirmed\": false"), "{json}");
    let rows: Vec<&str> = csv
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(
            row.starts_with("\"医療機関・薬局確認用\"") || row.starts_with("\"事業者確認用\""),
            "{row}"
        );
        assert!(row.contains("※ 項目番号または文言は未確認。"), "{row}");
    }
    let services = rows
        .iter()
        .find(|r| r.starts_with("\"医療機関・薬局確認用\",\"不要サービス停止\""))
        .expect("the R8 item on unneeded services");
    assert!(
        services.contains("\"いいえ\""),
        "the telnet finding answers it: {services}"
    );
    assert!(
        html.contains(
            "医療機関・薬局におけるサイバーセキュリティ対策チェックリスト（令和8年度版）"
        ) && html.contains("項目番号と文言は kenshin の資料では未確認"),
        "the page names R8 and says its numbering is unconfirmed"
    );
}

#[test]
fn an_edition_that_does_not_exist_is_refused_naming_the_value_and_the_choices() {
    refused(
        &["scan", "127.0.0.1", "--checklist", "r9"],
        "\"r9\" is not a checklist edition; choose one of r7 (mhlw-checklist-r7), r8 \
         (mhlw-checklist-r8)",
    );
}
