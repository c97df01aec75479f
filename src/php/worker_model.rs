//! `Seiger\sTask\Models\sWorker`: a registered worker as a PHP object.
//! Title, description and icon are stored at registration and rescan, so
//! listing workers never instantiates them.

use crate::engine::query::{Table, Value};
use crate::engine::time;
use crate::engine::worker::{self, WorkerRow};
use crate::php::collection::{json_serializable, Collection};
use crate::php::columns::column_value;
use crate::php::context::{block_on, engine};
use crate::php::convert::{entries, hashtable_to_json, id_arg, json_text_to_zval, string_arg, timestamp_to_zval, value_to_zval};
use crate::php::declared::{Int, Text};
use crate::php::exceptions::{invalid, throw, Kind};
use crate::php::query::Query;
use crate::php::workers::{class_exists, instantiate};
use ext_php_rs::convert::IntoZval;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};

#[php_class]
#[php(name = "Seiger\\sTask\\Models\\sWorker")]
#[php(implements(ce = json_serializable, stub = "\\JsonSerializable"))]
#[derive(Clone)]
pub struct WorkerModel {
    pub row: WorkerRow,
    changes: Vec<(&'static str, Value)>,
    exists: bool,
}

pub fn worker_to_zval(row: WorkerRow) -> PhpResult<Zval> {
    Ok(WorkerModel::from_row(row).into_zval(false)?)
}

impl WorkerModel {
    pub fn from_row(row: WorkerRow) -> Self {
        WorkerModel { row, changes: Vec::new(), exists: true }
    }

    fn id_query(&self) -> PhpResult<crate::engine::query::Query> {
        if !self.exists {
            return Err(throw(Kind::WorkerNotFound, format!("Worker '{}' was deleted", self.row.identifier)));
        }
        Ok(crate::engine::query::Query::new(Table::Workers).where_eq("id", Value::Int(self.row.id))?)
    }

    fn stage_zval(&mut self, name: &str, value: &Zval) -> PhpResult<()> {
        let column = crate::engine::query::Query::new(Table::Workers).writable_column(name)?;
        let v = column_value(Table::Workers, column, value)?;
        self.row.set(column, &v);
        self.changes.retain(|(c, _)| *c != column);
        self.changes.push((column, v));
        Ok(())
    }

    fn persist(&mut self) -> PhpResult<bool> {
        if self.changes.is_empty() {
            return Ok(true);
        }
        let q = self.id_query()?;
        let changes = std::mem::take(&mut self.changes);
        match block_on(engine()?.update(&q, &changes)) {
            Ok(n) => {
                self.row.updated_at = Some(time::now());
                Ok(n > 0)
            }
            Err(e) => {
                self.changes = changes;
                Err(e.into())
            }
        }
    }

    fn column_zval(&self, name: &str) -> PhpResult<Option<Zval>> {
        let Some(v) = self.row.get(name) else { return Ok(None) };
        if worker::JSON.contains(&name) {
            return Ok(Some(match &v {
                Value::Text(t) => {
                    let z = json_text_to_zval(t)?;
                    if z.is_array() {
                        z
                    } else {
                        Zval::new_array()
                    }
                }
                _ => Zval::new_array(),
            }));
        }
        if worker::TIMESTAMPS.contains(&name) {
            return Ok(Some(match &v {
                Value::Text(t) => time::from_db(t).map(|ts| timestamp_to_zval(&ts)).transpose()?.unwrap_or_else(Zval::null),
                _ => Zval::null(),
            }));
        }
        Ok(Some(value_to_zval(&v)))
    }

    fn query() -> Query {
        Query::new(Table::Workers)
    }
}

fn scoped(f: impl FnOnce(crate::engine::query::Query) -> crate::engine::Result<crate::engine::query::Query>) -> PhpResult<Query> {
    let mut q = WorkerModel::query();
    q.q = f(q.q.clone())?;
    Ok(q)
}

#[php_impl]
impl WorkerModel {
    pub fn find(id: Int) -> PhpResult<Option<WorkerModel>> {
        let id = id_arg(id.0, "id")?;
        let q = crate::engine::query::Query::new(Table::Workers).where_eq("id", Value::Int(id))?.limit(1)?;
        Ok(block_on(engine()?.select_workers(&q))?.into_iter().next().map(WorkerModel::from_row))
    }

    #[php(name = "query")]
    pub fn query_() -> Query {
        Self::query()
    }

    #[php(name = "where")]
    pub fn where_(args: &[&Zval]) -> PhpResult<Query> {
        let mut q = Self::query();
        q.add_where_args(args)?;
        Ok(q)
    }

    pub fn all() -> PhpResult<Collection> {
        Self::query().get()
    }

