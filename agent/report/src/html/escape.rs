//! Text into HTML: every value from the network or a file passes through [`esc`],
//! and banners through [`excerpt`] first, so a hostile banner is shown as text,
//! never parsed as markup, and never longer than the evidence needs.

/// The most characters of a banner or note shown in the report.
pub const EXCERPT_CHARS: usize = 160;

/// Escapes `&`, `<`, `>`, `"` and `'`, and shows control characters as `␀`-style
/// pictures (U+2400 block) or `�`, so no byte can start a tag, an attribute, an
/// entity or a terminal escape.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(' '),
            c if (c as u32) < 0x20 => {
                out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'));
            }
            '\u{7f}' => out.push('\u{2421}'),
            c if c.is_control() => out.push('\u{fffd}'),
            // Bidirectional overrides could reorder what a reader sees.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The first [`EXCERPT_CHARS`] characters of `text`, with `…` if cut.
pub fn excerpt(text: &str) -> String {
    excerpt_to(text, EXCERPT_CHARS)
}

/// The first `max` characters of `text`, with `…` if cut.
pub fn excerpt_to(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// An `id` attribute value or URL fragment built from a report ID: only ASCII
/// letters, digits and `-`; anything else becomes `_`.
pub fn anchor(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_banner_is_shown_as_text() {
        let hostile = "220 <script>alert(1)</script><img src=x onerror='x()'> \"&amp;";
        let e = esc(hostile);
        assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''));
        assert_eq!(
            e,
            "220 &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;x()&#39;&gt; &quot;&amp;amp;"
        );
    }

    #[test]
    fn control_and_bidi_characters_are_made_visible() {
        assert_eq!(esc("a\u{1b}[2Jb\u{0}c"), "a\u{241b}[2Jb\u{2400}c");
        assert_eq!(esc("x\u{202e}y"), "x\u{fffd}y");
        assert_eq!(esc("220\r\nhi"), "220\u{240d} hi");
    }

    #[test]
    fn long_banners_are_cut_on_a_character_boundary() {
        let long = "健".repeat(500);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn anchors_hold_only_safe_characters() {
        assert_eq!(anchor("f-0001"), "f-0001");
        assert_eq!(anchor("x\" onload=\"y"), "x__onload__y");
    }
}
