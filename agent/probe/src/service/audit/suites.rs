//! The suites a server accepts at one version, by elimination: offer every suite
//! still in question, take out the one the server names, ask again, until it
//! refuses.
//!
//! A server that chooses a suite and then aborts its own handshake (a key it
//! cannot sign with, say) has not accepted it. A server that cannot complete one
//! kind of suite (key exchange and authentication) usually cannot complete any
//! suite of it, so after [`ABORTS_PER_KIND`] aborts of a kind the rest of that
//! kind is left untried rather than walked, and the result says it is partial.

use kenshin_wire::tls::{AlertDescription, CipherSuite, Flight, FlightEnd, Version};

use super::handshake::Reply;
use super::offer::{kind_of, SuiteKind};
use super::Auditor;
use crate::observation::{SuitePreference, TlsVersionObservation};

/// Aborted handshakes of one kind of suite before the rest of that kind is left untried.
pub(super) const ABORTS_PER_KIND: usize = 2;

/// What the elimination at one version has learned so far.
pub(super) struct Elimination {
    version: Version,
    result: TlsVersionObservation,
    /// Suites the server chose and then aborted its own handshake on.
    aborted: Vec<(CipherSuite, AlertDescription)>,
    /// Kinds of suite no longer offered.
    given_up: Vec<SuiteKind>,
}

/// What one answer means for the chunk being asked about.
enum Step {
    /// The server took a suite (or chose and aborted one): ask again without it.
    AskAgain,
    /// The server refused what is left, or answered off the question.
    ChunkDone,
    /// The audit stopped.
    Stopped,
}

impl Elimination {
    pub(super) fn new(version: Version) -> Self {
        Self {
            version,
            result: TlsVersionObservation {
                version,
                accepted: false,
                suites: Vec::new(),
                preference: SuitePreference::Unknown,
                evidence: None,
                complete: true,
            },
            aborted: Vec::new(),
            given_up: Vec::new(),
        }
    }

    /// True once the server accepted some suite at this version.
    pub(super) fn accepted(&self) -> bool {
        self.result.accepted
    }

    /// The server accepted `suite`; `ev` is the handshake that shows it.
    fn accept(&mut self, suite: CipherSuite, ev: &str) {
        self.result.accepted = true;
        if self.result.suites.is_empty() {
            self.result.evidence = Some(ev.to_owned());
        }
        self.result.suites.push((suite, ev.to_owned()));
    }

    /// Keeps `ev` as the version's evidence while nothing was accepted.
    fn refused(&mut self, ev: String) {
        if !self.result.accepted {
            self.result.evidence.get_or_insert(ev);
        }
    }

    /// The server chose `suite` and then aborted; after [`ABORTS_PER_KIND`] of its kind,
    /// the rest of the kind leaves `remaining` (and later chunks) for good.
    fn abort(
        &mut self,
        suite: CipherSuite,
        alert: AlertDescription,
        remaining: &mut Vec<CipherSuite>,
        later: &[Vec<CipherSuite>],
    ) {
        self.aborted.push((suite, alert));
        let kind = kind_of(suite);
        let n = self
            .aborted
            .iter()
            .filter(|(s, _)| kind_of(*s) == kind)
            .count();
        if n < ABORTS_PER_KIND || self.given_up.contains(&kind) {
            return;
        }
        let before = remaining.len();
        remaining.retain(|s| kind_of(*s) != kind);
        let in_later = later.iter().flatten().any(|s| kind_of(*s) == kind);
        if remaining.len() < before || in_later {
            self.given_up.push(kind);
            self.result.complete = false;
        }
    }

