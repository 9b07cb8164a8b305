//! The signing key a report names for itself: `signing.fingerprint` in report.json,
//! and the fingerprint report.html prints under 署名鍵 / Signing key.
//!
//! A folder sealed again by another key still carries, in its report, the key that
//! sealed it first, unless the forger also rewrote the report. Verify compares these
//! with the key that signed the manifest, so a lazy re-seal fails even when no key is
//! pinned.

use serde::Deserialize;

use crate::labels::{page, Lang};

/// The files that name their signer, as the manifest lists them.
pub(super) const REPORT_JSON: &str = "report.json";
pub(super) const REPORT_HTML: &str = "report.html";

/// Only the part of report.json this module reads; the rest is skipped unread.
#[derive(Deserialize)]
struct Named {
    signing: Option<Fingerprint>,
}

#[derive(Deserialize)]
struct Fingerprint {
    fingerprint: String,
}

/// The fingerprint report.json records, if it is JSON with a `signing` object.
pub(super) fn in_json(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<Named>(bytes)
        .ok()?
        .signing
        .map(|s| s.fingerprint)
}

/// The fingerprint report.html prints after its signing-key label (the page's own
/// markup: `<dt>Signing key</dt><dd>ed25519 <code>SHA256:…</code>`), in either language.
/// Text from a scan is escaped on the page, so a banner cannot forge this markup.
pub(super) fn in_html(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    [Lang::Ja, Lang::En].into_iter().find_map(|lang| {
        let label = format!("<dt>{}</dt><dd>", page::SIGNING_KEY.get(lang));
        let after = &text[text.find(&label)? + label.len()..];
        let line = after.split("</dd>").next()?;
        let code = &line[line.find("<code>")? + "<code>".len()..];
        Some(code[..code.find("</code>")?].to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_golden_pages_and_report_name_their_signer() {
        let fp = "SHA256:3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        for page in [
            include_str!("../../tests/golden/report.ja.html"),
            include_str!("../../tests/golden/report.en.html"),
        ] {
            assert_eq!(in_html(page.as_bytes()).as_deref(), Some(fp));
        }
        let json = include_bytes!("../../tests/golden/report.json");
        assert_eq!(in_json(json).as_deref(), Some(fp));
    }

    #[test]
    fn a_page_or_report_without_a_signer_names_none() {
        assert_eq!(in_html(b"<p>Signing key SHA256:x</p>"), None);
        assert_eq!(in_html(b"\xff\xfe"), None);
        assert_eq!(in_json(b"{\"contract\":\"kenshin.report/1\"}"), None);
        assert_eq!(in_json(b"not json"), None);
    }
}
