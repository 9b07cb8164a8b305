//! The class sweep: before the first pass, every address to be port-scanned is asked
//! the ports that tell a device class (`rules/safety.toml` `[[port]]`: DICOM, HL7, the
//! printer ports), so that a host's class budget is known before its long work starts.
//!
//! Without it a medical device's class was learned only when its own first pass reached
//! tcp/104, wherever in the pass its address fell: one found late then finished its ports
//! and its identification alone, at its class cap of 10 frames a second, while the scan's
//! rate idled (the bench lab's full scan ended on a 26 s tail of one hidden PACS; a
//! ping-answering modality scanned last left the port scan a 5 s tail). With the sweep
//! the first pass starts with the hosts a budget slows (see `pass_order`), their slow
//! work runs beside everyone else's, and each of them is held to its budget from its
//! first port-scan probe, not from whenever tcp/104 came up.
//!
//! The sweep's probes are the first attempts at those ports, not extra ones: a host's
//! first pass takes their outcomes and does not ask those ports again (see
//! `host::Pass::First`). An address's ports are asked one after another, each at the
//! governor's admission like any probe, many addresses at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::{for_each_cleared, Ctx, Found};
use crate::governor::ProbeKind;
use crate::net::tcp::{self, TcpOutcome};
use crate::observation::DiscoveryMethod;
use crate::scope::Cleared;

/// Addresses swept at once: each mostly waits out the timeouts of ports nobody answers,
/// so this bounds memory, not speed (the governor paces the probes).
const TASKS: usize = 512;

/// What the sweep heard of one address's ports: outcomes other than silence.
pub(super) type Heard = Vec<(u16, TcpOutcome)>;

/// What the sweep heard, by address.
#[derive(Debug, Default)]
pub(super) struct Swept {
    ports: Arc<[u16]>,
    /// Every swept address: how many of `ports` it was asked (all, unless a router
    /// said it is not there), and the outcomes that were not silence (an answer,
    /// unreachable, a local failure); an asked port absent here went unanswered.
    heard: HashMap<IpAddr, (usize, Heard)>,
}

impl Swept {
    /// The outcome of every port the sweep asked `addr`, silent ones as `NoAnswer`;
    /// empty if the address was not swept (no class port in the list, or cancelled).
    pub(super) fn take(&mut self, addr: IpAddr) -> Vec<(u16, TcpOutcome)> {
        let Some((asked, mut heard)) = self.heard.remove(&addr) else {
            return Vec::new();
        };
        for &port in self.ports.iter().take(asked) {
            if !heard.iter().any(|(p, _)| *p == port) {
                heard.push((port, TcpOutcome::NoAnswer));
            }
        }
        heard
    }
}

/// The ports of the plan that tell a class, in the plan's order.
pub(super) fn telling_ports(ctx: &Ctx) -> Vec<u16> {
    let rules = ctx.governor.rules();
    ctx.plan
        .ports
        .tcp
        .iter()
        .copied()
        .filter(|&p| rules.class_of_port(p).is_some())
        .collect()
}

/// Asks every address of `addrs` the class-telling ports once. A port that answers
/// open teaches its class to the governor at once; an address that answers at all is
/// added to `found` (by TCP) with its first round trip.
pub(super) async fn sweep(
    ctx: &Arc<Ctx>,
    addrs: &[IpAddr],
    found: &mut HashMap<IpAddr, Found>,
) -> Swept {
    let ports: Arc<[u16]> = telling_ports(ctx).into();
    let mut swept = Swept {
        ports: ports.clone(),
        heard: HashMap::new(),
    };
    if ports.is_empty() {
        return swept;
    }
    let work = |ctx: Arc<Ctx>, cleared: Cleared, ports: Arc<[u16]>| async move {
        let heard = sweep_one(&ctx, cleared, &ports).await;
        (cleared.addr(), heard)
    };
    let items = addrs.iter().map(|&a| (a, ports.clone()));
    let mut newly_up = 0u64;
    for_each_cleared(ctx, items, TASKS, work, |(addr, heard)| {
        let Some(heard) = heard else { return };
        let rtt = heard.1.iter().find_map(|(_, o)| match o {
            TcpOutcome::Open { rtt } | TcpOutcome::Closed { rtt } => Some(*rtt),
            _ => None,
        });
        if let Some(rtt) = rtt {
            let f = found.entry(addr).or_insert_with(|| {
                newly_up += 1;
                Found::default()
            });
            f.methods.insert(DiscoveryMethod::Tcp);
            f.rtt.get_or_insert(rtt);
        }
        swept.heard.insert(addr, heard);
    })
    .await;
    ctx.progress
        .hosts_up
        .fetch_add(newly_up, std::sync::atomic::Ordering::Relaxed);
    swept
}

