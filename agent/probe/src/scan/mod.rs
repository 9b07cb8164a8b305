//! The scan: discovery, the decision to gate on it or not, and port scanning.
//!
//! ```text
//! scope ──▶ discovery (ARP + ICMP) ──▶ decide ──▶ TCP ping (gated only) ──▶ per-host port scan
//! ```
//!
//! A host that drops ICMP and answers on one uncommon port must still be
//! found. Discovery cannot promise that, so kenshin port-scans every address
//! in scope ("direct") whenever that fits the time budget at the safety
//! limits, and gates on discovery (ARP, ICMP, then a TCP ping on a few common
//! ports) only when it does not. The report says which was done and why.

mod discovery;
pub mod hops;
mod host;
mod names;
pub mod second_look;
mod sweep;
mod timing;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::evidence::EvidenceLog;
use crate::governor::{ClassHint, ClassHints, Counters, Governor, SafetyRules, SafetySettings};
use crate::neighbors;
use crate::observation::{
    DiscoveryDecision, DiscoveryMethod, HostObservation, HostScanState, RetryPolicy, ScanMode,
    ScanOutcome,
};
use crate::ports::{PortCatalog, PortList};
use crate::scope::{Cleared, ScopeGuard};

pub use discovery::Found;

/// Whether to port-scan every address or only those discovery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryMode {
    /// Direct when a direct scan fits the time budget, gated otherwise.
    Auto,
    /// Port-scan only hosts that answered ARP, ICMP or a TCP ping.
    Gate,
    /// Port-scan every address in scope.
    Direct,
}

/// Everything a scan needs to know before it starts.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    pub guard: ScopeGuard,
    /// Target hostnames by the addresses they resolved to.
    pub hostnames: HashMap<IpAddr, Vec<String>>,
    pub ports: PortList,
    pub catalog: Arc<PortCatalog>,
    pub safety: SafetySettings,
    /// Extra attempts for a probe that got no answer.
    pub retries: u32,
    pub discovery: DiscoveryMode,
    /// Longest a direct scan may take before `Auto` gates on discovery.
    pub time_budget: Duration,
    /// Community for the SNMP read; `None` switches the SNMP probe off.
    pub snmp_community: Option<String>,
    pub use_icmp: bool,
    pub use_arp: bool,
    /// Identify the service on every open TCP port (see [`crate::service`]).
    pub identify: bool,
    /// Audit TLS on every port identification found speaking it; `None` switches it off.
    pub tls_audit: Option<crate::service::AuditSettings>,
    /// Hosts port-scanned at once.
    pub host_parallelism: usize,
    /// Class budgets and the classes known before the scan.
    pub classes: ClassPlan,
}

/// Looks up the class a MAC address's vendor tells (the assess crate's vendor rules
/// over the IEEE registry, handed in by the engine).
#[derive(Clone)]
pub struct MacClasses(pub Arc<dyn Fn([u8; 6]) -> Option<ClassHint> + Send + Sync>);

impl std::fmt::Debug for MacClasses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacClasses")
    }
}

/// What the governor needs to give each host its class budget.
#[derive(Debug, Clone)]
pub struct ClassPlan {
    /// `rules/safety.toml`.
    pub rules: Arc<SafetyRules>,
    /// Classes known before the scan: the ledger's kind column, listening.
    pub hints: Arc<ClassHints>,
    /// The class of a MAC vendor, learned once discovery has the MAC.
    pub by_mac: Option<MacClasses>,
    /// The operator opted in to the full TLS audit on every class.
    pub full_tls_audit: bool,
}

impl ClassPlan {
    /// The given budgets, with nothing known of any host yet.
    pub fn new(rules: Arc<SafetyRules>) -> Self {
        Self {
            rules,
            hints: Arc::default(),
            by_mac: None,
            full_tls_audit: false,
        }
    }
}

