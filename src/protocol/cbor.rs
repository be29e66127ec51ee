//! `application/x-amz-cbor-1.1`: the encoding the Java SDK (and so KCL/KPL) sends by default.
//!
//! The serde model is shared with JSON; ciborium is not "human readable", so the wire types in
//! [`super::types`] switch to CBOR's representations by themselves: blobs are byte strings and
//! timestamps are epoch **milliseconds**.
//!
//! Decisions on points AWS does not document:
//! - Timestamps in requests: an integer is epoch milliseconds whether or not it is wrapped in
//!   tag 1 (the Java SDK writes `tag(1) + toEpochMilli()`, not RFC 8949's seconds). A float is
//!   milliseconds too, unless it is below 1e11, in which case it is RFC 8949 epoch seconds.
//!   Any other tag is ignored the same way.
//! - Timestamps in responses: tag 1 followed by the integer epoch milliseconds, what the Java
//!   SDK's CBOR generator writes and its parser reads (and what AWS sends, per LocalStack's
//!   AWS-validated CBOR snapshots) — not RFC 8949's seconds, so a generic CBOR decoder that
//!   interprets tag 1 reads a date ~1000 times too far out. The AWS SDK for Rust never sees
//!   these: its Kinesis client speaks JSON only (its CBOR decoder, for the rpcv2Cbor protocol,
//!   wants tag 1 around a float of seconds and would refuse an integer).
//! - Responses use definite-length maps and arrays (AWS reportedly writes indefinite-length
//!   ones; CBOR decoders accept both). Requests may use either.
//! - A request body must be exactly one CBOR map; anything else (another type first, trailing
//!   bytes, truncation, malformed items) is a SerializationException.

use crate::error::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Decodes one request body (shape validation is the caller's business).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Major type 5 (map): 0xa0..=0xbb definite, 0xbf indefinite.
    match body.first() {
        Some(b) if (0xa0..=0xbb).contains(b) || *b == 0xbf => {}
        _ => return Err(ApiError::Serialization(None)),
    }
    let mut rest = body;
    let value: T = ciborium::de::from_reader(&mut rest).map_err(cbor_error)?;
    if !rest.is_empty() {
        return Err(ApiError::Serialization(None));
    }
    Ok(value)
}

fn cbor_error(e: ciborium::de::Error<std::io::Error>) -> ApiError {
    match e {
        ciborium::de::Error::Semantic(_, text) => super::serde_error(&text),
        ciborium::de::Error::Io(_)
        | ciborium::de::Error::Syntax(_)
        | ciborium::de::Error::RecursionLimitExceeded => ApiError::Serialization(None),
    }
}

/// Encodes a successful answer; an output without members is an empty body, as in JSON.
pub fn encode<T: Serialize>(output: &T) -> Vec<u8> {
    let mut body = Vec::new();
    if ciborium::ser::into_writer(output, &mut body).is_err() {
        body.clear();
    }
    // 0xa0 is the empty map.
    if body == [0xa0] {
        body.clear();
    }
    body
}

/// The error body: a map of `__type` and (unless AWS omits it) `message`, both text strings.
pub fn render_error(type_name: &str, message: Option<&str>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        __type: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
    }
    let mut body = Vec::new();
    let _ = ciborium::ser::into_writer(
        &Body {
            __type: type_name,
            message,
        },
        &mut body,
    );
    body
}

#[cfg(test)]
mod tests {
    use super::super::model::{
        DescribeLimitsInput, GetRecordsOutput, GetShardIteratorInput, PutRecordInput,
        PutRecordsInput, Record,
    };
    use super::super::types::{Blob, Timestamp};
    use super::super::{
        decode as decode_op, encode as encode_op, render_error as render, Encoding,
    };
    use super::*;

