//! Round-trip-time estimation and the probe timeouts derived from it.
//!
//! The estimator is the one TCP uses (RFC 6298): a smoothed RTT and its mean
//! deviation, with the timeout at `srtt + 4 × rttvar`, clamped. Each host keeps
//! its own; a scan-wide one answers for hosts that have not answered yet, so a
//! silent host is not waited on for the one-second initial timeout forever.

use std::time::Duration;

/// Bounds on the probe timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutBounds {
    /// The timeout used before any RTT has been measured.
    pub initial: Duration,
    /// Never wait less than this, however fast the network.
    pub min: Duration,
    /// Never wait more than this for one attempt.
    pub max: Duration,
}

impl Default for TimeoutBounds {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(1000),
            min: Duration::from_millis(100),
            max: Duration::from_millis(1500),
        }
    }
}

/// A smoothed RTT estimate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RttEstimator {
    srtt: Option<f64>,
    rttvar: f64,
    samples: u32,
}

impl RttEstimator {
    /// Adds one measured round trip.
    pub fn observe(&mut self, rtt: Duration) {
        let r = rtt.as_secs_f64();
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2.0;
            }
            Some(s) => {
                self.rttvar = 0.75 * self.rttvar + 0.25 * (s - r).abs();
                self.srtt = Some(0.875 * s + 0.125 * r);
            }
        }
        self.samples = self.samples.saturating_add(1);
    }

    /// Number of samples seen.
    pub fn samples(&self) -> u32 {
        self.samples
    }

    /// The smoothed RTT, if any sample was seen.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt.map(Duration::from_secs_f64)
    }

    /// `srtt + 4 × rttvar`, unclamped: how long an answer can be expected, or `None`
    /// without samples.
    pub fn horizon(&self) -> Option<Duration> {
        let s = self.srtt?;
        Some(Duration::from_secs_f64(s + 4.0 * self.rttvar))
    }

    /// The timeout for one attempt, or `None` without samples.
    pub fn timeout(&self, bounds: TimeoutBounds) -> Option<Duration> {
        let s = self.srtt?;
        let t = Duration::from_secs_f64(s + 4.0 * self.rttvar);
        Some(t.clamp(bounds.min, bounds.max))
    }
}

/// The timeout for attempt `attempt` (0 = first) from the host's and the scan's estimates:
/// the host's own if it has one, else the scan-wide one, else the initial timeout; each
/// retry doubles it, up to the maximum.
pub fn attempt_timeout(
    host: &RttEstimator,
    scan: &RttEstimator,
    bounds: TimeoutBounds,
    attempt: u32,
) -> Duration {
    let base = host
        .timeout(bounds)
        .or_else(|| scan.timeout(bounds))
        .unwrap_or(bounds.initial);
    base.saturating_mul(1 << attempt.min(4))
        .min(bounds.max.max(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_lan_is_clamped_to_the_minimum_timeout() {
        let mut e = RttEstimator::default();
        for _ in 0..10 {
            e.observe(Duration::from_micros(300));
        }
        let b = TimeoutBounds::default();
        assert_eq!(e.timeout(b), Some(b.min));
    }

    #[test]
    fn the_answer_horizon_follows_the_estimate_below_the_minimum_timeout() {
        let mut e = RttEstimator::default();
        assert_eq!(e.horizon(), None);
        for _ in 0..20 {
            e.observe(Duration::from_millis(2));
        }
        let h = e.horizon().expect("has samples");
        assert!(
            h >= Duration::from_millis(2) && h < Duration::from_millis(5),
            "{h:?}"
        );
        assert!(h < e.timeout(TimeoutBounds::default()).expect("has samples"));
    }

    #[test]
    fn a_jittery_link_gets_a_longer_timeout() {
        let mut e = RttEstimator::default();
        for ms in [20, 80, 20, 80, 20, 80] {
            e.observe(Duration::from_millis(ms));
        }
        let t = e.timeout(TimeoutBounds::default()).expect("has samples");
        assert!(t > Duration::from_millis(150), "{t:?}");
    }

    #[test]
    fn a_silent_host_borrows_the_scans_estimate_and_retries_wait_longer() {
        let b = TimeoutBounds::default();
        let host = RttEstimator::default();
        let mut scan = RttEstimator::default();
        assert_eq!(attempt_timeout(&host, &scan, b, 0), b.initial);
        scan.observe(Duration::from_millis(1));
        assert_eq!(attempt_timeout(&host, &scan, b, 0), b.min);
        assert_eq!(attempt_timeout(&host, &scan, b, 1), 2 * b.min);
        assert_eq!(attempt_timeout(&host, &scan, b, 9), b.max);
    }
}
