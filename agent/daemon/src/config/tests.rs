use std::path::{Path, PathBuf};

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse_with(Path::new("/etc/kenshin/kenshin.toml"), text, Files::Skip)
}

fn error(text: &str) -> String {
    parse(text).expect_err("must be refused").to_string()
}

const MINIMAL: &str = r#"
[[scope]]
name = "servers"
targets = ["198.18.1.0/24"]
schedule = "0 2 * * *"
"#;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_example_configuration_parses() {
    let mut files = vec![repo().join("packaging/kenshin.toml")];
    for e in std::fs::read_dir(repo().join("docs/examples")).expect("docs/examples") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "toml") {
            files.push(p);
        }
    }
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        if let Err(e) = Config::parse_with(f, &text, Files::Skip) {
            panic!("{}: {e}", f.display());
        }
    }
}

#[test]
fn the_shipped_default_scans_nothing_and_keeps_state_under_var_lib() {
    let text = std::fs::read_to_string(repo().join("packaging/kenshin.toml")).expect("read");
    let c = parse(&text).expect("parses");
    assert!(c.scopes.is_empty());
    assert_eq!(c.daemon.state_dir, Path::new("/var/lib/kenshin"));
    assert_eq!(
        c.daemon.signing_key,
        Path::new("/var/lib/kenshin/signing-key.pem")
    );
    assert_eq!(
        c.daemon.utc_offset,
        UtcOffset::from_hms(9, 0, 0).expect("offset")
    );
}

#[test]
fn a_minimal_scope_takes_kenshin_scans_own_defaults() {
    let c = parse(MINIMAL).expect("parses");
    let s = &c.scopes[0];
    assert_eq!(s.name, "servers");
    assert_eq!(s.settings.targets, ["198.18.1.0/24"]);
    assert_eq!(
        s.settings.rate_pps,
        kenshin_probe::governor::DEFAULT_RATE_PPS
    );
    assert_eq!(
        s.settings.host_rate_pps,
        kenshin_probe::governor::DEFAULT_HOST_RATE_PPS
    );
    assert!(s.settings.ports.is_none() && s.settings.snmp_community.is_some());
    assert_eq!(
        s.settings.signing_key.as_deref(),
        Some(Path::new("/var/lib/kenshin/signing-key.pem"))
    );
}

#[test]
fn defaults_apply_to_every_scope_and_a_scope_overrides_them() {
    let c = parse(&format!(
        "[defaults]\nhost_rate_pps = 20\nsnmp = false\n{MINIMAL}[scope.settings]\nhost_rate_pps = 10\nports = \"T:22\"\n"
    ))
    .expect("parses");
    let a = &c.scopes[0].settings;
    assert_eq!((a.host_rate_pps, a.snmp_community.is_none()), (10, true));
    assert_eq!(a.ports.as_deref(), Some("T:22"));
}

#[test]
fn an_unknown_key_is_refused_in_every_table_naming_the_key_table_and_line() {
    let cases = [
        (
            "[daemon]\nstate_dirr = \"/x\"\n",
            "[daemon]",
            "state_dirr",
            2,
        ),
        ("[retention]\nkeep = 3\n", "[retention]", "keep", 2),
        ("[defaults]\nrate = 3\n", "[defaults]", "rate", 2),
        (
            &format!("{MINIMAL}color = \"red\"\n"),
            "[[scope]]",
            "color",
            6,
        ),
        (
            &format!("{MINIMAL}[scope.settings]\nspeed = 1\n"),
            "[scope.settings]",
            "speed",
            7,
        ),
        ("[notify]\nemail = \"x\"\n", "[notify]", "email", 2),
        (
            "[[notify.webhook]]\nurl = \"http://127.0.0.1:1/\"\nsecret = \"x\"\n",
            "[notify.webhook]",
            "secret",
            3,
        ),
        (
            "[notify.syslog]\ntarget = \"unix:/dev/log\"\nlevel = 1\n",
            "[notify.syslog]",
            "level",
            3,
        ),
        ("colour = 1\n", "", "colour", 1),
    ];
    for (text, table, key, line) in cases {
        let e = error(text);
        assert!(
            e.contains(&format!("kenshin.toml:{line}:")),
            "{text:?}: {e}"
        );
        assert!(e.contains(&format!("`{key}`")), "{text:?}: {e}");
        if !table.is_empty() {
            let t = table.trim_matches(|c| c == '[' || c == ']');
            assert!(e.contains(&format!("[{t}]")), "{text:?}: {e}");
        }
    }
}

