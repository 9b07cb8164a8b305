//! The safety governor: every frame kenshin causes to leave its interface is
//! charged here before it is sent.
//!
//! It enforces, for ARP, ICMP, UDP and TCP alike, counted in frames on the wire
//! (a connect is a SYN and the RST that ends it, the handshake's ACK held; a write is its
//! segments; a read costs the ACKs the kernel sends for it):
//! - a global frame rate (`rate_pps`), paced evenly and held in every one-second
//!   window ([`window`]);
//! - a per-host frame rate (`host_rate_pps`), the same way, narrowed by the
//!   host's class budget once its class is known ([`budget`]);
//! - a per-host cap on connections in flight (`host_concurrency`, narrowed by the
//!   class budget), so a small embedded TCP stack never sees more than a few
//!   half-open connections from kenshin at once;
//! - a global cap on probes in flight, bounded by the file-descriptor limit.
//!
//! [`Governor::admit`] takes a [`Cleared`] address, so the scope guard has
//! always been consulted first, and returns an [`Admission`] that the sending
//! functions require. The admission carries a [`FrameMeter`] through which the
//! frames that follow (data segments, ACKs, the closing RST) are charged. Dropping
//! the admission releases its concurrency slots.

pub mod budget;
mod window;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use budget::{
    ClassBudget, ClassHint, ClassHints, ClassSource, SafetyError, SafetyRules, TlsAuditScope, Words,
};
use window::{at_ms, ms_down, FoldedLane, FrameWindow, Pacer, NEVER};
pub use window::{Tally, WINDOW};

use crate::rtt::{attempt_timeout, RttEstimator, TimeoutBounds};
use crate::scope::Cleared;

/// The safety limits of one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetySettings {
    /// Packets per second across the whole scan.
    pub rate_pps: u32,
    /// Packets per second to any one host.
    pub host_rate_pps: u32,
    /// Probes in flight to any one host.
    pub host_concurrency: u32,
    /// Probes in flight across the scan.
    pub max_inflight: u32,
    /// Probe timeout bounds.
    pub timeouts: TimeoutBounds,
}

/// Default global rate: runZero's safe default, and masscan users' advice for LANs.
pub const DEFAULT_RATE_PPS: u32 = 1000;
/// Default per-host rate: the only published per-host default among peers (runZero).
pub const DEFAULT_HOST_RATE_PPS: u32 = 40;
/// Default probes in flight per host.
pub const DEFAULT_HOST_CONCURRENCY: u32 = 6;
/// Highest rate kenshin accepts at all.
pub const MAX_RATE_PPS: u32 = 100_000;

impl Default for SafetySettings {
    fn default() -> Self {
        Self {
            rate_pps: DEFAULT_RATE_PPS,
            host_rate_pps: DEFAULT_HOST_RATE_PPS,
            host_concurrency: DEFAULT_HOST_CONCURRENCY,
            max_inflight: 1024,
            timeouts: TimeoutBounds::default(),
        }
    }
}

/// A setting outside what the governor accepts.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{name} = {value} is out of range: {reason}")]
pub struct SettingError {
    pub name: &'static str,
    pub value: u64,
    pub reason: &'static str,
}

impl SafetySettings {
    /// Checks every limit.
    pub fn validate(&self) -> Result<(), SettingError> {
        let check = |name, value: u32, lo: u32, hi: u32, reason| {
            if value < lo || value > hi {
                Err(SettingError {
                    name,
                    value: value.into(),
                    reason,
                })
            } else {
                Ok(())
            }
        };
        check(
            "rate",
            self.rate_pps,
            1,
            MAX_RATE_PPS,
            "1 to 100000 packets/s",
        )?;
        check(
            "host-rate",
            self.host_rate_pps,
            1,
            MAX_RATE_PPS,
            "1 to 100000 packets/s",
        )?;
        check("host-conns", self.host_concurrency, 1, 256, "1 to 256")?;
        check("max-inflight", self.max_inflight, 1, 65_536, "1 to 65536")?;
        Ok(())
    }
}

/// What kind of packet a probe starts with, for the counters in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Icmp,
    Arp,
    Tcp,
    Udp,
}

/// The frames one admitted probe costs: those that leave at once, and those the
/// kernel is expected to send later on its behalf (room is kept for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCost {
    pub now: u32,
    pub expected: u32,
}

impl FrameCost {
    fn total(self) -> u32 {
        self.now.saturating_add(self.expected)
    }
}

impl ProbeKind {
    /// What a probe of this kind costs before anything is known of its answer: one
    /// frame, and for a TCP connect room for what may follow it: the RST of an open
    /// port, or the kernel's SYN retransmission to a silent one; where the kernel does
    /// not hold the handshake's ACK, that ACK and the RST that can cross a banner too.
    pub fn cost(self) -> FrameCost {
        match self {
            ProbeKind::Icmp | ProbeKind::Arp | ProbeKind::Udp => FrameCost {
                now: 1,
                expected: 0,
            },
            ProbeKind::Tcp => FrameCost {
                now: 1,
                expected: if ACK_HELD.load(Ordering::Relaxed) {
                    1
                } else {
                    3
                },
            },
        }
    }
}

/// Whether this kernel holds a port-scan connect's handshake ACK when asked (see
/// `net::tcp`). Linux has since 2.2; the first connect that shows otherwise clears it
/// ([`kernel_sends_held_acks`]), and every later connect keeps room for that ACK and for
/// the RST that can answer a banner already on its way when ours left.
static ACK_HELD: AtomicBool =
    AtomicBool::new(cfg!(any(target_os = "linux", target_os = "android")));

/// A connect showed the kernel sending the handshake's ACK it was asked to hold.
pub fn kernel_sends_held_acks() {
    ACK_HELD.store(false, Ordering::Relaxed);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave their plain values inconsistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One rate limit: the pacer that spaces frames and the window that caps each second.
#[derive(Debug)]
struct Lane {
    pacer: Pacer,
    window: FrameWindow,
    /// Frames claimed by sends that have waited long, by claim order (the scan's
    /// lane only).
    claims: BTreeMap<u64, u32>,
    next_claim: u64,
    /// Frames waiting to close connections that are already open (the scan's lane
    /// only): every other send leaves room for them (see `FrameMeter::keep_scan_room`).
    closing: u32,
}

impl Lane {
    fn new(rate: u32, origin: Instant) -> Self {
        Self {
            pacer: Pacer::new(rate),
            window: FrameWindow::new(rate, origin),
            claims: BTreeMap::new(),
            next_claim: 0,
            closing: 0,
        }
    }
}

/// The class budget a host got, and how its class was learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedBudget {
    pub class: String,
    pub source: ClassSource,
    /// How the class was learned ("ledger row 3: kind 医療機器", "tcp/104 (DICOM) open").
    pub learned: String,
    /// Frames a second the host may receive under this budget.
    pub frames_per_s: u32,
    /// Connections in flight the host may have under this budget.
    pub inflight: u32,
    pub tls_audit: TlsAuditScope,
    /// Ports that get a connect and no payload.
    pub connect_only: BTreeSet<u16>,
    /// Why the class has this budget, from `rules/safety.toml`.
    pub why: Words,
}

/// The hosts the governor knows: live state for hosts being probed, and a small record
/// for IPv4 hosts at rest (see [`Governor::rest`]).
#[derive(Debug, Default)]
struct Hosts {
    live: HashMap<IpAddr, Arc<HostState>>,
    resting: HashMap<u32, Resting>,
}

