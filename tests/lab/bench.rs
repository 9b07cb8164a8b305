//! kenshin's bench lab, apart from the test lab: hospital-sized scopes in
//! 198.19.0.0/16 (its own namespaces `kb-*`, addresses no test uses) for bench/run.sh.
//!
//! ```text
//! speed scope (1,536 addresses), kb-rtr routes:
//!   198.19.1.0/24  bridged with the scanner (kb-scan .2, router .1): kb-s1 holds the live
//!                  hosts; only addresses that answer ARP need port probes
//!   198.19.2.0/24  routed, point-to-point to kb-s2, no loss (a server VLAN)
//!   198.19.4.0/22  routed, point-to-point to kb-s4, 0.5 % random loss each way; dead
//!                  addresses are silent (no ICMP unreachable), as behind a firewall
//! scale scope (--scale 1024 | 4096 | 16384): 198.19.64.0/22, /20 or /18 on kb-scan's
//!   own link, every live address on kb-big's one interface
//! ```
//!
//! In each scope a quarter of the addresses are live; 15 % of live hosts are silent
//! (no echo reply, closed ports dropped), the others answer echo and reset closed ports.
//! Each live host's open ports are drawn by [`model`] from a seeded generator in a
//! hospital's proportions; an nft set per namespace decides per (address, port). Real
//! sshd and nginx (TLS on 443) bound to the wildcard serve ports 22, 80, 443 and 8080
//! of every address of their namespace; `kenshin-lab listen` the other open ports.
//!
//! A scale scope raises the kernel's neighbour-table limits
//! (`net.ipv4.neigh.default.gc_thresh1-3`, global on this kernel) to fit its segment;
//! [`bench_down`] restores the values it saved.
//!
//! Modules: [`model`] (the truth and the port model), `network` (namespaces, links,
//! loss, nft), `services` (daemons and listeners).

use std::fs;
use std::io::ErrorKind;
use std::net::{SocketAddrV4, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

pub mod model;
mod network;
mod services;

pub use model::{bench_truth, BenchHost, BenchTruth, Scope, DEFAULT_SEED, SCALES, SCANNER_NS};

use crate::command::run;

/// A running bench lab. Dropping it tears it down unless detached.
#[derive(Debug)]
pub struct BenchLab {
    pub truth: BenchTruth,
    pub dir: PathBuf,
    services: services::Services,
    detached: bool,
}

impl BenchLab {
    /// Builds `scope` drawn from `seed`; `listener` is the `kenshin-lab` binary, which
    /// serves the plain ports and checks the lab from the scanner's namespace.
    pub fn up(listener: &Path, scope: Scope, seed: u64) -> Result<Self> {
        if !crate::is_root() {
            bail!("the bench lab needs root (network namespaces, nftables, daemons)");
        }
        if let Scope::Scale(n) = scope {
            if !SCALES.contains(&n) {
                bail!("--scale {n}: the bench lab builds {SCALES:?} addresses");
            }
        }
        bench_down()?;
        let dir = std::env::temp_dir().join("kenshin-bench-lab");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut lab = Self {
            truth: bench_truth(scope, seed),
            services: services::Services::new(&dir),
            dir,
            detached: false,
        };
        network::build(&lab.truth)?;
        lab.services.start(&lab.truth, listener)?;
        lab.self_check(listener)?;
        Ok(lab)
    }

    /// Leaves the lab running after this value is dropped; [`bench_down`] removes it.
    pub fn detach(mut self) {
        self.detached = true;
    }

    /// Connects from the scanner's namespace to a sample of each segment (open ports,
    /// closed ports of answering and of silent hosts, dead addresses of routed
    /// segments) and fails unless each behaves as the truth says.
    fn self_check(&self, listener: &Path) -> Result<()> {
        let mut want: Vec<(SocketAddrV4, &str)> = Vec::new();
        for seg in &self.truth.segments {
            let hosts: Vec<&BenchHost> = self
                .truth
                .hosts
                .values()
                .filter(|h| h.namespace == seg.namespace)
                .collect();
            for h in hosts.iter().filter(|h| !h.tcp_open.is_empty()).take(6) {
                want.push((SocketAddrV4::new(h.address, h.tcp_open[0]), "open"));
            }
            for h in hosts
                .iter()
                .filter(|h| h.tcp_open.is_empty() || h.silent)
                .take(6)
            {
                let outcome = if h.silent { "silent" } else { "reset" };
                want.push((SocketAddrV4::new(h.address, 1), outcome));
            }
            if seg.routed {
                let shift = 32 - u32::from(seg.prefix);
                let net = u32::from(seg.network) >> shift;
                let dead = self
                    .truth
                    .dead
                    .iter()
                    .find(|a| u32::from(**a) >> shift == net);
                if let Some(a) = dead {
                    want.push((SocketAddrV4::new(*a, 80), "silent"));
                }
            }
        }
        let targets: Vec<String> = want.iter().map(|(a, _)| a.to_string()).collect();
        let out = run(Command::new("ip")
            .args(["netns", "exec", SCANNER_NS])
            .arg(listener)
            .arg("bench-probe")
            .args(&targets))?;
        let seen: Vec<&str> = out.lines().collect();
        let wrong: Vec<String> = want
            .iter()
            .zip(seen.iter().chain(std::iter::repeat(&"missing")))
            .filter(|((a, w), s)| **s != format!("{a} {w}"))
            .map(|((a, w), s)| format!("{a}: want {w}, saw {s:?}"))
            .collect();
        if !wrong.is_empty() {
            bail!("the bench lab does not behave as its truth says: {wrong:?}");
        }
        Ok(())
    }
}

impl Drop for BenchLab {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        self.services.stop();
        let _ = bench_down();
    }
}

/// Removes the bench lab (namespaces `kb-*`, their processes) and restores the
/// neighbour-table limits a scale scope raised. Safe to call when none exists.
pub fn bench_down() -> Result<()> {
    network::remove()
}

/// Connects to each target at once (3 s each, the kernel retrying a lost SYN) and
/// prints `ADDR:PORT open|reset|silent|error:…`, one line per target in order. Run
/// inside the scanner's namespace by [`BenchLab::up`], whose targets are all in the bench
/// lab's 198.19.0.0/16.
#[allow(clippy::disallowed_methods)] // the lab checking itself, from its own namespace
pub fn probe(targets: &[SocketAddrV4]) -> Vec<String> {
    let handles: Vec<_> = targets
        .iter()
        .map(|t| {
            let t = *t;
            std::thread::spawn(move || {
                if t.ip().octets()[..2] != [198, 19] {
                    return format!("{t} refused:outside-198.19.0.0/16");
                }
                let outcome = match TcpStream::connect_timeout(&t.into(), Duration::from_secs(3)) {
                    Ok(_) => "open".to_owned(),
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused => "reset".to_owned(),
                    Err(e) if e.kind() == ErrorKind::TimedOut => "silent".to_owned(),
                    Err(e) => format!("error:{e}"),
                };
                format!("{t} {outcome}")
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|_| "panicked".to_owned()))
        .collect()
}
