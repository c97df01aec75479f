//! Parameter and return types that the arginfo declares (what Reflection,
//! and tools that read it, show) while the value still arrives as the raw
//! zval. The engine converts arguments itself, with messages that name the
//! argument (`Invalid identifier: expected a string, got array`); a Rust
//! `String` parameter would let ext-php-rs refuse the value first with a
//! generic TypeError, and turn `create(1, …)`'s loose int into an error.
//! A release PHP does not check an internal function's arguments against
//! its arginfo, so declaring the type changes nothing a caller sees but
//! the signature.
//!
//! Return types are different: opcache's optimizer trusts an internal
//! function's declared return type, so `ArrayOut` is only built from a
//! value that is an array.

use crate::php::exceptions::{throw, Kind};
use ext_php_rs::convert::{FromZval, IntoZval};
use ext_php_rs::flags::DataType;
use ext_php_rs::prelude::PhpResult;
use ext_php_rs::types::Zval;

macro_rules! declared {
    ($(#[$doc:meta])* $name:ident => $ty:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name<'a>(pub &'a Zval);

        impl<'a> FromZval<'a> for $name<'a> {
            const TYPE: DataType = $ty;

            fn from_zval(zval: &'a Zval) -> Option<Self> {
                Some(Self(zval))
            }
        }
    };
}

declared!(
    /// Declared `string`.
    Text => DataType::String
);
declared!(
    /// Declared `int`.
    Int => DataType::Long
);
declared!(
    /// Declared `array`.
    Array => DataType::Array
);

/// The zval of an optional declared parameter, as `Option<&Zval>`.
pub fn opt<'a, T: Into<&'a Zval>>(v: Option<T>) -> Option<&'a Zval> {
    v.map(Into::into)
}

impl<'a> From<Text<'a>> for &'a Zval {
    fn from(v: Text<'a>) -> Self {
        v.0
    }
}

impl<'a> From<Int<'a>> for &'a Zval {
    fn from(v: Int<'a>) -> Self {
        v.0
    }
}

impl<'a> From<Array<'a>> for &'a Zval {
    fn from(v: Array<'a>) -> Self {
        v.0
    }
}

/// A return value declared `array`.
pub struct ArrayOut(Zval);

impl ArrayOut {
    pub fn new(z: Zval) -> PhpResult<Self> {
        if z.is_array() {
            Ok(Self(z))
        } else {
            Err(throw(Kind::Internal, "stask internal error: a method declared to return an array built something else"))
        }
    }
}

impl IntoZval for ArrayOut {
    const TYPE: DataType = DataType::Array;
    const NULLABLE: bool = false;

    fn set_zval(self, zv: &mut Zval, _: bool) -> ext_php_rs::error::Result<()> {
        *zv = self.0;
        Ok(())
    }
}
