//! When a scope may be scanned: a daily window of wall-clock time (`22:00-06:00`,
//! which may cross midnight) and freeze dates (`2026-12-29..2027-01-03`) on which no
//! scan starts.

use std::fmt;

use time::{Date, Duration, PrimitiveDateTime, Time};

/// A daily window, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start: Time,
    end: Time,
}

fn parse_hm(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    if h == 24 && m == 0 {
        return Some(Time::MIDNIGHT);
    }
    Time::from_hms(h, m, 0).ok()
}

impl Window {
    /// Parses `HH:MM-HH:MM`.
    pub fn parse(s: &str) -> Result<Window, String> {
        let bad = || format!("{s:?} is not a window like \"22:00-06:00\" (HH:MM-HH:MM)");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (start, end) = (parse_hm(a).ok_or_else(bad)?, parse_hm(b).ok_or_else(bad)?);
        if start == end {
            return Err(format!(
                "{s:?} starts and ends at the same time; leave `window` out to allow any time"
            ));
        }
        Ok(Window { start, end })
    }

    /// True if `t` falls inside the window.
    pub fn contains(&self, t: Time) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// When the window that holds `now` closes (`now` must be inside it).
    pub fn closes_after(&self, now: PrimitiveDateTime) -> PrimitiveDateTime {
        let today = PrimitiveDateTime::new(now.date(), self.end);
        if today > now {
            today
        } else {
            today + Duration::days(1)
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start.hour(),
            self.start.minute(),
            self.end.hour(),
            self.end.minute()
        )
    }
}

/// Dates on which no scan of a scope starts, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freeze {
    from: Date,
    to: Date,
}

fn parse_date(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &format).ok()
}

impl Freeze {
    /// Parses `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Freeze, String> {
        let bad = || {
            format!("{s:?} is not a date like \"2026-12-31\" or a range like \"2026-12-29..2027-01-03\"")
        };
        let (from, to) = match s.split_once("..") {
            Some((a, b)) => (
                parse_date(a).ok_or_else(bad)?,
                parse_date(b).ok_or_else(bad)?,
            ),
            None => {
                let d = parse_date(s).ok_or_else(bad)?;
                (d, d)
            }
        };
        if from > to {
            return Err(format!("{s:?} ends before it starts"));
        }
        Ok(Freeze { from, to })
    }

    /// True if `d` is frozen.
    pub fn contains(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    #[test]
    fn a_night_window_crosses_midnight() {
        let w = Window::parse("22:00-06:00").expect("parses");
        assert!(w.contains(time!(22:00)));
        assert!(w.contains(time!(03:00)));
        assert!(!w.contains(time!(06:00)));
        assert!(!w.contains(time!(12:00)));
        assert_eq!(
            w.closes_after(datetime!(2026-11-22 23:10)),
            datetime!(2026-11-23 06:00)
        );
        assert_eq!(
            w.closes_after(datetime!(2026-11-23 05:50)),
            datetime!(2026-11-23 06:00)
        );
        assert_eq!(w.to_string(), "22:00-06:00");
    }

    #[test]
    fn a_day_window_holds_only_its_hours() {
        let w = Window::parse("09:30-24:00").expect("parses");
        assert!(w.contains(time!(09:30)) && w.contains(time!(23:59)));
        assert!(!w.contains(time!(09:29)));
    }

    #[test]
    fn bad_windows_are_refused_with_the_value() {
        for bad in ["22-06", "25:00-06:00", "22:00", "22:00-22:00", "9:5-10:00"] {
            let e = Window::parse(bad).expect_err(bad);
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn freeze_dates_are_single_days_or_inclusive_ranges() {
        let f = Freeze::parse("2026-12-29..2027-01-03").expect("parses");
        assert!(f.contains(date!(2026 - 12 - 29)) && f.contains(date!(2027 - 01 - 03)));
        assert!(!f.contains(date!(2027 - 01 - 04)));
        let one = Freeze::parse("2026-11-23").expect("parses");
        assert!(one.contains(date!(2026 - 11 - 23)) && !one.contains(date!(2026 - 11 - 24)));
        assert!(Freeze::parse("2027-01-03..2026-12-29")
            .expect_err("backwards")
            .contains("ends before"));
        assert!(Freeze::parse("2026-13-01").is_err());
    }
}
