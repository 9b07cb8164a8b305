//! What a service's first bytes say it is, before any decoder is chosen.

/// The protocol a server's opening bytes point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    Ssh,
    /// A three-digit reply code: FTP or SMTP (the text decides which).
    Reply,
    Pop3,
    Imap,
    /// A Telnet option negotiation (IAC …).
    Telnet,
    Rfb,
    /// An HTTP response (a server answering garbage with 400, for instance).
    Http,
    /// A TLS record (handshake or alert).
    Tls,
    /// Bytes that fit nothing kenshin knows.
    Unknown,
}

/// Classifies a server's first bytes.
pub fn opening(buf: &[u8]) -> Opening {
    let starts = |p: &[u8]| buf.len() >= p.len() && buf[..p.len()].eq_ignore_ascii_case(p);
    if buf.starts_with(b"SSH-") {
        Opening::Ssh
    } else if buf.starts_with(b"RFB ") {
        Opening::Rfb
    } else if buf.first() == Some(&0xff) && buf.get(1).is_some_and(|c| (0xf0..=0xfe).contains(c)) {
        Opening::Telnet
    } else if buf.starts_with(b"+OK") {
        Opening::Pop3
    } else if starts(b"* OK") || starts(b"* PREAUTH") || starts(b"* BYE") {
        Opening::Imap
    } else if starts(b"HTTP/1.") || starts(b"HTTP/2") {
        Opening::Http
    } else if matches!(buf, [0x15 | 0x16, 0x03, 0..=4, ..]) {
        Opening::Tls
    } else if buf.len() >= 4
        && buf[..3].iter().all(u8::is_ascii_digit)
        && matches!(buf[3], b' ' | b'-')
    {
        Opening::Reply
    } else {
        Opening::Unknown
    }
}

/// Whether a 220-style greeting is SMTP or FTP, by its words.
pub(crate) fn reply_protocol(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_uppercase();
    if t.contains("SMTP") || t.contains("POSTFIX") || t.contains("EXIM") || t.contains("SENDMAIL") {
        Some("smtp")
    } else if t.contains("FTP") || t.contains("FILEZILLA") {
        Some("ftp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_name_the_protocol() {
        assert_eq!(opening(b"SSH-2.0-OpenSSH_9.2p1\r\n"), Opening::Ssh);
        assert_eq!(opening(b"RFB 003.008\n"), Opening::Rfb);
        assert_eq!(opening(&[0xff, 0xfd, 0x18]), Opening::Telnet);
        assert_eq!(opening(b"220 (vsFTPd 3.0.3)\r\n"), Opening::Reply);
        assert_eq!(opening(b"+OK Dovecot ready.\r\n"), Opening::Pop3);
        assert_eq!(
            opening(b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
            Opening::Imap
        );
        assert_eq!(opening(b"HTTP/1.1 400 Bad Request\r\n"), Opening::Http);
        assert_eq!(
            opening(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]),
            Opening::Tls
        );
        assert_eq!(opening(b"\x00\x00garbage"), Opening::Unknown);
        assert_eq!(opening(b"22"), Opening::Unknown);
    }

    #[test]
    fn greeting_words_tell_smtp_from_ftp() {
        assert_eq!(
            reply_protocol("mail.example ESMTP Postfix (Debian/GNU)"),
            Some("smtp")
        );
        assert_eq!(reply_protocol("(vsFTPd 3.0.3)"), Some("ftp"));
        assert_eq!(reply_protocol("Welcome"), None);
    }
}
