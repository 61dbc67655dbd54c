//! Identifiers with their invariants: member and fund ids, entry ids, sequence numbers.

use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not of the member/fund id form.
    #[error(
        "{0:?} is not a valid id: 3 to 64 characters of a-z, 0-9 and '-', starting and ending with a letter or digit"
    )]
    BadId(String),
    /// Not 64 lowercase hex characters.
    #[error("{0:?} is not an entry id: 64 lowercase hex characters")]
    BadEntryId(String),
}

/// A visitor parsing text as it is read, without a `String` of its own
/// (a state snapshot holds millions of ids and timestamps); the text says
/// what it expects.
pub(crate) struct Parsed<T>(&'static str, std::marker::PhantomData<T>);

impl<T> Parsed<T> {
    /// Expecting `what`.
    pub(crate) fn new(what: &'static str) -> Self {
        Parsed(what, std::marker::PhantomData)
    }
}

impl<T: FromStr<Err: fmt::Display>> de::Visitor<'_> for Parsed<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        s.parse().map_err(E::custom)
    }
}

fn valid_id(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (3..=64).contains(&b.len()) && ok(b[0]) && ok(b[b.len() - 1]) && b.iter().all(|&c| ok(c) || c == b'-')
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        // Inline up to 24 bytes (most ids): no allocation of its own, in a
        // state that holds one per contribution.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(CompactString);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                if valid_id(s) {
                    Ok($name(CompactString::from(s)))
                } else {
                    Err(IdError::BadId(s.to_string()))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(Parsed::<$name>::new("an id"))
            }
        }
    };
}

id_type!(
    /// A member id: `[a-z0-9][a-z0-9-]{1,62}[a-z0-9]`.
    MemberId
);
id_type!(
    /// A fund id, of the same form as a member id.
    FundId
);

/// Who wrote an entry: a member, or the operator of the log.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Author {
    /// The log's operator (genesis, automatic closes).
    Operator,
    /// A member.
    Member(MemberId),
}

impl Author {
    /// The author as it is written in entries.
    pub fn as_str(&self) -> &str {
        match self {
            Author::Operator => "operator",
            Author::Member(m) => m.as_str(),
        }
    }
    /// The member id, if a member.
    pub fn member(&self) -> Option<&MemberId> {
        match self {
            Author::Operator => None,
            Author::Member(m) => Some(m),
        }
    }
}

impl FromStr for Author {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if s == "operator" {
            Ok(Author::Operator)
        } else {
            s.parse().map(Author::Member)
        }
    }
}

impl fmt::Display for Author {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Author {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Author {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Parsed::<Author>::new("an author: an id or operator"))
    }
}

/// An entry id: lowercase hex SHA-256 of the entry's signing bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(pub [u8; 32]);

impl EntryId {
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex32(&self.0).as_str().to_string()
    }
}

/// 32 bytes as 64 lowercase hex characters, without allocating.
pub struct Hex32([u8; 64]);

impl Hex32 {
    /// The hex text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Lowercase hex of 32 bytes (ids, keys, hashes), on the stack: snapshots and
/// answers write many of them.
pub fn hex32(bytes: &[u8; 32]) -> Hex32 {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 0xf) as usize];
    }
    Hex32(out)
}

impl FromStr for EntryId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        parse_hex32(s).map(EntryId).ok_or_else(|| IdError::BadEntryId(s.to_string()))
    }
}

/// Parse exactly 64 lowercase hex characters.
pub fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    // By hand: a snapshot holds millions of ids, and the general decoder
    // (checked first for lowercase) took ~600 ns an id.
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for EntryId {
    /// Lowercase hex in text formats (JSON); its 32 bytes in binary ones (the state snapshot).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(hex32(&self.0).as_str())
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for EntryId {
    /// Parsed from the text as it is read, without a copy (a state snapshot holds millions).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Hex;
        impl de::Visitor<'_> for Hex {
            type Value = EntryId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an entry id: 64 lowercase hex characters")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<EntryId, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<EntryId, E> {
                <[u8; 32]>::try_from(b).map(EntryId).map_err(|_| E::invalid_length(b.len(), &self))
            }
        }
        if d.is_human_readable() {
            d.deserialize_str(Hex)
        } else {
            d.deserialize_bytes(Hex)
        }
    }
}

/// A record's position in the log, counting from 0 (genesis).
pub type Seq = u64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex32_is_lowercase_hex_and_parses_back() {
        for seed in [0u8, 1, 0x5a, 0xff] {
            let b: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(seed));
            assert_eq!(hex32(&b).as_str(), hex::encode(b));
            assert_eq!(parse_hex32(hex32(&b).as_str()), Some(b));
        }
        let good = "0123456789abcdef".repeat(4);
        assert!(parse_hex32(&good).is_some());
        for bad in [
            good.to_uppercase(),
            good[..62].to_string(),
            format!("{good}00"),
            format!("{}g", &good[..63]),
            format!("é{}", &good[..62]),
            format!("{} ", &good[..63]),
        ] {
            assert_eq!(parse_hex32(&bad), None, "{bad}");
        }
    }

    #[test]
    fn member_ids() {
        for s in ["abc", "energie-coop-noord", "a1b", &"a".repeat(64)] {
            assert!(s.parse::<MemberId>().is_ok(), "{s}");
        }
        for s in ["ab", "-abc", "abc-", "Abc", "a_b", "a b", &"a".repeat(65), "", "élan"] {
            assert!(s.parse::<MemberId>().is_err(), "{s}");
        }
        assert_eq!("operator".parse::<Author>().unwrap(), Author::Operator);
    }

    #[test]
    fn entry_ids() {
        let h = "ab".repeat(32);
        assert_eq!(h.parse::<EntryId>().unwrap().to_hex(), h);
        assert!("AB".repeat(32).parse::<EntryId>().is_err());
        assert!("ab".repeat(31).parse::<EntryId>().is_err());
    }
}
