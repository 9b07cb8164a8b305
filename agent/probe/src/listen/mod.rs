//! Listen-only discovery: hosts found from what they broadcast and multicast on a
//! segment, without kenshin sending a single frame.
//!
//! [`capture::Capture::open`] checks the interface (it exists, it is up) and opens a
//! receive-only datalink channel on it; the channel's sending half is dropped the
//! moment the channel is opened, so nothing in this module can send: there is no
//! sender to call. [`capture::Capture::run`] reads frames for the duration, decodes
//! them with [`kenshin_wire::listen`] and counts what each host said in a
//! [`census::Census`], which ends as [`Heard`]: one [`PassiveHost`] per address with
//! the passive sources that found it and what it [`Said`] about itself.
//!
//! Judging what those statements mean (a telephone, a printer) is the assess
//! crate's job (`rules/passive.toml`).

pub mod capture;
pub mod census;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use thiserror::Error;

use crate::observation::DiscoveryMethod;

/// The shortest and longest listening time.
pub const MIN_DURATION: Duration = Duration::from_secs(1);
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Why listening could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ListenError {
    #[error(
        "--duration {}s is out of range: listening takes from {}s to {}s (24h)",
        given.as_secs(),
        MIN_DURATION.as_secs(),
        MAX_DURATION.as_secs()
    )]
    Duration { given: Duration },
    #[error("interface {name:?} does not exist (interfaces here: {available})")]
    NoSuchInterface { name: String, available: String },
    #[error("no interface named to listen on, and not exactly one to choose from ({candidates}): name one with --interface")]
    NoDefaultInterface { candidates: String },
    #[error("interface {name:?} is down: bring it up (ip link set {name} up) before listening")]
    InterfaceDown { name: String },
    #[error(
        "cannot open a receive-only capture on {name:?}: {source}; listening needs \
         CAP_NET_RAW (run as root, or `setcap cap_net_raw+ep` on kenshin)"
    )]
    Permission {
        name: String,
        source: std::io::Error,
    },
    #[error("cannot open a capture on {name:?}: {reason}")]
    Channel { name: String, reason: String },
}

/// One statement a host made about itself, as heard.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Said {
    pub source: DiscoveryMethod,
    /// What was said: `lldp.system_name`, `mdns.service`, `dhcp.fingerprint` …
    pub key: &'static str,
    pub value: String,
}

/// A host heard on the segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassiveHost {
    pub address: IpAddr,
    pub mac: Option<[u8; 6]>,
    /// The passive sources that heard it (`arp`, `dhcp`, `lldp` …).
    pub sources: BTreeSet<DiscoveryMethod>,
    /// What it said, in (source, key, value) order, at most
    /// [`census::MAX_SAID_PER_HOST`].
    pub said: Vec<Said>,
}

/// Everything one listening heard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heard {
    /// Hosts in address order.
    pub hosts: Vec<PassiveHost>,
    /// Frames read, and frames of a listened-for protocol that did not decode.
    pub frames: u64,
    pub malformed: u64,
    /// Senders heard that gave no address at all (a MAC only), as notes.
    pub unaddressed: Vec<String>,
    pub duration: Duration,
}

/// Checks a listening duration against [`MIN_DURATION`]..=[`MAX_DURATION`].
pub fn check_duration(given: Duration) -> Result<Duration, ListenError> {
    if (MIN_DURATION..=MAX_DURATION).contains(&given) {
        Ok(given)
    } else {
        Err(ListenError::Duration { given })
    }
}
