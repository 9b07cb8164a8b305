use super::*;
use crate::finding::Confidence;
use kenshin_probe::observation::{Fact, Facts};

const NEW: &[u8] = include_bytes!("../../tests/data/kev-2026.01.27.json");
const OLD: &[u8] = include_bytes!("../../tests/data/kev-2025.12.16.json");
const MALFORMED: &[u8] = include_bytes!("../../tests/data/kev-malformed.json");

fn fields(pairs: &[(&str, &str)]) -> Facts {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Fact::Text((*v).to_owned())))
        .collect()
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("fixture is JSON")
}

fn reparse(v: &serde_json::Value) -> Result<Catalog, CatalogError> {
    Catalog::parse(&serde_json::to_vec(v).expect("json"))
}

#[test]
fn the_fixture_parses_and_orders_by_version() {
    let new = Catalog::parse(NEW).unwrap_or_else(|e| panic!("{e}"));
    let old = Catalog::parse(OLD).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new.version, "2026.01.27");
    assert_eq!(new.entries.len(), 10);
    assert!(new.is_newer_than(&old));
    assert!(!old.is_newer_than(&new));
    assert!(new.same_release(&new.clone()));
}

#[test]
fn malformed_catalogs_are_refused_naming_the_reason() {
    let e = Catalog::parse(MALFORMED).expect_err("missing dateAdded");
    assert!(e.to_string().contains("dateAdded"), "{e}");
    assert!(Catalog::parse(b"{}").is_err());
    assert!(Catalog::parse(b"not json").is_err());

    let mut dup = json(NEW);
    let first = dup["vulnerabilities"][0].clone();
    let list = dup["vulnerabilities"].as_array_mut().expect("list");
    list.push(first);
    let n = list.len();
    dup["count"] = n.into();
    let e = reparse(&dup).expect_err("duplicate");
    assert_eq!(
        e,
        CatalogError::Duplicate {
            cve: "CVE-2018-13379".into(),
            first: 0,
            second: n - 1
        }
    );

    let mut count = json(NEW);
    count["count"] = 99.into();
    assert!(matches!(
        reparse(&count),
        Err(CatalogError::Count {
            count: 99,
            listed: 10
        })
    ));

    let mut version = json(NEW);
    version["catalogVersion"] = "latest".into();
    assert!(reparse(&version)
        .expect_err("version")
        .to_string()
        .contains("catalogVersion"));

    let mut cve = json(NEW);
    cve["vulnerabilities"][2]["cveID"] = "CVE-22-1".into();
    assert!(matches!(
        reparse(&cve),
        Err(CatalogError::Entry { index: 2, .. })
    ));

    let mut ransom = json(NEW);
    ransom["vulnerabilities"][0]["knownRansomwareCampaignUse"] = "Maybe".into();
    assert!(reparse(&ransom).is_err());

    let mut cwes = json(NEW);
    cwes["vulnerabilities"][0]["cwes"] = "CWE-22".into();
    assert!(reparse(&cwes).is_err());
}

#[test]
fn applying_the_catalog_sets_kev_dates_and_adds_exposure_for_unadvised_cves() {
    let catalog = Catalog::parse(NEW).unwrap_or_else(|e| panic!("{e}"));
    let mut set = AdvisorySet::builtin().unwrap_or_else(|p| panic!("{p}"));
    let by_id = |set: &AdvisorySet, id: &str| {
        set.advisories
            .iter()
            .find(|a| a.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id}"))
    };
    assert_eq!(by_id(&set, "fortios-cve-2025-59718").kev_added, None);
    let untouched = by_id(&set, "openssh-cve-2024-6387");
    let products = ProductMap::builtin().unwrap_or_else(|e| panic!("{e}"));
    catalog.apply(&mut set, &products);

    let sso = by_id(&set, "fortios-cve-2025-59718");
    assert_eq!(sso.kev_added.as_deref(), Some("2025-12-16"));
    assert_eq!(sso.check(), "vuln.known-exploited");
    assert_eq!(
        by_id(&set, "openssh-cve-2024-6387").kev_added,
        untouched.kev_added
    );
    assert!(set
        .provenance
        .iter()
        .all(|(_, p)| p.kev_catalog_version == "2026.01.27"));

    // CVE-2020-12812 has no advisory: the FortiGate gets an exposure finding for it;
    // CVE-2022-40684 and CVE-2026-24858 (listed as Multiple Products) have one and are
    // not repeated.
    let forti = by_id(&set, "kev.fortinet-fortios");
    assert_eq!(forti.cve, vec!["CVE-2020-12812".to_owned()]);
    assert_eq!(forti.kev_added.as_deref(), Some("2021-11-03"));
    let portal = fields(&[
        ("os", "FortiOS"),
        ("service", "https"),
        ("version", "7.4.1"),
    ]);
    let v = forti.evaluate(&portal).expect("applies to a FortiGate");
    assert_eq!(v.confidence, Confidence::Exposure);
    assert!(
        v.basis.contains("CVE-2020-12812 (KEV 2021-11-03)"),
        "{}",
        v.basis
    );
    assert!(v.basis.contains("could not be judged"), "{}", v.basis);
    assert!(forti.evaluate(&fields(&[("os", "PAN-OS")])).is_none());
    assert_eq!(
        by_id(&set, "kev.paloalto-panos").cve,
        vec!["CVE-2019-1579".to_owned()]
    );
}

#[test]
fn the_shipped_mapping_table_resolves_every_requirement() {
    let registry = Registry::builtin().unwrap_or_else(|p| panic!("{p}"));
    let n = ProductMap::builtin()
        .and_then(|m| m.verify(&registry))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(n >= 5);
}
