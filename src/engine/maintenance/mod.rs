pub mod cleaner;
pub mod rescuer;
pub mod statistics;
