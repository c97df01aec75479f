//! The in-process worker cache, with the statistics the seed's
//! `cache_stats` shows (`hits`, `misses`, `evictions`, `hit_rate`,
//! `cache_size`).
//!
//! The PHP package kept a static array (max 100, first-in-first-out drop of
//! 10) in front of a Laravel cache holding serialized worker objects for
//! 300 s, and missed invalidations in several places (REFERENCE §10.2, §13
//! weak point 17). Here the cache holds plain values (worker rows), has one
//! tier, and exposes a [`generation`](WorkerCache::generation) counter: the
//! PHP face keeps worker *instances* keyed by that generation and drops them
//! whenever it moves, so the two levels cannot disagree for long.
//!
//! Not thread-safe by itself: callers wrap it in a `parking_lot::Mutex`.
//! Time is passed in (`now`), so tests control the clock.

use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Entries kept by default (the PHP package's static-array limit).
pub const DEFAULT_MAX_ENTRIES: usize = 100;

/// How long an entry stays valid by default (the PHP package's TTL).
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// Counters since the cache was created, in the seed's JSON shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Entries that left the cache before being replaced: expired, dropped
    /// because the cache was full, invalidated or cleared.
    pub evictions: u64,
    /// `hits / (hits + misses)` in percent, rounded to 2 decimals; 0.0
    /// before the first lookup.
    pub hit_rate: f64,
    /// Entries currently stored (expired ones not yet looked at included).
    pub cache_size: usize,
}

#[derive(Debug, Clone)]
struct Entry<V> {
    value: V,
    inserted: Instant,
    /// Insertion order, for first-in-first-out eviction.
    seq: u64,
}

/// A bounded, time-limited map from worker identifier to `V`.
///
/// Guarantees:
/// - never holds more than `max_entries` entries (none when it is 0);
/// - never returns an entry `ttl` or more after it was inserted;
/// - [`generation`](Self::generation) changes whenever an entry is removed
///   or replaced, and on every `invalidate` and `clear` call (even when they
///   find nothing), so a second-level cache that compares generations never
///   keeps something this cache dropped.
#[derive(Debug, Clone)]
pub struct WorkerCache<V: Clone> {
    entries: HashMap<String, Entry<V>>,
    max_entries: usize,
    ttl: Duration,
    next_seq: u64,
    hits: u64,
    misses: u64,
    evictions: u64,
    generation: u64,
}

impl<V: Clone> Default for WorkerCache<V> {
    /// [`DEFAULT_MAX_ENTRIES`] entries for [`DEFAULT_TTL`].
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ENTRIES, DEFAULT_TTL)
    }
}

impl<V: Clone> WorkerCache<V> {
    pub fn new(max_entries: usize, ttl: Duration) -> Self {
        WorkerCache { entries: HashMap::new(), max_entries, ttl, next_seq: 0, hits: 0, misses: 0, evictions: 0, generation: 0 }
    }

    /// The value for `key` if it was inserted less than `ttl` before `now`.
    /// A hit counts in `hits`; anything else in `misses`, and an expired
    /// entry is also removed and counted as an eviction.
    pub fn get(&mut self, key: &str, now: Instant) -> Option<V> {
        let expired = match self.entries.get(key) {
            None => {
                self.misses += 1;
                return None;
            }
            Some(entry) => self.is_expired(entry, now),
        };
        if expired {
            self.entries.remove(key);
            self.misses += 1;
            self.evictions += 1;
            self.generation += 1;
            return None;
        }
        self.hits += 1;
        self.entries.get(key).map(|e| e.value.clone())
    }

    /// Stores `value` under `key`, valid until `now + ttl`.
    ///
    /// When the cache is full, expired entries go first; if that frees
    /// nothing, the oldest-inserted tenth of the entries (at least one) is
    /// dropped, as the PHP package did, rather than the whole cache. Both
    /// count as evictions. Replacing an existing key is not an eviction.
    pub fn insert(&mut self, key: String, value: V, now: Instant) {
        if self.max_entries == 0 {
            return;
        }
        if !self.entries.contains_key(&key) && self.entries.len() >= self.max_entries {
            self.make_room(now);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.entries.insert(key, Entry { value, inserted: now, seq }).is_some() {
            // Whoever built something from the old value must rebuild it.
            self.generation += 1;
        }
    }

    /// Drops `key`; true when it was cached. Moves the generation either
    /// way: the caller says the worker changed, and a second-level cache may
    /// hold it even when this one no longer does.
    pub fn invalidate(&mut self, key: &str) -> bool {
        self.generation += 1;
        let removed = self.entries.remove(key).is_some();
        if removed {
            self.evictions += 1;
        }
        removed
    }

    /// Drops everything; returns how many entries there were. Hit and miss
    /// counters are kept (they describe the cache's life, not its contents).
    pub fn clear(&mut self) -> usize {
        self.generation += 1;
        let n = self.entries.len();
        self.entries.clear();
        self.evictions += n as u64;
        n
    }

    /// A counter that changes whenever something cached may have changed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Entries stored, including expired ones not yet looked up.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn stats(&self) -> CacheStats {
        let lookups = self.hits + self.misses;
        let hit_rate = if lookups == 0 { 0.0 } else { (self.hits as f64 * 100.0 / lookups as f64 * 100.0).round() / 100.0 };
        CacheStats { hits: self.hits, misses: self.misses, evictions: self.evictions, hit_rate, cache_size: self.entries.len() }
    }

