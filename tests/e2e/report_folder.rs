//! The report folder a lab scan leaves: report.html rendered by Chromium (Japanese
//! glyphs from a CJK font, no console errors, the hostile banner inert), the
//! checklist exports, the ledger comparison, `kenshin verify` before and after a
//! one-byte change, and `kenshin diff` across a port opened between two scans.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};
use kenshin_lab::{SERVICES2_ADDR, SERVICES_ADDR, TERMINAL_ADDR};
use serde_json::Value;

use crate::browser::Browser;
use crate::findings::scan;
use crate::support::*;

fn folder() -> &'static Path {
    &scan().dir
}

#[test]
fn a_lab_scan_leaves_every_output_and_a_transcript_per_probe() {
    let dir = folder();
    for name in [
        "report.json",
        "report.html",
        "checklist.csv",
        "checklist.xlsx",
        "manifest.json",
        "manifest.sig",
    ] {
        assert!(dir.join(name).is_file(), "{name} missing");
    }
    let report = &scan().report;
    let evidence = report["evidence"].as_array().expect("evidence");
    assert!(!evidence.is_empty(), "no evidence records");
    let files: Vec<_> = std::fs::read_dir(dir).expect("list").flatten().collect();
    assert!(files.len() <= 25, "{} files in the folder", files.len());
    assert!(
        !dir.join("evidence").exists(),
        "no folder of loose transcripts"
    );
    let ids: Vec<&str> = evidence
        .iter()
        .map(|e| e["id"].as_str().expect("id"))
        .collect();
    let mut args = vec!["evidence", dir.to_str().expect("utf-8")];
    args.extend(&ids);
    let o = kenshin_offline(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for id in &ids {
        assert!(
            out.contains(&format!("kenshin evidence {id}\n")),
            "no transcript of {id}"
        );
    }
    let o = kenshin_offline(&["evidence", dir.to_str().expect("utf-8"), "ev-999999"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("ev-999999"), "{}", text(&o));
    assert!(report["signing"]["fingerprint"]
        .as_str()
        .is_some_and(|f| f.starts_with("SHA256:")));
}

#[test]
fn chromium_renders_the_report_in_japanese_with_no_console_errors_and_prints_it() {
    let html = folder().join("report.html");
    let mut b = Browser::start();
    b.open(&html);
    let errors = b.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    // The hostile banner on 198.18.2.11:2121 is in the page, as text only.
    assert_eq!(
        b.eval("document.title")
            .as_str()
            .map(|t| t.contains("pwned")),
        Some(false)
    );
    assert_eq!(
        b.eval("document.querySelectorAll('script,img,iframe,object,embed').length"),
        0
    );
    assert_eq!(
        b.eval("document.body.innerText.includes(\"<script>document.title='pwned'</script>\")"),
        true,
        "the hostile banner should be shown as text"
    );

    // Japanese headings and table cells are drawn with a CJK font, every glyph of
    // them: no tofu from a Latin fallback.
    for selector in ["h1", "#checklist tbody tr td:nth-child(2)", "#summary h2"] {
        let text = b.eval(&format!("document.querySelector('{selector}').innerText"));
        let text = text.as_str().expect("text");
        let fonts = b.fonts_of(selector);
        assert!(
            !fonts.is_empty() && fonts.iter().all(|(family, _)| family.contains("CJK")),
            "{selector} ({text}) drawn with {fonts:?}"
        );
        let glyphs: u64 = fonts.iter().map(|(_, n)| n).sum();
        let visible = text.chars().filter(|c| !c.is_whitespace()).count() as u64;
        assert!(
            glyphs >= visible,
            "{selector}: {glyphs} glyphs for {visible} characters"
        );
    }

    let png = b.first_page_png();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000);
    let shot = artifacts().join("report-first-page.png");
    std::fs::write(&shot, &png).expect("screenshot kept");

    let pdf = b.pdf();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let pdf_path = artifacts().join("report.pdf");
    std::fs::write(&pdf_path, &pdf).expect("pdf kept");
    let raw = String::from_utf8_lossy(&pdf);
    assert!(raw.contains("NotoSansCJK"), "the PDF embeds no CJK font");
    eprintln!(
        "report.html rendered: {} (PNG), {} ({} bytes)",
        shot.display(),
        pdf_path.display(),
        pdf.len()
    );
}

#[test]
fn the_checklist_exports_give_both_forms_an_answer_for_every_item() {
    let report = &scan().report;
    let items = report["checklist"].as_array().expect("checklist");
    let csv = std::fs::read(folder().join("checklist.csv")).expect("csv");
    assert!(csv.starts_with(b"\xef\xbb\xbf"), "no UTF-8 BOM for Excel");
    let text = String::from_utf8(csv).expect("utf-8");
    let two_one = text
        .lines()
        .find(|l| l.starts_with("\"医療機関確認用\",\"2-①\""))
        .expect("2-① row");
    assert!(two_one.contains("\"いいえ\""), "{two_one}");

    let bytes = std::fs::read(folder().join("checklist.xlsx")).expect("xlsx");
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("opens");
    for form in ["医療機関確認用", "事業者確認用"] {
        let sheet = book.worksheet_range(form).expect("sheet per form");
        let expected = items
            .iter()
            .filter(|c| {
                c["forms"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == form))
            })
            .count();
        let answers: Vec<String> = (5..5 + expected as u32)
            .map(|r| match sheet.get_value((r, 2)) {
                Some(Data::String(s)) => s.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert!(
            answers
                .iter()
                .all(|a| ["はい", "いいえ", "要確認"].contains(&a.as_str())),
            "{form}: {answers:?}"
        );
    }
}

#[test]
fn the_ledger_comparison_lists_the_unregistered_terminal_and_the_rows_not_seen() {
    let report = &scan().report;
    let inv = &report["inventory"];
    assert_eq!(inv["encoding"], "Shift_JIS", "{inv:#}");
    assert_eq!(inv["entries"], 6);
    assert_eq!(inv["matched"], 4, "{inv:#}");
    assert_eq!(inv["out_of_scope"], 1);
    assert_eq!(inv["unregistered"], serde_json::json!([TERMINAL_ADDR]));
    let not_seen: Vec<&str> = inv["not_seen"]
        .as_array()
        .expect("not_seen")
        .iter()
        .filter_map(|e| e["hostname"].as_str())
        .collect();
    assert_eq!(not_seen, ["old-fax"]);
    let pacs = hosts(report)[SERVICES_ADDR].clone();
    assert_eq!(pacs["ledger"]["owner"], "放射線科");
    assert_eq!(pacs["ledger"]["line"], 2);
    let f: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == "inventory.unregistered-device")
        .collect();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["host"], TERMINAL_ADDR);
    assert!(f[0]["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .any(|r| r["id"] == "2-①"));
    let html = std::fs::read_to_string(folder().join("report.html")).expect("html");
    assert!(html.contains("台帳にない機器") && html.contains("old-fax"));
}

#[test]
fn verify_passes_on_the_untouched_folder_and_names_the_file_after_one_changed_byte() {
    let fp = scan().report["signing"]["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    let dir = folder().to_str().expect("utf-8");
    let o = kenshin_offline(&["verify", dir, "--key", &fp]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    eprintln!("{}", text(&o));

    let copy = out_dir();
    let tampered = copy.path().join("report");
    let status = std::process::Command::new("cp")
        .args(["-a", dir, tampered.to_str().expect("utf-8")])
        .status()
        .expect("cp");
    assert!(status.success());
    let target = tampered.join("checklist.csv");
    let mut bytes = std::fs::read(&target).expect("read");
    let i = bytes.len() - 10;
    bytes[i] ^= 0x01;
    std::fs::write(&target, bytes).expect("write");
    let o = kenshin_offline(&["verify", tampered.to_str().expect("utf-8"), "--key", &fp]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("changed: checklist.csv"), "{}", text(&o));
    eprintln!("{}", text(&o));
}

/// The archive's member lines, through zcat as an inspector reads them.
fn archive_lines(folder: &Path) -> Vec<String> {
    let o = std::process::Command::new("zcat")
        .arg(folder.join("evidence.jsonl.gz"))
        .output()
        .expect("zcat runs");
    assert!(
        o.status.success(),
        "zcat: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout)
        .expect("UTF-8 lines")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A copy of the scan's folder with its archive's lines replaced by `lines`, gzip'd
/// with the standard tool.
fn with_archive(name: &str, lines: &[String]) -> (tempfile::TempDir, std::path::PathBuf) {
    let copy = out_dir();
    let folder = copy.path().join(name);
    let status = std::process::Command::new("cp")
        .args(["-a", folder_str(), folder.to_str().expect("utf-8")])
        .status()
        .expect("cp");
    assert!(status.success());
    let plain = folder.join("evidence.jsonl");
    std::fs::write(&plain, lines.join("\n") + "\n").expect("write");
    let status = std::process::Command::new("gzip")
        .args(["-f", "-n"])
        .arg(&plain)
        .status()
        .expect("gzip runs");
    assert!(status.success());
    (copy, folder)
}

fn folder_str() -> &'static str {
    folder().to_str().expect("utf-8")
}

#[test]
fn verify_names_the_evidence_record_changed_and_the_archive_member_added_or_removed() {
    let lines = archive_lines(folder());
    let is_record = |l: &String| l.starts_with("{\"id\":\"ev-");
    let at = lines.iter().rposition(is_record).expect("a record");
    let record: Value = serde_json::from_str(&lines[at]).expect("JSON");
    let id = record["id"].as_str().expect("id").to_owned();

    let mut edited = lines.clone();
    edited[at] = edited[at].replacen("\"note\":\"", "\"note\":\"x", 1);
    let (_keep, changed) = with_archive("changed", &edited);
    let o = kenshin_offline(&["verify", changed.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "changed: evidence record {id} in evidence.jsonl.gz"
        )),
        "{}",
        text(&o)
    );
    eprintln!("{}", text(&o));

    let mut edited: Vec<String> = lines.iter().filter(|l| **l != lines[at]).cloned().collect();
    edited.push(r#"{"chunk":"c999999","base64":"cGx1cw=="}"#.to_owned());
    let (_keep, moved) = with_archive("moved", &edited);
    let o = kenshin_offline(&["verify", moved.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("added: c999999 in evidence.jsonl.gz"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains(&format!("missing: {id} from evidence.jsonl.gz")),
        "{}",
        text(&o)
    );
    eprintln!("{}", text(&o));
}

#[test]
fn diff_shows_a_port_opened_between_two_lab_scans() {
    let mut session = lab();
    let out = out_dir();
    let scan_to = |name: &str| {
        let dir = out.path().join(name);
        let o = kenshin_in_lab(&[
            "scan",
            SERVICES2_ADDR,
            "-p",
            "T:445,3389,8081",
            "--no-snmp",
            "-q",
            "-o",
            dir.to_str().expect("utf-8"),
        ]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
        dir
    };
    let before = scan_to("before");
    let listener = std::path::PathBuf::from(env!("CARGO_BIN_EXE_kenshin-lab"));
    session
        .lab
        .start_in("ksl-svc2", &listener, &["listen", "8081"])
        .expect("listener started");
    session
        .lab
        .wait_listening("ksl-svc2", 8081)
        .expect("port 8081 open");
    let after = scan_to("after");

    let (b, a) = (
        before.to_str().expect("utf-8"),
        after.to_str().expect("utf-8"),
    );
    let o = kenshin_offline(&["diff", b, a]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let printed = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        printed.contains(&format!("ports opened (1)\n  + {SERVICES2_ADDR}:8081/tcp")),
        "{printed}"
    );
    eprintln!("{printed}");
    let o = kenshin_offline(&["diff", b, a, "--json"]);
    let d: Value = serde_json::from_slice(&o.stdout).expect("diff JSON");
    assert_eq!(d["ports_opened"][0]["port"], 8081, "{d:#}");
    assert_eq!(d["ports_opened"][0]["host"], SERVICES2_ADDR);
    assert!(d["hosts_appeared"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(d["scope_differs"], false);
}
