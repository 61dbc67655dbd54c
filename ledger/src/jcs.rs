//! JSON Canonicalization Scheme (RFC 8785) for the JSON that meent signs.
//!
//! Entries contain no floating-point numbers, so this canonicaliser accepts
//! integers in the IEEE-754 exact range (|n| ≤ 2^53 − 1) and refuses every other
//! number: a value it cannot canonicalise exactly is an error, never a guess.

use serde_json::Value;

/// Largest integer magnitude that RFC 8785 (via IEEE 754 doubles) represents exactly.
pub const SAFE_INTEGER_MAX: u64 = (1u64 << 53) - 1;

/// Why a value cannot be canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JcsError {
    /// A number with a fraction or exponent, or outside the exact integer range.
    #[error(
        "number {0} is not allowed: only integers with magnitude at most 2^53-1 (amounts and fractions are strings)"
    )]
    Number(String),
}

/// The canonical bytes of `v`.
pub fn to_vec(v: &Value) -> Result<Vec<u8>, JcsError> {
    let mut out = Vec::with_capacity(256);
    write_value(v, &mut out)?;
    Ok(out)
}

/// The canonical text of `v`.
pub fn to_string(v: &Value) -> Result<String, JcsError> {
    let bytes = to_vec(v)?;
    Ok(String::from_utf8(bytes).expect("canonical JSON is built from UTF-8 pieces"))
}

/// The canonical bytes of the object `v` without its top-level member `skip`,
/// appended to `out` (no copy of `v` is made). `v` must be an object.
pub fn write_object_without(v: &serde_json::Map<String, Value>, skip: &str, out: &mut Vec<u8>) -> Result<(), JcsError> {
    write_object(v, Some(skip), out)
}

fn write_object(map: &serde_json::Map<String, Value>, skip: Option<&str>, out: &mut Vec<u8>) -> Result<(), JcsError> {
    let mut keys: Vec<&String> = map.keys().filter(|k| Some(k.as_str()) != skip).collect();
    // RFC 8785 §3.2.3: sort by the UTF-16 code units of the names.
    keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    out.push(b'{');
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(k, out);
        out.push(b':');
        write_value(&map[k.as_str()], out)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_value(v: &Value, out: &mut Vec<u8>) -> Result<(), JcsError> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                if u > SAFE_INTEGER_MAX {
                    return Err(JcsError::Number(n.to_string()));
                }
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64() {
                if i.unsigned_abs() > SAFE_INTEGER_MAX {
                    return Err(JcsError::Number(n.to_string()));
                }
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                return Err(JcsError::Number(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, None, out)?,
    }
    Ok(())
}

/// RFC 8785 §3.2.2.2: ECMAScript JSON.stringify string escaping.
fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{09}' => out.extend_from_slice(b"\\t"),
            '\u{0A}' => out.extend_from_slice(b"\\n"),
            '\u{0C}' => out.extend_from_slice(b"\\f"),
            '\u{0D}' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        to_string(&serde_json::from_str(s).unwrap()).unwrap()
    }

    #[test]
    fn rfc8785_sorting_example() {
        // RFC 8785 §3.2.3: property names sorted by UTF-16 code units.
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon(input), expected);
    }

    #[test]
    fn rfc8785_string_escaping_example() {
        // RFC 8785 §3.2.2.2 / Appendix: the string part of the §3.2.2 example (without its floats).
        let input = r#"{"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"#;
        let expected = "{\"literals\":[null,true,false],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        assert_eq!(canon(input), expected);
    }

    #[test]
    fn whitespace_removed_and_nested_sorted() {
        assert_eq!(canon(r#" { "b" : [ 1 , { "z":1, "a" : 2 } ], "a" : "x" } "#), r#"{"a":"x","b":[1,{"a":2,"z":1}]}"#);
    }

    #[test]
    fn floats_refused() {
        for s in ["1.5", "1e3", "1.0", "9007199254740992", "-9007199254740992"] {
            let v: Value = serde_json::from_str(s).unwrap();
            assert!(to_vec(&v).is_err(), "{s}");
        }
        assert_eq!(canon("9007199254740991"), "9007199254740991");
        assert_eq!(canon("-7"), "-7");
    }

    #[test]
    fn control_characters_lowercase_hex() {
        assert_eq!(canon(r#""\u001f\u007f\u2028""#), "\"\\u001f\u{7f}\u{2028}\"");
    }
}

/// Parse JSON text into a value, refusing duplicate object keys anywhere
/// (two readers of the same signed bytes must never see different values).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = StrictValue.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

struct StrictValue;

impl<'de> serde::de::DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for StrictValue {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Value, E> {
        // serde_json reads a number as a float when it has a fraction or an
        // exponent, and also when it is a whole number outside i64/u64.
        Err(E::custom(
            "only whole numbers from -2^63 to 2^64-1, without a fraction or an exponent, are allowed \
             (amounts and fractions are strings, e.g. \"12.50\")",
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictValue)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(serde::de::Error::custom(format!("duplicate field `{k}`")));
            }
            let v = map.next_value_seed(StrictValue)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod strict_tests {
    #[test]
    fn duplicates_refused_at_any_depth() {
        assert!(super::parse_strict(br#"{"a":1,"a":1}"#).is_err());
        assert!(super::parse_strict(br#"{"a":{"b":1,"b":2}}"#).is_err());
        assert!(super::parse_strict(br#"[{"b":1},{"b":2}]"#).is_ok());
        assert!(super::parse_strict(br#"{"a":1} x"#).is_err());
    }

    #[test]
    fn numbers_outside_the_integers_named_for_what_they_are() {
        for text in [&br#"{"a":18446744073709551616}"#[..], br#"{"a":1.5}"#, br#"{"a":1e3}"#] {
            let e = super::parse_strict(text).unwrap_err().to_string();
            assert!(e.contains("2^64-1") && e.contains("fraction"), "{e}");
        }
        assert!(super::parse_strict(br#"{"a":18446744073709551615}"#).is_ok());
    }
}
