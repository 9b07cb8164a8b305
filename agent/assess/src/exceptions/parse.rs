//! Reading the register: TOML, every table and key checked, each problem naming the
//! file, the line and the key before the scan sends anything.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use time::{Date, Month};
use toml::{Spanned, Value};

use super::{Exception, Net, Register, RegisterError, MAX_REGISTER_BYTES};
use crate::finding::Text;
use crate::groups::is_group_id;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exception: Vec<Spanned<RawException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    id: Option<Spanned<Value>>,
    check: Option<Spanned<Value>>,
    hosts: Option<Spanned<Value>>,
    ports: Option<Spanned<Value>>,
    reason: Option<Spanned<Value>>,
    approved_by: Option<Spanned<Value>>,
    approved_on: Option<Spanned<Value>>,
    expires: Option<Spanned<Value>>,
}

/// Reads and checks the register at `path`. `known` says whether a check or advisory
/// ID exists in the rules in use (a group ID is accepted by its shape).
pub fn load(path: &Path, known: &dyn Fn(&str) -> bool) -> Result<Register, RegisterError> {
    let text = kenshin_files::read_text(path, MAX_REGISTER_BYTES, kenshin_files::Follow::Yes)
        .map_err(RegisterError::Read)?;
    parse(path, &text, known)
}

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text
            .get(..offset)
            .map_or(1, |s| s.bytes().filter(|b| *b == b'\n').count() + 1)
    }

    fn err(&self, offset: usize, key: &str, problem: impl Into<String>) -> RegisterError {
        RegisterError::Key {
            path: self.path.to_owned(),
            line: self.line_of(offset),
            key: key.to_owned(),
            problem: problem.into(),
        }
    }

    fn required<'v>(
        &self,
        v: &'v Option<Spanned<Value>>,
        table: usize,
        key: &str,
    ) -> Result<&'v Spanned<Value>, RegisterError> {
        v.as_ref()
            .ok_or_else(|| self.err(table, key, "is required and missing"))
    }

    fn text(&self, v: &Spanned<Value>, key: &str) -> Result<String, RegisterError> {
        match v.get_ref() {
            Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
            Value::String(_) => Err(self.err(v.span().start, key, "is empty")),
            other => Err(self.err(
                v.span().start,
                key,
                format!("must be a string, not {}", other.type_str()),
            )),
        }
    }

    fn date(&self, v: &Spanned<Value>, key: &str) -> Result<Date, RegisterError> {
        let bad = || {
            self.err(
                v.span().start,
                key,
                "must be a bare TOML date such as 2027-03-31 (no quotes, no time)",
            )
        };
        let Value::Datetime(dt) = v.get_ref() else {
            return Err(bad());
        };
        let (Some(d), None, None) = (dt.date, dt.time, dt.offset) else {
            return Err(bad());
        };
        let month = Month::try_from(d.month).map_err(|_| bad())?;
        Date::from_calendar_date(i32::from(d.year), month, d.day).map_err(|_| bad())
    }
}

