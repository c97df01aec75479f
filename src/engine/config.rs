//! Where stask's settings come from and how they combine.
//!
//! Three layers, later wins: ini (`stask.*`), environment (`STASK_*`), and
//! `sTask::configure([...])` (what the CMS package calls at boot with the
//! host's database connection). Resolution is a pure function so it is
//! tested without PHP.

use crate::engine::{Error, Result};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which database the engine talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dsn {
    Sqlite { path: PathBuf },
    Mysql { url: String },
    Postgres { url: String },
}

impl Dsn {
    /// `sqlite:///abs/path.sqlite`, `mysql://…`, `mariadb://…`, `postgres://…`, `pgsql://…`.
    pub fn parse(s: &str) -> Result<Dsn> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("sqlite://") {
            let path = rest.split('?').next().unwrap_or_default();
            if path == ":memory:" || path.is_empty() {
                return Err(Error::Configuration(
                    "stask needs a SQLite file, not an in-memory database (every connection would see its own empty database); use sqlite:///absolute/path.sqlite".into(),
                ));
            }
            let path = PathBuf::from(path);
            if !path.is_absolute() {
                return Err(Error::Configuration(format!(
                    "the SQLite path in stask.dsn must be absolute (sqlite:///var/data/stask.sqlite), got '{}'",
                    path.display()
                )));
            }
            return Ok(Dsn::Sqlite { path });
        }
        for (scheme, is_pg) in
            [("mysql://", false), ("mariadb://", false), ("postgres://", true), ("postgresql://", true), ("pgsql://", true)]
        {
            if let Some(rest) = s.strip_prefix(scheme) {
                return Ok(if is_pg {
                    Dsn::Postgres { url: format!("postgres://{rest}") }
                } else {
                    Dsn::Mysql { url: format!("mysql://{rest}") }
                });
            }
        }
        let scheme = s.split("://").next().filter(|_| s.contains("://")).unwrap_or("(none)");
        Err(Error::Configuration(format!(
            "unsupported stask.dsn scheme '{scheme}'; use sqlite:///abs/path.sqlite, mysql://user:pass@host:port/db or postgres://user:pass@host:port/db"
        )))
    }

    pub fn driver_name(&self) -> &'static str {
        match self {
            Dsn::Sqlite { .. } => "sqlite",
            Dsn::Mysql { .. } => "mysql",
            Dsn::Postgres { .. } => "pgsql",
        }
    }
}

/// The Laravel-shaped array given to `sTask::configure()`, already
/// converted from PHP values to strings.
pub type ConfigureArgs = HashMap<String, String>;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub dsn: Dsn,
    pub storage_path: PathBuf,
    pub table_prefix: String,
    pub base_path: PathBuf,
    /// First retry delay; doubles per attempt (see `retry`).
    pub retry_base_delay: Duration,
    /// Progress snapshots are written at most this often per task.
    pub progress_interval: Duration,
    /// How long a claim holds without a heartbeat; heartbeats come every
    /// third of it, so a task is rescued only after its worker died.
    pub lease_for: Duration,
    /// How long opening a connection to a database server may take before
    /// the engine gives up and says so (default 5 s).
    pub connect_timeout: Duration,
    /// The application's time zone: schedules name wall-clock times in it
    /// (`schedule`), and the API shows their next runs in it.
    pub timezone: Tz,
    /// The REST API's token and limits (`api::`).
    pub api: ApiSettings,
}

