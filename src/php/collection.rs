//! `Seiger\sTask\Support\Collection`: what `get()` returns. Countable,
//! iterable, array-accessible and JSON-serialisable, with the handful of
//! Laravel collection methods the seed and existing workers use.

use crate::php::convert::{describe, int_arg};
use crate::php::exceptions::invalid;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable, ZendObject, Zval};
use ext_php_rs::zend::{ce, ClassEntry};

unsafe extern "C" {
    // Exported by PHP itself (ext/json is always built in since PHP 8.0).
    // Class lookup by name does not work yet during module startup.
    static php_json_serializable_ce: *mut ext_php_rs::ffi::zend_class_entry;
}

pub fn json_serializable() -> &'static ClassEntry {
    unsafe { &*(php_json_serializable_ce as *const ClassEntry) }
}

/// An object declared as `Traversable` in the method's signature, so
/// `getIterator()` matches IteratorAggregate's return type exactly.
pub struct TraversableObject(Zval);

impl IntoZval for TraversableObject {
    const TYPE: ext_php_rs::flags::DataType = ext_php_rs::flags::DataType::object("Traversable");
    const NULLABLE: bool = false;

    fn set_zval(self, zv: &mut Zval, _persistent: bool) -> ext_php_rs::error::Result<()> {
        *zv = self.0;
        Ok(())
    }
}

#[php_class]
#[php(name = "Seiger\\sTask\\Support\\Collection")]
#[php(implements(ce = ce::countable, stub = "\\Countable"))]
#[php(implements(ce = ce::aggregate, stub = "\\IteratorAggregate"))]
#[php(implements(ce = ce::arrayaccess, stub = "\\ArrayAccess"))]
#[php(implements(ce = json_serializable, stub = "\\JsonSerializable"))]
pub struct Collection {
    items: Vec<Zval>,
}

impl Collection {
    pub fn from_items(items: Vec<Zval>) -> Self {
        Collection { items }
    }

    fn items_array(&self) -> PhpResult<Zval> {
        let mut ht = ZendHashTable::with_capacity(self.items.len() as u32);
        for item in &self.items {
            ht.push(item.shallow_clone())?;
        }
        let mut z = Zval::new();
        z.set_hashtable(ht);
        Ok(z)
    }

    fn index(&self, offset: &Zval) -> PhpResult<Option<usize>> {
        let i = int_arg(offset, "offset")?;
        Ok(if i >= 0 && (i as usize) < self.items.len() { Some(i as usize) } else { None })
    }

    /// One field of every item: model property or array key.
    pub fn pluck_column(&self, column: &str) -> PhpResult<Collection> {
        let mut out = Vec::with_capacity(self.items.len());
        for item in &self.items {
            out.push(field_of(item, column)?);
        }
        Ok(Collection { items: out })
    }
}

fn field_of(item: &Zval, key: &str) -> PhpResult<Zval> {
    let item = item.dereference();
    if let Some(o) = item.object() {
        return Ok(o.try_call_method("__get", vec![&key]).unwrap_or_else(|_| Zval::null()));
    }
    if let Some(a) = item.array() {
        return Ok(a.get(key).map(|v| v.shallow_clone()).unwrap_or_else(Zval::null));
    }
    Err(invalid("pluck", format!("cannot read '{key}' from {}", describe(item))))
}

fn call(cb: &ZendCallable, args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn>) -> PhpResult<Zval> {
    Ok(cb.try_call(args)?)
}