impl ScanPlan {
    /// Hosts to scan at once so that the per-host cap does not starve the global rate.
    ///
    /// Two things limit one host's throughput: its rate cap, and its in-flight cap while
    /// probes to silent ports wait out their timeout. Enough hosts run at once to fill the
    /// global rate under either limit, assuming half-second timeouts.
    pub fn default_parallelism(safety: &SafetySettings) -> usize {
        let by_rate = safety.rate_pps.div_ceil(safety.host_rate_pps.max(1)) * 4;
        let by_timeouts = safety.rate_pps / (2 * safety.host_concurrency.max(1));
        by_rate.max(by_timeouts).clamp(32, 2048) as usize
    }
}

/// What the scan is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    Starting = 0,
    Discovery = 1,
    TcpPing = 2,
    PortScan = 3,
    Finishing = 4,
    SecondLook = 5,
}

impl Phase {
    /// A short label for progress displays.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Discovery => "discovery",
            Phase::TcpPing => "tcp ping",
            Phase::PortScan => "port scan",
            Phase::SecondLook => "second look",
            Phase::Finishing => "finishing",
        }
    }
}

/// Live counters a front end may poll; the scan never prints.
#[derive(Debug, Default)]
pub struct Progress {
    phase: AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
    hosts_up: AtomicU64,
    open_ports: AtomicU64,
    counters: Arc<Counters>,
}

impl Progress {
    fn start_phase(&self, phase: Phase, total: u64) {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    fn step(&self) {
        self.advance(1);
    }

    /// Adds work found along the way (an open port to identify) to the phase's total.
    fn expect(&self, units: u64) {
        self.total.fetch_add(units, Ordering::Relaxed);
    }

    fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::Relaxed);
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            1 => Phase::Discovery,
            2 => Phase::TcpPing,
            3 => Phase::PortScan,
            4 => Phase::Finishing,
            5 => Phase::SecondLook,
            _ => Phase::Starting,
        }
    }

    /// (units done, units in this phase): addresses in discovery and TCP ping, planned
    /// first-attempt probes in the port scan.
    pub fn position(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    /// Hosts found up so far.
    pub fn hosts_up(&self) -> u64 {
        self.hosts_up.load(Ordering::Relaxed)
    }

    /// Open ports found so far.
    pub fn open_ports(&self) -> u64 {
        self.open_ports.load(Ordering::Relaxed)
    }

    /// Probes sent so far.
    pub fn probes(&self) -> u64 {
        self.counters.total()
    }
}

/// State shared by every task of one scan.
#[derive(Debug)]
struct Ctx {
    plan: ScanPlan,
    /// TLS and HTTP clients for identification (`None` when it is off).
    clients: Option<crate::service::Clients>,
    governor: Governor,
    evidence: EvidenceLog,
    cancel: CancellationToken,
    progress: Arc<Progress>,
    /// Busy time of the hosts' stages, summed.
    timing: timing::HostTime,
}

/// Works out whether every address can be port-scanned within the time budget.
pub fn decide(plan: &ScanPlan, addresses: u128) -> DiscoveryDecision {
    let per_address = plan.ports.len() as u128 * u128::from(plan.retries + 1);
    let direct_probes = u64::try_from(addresses.saturating_mul(per_address)).unwrap_or(u64::MAX);
    let parallel = addresses.min(plan.host_parallelism as u128) as f64;
    let rate = f64::from(plan.safety.rate_pps).min(f64::from(plan.safety.host_rate_pps) * parallel);
    let direct_seconds = direct_probes as f64 / rate.max(1.0);
    let budget = plan.time_budget.as_secs_f64();
    let (mode, reason) = match plan.discovery {
        DiscoveryMode::Direct => (
            ScanMode::Direct,
            "every address port-scanned, as requested".to_owned(),
        ),
        DiscoveryMode::Gate => (
            ScanMode::Gated,
            "only hosts that answered ARP, ICMP or a TCP ping were port-scanned, as requested".to_owned(),
        ),
        DiscoveryMode::Auto if direct_seconds <= budget => (
            ScanMode::Direct,
            format!(
                "scanning every address needs at most {direct_probes} probes, {direct_seconds:.0} s at the rate caps, \
                 within the {budget:.0} s budget: hosts that ignore ICMP and ARP are still found"
            ),
        ),
        DiscoveryMode::Auto => (
            ScanMode::Gated,
            format!(
                "scanning every address would need {direct_probes} probes, {direct_seconds:.0} s at the rate caps, \
                 over the {budget:.0} s budget: only hosts that answered ARP, ICMP or a TCP ping on \
                 common ports were port-scanned"
            ),
        ),
    };
    DiscoveryDecision {
        mode,
        reason,
        direct_probes,
        direct_seconds,
    }
}

