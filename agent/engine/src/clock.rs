//! Time for the daemon: now in UTC for records, and wall-clock time in the
//! configured offset for schedules, windows and freeze dates.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Now, as RFC 3339 UTC (`2026-11-22T13:42:33Z`).
pub fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

/// `t` as RFC 3339 UTC, whole seconds.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Parses RFC 3339 text (as the history stores it).
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// RFC 3339 text as [`show`] gives it, or the text itself if it does not parse.
pub fn show_text(text: &str, offset: UtcOffset) -> String {
    parse(text).map_or_else(|| text.to_owned(), |t| show(t, offset))
}

/// Wall-clock time at `offset`.
pub fn local(t: OffsetDateTime, offset: UtcOffset) -> PrimitiveDateTime {
    let l = t.to_offset(offset);
    PrimitiveDateTime::new(l.date(), l.time())
}

/// The instant of wall-clock time `t` at `offset`.
pub fn instant(t: PrimitiveDateTime, offset: UtcOffset) -> OffsetDateTime {
    t.assume_offset(offset)
}

/// `t` as `2026-11-22 22:00 +09:00`, for people.
pub fn show(t: OffsetDateTime, offset: UtcOffset) -> String {
    let l = t.to_offset(offset);
    let (h, m, _) = offset.as_hms();
    format!(
        "{} {:02}:{:02} {}{:02}:{:02}",
        l.date(),
        l.hour(),
        l.minute(),
        if offset.is_negative() { '-' } else { '+' },
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}