#[test]
fn bad_values_name_the_key_and_their_line() {
    let scope = |extra: &str| {
        format!("[[scope]]\nname = \"s\"\ntargets = [\"198.18.1.1\"]\nschedule = \"0 2 * * *\"\n{extra}")
    };
    let cases = [
        ("[[scope]]\nname = \"s\"\ntargets = [\"198.18.1.1\"]\nschedule = \"0 25 * * *\"\n".to_owned(), ":4:", "hour 25"),
        (scope("window = \"22:00-30:00\"\n"), ":5:", "window"),
        (scope("freeze = [\"2026-02-30\"]\n"), ":5:", "2026-02-30"),
        ("[[scope]]\nname = \"s\"\ntargets = [\"198.18.1.1\", \"300.1.1.1\"]\nschedule = \"@daily\"\n".to_owned(), ":3:", "300.1.1.1"),
        (scope("[scope.settings]\nports = \"T:99999\"\n"), ":6:", "99999"),
        (scope("[scope.settings]\ndiscovery = \"fast\"\n"), ":6:", "fast"),
        (scope("[scope.settings]\nrate_pps = 0\n"), ":6:", "settings.rate_pps: 0 is out of range: 1 to 100000 packets/s"),
        (scope("[scope.settings]\ntls_pause_ms = 99999\n"), ":6:", "settings.tls_pause_ms: 99999 is out of range: 0 to 10000"),
        (scope("[scope.settings]\nretries = 11\n"), ":6:", "settings.retries: 11 is out of range: 0 to 10"),
        ("[defaults]\nhost_conns = 0\n[[scope]]\nname = \"s\"\ntargets = [\"198.18.1.1\"]\nschedule = \"@daily\"\n".to_owned(), ":2:", "defaults.host_conns: 0 is out of range: 1 to 256"),
        ("[daemon]\nutc_offset = \"JST\"\n".to_owned(), ":2:", "JST"),
        ("[daemon]\nmax_parallel_scans = 0\n".to_owned(), ":2:", "max_parallel_scans"),
        ("[retention]\nkeep_scans = 0\n".to_owned(), ":2:", "keep_scans"),
        ("[[notify.webhook]]\nurl = \"ftp://x/\"\n".to_owned(), ":2:", "ftp://x/"),
        ("[[notify.webhook]]\nurl = \"http://x/\"\nevents = [\"all\"]\n".to_owned(), ":3:", "\"all\""),
        ("[notify.syslog]\ntarget = \"/dev/log\"\n".to_owned(), ":2:", "unix:/dev/log"),
        ("[notify.syslog]\ntarget = \"unix:/dev/log\"\nfacility = \"local9\"\n".to_owned(), ":3:", "local9"),
        ("[daemon]\nlang = 3\n".to_owned(), ":2:", "string"),
    ];
    for (text, line, names) in cases {
        let e = error(&text);
        assert!(e.contains(line) && e.contains(names), "{text:?}: {e}");
    }
}

#[test]
fn two_scopes_may_not_share_a_name() {
    let e = error(&format!("{MINIMAL}{MINIMAL}"));
    assert!(
        e.contains("\"servers\" names two scopes") && e.contains(":8:"),
        "{e}"
    );
}

