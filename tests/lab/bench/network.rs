//! The bench lab's network: its namespaces, the router with the scanner's /24 bridged
//! and the two routed segments reached over point-to-point links (the /22's with 0.5 %
//! loss each way), or for a scale scope one veth pair from the scanner to the segment's
//! namespace; the nft rules that decide per (address, port) whether a live host accepts,
//! resets or drops; and the global neighbour-table limits a scale scope raises and
//! `bench-down` restores.

use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::model::{BenchTruth, Segment, ALL_NS, ROUTER_NS, SCANNER_NS};
use crate::command::{ip, ip_batch, nft, run};

/// Where the neighbour-table limits are saved while a scale scope runs.
const NEIGH_SAVED: &str = "/run/kenshin-bench-neigh.saved";
/// The global neighbour-table limits (this kernel has them in the initial namespace only).
const NEIGH_KEYS: [&str; 3] = [
    "net.ipv4.neigh.default.gc_thresh1",
    "net.ipv4.neigh.default.gc_thresh2",
    "net.ipv4.neigh.default.gc_thresh3",
];
/// The router's address on the scanner's /24.
const ROUTER_ADDR: &str = "198.19.1.1";

/// Builds the network of `truth` (a speed or a scale scope), empty of services.
pub(super) fn build(truth: &BenchTruth) -> Result<()> {
    let namespaces: Vec<&str> = if truth.segments.iter().any(|s| s.routed) {
        vec![SCANNER_NS, ROUTER_NS, "kb-s1", "kb-s2", "kb-s4"]
    } else {
        vec![SCANNER_NS, "kb-big"]
    };
    for ns in &namespaces {
        ip(&["netns", "add", ns])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
    }
    if truth.segments.iter().any(|s| s.routed) {
        speed(truth)?;
    } else {
        scale(truth)?;
    }
    for seg in &truth.segments {
        shaping(truth, seg)?;
    }
    Ok(())
}

