//! Sign-in throttling schedule (per account key, escalating) and the claim decision. Pure:
//! the store only reads and writes a key's state inside one write transaction, the clock is
//! passed in.

/// Failures allowed back to back before delays start.
pub const FREE_FAILURES: u32 = 3;
/// Longest delay between attempts once throttled.
pub const MAX_DELAY_MS: i64 = 15 * 60 * 1000;
/// After this many consecutive failures the account key is locked for `LOCK_MS`.
pub const HARD_CAP: u32 = 100;
pub const LOCK_MS: i64 = 24 * 60 * 60 * 1000;

/// How long to wait after the `failures`-th consecutive failure before the next attempt:
/// nothing for the first few, then 1 s, 2 s, 4 s ... up to 15 minutes; a day at the hard cap.
pub fn delay_after(failures: u32) -> i64 {
    if failures >= HARD_CAP {
        return LOCK_MS;
    }
    if failures <= FREE_FAILURES {
        return 0;
    }
    let exp = (failures - FREE_FAILURES - 1).min(20);
    (1000i64 << exp).min(MAX_DELAY_MS)
}

/// One attempt for a key with `failures` consecutive failures, next allowed at
/// `next_allowed_at`, made at `now`: `None` while the key must still wait (the attempt is
/// refused and not counted); otherwise the state to store, counting this attempt as a failure
/// up front, so a crash or a timeout between the check and the outcome cannot give free
/// guesses (a success clears the key).
pub fn claim(failures: i64, next_allowed_at: i64, now: i64) -> Option<(i64, i64)> {
    if now < next_allowed_at {
        return None;
    }
    let failures = failures.saturating_add(1);
    Some((failures, now + delay_after(failures.clamp(0, u32::MAX as i64) as u32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalates_and_caps() {
        assert_eq!(delay_after(1), 0);
        assert_eq!(delay_after(FREE_FAILURES), 0);
        assert_eq!(delay_after(FREE_FAILURES + 1), 1000);
        assert_eq!(delay_after(FREE_FAILURES + 2), 2000);
        assert_eq!(delay_after(FREE_FAILURES + 3), 4000);
        assert_eq!(delay_after(50), MAX_DELAY_MS);
        assert_eq!(delay_after(HARD_CAP), LOCK_MS);
        let mut last = 0;
        for n in 0..200 {
            let d = delay_after(n);
            assert!(d >= last, "delay must never shrink as failures grow");
            last = d;
        }
    }

    #[test]
    fn a_claim_counts_up_front_and_waits_are_refused() {
        assert_eq!(claim(0, 0, 1_000), Some((1, 1_000)));
        let free = FREE_FAILURES as i64;
        assert_eq!(claim(free, 0, 5_000), Some((free + 1, 6_000)));
        assert_eq!(claim(free + 1, 6_000, 5_999), None, "still waiting: refused, not counted");
        assert_eq!(claim(free + 1, 6_000, 6_000), Some((free + 2, 8_000)));
        assert_eq!(claim(HARD_CAP as i64 - 1, 0, 0), Some((HARD_CAP as i64, LOCK_MS)));
        assert_eq!(claim(i64::MAX, 0, 0), Some((i64::MAX, LOCK_MS)), "no overflow");
    }
}
