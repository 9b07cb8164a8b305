//! The routers next to the scanner: the gateways of its own routing table (read,
//! nothing sent) and a TTL-limited echo request to each host outside the connected
//! segments that answered ICMP.
//!
//! An echo request sent with TTL 1 dies at the first router. If the address asked
//! answers it anyway, the address is that router's own interface; if the router
//! answers with ICMP time exceeded instead, the sender of that answer forwards the
//! scanner's packets. Either way the host is a router, whatever ports it has open.
//! Each request goes through the scope guard and the governor like any other probe
//! (one per host, counted as ICMP); the time-exceeded answers come from routers the
//! scanner's packets cross anyway, and are recorded only for addresses in scope.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use super::discovery::Discovered;
use super::{for_each_cleared, Ctx};
use crate::evidence::Transcript;
use crate::governor::ProbeKind;
use crate::net::icmp::{HopAnswer, Pinger};
use crate::observation::PathEvidence;

/// Hop probes alive at once.
const TASKS: usize = 64;

/// One IPv4 route of the kernel's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub destination: Ipv4Addr,
    pub mask: Ipv4Addr,
    /// `None` for a connected segment.
    pub gateway: Option<Ipv4Addr>,
}

/// Parses `/proc/net/route` (addresses in the kernel's byte order, hex).
pub fn parse_proc_route(text: &str) -> Vec<Route> {
    let hex = |s: &str| {
        u32::from_str_radix(s, 16)
            .ok()
            .map(|n| Ipv4Addr::from(n.to_le_bytes()))
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let [_iface, dest, gw, _flags, _refs, _use, _metric, mask, ..] = cols.as_slice() else {
                return None;
            };
            let gateway = hex(gw)?;
            Some(Route {
                destination: hex(dest)?,
                mask: hex(mask)?,
                gateway: (!gateway.is_unspecified()).then_some(gateway),
            })
        })
        .collect()
}

/// The route the kernel picks for `addr`: the longest matching prefix.
pub fn route_for(routes: &[Route], addr: Ipv4Addr) -> Option<Route> {
    routes
        .iter()
        .filter(|r| u32::from(addr) & u32::from(r.mask) == u32::from(r.destination))
        .max_by_key(|r| u32::from(r.mask).count_ones())
        .copied()
}

/// The scanner's connected IPv4 segments (network, mask), from its routing table: the
/// kernel resolves an address there with ARP before its first frame.
pub(super) fn connected_segments() -> Vec<(Ipv4Addr, Ipv4Addr)> {
    read_routes()
        .into_iter()
        .filter(|r| r.gateway.is_none())
        .map(|r| (r.destination, r.mask))
        .collect()
}

fn read_routes() -> Vec<Route> {
    // The kernel's own table, as neighbors.rs reads /proc/net/arp; a missing table
    // (not Linux, no /proc) leaves the routing evidence out.
    std::fs::read_to_string("/proc/net/route")
        .map(|t| parse_proc_route(&t))
        .unwrap_or_default()
}

/// The addresses of the scanner's own interfaces (read, nothing sent).
fn own_addresses() -> Vec<IpAddr> {
    pnet_datalink::interfaces()
        .into_iter()
        .flat_map(|i| i.ips.into_iter().map(|n| n.ip()))
        .collect()
}

