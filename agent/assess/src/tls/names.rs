//! The names a host is known by, which its certificates are judged against: a
//! hostname it was scanned as, its PTR record (from the system resolver), the asset
//! ledger's hostname column, and the host names its own HTTP redirects point to.
//!
//! A host scanned by address alone and known by no name has nothing a certificate
//! could be wrong about: whether clients reach it by the name its certificate carries
//! cannot be told from here. Its TLS section then records `names_checked: []` and
//! `name_check: "no-name-known"`, and `tls.certificate-name-mismatch` is not raised.
//! The address itself is checked only when the certificate names addresses (an IP
//! SAN): then the certificate claims to be for addresses, and the scanned one must be
//! among them.

use std::collections::HashMap;
use std::net::IpAddr;

use kenshin_probe::observation::{Fact, HostObservation};
use serde::Serialize;

/// The hostname the asset ledger gives each host, by address (built by
/// `Ledger::names_for` from the rows the hosts match).
pub type LedgerNames = HashMap<IpAddr, String>;

/// Where a known name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameSource {
    /// A hostname target that resolved to the address.
    Target,
    /// The address's PTR record.
    Ptr,
    /// The asset ledger's hostname column.
    Ledger,
    /// A `Location` the host's own HTTP service redirected to.
    Redirect,
    /// The scanned address, checked because the certificate names addresses.
    Address,
}

impl NameSource {
    /// The contract spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NameSource::Target => "target",
            NameSource::Ptr => "ptr",
            NameSource::Ledger => "ledger",
            NameSource::Redirect => "redirect",
            NameSource::Address => "address",
        }
    }
}

/// One name a host is known by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownName {
    pub name: String,
    pub from: NameSource,
}

/// Every name a host is known by, and its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownNames {
    pub address: IpAddr,
    pub names: Vec<KnownName>,
}

impl KnownNames {
    /// Only the address: no name is known.
    pub fn address_only(address: IpAddr) -> Self {
        Self {
            address,
            names: Vec::new(),
        }
    }

    fn add(&mut self, name: &str, from: NameSource) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() || name.parse::<IpAddr>().is_ok() {
            return;
        }
        if !self.names.iter().any(|n| n.name == name) {
            self.names.push(KnownName { name, from });
        }
    }

    /// The names to check a certificate against: the known names, and the address
    /// when the certificate names any address.
    pub fn for_certificate(&self, sans: &[String]) -> Vec<KnownName> {
        let mut out = self.names.clone();
        if sans.iter().any(|s| s.parse::<IpAddr>().is_ok()) {
            out.push(KnownName {
                name: self.address.to_string(),
                from: NameSource::Address,
            });
        }
        out
    }
}

/// A certificate judged against the names its host is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameCheck {
    /// `Some(true)` if it covers one of them, `Some(false)` if none, `None` if no name
    /// is known (and the certificate names no address): nothing to judge.
    pub covered: Option<bool>,
    pub checked: Vec<KnownName>,
}

/// Judges `leaf` against `known`: it must cover one of the names the host is known by.
pub fn check(leaf: &super::CertificateFacts, known: &KnownNames) -> NameCheck {
    let checked = known.for_certificate(&leaf.sans);
    NameCheck {
        covered: (!checked.is_empty()).then(|| {
            checked
                .iter()
                .any(|n| super::certificate::matches_name(leaf, &n.name))
        }),
        checked,
    }
}

/// The host part of a URL (`https://emr.example.jp:8443/login` → `emr.example.jp`).
fn url_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.host()? {
        url::Host::Domain(d) => Some(d.to_owned()),
        _ => None,
    }
}

