//! AWS event-stream framing for SubscribeToShard (`application/vnd.amazon.eventstream`):
//! each message is a prelude (total and header lengths, CRC32), string headers, a payload
//! and a CRC32 of the whole. The framing itself comes from `aws-smithy-eventstream`.

use super::Encoding;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};

pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

fn frame(headers: Vec<(&'static str, String)>, payload: Vec<u8>) -> Vec<u8> {
    let headers = headers
        .into_iter()
        .map(|(name, value)| Header::new(name, HeaderValue::String(value.into())))
        .collect();
    let message = Message::new_from_parts(headers, payload);
    let mut out = Vec::new();
    // Writing to a Vec cannot fail; the only errors are oversize headers, which we never make.
    let _ = write_message_to(&message, &mut out);
    out
}

/// The first message of every subscription; clients wait for it before anything else. Its
/// payload is an empty structure in the request's encoding (SDKs parse it with the protocol's
/// unmarshaller).
pub fn initial_response(encoding: Encoding) -> Vec<u8> {
    let (content_type, payload) = match encoding {
        Encoding::Json => ("application/json", b"{}".to_vec()),
        Encoding::Cbor => (encoding.content_type(), vec![0xa0]),
    };
    frame(
        vec![
            (":message-type", "event".into()),
            (":event-type", "initial-response".into()),
            (":content-type", content_type.into()),
        ],
        payload,
    )
}

/// A `SubscribeToShardEvent` whose payload is already encoded in the request's encoding.
pub fn event(encoding: Encoding, payload: Vec<u8>) -> Vec<u8> {
    frame(
        vec![
            (":message-type", "event".into()),
            (":event-type", "SubscribeToShardEvent".into()),
            (":content-type", encoding.content_type().into()),
        ],
        payload,
    )
}

/// An error in the middle of a stream, after which the stream ends.
pub fn exception(encoding: Encoding, exception_type: &str, payload: Vec<u8>) -> Vec<u8> {
    frame(
        vec![
            (":message-type", "exception".into()),
            (":exception-type", exception_type.to_string()),
            (":content-type", encoding.content_type().into()),
        ],
        payload,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc32(bytes: &[u8]) -> u32 {
        // Bitwise CRC-32 (IEEE), independent of the framing crate's implementation.
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// The initial-response frame, byte for byte.
    const INITIAL_RESPONSE_HEX: &str = concat!(
        "00000068",
        "00000056",
        "4e681724",
        "0d3a6d6573736167652d74797065",
        "070005",
        "6576656e74",
        "0b3a6576656e742d74797065",
        "070010",
        "696e697469616c2d726573706f6e7365",
        "0d3a636f6e74656e742d74797065",
        "070010",
        "6170706c69636174696f6e2f6a736f6e",
        "7b7d",
    );

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn initial_response_golden_bytes() {
        let bytes = initial_response(Encoding::Json);
        let expected_prefix = INITIAL_RESPONSE_HEX;
        let got = hex(&bytes);
        assert_eq!(&got[..got.len() - 8], expected_prefix);
        // Prelude: total length, headers length, CRC of those 8 bytes.
        let total = u32::from_be_bytes(bytes[0..4].try_into().unwrap()) as usize;
        assert_eq!(total, bytes.len());
        let prelude_crc = u32::from_be_bytes(bytes[8..12].try_into().unwrap());
        assert_eq!(prelude_crc, crc32(&bytes[..8]));
        let message_crc = u32::from_be_bytes(bytes[total - 4..].try_into().unwrap());
        assert_eq!(message_crc, crc32(&bytes[..total - 4]));
    }

    #[test]
    fn event_and_exception_headers() {
        let e = event(Encoding::Json, br#"{"Records":[]}"#.to_vec());
        let text = String::from_utf8_lossy(&e);
        assert!(text.contains(":event-type"));
        assert!(text.contains("SubscribeToShardEvent"));
        assert!(text.contains("application/x-amz-json-1.1"));
        let x = exception(Encoding::Cbor, "ResourceInUseException", vec![0xa0]);
        let text = String::from_utf8_lossy(&x);
        assert!(text.contains(":exception-type"));
        assert!(text.contains("ResourceInUseException"));
        assert!(text.contains("application/x-amz-cbor-1.1"));
        let total = u32::from_be_bytes(x[0..4].try_into().unwrap()) as usize;
        assert_eq!(total, x.len());
        assert_eq!(
            u32::from_be_bytes(x[total - 4..].try_into().unwrap()),
            crc32(&x[..total - 4])
        );
    }
}
