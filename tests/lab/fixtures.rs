//! Lab services with no Debian daemon behind them: an RDP listener that answers
//! the X.224 Connection Request as [MS-RDPBCGR] 2.2.1.2 specifies and then hands the
//! connection to a TLS server (as Windows does before CredSSP), one that selects
//! Standard RDP Security as an old terminal does, and hostile
//! servers that a scanner must survive (a tarpit, a drip, an endless banner,
//! garbage, a reset mid-banner, a banner full of markup).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// One fixture behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    /// X.224 Connection Confirm with RDP_NEG_RSP selecting CredSSP (NLA).
    RdpNla,
    /// X.224 Connection Confirm with RDP_NEG_RSP selecting Standard RDP Security
    /// (protocol 0), as a server set to the "RDP" security layer answers.
    RdpStandard,
    /// Accepts and never sends a byte; holds the connection for a minute.
    Tarpit,
    /// Sends `220 ` and then one byte a second, never finishing the line.
    Drip,
    /// Sends `220-` continuation lines forever.
    Endless,
    /// Sends 600 bytes that fit no protocol, then closes.
    Garbage,
    /// Sends half an SSH identification, then resets the connection.
    Reset,
    /// Greets like FTP with a banner full of markup, a terminal escape and 600 more
    /// bytes, as a device with a hostile (or just careless) banner would: the report
    /// must show it as capped text.
    Hostile,
}

/// The hostile fixture's greeting, before the padding.
pub const HOSTILE_BANNER: &str = "220 <script>document.title='pwned'</script>\
<img src=x onerror=\"document.title='pwned'\"> \u{1b}[2J kenshin-lab ";

impl Fixture {
    /// Parses `rdp`, `tarpit`, `drip`, `endless`, `garbage`, `reset`.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "rdp" => Fixture::RdpNla,
            "rdp-standard" => Fixture::RdpStandard,
            "tarpit" => Fixture::Tarpit,
            "drip" => Fixture::Drip,
            "endless" => Fixture::Endless,
            "garbage" => Fixture::Garbage,
            "reset" => Fixture::Reset,
            "hostile" => Fixture::Hostile,
            other => bail!("unknown fixture {other:?}"),
        })
    }
}

/// The Connection Confirm: TPKT (version 3, length 19), X.224 CC (LI 14, code 0xD0,
/// DST-REF 0, SRC-REF 0x1234, class 0), RDP_NEG_RSP (type 2, flags 0, length 8,
/// selectedProtocol PROTOCOL_HYBRID = 2).
pub const RDP_CONFIRM_NLA: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x00, 0x08, 0x00, 0x02,
    0x00, 0x00, 0x00,
];

/// The same Connection Confirm selecting PROTOCOL_RDP (0): Standard RDP Security.
pub const RDP_CONFIRM_STANDARD: [u8; 19] = [
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x00, 0x08, 0x00, 0x00,
    0x00, 0x00, 0x00,
];

/// Reads one TPKT packet (the length is in bytes 2..4); false if the peer went away
/// or sent something else.
fn read_tpkt(c: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    while buf.len() < 4 || buf.len() < usize::from(u16::from_be_bytes([buf[2], buf[3]])) {
        match c.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 4096 || buf.first() != Some(&3) {
            return false;
        }
    }
    true
}

fn rdp_standard(mut c: TcpStream) {
    if read_tpkt(&mut c) && c.write_all(&RDP_CONFIRM_STANDARD).is_ok() {
        // A real server would now expect an MCS Connect Initial; kenshin sends none.
        let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = c.read(&mut [0u8; 512]);
    }
}

fn rdp(mut c: TcpStream) {
    let mut chunk = [0u8; 512];
    if !read_tpkt(&mut c) || c.write_all(&RDP_CONFIRM_NLA).is_err() {
        return;
    }
    // As a real server does, TLS follows the negotiation (CredSSP runs inside it): the
    // rest of the connection is handed to the TLS server behind the fixture, if any.
    match backend() {
        Ok(backend) => pipe(c, backend),
        Err(_) => {
            let _ = c.read(&mut chunk);
        }
    }
}

/// Connects to the TLS server behind the RDP fixture, on loopback inside the fixture's
/// own namespace (the lab's server side, not kenshin's scanner).
#[allow(clippy::disallowed_methods)] // a lab server talking to its own loopback backend
fn backend() -> std::io::Result<TcpStream> {
    TcpStream::connect(("127.0.0.1", RDP_TLS_BACKEND))
}

/// The local port of the TLS server the RDP fixture hands connections to.
pub const RDP_TLS_BACKEND: u16 = 13389;

/// Copies bytes both ways until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let copy = |mut from: TcpStream, mut to: TcpStream| {
        let _ = from.set_read_timeout(Some(Duration::from_secs(30)));
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Write);
    };
    let t = std::thread::spawn(move || copy(a, b2));
    copy(b, a2);
    let _ = t.join();
}

fn handle(kind: Fixture, mut c: TcpStream) {
    let _ = c.set_write_timeout(Some(Duration::from_secs(30)));
    match kind {
        Fixture::RdpNla => rdp(c),
        Fixture::RdpStandard => rdp_standard(c),
        Fixture::Tarpit => {
            let _ = c.set_read_timeout(Some(Duration::from_secs(60)));
            let mut sink = [0u8; 4096];
            while matches!(c.read(&mut sink), Ok(n) if n > 0) {}
        }
        Fixture::Drip => {
            if c.write_all(b"220 ").is_err() {
                return;
            }
            for _ in 0..60 {
                std::thread::sleep(Duration::from_secs(1));
                if c.write_all(b"x").is_err() {
                    return;
                }
            }
        }
        Fixture::Endless => {
            let line = b"220-welcome to the endless banner\r\n".repeat(64);
            while c.write_all(&line).is_ok() {}
        }
        Fixture::Garbage => {
            let junk: Vec<u8> = (0..600u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .map(|b| if b == b'\n' { 0 } else { b })
                .collect();
            let _ = c.write_all(&[0x00, 0x13, 0x37]);
            let _ = c.write_all(&junk);
        }
        Fixture::Hostile => {
            let mut greeting = HOSTILE_BANNER.as_bytes().to_vec();
            greeting.extend(std::iter::repeat_n(b'A', 600));
            greeting.extend_from_slice(b"\r\n");
            let _ = c.write_all(&greeting);
        }
        Fixture::Reset => {
            let _ = c.write_all(b"SSH-2.0-Open");
            std::thread::sleep(Duration::from_millis(200));
            // Linger 0: dropping the socket sends RST.
            let _ = socket2::SockRef::from(&c).set_linger(Some(Duration::ZERO));
        }
    }
}

/// Serves every (fixture, port) pair until killed.
pub fn serve(specs: &[(Fixture, u16)]) -> Result<()> {
    let mut handles = Vec::new();
    for &(kind, port) in specs {
        let listener = TcpListener::bind(("0.0.0.0", port))
            .with_context(|| format!("cannot listen on tcp/{port}"))?;
        handles.push(std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || handle(kind, conn));
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}
