//! Assembles a [`Report`] from a scan's outcome and assessment.

mod groups;
mod tls;

pub use groups::{attach_groups, Judged};

use kenshin_assess::segments::Segments;
use kenshin_assess::AssessedHost;
use kenshin_probe::governor::TlsAuditScope;
use kenshin_probe::observation::ScanOutcome;
use kenshin_probe::scan::ScanPlan;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use std::collections::BTreeMap;

use crate::model::*;
use crate::CONTRACT;

/// What the report says about how the scan was asked for.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub id: String,
    pub targets: Vec<String>,
    pub excluded: Vec<String>,
    pub resolved: Vec<(String, Vec<std::net::IpAddr>)>,
    pub tool_version: String,
    /// Where the TLS trust anchors came from.
    pub trust_sources: Vec<String>,
    /// Named segments.
    pub segments: Segments,
    /// The segment the scanner sits in.
    pub vantage: Option<String>,
    /// What the scan is judged with.
    pub rules: RulesUsed,
}

/// What the rules concluded: findings, the checklist view and the data's provenance.
#[derive(Debug, Clone, Default)]
pub struct Conclusions {
    pub findings: Vec<kenshin_assess::finding::Finding>,
    pub checklist: Vec<kenshin_assess::checklist::Entry>,
    /// (file, provenance) of the advisory data.
    pub provenance: Vec<(String, kenshin_assess::advisory::Provenance)>,
}

/// A scan ID from its start time: `20261122T045100Z-1a2b3c`.
pub fn scan_id(started: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{:06x}",
        started.year(),
        u8::from(started.month()),
        started.day(),
        started.hour(),
        started.minute(),
        started.second(),
        rand_suffix(started)
    )
}