#[test]
fn scopes_overlap_when_they_share_an_address_or_name_a_host() {
    let c = parse(
        r#"
[[scope]]
name = "a"
targets = ["198.18.1.0/24"]
schedule = "@daily"
[[scope]]
name = "b"
targets = ["198.18.1.200-198.18.2.10"]
schedule = "@daily"
[[scope]]
name = "c"
targets = ["198.18.3.0/24"]
schedule = "@daily"
[[scope]]
name = "d"
targets = ["pacs.example"]
schedule = "@daily"
"#,
    )
    .expect("parses");
    let s = |n: &str| c.scopes.iter().find(|s| s.name == n).expect("scope");
    assert!(s("a").overlaps(s("b")));
    assert!(!s("a").overlaps(s("c")));
    assert!(
        s("d").overlaps(s("c")),
        "a hostname's addresses are unknown until resolved"
    );
}

#[test]
fn the_next_run_respects_the_window_and_the_freeze_dates() {
    let c = parse(
        r#"
[[scope]]
name = "night"
targets = ["198.18.1.1"]
schedule = "0 * * * *"
window = "22:00-06:00"
freeze = ["2026-11-23"]
"#,
    )
    .expect("parses");
    let s = &c.scopes[0];
    use time::macros::datetime;
    assert_eq!(
        s.next_run_after(datetime!(2026-11-22 12:10)),
        Some(datetime!(2026-11-22 22:00))
    );
    // The 23rd is frozen all day: from 23:00 on the 22nd the next run is the 24th at 00:00.
    assert_eq!(
        s.next_run_after(datetime!(2026-11-22 23:10)),
        Some(datetime!(2026-11-24 00:00))
    );
    assert!(!s.may_start(datetime!(2026-11-22 06:00)));
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let e = Config::load(Path::new("/nonexistent/kenshin.toml")).expect_err("missing");
    assert!(format!("{e:#}").contains("/nonexistent/kenshin.toml"));
}

#[test]
fn a_missing_ledger_is_an_error_when_files_are_read() {
    let text = format!("[daemon]\nledger = \"/nonexistent/ledger.csv\"\n{MINIMAL}");
    let e = Config::parse(Path::new("k.toml"), &text)
        .expect_err("missing ledger")
        .to_string();
    assert!(e.contains("/nonexistent/ledger.csv"), "{e}");
    assert!(parse(&text).is_ok());
}

#[test]
fn the_rules_table_pins_a_publisher_fingerprint_or_is_refused_on_its_line() {
    let fp = "SHA256:jHW/18H5eKZKvMBt0ITnNiDHyST9+FOGxTDtgrM9OWc";
    let c = parse(&format!("[rules]\npublisher = \"{fp}\"\n")).expect("parses");
    assert_eq!(c.rules_publisher.as_deref(), Some(fp));
    assert_eq!(parse("").expect("parses").rules_publisher, None);
    let e = error("\n[rules]\npublisher = \"SHA256:short\"\n");
    assert!(e.contains(":3: rules.publisher"), "{e}");
    let e = error("[rules]\npublisher = \"/etc/kenshin/key.pem\"\n");
    assert!(e.contains("not a key fingerprint"), "{e}");
    let e = error("[rules]\npublisherr = \"x\"\n");
    assert!(e.contains("publisherr"), "{e}");
}

const FLEET: &str = "[fleet]\nsite = \"osaka-general\"\ndb = \"postgresql://sensor:hunter2@198.18.9.1:5432/kenshin\"\n";

#[test]
fn the_fleet_site_goes_into_every_scopes_scans_and_the_db_stays_secret() {
    let c = parse(&format!("{FLEET}{MINIMAL}")).expect("parses");
    let fleet = c.fleet.as_ref().expect("[fleet]");
    assert_eq!(fleet.site, "osaka-general");
    assert_eq!(c.scopes[0].settings.site.as_deref(), Some("osaka-general"));
    let db = fleet.db.as_ref().expect("db");
    assert_eq!(
        db.url.expose(),
        "postgresql://sensor:hunter2@198.18.9.1:5432/kenshin"
    );
    assert!(!format!("{c:?}").contains("hunter2"), "Debug redacts it");
    assert_eq!(fleet.retry, crate::outbox::Backoff::default());
    // Without [fleet], scans name no site.
    assert_eq!(
        parse(MINIMAL).expect("parses").scopes[0].settings.site,
        None
    );
}