/// What the path showed for every host discovery found, and for the routers that
/// answered the hop probes.
pub(super) async fn probe(
    ctx: &Arc<Ctx>,
    discovered: &Discovered,
    warnings: &mut Vec<String>,
) -> HashMap<IpAddr, PathEvidence> {
    let routes = read_routes();
    let mut paths: HashMap<IpAddr, PathEvidence> = HashMap::new();
    for own in own_addresses() {
        if discovered.found.contains_key(&own) {
            paths.entry(own).or_default().scanner = true;
        }
    }
    for r in &routes {
        if let Some(gw) = r.gateway {
            let addr = IpAddr::V4(gw);
            if discovered.found.contains_key(&addr) {
                paths.entry(addr).or_default().route_gateway = true;
            }
        }
    }
    let routed: Vec<IpAddr> = {
        let mut v: Vec<IpAddr> = discovered
            .echoed()
            .filter(|a| match a {
                IpAddr::V4(v4) => route_for(&routes, *v4).is_some_and(|r| r.gateway.is_some()),
                IpAddr::V6(_) => false,
            })
            .collect();
        v.sort();
        v
    };
    if routed.is_empty() || !ctx.plan.use_icmp {
        return paths;
    }
    let pinger = match Pinger::open_limited(1) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            // Without raw sockets discovery has already said so, and what to do.
            if warnings.iter().any(|w| w.contains("CAP_NET_RAW")) {
                tracing::info!("the next-hop probe is unavailable: {e}");
                return paths;
            }
            warnings.push(format!(
                "the next-hop probe is unavailable ({e}); routers are known only from the \
                 scanner's routing table"
            ));
            return paths;
        }
    };
    let mut answers: Vec<(IpAddr, HopAnswer, String)> = Vec::new();
    let work = |ctx: Arc<Ctx>, cleared: crate::scope::Cleared, ()| {
        let pinger = pinger.clone();
        async move {
            let adm = ctx
                .governor
                .admit(cleared, ProbeKind::Icmp, &ctx.cancel)
                .await?;
            let answer = pinger.hop(&adm, 1, adm.timeout(1)).await?;
            let note = match answer {
                HopAnswer::Reply { .. } => format!(
                    "echo request with TTL 1: {} itself replied, so it is an interface of the next-hop router",
                    cleared.addr()
                ),
                HopAnswer::TimeExceeded { from } => format!(
                    "echo request with TTL 1 to {}: {from} answered time exceeded, so it forwards the scanner's packets",
                    cleared.addr()
                ),
            };
            let id = ctx.evidence.record(Transcript {
                host: cleared.addr(),
                port: None,
                protocol: None,
                probe: "icmp-hop",
                sent: b"",
                received: b"",
                secrets: &[],
                note,
                exchange: &[],
            });
            Some((cleared.addr(), answer, id))
        }
    };
    for_each_cleared(
        ctx,
        routed.into_iter().map(|a| (a, ())),
        TASKS,
        work,
        |r: Option<(IpAddr, HopAnswer, String)>| answers.extend(r),
    )
    .await;
    let mut routers: BTreeMap<IpAddr, Vec<(IpAddr, String)>> = BTreeMap::new();
    for (addr, answer, id) in answers {
        match answer {
            HopAnswer::Reply { .. } => {
                let p = paths.entry(addr).or_default();
                p.one_hop = true;
                p.evidence.push(id);
            }
            HopAnswer::TimeExceeded { from } => {
                routers.entry(from).or_default().push((addr, id));
            }
        }
    }
    for (router, via) in routers {
        if !ctx.plan.guard.scope().contains(router) {
            continue;
        }
        let p = paths.entry(router).or_default();
        for (addr, id) in via {
            p.time_exceeded_for.push(addr);
            p.evidence.push(id);
        }
    }
    paths
}

/// Lays what the path showed over a host's observation.
pub(super) fn apply(obs: &mut crate::observation::HostObservation, path: Option<&PathEvidence>) {
    if let Some(p) = path {
        let ttl = obs.path.reply_ttl;
        obs.path = p.clone();
        obs.path.reply_ttl = ttl.or(p.reply_ttl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t000112C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
eth0\t000012C6\t010112C6\t0003\t0\t0\t0\t0000FEFF\t0\t0\t0\n";

    #[test]
    fn the_kernels_route_table_gives_connected_segments_and_gateways() {
        let routes = parse_proc_route(TABLE);
        assert_eq!(routes.len(), 2, "{routes:?}");
        assert_eq!(routes[0].destination, Ipv4Addr::new(198, 18, 1, 0));
        assert_eq!(routes[0].gateway, None);
        assert_eq!(routes[1].gateway, Some(Ipv4Addr::new(198, 18, 1, 1)));
        assert_eq!(routes[1].mask, Ipv4Addr::new(255, 254, 0, 0));
    }

    #[test]
    fn an_address_on_the_own_segment_is_connected_and_one_beyond_is_routed() {
        let routes = parse_proc_route(TABLE);
        let own = route_for(&routes, Ipv4Addr::new(198, 18, 1, 77)).expect("route");
        assert_eq!(own.gateway, None, "the longer prefix wins");
        let far = route_for(&routes, Ipv4Addr::new(198, 18, 2, 1)).expect("route");
        assert_eq!(far.gateway, Some(Ipv4Addr::new(198, 18, 1, 1)));
        assert_eq!(route_for(&routes, Ipv4Addr::new(203, 0, 113, 1)), None);
    }

    #[test]
    fn a_malformed_line_is_skipped() {
        let routes = parse_proc_route("header\neth0 zz 00000000 1 0 0 0 00FFFFFF\n");
        assert!(routes.is_empty());
    }
}
