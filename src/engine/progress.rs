// TEMPORARY stand-in written by the lead so the crate compiles; the helper
// replaces this whole file with the real module.
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressSnapshot { pub id: i64, pub identifier: String, pub action: String, pub status: String, pub progress: i64, pub processed: i64, pub total: i64, pub eta: String, pub message: String, pub log_lines: Vec<String>, pub updated_at: String }
impl ProgressSnapshot {
    pub fn new(id: i64, identifier: &str, action: &str, status: &str) -> Self {
        ProgressSnapshot { id, identifier: identifier.into(), action: action.into(), status: status.into(), progress: 0, processed: 0, total: 0, eta: "—".into(), message: String::new(), log_lines: vec![], updated_at: chrono::Utc::now().to_rfc3339() }
    }
}
#[derive(Debug, Clone, Default)]
pub struct ProgressDelta { pub status: Option<String>, pub progress: Option<i64>, pub processed: Option<i64>, pub total: Option<i64>, pub eta: Option<String>, pub message: Option<String> }
pub struct ProgressFiles { dir: PathBuf }
impl ProgressFiles {
    pub fn new(dir: impl Into<PathBuf>) -> Self { ProgressFiles { dir: dir.into() } }
    pub fn dir(&self) -> &Path { &self.dir }
    pub fn path(&self, id: i64) -> PathBuf { self.dir.join(format!("{id}.json")) }
    pub fn write(&self, snap: &ProgressSnapshot) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(".~{}.{}.json", snap.id, std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec(snap).unwrap())?;
        std::fs::rename(tmp, self.path(snap.id))
    }
    pub fn read(&self, id: i64) -> std::io::Result<Option<ProgressSnapshot>> {
        match std::fs::read(self.path(id)) { Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)), Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None), Err(e) => Err(e) }
    }
    pub fn remove(&self, id: i64) -> std::io::Result<bool> { match std::fs::remove_file(self.path(id)) { Ok(()) => Ok(true), Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false), Err(e) => Err(e) } }
    pub fn cleanup(&self, _max_age: Duration, _now: SystemTime) -> std::io::Result<usize> { Ok(0) }
}
pub struct ProgressTracker { snap: ProgressSnapshot, started: Instant, last: Option<Instant>, last_status: String }
impl ProgressTracker {
    pub fn new(snapshot: ProgressSnapshot, started: Instant) -> Self { ProgressTracker { snap: snapshot, started, last: None, last_status: String::new() } }
    pub fn apply(&mut self, d: &ProgressDelta, _now: Instant) -> &ProgressSnapshot {
        if let Some(s) = &d.status { self.snap.status = s.clone(); }
        if let Some(p) = d.progress { self.snap.progress = p.clamp(0, 100); }
        if let Some(p) = d.processed { self.snap.processed = p; }
        if let Some(t) = d.total { self.snap.total = t; }
        if let Some(e) = &d.eta { self.snap.eta = e.clone(); }
        if let Some(m) = &d.message { self.snap.message = m.clone(); self.snap.log_lines.push(m.clone()); }
        let _ = self.started;
        &self.snap
    }
    pub fn should_flush(&self, now: Instant, min: Duration) -> bool { self.last.map(|l| now.duration_since(l) >= min).unwrap_or(true) || self.last_status != self.snap.status }
    pub fn mark_flushed(&mut self, now: Instant) { self.last = Some(now); self.last_status = self.snap.status.clone(); }
    pub fn snapshot(&self) -> &ProgressSnapshot { &self.snap }
    pub fn snapshot_mut(&mut self) -> &mut ProgressSnapshot { &mut self.snap }
}
