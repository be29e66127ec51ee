//! Wire representations shared by every operation: blobs and timestamps.
//!
//! One serde model serves both encodings: serde_json is "human readable" (blobs as base64
//! strings, timestamps as epoch seconds with a millisecond fraction) and a CBOR codec is not
//! (blobs as byte strings, timestamps as epoch milliseconds), exactly as AWS splits them.

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Binary data: base64 in JSON, a byte string in CBOR.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&aws_smithy_types::base64::encode(&self.0))
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

/// Decodes base64 the way Coral does: length a multiple of 4 and canonical padding; the
/// messages follow AWS's SerializationException texts.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    // The strict SIMD decoder accepts exactly the inputs the checks below let through, so
    // they only run to name what is wrong: scanning every character first was a quarter
    // of PutRecords' CPU.
    if let Ok(bytes) = aws_smithy_types::base64::decode(text) {
        return Ok(bytes);
    }
    if !text.len().is_multiple_of(4) {
        return Err(format!(
            "'{text}' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            text.len()
        ));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '+' || *c == '/' || *c == '='))
    {
        return Err(format!(
            "'{text}' can not be converted to a Blob: Invalid Base64 character: '{bad}'"
        ));
    }
    aws_smithy_types::base64::decode(text).map_err(|_| {
        format!("'{text}' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")
    })
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BlobVisitor;
        impl<'de> Visitor<'de> for BlobVisitor {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Blob")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Blob, E> {
                decode_base64(v).map(Blob).map_err(E::custom)
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(v))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Blob, E> {
                Err(E::custom(
                    "class java.lang.Boolean can not be converted to a Blob",
                ))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Blob, E> {
                Err(E::custom(
                    "class java.math.BigDecimal can not be converted to a Blob",
                ))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Blob, E> {
                Err(E::custom(
                    "class java.math.BigDecimal can not be converted to a Blob",
                ))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Blob, E> {
                Err(E::custom(
                    "class java.math.BigDecimal can not be converted to a Blob",
                ))
            }
            fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Blob, A::Error> {
                // A tagged CBOR byte string (ciborium surfaces tags as enums): ignore the tag.
                use de::VariantAccess;
                let (_, content) = data.variant::<de::IgnoredAny>()?;
                content.newtype_variant_seed(BlobVisitor)
            }
        }
        impl<'de> de::DeserializeSeed<'de> for BlobVisitor {
            type Value = Blob;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Blob, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(BlobVisitor)
    }
}

/// In CBOR, a floating-point timestamp below this is read as epoch seconds, not milliseconds.
pub const CBOR_FLOAT_SECONDS_BELOW: f64 = 1e11;

/// A point in time with millisecond precision (milliseconds since the Unix epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Epoch seconds with at most three decimals and never an exponent, as AWS writes them.
    pub fn epoch_seconds_text(self) -> String {
        DateTime::from_millis(self.0)
            .fmt(Format::EpochSeconds)
            .unwrap_or_else(|_| (self.0 / 1000).to_string())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            let raw = serde_json::value::RawValue::from_string(self.epoch_seconds_text())
                .map_err(serde::ser::Error::custom)?;
            raw.serialize(s)
        } else {
            // CBOR: tag 1 around integer epoch milliseconds, as the Java SDK's CBOR generator
            // writes a Date (`writeTag(1); writeNumber(date.getTime())`) and as AWS answers.
            // ciborium is the only non-human-readable serializer these types meet.
            ciborium::tag::Required::<i64, 1>(self.0).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TsVisitor {
            seconds: bool,
        }
        impl TsVisitor {
            fn millis_of<E: de::Error>(&self, v: f64) -> Result<Timestamp, E> {
                if !v.is_finite() {
                    return Err(E::custom("Invalid timestamp"));
                }
                // CBOR (`seconds == false`) carries epoch milliseconds, tagged with tag 1 or not
                // (AWS's deviation from RFC 8949). A float below 1e11 (which as milliseconds
                // would be early 1973) is taken to be RFC 8949 epoch seconds instead.
                let ms = if self.seconds || v.abs() < CBOR_FLOAT_SECONDS_BELOW {
                    v * 1000.0
                } else {
                    v
                };
                if ms.abs() > i64::MAX as f64 {
                    return Err(E::custom("Invalid timestamp"));
                }
                Ok(Timestamp(ms.round() as i64))
            }
        }
        impl<'de> de::DeserializeSeed<'de> for TsVisitor {
            type Value = Timestamp;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Timestamp, D::Error> {
                d.deserialize_any(self)
            }
        }
        impl<'de> Visitor<'de> for TsVisitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a timestamp")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(if self.seconds {
                    v.saturating_mul(1000)
                } else {
                    v
                }))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                self.millis_of(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                // Coral accepts a numeric string for a timestamp member.
                v.trim()
                    .parse::<f64>()
                    .map_err(|_| E::custom(format!("'{v}' can not be converted to a Timestamp")))
                    .and_then(|f| self.millis_of(f))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Timestamp, E> {
                Err(E::custom(
                    "class java.lang.Boolean can not be converted to milliseconds since epoch",
                ))
            }
            fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Timestamp, A::Error> {
                // ciborium hands a tagged CBOR item (tag 1, epoch date/time) to `deserialize_any`
                // callers as an enum; the tag number is not needed to read the value.
                use de::VariantAccess;
                let (_, content) = data.variant::<de::IgnoredAny>()?;
                content.newtype_variant_seed(self)
            }
        }
        let seconds = d.is_human_readable();
        d.deserialize_any(TsVisitor { seconds })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_as_plain_epoch_seconds() {
        assert_eq!(
            Timestamp(1459799926480).epoch_seconds_text(),
            "1459799926.48"
        );
        assert_eq!(Timestamp(1459799926000).epoch_seconds_text(), "1459799926");
        assert_eq!(
            Timestamp(1459799926001).epoch_seconds_text(),
            "1459799926.001"
        );
        let json = serde_json::to_string(&Timestamp(1603149588042)).unwrap();
        assert_eq!(json, "1603149588.042");
    }

    #[test]
    fn json_timestamps_parse_from_seconds() {
        let t: Timestamp = serde_json::from_str("1459799926.48").unwrap();
        assert_eq!(t.0, 1459799926480);
        let t: Timestamp = serde_json::from_str("1459799926").unwrap();
        assert_eq!(t.0, 1459799926000);
    }

    #[test]
    fn blobs_are_strict_base64() {
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert!(decode_base64("aGk").unwrap_err().contains("multiple of 4"));
        assert!(decode_base64("aG!=")
            .unwrap_err()
            .contains("Invalid Base64 character: '!'"));
        let b: Blob = serde_json::from_str("\"aGk=\"").unwrap();
        assert_eq!(b.0, b"hi");
    }

    /// The fast path (decode first, diagnose on failure) must accept and reject exactly what
    /// checking the characters first did, or the error texts and accepted inputs drift.
    #[test]
    fn decoding_first_changes_no_verdict() {
        fn checked_first(text: &str) -> bool {
            text.len().is_multiple_of(4)
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=')
                && aws_smithy_types::base64::decode(text).is_ok()
        }
        let alphabet: Vec<char> = "AQgw+/=-_ \n\u{e9}".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let len = (state % 13) as usize;
            let text: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            assert_eq!(
                decode_base64(&text).is_ok(),
                checked_first(&text),
                "{text:?}"
            );
        }
        assert_eq!(
            serde_json::to_string(&Blob(b"hi".to_vec())).unwrap(),
            "\"aGk=\""
        );
    }
}
