//! The report folder through the real program, on loopback only: every output is
//! written and sealed, `kenshin verify` passes on the untouched folder and fails,
//! naming the file, after any change; a hostile banner cannot reach the HTML as
//! markup; bad ledgers and exposed keys are refused before anything is sent.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

mod support;
use support::{kenshin, refused, test_key};

fn out(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A loopback service that greets every connection with `banner` and hangs up.
fn greeter(banner: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.write_all(banner);
        }
    });
    port
}

/// Scans one loopback port into `dir/name` and returns the folder.
fn scan(dir: &Path, name: &str, port: u16, extra: &[&str]) -> PathBuf {
    let folder = dir.join(name);
    let p = port.to_string();
    let mut args = vec![
        "scan",
        "127.0.0.1",
        "-p",
        &p,
        "-q",
        "--no-snmp",
        "-o",
        folder.to_str().expect("utf-8"),
    ];
    args.extend(extra);
    let o = kenshin(&args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", out(&o));
    folder
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("list").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

fn fingerprint() -> String {
    let o = kenshin(&["key"]);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint: ").map(str::to_owned))
        .expect("kenshin key prints the fingerprint")
}

const HOSTILE: &[u8] =
    b"220 <script>document.title='pwned'</script><img src=x onerror=alert(1)> \x1b[2J ready\r\n";

#[test]
fn a_scan_writes_every_output_and_a_folder_that_verifies_until_any_byte_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = greeter(b"220 kenshin test FTP ready\r\n");
    let folder = scan(dir.path(), "r", port, &[]);
    for name in [
        "report.json",
        "report.html",
        "checklist.csv",
        "checklist.xlsx",
        "manifest.json",
        "manifest.sig",
    ] {
        let mode = std::fs::metadata(folder.join(name))
            .expect(name)
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} is private");
    }
    let entries: Vec<String> = std::fs::read_dir(&folder)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries.len(),
        8,
        "six outputs, the archive and its list: {entries:?}"
    );
    let o = kenshin(&["evidence", folder.to_str().expect("utf-8"), "ev-000001"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("kenshin evidence ev-000001\n"),
        "{}",
        out(&o)
    );

    let fp = fingerprint();
    let o = kenshin(&["verify", folder.to_str().expect("utf-8"), "--key", &fp]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains(&format!("signed by key {fp}")),
        "{}",
        out(&o)
    );

    let mut files = vec![
        "report.json".to_owned(),
        "report.html".to_owned(),
        "checklist.csv".to_owned(),
        "checklist.xlsx".to_owned(),
    ];
    files.push("evidence.jsonl.gz".to_owned());
    files.push("evidence.sha256".to_owned());
    for (i, name) in files.iter().enumerate() {
        let copy = dir.path().join(format!("tampered-{i}"));
        copy_dir(&folder, &copy);
        let path = copy.join(name);
        let mut bytes = std::fs::read(&path).expect("read");
        let at = bytes.len() / 2;
        bytes[at] ^= 0x20;
        std::fs::write(&path, bytes).expect("write");
        let o = kenshin(&["verify", copy.to_str().expect("utf-8")]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", out(&o));
        assert!(
            out(&o).contains(&format!("changed: {name} ")),
            "{name}: {}",
            out(&o)
        );
    }

    let copy = dir.path().join("added");
    copy_dir(&folder, &copy);
    std::fs::write(copy.join("notes.txt"), "x").expect("write");
    std::fs::remove_file(copy.join("checklist.csv")).expect("rm");
    let o = kenshin(&["verify", copy.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("added: notes.txt"), "{}", out(&o));
    assert!(out(&o).contains("missing: checklist.csv"), "{}", out(&o));

    let other = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let o = kenshin(&["verify", folder.to_str().expect("utf-8"), "--key", other]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("not by the expected key"), "{}", out(&o));

    let o = kenshin(&[
        "verify",
        dir.path().join("nowhere").to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
}

/// The archive's member lines.
fn members(folder: &Path) -> Vec<String> {
    let gz = std::fs::File::open(folder.join("evidence.jsonl.gz")).expect("archive");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut text)
        .expect("the archive is gzip'd text");
    text.lines().map(str::to_owned).collect()
}

/// Writes `lines` back as the archive, compressed again.
fn rewrite(folder: &Path, lines: &[String]) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for l in lines {
        writeln!(gz, "{l}").expect("gzip");
    }
    std::fs::write(folder.join("evidence.jsonl.gz"), gz.finish().expect("gzip")).expect("w");
}

#[test]
fn verify_names_the_evidence_record_that_changed_and_the_member_added_or_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = greeter(b"220 kenshin test FTP ready\r\n");
    let folder = scan(dir.path(), "r", port, &[]);
    let lines = members(&folder);
    let record = |l: &String| l.starts_with("{\"id\":\"ev-");
    let first = lines.iter().position(record).expect("a record");
    let id: serde_json::Value = serde_json::from_str(&lines[first]).expect("json");
    let id = id["id"].as_str().expect("id").to_owned();

    let changed = dir.path().join("changed");
    copy_dir(&folder, &changed);
    let mut edited = lines.clone();
    edited[first] = edited[first].replacen("\"note\":\"", "\"note\":\"forged ", 1);
    rewrite(&changed, &edited);
    let o = kenshin(&["verify", changed.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("changed: evidence.jsonl.gz "),
        "{}",
        out(&o)
    );
    assert!(
        out(&o).contains(&format!(
            "changed: evidence record {id} in evidence.jsonl.gz"
        )),
        "{}",
        out(&o)
    );

    let moved = dir.path().join("moved");
    copy_dir(&folder, &moved);
    let mut edited: Vec<String> = lines.iter().filter(|l| !record(l)).cloned().collect();
    edited.push(r#"{"id":"ev-999999","host":"198.18.2.99","port":null,"protocol":null,"probe":"banner","at":"2026-11-22T00:00:00Z","sent":[],"received":[],"truncated":false,"redacted":[],"note":"","exchange":[]}"#.to_owned());
    rewrite(&moved, &edited);
    let o = kenshin(&["verify", moved.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("added: ev-999999 in evidence.jsonl.gz"),
        "{}",
        out(&o)
    );
    assert!(
        out(&o).contains(&format!("missing: {id} from evidence.jsonl.gz")),
        "{}",
        out(&o)
    );
}

#[test]
fn a_hostile_banner_reaches_the_report_as_capped_escaped_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = greeter(HOSTILE);
    let folder = scan(dir.path(), "r", port, &["--lang", "en"]);
    let html = std::fs::read_to_string(folder.join("report.html")).expect("html");
    assert!(html.contains("<html lang=\"en\">"));
    assert!(!html.contains("<script"), "script tag in the report");
    assert!(!html.contains("<img"), "img tag in the report");
    assert!(!html.contains('\u{1b}'), "terminal escape in the report");
    assert!(
        html.contains("&lt;script&gt;"),
        "the banner is not shown at all"
    );
}

#[test]
fn a_malformed_ledger_is_refused_naming_line_and_column_before_scanning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = dir.path().join("台帳.csv");
    std::fs::write(
        &ledger,
        "address,hostname\n198.18.2.10,pacs\n198.18.2.300,ws\n",
    )
    .expect("write");
    refused(
        &[
            "scan",
            "127.0.0.1",
            "-p",
            "1",
            "--inventory",
            ledger.to_str().expect("utf-8"),
        ],
        "line 3, column 1 (address): \"198.18.2.300\" is not an IPv4 or IPv6 address",
    );
}

#[test]
fn a_signing_key_others_can_read_is_refused_before_scanning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("k.pem");
    std::fs::copy(test_key_created(), &key).expect("copy key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    refused(
        &[
            "scan",
            "127.0.0.1",
            "-p",
            "1",
            "--signing-key",
            key.to_str().expect("utf-8"),
        ],
        "mode 0644",
    );
}

#[test]
fn diff_of_folders_that_are_not_reports_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = kenshin(&[
        "diff",
        dir.path().to_str().expect("utf-8"),
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        out(&o).contains("not a kenshin report folder"),
        "{}",
        out(&o)
    );
}

/// The tests' key, created by `kenshin key` if no test made it yet.
fn test_key_created() -> &'static Path {
    let _ = fingerprint();
    test_key()
}
