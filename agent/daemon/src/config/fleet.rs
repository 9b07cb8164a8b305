//! `[fleet]`: the site this sensor scans from and, when `db` is set, the headquarters'
//! PostgreSQL that sealed reports are pushed to through the outbox
//! ([`crate::outbox`]).
//!
//! The database URL may carry a password. It is held in a [`SecretUrl`], whose `Debug`
//! and `Display` show it redacted ([`redact_url`]); only the uploader gets the real
//! text ([`SecretUrl::expose`]), and [`SecretUrl::scrub`] takes the password out of any
//! message that might quote it before that message is logged, stored or shown.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

use kenshin_engine::settings::{check_site, parse_duration};
use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Ctx, Files};
use crate::outbox::Backoff;

/// What a password is shown as.
pub const REDACTED: &str = "***";

/// Query parameters of a connection URL whose values are secrets.
const SECRET_PARAMS: [&str; 2] = ["password", "sslpassword"];

/// `[fleet]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFleet {
    site: Option<Spanned<String>>,
    db: Option<Spanned<String>>,
    client_cert: Option<Spanned<PathBuf>>,
    client_key: Option<Spanned<PathBuf>>,
    ca: Option<Spanned<PathBuf>>,
    retry_min: Option<Spanned<String>>,
    retry_max: Option<Spanned<String>>,
}

/// The sensor's place in a fleet.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Every scan's `scan.site`.
    pub site: String,
    /// Where sealed reports are pushed; `None`: the site is recorded in the reports,
    /// which travel some other way (a USB copy and `kenshin fleet push`).
    pub db: Option<FleetDb>,
    /// How long a bundle that could not be pushed waits before the next try.
    pub retry: Backoff,
}

/// The headquarters' database and the credentials to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetDb {
    pub url: SecretUrl,
    /// The site's client certificate (PEM), for PostgreSQL `cert` authentication.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// The CA that signed the server's certificate (`sslmode=verify-full`).
    pub ca: Option<PathBuf>,
}

/// A connection URL that may hold a password: shown redacted wherever it is printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> SecretUrl {
        SecretUrl(url.into())
    }

    /// The URL with its password, for the one caller that connects.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL as it may be shown: password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }

    /// `text` with every occurrence of this URL's password (as written, and decoded)
    /// and of the URL itself replaced: for a message from a library that might quote
    /// either.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.replace(&self.0, &self.redacted());
        for secret in secrets(&self.0) {
            if !secret.is_empty() {
                out = out.replace(&secret, REDACTED);
            }
        }
        out
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretUrl({:?})", self.redacted())
    }
}

impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The passwords a URL carries, as written and percent-decoded.
fn secrets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(u) = url::Url::parse(text) {
        if let Some(p) = u.password() {
            out.push(p.to_owned());
            out.extend(decoded(p));
        }
        for (k, v) in u.query_pairs() {
            if SECRET_PARAMS.contains(&k.as_ref()) {
                out.push(v.into_owned());
            }
        }
    }
    out
}

fn decoded(p: &str) -> Option<String> {
    let d = url::form_urlencoded::parse(format!("x={p}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    (d != p).then_some(d)
}

/// A database URL (or any text that may be one) with its password replaced by `***`:
/// the `user:password@` part and `password=` / `sslpassword=` parameters. Text that
/// does not parse as a URL is redacted more broadly (everything between the first
/// `:` after `://` and the last `@`), since where its password ends cannot be known.
pub fn redact_url(text: &str) -> String {
    if let Ok(mut u) = url::Url::parse(text) {
        if u.password().is_some() && u.set_password(Some(REDACTED)).is_err() {
            return redact_loosely(text);
        }
        if u.query_pairs()
            .any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref()))
        {
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                        Cow::Borrowed(REDACTED)
                    } else {
                        v
                    };
                    (k.into_owned(), v.into_owned())
                })
                .collect();
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
        return u.to_string();
    }
    redact_loosely(text)
}

