//! The fields that checks and advisories read: one flat map per service (and one per
//! host), built from an assessed host, its identified services, their TLS judgement
//! and the scan's context.
//!
//! Names are stable because rules name them. Fixed names are listed in
//! [`FIXED_FIELDS`]; a service's protocol facts keep their own names (`ssh.software`,
//! `smb.smb1`, `rdp.selected_protocol` …), each registered in [`kenshin_probe::facts`].

use kenshin_probe::facts::{self, FactType};
use kenshin_probe::observation::{Fact, Facts};

use crate::identify::{AssessedHost, Service};
use crate::tls::TlsReport;

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

/// What the scan knows beyond its observations.
#[derive(Debug, Clone, Default)]
pub struct ScanContext {
    /// The named segment the scanner sits in, if the user named it.
    pub vantage: Option<String>,
    /// True if the SNMP community used is a well-known default (`public`, `private`).
    pub snmp_default_community: bool,
    /// With an asset ledger: the addresses of hosts a ledger row names.
    pub registered: Option<std::collections::BTreeSet<std::net::IpAddr>>,
}

fn text(facts: &mut Facts, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        facts.insert(k.to_owned(), Fact::Text(v.to_owned()));
    }
}

/// The host-level fields, shared by every service of the host.
pub fn host_fields(host: &AssessedHost, ctx: &ScanContext) -> Facts {
    let mut f = Facts::new();
    f.insert(
        "host.address".into(),
        Fact::Text(host.observation.address.to_string()),
    );
    f.insert(
        "host.kind".into(),
        Fact::Text(host.kind.as_str().to_owned()),
    );
    text(&mut f, "host.segment", host.segment.as_deref());
    text(&mut f, "host.mac_vendor", host.mac_vendor.as_deref());
    let mut names: Vec<String> = host.services.iter().map(|s| s.service.clone()).collect();
    names.sort();
    names.dedup();
    f.insert("host.services".into(), Fact::List(names));
    text(&mut f, "scan.vantage", ctx.vantage.as_deref());
    let answered = host
        .observation
        .snmp
        .as_ref()
        .is_some_and(|s| s.community_accepted);
    f.insert(
        "snmp.default_community".into(),
        Fact::Bool(answered && ctx.snmp_default_community),
    );
    if let Some(registered) = &ctx.registered {
        f.insert(
            "ledger.registered".into(),
            Fact::Bool(registered.contains(&host.observation.address)),
        );
    }
    f
}

/// Every field of one service: its host's (from [`host_fields`], built once per
/// host), the service's own, its facts and its TLS.
pub fn service_fields(host_fields: &Facts, service: &Service) -> Facts {
    let mut f = host_fields.clone();
    // Protocol facts first: the fixed names below win over a fact of the same name.
    for (k, v) in &service.facts {
        f.insert(k.clone(), v.clone());
    }
    f.insert("service".into(), Fact::Text(service.service.clone()));
    f.insert("port".into(), Fact::Int(service.port.into()));
    f.insert(
        "protocol".into(),
        Fact::Text(service.protocol.as_str().to_owned()),
    );
    f.insert("tls".into(), Fact::Bool(service.tls));
    f.insert(
        "named_by".into(),
        Fact::Text(service.named_by.as_str().to_owned()),
    );
    f.insert("connect_only".into(), Fact::Bool(service.connect_only));
    text(&mut f, "banner", service.banner.as_deref());
    for attr in crate::fingerprint::ATTRIBUTES {
        text(&mut f, attr, service.identity.get(attr));
    }
    if let Some(t) = &service.tls_report {
        tls_fields(&mut f, t);
    }
    f
}

/// Versions older than TLS 1.2.
const LEGACY: &[&str] = &["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"];

fn tls_fields(f: &mut Facts, t: &TlsReport) {
    f.insert("audit.complete".into(), Fact::Bool(t.complete));
    f.insert("audit.versions".into(), Fact::List(t.versions.clone()));
    f.insert(
        "audit.legacy_versions".into(),
        Fact::List(
            t.versions
                .iter()
                .filter(|v| LEGACY.contains(&v.as_str()))
                .cloned()
                .collect(),
        ),
    );
    f.insert(
        "audit.profile".into(),
        Fact::Text(
            t.evaluation
                .satisfies
                .clone()
                .unwrap_or_else(|| "none".to_owned()),
        ),
    );
    let mut flags: Vec<String> = t
        .suites
        .iter()
        .flat_map(|s| s.flags.iter().map(|f| (*f).to_owned()))
        .collect();
    flags.sort();
    flags.dedup();
    f.insert("audit.suite_flags".into(), Fact::List(flags));
    if let Some(min) = t.dh_bits.iter().min() {
        f.insert("audit.dh_min_bits".into(), Fact::Int((*min).into()));
    }
    if let Some(leaf) = &t.certificate {
        let c = &leaf.facts;
        f.insert("cert.subject".into(), Fact::Text(c.subject.clone()));
        f.insert("cert.expired".into(), Fact::Bool(c.expired));
        f.insert("cert.not_yet_valid".into(), Fact::Bool(c.not_yet_valid));
        f.insert(
            "cert.expires_soon".into(),
            Fact::Bool(c.expires_within_30_days),
        );
        f.insert("cert.days_left".into(), Fact::Int(c.days_left));
        f.insert("cert.self_signed".into(), Fact::Bool(c.self_signed));
        f.insert("cert.trusted".into(), Fact::Bool(leaf.chain_trusted));
        if let Some(m) = leaf.hostname_match {
            f.insert("cert.name_match".into(), Fact::Bool(m));
        }
        f.insert(
            "cert.names_checked".into(),
            Fact::List(leaf.names_checked.clone()),
        );
        f.insert("cert.key_type".into(), Fact::Text(c.key_type.clone()));
        if let Some(bits) = c.key_bits {
            f.insert("cert.key_bits".into(), Fact::Int(bits.into()));
        }
        text(f, "cert.signature_hash", c.signature_hash.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_names_and_registered_facts_are_known_and_nothing_else() {
        assert!(known_field("service"));
        assert!(known_field("cert.key_bits"));
        assert!(known_field("smb.smb1"));
        assert!(known_field("rdp.selected_protocol"));
        assert!(!known_field("smb."));
        assert!(!known_field("sevrice"));
        assert!(!known_field("cert.keybits"));
        // A fact in a probe's namespace that no probe writes: a typo.
        assert!(!known_field("smb.smbv1"));
        assert!(unknown_field("smb.smbv1").contains("no probe writes"));
        assert_eq!(fact_type("smb.smb1"), Some(FactType::Bool));
    }
}
