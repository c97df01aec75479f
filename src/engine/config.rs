//! Where stask's settings come from and how they combine.
//!
//! Three layers, later wins: ini (`stask.*`), environment (`STASK_*`), and
//! `sTask::configure([...])` (what the CMS package calls at boot with the
//! host's database connection). Resolution is a pure function so it is
//! tested without PHP.

use crate::engine::{Error, Result};
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
}

/// Raw inputs of the three layers.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub ini: HashMap<String, String>,
    pub env: HashMap<String, String>,
    pub configured: Option<ConfigureArgs>,
    pub cwd: PathBuf,
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
];

pub const INI_NAMES: &[&str] = &[
    "stask.dsn",
    "stask.storage_path",
    "stask.table_prefix",
    "stask.base_path",
    "stask.retry_base_delay",
    "stask.progress_interval",
    "stask.lease_seconds",
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
        })
    }
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

#[cfg(test)]
mod tests {
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