/// What the REST API needs from the configuration. `Debug` hides the token:
/// settings are printed (and used as the engine's cache key), the token
/// must not be.
#[derive(Clone, PartialEq)]
pub struct ApiSettings {
    /// Bearer token of the standalone front controller; None refuses
    /// bearer-mode requests (503) rather than leaving the API open.
    pub token: Option<String>,
    /// Largest JSON body accepted (413 above).
    pub max_body: u64,
    /// Largest uploaded file, single or assembled from chunks.
    pub upload_max_size: u64,
    /// Size of one chunk of a chunked upload (the last may be smaller).
    pub upload_chunk_size: u64,
    /// Most chunks one upload may have.
    pub upload_max_chunks: u64,
    /// Chunk folders of uploads not completed within this time are removed.
    pub upload_stale_after: Duration,
    /// Chunked uploads open at once, all workers together (429 above): each
    /// may hold up to `upload_max_size` on disk until it completes or goes stale.
    pub upload_max_open: u64,
    /// Chunked uploads open at once for one worker (429 above), so one
    /// import cannot take every slot.
    pub upload_max_open_per_worker: u64,
    /// Bytes the open chunked uploads may announce together (507 above).
    pub upload_max_open_bytes: u64,
    /// Whether uploads (and `allowed_extensions`) may name extensions a web
    /// server or a browser executes (`php`, `phtml`, `phar`, `html`, `svg`…).
    /// Off: the uploads folder sits under the application, and one
    /// misconfigured server rule would turn an upload into code.
    pub upload_allow_executable: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            token: None,
            max_body: 1024 * 1024,
            upload_max_size: 100 * 1024 * 1024,
            upload_chunk_size: 1024 * 1024,
            upload_max_chunks: 1000,
            upload_stale_after: Duration::from_secs(24 * 3600),
            upload_max_open: 100,
            upload_max_open_per_worker: 10,
            upload_max_open_bytes: 1024 * 1024 * 1024,
            upload_allow_executable: false,
        }
    }
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSettings")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("max_body", &self.max_body)
            .field("upload_max_size", &self.upload_max_size)
            .field("upload_chunk_size", &self.upload_chunk_size)
            .field("upload_max_chunks", &self.upload_max_chunks)
            .field("upload_stale_after", &self.upload_stale_after)
            .field("upload_max_open", &self.upload_max_open)
            .field("upload_max_open_per_worker", &self.upload_max_open_per_worker)
            .field("upload_max_open_bytes", &self.upload_max_open_bytes)
            .field("upload_allow_executable", &self.upload_allow_executable)
            .finish()
    }
}

/// Raw inputs of the three layers.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub ini: HashMap<String, String>,
    pub env: HashMap<String, String>,
    pub configured: Option<ConfigureArgs>,
    pub cwd: PathBuf,
    /// The host's own zone (PHP's `date_default_timezone_get()`), used
    /// when no layer names one: schedules then follow the clock the
    /// application's PHP code sees.
    pub host_timezone: Option<String>,
}

const KEYS: &[(&str, &str, &str)] = &[
    // (setting, ini name, env name)
    ("dsn", "stask.dsn", "STASK_DSN"),
    ("storage_path", "stask.storage_path", "STASK_STORAGE"),
    ("table_prefix", "stask.table_prefix", "STASK_TABLE_PREFIX"),
    ("base_path", "stask.base_path", "STASK_BASE_PATH"),
    ("retry_base_delay", "stask.retry_base_delay", "STASK_RETRY_BASE_DELAY"),
    ("progress_interval", "stask.progress_interval", "STASK_PROGRESS_INTERVAL"),
    ("lease_seconds", "stask.lease_seconds", "STASK_LEASE_SECONDS"),
    ("connect_timeout", "stask.connect_timeout", "STASK_CONNECT_TIMEOUT"),
    ("timezone", "stask.timezone", "STASK_TIMEZONE"),
    ("api_token", "stask.api_token", "STASK_API_TOKEN"),
    ("api_max_body", "stask.api_max_body", "STASK_API_MAX_BODY"),
    ("upload_max_size", "stask.upload_max_size", "STASK_UPLOAD_MAX_SIZE"),
    ("upload_chunk_size", "stask.upload_chunk_size", "STASK_UPLOAD_CHUNK_SIZE"),
    ("upload_max_chunks", "stask.upload_max_chunks", "STASK_UPLOAD_MAX_CHUNKS"),
    ("upload_stale_hours", "stask.upload_stale_hours", "STASK_UPLOAD_STALE_HOURS"),
    ("upload_max_open", "stask.upload_max_open", "STASK_UPLOAD_MAX_OPEN"),
    ("upload_max_open_per_worker", "stask.upload_max_open_per_worker", "STASK_UPLOAD_MAX_OPEN_PER_WORKER"),
    ("upload_max_open_bytes", "stask.upload_max_open_bytes", "STASK_UPLOAD_MAX_OPEN_BYTES"),
    ("upload_allow_executable", "stask.upload_allow_executable", "STASK_UPLOAD_ALLOW_EXECUTABLE"),
];

