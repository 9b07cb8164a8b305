//! The safety governor: every probe of every kind waits here before it is sent.
//!
//! It enforces, for ICMP, ARP, TCP and UDP alike:
//! - a global packet rate (`rate_pps`), paced evenly with no bursts;
//! - a per-host packet rate (`host_rate_pps`), paced the same way;
//! - a per-host cap on probes in flight (`host_concurrency`), so a small
//!   embedded TCP stack never sees more than a few half-open connections
//!   from kenshin at once;
//! - a global cap on probes in flight, bounded by the file-descriptor limit.
//!
//! [`Governor::admit`] takes a [`Cleared`] address, so the scope guard has
//! always been consulted first, and returns an [`Admission`] that the sending
//! functions require. Dropping the admission releases its concurrency slots.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

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

/// What kind of packet a probe sends, for the counters in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Icmp,
    Arp,
    Tcp,
    Udp,
}

/// Evenly spaced send slots: each caller gets the next slot at least `interval` after
/// the previous one. Idle time is not banked, so there are never bursts.
#[derive(Debug)]
struct Pacer {
    interval: Mutex<Duration>,
    next: Mutex<Option<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave their plain values inconsistent.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Pacer {
    fn new(rate_pps: u32) -> Self {
        Self {
            interval: Mutex::new(Duration::from_secs(1) / rate_pps.max(1)),
            next: Mutex::new(None),
        }
    }

    fn reserve(&self) -> Instant {
        let interval = *lock(&self.interval);
        let mut next = lock(&self.next);
        let now = Instant::now();
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + interval);
        slot
    }

    fn slow_down(&self, factor: u32) {
        let mut i = lock(&self.interval);
        *i = (*i * factor).min(Duration::from_secs(2));
    }
}

/// Per-host state the governor keeps.
#[derive(Debug)]
pub struct HostState {
    pacer: Pacer,
    inflight: Arc<Semaphore>,
    rtt: Mutex<RttEstimator>,
    sent: AtomicU64,
}

impl HostState {
    /// Packets sent to this host so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

/// Counters of packets sent, by kind.
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

/// Permission to send one probe to one cleared address, now.
#[derive(Debug)]
pub struct Admission {
    cleared: Cleared,
    host: Arc<HostState>,
    scan_rtt: Arc<Mutex<RttEstimator>>,
    bounds: TimeoutBounds,
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

    /// Records a measured round trip to this host.
    pub fn observe_rtt(&self, rtt: Duration) {
        lock(&self.host.rtt).observe(rtt);
        lock(&self.scan_rtt).observe(rtt);
    }
}

/// The scan-wide governor.
#[derive(Debug)]
pub struct Governor {
    settings: SafetySettings,
    pacer: Pacer,
    inflight: Arc<Semaphore>,
    hosts: Mutex<HashMap<IpAddr, Arc<HostState>>>,
    scan_rtt: Arc<Mutex<RttEstimator>>,
    counters: Arc<Counters>,
}

impl Governor {
    /// A governor for `settings`, which must have been validated.
    pub fn new(settings: SafetySettings) -> Self {
        Self::with_counters(settings, Arc::default())
    }

    /// A governor that counts into `counters`, which others (a progress display) may read.
    pub fn with_counters(settings: SafetySettings, counters: Arc<Counters>) -> Self {
        Self {
            settings,
            pacer: Pacer::new(settings.rate_pps),
            inflight: Arc::new(Semaphore::new(settings.max_inflight as usize)),
            hosts: Mutex::new(HashMap::new()),
            scan_rtt: Arc::new(Mutex::new(RttEstimator::default())),
            counters,
        }
    }

    /// The limits in force.
    pub fn settings(&self) -> SafetySettings {
        self.settings
    }

    /// Packets sent so far, by kind.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The state of one host, created on first use.
    pub fn host(&self, addr: IpAddr) -> Arc<HostState> {
        lock(&self.hosts)
            .entry(addr)
            .or_insert_with(|| {
                Arc::new(HostState {
                    pacer: Pacer::new(self.settings.host_rate_pps),
                    inflight: Arc::new(Semaphore::new(self.settings.host_concurrency as usize)),
                    rtt: Mutex::new(RttEstimator::default()),
                    sent: AtomicU64::new(0),
                })
            })
            .clone()
    }

    /// Drops the state of a host that will get no more probes, returning how many packets
    /// it was sent. Large scopes stay small in memory this way.
    pub fn forget(&self, addr: IpAddr) -> u64 {
        lock(&self.hosts).remove(&addr).map_or(0, |h| h.sent())
    }

    /// Keeps only the state of hosts for which `keep` is true.
    pub fn retain(&self, mut keep: impl FnMut(&IpAddr) -> bool) {
        lock(&self.hosts).retain(|a, _| keep(a));
    }

    /// Halves the rate to a host that has stopped answering.
    pub fn slow_host(&self, addr: IpAddr) {
        self.host(addr).pacer.slow_down(2);
    }

    /// Waits until a probe of `kind` to `cleared` may be sent. Returns `None` if the
    /// scan is cancelled while waiting; nothing has been counted or sent then.
    pub async fn admit(
        &self,
        cleared: Cleared,
        kind: ProbeKind,
        cancel: &CancellationToken,
    ) -> Option<Admission> {
        let host = self.host(cleared.addr());
        let wait = async {
            let host_slot = host.inflight.clone().acquire_owned().await.ok()?;
            let scan_slot = self.inflight.clone().acquire_owned().await.ok()?;
            tokio::time::sleep_until(host.pacer.reserve()).await;
            tokio::time::sleep_until(self.pacer.reserve()).await;
            Some((host_slot, scan_slot))
        };
        let (host_slot, scan_slot) = tokio::select! {
            biased;
            _ = cancel.cancelled() => return None,
            slots = wait => slots?,
        };
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
