//! Values between PHP and the engine: zvals to `Value`/JSON and back,
//! loose scalars the way PHP callers pass them, dates to Carbon.

use crate::engine::query::Value;
use crate::engine::time::{self, Timestamp};
use crate::php::exceptions::{invalid, throw, Kind};
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::array::Iter;
use ext_php_rs::types::{ArrayKey, ZendCallable, ZendHashTable, ZendObject, Zval};
use ext_php_rs::zend::ClassEntry;

/// An integer argument, accepting what PHP's weak mode accepts from
/// Laravel callers: ints, integral floats and numeric strings ("12").
pub fn int_arg(z: &Zval, name: &str) -> PhpResult<i64> {
    let z = z.dereference();
    if let Some(i) = z.long() {
        return Ok(i);
    }
    if let Some(f) = z.double() {
        if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.0e15 {
            return Ok(f as i64);
        }
    }
    if let Some(s) = z.str() {
        if let Ok(i) = s.trim().parse::<i64>() {
            return Ok(i);
        }
    }
    if let Some(b) = z.bool() {
        return Ok(b as i64);
    }
    Err(invalid(name, format!("expected an integer, got {}", describe(z))))
}

/// A positive id (task ids, worker ids).
pub fn id_arg(z: &Zval, name: &str) -> PhpResult<i64> {
    let id = int_arg(z, name)?;
    if id <= 0 {
        return Err(invalid(name, format!("must be a positive integer, got {id}")));
    }
    Ok(id)
}

pub fn string_arg(z: &Zval, name: &str) -> PhpResult<String> {
    let z = z.dereference();
    if let Some(s) = z.string() {
        return Ok(s);
    }
    if z.is_long() || z.is_double() {
        return Ok(z.coerce_to_string().unwrap_or_default());
    }
    if z.is_string() {
        return Err(invalid(name, "is not valid UTF-8"));
    }
    Err(invalid(name, format!("expected a string, got {}", describe(z))))
}

/// A short description of a value for error messages (never its content
/// when it is large).
pub fn describe(z: &Zval) -> String {
    let z = z.dereference();
    if z.is_null() {
        "null".into()
    } else if let Some(b) = z.bool() {
        format!("bool({b})")
    } else if let Some(i) = z.long() {
        format!("int({i})")
    } else if let Some(f) = z.double() {
        format!("float({f})")
    } else if let Some(s) = z.str() {
        let short: String = s.chars().take(40).collect();
        format!("string(\"{short}\")")
    } else if let Some(zs) = z.zend_str() {
        format!("string of {} bytes, not UTF-8", zs.len())
    } else if z.is_array() {
        "array".into()
    } else if let Some(o) = z.object() {
        format!("object({})", o.get_class_name().unwrap_or_default())
    } else {
        format!("{:?}", z.get_type())
    }
}

fn date_interface() -> Option<&'static ClassEntry> {
    ClassEntry::try_find("DateTimeInterface")
}

/// A DateTimeInterface object as a UTC timestamp.
pub fn date_object_to_ts(o: &ZendObject) -> PhpResult<Option<Timestamp>> {
    let Some(iface) = date_interface() else { return Ok(None) };
    if !o.instance_of(iface) {
        return Ok(None);
    }
    let formatted = o.try_call_method("format", vec![&"U.u"])?;
    let s = formatted.string().unwrap_or_default();
    let mut parts = s.splitn(2, '.');
    let secs: i64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let micros: i64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Ok(time::from_epoch_micros(secs * 1_000_000 + micros))
}

/// A scalar or date from PHP as an engine value (for `where`, `update`).
pub fn zval_to_value(z: &Zval, field: &str) -> PhpResult<Value> {
    let z = z.dereference();
    if z.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = z.bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(i) = z.long() {
        return Ok(Value::Int(i));
    }
    if let Some(f) = z.double() {
        return Ok(Value::Float(f));
    }
    if let Some(s) = z.string() {
        return Ok(Value::Text(s));
    }
    if let Some(o) = z.object() {
        if let Some(t) = date_object_to_ts(o)? {
            return Ok(Value::Text(time::to_db(&t)));
        }
        if let Ok(s) = o.try_call_method("__toString", vec![]) {
            if let Some(s) = s.string() {
                return Ok(Value::Text(s));
            }
        }
    }
    Err(invalid(field, format!("expected a scalar or a date, got {}", describe(z))))
}

