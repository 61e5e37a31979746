//! One field of a JSON object, picked out of a secret: a secret manager's secret is often
//! one JSON object holding several values (`{"username": ..., "password": ...}`), and
//! the manifest's `key:` (and `aws_secretsmanager.key`) names the one a secret takes.
//!
//! One reader for every source that picks a key (a file, AWS Secrets Manager), so they
//! agree on what a key means: a string field is used as it is, a number or boolean as
//! its JSON text (`5432`, `true`); an object, array or `null` is an error, and so is a
//! key written twice (JSON parsers disagree on which one wins; sesame does not guess).
//!
//! The document is deserialized without keeping the other fields, and the picked value
//! lives in a zeroizing buffer. serde_json's own error messages can quote the document,
//! so they are never passed on: [`PickError`] only says what kind of problem it was.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use zeroize::Zeroizing;

/// Why a key could not be picked. Each variant's text names neither the document nor
/// a value; callers add the key and the place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickError {
    /// The document is not JSON at all.
    NotJson,
    /// The document is JSON, but not an object.
    NotObject,
    /// The object has no such key.
    NoKey,
    /// The key's value is an object, an array or `null`.
    NotScalar,
    /// The key appears more than once.
    Twice,
}

impl std::fmt::Display for PickError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PickError::NotJson => "not JSON",
            PickError::NotObject => "JSON, but not an object",
            PickError::NoKey => "no such key in the JSON object",
            PickError::NotScalar => "the key's value is not a string, number or boolean",
            PickError::Twice => "the key appears more than once in the JSON object",
        })
    }
}

/// The value of `key` in the JSON object `doc`: a string as it is, a number or boolean
/// as its JSON text.
pub fn pick(doc: &str, key: &str) -> Result<Zeroizing<String>, PickError> {
    let mut de = serde_json::Deserializer::from_str(doc);
    let found = Pick(key)
        .deserialize(&mut de)
        .map_err(|e| match e.classify() {
            // A visitor of ours refused the shape: the document is not an object.
            serde_json::error::Category::Data => PickError::NotObject,
            _ => PickError::NotJson,
        })?;
    // Trailing characters after the object make it something other than JSON.
    de.end().map_err(|_| PickError::NotJson)?;
    match found {
        Field::Absent => Err(PickError::NoKey),
        Field::Value(v) => Ok(v),
        Field::NotScalar => Err(PickError::NotScalar),
        Field::Twice => Err(PickError::Twice),
    }
}

/// What the object said about the key.
enum Field {
    Absent,
    Value(Zeroizing<String>),
    NotScalar,
    Twice,
}

struct Pick<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Field;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Field;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = Field::Absent;
        while let Some(k) = map.next_key::<std::borrow::Cow<str>>()? {
            if k != self.0 {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map.next_value::<Scalar>()?.0;
            found = match (found, value) {
                (Field::Absent, Some(v)) => Field::Value(v),
                (Field::Absent, None) => Field::NotScalar,
                // Dropping an earlier value zeroes it.
                _ => Field::Twice,
            };
        }
        Ok(found)
    }
}

/// A field's value: `Some` for a string, number or boolean; `None` for anything else
/// (skipped without being kept).
struct Scalar(Option<Zeroizing<String>>);

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(Zeroizing::new(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(Some(Zeroizing::new(v))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(Zeroizing::new(v.to_string()))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(Zeroizing::new(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(Zeroizing::new(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(Zeroizing::new(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_numbers_and_booleans_are_picked_everything_else_is_refused() {
        let doc = r#"{"user":"app","password":"p\"w","port":5432,"tls":true,"nested":{"a":1},"list":[1],"n":null}"#;
        let get = |k| pick(doc, k).map(|v| v.to_string());
        assert_eq!(get("password"), Ok("p\"w".into()));
        assert_eq!(get("port"), Ok("5432".into()));
        assert_eq!(get("tls"), Ok("true".into()));
        assert_eq!(get("absent"), Err(PickError::NoKey));
        assert_eq!(get("nested"), Err(PickError::NotScalar));
        assert_eq!(get("list"), Err(PickError::NotScalar));
        assert_eq!(get("n"), Err(PickError::NotScalar));
    }

    #[test]
    fn the_document_must_be_one_json_object() {
        assert_eq!(pick("not json", "k"), Err(PickError::NotJson));
        assert_eq!(pick(r#"{"k":"v""#, "k"), Err(PickError::NotJson));
        assert_eq!(pick(r#"{"k":"v"} trailing"#, "k"), Err(PickError::NotJson));
        assert_eq!(pick("[1,2]", "k"), Err(PickError::NotObject));
        assert_eq!(pick(r#""a string""#, "k"), Err(PickError::NotObject));
        assert_eq!(
            pick("  {\"k\": \"v\"}\n", "k")
                .as_deref()
                .map(|s| s.as_str()),
            Ok("v")
        );
    }

    #[test]
    fn a_key_written_twice_is_refused_not_guessed() {
        assert_eq!(pick(r#"{"k":"a","k":"b"}"#, "k"), Err(PickError::Twice));
        // Another key written twice is not this secret's concern.
        assert_eq!(
            pick(r#"{"o":1,"o":2,"k":"v"}"#, "k").map(|v| v.to_string()),
            Ok("v".into())
        );
    }
}
