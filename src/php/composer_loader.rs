//! The Composer `ClassLoader` the host has registered, read through its own
//! getters (`getPrefixesPsr4()`, `getFallbackDirsPsr4()`, `getClassMap()`)
//! into the plain [`AutoloadMap`] the engine's discovery walks.
//!
//! Asking the loader instead of parsing `vendor/composer/*.php` sees what
//! the host really autoloads: prefixes a module or a test added at run time
//! (`$loader->addPsr4()`), several loaders (a CMS core and a package with
//! its own vendor/), paths Composer resolved itself.

use crate::engine::discovery::AutoloadMap;
use crate::php::convert::values_of;
use ext_php_rs::types::array::Iter;
use ext_php_rs::types::{ZendCallable, ZendObject, Zval};
use ext_php_rs::zend::{ClassEntry, ExecutorGlobals};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

const CLASS_LOADER: &str = "Composer\\Autoload\\ClassLoader";

/// What every registered Composer loader can autoload, merged in
/// registration order; None when no Composer loader is registered (the
/// caller then reads Composer's files).
pub fn registered_autoload_map() -> Option<AutoloadMap> {
    let functions = ZendCallable::try_from_name("spl_autoload_functions").ok()?.try_call(vec![]).ok()?;
    let mut map: Option<AutoloadMap> = None;
    for callable in values_of(functions.array()?) {
        let Some(loader) = composer_loader(callable) else { continue };
        let map = map.get_or_insert_with(AutoloadMap::default);
        if let Some(prefixes) = call(loader, "getPrefixesPsr4") {
            for (prefix, dirs) in string_entries(&prefixes) {
                map.psr4.push((prefix, paths(dirs)));
            }
        }
        if let Some(fallback) = call(loader, "getFallbackDirsPsr4") {
            let dirs = paths(&fallback);
            if !dirs.is_empty() {
                map.psr4.push((String::new(), dirs));
            }
        }
        if let Some(classes) = call(loader, "getClassMap") {
            for (class, file) in string_entries(&classes) {
                if let Some(file) = path(file) {
                    map.classmap.push((class, file));
                }
            }
        }
    }
    map
}

/// The loader of an `[object, 'loadClass']` callable whose object is a
/// Composer `ClassLoader` (or extends it); Composer registers exactly that.
fn composer_loader(callable: &Zval) -> Option<&ZendObject> {
    let parts = values_of(callable.dereference().array()?);
    let [object, method] = parts.as_slice() else { return None };
    let loader = object.dereference().object()?;
    let method = method.dereference().str()?;
    (method.eq_ignore_ascii_case("loadClass") && is_class_loader(loader.get_class_entry())).then_some(loader)
}

/// Compares names up the parent chain instead of looking the class up: a
/// lookup would autoload it on hosts that have no Composer at all.
fn is_class_loader(mut ce: &ClassEntry) -> bool {
    loop {
        if ce.name().is_some_and(|n| n.eq_ignore_ascii_case(CLASS_LOADER)) {
            return true;
        }
        match ce.parent() {
            Some(parent) => ce = parent,
            None => return false,
        }
    }
}

/// A getter's array; None when it is missing, throws (the exception is
/// cleared: one odd loader must not stop discovery) or returns no array.
fn call(loader: &ZendObject, method: &str) -> Option<Zval> {
    let result = loader.try_call_method(method, vec![]);
    if ExecutorGlobals::take_exception().is_some() {
        return None;
    }
    result.ok().filter(Zval::is_array)
}

/// The string-keyed entries of `z`. A key that is not UTF-8 cannot name a
/// class or namespace, so it is left out rather than failing the rest.
fn string_entries(z: &Zval) -> Vec<(String, &Zval)> {
    let Some(ht) = z.array() else { return Vec::new() };
    let mut it = Iter::new(ht);
    let mut out = Vec::new();
    while let Some((k, v)) = it.next_zval() {
        if let Some(name) = k.zend_str().and_then(|s| s.as_str().ok()) {
            out.push((name.to_string(), v));
        }
    }
    out
}

/// The paths of a list of strings; anything else in it is skipped.
fn paths(z: &Zval) -> Vec<PathBuf> {
    z.array().map(|ht| values_of(ht).into_iter().filter_map(path).collect()).unwrap_or_default()
}

/// A path from a PHP string, byte for byte: file names need not be UTF-8.
fn path(z: &Zval) -> Option<PathBuf> {
    let s = z.dereference().zend_str()?;
    (!s.as_bytes().is_empty()).then(|| PathBuf::from(OsStr::from_bytes(s.as_bytes())))
}
