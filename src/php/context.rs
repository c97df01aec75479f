//! The configuration the PHP process is running with, and its engine.

use crate::engine::config::{ConfigureArgs, Settings, Sources, INI_NAMES};
use crate::engine::service::Engine;
use crate::runtime;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::{ExecutorGlobals, IniEntryDef, IniEntryDefs};
use parking_lot::Mutex;
use std::sync::Arc;

static INI_ENTRIES: IniEntryDefs<21> = IniEntryDefs::new([
    IniEntryDef::new(c"stask.dsn", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.storage_path", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.table_prefix", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.base_path", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.retry_base_delay", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.progress_interval", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.lease_seconds", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.connect_timeout", c"", IniEntryPermission::All),
    // An IANA zone for schedules; empty: PHP's default timezone.
    IniEntryDef::new(c"stask.timezone", c"", IniEntryPermission::All),
    // error, warning (default), info, debug or off (STASK_LOG overrides).
    IniEntryDef::new(c"stask.log_level", c"", IniEntryPermission::All),
    // PHP_INI_SYSTEM: a script must not be able to swap the token.
    IniEntryDef::new(c"stask.api_token", c"", IniEntryPermission::System),
    IniEntryDef::new(c"stask.api_max_body", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.upload_max_size", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.upload_chunk_size", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.upload_max_chunks", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.upload_stale_hours", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.upload_max_open", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.upload_max_open_per_worker", c"", IniEntryPermission::All),
    IniEntryDef::new(c"stask.upload_max_open_bytes", c"", IniEntryPermission::All),
    // PHP_INI_SYSTEM: a script must not be able to open the door to code uploads.
    IniEntryDef::new(c"stask.upload_allow_executable", c"", IniEntryPermission::System),
    IniEntryDef::end(),
]);

pub fn register_ini(module_number: i32) {
    IniEntryDef::register(INI_ENTRIES.as_slice(), module_number);
}

struct Context {
    configured: Option<ConfigureArgs>,
    resolved: Option<Settings>,
    /// The engine of `resolved`, with the pid that opened it: found again
    /// without cloning and formatting the settings (`runtime::engine` keys
    /// its engines by their text), which was 4 % of a `create()`. A forked
    /// child has another pid and goes through `runtime::engine`, which
    /// opens its own.
    engine: Option<(u32, Arc<Engine>)>,
}

static CONTEXT: Mutex<Context> = Mutex::new(Context { configured: None, resolved: None, engine: None });

fn sources(configured: Option<ConfigureArgs>) -> Sources {
    let all = ExecutorGlobals::get().ini_values();
    let ini: std::collections::HashMap<String, String> =
        INI_NAMES.iter().filter_map(|n| all.get(*n).cloned().flatten().map(|v| (n.to_string(), v))).collect();
    crate::php::log::apply_ini(ini.get("stask.log_level").map(String::as_str));
    let env = std::env::vars().filter(|(k, _)| k.starts_with("STASK_")).collect();
    Sources {
        ini,
        env,
        configured,
        cwd: std::env::current_dir().unwrap_or_else(|_| "/".into()),
        host_timezone: php_default_timezone(),
    }
}

/// `date_default_timezone_get()`: what Laravel sets from `app.timezone`
/// and Evolution from its own setting, so schedules follow the site's clock.
fn php_default_timezone() -> Option<String> {
    let f = ext_php_rs::types::ZendCallable::try_from_name("date_default_timezone_get").ok()?;
    f.try_call(vec![]).ok()?.string()
}

/// `sTask::configure()`: validated now, so a bad array fails at boot.
pub fn configure(args: ConfigureArgs) -> PhpResult<Settings> {
    let settings = sources(Some(args.clone())).resolve()?;
    let mut c = CONTEXT.lock();
    c.configured = Some(args);
    c.resolved = Some(settings.clone());
    c.engine = None;
    Ok(settings)
}

pub fn settings() -> PhpResult<Settings> {
    let configured = {
        let c = CONTEXT.lock();
        if let Some(s) = &c.resolved {
            return Ok(s.clone());
        }
        c.configured.clone()
    };
    let s = sources(configured).resolve()?;
    CONTEXT.lock().resolved = Some(s.clone());
    Ok(s)
}

/// The engine of the current settings (opened, and migrated for SQLite, on
/// first use in this process).
pub fn engine() -> PhpResult<Arc<Engine>> {
    let pid = std::process::id();
    if let Some((opened_by, e)) = &CONTEXT.lock().engine {
        if *opened_by == pid {
            return Ok(e.clone());
        }
    }
    let e = runtime::engine(&settings()?)?;
    CONTEXT.lock().engine = Some((pid, e.clone()));
    Ok(e)
}

/// Lets go of the cached engine (MSHUTDOWN: the runtime's own reference
/// must be the last, so the engine closes its connections there).
pub fn forget_engine() {
    CONTEXT.lock().engine = None;
}

/// Runs engine work from the PHP thread.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime::block_on(f)
}
