//! Token-bucket rate limiting keyed by client IP or by credential, as a sans-IO core: callers
//! pass the current instant, so tests run minutes of traffic without waiting.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets that have been full (idle) this long are forgotten, bounding memory.
const IDLE_FORGET: Duration = Duration::from_secs(300);

/// One bucket per key: `rate` tokens per second, holding at most `burst`.
pub struct RateLimiter<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        Self::per(Duration::from_secs(1) / rate_per_sec.max(1), burst)
    }

    /// One token every `every`, holding at most `burst`.
    pub fn per(every: Duration, burst: u32) -> Self {
        Self {
            rate: 1.0 / every.as_secs_f64().max(1e-9),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` has a token at `now`, without taking it: `Err(wait)` as in [`Self::check`].
    pub fn peek(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let buckets = self.buckets.lock().expect("rate limiter poisoned");
        let Some(b) = buckets.get(key) else {
            return Ok(());
        };
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        let tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.rate))
        }
    }

    /// Takes one token for `key` at `now`. `Err(wait)` says how long until a token is available.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("rate limiter poisoned");
        if buckets.len() > 100_000 {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                let refill = now.saturating_duration_since(b.at).as_secs_f64() * rate;
                b.tokens + refill < burst || now.saturating_duration_since(b.at) < IDLE_FORGET
            });
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_rates_and_peeks() {
        let limiter = RateLimiter::per(Duration::from_secs(60), 2);
        let t0 = Instant::now();
        assert!(limiter.peek(&"a", t0).is_ok());
        limiter.check(&"a", t0).unwrap();
        limiter.check(&"a", t0).unwrap();
        let wait = limiter.peek(&"a", t0).unwrap_err();
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert!(limiter.peek(&"a", t0).is_err(), "peeking takes nothing");
        assert!(limiter.peek(&"a", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn allows_the_burst_then_the_rate() {
        let limiter = RateLimiter::new(10, 20);
        let t0 = Instant::now();
        for _ in 0..20 {
            limiter.check(&"a", t0).unwrap();
        }
        let wait = limiter.check(&"a", t0).unwrap_err();
        assert!(
            wait <= Duration::from_millis(100) && wait > Duration::ZERO,
            "{wait:?}"
        );
        // Another key has its own bucket.
        limiter.check(&"b", t0).unwrap();
        // After one second, ten more.
        let t1 = t0 + Duration::from_secs(1);
        for _ in 0..10 {
            limiter.check(&"a", t1).unwrap();
        }
        assert!(limiter.check(&"a", t1).is_err());
    }
}
