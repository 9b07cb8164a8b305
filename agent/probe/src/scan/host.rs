//! The port scan of one host: TCP connects and UDP probes, with retries for
//! silence, and a back-off for a host that stops answering mid-scan.
//!
//! Attempts are queued: first every port once, then the ports that stayed
//! silent, each retry with a longer timeout. Retries go only to an address that has
//! shown life (discovery found it, or any port answered): an address silent on every
//! port after its first pass is most likely not there, and its retries are left to the
//! scan's second look ([`Pass::SecondLook`]), which asks it again on the few ports that
//! the ping-silent hosts of this scan answered on. A host that answered freely and
//! then falls silent for [`SILENCE_STREAK`] probes in a row is checked on a port
//! that answered before; if that is silent too, kenshin halves its rate to the
//! host, backs off for 2, 4 and 8 seconds, checking each time, and abandons the
//! host if it never comes back. All of it is noted in the report.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

use super::second_look::Sample;
use super::{interrupted_or, Ctx, Found};
use crate::evidence::{Direction, Segment, Transcript};
use crate::governor::{ProbeKind, TlsAuditScope};
use crate::net::tcp::{self, TcpOutcome};
use crate::net::udp::{self, UdpOutcome};
use crate::observation::{
    DiscoveryMethod, HostObservation, HostScanState, PortObservation, PortState,
};
use crate::ports::Protocol;
use crate::scope::Cleared;
use crate::snmp::{self, SnmpAttempt};

/// Silent probes in a row, after a host has answered freely, that trigger a health check.
const SILENCE_STREAK: u32 = 24;
/// Answers a host must have given before its silence is read as "stopped answering".
const CHATTY: u32 = 4;
/// Pauses before each re-check of a host that stopped answering.
const BACKOFFS: [Duration; 3] = [
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];
/// Local errors (descriptors, ports) tolerated per probe before giving up on it.
const LOCAL_RETRIES: u32 = 3;

#[derive(Debug, Default)]
struct Health {
    answers: u32,
    streak: u32,
    threshold: u32,
    reference: Option<u16>,
}

impl Health {
    fn answered(&mut self, port: u16) {
        self.answers += 1;
        self.streak = 0;
        self.reference = Some(port);
    }

    fn silent(&mut self) {
        self.streak += 1;
    }

    fn suspicious(&self) -> bool {
        self.answers >= CHATTY && self.streak >= self.threshold.max(SILENCE_STREAK)
    }
}

/// Which probes one host's run starts with.
#[derive(Debug, Clone)]
pub(super) enum Pass {
    /// Every port of the plan once, retries for a host that shows life. The outcomes
    /// of the ports the class sweep already asked (see `super::sweep`) are its first
    /// attempts at them.
    First(Vec<(u16, TcpOutcome)>),
    /// An address that said nothing in its first pass, asked again on these ports (its
    /// second attempt); if it answers, the rest of its ports get their second attempt.
    SecondLook(Arc<[u16]>),
}

/// What a host's first pass tells the scan while it runs: the second look is chosen
/// from these, so it need not wait for the slowest identification, nor for hosts that
/// can no longer change its choice.
#[derive(Debug)]
pub(super) enum Told {
    /// A port of the host has answered, so it is up and cannot be one that answers
    /// only ping: the second look's choice need not wait for the rest of its ports (a
    /// hidden device may take long at its class budget). What it has shown so far.
    Settled(IpAddr, Sample),
    /// The host's port scan has ended (sent once, whatever happened).
    PortsDone(PortsDone),
}

/// A host's port scan has ended, before its services are identified.
#[derive(Debug)]
pub(super) struct PortsDone {
    pub address: IpAddr,
    /// Complete, and nothing answered on any port: a candidate for the second look.
    pub lifeless: bool,
    /// What the retry policy reads of the host, if it is up.
    pub sample: Option<Sample>,
}

