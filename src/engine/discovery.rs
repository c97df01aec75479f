//! Finding worker class candidates from Composer's metadata, without an
//! optimised autoloader and without loading PHP code.
//!
//! The PHP package read only `autoload_classmap.php`, which lists PSR-4
//! classes only after `composer dump-autoload -o`, and then called
//! `class_exists()` on every non-excluded class, autoloading and executing
//! thousands of files (REFERENCE §5.1, §13 weak point 18). Here we:
//!
//! 1. read `vendor/composer/autoload_psr4.php` and `autoload_classmap.php`
//!    as text, with a small parser for the forms Composer generates;
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

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use tokens::Tok;

/// Namespaces never scanned (REFERENCE §5.1 step 2): frameworks and
/// libraries that ship no sTask workers but thousands of classes.
pub const DEFAULT_EXCLUDED_NAMESPACES: &[&str] = &[
    "Brick\\",
    "Carbon\\",
    "Composer\\",
    "Doctrine\\",
    "Dotenv\\",
    "Egulias\\",
    "EvolutionCMS\\Interfaces\\",
    "EvolutionCMS\\Legacy\\",
    "EvolutionCMS\\Salo\\",
    "EvolutionCMS\\Support\\",
    "EvolutionCMS\\System\\",
    "EvolutionCMS\\Tracy\\",
    "EvolutionCMS\\UserManager\\",
    "GuzzleHttp\\",
    "Illuminate\\",
    "JsonSchema\\",
    "Laravel\\",
    "League\\",
    "Monolog\\",
    "Mockery\\",
    "Pest\\",
    "PHPMailer\\",
    "PHPUnit\\",
    "PHPStan\\",
    "Predis\\",
    "Psr\\",
    "React\\",
    "SebastianBergmann\\",
    "Symfony\\",
    "Tracy\\",
    "WebPConvert\\",
    "Webmozart\\",
    "Wikimedia\\",
    "suffi\\",
];

/// Deepest directory level walked below a PSR-4 root.
pub const MAX_DEPTH: usize = 12;

/// Directory names never walked: test suites declare fixture workers, and
/// nested `vendor`/`node_modules` trees are not autoloadable by this app.
const SKIPPED_DIRS: &[&str] = &["tests", "Tests", "vendor", "node_modules"];

/// Files larger than this are not read: worker classes are small, and a
/// multi-megabyte PHP file is generated data.
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// A class that may be a worker, and the file that declares it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Candidate {
    /// Fully qualified, without a leading backslash.
    pub class: String,
    pub file: PathBuf,
}

/// Worker candidates of the application at `base_path` (the directory that
/// holds `vendor/composer/`), sorted by class, one per class.
///
/// Missing Composer files mean an empty list, not an error; PSR-4
/// directories that do not exist and files that cannot be read are skipped.
/// Classes whose name starts with an `excluded` prefix (compared without
/// regard to ASCII case, as PHP compares class names) are never considered.
pub fn candidates(base_path: &Path, excluded: &[&str]) -> io::Result<Vec<Candidate>> {
    let composer_dir = base_path.join("vendor").join("composer");
    let mut found: Vec<Candidate> = Vec::new();

    if let Some(source) = read_optional(&composer_dir.join("autoload_classmap.php"))? {
        for (class, file) in parse_classmap(&source, &composer_dir) {
            let class = class.trim_start_matches('\\').to_string();
            if !is_excluded(&class, excluded) {
                found.push(Candidate { class, file });
            }
        }
    }
    if let Some(source) = read_optional(&composer_dir.join("autoload_psr4.php"))? {
        for (prefix, dirs) in parse_psr4(&source, &composer_dir) {
            // Every class under this root starts with the prefix, so an
            // excluded prefix rules out the whole tree before it is walked.
            if !prefix.is_empty() && is_excluded(&prefix, excluded) {
                continue;
            }
            for dir in dirs {
                walk_psr4(&prefix, &dir, excluded, &mut found);
            }
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
    Ok(found)
}

/// Whether `class` (with or without a leading `\`) starts with any of the
/// `excluded` prefixes, ignoring ASCII case.
pub fn is_excluded(class: &str, excluded: &[&str]) -> bool {
    let class = class.trim_start_matches('\\').as_bytes();
    excluded.iter().any(|prefix| {
        let prefix = prefix.trim_start_matches('\\').as_bytes();
        !prefix.is_empty() && class.len() >= prefix.len() && class[..prefix.len()].eq_ignore_ascii_case(prefix)
    })
}

/// Whether PHP `source` declares a concrete (non-abstract) class whose
/// `extends` or `implements` clause names something ending in `Worker` or
/// `TaskInterface` (import aliases resolved). Comments, strings and
/// `Foo::class` are not mistaken for declarations; anonymous classes are
/// ignored (they cannot be registered).
pub fn may_declare_worker(source: &str) -> bool {
    declarations(source).iter().any(|d| !d.is_abstract && d.parents.iter().any(|p| has_worker_suffix(p)))
}

/// The `prefix => [directories]` pairs of Composer's `autoload_psr4.php`.
///
/// `composer_dir` is the directory the file lives in (`__DIR__`). Entries
/// the parser cannot evaluate are left out rather than failing the whole
/// file. Prefixes are returned as written (`Seiger\sTask\`).
pub fn parse_psr4(source: &str, composer_dir: &Path) -> Vec<(String, Vec<PathBuf>)> {
    let Some(Value::List(items)) = php::evaluate(source, composer_dir, "autoload_psr4.php") else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|(key, value)| {
            let Some(Value::Str(prefix)) = key else { return None };
            let dirs: Vec<PathBuf> = match value {
                Value::Str(dir) => vec![PathBuf::from(dir)],
                Value::List(dirs) => dirs
                    .into_iter()
                    .filter_map(|(_, d)| match d {
                        Value::Str(dir) => Some(PathBuf::from(dir)),
                        Value::List(_) => None,
                    })
                    .collect(),
            };
            // A prefix none of whose directories could be evaluated says nothing.
            (!dirs.is_empty()).then_some((prefix, dirs))
        })
        .collect()
}

/// The `class => file` pairs of Composer's `autoload_classmap.php`, with the
/// same evaluation rules as [`parse_psr4`].
pub fn parse_classmap(source: &str, composer_dir: &Path) -> Vec<(String, PathBuf)> {
    let Some(Value::List(items)) = php::evaluate(source, composer_dir, "autoload_classmap.php") else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|(key, value)| match (key, value) {
            (Some(Value::Str(class)), Value::Str(file)) => Some((class, PathBuf::from(file))),
            _ => None,
        })
        .collect()
}