/// What is kept of an IPv4 host that nothing holds, with no class budget and no round
/// trip measured (an address discovery heard nothing from, waiting for its port scan):
/// 40 bytes in place of a live [`HostState`]'s 600 or so, so a /16 scope does not hold
/// 65,536 live states at once. Its caps carry over on the stricter side (see
/// [`FoldedLane`]) and its counts exactly; the kernel's ARP charge is rounded down, so
/// it is charged again no later than the live state would have.
#[derive(Debug, Clone, Copy)]
struct Resting {
    lane: FoldedLane,
    sent: u32,
    /// [`HostState::link_charged`] in milliseconds from the origin, or [`NEVER`].
    link_ms: u32,
}

/// Per-host state the governor keeps.
#[derive(Debug)]
pub struct HostState {
    lane: Mutex<Lane>,
    inflight: Arc<Semaphore>,
    inflight_cap: Mutex<u32>,
    rtt: Mutex<RttEstimator>,
    sent: AtomicU64,
    budget: Mutex<Option<AppliedBudget>>,
    /// When the kernel's own ARP request for this host was last charged.
    link_charged: Mutex<Option<Instant>>,
}

/// How long a neighbour entry the kernel resolved stays usable without a new ARP
/// request: Linux keeps it reachable for a random 15–45 s (`base_reachable_time` 30 s),
/// so kenshin counts a new request when 15 s have passed since the last it charged.
pub const NEIGHBOUR_FRESH: Duration = Duration::from_secs(15);

impl HostState {
    /// Probes sent to this host so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Frames sent to this host, and its busiest second, as kenshin counted them.
    pub fn tally(&self) -> Tally {
        lock(&self.lane).window.tally()
    }

    /// The class budget in force, if the host's class is known.
    pub fn budget(&self) -> Option<AppliedBudget> {
        lock(&self.budget).clone()
    }
}

/// Counters of probes sent, by the kind of their first packet.
#[derive(Debug, Default)]
pub struct Counters {
    pub icmp: AtomicU64,
    pub arp: AtomicU64,
    pub tcp: AtomicU64,
    pub udp: AtomicU64,
}

impl Counters {
    /// All probes sent.
    pub fn total(&self) -> u64 {
        self.icmp.load(Ordering::Relaxed)
            + self.arp.load(Ordering::Relaxed)
            + self.tcp.load(Ordering::Relaxed)
            + self.udp.load(Ordering::Relaxed)
    }
}

/// Where a send stands in its wait: not yet paced, or paced and waiting for room, since
/// when, and whether it has claimed room in the scan's lane.
#[derive(Debug, Default)]
pub(crate) struct Ticket {
    paced: bool,
    since: Option<Instant>,
    claim: Option<Claim>,
}

/// How long a send waits for room in the scan's lane (its host's having room) before
/// it claims some: every send after it must then leave its frames free, and it leaves
/// free only the claims older than its own, so the oldest always goes as soon as the
/// window has room for it. Without it, a send of many frames (an HTTPS fetch keeps room
/// for 12) waits behind a stream of SYNs that each fit in the little room the window
/// frees; a capture showed such fetches wait two minutes, until the port scan ended.
const CLAIM_AFTER: Duration = Duration::from_millis(100);

/// Room a waiting send holds in the scan's lane, in the order claims were made; given
/// back when dropped (the send went, or its waiting was abandoned).
#[derive(Debug)]
struct Claim {
    scan: Arc<Mutex<Lane>>,
    seq: u64,
}

impl Drop for Claim {
    fn drop(&mut self) {
        lock(&self.scan).claims.remove(&self.seq);
    }
}

/// Charges the frames of one host's traffic to the host's and the scan's limits.
#[derive(Debug, Clone)]
pub struct FrameMeter {
    host: Arc<HostState>,
    scan: Arc<Mutex<Lane>>,
}

impl FrameMeter {
    /// One step of waiting to send `cost`: `Ok` once both lanes had room (the frames
    /// are then counted), or the instant to try again.
    pub(crate) fn try_send(
        &self,
        ticket: &mut Ticket,
        now: Instant,
        cost: FrameCost,
    ) -> Result<(), Instant> {
        let total = cost.total();
        if !ticket.paced && cost.now > 0 {
            ticket.paced = true;
            // The pacer spaces what is sent now; frames that room is kept for take
            // their time when they go out (`arrived`), and the window holds the cap.
            let h = lock(&self.host.lane).pacer.reserve(now, cost.now);
            let s = lock(&self.scan).pacer.reserve(now, cost.now);
            let slot = h.max(s);
            if slot > now {
                return Err(slot);
            }
        }
        let since = *ticket.since.get_or_insert(now);
        let own = ticket.claim.as_ref().map(|c| c.seq);
        {
            let mut host = lock(&self.host.lane);
            let mut scan = lock(&self.scan);
            let older: u32 = scan
                .claims
                .range(..own.unwrap_or(u64::MAX))
                .map(|(_, frames)| *frames)
                .sum::<u32>()
                + scan.closing;
            let host_wait = host.window.room_leaving(now, total, 0);
            let scan_wait = scan.window.room_leaving(now, total, older);
            if let Some(at) = host_wait.max(scan_wait) {
                let claim = own.is_none()
                    && host_wait.is_none()
                    && now.saturating_duration_since(since) >= CLAIM_AFTER;
                if claim {
                    let seq = scan.next_claim;
                    scan.next_claim += 1;
                    scan.claims.insert(seq, total);
                    drop((host, scan));
                    ticket.claim = Some(Claim {
                        scan: Arc::clone(&self.scan),
                        seq,
                    });
                }
                return Err(at);
            }
            for lane in [&mut *host, &mut *scan] {
                lane.window.record(now, cost.now);
                lane.window.expect(cost.expected);
            }
        }
        // After the lanes' locks are let go: dropping the claim takes the scan's.
        *ticket = Ticket::default();
        Ok(())
    }

