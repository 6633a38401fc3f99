//! When and how long to wait before sending a request again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Capped exponential back-off with full jitter: before retry `n` (0-based) wait a
/// random time in `[0, min(cap, base * 2^n))`. Full jitter spreads clients that failed
/// together, so they do not retry together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many times a failed request is sent again (0 disables retries).
    pub max_retries: u32,
    /// The ceiling of the first retry's wait; it doubles with every retry after.
    pub base_delay: Duration,
    /// The ceiling of any one wait, however many retries came before.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Every request is sent once: no retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (0-based).
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << retry.min(20))
            .min(self.max_delay);
        let nanos = ceiling.as_nanos() as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random_u64() % nanos)
    }
}

/// xorshift64*, seeded from the clock: jitter needs spread, not secrecy.
fn random_u64() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let now = crate::clock::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        x = (now.as_nanos() as u64) | 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    STATE.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let policy = RetryPolicy::default();
        for retry in 0..10 {
            let ceiling = (policy.base_delay * (1 << retry)).min(policy.max_delay);
            for _ in 0..50 {
                assert!(policy.delay(retry) < ceiling);
            }
        }
        // Full jitter: the waits are spread, not all the same.
        let waits: std::collections::BTreeSet<_> = (0..20).map(|_| policy.delay(3)).collect();
        assert!(waits.len() > 10);
    }
}
