//! The MySQL 8 / MariaDB 10.5+ dialect. Being written: see the conformance suite.

use super::*;

pub struct MySqlStore {
    _prefix: String,
}

impl MySqlStore {
    pub async fn connect(_url: &str, prefix: &str) -> StoreResult<MySqlStore> {
        Err(StoreError::new(StoreErrorKind::Unavailable, format!("the MySQL dialect is not built yet (prefix {prefix})")))
    }
}

crate::unavailable_store!(MySqlStore, "MySQL");
