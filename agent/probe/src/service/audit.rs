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
//!
//! This module holds the settings and the order of the questions ([`Auditor::run`]);
//! each question is a module of its own:
//! - `offer`: which suites each version is asked about, in hellos of what size;
//! - `versions`: each version in turn, and SSLv2's own hello;
//! - `suites`: the accepted suites of one version, by elimination;
//! - `preference`: whose order the server follows;
//! - `groups`: the key-exchange groups, in the server's order;
//! - `chains`: the certificates the flights show, and TLS 1.3's through rustls;
//! - `handshake`: one hello, the server's flight, the evidence;
//! - `connection`: each connection within the limits, with one rest and retry.

mod chains;
mod connection;
mod groups;
mod handshake;
mod offer;
mod preference;
mod suites;
#[cfg(test)]
mod tests;
mod versions;

use std::time::Duration;

use kenshin_wire::tls::Version;
use tokio::time::Instant;

use super::starttls::Channel;
use super::Prober;
use crate::observation::TlsAuditObservation;
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
    /// Ask only which versions are accepted and read the certificate: no suite
    /// enumeration, no preference, no groups (a class budget's `versions-and-certificate`).
    pub versions_only: bool,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            pause: DEFAULT_PAUSE,
            max_handshakes: DEFAULT_MAX_HANDSHAKES,
            deadline: Duration::from_secs(240),
            versions_only: false,
        }
    }
}

/// Default pause between handshakes to one port.
pub const DEFAULT_PAUSE: Duration = Duration::from_millis(50);
/// Default cap on handshakes to one port: enough for a server accepting every
/// suite OpenSSL knows at three versions, and no more.
pub const DEFAULT_MAX_HANDSHAKES: u32 = 400;

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

    /// Runs the whole audit: versions and their suites, then groups, then the TLS 1.3
    /// certificate if no clear-text flight showed one.
    pub(crate) async fn run(mut self) -> TlsAuditObservation {
        let started = Instant::now();
        self.versions().await;
        if self.settings.versions_only {
            self.out.notes.push(
                "the host's class budget limits the TLS audit to versions and the certificate: \
                 cipher suites were not enumerated"
                    .to_owned(),
            );
        } else if !self.stopped {
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

    /// True if the server accepted `v`.
    fn accepted(&self, v: Version) -> bool {
        self.out
            .versions
            .iter()
            .any(|r| r.version == v && r.accepted)
    }

    /// Ends the audit early, saying why; what was learned is kept as partial.
    fn stop(&mut self, why: String) {
        self.stopped = true;
        self.out.complete = false;
        self.out.notes.push(why);
    }
}
