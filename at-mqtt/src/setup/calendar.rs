//! Wall-clock time for `AT+CIPSNTPTIME?`: ESP-AT's timezone parameter and the
//! `asctime`-style text (`Thu Jan 01 00:00:00 1970`).

use core::fmt;

use at_core::LineBuf;

/// A timezone of `AT+CIPSNTPCFG`: whole hours `-12..=14`, or an offset written `[+|-]hhmm`
/// with three or four digits (`530` is UTC+05:30, `-1100` UTC-11:00), between UTC-12:00
/// and UTC+14:00.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timezone {
    /// The value as the host wrote it (shown back by `AT+CIPSNTPCFG?`).
    written: i16,
    /// The offset from UTC in minutes.
    minutes: i16,
}

impl Timezone {
    /// UTC.
    pub const UTC: Self = Self {
        written: 0,
        minutes: 0,
    };

    /// The timezone ESP-AT reads from `value`, if it is one.
    pub fn from_parameter(value: i32) -> Option<Self> {
        let written = i16::try_from(value).ok()?;
        let minutes = if (-12..=14).contains(&value) {
            value * 60
        } else if value.abs() < 100 {
            // Too large for hours, too short for `hhmm`.
            return None;
        } else {
            let (hours, minutes) = (value.abs() / 100, value.abs() % 100);
            if minutes >= 60 {
                return None;
            }
            value.signum() * (hours * 60 + minutes)
        };
        if !(-12 * 60..=14 * 60).contains(&minutes) {
            return None;
        }
        Some(Self {
            written,
            minutes: i16::try_from(minutes).ok()?,
        })
    }

    /// The value as written.
    pub fn written(self) -> i16 {
        self.written
    }

    /// The offset from UTC in seconds.
    pub fn offset_seconds(self) -> i64 {
        i64::from(self.minutes) * 60
    }
}

/// A moment as `asctime` writes it: `Www Mmm dd hh:mm:ss yyyy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AscTime(pub i64);

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The proleptic Gregorian date of `days` since 1970-01-01: (year, month 1..=12, day).
fn civil_from_days(days: i64) -> (i64, usize, i64) {
    // Howard Hinnant's `civil_from_days`, in eras of 400 years from 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, usize::try_from(month).unwrap_or(1), day)
}

/// Bytes that hold any [`AscTime`] text (an `i64` of seconds has years of up to 12
/// digits, and a sign).
pub const ASCTIME_MAX_BYTES: usize = 40;

impl AscTime {
    /// Appends the text, `Www Mmm dd hh:mm:ss yyyy` (C's `asctime` fields, day zero-padded).
    pub fn push_to<const N: usize>(self, line: &mut LineBuf<N>) {
        let (days, seconds) = (self.0.div_euclid(86_400), self.0.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        let weekday = usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0);
        line.push_str(WEEKDAYS.get(weekday).unwrap_or(&"Thu"));
        line.push_str(" ");
        line.push_str(MONTHS.get(month.saturating_sub(1)).unwrap_or(&"Jan"));
        for (separator, value) in [
            (b' ', day),
            (b' ', seconds / 3600),
            (b':', seconds / 60 % 60),
            (b':', seconds % 60),
        ] {
            push_two_digits(line, separator, value);
        }
        line.push_str(" ");
        line.push_signed(year);
    }
}

/// Appends `separator` and `value` (0..=99) as two digits.
fn push_two_digits<const N: usize>(line: &mut LineBuf<N>, separator: u8, value: i64) {
    let value = u8::try_from(value.clamp(0, 99)).unwrap_or(0);
    line.push_bytes(&[separator, b'0' + value / 10, b'0' + value % 10]);
}

impl fmt::Display for AscTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = LineBuf::<ASCTIME_MAX_BYTES>::new();
        self.push_to(&mut line);
        f.write_str(core::str::from_utf8(line.as_bytes()).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(seconds: i64) -> std::string::String {
        std::format!("{}", AscTime(seconds))
    }

    #[test]
    fn asctime_matches_the_c_library() {
        assert_eq!(text(0), "Thu Jan 01 00:00:00 1970");
        // `date -u -d @1634665676`: Tue Oct 19 17:47:56 UTC 2021.
        assert_eq!(text(1_634_665_676), "Tue Oct 19 17:47:56 2021");
        // A leap day, and the last second of a century year that is a leap year.
        assert_eq!(text(951_782_400), "Tue Feb 29 00:00:00 2000");
        assert_eq!(text(978_307_199), "Sun Dec 31 23:59:59 2000");
        // Before 1970 (a negative timezone on the epoch).
        assert_eq!(text(-3600), "Wed Dec 31 23:00:00 1969");
    }

    #[test]
    fn asctime_extremes_fit_the_line() {
        for seconds in [i64::MIN, i64::MAX] {
            let mut line = LineBuf::<ASCTIME_MAX_BYTES>::new();
            AscTime(seconds).push_to(&mut line);
            assert!(!line.overflowed(), "{}", text(seconds));
        }
    }

    #[test]
    fn timezones_in_hours_and_hhmm() {
        let tz = |v| Timezone::from_parameter(v).map(Timezone::offset_seconds);
        assert_eq!(tz(8), Some(8 * 3600));
        assert_eq!(tz(-12), Some(-12 * 3600));
        assert_eq!(tz(14), Some(14 * 3600));
        assert_eq!(tz(530), Some(5 * 3600 + 30 * 60));
        assert_eq!(tz(-1100), Some(-11 * 3600));
        assert_eq!(tz(1245), Some(12 * 3600 + 45 * 60));
        assert_eq!(tz(15), None);
        assert_eq!(tz(-13), None);
        assert_eq!(tz(1460), None);
        assert_eq!(tz(1500), None);
        assert_eq!(tz(-1201), None);
        assert_eq!(
            Timezone::from_parameter(530).map(Timezone::written),
            Some(530)
        );
    }
}
