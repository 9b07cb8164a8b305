//! The golden report: a fixed set of observations (tests/golden/fixture.rs) built
//! through the real builder and written by the real writer must give exactly the
//! committed `report.json` and `checklist.csv`, byte for byte. The files were captured
//! before the report model was retyped, so this proves the contract did not move.
//!
//! `report.ja.html` and `report.en.html` are kept beside them to compare the page by
//! eye (and by its visible text, below); markup may change, what a reader sees may not.
//!
//! After an intended change of the contract, run with `KENSHIN_BLESS=1` to rewrite the
//! files, and say in the commit why they changed.

#[path = "golden/fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};

use kenshin_report::model::{Report, Signing};
use kenshin_report::output::{Access, OutputDir};
use kenshin_report::{checklist_export, html, Lang};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn bless() -> bool {
    std::env::var_os("KENSHIN_BLESS").is_some_and(|v| v == "1")
}

/// Compares `bytes` with the golden file `name` (or rewrites it when blessing).
fn check(name: &str, bytes: &[u8]) {
    let path = golden(name);
    if bless() {
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if want != bytes {
        let got = golden(&format!("{name}.got"));
        let _ = std::fs::write(&got, bytes);
        panic!(
            "{name} differs from the golden file; what was made is in {} (diff them)",
            got.display()
        );
    }
}

/// The report as the bundle writes it: with the signing key named.
fn report() -> Report {
    let mut r = fixture::report();
    r.signing = Some(Signing {
        algorithm: "ed25519".to_owned(),
        fingerprint: "SHA256:3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        manifest: "manifest.json".to_owned(),
    });
    r
}

/// report.json exactly as `OutputDir::write_report` writes it.
fn report_json(r: &Report) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = OutputDir::prepare(&dir.path().join("r"), Access::Private).expect("output dir");
    let path = out.write_report(r).expect("report.json written");
    std::fs::read(path).expect("report.json read back")
}

#[test]
fn report_json_is_the_golden_bytes() {
    check("report.json", &report_json(&report()));
}

#[test]
fn report_json_reads_back_into_the_same_bytes() {
    let bytes = std::fs::read(golden("report.json")).expect("golden report.json");
    let parsed: Report = serde_json::from_slice(&bytes).expect("the golden report parses");
    assert_eq!(report_json(&parsed), bytes);
}

#[test]
fn checklist_csv_is_the_golden_bytes() {
    check("checklist.csv", &checklist_export::csv(&report()));
}

#[test]
fn the_html_shows_the_golden_text() {
    for (lang, name) in [(Lang::Ja, "report.ja.html"), (Lang::En, "report.en.html")] {
        let page = html::render(&report(), lang);
        if bless() {
            check(name, page.as_bytes());
            continue;
        }
        let want = std::fs::read_to_string(golden(name)).expect("golden html");
        let (got_text, want_text) = (visible_text(&page), visible_text(&want));
        if got_text != want_text {
            let _ = std::fs::write(golden(&format!("{name}.got")), &page);
            let at = got_text
                .iter()
                .zip(&want_text)
                .position(|(a, b)| a != b)
                .unwrap_or(got_text.len().min(want_text.len()));
            panic!(
                "{name}: the visible text differs at word {at}: got {:?}, want {:?}",
                got_text.get(at.saturating_sub(3)..at + 3),
                want_text.get(at.saturating_sub(3)..at + 3)
            );
        }
    }
}

/// With `KENSHIN_GOLDEN_DUMP=DIR`, writes the pages as rendered now into DIR, to
/// compare them with the golden ones in a browser.
#[test]
#[ignore = "a tool, not a check: KENSHIN_GOLDEN_DUMP=DIR cargo test --test golden -- --ignored"]
fn dump_the_pages_when_asked() {
    let dir = std::env::var_os("KENSHIN_GOLDEN_DUMP").expect("KENSHIN_GOLDEN_DUMP=DIR");
    for (lang, name) in [(Lang::Ja, "report.ja.html"), (Lang::En, "report.en.html")] {
        let path = Path::new(&dir).join(name);
        std::fs::write(&path, html::render(&report(), lang))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// The words a reader sees: the page without its tags, entities read as the
/// characters they stand for, split on white space.
fn visible_text(page: &str) -> Vec<String> {
    let body = page.split_once("<body>").map_or(page, |(_, b)| b);
    let mut text = String::with_capacity(body.len());
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    text.split_whitespace().map(str::to_owned).collect()
}
