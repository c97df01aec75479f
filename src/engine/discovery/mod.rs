//! Finding worker class candidates from what Composer's autoloader knows,
//! without an optimised autoloader and without loading PHP code.
//!
//! The PHP package read only `autoload_classmap.php`, which lists PSR-4
//! classes only after `composer dump-autoload -o`, and then called
//! `class_exists()` on every non-excluded class, autoloading and executing
//! thousands of files (REFERENCE §5.1, §13 weak point 18). Here we:
//!
//! 1. take an [`AutoloadMap`]: the PSR-4 prefixes and the class map of the
//!    Composer `ClassLoader` the host has registered (the PHP face reads it
//!    through the loader's own getters, so prefixes added at run time count
//!    too), or, where no loader is registered, what
//!    `vendor/composer/autoload_psr4.php` and `autoload_classmap.php` say
//!    ([`read_composer_files`], a small parser for the forms Composer
//!    generates);
//! 2. walk each PSR-4 directory, mapping `<dir>/A/B.php` to `Prefix\A\B`,
//!    skipping prefixes and classes in excluded namespaces before any file is
//!    opened;
//! 3. keep only files whose text declares a concrete class that extends or
//!    implements something named `…Worker` or `…TaskInterface` — directly,
//!    or through a class found in the scanned files that does (so
//!    `class Import extends AbstractImport` counts when `AbstractImport
//!    extends BaseWorker`).
//!
//! The result is a short list of candidates; the PHP face autoloads only
//! those and confirms each with reflection. The text checks are a pre-filter:
//! they may let through a class that is not a worker, and they cannot see a
//! worker whose ancestry is hidden (a parent outside the scanned files whose
//! name does not end in `Worker`).

mod autoload_map;
mod class_scan;
mod composer_files;
mod exclusion;
mod php_array;
mod php_tokens;
mod psr4_walk;
mod worker_ancestry;

pub use autoload_map::AutoloadMap;
pub use class_scan::may_declare_worker;
pub use composer_files::{parse_classmap, parse_psr4, read_composer_files};
pub use exclusion::{is_excluded, DEFAULT_EXCLUDED_NAMESPACES};
pub use psr4_walk::MAX_DEPTH;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use class_scan::{declarations, read_php, ClassDecl};
use psr4_walk::walk_psr4;
use worker_ancestry::{is_worker_like, worker_like_names};

/// A class that may be a worker, and the file that declares it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Candidate {
    /// Fully qualified, without a leading backslash.
    pub class: String,
    pub file: PathBuf,
}

/// Worker candidates among the classes `map` can autoload, sorted by
/// class, one per class.
///
/// PSR-4 directories that do not exist and files that cannot be read are
/// skipped. Classes whose name starts with an `excluded` prefix (compared
/// without regard to ASCII case, as PHP compares class names) are never
/// considered.
pub fn candidates(map: &AutoloadMap, excluded: &[&str]) -> Vec<Candidate> {
    let mut found: Vec<Candidate> = Vec::new();
    for (class, file) in &map.classmap {
        let class = class.trim_start_matches('\\').to_string();
        if !is_excluded(&class, excluded) {
            found.push(Candidate { class, file: file.clone() });
        }
    }
    for (prefix, dirs) in &map.psr4 {
        // Every class under this root starts with the prefix, so an
        // excluded prefix rules out the whole tree before it is walked.
        if !prefix.is_empty() && is_excluded(prefix, excluded) {
            continue;
        }
        for dir in dirs {
            walk_psr4(prefix, dir, excluded, &mut found);
        }
    }

    // Scan each file once, even when the classmap and PSR-4 both list it.
    let mut decls: HashMap<PathBuf, Vec<ClassDecl>> = HashMap::new();
    for c in &found {
        if !decls.contains_key(&c.file) {
            let scanned = read_php(&c.file).map(|s| declarations(&s)).unwrap_or_default();
            decls.insert(c.file.clone(), scanned);
        }
    }
    let worker_like = worker_like_names(decls.values().flatten());
    let qualifies = |file: &Path| {
        decls
            .get(file)
            .is_some_and(|ds| ds.iter().any(|d| !d.is_abstract && d.parents.iter().any(|p| is_worker_like(p, &worker_like))))
    };
    found.retain(|c| qualifies(&c.file));
    found.sort();
    found.dedup_by(|a, b| a.class == b.class);
    found
}

#[cfg(test)]
mod tests;