    pub fn active() -> PhpResult<Query> {
        scoped(|q| q.where_eq("active", Value::Bool(true)))
    }

    pub fn visible() -> PhpResult<Query> {
        scoped(|q| q.where_eq("hidden", Value::Int(0)))
    }

    pub fn by_scope(scope: Text) -> PhpResult<Query> {
        let s = string_arg(scope.0, "scope")?;
        scoped(|q| q.where_eq("scope", Value::Text(s)))
    }

    pub fn ordered() -> PhpResult<Query> {
        use crate::engine::query::Dir;
        scoped(|q| q.order_by("position", Dir::Asc)?.order_by("identifier", Dir::Asc))
    }

    pub fn __get(&self, name: String) -> PhpResult<Zval> {
        match name.as_str() {
            "class_exists" => return Ok(value_to_zval(&Value::Bool(class_exists(&self.row.class)))),
            "title" if self.row.title.is_empty() => return Ok(value_to_zval(&Value::Text(default_title(&self.row.identifier)))),
            "icon" if self.row.icon.is_empty() => return Ok(value_to_zval(&Value::Text("<i class=\"fa fa-cog\"></i>".into()))),
            "scope" if self.row.scope.is_empty() => return Ok(value_to_zval(&Value::Text("stask".into()))),
            _ => {}
        }
        Ok(self.column_zval(&name)?.unwrap_or_else(Zval::null))
    }

    pub fn __set(&mut self, name: String, value: &Zval) -> PhpResult<()> {
        self.stage_zval(&name, value)
    }

    pub fn __isset(&self, name: String) -> bool {
        self.row.get(&name).map(|v| !matches!(v, Value::Null)).unwrap_or(false)
    }

    pub fn save(&mut self) -> PhpResult<bool> {
        self.persist()
    }

    pub fn update(&mut self, attributes: &ZendHashTable) -> PhpResult<bool> {
        for (k, v) in entries(attributes, "attributes")? {
            self.stage_zval(&k, v)?;
        }
        self.persist()
    }

    pub fn delete(&mut self) -> PhpResult<bool> {
        let q = self.id_query()?;
        let n = block_on(engine()?.delete(&q))?;
        self.exists = false;
        Ok(n > 0)
    }

    pub fn fresh(&self) -> PhpResult<Option<WorkerModel>> {
        Self::find(Int(&value_to_zval(&Value::Int(self.row.id))))
    }

    /// A new instance of the worker class, or null when it cannot be made.
    pub fn get_instance(&self) -> PhpResult<Zval> {
        Ok(instantiate(&self.row.class)?.unwrap_or_else(Zval::null))
    }

    /// Active and its class can be loaded.
    pub fn can_be_used(&self) -> bool {
        self.row.active && class_exists(&self.row.class)
    }

    pub fn get_default_settings(&self) -> PhpResult<Zval> {
        Ok(self.column_zval("settings")?.unwrap_or_else(Zval::new_array))
    }

    /// Merges into the stored settings (top level) and saves.
    pub fn update_settings(&mut self, settings: &ZendHashTable) -> PhpResult<()> {
        let mut current: serde_json::Value = serde_json::from_str(&self.row.settings).unwrap_or(serde_json::json!({}));
        if !current.is_object() {
            current = serde_json::json!({});
        }
        let incoming = hashtable_to_json(settings, "settings")?;
        match incoming {
            serde_json::Value::Object(m) => {
                let obj = current.as_object_mut().expect("object");
                for (k, v) in m {
                    obj.insert(k, v);
                }
            }
            serde_json::Value::Array(a) if a.is_empty() => {}
            _ => return Err(invalid("settings", "must be an associative array")),
        }
        let z = crate::php::convert::json_to_zval(&current)?;
        self.stage_zval("settings", &z)?;
        self.persist().map(|_| ())
    }

    pub fn to_array(&self) -> PhpResult<Zval> {
        let mut ht = ZendHashTable::with_capacity(worker::COLUMNS.len() as u32);
        for col in worker::COLUMNS {
            let v = if worker::TIMESTAMPS.contains(col) {
                match self.row.get(col) {
                    Some(Value::Text(t)) => {
                        time::from_db(&t).map(|ts| value_to_zval(&Value::Text(time::iso8601(&ts)))).unwrap_or_else(Zval::null)
                    }
                    _ => Zval::null(),
                }
            } else {
                self.__get(col.to_string())?
            };
            ht.insert(*col, v)?;
        }
        let mut z = Zval::new();
        z.set_hashtable(ht);
        Ok(z)
    }

    pub fn json_serialize(&self) -> PhpResult<Zval> {
        self.to_array()
    }
}

/// `product_sync` → "Product Sync" (the PHP package's fallback title).
pub fn default_title(identifier: &str) -> String {
    identifier
        .split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