    /// Waits until `cost` may be sent and counts it; `false` if `cancel` fired first
    /// (nothing was counted then).
    pub async fn charge(&self, cost: FrameCost, cancel: &CancellationToken) -> bool {
        let mut ticket = Ticket::default();
        loop {
            match self.try_send(&mut ticket, Instant::now(), cost) {
                Ok(()) => return true,
                Err(at) => {
                    tokio::select! {
                        biased;
                        _ = cancel.cancelled() => return false,
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
            }
        }
    }

    /// `frames` frames that room was kept for went on the wire just now.
    pub fn arrived(&self, frames: u32) {
        self.arrived_split(frames, 0);
    }

    /// `frames` frames that room was kept for will not be sent.
    pub fn cancelled(&self, frames: u32) {
        self.cancelled_split(frames, frames);
    }

    /// Room kept for frames that were lent from the scan's lane (see
    /// [`Admission::lend_closing_room`]) goes: `frames` in the host's lane, `scan` of
    /// them in the scan's.
    fn cancelled_split(&self, frames: u32, scan: u32) {
        lock(&self.host.lane).window.cancel(frames);
        lock(&self.scan).window.cancel(scan);
    }

    /// `frames` kept frames went out just now, `lent` of them without room kept in the
    /// scan's lane: those are counted there as they go.
    fn arrived_split(&self, frames: u32, lent: u32) {
        let now = Instant::now();
        {
            let mut host = lock(&self.host.lane);
            host.window.arrive(now, frames);
            host.pacer.push_back(now, frames);
        }
        let mut scan = lock(&self.scan);
        scan.window.arrive(now, frames - lent);
        scan.window.record(now, lent);
        scan.pacer.push_back(now, frames);
    }

    /// Waits for room for `frames` in the scan's lane and keeps it, ahead of every
    /// other send: a frame kenshin holds back until there is room (the RST that closes
    /// an open port) must not wait behind new probes, or the host would send its
    /// SYN-ACK again. Such frames are few (one per open port), so they never wait
    /// longer than the next frame of the last second takes to age out.
    async fn keep_scan_room(&self, frames: u32) {
        /// The frames a closing send waits for, given back however its wait ends.
        struct Waiting<'a>(&'a Mutex<Lane>, u32);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                let mut lane = lock(self.0);
                lane.closing = lane.closing.saturating_sub(self.1);
            }
        }
        let mut waiting: Option<Waiting<'_>> = None;
        loop {
            let now = Instant::now();
            let at = {
                let mut scan = lock(&self.scan);
                // Room others leave for closing frames is this send's to take.
                let others = scan.closing - waiting.as_ref().map_or(0, |w| w.1);
                match scan.window.room_leaving(now, frames, others) {
                    None => {
                        scan.window.expect(frames);
                        None
                    }
                    Some(at) => {
                        if waiting.is_none() {
                            scan.closing += frames;
                        }
                        Some(at)
                    }
                }
            };
            match at {
                None => return,
                Some(at) => {
                    if waiting.is_none() {
                        waiting = Some(Waiting(&self.scan, frames));
                    }
                    tokio::time::sleep_until(at).await;
                }
            }
        }
    }

    /// `frames` frames no one planned for went out just now (the kernel retransmitted,
    /// a reply took more ACKs than estimated): counted, and what follows waits for them.
    pub fn unplanned(&self, frames: u32) {
        if frames == 0 {
            return;
        }
        let now = Instant::now();
        for lane in [&mut *lock(&self.host.lane), &mut *lock(&self.scan)] {
            lane.window.record_unplanned(now, frames);
            lane.pacer.push_back(now, frames);
        }
    }
}

/// The shortest answer horizon (see [`Admission::answer_horizon`]): a scheduler's
/// jitter on a loaded sensor is a few milliseconds.
pub const ANSWER_HORIZON_MIN: Duration = Duration::from_millis(10);

/// Permission to send one probe to one cleared address, now.
#[derive(Debug)]
pub struct Admission {
    cleared: Cleared,
    host: Arc<HostState>,
    scan_rtt: Arc<Mutex<RttEstimator>>,
    bounds: TimeoutBounds,
    meter: FrameMeter,
    /// Frames room is still kept for; released when the admission is dropped.
    expected: std::sync::atomic::AtomicU32,
    /// How many of those frames have their room kept in the host's lane only: lent
    /// from the scan's (see [`Admission::lend_closing_room`]).
    lent: std::sync::atomic::AtomicU32,
    _host_slot: OwnedSemaphorePermit,
    _scan_slot: OwnedSemaphorePermit,
}

impl Admission {
    /// The destination, checked by the scope guard.
    pub fn cleared(&self) -> Cleared {
        self.cleared
    }

    /// The destination address.
    pub fn addr(&self) -> IpAddr {
        self.cleared.addr()
    }

    /// How long to wait for an answer to attempt number `attempt` (0 = first).
    pub fn timeout(&self, attempt: u32) -> Duration {
        let host = *lock(&self.host.rtt);
        let scan = *lock(&self.scan_rtt);
        attempt_timeout(&host, &scan, self.bounds, attempt)
    }

    /// How long an answer can reasonably be expected: the RTT estimate's `srtt +
    /// 4·rttvar` (the host's, else the scan's), at least [`ANSWER_HORIZON_MIN`],
    /// unclamped above; before anything answered, the first attempt's timeout.
    pub fn answer_horizon(&self) -> Duration {
        let host = *lock(&self.host.rtt);
        let scan = *lock(&self.scan_rtt);
        host.horizon()
            .or_else(|| scan.horizon())
            .map_or(self.bounds.initial, |h| h.max(ANSWER_HORIZON_MIN))
    }

    /// Gives back the room kept for frames that will now come only unannounced (a
    /// late answer), all but `keep` frames of it (for frames that may still go out on
    /// the kernel's own schedule, such as a SYN retransmission): counted as unplanned
    /// if they do.
    pub fn release_expected(&self, keep: u32) {
        // Only the probe holding the admission changes its room: load, then take.
        let left = self.expected.load(Ordering::Relaxed);
        let released = take_up_to(&self.expected, left.saturating_sub(keep));
        self.give_back(released);
    }

    /// Room kept for `frames` that will not be sent: lent frames first, whose room is
    /// kept in the host's lane only.
    fn give_back(&self, frames: u32) {
        if frames > 0 {
            let lent = take_up_to(&self.lent, frames);
            self.meter.cancelled_split(frames, frames - lent);
        }
    }

    /// Lends the scan's lane the room kept for the `frames` that kenshin itself sends
    /// when it closes the connection (the RST of linger 0), while the host's lane keeps
    /// it. Most connects meet a closed or silent port and never send them, and room kept
    /// for them while the answer is awaited was room the scan's rate could not use (in
    /// the class sweep, where most addresses are silent, a fifth of it). An open port
    /// takes the room back with [`Admission::keep_closing_room`] before the RST goes.
    ///
    /// Only for frames kenshin sends when it chooses: frames the kernel sends on its
    /// own schedule (a SYN retransmission, an ACK) must keep their room.
    pub fn lend_closing_room(&self, frames: u32) {
        let frames = frames.min(self.expected.load(Ordering::Relaxed));
        if frames > 0 {
            self.lent.fetch_add(frames, Ordering::Relaxed);
            lock(&self.meter.scan).window.cancel(frames);
        }
    }

    /// Takes back the room lent with [`Admission::lend_closing_room`], waiting for it in
    /// the scan's lane ahead of new sends: afterwards the closing frames may go.
    pub async fn keep_closing_room(&self) {
        let lent = self.lent.load(Ordering::Relaxed);
        if lent > 0 {
            self.meter.keep_scan_room(lent).await;
            take_up_to(&self.lent, lent);
        }
    }

    /// Records a measured round trip to this host.
    pub fn observe_rtt(&self, rtt: Duration) {
        lock(&self.host.rtt).observe(rtt);
        lock(&self.scan_rtt).observe(rtt);
    }

    /// The meter that charges this host's frames.
    pub fn meter(&self) -> &FrameMeter {
        &self.meter
    }

    /// Up to `frames` of the frames room was kept for went out just now; any
    /// beyond are counted as unplanned.
    pub fn arrived(&self, frames: u32) {
        let kept = take_up_to(&self.expected, frames);
        let lent = take_up_to(&self.lent, kept);
        self.meter.arrived_split(kept, lent);
        self.meter.unplanned(frames - kept);
    }

    /// Takes up to `frames` of the room kept, for a connection to carry on. Room lent
    /// from the scan's lane must have been taken back first.
    pub(crate) fn take_expected(&self, frames: u32) -> u32 {
        debug_assert_eq!(self.lent.load(Ordering::Relaxed), 0, "room still lent");
        take_up_to(&self.expected, frames)
    }
}

