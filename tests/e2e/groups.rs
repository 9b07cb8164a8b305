//! Finding groups on the lab's default scan (the shared scan of both segments with the
//! default port list): a few dozen groups, not hundreds of lines; every finding in
//! exactly one group; a group's severity the highest of its members; and the terminal
//! summary counts the same groups; report.html, in Chromium, leads with the groups and
//! opens each to its hosts. Then the TLS servers scanned without the lab's CA:
//! one untrusted-certificate group per issuer, however many servers present its
//! certificates.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use kenshin_lab::{tls::SERVERS, TLS_ADDR};

use crate::browser::Browser;
use crate::lab_scan::full_scan;
use crate::support::*;

/// More groups than this is a list of hosts again, not a list of causes.
const MOST_GROUPS: usize = 60;

fn severity_rank(s: &Value) -> usize {
    ["critical", "high", "medium", "low", "info"]
        .iter()
        .position(|w| s == *w)
        .unwrap_or_else(|| panic!("not a severity: {s}"))
}

/// The issuer of the certificate on each (host, port) that presented one.
fn issuers(report: &Value) -> BTreeMap<(String, u64), String> {
    let mut out = BTreeMap::new();
    for h in report["hosts"].as_array().expect("hosts") {
        let addr = h["address"].as_str().expect("address").to_owned();
        for s in h["services"].as_array().expect("services") {
            if let Some(issuer) = s["tls"]["certificate"]["issuer"].as_str() {
                let port = s["port"].as_u64().expect("port");
                out.insert((addr.clone(), port), issuer.to_owned());
            }
        }
    }
    out
}

#[test]
fn the_default_lab_scan_has_a_few_dozen_groups_and_every_finding_in_exactly_one() {
    let s = full_scan();
    let findings = s.report["findings"].as_array().expect("findings");
    let groups = s.report["groups"].as_array().expect("groups");
    let by_id: BTreeMap<&str, &Value> = findings
        .iter()
        .map(|f| (f["id"].as_str().expect("id"), f))
        .collect();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for g in groups {
        let members = g["findings"].as_array().expect("members");
        assert_eq!(g["count"].as_u64(), Some(members.len() as u64), "{g}");
        let mut worst = usize::MAX;
        for m in members {
            let id = m.as_str().expect("member id");
            assert!(seen.insert(id), "{id} is in two groups");
            let f = by_id
                .get(id)
                .unwrap_or_else(|| panic!("group member {id} is no finding"));
            assert_eq!(f["check"], g["check"], "{id} in {}", g["id"]);
            worst = worst.min(severity_rank(&f["severity"]));
        }
        assert_eq!(severity_rank(&g["severity"]), worst, "{g}");
        assert!(
            !g["cause"]["ja"].as_str().unwrap_or("").is_empty()
                && !g["cause"]["en"].as_str().unwrap_or("").is_empty(),
            "{g}"
        );
    }
    assert_eq!(seen.len(), findings.len(), "every finding is in a group");
    assert!(
        groups.len() <= MOST_GROUPS && groups.len() < findings.len(),
        "{} groups for {} findings",
        groups.len(),
        findings.len()
    );
    assert!(
        s.output
            .contains(&format!("finding groups: {} (", groups.len())),
        "the summary counts the groups: {}",
        s.output
    );
    eprintln!(
        "lab default scan: {} findings in {} groups",
        findings.len(),
        groups.len()
    );
}

