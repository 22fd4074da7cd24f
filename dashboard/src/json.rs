//! Typing a parsed JSON `Value` with a deserializer that reads structs only from objects.
//!
//! serde_json's own `Value` deserializer hands a struct's visitor either an object or an array
//! (serde accepts `[field1, field2]` for a struct), so every protocol type the app reads got a
//! second, array-shaped decoder that no answer of ours ever uses: about a quarter of the
//! deserializers' code. [`Doc`] asks for a struct or a map and answers with the object only;
//! everything else (strings, numbers, options, sequences, what serde buffers for tagged enums)
//! is serde_json's behaviour.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};
use serde_json::{Error, Map, Value};

/// `value` as a `T` (`None` if it does not have `T`'s shape).
pub fn typed<T: DeserializeOwned>(value: Value) -> Option<T> {
    T::deserialize(Doc(value)).ok()
}

/// A `Value` read as serde's data model, structs from objects only.
pub struct Doc(pub Value);

fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> de::Deserializer<'de> for Doc {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(m) => visitor.visit_map(Fields::new(m)),
            Value::Array(a) => visitor.visit_seq(Items(a.into_iter())),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(m) => visitor.visit_map(Fields::new(m)),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(a) => visitor.visit_seq(Items(a.into_iter())),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Doc(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_bool(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_i64(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_u64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_f64(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_string(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        drop(self);
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u32 u128 f32 char str bytes byte_buf unit unit_struct identifier
    }
}

/// An object's fields, each value read as a [`Doc`].
struct Fields {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl Fields {
    fn new(map: Map<String, Value>) -> Self {
        Fields {
            iter: map.into_iter(),
            value: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for Fields {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(Doc(self.value.take().unwrap_or(Value::Null)))
    }
}

/// An array's items, each read as a [`Doc`].
struct Items(std::vec::IntoIter<Value>);

impl<'de> de::SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        self.0.next().map(|v| seed.deserialize(Doc(v))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use concierge_protocol::kb_api::AskEvent;
    use concierge_protocol::{Conversation, Ticket};
    use serde::Deserialize;
    use serde_json::json;

    use super::typed;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Shape {
        name: String,
        count: u32,
        #[serde(default)]
        note: Option<String>,
        tags: Vec<String>,
        by_key: HashMap<String, i64>,
    }

    #[test]
    fn structs_are_read_from_objects_as_serde_json_reads_them() {
        let v =
            json!({"name": "a", "count": 3, "tags": ["x", "y"], "by_key": {"k": -2}, "extra": [1]});
        let want = Shape {
            name: "a".into(),
            count: 3,
            note: None,
            tags: vec!["x".into(), "y".into()],
            by_key: HashMap::from([("k".into(), -2)]),
        };
        assert_eq!(typed::<Shape>(v.clone()), Some(want));
        assert_eq!(
            typed::<Shape>(v.clone()),
            serde_json::from_value::<Shape>(v).ok()
        );
        let with_note = json!({"name": "a", "count": 3, "note": "n", "tags": [], "by_key": {}});
        assert_eq!(
            typed::<Shape>(with_note).unwrap().note.as_deref(),
            Some("n")
        );
    }

    #[test]
    fn structs_are_not_read_from_arrays_nor_from_wrong_types() {
        // serde_json's own Value deserializer accepts a struct written as an array.
        let array = json!(["a", 3, null, [], {}]);
        assert!(serde_json::from_value::<Shape>(array.clone()).is_ok());
        assert_eq!(typed::<Shape>(array), None);
        assert_eq!(
            typed::<Shape>(json!({"name": "a", "count": -1, "tags": [], "by_key": {}})),
            None
        );
        assert_eq!(
            typed::<Shape>(json!({"name": 1, "count": 1, "tags": [], "by_key": {}})),
            None
        );
        assert_eq!(typed::<Shape>(json!("text")), None);
    }

    #[test]
    fn protocol_types_and_tagged_enums_read_as_with_serde_json() {
        let event = json!({"type": "delta", "text": "Hel"});
        assert_eq!(
            typed::<AskEvent>(event.clone()),
            serde_json::from_value::<AskEvent>(event).ok()
        );
        let conversation = json!({
            "id": "c1", "site_key": "s", "visitor_id": "v", "status": "bot",
            "created_at": "2026-12-05T10:00:00Z", "updated_at": "2026-12-05T10:01:00Z",
            "last_seq": 4, "mood": -0.5
        });
        let ours = typed::<Conversation>(conversation.clone());
        assert!(ours.is_some(), "a conversation reads");
        assert_eq!(
            ours,
            serde_json::from_value::<Conversation>(conversation).ok()
        );
        assert_eq!(typed::<Vec<Ticket>>(json!([])), Some(vec![]));
        assert_eq!(typed::<Option<Ticket>>(json!(null)), Some(None));
    }
}
