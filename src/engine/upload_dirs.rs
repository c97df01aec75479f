//! Where uploads live in the storage folder, and the removal of chunked
//! uploads nobody completed. The API writes these folders; the cleaner
//! removes what was abandoned. Both use this module, so neither needs the
//! other.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Folder of stored uploads, under the storage folder.
pub const UPLOADS_DIR: &str = "uploads";
/// Folder of chunked uploads in progress, under the uploads folder.
pub const CHUNKS_DIR: &str = ".chunks";

/// `storage/uploads`: where finished uploads are stored.
pub fn uploads_dir(storage: &Path) -> PathBuf {
    storage.join(UPLOADS_DIR)
}

/// `storage/uploads/.chunks`: one folder per chunked upload in progress.
pub fn chunks_root(storage: &Path) -> PathBuf {
    uploads_dir(storage).join(CHUNKS_DIR)
}

/// 32 lowercase hex digits from the OS-seeded CSPRNG.
pub fn new_upload_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `id` is one `new_upload_id` could have made (so it is safe
/// as a folder name).
pub fn valid_upload_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Removes chunk folders (and interrupted assemblies) whose newest file is
/// older than `max_age`. Returns how many were removed.
pub fn clean_abandoned(storage: &Path, max_age: Duration, now: SystemTime) -> std::io::Result<usize> {
    let root = chunks_root(storage);
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let id = name.strip_suffix(".assembling").unwrap_or(&name);
        // Only folders this module made; a symlink is never followed.
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if !is_dir || !valid_upload_id(id) {
            continue;
        }
        let newest = std::fs::read_dir(&path)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|f| f.metadata().ok()?.modified().ok())
            .chain(entry.metadata().ok().and_then(|m| m.modified().ok()))
            .max();
        let age = newest.and_then(|t| now.duration_since(t).ok()).unwrap_or_default();
        if age >= max_age && std::fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_are_random_hex_and_checked() {
        let a = new_upload_id();
        assert!(valid_upload_id(&a));
        assert_ne!(a, new_upload_id());
        for bad in ["../../etc", "ABCDEF0123456789ABCDEF0123456789", "", "0123"] {
            assert!(!valid_upload_id(bad), "{bad}");
        }
    }

    #[test]
    fn only_stale_upload_folders_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let root = chunks_root(dir.path());
        let old = root.join(new_upload_id());
        let fresh = root.join(new_upload_id());
        let other = root.join("keep-me");
        for d in [&old, &fresh, &other] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("000000.part"), b"x").unwrap();
        }
        let later = SystemTime::now() + Duration::from_secs(7200);
        // Nothing is an hour old yet; two hours on, both upload folders are.
        assert_eq!(clean_abandoned(dir.path(), Duration::from_secs(3600), SystemTime::now()).unwrap(), 0);
        std::fs::write(fresh.join("000001.part"), b"y").unwrap();
        assert_eq!(clean_abandoned(dir.path(), Duration::from_secs(3600), later).unwrap(), 2);
        assert!(!old.exists() && !fresh.exists() && other.exists());
    }
}
