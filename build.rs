//! Records what `php --ri stask` and `sTask::buildInfo()` report about the
//! build: git commit, build date, the PHP it was built against, rustc and
//! the cargo profile (as `STASK_BUILD_*` compile-time environment values,
//! read by src/php/build_info.rs).
//!
//! Cheap on purpose: no git process (HEAD and the ref are read as files),
//! one `php-config --version` and one `rustc --version`. It re-runs only
//! when HEAD or the branch's ref changes (a commit, a checkout), when this
//! file changes, or when one of the variables below changes; a commit then
//! recompiles the stask crate alone, never its dependencies.
//!
//! Variables: STASK_GIT_COMMIT (a source archive without .git: the commit
//! it was cut from), SOURCE_DATE_EPOCH (reproducible build date),
//! PHP_CONFIG / PHP (the PHP built for, as ext-php-rs uses them).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in ["STASK_GIT_COMMIT", "SOURCE_DATE_EPOCH", "PHP_CONFIG", "PHP"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));

    let commit = env::var("STASK_GIT_COMMIT")
        .ok()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .or_else(|| git_commit(&manifest))
        .unwrap_or_else(|| "unknown".into());
    emit("STASK_BUILD_COMMIT", &commit);

    let epoch = env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0));
    emit("STASK_BUILD_DATE", &iso8601(epoch));

    emit("STASK_BUILD_PHP_VERSION", &php_version().unwrap_or_else(|| "unknown".into()));
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    emit("STASK_BUILD_RUSTC", &first_line(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into()));
    emit("STASK_BUILD_PROFILE", &env::var("PROFILE").unwrap_or_else(|_| "unknown".into()));
    emit("STASK_BUILD_TARGET", &env::var("TARGET").unwrap_or_else(|_| "unknown".into()));
}

fn emit(name: &str, value: &str) {
    // One line per value: a newline would end the directive.
    let value: String = value.chars().filter(|c| !c.is_control()).collect();
    println!("cargo:rustc-env={name}={value}");
}

/// The commit HEAD points at, from the files of the repository holding
/// `dir` (a worktree's `.git` file and `commondir` included). Registers
/// the files it read for re-runs.
fn git_commit(dir: &Path) -> Option<String> {
    let git_dir = find_git_dir(dir)?;
    let head_file = git_dir.join("HEAD");
    let head = fs::read_to_string(&head_file).ok()?;
    println!("cargo:rerun-if-changed={}", head_file.display());
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref:").map(str::trim) else {
        // Detached HEAD: the commit itself.
        return valid_sha(head);
    };
    // Refs live in the common folder of a worktree.
    let common =
        fs::read_to_string(git_dir.join("commondir")).ok().map(|c| git_dir.join(c.trim())).unwrap_or_else(|| git_dir.clone());
    for base in [&git_dir, &common] {
        let loose = base.join(reference);
        if let Ok(text) = fs::read_to_string(&loose) {
            println!("cargo:rerun-if-changed={}", loose.display());
            return valid_sha(text.trim());
        }
    }
    // A packed ref: a commit writes a loose one beside it later, so the
    // folder it would appear in is watched too.
    let packed = common.join("packed-refs");
    println!("cargo:rerun-if-changed={}", packed.display());
    if let Some(parent) = common.join(reference).parent().filter(|p| p.is_dir()) {
        println!("cargo:rerun-if-changed={}", parent.display());
    }
    let text = fs::read_to_string(packed).ok()?;
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
        .find_map(|l| l.split_once(' ').filter(|(_, name)| *name == reference).map(|(sha, _)| sha.to_string()))
        .and_then(|sha| valid_sha(&sha))
}

fn find_git_dir(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let dot_git = d.join(".git");
        if dot_git.is_dir() {
            return Some(dot_git);
        }
        if let Ok(text) = fs::read_to_string(&dot_git) {
            // A worktree or submodule: "gitdir: <path>".
            let path = text.trim().strip_prefix("gitdir:")?.trim().to_string();
            let path = PathBuf::from(path);
            return Some(if path.is_absolute() { path } else { d.join(path) });
        }
        dir = d.parent();
    }
    None
}

fn valid_sha(s: &str) -> Option<String> {
    (s.len() >= 7 && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// The PHP version of the headers the extension is built against: the
/// `php-config` ext-php-rs would use (PHP_CONFIG, else the one beside
/// $PHP, else the one on PATH), or `$PHP` itself.
fn php_version() -> Option<String> {
    let mut configs: Vec<String> = Vec::new();
    if let Ok(c) = env::var("PHP_CONFIG") {
        configs.push(c);
    }
    if let Ok(php) = env::var("PHP") {
        let beside = Path::new(&php).with_file_name(format!(
            "php-config{}",
            Path::new(&php).file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("php")).unwrap_or("")
        ));
        configs.push(beside.display().to_string());
    }
    configs.push("php-config".into());
    for config in configs {
        if let Some(v) = first_line(&config, &["--version"]) {
            return Some(v);
        }
    }
    let php = env::var("PHP").unwrap_or_else(|_| "php".into());
    first_line(&php, &["-n", "-r", "echo PHP_VERSION;"])
}

fn first_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()?.lines().next().map(|l| l.trim().to_string()).filter(|l| !l.is_empty())
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch (UTC; days to the
/// civil date by Howard Hinnant's algorithm, so no date crate is needed).
fn iso8601(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}