/// A timestamp column written from PHP: a date object, a date string that
/// PHP's own parser understands, or a Unix timestamp.
pub fn zval_to_timestamp(z: &Zval, field: &str) -> PhpResult<Option<Timestamp>> {
    let z = z.dereference();
    if z.is_null() {
        return Ok(None);
    }
    if let Some(o) = z.object() {
        if let Some(t) = date_object_to_ts(o)? {
            return Ok(Some(t));
        }
    }
    if let Some(i) = z.long() {
        return Ok(time::from_epoch_micros(i * 1_000_000));
    }
    if let Some(s) = z.str() {
        if let Some(t) = time::from_db(s) {
            return Ok(Some(t));
        }
        // Anything else goes through PHP's parser (`+2 hours`, `2025-01-16T10:30:00+02:00`).
        let ce = ClassEntry::try_find("DateTimeImmutable").ok_or_else(|| invalid(field, "DateTimeImmutable is missing"))?;
        let obj = ZendObject::new(ce);
        let r = obj.try_call_method("__construct", vec![&s.to_string()]);
        if r.is_ok() && !ext_php_rs::zend::ExecutorGlobals::has_exception() {
            if let Some(t) = date_object_to_ts(&obj)? {
                return Ok(Some(t));
            }
        }
        let _ = ext_php_rs::zend::ExecutorGlobals::take_exception();
        return Err(invalid(field, format!("'{s}' is not a date")));
    }
    Err(invalid(field, format!("expected a date, got {}", describe(z))))
}

/// A timestamp as Carbon when Carbon is loaded (Laravel, Evolution), else
/// a `Seiger\sTask\Support\Timestamp` (a DateTimeImmutable that casts to
/// `Y-m-d H:i:s`), in PHP's default timezone.
pub fn timestamp_to_zval(t: &Timestamp) -> PhpResult<Zval> {
    let micros = time::to_epoch_micros(t);
    let stamp = format!("@{}.{:06}", micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    let tz = ZendCallable::try_from_name("date_default_timezone_get")?.try_call(vec![])?;
    let tz = tz.string().unwrap_or_else(|| "UTC".into());
    if ClassEntry::try_find("Carbon\\Carbon").is_some() {
        let f = ZendCallable::try_from_name("Carbon\\Carbon::createFromFormat")?;
        let c = f.try_call(vec![&"U.u", &format!("{}.{:06}", micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000))])?;
        if let Some(o) = c.object() {
            let _ = o.try_call_method("setTimezone", vec![&tz]);
        }
        return Ok(c);
    }
    // A DateTimeImmutable that prints as `Y-m-d H:i:s` in a string, as Carbon does.
    let ce = match crate::php::datetime::class_entry() {
        Some(ce) => ce,
        None => ClassEntry::try_find("DateTimeImmutable").ok_or_else(|| throw(Kind::Base, "DateTimeImmutable is missing"))?,
    };
    let obj = ZendObject::new(ce);
    obj.try_call_method("__construct", vec![&stamp])?;
    let zone_ce = ClassEntry::try_find("DateTimeZone").ok_or_else(|| throw(Kind::Base, "DateTimeZone is missing"))?;
    let zone = ZendObject::new(zone_ce);
    zone.try_call_method("__construct", vec![&tz])?;
    let zone_zv = zone.into_zval(false)?;
    let moved = obj.try_call_method("setTimezone", vec![&zone_zv])?;
    Ok(moved)
}

/// An engine value as a PHP value.
pub fn value_to_zval(v: &Value) -> Zval {
    let mut z = Zval::new();
    match v {
        Value::Null => z.set_null(),
        Value::Bool(b) => z.set_bool(*b),
        Value::Int(i) => z.set_long(*i),
        Value::Float(f) => z.set_double(*f),
        Value::Text(s) => {
            let _ = z.set_string(s, false);
        }
    }
    z
}

/// How deep values may nest on their way to and from JSON: the default
/// depth of PHP's own `json_encode` and `json_decode`. The conversions
/// recurse, and an array nested 8,000 deep would otherwise overflow the
/// PHP thread's stack (a segfault, not an exception).
pub const MAX_DEPTH: usize = 512;

/// An array key, decoded without trusting it to be UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    Index(i64),
    Name(String),
}

impl Key {
    pub fn as_string(&self) -> String {
        match self {
            Key::Index(n) => n.to_string(),
            Key::Name(s) => s.clone(),
        }
    }
}

/// A string key that is not UTF-8, shown lossily (for messages only).
#[derive(Clone, Debug)]
pub struct BadKey(pub String);

