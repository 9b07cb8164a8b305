//! Server greetings of line-based protocols: FTP and SMTP replies (RFC 959, RFC 5321),
//! POP3 (RFC 1939) and IMAP (RFC 9051) greetings. kenshin only listens: these are what a
//! server says on connect, before anything is sent.

use crate::line::{next_line, printable, NextLine};
use crate::reader::DecodeError;

/// Most lines accepted in one multi-line reply.
pub const MAX_REPLY_LINES: usize = 64;

/// Result of feeding received bytes to a greeting parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    Complete { value: T, consumed: usize },
    Incomplete,
}

/// An FTP or SMTP reply: a three-digit code and its text lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Text of each line without the code, printable.
    pub lines: Vec<String>,
}

impl Reply {
    /// The lines joined with a space.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

fn code_of(line: &[u8]) -> Option<(u16, u8)> {
    let (digits, sep) = (line.get(..3)?, line.get(3).copied().unwrap_or(b' '));
    if !digits.iter().all(u8::is_ascii_digit) || !matches!(sep, b' ' | b'-') {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u16, |v, d| v * 10 + u16::from(d - b'0'));
    Some((code, sep))
}

/// Parses an FTP or SMTP reply, single- or multi-line (`220-…` lines ending with `220 …`).
pub fn parse_reply(buf: &[u8]) -> Result<Parsed<Reply>, DecodeError> {
    const F: &str = "ftp/smtp reply";
    let mut consumed = 0;
    let mut code = None;
    let mut lines = Vec::new();
    loop {
        let (text, n) = match next_line(&buf[consumed..], F)? {
            NextLine::Incomplete => return Ok(Parsed::Incomplete),
            NextLine::Line { text, consumed } => (text, consumed),
        };
        consumed += n;
        match (code, code_of(text)) {
            (None, None) => {
                return Err(DecodeError::Invalid {
                    field: F,
                    reason: "a reply starts with a three-digit code",
                })
            }
            (None, Some((c, sep))) => {
                code = Some(c);
                lines.push(printable(text.get(4..).unwrap_or_default()));
                if sep == b' ' {
                    break;
                }
            }
            (Some(c), Some((c2, b' '))) if c == c2 => {
                lines.push(printable(text.get(4..).unwrap_or_default()));
                break;
            }
            (Some(c), Some((c2, b'-'))) if c == c2 => {
                lines.push(printable(text.get(4..).unwrap_or_default()));
            }
            // FTP allows intermediate lines without the code (RFC 959 §4.2).
            (Some(_), _) => lines.push(printable(text)),
        }
        if lines.len() > MAX_REPLY_LINES {
            return Err(DecodeError::TooLarge {
                field: F,
                value: lines.len(),
                limit: MAX_REPLY_LINES,
            });
        }
    }
    // The final line ends the loop before the check above: count it too.
    if lines.len() > MAX_REPLY_LINES {
        return Err(DecodeError::TooLarge {
            field: F,
            value: lines.len(),
            limit: MAX_REPLY_LINES,
        });
    }
    let code = code.unwrap_or_default();
    if !(100..600).contains(&code) {
        return Err(DecodeError::Invalid {
            field: F,
            reason: "reply code outside 100-599",
        });
    }
    Ok(Parsed::Complete {
        value: Reply { code, lines },
        consumed,
    })
}

/// A POP3 greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Greeting {
    pub ok: bool,
    pub text: String,
}

/// Parses a POP3 greeting: `+OK text` or `-ERR text`.
pub fn parse_pop3(buf: &[u8]) -> Result<Parsed<Pop3Greeting>, DecodeError> {
    let (text, consumed) = match next_line(buf, "pop3 greeting")? {
        NextLine::Incomplete => return Ok(Parsed::Incomplete),
        NextLine::Line { text, consumed } => (text, consumed),
    };
    let (ok, rest) = if let Some(r) = text.strip_prefix(b"+OK") {
        (true, r)
    } else if let Some(r) = text.strip_prefix(b"-ERR") {
        (false, r)
    } else {
        return Err(DecodeError::Invalid {
            field: "pop3 greeting",
            reason: "neither +OK nor -ERR",
        });
    };
    Ok(Parsed::Complete {
        value: Pop3Greeting {
            ok,
            text: printable(rest).trim().to_owned(),
        },
        consumed,
    })
}

/// An IMAP greeting's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapStatus {
    Ok,
    PreAuth,
    Bye,
}

/// An IMAP greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapGreeting {
    pub status: ImapStatus,
    /// The bracketed response code, e.g. `CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED`.
    pub code: Option<String>,
    pub text: String,
}