/// Runs a scan to completion or until `cancel` fires; a cancelled scan returns what
/// it had, marked incomplete.
pub async fn run(
    plan: ScanPlan,
    cancel: CancellationToken,
    progress: Arc<Progress>,
) -> ScanOutcome {
    let started_at = OffsetDateTime::now_utc();
    let addresses = plan.guard.scope().len();
    let mut decision = decide(&plan, addresses);
    let clients = if plan.identify {
        match crate::service::Clients::new(&format!(
            "kenshin/{} (security inspection)",
            env!("CARGO_PKG_VERSION")
        )) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("service identification is off: {e}");
                None
            }
        }
    } else {
        None
    };
    let ctx = Arc::new(Ctx {
        clients,
        governor: Governor::with_classes(
            plan.safety,
            progress.counters.clone(),
            plan.classes.rules.clone(),
            plan.classes.hints.clone(),
        ),
        plan,
        evidence: EvidenceLog::default(),
        cancel,
        progress,
        timing: timing::HostTime::default(),
    });
    let mut phases = timing::Phases::start();
    let mut warnings = Vec::new();

    tracing::info!(
        addresses,
        mode = decision.mode.as_str(),
        "{}",
        decision.reason
    );

    // The kernel's own ARP requests before its first frames to on-link hosts are
    // frames on the wire too: the governor charges them.
    ctx.governor.set_on_link(hops::connected_segments());

    // 1. Discovery: ARP and ICMP over every address.
    let discovered =
        discovery::discover(&ctx, &mut warnings, decision.mode != ScanMode::Direct).await;
    phases.mark("discovery");
    // 1b. The routers next to the scanner: its routing table and one TTL-limited echo
    //     to each host beyond its connected segments that answered ICMP. They run beside
    //     the port scan (their answers are read only when the hosts are assembled), so
    //     waiting for the echoes does not leave the rate idle.
    let hops_task = {
        let (ctx, discovered) = (ctx.clone(), discovered.clone());
        tokio::spawn(async move {
            let mut warnings = Vec::new();
            let paths = hops::probe(&ctx, &discovered, &mut warnings).await;
            (paths, warnings)
        })
    };
    let mut found = discovered.found;
    // The MAC vendor tells some classes before the first port is probed.
    if let Some(by_mac) = &ctx.plan.classes.by_mac {
        for (addr, f) in &found {
            if let Some(hint) = f.mac.and_then(|m| (by_mac.0)(m)) {
                ctx.governor.learn_class(*addr, &hint);
            }
        }
    }
    tracing::info!(
        up = found.len(),
        arp_covered = discovered.arp_covered.len(),
        probes = ctx.governor.counters().total(),
        "discovery done"
    );

    // 2. Which addresses get a port scan. An address on a connected segment that never
    //    answered ARP cannot be reached by any other protocol either (the kernel needs its
    //    MAC address first), so neither mode sends it anything more.
    let absent: HashSet<IpAddr> = discovered
        .arp_covered
        .iter()
        .filter(|a| !found.contains_key(a))
        .copied()
        .collect();
    if !absent.is_empty() {
        decision.reason.push_str(&format!(
            "; {} addresses on directly connected segments did not answer ARP \
             and were not probed further (without an ARP answer nothing can reach them)",
            absent.len()
        ));
    }
    let scan_list: Vec<IpAddr> = if decision.mode == ScanMode::Direct {
        ctx.plan
            .guard
            .scope()
            .addresses()
            .filter(|a| !absent.contains(a))
            .collect()
    } else {
        let pinged = discovery::tcp_ping(&ctx, &found, &absent).await;
        phases.mark("tcp ping");
        for (addr, f) in pinged {
            found.insert(addr, f);
        }
        // Silent addresses get nothing more in a gated scan.
        ctx.governor.retain(|a| found.contains_key(a));
        let mut up: Vec<IpAddr> = found.keys().copied().collect();
        up.sort();
        up
    };

    // 3. Port scan: first the class sweep (every address asked the ports that tell a
    //    device class, their first attempts), so the first pass can start with the hosts
    //    a class budget slows; then every port of every address, a bounded number of
    //    hosts at a time.
    tracing::info!(
        hosts = scan_list.len(),
        parallel = ctx.plan.host_parallelism,
        "port scan starts"
    );
    ctx.progress.start_phase(
        Phase::PortScan,
        scan_list.len() as u64 * ctx.plan.ports.len() as u64,
    );
    let swept = sweep::sweep(&ctx, &scan_list, &mut found).await;
    phases.mark("class sweep");
    let scan_list = first_pass_order(&ctx, scan_list, &found);
    //    Addresses that said nothing get their second look (see `second_look`) as soon
    //    as every address has started its first pass, so the look fills the rate that
    //    the last, slowest hosts leave idle.
    let (mut hosts, retry) = port_scan(&ctx, scan_list, swept, &mut found, &mut phases).await;
    phases.mark("second look");

    // 4. Addresses found by discovery but never port-scanned (gated scan of a silent host,
    //    or an interrupted scan) are still hosts.
    ctx.progress.start_phase(Phase::Finishing, 0);
    let paths = match hops_task.await {
        Ok((paths, mut w)) => {
            warnings.append(&mut w);
            paths
        }
        Err(e) => {
            warnings.push(format!("the next-hop probe failed ({e}); routers are known only from the scanner's routing table"));
            HashMap::new()
        }
    };
    let scanned: BTreeSet<IpAddr> = hosts.iter().map(|h| h.address).collect();
    for (addr, f) in found {
        if !scanned.contains(&addr) {
            hosts.push(host::from_discovery(&ctx, addr, f));
        }
    }
    hosts.retain(HostObservation::is_up);
    for h in &mut hosts {
        hops::apply(h, paths.get(&h.address));
    }
    fill_macs(&mut hosts);
    hosts.sort_by_key(|h| h.address);

    phases.mark("finishing");
    let complete = !ctx.cancel.is_cancelled();
    let finished_at = OffsetDateTime::now_utc();
    let c = ctx.governor.counters();
    ScanOutcome {
        started_at,
        finished_at,
        complete,
        addresses,
        hosts,
        discovery: decision,
        warnings,
        probes_icmp: c.icmp.load(Ordering::Relaxed),
        probes_arp: c.arp.load(Ordering::Relaxed),
        probes_tcp: c.tcp.load(Ordering::Relaxed),
        probes_udp: c.udp.load(Ordering::Relaxed),
        frames: ctx.governor.frame_stats(),
        evidence: ctx.evidence.take_records(),
        timing: phases.finish(&ctx.timing),
        retry,
    }
}

