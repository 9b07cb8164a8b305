//! How long a bundle that could not be pushed waits before the next try: doubling
//! from `min` with each failed try, never more than `max`, with jitter so that many
//! sensors cut off by the same outage do not all call headquarters at the same second
//! when it returns.

use std::time::Duration;

/// The retry schedule (`[fleet] retry_min`, `retry_max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failed try.
    pub min: Duration,
    /// The longest wait, however many tries failed.
    pub max: Duration,
}

impl Default for Backoff {
    /// 30 s after the first failure, doubling up to 30 min.
    fn default() -> Self {
        Backoff {
            min: Duration::from_secs(30),
            max: Duration::from_secs(30 * 60),
        }
    }
}

impl Backoff {
    /// The wait after `failures` failed tries (1 for the first), before jitter:
    /// `min × 2^(failures−1)`, capped at `max`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(32);
        self.min
            .checked_mul(1u32 << doublings.min(31))
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The wait after `failures` failed tries with `jitter` in `[0, 1)` applied: between
    /// half the ceiling and the ceiling ("equal jitter"), so a wait never collapses to
    /// nothing and never exceeds `max`.
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let ceiling = self.ceiling(failures);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        ceiling.mul_f64(0.5 + 0.5 * jitter).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_min_and_stops_at_max() {
        let b = Backoff {
            min: Duration::from_secs(30),
            max: Duration::from_secs(600),
        };
        let ceilings: Vec<u64> = (1..=8).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [30, 60, 120, 240, 480, 600, 600, 600]);
        assert_eq!(
            b.ceiling(u32::MAX),
            b.max,
            "no overflow after endless failures"
        );
    }

    #[test]
    fn jitter_keeps_each_wait_between_half_its_ceiling_and_the_ceiling() {
        let b = Backoff::default();
        for n in [1, 2, 5, 40, u32::MAX] {
            for j in [0.0, 0.25, 0.999_999, 1.0, -3.0, f64::NAN] {
                let d = b.delay(n, j);
                assert!(d >= b.ceiling(n) / 2 && d <= b.ceiling(n), "{n} {j}: {d:?}");
                assert!(d <= b.max && d >= b.min / 2);
            }
        }
        assert!(
            b.delay(3, 0.9) > b.delay(3, 0.1),
            "jitter spreads the waits"
        );
    }
}
