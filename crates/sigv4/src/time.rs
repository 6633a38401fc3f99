//! The UTC date formats SigV4, S3 and HTTP use: SigV4's `20150830T123600Z`, S3's
//! ISO 8601 `2015-08-30T12:36:00.000Z` and HTTP's `Sun, 06 Nov 1994 08:49:37 GMT`,
//! converted with the civil-date algorithm rather than a date crate, to keep a
//! Worker's wasm small. Pure functions of a `SystemTime`: the clock itself is the
//! platform's (`edgefs_s3::clock::now`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 for times before it).
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The (year, month, day, hour, minute, second) of a Unix time, in UTC.
pub fn civil(time: SystemTime) -> (i64, u32, u32, u32, u32, u32) {
    let secs = unix_seconds(time) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    (y, m, d, rem / 3600, rem / 60 % 60, rem % 60)
}

/// SigV4's basic ISO 8601 format: `20150830T123600Z`.
pub fn amz_date(time: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(time);
    let mut out = [0u8; 16];
    let y = y.clamp(0, 9999) as u32;
    let digits = [y / 100, y % 100, mo, d, 99, h, mi, s];
    let mut at = 0;
    for (i, n) in digits.iter().enumerate() {
        if i == 4 {
            out[at] = b'T';
            at += 1;
            continue;
        }
        out[at] = b'0' + (n / 10) as u8;
        out[at + 1] = b'0' + (n % 10) as u8;
        at += 2;
    }
    out[15] = b'Z';
    out.iter().map(|&b| char::from(b)).collect()
}

/// Extended ISO 8601 in UTC with milliseconds, as S3 writes it: `2015-08-30T12:36:00.000Z`.
pub fn iso8601(time: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(time);
    let millis = time.duration_since(UNIX_EPOCH).map(|d| d.subsec_millis()).unwrap_or(0);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{millis:03}Z")
}