/// The first pass's order (see [`pass_order`]), from what discovery and the class
/// sweep found.
fn first_pass_order(
    ctx: &Ctx,
    mut addrs: Vec<IpAddr>,
    found: &HashMap<IpAddr, Found>,
) -> Vec<IpAddr> {
    let identify = ctx.clients.is_some();
    addrs.sort_by_key(|a| {
        let f = found.get(a);
        // Up without answering an echo (ARP alone, or a class port): likely to filter,
        // so its silent ports wait out timeouts and retries, at its class budget.
        let quiet = f.is_some_and(|f| !f.methods.contains(&DiscoveryMethod::Icmp));
        let long = f.is_some() && (quiet || ctx.governor.is_slowed(*a));
        (pass_order(f.is_some(), long, identify), *a)
    });
    addrs
}

/// Where an address goes in a scan's first pass (lower first): the longest
/// expected work first, so the pass ends on short work instead of leaving the rate idle
/// behind a long tail (hosts run side by side, each at its own cap). First the hosts
/// known up whose work is long: a class budget already slows them (a medical device
/// from the ledger, its MAC vendor or a class port the sweep found open), or no echo
/// found them (ARP or a class port did: such hosts filter, their silent ports wait out
/// timeouts and retries; the bench lab's hidden DICOM devices took 26 s each at their
/// class cap, and scanned last they left a 1,024-address scan idling for 18 s). Then,
/// when services are identified, the other hosts known up: they carry the
/// identification and the TLS audit, serial conversations at the per-host cap and the
/// longest work a host gets (started last, they left the lab's full scan a 35 s tail);
/// last the addresses nothing has answered from yet, mostly empty and done when their
/// silent ports time out. Without identification the other way round: the
/// silent addresses, whose ports wait out timeouts and retries, before the hosts known
/// up, which answer every port at once. Discovery's echoes have already given the scan
/// its RTT estimate, so nothing waits on the initial timeout either way.
fn pass_order(known_up: bool, long: bool, identify: bool) -> u8 {
    match (known_up, long, identify) {
        (true, true, _) => 0,
        (true, false, true) | (false, _, false) => 1,
        (false, _, true) | (true, false, false) => 2,
    }
}

