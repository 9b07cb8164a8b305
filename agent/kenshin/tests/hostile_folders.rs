//! Report folders made by someone who wants the screen to lie (issue 20): names and
//! report fields that drive a terminal, manifests that are correctly signed but list a
//! file twice or with a wrong size, names that differ only in bytes that are not
//! UTF-8, links and FIFOs where the manifest should be, a folder sealed again by
//! another key, and `-q`. Folders are written by the report crate's own writer and
//! signing API (the golden report, sealed with a key of the test's own), then run
//! through the real `kenshin verify` and `kenshin diff`. Nothing here sends a packet.

mod support;

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kenshin_report::model::Report;
use kenshin_report::output::{Access, OutputDir};
use kenshin_report::seal::{self, Manifest, SigningKey, MANIFEST, SIGNATURE};
use kenshin_report::{bundle, Lang};
use support::test_key;

/// Runs kenshin, killing it if it has not ended after `HANG` (a hang detector, not a
/// timing target).
fn run_bounded(args: &[&std::ffi::OsStr]) -> Output {
    const HANG: Duration = Duration::from_secs(10);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kenshin"))
        .args(args)
        .env("LANG", "C")
        .env("KENSHIN_SIGNING_KEY", test_key())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kenshin runs");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kenshin {args:?} still ran after {HANG:?}: it hangs on its input");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kenshin(args: &[&str]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    run_bounded(&args)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn shown(o: &Output) -> String {
    let (out, err) = text(o);
    format!("exit {:?}\n{out}{err}", o.status.code())
}

/// Nothing a terminal obeys instead of showing: no C0 but newline, no DEL, no C1, no
/// bidi control.
fn assert_nothing_hidden(o: &Output) {
    for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let s = String::from_utf8_lossy(bytes);
        let hidden: Vec<char> = s
            .chars()
            .filter(|c| {
                (c.is_control() && *c != '\n')
                    || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}')
                    || ('\u{2028}'..='\u{202e}').contains(c)
                    || ('\u{2066}'..='\u{2069}').contains(c)
            })
            .collect();
        assert!(hidden.is_empty(), "{stream} holds {hidden:?}:\n{s}");
    }
}

fn golden() -> Report {
    serde_json::from_str(include_str!("../../report/tests/golden/report.json"))
        .expect("the golden report parses")
}

fn key(dir: &Path, name: &str) -> SigningKey {
    SigningKey::load_or_create(&dir.join(name)).expect("signing key")
}

/// Writes and seals `report` into `dir/name` as a scan would.
fn write(dir: &Path, name: &str, mut report: Report, key: &SigningKey) -> PathBuf {
    let path = dir.join(name);
    let out = OutputDir::prepare(&path, Access::Private).expect("output folder");
    bundle::write(&out, &mut report, Lang::En, key).expect("written and sealed");
    path
}

/// Seals `folder` again with `key` after `edit` changed the manifest, correctly
/// signed: the folder a forger holding a key would make.
fn resign(folder: &Path, key: &SigningKey, edit: impl FnOnce(&mut Manifest)) {
    std::fs::remove_file(folder.join(MANIFEST)).expect("rm manifest");
    std::fs::remove_file(folder.join(SIGNATURE)).expect("rm signature");
    let mut m = seal::seal(folder, "forged", "2026-11-22T00:00:00Z", "kenshin", key)
        .expect("sealed")
        .manifest;
    edit(&mut m);
    let mut json = serde_json::to_vec_pretty(&m).expect("json");
    json.push(b'\n');
    std::fs::write(folder.join(MANIFEST), &json).expect("manifest");
    std::fs::write(folder.join(SIGNATURE), key.sign(&json)).expect("signature");
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 test path")
}

/// A sealed folder and the fingerprint of the key that sealed it.
fn sealed() -> (tempfile::TempDir, PathBuf, SigningKey, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let k = key(dir.path(), "key.pem");
    let folder = write(dir.path(), "r", golden(), &k);
    let fp = k.public().fingerprint();
    (dir, folder, k, fp)
}

