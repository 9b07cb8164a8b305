//! Cron schedules: the five-field syntax of crontab(5) (minute, hour, day of month,
//! month, day of week), with lists, ranges, steps, month and day names, and the
//! `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly` shorthands.
//!
//! Times are wall-clock times in the daemon's configured UTC offset; Japan has no
//! daylight saving, so a fixed offset is exact there.

use std::fmt;

use time::{Date, Duration, PrimitiveDateTime, Time};

/// A parsed schedule.
#[derive(Clone, PartialEq, Eq)]
pub struct Schedule {
    text: String,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    /// crontab(5): when both day fields are restricted, a day matching either runs.
    days_restricted: bool,
    weekdays_restricted: bool,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?})", self.text)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a schedule does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("expected 5 fields (minute hour day-of-month month day-of-week) or @daily-style shorthand, found {0}")]
    FieldCount(usize),
    #[error("unknown shorthand {0:?} (use @hourly, @daily, @weekly, @monthly or @yearly)")]
    Shorthand(String),
    #[error("{field} {value:?} is not a number or name")]
    NotANumber { field: &'static str, value: String },
    #[error("{field} {value} is out of range {min}–{max}")]
    OutOfRange {
        field: &'static str,
        value: u32,
        min: u32,
        max: u32,
    },
    #[error("{field} range {value:?} runs backwards")]
    Backwards { field: &'static str, value: String },
    #[error("{field} step in {value:?} must be a number from 1")]
    BadStep { field: &'static str, value: String },
    #[error("{field} step {step} in {value:?} is out of range 1–{max}")]
    StepOutOfRange {
        field: &'static str,
        value: String,
        step: u64,
        max: u32,
    },
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY: Field = Field {
    name: "day of month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const WEEKDAY: Field = Field {
    name: "day of week",
    min: 0,
    max: 7,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

impl Field {
    fn value(&self, s: &str) -> Result<u32, CronError> {
        let lower = s.to_ascii_lowercase();
        if let Some(i) = self.names.iter().position(|n| *n == lower) {
            let base = if self.name == MONTH.name { 1 } else { 0 };
            return Ok(u32::try_from(i).unwrap_or(0) + base);
        }
        let v: u32 = s.parse().map_err(|_| CronError::NotANumber {
            field: self.name,
            value: s.to_owned(),
        })?;
        if v < self.min || v > self.max {
            return Err(CronError::OutOfRange {
                field: self.name,
                value: v,
                min: self.min,
                max: self.max,
            });
        }
        Ok(v)
    }

    /// The step of `part` (`*/15`, `5/10`): at least 1 and no larger than the field's
    /// span, so a step can never wrap around or skip past every value.
    fn step(&self, part: &str, text: &str) -> Result<u32, CronError> {
        let step: u64 =
            text.parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| CronError::BadStep {
                    field: self.name,
                    value: part.to_owned(),
                })?;
        let max = self.max - self.min;
        u32::try_from(step)
            .ok()
            .filter(|s| *s <= max)
            .ok_or(CronError::StepOutOfRange {
                field: self.name,
                value: part.to_owned(),
                step,
                max,
            })
    }

    /// The set of values the field text allows, as a bit set, and whether it was `*`.
    fn parse(&self, text: &str) -> Result<(u64, bool), CronError> {
        let mut bits = 0u64;
        for part in text.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, self.step(part, s)?),
                None => (part, 1),
            };
            let (lo, hi) = if range == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                let (lo, hi) = (self.value(a)?, self.value(b)?);
                if lo > hi {
                    return Err(CronError::Backwards {
                        field: self.name,
                        value: part.to_owned(),
                    });
                }
                (lo, hi)
            } else {
                let v = self.value(range)?;
                // `5/15` means from 5 to the end in steps of 15.
                (v, if step > 1 { self.max } else { v })
            };
            let mut v = lo;
            while v <= hi {
                bits |= 1 << v;
                match v.checked_add(step) {
                    Some(next) => v = next,
                    None => break,
                }
            }
        }
        Ok((bits, text == "*"))
    }
}

impl Schedule {
    /// Parses a crontab(5) schedule.
    pub fn parse(text: &str) -> Result<Schedule, CronError> {
        let trimmed = text.trim();
        let expanded = match trimmed {
            "@hourly" => "0 * * * *",
            "@daily" | "@midnight" => "0 0 * * *",
            "@weekly" => "0 0 * * 0",
            "@monthly" => "0 0 1 * *",
            "@yearly" | "@annually" => "0 0 1 1 *",
            s if s.starts_with('@') => return Err(CronError::Shorthand(s.to_owned())),
            s => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let [m, h, d, mo, w] = fields[..] else {
            return Err(CronError::FieldCount(fields.len()));
        };
        let (minutes, _) = MINUTE.parse(m)?;
        let (hours, _) = HOUR.parse(h)?;
        let (days, days_any) = DAY.parse(d)?;
        let (months, _) = MONTH.parse(mo)?;
        let (mut weekdays, weekdays_any) = WEEKDAY.parse(w)?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1; // 7 is Sunday too
        }
        Ok(Schedule {
            text: trimmed.to_owned(),
            minutes,
            hours: u32::try_from(hours).unwrap_or(u32::MAX),
            days: u32::try_from(days).unwrap_or(u32::MAX),
            months: u16::try_from(months).unwrap_or(u16::MAX),
            weekdays: u8::try_from(weekdays & 0x7f).unwrap_or(u8::MAX),
            days_restricted: !days_any,
            weekdays_restricted: !weekdays_any,
        })
    }

