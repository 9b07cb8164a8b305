//! What the flights show beyond a version and a suite: certificate chains (each
//! kept once, by its leaf) and the sizes of finite-field DH primes; and under
//! TLS 1.3, where the certificate is encrypted, one rustls handshake to read it.

use kenshin_wire::tls::{Flight, KeyExchangeParams};

use super::super::{tls as rustls_probe, STEP_WAIT};
use super::Auditor;
use crate::observation::ChainObservation;

impl Auditor<'_, '_> {
    /// Under TLS 1.3 the certificate is encrypted: one rustls handshake reads it.
    pub(super) async fn tls13_chain(&mut self) {
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
    pub(super) fn absorb(&mut self, flight: &Flight, ev: &str) {
        if !flight.certificates.is_empty() {
            self.keep_chain(flight.certificates.clone(), ev);
        }
        if let Some(KeyExchangeParams::Dh { prime_bits }) = flight.key_exchange {
            if !self.out.dh_bits.iter().any(|(b, _)| *b == prime_bits) {
                self.out.dh_bits.push((prime_bits, ev.to_owned()));
            }
        }
    }

    /// Keeps a chain unless one with the same leaf is already kept.
    fn keep_chain(&mut self, der: Vec<Vec<u8>>, ev: &str) {
        let leaf = der.first();
        if !self.out.chains.iter().any(|c| c.der.first() == leaf) {
            self.out.chains.push(ChainObservation {
                der,
                evidence: ev.to_owned(),
            });
        }
    }
}
