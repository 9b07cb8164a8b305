//! Where a scan's time goes: the wall time of each phase, and the time hosts spent
//! in each stage of their own scan, summed over hosts (they overlap: a hundred hosts
//! are port-scanned at once, and a host is identified while others are port-scanned).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::observation::ScanTiming;

/// Busy time summed over hosts, in microseconds, added to by every host task.
#[derive(Debug, Default)]
pub(super) struct HostTime {
    pub(super) tcp_us: AtomicU64,
    pub(super) udp_us: AtomicU64,
    pub(super) identify_us: AtomicU64,
    pub(super) tls_us: AtomicU64,
    pub(super) names_us: AtomicU64,
}

impl HostTime {
    /// Adds the time since `since` to `slot`.
    pub(super) fn add(&self, slot: &AtomicU64, since: Instant) {
        let us = u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
        slot.fetch_add(us, Ordering::Relaxed);
    }
}

/// The phase boundaries of one scan, in the order they pass.
#[derive(Debug)]
pub(super) struct Phases {
    start: Instant,
    marks: Vec<(&'static str, Instant)>,
}

impl Phases {
    pub(super) fn start() -> Self {
        Self {
            start: Instant::now(),
            marks: Vec::new(),
        }
    }

    /// The phase `name` ended now.
    pub(super) fn mark(&mut self, name: &'static str) {
        self.marks.push((name, Instant::now()));
    }

    /// Milliseconds each phase took, and the host stages' summed busy times.
    pub(super) fn finish(&self, hosts: &HostTime) -> ScanTiming {
        let mut phases = Vec::new();
        let mut from = self.start;
        for (name, at) in &self.marks {
            phases.push(((*name).to_owned(), ms(at.duration_since(from).as_micros())));
            from = *at;
        }
        let us = |a: &AtomicU64| a.load(Ordering::Relaxed) / 1000;
        ScanTiming {
            phases_ms: phases,
            host_tcp_ms: us(&hosts.tcp_us),
            host_udp_ms: us(&hosts.udp_us),
            host_identify_ms: us(&hosts.identify_us),
            host_tls_audit_ms: us(&hosts.tls_us),
            host_names_ms: us(&hosts.names_us),
        }
    }
}

fn ms(us: u128) -> u64 {
    u64::try_from(us / 1000).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn phases_are_measured_from_the_end_of_the_one_before() {
        let mut p = Phases::start();
        std::thread::sleep(Duration::from_millis(20));
        p.mark("discovery");
        std::thread::sleep(Duration::from_millis(30));
        p.mark("port scan");
        let hosts = HostTime::default();
        hosts.add(&hosts.tls_us, Instant::now() - Duration::from_millis(5));
        let t = p.finish(&hosts);
        assert_eq!(t.phases_ms.len(), 2);
        assert_eq!(t.phases_ms[0].0, "discovery");
        assert!(t.phases_ms[0].1 >= 20 && t.phases_ms[1].1 >= 30, "{t:?}");
        assert!(t.host_tls_audit_ms >= 5);
        assert_eq!(t.host_tcp_ms, 0);
    }
}
