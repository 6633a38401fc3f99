//! Numbers as text: parsing a form value or a rule literal, and writing a number into
//! a message or a comparison.
//!
//! Why not `str::parse::<f64>` and `{}`: core's float parser carries a 10 KiB table of
//! powers of five and its formatter two more algorithms (Grisu and Dragon), about
//! 14 KiB of the Worker's gzip size together. serde_json, which the API needs anyway,
//! already has a parser and a shortest-round-trip formatter; these functions put the
//! text into the shape serde_json reads and writes.

/// Parses a decimal number as Go's `strconv.ParseFloat` (PocketBase) and Rust's
/// `f64::from_str` accept it in practice: an optional sign, digits with an optional
/// fraction (`5`, `+5`, `.5`, `5.`, `007`), an optional exponent. Surrounding
/// whitespace is the caller's to trim. `None` for anything else and for a number out
/// of `f64`'s range.
pub fn parse(text: &str) -> Option<f64> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    // JSON's grammar: no leading zeros, digits on both sides of the point.
    let whole = whole.trim_start_matches('0');
    let mut json = String::with_capacity(text.len() + 3);
    if negative {
        json.push('-');
    }
    json.push_str(if whole.is_empty() { "0" } else { whole });
    if !fraction.is_empty() {
        json.push('.');
        json.push_str(fraction);
    }
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if digits.is_empty() || !all_digits(digits) {
            return None;
        }
        json.push('e');
        json.push_str(exponent);
    }
    // Through `Value`, whose visitor takes any number: deserializing an `f64` directly
    // would link serde's type-mismatch message, which formats floats with core.
    serde_json::from_str::<serde_json::Value>(&json)
        .ok()?
        .as_f64()
        .filter(|n| n.is_finite())
}

/// Writes a number the way PocketBase shows one: whole numbers without a fraction
/// (`5`, not `5.0`), others in the shortest form that reads back as the same `f64`.
pub fn format(n: f64) -> String {
    // Below 2^53 every whole f64 is exact as an i64.
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return (n as i64).to_string();
    }
    match serde_json::Number::from_f64(n) {
        Some(number) => number.to_string(),
        None if n.is_nan() => "NaN".to_owned(),
        None if n > 0.0 => "+Inf".to_owned(),
        None => "-Inf".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_a_form_or_a_rule_holds() {
        for (text, expected) in [
            ("5", 5.0),
            ("+5", 5.0),
            ("-5", -5.0),
            ("007", 7.0),
            ("-007.50", -7.5),
            (".5", 0.5),
            ("-.5", -0.5),
            ("5.", 5.0),
            ("0", 0.0),
            ("1e3", 1000.0),
            ("1.5E-2", 0.015),
            ("2e+2", 200.0),
            ("0.1", 0.1),
            ("123456789012345678", 123456789012345678.0),
        ] {
            assert_eq!(parse(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for text in [
            "", "-", "+", ".", "-.", "abc", "1.2.3", "1e", "1e+", "e5", "1x", "--1", "+-1", " 1", "1 ", "0x10", "inf",
            "NaN", "1_000", "1e400", "-1e400",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn agrees_with_rusts_parser_on_ordinary_numbers() {
        for text in [
            "3.14159",
            "-273.15",
            "6.02214076e23",
            "1.7976931348623157e308",
            "5e-324",
            "0.30000000000000004",
        ] {
            assert_eq!(parse(text), text.parse::<f64>().ok(), "{text}");
        }
    }

    #[test]
    fn formats_whole_numbers_without_a_fraction() {
        assert_eq!(format(5.0), "5");
        assert_eq!(format(-12.0), "-12");
        assert_eq!(format(0.0), "0");
        assert_eq!(format(-0.0), "0");
        assert_eq!(format(1.5), "1.5");
        assert_eq!(format(0.1), "0.1");
        assert_eq!(format(-2.25), "-2.25");
        assert_eq!(format(f64::NAN), "NaN");
        assert_eq!(format(f64::INFINITY), "+Inf");
        assert_eq!(format(f64::NEG_INFINITY), "-Inf");
        // Past 2^53, the shortest text that reads back as the same number.
        let big = 1e300;
        assert_eq!(format(big).parse::<f64>(), Ok(big));
    }
}
