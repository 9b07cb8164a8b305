//! kenshin's test lab: Linux network namespaces joined by veth pairs and bridges,
//! addressed from 198.18.0.0/15 only, with real daemons and firewall rules that
//! shape silent hosts, filtered ports and a lossy link.
//!
//! ```text
//!                       ksl-rtr (router, bridges br1 + br2, 0.5 % loss between them)
//!   segment A 198.18.1.0/24 (br1)             segment B 198.18.2.0/24 (br2)
//!   ├─ ksl-scan   .2   the scanner            ├─ ksl-svc   .10       sshd nginx (80, 443) vsftpd snmpd telnetd
//!   ├─ ksl-a1     .10-.59  RST hosts          │                      Samba (SMB1 allowed) storescp Xvnc
//!   ├─ ksl-a2     .100-.119 silent hosts      ├─ ksl-svc2  .11       Samba (SMB2 only), an RDP fixture, a VPN portal,
//!   └─ ksl-flaky  .200 stops answering        │                      hostile servers (see fixtures.rs)
//!                                             ├─ ksl-b1    .20-.59   RST hosts
//!                                             └─ ksl-b2    .100-.139 silent hosts
//!   segment C 198.18.3.0/24 (br3, no loss): ksl-tls .10, nginx TLS servers, vsftpd
//!   with AUTH TLS and Postfix with STARTTLS (see tls.rs); ksl-net .20, a switch whose
//!   snmpd answers `public` with a Cisco IOS 12.2 sysDescr; ksl-term .30, an old
//!   terminal whose RDP selects Standard RDP Security; ksl-dns .53, the lab's
//!   resolver (dnsmasq: a PTR record for the TLS host, nothing forwarded), which the
//!   scanner's namespace uses as its resolv.conf
//! ```
//!
//! The scanner's namespace has one interface on segment A and a single route,
//! 198.18.0.0/15 via the router: it cannot reach anything outside the lab. No
//! namespace has a default route. The lab needs root; building it fails loudly
//! otherwise, and [`Lab`] tears everything down when dropped, also when a test
//! panics.
//!
//! Modules: [`truth`] (what the lab contains), `topology` (namespaces, links,
//! addresses, routes, nft shaping and counters), `daemons` (each real service),
//! `processes` (starting programs in namespaces, waiting until they listen),
//! `command` (running `ip`, `nft` and the other tools), `listener` (the plain TCP
//! ports), [`fixtures`] (servers no Debian package provides), [`tls`] (the TLS
//! segment), [`webhook`] (a receiver for the daemon's notifications),
//! [`capture`] (tcpdump in a namespace, pcap read back, frames counted per second) and
//! [`passive`] (a segment of its own where hosts speak for themselves, for `kenshin listen`);
//! [`bench`] is the separate, hospital-sized bench lab of bench/run.sh (198.19.0.0/16, `kb-*`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;

use anyhow::Result;

pub mod bench;
pub mod capture;
mod command;
mod daemons;
pub mod fixtures;
pub mod fleet;
mod listener;
pub mod passive;
pub mod postgres;
mod processes;
pub mod tls;
mod topology;
pub mod truth;
pub mod webhook;

pub use command::is_root;
pub use listener::listen;
pub use tls::{TLS_ADDR, TLS_NAME, TLS_SEGMENT};
pub use topology::down;
pub use truth::{truth, HostTruth, Truth};

/// Namespace of the scanner.
pub const SCANNER_NS: &str = "ksl-scan";
/// The scanner's address.
pub const SCANNER_ADDR: &str = "198.18.1.2";
/// The two segments the lab tests scan.
pub const SEGMENTS: [&str; 2] = ["198.18.1.0/24", "198.18.2.0/24"];
/// The host running real daemons.
pub const SERVICES_ADDR: &str = "198.18.2.10";
/// The host running an SMB2-only Samba, the RDP fixture and the hostile servers.
pub const SERVICES2_ADDR: &str = "198.18.2.11";
/// The AE title the lab's storescp answers to.
pub const DICOM_AE: &str = "KENSHIN-PACS";