/// Parses ISO 8601 UTC timestamps in the forms S3 and the SigV4 suite use:
/// `2015-08-30T12:36:00Z`, `2015-08-30T12:36:00.123Z` and `20150830T123600Z`.
pub fn parse_iso8601(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let digits: Vec<u8> = text.bytes().collect();
    let (date, rest) = if digits.get(4) == Some(&b'-') {
        (text.get(0..10)?.replace('-', ""), text.get(10..)?)
    } else {
        (text.get(0..8)?.to_owned(), text.get(8..)?)
    };
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t'))?;
    let rest = rest.trim_end_matches(['Z', 'z']);
    let (clock, fraction) = match rest.split_once('.') {
        Some((clock, fraction)) => (clock.replace(':', ""), fraction),
        None => (rest.replace(':', ""), ""),
    };
    if date.len() != 8 || clock.len() != 6 {
        return None;
    }
    let num = |s: &str| s.parse::<u32>().ok();
    let year: i64 = date[0..4].parse().ok()?;
    let (month, day) = (num(&date[4..6])?, num(&date[6..8])?);
    let (hour, minute, second) = (num(&clock[0..2])?, num(&clock[2..4])?, num(&clock[4..6])?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let millis = if fraction.is_empty() {
        0
    } else {
        let padded: String = fraction.chars().chain("000".chars()).take(3).collect();
        padded.parse::<u64>().ok()?
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    if secs < 0 {
        return None;
    }
    Some(UNIX_EPOCH + Duration::from_secs(secs as u64) + Duration::from_millis(millis))
}

// HTTP dates are written and read here rather than with the `httpdate` crate (the
// tests check that both agree): `httpdate` `expect`s on `SystemTime` arithmetic, which
// links `Duration`'s `Debug` into the Worker, and its parser is 4 KiB of wasm.

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // 1970-01-01 was a Thursday
const LONG_WEEKDAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An HTTP date, RFC 9110's IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`); times
/// before 1970 as 1970.
pub fn http_date(time: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(time);
    let weekday = WEEKDAYS[(unix_seconds(time) / 86_400 % 7) as usize];
    let month = MONTHS[(mo - 1) as usize];
    format!("{weekday}, {d:02} {month} {y:04} {h:02}:{mi:02}:{s:02} GMT")
}

/// Parses an HTTP date in the three formats RFC 9110 §5.6.7 asks recipients to
/// accept: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
/// `None` for anything else, for a weekday that does not fit the date, for a leap
/// second and for dates before 1970 or after 9999. Surrounding spaces are ignored.
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    let fields: Vec<&str> = text.trim().split(' ').collect();
    let (weekday, day, month, year, clock) = match fields[..] {
        [weekday, day, month, year, clock, "GMT"] if weekday.len() == 4 && weekday.ends_with(',') && day.len() == 2 => {
            (&weekday[..3], day, month, year, clock)
        }
        [weekday, date, clock, "GMT"] if weekday.ends_with(',') => {
            let weekday = &weekday[..weekday.len() - 1];
            let position = LONG_WEEKDAYS.iter().position(|&long| long == weekday)?;
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || year.len() != 2 {
                return None;
            }
            let yy = number(year)?;
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            return timestamp(WEEKDAYS[position], day, month, year, clock);
        }
        [weekday, month, "", day, clock, year] if day.len() == 1 => (weekday, day, month, year, clock),
        [weekday, month, day, clock, year] if day.len() == 2 => (weekday, day, month, year, clock),
        _ => return None,
    };
    if year.len() != 4 {
        return None;
    }
    timestamp(weekday, day, month, number(year)?, clock)
}

fn timestamp(weekday: &str, day: &str, month: &str, year: u32, clock: &str) -> Option<SystemTime> {
    let month = MONTHS.iter().position(|&m| m == month)? as u32 + 1;
    let day = number(day).filter(|d| (1..=31).contains(d))?;
    let mut parts = clock.split(':');
    let (hour, minute, second) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || [hour, minute, second].iter().any(|part| part.len() != 2) {
        return None;
    }
    let (hour, minute, second) = (number(hour)?, number(minute)?, number(second)?);
    if !(1970..=9999).contains(&year) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    // A day past the month's end (31 Nov) comes back as another date: refuse it.
    if civil_from_days(days) != (i64::from(year), month, day) || WEEKDAYS[days.rem_euclid(7) as usize] != weekday {
        return None;
    }
    let secs = days as u64 * 86_400 + u64::from(hour * 3600 + minute * 60 + second);
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Digits only (no sign, no spaces), as the date formats have them.
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let t = parse_iso8601("2015-08-30T12:36:00Z").unwrap();
        assert_eq!(amz_date(t), "20150830T123600Z");
        assert_eq!(iso8601(t), "2015-08-30T12:36:00.000Z");
        assert_eq!(parse_iso8601("20150830T123600Z"), Some(t));
        let with_millis = parse_iso8601("2024-02-29T23:59:59.250Z").unwrap();
        assert_eq!(iso8601(with_millis), "2024-02-29T23:59:59.250Z");
        assert_eq!(http_date(t), "Sun, 30 Aug 2015 12:36:00 GMT");
    }

    #[test]
    fn http_dates_agree_with_httpdate() {
        // Every weekday and month, leap days, the epoch and far years.
        for secs in (0..4_102_444_800u64)
            .step_by(86_400 * 37 + 3_601)
            .chain([0, 951_782_400, 253_402_300_799])
        {
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(http_date(time), httpdate::fmt_http_date(time), "{secs}");
        }
    }

    #[test]
    fn http_dates_parse_in_all_three_formats_as_httpdate_parses_them() {
        let imf = "Sun, 06 Nov 1994 08:49:37 GMT";
        let expected = httpdate::parse_http_date(imf).unwrap();
        for text in [imf, "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(parse_http_date(text), Some(expected), "{text}");
        }
        for secs in (0..4_102_444_800u64).step_by(86_400 * 37 + 3_601) {
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            let text = http_date(time);
            assert_eq!(parse_http_date(&text), Some(time), "{text}");
            assert_eq!(parse_http_date(&text), httpdate::parse_http_date(&text).ok(), "{text}");
        }
        for text in [
            "Sun, 06 Nov 2094 08:49:37 GMT",
            "Thursday, 29-Feb-24 23:59:59 GMT",
            "Thu Feb 29 23:59:59 2024",
            "Mon Jan  1 00:00:00 2001",
            "Sat, 01 Jan 2000 00:00:60 GMT",
            " Sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
        ] {
            assert_eq!(parse_http_date(text), httpdate::parse_http_date(text).ok(), "{text}");
        }
    }

    #[test]
    fn http_dates_that_are_not_dates_are_refused_as_httpdate_refuses_them() {
        for text in [
            "",
            "yesterday",
            "Mon, 06 Nov 1994 08:49:37 GMT", // 6 Nov 1994 was a Sunday
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov 06 08:49:37 1994 GMT",
            "Sun Nov 6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(text), None, "{text:?}");
            assert_eq!(httpdate::parse_http_date(text).ok(), None, "httpdate: {text:?}");
        }
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_iso8601("yesterday"), None);
        assert_eq!(parse_iso8601("2015-13-30T12:36:00Z"), None);
        assert_eq!(parse_iso8601(""), None);
    }
}