    fn day_matches(&self, date: Date) -> bool {
        let dom = self.days & (1 << date.day()) != 0;
        let dow = self.weekdays & (1 << date.weekday().number_days_from_sunday()) != 0;
        match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            (false, false) => true,
        }
    }

    /// The first minute strictly after `t` that the schedule names, within eight years
    /// (a schedule such as `0 0 30 2 *` names none).
    pub fn next_after(&self, t: PrimitiveDateTime) -> Option<PrimitiveDateTime> {
        let start = t.replace_second(0).ok()?.replace_nanosecond(0).ok()? + Duration::minutes(1);
        let limit = start.year() + 8;
        let mut date = start.date();
        let mut from = start.time();
        while date.year() <= limit {
            if self.months & (1 << u8::from(date.month())) != 0 && self.day_matches(date) {
                if let Some(time) = self.first_time_from(from) {
                    return Some(PrimitiveDateTime::new(date, time));
                }
            }
            date = date.next_day()?;
            from = Time::MIDNIGHT;
        }
        None
    }

    fn first_time_from(&self, from: Time) -> Option<Time> {
        (from.hour()..24)
            .filter(|h| self.hours & (1 << h) != 0)
            .find_map(|h| {
                let first = if h == from.hour() { from.minute() } else { 0 };
                (first..60)
                    .find(|m| self.minutes & (1 << m) != 0)
                    .and_then(|m| Time::from_hms(h, m, 0).ok())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn next(s: &str, t: PrimitiveDateTime) -> PrimitiveDateTime {
        Schedule::parse(s)
            .expect("parses")
            .next_after(t)
            .expect("has a next run")
    }

    #[test]
    fn every_minute_runs_at_the_next_whole_minute() {
        assert_eq!(
            next("* * * * *", datetime!(2026-11-22 10:15:30)),
            datetime!(2026-11-22 10:16)
        );
        assert_eq!(
            next("* * * * *", datetime!(2026-11-22 10:15:00)),
            datetime!(2026-11-22 10:16)
        );
    }

    #[test]
    fn a_nightly_schedule_runs_tonight_or_tomorrow_night() {
        assert_eq!(
            next("30 2 * * *", datetime!(2026-11-22 01:00)),
            datetime!(2026-11-22 02:30)
        );
        assert_eq!(
            next("30 2 * * *", datetime!(2026-11-22 02:30)),
            datetime!(2026-11-23 02:30)
        );
        assert_eq!(
            next("@daily", datetime!(2026-12-31 23:59)),
            datetime!(2027-01-01 00:00)
        );
    }

    #[test]
    fn steps_ranges_lists_and_names_are_understood() {
        assert_eq!(
            next("*/15 * * * *", datetime!(2026-11-22 10:16)),
            datetime!(2026-11-22 10:30)
        );
        assert_eq!(
            next("5/20 * * * *", datetime!(2026-11-22 10:26)),
            datetime!(2026-11-22 10:45)
        );
        // 2026-11-22 is a Sunday: the next weekday run is Monday.
        assert_eq!(
            next("0 22 * * mon-fri", datetime!(2026-11-22 23:00)),
            datetime!(2026-11-23 22:00)
        );
        assert_eq!(
            next("0 3 * jan,jul 0", datetime!(2026-11-22 00:00)),
            datetime!(2027-01-03 03:00)
        );
        assert_eq!(
            next("0 3 * * 7", datetime!(2026-11-22 04:00)),
            datetime!(2026-11-29 03:00)
        );
    }

    #[test]
    fn a_restricted_day_of_month_and_day_of_week_run_on_either() {
        // The 1st of the month or any Friday.
        assert_eq!(
            next("0 0 1 * fri", datetime!(2026-11-22 00:00)),
            datetime!(2026-11-27 00:00)
        );
        assert_eq!(
            next("0 0 1 * fri", datetime!(2026-11-28 00:00)),
            datetime!(2026-12-01 00:00)
        );
    }

    #[test]
    fn a_date_that_never_comes_gives_no_next_run() {
        let s = Schedule::parse("0 0 30 2 *").expect("parses");
        assert_eq!(s.next_after(datetime!(2026-11-22 00:00)), None);
        let leap = Schedule::parse("0 0 29 2 *").expect("parses");
        assert_eq!(
            leap.next_after(datetime!(2026-11-22 00:00)),
            Some(datetime!(2028-02-29 00:00))
        );
    }

    #[test]
    fn bad_schedules_say_which_field_is_wrong() {
        let err = |s: &str| Schedule::parse(s).expect_err(s).to_string();
        assert_eq!(err("61 * * * *"), "minute 61 is out of range 0–59");
        assert_eq!(err("0 24 * * *"), "hour 24 is out of range 0–23");
        assert_eq!(err("0 0 0 * *"), "day of month 0 is out of range 1–31");
        assert!(err("0 0 * foo *").contains("month \"foo\""));
        assert!(err("0 0 * * 5-1").contains("runs backwards"));
        assert!(err("*/0 * * * *").contains("step"));
        // A step past the field's span once wrapped a u32 and fired every minute.
        let e = err("59/4294967295 * * * *");
        assert!(
            e.contains("minute step 4294967295") && e.contains("1–59"),
            "{e}"
        );
        let e = err("1/4294967295 3 * * *");
        assert!(e.contains("minute step 4294967295"), "{e}");
        let e = err("0 */24 * * *");
        assert!(e.contains("hour step 24") && e.contains("1–23"), "{e}");
        assert!(err("0 0 1/99999999999999999999 * *").contains("day of month step"));
        assert!(Schedule::parse("*/59 */23 */30 */11 */7").is_ok());
        assert!(err("0 0 * *").contains("found 4"));
        assert!(err("@often").contains("@often"));
    }
}