struct HostRun<'a> {
    ctx: &'a Ctx,
    cleared: Cleared,
    obs: HostObservation,
    tcp: BTreeMap<u16, PortObservation>,
    health: Health,
    /// Discovery heard from the address before its port scan.
    was_up: bool,
    /// Silent ports whose retry waits until the address shows life: (port, attempt
    /// done, local errors).
    deferred: Vec<(u16, u32, u32)>,
    /// Ports whose first attempt has completed, reported to the progress display.
    progressed: u64,
    /// Where a first pass tells how it goes (see [`Told`]); `None` once it told all.
    tell: Option<UnboundedSender<Told>>,
}

pub(super) fn from_discovery(ctx: &Ctx, addr: IpAddr, found: Found) -> HostObservation {
    let tally = ctx.governor.tally(addr);
    HostObservation {
        address: addr,
        hostnames: ctx.plan.hostnames.get(&addr).cloned().unwrap_or_default(),
        mac: found.mac,
        discovered_by: found.methods,
        rtt: found.rtt,
        ports: Vec::new(),
        quiet: Default::default(),
        snmp: None,
        services: Vec::new(),
        scan_state: interrupted_or(ctx, HostScanState::NotPortScanned),
        notes: Vec::new(),
        probes_sent: tally.probes,
        path: crate::observation::PathEvidence {
            reply_ttl: found.reply_ttl,
            ..Default::default()
        },
        reverse_names: Vec::new(),
        frames: tally.frames,
        budget: tally.budget,
    }
}

