//! The key-exchange groups a server accepts, in its order, by elimination as the
//! suites are: under TLS 1.3 a hello without a key share makes the server name its
//! group in a HelloRetryRequest; up to TLS 1.2 the ServerKeyExchange of an ECDHE
//! suite names the curve.
//!
//! Up to TLS 1.2 an ECDSA certificate is usable only if its curve is offered, so
//! that curve (the anchor) stays in every hello, last, so that a server following
//! the client's order picks it only when nothing else is left.

use kenshin_wire::tls::{CipherSuite, KeyExchange, KeyExchangeParams, NamedGroup, Version};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::handshake::Reply;
use super::offer::{kind_of, offer_for};
use super::Auditor;
use crate::observation::SuitePreference;

/// The certificate curves whose group is kept in every hello. These three are the
/// curves the anchor has always covered; the others of `kenshin_wire::tls::CURVES`
/// (brainpool, secp256k1, P-192, P-224 …) would deserve it too, but adding them
/// changes the hellos sent to such servers, which is a change of behaviour of its own.
const ANCHORED: [NamedGroup; 3] = [
    NamedGroup::SECP256R1,
    NamedGroup::SECP384R1,
    NamedGroup::SECP521R1,
];

/// How the groups are asked about.
struct GroupQuestion {
    version: Version,
    /// The suites every hello offers.
    suites: Vec<CipherSuite>,
    /// The server names its group in a HelloRetryRequest (TLS 1.3), not in a
    /// ServerKeyExchange.
    by_retry: bool,
}

impl Auditor<'_, '_> {
    /// Key-exchange groups in the server's order: by HelloRetryRequest under TLS 1.3,
    /// else by the ServerKeyExchange of the newest version with an ECDHE suite.
    pub(super) async fn groups(&mut self) {
        let Some(q) = self.group_question() else {
            return;
        };
        let mut remaining: Vec<NamedGroup> = NamedGroup::ALL
            .iter()
            .copied()
            .filter(|g| q.by_retry || !g.is_ffdhe())
            .collect();
        let anchor = if q.by_retry { None } else { self.leaf_curve() };
        let server_order = self.follows_own_order(q.version);
        while !remaining.is_empty() {
            let mut offer = remaining.clone();
            if let Some(a) = anchor.filter(|a| !offer.contains(a)) {
                offer.push(a);
            }
            let (reply, ev) = self.tls_hello(q.version, &q.suites, &offer, false).await;
            if let Reply::Stopped = reply {
                self.out
                    .notes
                    .push("the group enumeration stopped early".into());
                return;
            }
            match chosen_group(&reply, q.by_retry) {
                Some(g) if remaining.contains(&g) => {
                    remaining.retain(|r| *r != g);
                    self.out.groups.push((g, ev));
                }
                Some(g) if Some(g) == anchor && server_order => {
                    self.out.notes.push(format!(
                        "{}: the certificate's curve {} must be offered with an ECDSA \
                         certificate, and the server ranks it above the groups not yet \
                         seen, so groups it ranks lower cannot be listed",
                        q.version.display(),
                        g.display()
                    ));
                    break;
                }
                _ => break,
            }
        }
    }

    /// TLS 1.3 with all its suites if the server accepts it, else the newest version
    /// with an accepted ECDHE suite and those suites; `None` if there is none.
    fn group_question(&self) -> Option<GroupQuestion> {
        if self.accepted(Version::TLS13) {
            return Some(GroupQuestion {
                version: Version::TLS13,
                suites: offer_for(Version::TLS13),
                by_retry: true,
            });
        }
        let is_ecdhe = |s: &CipherSuite| kind_of(*s).0 == KeyExchange::Ecdhe;
        let v = self
            .out
            .versions
            .iter()
            .find(|v| v.accepted && v.suites.iter().any(|(s, _)| is_ecdhe(s)))?;
        Some(GroupQuestion {
            version: v.version,
            suites: v.suites.iter().map(|(s, _)| *s).filter(is_ecdhe).collect(),
            by_retry: false,
        })
    }

    /// False if the server was seen to follow the client's suite order at `version`.
    fn follows_own_order(&self, version: Version) -> bool {
        self.out
            .versions
            .iter()
            .find(|v| v.version == version)
            .is_none_or(|v| v.preference != SuitePreference::Client)
    }

    /// The group of the first chain's leaf key, if it is an EC key on an anchored curve.
    fn leaf_curve(&self) -> Option<NamedGroup> {
        let leaf = self.out.chains.first()?.der.first()?;
        let (_, cert) = X509Certificate::from_der(leaf).ok()?;
        let params = cert.public_key().algorithm.parameters.as_ref()?;
        let oid = params.as_oid().ok()?.to_id_string();
        NamedGroup::from_curve_oid(&oid).filter(|g| ANCHORED.contains(g))
    }
}

/// The group a server chose in answer to a group question.
fn chosen_group(reply: &Reply, by_retry: bool) -> Option<NamedGroup> {
    let Reply::Hello(f) = reply else {
        return None;
    };
    match (&f.server_hello, &f.key_exchange) {
        (Some(h), _) if by_retry => h.key_share_group,
        (_, Some(KeyExchangeParams::NamedCurve(g))) => Some(*g),
        _ => None,
    }
}
