//! The engine: plain Rust, no PHP types. The PHP face (`crate::php`) converts
//! arguments, calls into `service` (the `Engine`), and converts results back.

pub mod api;
pub mod cache;
pub mod child_command;
pub mod config;
pub mod discovery;
pub mod error;
pub mod lease;
pub mod log;
pub mod maintenance;
pub mod messages;
pub mod metrics;
pub mod processes;
pub mod progress;
pub mod query;
pub mod retry;
pub mod schedule;
pub mod service;
pub mod store;
pub mod supervisor;
pub mod task;
pub mod time;
pub mod upload_dirs;
pub mod value;
pub mod work;
pub mod worker;

pub use error::{Error, Result};
