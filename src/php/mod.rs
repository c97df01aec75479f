//! The PHP face: classes, conversions and the exception mapping. It holds
//! no business rules; every method converts and delegates to the engine.

pub mod build_info;
pub mod collection;
pub mod columns;
pub mod composer_loader;
pub mod context;
pub mod contracts;
pub mod convert;
pub mod datetime;
pub mod declared;
pub mod discovery;
pub mod exceptions;
pub mod executor;
pub mod facade;
pub mod http;
pub mod log;
pub mod new_task;
pub mod panic;
pub mod query;
pub mod task_model;
pub mod worker_model;
pub mod workers;
