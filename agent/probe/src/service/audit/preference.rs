//! Whose order the server follows when it chooses a suite: the order of its
//! choices during the elimination tells, or one hello with the found suites
//! reversed settles it.

use kenshin_wire::tls::{CipherSuite, Version};

use super::handshake::Reply;
use super::Auditor;
use crate::observation::SuitePreference;

impl Auditor<'_, '_> {
    /// Server or client preference among `found`, the suites accepted at `version` in
    /// the order they were chosen from `offer`.
    pub(super) async fn preference(
        &mut self,
        version: Version,
        offer: &[CipherSuite],
        found: &[(CipherSuite, String)],
    ) -> SuitePreference {
        if !in_offer_order(offer, found) {
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
}

/// True if the server chose the suites in the order they were offered, which a
/// client-ordered server and a server whose order happens to match both do.
fn in_offer_order(offer: &[CipherSuite], found: &[(CipherSuite, String)]) -> bool {
    let position = |s: &CipherSuite| offer.iter().position(|o| o == s);
    found
        .windows(2)
        .all(|w| position(&w[0].0) < position(&w[1].0))
}