fn rand_suffix(t: OffsetDateTime) -> u32 {
    // Nanoseconds and the process ID are enough to keep two scans in one second apart.
    (t.nanosecond() ^ std::process::id().rotate_left(12)) & 0xff_ffff
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn mac_string(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// Builds the report.
pub fn build(
    request: &ScanRequest,
    plan: &ScanPlan,
    mut outcome: ScanOutcome,
    hosts: Vec<AssessedHost>,
    conclusions: Conclusions,
) -> Report {
    // Everything is taken by value and moved into the report: each assessed host,
    // finding and evidence record is freed as it is converted, so the scan's results
    // are never held twice.
    // Taken out first: converted record by record, each raw record freed once encoded.
    let evidence = std::mem::take(&mut outcome.evidence);
    let outcome = &outcome;
    let duration = outcome.finished_at - outcome.started_at;
    let open_ports: usize = hosts.iter().map(|h| h.services.len()).sum();
    let hosts_up = hosts.len();
    Report {
        contract: CONTRACT.to_owned(),
        tool: Tool {
            name: "kenshin".to_owned(),
            version: request.tool_version.clone(),
            rules_version: plan.catalog.version.clone(),
            advisories: conclusions
                .provenance
                .into_iter()
                .map(|(file, p)| RulesProvenance {
                    file,
                    kev_catalog_version: p.kev_catalog_version,
                    compiled: p.compiled,
                })
                .collect(),
        },
        scan: Scan {
            id: request.id.clone(),
            started_at: rfc3339(outcome.started_at),
            finished_at: rfc3339(outcome.finished_at),
            complete: outcome.complete,
            targets: request.targets.clone(),
            excluded: request.excluded.clone(),
            resolved: request
                .resolved
                .iter()
                .map(|(name, addrs)| Resolved {
                    name: name.clone(),
                    addresses: addrs.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            scope: plan
                .guard
                .scope()
                .ranges()
                .iter()
                .map(ToString::to_string)
                .collect(),
            ports: plan.ports.to_spec(),
            settings: Settings {
                rate_pps: plan.safety.rate_pps,
                host_rate_pps: plan.safety.host_rate_pps,
                host_concurrency: plan.safety.host_concurrency,
                host_parallelism: u32::try_from(plan.host_parallelism).unwrap_or(u32::MAX),
                retries: plan.retries,
                discovery_mode: format!("{:?}", plan.discovery).to_lowercase(),
                time_budget_s: plan.time_budget.as_secs(),
                icmp: plan.use_icmp,
                arp: plan.use_arp,
                snmp: plan.snmp_community.is_some(),
                timeout_initial_ms: millis(plan.safety.timeouts.initial),
                timeout_min_ms: millis(plan.safety.timeouts.min),
                timeout_max_ms: millis(plan.safety.timeouts.max),
                tls_audit: plan.tls_audit.is_some(),
                tls_pause_ms: plan.tls_audit.map(|t| millis(t.pause)),
                tls_max_handshakes: plan.tls_audit.map(|t| t.max_handshakes),
                tls_trust_store: request.trust_sources.clone(),
            },
            segments: request
                .segments
                .segments
                .iter()
                .map(|s| SegmentDef {
                    name: s.name.clone(),
                    ranges: s.ranges.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            vantage: request.vantage.clone(),
            site: None,
            discovery: Discovery {
                mode: outcome.discovery.mode.as_str().to_owned(),
                reason: outcome.discovery.reason.clone(),
            },
            stats: Stats {
                addresses: u64::try_from(outcome.addresses).unwrap_or(u64::MAX),
                hosts_up: hosts_up as u64,
                open_ports: open_ports as u64,
                probes_sent: outcome.probes_sent(),
                probes: ProbeCounts {
                    icmp: outcome.probes_icmp,
                    arp: outcome.probes_arp,
                    tcp: outcome.probes_tcp,
                    udp: outcome.probes_udp,
                },
                duration_ms: u64::try_from(duration.whole_milliseconds()).unwrap_or(0),
                frames: Some(FrameCounts {
                    sent: outcome.frames.frames_sent,
                    peak_second: outcome.frames.peak_second,
                    peak_second_host: outcome.frames.peak_second_host,
                    peak_host: outcome.frames.peak_host.map(|a| a.to_string()),
                    unplanned: Some(outcome.frames.unplanned),
                    unplanned_peak_second: Some(outcome.frames.unplanned_peak_second),
                }),
                timing: (!outcome.timing.phases_ms.is_empty()).then(|| timing(&outcome.timing)),
                retry: (!outcome.timing.phases_ms.is_empty()).then(|| retry(&outcome.retry)),
            },
            warnings: outcome.warnings.clone(),
            rules: Some(request.rules.clone()),
            utc_offset: None,
        },
        hosts: hosts.into_iter().map(host).collect(),
        findings: conclusions.findings.into_iter().map(finding).collect(),
        checklist: conclusions
            .checklist
            .into_iter()
            .map(|e| ChecklistItem {
                framework: e.framework,
                id: e.id,
                forms: e.forms,
                question: text(e.question),
                unconfirmed: e.unconfirmed,
                status: e.status,
                findings: e.findings,
                note: text(e.note),
            })
            .collect(),
        // Each capture's bytes move over as they are: records that saw the same bytes
        // keep sharing them.
        evidence: {
            evidence
                .into_iter()
                .map(|e| Evidence {
                    id: e.id,
                    host: e.host.to_string(),
                    port: e.port,
                    protocol: e.protocol.map(|p| p.as_str().to_owned()),
                    probe: e.probe.to_owned(),
                    at: rfc3339(e.at),
                    sent: e.sent.into(),
                    received: e.received.into(),
                    truncated: e.truncated,
                    redacted: e.redacted.iter().map(|s| (*s).to_owned()).collect(),
                    note: e.note,
                    exchange: e
                        .exchange
                        .iter()
                        .map(|x| ExchangeSegment {
                            direction: x.direction.as_str().to_owned(),
                            at_ms: (x.at_ms * 1000.0).round() / 1000.0,
                            bytes: x.bytes,
                        })
                        .collect(),
                })
                .collect()
        },
        inventory: None,
        signing: None,
        evidence_archive: None,
        groups: Vec::new(),
        exceptions: Vec::new(),
    }
}

fn facts(facts: kenshin_probe::observation::Facts) -> BTreeMap<String, FactValue> {
    use kenshin_probe::observation::Fact;
    facts
        .into_iter()
        .map(|(k, v)| {
            let value = match v {
                Fact::Text(t) => FactValue::Text(t),
                Fact::Int(i) => FactValue::Int(i),
                Fact::Bool(b) => FactValue::Bool(b),
                Fact::List(l) => FactValue::List(l),
            };
            (k, value)
        })
        .collect()
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn text(t: kenshin_assess::finding::Text) -> Text {
    Text { ja: t.ja, en: t.en }
}

fn finding(f: kenshin_assess::finding::Finding) -> Finding {
    Finding {
        id: f.id,
        check: f.check,
        severity: f.severity,
        confidence: f.confidence,
        host: f.host.to_string(),
        port: f.port,
        protocol: f.protocol.map(|p| p.as_str().to_owned()),
        title: text(f.title),
        rationale: text(f.rationale),
        detail: f.detail,
        remediation: text(f.remediation),
        requirements: f
            .requirements
            .into_iter()
            .map(|r| RequirementRef {
                framework: r.framework,
                id: r.id,
            })
            .collect(),
        evidence: f.evidence,
        advisory: f.advisory.map(|a| AdvisoryRef {
            id: a.id,
            cve: a.cve,
            cvss: a.cvss.map(|c| (f64::from(c) * 10.0).round() / 10.0),
            kev_added: a.kev_added,
            ransomware: a.ransomware,
            vendor_advisories: a.vendor_advisories,
            references: a.references,
            end_of_life: a.end_of_life,
            basis: a.basis,
        }),
        disposition: Disposition::default(),
    }
}

fn host(h: AssessedHost) -> Host {
    let o = h.observation;
    let (closed_ports, filtered_ports) = (o.closed_ports(), o.filtered_ports());
    Host {
        address: o.address.to_string(),
        mac: o.mac.map(mac_string),
        mac_vendor: h.mac_vendor,
        hostnames: o.hostnames,
        kind: h.kind,
        kind_reason: h.kind_reason,
        kind_reason_ja: h.kind_reason_ja,
        kind_confidence: h.kind_confidence,
        reverse_names: o.reverse_names,
        segment: h.segment,
        discovered_by: o
            .discovered_by
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect(),
        rtt_ms: o
            .rtt
            .map(|d| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0),
        scan_state: o.scan_state.as_str().to_owned(),
        closed_ports,
        filtered_ports,
        notes: o.notes,
        probes_sent: o.probes_sent,
        services: h.services.into_iter().map(service).collect(),
        snmp: o.snmp.map(|s| Snmp {
            version: s.version.to_owned(),
            community_accepted: s.community_accepted,
            error_status: s.error_status,
            sys_descr: s.sys_descr,
            sys_object_id: s.sys_object_id,
            sys_name: s.sys_name,
            sys_uptime_ticks: s.sys_uptime_ticks,
            evidence: vec![s.evidence],
        }),
        ledger: None,
        budget: o.budget.map(|b| Budget {
            class: b.class,
            frames_per_s: b.frames_per_s,
            inflight: b.inflight,
            tls_audit: match b.tls_audit {
                TlsAuditScope::Full => "full",
                TlsAuditScope::VersionsAndCertificate => "versions-and-certificate",
            }
            .to_owned(),
            source: b.source.as_str().to_owned(),
            learned: b.learned,
            reason: Text {
                ja: b.why.ja,
                en: b.why.en,
            },
            frames_sent: o.frames.frames,
            peak_second: o.frames.peak_second,
        }),
        heard: Vec::new(),
    }
}

/// Records the ledger comparison: the report's `inventory` and each host's `ledger` row.
pub fn attach_inventory(
    report: &mut Report,
    ledger: &kenshin_assess::ledger::Ledger,
    cmp: &kenshin_assess::ledger::Comparison,
) {
    let entry = |i: usize| ledger.entries.get(i).map(ledger_entry);
    for (addr, i) in &cmp.matched {
        let addr = addr.to_string();
        if let Some(h) = report.hosts.iter_mut().find(|h| h.address == addr) {
            h.ledger = entry(*i);
        }
    }
    for c in &ledger.ignored_columns {
        report.scan.warnings.push(format!(
            "ledger column {c:?} is not one kenshin reads (address, mac, hostname, kind, owner, \
             location, note); it was ignored"
        ));
    }
    report.inventory = Some(Inventory {
        source: ledger.source.clone(),
        encoding: ledger.encoding.to_owned(),
        sha256: ledger.sha256.clone(),
        entries: ledger.entries.len() as u64,
        matched: cmp.matched.len() as u64,
        out_of_scope: cmp.out_of_scope as u64,
        unregistered: cmp.unregistered.iter().map(ToString::to_string).collect(),
        not_seen: cmp.not_seen.iter().filter_map(|&i| entry(i)).collect(),
    });
}

fn ledger_entry(e: &kenshin_assess::ledger::Entry) -> LedgerEntry {
    LedgerEntry {
        line: e.line,
        address: e.address.map(|a| a.to_string()),
        mac: e.mac.map(kenshin_assess::ledger::mac_string),
        hostname: e.hostname.clone(),
        kind: e.kind,
        owner: e.owner.clone(),
        location: e.location.clone(),
        note: e.note.clone(),
    }
}

fn service(s: kenshin_assess::Service) -> Service {
    let attr = |k: &str| s.identity.get(k).map(str::to_owned);
    let mut notes = s.notes;
    // The fingerprint loader refuses a `device` that is no kind, so this is only a guard:
    // an unknown word is said in the notes rather than dropped.
    let device = attr("device").and_then(|d| {
        let kind = DeviceKind::parse(&d);
        if kind.is_none() {
            notes.push(format!("fingerprint device {d:?} is not a device kind"));
        }
        kind
    });
    Service {
        port: s.port,
        protocol: s.protocol.as_str().to_owned(),
        state: "open".to_owned(),
        service: s.service,
        service_from: s.named_by.as_str().to_owned(),
        vendor: s.vendor,
        product: s.product,
        version: s.version,
        banner: s.banner,
        identity: Identity {
            os: attr("os"),
            distribution: attr("distribution"),
            package_revision: attr("package_revision"),
            model: attr("model"),
            device,
            certainty: s
                .identity
                .certainty
                .map(|c| (f64::from(c) * 100.0).round() / 100.0),
            fingerprints: s.identity.matched,
        },
        facts: facts(s.facts),
        tls: s.tls_report.as_deref().map(|t| Box::new(tls::section(t))),
        connect_only: s.connect_only,
        evidence: s.evidence,
        notes,
    }
}

fn timing(t: &kenshin_probe::observation::ScanTiming) -> Timing {
    Timing {
        phases: t
            .phases_ms
            .iter()
            .map(|(phase, ms)| PhaseTime {
                phase: phase.clone(),
                ms: *ms,
            })
            .collect(),
        host_port_scan_ms: t.host_tcp_ms,
        host_udp_ms: t.host_udp_ms,
        host_identify_ms: t.host_identify_ms,
        host_tls_audit_ms: t.host_tls_audit_ms,
        host_reverse_names_ms: t.host_names_ms,
    }
}

fn retry(r: &kenshin_probe::observation::RetryPolicy) -> RetryStats {
    RetryStats {
        loss_estimate: r.loss_estimate,
        loss_samples: r.loss_samples,
        second_look_ports: r.second_look_ports.clone(),
        second_look_coverage: r.second_look_coverage,
        expected_missed_hosts: Some(r.expected_missed_hosts),
        lifeless_addresses: r.lifeless_addresses,
        found_by_second_look: r.found_by_second_look,
        second_look_echo: r.second_look_echo,
        accepted_miss_probability: r.accepted_miss_probability,
    }
}