#[test]
fn servers_presenting_certificates_of_one_untrusted_ca_are_one_group() {
    let report = {
        let _session = lab();
        let out = out_dir();
        let dir = out.path().join("report");
        let ports: Vec<String> = SERVERS.iter().map(|s| s.port.to_string()).collect();
        // No --ca-file: the lab's internal CA is not in the system's trust store.
        let o = kenshin_in_lab(&[
            "scan",
            TLS_ADDR,
            "-p",
            &ports.join(","),
            "-o",
            dir.to_str().expect("utf-8"),
        ]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
        read_report(&dir)
    };
    let issuers = issuers(&report);
    let findings: BTreeMap<&str, &Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["id"].as_str().expect("id"), f))
        .collect();
    let untrusted: Vec<&Value> = report["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter(|g| g["check"] == "tls.certificate-untrusted")
        .collect();
    assert!(
        !untrusted.is_empty(),
        "the lab's internal CA is not in the default trust store"
    );
    assert!(
        untrusted.iter().any(|g| g["count"].as_u64() > Some(1)),
        "several servers present the lab CA's certificates: {untrusted:#?}"
    );
    let mut issuers_seen = BTreeSet::new();
    for g in untrusted {
        let of_group: BTreeSet<&String> = g["findings"]
            .as_array()
            .expect("members")
            .iter()
            .filter_map(|id| findings.get(id.as_str().expect("id")))
            .filter_map(|f| {
                let key = (f["host"].as_str()?.to_owned(), f["port"].as_u64()?);
                issuers.get(&key)
            })
            .collect();
        assert_eq!(of_group.len(), 1, "one issuer per group: {g}");
        let issuer = of_group.into_iter().next().expect("one issuer");
        assert!(
            issuers_seen.insert(issuer.clone()),
            "two groups for the issuer {issuer}"
        );
        let cause = g["cause"]["en"].as_str().expect("cause");
        assert!(
            cause.contains("which is not in the trust store") && cause.contains("--ca-file"),
            "{cause}"
        );
    }
}

#[test]
fn the_page_leads_with_the_groups_and_each_opens_to_its_hosts() {
    let s = full_scan();
    let groups = s.report["groups"].as_array().expect("groups");
    let page = artifacts().join("lab-report.html");
    std::fs::write(&page, &s.html).expect("page kept");
    let mut b = Browser::start();
    b.open(&page);
    let sections = b.eval("Array.from(document.querySelectorAll('body > section')).map(s => s.id)");
    assert_eq!(
        sections.get(1).and_then(Value::as_str),
        Some("groups"),
        "the groups come right after the summary: {sections}"
    );
    let shown = b.eval("document.querySelectorAll('details.group').length");
    assert_eq!(shown.as_u64(), Some(groups.len() as u64));
    let closed =
        b.eval("Array.from(document.querySelectorAll('details.group')).every(d => !d.open)");
    assert_eq!(
        closed,
        Value::Bool(true),
        "groups start closed: one line per cause"
    );
    b.call(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({ "width": 1100, "height": 1400, "deviceScaleFactor": 1, "mobile": false }),
    );
    b.eval("document.getElementById('groups').scrollIntoView()");
    let list = screenshot(&mut b, "lab-report-groups.png");
    // The largest group, opened, lists one line per member with where it is.
    let (at, largest) = groups
        .iter()
        .enumerate()
        .max_by_key(|(_, g)| g["count"].as_u64())
        .expect("a group");
    let members = b.eval(&format!(
        "(() => {{ const d = document.querySelectorAll('details.group')[{at}]; d.open = true; \
         d.scrollIntoView(); return d.querySelectorAll('li').length; }})()"
    ));
    assert_eq!(members, largest["count"], "{largest}");
    let opened = screenshot(&mut b, "lab-report-group-open.png");
    assert!(b.errors().is_empty(), "{:?}", b.errors());
    eprintln!(
        "grouped report.html: {} (screenshots {} and {})",
        page.display(),
        list.display(),
        opened.display()
    );
}

/// The viewport as a PNG kept among the artifacts.
fn screenshot(b: &mut Browser, name: &str) -> std::path::PathBuf {
    let shot = b.call(
        "Page.captureScreenshot",
        serde_json::json!({ "format": "png" }),
    );
    let png = base64_decode(shot["data"].as_str().expect("png data"));
    assert!(png.starts_with(b"\x89PNG"), "{name} is no PNG");
    let path = artifacts().join(name);
    std::fs::write(&path, &png).expect("screenshot kept");
    path
}