/// Takes up to `n` from `counter`, returning how much was taken.
fn take_up_to(counter: &std::sync::atomic::AtomicU32, n: u32) -> u32 {
    let mut taken = 0;
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
        taken = left.min(n);
        Some(left - taken)
    });
    taken
}

impl Drop for Admission {
    fn drop(&mut self) {
        let left = *self.expected.get_mut();
        self.give_back(left);
    }
}

/// A host's frame figures and budget, once it gets no more probes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostTally {
    pub probes: u64,
    pub frames: Tally,
    pub budget: Option<AppliedBudget>,
}

/// Scan-wide frame figures, as kenshin counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStats {
    /// Frames sent in all.
    pub frames_sent: u64,
    /// The largest count in one fixed second, over all hosts together.
    pub peak_second: u32,
    /// The largest count in one fixed second to any one host.
    pub peak_second_host: u32,
    /// The host that count went to.
    pub peak_host: Option<IpAddr>,
    /// Frames among `frames_sent` that went out unannounced (a late answer's RST, a
    /// retransmission): what the cap's reserve is kept for.
    pub unplanned: u64,
    /// The most of them in one fixed second, over all hosts together.
    pub unplanned_peak_second: u32,
}

/// The scan-wide governor.
#[derive(Debug)]
pub struct Governor {
    settings: SafetySettings,
    origin: Instant,
    scan: Arc<Mutex<Lane>>,
    inflight: Arc<Semaphore>,
    hosts: Mutex<Hosts>,
    scan_rtt: Arc<Mutex<RttEstimator>>,
    counters: Arc<Counters>,
    rules: Arc<SafetyRules>,
    hints: Arc<ClassHints>,
    busiest_host: Mutex<(u32, Option<IpAddr>)>,
    /// The scanner's connected IPv4 segments (network, mask), set once before the scan.
    on_link: std::sync::OnceLock<Vec<(u32, u32)>>,
}

impl Governor {
    /// A governor for `settings`, which must have been validated, with the class
    /// budgets built in and no class hints.
    pub fn new(settings: SafetySettings) -> Self {
        Self::with_counters(settings, Arc::default())
    }

    /// A governor that counts into `counters`, which others (a progress display) may read.
    pub fn with_counters(settings: SafetySettings, counters: Arc<Counters>) -> Self {
        let rules = SafetyRules::builtin()
            .map(Arc::new)
            .unwrap_or_else(|e| panic!("the built-in {} does not load: {e}", budget::FILE));
        Self::with_classes(settings, counters, rules, Arc::default())
    }

    /// A governor with class budgets `rules` and classes known before the scan.
    pub fn with_classes(
        settings: SafetySettings,
        counters: Arc<Counters>,
        rules: Arc<SafetyRules>,
        hints: Arc<ClassHints>,
    ) -> Self {
        let origin = Instant::now();
        Self {
            settings,
            origin,
            scan: Arc::new(Mutex::new(Lane::new(settings.rate_pps, origin))),
            inflight: Arc::new(Semaphore::new(settings.max_inflight as usize)),
            hosts: Mutex::new(Hosts::default()),
            scan_rtt: Arc::new(Mutex::new(RttEstimator::default())),
            counters,
            rules,
            hints,
            busiest_host: Mutex::new((0, None)),
            on_link: std::sync::OnceLock::new(),
        }
    }

    /// The scanner's connected IPv4 segments, as (network, mask): the kernel sends an
    /// ARP request of its own before its first frame to an address there, a frame
    /// kenshin then charges (see [`NEIGHBOUR_FRESH`]). Set once; later calls are ignored.
    pub fn set_on_link(&self, segments: Vec<(Ipv4Addr, Ipv4Addr)>) {
        let nets = segments
            .into_iter()
            .map(|(net, mask)| (u32::from(net) & u32::from(mask), u32::from(mask)))
            .collect();
        let _ = self.on_link.set(nets);
    }

