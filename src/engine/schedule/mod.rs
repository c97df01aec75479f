//! When a worker's schedule fires: the stored schedule (`settings['schedule']`,
//! written by `api::schedule::validate`) read into a typed [`Schedule`], and
//! the instants its slots fall on in the application's time zone.
//!
//! Pure: no database and no clock. The caller passes the zone, the last
//! instant it evaluated and `now`; what it does with a due slot (create the
//! worker's `make` task once per slot key) is the scheduler's business.
//!
//! # Slots are wall-clock times
//!
//! Every type except `manual` names times on the application's clock:
//! `once` a date-time, `periodic` a minute of every hour, a time every day or
//! on some weekdays, `regular` the minutes of a daily window that its
//! interval divides (the same minutes `BaseWorker::shouldRunNow()` accepts,
//! so a worker that checks it in `taskMake` does not skip these tasks), and
//! `cron` the minutes a 5-field expression matches. A slot's instant is its
//! wall-clock time in the zone, with two rules for the days the clocks move:
//!
//! - **Gap** (spring forward: in Europe/Kyiv 03:00 becomes 04:00, in
//!   America/New_York 02:00 becomes 03:00): a slot whose wall time does not
//!   exist runs once, at the first instant after the gap (a daily 02:30 in
//!   New York runs at 03:00 EDT that day). Several slots of the gap (every 5
//!   minutes from 02:00 to 02:55) fall on that one instant and are one run.
//! - **Overlap** (fall back: 04:00 becomes 03:00 in Kyiv, 02:00 becomes
//!   01:00 in New York): a wall time that happens twice runs once, at its
//!   first occurrence (a daily 01:30 in New York runs at 01:30 EDT, not again
//!   at 01:30 EST). This holds for every type: an hourly `*:30` runs at
//!   00:30, 01:30 EDT and 02:30 EST, two hours apart, rather than twice in
//!   the repeated hour. Laravel evaluates each minute as it comes and so runs
//!   both; a background task that runs twice in an hour because of a clock
//!   change is the surprise this avoids.
//!
//! With these rules the map from wall time to instant never goes backwards,
//! so slots come out in order and each instant is one slot. A slot's key
//! ([`Slot::key`]) is its UTC instant: the same on every host, whatever its
//! own zone, and fit for a unique index.
//!
//! # Missed slots
//!
//! A slot is *on time* when it is evaluated within [`DEFAULT_GRACE`] (or the
//! caller's grace) after it, and *missed* when no evaluation happened in
//! that time (no worker process ran: cron stopped, the server was down).
//! The schedule's `missed` policy says what then happens:
//!
//! - `skip` (the default): missed slots are dropped and the schedule goes on
//!   at its next slot, as Laravel's scheduler does (a `schedule:run` that did
//!   not happen at 03:00 does not run the 03:00 jobs later), so a nightly
//!   job does not start in the middle of the working day after an outage.
//! - `run_once`: if any slots were missed and none is on time, the latest
//!   missed one runs, once, however many were missed (as systemd's
//!   `Persistent=` timers catch up): for jobs that must happen each period
//!   but need not happen once per missed slot.
//!
//! The first evaluation of a schedule (no last instant) looks back only the
//! grace: a schedule saved now does not catch up on its past.

pub mod cron;
pub mod model;
pub mod slots;
#[cfg(test)]
mod tests;

pub use model::{Kind, Missed, OnceAt, Schedule, ScheduleError};
pub use slots::{due, fired_within, next_run, Slot, DEFAULT_GRACE};
