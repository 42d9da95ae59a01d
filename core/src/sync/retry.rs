//! When to try again and how long to wait: exponential backoff with "equal jitter"
//! from a seeded generator (the core has no randomness of its own), and
//! `Retry-After` honoured as the server gives it.

use serde::{Deserialize, Serialize};

/// How hard a session tries. Every field has a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RetryPolicy {
    /// Tries of one request (the first one included) before giving up.
    pub max_attempts: u32,
    /// Backoff before the second try; doubled for each further try.
    pub base_delay_ms: u64,
    /// Backoff never grows past this.
    pub max_delay_ms: u64,
    /// A `Retry-After` longer than this is cut to it.
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay_ms: 500,
            max_delay_ms: 30_000,
            max_retry_after_ms: 300_000,
        }
    }
}

impl RetryPolicy {
    /// The wait before try number `attempt + 1` after `attempt` failed tries
    /// (`attempt` ≥ 1): half the exponential delay plus a random share of the other half.
    pub fn backoff(&self, attempt: u32, rng: &mut Prng) -> u64 {
        let shift = attempt.saturating_sub(1).min(30);
        let full = self
            .base_delay_ms
            .saturating_mul(1u64 << shift)
            .min(self.max_delay_ms);
        let half = full / 2;
        half + rng.below(full - half + 1)
    }

    /// The wait a `Retry-After` header asks for, capped. Only the delay-seconds form is
    /// read: the HTTP-date form needs a clock, and falls back to the backoff.
    pub fn retry_after(&self, header: Option<&str>) -> Option<u64> {
        let secs: u64 = header?.trim().parse().ok()?;
        Some(secs.saturating_mul(1000).min(self.max_retry_after_ms))
    }
}

/// SplitMix64: tiny, fast, and the same sequence in every runtime. Serialised as
/// hex text, since its state does not fit in 2^53.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prng(pub u64);

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        self.next_u64() % n
    }
}

impl Serialize for Prng {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:016x}", self.0))
    }
}

impl<'de> Deserialize<'de> for Prng {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16)
            .map(Prng)
            .map_err(|_| serde::de::Error::custom("the generator state is 16 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // First outputs of SplitMix64 seeded with 0 (Vigna's reference implementation).
        let mut r = Prng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn backoff_doubles_and_stays_capped() {
        let p = RetryPolicy::default();
        let mut r = Prng::new(7);
        let first = p.backoff(1, &mut r);
        assert!((250..=500).contains(&first), "{first}");
        let third = p.backoff(3, &mut r);
        assert!((1000..=2000).contains(&third), "{third}");
        for attempt in [10, 40, u32::MAX] {
            let d = p.backoff(attempt, &mut r);
            assert!((15_000..=30_000).contains(&d), "{attempt}: {d}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.retry_after(Some(" 3 ")), Some(3000));
        assert_eq!(p.retry_after(Some("100000")), Some(300_000));
        assert_eq!(p.retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(p.retry_after(None), None);
    }

    #[test]
    fn generator_state_round_trips_as_hex() {
        let mut r = Prng::new(u64::MAX - 3);
        r.next_u64();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json.len(), 18);
        let back: Prng = crate::json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert!(crate::json::from_str::<Prng>("\"xyz\"").is_err());
    }

    proptest! {
        #[test]
        fn backoff_is_within_half_and_full_delay(seed: u64, attempt in 1u32..64) {
            let p = RetryPolicy::default();
            let mut r = Prng::new(seed);
            let full = (p.base_delay_ms.saturating_mul(1u64 << (attempt - 1).min(30))).min(p.max_delay_ms);
            let d = p.backoff(attempt, &mut r);
            prop_assert!(d >= full / 2 && d <= full);
        }

        #[test]
        fn same_seed_same_waits(seed: u64) {
            let p = RetryPolicy::default();
            let (mut a, mut b) = (Prng::new(seed), Prng::new(seed));
            for attempt in 1..6 {
                prop_assert_eq!(p.backoff(attempt, &mut a), p.backoff(attempt, &mut b));
            }
        }
    }
}
