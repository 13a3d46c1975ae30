//! Per-visitor message rate limit: a token bucket (burst 20, refilled at 1 per second,
//! i.e. 10 messages per 10 s sustained). Kept in memory per node: a limit, not an account.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Bucket size (burst).
pub const BURST: f64 = 20.0;
/// Tokens added per second.
pub const PER_SECOND: f64 = 1.0;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The limiter, keyed by visitor (contact) id.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

impl RateLimiter {
    /// Takes one token for `who`, or says how long until one is available.
    pub fn take(&self, who: Uuid) -> Result<(), Duration> {
        self.take_at(who, Instant::now())
    }

    fn take_at(&self, who: Uuid, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Full buckets carry no information; forget them so the map stays bounded.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * PER_SECOND < BURST
            });
        }
        let b = buckets.entry(who).or_insert(Bucket {
            tokens: BURST,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * PER_SECOND).min(BURST);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / PER_SECOND))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let l = RateLimiter::default();
        let who = Uuid::nil();
        let t0 = Instant::now();
        for _ in 0..20 {
            assert!(l.take_at(who, t0).is_ok());
        }
        let wait = l.take_at(who, t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1));
        assert!(l.take_at(who, t0 + Duration::from_millis(1000)).is_ok());
        assert!(l.take_at(who, t0 + Duration::from_millis(1100)).is_err());
        // Another visitor is not affected.
        assert!(l.take_at(Uuid::from_u128(1), t0).is_ok());
    }
}
