//! DynamoDB's number type: a decimal of at most 38 significant digits whose magnitude lies in
//! 1E-130 ..= 9.99…E+125, held exactly (never as a float) and compared numerically.
//!
//! Invariants of [`Number`]: `digits` has no leading or trailing zero (zero is the empty
//! vector, never negative), so two equal values have equal fields and the canonical text is
//! unique: `1.50`, `15E-1` and `+1.5` are all stored and answered as `1.5`.

use std::cmp::Ordering;

/// Most significant digits a number may have.
pub const MAX_DIGITS: usize = 38;
/// Largest and smallest decimal exponent of a number's leading digit.
const MAX_MAGNITUDE: i64 = 125;
const MIN_MAGNITUDE: i64 = -130;

pub const NOT_A_NUMBER: &str = "The parameter cannot be converted to a numeric value";
pub const TOO_PRECISE: &str = "Attempting to store more than 38 significant digits in a Number";
pub const OVERFLOW: &str =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
pub const UNDERFLOW: &str =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    /// Decimal digits, most significant first.
    digits: Vec<u8>,
    /// The value is `digits` (as an integer) times 10^exp.
    exp: i64,
}

impl Number {
    pub fn zero() -> Number {
        Number {
            negative: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    /// A count (`size()`), always in range.
    pub fn from_count(n: usize) -> Number {
        let digits = n.to_string().bytes().map(|b| b - b'0').collect();
        Number::normalized(false, digits, 0)
    }

    /// Reads DynamoDB's text form (`-12.5`, `1e3`, `.5`), checking precision and range.
    /// The error is DynamoDB's message.
    pub fn parse(text: &str) -> Result<Number, String> {
        let bad = || {
            if text.is_empty() {
                NOT_A_NUMBER.to_string()
            } else {
                format!("{NOT_A_NUMBER}: {text}")
            }
        };
        let trimmed = text.trim();
        let (negative, rest) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int_part.is_empty() && frac_part.is_empty())
            || !all_digits(int_part)
            || !all_digits(frac_part)
        {
            return Err(bad());
        }
        let mut exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !all_digits(digits) || digits.len() > 9 {
                    return Err(bad());
                }
                e.parse::<i64>().map_err(|_| bad())?
            }
        };
        exp -= frac_part.len() as i64;
        let digits: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .map(|b| b - b'0')
            .collect();
        let number = Number::normalized(negative, digits, exp);
        number.check_range()?;
        Ok(number)
    }

    fn normalized(negative: bool, mut digits: Vec<u8>, mut exp: i64) -> Number {
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
            exp += 1;
        }
        if digits.is_empty() {
            return Number::zero();
        }
        Number {
            negative,
            digits,
            exp,
        }
    }

    /// DynamoDB's limits: precision first, then magnitude.
    pub fn check_range(&self) -> Result<(), String> {
        if self.digits.is_empty() {
            return Ok(());
        }
        if self.digits.len() > MAX_DIGITS {
            return Err(TOO_PRECISE.into());
        }
        let magnitude = self.magnitude();
        if magnitude > MAX_MAGNITUDE {
            return Err(OVERFLOW.into());
        }
        if magnitude < MIN_MAGNITUDE {
            return Err(UNDERFLOW.into());
        }
        Ok(())
    }

    /// The decimal exponent of the leading digit.
    fn magnitude(&self) -> i64 {
        self.digits.len() as i64 - 1 + self.exp
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn negate(&self) -> Number {
        Number {
            negative: !self.negative && !self.is_zero(),
            ..self.clone()
        }
    }

    /// The exact sum; the caller checks [`Number::check_range`] on what it keeps.
    pub fn add(&self, other: &Number) -> Number {
        if self.is_zero() {
            return other.clone();
        }
        if other.is_zero() {
            return self.clone();
        }
        let exp = self.exp.min(other.exp);
        let a = self.aligned(exp);
        let b = other.aligned(exp);
        if self.negative == other.negative {
            return Number::normalized(self.negative, add_magnitudes(&a, &b), exp);
        }
        match compare_magnitudes(&a, &b) {
            Ordering::Equal => Number::zero(),
            Ordering::Greater => Number::normalized(self.negative, sub_magnitudes(&a, &b), exp),
            Ordering::Less => Number::normalized(other.negative, sub_magnitudes(&b, &a), exp),
        }
    }

    pub fn sub(&self, other: &Number) -> Number {
        self.add(&other.negate())
    }

    /// The digits scaled to exponent `exp` (<= self.exp), as an integer.
    fn aligned(&self, exp: i64) -> Vec<u8> {
        let zeros = (self.exp - exp) as usize;
        let mut v = self.digits.clone();
        v.resize(v.len() + zeros, 0);
        v
    }
}

/// Most significant digit first, no leading zeros on either side.
fn compare_magnitudes(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn add_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut sum = carry;
        if i > 0 {
            i -= 1;
            sum += a[i];
        }
        if j > 0 {
            j -= 1;
            sum += b[j];
        }
        out.push(sum % 10);
        carry = sum / 10;
    }
    out.reverse();
    out
}