/// Parses the register text read from `path`.
pub fn parse(
    path: &Path,
    text: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<Register, RegisterError> {
    let cx = Ctx { path, text };
    let raw: RawFile = toml::from_str(text).map_err(|e| RegisterError::Syntax {
        path: path.to_owned(),
        line: e.span().map_or(1, |s| cx.line_of(s.start)),
        problem: e.message().to_owned(),
    })?;
    let mut seen = BTreeSet::new();
    let mut exceptions = Vec::new();
    for spanned in &raw.exception {
        let at = spanned.span().start;
        let r = spanned.get_ref();
        let id_v = cx.required(&r.id, at, "id")?;
        let id = cx.text(id_v, "id")?;
        if !seen.insert(id.clone()) {
            return Err(cx.err(id_v.span().start, "id", format!("{id:?} is used twice")));
        }
        let check_v = cx.required(&r.check, at, "check")?;
        let check = cx.text(check_v, "check")?;
        if !known(&check) && !is_group_id(&check) {
            return Err(cx.err(
                check_v.span().start,
                "check",
                format!("{check:?} is no check, advisory or group ID in the rules in use"),
            ));
        }
        let hosts_v = cx.required(&r.hosts, at, "hosts")?;
        let hosts = match hosts_v.get_ref() {
            Value::Array(a) if !a.is_empty() => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => Net::parse(s),
                    other => Err(format!("{} is not an address", other.type_str())),
                })
                .collect::<Result<Vec<Net>, String>>()
                .map_err(|p| cx.err(hosts_v.span().start, "hosts", p))?,
            _ => {
                return Err(cx.err(
                    hosts_v.span().start,
                    "hosts",
                    "must be a non-empty list of addresses or CIDR networks",
                ))
            }
        };
        let ports =
            match &r.ports {
                None => Vec::new(),
                Some(v) => match v.get_ref() {
                    Value::Array(a) if !a.is_empty() => a
                        .iter()
                        .map(|p| match p {
                            Value::Integer(n) => u16::try_from(*n)
                                .ok()
                                .filter(|n| *n > 0)
                                .ok_or_else(|| format!("{n} is not a port (1 to 65535)")),
                            other => Err(format!("{} is not a port", other.type_str())),
                        })
                        .collect::<Result<Vec<u16>, String>>()
                        .map_err(|p| cx.err(v.span().start, "ports", p))?,
                    _ => return Err(cx.err(
                        v.span().start,
                        "ports",
                        "must be a non-empty list of port numbers (leave it out for every port)",
                    )),
                },
            };
        let reason_v = cx.required(&r.reason, at, "reason")?;
        let reason = match reason_v.get_ref() {
            Value::Table(t) => {
                let lang = |l: &str| {
                    t.get(l)
                        .and_then(Value::as_str)
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            cx.err(
                                reason_v.span().start,
                                &format!("reason.{l}"),
                                "is required: the compensating control, in Japanese and English",
                            )
                        })
                };
                if let Some(k) = t.keys().find(|k| *k != "ja" && *k != "en") {
                    return Err(cx.err(
                        reason_v.span().start,
                        &format!("reason.{k}"),
                        "is not a key of reason (ja, en)",
                    ));
                }
                Text {
                    ja: lang("ja")?,
                    en: lang("en")?,
                }
            }
            _ => {
                return Err(cx.err(
                    reason_v.span().start,
                    "reason",
                    "must be a table { ja = \"…\", en = \"…\" }",
                ))
            }
        };
        let approved_by = cx.text(
            cx.required(&r.approved_by, at, "approved_by")?,
            "approved_by",
        )?;
        let approved_on = cx.date(
            cx.required(&r.approved_on, at, "approved_on")?,
            "approved_on",
        )?;
        let expires_v = cx.required(&r.expires, at, "expires")?;
        let expires = cx.date(expires_v, "expires")?;
        if expires < approved_on {
            return Err(cx.err(
                expires_v.span().start,
                "expires",
                format!("{expires} is before approved_on {approved_on}"),
            ));
        }
        let limit = one_year_after(approved_on);
        if expires > limit {
            return Err(cx.err(
                expires_v.span().start,
                "expires",
                format!(
                    "{expires} is more than one year after approved_on {approved_on} \
                     (at most {limit}); renew the approval instead"
                ),
            ));
        }
        exceptions.push(Exception {
            id,
            check,
            hosts,
            ports,
            reason,
            approved_by,
            approved_on,
            expires,
            line: cx.line_of(at),
        });
    }
    Ok(Register {
        source: path.display().to_string(),
        exceptions,
    })
}

/// The same day a year later (28 February for 29 February).
fn one_year_after(d: Date) -> Date {
    let year = d.year() + 1;
    d.replace_year(year)
        .or_else(|_| Date::from_calendar_date(year, d.month(), 28))
        .unwrap_or(Date::MAX)
}
