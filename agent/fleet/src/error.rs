//! What can go wrong talking to the central database or reading a bundle, each
//! error naming the thing (the URL with its password redacted, the file, the site,
//! the key) and what to do about it.

use std::error::Error as _;
use std::path::PathBuf;

use kenshin_report::seal::SealError;
use thiserror::Error;

/// An error of the fleet side.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FleetError {
    #[error("database URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{what} {path}: {reason}")]
    BadTlsFile {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "cannot reach the database at {url}: {reason}; check the host, the port and the \
         network path (the sensor retries later)"
    )]
    Unreachable { url: String, reason: String },
    #[error(
        "the database at {url} refused the connection: {reason}; check the user, the client \
         certificate and the CA (retrying will not help)"
    )]
    Refused { url: String, reason: String },
    #[error("{what} failed at {url}: {reason}")]
    Query {
        what: String,
        url: String,
        reason: String,
    },
    #[error(
        "the database at {url} has fleet schema version {found}, newer than this kenshin \
         knows ({supported}); upgrade kenshin rather than downgrading the database"
    )]
    SchemaNewer {
        url: String,
        found: i32,
        supported: i32,
    },
    #[error(
        "the database at {url} has no fleet schema, or an older one (version {found}); run \
         `kenshin fleet init --db URL` there first"
    )]
    SchemaMissing { url: String, found: i32 },
    #[error("site name {name:?}: {reason}")]
    BadSite { name: String, reason: String },
    #[error(
        "cannot tell which site this bundle is for: the report names no site and the \
         database user {user} is no site's role; give --site NAME"
    )]
    NoSite { user: String },
    #[error("site {name:?} is not enrolled; add it with `kenshin fleet sensor add --site {name} --key SHA256:…`")]
    UnknownSite { name: String },
    #[error("key {value:?}: give the signing key's fingerprint, SHA256: and 43 base64 characters (`kenshin key` prints it)")]
    BadKey { value: String },
    #[error("{path}: not a sealed report folder: {reason}")]
    NotSealed { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("{0}")]
    Seal(#[from] SealError),
    #[error("{what}: {reason}")]
    Render { what: &'static str, reason: String },
}

impl FleetError {
    /// Sorts a failed connection: the server or the TLS handshake said no
    /// ([`FleetError::Refused`]), or it could not be reached ([`FleetError::Unreachable`]).
    pub(crate) fn from_connect(url: &str, error: &tokio_postgres::Error) -> Self {
        let reason = chain(error);
        let url = url.to_owned();
        if error.as_db_error().is_some() || tls_said_no(error) {
            Self::Refused { url, reason }
        } else {
            Self::Unreachable { url, reason }
        }
    }

    /// A statement that failed once connected.
    pub(crate) fn query(what: impl Into<String>, url: &str, error: &tokio_postgres::Error) -> Self {
        let reason = match error.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => chain(error),
        };
        if error.is_closed() || error.as_db_error().is_none() && error.source().is_some() {
            return Self::Unreachable {
                url: url.to_owned(),
                reason,
            };
        }
        Self::Query {
            what: what.into(),
            url: url.to_owned(),
            reason,
        }
    }

    /// True if trying again later may succeed (the database was not reachable).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

/// The error and its causes, `: `-joined, as tokio-postgres keeps the useful part in
/// the source.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// True if the error came from the TLS layer (a certificate refused either way).
fn tls_said_no(error: &tokio_postgres::Error) -> bool {
    let mut source = error.source();
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return true;
            }
        }
        source = s.source();
    }
    false
}