/// Redaction of text that is not a URL: every character that could be a password goes.
fn redact_loosely(text: &str) -> String {
    let mut out = text.to_owned();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let rest = &out[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                out.replace_range(start + colon + 1..start + at, REDACTED);
            }
        }
    }
    for key in SECRET_PARAMS {
        let mut from = 0;
        while let Some(i) = out[from..].find(&format!("{key}=")).map(|i| i + from) {
            let value = i + key.len() + 1;
            let end = out[value..]
                .find(|c: char| c == '&' || c.is_whitespace())
                .map_or(out.len(), |e| e + value);
            out.replace_range(value..end, REDACTED);
            from = value + REDACTED.len();
        }
    }
    out
}

/// Checks `[fleet]`.
pub(super) fn check_fleet(
    ctx: &Ctx<'_>,
    raw: Option<&Spanned<RawFleet>>,
    files: Files,
) -> Result<Option<Fleet>, ConfigError> {
    let Some(spanned) = raw else {
        return Ok(None);
    };
    let f = spanned.get_ref();
    let Some(site) = &f.site else {
        return Err(ctx.err(
            spanned.span(),
            "fleet.site",
            "missing: name the site this sensor scans from (e.g. site = \"osaka-general\")",
        ));
    };
    check_site(site.get_ref()).map_err(|why| {
        ctx.err(
            site.span(),
            "fleet.site",
            format!("{:?} is not valid: {why}", site.get_ref()),
        )
    })?;
    let db =
        f.db.as_ref()
            .map(|db| check_db(ctx, f, db, files))
            .transpose()?;
    if db.is_none() {
        for (key, given) in [
            ("fleet.client_cert", f.client_cert.as_ref()),
            ("fleet.client_key", f.client_key.as_ref()),
            ("fleet.ca", f.ca.as_ref()),
        ] {
            if let Some(p) = given {
                return Err(ctx.err(p.span(), key, "is set but fleet.db is not"));
            }
        }
    }
    Ok(Some(Fleet {
        site: site.get_ref().clone(),
        db,
        retry: check_retry(ctx, f)?,
    }))
}