/// The retry policy for silent addresses, from the samples of the hosts found up.
fn retry_policy(ctx: &Ctx, samples: &[second_look::Sample]) -> RetryPolicy {
    let (loss, answered) = second_look::loss_estimate(samples);
    let second_look::Look {
        mut ports,
        coverage,
        missed_by_first_pass,
        mut expected_missed,
    } = second_look::choose(samples, &ctx.plan.ports.tcp, loss);
    let mut accepted = second_look::accepted_miss_probability(loss, coverage);
    if ctx.plan.retries == 0 {
        ports.clear();
        accepted = loss;
        expected_missed = missed_by_first_pass;
    }
    RetryPolicy {
        loss_estimate: loss,
        loss_samples: answered,
        second_look_ports: ports,
        second_look_coverage: coverage,
        expected_missed_hosts: expected_missed,
        lifeless_addresses: 0,
        found_by_second_look: 0,
        second_look_echo: ctx.plan.retries > 0
            && ctx.plan.use_icmp
            && samples.iter().any(second_look::Sample::ping_only),
        accepted_miss_probability: accepted,
    }
}

/// What the first passes have told the scheduler (see [`host::Told`]).
#[derive(Debug, Default)]
struct FirstPasses {
    /// First passes whose ports are done or that are settled, each counted once.
    done: usize,
    /// Samples of the hosts found up whose ports are done.
    samples: Vec<second_look::Sample>,
    /// Settled hosts whose ports are not done yet, with what they had shown.
    settled: HashMap<IpAddr, second_look::Sample>,
    /// Addresses silent on every port, waiting for their second look.
    lifeless: Vec<IpAddr>,
}

impl FirstPasses {
    fn hear(&mut self, told: host::Told) {
        match told {
            host::Told::Settled(addr, sample) => {
                if self.settled.insert(addr, sample).is_none() {
                    self.done += 1;
                }
            }
            host::Told::PortsDone(d) => {
                if self.settled.remove(&d.address).is_none() {
                    self.done += 1;
                }
                self.samples.extend(d.sample);
                if d.lifeless {
                    self.lifeless.push(d.address);
                }
            }
        }
    }

    /// Hears everything told so far.
    fn drain(&mut self, rx: &mut tokio::sync::mpsc::UnboundedReceiver<host::Told>) {
        while let Ok(told) = rx.try_recv() {
            self.hear(told);
        }
    }

    /// The samples the retry policy is chosen from: the finished hosts', and the settled
    /// ones' with what they have shown so far.
    fn take_samples(&mut self) -> Vec<second_look::Sample> {
        let mut samples = std::mem::take(&mut self.samples);
        samples.extend(self.settled.values().cloned());
        samples
    }
}

