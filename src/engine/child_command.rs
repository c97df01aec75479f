//! The command line of a worker child: the same PHP binary, the same ini
//! and the same stask extension as the process that supervises it.
//!
//! A child started as `[PHP_BINARY, 'artisan', …]` would otherwise lose what
//! the parent was started with: `php -n -d extension=/path/libstask.so
//! -d memory_limit=1G artisan stask:worker` gives children no extension and
//! another memory limit, and each dies at start-up. The rules:
//!
//! 1. Without a `command`, the child re-runs the parent's own argv
//!    (`/proc/self/cmdline`: PHP's options, the script, its arguments), with
//!    the parent's executable (`/proc/self/exe`) in place of `argv[0]`, which
//!    may be a bare `php` that `PATH` could resolve to another binary.
//! 2. A `command` whose binary is the parent's PHP and which has no PHP
//!    options of its own gets the parent's ini options (`-n`, `-c`, `-d`,
//!    `-z`) after the binary. One with options of its own is taken as it is:
//!    its author chose them, and copying ours beside them could load the
//!    extension twice ("Module already loaded" on every start).
//! 3. Then the extension: a `-d extension=` naming this library means it is
//!    loaded; `-n` without one means it is not (no ini file is read). Else
//!    the ini files decide, and rather than parse them we ask the child's PHP
//!    itself once (`-r 'extension_loaded(…)'`, same options, same
//!    environment, so `PHP_INI_SCAN_DIR` counts). When the child would not
//!    load it (the parent had it from `-d` or `dl()`), `-d extension=<this
//!    library>` is added.
//!
//! The environment (`PHP_INI_SCAN_DIR` among it) is inherited by the children
//! as it is. A `command` with another binary (a wrapper script, another PHP)
//! is left alone: we cannot know what it runs. `/proc/self/cmdline` is read
//! when `work()` starts; a script that called `cli_set_process_title()`
//! before has overwritten it, and should pass `command` (the crash-loop
//! guard of the supervisor reports it otherwise).

use crate::engine::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The name PHP knows the extension by (`extension_loaded('stask')`).
const EXTENSION: &str = "stask";

/// How long the one-off "does this PHP load the extension" check may take;
/// a debug build of the extension is large and a cold disk is slow.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// What the supervising process was started with.
#[derive(Debug, Clone, PartialEq)]
pub struct Parent {
    /// The running executable (`/proc/self/exe`).
    pub exe: PathBuf,
    /// The full argv (`/proc/self/cmdline`).
    pub argv: Vec<String>,
    /// The file this extension was loaded from, when it can be found.
    pub library: Option<PathBuf>,
}

impl Parent {
    /// This process, read from `/proc/self`.
    pub fn current() -> Result<Self> {
        let argv: Vec<String> = std::fs::read("/proc/self/cmdline")
            .map(|b| b.split(|c| *c == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect())
            .map_err(|e| Error::io(Path::new("/proc/self/cmdline"), e))?;
        let exe = std::fs::read_link("/proc/self/exe").map_err(|e| Error::io(Path::new("/proc/self/exe"), e))?;
        Ok(Parent { exe, argv, library: own_library() })
    }
}

/// Whether the child command loads the extension, judged from its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// A `-d extension=` names this library.
    Loaded,
    /// `-n` and no `-d extension=`: nothing can load it.
    Missing,
    /// Up to the ini files.
    Unknown,
    /// Not the parent's PHP, or the library was not found: left alone.
    NotOurs,
}

/// A child command before the extension is settled.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub argv: Vec<String>,
    pub extension: Extension,
}

/// PHP CLI options that take a value (`sapi/cli/php_cli.c`), attached
/// (`-dfoo=1`, `--define=foo=1`) or as the next argument.
const SHORT_WITH_VALUE: &str = "BcdEFfRrStzT";
const LONG_WITH_VALUE: &[&str] = &[
    "process-begin",
    "php-ini",
    "define",
    "process-end",
    "process-file",
    "file",
    "process-code",
    "run",
    "server",
    "docroot",
    "zend-extension",
    "timing",
    "rf",
    "rfunction",
    "rc",
    "rclass",
    "re",
    "rextension",
    "rz",
    "rzendextension",
    "ri",
    "rextinfo",
];