/// `a - b` for `a >= b`.
fn sub_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut j, mut borrow) = (b.len(), 0i8);
    for i in (0..a.len()).rev() {
        let mut d = a[i] as i8 - borrow;
        if j > 0 {
            j -= 1;
            d -= b[j] as i8;
        }
        borrow = if d < 0 { 1 } else { 0 };
        out.push((d + borrow * 10) as u8);
    }
    out.reverse();
    out
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => {
                return if other.negative {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, true) => {
                return if self.negative {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            _ => {}
        }
        if self.negative != other.negative {
            return if self.negative {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let by_magnitude = self.magnitude().cmp(&other.magnitude()).then_with(|| {
            // Same leading exponent: compare digit by digit, a missing digit being 0.
            let len = self.digits.len().max(other.digits.len());
            (0..len)
                .map(|i| {
                    let a = self.digits.get(i).copied().unwrap_or(0);
                    let b = other.digits.get(i).copied().unwrap_or(0);
                    a.cmp(&b)
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        if self.negative {
            by_magnitude.reverse()
        } else {
            by_magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The canonical text: plain decimal notation, no exponent, no superfluous zeros.
impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut text = String::with_capacity(self.digits.len() + 4);
        if self.negative {
            text.push('-');
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        if self.exp >= 0 {
            text.push_str(&digits);
            text.extend(std::iter::repeat_n('0', self.exp as usize));
        } else {
            let point = digits.len() as i64 + self.exp;
            if point > 0 {
                text.push_str(&digits[..point as usize]);
                text.push('.');
                text.push_str(&digits[point as usize..]);
            } else {
                text.push_str("0.");
                text.extend(std::iter::repeat_n('0', (-point) as usize));
                text.push_str(&digits);
            }
        }
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn text_is_canonical() {
        for (input, canonical) in [
            ("0", "0"),
            ("-0", "0"),
            ("0.000", "0"),
            ("1.50", "1.5"),
            ("+15E-1", "1.5"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e3", "1000"),
            ("-0.00120", "-0.0012"),
            ("007", "7"),
            ("0.007085", "0.007085"),
            (
                "17014118346046923173168730371588410572",
                "17014118346046923173168730371588410572",
            ),
        ] {
            assert_eq!(n(input).to_string(), canonical, "{input}");
        }
    }

    #[test]
    fn limits_have_dynamodbs_messages() {
        assert_eq!(Number::parse("").unwrap_err(), NOT_A_NUMBER);
        assert_eq!(
            Number::parse("b").unwrap_err(),
            format!("{NOT_A_NUMBER}: b")
        );
        for bad in [
            "1e", "--1", "1.2.3", "e5", ".", "1e+", "0x10", "NaN", "Infinity",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Number::parse("123456789012345678901234567890123456789").unwrap_err(),
            TOO_PRECISE
        );
        assert!(Number::parse("12345678901234567890123456789012345678").is_ok());
        assert!(Number::parse("1234567890123456789012345678901234567800000").is_ok());
        assert_eq!(Number::parse("1e126").unwrap_err(), OVERFLOW);
        assert_eq!(Number::parse("-1e126").unwrap_err(), OVERFLOW);
        assert!(Number::parse("9.9999999999999999999999999999999999999e125").is_ok());
        assert_eq!(Number::parse("1e-131").unwrap_err(), UNDERFLOW);
        assert!(Number::parse("1e-130").is_ok());
        assert!(Number::parse("0e999").is_ok());
    }

    #[test]
    fn comparison_is_numeric() {
        let ordered = [
            "-1e125", "-10", "-9.5", "-1", "-0.001", "0", "1e-130", "0.001", "0.5", "1", "1.5",
            "9", "10", "100.25", "1e125",
        ];
        for (i, a) in ordered.iter().enumerate() {
            for (j, b) in ordered.iter().enumerate() {
                assert_eq!(n(a).cmp(&n(b)), i.cmp(&j), "{a} vs {b}");
            }
        }
        assert_eq!(n("1.0"), n("1"));
    }

    #[test]
    fn arithmetic_is_exact() {
        for (a, b, sum, diff) in [
            ("1", "2", "3", "-1"),
            ("0.1", "0.2", "0.3", "-0.1"),
            ("-5", "3", "-2", "-8"),
            ("1e20", "1", "100000000000000000001", "99999999999999999999"),
            (
                "99999999999999999999999999999999999999",
                "1",
                "100000000000000000000000000000000000000",
                "99999999999999999999999999999999999998",
            ),
            ("1.5", "-1.5", "0", "3"),
        ] {
            assert_eq!(n(a).add(&n(b)).to_string(), sum, "{a} + {b}");
            assert_eq!(n(a).sub(&n(b)).to_string(), diff, "{a} - {b}");
        }
        let too_precise = n("1e30").add(&n("1e-10"));
        assert_eq!(too_precise.check_range().unwrap_err(), TOO_PRECISE);
    }
}