pub const INI_NAMES: &[&str] = &[
    "stask.dsn",
    "stask.storage_path",
    "stask.table_prefix",
    "stask.base_path",
    "stask.retry_base_delay",
    "stask.progress_interval",
    "stask.lease_seconds",
    "stask.connect_timeout",
    "stask.timezone",
    "stask.log_level",
    "stask.api_token",
    "stask.api_max_body",
    "stask.upload_max_size",
    "stask.upload_chunk_size",
    "stask.upload_max_chunks",
    "stask.upload_stale_hours",
    "stask.upload_max_open",
    "stask.upload_max_open_per_worker",
    "stask.upload_max_open_bytes",
    "stask.upload_allow_executable",
];

/// Keys `configure()` accepts; anything else is rejected so a typo is seen.
pub const CONFIGURE_KEYS: &[&str] = &[
    "driver",
    "url",
    "host",
    "port",
    "database",
    "username",
    "password",
    "prefix",
    "storage_path",
    "base_path",
    "retry_base_delay",
    "progress_interval",
    "lease_seconds",
    "connect_timeout",
    "timezone",
    "api_token",
    "api_max_body",
    "upload_max_size",
    "upload_chunk_size",
    "upload_max_chunks",
    "upload_stale_hours",
    "upload_max_open",
    "upload_max_open_per_worker",
    "upload_max_open_bytes",
    "upload_allow_executable",
    // Accepted because Laravel connection arrays carry them; not used.
    "charset",
    "collation",
    "unix_socket",
    "strict",
    "engine",
    "options",
    "foreign_key_constraints",
    "schema",
    "search_path",
    "sslmode",
    "prefix_indexes",
    "name",
];

impl Sources {
    fn layered(&self, key: &str) -> Option<String> {
        let (_, ini, env) = KEYS.iter().find(|(k, _, _)| *k == key)?;
        let mut v = self.ini.get(*ini).filter(|s| !s.is_empty()).cloned();
        if let Some(e) = self.env.get(*env).filter(|s| !s.is_empty()) {
            v = Some(e.clone());
        }
        v
    }

