//! The only code in kenshin that opens sockets and sends packets.
//!
//! Every function here takes an [`Admission`](crate::governor::Admission),
//! which exists only for an address the scope guard cleared and only once the
//! governor has allowed the packet. The methods that would reach the network
//! without one (`TcpStream::connect`, `UdpSocket::send_to` and friends) are
//! listed in `clippy.toml` as disallowed everywhere else.

pub mod arp;
pub mod icmp;
pub mod tcp;
mod tcp_info;
pub mod udp;

/// Segments (or ACKs) that `bytes` bytes take at `mss` bytes a segment: at least one.
pub(crate) fn segments(bytes: usize, mss: usize) -> u32 {
    u32::try_from(bytes.div_ceil(mss.max(1)).max(1)).unwrap_or(u32::MAX)
}

use std::io;

/// How a local socket error is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// The destination answered with a refusal (TCP RST, ICMP port unreachable).
    Refused,
    /// A router or the local stack says the host cannot be reached.
    Unreachable,
    /// Nothing came back.
    Silent,
    /// A local problem (out of descriptors or ports): the probe must be retried.
    Local,
}

pub(crate) fn classify(err: &io::Error) -> ErrorClass {
    match err.raw_os_error() {
        Some(libc_consts::ECONNREFUSED) => ErrorClass::Refused,
        Some(libc_consts::EHOSTUNREACH | libc_consts::ENETUNREACH | libc_consts::EHOSTDOWN) => {
            ErrorClass::Unreachable
        }
        Some(libc_consts::ETIMEDOUT) => ErrorClass::Silent,
        _ => match err.kind() {
            io::ErrorKind::ConnectionRefused => ErrorClass::Refused,
            io::ErrorKind::TimedOut => ErrorClass::Silent,
            _ => ErrorClass::Local,
        },
    }
}

/// Linux errno values (kept here rather than pulling in libc for five constants).
mod libc_consts {
    pub(super) const ENETUNREACH: i32 = 101;
    pub(super) const ETIMEDOUT: i32 = 110;
    pub(super) const ECONNREFUSED: i32 = 111;
    pub(super) const EHOSTDOWN: i32 = 112;
    pub(super) const EHOSTUNREACH: i32 = 113;
}
