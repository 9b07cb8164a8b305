//! What the audit asks about: the versions, newest first, the suites worth
//! offering at each, how an offer is cut into hellos, and the kind of a suite.

use kenshin_wire::tls::{CipherSuite, KeyExchange, Version};

/// Versions asked about, newest first (SSLv2 has its own hello).
pub(super) const VERSIONS: [Version; 5] = [
    Version::TLS13,
    Version::TLS12,
    Version::TLS11,
    Version::TLS10,
    Version::SSL3,
];

/// The most suites offered in one hello.
pub(super) const MAX_SUITES_PER_HELLO: usize = 128;

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
pub(super) fn chunks(offer: &[CipherSuite]) -> Vec<Vec<CipherSuite>> {
    if offer.is_empty() {
        return Vec::new();
    }
    let n = offer.len().div_ceil(MAX_SUITES_PER_HELLO);
    let size = offer.len().div_ceil(n);
    offer.chunks(size).map(<[CipherSuite]>::to_vec).collect()
}

/// A kind of suite: its key exchange and authentication.
pub(super) type SuiteKind = (KeyExchange, &'static str);

/// The kind of `suite`; `(Other, "other")` for a suite the registry cannot class.
pub(super) fn kind_of(suite: CipherSuite) -> SuiteKind {
    suite.class().map_or((KeyExchange::Other, "other"), |c| {
        (c.key_exchange, c.authentication)
    })
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
