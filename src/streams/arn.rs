//! Stream ARNs: `arn:aws:kinesis:<region>:<account>:stream/<name>`.

pub fn stream_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kinesis:{region}:{account}:stream/{name}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
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
}
