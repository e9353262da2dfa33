//! What a session cookie or an API token resolved to, kept in memory so an authenticated
//! request costs no database read. Correctness over speed:
//! - Every committed write transaction of this process moves the store's write generation,
//!   and an entry from an older generation is never used: a revocation, a disabled account,
//!   a password change, a membership or 2FA change takes effect on the very next request,
//!   as before.
//! - Another process (the CLI) writes without this process knowing: entries also expire
//!   after `TTL_MS`, the same delay the access model takes to follow such changes.
//! - Keys are SHA-256 hashes of the presented secret; the map is bounded.
use std::collections::HashMap;
use std::sync::Mutex;

/// How long an entry may be used without a database read (changes made by other processes).
pub const TTL_MS: i64 = 1_000;
/// Entries kept at most; beyond this the map starts again (a spray of distinct valid tokens
/// cannot grow memory).
const MAX_ENTRIES: usize = 50_000;

pub struct AuthCache<V> {
    map: Mutex<HashMap<Vec<u8>, (V, u64, i64)>>,
}

impl<V> Default for AuthCache<V> {
    fn default() -> Self {
        Self { map: Mutex::new(HashMap::new()) }
    }
}

impl<V: Clone> AuthCache<V> {
    /// The value for `key` if it was stored at write generation `generation` less than
    /// `TTL_MS` ago.
    pub fn get(&self, key: &[u8], generation: u64, now: i64) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((v, g, at)) if *g == generation && now - *at < TTL_MS && now >= *at => Some(v.clone()),
            _ => None,
        }
    }

    /// Stores `value`, read from the database at `generation` (taken before the read, so a
    /// write that committed meanwhile makes the entry stale at once).
    pub fn put(&self, key: Vec<u8>, value: V, generation: u64, now: i64) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (value, generation, now));
    }

    /// Replaces a live entry's value in place (same generation and time).
    pub fn update(&self, key: &[u8], f: impl FnOnce(&mut V)) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((v, _, _)) = map.get_mut(key) {
            f(v);
        }
    }

    pub fn remove(&self, key: &[u8]) {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_die_with_any_write_and_with_time() {
        let c = AuthCache::<u32>::default();
        c.put(b"k".to_vec(), 7, 3, 1_000);
        assert_eq!(c.get(b"k", 3, 1_000), Some(7));
        assert_eq!(c.get(b"k", 3, 1_000 + TTL_MS - 1), Some(7));
        assert_eq!(c.get(b"k", 3, 1_000 + TTL_MS), None, "expired");
        assert_eq!(c.get(b"k", 4, 1_001), None, "a later write");
        assert_eq!(c.get(b"k", 2, 1_001), None, "an earlier generation is not trusted either");
        assert_eq!(c.get(b"k", 3, 999), None, "a clock that went back");
        assert_eq!(c.get(b"other", 3, 1_000), None);
        c.update(b"k", |v| *v = 8);
        assert_eq!(c.get(b"k", 3, 1_000), Some(8));
        c.remove(b"k");
        assert_eq!(c.get(b"k", 3, 1_000), None);
    }

    #[test]
    fn the_map_is_bounded() {
        let c = AuthCache::<u8>::default();
        for i in 0..(MAX_ENTRIES + 10) {
            c.put(i.to_le_bytes().to_vec(), 1, 0, 0);
        }
        assert!(c.map.lock().map(|m| m.len()).unwrap_or(0) <= MAX_ENTRIES);
    }
}
