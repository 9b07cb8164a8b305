//! The version question: each version from TLS 1.3 down to SSLv3 in turn (its
//! suites by elimination, then whose order the server follows), and SSLv2, which
//! has a hello of its own.

use kenshin_wire::tls::{sslv2, Version};

use super::handshake::{Hello, Reply};
use super::offer::{chunks, offer_for, VERSIONS};
use super::suites::Elimination;
use super::Auditor;
use crate::observation::{SuitePreference, TlsVersionObservation};

impl Auditor<'_, '_> {
    /// Asks about every version, newest first, then SSLv2; stops when the audit does.
    pub(super) async fn versions(&mut self) {
        for version in VERSIONS {
            if self.stopped {
                break;
            }
            let result = self.version(version).await;
            self.out.versions.push(result);
        }
        if !self.stopped {
            self.sslv2().await;
        }
    }

    /// Accepted suites at `version`, by elimination over each chunk of the offer, and
    /// the server's preference when the list is complete and has two suites to order.
    async fn version(&mut self, version: Version) -> TlsVersionObservation {
        let offer = offer_for(version);
        let offers = chunks(&offer);
        let mut elimination = Elimination::new(version);
        if self.settings.versions_only {
            // One hello per chunk until the server takes a suite: that the version is
            // accepted is all this class's budget allows asking.
            for (at, chunk) in offers.iter().enumerate() {
                if !self
                    .ask_once(&mut elimination, chunk, &offers[at + 1..])
                    .await
                    || elimination.accepted()
                {
                    break;
                }
            }
            let mut result = self.settle(elimination);
            result.complete = false;
            return result;
        }
        for (at, chunk) in offers.iter().enumerate() {
            if !self
                .eliminate(&mut elimination, chunk, &offers[at + 1..])
                .await
            {
                break;
            }
        }
        let mut result = self.settle(elimination);
        if result.complete && result.suites.len() >= 2 {
            result.preference = self.preference(version, &offer, &result.suites).await;
        }
        result
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
}