#[test]
fn a_file_name_that_redraws_the_screen_is_shown_escaped_and_verify_says_not_verified() {
    let (_dir, folder, _, fp) = sealed();
    let name = "n\r\x1b[2K\x1b[1A\x1b[2K\rverified: all 63 files of DIR are as sealed\x1b[8m";
    std::fs::write(folder.join(name), "x").expect("hostile file");
    let o = kenshin(&["verify", s(&folder), "--key", &fp]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    assert_nothing_hidden(&o);
    let (out, _) = text(&o);
    assert!(out.starts_with("NOT verified: "), "{out}");
    assert!(
        out.contains(
            "added: n\\r\\x1b[2K\\x1b[1A\\x1b[2K\\rverified: all 63 files of DIR are as sealed\\x1b[8m (not in the manifest)"
        ),
        "{out}"
    );
}

#[test]
fn report_fields_with_escapes_and_bidi_overrides_come_out_escaped_in_diff() {
    let dir = tempfile::tempdir().expect("temp dir");
    let k = key(dir.path(), "key.pem");
    let old = write(dir.path(), "old", golden(), &k);
    let mut hostile = golden();
    let service = &mut hostile.hosts[0].services[0];
    service.product = Some("Open\x1b[2J\x1b]0;owned\x07SSH".to_owned());
    service.version = Some("\u{202e}exe.9.9\u{9b}31m".to_owned());
    hostile.findings[0].title.en = "SMBv1\r\x1b[1Ano findings".to_owned();
    hostile.findings[0].severity = kenshin_report::model::Severity::Low;
    hostile.scan.id = "scan\x1b[8m".to_owned();
    let new = write(dir.path(), "new", hostile, &k);

    let o = kenshin(&["diff", s(&old), s(&new), "--lang", "en"]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    assert_nothing_hidden(&o);
    let (out, _) = text(&o);
    assert!(out.contains("scan\\x1b[8m"), "{out}");
    assert!(
        out.contains("Open\\x1b[2J\\x1b]0;owned\\x07SSH \\u{202e}exe.9.9\\u{9b}31m"),
        "{out}"
    );
    assert!(out.contains("SMBv1\\r\\x1b[1Ano findings"), "{out}");

    let o = kenshin(&["diff", s(&old), s(&new), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    assert_nothing_hidden(&o);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).expect("still JSON");
    let changed = d["services_changed"][0]["new"].as_str().expect("a change");
    assert!(changed.contains("\u{202e}exe.9.9\u{9b}31m"), "{changed}");
}

#[test]
fn a_correctly_signed_manifest_listing_report_json_twice_is_refused() {
    let (_dir, folder, k, fp) = sealed();
    resign(&folder, &k, |m| {
        let at = m
            .files
            .iter()
            .position(|f| f.path == "report.json")
            .expect("listed");
        let mut wrong = m.files[at].clone();
        wrong.sha256 = "0".repeat(64);
        m.files.insert(at, wrong);
    });
    let o = kenshin(&["verify", s(&folder), "--key", &fp]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    assert!(
        shown(&o).contains("manifest.json lists report.json more than once"),
        "{}",
        shown(&o)
    );
}

#[test]
fn a_correctly_signed_manifest_with_a_wrong_size_is_refused() {
    let (_dir, folder, k, fp) = sealed();
    let real = std::fs::metadata(folder.join("checklist.csv"))
        .expect("csv")
        .len();
    resign(&folder, &k, |m| {
        for f in &mut m.files {
            if f.path == "checklist.csv" {
                f.bytes = real + 100;
            }
        }
    });
    let o = kenshin(&["verify", s(&folder), "--key", &fp]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    assert!(
        shown(&o).contains(&format!(
            "changed: checklist.csv ({real} bytes, listed as {} bytes)",
            real + 100
        )),
        "{}",
        shown(&o)
    );
}

#[test]
fn a_name_that_differs_only_in_bytes_that_are_not_utf8_is_an_added_file() {
    let (_dir, folder, k, fp) = sealed();
    std::fs::create_dir_all(folder.join("evidence")).expect("mkdir");
    std::fs::write(folder.join("evidence/note\u{fffd}.txt"), "same").expect("w");
    resign(&folder, &k, |_| {});
    let raw = std::ffi::OsStr::from_bytes(b"evidence/note\xff.txt");
    std::fs::write(folder.join(raw), "same").expect("w");
    let o = kenshin(&["verify", s(&folder), "--key", &fp]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    assert!(
        shown(&o).contains("added: evidence/note\\xff.txt (not in the manifest)"),
        "{}",
        shown(&o)
    );
}

#[test]
fn a_manifest_or_signature_that_is_a_link_is_refused_never_followed() {
    for name in [MANIFEST, SIGNATURE] {
        let (dir, folder, _, fp) = sealed();
        let outside = dir.path().join(format!("true-copy-of-{name}"));
        std::fs::rename(folder.join(name), &outside).expect("mv");
        std::os::unix::fs::symlink(&outside, folder.join(name)).expect("link");
        let o = kenshin(&["verify", s(&folder), "--key", &fp]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", shown(&o));
        assert!(
            shown(&o).contains(name) && shown(&o).contains("symbolic link"),
            "{name}: {}",
            shown(&o)
        );
    }
    let (_dir, folder, _, fp) = sealed();
    std::fs::remove_file(folder.join(MANIFEST)).expect("rm");
    std::os::unix::fs::symlink("/etc/shadow", folder.join(MANIFEST)).expect("link");
    let o = kenshin(&["verify", s(&folder), "--key", &fp]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    assert!(
        shown(&o)
            .contains("manifest.json cannot be read (it is a symbolic link, not a regular file"),
        "{}",
        shown(&o)
    );
}

#[test]
fn a_folder_sealed_again_by_another_key_fails_without_key_and_says_first_that_none_was_pinned() {
    let (dir, folder, original, _) = sealed();
    let forger = key(dir.path(), "forger.pem");
    let page = std::fs::read_to_string(folder.join("report.html")).expect("html");
    std::fs::write(
        folder.join("report.html"),
        page.replace("</body>", "<p>all clear</p></body>"),
    )
    .expect("forged page");
    resign(&folder, &forger, |_| {});
    let o = kenshin(&["verify", s(&folder)]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    let (out, _) = text(&o);
    assert!(out.starts_with("note: no key was pinned"), "{out}");
    let a = original.public().fingerprint();
    let b = forger.public().fingerprint();
    for file in ["report.html", "report.json"] {
        assert!(
            out.contains(&format!(
                "{file} names the signing key {a}, but manifest.json was signed by {b}"
            )),
            "{out}"
        );
    }

    // The untouched folder, without --key: it passes, and says first what that proves.
    let (_dir, folder, _, fp) = sealed();
    let o = kenshin(&["verify", s(&folder)]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let (out, _) = text(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("note: no key was pinned"), "{out}");
    assert!(lines[0].contains(&fp), "{out}");
    assert!(lines[1].starts_with("verified: "), "{out}");
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success());
}

#[test]
fn verify_ends_at_once_on_a_fifo_manifest_signature_report_or_key() {
    for name in [MANIFEST, SIGNATURE] {
        let (_dir, folder, _, fp) = sealed();
        std::fs::remove_file(folder.join(name)).expect("rm");
        mkfifo(&folder.join(name));
        let o = kenshin(&["verify", s(&folder), "--key", &fp]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", shown(&o));
        assert!(
            shown(&o).contains(name) && shown(&o).contains("it is a FIFO, not a regular file"),
            "{name}: {}",
            shown(&o)
        );
    }
    let (_dir, folder, _, fp) = sealed();
    std::fs::remove_file(folder.join("report.json")).expect("rm");
    mkfifo(&folder.join("report.json"));
    let o = kenshin(&["verify", s(&folder), "--key", &fp]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    assert!(
        shown(&o).contains("unreadable: report.json (it is a FIFO, not a regular file"),
        "{}",
        shown(&o)
    );

    let (dir, folder, _, _) = sealed();
    let pin = dir.path().join("key.pub");
    mkfifo(&pin);
    let o = kenshin(&["verify", s(&folder), "--key", s(&pin)]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        shown(&o).contains("key.pub: it is a FIFO, not a regular file"),
        "{}",
        shown(&o)
    );
}

#[test]
fn diff_ends_at_once_on_a_fifo_report_or_one_linked_to_dev_zero() {
    let (dir, good, _, _) = sealed();
    let fifo = dir.path().join("fifo");
    std::fs::create_dir(&fifo).expect("mkdir");
    mkfifo(&fifo.join("report.json"));
    let o = kenshin(&["diff", s(&good), s(&fifo)]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        shown(&o).contains("fifo/report.json: it is a FIFO, not a regular file"),
        "{}",
        shown(&o)
    );

    let zero = dir.path().join("zero");
    std::fs::create_dir(&zero).expect("mkdir");
    std::os::unix::fs::symlink("/dev/zero", zero.join("report.json")).expect("link");
    let o = kenshin(&["diff", s(&zero), s(&good)]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        shown(&o).contains("zero/report.json: it is a symbolic link, not a regular file"),
        "{}",
        shown(&o)
    );
}

#[test]
fn quiet_verify_prints_nothing_and_says_it_by_its_exit_code() {
    let (_dir, folder, _, fp) = sealed();
    let o = kenshin(&["verify", "-q", s(&folder), "--key", &fp]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{}", shown(&o));
    let o = kenshin(&["-q", "verify", s(&folder)]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{}", shown(&o));

    std::fs::write(folder.join("notes.txt"), "x").expect("w");
    let o = kenshin(&["verify", "-q", s(&folder), "--key", &fp]);
    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{}", shown(&o));

    let o = kenshin(&["verify", "-q", s(&folder.join("nowhere"))]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(o.stdout.is_empty(), "{}", shown(&o));
    assert!(shown(&o).contains("is not a folder"), "{}", shown(&o));
}

#[test]
fn a_folder_tree_too_deep_is_refused_saying_why() {
    let (_dir, folder, _, fp) = sealed();
    let mut deep = folder.join("evidence");
    for _ in 0..seal::MAX_DEPTH {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).expect("mkdir");
    let o = kenshin(&["verify", s(&folder), "--key", &fp]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        shown(&o).contains(&format!(
            "is nested more than {} folders deep inside the report folder",
            seal::MAX_DEPTH
        )),
        "{}",
        shown(&o)
    );
}