#[test]
fn a_site_without_a_db_records_the_site_for_reports_carried_by_hand() {
    let c = parse(&format!("[fleet]\nsite = \"kobe\"\n{MINIMAL}")).expect("parses");
    let fleet = c.fleet.expect("[fleet]");
    assert!(fleet.db.is_none());
    assert_eq!(c.scopes[0].settings.site.as_deref(), Some("kobe"));
}

#[test]
fn a_malformed_fleet_section_is_named_with_file_line_and_key_and_never_shows_the_password() {
    let db = "db = \"postgresql://sensor:hunter2@hq/kenshin\"\n";
    let cases: [(String, &str, &str); 8] = [
        (format!("[fleet]\n{db}"), ":1:", "fleet.site: missing"),
        (
            format!("[fleet]\nsite = \"ward 3\"\n{db}"),
            ":2:",
            "fleet.site: \"ward 3\" is not valid",
        ),
        (
            "[fleet]\nsite = \"a\"\ndb = \"mysql://sensor:hunter2@hq/k\"\n".to_owned(),
            ":3:",
            "fleet.db: \"mysql://sensor:***@hq/k\" is not a PostgreSQL URL",
        ),
        (
            "[fleet]\nsite = \"a\"\ndb = \"postgresql://sensor:hunter2@hq/k?sslmode=require\"\n"
                .to_owned(),
            ":3:",
            "sslmode=verify-full only",
        ),
        (
            "[fleet]\nsite = \"a\"\ndb = \"postgresql://sensor:hunter2@/k\"\n".to_owned(),
            ":3:",
            "fleet.db:",
        ),
        (
            format!("[fleet]\nsite = \"a\"\n{db}client_cert = \"/etc/kenshin/fleet.crt\"\n"),
            ":4:",
            "fleet.client_key: missing",
        ),
        (
            "[fleet]\nsite = \"a\"\nca = \"/etc/kenshin/ca.crt\"\n".to_owned(),
            ":3:",
            "fleet.ca: is set but fleet.db is not",
        ),
        (
            format!("[fleet]\nsite = \"a\"\n{db}retry_min = \"10m\"\nretry_max = \"1m\"\n"),
            ":5:",
            "fleet.retry_max: 60s is less than fleet.retry_min (600s)",
        ),
    ];
    for (text, line, want) in &cases {
        let e = error(text);
        assert!(
            e.contains(&format!("kenshin.toml{line}")) && e.contains(want),
            "{text}\n→ {e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
    }
    let e = error("[fleet]\nsite = \"a\"\npassword = \"x\"\n");
    assert!(e.contains("`password`") && e.contains("[fleet]"), "{e}");
}

#[test]
fn fleet_certificate_files_that_do_not_exist_are_named_when_files_are_read() {
    let text = format!(
        "[daemon]\nstate_dir = \"/tmp/kenshin-test-state\"\n{FLEET}client_cert = \"/nonexistent/site.crt\"\nclient_key = \"/nonexistent/site.key\"\n"
    );
    let e = Config::parse(Path::new("/etc/kenshin/kenshin.toml"), &text)
        .expect_err("missing files")
        .to_string();
    assert!(
        e.contains("kenshin.toml:6:")
            && e.contains("fleet.client_cert")
            && e.contains("/nonexistent/site.crt"),
        "{e}"
    );
}

#[test]
fn the_shipped_fleet_example_parses_once_uncommented() {
    let text = std::fs::read_to_string(repo().join("packaging/kenshin.toml")).expect("read");
    let start = text.find("# [fleet]").expect("a [fleet] example");
    let example: String = text[start..]
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
        .collect();
    let c = parse(&format!("{MINIMAL}{example}")).expect("the example parses");
    let fleet = c.fleet.expect("[fleet]");
    assert_eq!(fleet.site, "osaka-general");
    assert!(fleet
        .db
        .is_some_and(|d| d.client_cert.is_some() && d.ca.is_some()));
    assert_eq!(fleet.retry.max, Duration::from_secs(1800));
}