    /// Whether the kernel will ask ARP for `addr` before this probe's first frame (an
    /// on-link IPv4 address not charged for within [`NEIGHBOUR_FRESH`]); if so, it is
    /// counted as charged from `now`.
    fn kernel_arp_due(&self, addr: IpAddr, host: &HostState, now: Instant) -> bool {
        let IpAddr::V4(v4) = addr else { return false };
        let bits = u32::from(v4);
        let on_link = self
            .on_link
            .get()
            .is_some_and(|nets| nets.iter().any(|&(net, mask)| bits & mask == net));
        if !on_link {
            return false;
        }
        let mut last = lock(&host.link_charged);
        if last.is_some_and(|t| now.saturating_duration_since(t) < NEIGHBOUR_FRESH) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// The limits in force.
    pub fn settings(&self) -> SafetySettings {
        self.settings
    }

    /// The class budgets in force.
    pub fn rules(&self) -> &SafetyRules {
        &self.rules
    }

    /// Probes sent so far, by kind.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The budget `hint` gives a host under this scan's limits.
    fn applied(&self, hint: &ClassHint) -> AppliedBudget {
        let b = self.rules.budget(&hint.class);
        AppliedBudget {
            class: b.class.clone(),
            source: hint.source,
            learned: hint.reason.clone(),
            frames_per_s: b.frames_per_s.map_or(self.settings.host_rate_pps, |f| {
                f.min(self.settings.host_rate_pps)
            }),
            inflight: b.inflight.map_or(self.settings.host_concurrency, |n| {
                n.min(self.settings.host_concurrency)
            }),
            tls_audit: b.tls_audit,
            connect_only: b.connect_only.clone(),
            why: b.reason.clone(),
        }
    }

    /// The state of one host, created on first use, under its class budget from the
    /// start when a hint names its class.
    pub fn host(&self, addr: IpAddr) -> Arc<HostState> {
        let mut hosts = lock(&self.hosts);
        let hosts = &mut *hosts;
        hosts
            .live
            .entry(addr)
            .or_insert_with(|| {
                let resting = match addr {
                    IpAddr::V4(v4) => hosts.resting.remove(&u32::from(v4)),
                    IpAddr::V6(_) => None,
                };
                match resting {
                    Some(r) => Arc::new(self.wake(addr, r)),
                    None => Arc::new(self.fresh(addr)),
                }
            })
            .clone()
    }

    /// A host's state on first use, under its class budget from the start when a
    /// hint names its class.
    fn fresh(&self, addr: IpAddr) -> HostState {
        let budget = self.hints.get(addr).map(|h| self.applied(h));
        let rate = budget
            .as_ref()
            .map_or(self.settings.host_rate_pps, |b| b.frames_per_s);
        let conns = budget
            .as_ref()
            .map_or(self.settings.host_concurrency, |b| b.inflight);
        HostState {
            lane: Mutex::new(Lane::new(rate, self.origin)),
            inflight: Arc::new(Semaphore::new(conns as usize)),
            inflight_cap: Mutex::new(conns),
            rtt: Mutex::new(RttEstimator::default()),
            sent: AtomicU64::new(0),
            budget: Mutex::new(budget),
            link_charged: Mutex::new(None),
        }
    }

    /// The live state of a host at rest again: its lane unfolded, its counts carried
    /// on, the default budget otherwise (a host with any other does not rest).
    fn wake(&self, addr: IpAddr, r: Resting) -> HostState {
        let mut h = self.fresh(addr);
        let (pacer, window) = r.lane.unfold(self.settings.host_rate_pps, self.origin);
        let lane = h.lane.get_mut().unwrap_or_else(PoisonError::into_inner);
        lane.pacer = pacer;
        lane.window = window;
        *h.sent.get_mut() = u64::from(r.sent);
        *h.link_charged
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = at_ms(self.origin, r.link_ms);
        h
    }

    /// Folds the state of `addr` into a small record while nothing holds it, when it
    /// folds without changing what the host may be sent (see [`Resting`]): an IPv4
    /// host with no class budget, no round trip measured, not slowed and no frames
    /// expected. Its next probe unfolds it. Returns whether it was folded.
    ///
    /// Callers that are done with an address for now call this, so a large scope
    /// holds live state only for the addresses being probed.
    pub fn rest(&self, addr: IpAddr) -> bool {
        let IpAddr::V4(v4) = addr else { return false };
        let now = Instant::now();
        let mut hosts = lock(&self.hosts);
        let Some(h) = hosts.live.get(&addr) else {
            return false;
        };
        // Under the lock, and the map's the only reference: no one can take another.
        if Arc::strong_count(h) != 1
            || lock(&h.budget).is_some()
            || lock(&h.rtt).samples() > 0
            || *lock(&h.inflight_cap) != self.settings.host_concurrency
        {
            return false;
        }
        let link_ms = match *lock(&h.link_charged) {
            None => Some(NEVER),
            Some(at) => ms_down(self.origin, at),
        };
        let resting = {
            let mut lane = lock(&h.lane);
            let lane = &mut *lane;
            if !lane.claims.is_empty() || lane.closing != 0 {
                return false;
            }
            let folded = FoldedLane::fold(
                &lane.pacer,
                &mut lane.window,
                self.settings.host_rate_pps,
                now,
            );
            match (folded, u32::try_from(h.sent()), link_ms) {
                (Some(lane), Ok(sent), Some(link_ms)) => Resting {
                    lane,
                    sent,
                    link_ms,
                },
                _ => return false,
            }
        };
        self.note_busiest(addr, resting.lane.tally().peak_second);
        hosts.live.remove(&addr);
        hosts.resting.insert(u32::from(v4), resting);
        true
    }

    /// Keeps the busiest host's second up to date.
    fn note_busiest(&self, addr: IpAddr, peak_second: u32) {
        let mut busiest = lock(&self.busiest_host);
        if peak_second > busiest.0 {
            *busiest = (peak_second, Some(addr));
        }
    }

    /// A host at rest, as the tally of a forgotten one.
    fn tally_resting(&self, addr: IpAddr, r: &Resting) -> HostTally {
        let frames = r.lane.tally();
        self.note_busiest(addr, frames.peak_second);
        HostTally {
            probes: u64::from(r.sent),
            frames,
            budget: Some(self.default_budget()),
        }
    }

    /// Whether a class budget known so far (the ledger's kind, the MAC vendor's class)
    /// holds `addr` below the scan's per-host limits: such a host takes longest to scan.
    /// Creates no state for the host.
    pub fn is_slowed(&self, addr: IpAddr) -> bool {
        let slower = |b: &AppliedBudget| {
            b.frames_per_s < self.settings.host_rate_pps
                || b.inflight < self.settings.host_concurrency
        };
        if let Some(h) = lock(&self.hosts).live.get(&addr) {
            return lock(&h.budget).as_ref().is_some_and(slower);
        }
        self.hints
            .get(addr)
            .is_some_and(|h| slower(&self.applied(h)))
    }

    /// Learns a host's class during the scan (an open port, the MAC vendor). The class
    /// budget applies from now on, unless a more trusted source already set one.
    /// Returns true if the budget changed.
    pub fn learn_class(&self, addr: IpAddr, hint: &ClassHint) -> bool {
        let host = self.host(addr);
        let applied = self.applied(hint);
        let mut current = lock(&host.budget);
        if current.as_ref().is_some_and(|c| c.source <= hint.source) {
            return false;
        }
        {
            let mut lane = lock(&host.lane);
            lane.pacer.set_rate(applied.frames_per_s);
            lane.window.set_cap(applied.frames_per_s);
        }
        let mut cap = lock(&host.inflight_cap);
        if applied.inflight < *cap {
            let fewer = *cap - applied.inflight;
            *cap = applied.inflight;
            // Slots in use are given back as their connections end; then they are
            // taken out of the host's pool for good.
            let forgotten = host.inflight.forget_permits(fewer as usize);
            let left = fewer as usize - forgotten;
            if left > 0 {
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    let sem = host.inflight.clone();
                    rt.spawn(async move {
                        if let Ok(p) = sem.acquire_many_owned(left as u32).await {
                            p.forget();
                        }
                    });
                }
            }
        }
        *current = Some(applied);
        true
    }

    /// An open port that only one kind of device offers tells the host's class: its
    /// budget applies from this moment (see [`Self::learn_class`]), and the change is
    /// logged once.
    pub fn learn_from_open_port(&self, addr: IpAddr, port: u16) {
        if let Some(hint) = self.rules.class_of_port(port) {
            if self.learn_class(addr, &hint) {
                tracing::info!(host = %addr, class = %hint.class, "{}", hint.reason);
            }
        }
    }

    /// Drops the state of a host that will get no more probes, returning its figures.
    /// Large scopes stay small in memory this way.
    pub fn forget(&self, addr: IpAddr) -> HostTally {
        let (live, resting) = {
            let mut hosts = lock(&self.hosts);
            let live = hosts.live.remove(&addr);
            let resting = match addr {
                IpAddr::V4(v4) if live.is_none() => hosts.resting.remove(&u32::from(v4)),
                _ => None,
            };
            (live, resting)
        };
        match (live, resting) {
            (Some(h), _) => self.tally_of(addr, &h),
            (None, Some(r)) => self.tally_resting(addr, &r),
            (None, None) => HostTally::default(),
        }
    }

    /// A host's figures so far, without forgetting it.
    pub fn tally(&self, addr: IpAddr) -> HostTally {
        let h = self.host(addr);
        self.tally_of(addr, &h)
    }

    fn tally_of(&self, addr: IpAddr, h: &HostState) -> HostTally {
        let frames = h.tally();
        self.note_busiest(addr, frames.peak_second);
        // A host whose class stayed unknown still had a budget: the default one.
        let budget = h.budget().unwrap_or_else(|| self.default_budget());
        HostTally {
            probes: h.sent(),
            frames,
            budget: Some(budget),
        }
    }

    /// The budget of a host whose class stayed unknown.
    fn default_budget(&self) -> AppliedBudget {
        self.applied(&ClassHint {
            class: "unknown".to_owned(),
            source: ClassSource::Default,
            reason: "no ledger kind, passive hint, MAC vendor or telling open port".to_owned(),
        })
    }

    /// Scan-wide frame figures so far. Hosts still held count once they are forgotten
    /// or tallied.
    pub fn frame_stats(&self) -> FrameStats {
        let (overall, unplanned) = {
            let scan = lock(&self.scan);
            (scan.window.tally(), scan.window.unplanned_tally())
        };
        let (peak_second_host, peak_host) = *lock(&self.busiest_host);
        FrameStats {
            frames_sent: overall.frames,
            peak_second: overall.peak_second,
            peak_second_host,
            peak_host,
            unplanned: unplanned.frames,
            unplanned_peak_second: unplanned.peak_second,
        }
    }