/// The PHP options at the front of an argv.
#[derive(Debug, Clone, Default, PartialEq)]
struct Options {
    /// Any option at all before the script.
    any: bool,
    /// The ini ones, normalised to separate arguments: `-n`, `-c X`, `-d X`, `-z X`.
    ini: Vec<String>,
}

fn options(argv: &[String]) -> Options {
    let mut o = Options::default();
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if a == "--" || a == "-" || !a.starts_with('-') {
            break;
        }
        o.any = true;
        if let Some(long) = a.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let value = if LONG_WITH_VALUE.contains(&name) && attached.is_none() {
                i += 1;
                argv.get(i).cloned()
            } else {
                attached
            };
            match (name, value) {
                ("no-php-ini", _) => o.ini.push("-n".into()),
                ("php-ini", Some(v)) => o.ini.extend(["-c".into(), v]),
                ("define", Some(v)) => o.ini.extend(["-d".into(), v]),
                ("zend-extension", Some(v)) => o.ini.extend(["-z".into(), v]),
                _ => {}
            }
        } else {
            // Short flags may be grouped (`-nq`); the first one that takes a
            // value ends the group and owns the rest of it, or the next argument.
            for (at, c) in a.char_indices().skip(1) {
                if SHORT_WITH_VALUE.contains(c) {
                    let rest = &a[at + c.len_utf8()..];
                    let value = if rest.is_empty() {
                        i += 1;
                        argv.get(i).cloned()
                    } else {
                        Some(rest.to_string())
                    };
                    if let (Some(flag), Some(v)) = (['c', 'd', 'z'].iter().find(|f| **f == c), value) {
                        o.ini.extend([format!("-{flag}"), v]);
                    }
                    break;
                }
                if c == 'n' {
                    o.ini.push("-n".into());
                }
            }
        }
        i += 1;
    }
    o
}

/// Whether an ini setting `extension=…` names this library: the same file,
/// or the same name (`stask`, `stask.so`, `libstask.so`) for one found in
/// `extension_dir`.
fn names_library(setting: &str, library: &Path) -> bool {
    let Some((key, value)) = setting.split_once('=') else { return false };
    if key.trim() != "extension" {
        return false;
    }
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    let short = |name: &str| -> String {
        let name = name.rsplit('/').next().unwrap_or(name);
        let name = name.strip_suffix(".so").unwrap_or(name);
        name.strip_prefix("lib").unwrap_or(name).to_string()
    };
    if value.contains('/') {
        let same_file = match (std::fs::canonicalize(value), std::fs::canonicalize(library)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        return same_file || short(value) == short(&library.to_string_lossy());
    }
    short(value) == EXTENSION || short(value) == short(&library.to_string_lossy())
}

fn extension_in(ini: &[String], library: &Path) -> Extension {
    let mut no_ini = false;
    let mut it = ini.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" => no_ini = true,
            "-d" => {
                if it.next().is_some_and(|v| names_library(v, library)) {
                    return Extension::Loaded;
                }
            }
            _ => {
                it.next();
            }
        }
    }
    if no_ini {
        Extension::Missing
    } else {
        Extension::Unknown
    }
}

/// A program name as `Command` would find it: a path as it is, a bare name
/// through `PATH`.
fn locate(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return std::fs::canonicalize(program).ok();
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file()).and_then(|p| std::fs::canonicalize(p).ok())
}

