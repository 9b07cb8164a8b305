//! Importing the CISA KEV catalog changes what the lab's FortiGate portal is judged
//! with: an advisory kenshin carried without a KEV date, and a KEV entry kenshin has
//! no advisory for, both become KEV findings dated from the catalog, and the report
//! names the catalog version. The overlay is a temporary `KENSHIN_RULES_DIR`.

use std::path::Path;
use std::process::{Command, Output};

use kenshin_lab::{SCANNER_NS, SERVICES2_ADDR};
use serde_json::Value;

use crate::support::*;

const FIXTURE: &str = "../agent/assess/tests/data/kev-2026.01.27.json";

fn run(overlay: &Path, in_lab: bool, args: &[&str]) -> Output {
    let mut c = if in_lab {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", SCANNER_NS]).arg(kenshin());
        c
    } else {
        Command::new(kenshin())
    };
    c.args(args)
        .env("LANG", "C")
        .env("KENSHIN_SIGNING_KEY", signing_key())
        .env("KENSHIN_RULES_DIR", overlay)
        .output()
        .expect("kenshin runs")
}

/// Scans the FortiGate portal (10443) and returns the report.
fn scan_portal(overlay: &Path, out: &Path, name: &str) -> Value {
    let dir = out.join(name);
    let o = run(
        overlay,
        true,
        &[
            "scan",
            SERVICES2_ADDR,
            "-p",
            "T:10443",
            "--no-snmp",
            "-o",
            dir.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report = read_report(&dir);
    assert_valid_report(&report);
    report
}

fn by_advisory<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["advisory"]["id"] == id && f["port"] == 10443)
}

#[test]
fn importing_the_kev_catalog_turns_the_fortigate_findings_into_dated_kev_findings() {
    let out = out_dir();
    let overlay = out.path().join("overlay");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    assert!(fixture.exists(), "{}", fixture.display());
    let session = lab();

    let before = scan_portal(&overlay, out.path(), "before");
    assert!(
        by_advisory(&before, "kev.fortinet-fortios").is_none(),
        "no KEV-only finding without a catalog"
    );
    assert_ne!(before["scan"]["rules"]["kev_catalog"], "2026.01.27");

    let o = run(
        &overlay,
        false,
        &["rules", "import-kev", fixture.to_str().expect("utf-8")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let after = scan_portal(&overlay, out.path(), "after");
    drop(session);

    let kev_only = by_advisory(&after, "kev.fortinet-fortios")
        .unwrap_or_else(|| panic!("no KEV finding for CVE-2020-12812: {:#}", after["findings"]));
    assert_eq!(kev_only["check"], "vuln.known-exploited", "{kev_only:#}");
    assert_eq!(kev_only["confidence"], "exposure", "{kev_only:#}");
    assert_eq!(kev_only["advisory"]["cve"][0], "CVE-2020-12812");
    assert_eq!(kev_only["advisory"]["kev_added"], "2021-11-03");
    assert!(
        kev_only["advisory"]["basis"]
            .as_str()
            .is_some_and(|b| b.contains("could not be judged")),
        "{kev_only:#}"
    );
    let heap = by_advisory(&after, "fortios-cve-2022-42475").expect("the heap overflow");
    assert_eq!(heap["check"], "vuln.known-exploited");
    assert_eq!(heap["advisory"]["kev_added"], "2022-12-13");
    assert_eq!(after["scan"]["rules"]["kev_catalog"], "2026.01.27");
    assert!(after["tool"]["advisories"]
        .as_array()
        .expect("provenance")
        .iter()
        .all(|p| p["kev_catalog_version"] == "2026.01.27"));
}
