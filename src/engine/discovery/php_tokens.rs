//! A PHP tokenizer just good enough to find class headers.

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
