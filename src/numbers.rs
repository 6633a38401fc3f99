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
///
/// Precision: a number of up to 15 significant digits (all an `f64` holds for certain)
/// between 10^-7 and 10^22 is always correctly rounded, and most others are; past
/// that, a result can be one unit in the last place off, as serde_json's own parsing of
/// the API's JSON bodies can. (serde_json's `float_roundtrip` feature would make both
/// exact for 10 KiB more of the Worker's gzip.)
pub fn parse(text: &str) -> Option<f64> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => ("-", &text[1..]),
        b'+' => ("", &text[1..]),
        _ => ("", text),
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
    let mut power: i64 = match exponent {
        None => 0,
        Some(exponent) => {
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !all_digits(digits) {
                return None;
            }
            // Past 10^±999 every non-zero mantissa of a sane length is out of range
            // (or zero): clamp instead of overflowing.
            let digits = digits.trim_start_matches('0');
            let value: i64 = if digits.len() > 4 {
                9_999
            } else {
                digits.parse().unwrap_or(0)
            };
            if exponent.starts_with('-') {
                -value
            } else {
                value
            }
        }
    };
    // The significant digits alone, the point moved into the exponent: `0.0125` is
    // `125e-4`, `20217830042300000000` is `202178300423e8`. serde_json then multiplies
    // a short integer by an exact power of ten, which is correctly rounded.
    power -= fraction.len() as i64;
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    power += (digits.len() - significant.len()) as i64;
    let json = if significant.is_empty() {
        format!("{sign}0")
    } else {
        format!("{sign}{significant}e{power}")
    };
    // Through `Value`, whose visitor takes any number: deserializing an `f64` directly
    // would link serde's type-mismatch message, which formats floats with core.
    serde_json::from_str::<serde_json::Value>(&json)
        .ok()?
        .as_f64()
        .filter(|n| n.is_finite())
}

/// Writes a number the way PocketBase shows one (Go's `FormatFloat(n, 'f', -1, 64)`)
/// and as Rust's `{}` does: whole numbers without a fraction (`5`, not `5.0`), others
/// with the fewest digits that read back as the same `f64`, never with an exponent
/// (`0.0000001`, not `1e-7`), so the text is also a number literal of the rules.
pub fn format(n: f64) -> String {
    // Below 2^53 every whole f64 is exact as an i64.
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return (n as i64).to_string();
    }
    match serde_json::Number::from_f64(n) {
        Some(number) => without_exponent(&number.to_string()),
        None if n.is_nan() => "NaN".to_owned(),
        None if n > 0.0 => "+Inf".to_owned(),
        None => "-Inf".to_owned(),
    }
}

/// `1.5e-7` → `0.00000015`, `1e20` → `100000000000000000000`, `16.0` → `16`.
fn without_exponent(text: &str) -> String {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = format!("{whole}{fraction}");
    let digits = all_digits.trim_start_matches('0');
    // Where the decimal point falls in `digits` (leading zeros dropped).
    let point = whole.len() as i32 + exponent - (all_digits.len() - digits.len()) as i32;
    let plain = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    let plain = if plain.contains('.') {
        plain.trim_end_matches('0').trim_end_matches('.')
    } else {
        &plain
    };
    format!("{sign}{plain}")
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
            ("1e-99999999999999999999", 0.0),
            ("0e99999999999999999999", 0.0),
            ("-0", -0.0),
        ] {
            assert_eq!(parse(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for text in [
            "",
            "-",
            "+",
            ".",
            "-.",
            "abc",
            "1.2.3",
            "1e",
            "1e+",
            "e5",
            "1x",
            "--1",
            "+-1",
            " 1",
            "1 ",
            "0x10",
            "inf",
            "NaN",
            "1_000",
            "1e400",
            "-1e400",
            "1e99999999999999999999",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn is_exact_up_to_fifteen_significant_digits() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..50_000 {
            let digits = (next() % 15 + 1) as usize;
            let significand: String = (0..digits).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
            let zeros = "0".repeat((next() % 8) as usize);
            let mut pointed = significand.clone();
            pointed.insert((next() % (digits as u64 + 1)) as usize, '.');
            let sign = if next() % 2 == 0 { "-" } else { "" };
            for text in [
                format!("{sign}{pointed}"),
                format!("{sign}{significand}{zeros}"),
                format!("{sign}0.{zeros}{significand}"),
                format!("{sign}{pointed}e{}", (next() % 15) as i32 - 7),
            ] {
                assert_eq!(parse(&text), text.parse::<f64>().ok(), "{text}");
            }
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
        // Past 2^53 and below 1, the shortest text that reads back as the same
        // number, written out in full as Rust's `{}` writes it.
        for n in [
            1e300,
            -1e20,
            1.5e-7,
            2.5e-300,
            123456789.125,
            1e16 + 2.0,
            0.000123,
            -4.2e21,
            9007199254740993.0,
        ] {
            assert_eq!(format(n), std::format!("{n}"), "{n:e}");
            assert_eq!(parse(&format(n)), Some(n), "{n:e}");
        }
    }
}
