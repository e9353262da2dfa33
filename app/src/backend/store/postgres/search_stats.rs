//! Which trigrams are common in the accounts' key columns, so a rare search asks the trigram
//! index only for the part of its term made of uncommon trigrams.
//!
//! pg_trgm's GIN index answers `LIKE '%user0421%'` by reading the posting list of every
//! trigram of the term. When most accounts hold some of them ("use" and "ser" in
//! `user000001`...), those lists hold nearly every row: at 1,000,000 accounts the username
//! column's scan read about 580 pages (7.6 ms), where `LIKE '%r0421%'` (the term's uncommon
//! trigrams) read a handful (0.4 ms for all three columns). Every row holding the term holds
//! any part of it, so the index is asked for the part and the whole term is checked on the
//! few rows it returns: exactly the same rows. Which trigrams are common is learnt from a
//! sample of the table, kept for a while and refreshed in the background.
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::{PgPool, Row};

/// Rows sampled.
const SAMPLE_ROWS: i64 = 10_000;
/// A trigram held by at least 1 in 50 sampled rows (in one column) is common...
const COMMON_SHARE: usize = 50;
/// ...and by at least this many rows (small tables have no common trigrams: they are fast).
const COMMON_MIN_ROWS: usize = 20;
/// How long a sample is trusted before a search starts a new one.
const FRESH_FOR: Duration = Duration::from_secs(600);

pub type Trigram = [u8; 3];

/// The trigrams held by at least 1 in 50 of `rows` (and by `COMMON_MIN_ROWS` of them) in any
/// one column; a row counts once per trigram and column.
pub fn common_trigrams<'a>(rows: impl IntoIterator<Item = [&'a str; 3]>) -> HashSet<Trigram> {
    let mut counts: [HashMap<Trigram, usize>; 3] = Default::default();
    let mut n = 0usize;
    let mut seen: Vec<Trigram> = Vec::new();
    for row in rows {
        n += 1;
        for (value, count) in row.iter().zip(counts.iter_mut()) {
            seen.clear();
            seen.extend(value.as_bytes().windows(3).map(|w| [w[0], w[1], w[2]]));
            seen.sort_unstable();
            seen.dedup();
            for t in &seen {
                *count.entry(*t).or_default() += 1;
            }
        }
    }
    let floor = (n / COMMON_SHARE).max(COMMON_MIN_ROWS);
    counts.iter().flat_map(|c| c.iter().filter(|(_, k)| **k >= floor).map(|(t, _)| *t)).collect()
}

/// The part of `term` to look up in the trigram index: its longest stretch whose trigrams
/// are all uncommon, when the term is one plain word (ASCII letters and digits, as pg_trgm
/// reads it without splitting) with common trigrams and such a stretch of three characters
/// or more; otherwise the whole term.
pub fn index_part<'a>(term: &'a str, common: &HashSet<Trigram>) -> &'a str {
    if term.len() < 4 || !term.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return term;
    }
    let bytes = term.as_bytes();
    let (mut best, mut run_start) = ((0usize, 0usize), None::<usize>);
    for i in 0..=bytes.len() {
        let rare = i + 3 <= bytes.len() && !common.contains(&[bytes[i], bytes[i + 1], bytes[i + 2]]);
        match (rare, run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(s)) => {
                // trigrams s..i: characters s..i+2
                if i - s > best.1 - best.0 {
                    best = (s, i);
                }
                run_start = None;
            }
            _ => {}
        }
    }
    let (from, to) = best;
    if to == from {
        return term;
    }
    &term[from..to + 2]
}

/// Common trigrams, and when they were learnt.
type Learnt = Option<(Instant, Arc<HashSet<Trigram>>)>;

/// The common trigrams of this store's accounts, learnt from a sample.
#[derive(Clone, Default)]
pub struct SearchStats {
    learnt: Arc<Mutex<Learnt>>,
    refreshing: Arc<AtomicBool>,
}

impl SearchStats {
    /// The common trigrams: learnt now if never yet (the first rare search waits for the
    /// sample, tens of milliseconds at a million accounts); when they are old, the old ones
    /// while a new sample is taken in the background.
    pub async fn common(&self, pool: &PgPool) -> Arc<HashSet<Trigram>> {
        let known = self.learnt.lock().map(|l| l.clone()).unwrap_or(None);
        match known {
            Some((at, set)) => {
                if at.elapsed() > FRESH_FOR && !self.refreshing.swap(true, Ordering::AcqRel) {
                    let (me, pool) = (self.clone(), pool.clone());
                    tokio::spawn(async move {
                        me.learn(&pool).await;
                        me.refreshing.store(false, Ordering::Release);
                    });
                }
                set
            }
            None => self.learn(pool).await,
        }
    }