fn check_db(
    ctx: &Ctx<'_>,
    f: &RawFleet,
    db: &Spanned<String>,
    files: Files,
) -> Result<FleetDb, ConfigError> {
    let text = db.get_ref();
    let bad = |why: &str| {
        ctx.err(
            db.span(),
            "fleet.db",
            format!("{:?} {why}", redact_url(text)),
        )
    };
    let u = url::Url::parse(text).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(u.scheme(), "postgres" | "postgresql") {
        return Err(bad(
            "is not a PostgreSQL URL (postgresql://USER@HOST[:PORT]/DATABASE)",
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad("names no host"));
    }
    if let Some((_, mode)) = u.query_pairs().find(|(k, _)| k == "sslmode") {
        if mode != "verify-full" {
            return Err(bad(&format!(
                "asks for sslmode={mode}; a sensor connects with sslmode=verify-full only \
                 (leave sslmode out)"
            )));
        }
    }
    match (&f.client_cert, &f.client_key) {
        (Some(c), None) => {
            return Err(ctx.err(
                c.span(),
                "fleet.client_key",
                "missing: client_cert needs its key",
            ))
        }
        (None, Some(k)) => {
            return Err(ctx.err(
                k.span(),
                "fleet.client_cert",
                "missing: client_key needs its certificate",
            ))
        }
        _ => {}
    }
    let path = |key: &str, p: Option<&Spanned<PathBuf>>| -> Result<Option<PathBuf>, ConfigError> {
        let Some(p) = p else { return Ok(None) };
        if files == Files::Read {
            match std::fs::metadata(p.get_ref()) {
                Ok(m) if m.is_file() => {}
                Ok(_) => {
                    return Err(ctx.err(
                        p.span(),
                        key,
                        format!("{} is not a regular file", p.get_ref().display()),
                    ))
                }
                Err(e) => {
                    return Err(ctx.err(p.span(), key, format!("{}: {e}", p.get_ref().display())))
                }
            }
        }
        Ok(Some(p.get_ref().clone()))
    };
    Ok(FleetDb {
        url: SecretUrl::new(text.clone()),
        client_cert: path("fleet.client_cert", f.client_cert.as_ref())?,
        client_key: path("fleet.client_key", f.client_key.as_ref())?,
        ca: path("fleet.ca", f.ca.as_ref())?,
    })
}

fn check_retry(ctx: &Ctx<'_>, f: &RawFleet) -> Result<Backoff, ConfigError> {
    let read = |v: Option<&Spanned<String>>,
                key: &str,
                default: Duration,
                allowed: std::ops::RangeInclusive<u64>|
     -> Result<(Duration, std::ops::Range<usize>), ConfigError> {
        let Some(v) = v else {
            return Ok((default, 0..0));
        };
        let d = parse_duration(v.get_ref()).map_err(|e| ctx.err(v.span(), key, e))?;
        if !allowed.contains(&d.as_secs()) {
            return Err(ctx.err(
                v.span(),
                key,
                format!(
                    "{:?} is out of range: {}s to {}s",
                    v.get_ref(),
                    allowed.start(),
                    allowed.end()
                ),
            ));
        }
        Ok((d, v.span()))
    };
    let defaults = Backoff::default();
    let (min, _) = read(
        f.retry_min.as_ref(),
        "fleet.retry_min",
        defaults.min,
        1..=3600,
    )?;
    let (max, span) = read(
        f.retry_max.as_ref(),
        "fleet.retry_max",
        defaults.max.max(min),
        1..=86_400,
    )?;
    if max < min {
        return Err(ctx.err(
            span,
            "fleet.retry_max",
            format!(
                "{}s is less than fleet.retry_min ({}s)",
                max.as_secs(),
                min.as_secs()
            ),
        ));
    }
    Ok(Backoff { min, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urls_password_is_redacted_and_the_rest_kept() {
        assert_eq!(
            redact_url("postgresql://sensor:s3cr%40t@hq.example:5432/kenshin"),
            "postgresql://sensor:***@hq.example:5432/kenshin"
        );
        assert_eq!(
            redact_url("postgres://hq.example/kenshin?password=hunter2&application_name=k"),
            "postgres://hq.example/kenshin?password=***&application_name=k"
        );
        let plain = "postgresql://sensor@hq.example/kenshin";
        assert_eq!(redact_url(plain), plain, "nothing to hide, nothing changed");
    }

    #[test]
    fn text_that_is_not_a_url_loses_everything_that_could_be_a_password() {
        // An unencoded '?' and '@' in the password make it no URL at all.
        let r = redact_url("postgres://sensor:pa?ss@w0rd@hq/kenshin");
        assert!(!r.contains("pa?ss") && !r.contains("w0rd"), "{r}");
        assert!(r.starts_with("postgres://sensor:***@hq"), "{r}");
        let r = redact_url("host=hq user=sensor password=hunter2 dbname=k");
        assert_eq!(r, "host=hq user=sensor password=*** dbname=k");
    }

    #[test]
    fn a_secret_url_never_prints_its_password_and_scrubs_messages() {
        let url = SecretUrl::new("postgresql://sensor:s3cr%40t@hq/kenshin");
        assert!(!format!("{url:?} {url}").contains("s3cr"));
        let msg =
            "password authentication failed for s3cr@t (postgresql://sensor:s3cr%40t@hq/kenshin)";
        let clean = url.scrub(msg);
        assert!(!clean.contains("s3cr"), "{clean}");
        assert!(
            clean.contains("postgresql://sensor:***@hq/kenshin"),
            "{clean}"
        );
    }
}
