//! Sign-in throttling schedule (per account key, escalating) and the claim decision. Pure:
//! the clock is passed in. The store runs the claim as one statement (`claim_sql`), derived
//! from `delay_after` here, so the schedule is written once and every backend counts the
//! same; `claim` is the same decision in Rust, the reference the store's tests compare with.

/// Failures allowed back to back before delays start.
pub const FREE_FAILURES: u32 = 3;
/// Longest delay between attempts once throttled.
pub const MAX_DELAY_MS: i64 = 15 * 60 * 1000;
/// After this many consecutive failures the account key is locked for `LOCK_MS`.
pub const HARD_CAP: u32 = 100;
pub const LOCK_MS: i64 = 24 * 60 * 60 * 1000;
/// Consecutive failures stop counting here (the delay is `LOCK_MS` long before): the stored
/// count never overflows.
pub const FAILURES_CAP: i64 = 1_000_000;

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
    let failures = failures.saturating_add(1).min(FAILURES_CAP);
    Some((failures, now + delay_after(failures.clamp(0, u32::MAX as i64) as u32)))
}

/// `delay_after` as an SQL expression of the integer expression `failures` (the same on SQLite
/// and PostgreSQL): one `WHEN` per escalation step, generated from the schedule above.
pub fn delay_sql(failures: &str) -> String {
    let mut sql =
        format!("CASE WHEN {failures} >= {HARD_CAP} THEN {LOCK_MS} WHEN {failures} <= {FREE_FAILURES} THEN 0");
    let mut n = FREE_FAILURES + 1;
    while delay_after(n) < MAX_DELAY_MS && n < HARD_CAP {
        sql.push_str(&format!(" WHEN {failures} = {n} THEN {}", delay_after(n)));
        n += 1;
    }
    sql.push_str(&format!(" ELSE {MAX_DELAY_MS} END"));
    sql
}

/// `claim` as one statement on table `sign_in_throttle`, with the key as the first parameter
/// and the time as the second (`p1`, `p2`: `?1`/`?2` on SQLite, `$1`/`$2` on PostgreSQL). An
/// upsert that counts the attempt and sets the next allowed time only where the key may try
/// now; it returns the row when the attempt is allowed and nothing while the key must wait.
/// The database locks the row for the update, so two claims can never both read the same
/// count, whatever else the transaction holds.
pub fn claim_sql(p1: &str, p2: &str) -> String {
    let next = "CASE WHEN sign_in_throttle.failures >= {cap} THEN {cap} ELSE sign_in_throttle.failures + 1 END"
        .replace("{cap}", &FAILURES_CAP.to_string());
    format!(
        "INSERT INTO sign_in_throttle (key, failures, next_allowed_at) VALUES ({p1}, 1, {p2} + {first}) \
         ON CONFLICT (key) DO UPDATE SET failures = {next}, next_allowed_at = {p2} + {delay} \
         WHERE sign_in_throttle.next_allowed_at <= {p2} RETURNING failures",
        first = delay_after(1),
        delay = delay_sql(&format!("({next})")),
    )
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
        assert_eq!(claim(i64::MAX, 0, 0), Some((FAILURES_CAP, LOCK_MS)), "no overflow");
        assert_eq!(claim(FAILURES_CAP, 0, 0), Some((FAILURES_CAP, LOCK_MS)), "the count stops at the cap");
    }
}
