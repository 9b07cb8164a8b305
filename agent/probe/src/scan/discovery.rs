//! Host discovery: ARP on connected segments and ICMP echo everywhere, then,
//! for gated scans, a TCP ping on a few common ports for whatever stayed silent.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use super::{for_each_cleared, Ctx, Phase};
use crate::governor::ProbeKind;
use crate::net::arp::ArpDiscovery;
use crate::net::icmp::Pinger;
use crate::net::tcp::{self, TcpOutcome};
use crate::observation::DiscoveryMethod;
use crate::scope::{AddrRange, Cleared};

/// What discovery learnt about one address that answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub methods: BTreeSet<DiscoveryMethod>,
    pub mac: Option<[u8; 6]>,
    pub rtt: Option<Duration>,
    /// The IP TTL of the echo reply, when the ICMP socket shows it.
    pub reply_ttl: Option<u8>,
}

/// Discovery tasks alive at once (each waits on the governor, so this bounds memory,
/// not speed).
const TASKS: usize = 512;
/// How long an address's task listens for its ARP reply after each request.
const ARP_GRACE: Duration = Duration::from_millis(300);
/// How often an address's ARP answer is looked for while waiting.
const ARP_POLL: Duration = Duration::from_millis(10);

/// What discovery found, and which addresses ARP could vouch for.
#[derive(Debug, Clone, Default)]
pub(super) struct Discovered {
    pub found: HashMap<IpAddr, Found>,
    /// Addresses on a segment where kenshin's own ARP requests went out: for these, no
    /// ARP answer means no host.
    pub arp_covered: HashSet<IpAddr>,
}

impl Discovered {
    /// Addresses that answered an ICMP echo.
    pub(super) fn echoed(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.found
            .iter()
            .filter(|(_, f)| f.methods.contains(&DiscoveryMethod::Icmp))
            .map(|(a, _)| *a)
    }
}

/// `icmp_retry`: whether an address off the connected segments gets a second echo. A
/// direct scan port-scans every such address anyway, so there the second echo is left to
/// the second look (see `second_look`), which sends it only if the scan found hosts
/// that answer nothing but ping.
pub(super) async fn discover(
    ctx: &Arc<Ctx>,
    warnings: &mut Vec<String>,
    icmp_retry: bool,
) -> Discovered {
    let scope = ctx.plan.guard.scope();
    let has_v4 = scope.ranges().iter().any(|r| !r.is_ipv6());
    let has_v6 = scope.ranges().iter().any(AddrRange::is_ipv6);

    let mut unavailable = Vec::new();
    let pinger = if ctx.plan.use_icmp {
        let (p, problems) = Pinger::open();
        let relevant =
            |s: &String| (s.starts_with("ICMPv4") && has_v4) || (s.starts_with("ICMPv6") && has_v6);
        unavailable.extend(problems.into_iter().filter(relevant));
        Some(p)
    } else {
        None
    };
    let arp = if ctx.plan.use_arp && has_v4 && scope.len() <= (1 << 20) {
        let v4: Vec<Ipv4Addr> = scope
            .addresses()
            .filter_map(|a| match a {
                IpAddr::V4(v) => Some(v),
                IpAddr::V6(_) => None,
            })
            .collect();
        let (arp, problems) = ArpDiscovery::open(&v4);
        unavailable.extend(problems.into_iter().map(|p| format!("ARP on {p}")));
        arp.map(Arc::new)
    } else {
        None
    };
    if !unavailable.is_empty() {
        warnings.push(format!(
            "raw-socket discovery is unavailable ({}); hosts are found by what works without \
             privilege (TCP and UDP probes, unprivileged ICMP where the system allows it). \
             Run as root or grant CAP_NET_RAW for ICMP and ARP discovery.",
            unavailable.join("; ")
        ));
    }
    let pinger = pinger.filter(|p| {
        (has_v4 && p.available_for(IpAddr::from([0u8, 0, 0, 0])))
            || (has_v6 && p.available_for(IpAddr::from([0u16; 8])))
    });
    if pinger.is_none() && arp.is_none() {
        return Discovered::default();
    }
    let pinger = pinger.map(Arc::new);

    ctx.progress.start_phase(
        Phase::Discovery,
        u64::try_from(scope.len()).unwrap_or(u64::MAX),
    );
    let mut out = HashMap::new();
    let mut arp_covered = HashSet::new();
    let work = |ctx: Arc<Ctx>, cleared: Cleared, ()| {
        let (pinger, arp) = (pinger.clone(), arp.clone());
        async move {
            let probed =
                probe_address(&ctx, cleared, pinger.as_deref(), arp.as_deref(), icmp_retry).await;
            ctx.progress.step();
            (cleared.addr(), probed)
        }
    };
    let collect = |(addr, probed): (IpAddr, Probed)| {
        if probed.arp_sent {
            arp_covered.insert(addr);
        }
        if let Some(f) = probed.found {
            out.insert(addr, f);
        }
    };
    for_each_cleared(
        ctx,
        scope.addresses().map(|a| (a, ())),
        TASKS,
        work,
        collect,
    )
    .await;
    if ctx.cancel.is_cancelled() {
        // An interrupted ARP sweep vouches for nothing.
        arp_covered.clear();
    }
    if let Some(arp) = arp {
        // Every address's task listened for ARP_GRACE after its last request: replies
        // later still, but in by now, are taken too, without waiting any longer.
        for addr in scope.addresses() {
            let IpAddr::V4(v4) = addr else { continue };
            if let Some(mac) = arp.reply_from(v4) {
                let f = out.entry(addr).or_default();
                f.methods.insert(DiscoveryMethod::Arp);
                f.mac = Some(mac);
            }
        }
        if let Ok(arp) = Arc::try_unwrap(arp) {
            arp.close();
        }
    }
    ctx.progress
        .hosts_up
        .fetch_add(out.len() as u64, std::sync::atomic::Ordering::Relaxed);
    Discovered {
        found: out,
        arp_covered,
    }
}

