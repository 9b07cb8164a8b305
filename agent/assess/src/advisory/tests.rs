use super::*;

fn fields(pairs: &[(&str, &str)]) -> Facts {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Fact::Text((*v).to_owned())))
        .collect()
}

fn set() -> AdvisorySet {
    AdvisorySet::builtin().expect("advisories load")
}

fn verdict(id: &str, f: &Facts) -> Option<Verdict> {
    set()
        .advisories
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("no advisory {id}"))
        .evaluate(f)
}

#[test]
fn the_shipped_advisories_hold_their_boundaries_and_ignore_the_noise() {
    let noise = crate::noise::builtin().expect("noise");
    let registry = Registry::builtin().expect("registries");
    let v = set().verify(&registry, &noise).expect("verify");
    assert!(v.advisories >= 25, "{v:?}");
    assert!(v.kev >= 15, "{v:?}");
    for (file, p) in &set().provenance {
        assert_eq!(p.kev_catalog_version, "2025.08.25");
        assert!(
            BUILTIN.iter().any(|(n, _)| n == file),
            "{file}: as the report names it"
        );
    }
}

#[test]
fn a_patched_debian_openssh_is_not_regresshion_and_an_older_revision_is() {
    let base = [
        ("product", "OpenSSH"),
        ("version", "9.2p1"),
        ("distribution", "Debian"),
    ];
    let with = |rev: &str| {
        let mut f = fields(&base);
        f.insert("package_revision".into(), Fact::Text(rev.into()));
        verdict("openssh-cve-2024-6387", &f)
    };
    assert_eq!(with("2+deb12u3"), None);
    assert_eq!(with("2+deb12u10"), None);
    let old = with("2+deb12u2").expect("vulnerable");
    assert_eq!(old.confidence, Confidence::Confirmed);
    assert!(old.basis.contains("DSA-5724-1"), "{}", old.basis);
    // A RHEL-style banner cannot tell.
    let rhel = verdict(
        "openssh-cve-2024-6387",
        &fields(&[("product", "OpenSSH"), ("version", "8.7")]),
    )
    .expect("in range");
    assert_eq!(rhel.confidence, Confidence::Potential);
    // Debian 11's 8.4p1 predates the regression.
    assert_eq!(
        verdict(
            "openssh-cve-2024-6387",
            &fields(&[("product", "OpenSSH"), ("version", "8.4p1")])
        ),
        None
    );
}

#[test]
fn an_old_fortigate_build_date_is_likely_and_a_new_one_says_nothing() {
    let portal = |etag: &str| {
        fields(&[
            ("product", "FortiGate SSL-VPN"),
            ("os", "FortiOS"),
            ("service", "https"),
            ("http.etag", etag),
        ])
    };
    // 0x5c000000 = 2018-11-29: before every branch's fix for CVE-2022-42475.
    let old = verdict("fortios-cve-2022-42475", &portal("\"1a2b-5c000000\"")).expect("old");
    assert_eq!(old.confidence, Confidence::Likely);
    assert!(old.basis.contains("2018-11-29"), "{}", old.basis);
    // 0x68000000 = 2025-04-16: a date after the fixes cannot tell the branch.
    let new = verdict("fortios-cve-2022-42475", &portal("\"1a2b-68000000\"")).expect("new");
    assert_eq!(new.confidence, Confidence::Exposure);
}

#[test]
fn a_missing_boundary_example_is_named() {
    let text = BUILTIN
        .iter()
        .find(|(n, _)| *n == "servers.toml")
        .map(|(_, t)| *t)
        .expect("servers.toml");
    let cut = text.replacen(
        "{ fields = { version = \"9.8p1\" }, expect = \"none\" }",
        "{ fields = { version = \"9.9p1\" }, expect = \"none\" }",
        1,
    );
    assert_ne!(
        cut, text,
        "the boundary example to remove is in servers.toml"
    );
    let sources = crate::rulefile::replacing(FOLDER, BUILTIN, "servers.toml", &cut);
    let problems = AdvisorySet::from_sources(&sources)
        .expect("parses")
        .verify(&Registry::builtin().expect("r"), &[])
        .expect_err("boundary missing");
    assert!(
        problems.mention("rule openssh-cve-2024-6387: the range fixed in \"9.8p1\""),
        "{problems}"
    );
}

#[test]
fn http_dates_parse_and_bad_dates_do_not() {
    assert_eq!(
        parse_http_date("Tue, 15 Nov 1994 08:12:31 GMT"),
        Date::from_calendar_date(1994, time::Month::November, 15).ok()
    );
    assert_eq!(parse_http_date("yesterday"), None);
    assert!(parse_date("2024-13-01").is_err());
}

#[test]
fn the_builtin_list_names_every_file_in_the_rules_folder() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/advisories");
    crate::rulefile::assert_lists_folder(BUILTIN, "advisories");
    let loaded = AdvisorySet::load_dir(&dir).expect("loads");
    assert_eq!(loaded.advisories.len(), set().advisories.len());
}
