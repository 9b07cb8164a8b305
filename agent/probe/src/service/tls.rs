//! TLS detection with rustls: a handshake that accepts any certificate
//! (kenshin inspects servers, it does not trust them), records the chain and
//! the negotiated parameters, and tells a TLS server that refused rustls's
//! versions (an alert) from a service that does not speak TLS at all.
//!
//! rustls speaks TLS 1.2 and 1.3 only; servers limited to older versions are
//! recognised here by their alert and left to the TLS auditor.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::conversation::Conversation;
use super::tape::{Tape, Taped};
use super::{set, set_text};
use crate::observation::{Fact, ServiceObservation};

/// Accepts every certificate, and checks handshake signatures against it.
#[derive(Debug)]
struct Inspecting(Arc<CryptoProvider>);

impl ServerCertVerifier for Inspecting {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A client configuration for inspection: TLS 1.2 and 1.3 with ring, any certificate.
pub(crate) fn inspecting_config() -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Inspecting(provider)))
        .with_no_client_auth();
    Ok(config)
}

/// The end of a handshake attempt.
#[derive(Debug)]
pub(crate) struct Outcome<S> {
    /// The raw bytes of the attempt (the handshake; the chain in clear up to TLS 1.2).
    pub(crate) tape: Tape,
    pub(crate) session: Option<TlsStream<Taped<S>>>,
    pub(crate) version: Option<&'static str>,
    pub(crate) cipher: Option<String>,
    pub(crate) alpn: Option<String>,
    pub(crate) chain: Vec<Vec<u8>>,
    pub(crate) error: Option<String>,
    /// The handshake ran out of time (rather than failing or being closed).
    pub(crate) timed_out: bool,
}

impl<S> Outcome<S> {
    /// True if the peer answered in TLS, even with an alert.
    pub(crate) fn spoke_tls(&self) -> bool {
        self.session.is_some() || matches!(self.tape.received[..], [0x15 | 0x16, 0x03, 0..=4, ..])
    }

    /// True if the peer answered the ClientHello with an HTTP response.
    pub(crate) fn http_reply(&self) -> bool {
        self.tape.received.starts_with(b"HTTP/")
    }

    /// True if the peer closed or reset without sending a byte.
    pub(crate) fn closed_early(&self) -> bool {
        self.session.is_none()
            && self.tape.received.is_empty()
            && self.error.is_some()
            && !self.timed_out
    }

    /// The evidence note.
    pub(crate) fn note(&self) -> String {
        match (&self.session, &self.error) {
            (Some(_), _) => format!(
                "TLS handshake (rustls, TLS 1.2/1.3 offered, certificate recorded, not trusted) \
                 completed: {} {}",
                self.version.unwrap_or("?"),
                self.cipher.as_deref().unwrap_or("?")
            ),
            (None, Some(e)) if self.spoke_tls() => {
                format!("TLS ClientHello answered in TLS but the handshake failed: {e}")
            }
            (None, Some(e)) => format!("TLS ClientHello not answered in TLS: {e}"),
            (None, None) => "TLS ClientHello: no result".into(),
        }
    }
}

/// Tries a TLS handshake over a conversation's connection.
pub(crate) async fn handshake<S>(
    config: &Arc<rustls::ClientConfig>,
    host: IpAddr,
    conv: Conversation<S>,
    wait: Duration,
) -> Outcome<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (stream, tape, _) = conv.into_parts();
    let connector = TlsConnector::from(config.clone());
    let result = tokio::time::timeout(
        wait,
        connector.connect(ServerName::IpAddress(host.into()), stream),
    )
    .await;
    let mut out = Outcome {
        tape: Tape::default(),
        session: None,
        version: None,
        cipher: None,
        alpn: None,
        chain: Vec::new(),
        error: None,
        timed_out: false,
    };
    match result {
        Ok(Ok(session)) => {
            let conn = session.get_ref().1;
            out.version = conn.protocol_version().map(|v| match v {
                rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
                rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
                _ => "other",
            });
            out.cipher = conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()));
            out.alpn = conn
                .alpn_protocol()
                .map(|a| String::from_utf8_lossy(a).into_owned());
            out.chain = conn
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.to_vec()).collect())
                .unwrap_or_default();
            out.session = Some(session);
        }
        Ok(Err(e)) => out.error = Some(e.to_string()),
        Err(_) => {
            out.timed_out = true;
            out.error = Some("no answer before the deadline".into());
        }
    }
    out.tape = tape.snapshot();
    out
}

/// Puts a handshake's facts on the observation.
pub(crate) fn apply<S>(out: &Outcome<S>, obs: &mut ServiceObservation) {
    if !out.spoke_tls() {
        return;
    }
    obs.tls = true;
    set(obs, "tls.handshake", Fact::Bool(out.session.is_some()));
    if let Some(e) = &out.error {
        set_text(obs, "tls.error", e.clone());
    }
    if let Some(v) = out.version {
        set_text(obs, "tls.version", v);
    }
    if let Some(c) = &out.cipher {
        set_text(obs, "tls.cipher", c.clone());
    }
    if let Some(a) = &out.alpn {
        set_text(obs, "tls.alpn", a.clone());
    }
    if let Some(leaf) = out.chain.first() {
        certificate_facts(leaf, obs);
    }
}

/// A certificate's DNS and IP subject alternative names, as text.
pub fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some((*d).to_owned()),
            GeneralName::IPAddress(b) => match b.len() {
                4 => <[u8; 4]>::try_from(*b)
                    .ok()
                    .map(|a| IpAddr::from(a).to_string()),
                16 => <[u8; 16]>::try_from(*b)
                    .ok()
                    .map(|a| IpAddr::from(a).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Subject, issuer, names and validity of the server's certificate.
fn certificate_facts(der: &[u8], obs: &mut ServiceObservation) {
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        set_text(
            obs,
            "tls.certificate_error",
            "the certificate does not parse",
        );
        return;
    };
    set_text(obs, "tls.subject", cert.subject().to_string());
    set_text(obs, "tls.issuer", cert.issuer().to_string());
    if let Some(cn) = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
    {
        set_text(obs, "tls.subject_cn", cn);
    }
    if let Some(o) = cert
        .subject()
        .iter_organization()
        .next()
        .and_then(|a| a.as_str().ok())
    {
        set_text(obs, "tls.subject_o", o);
    }
    set(
        obs,
        "tls.self_signed",
        Fact::Bool(cert.subject() == cert.issuer()),
    );
    let v = cert.validity();
    for (name, t) in [
        ("tls.not_before", &v.not_before),
        ("tls.not_after", &v.not_after),
    ] {
        let text = t
            .to_datetime()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| t.to_string());
        set_text(obs, name, text);
    }
    {
        let names = subject_alt_names(&cert);
        if !names.is_empty() {
            set(obs, "tls.sans", Fact::List(names));
        }
    }
}
