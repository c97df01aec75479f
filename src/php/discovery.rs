//! Worker discovery, rescan and orphan cleanup: the engine finds candidate
//! classes in what Composer's autoloader knows; here PHP loads and asks them.

use crate::engine::discovery::{candidates, read_composer_files, DEFAULT_EXCLUDED_NAMESPACES};
use crate::engine::query::{Query, Table, Value};
use crate::engine::service::Engine;
use crate::engine::worker::WorkerRow;
use crate::php::composer_loader::registered_autoload_map;
use crate::php::context::block_on;
use crate::php::exceptions::throw;
use crate::php::workers::{check_worker_class, class_exists, instantiate, not_loadable, task_interface, worker_info};
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::ZendCallable;
use ext_php_rs::zend::ClassEntry;
use std::collections::BTreeSet;

/// Classes already declared in this process that implement TaskInterface.
fn declared_workers() -> Vec<String> {
    let Some(iface) = task_interface() else { return vec![] };
    let Ok(f) = ZendCallable::try_from_name("get_declared_classes") else { return vec![] };
    let Ok(list) = f.try_call(vec![]) else { return vec![] };
    let mut out = Vec::new();
    if let Some(ht) = list.array() {
        for v in crate::php::convert::values_of(ht) {
            if let Some(name) = v.str() {
                if let Some(ce) = ClassEntry::try_find(name) {
                    if ce.instance_of(iface) && !name.starts_with("Seiger\\sTask\\Workers\\BaseWorker") {
                        out.push(name.to_string());
                    }
                }
            }
        }
    }
    out
}

/// Registers one class; None when its identifier is already taken.
pub fn register(engine: &Engine, class: &str) -> PhpResult<Option<WorkerRow>> {
    let class = class.trim_start_matches('\\');
    check_worker_class(class).map_err(|(k, m)| throw(k, m))?;
    let obj = instantiate(class)?.ok_or_else(|| {
        let (kind, message) = not_loadable(class);
        throw(kind, message)
    })?;
    let info = worker_info(class, &obj)?;
    Ok(block_on(engine.register_worker(&info))?)
}

fn all_workers(engine: &Engine) -> PhpResult<Vec<WorkerRow>> {
    Ok(block_on(engine.select_workers(&Query::new(Table::Workers)))?)
}

/// Finds worker classes and registers the new ones (inactive).
pub fn discover(engine: &Engine) -> PhpResult<Vec<WorkerRow>> {
    let known: BTreeSet<String> = all_workers(engine)?.into_iter().map(|w| w.class).collect();
    // The host's own loader when it has one; Composer's files only where
    // nothing registered a loader to ask.
    let map = match registered_autoload_map() {
        Some(map) => map,
        None => {
            let base = &engine.settings().base_path;
            read_composer_files(base).map_err(|e| crate::engine::Error::io(base, e))?
        }
    };
    let found = candidates(&map, DEFAULT_EXCLUDED_NAMESPACES);
    let mut classes: BTreeSet<String> = found.into_iter().map(|c| c.class).collect();
    classes.extend(declared_workers());
    let mut registered = Vec::new();
    for class in classes.into_iter().filter(|c| !known.contains(c)) {
        if check_worker_class(&class).is_err() {
            continue;
        }
        // One broken worker must not stop discovery of the others.
        if let Ok(Some(row)) = register(engine, &class) {
            registered.push(row);
        }
    }
    Ok(registered)
}

/// Refreshes identifier, scope, title, description and icon from each
/// worker class; returns the rows that changed.
pub fn rescan(engine: &Engine) -> PhpResult<Vec<WorkerRow>> {
    let mut updated = Vec::new();
    for row in all_workers(engine)? {
        if check_worker_class(&row.class).is_err() {
            continue;
        }
        let Ok(Some(obj)) = instantiate(&row.class) else { continue };
        let Ok(info) = worker_info(&row.class, &obj) else { continue };
        let same = info.identifier == row.identifier
            && info.scope == row.scope
            && info.title == row.title
            && info.description == row.description
            && info.icon == row.icon;
        if same {
            continue;
        }
        if block_on(engine.update_worker_info(row.id, &info)).unwrap_or(false) {
            if let Some(fresh) = block_on(engine.select_workers(&Query::new(Table::Workers).where_eq("id", Value::Int(row.id))?))?
                .into_iter()
                .next()
            {
                updated.push(fresh);
            }
        }
    }
    Ok(updated)
}

/// Deletes rows whose class no longer loads (their tasks are kept).
pub fn clean_orphans(engine: &Engine) -> PhpResult<i64> {
    let orphans: Vec<Value> =
        all_workers(engine)?.into_iter().filter(|w| !class_exists(&w.class)).map(|w| Value::Int(w.id)).collect();
    if orphans.is_empty() {
        return Ok(0);
    }
    let q = Query::new(Table::Workers).where_in("id", orphans, false)?;
    Ok(block_on(engine.delete(&q))? as i64)
}
