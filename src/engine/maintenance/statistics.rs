//! Planner statistics kept fresh by the engine. The PostgreSQL servers this
//! engine meets often run without autovacuum, and a table whose statistics
//! say "empty" gets plans that read every row. The claim no longer depends
//! on them (its plan is pinned, see `store::postgres`), but lists, counts
//! and the dashboard do. Run by the maintenance leader, after the rescuer.

use crate::engine::maintenance::Scope;
use crate::engine::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsConfig {
    /// Rows changed since the last refresh before one is due, plus
    /// `fraction` of the table (autovacuum's defaults: 50 and 0.1; more
    /// rows here, since the engine's own queries do not need them as fresh).
    pub min_changes: i64,
    pub fraction: f64,
}

impl Default for StatisticsConfig {
    fn default() -> Self {
        StatisticsConfig { min_changes: 1000, fraction: 0.1 }
    }
}

pub struct Statistics<'a> {
    scope: Scope<'a>,
    config: StatisticsConfig,
}

impl<'a> Statistics<'a> {
    pub fn new(scope: impl Into<Scope<'a>>, config: StatisticsConfig) -> Result<Self> {
        if config.min_changes < 0 || !(0.0..=1.0).contains(&config.fraction) {
            return Err(Error::invalid("statistics", "min_changes must be >= 0 and fraction within 0..1"));
        }
        Ok(Statistics { scope: scope.into(), config })
    }

    /// True when the statistics were refreshed.
    pub async fn run_once(&self) -> Result<bool> {
        Ok(self.scope.store.refresh_statistics(self.config.min_changes, self.config.fraction).await?)
    }
}