    /// The note on suites chosen and aborted, if any were.
    fn aborted_note(&self) -> Option<String> {
        if self.aborted.is_empty() {
            return None;
        }
        Some(format!(
            "{}: the server chose {} suites but aborted its own handshake each time, so they \
             are not counted as accepted: {}",
            self.version.display(),
            self.aborted.len(),
            self.aborted
                .iter()
                .map(|(s, a)| format!("{} ({})", s.display(), a.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// The note on kinds of suite left untried, if any were.
    fn given_up_note(&self) -> Option<String> {
        if self.given_up.is_empty() {
            return None;
        }
        Some(format!(
            "{}: after {ABORTS_PER_KIND} aborted handshakes of a kind, the other suites of \
             that kind were not tried: {}",
            self.version.display(),
            self.given_up
                .iter()
                .map(|(kx, auth)| format!("{}-{auth}", kx.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

impl Auditor<'_, '_> {
    /// Asks about one chunk of the offer until the server refuses what is left of it;
    /// `later` are the chunks still to come. False if the audit stopped.
    pub(super) async fn eliminate(
        &mut self,
        e: &mut Elimination,
        chunk: &[CipherSuite],
        later: &[Vec<CipherSuite>],
    ) -> bool {
        let mut remaining: Vec<CipherSuite> = chunk
            .iter()
            .copied()
            .filter(|s| !e.given_up.contains(&kind_of(*s)))
            .collect();
        while !remaining.is_empty() {
            let (reply, ev) = self.tls_hello(e.version, &remaining, &[], true).await;
            match self.step(e, &mut remaining, later, reply, ev) {
                Step::AskAgain => {}
                Step::ChunkDone => break,
                Step::Stopped => {
                    e.result.complete = false;
                    return false;
                }
            }
        }
        true
    }

    /// One hello offering `chunk`, one answer read: whether the version is accepted,
    /// without enumerating its suites. False if the audit stopped.
    pub(super) async fn ask_once(
        &mut self,
        e: &mut Elimination,
        chunk: &[CipherSuite],
        later: &[Vec<CipherSuite>],
    ) -> bool {
        let mut remaining = chunk.to_vec();
        let (reply, ev) = self.tls_hello(e.version, &remaining, &[], true).await;
        if let Step::Stopped = self.step(e, &mut remaining, later, reply, ev) {
            e.result.complete = false;
            return false;
        }
        true
    }

    /// Reads one answer to a hello offering `remaining`.
    fn step(
        &mut self,
        e: &mut Elimination,
        remaining: &mut Vec<CipherSuite>,
        later: &[Vec<CipherSuite>],
        reply: Reply,
        ev: String,
    ) -> Step {
        let flight = match reply {
            Reply::Hello(flight) => flight,
            Reply::Refused(_) | Reply::Sslv2(_) => {
                e.refused(ev);
                return Step::ChunkDone;
            }
            Reply::Stopped => return Step::Stopped,
        };
        let Some(hello) = &flight.server_hello else {
            return Step::ChunkDone;
        };
        if hello.version() != e.version {
            e.result.evidence.get_or_insert(ev);
            return Step::ChunkDone;
        }
        if !remaining.contains(&hello.suite) {
            self.out.notes.push(format!(
                "{}: the server chose {}, which was not offered",
                e.version.display(),
                hello.suite.display()
            ));
            return Step::ChunkDone;
        }
        remaining.retain(|s| *s != hello.suite);
        match aborted_on(&flight) {
            Some(alert) => {
                e.abort(hello.suite, alert, remaining, later);
                // What the server showed in clear before giving up is still real.
                self.absorb(&flight, &ev);
                e.refused(ev);
            }
            None => {
                e.accept(hello.suite, &ev);
                self.absorb(&flight, &ev);
            }
        }
        Step::AskAgain
    }

    /// Writes the elimination's notes into the audit and hands back its result.
    pub(super) fn settle(&mut self, e: Elimination) -> TlsVersionObservation {
        if let Some(note) = e.aborted_note() {
            self.out.notes.push(note);
        }
        if let Some(note) = e.given_up_note() {
            self.out.complete = false;
            self.out.notes.push(note);
        }
        e.result
    }
}

/// The alert a flight ended on after its ServerHello: the server chose a suite and
/// then gave up on its own handshake, so no connection can complete with it.
fn aborted_on(flight: &Flight) -> Option<AlertDescription> {
    flight
        .alert
        .filter(|_| flight.end == FlightEnd::Alert)
        .map(|a| a.description)
}
