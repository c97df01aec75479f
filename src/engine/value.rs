//! A column value as the engine passes it between queries, updates and the
//! store. Its own module because rows (`task`, `worker`), queries and the
//! store all speak it, and none of them should need the others for it.

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}