// ---- files -----------------------------------------------------------------

fn read_optional(path: &Path) -> io::Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn read_php(path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    fs::read(path).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Adds `Prefix\Sub\Name` for every `<root>/Sub/Name.php` whose path parts
/// are valid PHP identifiers and whose class is not excluded.
fn walk_psr4(prefix: &str, root: &Path, excluded: &[&str], out: &mut Vec<Candidate>) {
    let mut ns = prefix.trim_start_matches('\\').to_string();
    if !ns.is_empty() && !ns.ends_with('\\') {
        ns.push('\\');
    }
    // Canonical paths already walked from this root: a symlink pointing
    // back up the tree is entered once, not forever.
    let mut visited = HashSet::new();
    walk_dir(root, &ns, 0, excluded, &mut visited, out);
}

fn walk_dir(dir: &Path, ns: &str, depth: usize, excluded: &[&str], visited: &mut HashSet<PathBuf>, out: &mut Vec<Candidate>) {
    let Ok(canonical) = fs::canonicalize(dir) else { return };
    if !visited.insert(canonical) {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        // fs::metadata follows symlinks: Composer path repositories link
        // packages into vendor/, and those must be walked.
        let Ok(meta) = fs::metadata(&path) else { continue };
        if meta.is_dir() {
            if depth < MAX_DEPTH && !SKIPPED_DIRS.contains(&name) && is_identifier(name) {
                let child_ns = format!("{ns}{name}\\");
                // An excluded sub-namespace (`EvolutionCMS\Legacy\` below an
                // `EvolutionCMS\` root) is skipped as a whole.
                if !is_excluded(&child_ns, excluded) {
                    walk_dir(&path, &child_ns, depth + 1, excluded, visited, out);
                }
            }
        } else if meta.is_file() {
            let Some(stem) = name.strip_suffix(".php") else { continue };
            if !is_identifier(stem) {
                continue;
            }
            let class = format!("{ns}{stem}");
            if !is_excluded(&class, excluded) {
                out.push(Candidate { class, file: path });
            }
        }
    }
}

/// A PHP label: `[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*`.
fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
}

// ---- class declarations --------------------------------------------------------

/// One `class` declaration found in a PHP file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClassDecl {
    /// Short name, as declared.
    name: String,
    is_abstract: bool,
    /// Short names (last segment, aliases resolved) of the extended class
    /// and the implemented interfaces.
    parents: Vec<String>,
}

fn last_segment(name: &str) -> &str {
    name.rsplit('\\').next().unwrap_or(name)
}

fn has_worker_suffix(name: &str) -> bool {
    let ends_with = |suffix: &str| name.len() >= suffix.len() && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix);
    ends_with("Worker") || ends_with("TaskInterface")
}

fn is_worker_like(name: &str, worker_like: &HashSet<String>) -> bool {
    has_worker_suffix(name) || worker_like.contains(&name.to_ascii_lowercase())
}

/// Lower-cased short names of the scanned classes that descend, through
/// scanned classes, from something with a worker suffix.
fn worker_like_names<'a>(decls: impl Iterator<Item = &'a ClassDecl>) -> HashSet<String> {
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

/// The class declarations of `source`, found by a token scan that skips
/// comments, strings, heredocs and inline HTML.
fn declarations(source: &str) -> Vec<ClassDecl> {
    let tokens = tokens::scan(source);
    let mut aliases: HashMap<String, String> = HashMap::new();
    let mut decls = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let word = match tokens[i] {
            Tok::Word(w) => w,
            _ => {
                i += 1;
                continue;
            }
        };
        if word.eq_ignore_ascii_case("use") {
            // `use Vendor\Pkg\BaseWorker as Base;` — remember the alias so
            // `extends Base` still reads as a worker.
            if let (Some(Tok::Word(target)), Some(Tok::Word(as_kw)), Some(Tok::Word(alias))) =
                (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3))
            {
                if as_kw.eq_ignore_ascii_case("as") {
                    aliases.insert(alias.to_ascii_lowercase(), last_segment(target).to_string());
                }
            }
            i += 1;
            continue;
        }
        if !word.eq_ignore_ascii_case("class") {
            i += 1;
            continue;
        }
        // `Foo::class`, `$x->class`, `new class …` are not declarations.
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let anonymous = matches!(prev, Some(Tok::Word(w)) if w.eq_ignore_ascii_case("new"));
        if matches!(prev, Some(Tok::DoubleColon | Tok::Arrow)) || anonymous {
            i += 1;
            continue;
        }
        let mut is_abstract = false;
        let mut m = i;
        while let Some(Tok::Word(modifier)) = m.checked_sub(1).map(|p| &tokens[p]) {
            if modifier.eq_ignore_ascii_case("abstract") {
                is_abstract = true;
            } else if !(modifier.eq_ignore_ascii_case("final") || modifier.eq_ignore_ascii_case("readonly")) {
                break;
            }
            m -= 1;
        }
        let Some(Tok::Word(name)) = tokens.get(i + 1) else {
            i += 1;
            continue;
        };
        let mut parents = Vec::new();
        let mut j = i + 2;
        while let Some(tok) = tokens.get(j) {
            match tok {
                Tok::Word(w) if w.eq_ignore_ascii_case("extends") || w.eq_ignore_ascii_case("implements") => {}
                Tok::Word(w) => {
                    let short = last_segment(w);
                    let resolved = aliases.get(&short.to_ascii_lowercase()).map(String::as_str).unwrap_or(short);
                    if !resolved.is_empty() {
                        parents.push(resolved.to_string());
                    }
                }
                Tok::Comma => {}
                _ => break, // `{` or anything unexpected ends the header
            }
            j += 1;
        }
        decls.push(ClassDecl { name: last_segment(name).to_string(), is_abstract, parents });
        i = j;
    }
    decls
}