    /// Golden bytes are written as hex with spaces between items for reading.
    fn hex(text: &str) -> Vec<u8> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
            .collect()
    }

    const TS_MS: i64 = 1_459_799_926_480;

    #[test]
    fn put_record_request_decodes_with_data_as_byte_string() {
        // {"StreamName": "s", "Data": h'6869', "PartitionKey": "k"}
        let body = hex("a3
            6a 53747265616d4e616d65 61 73
            64 44617461 42 6869
            6c 506172746974696f6e4b6579 61 6b");
        let input: PutRecordInput = decode_op(Encoding::Cbor, &body).unwrap();
        assert_eq!(input.stream_name.as_deref(), Some("s"));
        assert_eq!(input.data, Some(Blob(b"hi".to_vec())));
        assert_eq!(input.partition_key.as_deref(), Some("k"));
        assert_eq!(input.explicit_hash_key, None);
        // A tag on the byte string (here 24, "embedded CBOR") is ignored.
        let tagged: PutRecordInput = decode(&hex("a1 64 44617461 d8 18 42 6869")).unwrap();
        assert_eq!(tagged.data, Some(Blob(b"hi".to_vec())));
    }

    #[test]
    fn indefinite_length_maps_and_arrays_are_accepted() {
        // Jackson's CBOR generator (Java SDK) writes indefinite-length containers:
        // {_ "StreamName": "s", "Records": [_ {_ "Data": h'', "PartitionKey": "k"}]}
        let body = hex("bf
            6a 53747265616d4e616d65 61 73
            67 5265636f726473 9f
                bf 64 44617461 40 6c 506172746974696f6e4b6579 61 6b ff
            ff
            ff");
        let input: PutRecordsInput = decode_op(Encoding::Cbor, &body).unwrap();
        let records = input.records.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].data, Some(Blob(Vec::new())));
        assert_eq!(records[0].partition_key.as_deref(), Some("k"));
        // An empty input map, as the SDK sends for DescribeLimits.
        let _: DescribeLimitsInput = decode_op(Encoding::Cbor, &hex("a0")).unwrap();
        let _: DescribeLimitsInput = decode_op(Encoding::Cbor, &hex("bf ff")).unwrap();
    }

    #[test]
    fn get_records_response_encodes_ms_timestamps_and_byte_strings() {
        let output = GetRecordsOutput {
            records: vec![Record {
                sequence_number: "1".into(),
                approximate_arrival_timestamp: Timestamp(TS_MS),
                data: Blob(b"hi".to_vec()),
                partition_key: "k".into(),
                encryption_type: None,
            }],
            next_shard_iterator: Some("AAAA".into()),
            millis_behind_latest: 0,
            child_shards: None,
        };
        let expected = hex("a3
            67 5265636f726473 81 a4
                6e 53657175656e63654e756d626572 61 31
                78 1b 417070726f78696d6174654172726976616c54696d657374616d70
                    c1 1b 00000153e2db26d0
                64 44617461 42 6869
                6c 506172746974696f6e4b6579 61 6b
            71 4e65787453686172644974657261746f72 64 41414141
            72 4d696c6c6973426568696e644c6174657374 00");
        assert_eq!(encode_op(Encoding::Cbor, &output), expected);
    }

    fn get_shard_iterator_with(timestamp_hex: &str) -> Result<GetShardIteratorInput, ApiError> {
        // {"StreamName": "s", "ShardId": "shardId-000000000000",
        //  "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": <timestamp_hex>}
        let body = hex(&format!(
            "a4
            6a 53747265616d4e616d65 61 73
            67 53686172644964 74 736861726449642d303030303030303030303030
            71 53686172644974657261746f7254797065 6c 41545f54494d455354414d50
            69 54696d657374616d70 {timestamp_hex}"
        ));
        decode_op(Encoding::Cbor, &body)
    }

    #[test]
    fn at_timestamp_accepts_integer_ms_tagged_or_not_and_floats() {
        // (a) untagged integer milliseconds
        let input = get_shard_iterator_with("1b 00000153e2db26d0").unwrap();
        assert_eq!(input.shard_id.as_deref(), Some("shardId-000000000000"));
        assert_eq!(input.shard_iterator_type.as_deref(), Some("AT_TIMESTAMP"));
        assert_eq!(input.timestamp, Some(Timestamp(TS_MS)));
        // (b) tag 1 around integer milliseconds, as the Java SDK writes it (not RFC 8949 seconds)
        let input = get_shard_iterator_with("c1 1b 00000153e2db26d0").unwrap();
        assert_eq!(input.timestamp, Some(Timestamp(TS_MS)));
        // (c) a float below 1e11 is epoch seconds: 1459799926.48
        let input = get_shard_iterator_with("fb 41d5c0b1dd9eb852").unwrap();
        assert_eq!(input.timestamp, Some(Timestamp(TS_MS)));
        // ... also inside tag 1
        let input = get_shard_iterator_with("c1 fb 41d5c0b1dd9eb852").unwrap();
        assert_eq!(input.timestamp, Some(Timestamp(TS_MS)));
        // ... and a float at or above 1e11 is milliseconds: 1459799926480.0
        let input = get_shard_iterator_with("c1 fb 42753e2db26d0000").unwrap();
        assert_eq!(input.timestamp, Some(Timestamp(TS_MS)));
        // A text string or a boolean is not a timestamp.
        assert_eq!(
            get_shard_iterator_with("f5").unwrap_err().type_name(),
            "SerializationException"
        );
    }

    #[test]
    fn error_bodies_are_maps_of_type_and_message() {
        let body = render(
            Encoding::Cbor,
            &ApiError::ResourceNotFound("Stream s under account 000000000000 not found.".into()),
        );
        let expected = hex("a2
            66 5f5f74797065
                78 19 5265736f757263654e6f74466f756e64457863657074696f6e
            67 6d657373616765
                78 2e 53747265616d207320756e646572206163636f756e7420303030303030303030303030206e6f7420666f756e642e");
        assert_eq!(body, expected);
        // No message where AWS sends none: {"__type": "SerializationException"}
        let body = render(Encoding::Cbor, &ApiError::Serialization(None));
        assert_eq!(
            body,
            hex("a1 66 5f5f74797065 76 53657269616c697a6174696f6e457863657074696f6e")
        );
    }

    #[test]
    fn empty_outputs_are_empty_bodies() {
        assert!(encode_op(Encoding::Cbor, &super::super::model::Empty {}).is_empty());
    }

    #[test]
    fn malformed_bodies_are_serialization_exceptions_without_panics() {
        let good = hex("a3
            6a 53747265616d4e616d65 61 73
            64 44617461 42 6869
            6c 506172746974696f6e4b6579 61 6b");
        // Every truncation, trailing garbage, a non-map top level, a wrong member type.
        for end in 0..good.len() {
            let e = decode_op::<PutRecordInput>(Encoding::Cbor, &good[..end]).unwrap_err();
            assert_eq!(e.type_name(), "SerializationException", "prefix {end}");
        }
        let mut trailing = good.clone();
        trailing.push(0x00);
        assert!(decode_op::<PutRecordInput>(Encoding::Cbor, &trailing).is_err());
        assert!(decode_op::<PutRecordInput>(Encoding::Cbor, &hex("81 a0")).is_err());
        assert!(decode_op::<PutRecordInput>(Encoding::Cbor, &hex("ff")).is_err());
        // {"StreamName": 5}
        let e = decode_op::<PutRecordInput>(Encoding::Cbor, &hex("a1 6a 53747265616d4e616d65 05"))
            .unwrap_err();
        assert_eq!(
            e.message(),
            Some("class java.math.BigDecimal can not be converted to an String")
        );
        // {"Data": true}
        let e = decode_op::<PutRecordInput>(Encoding::Cbor, &hex("a1 64 44617461 f5")).unwrap_err();
        assert_eq!(
            e.message(),
            Some("class java.lang.Boolean can not be converted to a Blob")
        );
        // Deep nesting stops at the recursion limit instead of overflowing the stack.
        let mut deep = hex("a1 6a 53747265616d4e616d65");
        deep.extend(std::iter::repeat_n(0x81, 100_000));
        assert!(decode_op::<PutRecordInput>(Encoding::Cbor, &deep).is_err());
        // Pseudo-random bytes behind a map header never panic.
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let mut body = vec![0xa2];
            for _ in 0..24 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                body.push((x >> 16) as u8);
            }
            let _ = decode_op::<PutRecordsInput>(Encoding::Cbor, &body);
            let _ = decode_op::<GetShardIteratorInput>(Encoding::Cbor, &body);
        }
    }

    #[test]
    fn validation_runs_on_cbor_input_too() {
        // {"StreamName": "s", "PartitionKey": "k"} lacks Data.
        let body = hex("a2 6a 53747265616d4e616d65 61 73 6c 506172746974696f6e4b6579 61 6b");
        let e = decode_op::<PutRecordInput>(Encoding::Cbor, &body).unwrap_err();
        assert_eq!(e.type_name(), "ValidationException");
        let _ = decode::<serde::de::IgnoredAny>(&body).unwrap();
    }
}
