//! Times people read: the report's RFC 3339 instants shown in the scan's offset
//! (`scan.utc_offset`, Japan Standard Time when the report names none), to the second,
//! with the zone named (`2026-12-02 17:51:03 JST`). report.json itself stays RFC 3339.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::model::Report;

/// Japan Standard Time, +09:00.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Parses `+09:00`, `-05:30`, `Z` or `UTC`.
pub fn parse_offset(s: &str) -> Option<UtcOffset> {
    if s == "Z" || s == "UTC" {
        return Some(UtcOffset::UTC);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1i8, s.get(1..)?),
        b'-' => (-1i8, s.get(1..)?),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// `+09:00`.
pub fn offset_string(o: UtcOffset) -> String {
    let (h, m, _) = o.as_hms();
    let sign = if h < 0 || m < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
}

/// The offset the report's times are shown in.
pub fn offset_of(r: &Report) -> UtcOffset {
    r.scan
        .utc_offset
        .as_deref()
        .and_then(parse_offset)
        .unwrap_or(JST)
}

/// `JST` for +09:00, `UTC` for +00:00, else `UTC+05:30`.
pub fn zone_name(o: UtcOffset) -> String {
    if o == JST {
        "JST".to_owned()
    } else if o == UtcOffset::UTC {
        "UTC".to_owned()
    } else {
        format!("UTC{}", offset_string(o))
    }
}

/// `2026-12-02 17:51:03 JST`; a value that is not RFC 3339 is shown as written.
pub fn shown(rfc3339: &str, o: UtcOffset) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(o).format(&fmt).ok())
        .map_or_else(|| rfc3339.to_owned(), |t| format!("{t} {}", zone_name(o)))
}

/// The day of `rfc3339` in offset `o` (`2026-12-02`), or the first ten characters.
pub fn day(rfc3339: &str, o: UtcOffset) -> String {
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .map(|t| t.to_offset(o).date().to_string())
        .unwrap_or_else(|_| rfc3339.chars().take(10).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_utc_instant_is_shown_in_japan_time_to_the_second() {
        assert_eq!(
            shown("2026-12-02T08:51:03Z", JST),
            "2026-12-02 17:51:03 JST"
        );
        assert_eq!(
            shown("2026-12-02T16:00:00Z", JST),
            "2026-12-03 01:00:00 JST"
        );
        assert_eq!(day("2026-12-02T16:00:00Z", JST), "2026-12-03");
    }

    #[test]
    fn another_offset_is_named_by_its_value() {
        let o = parse_offset("+05:30").expect("offset");
        assert_eq!(
            shown("2026-12-02T08:51:03Z", o),
            "2026-12-02 14:21:03 UTC+05:30"
        );
        assert_eq!(
            offset_string(parse_offset("-03:30").expect("offset")),
            "-03:30"
        );
        assert_eq!(zone_name(UtcOffset::UTC), "UTC");
    }

    #[test]
    fn a_value_that_is_not_rfc3339_is_shown_as_written() {
        assert_eq!(shown("yesterday", JST), "yesterday");
        assert_eq!(parse_offset("JST"), None);
    }
}
