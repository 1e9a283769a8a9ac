//! RFC 3339 timestamps, as Stream's API takes `revoke_tokens_issued_before`.

// Every value is bounded by its digits (a year below 10,000, an offset below a day), far from
// overflowing an i64.
#![allow(clippy::arithmetic_side_effects)]

/// The Unix seconds of an RFC 3339 date-time (`2026-12-07T10:00:00Z`, `...T10:00:00.5+01:00`),
/// rounded up to a whole second (a token issued in the same second counts as issued before);
/// `None` for anything else, and for times before 1970.
#[must_use]
pub fn rfc3339_seconds(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |range: core::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0i64, |n, &d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| b.get(i) != Some(&c)) || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // An optional fraction, then Z or an offset.
    let mut rest = b.get(19..)?;
    let mut fraction = false;
    if let [b'.', tail @ ..] = rest {
        let digits = tail.iter().take_while(|d| d.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        fraction = tail.iter().take(digits).any(|&d| d != b'0');
        rest = tail.get(digits..)?;
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| {
                (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from((a - b'0') * 10 + (b - b'0')))
            };
            let (h, m) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    // Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset * 60 + i64::from(fraction);
    u64::try_from(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_become_unix_seconds() {
        for (text, want) in [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2023-11-14T22:13:20Z", Some(1_700_000_000)),
            ("2023-11-14t22:13:20z", Some(1_700_000_000)),
            ("2023-11-14 22:13:20Z", Some(1_700_000_000)),
            ("2023-11-14T23:13:20+01:00", Some(1_700_000_000)),
            ("2023-11-14T21:43:20-00:30", Some(1_700_000_000)),
            ("2023-11-14T22:13:19.250Z", Some(1_700_000_000)),
            ("2023-11-14T22:13:20.000Z", Some(1_700_000_000)),
            ("2024-02-29T00:00:00Z", Some(1_709_164_800)),
            ("2000-03-01T00:00:00Z", Some(951_868_800)),
            ("2100-12-31T23:59:59Z", Some(4_133_980_799)),
            ("2023-02-29T00:00:00Z", None),
            ("1900-02-29T00:00:00Z", None),
            ("2023-13-01T00:00:00Z", None),
            ("2023-04-31T00:00:00Z", None),
            ("2023-01-01T24:00:00Z", None),
            ("2023-01-01T00:60:00Z", None),
            ("2023-01-01T00:00:00", None),
            ("2023-01-01T00:00:00.Z", None),
            ("2023-01-01T00:00:00+1:00", None),
            ("2023-01-01T00:00:00+24:00", None),
            ("2023-01-01X00:00:00Z", None),
            ("2023/01/01T00:00:00Z", None),
            ("1969-12-31T23:59:59Z", None),
            ("1700000000", None),
            ("", None),
            ("२०२३-01-01T00:00:00Z", None),
        ] {
            assert_eq!(rfc3339_seconds(text), want, "{text}");
        }
    }

    /// Every day from 1970 to 2400 (every month length and leap rule) at a few times, against
    /// seconds counted day by day.
    #[test]
    fn every_day_counts_as_a_day_by_day_count_does() {
        let mut days = 0i64;
        for year in 1970..2401 {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            for month in 1..=12 {
                let length = match month {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                for day in 1..=length {
                    let (h, m, s) = ((days * 7) % 24, (days * 13) % 60, (days * 17) % 61);
                    let midnight = days * 86_400;
                    let at = |rest: &str| rfc3339_seconds(&format!("{year:04}-{month:02}-{day:02}{rest}"));
                    let want = u64::try_from(midnight + h * 3_600 + m * 60 + s).unwrap();
                    assert_eq!(at(&format!("T{h:02}:{m:02}:{s:02}Z")), Some(want), "{year}-{month}-{day}");
                    assert_eq!(at(&format!("T{h:02}:{m:02}:{s:02}.01+00:00")), Some(want + 1));
                    assert_eq!(
                        at(&format!("T{h:02}:{m:02}:{s:02}+{:02}:{:02}", h, m)),
                        Some(want - u64::try_from(h * 3_600 + m * 60).unwrap())
                    );
                    assert_eq!(
                        at(&format!("T{h:02}:{m:02}:{s:02}-{:02}:{:02}", m % 24, h)),
                        Some(want + u64::try_from((m % 24) * 3_600 + h * 60).unwrap())
                    );
                    days += 1;
                }
                assert_eq!(rfc3339_seconds(&format!("{year:04}-{month:02}-{:02}T00:00:00Z", length + 1)), None);
                assert_eq!(rfc3339_seconds(&format!("{year:04}-{month:02}-00T00:00:00Z")), None);
            }
            assert_eq!(rfc3339_seconds(&format!("{year:04}-00-01T00:00:00Z")), None);
        }
        for (hour, minute, second, offset) in [
            (24, 0, 0, "Z"),
            (0, 60, 0, "Z"),
            (0, 0, 61, "Z"),
            (0, 0, 0, "+00:60"),
            (0, 0, 0, "-24:00"),
            (0, 0, 0, "+0;:00"),
            (0, 0, 0, "+00:0;"),
        ] {
            assert_eq!(rfc3339_seconds(&format!("2000-01-01T{hour:02}:{minute:02}:{second:02}{offset}")), None);
        }
        assert_eq!(rfc3339_seconds("2000-01-01T23:59:59+23:59"), Some(946_684_859));
        assert_eq!(rfc3339_seconds("2000-01-01T00:00:00.000000001Z"), Some(946_684_801));
    }
}
