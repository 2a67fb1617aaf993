//! Helpers for `google.protobuf.Struct` profiles.

use prost_types::value::Kind;
use prost_types::{Struct, Value};

/// A string `Value`.
pub fn string_value(value: impl Into<String>) -> Value {
    Value {
        kind: Some(Kind::StringValue(value.into())),
    }
}

/// A boolean `Value`.
pub fn bool_value(value: bool) -> Value {
    Value {
        kind: Some(Kind::BoolValue(value)),
    }
}

/// A number `Value`.
pub fn number_value(value: f64) -> Value {
    Value {
        kind: Some(Kind::NumberValue(value)),
    }
}

/// A profile holding the given string pairs (a later duplicate key wins).
pub fn from_pairs<I, K, V>(pairs: I) -> Struct
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let mut profile = Struct::default();
    for (k, v) in pairs {
        insert_str(&mut profile, k, v);
    }
    profile
}

/// Sets `key` to the string `value`.
pub fn insert_str(profile: &mut Struct, key: impl Into<String>, value: impl Into<String>) {
    profile.fields.insert(key.into(), string_value(value));
}

/// Sets `key` to `value`.
pub fn insert(profile: &mut Struct, key: impl Into<String>, value: Value) {
    profile.fields.insert(key.into(), value);
}

/// The string at `key`, if there is one.
pub fn get_str<'a>(profile: &'a Struct, key: &str) -> Option<&'a str> {
    match profile.fields.get(key)?.kind.as_ref()? {
        Kind::StringValue(s) => Some(s),
        _ => None,
    }
}