/// A PHP tokenizer just good enough to find class headers.
mod tokens {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Tok<'a> {
        /// A name, possibly qualified (`\Seiger\sTask\Workers\BaseWorker`),
        /// or a keyword.
        Word(&'a str),
        Comma,
        /// `::`
        DoubleColon,
        /// `->` or `?->`
        Arrow,
        /// `$name`: kept apart so `$class` is never the keyword.
        Var,
        Other,
    }

    fn is_word_byte(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b == b'_' || b == b'\\' || b >= 0x80
    }

    pub(super) fn scan(src: &str) -> Vec<Tok<'_>> {
        let b = src.as_bytes();
        let mut out = Vec::new();
        // Text before `<?php` is inline HTML, not code.
        let mut i = match find(b, 0, b"<?") {
            Some(p) => p + 2,
            None => return out,
        };
        while i < b.len() {
            let c = b[i];
            match c {
                _ if c.is_ascii_whitespace() => i += 1,
                b'?' if b.get(i + 1) == Some(&b'>') => {
                    // Back to inline HTML until the next open tag.
                    i = match find(b, i + 2, b"<?") {
                        Some(p) => p + 2,
                        None => b.len(),
                    };
                }
                b'#' if b.get(i + 1) == Some(&b'[') => i += 2, // an attribute, not a comment
                b'#' => i = line_end(b, i),
                b'/' if b.get(i + 1) == Some(&b'/') => i = line_end(b, i),
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    i = find(b, i + 2, b"*/").map(|p| p + 2).unwrap_or(b.len());
                }
                b'\'' | b'"' | b'`' => {
                    i = string_end(b, i);
                    out.push(Tok::Other);
                }
                b'<' if b[i..].starts_with(b"<<<") => {
                    i = heredoc_end(b, i + 3);
                    out.push(Tok::Other);
                }
                b',' => {
                    out.push(Tok::Comma);
                    i += 1;
                }
                b':' if b.get(i + 1) == Some(&b':') => {
                    out.push(Tok::DoubleColon);
                    i += 2;
                }
                b'-' if b.get(i + 1) == Some(&b'>') => {
                    out.push(Tok::Arrow);
                    i += 2;
                }
                b'?' if b[i..].starts_with(b"?->") => {
                    out.push(Tok::Arrow);
                    i += 3;
                }
                b'$' => {
                    i += 1;
                    while i < b.len() && is_word_byte(b[i]) && b[i] != b'\\' {
                        i += 1;
                    }
                    out.push(Tok::Var);
                }
                _ if is_word_byte(c) => {
                    let start = i;
                    while i < b.len() && is_word_byte(b[i]) {
                        i += 1;
                    }
                    // Word bytes are ASCII or >= 0x80, and we stop only before
                    // an ASCII byte, so both ends are char boundaries.
                    out.push(Tok::Word(&src[start..i]));
                }
                _ => {
                    out.push(Tok::Other);
                    i += 1;
                }
            }
        }
        out
    }

    fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
        if from >= b.len() {
            return None;
        }
        b[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
    }

    /// End of a `//` or `#` comment: the newline, or a `?>` that closes PHP.
    fn line_end(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && b[i] != b'\n' {
            if b[i] == b'?' && b.get(i + 1) == Some(&b'>') {
                return i;
            }
            i += 1;
        }
        i
    }

    /// Index just past the closing quote of the string starting at `i`.
    fn string_end(b: &[u8], i: usize) -> usize {
        let quote = b[i];
        let mut j = i + 1;
        while j < b.len() {
            match b[j] {
                b'\\' => j += 2,
                c if c == quote => return j + 1,
                _ => j += 1,
            }
        }
        b.len()
    }

    /// Index just past a heredoc/nowdoc whose `<<<` ended at `i`.
    fn heredoc_end(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let quoted = matches!(b.get(i), Some(b'\'' | b'"'));
        if quoted {
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
            i += 1;
        }
        let label = &b[start..i];
        if label.is_empty() {
            return i;
        }
        // The body starts on the next line; the closing label is the first
        // line (indentation allowed since PHP 7.3) that starts with it and is
        // not followed by another label character.
        let mut line = match b[i..].iter().position(|&c| c == b'\n') {
            Some(p) => i + p + 1,
            None => return b.len(),
        };
        while line < b.len() {
            let mut k = line;
            while k < b.len() && (b[k] == b' ' || b[k] == b'\t') {
                k += 1;
            }
            if b[k..].starts_with(label) {
                let after = k + label.len();
                let continues = b.get(after).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80);
                if !continues {
                    return after;
                }
            }
            line = match b[line..].iter().position(|&c| c == b'\n') {
                Some(p) => line + p + 1,
                None => b.len(),
            };
        }
        b.len()
    }
}

// ---- Composer's generated PHP ---------------------------------------------------

/// A value of the tiny PHP subset Composer's autoload files use.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    /// `array(...)` / `[...]`: entries with an optional key.
    List(Vec<(Option<Value>, Value)>),
}

/// Evaluates Composer's `autoload_*.php` files: `$var = expr;` assignments
/// and one `return expr;`, where expressions are single-quoted strings,
/// variables, `__DIR__`, `__FILE__`, `dirname(expr[, levels])`, `.`
/// concatenation and `array(...)`/`[...]` literals. Nothing is executed.
mod php {
    use super::Value;
    use std::collections::HashMap;
    use std::path::Path;

    #[derive(Debug, Clone, PartialEq)]
    enum T {
        Var(String),
        Str(String),
        Word(String),
        Sym(&'static str),
        /// Anything else: makes the surrounding entry unevaluable.
        Unknown,
    }

