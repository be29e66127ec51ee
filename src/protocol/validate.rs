//! Shape validation with the wording of AWS's Coral framework:
//! `1 validation error detected: Value '…' at '…' failed to satisfy constraint: Member must …`,
//! several errors joined by `; ` under `N validation errors detected:` (at most ten reported).

use crate::error::ApiError;

const MAX_REPORTED: usize = 10;

/// A model pattern: the text AWS prints and a hand-written matcher for it.
#[derive(Clone, Copy)]
pub struct Pattern {
    pub text: &'static str,
    pub matches: fn(&str) -> bool,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

pub const NAME: Pattern = Pattern {
    text: "[a-zA-Z0-9_.-]+",
    matches: |s| !s.is_empty() && s.chars().all(is_name_char),
};

pub const STREAM_ARN: Pattern = Pattern {
    text: "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
    matches: |s| super::arn::parse_stream_arn(s).is_some(),
};

pub const CONSUMER_ARN: Pattern = Pattern {
    text: "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+",
    matches: super::arn::matches_consumer_arn_pattern,
};

pub const RESOURCE_ARN: Pattern = Pattern {
    text: "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",
    matches: super::arn::matches_resource_arn_pattern,
};

pub const HASH_KEY: Pattern = Pattern {
    text: "0|([1-9]\\d{0,38})",
    matches: |s| decimal_without_leading_zero(s, 39),
};

pub const SEQUENCE_NUMBER: Pattern = Pattern {
    text: "0|([1-9]\\d{0,128})",
    matches: |s| decimal_without_leading_zero(s, 129),
};

fn decimal_without_leading_zero(s: &str, max_digits: usize) -> bool {
    s == "0"
        || (!s.is_empty()
            && s.len() <= max_digits
            && !s.starts_with('0')
            && s.bytes().all(|b| b.is_ascii_digit()))
}

/// Collects constraint violations for one request.
#[derive(Default)]
pub struct Coral {
    errors: Vec<String>,
}

impl Coral {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, value: Option<&str>, member: &str, constraint: &str) {
        if self.errors.len() >= MAX_REPORTED {
            return;
        }
        let value = match value {
            Some(v) => format!("'{v}' "),
            None => "null ".to_string(),
        };
        self.errors.push(format!(
            "Value {value}at '{member}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    /// Blob members print no value at all in AWS's messages.
    pub fn blob_max(&mut self, member: &str, len: usize, max: usize) {
        if len > max && self.errors.len() < MAX_REPORTED {
            self.errors.push(format!(
                "Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        }
    }

    pub fn required<T>(&mut self, member: &str, v: &Option<T>) {
        if v.is_none() {
            self.push(None, member, "not be null");
        }
    }

    /// Length in characters, as Coral counts a Java string (UTF-16 units).
    pub fn length(&mut self, member: &str, v: Option<&str>, min: usize, max: usize) {
        if let Some(s) = v {
            let len = s.encode_utf16().count();
            if len < min {
                self.push(
                    Some(s),
                    member,
                    &format!("have length greater than or equal to {min}"),
                );
            }
            if len > max {
                self.push(
                    Some(s),
                    member,
                    &format!("have length less than or equal to {max}"),
                );
            }
        }
    }

    pub fn pattern(&mut self, member: &str, v: Option<&str>, p: Pattern) {
        if let Some(s) = v {
            if !(p.matches)(s) {
                self.push(
                    Some(s),
                    member,
                    &format!("satisfy regular expression pattern: {}", p.text),
                );
            }
        }
    }

    /// A string member with length bounds and a pattern (names, ARNs, ids).
    pub fn string(&mut self, member: &str, v: Option<&str>, min: usize, max: usize, p: Pattern) {
        self.length(member, v, min, max);
        self.pattern(member, v, p);
    }

    pub fn range(&mut self, member: &str, v: Option<i64>, min: i64, max: i64) {
        if let Some(n) = v {
            let shown = n.to_string();
            if n < min {
                self.push(
                    Some(&shown),
                    member,
                    &format!("have value greater than or equal to {min}"),
                );
            }
            if n > max {
                self.push(
                    Some(&shown),
                    member,
                    &format!("have value less than or equal to {max}"),
                );
            }
        }
    }

    pub fn one_of(&mut self, member: &str, v: Option<&str>, allowed: &[&str]) {
        if let Some(s) = v {
            if !allowed.contains(&s) {
                self.push(
                    Some(s),
                    member,
                    &format!("satisfy enum value set: [{}]", allowed.join(", ")),
                );
            }
        }
    }

    /// A list whose members must each be one of `allowed`: Coral reports the whole list once,
    /// nesting the member constraint (`Member must satisfy constraint: [Member must …]`).
    pub fn members_one_of(&mut self, member: &str, values: &[String], allowed: &[&str]) {
        if values.iter().any(|v| !allowed.contains(&v.as_str())) {
            self.push(
                Some(&format!("[{}]", values.join(", "))),
                member,
                &format!(
                    "satisfy constraint: [Member must satisfy enum value set: [{}]]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// Number of members of a list or map.
    pub fn count(&mut self, member: &str, shown: &str, n: Option<usize>, min: usize, max: usize) {
        if let Some(n) = n {
            if n < min {
                self.push(
                    Some(shown),
                    member,
                    &format!("have length greater than or equal to {min}"),
                );
            }
            if n > max {
                self.push(
                    Some(shown),
                    member,
                    &format!("have length less than or equal to {max}"),
                );
            }
        }
    }

    /// Number of members of a list of strings, shown as Coral prints such a list.
    pub fn list_count(&mut self, member: &str, list: &[String], min: usize, max: usize) {
        self.count(
            member,
            &format!("[{}]", list.join(", ")),
            Some(list.len()),
            min,
            max,
        );
    }

    pub fn finish(self) -> Result<(), ApiError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(ApiError::Validation(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(ApiError::Validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_many_errors_read_like_coral() {
        let mut c = Coral::new();
        c.string("streamName", Some("a b"), 1, 128, NAME);
        assert_eq!(
            c.finish().unwrap_err().message().unwrap(),
            "1 validation error detected: Value 'a b' at 'streamName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        );
        let mut c = Coral::new();
        c.required::<String>("streamName", &None);
        c.range("shardCount", Some(0), 1, i64::MAX);
        assert_eq!(
            c.finish().unwrap_err().message().unwrap(),
            "2 validation errors detected: Value null at 'streamName' failed to satisfy constraint: \
             Member must not be null; Value '0' at 'shardCount' failed to satisfy constraint: \
             Member must have value greater than or equal to 1"
        );
    }

    #[test]
    fn decimal_patterns() {
        assert!((HASH_KEY.matches)("0"));
        assert!((HASH_KEY.matches)(
            "340282366920938463463374607431768211455"
        ));
        assert!(!(HASH_KEY.matches)("01"));
        assert!(!(HASH_KEY.matches)("-1"));
        assert!(!(HASH_KEY.matches)(
            "3402823669209384634633746074317682114550"
        ));
    }
}
