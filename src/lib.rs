//! stask: the engine of Evolution CMS's background-task manager (sTask) as
//! a PHP extension. This file only registers; see `engine/` for the logic
//! and `php/` for the PHP face.

#![cfg_attr(windows, feature(abi_vectorcall))]

pub mod engine;
pub mod php;
pub mod runtime;

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;

extern "C" fn startup(_ty: i32, module_number: i32) -> i32 {
    php::context::register_ini(module_number);
    php::panic::install();
    php::log::startup();
    if php::exceptions::register() && php::datetime::register() {
        0
    } else {
        -1
    }
}

extern "C" fn request_shutdown(_ty: i32, _module_number: i32) -> i32 {
    // Worker objects are request-scoped zvals: release them before PHP
    // tears the request down.
    php::workers::clear_instances();
    php::log::request_shutdown();
    0
}

extern "C" fn shutdown(_ty: i32, _module_number: i32) -> i32 {
    // The engine closes with the runtime, not after it.
    php::context::forget_engine();
    runtime::shutdown();
    0
}

extern "C" fn info(_module: *mut ModuleEntry) {
    php::build_info::print_info();
}

#[php_module]
#[php(startup = "startup")]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .interface::<php::contracts::PhpInterfaceTaskInterface>()
        .class::<php::collection::Collection>()
        .class::<php::query::Query>()
        .class::<php::task_model::TaskModel>()
        .class::<php::worker_model::WorkerModel>()
        .class::<php::facade::Facade>()
        .request_shutdown_function(request_shutdown)
        .shutdown_function(shutdown)
        .info_function(info)
}
