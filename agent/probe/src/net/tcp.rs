//! TCP connect probes.
//!
//! A full connect is the one TCP probe that needs no privilege and that every
//! stack understands: SYN, then the kernel's ACK when the port is open, then an
//! immediate RST (linger 0) so that no connection lingers on a small device and
//! no TIME_WAIT state piles up here. No payload is ever sent.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpSocket;
use tokio::time::Instant;

use super::{classify, ErrorClass};
use crate::governor::Admission;

/// What one connect attempt learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOutcome {
    /// SYN-ACK: the port is open.
    Open { rtt: Duration },
    /// RST: the host is up and the port closed.
    Closed { rtt: Duration },
    /// A router or the local stack reported the host unreachable.
    Unreachable { rtt: Duration },
    /// No answer within the timeout.
    NoAnswer,
    /// A local failure (descriptors, ephemeral ports); nothing was learned.
    LocalError(String),
}

/// Connects to `port` on the admitted host, waiting at most `timeout`.
#[allow(clippy::disallowed_methods)] // this is the one place TCP connects are made
pub async fn connect(admission: &Admission, port: u16, timeout: Duration) -> TcpOutcome {
    let addr = SocketAddr::new(admission.addr(), port);
    let socket = match if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    } {
        Ok(s) => s,
        Err(e) => return TcpOutcome::LocalError(e.to_string()),
    };
    // Linger 0 makes close send RST at once; with a zero timeout it never blocks.
    if let Err(e) = socket2::SockRef::from(&socket).set_linger(Some(Duration::ZERO)) {
        return TcpOutcome::LocalError(e.to_string());
    }
    let start = Instant::now();
    match tokio::time::timeout(timeout, socket.connect(addr)).await {
        Err(_) => TcpOutcome::NoAnswer,
        Ok(Ok(stream)) => {
            let rtt = start.elapsed();
            drop(stream); // linger 0: the kernel answers with RST at once
            TcpOutcome::Open { rtt }
        }
        Ok(Err(e)) => {
            let rtt = start.elapsed();
            match classify(&e) {
                ErrorClass::Refused => TcpOutcome::Closed { rtt },
                ErrorClass::Unreachable => TcpOutcome::Unreachable { rtt },
                ErrorClass::Silent => TcpOutcome::NoAnswer,
                ErrorClass::Local => TcpOutcome::LocalError(e.to_string()),
            }
        }
    }
}

/// Opens a connection for a service probe: the same connect as [`connect`], but the
/// stream is handed back for the probe to talk over. Linger stays 0, so dropping the
/// stream resets the connection at once and leaves no state on the device.
#[allow(clippy::disallowed_methods)] // the one place TCP connections are opened
pub async fn open(
    admission: &Admission,
    port: u16,
    timeout: Duration,
) -> Result<tokio::net::TcpStream, TcpOutcome> {
    let addr = SocketAddr::new(admission.addr(), port);
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| TcpOutcome::LocalError(e.to_string()))?;
    socket2::SockRef::from(&socket)
        .set_linger(Some(Duration::ZERO))
        .map_err(|e| TcpOutcome::LocalError(e.to_string()))?;
    let start = Instant::now();
    match tokio::time::timeout(timeout, socket.connect(addr)).await {
        Err(_) => Err(TcpOutcome::NoAnswer),
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            admission.observe_rtt(start.elapsed());
            Ok(stream)
        }
        Ok(Err(e)) => {
            let rtt = start.elapsed();
            Err(match classify(&e) {
                ErrorClass::Refused => TcpOutcome::Closed { rtt },
                ErrorClass::Unreachable => TcpOutcome::Unreachable { rtt },
                ErrorClass::Silent => TcpOutcome::NoAnswer,
                ErrorClass::Local => TcpOutcome::LocalError(e.to_string()),
            })
        }
    }
}