/// The speed scope: segment A bridged in the router with the scanner on it, B and the
/// lossy /22 behind point-to-point links (the router never ARPs for their addresses, so
/// a dead address costs it nothing and answers nothing).
fn speed(truth: &BenchTruth) -> Result<()> {
    let [a, b, c] = [&truth.segments[0], &truth.segments[1], &truth.segments[2]];
    ip_batch(
        ROUTER_NS,
        &[
            "link add br1 type bridge".into(),
            format!("addr add {ROUTER_ADDR}/24 dev br1"),
            "link set br1 up".into(),
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
    bridged(SCANNER_NS, "v0", &[truth.scanner], a.prefix)?;
    ip_batch(
        SCANNER_NS,
        &[
            format!("route add {} via {ROUTER_ADDR}", b.cidr),
            format!("route add {} via {ROUTER_ADDR}", c.cidr),
        ],
    )?;
    bridged(a.namespace, "v1", &addresses(truth, a), a.prefix)?;
    routed(truth, b, "r2", "198.19.254.1", "198.19.254.2")?;
    routed(truth, c, "r4", "198.19.254.5", "198.19.254.6")?;
    // Loss each way on the /22's link; the router sends no ICMP error (a firewall).
    let loss = c.loss_per_mille;
    nft(
        ROUTER_NS,
        &format!(
            "table inet bench {{ chain forward {{ type filter hook forward priority 0; \
             icmp type destination-unreachable drop; \
             ip daddr {net} numgen random mod 1000 < {loss} counter drop; \
             ip saddr {net} numgen random mod 1000 < {loss} counter drop; }}\n\
             chain output {{ type filter hook output priority 0; \
             icmp type destination-unreachable drop; }} }}",
            net = c.cidr
        ),
    )
}

/// A scale scope: the scanner and the segment's namespace joined by one veth pair.
fn scale(truth: &BenchTruth) -> Result<()> {
    let seg = &truth.segments[0];
    raise_neighbour_limits(seg.size())?;
    ip(&[
        "-n",
        SCANNER_NS,
        "link",
        "add",
        "eth0",
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        seg.namespace,
    ])?;
    ip_batch(
        SCANNER_NS,
        &[
            format!("addr add {}/{} dev eth0", truth.scanner, seg.prefix),
            "link set eth0 up".into(),
        ],
    )?;
    let mut lines: Vec<String> = addresses(truth, seg)
        .iter()
        .map(|a| format!("addr add {a}/{} dev eth0", seg.prefix))
        .collect();
    lines.push("link set eth0 up".into());
    ip_batch(seg.namespace, &lines)
}

/// The live addresses of a segment that its own namespace holds (not the scanner's or
/// the router's).
fn addresses(truth: &BenchTruth, seg: &Segment) -> Vec<Ipv4Addr> {
    truth.addresses_of(seg.namespace)
}

/// A veth from the router's bridge to `eth0` in `ns`, with `addrs` on it.
fn bridged(ns: &str, peer: &str, addrs: &[Ipv4Addr], prefix: u8) -> Result<()> {
    ip(&[
        "-n", ROUTER_NS, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", ns,
    ])?;
    ip(&["-n", ROUTER_NS, "link", "set", peer, "master", "br1", "up"])?;
    let mut lines: Vec<String> = addrs
        .iter()
        .map(|a| format!("addr add {a}/{prefix} dev eth0"))
        .collect();
    lines.push("link set eth0 up".into());
    ip_batch(ns, &lines)
}

/// A point-to-point link from the router (`rtr`/30) to the segment's namespace
/// (`host`/30), which holds the segment's live addresses as /32s and drops anything
/// addressed elsewhere (no ICMP error for a dead address).
fn routed(truth: &BenchTruth, seg: &Segment, peer: &str, rtr: &str, host: &str) -> Result<()> {
    let ns = seg.namespace;
    ip(&[
        "-n", ROUTER_NS, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", ns,
    ])?;
    ip_batch(
        ROUTER_NS,
        &[
            format!("addr add {rtr}/30 dev {peer}"),
            format!("link set {peer} up"),
            format!("route add {} via {host}", seg.cidr),
        ],
    )?;
    let mut lines: Vec<String> = addresses(truth, seg)
        .iter()
        .map(|a| format!("addr add {a}/32 dev eth0"))
        .collect();
    lines.push(format!("addr add {host}/30 dev eth0"));
    lines.push("link set eth0 up".into());
    lines.push(format!("route add 198.19.1.0/24 via {rtr}"));
    ip_batch(ns, &lines)?;
    nft(
        ns,
        "table inet edge { chain pre { type filter hook prerouting priority -300; \
         meta nfproto ipv4 fib daddr type != local drop; } }",
    )
}

/// The segment namespace's decisions per (address, port): open pairs accept, silent
/// hosts drop everything else (ICMP echo too), every other host resets closed ports.
fn shaping(truth: &BenchTruth, seg: &Segment) -> Result<()> {
    let hosts: Vec<_> = truth
        .hosts
        .values()
        .filter(|h| h.namespace == seg.namespace)
        .collect();
    let open: Vec<String> = hosts
        .iter()
        .flat_map(|h| {
            h.tcp_open
                .iter()
                .map(move |p| format!("{} . {p}", h.address))
        })
        .collect();
    let silent: Vec<String> = hosts
        .iter()
        .filter(|h| h.silent)
        .map(|h| h.address.to_string())
        .collect();
    let elements = |v: &[String]| {
        if v.is_empty() {
            String::new()
        } else {
            format!("elements = {{ {} }}", v.join(", "))
        }
    };
    nft(
        seg.namespace,
        &format!(
            "table inet bench {{ \
             set open {{ type ipv4_addr . inet_service; {open} }}\n\
             set silent {{ type ipv4_addr; {silent} }}\n\
             chain input {{ type filter hook input priority 0; \
             iif lo accept; ct state established,related accept; \
             ip daddr . tcp dport @open accept; \
             ip daddr @silent drop; \
             meta l4proto tcp reject with tcp reset; }} }}",
            open = elements(&open),
            silent = elements(&silent),
        ),
    )
}

/// Raises the kernel's neighbour-table limits (global on this kernel, not per
/// namespace) so that a segment of `size` addresses fits, saving the old values for
/// [`restore_neighbour_limits`]. Values already high enough are left alone.
fn raise_neighbour_limits(size: u32) -> Result<()> {
    let mut old = Vec::new();
    for key in NEIGH_KEYS {
        let value = run(Command::new("sysctl").args(["-n", key]))?;
        old.push(format!("{key}={}", value.trim()));
    }
    let current: Vec<u32> = old
        .iter()
        .filter_map(|kv| kv.split_once('=').and_then(|(_, v)| v.parse().ok()))
        .collect();
    let want = [size / 2, size, size * 2];
    if current.len() == 3 && current.iter().zip(want).all(|(c, w)| *c >= w) {
        return Ok(());
    }
    if !Path::new(NEIGH_SAVED).exists() {
        fs::write(NEIGH_SAVED, old.join("\n") + "\n")
            .with_context(|| format!("cannot save the neighbour limits to {NEIGH_SAVED}"))?;
    }
    for (key, (c, w)) in NEIGH_KEYS.iter().zip(current.iter().zip(want)) {
        if *c < w {
            run(Command::new("sysctl").args(["-qw", &format!("{key}={w}")]))?;
        }
    }
    Ok(())
}

/// Puts back the neighbour-table limits [`raise_neighbour_limits`] saved, if any.
fn restore_neighbour_limits() -> Result<()> {
    let Ok(saved) = fs::read_to_string(NEIGH_SAVED) else {
        return Ok(());
    };
    for line in saved.lines().filter(|l| !l.trim().is_empty()) {
        if !NEIGH_KEYS
            .iter()
            .any(|k| line.starts_with(&format!("{k}=")))
        {
            bail!("{NEIGH_SAVED} holds {line:?}, not one of {NEIGH_KEYS:?}");
        }
        run(Command::new("sysctl").args(["-qw", line]))?;
    }
    fs::remove_file(NEIGH_SAVED).with_context(|| format!("cannot remove {NEIGH_SAVED}"))
}

/// Removes every bench namespace and anything still running in them, and restores the
/// neighbour limits. Safe to call when no bench lab exists.
pub(super) fn remove() -> Result<()> {
    for ns in ALL_NS {
        crate::command::remove_namespace(ns);
    }
    restore_neighbour_limits()
}