    fn tokenize(src: &str) -> Vec<T> {
        let b = src.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
            } else if b[i..].starts_with(b"<?php") {
                i += 5;
            } else if b[i..].starts_with(b"?>") {
                i += 2;
            } else if c == b'#' || b[i..].starts_with(b"//") {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            } else if b[i..].starts_with(b"/*") {
                i = match b[i + 2..].windows(2).position(|w| w == b"*/") {
                    Some(p) => i + 2 + p + 2,
                    None => b.len(),
                };
            } else if c == b'\'' || c == b'"' {
                let (s, end) = string(src, i);
                out.push(s.map(T::Str).unwrap_or(T::Unknown));
                i = end;
            } else if c == b'$' {
                let start = i + 1;
                i = start;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                    i += 1;
                }
                out.push(T::Var(src[start..i].to_string()));
            } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                    i += 1;
                }
                out.push(T::Word(src[start..i].to_string()));
            } else if b[i..].starts_with(b"=>") {
                out.push(T::Sym("=>"));
                i += 2;
            } else {
                let sym = match c {
                    b'(' => Some("("),
                    b')' => Some(")"),
                    b'[' => Some("["),
                    b']' => Some("]"),
                    b',' => Some(","),
                    b';' => Some(";"),
                    b'=' => Some("="),
                    b'.' => Some("."),
                    _ => None,
                };
                out.push(sym.map(T::Sym).unwrap_or(T::Unknown));
                // Step over a whole UTF-8 char so later slices stay on boundaries.
                i += src[i..].chars().next().map(char::len_utf8).unwrap_or(1);
            }
        }
        out
    }

    /// A PHP string literal at `i`: its value (None when it interpolates
    /// variables) and the index after its closing quote.
    fn string(src: &str, i: usize) -> (Option<String>, usize) {
        let quote = src.as_bytes()[i] as char;
        let mut out = String::new();
        let mut chars = src[i + 1..].char_indices();
        let mut interpolates = false;
        while let Some((k, c)) = chars.next() {
            match c {
                c if c == quote => return ((!interpolates).then_some(out), i + 1 + k + 1),
                '\\' => match chars.next() {
                    // Single quotes: only `\\` and `\'` are escapes.
                    Some((_, e)) if quote == '\'' => match e {
                        '\\' | '\'' => out.push(e),
                        other => {
                            out.push('\\');
                            out.push(other);
                        }
                    },
                    Some((_, e)) => match e {
                        '\\' | '"' | '$' => out.push(e),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        other => {
                            out.push('\\');
                            out.push(other);
                        }
                    },
                    None => out.push('\\'),
                },
                '$' if quote == '"' => {
                    interpolates = true;
                    out.push('$');
                }
                c => out.push(c),
            }
        }
        (None, src.len())
    }

    struct Parser {
        toks: Vec<T>,
        pos: usize,
        vars: HashMap<String, Value>,
        dir: String,
        file: String,
    }

    type Res<T> = Result<T, ()>;

    pub(super) fn evaluate(src: &str, composer_dir: &Path, file_name: &str) -> Option<Value> {
        let dir = composer_dir.to_string_lossy().into_owned();
        let file = format!("{}/{file_name}", dir.trim_end_matches('/'));
        let mut p = Parser { toks: tokenize(src), pos: 0, vars: HashMap::new(), dir, file };
        p.program()
    }

    impl Parser {
        fn peek(&self) -> Option<&T> {
            self.toks.get(self.pos)
        }

        fn peek_at(&self, n: usize) -> Option<&T> {
            self.toks.get(self.pos + n)
        }

        fn next(&mut self) -> Option<T> {
            let t = self.toks.get(self.pos).cloned();
            self.pos += 1;
            t
        }

        fn eat(&mut self, sym: &str) -> bool {
            if matches!(self.peek(), Some(T::Sym(s)) if *s == sym) {
                self.pos += 1;
                true
            } else {
                false
            }
        }

        fn expect(&mut self, sym: &str) -> Res<()> {
            if self.eat(sym) {
                Ok(())
            } else {
                Err(())
            }
        }

        /// Statements until `return`; a statement that cannot be evaluated
        /// is skipped up to its `;`.
        fn program(&mut self) -> Option<Value> {
            while self.peek().is_some() {
                let start = self.pos;
                match self.peek().cloned() {
                    Some(T::Var(name)) if self.peek_at(1) == Some(&T::Sym("=")) => {
                        self.pos += 2;
                        match self.expr() {
                            Ok(v) if self.eat(";") => {
                                self.vars.insert(name, v);
                            }
                            _ => self.skip_statement(start),
                        }
                    }
                    Some(T::Word(w)) if w.eq_ignore_ascii_case("return") => {
                        self.pos += 1;
                        return self.expr().ok();
                    }
                    _ => self.skip_statement(start),
                }
            }
            None
        }

        fn skip_statement(&mut self, start: usize) {
            self.pos = start;
            let mut depth = 0usize;
            while let Some(t) = self.next() {
                match t {
                    T::Sym("(") | T::Sym("[") => depth += 1,
                    T::Sym(")") | T::Sym("]") => depth = depth.saturating_sub(1),
                    T::Sym(";") if depth == 0 => return,
                    _ => {}
                }
            }
        }

        /// term ('.' term)*
        fn expr(&mut self) -> Res<Value> {
            let mut value = self.term()?;
            while self.eat(".") {
                let rhs = self.term()?;
                value = match (value, rhs) {
                    (Value::Str(mut a), Value::Str(b)) => {
                        a.push_str(&b);
                        Value::Str(a)
                    }
                    _ => return Err(()),
                };
            }
            Ok(value)
        }

        fn term(&mut self) -> Res<Value> {
            match self.next().ok_or(())? {
                T::Str(s) => Ok(Value::Str(s)),
                T::Var(name) => self.vars.get(&name).cloned().ok_or(()),
                T::Sym("[") => self.list("]"),
                T::Sym("(") => {
                    let v = self.expr()?;
                    self.expect(")")?;
                    Ok(v)
                }
                T::Word(w) => match w.to_ascii_lowercase().as_str() {
                    "__dir__" => Ok(Value::Str(self.dir.clone())),
                    "__file__" => Ok(Value::Str(self.file.clone())),
                    "array" => {
                        self.expect("(")?;
                        self.list(")")
                    }
                    "dirname" => {
                        self.expect("(")?;
                        let Value::Str(path) = self.expr()? else { return Err(()) };
                        let levels = if self.eat(",") {
                            match self.next() {
                                Some(T::Word(n)) => n.parse::<usize>().map_err(|_| ())?,
                                _ => return Err(()),
                            }
                        } else {
                            1
                        };
                        self.expect(")")?;
                        Ok(Value::Str((0..levels).fold(path, |p, _| dirname(&p))))
                    }
                    _ if w.bytes().all(|b| b.is_ascii_digit()) => Ok(Value::Str(w)),
                    _ => Err(()),
                },
                _ => Err(()),
            }
        }

        /// Entries up to `close`; an entry that cannot be evaluated is
        /// dropped and the rest are kept.
        fn list(&mut self, close: &'static str) -> Res<Value> {
            let mut items = Vec::new();
            loop {
                if self.eat(close) {
                    return Ok(Value::List(items));
                }
                let start = self.pos;
                match self.entry() {
                    Ok(item) if matches!(self.peek(), Some(T::Sym(s)) if *s == "," || *s == close) => {
                        items.push(item);
                    }
                    _ => {
                        self.pos = start;
                        self.skip_entry(close)?;
                    }
                }
                if !self.eat(",") && !matches!(self.peek(), Some(T::Sym(s)) if *s == close) {
                    return Err(());
                }
            }
        }

        fn entry(&mut self) -> Res<(Option<Value>, Value)> {
            let first = self.expr()?;
            if self.eat("=>") {
                Ok((Some(first), self.expr()?))
            } else {
                Ok((None, first))
            }
        }

        /// Moves to the `,` or `close` ending the current entry.
        fn skip_entry(&mut self, close: &str) -> Res<()> {
            let mut depth = 0usize;
            while let Some(t) = self.peek() {
                match t {
                    T::Sym("(") | T::Sym("[") => depth += 1,
                    T::Sym(s) if depth == 0 && (*s == "," || *s == close) => return Ok(()),
                    T::Sym(")") | T::Sym("]") => depth = depth.checked_sub(1).ok_or(())?,
                    T::Sym(";") => return Err(()),
                    _ => {}
                }
                self.pos += 1;
            }
            Err(())
        }
    }

    /// PHP's `dirname()` on a Unix path: `/a/b/` → `/a`, `/a` → `/`, `a` → `.`.
    pub(super) fn dirname(path: &str) -> String {
        let trimmed = path.trim_end_matches('/');
        if trimmed.is_empty() {
            return if path.starts_with('/') { "/".into() } else { ".".into() };
        }
        match trimmed.rfind('/') {
            None => ".".into(),
            Some(idx) => {
                let parent = trimmed[..idx].trim_end_matches('/');
                if parent.is_empty() {
                    "/".into()
                } else {
                    parent.into()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    const PSR4: &str = r#"<?php

// autoload_psr4.php @generated by Composer

$vendorDir = dirname(__DIR__);
$baseDir = dirname($vendorDir);

return array(
    'Symfony\\Component\\Console\\' => array($vendorDir . '/symfony/console'),
    'Seiger\\sTask\\' => array($vendorDir . '/seiger/stask/src'),
    'Illuminate\\' => array($vendorDir . '/laravel/framework/src/Illuminate'),
    'Acme\\Shop\\' => array($vendorDir . '/acme/shop/src', $vendorDir . '/acme/shop/lib'),
    'App\\' => array($baseDir . '/app'),
);
"#;

    const CLASSMAP: &str = r#"<?php

// autoload_classmap.php @generated by Composer

$vendorDir = dirname(__DIR__);
$baseDir = dirname($vendorDir);

return array(
    'Composer\\InstalledVersions' => $vendorDir . '/composer/InstalledVersions.php',
    'LegacyCleanupWorker' => $baseDir . '/legacy/LegacyCleanupWorker.php',
    'Legacy\\Helpers' => $baseDir . '/legacy/Helpers.php',
    'App\\Workers\\ReportWorker' => $baseDir . '/app/Workers/ReportWorker.php',
);
"#;

    fn worker(ns: &str, name: &str, parent: &str) -> String {
        format!("<?php\n\nnamespace {ns};\n\nclass {name} extends {parent}\n{{\n    public function identifier(): string {{ return '{name}'; }}\n}}\n")
    }

    /// A realistic application tree; returns the base path's tempdir.
    fn app() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        let composer = base.join("vendor/composer");
        write(&composer.join("autoload_psr4.php"), PSR4);
        write(&composer.join("autoload_classmap.php"), CLASSMAP);
        write(
            &composer.join("InstalledVersions.php"),
            "<?php\nnamespace Composer;\nclass InstalledVersions extends BaseWorker {}\n",
        );

        // The package's own workers, PSR-4 only (no optimised classmap).
        let stask = base.join("vendor/seiger/stask/src");
        write(
            &stask.join("Workers/BaseWorker.php"),
            "<?php\nnamespace Seiger\\sTask\\Workers;\n\nuse Seiger\\sTask\\Contracts\\TaskInterface;\n\nabstract class BaseWorker implements TaskInterface\n{\n}\n",
        );
        write(&stask.join("Workers/ArtisanWorker.php"), &worker("Seiger\\sTask\\Workers", "ArtisanWorker", "BaseWorker"));
        write(
            &stask.join("Contracts/TaskInterface.php"),
            "<?php\nnamespace Seiger\\sTask\\Contracts;\n\ninterface TaskInterface\n{\n    public function identifier(): string;\n}\n",
        );
        write(
            &stask.join("Models/sTaskModel.php"),
            "<?php\nnamespace Seiger\\sTask\\Models;\n\nclass sTaskModel extends Model {}\n",
        );
        write(&stask.join("Tests/FakeWorker.php"), &worker("Seiger\\sTask\\Tests", "FakeWorker", "BaseWorker"));

        // Two PSR-4 directories for one prefix.
        let shop = base.join("vendor/acme/shop");
        write(
            &shop.join("src/Import/ProductsWorker.php"),
            &worker("Acme\\Shop\\Import", "ProductsWorker", "\\Seiger\\sTask\\Workers\\BaseWorker"),
        );
        write(
            &shop.join("lib/Export/FeedTask.php"),
            "<?php\nnamespace Acme\\Shop\\Export;\n\nuse Seiger\\sTask\\Contracts\\TaskInterface;\n\nfinal class FeedTask implements \\Countable, TaskInterface\n{\n}\n",
        );
        write(&shop.join("src/Support/Str.php"), "<?php\nnamespace Acme\\Shop\\Support;\n\nclass Str\n{\n}\n");
        write(&shop.join("src/some-file.php"), &worker("Acme\\Shop", "Whatever", "BaseWorker"));
        write(&shop.join("src/node_modules/x/Hidden.php"), &worker("Acme\\Shop", "Hidden", "BaseWorker"));

        // An excluded namespace: never reported, even though it looks like one.
        write(
            &base.join("vendor/laravel/framework/src/Illuminate/Queue/Worker.php"),
            "<?php\nnamespace Illuminate\\Queue;\n\nclass Worker extends BaseWorker {}\n",
        );
        write(
            &base.join("vendor/symfony/console/Command/RunWorker.php"),
            "<?php\nnamespace Symfony\\Component\\Console\\Command;\nclass RunWorker extends BaseWorker {}\n",
        );

        // The application's own classes, under $baseDir.
        write(&base.join("app/Workers/ReportWorker.php"), &worker("App\\Workers", "ReportWorker", "BaseWorker"));
        write(
            &base.join("app/Workers/AbstractImport.php"),
            "<?php\nnamespace App\\Workers;\nabstract class AbstractImport extends \\Seiger\\sTask\\Workers\\BaseWorker {}\n",
        );
        write(&base.join("app/Workers/CatalogImport.php"), &worker("App\\Workers", "CatalogImport", "AbstractImport"));
        write(&base.join("legacy/LegacyCleanupWorker.php"), "<?php\nclass LegacyCleanupWorker extends BaseWorker {}\n");
        write(&base.join("legacy/Helpers.php"), "<?php\nnamespace Legacy;\nclass Helpers {}\n");
        tmp
    }

    fn classes(found: &[Candidate]) -> Vec<&str> {
        found.iter().map(|c| c.class.as_str()).collect()
    }

    // ---- candidates ------------------------------------------------------------

    #[test]
    fn candidates_come_from_psr4_and_classmap_without_an_optimised_autoloader() {
        let tmp = app();
        let found = candidates(tmp.path(), DEFAULT_EXCLUDED_NAMESPACES).unwrap();
        assert_eq!(
            classes(&found),
            vec![
                "Acme\\Shop\\Export\\FeedTask",
                "Acme\\Shop\\Import\\ProductsWorker",
                "App\\Workers\\CatalogImport",
                "App\\Workers\\ReportWorker",
                "LegacyCleanupWorker",
                "Seiger\\sTask\\Workers\\ArtisanWorker",
            ]
        );
        let artisan = found.iter().find(|c| c.class.ends_with("ArtisanWorker")).unwrap();
        assert_eq!(artisan.file, tmp.path().join("vendor/seiger/stask/src/Workers/ArtisanWorker.php"));
    }

    #[test]
    fn a_class_listed_by_both_classmap_and_psr4_is_reported_once() {
        let tmp = app();
        let found = candidates(tmp.path(), DEFAULT_EXCLUDED_NAMESPACES).unwrap();
        assert_eq!(found.iter().filter(|c| c.class == "App\\Workers\\ReportWorker").count(), 1);
    }

    #[test]
    fn excluded_namespaces_are_never_reported() {
        let tmp = app();
        let found = candidates(tmp.path(), DEFAULT_EXCLUDED_NAMESPACES).unwrap();
        assert!(found.iter().all(|c| !c.class.starts_with("Illuminate\\") && !c.class.starts_with("Symfony\\")));
        assert!(found.iter().all(|c| c.class != "Composer\\InstalledVersions"));
        // With no exclusions, the same tree yields them.
        let all = candidates(tmp.path(), &[]).unwrap();
        assert!(all.iter().any(|c| c.class == "Illuminate\\Queue\\Worker"));
        assert!(all.iter().any(|c| c.class == "Composer\\InstalledVersions"));
    }

    #[test]
    fn a_custom_exclusion_list_replaces_the_default() {
        let tmp = app();
        let found = candidates(tmp.path(), &["Acme\\", "App\\Workers\\Report"]).unwrap();
        let names = classes(&found);
        assert!(!names.iter().any(|c| c.starts_with("Acme\\")));
        assert!(!names.contains(&"App\\Workers\\ReportWorker"));
        assert!(names.contains(&"App\\Workers\\CatalogImport"));
        assert!(names.contains(&"Illuminate\\Queue\\Worker"));
    }

    #[test]
    fn abstract_classes_interfaces_and_plain_classes_are_not_candidates() {
        let tmp = app();
        let names = candidates(tmp.path(), DEFAULT_EXCLUDED_NAMESPACES).unwrap();
        let names = classes(&names);
        for absent in [
            "Seiger\\sTask\\Workers\\BaseWorker",
            "Seiger\\sTask\\Contracts\\TaskInterface",
            "Seiger\\sTask\\Models\\sTaskModel",
            "App\\Workers\\AbstractImport",
            "Acme\\Shop\\Support\\Str",
            "Legacy\\Helpers",
        ] {
            assert!(!names.contains(&absent), "{absent} should not be a candidate");
        }
    }

    #[test]
    fn test_directories_and_invalid_file_names_are_not_walked() {
        let tmp = app();
        let names = candidates(tmp.path(), DEFAULT_EXCLUDED_NAMESPACES).unwrap();
        let names = classes(&names);
        assert!(!names.iter().any(|c| c.contains("Tests\\") || c.contains("Hidden") || c.contains("some")));
    }

    #[test]
    fn missing_composer_files_yield_no_candidates() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(candidates(tmp.path(), DEFAULT_EXCLUDED_NAMESPACES).unwrap().is_empty());
        fs::create_dir_all(tmp.path().join("vendor/composer")).unwrap();
        assert!(candidates(tmp.path(), DEFAULT_EXCLUDED_NAMESPACES).unwrap().is_empty());
    }

    #[test]
    fn missing_psr4_directories_and_classmap_files_are_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let composer = tmp.path().join("vendor/composer");
        write(
            &composer.join("autoload_psr4.php"),
            "<?php\n$vendorDir = dirname(__DIR__);\nreturn array(\n    'Gone\\\\' => array($vendorDir . '/gone/src'),\n    'Here\\\\' => array($vendorDir . '/here/src'),\n);\n",
        );
        write(
            &composer.join("autoload_classmap.php"),
            "<?php\n$vendorDir = dirname(__DIR__);\nreturn array(\n    'Lost\\\\Worker' => $vendorDir . '/lost/Worker.php',\n);\n",
        );
        write(&tmp.path().join("vendor/here/src/JobWorker.php"), &worker("Here", "JobWorker", "BaseWorker"));
        let found = candidates(tmp.path(), &[]).unwrap();
        assert_eq!(classes(&found), vec!["Here\\JobWorker"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_packages_are_walked_and_symlink_loops_end() {
        let tmp = tempfile::tempdir().unwrap();
        let composer = tmp.path().join("vendor/composer");
        write(
            &composer.join("autoload_psr4.php"),
            "<?php\n$vendorDir = dirname(__DIR__);\n$baseDir = dirname($vendorDir);\nreturn array(\n    'Local\\\\' => array($vendorDir . '/local/pkg/src'),\n);\n",
        );
        // A Composer path repository: vendor/local/pkg -> packages/pkg.
        let pkg = tmp.path().join("packages/pkg");
        write(&pkg.join("src/Jobs/SyncWorker.php"), &worker("Local\\Jobs", "SyncWorker", "BaseWorker"));
        fs::create_dir_all(tmp.path().join("vendor/local")).unwrap();
        std::os::unix::fs::symlink(&pkg, tmp.path().join("vendor/local/pkg")).unwrap();
        // A loop: src/Jobs/Again -> src.
        std::os::unix::fs::symlink(pkg.join("src"), pkg.join("src/Jobs/Again")).unwrap();
        let found = candidates(tmp.path(), &[]).unwrap();
        assert_eq!(classes(&found), vec!["Local\\Jobs\\SyncWorker"]);
    }

    #[test]
    fn walking_stops_at_the_maximum_depth() {
        let tmp = tempfile::tempdir().unwrap();
        let composer = tmp.path().join("vendor/composer");
        write(
            &composer.join("autoload_psr4.php"),
            "<?php\n$vendorDir = dirname(__DIR__);\nreturn array('Deep\\\\' => array($vendorDir . '/deep'));\n",
        );
        let mut dir = tmp.path().join("vendor/deep");
        let mut ns = String::from("Deep");
        for level in 0..=MAX_DEPTH {
            write(&dir.join(format!("L{level}Worker.php")), &worker(&ns, &format!("L{level}Worker"), "BaseWorker"));
            dir = dir.join(format!("D{level}"));
            ns = format!("{ns}\\D{level}");
        }
        write(&dir.join("TooDeepWorker.php"), &worker(&ns, "TooDeepWorker", "BaseWorker"));
        let found = candidates(tmp.path(), &[]).unwrap();
        assert_eq!(found.len(), MAX_DEPTH + 1);
        assert!(!found.iter().any(|c| c.class.ends_with("TooDeepWorker")));
    }

    #[test]
    fn a_prefix_with_a_fallback_directory_maps_paths_without_a_prefix() {
        let tmp = tempfile::tempdir().unwrap();
        let composer = tmp.path().join("vendor/composer");
        write(
            &composer.join("autoload_psr4.php"),
            "<?php\n$baseDir = dirname(dirname(__DIR__));\nreturn array('' => array($baseDir . '/src'));\n",
        );
        write(&tmp.path().join("src/Jobs/MailWorker.php"), &worker("Jobs", "MailWorker", "BaseWorker"));
        assert_eq!(classes(&candidates(tmp.path(), &[]).unwrap()), vec!["Jobs\\MailWorker"]);
    }

    // ---- parsing Composer files ------------------------------------------------------

    #[test]
    fn psr4_entries_resolve_vendor_and_base_dirs() {
        let composer = Path::new("/srv/site/core/vendor/composer");
        let parsed = parse_psr4(PSR4, composer);
        assert_eq!(parsed.len(), 5);
        assert_eq!(parsed[1], ("Seiger\\sTask\\".to_string(), vec![PathBuf::from("/srv/site/core/vendor/seiger/stask/src")]));
        assert_eq!(
            parsed[3],
            (
                "Acme\\Shop\\".to_string(),
                vec![PathBuf::from("/srv/site/core/vendor/acme/shop/src"), PathBuf::from("/srv/site/core/vendor/acme/shop/lib"),]
            )
        );
        assert_eq!(parsed[4], ("App\\".to_string(), vec![PathBuf::from("/srv/site/core/app")]));
    }

    #[test]
    fn psr4_accepts_the_older_dirname_file_form_and_short_arrays() {
        let src = r#"<?php

// autoload_psr4.php @generated by Composer

$vendorDir = dirname(dirname(__FILE__));
$baseDir = dirname($vendorDir);

return [
    'Old\\Style\\' => [$vendorDir . '/old/style/src'],
    'Single\\' => $baseDir . '/single',
];
"#;
        let parsed = parse_psr4(src, Path::new("/app/vendor/composer"));
        assert_eq!(
            parsed,
            vec![
                ("Old\\Style\\".to_string(), vec![PathBuf::from("/app/vendor/old/style/src")]),
                ("Single\\".to_string(), vec![PathBuf::from("/app/single")]),
            ]
        );
    }

    #[test]
    fn classmap_entries_resolve_and_unescape() {
        let src = r#"<?php
$vendorDir = dirname(__DIR__);
$baseDir = dirname($vendorDir);

return array(
    'Foo\\Bar' => $vendorDir . '/foo/src/Bar.php',
    'App\\X' => $baseDir . '/app/X.php',
    'Odd\\Name' => $baseDir . '/it\'s/a \\ path.php', # a comment
    /* a block comment */
    'Abs' => '/opt/lib/Abs.php',
);
"#;
        let parsed = parse_classmap(src, Path::new("/www/vendor/composer"));
        assert_eq!(
            parsed,
            vec![
                ("Foo\\Bar".to_string(), PathBuf::from("/www/vendor/foo/src/Bar.php")),
                ("App\\X".to_string(), PathBuf::from("/www/app/X.php")),
                ("Odd\\Name".to_string(), PathBuf::from("/www/it's/a \\ path.php")),
                ("Abs".to_string(), PathBuf::from("/opt/lib/Abs.php")),
            ]
        );
    }

    #[test]
    fn unevaluable_entries_are_dropped_and_the_rest_kept() {
        let src = r#"<?php
$vendorDir = dirname(__DIR__);
return array(
    'A\\' => array($unknownDir . '/a'),
    'B\\' => array(getenv('X') . '/b'),
    'C\\' => array($vendorDir . '/c', $vendorDir . "/$dynamic"),
    'D\\' => array($vendorDir . '/d'),
);
"#;
        let parsed = parse_psr4(src, Path::new("/v/composer"));
        assert_eq!(
            parsed,
            vec![("C\\".to_string(), vec![PathBuf::from("/v/c")]), ("D\\".to_string(), vec![PathBuf::from("/v/d")]),]
        );
    }

    #[test]
    fn garbage_parses_to_nothing() {
        let dir = Path::new("/x/vendor/composer");
        assert!(parse_psr4("", dir).is_empty());
        assert!(parse_psr4("<?php return 42;", dir).is_empty());
        assert!(parse_classmap("<?php return array('A' => ", dir).is_empty());
        assert!(parse_classmap("not php at all ' unterminated", dir).is_empty());
    }

    #[test]
    fn dirname_behaves_like_php() {
        assert_eq!(php::dirname("/a/b/c"), "/a/b");
        assert_eq!(php::dirname("/a/b/"), "/a");
        assert_eq!(php::dirname("/a"), "/");
        assert_eq!(php::dirname("/"), "/");
        assert_eq!(php::dirname("a"), ".");
        assert_eq!(php::dirname("a//b"), "a");
    }

    // ---- text pre-filter ---------------------------------------------------------------

    #[test]
    fn a_class_extending_a_worker_may_be_one() {
        assert!(may_declare_worker("<?php\nnamespace A;\nclass X extends \\Seiger\\sTask\\Workers\\BaseWorker {}"));
        assert!(may_declare_worker("<?php final class X extends BaseWorker {}"));
        assert!(may_declare_worker("<?php\n#[Attr]\nreadonly class X extends BaseWorker {}"));
    }

    #[test]
    fn a_class_implementing_task_interface_may_be_one() {
        assert!(may_declare_worker("<?php class X extends Model implements \\Countable, TaskInterface {}"));
        assert!(may_declare_worker("<?php class X implements Contracts\\TaskInterface\n{\n}"));
    }

    #[test]
    fn abstract_classes_and_interfaces_are_not_workers() {
        assert!(!may_declare_worker("<?php abstract class BaseWorker implements TaskInterface {}"));
        assert!(!may_declare_worker("<?php final abstract class X extends BaseWorker {}"));
        assert!(!may_declare_worker("<?php interface MyTask extends TaskInterface {}"));
        assert!(!may_declare_worker("<?php trait Reports { }"));
    }

    #[test]
    fn unrelated_classes_are_not_workers() {
        assert!(!may_declare_worker("<?php class Str {}"));
        assert!(!may_declare_worker("<?php class User extends Model implements Authenticatable {}"));
        assert!(!may_declare_worker("<?php class WorkerFactory extends Factory {}"));
        assert!(!may_declare_worker(""));
    }

    #[test]
    fn text_that_only_mentions_a_worker_is_not_a_declaration() {
        let src = r#"<?php
// class Fake extends BaseWorker {}
/* class Fake2 extends BaseWorker {} */
# class Fake3 extends BaseWorker
$a = 'class Fake4 extends BaseWorker';
$b = "class Fake5 extends BaseWorker";
$c = <<<EOT
class Fake6 extends BaseWorker {}
EOT;
$d = <<<'EOT'
    class Fake7 extends BaseWorker {}
    EOT;
$e = BaseWorker::class;
$f = $obj->class;
$g = new class extends BaseWorker {};
class Real extends Model {}
"#;
        assert!(!may_declare_worker(src));
        assert_eq!(declarations(src).len(), 1);
    }

    #[test]
    fn inline_html_before_the_open_tag_is_ignored() {
        assert!(!may_declare_worker("class X extends BaseWorker\n<?php echo 1;"));
        assert!(may_declare_worker("<html><?php ?>class Y extends BaseWorker<?php class Z extends BaseWorker {}"));
    }

    #[test]
    fn an_import_alias_is_resolved() {
        let src = "<?php\nuse Seiger\\sTask\\Workers\\BaseWorker as Base;\nclass X extends Base {}\n";
        assert!(may_declare_worker(src));
        let src = "<?php\nuse Foo\\Bar as Base;\nclass X extends Base {}\n";
        assert!(!may_declare_worker(src));
    }

    #[test]
    fn names_are_compared_without_regard_to_case() {
        assert!(may_declare_worker("<?php CLASS X EXTENDS baseworker {}"));
        assert!(!may_declare_worker("<?php ABSTRACT CLASS X EXTENDS BaseWorker {}"));
    }

    #[test]
    fn declarations_record_names_and_parents() {
        let src = "<?php\nnamespace N;\nabstract class A extends \\X\\BaseWorker {}\nclass B extends A implements I, \\J\\K {}\n";
        assert_eq!(
            declarations(src),
            vec![
                ClassDecl { name: "A".into(), is_abstract: true, parents: vec!["BaseWorker".into()] },
                ClassDecl { name: "B".into(), is_abstract: false, parents: vec!["A".into(), "I".into(), "K".into()] },
            ]
        );
    }

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

    // ---- exclusion -----------------------------------------------------------------------

    #[test]
    fn exclusion_matches_prefixes_without_regard_to_case() {
        assert!(is_excluded("Illuminate\\Support\\Str", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(is_excluded("\\Illuminate\\Support\\Str", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(is_excluded("illuminate\\support\\Str", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(is_excluded("suffi\\Foo", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(is_excluded("EvolutionCMS\\Legacy\\Foo", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(!is_excluded("EvolutionCMS\\Main\\Foo", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(!is_excluded("Seiger\\sTask\\Workers\\ArtisanWorker", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(!is_excluded("IlluminateExtra\\Foo", DEFAULT_EXCLUDED_NAMESPACES));
        assert!(!is_excluded("Anything", &[]));
        assert!(!is_excluded("Anything", &[""]));
    }

    #[test]
    fn default_exclusions_are_namespace_prefixes() {
        assert_eq!(DEFAULT_EXCLUDED_NAMESPACES.len(), 34);
        assert!(DEFAULT_EXCLUDED_NAMESPACES.iter().all(|p| p.ends_with('\\') && !p.starts_with('\\')));
    }
}