/// The entries of a PHP array in order. ext-php-rs's own iterator
/// (`ht.iter()`) panics on a string key that is not UTF-8 ("Invalid array
/// key!"), and any HTTP client can send one (`?%ff=1`); this walks the raw
/// keys and reports such a key instead.
pub fn raw_entries(ht: &ZendHashTable) -> Result<Vec<(Key, &Zval)>, BadKey> {
    let mut out = Vec::with_capacity(ht.len());
    let mut it = Iter::new(ht);
    while let Some((k, v)) = it.next_zval() {
        let key = if let Some(i) = k.long() {
            Key::Index(i)
        } else if let Some(zs) = k.zend_str() {
            match zs.as_str() {
                Ok(s) => Key::Name(s.to_string()),
                Err(_) => return Err(BadKey(String::from_utf8_lossy(zs.as_bytes()).into_owned())),
            }
        } else {
            Key::Index(out.len() as i64)
        };
        out.push((key, v));
    }
    Ok(out)
}

/// The values of a PHP array in order, whatever its keys: ext-php-rs's
/// `ht.values()` walks the same panicking iterator as `ht.iter()`.
pub fn values_of(ht: &ZendHashTable) -> Vec<&Zval> {
    let mut out = Vec::with_capacity(ht.len());
    let mut it = Iter::new(ht);
    while let Some((_, v)) = it.next_zval() {
        out.push(v);
    }
    out
}

/// The entries of an array argument with their keys as strings; a key that
/// is not UTF-8 is an InvalidArgumentException naming `field`.
pub fn entries<'a>(ht: &'a ZendHashTable, field: &str) -> PhpResult<Vec<(String, &'a Zval)>> {
    raw_entries(ht)
        .map(|list| list.into_iter().map(|(k, v)| (k.as_string(), v)).collect())
        .map_err(|BadKey(k)| invalid(field, format!("array key \"{}\" is not valid UTF-8", short(&k))))
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A JSON document as PHP values: objects become associative arrays (as
/// Eloquent's array cast gives them).
pub fn json_to_zval(v: &serde_json::Value) -> PhpResult<Zval> {
    json_to_zval_at(v, 1)
}

fn json_to_zval_at(v: &serde_json::Value, depth: usize) -> PhpResult<Zval> {
    use serde_json::Value as J;
    let mut z = Zval::new();
    if matches!(v, J::Array(_) | J::Object(_)) && depth > MAX_DEPTH {
        // Documents come from serde_json, whose parser stops at 128 levels,
        // so this is a second line; it keeps the recursion bounded whoever
        // built the value.
        return Err(throw(Kind::Base, format!("JSON nested deeper than {MAX_DEPTH} levels")));
    }
    match v {
        J::Null => z.set_null(),
        J::Bool(b) => z.set_bool(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                z.set_long(i)
            } else {
                z.set_double(n.as_f64().unwrap_or(0.0))
            }
        }
        J::String(s) => z.set_string(s, false)?,
        J::Array(items) => {
            let mut ht = ZendHashTable::with_capacity(items.len() as u32);
            for item in items {
                ht.push(json_to_zval_at(item, depth + 1)?)?;
            }
            z.set_hashtable(ht);
        }
        J::Object(map) => {
            let mut ht = ZendHashTable::with_capacity(map.len() as u32);
            for (k, item) in map {
                // Numeric string keys become integer keys, as in PHP arrays.
                match k.parse::<i64>() {
                    Ok(i) if i.to_string() == *k => ht.insert_at_index(i, json_to_zval_at(item, depth + 1)?)?,
                    _ => ht.insert(k.as_str(), json_to_zval_at(item, depth + 1)?)?,
                }
            }
            z.set_hashtable(ht);
        }
    }
    Ok(z)
}

/// Decodes stored JSON; text that is not JSON comes back as the string it is.
pub fn json_text_to_zval(text: &str) -> PhpResult<Zval> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => json_to_zval(&v),
        // serde_json stops at 128 levels (it recurses, and so bounds its
        // stack); what PHP stored may nest up to json_encode's 512, so that
        // goes through PHP's own parser, which is not recursive.
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            let decoded = ZendCallable::try_from_name("json_decode")?.try_call(vec![&text, &true, &(MAX_DEPTH as i64)])?;
            if ext_php_rs::zend::ExecutorGlobals::has_exception() {
                let _ = ext_php_rs::zend::ExecutorGlobals::take_exception();
            }
            if decoded.is_null() {
                return Ok(value_to_zval(&Value::Text(text.to_string())));
            }
            Ok(decoded)
        }
        Err(_) => Ok(value_to_zval(&Value::Text(text.to_string()))),
    }
}

/// Where a conversion to JSON is: how deep, and which arrays enclose it
/// (an array that encloses itself through a reference is recursion).
struct Walk<'f> {
    field: &'f str,
    open: Vec<*const ZendHashTable>,
}