/// Second-look tasks at once, per first-pass slot: each asks one silent address a few
/// ports and mostly waits out their timeouts, so many more of them than of full host
/// scans are needed to keep the rate busy (per-host caps still hold for each).
const LOOKS_PER_SLOT: usize = 4;

/// The port scan: every address of `scan_list`, every port, a bounded number of
/// hosts at a time; then the second look at the addresses that said nothing. The look
/// is chosen once every first pass has finished its *port scan* or is settled (see
/// [`host::Told`]), and runs while the last hosts finish their ports at their own caps
/// and have their services identified. Returns the hosts that answered and what the
/// retry policy decided.
async fn port_scan(
    ctx: &Arc<Ctx>,
    scan_list: Vec<IpAddr>,
    mut swept: sweep::Swept,
    found: &mut HashMap<IpAddr, Found>,
    phases: &mut timing::Phases,
) -> (Vec<HostObservation>, RetryPolicy) {
    type Task = (bool, HostObservation);
    let limit = ctx.plan.host_parallelism.max(1);
    let slots = Arc::new(Semaphore::new(limit));
    let look_slots = Arc::new(Semaphore::new(limit.saturating_mul(LOOKS_PER_SLOT)));
    let (ports_tx, mut ports_rx) = tokio::sync::mpsc::unbounded_channel::<host::Told>();
    let mut set: JoinSet<Task> = JoinSet::new();
    let mut hosts = Vec::new();
    let mut heard = FirstPasses::default();
    let mut first_started = 0usize;
    // The policy once chosen, with the ports to look at and the pinger for its echo.
    type Chosen = (
        RetryPolicy,
        Arc<[u16]>,
        Option<Arc<crate::net::icmp::Pinger>>,
    );
    let mut policy: Option<Chosen> = None;
    let mut lifeless_total = 0u64;
    let mut found_late = 0u64;
    let mut items = scan_list.into_iter();
    let mut first_pass_open = true;

    // A free slot of `slots`; `None` when the scan was cancelled.
    async fn slot(ctx: &Ctx, slots: &Arc<Semaphore>) -> Option<tokio::sync::OwnedSemaphorePermit> {
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => None,
            p = slots.clone().acquire_owned() => p.ok(),
        }
    }
    let mut take = |r: Result<Task, tokio::task::JoinError>, hosts: &mut Vec<HostObservation>| {
        let Ok((second, obs)) = r else { return };
        if obs.is_up() {
            found_late += u64::from(second);
            hosts.push(obs);
        }
    };
    loop {
        while let Some(done) = set.try_join_next() {
            take(done, &mut hosts);
        }
        heard.drain(&mut ports_rx);
        if first_pass_open {
            let Some(addr) = items.next() else {
                first_pass_open = false;
                continue;
            };
            let Ok(cleared) = ctx.plan.guard.clear(addr) else {
                continue;
            };
            let Some(permit) = slot(ctx, &slots).await else {
                break;
            };
            let prior = found.remove(&addr);
            let first = host::Pass::First(swept.take(addr));
            let (ctx2, tx) = (ctx.clone(), ports_tx.clone());
            first_started += 1;
            set.spawn(async move {
                let obs = host::scan_host(&ctx2, cleared, prior, first, Some(tx)).await;
                drop(permit);
                (false, obs)
            });
            continue;
        }
        // Every address has started its first pass: the second look, once every first
        // pass has finished its ports or is settled (a port answered). Chosen earlier,
        // the model missed the hosts scanned last (the lab lost a silent DICOM host that
        // way); a settled host is in the model with the ports it has shown so far, and
        // waiting for the rest idled the rate behind a hidden device at its class cap.
        if policy.is_none() && (heard.done >= first_started || set.is_empty()) {
            phases.mark("port scan");
            let p = retry_policy(ctx, &heard.take_samples());
            tracing::info!(ports = ?p.second_look_ports, loss = p.loss_estimate, "second look chosen");
            let look: Arc<[u16]> = p.second_look_ports.clone().into();
            let pinger = p
                .second_look_echo
                .then(|| Arc::new(crate::net::icmp::Pinger::open().0));
            ctx.progress.start_phase(Phase::SecondLook, 0);
            policy = Some((p, look, pinger));
        }
        if let Some((p, look, pinger)) = &policy {
            if ctx.cancel.is_cancelled() {
                heard.lifeless.clear();
            }
            if let Some(addr) = heard.lifeless.pop() {
                lifeless_total += 1;
                if p.second_look_ports.is_empty() && pinger.is_none() {
                    continue;
                }
                let Ok(cleared) = ctx.plan.guard.clear(addr) else {
                    continue;
                };
                let Some(permit) = slot(ctx, &look_slots).await else {
                    break;
                };
                let (ctx2, look, pinger) = (ctx.clone(), look.clone(), pinger.clone());
                set.spawn(async move {
                    let prior = match &pinger {
                        Some(p) => discovery::echo_again(&ctx2, p, cleared).await,
                        None => None,
                    };
                    let obs =
                        host::scan_host(&ctx2, cleared, prior, host::Pass::SecondLook(look), None)
                            .await;
                    drop(permit);
                    (true, obs)
                });
                continue;
            }
        }
        tokio::select! {
            // Every first pass sends once before it ends, and this function holds a
            // sender: the channel never closes here.
            Some(told) = ports_rx.recv() => heard.hear(told),
            done = set.join_next() => match done {
                Some(done) => take(done, &mut hosts),
                // Nothing runs; what the channel still holds is read at the loop's top.
                None if !ports_rx.is_empty() => {}
                None => break,
            },
        }
    }
    while let Some(done) = set.join_next().await {
        take(done, &mut hosts);
    }
    let mut p = match policy {
        Some((p, _, _)) => p,
        None => {
            phases.mark("port scan");
            heard.drain(&mut ports_rx);
            retry_policy(ctx, &heard.take_samples())
        }
    };
    p.lifeless_addresses = lifeless_total + heard.lifeless.len() as u64;
    p.found_by_second_look = found_late;
    (hosts, p)
}

