//! Runs the checks and advisories over assessed hosts and assembles the findings, in
//! report order: severity, then confidence, then host and port.

use std::collections::BTreeSet;

use kenshin_probe::observation::Facts;

use crate::advisory::{AdvisorySet, Verdict};
use crate::checks::{Check, CheckSet, Scope};
use crate::finding::{AdvisoryFacts, Finding};
use crate::identify::{AssessedHost, Service};
use crate::requirements::Registry;
use crate::subject::{host_fields, service_fields, ScanContext};

/// Everything the evaluation reads.
#[derive(Debug, Clone)]
pub struct Rules {
    pub checks: CheckSet,
    pub advisories: AdvisorySet,
    pub registry: Registry,
}

/// Evidence IDs of a service: its own, then its TLS audit's.
fn service_evidence(s: &Service) -> Vec<String> {
    let mut ids: Vec<String> = s.evidence.clone();
    if let Some(t) = &s.tls_report {
        ids.extend(t.evidence.versions.values().cloned());
        ids.extend(t.evidence.certificate.iter().cloned());
        ids.extend(t.evidence.groups.values().cloned());
        ids.extend(t.evidence.dh.values().cloned());
    }
    let mut seen = BTreeSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    ids
}

fn from_check(
    c: &Check,
    host: &AssessedHost,
    service: Option<&Service>,
    fields: &Facts,
) -> Finding {
    Finding {
        id: String::new(),
        check: c.id.clone(),
        severity: c.severity,
        confidence: c.confidence,
        host: host.observation.address,
        port: service.map(|s| s.port),
        protocol: service.map(|s| s.protocol),
        title: c.title.clone(),
        rationale: c.rationale.clone(),
        detail: c.detail_for(fields),
        remediation: c.remediation.clone(),
        requirements: c.requirements.clone(),
        evidence: match service {
            Some(s) => service_evidence(s),
            None => host
                .services
                .iter()
                .flat_map(|s| s.evidence.first().cloned())
                .chain(host.observation.snmp.iter().map(|s| s.evidence.clone()))
                .collect(),
        },
        advisory: None,
    }
}

fn from_advisory(
    a: &crate::advisory::Advisory,
    verdict: Verdict,
    host: &AssessedHost,
    s: &Service,
) -> Finding {
    let what = [
        s.identity.get("vendor"),
        s.identity.get("product").or(s.identity.get("os")),
        s.identity.get("version"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let name = a
        .name
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let ids = if a.cve.is_empty() {
        format!("end of support {}", a.end_of_life.as_deref().unwrap_or("?"))
    } else {
        a.cve.join(", ")
    };
    Finding {
        id: String::new(),
        check: a.check().to_owned(),
        severity: a.severity,
        confidence: verdict.confidence,
        host: host.observation.address,
        port: Some(s.port),
        protocol: Some(s.protocol),
        title: a.title.clone(),
        rationale: crate::finding::Text {
            ja: format!("{ids}{name}: {}", a.title.ja),
            en: format!("{ids}{name}: {}", a.title.en),
        },
        detail: format!(
            "{what} on {}/{}: {}",
            s.protocol.as_str(),
            s.port,
            verdict.basis
        ),
        remediation: a.remediation.clone(),
        requirements: a.requirements.clone(),
        evidence: service_evidence(s),
        advisory: Some(AdvisoryFacts {
            id: a.id.clone(),
            cve: a.cve.clone(),
            cvss: a.cvss,
            kev_added: a.kev_added.clone(),
            ransomware: a.ransomware.clone(),
            vendor_advisories: a.vendor_advisory.clone(),
            references: a.references.clone(),
            end_of_life: a.end_of_life.clone(),
            basis: verdict.basis,
        }),
    }
}

/// Every finding for these hosts, sorted and numbered `f-0001` ….
///
/// An advisory that applies to several services of one host (a FortiGate's admin and
/// SSL-VPN ports) is one finding, on the service with the strongest verdict.
pub fn findings(hosts: &[AssessedHost], rules: &Rules, ctx: &ScanContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for host in hosts {
        let hf = host_fields(host, ctx);
        for c in rules
            .checks
            .checks
            .iter()
            .filter(|c| c.scope == Scope::Host)
        {
            if c.fires(&hf) {
                out.push(from_check(c, host, None, &hf));
            }
        }
        let mut advisories: Vec<Finding> = Vec::new();
        for s in &host.services {
            let sf = service_fields(&hf, s);
            for c in rules
                .checks
                .checks
                .iter()
                .filter(|c| c.scope == Scope::Service)
            {
                if c.fires(&sf) {
                    out.push(from_check(c, host, Some(s), &sf));
                }
            }
            for a in &rules.advisories.advisories {
                let Some(v) = a.evaluate(&sf) else { continue };
                let f = from_advisory(a, v, host, s);
                let id = a.id.as_str();
                match advisories
                    .iter_mut()
                    .find(|x| x.advisory.as_ref().is_some_and(|y| y.id == id))
                {
                    Some(existing) if existing.confidence <= f.confidence => {}
                    Some(existing) => *existing = f,
                    None => advisories.push(f),
                }
            }
        }
        out.extend(advisories);
    }
    out.sort_by(|a, b| {
        (a.severity, a.confidence, a.host, a.port, &a.check).cmp(&(
            b.severity,
            b.confidence,
            b.host,
            b.port,
            &b.check,
        ))
    });
    for (i, f) in out.iter_mut().enumerate() {
        f.id = format!("f-{:04}", i + 1);
    }
    out
}
