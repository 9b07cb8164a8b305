//! The lab's network: the namespaces, the router with its three bridges and the
//! lossy routed link, a veth pair from each host namespace to its bridge with the
//! addresses the truth lists and a route to 198.18.0.0/15 only, the nft rules that
//! shape filtered ports, silent hosts, resets and the flaky host, and the nft
//! counters tests read to prove silence. Also its removal ([`down`]).

use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::command::{ip, ip_batch, nft, run};
use crate::daemons::remove_x_display;
use crate::{
    Lab, ALL_NS, LOSS_PER_MILLE, MODALITY_MAC, RESOLVER_ADDR, ROUTER_NS, SCANNER_NS, SWITCH_ADDR,
    TERMINAL_ADDR, TLS_ADDR, TLS_SEGMENT,
};

impl Lab {
    /// Builds the network, empty of services.
    pub(crate) fn build_network(&self) -> Result<()> {
        namespaces()?;
        router()?;
        self.links()?;
        scanner_resolver()?;
        shaping()?;
        counters()
    }

    /// Joins every host namespace to its bridge with the addresses of the truth.
    fn links(&self) -> Result<()> {
        let addrs_of = |ns: &str| -> Vec<Ipv4Addr> {
            self.truth
                .hosts
                .values()
                .filter(|h| h.namespace == ns)
                .map(|h| h.address)
                .collect()
        };
        attach(
            SCANNER_NS,
            1,
            "br1",
            &[Ipv4Addr::new(198, 18, 1, 2)],
            Some("198.18.1.1"),
        )?;
        // ksl-a1 also owns .40-.59 (port 22 filtered) — all in the truth already.
        attach("ksl-a1", 2, "br1", &addrs_of("ksl-a1"), None)?;
        attach("ksl-a2", 3, "br1", &addrs_of("ksl-a2"), None)?;
        // The silent modalities carry a medical vendor's OUI, as real ones do.
        ip(&[
            "-n",
            "ksl-a2",
            "link",
            "set",
            "eth0",
            "address",
            MODALITY_MAC,
        ])?;
        attach("ksl-flaky", 4, "br1", &addrs_of("ksl-flaky"), None)?;
        attach(
            "ksl-svc",
            5,
            "br2",
            &addrs_of("ksl-svc"),
            Some("198.18.2.1"),
        )?;
        attach(
            "ksl-svc2",
            8,
            "br2",
            &addrs_of("ksl-svc2"),
            Some("198.18.2.1"),
        )?;
        attach("ksl-b1", 6, "br2", &addrs_of("ksl-b1"), Some("198.18.2.1"))?;
        attach("ksl-b2", 7, "br2", &addrs_of("ksl-b2"), Some("198.18.2.1"))?;
        attach(
            "ksl-tls",
            9,
            "br3",
            &[TLS_ADDR.parse()?],
            Some("198.18.3.1"),
        )?;

        attach(
            "ksl-net",
            10,
            "br3",
            &[SWITCH_ADDR.parse()?],
            Some("198.18.3.1"),
        )?;
        attach(
            "ksl-term",
            11,
            "br3",
            &[TERMINAL_ADDR.parse()?],
            Some("198.18.3.1"),
        )?;
        attach(
            "ksl-dns",
            12,
            "br3",
            &[RESOLVER_ADDR.parse()?],
            Some("198.18.3.1"),
        )
    }

    /// Reads a named nft counter's packet count in a namespace.
    pub fn counter(&self, ns: &str, name: &str) -> Result<u64> {
        let out = run(Command::new("ip").args([
            "netns", "exec", ns, "nft", "list", "counter", "inet", "count", name,
        ]))?;
        out.split_whitespace()
            .skip_while(|w| *w != "packets")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("no packet count in {out:?}"))
    }

    /// Writes `/etc/netns/ksl-scan/hosts`, which `ip netns exec` shows the scanner as
    /// its `/etc/hosts`.
    pub fn set_scanner_hosts(&self, entries: &[(&str, &str)]) -> Result<()> {
        let dir = Path::new("/etc/netns").join(SCANNER_NS);
        fs::create_dir_all(&dir)?;
        let mut text = String::from("127.0.0.1 localhost\n");
        for (addr, name) in entries {
            text.push_str(&format!("{addr} {name}\n"));
        }
        fs::write(dir.join("hosts"), text)?;
        Ok(())
    }
}

/// Writes `/etc/netns/ksl-scan/resolv.conf`, which `ip netns exec` shows the scanner
/// as its `/etc/resolv.conf`: the lab resolver is its only nameserver, so no lookup
/// leaves the lab.
fn scanner_resolver() -> Result<()> {
    let dir = Path::new("/etc/netns").join(SCANNER_NS);
    fs::create_dir_all(&dir)?;
    fs::write(
        dir.join("resolv.conf"),
        format!(
            "nameserver {RESOLVER_ADDR}
options timeout:1 attempts:1
"
        ),
    )?;
    Ok(())
}

/// Every namespace of the lab, each with its loopback up.
fn namespaces() -> Result<()> {
    for ns in ALL_NS {
        ip(&["netns", "add", ns])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
    }
    Ok(())
}