/// Runs `work` for every item whose address the scope guard clears, at most `limit` at
/// once, and hands each result to `collect` as soon as it is ready, so memory stays flat
/// on large scopes: each address's governor state is put to rest as its work ends
/// ([`crate::governor::Governor::rest`]). Stops starting new work when the scan is
/// cancelled; work already started finishes (it sees the cancellation at its next
/// admission).
async fn for_each_cleared<X, T, F, Fut>(
    ctx: &Arc<Ctx>,
    items: impl Iterator<Item = (IpAddr, X)>,
    limit: usize,
    work: F,
    mut collect: impl FnMut(T),
) where
    F: Fn(Arc<Ctx>, Cleared, X) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let slots = Arc::new(Semaphore::new(limit.max(1)));
    let mut set = JoinSet::new();
    for (addr, extra) in items {
        let Ok(cleared) = ctx.plan.guard.clear(addr) else {
            continue;
        };
        let permit = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => break,
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        while let Some(done) = set.try_join_next() {
            if let Ok(r) = done {
                collect(r);
            }
        }
        let fut = work(ctx.clone(), cleared, extra);
        let ctx = ctx.clone();
        set.spawn(async move {
            let r = fut.await;
            ctx.governor.rest(addr);
            drop(permit);
            r
        });
    }
    while let Some(done) = set.join_next().await {
        if let Ok(r) = done {
            collect(r);
        }
    }
}

fn fill_macs(hosts: &mut [HostObservation]) {
    if hosts.iter().all(|h| h.mac.is_some() || h.address.is_ipv6()) {
        return;
    }
    let table = neighbors::read();
    for h in hosts.iter_mut().filter(|h| h.mac.is_none()) {
        if let IpAddr::V4(v4) = h.address {
            h.mac = table.get(&v4).copied();
        }
    }
}

