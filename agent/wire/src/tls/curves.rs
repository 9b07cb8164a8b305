//! Named elliptic curves as certificates name them and as TLS names them: the OID
//! in an EC public key's parameters (RFC 5480, SEC 2, RFC 5639) beside the TLS
//! group of the same curve (RFC 8422, RFC 7027).
//!
//! The audit needs the pair because, up to TLS 1.2, an ECDSA certificate can be
//! used only when its curve is among the groups the client offers; a report needs
//! the curve's usual name.

use super::names::NamedGroup;

/// One named curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Curve {
    /// The OID of the curve in dotted form, as in a certificate's key parameters.
    pub oid: &'static str,
    /// The TLS group of the same curve.
    pub group: NamedGroup,
    /// The usual name: NIST's for the P curves, SEC 2's or RFC 5639's otherwise.
    pub name: &'static str,
}

/// Every curve that is both a certificate key curve and a TLS group.
pub const CURVES: &[Curve] = &[
    Curve {
        oid: "1.2.840.10045.3.1.1",
        group: NamedGroup(19),
        name: "P-192",
    },
    Curve {
        oid: "1.3.132.0.33",
        group: NamedGroup(21),
        name: "P-224",
    },
    Curve {
        oid: "1.2.840.10045.3.1.7",
        group: NamedGroup::SECP256R1,
        name: "P-256",
    },
    Curve {
        oid: "1.3.132.0.34",
        group: NamedGroup::SECP384R1,
        name: "P-384",
    },
    Curve {
        oid: "1.3.132.0.35",
        group: NamedGroup::SECP521R1,
        name: "P-521",
    },
    Curve {
        oid: "1.3.132.0.31",
        group: NamedGroup(18),
        name: "secp192k1",
    },
    Curve {
        oid: "1.3.132.0.32",
        group: NamedGroup(20),
        name: "secp224k1",
    },
    Curve {
        oid: "1.3.132.0.10",
        group: NamedGroup(22),
        name: "secp256k1",
    },
    Curve {
        oid: "1.3.36.3.3.2.8.1.1.7",
        group: NamedGroup(26),
        name: "brainpoolP256r1",
    },
    Curve {
        oid: "1.3.36.3.3.2.8.1.1.11",
        group: NamedGroup(27),
        name: "brainpoolP384r1",
    },
    Curve {
        oid: "1.3.36.3.3.2.8.1.1.13",
        group: NamedGroup(28),
        name: "brainpoolP512r1",
    },
    Curve {
        oid: "1.3.132.0.16",
        group: NamedGroup(9),
        name: "sect283k1",
    },
    Curve {
        oid: "1.3.132.0.36",
        group: NamedGroup(11),
        name: "sect409k1",
    },
    Curve {
        oid: "1.3.132.0.38",
        group: NamedGroup(13),
        name: "sect571k1",
    },
    Curve {
        oid: "1.3.132.0.39",
        group: NamedGroup(14),
        name: "sect571r1",
    },
];

/// The curve with this dotted OID, if it is one of [`CURVES`].
pub fn curve_by_oid(oid: &str) -> Option<&'static Curve> {
    CURVES.iter().find(|c| c.oid == oid)
}

impl NamedGroup {
    /// The TLS group of the curve a certificate names by this dotted OID.
    pub fn from_curve_oid(oid: &str) -> Option<NamedGroup> {
        curve_by_oid(oid).map(|c| c.group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nist_curves_map_to_their_tls_groups() {
        for (oid, group, name) in [
            ("1.2.840.10045.3.1.7", NamedGroup::SECP256R1, "P-256"),
            ("1.3.132.0.34", NamedGroup::SECP384R1, "P-384"),
            ("1.3.132.0.35", NamedGroup::SECP521R1, "P-521"),
        ] {
            assert_eq!(NamedGroup::from_curve_oid(oid), Some(group), "{oid}");
            assert_eq!(curve_by_oid(oid).map(|c| c.name), Some(name), "{oid}");
        }
    }

    #[test]
    fn an_unknown_or_partial_oid_names_no_curve() {
        for oid in [
            "",
            "1.2.840.10045.3.1",
            "1.2.840.10045.3.1.77",
            "1.3.101.110",
        ] {
            assert_eq!(NamedGroup::from_curve_oid(oid), None, "{oid:?}");
        }
    }

    #[test]
    fn each_oid_and_each_group_appears_once_and_every_group_has_a_registry_name() {
        for (i, c) in CURVES.iter().enumerate() {
            assert!(c.group.name().is_some(), "{c:?}");
            assert!(!c.group.is_ffdhe(), "{c:?}");
            for d in &CURVES[i + 1..] {
                assert!(c.oid != d.oid && c.group != d.group, "{c:?} and {d:?}");
            }
        }
    }

    #[test]
    fn every_elliptic_curve_kenshin_offers_has_its_certificate_oid() {
        let x_curves = [NamedGroup::X25519, NamedGroup::X448];
        for g in NamedGroup::ALL
            .iter()
            .filter(|g| !g.is_ffdhe() && !x_curves.contains(g))
        {
            assert!(
                CURVES.iter().any(|c| c.group == *g),
                "{} has no OID",
                g.display()
            );
        }
    }
}