/// What discovery learnt of one address.
#[derive(Debug, Default)]
struct Probed {
    found: Option<Found>,
    /// Every planned ARP request for it went out.
    arp_sent: bool,
}

/// ARP (where the address is on a connected segment) and ICMP echo, with retries.
async fn probe_address(
    ctx: &Ctx,
    cleared: Cleared,
    pinger: Option<&Pinger>,
    arp: Option<&ArpDiscovery>,
    icmp_retry: bool,
) -> Probed {
    let mut arp_sent = false;
    let found = probe_address_inner(ctx, cleared, pinger, arp, icmp_retry, &mut arp_sent).await;
    Probed { found, arp_sent }
}

async fn probe_address_inner(
    ctx: &Ctx,
    cleared: Cleared,
    pinger: Option<&Pinger>,
    arp: Option<&ArpDiscovery>,
    icmp_retry: bool,
    arp_sent: &mut bool,
) -> Option<Found> {
    let addr = cleared.addr();
    let arp = arp.filter(|a| a.covers(addr));
    // ARP absence removes an address from the scan, so ARP always gets its retries.
    let attempts = if arp.is_some() || icmp_retry {
        ctx.plan.retries
    } else {
        0
    };
    let v4 = match addr {
        IpAddr::V4(v) => Some(v),
        IpAddr::V6(_) => None,
    };
    let arp_answered = || arp.zip(v4).is_some_and(|(a, v)| a.reply_from(v).is_some());
    let mut found = Found::default();
    *arp_sent = arp.is_some();
    let pinger = pinger.filter(|p| p.available_for(addr));
    // On a connected segment ARP decides: an echo goes only to an address that answered
    // it (for its RTT and TTL), never to an absent one, which would only make the kernel
    // ARP for it again.
    if let Some(arp) = arp {
        for _ in 0..=attempts {
            let adm = ctx
                .governor
                .admit(cleared, ProbeKind::Arp, &ctx.cancel)
                .await?;
            *arp_sent &= arp.request(&adm);
            drop(adm);
            let deadline = tokio::time::Instant::now() + ARP_GRACE;
            while !arp_answered() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(ARP_POLL).await;
            }
            if arp_answered() {
                break;
            }
        }
        if let (true, Some(p)) = (arp_answered(), pinger) {
            let adm = ctx
                .governor
                .admit(cleared, ProbeKind::Icmp, &ctx.cancel)
                .await?;
            if let Some(echo) = p.echo(&adm, 0, adm.timeout(0)).await {
                adm.observe_rtt(echo.rtt);
                found.methods.insert(DiscoveryMethod::Icmp);
                found.rtt = Some(echo.rtt);
                found.reply_ttl = echo.ttl;
            }
        }
        return (!found.methods.is_empty()).then_some(found);
    }
    for attempt in 0..=attempts {
        if let Some(arp) = arp {
            let adm = ctx
                .governor
                .admit(cleared, ProbeKind::Arp, &ctx.cancel)
                .await?;
            *arp_sent &= arp.request(&adm);
        }
        match pinger {
            Some(p) if p.available_for(addr) => {
                let adm = ctx
                    .governor
                    .admit(cleared, ProbeKind::Icmp, &ctx.cancel)
                    .await?;
                let timeout = adm.timeout(attempt);
                if let Some(echo) = p.echo(&adm, attempt as u16, timeout).await {
                    adm.observe_rtt(echo.rtt);
                    found.methods.insert(DiscoveryMethod::Icmp);
                    found.rtt = Some(echo.rtt);
                    found.reply_ttl = echo.ttl;
                    break;
                }
            }
            _ => tokio::time::sleep(ARP_GRACE).await,
        }
        if arp_answered() {
            break;
        }
    }
    (!found.methods.is_empty()).then_some(found)
}

