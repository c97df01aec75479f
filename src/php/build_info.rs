//! What the extension says about itself: `php --ri stask` (phpinfo's
//! table) and `sTask::buildInfo()`. The build facts come from build.rs;
//! the `stask.*` ini values are read from PHP's own ini table, with the
//! secrets masked.

use crate::php::convert::json_to_zval;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::ffi::zend_ini_entry;
use ext_php_rs::types::ZendHashTable;
use ext_php_rs::zend::ExecutorGlobals;
use ext_php_rs::{info_table_end, info_table_header, info_table_row, info_table_start};
use serde_json::{json, Map, Value};
use std::ffi::CStr;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("STASK_BUILD_COMMIT");
pub const BUILD_DATE: &str = env!("STASK_BUILD_DATE");
pub const PHP_VERSION_BUILT: &str = env!("STASK_BUILD_PHP_VERSION");
pub const RUSTC: &str = env!("STASK_BUILD_RUSTC");
pub const PROFILE: &str = env!("STASK_BUILD_PROFILE");
pub const TARGET: &str = env!("STASK_BUILD_TARGET");

/// The database drivers compiled in (all three are always built).
pub const DRIVERS: [&str; 3] = ["sqlite", "mysql", "pgsql"];

/// The Zend module API the extension was compiled for (PHP 8.2: 20220829).
pub fn php_api() -> u32 {
    ext_php_rs::ffi::ZEND_MODULE_API_NO
}

/// PHP's build id the extension was compiled for, e.g. `API20220829,NTS`.
pub fn php_build_id() -> String {
    // SAFETY: a pointer to a static C string compiled into the wrapper.
    unsafe {
        let p = ext_php_rs::ffi::ext_php_rs_php_build_id();
        if p.is_null() {
            return String::new();
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

pub fn thread_safety() -> &'static str {
    if php_build_id().contains(",TS") {
        "ZTS"
    } else {
        "NTS"
    }
}

fn short_commit() -> &'static str {
    if COMMIT.len() > 12 && COMMIT.bytes().all(|b| b.is_ascii_hexdigit()) {
        &COMMIT[..12]
    } else {
        COMMIT
    }
}

fn drivers_text() -> String {
    format!("sqlite (SQLite {} bundled), mysql (MySQL/MariaDB), pgsql (PostgreSQL)", rusqlite::version())
}

/// One `stask.*` directive: its local and master value.
struct Directive {
    name: String,
    local: Option<String>,
    master: Option<String>,
}

/// The `stask.*` ini directives PHP knows, sorted by name, secrets masked.
fn directives() -> Vec<Directive> {
    let globals = ExecutorGlobals::get();
    // SAFETY: EG(ini_directives) is set up before any request (null before
    // zend_ini_startup, handled) and its entries are owned by the table.
    let Some(table) = (unsafe { globals.ini_directives.as_ref() }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, entry) in table {
        let name = key.to_string();
        if !name.starts_with("stask.") {
            continue;
        }
        let Some(entry) = (unsafe { entry.ptr::<zend_ini_entry>().and_then(|e| e.as_ref()) }) else {
            continue;
        };
        let read = |s: *mut ext_php_rs::ffi::zend_string| unsafe {
            s.as_ref().map(|z| String::from_utf8_lossy(z.as_bytes()).into_owned())
        };
        let local = read(entry.value);
        // orig_value holds the php.ini value while a script has changed it.
        let master = if entry.modified != 0 { read(entry.orig_value) } else { local.clone() };
        out.push(Directive { local: mask(&name, local), master: mask(&name, master), name });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Secrets never leave the process: the API token shows as set or not,
/// a DSN's password as `***`.
fn mask(name: &str, value: Option<String>) -> Option<String> {
    let value = value.filter(|v| !v.is_empty())?;
    match name {
        "stask.api_token" => Some("(set, hidden)".into()),
        "stask.dsn" => Some(mask_dsn_password(&value)),
        _ => Some(value),
    }
}

fn mask_dsn_password(dsn: &str) -> String {
    let Some(scheme_end) = dsn.find("://") else { return dsn.to_string() };
    let rest = &dsn[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else { return dsn.to_string() };
    let Some(colon) = authority[..at].find(':') else { return dsn.to_string() };
    format!("{}{}:***{}", &dsn[..scheme_end + 3], &authority[..colon], &rest[at..])
}

/// phpinfo()'s section (`php --ri stask`).
pub fn print_info() {
    info_table_start!();
    info_table_row!("stask support", "enabled");
    info_table_row!("version", VERSION);
    info_table_row!("git commit", short_commit());
    info_table_row!("build date", BUILD_DATE);
    info_table_row!("build profile", PROFILE);
    info_table_row!("built for PHP", format!("{PHP_VERSION_BUILT} (API {}, {})", php_api(), thread_safety()));
    info_table_row!("target", TARGET);
    info_table_row!("compiler", RUSTC);
    info_table_row!("database drivers", drivers_text());
    info_table_end!();

    let list = directives();
    if list.is_empty() {
        return;
    }
    info_table_start!();
    info_table_header!("Directive", "Local Value", "Master Value");
    for d in list {
        let show = |v: Option<String>| v.unwrap_or_else(|| "no value".into());
        info_table_row!(d.name.as_str(), show(d.local), show(d.master));
    }
    info_table_end!();
}

/// `sTask::buildInfo()`.
pub fn to_php() -> PhpResult<ZBox<ZendHashTable>> {
    let mut ini = Map::new();
    for d in directives() {
        ini.insert(d.name, d.local.map(Value::String).unwrap_or(Value::Null));
    }
    let z = json_to_zval(&json!({
        "version": VERSION,
        "git_commit": COMMIT,
        "build_date": BUILD_DATE,
        "profile": PROFILE,
        "target": TARGET,
        "rustc": RUSTC,
        "php_version": PHP_VERSION_BUILT,
        "php_api": php_api(),
        "php_build_id": php_build_id(),
        "thread_safety": thread_safety(),
        "drivers": DRIVERS,
        "sqlite_version": rusqlite::version(),
        "ini": Value::Object(ini),
    }))?;
    Ok(z.array().map(|a| a.to_owned()).unwrap_or_else(ZendHashTable::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_password_is_masked() {
        assert_eq!(mask_dsn_password("mysql://u:secret@h:3306/db"), "mysql://u:***@h:3306/db");
        assert_eq!(mask_dsn_password("pgsql://u:p@ss@h/db?x=1"), "pgsql://u:***@h/db?x=1");
        assert_eq!(mask_dsn_password("mysql://u@h/db"), "mysql://u@h/db");
        assert_eq!(mask_dsn_password("sqlite:///tmp/x.sqlite"), "sqlite:///tmp/x.sqlite");
        assert_eq!(mask("stask.api_token", Some("abc".into())).as_deref(), Some("(set, hidden)"));
        assert_eq!(mask("stask.api_token", Some(String::new())), None);
    }

    #[test]
    fn build_facts_are_recorded() {
        assert!(!COMMIT.is_empty());
        assert!(BUILD_DATE.ends_with('Z') && BUILD_DATE.len() == 20, "{BUILD_DATE}");
        assert!(PROFILE == "debug" || PROFILE == "release" || !PROFILE.is_empty());
    }
}