/// The router: three bridges with the segments' gateway addresses, forwarding on,
/// and loss on the routed link.
fn router() -> Result<()> {
    ip_batch(
        ROUTER_NS,
        &[
            "link add br1 type bridge".into(),
            "link add br2 type bridge".into(),
            "link add br3 type bridge".into(),
            "addr add 198.18.1.1/24 dev br1".into(),
            "addr add 198.18.2.1/24 dev br2".into(),
            "addr add 198.18.3.1/24 dev br3".into(),
            "link set br1 up".into(),
            "link set br2 up".into(),
            "link set br3 up".into(),
        ],
    )?;
    run(Command::new("ip").args([
        "netns",
        "exec",
        ROUTER_NS,
        "sysctl",
        "-qw",
        "net.ipv4.ip_forward=1",
    ]))?;
    // Loss on the routed link only: bridged traffic on segment A is not forwarded.
    nft(
        ROUTER_NS,
        &format!(
            "table inet lab {{ chain forward {{ type filter hook forward priority 0; \
             ip daddr {TLS_SEGMENT} accept; ip saddr {TLS_SEGMENT} accept; \
             numgen random mod 1000 < {LOSS_PER_MILLE} counter drop; }} }}"
        ),
    )
}

/// A veth pair from the router's `bridge` to `eth0` in `ns` (peer `v{idx}`), with
/// `addrs` on it and, given a gateway, the one route into the lab.
fn attach(ns: &str, idx: u32, bridge: &str, addrs: &[Ipv4Addr], gw: Option<&str>) -> Result<()> {
    let peer = format!("v{idx}");
    ip(&[
        "-n", ROUTER_NS, "link", "add", &peer, "type", "veth", "peer", "name", "eth0", "netns", ns,
    ])?;
    ip(&[
        "-n", ROUTER_NS, "link", "set", &peer, "master", bridge, "up",
    ])?;
    let mut lines: Vec<String> = addrs
        .iter()
        .map(|a| format!("addr add {a}/24 dev eth0"))
        .collect();
    lines.push("link set eth0 up".into());
    if let Some(gw) = gw {
        lines.push(format!("route add 198.18.0.0/15 via {gw}"));
    }
    ip_batch(ns, &lines)
}

/// The nft rules that make ports filtered, hosts silent, ports reset and the flaky
/// host stop answering.
fn shaping() -> Result<()> {
    nft(
        "ksl-a1",
        "table inet lab { chain input { type filter hook input priority 0; \
         ip daddr 198.18.1.40-198.18.1.59 tcp dport 22 drop; } }",
    )?;
    let silent = |ns: &str, accepts: &str| {
        nft(
            ns,
            &format!(
                "table inet lab {{ chain input {{ type filter hook input priority 0; policy drop; \
                 iif lo accept; ct state established,related accept; {accepts} }} }}"
            ),
        )
    };
    silent(
        "ksl-a2",
        "ip daddr 198.18.1.100-198.18.1.109 tcp dport 3389 accept; \
         ip daddr 198.18.1.110-198.18.1.119 tcp dport 9100 accept;",
    )?;
    silent(
        "ksl-b2",
        "ip daddr 198.18.2.100-198.18.2.119 tcp dport 11112 accept; \
         ip daddr 198.18.2.120-198.18.2.139 tcp dport 5938 accept;",
    )?;
    nft(
        "ksl-b1",
        "table inet lab { chain input { type filter hook input priority 0; \
         ip daddr 198.18.2.40-198.18.2.59 tcp dport { 443, 8080 } reject with tcp reset; \
         ip daddr 198.18.2.20-198.18.2.39 tcp dport 445 reject with tcp reset; } }",
    )?;
    // The flaky host answers its first ~40 packets from the scanner, then nothing.
    nft(
        "ksl-flaky",
        "table inet lab { chain input { type filter hook input priority 0; \
         ip saddr 198.18.1.2 quota over 2400 bytes drop; } }",
    )
}

/// Counters of what the scanner sends where, for tests that prove silence, and of
/// TCP connections opened to the TLS host (SYNs), for the TLS benchmark.
fn counters() -> Result<()> {
    for ns in ["ksl-svc", "ksl-b1"] {
        nft(
            ns,
            "table inet count { \
             chain input { type filter hook input priority -10; \
             ip saddr 198.18.1.2 ip daddr 198.18.2.25 counter name to_excluded; \
             ip saddr 198.18.1.2 udp dport 161 counter name to_snmp; } \
             counter to_excluded { } counter to_snmp { } }",
        )?;
    }
    nft(
        "ksl-tls",
        &format!(
            "table inet count {{ \
             chain input {{ type filter hook input priority -10; \
             ip daddr {TLS_ADDR} tcp flags & (syn | ack) == syn counter name tls_connections; }} \
             counter tls_connections {{ }} }}"
        ),
    )
}

/// Removes every lab namespace and anything still running in them. Safe to call when
/// no lab exists.
pub fn down() {
    for ns in ALL_NS {
        crate::command::remove_namespace(ns);
    }
    let _ = fs::remove_dir_all(Path::new("/etc/netns").join(SCANNER_NS));
    remove_x_display();
}