/// One more echo to `cleared` (the second look's): whether it answered, and how.
pub(super) async fn echo_again(ctx: &Ctx, pinger: &Pinger, cleared: Cleared) -> Option<Found> {
    if !pinger.available_for(cleared.addr()) {
        return None;
    }
    let adm = ctx
        .governor
        .admit(cleared, ProbeKind::Icmp, &ctx.cancel)
        .await?;
    let echo = pinger.echo(&adm, 1, adm.timeout(1)).await?;
    adm.observe_rtt(echo.rtt);
    let mut f = Found::default();
    f.methods.insert(DiscoveryMethod::Icmp);
    f.rtt = Some(echo.rtt);
    f.reply_ttl = echo.ttl;
    Some(f)
}

/// For a gated scan: TCP connects to the catalog's ping ports, for every address that
/// stayed silent (and that ARP did not show absent), until one answers.
pub(super) async fn tcp_ping(
    ctx: &Arc<Ctx>,
    known: &HashMap<IpAddr, Found>,
    absent: &HashSet<IpAddr>,
) -> HashMap<IpAddr, Found> {
    let scope = ctx.plan.guard.scope();
    let silent = scope
        .len()
        .saturating_sub((known.len() + absent.len()) as u128);
    ctx.progress
        .start_phase(Phase::TcpPing, u64::try_from(silent).unwrap_or(u64::MAX));
    let mut out = HashMap::new();
    let silent = scope
        .addresses()
        .filter(|a| !known.contains_key(a) && !absent.contains(a))
        .map(|a| (a, ()));
    let work = |ctx: Arc<Ctx>, cleared: Cleared, ()| async move {
        let found = ping_one(&ctx, cleared).await;
        ctx.progress.step();
        found.map(|f| (cleared.addr(), f))
    };
    for_each_cleared(ctx, silent, TASKS, work, |r| {
        if let Some((a, f)) = r {
            out.insert(a, f);
        }
    })
    .await;
    ctx.progress
        .hosts_up
        .fetch_add(out.len() as u64, std::sync::atomic::Ordering::Relaxed);
    out
}

/// TCP connects to the catalog's ping ports until one answers; the silent ones are
/// tried again, `retries` times, so one lost packet does not lose a host.
async fn ping_one(ctx: &Ctx, cleared: Cleared) -> Option<Found> {
    for attempt in 0..=ctx.plan.retries {
        for &port in &ctx.plan.catalog.tcp_ping {
            let adm = ctx
                .governor
                .admit(cleared, ProbeKind::Tcp, &ctx.cancel)
                .await?;
            match tcp::connect(&adm, port, adm.timeout(attempt)).await {
                TcpOutcome::Open { rtt } | TcpOutcome::Closed { rtt } => {
                    adm.observe_rtt(rtt);
                    let mut f = Found::default();
                    f.methods.insert(DiscoveryMethod::Tcp);
                    f.rtt = Some(rtt);
                    return Some(f);
                }
                TcpOutcome::Unreachable { .. } => return None,
                TcpOutcome::NoAnswer | TcpOutcome::LocalError(_) => {}
            }
        }
    }
    None
}
