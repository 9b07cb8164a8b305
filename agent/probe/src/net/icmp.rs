//! ICMP echo (ping) through surge-ping.
//!
//! One client per address family, opened once per scan. surge-ping tries an
//! unprivileged datagram ICMP socket first and a raw socket second; when
//! neither can be opened, ICMP discovery is unavailable and the caller says so
//! once.

use std::net::IpAddr;
use std::time::Duration;

use surge_ping::{Client, Config, PingIdentifier, PingSequence, ICMP};

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

    /// Sends one echo request; returns the round trip if a reply came in time.
    pub async fn echo(
        &self,
        admission: &Admission,
        seq: u16,
        timeout: Duration,
    ) -> Option<Duration> {
        let addr = admission.addr();
        let client = match addr {
            IpAddr::V4(_) => self.v4.as_ref()?,
            IpAddr::V6(_) => self.v6.as_ref()?,
        };
        let mut pinger = client.pinger(addr, PingIdentifier(self.ident)).await;
        pinger.timeout(timeout);
        pinger
            .ping(PingSequence(seq), PAYLOAD)
            .await
            .ok()
            .map(|(_, rtt)| rtt)
    }
}
