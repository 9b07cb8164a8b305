//! Connecting to the central database: a libpq-style URL read into a
//! [`FleetConnect`], TLS with `sslmode=verify-full` semantics (the server's
//! certificate must chain to the given CA and name the host), an optional client
//! certificate for PostgreSQL `cert` authentication, and a URL whose password is
//! redacted wherever it is shown.
//!
//! A host that is a Unix-socket folder (`postgresql:///fleet?host=/run/postgresql`)
//! is the one connection made without TLS: it never leaves the machine.

mod tls;
mod url;

use std::path::PathBuf;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, Connection, Notification};

pub use self::url::redact;
use crate::error::FleetError;

/// Where the central database is and how to prove who we are.
///
/// `url` is a `postgresql://` URL; its `sslcert`, `sslkey` and `sslrootcert`
/// parameters fill the three paths when they are not given here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetConnect {
    pub url: String,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub ca: Option<PathBuf>,
}

impl FleetConnect {
    /// A connection described by its URL alone.
    pub fn from_url(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            ..Self::default()
        }
    }

    /// The URL as it may be shown: the password replaced by `***`.
    pub fn shown(&self) -> String {
        redact(&self.url)
    }
}

/// Opens a connection and drives it on the current runtime.
pub async fn connect(conn: &FleetConnect) -> Result<Client, FleetError> {
    open(conn, None).await
}

/// Opens a connection whose notifications (`LISTEN`) arrive on the returned channel.
pub async fn connect_listening(
    conn: &FleetConnect,
) -> Result<(Client, mpsc::UnboundedReceiver<Notification>), FleetError> {
    let (tx, rx) = mpsc::unbounded_channel();
    let client = open(conn, Some(tx)).await?;
    Ok((client, rx))
}

async fn open(
    conn: &FleetConnect,
    notices: Option<mpsc::UnboundedSender<Notification>>,
) -> Result<Client, FleetError> {
    let target = url::parse(conn)?;
    let shown = conn.shown();
    let failed = |error: tokio_postgres::Error| FleetError::from_connect(&shown, &error);
    let client = match target.tls {
        None => {
            let (client, connection) = target
                .config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(failed)?;
            tokio::spawn(drive(connection, notices, shown.clone()));
            client
        }
        Some(files) => {
            let tls = tls::Connector::new(&files)?;
            let (client, connection) = target.config.connect(tls).await.map_err(failed)?;
            tokio::spawn(drive(connection, notices, shown.clone()));
            client
        }
    };
    Ok(client)
}

/// Runs the connection, handing notifications on; ends when the connection does.
async fn drive<S, T>(
    mut connection: Connection<S, T>,
    notices: Option<mpsc::UnboundedSender<Notification>>,
    shown: String,
) where
    S: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let message = std::future::poll_fn(|cx| connection.poll_message(cx)).await;
        match message {
            None => return,
            Some(Err(e)) => {
                tracing::debug!("connection to {shown} ended: {e}");
                return;
            }
            Some(Ok(AsyncMessage::Notification(n))) => {
                if let Some(tx) = &notices {
                    // A closed receiver means nobody listens any more.
                    let _ = tx.send(n);
                }
            }
            Some(Ok(_)) => {}
        }
    }
}

/// The files TLS is set up from.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    pub(crate) ca: Option<PathBuf>,
    pub(crate) client: Option<(PathBuf, PathBuf)>,
}
