//! The receive-only capture on one interface.
//!
//! [`Capture::open`] opens a pnet datalink channel and keeps only its receiving
//! half: the sending half is dropped inside `open`, before the capture exists, and
//! [`Capture`] has no field that could hold one. Promiscuous mode stays off unless
//! the operator asks for it (it changes what the interface accepts, never what it
//! sends).

use std::time::{Duration, Instant};

use pnet_datalink::{Channel, DataLinkReceiver, NetworkInterface};
use tokio_util::sync::CancellationToken;

use super::census::Census;
use super::{Heard, ListenError};
use crate::scope::AddrRange;

/// How long one read waits before the deadline and cancellation are checked again.
const READ_TICK: Duration = Duration::from_millis(200);

/// A receive-only capture on one interface.
pub struct Capture {
    interface: String,
    own_mac: Option<[u8; 6]>,
    rx: Box<dyn DataLinkReceiver>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("interface", &self.interface)
            .finish_non_exhaustive()
    }
}

/// The interface named `name`, checked to exist and be up.
pub fn interface(name: &str) -> Result<NetworkInterface, ListenError> {
    let all = pnet_datalink::interfaces();
    let Some(iface) = all.iter().find(|i| i.name == name).cloned() else {
        let mut names: Vec<String> = all.into_iter().map(|i| i.name).collect();
        names.sort();
        return Err(ListenError::NoSuchInterface {
            name: name.to_owned(),
            available: if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            },
        });
    };
    if !iface.is_up() {
        return Err(ListenError::InterfaceDown {
            name: name.to_owned(),
        });
    }
    Ok(iface)
}

/// The only up, non-loopback interface with an IPv4 address: the one to listen on
/// when none is named.
pub fn default_interface() -> Result<String, ListenError> {
    let candidates: Vec<String> = pnet_datalink::interfaces()
        .into_iter()
        .filter(|i| i.is_up() && !i.is_loopback() && i.ips.iter().any(|n| n.is_ipv4()))
        .map(|i| i.name)
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one.clone()),
        others => Err(ListenError::NoDefaultInterface {
            candidates: if others.is_empty() {
                "none is up with an IPv4 address".to_owned()
            } else {
                others.join(", ")
            },
        }),
    }
}

/// The IPv4 networks of an interface, each no larger than `/min_prefix`, as CIDR
/// ranges (the segment a listener hears).
pub fn ipv4_networks(iface: &NetworkInterface, min_prefix: u8) -> Vec<AddrRange> {
    iface
        .ips
        .iter()
        .filter(|n| n.is_ipv4() && n.prefix() >= min_prefix)
        .map(|n| AddrRange::cidr(n.network(), u32::from(n.prefix())))
        .collect()
}

impl Capture {
    /// Opens a receive-only capture on `name`.
    pub fn open(name: &str, promiscuous: bool) -> Result<Self, ListenError> {
        let iface = interface(name)?;
        let config = pnet_datalink::Config {
            read_timeout: Some(READ_TICK),
            promiscuous,
            ..Default::default()
        };
        let rx = match pnet_datalink::channel(&iface, config) {
            // The sender is dropped here: a capture never holds one.
            Ok(Channel::Ethernet(_tx, rx)) => rx,
            Ok(_) => {
                return Err(ListenError::Channel {
                    name: name.to_owned(),
                    reason: "not an Ethernet interface".to_owned(),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(ListenError::Permission {
                    name: name.to_owned(),
                    source: e,
                })
            }
            Err(e) => {
                return Err(ListenError::Channel {
                    name: name.to_owned(),
                    reason: e.to_string(),
                })
            }
        };
        Ok(Self {
            interface: name.to_owned(),
            own_mac: iface.mac.map(|m| m.octets()),
            rx,
        })
    }

    /// The interface listened on.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Reads frames until `duration` has passed or `cancel` fires (blocking: run it
    /// on a thread of its own). Frames this machine sent are skipped.
    pub fn run(mut self, duration: Duration, cancel: &CancellationToken) -> Heard {
        let started = Instant::now();
        let mut census = Census::new(self.own_mac);
        while started.elapsed() < duration && !cancel.is_cancelled() {
            match self.rx.next() {
                Ok(frame) => census.hear(frame),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::warn!(interface = %self.interface, "capture read failed: {e}");
                    std::thread::sleep(READ_TICK);
                }
            }
        }
        census.finish(started.elapsed())
    }
}
