// TEMPORARY stand-in written by the lead so the crate compiles; the helper
// replaces this whole file with the real module.
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CacheStats { pub hits: u64, pub misses: u64, pub evictions: u64, pub hit_rate: f64, pub cache_size: usize }
pub struct WorkerCache<V: Clone> { map: HashMap<String, (V, Instant)>, max: usize, ttl: Duration, hits: u64, misses: u64, evictions: u64, gen: u64 }
impl<V: Clone> WorkerCache<V> {
    pub fn new(max_entries: usize, ttl: Duration) -> Self { WorkerCache { map: HashMap::new(), max: max_entries, ttl, hits: 0, misses: 0, evictions: 0, gen: 0 } }
    pub fn get(&mut self, key: &str, now: Instant) -> Option<V> { match self.map.get(key) { Some((v, t)) if now.duration_since(*t) < self.ttl => { self.hits += 1; Some(v.clone()) } _ => { self.misses += 1; None } } }
    pub fn insert(&mut self, key: String, value: V, now: Instant) { if self.map.len() >= self.max { self.map.clear(); self.gen += 1; } self.map.insert(key, (value, now)); }
    pub fn invalidate(&mut self, key: &str) -> bool { self.gen += 1; self.map.remove(key).is_some() }
    pub fn clear(&mut self) -> usize { self.gen += 1; let n = self.map.len(); self.map.clear(); n }
    pub fn generation(&self) -> u64 { self.gen }
    pub fn len(&self) -> usize { self.map.len() }
    pub fn is_empty(&self) -> bool { self.map.is_empty() }
    pub fn stats(&self) -> CacheStats { CacheStats { hits: self.hits, misses: self.misses, evictions: self.evictions, hit_rate: 0.0, cache_size: self.map.len() } }
}