    pub fn resolve(&self) -> Result<Settings> {
        let conf = self.configured.as_ref();
        let conf_get = |k: &str| conf.and_then(|c| c.get(k)).filter(|s| !s.is_empty()).cloned();
        if let Some(c) = conf {
            if let Some(bad) = c.keys().find(|k| !CONFIGURE_KEYS.contains(&k.as_str())) {
                return Err(Error::Configuration(format!(
                    "configure() does not know the key '{bad}'; known keys: {}",
                    CONFIGURE_KEYS.join(", ")
                )));
            }
        }

        let base_path =
            conf_get("base_path").or_else(|| self.layered("base_path")).map(PathBuf::from).unwrap_or_else(|| self.cwd.clone());
        let base_path = absolutize(&self.cwd, &base_path);
        let storage_path = conf_get("storage_path")
            .or_else(|| self.layered("storage_path"))
            .map(|p| absolutize(&self.cwd, Path::new(&p)))
            .unwrap_or_else(|| base_path.join("storage").join("stask"));
        let table_prefix =
            conf.and_then(|c| c.get("prefix")).cloned().or_else(|| self.layered("table_prefix")).unwrap_or_default();
        validate_prefix(&table_prefix)?;

        let dsn = match conf {
            Some(c) => dsn_from_connection(c, &base_path)?,
            None => None,
        };
        let dsn = match dsn {
            Some(d) => d,
            None => match self.layered("dsn") {
                Some(s) => Dsn::parse(&s)?,
                None => Dsn::Sqlite { path: storage_path.join("stask.sqlite") },
            },
        };

        let seconds = |key: &str, default: f64| -> Result<Duration> {
            let raw = conf_get(key).or_else(|| self.layered(key));
            let Some(raw) = raw else { return Ok(Duration::from_secs_f64(default)) };
            match raw.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && (0.0..=86400.0).contains(&v) => Ok(Duration::from_secs_f64(v)),
                _ => Err(Error::Configuration(format!("{key} must be a number of seconds between 0 and 86400, got '{raw}'"))),
            }
        };
        Ok(Settings {
            dsn,
            storage_path,
            table_prefix,
            base_path,
            retry_base_delay: seconds("retry_base_delay", 5.0)?,
            progress_interval: seconds("progress_interval", 0.25)?,
            lease_for: match seconds("lease_seconds", 60.0)? {
                d if d < Duration::from_secs(1) => {
                    return Err(Error::Configuration("lease_seconds must be at least 1 second".into()))
                }
                d => d,
            },
            connect_timeout: match seconds("connect_timeout", 5.0)? {
                d if d < Duration::from_millis(100) => {
                    return Err(Error::Configuration("connect_timeout must be at least 0.1 seconds".into()))
                }
                d => d,
            },
            timezone: self.timezone(&conf_get)?,
            api: self.api_settings(conf_get)?,
        })
    }

    /// `timezone` from the layers, else the host's zone, else UTC. An IANA
    /// name (`Europe/Kyiv`); a fixed offset would get daylight saving wrong
    /// for half the year, so it is refused with the reason.
    fn timezone(&self, conf_get: &impl Fn(&str) -> Option<String>) -> Result<Tz> {
        let Some(raw) = conf_get("timezone").or_else(|| self.layered("timezone")) else {
            // PHP accepts a few names the tz database does not: UTC then.
            return Ok(self.host_timezone.as_deref().and_then(|h| h.trim().parse::<Tz>().ok()).unwrap_or(Tz::UTC));
        };
        raw.trim().parse::<Tz>().map_err(|_| {
            Error::Configuration(format!(
                "timezone must be an IANA time zone name such as Europe/Kyiv, America/New_York or UTC, got '{raw}'"
            ))
        })
    }

    fn api_settings(&self, conf_get: impl Fn(&str) -> Option<String>) -> Result<ApiSettings> {
        let get = |k: &str| conf_get(k).or_else(|| self.layered(k));
        let d = ApiSettings::default();
        let bytes = |key: &str, default: u64, min: u64, max: u64| -> Result<u64> {
            let Some(raw) = get(key) else { return Ok(default) };
            match parse_bytes(&raw) {
                Some(v) if (min..=max).contains(&v) => Ok(v),
                _ => Err(Error::Configuration(format!(
                    "{key} must be a size between {min} and {max} bytes (suffixes K, M, G allowed), got '{raw}'"
                ))),
            }
        };
        let token = get("api_token").map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        if let Some(t) = &token {
            if t.len() < 16 || t.chars().any(|c| c.is_control() || c == ' ') {
                return Err(Error::Configuration(
                    "api_token must be at least 16 characters without spaces or control characters".into(),
                ));
            }
        }
        let stale_hours = match get("upload_stale_hours") {
            None => d.upload_stale_after,
            Some(raw) => match raw.trim().parse::<f64>() {
                Ok(h) if h.is_finite() && (0.01..=8760.0).contains(&h) => Duration::from_secs_f64(h * 3600.0),
                _ => {
                    return Err(Error::Configuration(format!(
                        "upload_stale_hours must be a number of hours between 0.01 and 8760, got '{raw}'"
                    )))
                }
            },
        };
        let count = |key: &str, default: u64| -> Result<u64> {
            let Some(raw) = get(key) else { return Ok(default) };
            match raw.trim().parse::<u64>() {
                Ok(n) if (1..=100_000).contains(&n) => Ok(n),
                _ => Err(Error::Configuration(format!("{key} must be between 1 and 100000, got '{raw}'"))),
            }
        };
        let allow_executable = match get("upload_allow_executable") {
            None => d.upload_allow_executable,
            Some(raw) => parse_bool(&raw).ok_or_else(|| {
                Error::Configuration(format!("upload_allow_executable must be a boolean (1/0, true/false, on/off), got '{raw}'"))
            })?,
        };
        const G: u64 = 1024 * 1024 * 1024;
        Ok(ApiSettings {
            token,
            max_body: bytes("api_max_body", d.max_body, 1024, G)?,
            upload_max_size: bytes("upload_max_size", d.upload_max_size, 1, 64 * G)?,
            upload_chunk_size: bytes("upload_chunk_size", d.upload_chunk_size, 1024, G)?,
            upload_max_chunks: count("upload_max_chunks", d.upload_max_chunks)?,
            upload_stale_after: stale_hours,
            upload_max_open: count("upload_max_open", d.upload_max_open)?,
            upload_max_open_per_worker: count("upload_max_open_per_worker", d.upload_max_open_per_worker)?,
            upload_max_open_bytes: bytes("upload_max_open_bytes", d.upload_max_open_bytes, 1, 1024 * G)?,
            upload_allow_executable: allow_executable,
        })
    }
}

