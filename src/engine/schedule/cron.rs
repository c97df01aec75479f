//! A standard 5-field cron expression (minute hour day-of-month month
//! day-of-week), matched against wall-clock time.
//!
//! Parsed by `croner`: it follows POSIX/Vixie cron (lists, ranges, steps on
//! `*` and ranges, JAN-DEC and SUN-SAT names, 0 and 7 both Sunday, day of
//! month OR day of week when both are restricted, as Laravel's
//! dragonmantank/cron-expression does), parses minute-resolution patterns
//! with seconds disallowed, searches forwards and backwards over naive
//! date-times, and is maintained (4.x in 2025, a test suite of the cron
//! corner cases). The `cron` crate wants a seconds field and has no
//! backward search; `saffron` has seen no release for years. croner's own
//! extensions (`L`, `W`, `#`, `@daily`) are accepted as a bonus.
//!
//! The search runs on naive wall-clock times; the zone's gaps and overlaps
//! are applied afterwards by `slots`, the same way for every schedule type.

use chrono::NaiveDateTime;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

#[derive(Debug, Clone)]
pub struct CronExpr {
    source: String,
    cron: Cron,
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl CronExpr {
    /// The expression, or why it is not one (a lowercase sentence that
    /// names the problem, for a 422 on `expression`).
    pub fn parse(raw: &str) -> Result<CronExpr, String> {
        let source = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if source.is_empty() {
            return Err("is empty; use 5 fields: minute hour day-of-month month day-of-week (\"0 3 * * *\")".into());
        }
        let fields = source.split(' ').count();
        if !source.starts_with('@') && fields != 5 {
            return Err(format!(
                "'{source}' has {fields} fields; a cron expression has 5: minute hour day-of-month month day-of-week"
            ));
        }
        let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
        let cron = parser.parse(&source).map_err(|e| format!("'{source}' is not a cron expression: {e}"))?;
        let expr = CronExpr { source, cron };
        // "0 0 31 2 *" parses but never matches: refused like other
        // schedules that could never fire.
        let probe = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        if probe.and_then(|p| expr.next_after(p, true)).is_none() {
            return Err(format!("'{}' never matches a date", expr.source));
        }
        Ok(expr)
    }

    /// The expression as stored (runs of spaces collapsed).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The first matching minute after `t` (at `t` too when `inclusive`).
    pub fn next_after(&self, t: NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
        self.cron.find_next_occurrence(&t, inclusive).ok()
    }

    /// The last matching minute before `t` (at `t` too when `inclusive`).
    pub fn prev_before(&self, t: NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
        self.cron.find_previous_occurrence(&t, inclusive).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn standard_fields_ranges_steps_lists_and_names() {
        let c = CronExpr::parse("*/15 9-17 * * MON-FRI").unwrap();
        // 2026-01-02 is a Friday.
        assert_eq!(c.next_after(at("2026-01-02 17:50"), false), Some(at("2026-01-05 09:00")));
        assert_eq!(c.next_after(at("2026-01-05 09:00"), true), Some(at("2026-01-05 09:00")));
        assert_eq!(c.next_after(at("2026-01-05 09:00"), false), Some(at("2026-01-05 09:15")));
        assert_eq!(c.prev_before(at("2026-01-05 09:00"), false), Some(at("2026-01-02 17:45")));
        let c = CronExpr::parse("5,35 0 1 jan,jul *").unwrap();
        assert_eq!(c.next_after(at("2026-01-01 00:05"), false), Some(at("2026-01-01 00:35")));
        assert_eq!(c.next_after(at("2026-01-01 00:35"), false), Some(at("2026-07-01 00:05")));
        // Sunday as 0 and as 7.
        assert_eq!(
            CronExpr::parse("0 12 * * 7").unwrap().next_after(at("2026-01-01 00:00"), false),
            Some(at("2026-01-04 12:00"))
        );
        assert_eq!(CronExpr::parse("  0   3 * * *  ").unwrap().as_str(), "0 3 * * *");
    }

    #[test]
    fn day_of_month_or_day_of_week_as_vixie_cron() {
        // The 13th, or any Friday.
        let c = CronExpr::parse("0 0 13 * 5").unwrap();
        assert_eq!(c.next_after(at("2026-01-01 00:00"), false), Some(at("2026-01-02 00:00")));
        assert_eq!(c.next_after(at("2026-01-12 00:00"), false), Some(at("2026-01-13 00:00")));
    }

    #[test]
    fn what_is_not_a_5_field_expression_says_why() {
        assert!(CronExpr::parse("").unwrap_err().contains("5 fields"));
        assert!(CronExpr::parse("0 0 * * * *").unwrap_err().contains("6 fields"));
        assert!(CronExpr::parse("0 3 * *").unwrap_err().contains("4 fields"));
        assert!(CronExpr::parse("61 * * * *").unwrap_err().contains("not a cron expression"));
        assert!(CronExpr::parse("0 0 * * FUNDAY").is_err());
        assert!(CronExpr::parse("0 0 31 2 *").unwrap_err().contains("never"));
    }
}