fn is_parent_php(program: &str, parent: &Parent) -> bool {
    match (locate(program), std::fs::canonicalize(&parent.exe)) {
        (Some(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The child's argv by rules 1 and 2 (module doc), and what its options say
/// about the extension.
pub fn draft(parent: &Parent, requested: &[String]) -> Draft {
    let (argv, ours) = if requested.is_empty() {
        let mut argv = parent.argv.clone();
        if let Some(first) = argv.first_mut() {
            *first = parent.exe.to_string_lossy().into_owned();
        }
        (argv, true)
    } else {
        let mut argv = requested.to_vec();
        let ours = is_parent_php(&argv[0], parent);
        if ours && !options(&argv).any {
            let inherited = options(&parent.argv).ini;
            argv.splice(1..1, inherited);
        }
        (argv, ours)
    };
    let extension = match (&parent.library, ours) {
        (Some(lib), true) => extension_in(&options(&argv).ini, lib),
        _ => Extension::NotOurs,
    };
    Draft { argv, extension }
}

/// `draft` plus rule 3: adds `-d extension=<this library>` when the child
/// would not load it. `env` is the children's extra environment.
pub async fn resolve(parent: &Parent, requested: &[String], env: &[(String, String)]) -> Result<Vec<String>> {
    let Draft { mut argv, extension } = draft(parent, requested);
    if argv.is_empty() {
        return Err(Error::invalid("command", "the command line of this process is empty; pass the command option"));
    }
    let add = match extension {
        Extension::Missing => true,
        Extension::Unknown => probe(&argv, env).await == Some(false),
        Extension::Loaded | Extension::NotOurs => false,
    };
    if let (true, Some(lib)) = (add, &parent.library) {
        argv.splice(1..1, ["-d".to_string(), format!("extension={}", lib.display())]);
    }
    Ok(argv)
}

/// Asks the child's PHP, with the child's ini options and environment,
/// whether it loads the extension. `None` when it cannot tell (the binary
/// failed or took too long): then the command is left as it is, and a child
/// that dies at start-up is reported by the supervisor.
async fn probe(argv: &[String], env: &[(String, String)]) -> Option<bool> {
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(options(argv).ini)
        .args(["-r", &format!("echo extension_loaded('{EXTENSION}') ? 'stask:yes' : 'stask:no';")])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(PROBE_TIMEOUT, cmd.output()).await.ok()?.ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.ends_with("stask:yes") {
        Some(true)
    } else if text.ends_with("stask:no") {
        Some(false)
    } else {
        None
    }
}

/// The file this code was loaded from (the extension's `.so` inside PHP):
/// the mapping of `/proc/self/maps` that holds this function. The kernel
/// gives the absolute path even when PHP was given a relative one.
pub fn own_library() -> Option<PathBuf> {
    let here = own_library as *const () as usize;
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let (start, end) = (usize::from_str_radix(start, 16).ok()?, usize::from_str_radix(end, 16).ok()?);
        if !(start..end).contains(&here) {
            return None;
        }
        // perms, offset, dev, inode, then the path (which may hold spaces).
        let path = line.splitn(6, char::is_whitespace).nth(5)?.trim();
        let path = path.strip_suffix(" (deleted)").unwrap_or(path);
        path.starts_with('/').then(|| PathBuf::from(path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    fn php() -> PathBuf {
        std::fs::canonicalize(locate("php").unwrap_or_else(|| PathBuf::from("/bin/sh"))).unwrap()
    }

    fn parent(argv: &[&str]) -> Parent {
        Parent { exe: php(), argv: args(argv), library: Some(PathBuf::from("/opt/stask/libstask.so")) }
    }

    #[test]
    fn options_are_read_in_every_spelling_php_accepts() {
        let o = options(&args(&[
            "php",
            "-n",
            "-d",
            "memory_limit=1G",
            "-dextension=/x/libstask.so",
            "--define=a=1",
            "--define",
            "b=2",
            "-c",
            "/etc/php.ini",
            "-nq",
            "--zend-extension",
            "opcache",
            "artisan",
            "-d",
            "not=php",
        ]));
        assert!(o.any);
        assert_eq!(
            o.ini,
            args(&[
                "-n",
                "-d",
                "memory_limit=1G",
                "-d",
                "extension=/x/libstask.so",
                "-d",
                "a=1",
                "-d",
                "b=2",
                "-c",
                "/etc/php.ini",
                "-n",
                "-z",
                "opcache"
            ])
        );
    }

    #[test]
    fn options_end_at_the_script_and_code_is_not_an_ini_option() {
        let o = options(&args(&["php", "-r", "echo 1;", "-d", "x=1"]));
        assert_eq!(o.ini, args(&["-d", "x=1"]));
        let o = options(&args(&["php", "script.php", "-n"]));
        assert!(!o.any);
        assert!(o.ini.is_empty());
    }

    #[test]
    fn a_define_names_the_library_by_path_or_by_name() {
        let lib = Path::new("/opt/stask/libstask.so");
        assert!(names_library("extension=/opt/stask/libstask.so", lib));
        assert!(names_library("extension = \"stask\"", lib));
        assert!(names_library("extension=stask.so", lib));
        assert!(names_library("extension=libstask.so", lib));
        assert!(!names_library("extension=pdo_pgsql", lib));
        assert!(!names_library("zend_extension=stask", lib));
        assert!(!names_library("memory_limit=1G", lib));
    }

    #[test]
    fn without_a_command_the_child_reruns_the_parent_with_its_executable() {
        let d = draft(&parent(&["php", "-n", "-d", "extension=/opt/stask/libstask.so", "run.php", "--fast"]), &[]);
        assert_eq!(d.argv[0], php().to_string_lossy());
        assert_eq!(&d.argv[1..], &args(&["-n", "-d", "extension=/opt/stask/libstask.so", "run.php", "--fast"])[..]);
        assert_eq!(d.extension, Extension::Loaded);
    }

    #[test]
    fn a_command_of_the_parents_php_without_options_gets_the_parents_ini_options() {
        let p =
            parent(&["php", "-n", "-d", "extension=/opt/stask/libstask.so", "-d", "memory_limit=1G", "artisan", "stask:worker"]);
        let bin = php().to_string_lossy().into_owned();
        let d = draft(&p, &args(&[&bin, "artisan", "stask:worker", "--concurrency=1"]));
        assert_eq!(
            d.argv,
            args(&[
                &bin,
                "-n",
                "-d",
                "extension=/opt/stask/libstask.so",
                "-d",
                "memory_limit=1G",
                "artisan",
                "stask:worker",
                "--concurrency=1"
            ])
        );
        assert_eq!(d.extension, Extension::Loaded);
    }

    #[test]
    fn a_command_with_options_of_its_own_keeps_them_alone() {
        let p = parent(&["php", "-d", "extension=/opt/stask/libstask.so", "phpunit"]);
        let bin = php().to_string_lossy().into_owned();
        let d = draft(&p, &args(&[&bin, "-n", "-d", "display_errors=0", "worker.php"]));
        assert_eq!(d.argv, args(&[&bin, "-n", "-d", "display_errors=0", "worker.php"]));
        assert_eq!(d.extension, Extension::Missing, "-n and no extension: it must be added");
    }

    #[test]
    fn with_the_ini_files_deciding_the_extension_is_unknown() {
        let bin = php().to_string_lossy().into_owned();
        let d = draft(&parent(&["php", "artisan", "stask:work"]), &args(&[&bin, "artisan", "stask:work"]));
        assert_eq!(d.extension, Extension::Unknown);
    }

    #[test]
    fn another_program_is_left_alone() {
        let d = draft(&parent(&["php", "-n", "x.php"]), &args(&["/bin/sh", "-c", "exit 3"]));
        assert_eq!(d.argv, args(&["/bin/sh", "-c", "exit 3"]));
        assert_eq!(d.extension, Extension::NotOurs);
    }

    #[tokio::test]
    async fn resolve_adds_the_library_when_the_child_reads_no_ini() {
        let bin = php().to_string_lossy().into_owned();
        let p = parent(&["php", "-n", "x.php"]);
        let argv = resolve(&p, &args(&[&bin, "worker.php"]), &[]).await.unwrap();
        assert_eq!(argv, args(&[&bin, "-d", "extension=/opt/stask/libstask.so", "-n", "worker.php"]));
    }

    #[test]
    fn own_library_is_an_absolute_mapped_file() {
        // In `cargo test` "the library" is the test binary itself.
        let lib = own_library().expect("found in /proc/self/maps");
        assert!(lib.is_absolute());
        assert_eq!(std::fs::canonicalize(&lib).unwrap(), std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap());
    }
}
