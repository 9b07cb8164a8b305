//! Line framing for text protocols: CRLF- (or bare LF-) terminated lines, each bounded
//! in length, from a buffer that may end mid-line.

use crate::reader::DecodeError;

/// Longest line accepted from a text protocol (RFC 5321 allows 512 for SMTP replies;
/// greetings from appliances run longer, but never legitimately past this).
pub const MAX_LINE: usize = 2048;

/// What splitting the next line found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextLine<'a> {
    /// A complete line without its terminator, and the bytes consumed including it.
    Line { text: &'a [u8], consumed: usize },
    /// No terminator yet: read more.
    Incomplete,
}

/// Splits the first line off `buf`.
pub fn next_line<'a>(buf: &'a [u8], field: &'static str) -> Result<NextLine<'a>, DecodeError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(nl) if nl > MAX_LINE => Err(DecodeError::TooLarge {
            field,
            value: nl,
            limit: MAX_LINE,
        }),
        Some(nl) => {
            let text = &buf[..nl];
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            Ok(NextLine::Line {
                text,
                consumed: nl + 1,
            })
        }
        None if buf.len() > MAX_LINE => Err(DecodeError::TooLarge {
            field,
            value: buf.len(),
            limit: MAX_LINE,
        }),
        None => Ok(NextLine::Incomplete),
    }
}

/// Renders line bytes as text for a report: invalid UTF-8 replaced, control characters
/// other than tab dropped.
pub fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

/// Renders a banner for a report: valid UTF-8 kept, line breaks and other control
/// characters as spaces, runs of whitespace collapsed, and bytes that are not UTF-8
/// written as `\xNN`, so binary garbage stays visible and can never pass for text.
pub fn banner_text(bytes: &[u8]) -> String {
    let mut raw = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            raw.push(if c.is_control() { ' ' } else { c });
        }
        for b in chunk.invalid() {
            raw.push_str(&format!("\\x{b:02x}"));
        }
    }
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_keep_text_show_binary_and_fold_lines() {
        assert_eq!(
            banner_text(b"\r\nLinux 6.1 (h) (pts/0)\r\n\r\nh login: "),
            "Linux 6.1 (h) (pts/0) h login:"
        );
        assert_eq!(banner_text(&[0x00, b'A', 0xff, 0xfe]), r"A\xff\xfe");
        assert_eq!(banner_text("電子カルテ".as_bytes()), "電子カルテ");
    }

    #[test]
    fn lines_end_at_crlf_or_lf_and_a_partial_line_asks_for_more() {
        assert_eq!(
            next_line(b"220 ready\r\nrest", "t"),
            Ok(NextLine::Line {
                text: b"220 ready",
                consumed: 11
            })
        );
        assert_eq!(
            next_line(b"+OK\nx", "t"),
            Ok(NextLine::Line {
                text: b"+OK",
                consumed: 4
            })
        );
        assert_eq!(next_line(b"220 rea", "t"), Ok(NextLine::Incomplete));
    }

    #[test]
    fn an_endless_line_is_refused() {
        let long = vec![b'a'; MAX_LINE + 1];
        assert!(matches!(
            next_line(&long, "t"),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn printable_text_drops_escape_sequences() {
        assert_eq!(printable(b"OK\x1b[31m red\x07"), "OK[31m red");
    }
}
