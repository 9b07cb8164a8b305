//! Reading a libpq-style `postgresql://` URL: the TLS parameters kenshin handles
//! itself are taken out, `sslmode` must be `verify-full` (or absent, which means
//! the same), and the rest goes to tokio-postgres.

use std::path::PathBuf;
use std::str::FromStr;

use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::Config;

use super::{FleetConnect, TlsFiles};
use crate::error::FleetError;

/// How long a connection may take unless the URL says (`connect_timeout=`).
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// A URL read and checked.
#[derive(Debug)]
pub(super) struct Target {
    pub(super) config: Config,
    /// `None` only for a Unix socket.
    pub(super) tls: Option<TlsFiles>,
}

/// `url` with its password (and any `password=` parameter) replaced by `***`. A
/// string that is not a URL at all is replaced whole: it may be a password.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = ::url::Url::parse(url) else {
        return "(a database URL that cannot be read)".to_owned();
    };
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have a password, which this one has.
        let _ = parsed.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "password" { "***".into() } else { v };
            (k.into_owned(), v.into_owned())
        })
        .collect();
    if !pairs.is_empty() {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

pub(super) fn parse(conn: &FleetConnect) -> Result<Target, FleetError> {
    let shown = redact(&conn.url);
    let bad = |reason: String| FleetError::BadUrl {
        url: shown.clone(),
        reason,
    };
    let mut parsed = ::url::Url::parse(&conn.url).map_err(|e| bad(e.to_string()))?;
    if !matches!(parsed.scheme(), "postgresql" | "postgres") {
        return Err(bad(format!(
            "the scheme is {:?}; write postgresql://USER@HOST/DATABASE",
            parsed.scheme()
        )));
    }
    let mut cert = conn.client_cert.clone();
    let mut key = conn.client_key.clone();
    let mut ca = conn.ca.clone();
    let mut rest = Vec::new();
    for (k, v) in parsed.query_pairs() {
        match k.as_ref() {
            "sslcert" => cert = cert.or_else(|| Some(PathBuf::from(v.as_ref()))),
            "sslkey" => key = key.or_else(|| Some(PathBuf::from(v.as_ref()))),
            "sslrootcert" => ca = ca.or_else(|| Some(PathBuf::from(v.as_ref()))),
            "sslmode" if v == "verify-full" => {}
            "sslmode" => {
                return Err(bad(format!(
                    "sslmode={v}: kenshin connects only with sslmode=verify-full \
                     (the server's certificate checked against the CA and the host name)"
                )))
            }
            _ => rest.push((k.into_owned(), v.into_owned())),
        }
    }
    parsed.query_pairs_mut().clear().extend_pairs(rest);
    let mut text = parsed.to_string();
    if text.ends_with('?') {
        text.pop();
    }
    let mut config = Config::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if config.get_hosts().is_empty() {
        return Err(bad("it names no host".to_owned()));
    }
    let unix = config
        .get_hosts()
        .iter()
        .all(|h| matches!(h, Host::Unix(_)));
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_user().is_none() {
        return Err(bad(
            "it names no user (postgresql://USER@HOST/DATABASE)".to_owned()
        ));
    }
    if unix {
        return Ok(Target { config, tls: None });
    }
    let client = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(bad(
                "a client certificate without its key; give sslkey= or --client-key".to_owned(),
            ))
        }
        (None, Some(_)) => {
            return Err(bad(
                "a client key without its certificate; give sslcert= or --client-cert".to_owned(),
            ))
        }
    };
    config.ssl_mode(SslMode::Require);
    Ok(Target {
        config,
        tls: Some(TlsFiles { ca, client }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows() {
        let shown = redact("postgresql://admin:s3cret@db.example/fleet?password=other");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("other"), "{shown}");
        assert!(shown.contains("admin:***@db.example"), "{shown}");
    }

    #[test]
    fn text_that_is_not_a_url_is_hidden_whole() {
        assert!(!redact("hunter2 not a url").contains("hunter2"));
    }

    #[test]
    fn a_weaker_sslmode_is_refused_by_name() {
        let conn = FleetConnect::from_url("postgresql://a@198.18.0.1/fleet?sslmode=require");
        let err = parse(&conn).expect_err("require is weaker than verify-full");
        assert!(err.to_string().contains("sslmode=require"), "{err}");
    }

    #[test]
    fn the_tls_files_come_from_the_url() {
        let conn = FleetConnect::from_url(
            "postgresql://site_a@198.18.0.1/fleet?sslcert=/c.pem&sslkey=/k.pem&sslrootcert=/ca.pem",
        );
        let target = parse(&conn).expect("a good URL");
        let tls = target.tls.expect("TCP means TLS");
        assert_eq!(tls.ca, Some(PathBuf::from("/ca.pem")));
        assert_eq!(
            tls.client,
            Some((PathBuf::from("/c.pem"), PathBuf::from("/k.pem")))
        );
    }

    #[test]
    fn a_unix_socket_goes_without_tls() {
        let conn = FleetConnect::from_url("postgresql://postgres@%2Frun%2Fpostgresql/fleet");
        let target = parse(&conn).expect("a socket URL");
        assert!(target.tls.is_none());
    }

    #[test]
    fn a_malformed_url_is_named_without_its_password() {
        let conn = FleetConnect::from_url("mysql://u:pw@h/db");
        let err = parse(&conn).expect_err("wrong scheme");
        let text = err.to_string();
        assert!(text.contains("scheme"), "{text}");
        assert!(!text.contains("pw@"), "{text}");
    }
}