impl Walk<'_> {
    fn enter(&mut self, ht: &ZendHashTable) -> PhpResult<()> {
        let p = ht as *const ZendHashTable;
        if self.open.contains(&p) {
            return Err(invalid(self.field, "recursion detected: the array contains itself (through a reference)"));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(invalid(self.field, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.open.push(p);
        Ok(())
    }
}

/// PHP values as JSON. Lists (keys 0..n) become arrays, other arrays
/// objects; objects go through PHP's own `json_encode` so that
/// JsonSerializable and dates are honoured. Arrays may nest up to
/// [`MAX_DEPTH`] levels and may not contain themselves; both are an
/// InvalidArgumentException naming `field`, as are keys that are not UTF-8.
pub fn zval_to_json(z: &Zval, field: &str) -> PhpResult<serde_json::Value> {
    zval_to_json_in(z, &mut Walk { field, open: Vec::new() })
}

fn zval_to_json_in(z: &Zval, walk: &mut Walk<'_>) -> PhpResult<serde_json::Value> {
    use serde_json::Value as J;
    let field = walk.field;
    let z = z.dereference();
    if z.is_null() {
        return Ok(J::Null);
    }
    if let Some(b) = z.bool() {
        return Ok(J::Bool(b));
    }
    if let Some(i) = z.long() {
        return Ok(J::from(i));
    }
    if let Some(f) = z.double() {
        return serde_json::Number::from_f64(f)
            .map(J::Number)
            .ok_or_else(|| invalid(field, format!("{f} cannot be stored as JSON")));
    }
    if let Some(zs) = z.zend_str() {
        return match zs.as_str() {
            Ok(s) => Ok(J::String(s.to_string())),
            Err(_) => Err(invalid(field, "a string is not valid UTF-8 and cannot be stored as JSON")),
        };
    }
    if let Some(ht) = z.array() {
        walk.enter(ht)?;
        let r = hashtable_in(ht, walk);
        walk.open.pop();
        return r;
    }
    if z.is_object() {
        // json_encode has its own depth limit and recursion check; it gets
        // what is left of ours.
        let depth = (MAX_DEPTH - walk.open.len()).max(1) as i64;
        let enc = ZendCallable::try_from_name("json_encode")?.try_call(vec![z, &(0x40 | 0x80 | 0x400000i64), &depth]);
        if ext_php_rs::zend::ExecutorGlobals::has_exception() {
            let _ = ext_php_rs::zend::ExecutorGlobals::take_exception();
            return Err(invalid(field, format!("{} cannot be encoded as JSON", describe(z))));
        }
        let enc = enc?;
        let text = enc.string().ok_or_else(|| invalid(field, format!("{} cannot be encoded as JSON", describe(z))))?;
        return serde_json::from_str(&text).map_err(|e| invalid(field, e));
    }
    Err(invalid(field, format!("{} cannot be stored as JSON", describe(z))))
}

pub fn hashtable_to_json(ht: &ZendHashTable, field: &str) -> PhpResult<serde_json::Value> {
    let mut walk = Walk { field, open: Vec::new() };
    walk.enter(ht)?;
    hashtable_in(ht, &mut walk)
}

fn hashtable_in(ht: &ZendHashTable, walk: &mut Walk<'_>) -> PhpResult<serde_json::Value> {
    use serde_json::Value as J;
    if ht.is_empty() {
        return Ok(J::Array(vec![]));
    }
    let items =
        raw_entries(ht).map_err(|BadKey(k)| invalid(walk.field, format!("array key \"{}\" is not valid UTF-8", short(&k))))?;
    let list = items.iter().enumerate().all(|(i, (k, _))| *k == Key::Index(i as i64));
    if list {
        let mut out = Vec::with_capacity(items.len());
        for (_, v) in items {
            out.push(zval_to_json_in(v, walk)?);
        }
        Ok(J::Array(out))
    } else {
        let mut out = serde_json::Map::with_capacity(items.len());
        for (k, v) in items {
            out.insert(k.as_string(), zval_to_json_in(v, walk)?);
        }
        Ok(J::Object(out))
    }
}

/// Key as a string, whatever PHP made of it.
pub fn key_string(k: &ArrayKey<'_>) -> String {
    match k {
        ArrayKey::Long(n) => n.to_string(),
        ArrayKey::String(s) => s.clone(),
        ArrayKey::Str(s) => s.to_string(),
        ArrayKey::ZendString(s) => s.as_str().unwrap_or_default().to_string(),
    }
}

pub fn new_array() -> ZBox<ZendHashTable> {
    ZendHashTable::new()
}
