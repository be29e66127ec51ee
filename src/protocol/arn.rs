//! Kinesis ARNs, the one parser every layer uses: the model's patterns for request validation,
//! and the parts (region, account, stream, consumer, creation second) the domain resolves.
//!
//! `arn:aws:kinesis:<region>:<account>:stream/<name>` names a stream;
//! `…:stream/<name>/consumer/<consumer>:<creation epoch seconds>` names a consumer (the second
//! keeps an ARN of a deregistered consumer from addressing a later one of the same name).

/// The ARN of a stream.
pub fn stream_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kinesis:{region}:{account}:stream/{name}")
}

/// Region, account and resource of any Kinesis ARN (`arn:aws*:kinesis:<region>:<12 digits>:…`).
pub fn split_kinesis_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (arn_lit, partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if arn_lit != "arn" || !partition.starts_with("aws") || service != "kinesis" {
        return None;
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((region, account, resource))
}

/// Region, account and stream name of a stream ARN, checked against the model pattern
/// `arn:aws.*:kinesis:.*:\d{12}:stream/\S+`.
pub fn parse_stream_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let (region, account, resource) = split_kinesis_arn(arn)?;
    let name = resource.strip_prefix("stream/")?;
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return None;
    }
    Some((region, account, name))
}

/// The parts of a consumer ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerArn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub stream: &'a str,
    pub consumer: &'a str,
    pub created_secs: &'a str,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-'
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_name_byte)
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The parts of a consumer ARN the domain resolves (a stream and consumer name of the model's
/// alphabet, a creation second).
pub fn parse_consumer_arn(arn: &str) -> Option<ConsumerArn<'_>> {
    let (region, account, resource) = split_kinesis_arn(arn)?;
    let rest = resource.strip_prefix("stream/")?;
    let (stream, rest) = rest.split_once("/consumer/")?;
    let (consumer, created_secs) = rest.rsplit_once(':')?;
    if !is_name(stream) || !is_name(consumer) || !is_digits(created_secs) {
        return None;
    }
    Some(ConsumerArn {
        region,
        account,
        stream,
        consumer,
        created_secs,
    })
}

/// Index just past `arn:aws.*:kinesis:.*:\d{12}:` at its earliest match in `s`.
fn arn_head(s: &str) -> Option<usize> {
    if !s.starts_with("arn:aws") {
        return None;
    }
    let b = s.as_bytes();
    let i = s[7..].find(":kinesis:")? + 7;
    (i + 9..b.len()).find_map(|j| {
        let digits = b.get(j + 1..j + 13)?;
        (b[j] == b':' && digits.iter().all(u8::is_ascii_digit) && b.get(j + 13) == Some(&b':'))
            .then_some(j + 14)
    })
}

/// The model's consumer ARN pattern:
/// `^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+`
pub fn matches_consumer_arn_pattern(s: &str) -> bool {
    let Some((head, digits)) = s.rsplit_once(':') else {
        return false;
    };
    let Some((head, consumer)) = head.rsplit_once("/consumer/") else {
        return false;
    };
    let Some((head, stream)) = head.rsplit_once('/') else {
        return false;
    };
    if !is_digits(digits) || !is_name(consumer) || !is_name(stream) {
        return false;
    }
    match head.strip_suffix("stream") {
        Some(prefix) => arn_head(prefix).is_some(),
        None => false,
    }
}

/// The model's resource ARN pattern (TagResource, PutResourcePolicy, …):
/// `arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`
pub fn matches_resource_arn_pattern(s: &str) -> bool {
    let Some(k) = arn_head(s) else {
        return false;
    };
    s[k..].match_indices("stream/").any(|(m, _)| {
        let tail = &s[k + m + 7..];
        !tail.is_empty() && !tail.chars().any(char::is_whitespace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_arns_round_trip() {
        let arn = stream_arn("us-east-1", "000000000000", "s");
        assert_eq!(arn, "arn:aws:kinesis:us-east-1:000000000000:stream/s");
        assert_eq!(
            parse_stream_arn(&arn),
            Some(("us-east-1", "000000000000", "s"))
        );
        assert_eq!(
            parse_stream_arn("arn:aws:kinesis:us-east-1:123:stream/s"),
            None
        );
        assert_eq!(
            parse_stream_arn("arn:aws:sqs:us-east-1:000000000000:stream/s"),
            None
        );
    }

    #[test]
    fn consumer_arns_parse() {
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000";
        assert_eq!(
            parse_consumer_arn(arn),
            Some(ConsumerArn {
                region: "us-east-1",
                account: "000000000000",
                stream: "s",
                consumer: "c",
                created_secs: "1700000000",
            })
        );
        for bad in [
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c",
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:x1",
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/:1",
            "arn:aws:kinesis:us-east-1:000000000000:stream/s!/consumer/c:1",
        ] {
            assert_eq!(parse_consumer_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn arn_patterns() {
        let ok = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000";
        assert!(matches_consumer_arn_pattern(ok));
        assert!(matches_resource_arn_pattern(ok));
        assert!(matches_resource_arn_pattern(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        ));
        assert!(matches_resource_arn_pattern(
            "arn:aws-cn:kinesis::000000000000:stream/s"
        ));
        assert!(!matches_resource_arn_pattern(
            "arn:aws:kinesis:us-east-1:000000000000:stream/"
        ));
        assert!(!matches_resource_arn_pattern(
            "arn:aws:sqs:us-east-1:000000000000:stream/s"
        ));
        assert!(!matches_resource_arn_pattern(
            "arn:aws:kinesis:us-east-1:00000:stream/s"
        ));
        assert!(!matches_consumer_arn_pattern(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c"
        ));
        assert!(!matches_consumer_arn_pattern(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:x1"
        ));
        assert!(!matches_consumer_arn_pattern(
            "arn:aws:kinesis:us-east-1:000000000000:s/consumer/c:1"
        ));
    }
}
