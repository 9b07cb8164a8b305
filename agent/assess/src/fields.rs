//! The names rules may read: the fixed fields of a service and its host
//! ([`FIXED_FIELDS`]) and the facts probes write (`kenshin_probe::facts`). A leaf, so
//! the matcher and every rule loader can check names without depending on how the
//! fields are built ([`crate::subject`]).

use kenshin_probe::facts::{self, FactType};

/// Field names that are always spelled this way, with what they hold.
pub const FIXED_FIELDS: &[(&str, &str)] = &[
    ("service", "the service name (`ssh`, `https`, `telnet` …)"),
    ("port", "the port number"),
    ("protocol", "`tcp` or `udp`"),
    ("tls", "true if the service spoke TLS"),
    (
        "named_by",
        "`probe` (from its bytes) or `port` (port number only)",
    ),
    ("connect_only", "true on ports kenshin only connects to"),
    ("banner", "what the service said about itself, capped"),
    ("vendor", "fingerprint: vendor"),
    ("product", "fingerprint: product"),
    ("version", "fingerprint: version"),
    ("os", "fingerprint: operating system"),
    (
        "distribution",
        "fingerprint: distribution (`Debian`, `Ubuntu` …)",
    ),
    (
        "package_revision",
        "fingerprint: distribution package revision",
    ),
    ("model", "fingerprint: model"),
    ("device", "fingerprint: device kind the service points to"),
    ("audit.complete", "true if the TLS audit finished"),
    ("audit.versions", "TLS versions accepted"),
    (
        "audit.legacy_versions",
        "accepted versions older than TLS 1.2",
    ),
    (
        "audit.profile",
        "IPA profile satisfied: `high`, `recommended`, `exception` or `none`",
    ),
    (
        "audit.suite_flags",
        "flags of the suites accepted (`rc4`, `cbc`, `static-kx` …)",
    ),
    ("audit.dh_min_bits", "smallest finite-field DH group seen"),
    ("cert.subject", "leaf certificate subject"),
    ("cert.expired", "leaf certificate expired"),
    ("cert.not_yet_valid", "leaf certificate not yet valid"),
    (
        "cert.expires_soon",
        "leaf certificate expires within 30 days",
    ),
    ("cert.days_left", "days until the leaf certificate expires"),
    ("cert.self_signed", "leaf certificate is self-signed"),
    ("cert.trusted", "chain verifies to a trusted root"),
    (
        "cert.name_match",
        "the certificate covers a name the host is known by; absent when no name is known",
    ),
    (
        "cert.names_checked",
        "the names the host is known by (target, PTR, ledger, redirects) that were checked",
    ),
    ("cert.key_type", "`RSA`, `EC` …"),
    ("cert.key_bits", "key size"),
    (
        "cert.signature_hash",
        "hash of the certificate signature (`SHA-1` …)",
    ),
    ("host.address", "the host's address"),
    ("host.kind", "device kind (`server`, `medical_device` …)"),
    ("host.segment", "named segment the host is in"),
    (
        "host.mac_vendor",
        "organisation the MAC address is registered to",
    ),
    ("host.services", "names of every open service on the host"),
    ("scan.vantage", "named segment the scanner sits in"),
    (
        "snmp.default_community",
        "the host answered SNMP to a well-known default community",
    ),
    (
        "ledger.registered",
        "true if a row of the asset ledger (--inventory) names the host; absent without a ledger",
    ),
];

/// True if `name` is a field a rule may read: a fixed name, or a fact some probe
/// writes ([`kenshin_probe::facts`]).
pub fn known_field(name: &str) -> bool {
    FIXED_FIELDS.iter().any(|(n, _)| *n == name) || facts::lookup(name).is_some()
}

/// Why `name` is not a field a rule may read, in words.
pub fn unknown_field(name: &str) -> String {
    if facts::in_known_namespace(name) {
        format!("no probe writes the fact {name:?} (the facts are listed in kenshin_probe::facts)")
    } else {
        format!("unknown field {name:?} (see subject::FIXED_FIELDS and kenshin_probe::facts)")
    }
}

/// The type of a registered fact, `None` for a fixed field.
pub fn fact_type(name: &str) -> Option<FactType> {
    facts::lookup(name).map(|f| f.kind)
}
