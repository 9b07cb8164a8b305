//! ICMP echo (ping) through surge-ping.
//!
//! One client per address family, opened once per scan. surge-ping tries an
//! unprivileged datagram ICMP socket first and a raw socket second; when
//! neither can be opened, ICMP discovery is unavailable and the caller says so
//! once.

use std::net::IpAddr;
use std::time::Duration;

use surge_ping::{Client, Config, IcmpPacket, PingIdentifier, PingSequence, ICMP};

use crate::governor::Admission;

/// The ICMP clients of one scan.
pub struct Pinger {
    v4: Option<Client>,
    v6: Option<Client>,
    ident: u16,
}

impl std::fmt::Debug for Pinger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pinger")
            .field("v4", &self.v4.is_some())
            .field("v6", &self.v6.is_some())
            .finish()
    }
}

/// Payload of every echo request: says who sent it, for anyone reading a capture.
const PAYLOAD: &[u8] = b"kenshin host discovery";

/// Payload of the hop probe's echo requests.
const HOP_PAYLOAD: &[u8] = b"kenshin next-hop probe";

/// An echo reply from the address asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo {
    pub rtt: Duration,
    /// The reply's IP TTL, when the socket shows IP headers (a raw socket).
    pub ttl: Option<u8>,
}

/// What answered an echo request sent with a limited TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopAnswer {
    /// The address itself replied: it is no further than the TTL allowed.
    Reply { ttl: Option<u8> },
    /// A router on the way said the TTL ran out (ICMP time exceeded); `from` is it.
    TimeExceeded { from: IpAddr },
}

/// ICMPv4 type numbers the hop probe tells apart.
const ECHO_REPLY: u8 = 0;
const TIME_EXCEEDED: u8 = 11;

impl Pinger {
    /// Opens the ICMP sockets; returns the pinger and, for each family that could
    /// not be opened, the reason.
    pub fn open() -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let mut open =
            |kind: ICMP, name: &str| match Client::new(&Config::builder().kind(kind).build()) {
                Ok(c) => Some(c),
                Err(e) => {
                    let first_line = e.to_string().lines().next().unwrap_or_default().to_owned();
                    problems.push(format!("{name}: {first_line}"));
                    None
                }
            };
        let v4 = open(ICMP::V4, "ICMPv4");
        let v6 = open(ICMP::V6, "ICMPv6");
        let pinger = Self {
            v4,
            v6,
            ident: rand::random(),
        };
        (pinger, problems)
    }

    /// True if echo requests can be sent to this address family.
    pub fn available_for(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(_) => self.v4.is_some(),
            IpAddr::V6(_) => self.v6.is_some(),
        }
    }

    /// Opens an IPv4 raw ICMP socket whose echo requests carry `ttl`, for the hop
    /// probe: only a raw socket shows the routers' time-exceeded answers.
    pub fn open_limited(ttl: u32) -> Result<Self, String> {
        let config = Config::builder()
            .kind(ICMP::V4)
            .sock_type_hint(socket2::Type::RAW)
            .ttl(ttl)
            .build();
        let client = Client::new(&config).map_err(|e| {
            format!(
                "ICMPv4 with TTL {ttl}: {}",
                e.to_string().lines().next().unwrap_or_default()
            )
        })?;
        if client.get_socket().get_type() != socket2::Type::RAW {
            return Err(format!(
                "ICMPv4 with TTL {ttl}: no raw socket, so time-exceeded answers cannot be read"
            ));
        }
        Ok(Self {
            v4: Some(client),
            v6: None,
            ident: rand::random(),
        })
    }

    /// Sends one echo request; returns the round trip (and the reply's TTL) if the
    /// address itself replied in time. An ICMP error about the request (a router's
    /// unreachable or time exceeded) is not a reply.
    pub async fn echo(&self, admission: &Admission, seq: u16, timeout: Duration) -> Option<Echo> {
        let addr = admission.addr();
        let (packet, rtt) = self.send(addr, seq, PAYLOAD, timeout).await?;
        let (from, kind, ttl) = describe(&packet);
        (from == addr && kind == Some(ECHO_REPLY)).then_some(Echo { rtt, ttl })
    }

    /// Sends one echo request from a pinger opened with [`Pinger::open_limited`] and
    /// says what answered it.
    pub async fn hop(
        &self,
        admission: &Admission,
        seq: u16,
        timeout: Duration,
    ) -> Option<HopAnswer> {
        let addr = admission.addr();
        let (packet, _) = self.send(addr, seq, HOP_PAYLOAD, timeout).await?;
        match describe(&packet) {
            (from, Some(ECHO_REPLY), ttl) if from == addr => Some(HopAnswer::Reply { ttl }),
            (from, Some(TIME_EXCEEDED), _) => Some(HopAnswer::TimeExceeded { from }),
            _ => None,
        }
    }

    async fn send(
        &self,
        addr: IpAddr,
        seq: u16,
        payload: &[u8],
        timeout: Duration,
    ) -> Option<(IcmpPacket, Duration)> {
        let client = match addr {
            IpAddr::V4(_) => self.v4.as_ref()?,
            IpAddr::V6(_) => self.v6.as_ref()?,
        };
        let mut pinger = client.pinger(addr, PingIdentifier(self.ident)).await;
        pinger.timeout(timeout);
        pinger.ping(PingSequence(seq), payload).await.ok()
    }
}

/// The sender, the ICMP type (IPv4 numbering; an IPv6 echo reply maps to 0) and the
/// IPv4 TTL of an answer.
fn describe(packet: &IcmpPacket) -> (IpAddr, Option<u8>, Option<u8>) {
    match packet {
        IcmpPacket::V4(p) => (
            IpAddr::V4(p.get_source()),
            Some(p.get_icmp_type().0),
            p.get_ttl(),
        ),
        IcmpPacket::V6(p) => (
            IpAddr::V6(p.get_source()),
            // ICMPv6 echo reply (129); the hop probe is IPv4 only.
            (p.get_icmpv6_type().0 == 129).then_some(ECHO_REPLY),
            None,
        ),
    }
}