    fn is_expired(&self, entry: &Entry<V>, now: Instant) -> bool {
        now.saturating_duration_since(entry.inserted) >= self.ttl
    }

    fn make_room(&mut self, now: Instant) {
        let before = self.entries.len();
        let ttl = self.ttl;
        self.entries.retain(|_, e| now.saturating_duration_since(e.inserted) < ttl);
        if self.entries.len() >= self.max_entries {
            // Sorting on overflow only: at 100 entries this is cheaper than
            // keeping an order queue up to date on every insert.
            let drop = (self.max_entries / 10).max(1);
            let mut order: Vec<(u64, String)> = self.entries.iter().map(|(k, e)| (e.seq, k.clone())).collect();
            order.sort_unstable();
            for (_, key) in order.into_iter().take(drop) {
                self.entries.remove(&key);
            }
        }
        let dropped = before - self.entries.len();
        if dropped > 0 {
            self.evictions += dropped as u64;
            self.generation += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(300);

    fn filled(n: usize, max: usize, now: Instant) -> WorkerCache<usize> {
        let mut c = WorkerCache::new(max, TTL);
        for i in 0..n {
            c.insert(format!("w{i}"), i, now);
        }
        c
    }

    #[test]
    fn a_new_cache_is_empty_with_zero_stats() {
        let c: WorkerCache<String> = WorkerCache::default();
        assert!(c.is_empty());
        assert_eq!(c.len(), 0);
        assert_eq!(c.stats(), CacheStats { hits: 0, misses: 0, evictions: 0, hit_rate: 0.0, cache_size: 0 });
    }

    #[test]
    fn lookups_count_hits_and_misses() {
        let now = Instant::now();
        let mut c = WorkerCache::new(10, TTL);
        assert_eq!(c.get("importer", now), None);
        c.insert("importer".into(), Some(7), now);
        assert_eq!(c.get("importer", now), Some(Some(7)));
        assert_eq!(c.get("importer", now + Duration::from_secs(10)), Some(Some(7)));
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.evictions, s.cache_size), (2, 1, 0, 1));
        assert_eq!(s.hit_rate, 66.67);
    }

    #[test]
    fn a_cached_none_is_a_hit() {
        // The engine caches "no such worker" too, so unknown identifiers do
        // not hit the database on every lookup.
        let now = Instant::now();
        let mut c: WorkerCache<Option<i64>> = WorkerCache::new(10, TTL);
        c.insert("ghost".into(), None, now);
        assert_eq!(c.get("ghost", now), Some(None));
        assert_eq!(c.stats().hits, 1);
    }

