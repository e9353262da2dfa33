//! Sign-in throttling schedule (per account key, escalating). Pure: the store applies it
//! atomically, the clock is passed in.

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
}