    /// Samples the table and keeps what it found (nothing common if the sample fails: the
    /// whole term is looked up, as before).
    async fn learn(&self, pool: &PgPool) -> Arc<HashSet<Trigram>> {
        let set = Arc::new(sample(pool).await.unwrap_or_default());
        if let Ok(mut l) = self.learnt.lock() {
            *l = Some((Instant::now(), set.clone()));
        }
        set
    }
}

/// The common trigrams of a sample of about `SAMPLE_ROWS` accounts: whole pages picked at
/// random across a large table (`TABLESAMPLE SYSTEM`), the table itself when it is small or
/// its size unknown (never analysed).
async fn sample(pool: &PgPool) -> Result<HashSet<Trigram>, sqlx::Error> {
    let estimate: f64 = sqlx::query_scalar("SELECT reltuples::float8 FROM pg_class WHERE oid = 'users'::regclass")
        .fetch_one(pool)
        .await?;
    let from = if estimate > (4 * SAMPLE_ROWS) as f64 {
        // (a little more than needed: pages hold unequal numbers of rows)
        let percent = (150.0 * SAMPLE_ROWS as f64 / estimate).min(100.0);
        format!("users TABLESAMPLE SYSTEM ({percent:.4})")
    } else {
        "users".to_string()
    };
    let rows = sqlx::query(&format!("SELECT username_key, full_name_key, email_key FROM {from} LIMIT $1"))
        .bind(SAMPLE_ROWS)
        .fetch_all(pool)
        .await?;
    let values: Vec<[String; 3]> =
        rows.iter().map(|r| Ok([r.try_get(0)?, r.try_get(1)?, r.try_get(2)?])).collect::<Result<_, sqlx::Error>>()?;
    Ok(common_trigrams(values.iter().map(|[a, b, c]| [a.as_str(), b.as_str(), c.as_str()])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ts: &[&str]) -> HashSet<Trigram> {
        ts.iter().map(|t| t.as_bytes().try_into().expect("three bytes")).collect()
    }

    #[test]
    fn the_index_is_asked_for_the_longest_uncommon_stretch() {
        let common = set(&["use", "ser", "er0"]);
        assert_eq!(index_part("user0421", &common), "r0421");
        // nothing common: the whole term; everything common: the whole term too
        assert_eq!(index_part("garcia", &common), "garcia");
        assert_eq!(index_part("user", &common), "user");
        // common trigrams in the middle: the longer side
        assert_eq!(index_part("abcuserxy", &set(&["cus", "use", "ser", "erx"])), "abcu");
        // the longest of several stretches
        assert_eq!(index_part("ab1use2xyz", &set(&["b1u", "1us", "use", "se2"])), "e2xyz");
        // not one plain word (pg_trgm splits at other characters): as it is
        assert_eq!(index_part("@corp7.", &common), "@corp7.");
        assert_eq!(index_part("user 0421", &common), "user 0421");
        assert_eq!(index_part("usé0421", &common), "usé0421");
        // too short to shorten
        assert_eq!(index_part("use", &common), "use");
    }

    #[test]
    fn common_trigrams_are_those_of_many_rows_in_one_column() {
        let names: Vec<String> = (0..1000).map(|i| format!("user{i:04}")).collect();
        let rows = names.iter().enumerate().map(|(i, n)| {
            [n.as_str(), if i < 30 { "ann smith" } else { "bob" }, if i < 10 { "x@rare.example" } else { "" }]
        });
        let common = common_trigrams(rows);
        for t in ["use", "ser", "er0", "bob", "ann", "smi"] {
            assert!(common.contains(&<Trigram>::try_from(t.as_bytes()).expect("3")), "{t}");
        }
        // "r04" is in 100 of 1,000 usernames (common); "421" in 1 (not); "rar" in 10 emails
        // (under the 20-row floor)
        assert!(common.contains(b"r04"));
        assert!(!common.contains(b"421"));
        assert!(!common.contains(b"rar"));
        // a row counts once per trigram: "aaaa" twice "aaa" is still one row
        let few = common_trigrams((0..25).map(|_| ["aaaa", "", ""]));
        assert!(few.contains(b"aaa"));
        assert!(common_trigrams((0..19).map(|_| ["aaaa", "", ""])).is_empty());
    }
}
