//! The fields that checks and advisories read: one flat map per service (and one per
//! host), built from an assessed host, its identified services, their TLS judgement
//! and the scan's context.
//!
//! Names are stable because rules name them. Fixed names are listed in
//! [`FIXED_FIELDS`]; a service's protocol facts keep their own names (`ssh.software`,
//! `smb.smb1`, `rdp.selected_protocol` …), each registered in [`kenshin_probe::facts`].

use kenshin_probe::observation::{Fact, Facts};

use crate::identify::{AssessedHost, Service};
use crate::tls::TlsReport;

pub use crate::fields::{fact_type, known_field, unknown_field, FIXED_FIELDS};

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
    use kenshin_probe::facts::FactType;

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