    /// Keeps only the state of hosts for which `keep` is true.
    pub fn retain(&self, mut keep: impl FnMut(&IpAddr) -> bool) {
        let dropped: Vec<(IpAddr, Arc<HostState>)> = {
            let mut hosts = lock(&self.hosts);
            // A resting host's busiest second was noted when it came to rest.
            hosts
                .resting
                .retain(|&a, _| keep(&IpAddr::V4(Ipv4Addr::from(a))));
            let gone: Vec<IpAddr> = hosts.live.keys().filter(|a| !keep(a)).copied().collect();
            gone.into_iter()
                .filter_map(|a| hosts.live.remove(&a).map(|h| (a, h)))
                .collect()
        };
        for (a, h) in dropped {
            self.note_busiest(a, h.tally().peak_second);
        }
    }

    /// Halves the rate to a host that has stopped answering.
    pub fn slow_host(&self, addr: IpAddr) {
        lock(&self.host(addr).lane).pacer.slow_down(2);
    }

    /// Waits until a probe of `kind` to `cleared` may be sent. Returns `None` if the
    /// scan is cancelled while waiting; nothing has been counted or sent then.
    pub async fn admit(
        &self,
        cleared: Cleared,
        kind: ProbeKind,
        cancel: &CancellationToken,
    ) -> Option<Admission> {
        self.admit_costing(cleared, kind, kind.cost(), cancel).await
    }

