//! UDP request/response probes.
//!
//! One datagram out, at most one datagram back (bounded in size), through a
//! connected socket so that the kernel filters replies from other sources and
//! reports ICMP port-unreachable as a refusal.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::{classify, ErrorClass};
use crate::governor::Admission;

/// Largest reply kept from one UDP probe.
pub const MAX_REPLY: usize = 8192;

/// What one UDP exchange learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpOutcome {
    /// A datagram came back (truncated to [`MAX_REPLY`]).
    Reply { rtt: Duration, bytes: Vec<u8> },
    /// ICMP port unreachable: the host is up, nothing listens.
    Closed { rtt: Duration },
    /// ICMP host or network unreachable.
    Unreachable { rtt: Duration },
    /// Nothing came back: open or filtered, undecidable without a reply.
    NoAnswer,
    /// A local failure; nothing was learned.
    LocalError(String),
}

/// Sends `payload` to `port` on the admitted host and waits up to `timeout` for
/// a reply that `accept` approves (replies it rejects, such as stale answers to an
/// earlier attempt, are skipped).
#[allow(clippy::disallowed_methods)] // this is the one place UDP datagrams are sent
pub async fn exchange(
    admission: &Admission,
    port: u16,
    payload: &[u8],
    timeout: Duration,
    accept: impl Fn(&[u8]) -> bool,
) -> UdpOutcome {
    let dest = SocketAddr::new(admission.addr(), port);
    let bind: SocketAddr = if dest.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let socket = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(e) => return UdpOutcome::LocalError(e.to_string()),
    };
    if let Err(e) = socket.connect(dest).await {
        return UdpOutcome::LocalError(e.to_string());
    }
    let start = Instant::now();
    if let Err(e) = socket.send(payload).await {
        return match classify(&e) {
            ErrorClass::Unreachable => UdpOutcome::Unreachable {
                rtt: start.elapsed(),
            },
            _ => UdpOutcome::LocalError(e.to_string()),
        };
    }
    let deadline = start + timeout;
    let mut buf = vec![0u8; MAX_REPLY];
    loop {
        match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => return UdpOutcome::NoAnswer,
            Ok(Ok(n)) => {
                if accept(&buf[..n]) {
                    buf.truncate(n);
                    return UdpOutcome::Reply {
                        rtt: start.elapsed(),
                        bytes: buf,
                    };
                }
            }
            Ok(Err(e)) => {
                let rtt = start.elapsed();
                return match classify(&e) {
                    ErrorClass::Refused => UdpOutcome::Closed { rtt },
                    ErrorClass::Unreachable => UdpOutcome::Unreachable { rtt },
                    ErrorClass::Silent => UdpOutcome::NoAnswer,
                    ErrorClass::Local => UdpOutcome::LocalError(e.to_string()),
                };
            }
        }
    }
}
