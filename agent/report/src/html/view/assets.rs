//! The asset inventory with the ledger comparison (one row per host), the TLS table
//! (one row per service, each problem's words said once in a legend the rows cite)
//! and the evidence appendix (how many records each probe left, and where they are:
//! the records themselves stay in the evidence archive and report.json).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::html::escape::{anchor, excerpt};
use crate::labels::{self, page, Lang};
use crate::model::tls::{Leaf, PROFILE_ORDER};
use crate::model::{Host, LedgerEntry, Report, Service};

/// One open service in the inventory.
#[derive(Debug, Serialize)]
pub(in crate::html) struct ServiceLine {
    pub port: u16,
    pub protocol: String,
    pub service: String,
    /// Product and version, capped.
    pub software: Option<String>,
    /// The banner, capped, when no product was identified.
    pub banner: Option<String>,
}

fn service_line(s: &Service) -> ServiceLine {
    let product: Vec<&str> = [s.product.as_deref(), s.version.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    ServiceLine {
        port: s.port,
        protocol: s.protocol.clone(),
        service: s.service.clone(),
        software: (!product.is_empty()).then(|| excerpt(&product.join(" "))),
        banner: s
            .banner
            .as_deref()
            .filter(|_| s.product.is_none())
            .map(excerpt),
    }
}

/// The ledger row matched to a host: its line and who owns it where.
#[derive(Debug, Serialize)]
pub(in crate::html) struct LedgerCell {
    pub line: u64,
    pub details: Vec<String>,
}

/// One host of the inventory.
#[derive(Debug, Serialize)]
pub(in crate::html) struct HostRow {
    pub anchor: String,
    pub address: String,
    pub segment: Option<String>,
    pub mac: Option<String>,
    pub mac_vendor: Option<String>,
    pub names: Vec<String>,
    pub kind: &'static str,
    pub why: String,
    /// The class budget, when the host's class narrowed the scan's limits.
    pub budget: Option<String>,
    pub services: Vec<ServiceLine>,
    pub ledger: Option<LedgerCell>,
}

/// One host's row of the inventory.
pub(in crate::html) fn host_row(h: &Host, lang: Lang) -> HostRow {
    let mut names = h.hostnames.clone();
    if let Some(s) = h.snmp.as_ref().and_then(|s| s.sys_name.as_ref()) {
        names.push(format!("{s} (SNMP)"));
    }
    HostRow {
        anchor: anchor(&h.address),
        address: h.address.clone(),
        segment: h.segment.clone(),
        mac: h.mac.clone(),
        mac_vendor: h.mac.as_ref().and(h.mac_vendor.clone()),
        names,
        kind: labels::kind(h.kind).get(lang),
        why: excerpt(match lang {
            Lang::Ja if !h.kind_reason_ja.is_empty() => &h.kind_reason_ja,
            _ => &h.kind_reason,
        }),
        budget: h
            .budget
            .as_ref()
            .filter(|b| b.source != "default")
            .map(|b| {
                excerpt(&labels::budget_line(
                    lang,
                    &b.class,
                    b.frames_per_s,
                    b.inflight,
                    &b.learned,
                    lang.text(&b.reason),
                ))
            }),
        services: h.services.iter().map(service_line).collect(),
        ledger: h.ledger.as_ref().map(|l| LedgerCell {
            line: l.line,
            details: [&l.owner, &l.location]
                .into_iter()
                .flatten()
                .map(|v| excerpt(v))
                .collect(),
        }),
    }
}

/// A ledger row no host matched, each cell capped (`None` shows as a dash).
#[derive(Debug, Serialize)]
pub(in crate::html) struct NotSeen {
    pub line: u64,
    pub cells: [Option<String>; 6],
}

fn not_seen(e: &LedgerEntry) -> NotSeen {
    let cell = |v: &Option<String>| v.as_deref().map(excerpt);
    NotSeen {
        line: e.line,
        cells: [
            cell(&e.address),
            cell(&e.mac),
            cell(&e.hostname),
            e.kind.map(|k| k.as_str().to_owned()),
            cell(&e.owner),
            cell(&e.location),
        ],
    }
}

/// Section 4 but its rows (made a chunk at a time with [`host_row`]): the ledger
/// comparison when a ledger was given.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Inventory {
    /// A ledger was given, so a host without a row is marked as missing from it.
    pub has_ledger: bool,
    pub not_seen: Vec<NotSeen>,
    pub unregistered: Vec<super::Link>,
}

pub(in crate::html) fn inventory(r: &Report) -> Inventory {
    let inv = r.inventory.as_ref();
    Inventory {
        has_ledger: inv.is_some(),
        not_seen: inv.map_or_else(Vec::new, |i| i.not_seen.iter().map(not_seen).collect()),
        unregistered: inv.map_or_else(Vec::new, |i| {
            i.unregistered.iter().map(|a| super::Link::to(a)).collect()
        }),
    }
}

