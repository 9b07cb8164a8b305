//! Service identification: what is listening on each open TCP port.
//!
//! For every open port that the safety policy allows a payload on, the
//! [`Prober`] opens a conversation chosen by the port (the catalog's `probe`)
//! and then by what the service's first bytes say:
//! - services that speak first (SSH, FTP, SMTP, POP3, IMAP, Telnet, VNC) are
//!   listened to for [`BANNER_WAIT`] and answered only as far as the protocol
//!   needs to state its facts (Telnet negotiation, the RFB version);
//! - services that wait are asked well-formed questions: RDP's connection
//!   request, SMB NEGOTIATE, a DICOM association for Verification (released at
//!   once), a GET of `/`;
//! - a silent service on any port gets a TLS ClientHello; a TLS server's inner
//!   protocol is probed over TLS where the port makes that sensible.
//!
//! Every connection waits for the governor like any other probe and holds one
//! of the host's concurrency slots while open; every read is bounded by
//! [`BYTE_BUDGET`] and by the port's [`PORT_DEADLINE`]; every connection's
//! bytes go to the evidence log. Connect-only ports never reach this module.

mod ask;
mod audit;
mod conversation;
mod greet;
mod http;
mod sniff;
mod starttls;
mod tape;
#[cfg(test)]
mod test_prober;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use crate::net::tcp::Stream as TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use audit::{AuditSettings, DEFAULT_MAX_HANDSHAKES, DEFAULT_PAUSE};
pub use conversation::{Conversation, Heard};
pub use http::HttpClient;
pub use sniff::{opening, Opening};
pub use starttls::Channel;
pub use tape::Tape;
pub use tls::subject_alt_names;

use crate::evidence::{EvidenceLog, Transcript};
use crate::governor::{Admission, FrameCost, Governor, ProbeKind};
use crate::net::tcp::{self, FirstWords, TcpOutcome};
use crate::observation::{Fact, ServiceObservation};
use crate::ports::{FirstProbe, PortCatalog, Protocol, TlsInner};
use crate::scope::Cleared;

/// How long a service that speaks first gets to say something.
pub const BANNER_WAIT: Duration = Duration::from_millis(2500);
/// How long any later step of a conversation waits for an answer.
pub const STEP_WAIT: Duration = Duration::from_secs(4);
/// The most time spent identifying one port, all connections together.
pub const PORT_DEADLINE: Duration = Duration::from_secs(20);
/// The most bytes read from one connection.
pub const BYTE_BUDGET: usize = 64 * 1024;
/// Connection attempts per identification connection.
pub const CONNECT_ATTEMPTS: u32 = 2;
/// What opening a conversation costs in frames: the SYN now, and room kept for the
/// handshake's ACK, the ACK of the service's first words and the closing RST.
const CONVERSATION_OPENING: FrameCost = FrameCost {
    now: 1,
    expected: 3,
};
/// The longest banner kept in an observation.
pub const MAX_BANNER: usize = 512;

/// Everything identification needs from the scan.
#[derive(Debug, Clone, Copy)]
pub struct Prober<'a> {
    pub governor: &'a Governor,
    pub cancel: &'a CancellationToken,
    pub evidence: &'a EvidenceLog,
    pub catalog: &'a PortCatalog,
    pub clients: &'a Clients,
}

/// TLS and HTTP clients, built once per scan.
#[derive(Debug, Clone)]
pub struct Clients {
    pub tls: Arc<rustls::ClientConfig>,
    pub http: HttpClient,
}

impl Clients {
    /// Clients that accept any certificate (kenshin inspects servers; it does not
    /// trust them) and never use a proxy.
    pub fn new(user_agent: &str) -> Result<Self, String> {
        let tls = tls::inspecting_config()?;
        let http = HttpClient::new(&tls, user_agent)?;
        Ok(Self {
            tls: Arc::new(tls),
            http,
        })
    }
}

/// A connection under its admission: the admission's concurrency slot is held for
/// as long as the connection is open.
pub(crate) struct Connection {
    pub(crate) stream: TcpStream,
    _admission: Admission,
}