/// A php.ini-style boolean: `1`/`0`, `true`/`false`, `on`/`off`, `yes`/`no`.
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Some(true),
        "0" | "false" | "off" | "no" | "" => Some(false),
        _ => None,
    }
}

/// `1048576`, `512K`, `1M`, `2G` (binary multiples, as php.ini writes them).
pub fn parse_bytes(raw: &str) -> Option<u64> {
    let s = raw.trim();
    let (num, mult) = match s.chars().last()?.to_ascii_uppercase() {
        'K' => (&s[..s.len() - 1], 1024u64),
        'M' => (&s[..s.len() - 1], 1024 * 1024),
        'G' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

fn absolutize(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// Table prefixes are pasted into SQL identifiers, so they are restricted to
/// what Evolution/Laravel use: letters, digits and underscores.
pub fn validate_prefix(prefix: &str) -> Result<()> {
    if prefix.len() > 32 || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::Configuration(format!(
            "the table prefix may only contain letters, digits and underscores (at most 32), got '{prefix}'"
        )));
    }
    Ok(())
}

/// Builds a DSN from a Laravel database connection array.
fn dsn_from_connection(c: &ConfigureArgs, base_path: &Path) -> Result<Option<Dsn>> {
    if let Some(url) = c.get("url").filter(|s| !s.is_empty()) {
        return Dsn::parse(url).map(Some);
    }
    let Some(driver) = c.get("driver").filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let get = |k: &str| c.get(k).cloned().unwrap_or_default();
    match driver.as_str() {
        "sqlite" => {
            let db = get("database");
            if db.is_empty() {
                return Ok(None);
            }
            if db == ":memory:" {
                return Dsn::parse("sqlite://:memory:").map(Some);
            }
            Ok(Some(Dsn::Sqlite { path: absolutize(base_path, Path::new(&db)) }))
        }
        "mysql" | "mariadb" | "pgsql" | "postgres" => {
            let db = get("database");
            if db.is_empty() {
                return Err(Error::Configuration(format!("the {driver} connection needs a 'database' name")));
            }
            let host = if get("host").is_empty() { "127.0.0.1".to_string() } else { get("host") };
            let user = get("username");
            let auth = if user.is_empty() {
                String::new()
            } else if get("password").is_empty() {
                format!("{}@", percent_encode(&user))
            } else {
                format!("{}:{}@", percent_encode(&user), percent_encode(&get("password")))
            };
            let port = if get("port").is_empty() { String::new() } else { format!(":{}", get("port")) };
            let scheme = if driver == "pgsql" || driver == "postgres" { "postgres" } else { "mysql" };
            Dsn::parse(&format!("{scheme}://{auth}{host}{port}/{}", percent_encode(&db))).map(Some)
        }
        other => Err(Error::Configuration(format!("unsupported database driver '{other}'; use sqlite, mysql, mariadb or pgsql"))),
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The host and port a server URL points at (`postgres://u:p@db:5433/x`
/// gives ("db", 5433)), for error messages; the default port of the
/// scheme when none is given. Never includes the user or the password.
pub fn server_address(url: &str) -> (String, u16) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let default_port = if scheme.starts_with("postgres") { 5432 } else { 3306 };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, p)) => (h.to_string(), p.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (v6.to_string(), None),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()),
            None => (hostport.to_string(), None),
        }
    };
    let host = if host.is_empty() { "localhost".to_string() } else { host };
    (host, port.unwrap_or(default_port))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_server_address_names_host_and_port_and_never_the_password() {
        use super::server_address;
        assert_eq!(server_address("postgres://u:secret@db.example:5433/x"), ("db.example".into(), 5433));
        assert_eq!(server_address("mysql://root@127.0.0.1/test?ssl=false"), ("127.0.0.1".into(), 3306));
        assert_eq!(server_address("postgresql://[::1]:6000/x"), ("::1".into(), 6000));
        assert_eq!(server_address("postgres:///x"), ("localhost".into(), 5432));
    }

    use super::*;

    fn sources() -> Sources {
        Sources { cwd: PathBuf::from("/srv/site"), ..Default::default() }
    }

    #[test]
    fn default_is_sqlite_under_the_storage_folder() {
        let s = sources().resolve().unwrap();
        assert_eq!(s.storage_path, PathBuf::from("/srv/site/storage/stask"));
        assert_eq!(s.dsn, Dsn::Sqlite { path: PathBuf::from("/srv/site/storage/stask/stask.sqlite") });
        assert_eq!(s.table_prefix, "");
    }

    #[test]
    fn env_wins_over_ini_and_configure_wins_over_both() {
        let mut src = sources();
        src.ini.insert("stask.table_prefix".into(), "ini_".into());
        assert_eq!(src.resolve().unwrap().table_prefix, "ini_");
        src.env.insert("STASK_TABLE_PREFIX".into(), "env_".into());
        assert_eq!(src.resolve().unwrap().table_prefix, "env_");
        src.configured = Some([("prefix".to_string(), "evo_".to_string())].into());
        assert_eq!(src.resolve().unwrap().table_prefix, "evo_");
    }

    #[test]
    fn laravel_connection_arrays_become_dsns() {
        let mut src = sources();
        src.configured = Some(
            [("driver", "mysql"), ("host", "db"), ("port", "3306"), ("database", "evo"), ("username", "u"), ("password", "p@ss")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        );
        assert_eq!(src.resolve().unwrap().dsn, Dsn::Mysql { url: "mysql://u:p%40ss@db:3306/evo".into() });
    }

    #[test]
    fn the_api_token_follows_the_same_precedence_and_is_never_printed() {
        let mut src = sources();
        assert_eq!(src.resolve().unwrap().api.token, None);
        src.ini.insert("stask.api_token".into(), "ini-token-0123456789".into());
        assert_eq!(src.resolve().unwrap().api.token.as_deref(), Some("ini-token-0123456789"));
        src.env.insert("STASK_API_TOKEN".into(), "env-token-0123456789".into());
        assert_eq!(src.resolve().unwrap().api.token.as_deref(), Some("env-token-0123456789"));
        src.configured = Some([("api_token".to_string(), "conf-token-0123456789".to_string())].into());
        let s = src.resolve().unwrap();
        assert_eq!(s.api.token.as_deref(), Some("conf-token-0123456789"));
        assert!(!format!("{s:?}").contains("conf-token"));
        src.configured = Some([("api_token".to_string(), "short".to_string())].into());
        assert!(src.resolve().is_err());
    }

    #[test]
    fn api_limits_take_php_ini_sizes() {
        let mut src = sources();
        src.ini.insert("stask.api_max_body".into(), "2M".into());
        src.env.insert("STASK_UPLOAD_MAX_SIZE".into(), "10M".into());
        let s = src.resolve().unwrap();
        assert_eq!(s.api.max_body, 2 * 1024 * 1024);
        assert_eq!(s.api.upload_max_size, 10 * 1024 * 1024);
        src.ini.insert("stask.upload_chunk_size".into(), "lots".into());
        assert!(src.resolve().is_err());
    }

    #[test]
    fn upload_caps_and_the_executable_switch_follow_the_same_precedence() {
        let mut src = sources();
        let s = src.resolve().unwrap();
        assert_eq!((s.api.upload_max_open, s.api.upload_max_open_per_worker), (100, 10));
        assert_eq!(s.api.upload_max_open_bytes, 1024 * 1024 * 1024);
        assert!(!s.api.upload_allow_executable);
        src.ini.insert("stask.upload_allow_executable".into(), "On".into());
        src.env.insert("STASK_UPLOAD_MAX_OPEN_BYTES".into(), "10M".into());
        src.configured = Some([("upload_max_open".to_string(), "3".to_string())].into());
        let s = src.resolve().unwrap();
        assert!(s.api.upload_allow_executable);
        assert_eq!((s.api.upload_max_open, s.api.upload_max_open_bytes), (3, 10 * 1024 * 1024));
        src.configured = Some([("upload_allow_executable".to_string(), "maybe".to_string())].into());
        assert!(src.resolve().unwrap_err().to_string().contains("upload_allow_executable"));
        src.configured = Some([("upload_max_open_per_worker".to_string(), "0".to_string())].into());
        assert!(src.resolve().unwrap_err().to_string().contains("upload_max_open_per_worker"));
    }

    #[test]
    fn the_timezone_comes_from_the_layers_then_the_host_then_utc() {
        let mut src = sources();
        assert_eq!(src.resolve().unwrap().timezone, Tz::UTC);
        src.host_timezone = Some("America/New_York".into());
        assert_eq!(src.resolve().unwrap().timezone, chrono_tz::America::New_York);
        src.host_timezone = Some("Not/AZone".into());
        assert_eq!(src.resolve().unwrap().timezone, Tz::UTC);
        src.env.insert("STASK_TIMEZONE".into(), "Europe/Kyiv".into());
        assert_eq!(src.resolve().unwrap().timezone, chrono_tz::Europe::Kyiv);
        src.configured = Some([("timezone".to_string(), "Asia/Tokyo".to_string())].into());
        assert_eq!(src.resolve().unwrap().timezone, chrono_tz::Asia::Tokyo);
        src.configured = Some([("timezone".to_string(), "+02:00".to_string())].into());
        assert!(src.resolve().unwrap_err().to_string().contains("'+02:00'"));
    }

    #[test]
    fn bad_settings_are_refused_with_a_reason() {
        assert!(Dsn::parse("redis://x").unwrap_err().to_string().contains("redis"));
        assert!(Dsn::parse("sqlite://relative.db").is_err());
        assert!(Dsn::parse("sqlite://:memory:").is_err());
        assert!(validate_prefix("evo_; drop").is_err());
        let mut src = sources();
        src.configured = Some([("drvier".to_string(), "sqlite".to_string())].into());
        assert!(src.resolve().unwrap_err().to_string().contains("drvier"));
    }
}