/// One host's scan: ports, then its services. A first pass tells `tell` when it is
/// settled (at most once) and when its port scan ends (exactly once, whatever happens).
pub(super) async fn scan_host(
    ctx: &Ctx,
    cleared: Cleared,
    prior: Option<Found>,
    pass: Pass,
    tell: Option<UnboundedSender<Told>>,
) -> HostObservation {
    let addr = cleared.addr();
    let was_up = prior.is_some();
    let mut run = HostRun {
        ctx,
        cleared,
        obs: from_discovery(ctx, addr, prior.unwrap_or_default()),
        tcp: BTreeMap::new(),
        health: Health::default(),
        was_up,
        deferred: Vec::new(),
        progressed: 0,
        tell,
    };
    run.obs.scan_state = HostScanState::Complete;
    let second_look = matches!(pass, Pass::SecondLook(_));
    let started = Instant::now();
    match pass {
        Pass::First(swept) => {
            let asked: Vec<u16> = swept.iter().map(|(p, _)| *p).collect();
            let mut retries = VecDeque::new();
            for (port, outcome) in swept {
                // Counted for progress when the sweep asked.
                if !matches!(outcome, TcpOutcome::LocalError(_)) {
                    run.progressed += 1;
                }
                run.record_tcp((port, 0, 0, outcome), &mut retries);
            }
            let first = ctx
                .plan
                .ports
                .tcp
                .iter()
                .filter(|p| !asked.contains(p))
                .map(|&p| (p, 0, 0))
                .chain(retries)
                .collect();
            run.scan_tcp(first).await;
        }
        Pass::SecondLook(look) => {
            // Every port had its first attempt in the first pass: the looked-at ports
            // get their second now, the others wait for a sign of life.
            run.deferred = ctx
                .plan
                .ports
                .tcp
                .iter()
                .filter(|p| !look.contains(p))
                .map(|&p| (p, 0, 0))
                .collect();
            let queue = look.iter().map(|&p| (p, 1, 0)).collect();
            ctx.progress.expect(look.len() as u64);
            run.scan_tcp(queue).await;
            ctx.progress.advance(look.len() as u64);
        }
    }
    ctx.timing.add(&ctx.timing.tcp_us, started);
    if run.obs.scan_state == HostScanState::Complete && (!second_look || run.has_life()) {
        let started = Instant::now();
        run.scan_udp().await;
        // A UDP answer is life too: the TCP retries it unlocks come now.
        if run.has_life() && !run.deferred.is_empty() {
            let retries = std::mem::take(&mut run.deferred)
                .into_iter()
                .map(|(p, a, l)| (p, a + 1, l))
                .collect();
            run.scan_tcp(retries).await;
        }
        ctx.timing.add(&ctx.timing.udp_us, started);
    }
    if let Some(tx) = run.tell.take() {
        let up = run.obs.is_up();
        // The receiver lives as long as the scan; a scan that ended has no use for it.
        let _ = tx.send(Told::PortsDone(PortsDone {
            address: addr,
            lifeless: run.obs.scan_state == HostScanState::Complete && !run.has_life() && !up,
            sample: up.then(|| {
                Sample::from_parts(
                    &run.obs.discovered_by,
                    run.tcp.values().chain(&run.obs.ports),
                    run.obs.quiet,
                )
            }),
        }));
    }
    if run.obs.scan_state == HostScanState::Complete {
        let started = Instant::now();
        run.identify().await;
        ctx.timing.add(&ctx.timing.identify_us, started);
    }
    // The names a certificate is judged against: one reverse lookup per host that
    // serves TLS (from the first byte or after STARTTLS).
    let serves_tls = run
        .obs
        .services
        .iter()
        .any(|s| s.tls || s.tls_audit.is_some());
    if serves_tls && !ctx.cancel.is_cancelled() {
        let started = Instant::now();
        run.obs.reverse_names = super::names::reverse(ctx, cleared).await;
        ctx.timing.add(&ctx.timing.names_us, started);
    }
    // Ports skipped (unreachable, abandoned, interrupted) still count as done for progress.
    if !second_look {
        let planned = ctx.plan.ports.len() as u64;
        ctx.progress.advance(planned.saturating_sub(run.progressed));
    }
    let mut obs = run.finish();
    obs.scan_state = interrupted_or(ctx, obs.scan_state);
    if !was_up && obs.is_up() {
        ctx.progress
            .hosts_up
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    obs
}

impl HostRun<'_> {
    /// Whether at least three in four of the host's TCP ports answered with a reset.
    fn resets_most(&self) -> bool {
        let closed = self
            .tcp
            .values()
            .filter(|p| p.state == PortState::Closed)
            .count();
        closed * 4 >= self.ctx.plan.ports.tcp.len() * 3
    }

    /// A port answered (its observation already recorded): the host is settled from
    /// now on (see [`Told`]).
    fn port_answered(&mut self, port: u16) {
        let first = self.health.answers == 0;
        self.health.answered(port);
        if let (true, Some(tx)) = (first, &self.tell) {
            let sample = Sample::from_parts(
                &self.obs.discovered_by,
                self.tcp.values().chain(&self.obs.ports),
                self.obs.quiet,
            );
            let _ = tx.send(Told::Settled(self.obs.address, sample));
        }
    }

    /// Whether anything has come back from the address: discovery, or any port.
    fn has_life(&self) -> bool {
        self.was_up || self.health.answers > 0 || self.obs.is_up()
    }

    /// Assembles the observation and drops the host's governor state: this host gets
    /// no more probes.
    fn finish(mut self) -> HostObservation {
        // Retries never sent (the address never showed life): filtered after the
        // attempts that were.
        for (port, attempt, _) in std::mem::take(&mut self.deferred) {
            let mut o = self.port_obs(port, Protocol::Tcp, PortState::Filtered, "no-response");
            o.attempts = attempt + 1;
            self.tcp.entry(port).or_insert(o);
        }
        let mut ports: Vec<PortObservation> = self.tcp.into_values().collect();
        ports.append(&mut self.obs.ports);
        ports.sort_by_key(|p| (p.protocol, p.port));
        self.obs.ports = ports;
        self.obs.fold_quiet_ports();
        let tally = self.ctx.governor.forget(self.obs.address);
        self.obs.probes_sent = tally.probes;
        self.obs.frames = tally.frames;
        self.obs.budget = tally.budget;
        self.obs
    }

    fn port_obs(
        &self,
        port: u16,
        protocol: Protocol,
        state: PortState,
        reason: &'static str,
    ) -> PortObservation {
        PortObservation {
            port,
            protocol,
            state,
            reason,
            attempts: 1,
            rtt: None,
            connect_only: self.ctx.plan.catalog.is_connect_only(protocol, port),
            evidence: None,
        }
    }

    /// Runs `queue` (port, attempt, local errors) to the end, with the retries and the
    /// health checks it leads to.
    async fn scan_tcp(&mut self, queue: Vec<(u16, u32, u32)>) {
        let ctx = self.ctx;
        let mut queue: VecDeque<(u16, u32, u32)> = queue.into();
        let mut set: JoinSet<(u16, u32, u32, TcpOutcome)> = JoinSet::new();
        loop {
            if ctx.cancel.is_cancelled() {
                set.abort_all();
                return;
            }
            while let Some(done) = set.try_join_next() {
                if let Ok(r) = done {
                    self.on_tcp(r, &mut queue);
                }
            }
            if self.obs.scan_state != HostScanState::Complete {
                set.abort_all();
                return;
            }
            if self.health.suspicious() {
                while let Some(done) = set.join_next().await {
                    if let Ok(r) = done {
                        self.on_tcp(r, &mut queue);
                    }
                }
                if !self.health.suspicious() {
                    continue;
                }
                if !self.recover().await {
                    return;
                }
                continue;
            }
            if let Some((port, attempt, local)) = queue.pop_front() {
                let Some(adm) = ctx
                    .governor
                    .admit(self.cleared, ProbeKind::Tcp, &ctx.cancel)
                    .await
                else {
                    continue; // cancelled: the loop top returns
                };
                set.spawn(async move {
                    let outcome = tcp::connect(&adm, port, adm.timeout(attempt)).await;
                    if let TcpOutcome::Open { rtt } | TcpOutcome::Closed { rtt } = outcome {
                        adm.observe_rtt(rtt);
                    }
                    (port, attempt, local, outcome)
                });
            } else if let Some(done) = set.join_next().await {
                if let Ok(r) = done {
                    self.on_tcp(r, &mut queue);
                }
            } else if self.has_life() && !self.deferred.is_empty() {
                // Life came after some ports had gone silent: their retries now.
                queue.extend(
                    std::mem::take(&mut self.deferred)
                        .into_iter()
                        .map(|(p, a, l)| (p, a + 1, l)),
                );
            } else {
                return;
            }
        }
    }

    /// A probe of this host's scan came back: counted for progress, then recorded.
    fn on_tcp(&mut self, r: (u16, u32, u32, TcpOutcome), queue: &mut VecDeque<(u16, u32, u32)>) {
        if r.1 == 0 && !matches!(r.3, TcpOutcome::LocalError(_)) {
            self.progressed += 1;
            self.ctx.progress.step();
        }
        self.record_tcp(r, queue);
    }

    /// Records what one TCP probe found and queues what it leads to (a retry, or a
    /// retry deferred until the address shows life).
    fn record_tcp(
        &mut self,
        (port, attempt, local, outcome): (u16, u32, u32, TcpOutcome),
        queue: &mut VecDeque<(u16, u32, u32)>,
    ) {
        let ctx = self.ctx;
        let attempts = attempt + 1;
        match outcome {
            TcpOutcome::Open { rtt } => {
                ctx.governor.learn_from_open_port(self.obs.address, port);
                self.obs.discovered_by.insert(DiscoveryMethod::Tcp);
                self.obs.rtt.get_or_insert(rtt);
                ctx.progress
                    .open_ports
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let evidence = ctx.evidence.record(Transcript {
                    host: self.obs.address,
                    port: Some(port),
                    protocol: Some(Protocol::Tcp),
                    probe: "tcp-connect",
                    sent: &[],
                    received: &[],
                    secrets: &[],
                    note: format!(
                        "TCP handshake completed in {:.2} ms on attempt {attempts}; closed at once with RST, no payload sent",
                        rtt.as_secs_f64() * 1000.0
                    ),
                    exchange: &[],
                });
                let mut o = self.port_obs(port, Protocol::Tcp, PortState::Open, "syn-ack");
                o.attempts = attempts;
                o.rtt = Some(rtt);
                o.evidence = Some(evidence);
                self.tcp.insert(port, o);
                self.port_answered(port);
            }
            TcpOutcome::Closed { rtt } => {
                self.obs.discovered_by.insert(DiscoveryMethod::Tcp);
                self.obs.rtt.get_or_insert(rtt);
                let mut o = self.port_obs(port, Protocol::Tcp, PortState::Closed, "reset");
                o.attempts = attempts;
                o.rtt = Some(rtt);
                self.tcp.insert(port, o);
                self.port_answered(port);
            }
            TcpOutcome::NoAnswer => {
                self.health.silent();
                // A host that resets most of its ports filters few: a port silent twice
                // there is more likely lost twice than filtered, and one more attempt
                // costs little (with 1 % loss, two attempts still miss 1 open port in
                // 10,000; three, 1 in a million).
                let extra =
                    ctx.plan.retries > 0 && attempt == ctx.plan.retries && self.resets_most();
                if (attempt < ctx.plan.retries || extra) && self.has_life() {
                    queue.push_back((port, attempt + 1, local));
                } else if attempt < ctx.plan.retries {
                    self.deferred.push((port, attempt, local));
                } else {
                    let mut o =
                        self.port_obs(port, Protocol::Tcp, PortState::Filtered, "no-response");
                    o.attempts = attempts;
                    self.tcp.insert(port, o);
                }
            }
            TcpOutcome::Unreachable { .. } => {
                if self.health.answers == 0 && attempt < ctx.plan.retries {
                    // Unreachable can be one failed ARP resolution on a local segment as
                    // well as a router's verdict: ask once more before believing it.
                    queue.push_back((port, attempt + 1, local));
                } else if self.health.answers == 0 {
                    // Said twice: the host is not there, and the other ports would say
                    // the same.
                    self.obs.scan_state = HostScanState::Unreachable;
                    queue.clear();
                } else {
                    self.health.silent();
                    let mut o = self.port_obs(
                        port,
                        Protocol::Tcp,
                        PortState::Unreachable,
                        "host-unreachable",
                    );
                    o.attempts = attempts;
                    self.tcp.insert(port, o);
                }
            }
            TcpOutcome::LocalError(e) => {
                if local < LOCAL_RETRIES {
                    queue.push_back((port, attempt, local + 1));
                } else {
                    self.obs
                        .notes
                        .push(format!("tcp/{port} not scanned: local error: {e}"));
                }
            }
        }
    }

    /// Checks a port that answered before; backs off while the host stays silent.
    /// Returns false if the host was abandoned or the scan cancelled.
    async fn recover(&mut self) -> bool {
        let ctx = self.ctx;
        let Some(reference) = self.health.reference else {
            return true;
        };
        let sent = ctx.governor.host(self.obs.address).sent();
        if self.check(reference).await {
            // The silence was a filtered range, not a host in trouble: carry on, and
            // demand a longer silence before checking again.
            self.health.streak = 0;
            self.health.threshold = self.health.threshold.max(SILENCE_STREAK) * 2;
            return true;
        }
        ctx.governor.slow_host(self.obs.address);
        tracing::info!(host = %self.obs.address, sent, "host went silent; backing off");
        let mut waited = Vec::new();
        for pause in BACKOFFS {
            waited.push(format!("{} s", pause.as_secs()));
            tokio::select! {
                _ = ctx.cancel.cancelled() => return false,
                _ = tokio::time::sleep(pause) => {}
            }
            if self.check(reference).await {
                self.obs.notes.push(format!(
                    "stopped answering after {sent} probes (tcp/{reference} went silent); \
                     rate halved and backed off {}; it answered again and the scan went on",
                    waited.join(" + ")
                ));
                self.health.streak = 0;
                return true;
            }
        }
        self.obs.notes.push(format!(
            "stopped answering after {sent} probes (tcp/{reference} went silent); rate halved and \
             backed off {} without an answer; the remaining ports of this host were not scanned",
            waited.join(" + ")
        ));
        tracing::warn!(host = %self.obs.address, sent, "host stopped answering; abandoned after backing off");
        self.obs.scan_state = HostScanState::Abandoned;
        false
    }

    async fn check(&mut self, port: u16) -> bool {
        let ctx = self.ctx;
        let Some(adm) = ctx
            .governor
            .admit(self.cleared, ProbeKind::Tcp, &ctx.cancel)
            .await
        else {
            return false;
        };
        let answered = matches!(
            tcp::connect(&adm, port, adm.timeout(2)).await,
            TcpOutcome::Open { .. } | TcpOutcome::Closed { .. }
        );
        if answered {
            self.health.answered(port);
        }
        answered
    }

    /// Identifies the service on each open TCP port that allows a payload, one port
    /// at a time: identification is the chattiest thing kenshin does to a host.
    async fn identify(&mut self) {
        let ctx = self.ctx;
        let Some(clients) = &ctx.clients else {
            return;
        };
        let budget = ctx.governor.host(self.obs.address).budget();
        let class_connect_only = |port: u16| {
            budget
                .as_ref()
                .is_some_and(|b| b.connect_only.contains(&port))
        };
        for p in self.tcp.values_mut() {
            if p.state == PortState::Open && !p.connect_only && class_connect_only(p.port) {
                p.connect_only = true;
            }
        }
        let ports: Vec<u16> = self
            .tcp
            .values()
            .filter(|p| p.state == PortState::Open && !p.connect_only)
            .map(|p| p.port)
            .collect();
        // A class whose budget limits the TLS audit gets versions and the certificate
        // only, unless the operator opted in to the full audit.
        let versions_only = !ctx.plan.classes.full_tls_audit
            && budget
                .as_ref()
                .is_some_and(|b| b.tls_audit == TlsAuditScope::VersionsAndCertificate);
        ctx.progress.expect(ports.len() as u64);
        let prober = crate::service::Prober {
            governor: &ctx.governor,
            cancel: &ctx.cancel,
            evidence: &ctx.evidence,
            catalog: &ctx.plan.catalog,
            clients,
        };
        for port in ports {
            if ctx.cancel.is_cancelled() {
                return;
            }
            // Boxed: the identification future (TLS, HTTP, every dialog) is large, and
            // unboxed it would be part of every host task's state, allocated up front for
            // each of the thousands of hosts in flight on a large scope.
            let mut obs = Box::pin(prober.identify(self.cleared, port)).await;
            if let Some(mut settings) = ctx.plan.tls_audit {
                settings.versions_only |= versions_only;
                if !ctx.cancel.is_cancelled() {
                    let started = Instant::now();
                    let name = self
                        .obs
                        .hostnames
                        .iter()
                        .find(|h| h.parse::<IpAddr>().is_err())
                        .cloned();
                    prober
                        .audit_tls(self.cleared, &mut obs, name, settings)
                        .await;
                    ctx.timing.add(&ctx.timing.tls_us, started);
                }
            }
            self.obs.services.push(obs);
            ctx.progress.step();
        }
    }

    async fn scan_udp(&mut self) {
        let ctx = self.ctx;
        for &port in &ctx.plan.ports.udp {
            let is_snmp = port == 161;
            if is_snmp && ctx.plan.snmp_community.is_none() {
                self.obs
                    .notes
                    .push("udp/161 not probed: the SNMP check is switched off".into());
                continue;
            }
            let mut result = None;
            let mut tried = 0;
            for attempt in 0..=ctx.plan.retries {
                // Like TCP, a second attempt only for an address that has shown life.
                if attempt > 0 && !self.has_life() {
                    break;
                }
                tried = attempt + 1;
                let Some(adm) = ctx
                    .governor
                    .admit(self.cleared, ProbeKind::Udp, &ctx.cancel)
                    .await
                else {
                    return;
                };
                let timeout = adm.timeout(attempt);
                let attempts = attempt + 1;
                let outcome = match (is_snmp, &ctx.plan.snmp_community) {
                    (true, Some(community)) => {
                        match snmp::probe(&adm, port, community, attempt, timeout, &ctx.evidence)
                            .await
                        {
                            SnmpAttempt::Answered(snmp) => {
                                let mut o = self.port_obs(
                                    port,
                                    Protocol::Udp,
                                    PortState::Open,
                                    "udp-response",
                                );
                                o.attempts = attempts;
                                o.evidence = Some(snmp.evidence.clone());
                                self.obs.snmp = Some(*snmp);
                                Some(o)
                            }
                            SnmpAttempt::Closed { .. } => Some(self.port_obs(
                                port,
                                Protocol::Udp,
                                PortState::Closed,
                                "port-unreachable",
                            )),
                            SnmpAttempt::Unreachable => Some(self.port_obs(
                                port,
                                Protocol::Udp,
                                PortState::Unreachable,
                                "host-unreachable",
                            )),
                            SnmpAttempt::NoAnswer | SnmpAttempt::LocalError(_) => None,
                        }
                    }
                    _ => self.empty_datagram(&adm, port, timeout, attempts).await,
                };
                if outcome.is_some() {
                    result = outcome;
                    break;
                }
            }
            let o = result.unwrap_or_else(|| {
                let mut o =
                    self.port_obs(port, Protocol::Udp, PortState::OpenFiltered, "no-response");
                o.attempts = tried;
                o
            });
            if matches!(o.state, PortState::Open | PortState::Closed) {
                self.obs.discovered_by.insert(DiscoveryMethod::Udp);
            }
            if o.state == PortState::Open {
                ctx.progress
                    .open_ports
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            self.obs.ports.push(o);
            self.progressed += 1;
            ctx.progress.step();
        }
    }

    /// A zero-length datagram: well-formed, carries nothing, and tells open from
    /// closed only when the service or the host's stack answers.
    async fn empty_datagram(
        &self,
        adm: &crate::governor::Admission,
        port: u16,
        timeout: Duration,
        attempts: u32,
    ) -> Option<PortObservation> {
        match udp::exchange(adm, port, &[], timeout, |_| true).await {
            UdpOutcome::Reply { rtt, bytes } => {
                adm.observe_rtt(rtt);
                let evidence = self.ctx.evidence.record(Transcript {
                    host: self.obs.address,
                    port: Some(port),
                    protocol: Some(Protocol::Udp),
                    probe: "udp-empty",
                    sent: &[],
                    received: &bytes,
                    secrets: &[],
                    note: format!("empty datagram answered with {} bytes", bytes.len()),
                    exchange: &[
                        Segment {
                            direction: Direction::Sent,
                            at_ms: 0.0,
                            bytes: 0,
                        },
                        Segment {
                            direction: Direction::Received,
                            at_ms: rtt.as_secs_f64() * 1000.0,
                            bytes: bytes.len(),
                        },
                    ],
                });
                let mut o = self.port_obs(port, Protocol::Udp, PortState::Open, "udp-response");
                o.attempts = attempts;
                o.rtt = Some(rtt);
                o.evidence = Some(evidence);
                Some(o)
            }
            UdpOutcome::Closed { .. } => {
                Some(self.port_obs(port, Protocol::Udp, PortState::Closed, "port-unreachable"))
            }
            UdpOutcome::Unreachable { .. } => Some(self.port_obs(
                port,
                Protocol::Udp,
                PortState::Unreachable,
                "host-unreachable",
            )),
            UdpOutcome::NoAnswer | UdpOutcome::LocalError(_) => None,
        }
    }
}