impl Prober<'_> {
    /// Identifies the service on TCP `port`.
    pub async fn identify(&self, cleared: Cleared, port: u16) -> ServiceObservation {
        let mut obs = ServiceObservation {
            port,
            protocol: Protocol::Tcp,
            ..ServiceObservation::default()
        };
        let deadline = Instant::now() + PORT_DEADLINE;
        let recognised = match self.catalog.first_probe(Protocol::Tcp, port) {
            FirstProbe::Banner => false,
            FirstProbe::Http => self.http(cleared, port, false, &mut obs).await,
            FirstProbe::Tls => {
                let inner = self.catalog.tls_inner(Protocol::Tcp, port);
                self.tls_first(cleared, port, inner, deadline, &mut obs)
                    .await
            }
            FirstProbe::Rdp => ask::rdp(self, cleared, port, deadline, &mut obs).await,
            FirstProbe::Smb => ask::smb(self, cleared, port, deadline, &mut obs).await,
            FirstProbe::Dicom => ask::dicom(self, cleared, port, deadline, &mut obs).await,
        };
        if !recognised && !self.cancel.is_cancelled() && Instant::now() < deadline {
            self.listen_first(cleared, port, deadline, &mut obs).await;
        }
        obs
    }

    /// Audits TLS on a port that identification found speaking TLS, or able to
    /// upgrade to it (SMTP, FTP, IMAP, POP3, RDP); does nothing on any other port.
    /// `server_name` is sent as SNI and is the name the certificate is checked against.
    pub async fn audit_tls(
        &self,
        cleared: Cleared,
        obs: &mut ServiceObservation,
        server_name: Option<String>,
        settings: AuditSettings,
    ) {
        let Some(channel) = Channel::for_service(obs) else {
            return;
        };
        let audit = audit::Auditor::new(self, cleared, obs.port, channel, server_name, settings);
        obs.tls_audit = Some(Box::pin(audit.run()).await);
    }

    /// Opens a connection under the governor. A connect that goes unanswered is tried
    /// once more with a longer timeout: a single lost SYN must not cost the
    /// identification of a port the scan has just seen open. `first` says who will
    /// speak first, which decides whether the handshake's ACK waits for kenshin's words.
    pub(crate) async fn connect(
        &self,
        cleared: Cleared,
        port: u16,
        first: FirstWords,
    ) -> Result<Connection, String> {
        let mut last = String::new();
        for attempt in 1..=CONNECT_ATTEMPTS {
            let admission = self
                .governor
                .admit_costing(cleared, ProbeKind::Tcp, CONVERSATION_OPENING, self.cancel)
                .await
                .ok_or_else(|| "scan cancelled".to_owned())?;
            match tcp::open(&admission, port, admission.timeout(attempt), first).await {
                Ok(stream) => {
                    return Ok(Connection {
                        stream,
                        _admission: admission,
                    })
                }
                Err(TcpOutcome::NoAnswer) => {
                    last = format!("the port did not answer {attempt} new connection attempts");
                }
                Err(TcpOutcome::Closed { .. }) => {
                    return Err("the port refused a new connection".into())
                }
                Err(TcpOutcome::Unreachable { .. }) => {
                    return Err("the host became unreachable".into())
                }
                Err(TcpOutcome::LocalError(e)) => return Err(format!("local error: {e}")),
                Err(TcpOutcome::Open { .. }) => return Err("unexpected connect outcome".into()),
            }
        }
        Err(last)
    }

    /// A conversation on a new connection, or a note saying why there is none.
    pub(crate) async fn converse(
        &self,
        cleared: Cleared,
        port: u16,
        first: FirstWords,
        deadline: Instant,
        obs: &mut ServiceObservation,
    ) -> Option<(Conversation<TcpStream>, Admission)> {
        match self.connect(cleared, port, first).await {
            Ok(Connection { stream, _admission }) => {
                Some((Conversation::new(stream, BYTE_BUDGET, deadline), _admission))
            }
            Err(e) => {
                obs.notes.push(e);
                None
            }
        }
    }

    /// Records a connection's tape as evidence on `obs`.
    pub(crate) fn record(
        &self,
        obs: &mut ServiceObservation,
        host: std::net::IpAddr,
        probe: &'static str,
        tape: &Tape,
        note: String,
    ) {
        let id = self.record_only(host, obs.port, probe, tape, note);
        obs.evidence.push(id);
    }

    /// Records a connection's tape as evidence and returns its ID.
    pub(crate) fn record_only(
        &self,
        host: std::net::IpAddr,
        port: u16,
        probe: &'static str,
        tape: &Tape,
        note: String,
    ) -> String {
        self.evidence.record(Transcript {
            host,
            port: Some(port),
            protocol: Some(Protocol::Tcp),
            probe,
            sent: &tape.sent,
            received: &tape.received,
            secrets: &[],
            exchange: &tape.segments,
            note: if tape.truncated() {
                format!(
                    "{note} ({} bytes sent, {} received; capture cut)",
                    tape.sent_total, tape.received_total
                )
            } else {
                note
            },
        })
    }

    /// The opening for ports whose catalog entry names no probe, and the fallback
    /// when the named probe recognised nothing: listen, then TLS, then HTTP.
    async fn listen_first(
        &self,
        cleared: Cleared,
        port: u16,
        deadline: Instant,
        obs: &mut ServiceObservation,
    ) {
        let host = cleared.addr();
        let Some((mut conv, admission)) = self
            .converse(cleared, port, FirstWords::Theirs, deadline, obs)
            .await
        else {
            return;
        };
        let heard = conv
            .hear(BANNER_WAIT, |b| Ok((!b.is_empty()).then_some(())))
            .await;
        match heard {
            Heard::Done(()) => {
                let note = greet::dispatch(&mut conv, obs).await;
                self.record(obs, host, "banner", &conv.tape().snapshot(), note);
            }
            Heard::Silent => {
                obs.notes.push(format!(
                    "said nothing within {:.1} s of connecting",
                    BANNER_WAIT.as_secs_f64()
                ));
                // Nothing said: perhaps TLS, on this same connection.
                let outcome = tls::handshake(
                    &self.clients.tls,
                    host,
                    conv,
                    STEP_WAIT.min(deadline.saturating_duration_since(Instant::now())),
                )
                .await;
                let spoke_tls = outcome.spoke_tls();
                let http_reply = outcome.http_reply();
                tls::apply(&outcome, obs);
                self.record(obs, host, "tls-handshake", &outcome.tape, outcome.note());
                if !spoke_tls {
                    obs.notes.push(outcome.note());
                }
                if spoke_tls {
                    self.tls_inner(
                        cleared,
                        port,
                        TlsInner::Http,
                        outcome,
                        admission,
                        deadline,
                        obs,
                    )
                    .await;
                } else if http_reply || !outcome.closed_early() {
                    // A server that answered the ClientHello with an HTTP error, or kept
                    // quiet: ask it for `/` in plain HTTP.
                    drop(admission);
                    self.http(cleared, port, false, obs).await;
                }
            }
            Heard::Closed => {
                obs.notes
                    .push("the service closed the connection without a word".into());
                self.record(
                    obs,
                    host,
                    "banner",
                    &conv.tape().snapshot(),
                    "connected and listened; the service closed the connection".into(),
                );
            }
            other => {
                let note = format!("listening for a banner: {}", heard_note(&other));
                obs.notes.push(note.clone());
                if !conv.buf.is_empty() {
                    obs.banner = Some(greet::printable_banner(&conv.buf));
                }
                self.record(obs, host, "banner", &conv.tape().snapshot(), note);
            }
        }
    }

    /// A port the catalog says is TLS: handshake on a new connection, then the inner
    /// protocol. Returns false if the service did not speak TLS.
    async fn tls_first(
        &self,
        cleared: Cleared,
        port: u16,
        inner: TlsInner,
        deadline: Instant,
        obs: &mut ServiceObservation,
    ) -> bool {
        let host = cleared.addr();
        let Some((conv, admission)) = self
            .converse(cleared, port, FirstWords::Ours, deadline, obs)
            .await
        else {
            return true; // cannot connect: nothing else will fare better
        };
        let outcome = tls::handshake(&self.clients.tls, host, conv, STEP_WAIT).await;
        tls::apply(&outcome, obs);
        self.record(obs, host, "tls-handshake", &outcome.tape, outcome.note());
        if !outcome.spoke_tls() {
            return false;
        }
        self.tls_inner(cleared, port, inner, outcome, admission, deadline, obs)
            .await;
        true
    }

    /// Speaks the inner protocol over an established TLS session (or, for HTTP, a new
    /// one made by the HTTP client). `admission` covers the session's connection.
    #[allow(clippy::too_many_arguments)]
    async fn tls_inner(
        &self,
        cleared: Cleared,
        port: u16,
        inner: TlsInner,
        outcome: tls::Outcome<TcpStream>,
        admission: Admission,
        deadline: Instant,
        obs: &mut ServiceObservation,
    ) {
        let host = cleared.addr();
        let Some(session) = outcome.session else {
            return; // TLS, but not a version or suite rustls speaks: the TLS auditor's job
        };
        match inner {
            TlsInner::None => {}
            TlsInner::Http => {
                // The HTTP client makes its own connection: release this one first, so
                // a host allowed one connection at a time is not asked for two.
                drop(session);
                drop(admission);
                self.http(cleared, port, true, obs).await;
            }
            TlsInner::Banner => {
                let mut conv = Conversation::new(session, BYTE_BUDGET, deadline);
                let heard = conv
                    .hear(BANNER_WAIT, |b| Ok((!b.is_empty()).then_some(())))
                    .await;
                let note = match heard {
                    Heard::Done(()) => greet::dispatch(&mut conv, obs).await,
                    other => format!("listening inside TLS: {}", heard_note(&other)),
                };
                self.record(obs, host, "tls-banner", &conv.tape().snapshot(), note);
            }
            TlsInner::Dicom => {
                let mut conv = Conversation::new(session, BYTE_BUDGET, deadline);
                let note = ask::dicom_over(&mut conv, obs).await;
                self.record(
                    obs,
                    host,
                    "tls-dicom-associate",
                    &conv.tape().snapshot(),
                    note,
                );
            }
        }
    }
}

/// Sets a fact.
pub(crate) fn set(obs: &mut ServiceObservation, name: &str, fact: Fact) {
    obs.facts.insert(name.to_owned(), fact);
}

/// Sets a text fact.
pub(crate) fn set_text(obs: &mut ServiceObservation, name: &str, text: impl Into<String>) {
    set(obs, name, Fact::Text(text.into()));
}

/// What an unfinished read step means, in words.
pub(crate) fn heard_note<T>(h: &Heard<T>) -> String {
    match h {
        Heard::Done(_) => "answered".into(),
        Heard::Silent => "no answer within the wait".into(),
        Heard::Partial => "an incomplete answer before the wait ran out".into(),
        Heard::Closed => "the service closed the connection".into(),
        Heard::Invalid(e) => format!("an answer that does not decode: {e}"),
        Heard::OverBudget => format!("the answer passed the {BYTE_BUDGET}-byte budget"),
        Heard::Failed(e) => format!("the connection failed: {e}"),
    }
}
