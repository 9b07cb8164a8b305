//! The TLS audit: every protocol version, cipher suite and key-exchange group a
//! server accepts, and the certificates it presents, from as few polite
//! handshakes as the question allows.
//!
//! Suites are enumerated by elimination: a ClientHello offers every suite
//! still in question, the server names the one it takes, that suite leaves the
//! offer, and the next hello asks again, until the server refuses. A version
//! with N accepted suites costs N + 1 handshakes per offer chunk (at most 128
//! suites a hello, for servers that choke on long lists), never one connection
//! per suite. The order of the server's choices shows its preference; one
//! reversed hello settles it where the choices happened to follow ours.
//! Groups are learned the same way: TLS 1.3 servers name their preferred
//! group in a HelloRetryRequest when the hello carries no key share, TLS 1.2
//! servers in the ServerKeyExchange.
//!
//! Politeness: one connection at a time (the audit runs inside the host's
//! one-port-at-a-time identification), a pause between handshakes, a cap on
//! handshakes per port, and every connection admitted by the governor. A
//! server that stops accepting connections gets one longer pause and a retry;
//! if it still refuses, the audit stops and reports what it has as partial.
//! Every handshake closes with a `user_canceled` alert, and nothing past the
//! server's first flight is ever read (TLS 1.3 certificates come from one
//! rustls handshake, which checks the server's signature and trusts nothing).

use std::time::Duration;

use kenshin_wire::tls::{
    self, sslv2, AlertDescription, CipherSuite, ClientHello, Flight, FlightEnd, KeyExchange,
    KeyExchangeParams, NamedGroup, Version,
};
use tokio::net::TcpStream;
use tokio::time::Instant;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::conversation::Conversation;
use super::starttls::Channel;
use super::{heard_note, tls as rustls_probe, Heard, Prober, BYTE_BUDGET, STEP_WAIT};
use crate::governor::Admission;
use crate::observation::{
    ChainObservation, SuitePreference, TlsAuditObservation, TlsVersionObservation,
};
use crate::scope::Cleared;

/// How gentle the audit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSettings {
    /// Pause between two handshakes to the same port.
    pub pause: Duration,
    /// The most handshakes spent on one port.
    pub max_handshakes: u32,
    /// The most time spent on one port.
    pub deadline: Duration,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            pause: DEFAULT_PAUSE,
            max_handshakes: DEFAULT_MAX_HANDSHAKES,
            deadline: Duration::from_secs(240),
        }
    }
}

/// Default pause between handshakes to one port.
pub const DEFAULT_PAUSE: Duration = Duration::from_millis(50);
/// Default cap on handshakes to one port: enough for a server accepting every
/// suite OpenSSL knows at three versions, and no more.
pub const DEFAULT_MAX_HANDSHAKES: u32 = 400;
/// The most suites offered in one hello.
pub(super) const MAX_SUITES_PER_HELLO: usize = 128;
/// How long to wait before asking again a server that refused a connection.
const BACKOFF: Duration = Duration::from_secs(3);

/// Versions asked about, newest first (SSLv2 has its own hello).
const VERSIONS: [Version; 5] = [
    Version::TLS13,
    Version::TLS12,
    Version::TLS11,
    Version::TLS10,
    Version::SSL3,
];

/// The suites worth offering at a version, in registry order.
pub(super) fn offer_for(version: Version) -> Vec<CipherSuite> {
    CipherSuite::all()
        .filter(|s| {
            let Some(c) = s.class() else { return false };
            if version >= Version::TLS13 {
                c.tls13
            } else if version == Version::TLS12 {
                !c.tls13
            } else {
                !c.tls13 && !c.tls12_only
            }
        })
        .collect()
}

/// Splits an offer into hellos of at most [`MAX_SUITES_PER_HELLO`], evenly.
fn chunks(offer: &[CipherSuite]) -> Vec<Vec<CipherSuite>> {
    if offer.is_empty() {
        return Vec::new();
    }
    let n = offer.len().div_ceil(MAX_SUITES_PER_HELLO);
    let size = offer.len().div_ceil(n);
    offer.chunks(size).map(<[CipherSuite]>::to_vec).collect()
}

/// Aborted handshakes of one kind of suite before the rest of that kind is left untried.
const ABORTS_PER_KIND: usize = 2;

