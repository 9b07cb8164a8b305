//! Making untrusted text visible before it reaches a terminal or a log.
//!
//! Anything that came from a report folder, a report, a network peer or a
//! configuration may hold bytes a terminal obeys instead of showing: a carriage return
//! or `ESC[1A` can overwrite `NOT verified` with `verified`, and a bidi override can
//! show a name backwards. [`visible`] is the one rule every front end applies to such
//! a string (one field, on one line): each control character and bidi control is
//! written as an escape anyone can read, `\r`, `\x1b`, `\u{9b}`, `\u{202e}`, and every
//! other character, Japanese included, stays as it is.
//!
//! What is escaped:
//! - C0 controls U+0000–U+001F (ESC, CR, LF, TAB …) and DEL U+007F: `\r`, `\n`, `\t`,
//!   else `\xNN`;
//! - C1 controls U+0080–U+009F (a terminal may read U+009B as CSI): `\u{NN}`;
//! - bidi controls U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, and the line
//!   and paragraph separators U+2028, U+2029: `\u{NNNN}`.
//!
//! A backslash is left alone, so the rule is idempotent: `visible(visible(s))` is
//! `visible(s)`, and applying it twice on the way to the screen does no harm.
//! [`visible_bytes`] does the same for a file name that need not be UTF-8 (each
//! invalid byte as `\xNN`); [`json_visible`] does it for JSON text, as `\uNNNN`
//! escapes that leave the JSON's meaning unchanged.

use std::borrow::Cow;
use std::fmt::Write;

/// True for a character [`visible`] escapes.
pub fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

fn escape_into(out: &mut String, c: char) {
    // Writing to a String cannot fail.
    let _ = match c {
        '\r' => write!(out, "\\r"),
        '\n' => write!(out, "\\n"),
        '\t' => write!(out, "\\t"),
        '\u{0}'..='\u{1f}' | '\u{7f}' => write!(out, "\\x{:02x}", u32::from(c)),
        _ => write!(out, "\\u{{{:x}}}", u32::from(c)),
    };
}

/// `s` with every control character and bidi control written as a visible escape;
/// borrowed unchanged when there is none.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hidden(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A name of raw bytes (a file name on Linux) made visible: valid UTF-8 as
/// [`visible`] shows it, each byte that is not UTF-8 as `\xNN`.
pub fn visible_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&visible(chunk.valid()));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// A path made visible, byte for byte (see [`visible_bytes`]).
pub fn visible_path(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    visible_bytes(path.as_os_str().as_bytes())
}

/// JSON text with every character [`visible`] escapes written as a JSON `\uNNNN`
/// escape: the same JSON value, safe to print. (serde_json already escapes C0 inside
/// strings; DEL, C1 and bidi controls it writes raw. Outside strings JSON holds only
/// ASCII punctuation and spaces, which are left alone.)
pub fn json_visible(json: &str) -> Cow<'_, str> {
    let hidden = |c: char| is_hidden(c) && !matches!(c, '\n' | '\t');
    if !json.chars().any(hidden) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if hidden(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issues_file_name_comes_out_on_one_visible_line() {
        let name = "n\r\x1b[2K\x1b[1A\x1b[2K\rverified: all 63 files of DIR are as sealed\x1b[8m";
        let shown = visible(name);
        assert_eq!(
            shown,
            "n\\r\\x1b[2K\\x1b[1A\\x1b[2K\\rverified: all 63 files of DIR are as sealed\\x1b[8m"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
    }

    #[test]
    fn every_control_and_bidi_character_is_escaped() {
        let cases = [
            ('\0', "\\x00"),
            ('\u{7}', "\\x07"),
            ('\n', "\\n"),
            ('\t', "\\t"),
            ('\u{1b}', "\\x1b"),
            ('\u{7f}', "\\x7f"),
            ('\u{85}', "\\u{85}"),
            ('\u{9b}', "\\u{9b}"),
            ('\u{61c}', "\\u{61c}"),
            ('\u{200e}', "\\u{200e}"),
            ('\u{200f}', "\\u{200f}"),
            ('\u{2028}', "\\u{2028}"),
            ('\u{202a}', "\\u{202a}"),
            ('\u{202e}', "\\u{202e}"),
            ('\u{2066}', "\\u{2066}"),
            ('\u{2069}', "\\u{2069}"),
        ];
        for (c, want) in cases {
            assert_eq!(visible(&format!("a{c}b")), format!("a{want}b"), "{c:?}");
        }
        for c in '\0'..='\u{ffff}' {
            let shown = visible(&c.to_string()).into_owned();
            let hidden = c.is_control()
                || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}')
                || ('\u{2028}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c);
            assert_eq!(shown != c.to_string(), hidden, "{c:?}");
        }
    }

    #[test]
    fn japanese_and_plain_text_are_left_alone_and_borrowed() {
        for s in [
            "医療機関 PACS サーバ（第2病棟）",
            "220 FTP ready",
            "C:\\x1b is a path",
            "",
        ] {
            assert!(matches!(visible(s), Cow::Borrowed(t) if t == s), "{s}");
        }
    }

    #[test]
    fn the_rule_is_idempotent() {
        let s = "a\u{1b}[2J\u{202e}txt.exe\r\n\u{9b}31m 健診";
        let once = visible(s).into_owned();
        assert_eq!(visible(&once), once);
    }

    #[test]
    fn invalid_utf8_bytes_are_shown_one_by_one() {
        assert_eq!(
            visible_bytes(b"r\xffe\xc3port\x1b.json"),
            "r\\xffe\\xc3port\\x1b.json"
        );
        assert_eq!(visible_bytes("台帳.csv".as_bytes()), "台帳.csv");
    }

    #[test]
    fn json_stays_the_same_value_with_nothing_hidden() {
        let v = serde_json::json!({ "title": "a\u{1b}[2J\u{202e}b\u{9b}c\u{7f}", "ja": "健診" });
        let text = serde_json::to_string_pretty(&v).expect("json");
        let shown = json_visible(&text);
        assert!(!shown.chars().any(|c| is_hidden(c) && c != '\n'), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).expect("still JSON");
        assert_eq!(back, v);
    }
}
