//! Evaluates Composer's `autoload_*.php` files: `$var = expr;` assignments
//! and one `return expr;`, where expressions are single-quoted strings,
//! variables, `__DIR__`, `__FILE__`, `dirname(expr[, levels])`, `.`
//! concatenation and `array(...)`/`[...]` literals. Nothing is executed.

use std::collections::HashMap;
use std::path::Path;

/// A value of the tiny PHP subset Composer's autoload files use.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Str(String),
    /// `array(...)` / `[...]`: entries with an optional key.
    List(Vec<(Option<Value>, Value)>),
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirname_behaves_like_php() {
        assert_eq!(dirname("/a/b/c"), "/a/b");
        assert_eq!(dirname("/a/b/"), "/a");
        assert_eq!(dirname("/a"), "/");
        assert_eq!(dirname("/"), "/");
        assert_eq!(dirname("a"), ".");
        assert_eq!(dirname("a//b"), "a");
    }
}