    /// [`Governor::admit`] for a probe whose frames are known better than its kind
    /// says (an HTTP fetch made by a client that opens its own connection).
    pub async fn admit_costing(
        &self,
        cleared: Cleared,
        kind: ProbeKind,
        cost: FrameCost,
        cancel: &CancellationToken,
    ) -> Option<Admission> {
        let host = self.host(cleared.addr());
        let meter = FrameMeter {
            host: host.clone(),
            scan: self.scan.clone(),
        };
        let wait = async {
            let host_slot = host.inflight.clone().acquire_owned().await.ok()?;
            let scan_slot = self.inflight.clone().acquire_owned().await.ok()?;
            Some((host_slot, scan_slot))
        };
        let (host_slot, scan_slot) = tokio::select! {
            biased;
            _ = cancel.cancelled() => return None,
            slots = wait => slots?,
        };
        // kenshin's own ARP requests resolve nothing for the kernel (it ignores replies
        // it did not ask for), so it asks again before the first IP frame.
        let mut cost = cost;
        if kind != ProbeKind::Arp && self.kernel_arp_due(cleared.addr(), &host, Instant::now()) {
            cost.now += 1;
        }
        if !meter.charge(cost, cancel).await {
            return None;
        }
        host.sent.fetch_add(1, Ordering::Relaxed);
        let counter = match kind {
            ProbeKind::Icmp => &self.counters.icmp,
            ProbeKind::Arp => &self.counters.arp,
            ProbeKind::Tcp => &self.counters.tcp,
            ProbeKind::Udp => &self.counters.udp,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Some(Admission {
            cleared,
            host,
            scan_rtt: self.scan_rtt.clone(),
            bounds: self.settings.timeouts,
            meter,
            expected: std::sync::atomic::AtomicU32::new(cost.expected),
            lent: std::sync::atomic::AtomicU32::new(0),
            _host_slot: host_slot,
            _scan_slot: scan_slot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{AddrRange, Scope, ScopeGuard, DEFAULT_SCOPE_LIMIT};

    fn guard() -> ScopeGuard {
        let r = AddrRange::cidr("198.18.0.0".parse().expect("addr"), 24);
        ScopeGuard::new(Scope::new(vec![r], vec![], DEFAULT_SCOPE_LIMIT, false).expect("scope"))
    }

    #[tokio::test(start_paused = true)]
    async fn the_kernels_own_arp_request_is_charged_once_per_fresh_neighbour_on_link_only() {
        let gov = Governor::new(SafetySettings::default());
        gov.set_on_link(vec![(
            "198.18.0.0".parse().expect("net"),
            "255.255.255.128".parse().expect("mask"),
        )]);
        let cancel = CancellationToken::new();
        let frames = |addr: &str| gov.tally(addr.parse().expect("addr")).frames.frames;
        let probe = |addr: &'static str, kind| {
            let target = guard()
                .clear(addr.parse().expect("addr"))
                .expect("in scope");
            let gov = &gov;
            let cancel = &cancel;
            async move { drop(gov.admit(target, kind, cancel).await) }
        };
        // On the link: the first echo costs the kernel's ARP request and the echo.
        probe("198.18.0.7", ProbeKind::Icmp).await;
        assert_eq!(frames("198.18.0.7"), 2);
        // kenshin's own ARP request is the frame itself, nothing more.
        probe("198.18.0.8", ProbeKind::Arp).await;
        assert_eq!(frames("198.18.0.8"), 1);
        // While the neighbour entry is fresh, a SYN costs only itself (room for what may
        // follow is kept until its outcome is known).
        probe("198.18.0.7", ProbeKind::Tcp).await;
        assert_eq!(frames("198.18.0.7"), 3);
        // Once it may have gone stale, the kernel asks again.
        tokio::time::advance(NEIGHBOUR_FRESH).await;
        probe("198.18.0.7", ProbeKind::Icmp).await;
        assert_eq!(frames("198.18.0.7"), 5);
        // Beyond the connected segment the router answers for it: no ARP of ours.
        probe("198.18.0.200", ProbeKind::Icmp).await;
        assert_eq!(frames("198.18.0.200"), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn one_host_is_never_sent_more_than_its_rate() {
        let gov = Governor::new(SafetySettings {
            host_rate_pps: 40,
            ..SafetySettings::default()
        });
        let target = guard()
            .clear("198.18.0.7".parse().expect("addr"))
            .expect("in scope");
        let cancel = CancellationToken::new();
        let start = Instant::now();
        for _ in 0..41 {
            drop(gov.admit(target, ProbeKind::Tcp, &cancel).await);
        }
        // 41 probes at 40/s: the 41st goes no earlier than one second after the first.
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(gov.counters().tcp.load(Ordering::Relaxed), 41);
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_put_to_rest_after_every_probe_keeps_its_rate_and_its_counts() {
        let gov = Governor::new(SafetySettings {
            host_rate_pps: 40,
            ..SafetySettings::default()
        });
        let target = guard()
            .clear("198.18.0.9".parse().expect("addr"))
            .expect("in scope");
        let cancel = CancellationToken::new();
        let mut wire = Vec::new();
        for _ in 0..81 {
            let admitted = gov.admit(target, ProbeKind::Icmp, &cancel).await;
            wire.push(Instant::now());
            drop(admitted);
            assert!(
                gov.rest(target.addr()),
                "an idle silent host is put to rest"
            );
        }
        // Folding rounds towards the stricter side, so a woken host may wait a little
        // longer than a live one, and never sends more in any second.
        let worst = worst_second(&wire);
        assert!(worst <= 40, "{worst} frames in one second");
        assert!(
            wire[80] - wire[0] >= Duration::from_secs(2),
            "{:?}",
            wire[80] - wire[0]
        );
        let tally = gov.forget(target.addr());
        assert_eq!(tally.probes, 81);
        assert_eq!(tally.frames.frames, 81);
        assert_eq!(tally.frames.peak_second, worst as u32);
        assert_eq!(gov.frame_stats().peak_second_host, worst as u32);
        assert_eq!(gov.frame_stats().peak_host, Some(target.addr()));

        // The window carries over too, not only the pacer: two sends of 30 frames are
        // paced 750 ms apart at 40/s, but the second must wait until the first's frames
        // have left the last second.
        let burst = FrameCost {
            now: 30,
            expected: 0,
        };
        let first = gov
            .admit_costing(target, ProbeKind::Tcp, burst, &cancel)
            .await;
        let sent_at = Instant::now();
        drop(first);
        assert!(gov.rest(target.addr()));
        drop(
            gov.admit_costing(target, ProbeKind::Tcp, burst, &cancel)
                .await,
        );
        assert!(sent_at.elapsed() >= WINDOW, "{:?}", sent_at.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_in_use_with_a_class_or_a_measured_round_trip_stays_live() {
        let gov = Governor::new(SafetySettings::default());
        let g = guard();
        let cancel = CancellationToken::new();
        let addr = |a: &str| -> IpAddr { a.parse().expect("addr") };
        // Unknown to the governor: nothing to fold.
        assert!(!gov.rest(addr("198.18.0.1")));
        // Held by a probe in flight.
        let held = gov
            .admit(
                g.clear(addr("198.18.0.2")).expect("in scope"),
                ProbeKind::Icmp,
                &cancel,
            )
            .await
            .expect("admitted");
        assert!(!gov.rest(addr("198.18.0.2")));
        drop(held);
        assert!(gov.rest(addr("198.18.0.2")));
        // A class learned during the scan.
        gov.learn_from_open_port(addr("198.18.0.3"), 104);
        assert!(gov.is_slowed(addr("198.18.0.3")));
        assert!(!gov.rest(addr("198.18.0.3")));
        // A round trip measured.
        let answered = gov
            .admit(
                g.clear(addr("198.18.0.4")).expect("in scope"),
                ProbeKind::Icmp,
                &cancel,
            )
            .await
            .expect("admitted");
        answered.observe_rtt(Duration::from_millis(3));
        drop(answered);
        assert!(!gov.rest(addr("198.18.0.4")));
        // Slowed after it stopped answering.
        gov.slow_host(addr("198.18.0.5"));
        assert!(!gov.rest(addr("198.18.0.5")));
        // IPv6 hosts are few: they stay live.
        let v6 = Governor::new(SafetySettings::default());
        drop(v6.host(addr("2001:db8::1")));
        assert!(!v6.rest(addr("2001:db8::1")));
    }

    #[tokio::test(start_paused = true)]
    async fn many_hosts_share_the_global_rate() {
        let gov = Arc::new(Governor::new(SafetySettings {
            rate_pps: 100,
            host_rate_pps: 100,
            ..SafetySettings::default()
        }));
        let g = guard();
        let cancel = CancellationToken::new();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 1..=10u8 {
            let target = g.clear(IpAddr::from([198, 18, 0, i])).expect("in scope");
            let (gov, cancel) = (gov.clone(), cancel.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..20 {
                    drop(gov.admit(target, ProbeKind::Udp, &cancel).await);
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        // 200 probes at 100/s overall take at least 1.99 s, though each host alone could go faster.
        assert!(
            start.elapsed() >= Duration::from_millis(1990),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_of_many_frames_is_not_starved_by_a_stream_of_small_ones() {
        let gov = Arc::new(Governor::new(SafetySettings {
            rate_pps: 100,
            host_rate_pps: 1000,
            ..SafetySettings::default()
        }));
        let g = guard();
        let cancel = CancellationToken::new();
        let stop = CancellationToken::new();
        // Ten hosts' SYNs, each taking the little room the window frees (a SYN now and
        // room for its RST, which then goes), for as long as the test lasts.
        let mut tasks = Vec::new();
        for i in 1..=10u8 {
            let target = g.clear(IpAddr::from([198, 18, 0, i])).expect("in scope");
            let (gov, cancel, stop) = (gov.clone(), cancel.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.is_cancelled() {
                    if let Some(adm) = gov.admit(target, ProbeKind::Tcp, &cancel).await {
                        adm.arrived(1);
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        // An HTTPS fetch keeps room for 12 frames before it starts.
        let target = g.clear(IpAddr::from([198, 18, 0, 50])).expect("in scope");
        let asked = Instant::now();
        let fetch = FrameCost {
            now: 1,
            expected: 11,
        };
        let adm = tokio::time::timeout(
            Duration::from_secs(10),
            gov.admit_costing(target, ProbeKind::Tcp, fetch, &cancel),
        )
        .await;
        let waited = asked.elapsed();
        stop.cancel();
        for t in tasks {
            t.await.expect("task");
        }
        assert!(
            matches!(adm, Ok(Some(_))),
            "the fetch was never admitted while the SYNs went on"
        );
        // It claims room after 100 ms of waiting; the room frees as the last second's
        // frames age out.
        assert!(waited <= Duration::from_millis(1200), "waited {waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn sends_that_claim_room_never_hold_each_other_up() {
        // Forty slow hosts (5 frames/s each) and a scan of 100 frames/s: SYNs and large
        // sends wait long enough to claim room, and every one of them still goes.
        let gov = Arc::new(Governor::new(SafetySettings {
            rate_pps: 100,
            host_rate_pps: 5,
            ..SafetySettings::default()
        }));
        let g = guard();
        let cancel = CancellationToken::new();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 1..=40u8 {
            let target = g.clear(IpAddr::from([198, 18, 0, i])).expect("in scope");
            let (gov, cancel) = (gov.clone(), cancel.clone());
            tasks.push(tokio::spawn(async move {
                for n in 0..6 {
                    let cost = if n % 3 == 0 {
                        FrameCost {
                            now: 1,
                            expected: 3,
                        }
                    } else {
                        ProbeKind::Tcp.cost()
                    };
                    if let Some(adm) = gov
                        .admit_costing(target, ProbeKind::Tcp, cost, &cancel)
                        .await
                    {
                        adm.arrived(cost.expected);
                    }
                }
            }));
        }
        let all = futures::future::join_all(tasks);
        let done = tokio::time::timeout(Duration::from_secs(60), all).await;
        assert!(done.is_ok(), "probes still waiting after 60 s");
        // 40 hosts × (2 × 4 + 4 × 2) frames = 640 frames at 95 a second: about 7 s.
        assert!(
            start.elapsed() <= Duration::from_secs(12),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_never_has_more_probes_in_flight_than_its_cap() {
        let gov = Governor::new(SafetySettings {
            host_concurrency: 2,
            ..SafetySettings::default()
        });
        let target = guard()
            .clear("198.18.0.9".parse().expect("addr"))
            .expect("in scope");
        let cancel = CancellationToken::new();
        let a = gov.admit(target, ProbeKind::Tcp, &cancel).await;
        let b = gov.admit(target, ProbeKind::Tcp, &cancel).await;
        assert!(a.is_some() && b.is_some());
        let third = tokio::time::timeout(
            Duration::from_secs(5),
            gov.admit(target, ProbeKind::Tcp, &cancel),
        )
        .await;
        assert!(
            third.is_err(),
            "a third probe was admitted while two were in flight"
        );
        drop(a);
        let third = tokio::time::timeout(
            Duration::from_secs(5),
            gov.admit(target, ProbeKind::Tcp, &cancel),
        )
        .await;
        assert!(matches!(third, Ok(Some(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_wait_sends_nothing() {
        let gov = Governor::new(SafetySettings {
            host_concurrency: 1,
            ..SafetySettings::default()
        });
        let target = guard()
            .clear("198.18.0.9".parse().expect("addr"))
            .expect("in scope");
        let cancel = CancellationToken::new();
        let _held = gov.admit(target, ProbeKind::Tcp, &cancel).await;
        cancel.cancel();
        assert!(gov.admit(target, ProbeKind::Tcp, &cancel).await.is_none());
        assert_eq!(gov.counters().total(), 1);
    }

    /// Admits `n` TCP probes to `target` one after another, each finding the port
    /// open with a kernel that sends the handshake's ACK (ACK and RST on the wire at
    /// once, one frame beyond the room kept), and returns the frames' times.
    async fn open_port_connects(gov: &Governor, target: Cleared, n: usize) -> Vec<Instant> {
        let cancel = CancellationToken::new();
        let mut wire = Vec::new();
        for _ in 0..n {
            let adm = gov
                .admit(target, ProbeKind::Tcp, &cancel)
                .await
                .expect("admitted");
            wire.extend([Instant::now(); 3]);
            adm.arrived(2);
        }
        wire
    }

    fn worst_second(wire: &[Instant]) -> usize {
        wire.iter()
            .map(|&from| {
                wire.iter()
                    .filter(|&&t| t >= from && t < from + WINDOW)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn every_second_of_connects_holds_the_host_cap_counted_in_frames() {
        let gov = Governor::new(SafetySettings {
            host_rate_pps: 40,
            ..SafetySettings::default()
        });
        let target = guard()
            .clear("198.18.0.7".parse().expect("addr"))
            .expect("in scope");
        let wire = open_port_connects(&gov, target, 100).await;
        // 100 connects are 300 frames: at 40 frames/s that takes more than 7 s, and no
        // second carries more than 40 (+5 %).
        let worst = worst_second(&wire);
        assert!(worst <= 42, "{worst} frames in one second");
        assert_eq!(gov.tally(target.addr()).frames.frames, 300);
        assert!(gov.tally(target.addr()).frames.peak_second <= 42);
        assert!(gov.frame_stats().peak_second <= 42);
    }

    #[tokio::test(start_paused = true)]
    async fn room_lent_for_a_closing_rst_serves_other_probes_until_the_rst_takes_it_back() {
        let gov = Arc::new(Governor::new(SafetySettings {
            rate_pps: 20,
            host_rate_pps: 1000,
            ..SafetySettings::default()
        }));
        let g = guard();
        let cancel = CancellationToken::new();
        let open = g.clear(IpAddr::from([198, 18, 0, 1])).expect("in scope");
        let connect = gov
            .admit(open, ProbeKind::Tcp, &cancel)
            .await
            .expect("admitted");
        connect.lend_closing_room(1);
        let second = Instant::now() + WINDOW;
        // The scan's lane plans for 19 frames a second: the SYN, and 18 more probes,
        // one of them in the room the RST would have kept.
        let mut echoes = 0;
        for i in 2..=40u8 {
            let other = g.clear(IpAddr::from([198, 18, 0, i])).expect("in scope");
            gov.admit(other, ProbeKind::Icmp, &cancel)
                .await
                .expect("admitted");
            if Instant::now() >= second {
                break;
            }
            echoes += 1;
        }
        assert_eq!(echoes, 18, "the lent room served another probe");
        // The port turns out open: its RST waits for room, ahead of a probe that asked
        // before it.
        let late = g.clear(IpAddr::from([198, 18, 0, 60])).expect("in scope");
        let waiting = {
            let (gov, cancel) = (gov.clone(), cancel.clone());
            tokio::spawn(async move {
                let adm = gov.admit(late, ProbeKind::Icmp, &cancel).await;
                (Instant::now(), adm.is_some())
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        connect.keep_closing_room().await;
        let rst_at = Instant::now();
        connect.arrived(1);
        drop(connect);
        let (echo_at, admitted) = waiting.await.expect("task");
        assert!(admitted);
        assert!(rst_at <= echo_at, "the RST waited behind a new probe");
        let stats = gov.frame_stats();
        assert_eq!(stats.frames_sent, 1 + 19 + 1 + 1);
        assert!(
            stats.peak_second <= 20,
            "{} in one second",
            stats.peak_second
        );
        // A silent port past the answer horizon gives back the room it kept: the host's
        // lane's (the scan's was lent), and nothing more goes out.
        let silent = g.clear(IpAddr::from([198, 18, 0, 70])).expect("in scope");
        let connect = gov
            .admit(silent, ProbeKind::Tcp, &cancel)
            .await
            .expect("admitted");
        connect.lend_closing_room(1);
        connect.release_expected(0);
        connect.arrived(0);
        drop(connect);
        assert_eq!(gov.frame_stats().frames_sent, 1 + 19 + 1 + 1 + 1);
        assert_eq!(lock(&gov.scan).window.expected_frames(), 0);
        assert_eq!(
            lock(&gov.host(silent.addr()).lane).window.expected_frames(),
            0
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_ledger_class_holds_from_the_first_frame_and_an_open_port_narrows_later() {
        let mut hints = ClassHints::default();
        let device: IpAddr = "198.18.0.20".parse().expect("addr");
        hints.add(
            device,
            ClassHint {
                class: "medical_device".into(),
                source: ClassSource::Ledger,
                reason: "ledger row 2: kind 医療機器".into(),
            },
        );
        let gov = Governor::with_classes(
            SafetySettings::default(),
            Arc::default(),
            Arc::new(SafetyRules::builtin().expect("rules")),
            Arc::new(hints),
        );
        let g = guard();
        let ledgered = g.clear(device).expect("in scope");
        let wire = open_port_connects(&gov, ledgered, 20).await;
        assert!(worst_second(&wire) <= 10, "{}", worst_second(&wire));
        let b = gov.host(device).budget().expect("budget");
        assert_eq!(
            (b.class.as_str(), b.frames_per_s, b.inflight),
            ("medical_device", 10, 2)
        );
        assert_eq!(b.source, ClassSource::Ledger);

        // A host of unknown class runs at the scan's rate until port 104 shows it is a
        // DICOM modality; from then on it gets the medical-device budget.
        let other = g
            .clear("198.18.0.21".parse().expect("addr"))
            .expect("in scope");
        let before = open_port_connects(&gov, other, 30).await;
        assert!(worst_second(&before) > 10);
        let hint = gov.rules().class_of_port(104).expect("104 tells a class");
        assert!(gov.learn_class(other.addr(), &hint));
        tokio::time::sleep(WINDOW).await;
        let after = open_port_connects(&gov, other, 20).await;
        assert!(worst_second(&after) <= 10, "{}", worst_second(&after));
        // The ledger outranks what a port says.
        let printer = gov.rules().class_of_port(9100).expect("9100");
        assert!(!gov.learn_class(device, &printer));
    }

    #[test]
    fn out_of_range_settings_name_the_setting() {
        let bad = SafetySettings {
            rate_pps: 0,
            ..SafetySettings::default()
        };
        let err = bad.validate().expect_err("rate 0").to_string();
        assert!(err.contains("rate = 0"), "{err}");
    }
}