/// Marks a host observation as interrupted when the scan was cancelled mid-host.
fn interrupted_or(ctx: &Ctx, state: HostScanState) -> HostScanState {
    if ctx.cancel.is_cancelled() {
        HostScanState::Interrupted
    } else {
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{AddrRange, Scope, DEFAULT_SCOPE_LIMIT};

    fn plan(cidr_bits: u32, mode: DiscoveryMode) -> ScanPlan {
        let r = AddrRange::cidr("198.18.0.0".parse().expect("addr"), cidr_bits);
        let scope = Scope::new(vec![r], vec![], 1 << 24, true).expect("scope");
        let catalog = Arc::new(PortCatalog::builtin().expect("catalog"));
        let safety = SafetySettings::default();
        ScanPlan {
            guard: ScopeGuard::new(scope),
            hostnames: HashMap::new(),
            ports: catalog.default_ports(),
            catalog,
            safety,
            retries: 1,
            discovery: mode,
            time_budget: Duration::from_secs(30 * 60),
            snmp_community: Some("public".into()),
            use_icmp: true,
            use_arp: true,
            identify: false,
            tls_audit: None,
            host_parallelism: ScanPlan::default_parallelism(&safety),
            classes: ClassPlan::new(Arc::new(SafetyRules::builtin().expect("safety rules"))),
        }
    }

    #[test]
    fn a_small_scope_is_scanned_directly_and_a_large_one_is_gated() {
        let small = plan(24, DiscoveryMode::Auto);
        let d = decide(&small, small.guard.scope().len());
        assert_eq!(d.mode, ScanMode::Direct, "{}", d.reason);
        let large = plan(16, DiscoveryMode::Auto);
        let d = decide(&large, large.guard.scope().len());
        assert_eq!(d.mode, ScanMode::Gated, "{}", d.reason);
        assert!(d.reason.contains("budget"));
        let forced = plan(16, DiscoveryMode::Direct);
        assert_eq!(
            decide(&forced, forced.guard.scope().len()).mode,
            ScanMode::Direct
        );
        let _ = DEFAULT_SCOPE_LIMIT;
    }

    #[test]
    fn the_first_pass_starts_with_the_longest_work() {
        // (address, known up, long work: slowed by its class budget or up by ARP alone)
        let addrs = [
            (1u8, true, false),
            (2, false, false),
            (3, true, true),
            (4, false, false),
            (5, true, false),
        ];
        let order = |identify: bool| {
            let mut v = addrs.to_vec();
            v.sort_by_key(|&(a, known, long)| (pass_order(known, long, identify), a));
            v.iter().map(|a| a.0).collect::<Vec<u8>>()
        };
        assert_eq!(order(false), vec![3, 2, 4, 1, 5], "port scan only");
        assert_eq!(order(true), vec![3, 1, 5, 2, 4], "with identification");
    }

    #[test]
    fn a_settled_host_counts_once_and_shows_what_it_had_until_its_ports_are_done() {
        let addr = |last: u8| IpAddr::from([198, 18, 0, last]);
        let mut heard = FirstPasses::default();
        heard.hear(host::Told::Settled(addr(1), second_look::Sample::default()));
        heard.hear(host::Told::PortsDone(host::PortsDone {
            address: addr(2),
            lifeless: true,
            sample: None,
        }));
        assert_eq!(heard.done, 2);
        assert_eq!(heard.lifeless, vec![addr(2)]);
        // Chosen now, the settled host is in the model with what it had shown.
        let mut early = FirstPasses::default();
        early.hear(host::Told::Settled(addr(1), second_look::Sample::default()));
        assert_eq!(early.take_samples().len(), 1);
        // Its ports done later: still one host, now with its full sample.
        heard.hear(host::Told::PortsDone(host::PortsDone {
            address: addr(1),
            lifeless: false,
            sample: Some(second_look::Sample::default()),
        }));
        assert_eq!(heard.done, 2);
        assert_eq!(heard.take_samples().len(), 1);
    }

    #[test]
    fn enough_hosts_run_at_once_to_fill_the_global_rate() {
        let s = SafetySettings::default();
        let n = ScanPlan::default_parallelism(&s);
        assert!(n as u32 * s.host_rate_pps >= s.rate_pps);
    }
}
