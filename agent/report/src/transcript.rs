//! Probe transcripts as text: one evidence record saying who was asked what and when,
//! with both directions as a hex dump, so an inspector can read the bytes without
//! decoding base64. `kenshin evidence DIR ID` prints them from the folder's evidence
//! archive (before contract 1.2 they were files `evidence/ID.txt`). Secrets were
//! overwritten before the bytes reached the report; a transcript only shows what the
//! archive holds.

use std::fmt::Write;

use crate::model::Evidence;

/// The transcript text.
pub fn render(e: &Evidence) -> String {
    let mut out = String::new();
    let port = match (e.port, e.protocol.as_deref()) {
        (Some(p), Some(proto)) => format!("{p}/{proto}"),
        (Some(p), None) => p.to_string(),
        _ => "-".to_owned(),
    };
    let _ = writeln!(out, "kenshin evidence {}", e.id);
    let _ = writeln!(out, "host:      {}", e.host);
    let _ = writeln!(out, "port:      {port}");
    let _ = writeln!(out, "probe:     {}", e.probe);
    let _ = writeln!(out, "at:        {}", e.at);
    let _ = writeln!(out, "note:      {}", one_line(&e.note));
    let _ = writeln!(out, "truncated: {}", if e.truncated { "yes" } else { "no" });
    if !e.redacted.is_empty() {
        let _ = writeln!(
            out,
            "redacted:  {} (overwritten with '*')",
            e.redacted.join(", ")
        );
    }
    if !e.exchange.is_empty() {
        let _ = writeln!(out, "exchange:");
        for s in &e.exchange {
            let _ = writeln!(
                out,
                "  {:>9.1} ms  {:<4} {} bytes",
                s.at_ms, s.direction, s.bytes
            );
        }
    }
    for (label, payload) in [("sent", &e.sent), ("received", &e.received)] {
        let bytes = payload.bytes();
        let _ = writeln!(out, "--- {label} ({} bytes)", bytes.len());
        hexdump(&mut out, &bytes);
    }
    out
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// 16 bytes a line: offset, hex, and printable ASCII (anything else as `.`).
fn hexdump(out: &mut String, bytes: &[u8]) {
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", i * 16);
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if j == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        for &b in chunk {
            out.push(if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            });
        }
        out.push_str("|\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::Payload;

    fn evidence(id: &str, received: &[u8]) -> Evidence {
        Evidence {
            id: id.to_owned(),
            host: "198.18.2.10".to_owned(),
            port: Some(21),
            protocol: Some("tcp".to_owned()),
            probe: "banner".to_owned(),
            at: "2026-11-22T00:00:00Z".to_owned(),
            sent: Payload::default(),
            received: received.into(),
            truncated: false,
            redacted: vec!["snmp-community".to_owned()],
            note: "greeting\nread".to_owned(),
            exchange: Vec::new(),
        }
    }

    #[test]
    fn a_transcript_shows_the_bytes_as_hex_and_printable_text() {
        let t = render(&evidence("ev-000001", b"220 (vsFTPd 3.0.3)\r\n\x1b[2J"));
        assert!(t.starts_with("kenshin evidence ev-000001\n"), "{t}");
        assert!(t.contains("port:      21/tcp"));
        assert!(t.contains("note:      greeting read"));
        assert!(t.contains("redacted:  snmp-community"));
        assert!(t.contains("--- received (24 bytes)"));
        assert!(
            t.contains(
                "00000000  32 32 30 20 28 76 73 46  54 50 64 20 33 2e 30 2e  |220 (vsFTPd 3.0.|"
            ),
            "{t}"
        );
        assert!(t.contains("|3)...[2J|"), "{t}");
        assert!(!t.contains('\x1b'), "control bytes never reach the file");
    }
}
