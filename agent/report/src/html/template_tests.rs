//! The templates themselves: they escape everything, name only labels that exist, and
//! render every branch (an empty scan as well as a full one).

use super::*;
use crate::labels::page;

/// The code of a template: what stands inside `{{ }}` and `{% %}`, comments left out.
fn code(source: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (open, close) in [("{{", "}}"), ("{%", "%}")] {
        let mut rest = source;
        while let Some(start) = rest.find(open) {
            let tail = &rest[start + 2..];
            let end = tail.find(close).unwrap_or(tail.len());
            out.push(&tail[..end]);
            rest = &tail[end..];
        }
    }
    out
}

/// The filters a piece of template code applies (`x | join(" ")` → `join`).
fn filters(code: &str) -> impl Iterator<Item = &str> {
    code.split('|').skip(1).map(|f| {
        let f = f.trim_start();
        let end = f.find(|c: char| !c.is_alphanumeric() && c != '_');
        &f[..end.unwrap_or(f.len())]
    })
}

#[test]
fn no_template_can_write_a_value_unescaped() {
    for (name, source) in TEMPLATES {
        for c in code(source) {
            assert!(!c.contains("autoescape"), "{name}: {c}");
            for f in filters(c) {
                assert!(!["safe", "e", "escape"].contains(&f), "{name}: {c}");
            }
        }
    }
    assert_eq!(
        filters(r#" a | join(" ") |safe"#).collect::<Vec<_>>(),
        ["join", "safe"]
    );
}

#[test]
fn every_label_a_template_names_exists() {
    let known: Vec<&str> = page::ALL.iter().map(|(n, _)| *n).collect();
    for (name, source) in TEMPLATES {
        for source in code(source) {
            for (at, _) in source.match_indices("t.") {
                let before = source[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let label: String = source[at + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if label.is_empty() {
                    continue;
                }
                assert!(known.contains(&label.as_str()), "{name}: no label {label}");
            }
        }
    }
}

#[test]
fn an_empty_interrupted_scan_renders_every_empty_state() {
    let mut r = tests::lab_report();
    r.findings.clear();
    r.checklist.clear();
    r.evidence.clear();
    r.inventory = None;
    r.signing = None;
    r.scan.complete = false;
    r.scan.segments.clear();
    r.scan.vantage = None;
    for h in &mut r.hosts {
        for s in &mut h.services {
            s.tls = None;
        }
    }
    for lang in [Lang::Ja, Lang::En] {
        let html = try_render(&r, lang).expect("renders");
        for label in [
            page::INTERRUPTED,
            page::NOTHING_TO_FIX,
            page::NO_FINDINGS,
            page::NO_TLS,
        ] {
            assert!(html.contains(&esc(label.get(lang))), "{lang:?}: {label:?}");
        }
        assert!(!html.contains(&esc(page::SIGNING_KEY.get(lang))));
    }
}

#[test]
fn a_template_error_is_reported_not_hidden() {
    let mut env = environment().expect("templates parse");
    env.add_template("broken.html", "{{ t.NO_SUCH_LABEL }}")
        .expect("parses");
    let err = env
        .get_template("broken.html")
        .and_then(|t| {
            t.render(context(
                &tests::lab_report(),
                Lang::Ja,
                &EvidenceTally::default(),
            ))
        })
        .expect_err("an unknown label is an error");
    assert!(format!("{err:#}").contains("undefined"), "{err:#}");
}