/// A kind of suite: its key exchange and authentication.
type SuiteKind = (KeyExchange, &'static str);

fn kind_of(suite: CipherSuite) -> SuiteKind {
    suite.class().map_or((KeyExchange::Other, "other"), |c| {
        (c.key_exchange, c.authentication)
    })
}

/// What one handshake came to.
enum Reply {
    Hello(Box<Flight>),
    Sslv2(sslv2::ServerHello),
    /// The server answered but took nothing offered (an alert, a close, silence).
    Refused(String),
    /// The audit cannot go on (no connection, the STARTTLS upgrade refused, the cap).
    Stopped,
}

/// Which hello to send.
enum Hello<'a> {
    Tls(ClientHello<'a>),
    Sslv2,
}

/// One port's audit in progress.
pub(crate) struct Auditor<'p, 'a> {
    p: &'p Prober<'a>,
    cleared: Cleared,
    port: u16,
    channel: Channel,
    server_name: Option<String>,
    settings: AuditSettings,
    deadline: Instant,
    out: TlsAuditObservation,
    stopped: bool,
}

impl<'p, 'a> Auditor<'p, 'a> {
    pub(crate) fn new(
        p: &'p Prober<'a>,
        cleared: Cleared,
        port: u16,
        channel: Channel,
        server_name: Option<String>,
        settings: AuditSettings,
    ) -> Self {
        Self {
            p,
            cleared,
            port,
            channel,
            server_name,
            settings,
            deadline: Instant::now() + settings.deadline,
            out: TlsAuditObservation {
                channel: channel.as_str(),
                complete: true,
                ..TlsAuditObservation::default()
            },
            stopped: false,
        }
    }

    /// Runs the whole audit.
    pub(crate) async fn run(mut self) -> TlsAuditObservation {
        let started = Instant::now();
        for version in VERSIONS {
            if self.stopped {
                break;
            }
            let result = self.enumerate(version).await;
            self.out.versions.push(result);
        }
        if !self.stopped {
            self.sslv2().await;
        }
        if !self.stopped {
            self.groups().await;
        }
        if !self.stopped && self.out.chains.is_empty() && self.accepted(Version::TLS13) {
            self.tls13_chain().await;
        }
        if self.stopped {
            self.out.complete = false;
        }
        self.out.duration = started.elapsed();
        self.out
    }

    fn accepted(&self, v: Version) -> bool {
        self.out
            .versions
            .iter()
            .any(|r| r.version == v && r.accepted)
    }

    /// Accepted suites at `version`, by elimination, and the server's preference.
    async fn enumerate(&mut self, version: Version) -> TlsVersionObservation {
        let offer = offer_for(version);
        let mut result = TlsVersionObservation {
            version,
            accepted: false,
            suites: Vec::new(),
            preference: SuitePreference::Unknown,
            evidence: None,
            complete: true,
        };
        // Suites the server chose and then aborted its own handshake on. A server that
        // cannot complete one kind of suite (key exchange and authentication) usually
        // cannot complete any suite of it, so after ABORTS_PER_KIND of a kind the rest
        // of that kind is left untried rather than walked.
        let mut aborted: Vec<(CipherSuite, AlertDescription)> = Vec::new();
        let mut given_up: Vec<SuiteKind> = Vec::new();
        let offers = chunks(&offer);
        'chunks: for (at, chunk) in offers.iter().enumerate() {
            let mut remaining = chunk.clone();
            remaining.retain(|s| !given_up.contains(&kind_of(*s)));
            while !remaining.is_empty() {
                let (reply, ev) = self.tls_hello(version, &remaining, &[], true).await;
                match reply {
                    Reply::Hello(flight) => {
                        let Some(hello) = &flight.server_hello else {
                            break;
                        };
                        if hello.version() != version {
                            result.evidence.get_or_insert(ev);
                            break;
                        }
                        if !remaining.contains(&hello.suite) {
                            self.out.notes.push(format!(
                                "{}: the server chose {}, which was not offered",
                                version.display(),
                                hello.suite.display()
                            ));
                            break;
                        }
                        remaining.retain(|s| *s != hello.suite);
                        if let Some(alert) = flight.alert.filter(|_| flight.end == FlightEnd::Alert)
                        {
                            // The server chose the suite, then gave up on its own flight
                            // (a key it cannot sign with, say): no connection can complete.
                            aborted.push((hello.suite, alert.description));
                            // What it showed in clear before giving up is still real.
                            self.absorb(&flight, &ev);
                            let kind = kind_of(hello.suite);
                            let n = aborted.iter().filter(|(s, _)| kind_of(*s) == kind).count();
                            if n >= ABORTS_PER_KIND && !given_up.contains(&kind) {
                                let before = remaining.len();
                                remaining.retain(|s| kind_of(*s) != kind);
                                let later = offers[at + 1..]
                                    .iter()
                                    .flatten()
                                    .any(|s| kind_of(*s) == kind);
                                if remaining.len() < before || later {
                                    given_up.push(kind);
                                    result.complete = false;
                                }
                            }
                            if !result.accepted {
                                result.evidence.get_or_insert(ev);
                            }
                            continue;
                        }
                        result.accepted = true;
                        if result.suites.is_empty() {
                            result.evidence = Some(ev.clone());
                        }
                        result.suites.push((hello.suite, ev.clone()));
                        self.absorb(&flight, &ev);
                    }
                    Reply::Refused(_) | Reply::Sslv2(_) => {
                        if !result.accepted {
                            result.evidence.get_or_insert(ev);
                        }
                        break;
                    }
                    Reply::Stopped => {
                        result.complete = false;
                        break 'chunks;
                    }
                }
            }
        }
        if !aborted.is_empty() {
            self.out.notes.push(format!(
                "{}: the server chose {} suites but aborted its own handshake each time, so they \
                 are not counted as accepted: {}",
                version.display(),
                aborted.len(),
                aborted
                    .iter()
                    .map(|(s, a)| format!("{} ({})", s.display(), a.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !given_up.is_empty() {
            self.out.complete = false;
            self.out.notes.push(format!(
                "{}: after {ABORTS_PER_KIND} aborted handshakes of a kind, the other suites of \
                 that kind were not tried: {}",
                version.display(),
                given_up
                    .iter()
                    .map(|(kx, auth)| format!("{}-{auth}", kx.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if result.complete && result.suites.len() >= 2 {
            result.preference = self.preference(version, &offer, &result.suites).await;
        }
        result
    }

    /// Server or client preference: the choices' order tells, or one reversed hello.
    async fn preference(
        &mut self,
        version: Version,
        offer: &[CipherSuite],
        found: &[(CipherSuite, String)],
    ) -> SuitePreference {
        let position = |s: &CipherSuite| offer.iter().position(|o| o == s);
        let in_our_order = found
            .windows(2)
            .all(|w| position(&w[0].0) < position(&w[1].0));
        if !in_our_order {
            return SuitePreference::Server;
        }
        let reversed: Vec<CipherSuite> = found.iter().rev().map(|(s, _)| *s).collect();
        match self.tls_hello(version, &reversed, &[], true).await {
            (Reply::Hello(f), _) => match &f.server_hello {
                Some(h) if Some(&h.suite) == reversed.first() => SuitePreference::Client,
                Some(_) => SuitePreference::Server,
                None => SuitePreference::Unknown,
            },
            _ => SuitePreference::Unknown,
        }
    }

    /// SSLv2: one hello.
    async fn sslv2(&mut self) {
        let (reply, ev) = self.handshake(Hello::Sslv2, "SSLv2 CLIENT-HELLO").await;
        let accepted = match reply {
            Reply::Sslv2(hello) => {
                self.out.sslv2_ciphers = hello
                    .ciphers
                    .iter()
                    .map(|c| sslv2::cipher_name(*c))
                    .collect();
                true
            }
            Reply::Stopped => return,
            _ => false,
        };
        self.out.versions.push(TlsVersionObservation {
            version: Version::SSL2,
            accepted,
            suites: Vec::new(),
            preference: SuitePreference::Unknown,
            evidence: Some(ev),
            complete: true,
        });
    }

    /// Key-exchange groups in the server's order: by HelloRetryRequest under TLS 1.3,
    /// else by the ServerKeyExchange of the newest version with an ECDHE suite.
    async fn groups(&mut self) {
        let (version, suites, by_retry): (Version, Vec<CipherSuite>, bool) =
            if self.accepted(Version::TLS13) {
                (Version::TLS13, offer_for(Version::TLS13), true)
            } else {
                let is_ecdhe = |s: &CipherSuite| kind_of(*s).0 == KeyExchange::Ecdhe;
                let Some(v) = self
                    .out
                    .versions
                    .iter()
                    .find(|v| v.accepted && v.suites.iter().any(|(s, _)| is_ecdhe(s)))
                else {
                    return;
                };
                let ecdhe = v.suites.iter().map(|(s, _)| *s).filter(is_ecdhe).collect();
                (v.version, ecdhe, false)
            };
        let mut remaining: Vec<NamedGroup> = NamedGroup::ALL
            .iter()
            .copied()
            .filter(|g| by_retry || !g.is_ffdhe())
            .collect();
        // Up to TLS 1.2 an ECDSA certificate is usable only if its curve is offered, so
        // that curve stays in every hello (last, so a server that follows the client's
        // order picks it only when nothing else is left).
        let anchor = if by_retry { None } else { self.leaf_curve() };
        let server_order = self
            .out
            .versions
            .iter()
            .find(|v| v.version == version)
            .is_none_or(|v| v.preference != SuitePreference::Client);
        while !remaining.is_empty() {
            let mut offer = remaining.clone();
            if let Some(a) = anchor.filter(|a| !offer.contains(a)) {
                offer.push(a);
            }
            let (reply, ev) = self.tls_hello(version, &suites, &offer, false).await;
            let chosen = match reply {
                Reply::Hello(f) => match (&f.server_hello, &f.key_exchange) {
                    (Some(h), _) if by_retry => h.key_share_group,
                    (_, Some(KeyExchangeParams::NamedCurve(g))) => Some(*g),
                    _ => None,
                },
                Reply::Stopped => {
                    self.out
                        .notes
                        .push("the group enumeration stopped early".into());
                    return;
                }
                _ => None,
            };
            match chosen {
                Some(g) if remaining.contains(&g) => {
                    remaining.retain(|r| *r != g);
                    self.out.groups.push((g, ev));
                }
                Some(g) if Some(g) == anchor && server_order => {
                    self.out.notes.push(format!(
                        "{}: the certificate's curve {} must be offered with an ECDSA \
                         certificate, and the server ranks it above the groups not yet \
                         seen, so groups it ranks lower cannot be listed",
                        version.display(),
                        g.display()
                    ));
                    break;
                }
                _ => break,
            }
        }
    }

    /// The named curve of the first chain's leaf key, if it is an EC key.
    fn leaf_curve(&self) -> Option<NamedGroup> {
        let leaf = self.out.chains.first()?.der.first()?;
        let (_, cert) = X509Certificate::from_der(leaf).ok()?;
        let params = cert.public_key().algorithm.parameters.as_ref()?;
        Some(match params.as_oid().ok()?.to_id_string().as_str() {
            "1.2.840.10045.3.1.7" => NamedGroup::SECP256R1,
            "1.3.132.0.34" => NamedGroup::SECP384R1,
            "1.3.132.0.35" => NamedGroup::SECP521R1,
            _ => return None,
        })
    }

    /// Under TLS 1.3 the certificate is encrypted: one rustls handshake reads it.
    async fn tls13_chain(&mut self) {
        let Some((conv, _admission)) = self.open("TLS 1.3 handshake for the certificate").await
        else {
            return;
        };
        let outcome =
            rustls_probe::handshake(&self.p.clients.tls, self.cleared.addr(), conv, STEP_WAIT)
                .await;
        let ev = self.p.record_only(
            self.cleared.addr(),
            self.port,
            "tls-handshake",
            &outcome.tape,
            format!(
                "{} (to read the certificate, which TLS 1.3 encrypts)",
                outcome.note()
            ),
        );
        if !outcome.chain.is_empty() {
            self.keep_chain(outcome.chain, &ev);
        }
    }

    /// Keeps what a flight shows beyond the version and suite.
    fn absorb(&mut self, flight: &Flight, ev: &str) {
        if !flight.certificates.is_empty() {
            self.keep_chain(flight.certificates.clone(), ev);
        }
        if let Some(KeyExchangeParams::Dh { prime_bits }) = flight.key_exchange {
            if !self.out.dh_bits.iter().any(|(b, _)| *b == prime_bits) {
                self.out.dh_bits.push((prime_bits, ev.to_owned()));
            }
        }
    }

    fn keep_chain(&mut self, der: Vec<Vec<u8>>, ev: &str) {
        let leaf = der.first();
        if !self.out.chains.iter().any(|c| c.der.first() == leaf) {
            self.out.chains.push(ChainObservation {
                der,
                evidence: ev.to_owned(),
            });
        }
    }

    /// One ClientHello at `version` offering `suites` (and `groups`, or every group).
    async fn tls_hello(
        &mut self,
        version: Version,
        suites: &[CipherSuite],
        groups: &[NamedGroup],
        key_share: bool,
    ) -> (Reply, String) {
        let groups = if groups.is_empty() {
            NamedGroup::ALL
        } else {
            groups
        };
        // A random X25519 share is a valid public value; kenshin never uses the secret.
        let shares = if key_share && version >= Version::TLS13 {
            vec![(NamedGroup::X25519, rand::random::<[u8; 32]>().to_vec())]
        } else {
            Vec::new()
        };
        let session_id: [u8; 32] = rand::random();
        let server_name = self.server_name.clone();
        let hello = ClientHello {
            version,
            suites,
            groups,
            key_shares: &shares,
            server_name: server_name.as_deref(),
            random: rand::random(),
            session_id: if version >= Version::TLS13 {
                &session_id
            } else {
                &[]
            },
        };
        let what = format!(
            "{} ClientHello offering {} suites and {} groups{}",
            version.display(),
            suites.len(),
            groups.len(),
            if version >= Version::TLS13 && !key_share {
                " with no key share"
            } else {
                ""
            }
        );
        self.handshake(Hello::Tls(hello), &what).await
    }

    /// Opens a connection and runs the channel's preamble; `None` stops the audit.
    async fn open(&mut self, what: &str) -> Option<(Conversation<TcpStream>, Admission)> {
        if self.stopped {
            return None;
        }
        if self.out.handshakes >= self.settings.max_handshakes {
            self.stop(format!(
                "stopped at the cap of {} handshakes for one port",
                self.settings.max_handshakes
            ));
            return None;
        }
        if Instant::now() >= self.deadline {
            self.stop(format!(
                "stopped at the {} s time limit for one port",
                self.settings.deadline.as_secs()
            ));
            return None;
        }
        if self.out.handshakes > 0 {
            tokio::time::sleep(self.settings.pause).await;
        }
        let connection = match self.p.connect(self.cleared, self.port).await {
            Ok(c) => c,
            Err(first) if self.out.handshakes > 0 && !self.p.cancel.is_cancelled() => {
                // The server accepted us before: give it a rest, then ask once more.
                tokio::time::sleep(BACKOFF).await;
                match self.p.connect(self.cleared, self.port).await {
                    Ok(c) => c,
                    Err(e) => {
                        self.stop(format!(
                            "the server stopped accepting connections after {} handshakes \
                             ({first}; again after {} s: {e}); the result is partial",
                            self.out.handshakes,
                            BACKOFF.as_secs()
                        ));
                        return None;
                    }
                }
            }
            Err(e) => {
                self.stop(format!("{what}: {e}"));
                return None;
            }
        };
        self.out.handshakes += 1;
        let until = self.deadline.min(Instant::now() + STEP_WAIT * 3);
        let mut conv = Conversation::new(connection.stream, BYTE_BUDGET, until);
        if let Err(e) = self.channel.prepare(&mut conv).await {
            let ev = self.p.record_only(
                self.cleared.addr(),
                self.port,
                "tls-starttls",
                &conv.tape().snapshot(),
                format!(
                    "{} upgrade before a handshake failed: {e}",
                    self.channel.as_str()
                ),
            );
            self.stop(format!(
                "{} upgrade failed: {e} ({ev})",
                self.channel.as_str()
            ));
            return None;
        }
        Some((conv, connection._admission))
    }

    fn stop(&mut self, why: String) {
        self.stopped = true;
        self.out.complete = false;
        self.out.notes.push(why);
    }

    /// Sends one hello on a new connection, reads the server's flight, says goodbye,
    /// and records the exchange.
    async fn handshake(&mut self, hello: Hello<'_>, what: &str) -> (Reply, String) {
        let Some((mut conv, _admission)) = self.open(what).await else {
            return (Reply::Stopped, String::new());
        };
        let (bytes, version) = match &hello {
            Hello::Tls(h) => (tls::encode_client_hello(h), h.version),
            Hello::Sslv2 => (sslv2::encode_client_hello(rand::random()), Version::SSL2),
        };
        let start = conv.buf.len();
        let reply = match conv.say(&bytes).await {
            Err(e) => Reply::Refused(format!("sending the hello failed: {e}")),
            Ok(()) => {
                let heard = match hello {
                    Hello::Tls(_) => conv
                        .hear(STEP_WAIT, |b| tls::read_flight(&b[start..]))
                        .await
                        .map(|f| Reply::Hello(Box::new(f))),
                    Hello::Sslv2 => conv
                        .hear(STEP_WAIT, |b| sslv2::read_server_hello(&b[start..]))
                        .await
                        .map(Reply::Sslv2),
                };
                match heard {
                    Heard::Done(r) => r,
                    other => Reply::Refused(heard_note(&other)),
                }
            }
        };
        let note = match &reply {
            Reply::Hello(f) => {
                if f.server_hello.is_some() && version != Version::SSL2 {
                    let _ = conv.say(&tls::encode_goodbye(version)).await;
                }
                format!("{what}: {}", describe(f))
            }
            Reply::Sslv2(h) => format!(
                "{what}: SSLv2 SERVER-HELLO with {} cipher kinds",
                h.ciphers.len()
            ),
            Reply::Refused(why) => format!("{what}: no TLS answer ({why})"),
            Reply::Stopped => what.to_owned(),
        };
        let reply = match reply {
            Reply::Hello(f) if f.server_hello.is_none() => Reply::Refused(describe(&f)),
            other => other,
        };
        let ev = self.p.record_only(
            self.cleared.addr(),
            self.port,
            "tls-hello",
            &conv.tape().snapshot(),
            note,
        );
        (reply, ev)
    }
}

/// A flight in words, for the evidence note.
fn describe(f: &Flight) -> String {
    match (&f.server_hello, f.end, &f.alert) {
        (_, FlightEnd::Alert, Some(a)) => format!(
            "{} alert {}",
            if a.level == 2 { "fatal" } else { "warning" },
            a.description.display()
        ),
        (Some(h), end, _) => {
            let mut s = format!("{} {}", h.version().display(), h.suite.display());
            if end == FlightEnd::HelloRetry {
                s.push_str(" (HelloRetryRequest");
                if let Some(g) = h.key_share_group {
                    s.push_str(&format!(" for {}", g.display()));
                }
                s.push(')');
            } else if let Some(g) = h.key_share_group {
                s.push_str(&format!(", key share {}", g.display()));
            }
            match &f.key_exchange {
                Some(KeyExchangeParams::NamedCurve(g)) => {
                    s.push_str(&format!(", ECDHE {}", g.display()))
                }
                Some(KeyExchangeParams::Dh { prime_bits }) => {
                    s.push_str(&format!(", DHE {prime_bits} bits"))
                }
                Some(KeyExchangeParams::Rsa { modulus_bits }) => {
                    s.push_str(&format!(", temporary RSA {modulus_bits} bits"))
                }
                Some(KeyExchangeParams::ExplicitCurve(t)) => {
                    s.push_str(&format!(", explicit curve type {t}"))
                }
                None => {}
            }
            if !f.certificates.is_empty() {
                s.push_str(&format!(", {} certificates", f.certificates.len()));
            }
            s
        }
        (None, _, _) => "no ServerHello".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_is_offered_only_the_suites_it_can_choose() {
        let v13 = offer_for(Version::TLS13);
        assert!(v13.iter().all(|s| s.0 >> 8 == 0x13));
        let v12 = offer_for(Version::TLS12);
        assert!(v12.contains(&CipherSuite(0xC02F)) && v12.contains(&CipherSuite(0x002F)));
        let v10 = offer_for(Version::TLS10);
        assert!(!v10.contains(&CipherSuite(0xC02F)) && v10.contains(&CipherSuite(0x002F)));
        assert_eq!(offer_for(Version::SSL3), v10);
    }

    #[test]
    fn offers_are_split_evenly_into_hellos_of_at_most_128_suites() {
        for v in VERSIONS {
            let offer = offer_for(v);
            let parts = chunks(&offer);
            assert!(parts.iter().all(|c| c.len() <= MAX_SUITES_PER_HELLO));
            assert_eq!(parts.concat(), offer);
            let (min, max) = (
                parts.iter().map(Vec::len).min().unwrap_or(0),
                parts.iter().map(Vec::len).max().unwrap_or(0),
            );
            assert!(max - min <= 1, "{v:?}: {min}..{max}");
        }
    }
}

/// The audit against a scripted server on loopback, for behaviour no lab daemon shows.
#[cfg(test)]
mod scripted {
    use std::net::{IpAddr, Ipv4Addr};
    use std::path::Path;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::evidence::EvidenceLog;
    use crate::governor::{Governor, SafetySettings};
    use crate::ports::PortCatalog;
    use crate::scope::{AddrRange, Scope, ScopeGuard};
    use crate::service::Clients;

    /// Reads one ClientHello record; returns (client_version, first offered suite).
    async fn read_hello(s: &mut TcpStream) -> Option<(u16, u16)> {
        let mut header = [0u8; 5];
        s.read_exact(&mut header).await.ok()?;
        if header[0] != 22 {
            return None; // SSLv2 or anything else: no answer
        }
        let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
        s.read_exact(&mut body).await.ok()?;
        let version = u16::from_be_bytes([*body.get(4)?, *body.get(5)?]);
        let sid = usize::from(*body.get(38)?);
        let at = 39 + sid + 2;
        Some((
            version,
            u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]),
        ))
    }

    /// Chooses the first suite of every TLS 1.2 hello and then aborts with internal_error,
    /// as a server that cannot sign with its key does; refuses every other version.
    async fn aborting_server() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let reply = match read_hello(&mut s).await {
                        Some((0x0303, suite)) if suite >> 8 != 0x13 => {
                            let mut hello = vec![3, 3];
                            hello.extend([7u8; 32]);
                            hello.push(0);
                            hello.extend(suite.to_be_bytes());
                            hello.push(0);
                            let mut msg = vec![2, 0, 0, u8::try_from(hello.len()).unwrap_or(0)];
                            msg.extend(hello);
                            let mut out = vec![22, 3, 3, 0, u8::try_from(msg.len()).unwrap_or(0)];
                            out.extend(msg);
                            out.extend([21, 3, 3, 0, 2, 2, 80]);
                            out
                        }
                        Some(_) => vec![21, 3, 1, 0, 2, 2, 70],
                        None => Vec::new(),
                    };
                    let _ = s.write_all(&reply).await;
                });
            }
        });
        port
    }

    /// Refuses every hello with protocol_version on its first `n` connections, then
    /// closes its port, as a server that starts refusing a scanner does.
    async fn server_that_stops_after(n: usize) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            for _ in 0..n {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                let _ = read_hello(&mut s).await;
                let _ = s.write_all(&[21, 3, 1, 0, 2, 2, 70]).await;
            }
            drop(listener);
        });
        port
    }

    /// What a model server makes of one ClientHello record: a line for the log of
    /// hellos (everything in it but the random values) and what the hello offers.
    struct Asked {
        line: String,
        version: u16,
        suites: Vec<u16>,
        groups: Vec<u16>,
        shares: Vec<u16>,
    }

    /// FNV-1a over the offered suites: the log names a long offer by count and hash.
    fn fnv(values: &[u16]) -> u64 {
        values
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
    }

    /// Reads one hello; `None` for anything that is not a TLS ClientHello record.
    async fn read_client_hello(s: &mut TcpStream) -> Option<Asked> {
        let mut header = [0u8; 5];
        s.read_exact(&mut header).await.ok()?;
        if header[0] != 22 {
            return Some(Asked {
                line: format!("not a TLS record: first byte {:#04x}", header[0]),
                version: 0,
                suites: Vec::new(),
                groups: Vec::new(),
                shares: Vec::new(),
            });
        }
        let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
        s.read_exact(&mut body).await.ok()?;
        let u16_at = |b: &[u8], at: usize| Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]));
        let list = |b: &[u8]| -> Vec<u16> {
            b.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect()
        };
        let legacy = u16_at(&body, 4)?;
        let mut at = 38;
        at += 1 + usize::from(*body.get(at)?);
        let n = usize::from(u16_at(&body, at)?);
        let suites = list(body.get(at + 2..at + 2 + n)?);
        at += 2 + n;
        at += 1 + usize::from(*body.get(at)?);
        let (mut groups, mut versions, mut shares, mut exts) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        if let Some(total) = u16_at(&body, at) {
            let end = at + 2 + usize::from(total);
            at += 2;
            while at + 4 <= end {
                let (code, len) = (u16_at(&body, at)?, usize::from(u16_at(&body, at + 2)?));
                let data = body.get(at + 4..at + 4 + len)?;
                exts.push(code);
                match code {
                    10 => groups = list(data.get(2..)?),
                    43 => versions = list(data.get(1..)?),
                    51 => {
                        let mut k = 2;
                        while let (Some(g), Some(l)) = (u16_at(data, k), u16_at(data, k + 2)) {
                            shares.push(g);
                            k += 4 + usize::from(l);
                        }
                    }
                    _ => {}
                }
                at += 4 + len;
            }
        }
        let version = match versions.as_slice() {
            [] => legacy,
            [one] => *one,
            _ => {
                // Only rustls offers several versions: its hello is its own business.
                return Some(Asked {
                    line: "a rustls ClientHello".into(),
                    version: 0x0304,
                    suites,
                    groups,
                    shares,
                });
            }
        };
        let line = format!(
            "{version:04x} suites {} #{:016x} groups {:?} shares {:?} extensions {:?}",
            suites.len(),
            fnv(&suites),
            groups,
            shares,
            exts
        );
        Some(Asked {
            line,
            version,
            suites,
            groups,
            shares,
        })
    }

    /// A TLS record holding handshake messages.
    fn record(version: u16, messages: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut hs = Vec::new();
        for (kind, body) in messages {
            hs.push(*kind);
            hs.extend(&u32::try_from(body.len()).unwrap_or(0).to_be_bytes()[1..]);
            hs.extend(body);
        }
        let mut out = vec![22];
        out.extend(version.to_be_bytes());
        out.extend(u16::try_from(hs.len()).unwrap_or(0).to_be_bytes());
        out.extend(hs);
        out
    }

    fn server_hello(
        version: u16,
        random: [u8; 32],
        suite: u16,
        exts: &[(u16, Vec<u8>)],
    ) -> Vec<u8> {
        let mut b = version.to_be_bytes().to_vec();
        b.extend(random);
        b.push(0);
        b.extend(suite.to_be_bytes());
        b.push(0);
        let mut e = Vec::new();
        for (code, data) in exts {
            e.extend(code.to_be_bytes());
            e.extend(u16::try_from(data.len()).unwrap_or(0).to_be_bytes());
            e.extend(data);
        }
        if !e.is_empty() {
            b.extend(u16::try_from(e.len()).unwrap_or(0).to_be_bytes());
            b.extend(e);
        }
        b
    }

    /// How a model server is set up.
    #[derive(Clone, Copy)]
    struct Model {
        /// Speaks TLS 1.3 besides 1.2 and 1.0.
        tls13: bool,
        /// Takes the client's first acceptable suite and group instead of its own.
        client_order: bool,
        /// The certificate it sends up to TLS 1.2.
        leaf: Option<&'static [u8]>,
    }

    /// An ECDSA P-256 self-signed certificate (made with `openssl req -x509 -newkey ec
    /// -pkeyopt ec_paramgen_curve:prime256v1 -days 36500 -outform DER`).
    const P256_LEAF: &[u8] = include_bytes!("audit/testdata/p256-leaf.der");

    /// A server like a careful hospital portal: TLS 1.3 (if `model.tls13`), 1.2 and
    /// 1.0 (not 1.1, not SSLv3), a few suites and ECDHE groups, and an answer to each
    /// hello as a real server gives it (ServerHello, Certificate, ServerKeyExchange,
    /// HelloRetryRequest, alerts). Every hello is logged.
    async fn model_server(model: Model, log: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> u16 {
        const TLS13_SUITES: [u16; 3] = [0x1302, 0x1301, 0x1303];
        const TLS12_SUITES: [u16; 7] = [0xC030, 0xC02F, 0xCCA8, 0x009D, 0x009C, 0x003C, 0x002F];
        const TLS10_SUITES: [u16; 3] = [0xC014, 0x002F, 0x000A];
        const GROUPS: [u16; 3] = [24, 29, 23];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let Some(asked) = read_client_hello(&mut s).await else {
                    continue;
                };
                log.lock().expect("log").push(asked.line.clone());
                let pick = |mine: &[u16], theirs: &[u16]| {
                    if model.client_order {
                        theirs.iter().copied().find(|x| mine.contains(x))
                    } else {
                        mine.iter().copied().find(|x| theirs.contains(x))
                    }
                };
                let alert = |v: u16, d: u8| {
                    let mut a = vec![21];
                    a.extend(v.to_be_bytes());
                    a.extend([0, 2, 2, d]);
                    a
                };
                let v = asked.version;
                let reply = match v {
                    0 => Vec::new(),
                    0x0304 if !model.tls13 => alert(0x0303, 70),
                    0x0304 => match (
                        pick(&TLS13_SUITES, &asked.suites),
                        pick(&GROUPS, &asked.groups),
                    ) {
                        (Some(suite), Some(group)) => {
                            let sv = (43, vec![3, 4]);
                            match pick(&GROUPS, &asked.shares) {
                                Some(shared) => {
                                    let mut ks = shared.to_be_bytes().to_vec();
                                    ks.extend([0, 32]);
                                    ks.extend([9u8; 32]);
                                    record(
                                        0x0303,
                                        &[(
                                            2,
                                            server_hello(0x0303, [5; 32], suite, &[sv, (51, ks)]),
                                        )],
                                    )
                                }
                                None => record(
                                    0x0303,
                                    &[(
                                        2,
                                        server_hello(
                                            0x0303,
                                            tls::HELLO_RETRY_RANDOM,
                                            suite,
                                            &[sv, (51, group.to_be_bytes().to_vec())],
                                        ),
                                    )],
                                ),
                            }
                        }
                        _ => alert(0x0303, 40),
                    },
                    0x0303 | 0x0301 => {
                        let suites: &[u16] = if v == 0x0303 {
                            &TLS12_SUITES
                        } else {
                            &TLS10_SUITES
                        };
                        match pick(suites, &asked.suites) {
                            None => alert(v, 40),
                            Some(suite) => {
                                let mut flight = vec![(2, server_hello(v, [6; 32], suite, &[]))];
                                if let Some(der) = model.leaf {
                                    let len = |n: usize| {
                                        u32::try_from(n).unwrap_or(0).to_be_bytes()[1..].to_vec()
                                    };
                                    let mut c = len(der.len() + 3);
                                    c.extend(len(der.len()));
                                    c.extend(der);
                                    flight.push((11, c));
                                }
                                let ecdhe = suite >> 8 == 0xC0 || suite >> 8 == 0xCC;
                                match (ecdhe, pick(&GROUPS, &asked.groups)) {
                                    (true, None) => alert(v, 40),
                                    (true, Some(g)) => {
                                        let mut ske = vec![3];
                                        ske.extend(g.to_be_bytes());
                                        ske.extend([1, 4]);
                                        flight.push((12, ske));
                                        flight.push((14, Vec::new()));
                                        record(v, &flight)
                                    }
                                    (false, _) => {
                                        flight.push((14, Vec::new()));
                                        record(v, &flight)
                                    }
                                }
                            }
                        }
                    }
                    _ => alert(0x0301, 70),
                };
                let _ = s.write_all(&reply).await;
            }
        });
        port
    }

    /// Audits a model server and compares the hellos it heard, and what the audit
    /// concluded, with `name`'s golden log (`KENSHIN_BLESS=1` rewrites it).
    async fn golden(model: Model, name: &str) {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let port = model_server(model, log.clone()).await;
        let audit = audit(port, 400).await;
        let hellos = log.lock().expect("log").join("\n");
        let summary: Vec<String> = audit
            .versions
            .iter()
            .map(|v| {
                format!(
                    "{} {} {:?}",
                    v.version.display(),
                    v.suites.len(),
                    v.preference
                )
            })
            .collect();
        let groups: Vec<String> = audit.groups.iter().map(|(g, _)| g.display()).collect();
        let got = format!(
            "{hellos}\nversions {summary:?}\ngroups {groups:?}\nchains {}\nhandshakes {}\nnotes {:?}\n",
            audit.chains.len(),
            audit.handshakes,
            audit.notes
        );
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/service/audit/testdata")
            .join(name);
        if std::env::var_os("KENSHIN_BLESS").is_some() {
            std::fs::write(&file, &got).expect("write the golden log");
        }
        let want = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e} (KENSHIN_BLESS=1 writes it)", file.display()));
        assert_eq!(got, want, "the audit's hellos changed");
    }

    #[tokio::test]
    async fn the_audit_of_a_server_ordered_tls13_server_sends_its_golden_hellos() {
        let model = Model {
            tls13: true,
            client_order: false,
            leaf: None,
        };
        golden(model, "hellos-tls13-server-order.golden").await;
    }

    #[tokio::test]
    async fn the_audit_of_a_client_ordered_tls12_server_sends_its_golden_hellos() {
        let model = Model {
            tls13: false,
            client_order: true,
            leaf: Some(P256_LEAF),
        };
        golden(model, "hellos-tls12-client-order.golden").await;
    }

    async fn audit(port: u16, max_handshakes: u32) -> TlsAuditObservation {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let guard = ScopeGuard::new(
            Scope::new(vec![AddrRange::single(lo)], vec![], 16, false).expect("scope"),
        );
        let cleared = guard.clear(lo).expect("in scope");
        let governor = Governor::new(SafetySettings::default());
        let cancel = CancellationToken::new();
        let evidence = EvidenceLog::default();
        let catalog = PortCatalog::builtin().expect("catalog");
        let clients = Clients::new("kenshin-test").expect("clients");
        let prober = Prober {
            governor: &governor,
            cancel: &cancel,
            evidence: &evidence,
            catalog: &catalog,
            clients: &clients,
        };
        let settings = AuditSettings {
            pause: Duration::ZERO,
            max_handshakes,
            deadline: Duration::from_secs(30),
        };
        Auditor::new(&prober, cleared, port, Channel::Direct, None, settings)
            .run()
            .await
    }

    #[tokio::test]
    async fn a_server_that_starts_refusing_is_given_a_rest_then_left_with_a_partial_result() {
        let port = server_that_stops_after(3).await;
        let started = std::time::Instant::now();
        let audit = audit(port, 100).await;
        assert!(started.elapsed() >= BACKOFF, "asked again without resting");
        assert!(!audit.complete);
        assert_eq!(audit.handshakes, 3, "{audit:?}");
        let note = audit.notes.join(" | ");
        assert!(
            note.contains("stopped accepting connections after 3 handshakes"),
            "{note}"
        );
        // TLS 1.3 was refused in full; TLS 1.2's offer takes three hellos (at most 128
        // suites each), and the third found the port closed: TLS 1.2 is unfinished.
        let finished: Vec<(Version, bool)> = audit
            .versions
            .iter()
            .map(|v| (v.version, v.complete))
            .collect();
        assert_eq!(finished, [(Version::TLS13, true), (Version::TLS12, false)]);
    }

    #[tokio::test]
    async fn suites_a_server_chooses_and_then_aborts_are_not_counted_as_accepted() {
        let port = aborting_server().await;
        let audit = audit(port, 100).await;
        assert!(
            audit.versions.iter().all(|v| !v.accepted),
            "{:?}",
            audit.versions
        );
        let note = audit
            .notes
            .iter()
            .find(|n| n.contains("aborted its own handshake"))
            .unwrap_or_else(|| panic!("no note about the aborts: {:?}", audit.notes));
        assert!(note.contains("(internal_error)"), "{note}");
        // Two aborts of a kind and the rest of that kind is left untried, so the audit
        // costs about two handshakes per kind, not one per suite, and says it is partial.
        assert!(audit.handshakes < 50, "{} handshakes", audit.handshakes);
        assert!(!audit.complete);
        assert!(
            audit.notes.iter().any(|n| n.contains("ECDHE-RSA")),
            "{:?}",
            audit.notes
        );
    }
}
