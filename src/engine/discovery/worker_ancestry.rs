//! What makes a scanned class look like a worker: a parent whose name ends
//! in `Worker` or `TaskInterface`, directly or through other scanned classes.

use std::collections::{HashMap, HashSet};

use super::class_scan::ClassDecl;

pub(super) fn has_worker_suffix(name: &str) -> bool {
    let ends_with = |suffix: &str| name.len() >= suffix.len() && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix);
    ends_with("Worker") || ends_with("TaskInterface")
}

pub(super) fn is_worker_like(name: &str, worker_like: &HashSet<String>) -> bool {
    has_worker_suffix(name) || worker_like.contains(&name.to_ascii_lowercase())
}

/// Lower-cased short names of the scanned classes that descend, through
/// scanned classes, from something with a worker suffix.
pub(super) fn worker_like_names<'a>(decls: impl Iterator<Item = &'a ClassDecl>) -> HashSet<String> {
    let mut parents_of: HashMap<String, Vec<&'a str>> = HashMap::new();
    for d in decls {
        parents_of.entry(d.name.to_ascii_lowercase()).or_default().extend(d.parents.iter().map(String::as_str));
    }
    let mut like = HashSet::new();
    // Fixed point: each pass adds the classes one step further down; the
    // number of passes is bounded by the depth of the hierarchy.
    loop {
        let before = like.len();
        for (name, parents) in &parents_of {
            if !like.contains(name) && parents.iter().any(|p| is_worker_like(p, &like)) {
                like.insert(name.clone());
            }
        }
        if like.len() == before {
            return like;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::discovery::class_scan::declarations;

    #[test]
    fn worker_ancestry_is_followed_through_scanned_classes() {
        let a = declarations("<?php abstract class AbstractImport extends BaseWorker {}");
        let b = declarations("<?php abstract class Middle extends AbstractImport {}");
        let c = declarations("<?php class Plain extends Model {}");
        let like = worker_like_names(a.iter().chain(&b).chain(&c));
        assert!(like.contains("abstractimport"));
        assert!(like.contains("middle"));
        assert!(!like.contains("plain"));
    }
}
