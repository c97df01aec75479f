//! The PostgreSQL dialect (10+). Being written: see the conformance suite.

use super::*;

pub struct PostgresStore {
    _prefix: String,
}

impl PostgresStore {
    pub async fn connect(_url: &str, prefix: &str) -> StoreResult<PostgresStore> {
        Err(StoreError::new(StoreErrorKind::Unavailable, format!("the PostgreSQL dialect is not built yet (prefix {prefix})")))
    }
}

crate::unavailable_store!(PostgresStore, "PostgreSQL");
