//! The texts the engine (and the PHP package's base worker) write into a
//! task's `message`, each under a stable code. The stored text stays
//! English: logs, the CLI and other programs read it. A client that shows
//! it in another language asks [`recognise`] for the code and the values
//! the text was built from, and fills its own translation of the template;
//! text it does not know (a worker's own message) is shown as it is.

use serde_json::{Map, Value};

/// (code, template). `{name}` marks a value; a name used twice must hold
/// the same value both times. Tried in order: the first that matches wins,
/// so a specific `Failed: …` comes before the general one.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("completed", "Task completed successfully"),
    ("done", "Done"),
    ("queued", "_Task queued..._"),
    ("cancelled", "Cancelled"),
    ("queued_for_retry", "Queued for retry"),
    ("released_killed", "Released: its worker process was killed"),
    ("released_stopped", "Released: the worker stopped before the task finished"),
    ("released_outage", "Released: its claim was interrupted by a database outage"),
    ("released_exiting", "Released: the worker process is exiting"),
    (
        "worker_inactive",
        "Waiting: worker '{worker}' is inactive. Activate it (sTask::activateWorker('{worker}')) and the task will run.",
    ),
    (
        "worker_missing",
        "No worker is registered with identifier '{worker}'. Register its class with sTask::registerWorker(MyWorker::class) \
         or run sTask::discoverWorkers(), activate it, then retry task #{id}.",
    ),
    ("retrying", "Attempt {attempt} of {max} failed: {error}; retrying at {at}"),
    (
        "rescued",
        "Rescued: the lease of {owner} expired during attempt {attempt} of {max} (the worker stopped without reporting); queued again",
    ),
    (
        "rescued_failed",
        "Failed: the lease of {owner} expired during attempt {attempt} of {max} (the worker stopped without reporting) and no attempts remain",
    ),
    ("failed_permanently", "Failed: {error} (not retried)"),
    ("failed", "Failed: {error}"),
];

/// What a stored message was built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognised {
    pub code: &'static str,
    pub params: Map<String, Value>,
}

enum Token<'a> {
    Text(&'a str),
    Value(&'a str),
}

fn tokens(template: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("a template closes each {");
        if open > 0 {
            out.push(Token::Text(&rest[..open]));
        }
        out.push(Token::Value(&rest[open + 1..close]));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Token::Text(rest));
    }
    out
}

/// Whether `v` can be the value of `name`: counts are digits, a time is one
/// word (`2025-01-15T10:00:00Z`), names are not empty; an error may be anything.
fn fits(name: &str, v: &str) -> bool {
    match name {
        "attempt" | "max" | "id" => !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()),
        "at" => !v.is_empty() && !v.chars().any(char::is_whitespace),
        "error" => true,
        _ => !v.is_empty(),
    }
}

/// Matches `text` against the rest of a template; a value takes the longest
/// text that lets the rest match (an error may itself contain `; retrying at`).
fn walk<'t>(toks: &[Token<'_>], text: &'t str, found: &mut Vec<(String, &'t str)>) -> bool {
    match toks.split_first() {
        None => text.is_empty(),
        Some((Token::Text(lit), rest)) => text.strip_prefix(lit).is_some_and(|t| walk(rest, t, found)),
        Some((Token::Value(name), rest)) => {
            let ends: Vec<usize> = match rest.first() {
                None => vec![text.len()],
                Some(Token::Text(lit)) => text.match_indices(lit).map(|(i, _)| i).collect(),
                Some(Token::Value(_)) => unreachable!("two values are never adjacent in a template"),
            };
            for end in ends.into_iter().rev() {
                let v = &text[..end];
                let same = found.iter().find(|(n, _)| n == name).is_none_or(|(_, seen)| *seen == v);
                if !same || !fits(name, v) {
                    continue;
                }
                found.push((name.to_string(), v));
                if walk(rest, &text[end..], found) {
                    return true;
                }
                found.pop();
            }
            false
        }
    }
}

/// The code and values of a message the engine wrote; None for any other text.
pub fn recognise(text: &str) -> Option<Recognised> {
    TEMPLATES.iter().find_map(|(code, template)| {
        let mut found = Vec::new();
        walk(&tokens(template), text, &mut found)
            .then(|| Recognised { code, params: found.into_iter().map(|(n, v)| (n, Value::String(v.to_string()))).collect() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(text: &str) -> Option<(&'static str, Value)> {
        recognise(text).map(|r| (r.code, Value::Object(r.params)))
    }

    #[test]
    fn every_template_recognises_itself_filled_in() {
        let sample = |name: &str| match name {
            "attempt" => "2",
            "max" => "3",
            "id" => "41",
            "at" => "2025-01-15T10:00:00Z",
            "worker" => "product",
            "owner" => "web-1:4242",
            _ => "RuntimeException: boom",
        };
        for (c, template) in TEMPLATES {
            let mut text = String::new();
            for tok in tokens(template) {
                match tok {
                    Token::Text(t) => text.push_str(t),
                    Token::Value(n) => text.push_str(sample(n)),
                }
            }
            assert_eq!(recognise(&text).map(|r| r.code), Some(*c), "{text}");
        }
    }

    #[test]
    fn values_come_back_even_when_an_error_repeats_the_template_words() {
        assert_eq!(
            code("Failed: PDOException: gone away (not retried)"),
            Some(("failed_permanently", json!({"error": "PDOException: gone away"})))
        );
        assert_eq!(code("Failed: boom"), Some(("failed", json!({"error": "boom"}))));
        assert_eq!(
            code("Attempt 1 of 3 failed: x of 2 failed: y; retrying at soon; retrying at 2025-01-15T10:00:05Z"),
            Some((
                "retrying",
                json!({"attempt": "1", "max": "3", "error": "x of 2 failed: y; retrying at soon", "at": "2025-01-15T10:00:05Z"})
            ))
        );
        assert_eq!(
            code("Waiting: worker 'mail' is inactive. Activate it (sTask::activateWorker('mail')) and the task will run."),
            Some(("worker_inactive", json!({"worker": "mail"})))
        );
        // The same name must hold the same value both times.
        assert_eq!(
            code("Waiting: worker 'a' is inactive. Activate it (sTask::activateWorker('b')) and the task will run."),
            None
        );
    }

    #[test]
    fn other_text_is_left_alone() {
        for text in
            ["", "Imported 40 of 3000", "Task completed successfully!", "Attempt x of 3 failed: e; retrying at t", "cancelled"]
        {
            assert_eq!(recognise(text), None, "{text}");
        }
    }

    #[test]
    fn the_rescuer_texts_are_recognised() {
        use crate::engine::maintenance::rescuer::decide;
        use crate::engine::task::NewTask;
        let mut t = NewTask::new("w", "run").row(7, chrono::Utc::now(), chrono::Utc::now());
        t.lease_owner = Some("web-1:99".into());
        for (attempts, want) in [(1, "rescued"), (3, "rescued_failed")] {
            t.attempts = attempts;
            t.max_attempts = 3;
            let (_, text) = decide(&t, chrono::Utc::now(), std::time::Duration::from_secs(5), 0.5);
            let r = recognise(&text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!((r.code, r.params["owner"].as_str()), (want, Some("web-1:99")), "{text}");
        }
    }
}
