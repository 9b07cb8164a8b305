//! The TLS side of a connection: rustls (ring) with the CA's certificates as the
//! only roots, the server's name checked against its certificate (what libpq calls
//! `sslmode=verify-full`), and the site's client certificate when one is given.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use kenshin_files::Follow;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

use super::TlsFiles;
use crate::error::FleetError;

/// The system's CA bundle, used when no CA is named.
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The largest certificate or key file read.
const MAX_PEM: u64 = 1024 * 1024;

/// Makes a TLS connection for each host tokio-postgres connects to.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    config: Arc<ClientConfig>,
}

impl Connector {
    pub(crate) fn new(files: &TlsFiles) -> Result<Self, FleetError> {
        let ca = files
            .ca
            .clone()
            .unwrap_or_else(|| Path::new(SYSTEM_ROOTS).to_owned());
        let mut roots = RootCertStore::empty();
        for cert in certificates(&ca, "CA certificate")? {
            roots.add(cert).map_err(|e| FleetError::BadTlsFile {
                what: "CA certificate",
                path: ca.clone(),
                reason: e.to_string(),
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| FleetError::BadTlsFile {
                what: "TLS configuration",
                path: ca.clone(),
                reason: e.to_string(),
            })?
            .with_root_certificates(roots);
        let config = match &files.client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = certificates(cert, "client certificate")?;
                let bytes = read(key, "client key")?;
                let private =
                    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| FleetError::BadTlsFile {
                        what: "client key",
                        path: key.clone(),
                        reason: e.to_string(),
                    })?;
                builder.with_client_auth_cert(chain, private).map_err(|e| {
                    FleetError::BadTlsFile {
                        what: "client certificate and key",
                        path: cert.clone(),
                        reason: e.to_string(),
                    }
                })?
            }
        };
        Ok(Self {
            config: Arc::new(config),
        })
    }
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, FleetError> {
    kenshin_files::read(path, MAX_PEM, Follow::Yes).map_err(|e| FleetError::BadTlsFile {
        what,
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn certificates(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, FleetError> {
    let bytes = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FleetError::BadTlsFile {
            what,
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(FleetError::BadTlsFile {
            what,
            path: path.to_owned(),
            reason: "it holds no PEM certificate".to_owned(),
        });
    }
    Ok(certs)
}

impl<S> MakeTlsConnect<S> for Connector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type TlsConnect = Connect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Connect, Self::Error> {
        Ok(Connect {
            config: Arc::clone(&self.config),
            name: ServerName::try_from(domain.to_owned())?,
        })
    }
}

/// One TLS handshake to one server name.
#[derive(Debug)]
pub(crate) struct Connect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Stream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let tls = tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await?;
            Ok(Stream(tls))
        })
    }
}

/// A TLS stream to the server.
#[derive(Debug)]
pub(crate) struct Stream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for Stream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM channel binding is not offered: client certificates authenticate.
        ChannelBinding::none()
    }
}