/// The sweep of one address: how many ports it was asked and what was not silence;
/// `None` if the scan was cancelled before it ended.
async fn sweep_one(ctx: &Ctx, cleared: Cleared, ports: &[u16]) -> Option<(usize, Heard)> {
    let mut heard = Vec::new();
    let mut asked = 0;
    for &port in ports {
        asked += 1;
        let adm = ctx
            .governor
            .admit(cleared, ProbeKind::Tcp, &ctx.cancel)
            .await?;
        let outcome = tcp::connect(&adm, port, adm.timeout(0)).await;
        match &outcome {
            TcpOutcome::Open { rtt } => {
                adm.observe_rtt(*rtt);
                ctx.governor.learn_from_open_port(cleared.addr(), port);
            }
            TcpOutcome::Closed { rtt } => adm.observe_rtt(*rtt),
            TcpOutcome::NoAnswer => {}
            TcpOutcome::Unreachable { .. } | TcpOutcome::LocalError(_) => {}
        }
        if !matches!(outcome, TcpOutcome::LocalError(_)) {
            ctx.progress.step();
        }
        let unreachable = matches!(outcome, TcpOutcome::Unreachable { .. });
        if !matches!(outcome, TcpOutcome::NoAnswer) {
            heard.push((port, outcome));
        }
        // A router said the host is not there: its first pass asks once more before
        // believing it, and the other class ports would hear the same.
        if unreachable {
            break;
        }
    }
    Some((asked, heard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn swept(heard: Vec<(IpAddr, usize, Heard)>) -> Swept {
        Swept {
            ports: vec![104, 515, 9100].into(),
            heard: heard.into_iter().map(|(a, n, h)| (a, (n, h))).collect(),
        }
    }

    fn addr(last: u8) -> IpAddr {
        IpAddr::from([198, 18, 3, last])
    }

    #[test]
    fn every_port_asked_comes_back_with_silence_where_nothing_answered() {
        let rtt = Duration::from_millis(2);
        let mut s = swept(vec![(addr(1), 3, vec![(515, TcpOutcome::Open { rtt })])]);
        let mut got = s.take(addr(1));
        got.sort_by_key(|(p, _)| *p);
        assert_eq!(
            got,
            vec![
                (104, TcpOutcome::NoAnswer),
                (515, TcpOutcome::Open { rtt }),
                (9100, TcpOutcome::NoAnswer),
            ]
        );
        assert!(s.take(addr(1)).is_empty(), "taken once");
    }

    #[test]
    fn ports_never_asked_are_left_to_the_first_pass() {
        let rtt = Duration::from_millis(2);
        // A router answered unreachable on the first port: the others were not asked.
        let mut s = swept(vec![(
            addr(2),
            1,
            vec![(104, TcpOutcome::Unreachable { rtt })],
        )]);
        assert_eq!(
            s.take(addr(2)),
            vec![(104, TcpOutcome::Unreachable { rtt })]
        );
        // An address the sweep never reached (cancelled, or no class port in the list).
        assert!(s.take(addr(3)).is_empty());
    }
}