impl ImapGreeting {
    /// Capabilities announced in the greeting's CAPABILITY code, upper-cased.
    pub fn capabilities(&self) -> Vec<String> {
        self.code
            .as_deref()
            .and_then(|c| c.strip_prefix("CAPABILITY "))
            .map(|caps| {
                caps.split_whitespace()
                    .map(str::to_ascii_uppercase)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Parses an IMAP greeting: `* OK [CODE] text`, `* PREAUTH …` or `* BYE …`.
pub fn parse_imap(buf: &[u8]) -> Result<Parsed<ImapGreeting>, DecodeError> {
    const F: &str = "imap greeting";
    let (line, consumed) = match next_line(buf, F)? {
        NextLine::Incomplete => return Ok(Parsed::Incomplete),
        NextLine::Line { text, consumed } => (text, consumed),
    };
    let text = printable(line);
    let rest = text.strip_prefix("* ").ok_or(DecodeError::Invalid {
        field: F,
        reason: "an untagged response starts with \"* \"",
    })?;
    let (word, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let status = match word.to_ascii_uppercase().as_str() {
        "OK" => ImapStatus::Ok,
        "PREAUTH" => ImapStatus::PreAuth,
        "BYE" => ImapStatus::Bye,
        _ => {
            return Err(DecodeError::Invalid {
                field: F,
                reason: "status is not OK, PREAUTH or BYE",
            })
        }
    };
    let (code, text) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((code, text)) => (Some(code.to_owned()), text.trim().to_owned()),
        None => (None, rest.trim().to_owned()),
    };
    Ok(Parsed::Complete {
        value: ImapGreeting { status, code, text },
        consumed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_one_line_over_the_limit_is_refused_even_when_its_last_line_ends_it() {
        // Found by the `greeting` fuzz target: 64 continuation lines and a final line.
        let mut reply = b"220-x\r\n".repeat(MAX_REPLY_LINES);
        reply.extend_from_slice(b"220 end\r\n");
        assert!(matches!(
            parse_reply(&reply),
            Err(DecodeError::TooLarge { value: 65, .. })
        ));
        let mut fits = b"220-x\r\n".repeat(MAX_REPLY_LINES - 1);
        fits.extend_from_slice(b"220 end\r\n");
        assert!(matches!(parse_reply(&fits), Ok(Parsed::Complete { .. })));
    }

    fn complete<T: std::fmt::Debug>(p: Result<Parsed<T>, DecodeError>) -> T {
        match p {
            Ok(Parsed::Complete { value, .. }) => value,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_vsftpd_greeting_is_one_line() {
        let r = complete(parse_reply(b"220 (vsFTPd 3.0.3)\r\n"));
        assert_eq!(r.code, 220);
        assert_eq!(r.text(), "(vsFTPd 3.0.3)");
    }

    #[test]
    fn multi_line_replies_run_to_the_line_with_a_space_after_the_code() {
        let bytes = b"220-mail.example.jp ESMTP Postfix\r\n220-Unauthorized use prohibited\r\n220 ready\r\nNEXT";
        let p = parse_reply(bytes).expect("valid");
        let Parsed::Complete { value, consumed } = p else {
            panic!("incomplete");
        };
        assert_eq!(value.lines.len(), 3);
        assert_eq!(&bytes[consumed..], b"NEXT");
        // FTP may put lines without the code in between.
        let ftp = complete(parse_reply(b"220-Welcome\r\n  to the server\r\n220 go\r\n"));
        assert_eq!(ftp.lines, vec!["Welcome", "  to the server", "go"]);
    }

    #[test]
    fn replies_cut_anywhere_ask_for_more() {
        let full = b"220-a\r\n220-b\r\n220 c\r\n";
        for n in 0..full.len() {
            assert_eq!(
                parse_reply(&full[..n]),
                Ok(Parsed::Incomplete),
                "cut at {n}"
            );
        }
    }

    #[test]
    fn a_reply_without_a_code_or_with_endless_lines_is_refused() {
        assert!(parse_reply(b"hello\r\n").is_err());
        assert!(parse_reply(b"999 nope\r\n").is_err());
        let endless = b"220-x\r\n".repeat(MAX_REPLY_LINES + 2);
        assert!(parse_reply(&endless).is_err());
    }

    #[test]
    fn pop3_and_imap_greetings_are_read() {
        let p = complete(parse_pop3(b"+OK Dovecot (Debian) ready.\r\n"));
        assert!(p.ok);
        assert_eq!(p.text, "Dovecot (Debian) ready.");
        let i = complete(parse_imap(
            b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n",
        ));
        assert_eq!(i.status, ImapStatus::Ok);
        assert!(i.capabilities().contains(&"STARTTLS".to_owned()));
        assert_eq!(i.text, "Dovecot (Debian) ready.");
        assert_eq!(
            complete(parse_imap(b"* BYE too many\r\n")).status,
            ImapStatus::Bye
        );
        assert!(parse_imap(b"a1 OK\r\n").is_err());
        assert!(parse_pop3(b"220 not pop\r\n").is_err());
    }
}