/// Fixtures on the second services host, as (fixture, port).
pub const FIXTURES: &str =
    "rdp:3389,tarpit:2323,drip:21,endless:25,garbage:110,reset:22,hostile:2121";
/// The host that stops answering after its first few dozen packets.
pub const FLAKY_ADDR: &str = "198.18.1.200";
/// MAC address of the silent modality hosts (ksl-a2): an OUI registered to Philips
/// Medical Systems, harmless inside the isolated lab.
pub const MODALITY_MAC: &str = "00:09:5c:4b:01:01";
/// A switch on segment C whose snmpd answers the default community `public` with a
/// Cisco IOS 12.2 sysDescr (a stand-in: only the answer's shape matters).
pub const SWITCH_ADDR: &str = "198.18.3.20";
/// The sysDescr the lab switch answers.
pub const SWITCH_SYS_DESCR: &str = "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), \
     Version 12.2(55)SE7, RELEASE SOFTWARE (fc1)";
/// An old terminal on segment C whose RDP selects Standard RDP Security.
pub const TERMINAL_ADDR: &str = "198.18.3.30";
/// The FortiGate-like portal's ETag: its last 8 hex digits are the build time,
/// 0x5b200000 = 2018-06-12, older than every FortiOS fix kenshin's advisories know.
pub const FORTIGATE_ETAG: &str = "\"1d2-5b200000\"";
/// The SNMP community the lab's snmpd accepts.
pub const SNMP_COMMUNITY: &str = "kenshin-lab-ro";
/// The lab's resolver (dnsmasq in ksl-dns): the scanner namespace's only nameserver.
/// It answers the PTR records of [`PTR_RECORDS`] and forwards nothing.
pub const RESOLVER_ADDR: &str = "198.18.3.53";
/// The reverse records the lab resolver answers, as (address, name).
pub const PTR_RECORDS: [(&str, &str); 1] = [(TLS_ADDR, TLS_NAME)];
/// Loss on the routed link, per mille, each direction.
pub const LOSS_PER_MILLE: u32 = 5;

pub(crate) const ROUTER_NS: &str = "ksl-rtr";
pub(crate) const ALL_NS: [&str; 13] = [
    SCANNER_NS,
    ROUTER_NS,
    "ksl-a1",
    "ksl-a2",
    "ksl-flaky",
    "ksl-svc",
    "ksl-svc2",
    "ksl-b1",
    "ksl-b2",
    "ksl-tls",
    "ksl-net",
    "ksl-term",
    "ksl-dns",
];

/// The Debian packages the lab runs.
pub const PACKAGES: [&str; 17] = [
    "ieee-data",
    "iproute2",
    "nftables",
    "openssh-server",
    "nginx-light",
    "vsftpd",
    "snmpd",
    "util-linux",
    "samba",
    "dcmtk",
    "tigervnc-standalone-server",
    "inetutils-telnetd",
    "systemd",
    "openssl",
    "testssl.sh",
    "postfix",
    "dnsmasq-base",
];

/// A running lab. Dropping it tears it down.
#[derive(Debug)]
pub struct Lab {
    pub truth: Truth,
    pub dir: PathBuf,
    children: Vec<Child>,
    detached: bool,
}

impl Lab {
    /// Builds the lab; `listener` is the path of the `kenshin-lab` binary, which serves
    /// the lab's plain TCP ports.
    pub fn up(listener: &Path) -> Result<Self> {
        command::require_tools()?;
        down();
        let dir = std::env::temp_dir().join("kenshin-lab");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        let mut lab = Self {
            truth: truth(),
            dir,
            children: Vec::new(),
            detached: false,
        };
        lab.build_network()?;
        lab.start_listeners(listener)?;
        lab.start_daemons()?;
        lab.wait_ready()?;
        Ok(lab)
    }

    /// Leaves the lab running after this value is dropped; [`down`] removes it later.
    pub fn detach(mut self) {
        self.detached = true;
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        down();
    }
}
