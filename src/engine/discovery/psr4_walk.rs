//! The directory walk: every `<root>/A/B.php` below a PSR-4 root becomes the
//! class `Prefix\A\B`, without opening the file.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::exclusion::is_excluded;
use super::Candidate;

/// Deepest directory level walked below a PSR-4 root.
pub const MAX_DEPTH: usize = 12;

/// Directory names never walked: test suites declare fixture workers, and
/// nested `vendor`/`node_modules` trees are not autoloadable by this app.
const SKIPPED_DIRS: &[&str] = &["tests", "Tests", "vendor", "node_modules"];

/// Adds `Prefix\Sub\Name` for every `<root>/Sub/Name.php` whose path parts
/// are valid PHP identifiers and whose class is not excluded.
pub(super) fn walk_psr4(prefix: &str, root: &Path, excluded: &[&str], out: &mut Vec<Candidate>) {
    let mut ns = prefix.trim_start_matches('\\').to_string();
    if !ns.is_empty() && !ns.ends_with('\\') {
        ns.push('\\');
    }
    // Canonical paths already walked from this root: a symlink pointing
    // back up the tree is entered once, not forever.
    let mut visited = HashSet::new();
    walk_dir(root, &ns, 0, excluded, &mut visited, out);
}

fn walk_dir(dir: &Path, ns: &str, depth: usize, excluded: &[&str], visited: &mut HashSet<PathBuf>, out: &mut Vec<Candidate>) {
    let Ok(canonical) = fs::canonicalize(dir) else { return };
    if !visited.insert(canonical) {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        // fs::metadata follows symlinks: Composer path repositories link
        // packages into vendor/, and those must be walked.
        let Ok(meta) = fs::metadata(&path) else { continue };
        if meta.is_dir() {
            if depth < MAX_DEPTH && !SKIPPED_DIRS.contains(&name) && is_identifier(name) {
                let child_ns = format!("{ns}{name}\\");
                // An excluded sub-namespace (`EvolutionCMS\Legacy\` below an
                // `EvolutionCMS\` root) is skipped as a whole.
                if !is_excluded(&child_ns, excluded) {
                    walk_dir(&path, &child_ns, depth + 1, excluded, visited, out);
                }
            }
        } else if meta.is_file() {
            let Some(stem) = name.strip_suffix(".php") else { continue };
            if !is_identifier(stem) {
                continue;
            }
            let class = format!("{ns}{stem}");
            if !is_excluded(&class, excluded) {
                out.push(Candidate { class, file: path });
            }
        }
    }
}

/// A PHP label: `[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*`.
fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
}