    #[test]
    fn an_expired_entry_is_a_miss_and_an_eviction() {
        let now = Instant::now();
        let mut c = filled(1, 10, now);
        let g = c.generation();
        assert_eq!(c.get("w0", now + TTL - Duration::from_millis(1)), Some(0));
        assert_eq!(c.get("w0", now + TTL), None);
        assert!(c.is_empty());
        assert!(c.generation() > g);
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.evictions), (1, 1, 1));
        // Gone for good: the next lookup is a plain miss.
        assert_eq!(c.get("w0", now + TTL), None);
        assert_eq!(c.stats().evictions, 1);
    }

    #[test]
    fn a_zero_ttl_caches_nothing_usable() {
        let now = Instant::now();
        let mut c = WorkerCache::new(10, Duration::ZERO);
        c.insert("a".into(), 1, now);
        assert_eq!(c.get("a", now), None);
    }

    #[test]
    fn a_full_cache_drops_the_oldest_tenth() {
        let now = Instant::now();
        let mut c = filled(100, 100, now);
        let g = c.generation();
        c.insert("new".into(), 100, now);
        assert_eq!(c.len(), 91);
        for i in 0..10 {
            assert_eq!(c.get(&format!("w{i}"), now), None, "w{i} should be gone");
        }
        assert_eq!(c.get("w10", now), Some(10));
        assert_eq!(c.get("new", now), Some(100));
        assert_eq!(c.stats().evictions, 10);
        assert!(c.generation() > g);
    }

    #[test]
    fn a_small_full_cache_drops_at_least_one() {
        let now = Instant::now();
        let mut c = filled(3, 3, now);
        c.insert("x".into(), 9, now);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get("w0", now), None);
        assert_eq!(c.get("w1", now), Some(1));
        assert_eq!(c.stats().evictions, 1);
    }

    #[test]
    fn eviction_order_follows_the_latest_insert_of_a_key() {
        let now = Instant::now();
        let mut c = filled(3, 3, now);
        // Re-inserting w0 makes it the newest, so w1 is the oldest now.
        c.insert("w0".into(), 0, now);
        c.insert("x".into(), 9, now);
        assert_eq!(c.get("w0", now), Some(0));
        assert_eq!(c.get("w1", now), None);
    }

    #[test]
    fn a_full_cache_drops_expired_entries_before_live_ones() {
        let start = Instant::now();
        let mut c = WorkerCache::new(3, TTL);
        c.insert("old".into(), 0, start);
        let later = start + TTL;
        c.insert("a".into(), 1, later);
        c.insert("b".into(), 2, later);
        c.insert("c".into(), 3, later);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get("a", later), Some(1));
        assert_eq!(c.stats().evictions, 1);
    }

    #[test]
    fn replacing_a_key_in_a_full_cache_evicts_nothing() {
        let now = Instant::now();
        let mut c = filled(3, 3, now);
        c.insert("w2".into(), 20, now);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get("w2", now), Some(20));
        assert_eq!(c.stats().evictions, 0);
    }

    #[test]
    fn replacing_a_value_moves_the_generation_but_a_new_key_does_not() {
        let now = Instant::now();
        let mut c = WorkerCache::new(10, TTL);
        c.insert("a".into(), 1, now);
        assert_eq!(c.generation(), 0);
        c.insert("a".into(), 2, now);
        assert_eq!(c.generation(), 1);
    }

    #[test]
    fn a_zero_sized_cache_stores_nothing() {
        let now = Instant::now();
        let mut c = WorkerCache::new(0, TTL);
        c.insert("a".into(), 1, now);
        assert!(c.is_empty());
        assert_eq!(c.get("a", now), None);
    }

    #[test]
    fn invalidate_removes_one_key_and_counts_an_eviction() {
        let now = Instant::now();
        let mut c = filled(2, 10, now);
        let g = c.generation();
        assert!(c.invalidate("w0"));
        assert_eq!(c.generation(), g + 1);
        assert_eq!(c.get("w0", now), None);
        assert_eq!(c.get("w1", now), Some(1));
        assert_eq!(c.stats().evictions, 1);
    }

    #[test]
    fn invalidating_an_absent_key_moves_only_the_generation() {
        let mut c: WorkerCache<u8> = WorkerCache::new(10, TTL);
        assert!(!c.invalidate("nobody"));
        assert_eq!(c.generation(), 1);
        assert_eq!(c.stats().evictions, 0);
    }

    #[test]
    fn clear_empties_the_cache_and_counts_every_entry() {
        let now = Instant::now();
        let mut c = filled(5, 10, now);
        c.get("w1", now);
        c.get("zz", now);
        let g = c.generation();
        assert_eq!(c.clear(), 5);
        assert!(c.is_empty());
        assert_eq!(c.generation(), g + 1);
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.evictions, s.cache_size), (1, 1, 5, 0));
        assert_eq!(c.clear(), 0);
        assert_eq!(c.generation(), g + 2);
    }

    #[test]
    fn hit_rate_is_a_percentage_with_two_decimals() {
        let now = Instant::now();
        let mut c = filled(1, 10, now);
        for _ in 0..1250 {
            c.get("w0", now);
        }
        for _ in 0..150 {
            c.get("missing", now);
        }
        // The seed's example: 1250 hits, 150 misses.
        assert_eq!(c.stats().hit_rate, 89.29);
    }

    #[test]
    fn stats_serialise_with_the_seed_keys() {
        let now = Instant::now();
        let mut c = filled(2, 10, now);
        c.get("w0", now);
        let json = serde_json::to_value(c.stats()).unwrap();
        assert_eq!(json, serde_json::json!({"hits": 1, "misses": 0, "evictions": 0, "hit_rate": 100.0, "cache_size": 2}));
    }
}