/// A certificate as the TLS table shows it.
#[derive(Debug, Serialize)]
pub(in crate::html) struct CertCell {
    pub subject: String,
    pub key_type: String,
    pub key_bits: u32,
    pub not_after: String,
    /// Expired, self-signed, untrusted, name mismatch: marks with their words.
    pub marks: Vec<&'static str>,
}

fn cert_cell(c: &Leaf, lang: Lang) -> CertCell {
    let mut marks = Vec::new();
    if c.expired {
        marks.push(page::CERT_EXPIRED.get(lang));
    } else if c.expires_within_30_days {
        marks.push(page::CERT_EXPIRING.get(lang));
    }
    if c.self_signed {
        marks.push(page::CERT_SELF_SIGNED.get(lang));
    } else if !c.chain_trusted {
        marks.push(page::CERT_UNTRUSTED.get(lang));
    }
    if c.hostname_match == Some(false) {
        marks.push(page::CERT_NAME_MISMATCH.get(lang));
    } else if c.hostname_match.is_none() && c.names_checked.is_empty() {
        marks.push(page::CERT_NO_NAME_KNOWN.get(lang));
    }
    CertCell {
        subject: excerpt(&c.subject),
        key_type: c.key_type.clone(),
        key_bits: c.key_bits.unwrap_or(0),
        not_after: c.not_after.clone(),
        marks,
    }
}

/// One TLS service.
#[derive(Debug, Serialize)]
pub(in crate::html) struct TlsRow {
    pub address: String,
    pub port: u16,
    pub channel: String,
    pub versions: Vec<String>,
    pub certificate: Option<CertCell>,
    /// The strictest profile met, in words, or a dash.
    pub satisfies: String,
    /// The legend numbers of what the service breaks.
    pub problems: Vec<usize>,
}

/// One problem's words, said once, with the number of services that have it.
#[derive(Debug, Serialize)]
pub(in crate::html) struct TlsProblem {
    pub n: usize,
    pub text: String,
    pub services: usize,
}

/// Section 5: every service that accepted a TLS version, and the problem legend.
#[derive(Debug, Serialize)]
pub(in crate::html) struct TlsSection {
    /// One row per service, in chunks.
    pub rows: Vec<Vec<TlsRow>>,
    pub problems: Vec<TlsProblem>,
}

pub(in crate::html) fn tls(r: &Report, lang: Lang) -> TlsSection {
    let mut legend: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let services = r
        .hosts
        .iter()
        .flat_map(|h| h.services.iter().map(move |s| (h, s)));
    let rows: Vec<TlsRow> = services
        .filter_map(|(h, s)| Some((h, s, s.tls.as_ref()?)))
        .filter(|(_, _, t)| !t.versions.is_empty())
        .map(|(h, s, t)| {
            let mut problems: Vec<usize> = PROFILE_ORDER
                .iter()
                .filter_map(|p| t.evaluation.breaks.get(*p))
                .flatten()
                .map(|b| {
                    let next = legend.len() + 1;
                    let entry = legend
                        .entry(excerpt(lang.pick(&b.ja, &b.en)))
                        .or_insert((next, 0));
                    entry.1 += 1;
                    entry.0
                })
                .collect();
            problems.sort_unstable();
            problems.dedup();
            TlsRow {
                address: h.address.clone(),
                port: s.port,
                channel: t.channel.clone(),
                versions: t.versions.clone(),
                certificate: t.certificate.as_ref().map(|c| cert_cell(c, lang)),
                satisfies: lang
                    .pick(
                        t.evaluation.satisfies_ja.as_deref().unwrap_or("—"),
                        t.evaluation.satisfies_en.as_deref().unwrap_or("—"),
                    )
                    .to_owned(),
                problems,
            }
        })
        .collect();
    let mut problems: Vec<TlsProblem> = legend
        .into_iter()
        .map(|(text, (n, services))| TlsProblem { n, text, services })
        .collect();
    problems.sort_by_key(|p| p.n);
    TlsSection {
        rows: super::chunks(rows),
        problems,
    }
}

/// How many evidence records one probe left.
#[derive(Debug, Serialize)]
pub(in crate::html) struct EvidenceCount {
    pub probe: String,
    pub records: usize,
}

/// Section 6: the evidence records counted by probe; each record is in the archive.
pub(in crate::html) fn evidence(tally: &crate::html::EvidenceTally) -> Vec<EvidenceCount> {
    tally
        .by_probe
        .iter()
        .map(|(probe, &records)| EvidenceCount {
            probe: excerpt(probe),
            records,
        })
        .collect()
}
