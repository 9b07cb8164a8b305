//! Syslog in the RFC 5424 format: one message per event, with the scope, scan, host
//! and port as structured data, to a local socket (`unix:/dev/log`), UDP or TCP
//! (RFC 6587 octet counting).

use std::io::Write;
use std::time::Duration;

use super::{Event, Notification};
use super::{Syslog, SyslogTarget};
use kenshin_report::model::Severity;

/// The structured-data ID. 32473 is the private enterprise number RFC 5612 reserves
/// for documentation; kenshin has no number of its own.
const SD_ID: &str = "kenshin@32473";
/// Longest message sent, so a datagram fits any syslog receiver.
const MAX_MESSAGE: usize = 2048;

/// The facility code for a name.
pub fn facility_code(name: &str) -> Option<u8> {
    let fixed = [
        ("kern", 0),
        ("user", 1),
        ("mail", 2),
        ("daemon", 3),
        ("auth", 4),
        ("security", 4),
        ("syslog", 5),
        ("lpr", 6),
        ("news", 7),
        ("uucp", 8),
        ("cron", 9),
        ("authpriv", 10),
        ("ftp", 11),
    ];
    if let Some((_, c)) = fixed.iter().find(|(n, _)| *n == name) {
        return Some(*c);
    }
    let n: u8 = name.strip_prefix("local")?.parse().ok()?;
    (n <= 7).then_some(16 + n)
}

/// RFC 5424 severity of an event.
fn severity(e: &Event) -> u8 {
    match e {
        Event::NewFinding { severity, .. } if *severity == Severity::Critical => 2,
        Event::NewFinding { .. } | Event::RecordingFailed { .. } | Event::UploadRefused { .. } => 3,
        Event::RemoteAccessOpened { .. } | Event::ScanIncomplete { .. } => 4,
        Event::NewHost { .. } => 5,
    }
}

/// Escapes a structured-data parameter value (RFC 5424 §6.3.3).
fn sd_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in kenshin_report::visible(s).chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        if !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// A header field: printable US-ASCII only, `-` when empty (RFC 5424 §6.2).
fn header_field(s: &str, max: usize) -> String {
    let f: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if f.is_empty() {
        "-".to_owned()
    } else {
        f
    }
}

/// The messages for `n`, one per event.
pub fn messages(facility: u8, n: &Notification, hostname: &str, pid: u32) -> Vec<Vec<u8>> {
    n.events
        .iter()
        .map(|e| {
            let pri = u16::from(facility) * 8 + u16::from(severity(e));
            let mut sd = format!(
                "[{SD_ID} scope=\"{}\" scan=\"{}\"",
                sd_escape(&n.scope),
                sd_escape(&n.scan.id)
            );
            match e {
                Event::NewFinding {
                    host,
                    port,
                    check,
                    severity,
                    ..
                } => {
                    sd.push_str(&format!(
                        " host=\"{}\" check=\"{}\" severity=\"{}\"",
                        sd_escape(host),
                        sd_escape(check),
                        sd_escape(severity.as_str())
                    ));
                    if let Some(p) = port {
                        sd.push_str(&format!(" port=\"{p}\""));
                    }
                }
                Event::NewHost { address, .. } => {
                    sd.push_str(&format!(" host=\"{}\"", sd_escape(address)))
                }
                Event::RemoteAccessOpened {
                    host,
                    port,
                    protocol,
                    ..
                } => {
                    sd.push_str(&format!(
                        " host=\"{}\" port=\"{port}\" protocol=\"{}\"",
                        sd_escape(host),
                        sd_escape(protocol)
                    ));
                }
                Event::ScanIncomplete { status, .. } => {
                    sd.push_str(&format!(" status=\"{}\"", sd_escape(status)))
                }
                Event::RecordingFailed { stage, .. } => {
                    sd.push_str(&format!(" stage=\"{}\"", stage.as_str()))
                }
                Event::UploadRefused { report_dir, .. } => {
                    sd.push_str(&format!(" report_dir=\"{}\"", sd_escape(report_dir)))
                }
            }
            sd.push(']');
            let head = format!(
                "<{pri}>1 {} {} kenshin {pid} {} {sd} \u{feff}",
                n.sent_at,
                header_field(hostname, 255),
                header_field(e.kind().as_str(), 32),
            );
            let mut msg = head.into_bytes();
            // A peer's name or words in the line are shown, never obeyed by a terminal.
            let text = kenshin_report::visible(&e.line()).into_owned();
            let room = MAX_MESSAGE.saturating_sub(msg.len());
            let mut cut = text.len().min(room);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            msg.extend_from_slice(&text.as_bytes()[..cut]);
            msg
        })
        .collect()
}

/// Sends every message of `n`; returns an error naming the target if any fails.
pub fn send(s: &Syslog, n: &Notification) -> Result<(), String> {
    let msgs = messages(s.facility, n, &n.agent, std::process::id());
    let fail = |e: std::io::Error| format!("syslog {:?}: {e}", s.target);
    match &s.target {
        SyslogTarget::Unix(path) => {
            let sock = std::os::unix::net::UnixDatagram::unbound().map_err(fail)?;
            for m in &msgs {
                sock.send_to(m, path).map_err(fail)?;
            }
        }
        SyslogTarget::Udp(addr) => {
            let sock = std::net::UdpSocket::bind(if addr.starts_with('[') {
                "[::]:0"
            } else {
                "0.0.0.0:0"
            })
            .map_err(fail)?;
            for m in &msgs {
                send_udp(&sock, m, addr).map_err(fail)?;
            }
        }
        SyslogTarget::Tcp(addr) => {
            let mut stream = connect_tcp(addr).map_err(fail)?;
            stream
                .set_write_timeout(Some(Duration::from_secs(10)))
                .map_err(fail)?;
            for m in &msgs {
                let mut framed = format!("{} ", m.len()).into_bytes();
                framed.extend_from_slice(m);
                stream.write_all(&framed).map_err(fail)?;
            }
        }
    }
    Ok(())
}

// The operator's own syslog collector, named in the configuration: a notification,
// not a scan, so it is outside the scope guard by design.
#[allow(clippy::disallowed_methods)]
fn send_udp(sock: &std::net::UdpSocket, m: &[u8], addr: &str) -> std::io::Result<()> {
    sock.send_to(m, addr).map(|_| ())
}

#[allow(clippy::disallowed_methods)]
fn connect_tcp(addr: &str) -> std::io::Result<std::net::TcpStream> {
    use std::net::ToSocketAddrs;
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for a in addr.to_socket_addrs()? {
        match std::net::TcpStream::connect_timeout(&a, Duration::from_secs(10)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}