/// The names `observation`'s host is known by.
pub fn known_names(observation: &HostObservation, ledger: Option<&LedgerNames>) -> KnownNames {
    let mut known = KnownNames::address_only(observation.address);
    for n in &observation.hostnames {
        known.add(n, NameSource::Target);
    }
    for n in &observation.reverse_names {
        known.add(n, NameSource::Ptr);
    }
    if let Some(h) = ledger.and_then(|l| l.get(&observation.address)) {
        known.add(h, NameSource::Ledger);
    }
    for s in &observation.services {
        let mut urls: Vec<String> = Vec::new();
        if let Some(Fact::Text(l)) = s.facts.get("http.location") {
            urls.push(l.clone());
        }
        if let Some(Fact::List(l)) = s.facts.get("http.redirects") {
            urls.extend(l.iter().cloned());
        }
        for u in urls {
            if let Some(h) = url_host(&u) {
                known.add(&h, NameSource::Redirect);
            }
        }
    }
    known
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::CertificateFacts;
    use kenshin_probe::observation::{HostScanState, ServiceObservation};

    fn leaf(sans: &[&str]) -> CertificateFacts {
        CertificateFacts {
            subject: "CN=emr.hospital.example".into(),
            issuer: String::new(),
            subject_cn: Some("emr.hospital.example".into()),
            sans: sans.iter().map(|s| (*s).to_owned()).collect(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            expired: false,
            not_yet_valid: false,
            expires_within_30_days: false,
            days_left: 300,
            self_signed: false,
            key_type: "RSA".into(),
            key_bits: Some(2048),
            curve: None,
            signature_algorithm: String::new(),
            signature_hash: None,
            sha256: String::new(),
        }
    }

    fn host() -> HostObservation {
        let mut h = HostObservation::unprobed(
            "198.18.3.10".parse().expect("addr"),
            None,
            Default::default(),
            vec![],
        );
        h.scan_state = HostScanState::Complete;
        h
    }

    #[test]
    fn a_host_known_only_by_its_address_is_not_judged_when_the_certificate_names_no_address() {
        let known = known_names(&host(), None);
        let c = check(&leaf(&["emr.hospital.example"]), &known);
        assert_eq!(c.covered, None);
        assert!(c.checked.is_empty());
    }

    #[test]
    fn an_address_in_the_certificate_is_checked_against_the_scanned_address() {
        let known = known_names(&host(), None);
        assert_eq!(check(&leaf(&["198.18.3.10"]), &known).covered, Some(true));
        assert_eq!(check(&leaf(&["198.18.3.99"]), &known).covered, Some(false));
    }

    #[test]
    fn a_hostname_target_is_judged_covered_or_not() {
        let mut h = host();
        h.hostnames = vec!["EMR.hospital.example".into()];
        let known = known_names(&h, None);
        let c = check(&leaf(&["emr.hospital.example"]), &known);
        assert_eq!(c.covered, Some(true));
        assert_eq!(c.checked[0].from, NameSource::Target);
        assert_eq!(
            check(&leaf(&["other.example"]), &known).covered,
            Some(false)
        );
    }

    #[test]
    fn a_ptr_name_and_a_redirects_name_are_known_names() {
        let mut h = host();
        h.reverse_names = vec!["srv10.hospital.example".into()];
        let mut s = ServiceObservation::default();
        s.facts.insert(
            "http.location".into(),
            Fact::Text("https://emr.hospital.example/login".into()),
        );
        h.services.push(s);
        let known = known_names(&h, None);
        let from: Vec<(&str, NameSource)> = known
            .names
            .iter()
            .map(|n| (n.name.as_str(), n.from))
            .collect();
        assert_eq!(
            from,
            [
                ("srv10.hospital.example", NameSource::Ptr),
                ("emr.hospital.example", NameSource::Redirect)
            ]
        );
        assert_eq!(
            check(&leaf(&["emr.hospital.example"]), &known).covered,
            Some(true)
        );
    }

    #[test]
    fn the_ledgers_hostname_for_the_address_is_a_known_name() {
        let ledger = crate::ledger::Ledger::parse(
            std::path::Path::new("台帳.csv"),
            "IPアドレス,ホスト名\n198.18.3.10,PACS01.hospital.example\n".as_bytes(),
        )
        .expect("ledger");
        let names = ledger.names_for(&[host()]);
        let known = known_names(&host(), Some(&names));
        assert_eq!(known.names.len(), 1, "{known:?}");
        assert_eq!(known.names[0].name, "pacs01.hospital.example");
        assert_eq!(known.names[0].from, NameSource::Ledger);
        assert_eq!(
            check(&leaf(&["emr.hospital.example"]), &known).covered,
            Some(false)
        );
    }

    #[test]
    fn a_redirects_host_name_is_known_and_an_address_or_relative_location_is_not() {
        assert_eq!(
            url_host("https://EMR.example.jp:8443/login").as_deref(),
            Some("emr.example.jp")
        );
        assert_eq!(url_host("https://198.18.3.10/login"), None);
        assert_eq!(url_host("/login"), None);
    }

    #[test]
    fn the_address_is_checked_only_when_the_certificate_names_addresses() {
        let known = KnownNames::address_only("198.18.3.10".parse().expect("addr"));
        assert!(known
            .for_certificate(&["emr.lab.example".into()])
            .is_empty());
        let with_ip = known.for_certificate(&["198.18.3.11".into()]);
        assert_eq!(with_ip.len(), 1);
        assert_eq!(with_ip[0].from, NameSource::Address);
    }
}