#[php_impl]
impl Collection {
    pub fn count(&self) -> i64 {
        self.items.len() as i64
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn is_not_empty(&self) -> bool {
        !self.items.is_empty()
    }

    /// The first item, or the first one the callback accepts.
    pub fn first(&self, callback: Option<ZendCallable>) -> PhpResult<Zval> {
        for (i, item) in self.items.iter().enumerate() {
            match &callback {
                None => return Ok(item.shallow_clone()),
                Some(cb) => {
                    if call(cb, vec![item, &(i as i64)])?.coerce_to_bool() {
                        return Ok(item.shallow_clone());
                    }
                }
            }
        }
        Ok(Zval::null())
    }

    pub fn last(&self) -> Zval {
        self.items.last().map(|z| z.shallow_clone()).unwrap_or_else(Zval::null)
    }

    pub fn all(&self) -> PhpResult<Zval> {
        self.items_array()
    }

    pub fn values(&self) -> Collection {
        Collection { items: self.items.iter().map(|z| z.shallow_clone()).collect() }
    }

    /// Items as plain arrays (models through their `toArray()`).
    pub fn to_array(&self) -> PhpResult<Zval> {
        let mut ht = ZendHashTable::with_capacity(self.items.len() as u32);
        for item in &self.items {
            let v = match item.dereference().object() {
                Some(o) if o.get_class_entry().name().map(|n| n.starts_with("Seiger\\sTask\\")).unwrap_or(false) => {
                    o.try_call_method("toArray", vec![])?
                }
                _ => item.shallow_clone(),
            };
            ht.push(v)?;
        }
        let mut z = Zval::new();
        z.set_hashtable(ht);
        Ok(z)
    }

    pub fn json_serialize(&self) -> PhpResult<Zval> {
        self.to_array()
    }

    pub fn pluck(&self, key: String) -> PhpResult<Collection> {
        self.pluck_column(&key)
    }

    pub fn map(&self, callback: ZendCallable) -> PhpResult<Collection> {
        let mut out = Vec::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            out.push(call(&callback, vec![item, &(i as i64)])?);
        }
        Ok(Collection { items: out })
    }

    /// Keeps the items the callback accepts (truthy items without one).
    pub fn filter(&self, callback: Option<ZendCallable>) -> PhpResult<Collection> {
        let mut out = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            let keep = match &callback {
                Some(cb) => call(cb, vec![item, &(i as i64)])?.coerce_to_bool(),
                None => item.coerce_to_bool(),
            };
            if keep {
                out.push(item.shallow_clone());
            }
        }
        Ok(Collection { items: out })
    }

    pub fn each(&self, callback: ZendCallable) -> PhpResult<()> {
        for (i, item) in self.items.iter().enumerate() {
            let r = call(&callback, vec![item, &(i as i64)])?;
            if r.is_false() {
                break;
            }
        }
        Ok(())
    }

    pub fn get_iterator(&self) -> PhpResult<TraversableObject> {
        let ce = ClassEntry::try_find("ArrayIterator").ok_or_else(|| invalid("iterator", "ArrayIterator is missing"))?;
        let it = ZendObject::new(ce);
        let arr = self.items_array()?;
        it.try_call_method("__construct", vec![&arr])?;
        Ok(TraversableObject(it.into_zval(false)?))
    }

    pub fn offset_exists(&self, offset: &Zval) -> PhpResult<bool> {
        Ok(self.index(offset)?.is_some())
    }

    pub fn offset_get(&self, offset: &Zval) -> PhpResult<Zval> {
        Ok(self.index(offset)?.map(|i| self.items[i].shallow_clone()).unwrap_or_else(Zval::null))
    }

    pub fn offset_set(&mut self, offset: &Zval, value: &Zval) -> PhpResult<()> {
        if offset.is_null() {
            self.items.push(value.shallow_clone());
            return Ok(());
        }
        let i = int_arg(offset, "offset")?;
        match i {
            i if i >= 0 && (i as usize) < self.items.len() => self.items[i as usize] = value.shallow_clone(),
            i if i as usize == self.items.len() => self.items.push(value.shallow_clone()),
            _ => return Err(invalid("offset", format!("{i} is outside the collection (size {})", self.items.len()))),
        }
        Ok(())
    }

    pub fn offset_unset(&mut self, offset: &Zval) -> PhpResult<()> {
        if let Some(i) = self.index(offset)? {
            self.items.remove(i);
        }
        Ok(())
    }
}
