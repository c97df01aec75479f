//! `Seiger\sTask\Contracts\TaskInterface`: the seven methods every worker
//! declares (REFERENCE §1.4). Declared natively so that the extension can
//! check `instanceof` without the PHP package being loaded.

#![allow(dead_code)]

use ext_php_rs::prelude::*;

#[php_interface]
#[php(name = "Seiger\\sTask\\Contracts\\TaskInterface")]
pub trait TaskInterface {
    /// The worker's unique identifier (`product`, `email_campaign`).
    fn identifier(&self) -> String;
    /// The module or package the worker belongs to.
    fn scope(&self) -> String;
    /// Icon HTML for the admin.
    fn icon(&self) -> String;
    fn title(&self) -> String;
    fn description(&self) -> String;
    /// Widget HTML for the admin's Workers tab.
    fn render_widget(&self) -> String;
    /// The worker's settings.
    fn settings(&self) -> Vec<String>;
}
