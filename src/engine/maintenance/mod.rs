pub mod cleaner;
pub mod rescuer;
