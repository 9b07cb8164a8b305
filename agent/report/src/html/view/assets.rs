//! The asset inventory with the ledger comparison, the TLS table and the evidence
//! appendix.

use serde::Serialize;

use crate::html::escape::{anchor, excerpt, EXCERPT_CHARS};
use crate::labels::{self, page, Lang};
use crate::model::tls::{Leaf, Tls, PROFILE_ORDER};
use crate::model::{Evidence, Host, LedgerEntry, Report, Service};

/// Problems of one profile listed before the rest are counted.
const PROBLEMS_SHOWN: usize = 4;

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

fn host_row(h: &Host, lang: Lang) -> HostRow {
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

/// Section 4: every host, and the ledger comparison when a ledger was given.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Inventory {
    pub hosts: Vec<HostRow>,
    /// A ledger was given, so a host without a row is marked as missing from it.
    pub has_ledger: bool,
    pub not_seen: Vec<NotSeen>,
    pub unregistered: Vec<super::Link>,
}

pub(in crate::html) fn inventory(r: &Report, lang: Lang) -> Inventory {
    let inv = r.inventory.as_ref();
    Inventory {
        hosts: r.hosts.iter().map(|h| host_row(h, lang)).collect(),
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
    pub problems: Vec<String>,
}

/// What the service breaks, the profile most services should meet first, a few each.
fn problems(t: &Tls, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    for list in PROFILE_ORDER
        .iter()
        .filter_map(|p| t.evaluation.breaks.get(*p))
    {
        let shown = list.iter().take(PROBLEMS_SHOWN);
        out.extend(shown.map(|b| excerpt(lang.pick(&b.ja, &b.en))));
        if list.len() > PROBLEMS_SHOWN {
            out.push(format!("… (+{})", list.len() - PROBLEMS_SHOWN));
        }
    }
    out
}

/// Section 5: every service that accepted a TLS version.
pub(in crate::html) fn tls(r: &Report, lang: Lang) -> Vec<TlsRow> {
    let services = r
        .hosts
        .iter()
        .flat_map(|h| h.services.iter().map(move |s| (h, s)));
    services
        .filter_map(|(h, s)| Some((h, s, s.tls.as_ref()?)))
        .filter(|(_, _, t)| !t.versions.is_empty())
        .map(|(h, s, t)| TlsRow {
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
            problems: problems(t, lang),
        })
        .collect()
}

/// One evidence record in the appendix.
#[derive(Debug, Serialize)]
pub(in crate::html) struct EvidenceRow {
    pub anchor: String,
    pub id: String,
    pub host: String,
    pub port: Option<u16>,
    pub probe: String,
    pub note: String,
    pub received: String,
}

/// Section 6: every evidence record with the start of what was received.
pub(in crate::html) fn evidence(r: &Report) -> Vec<EvidenceRow> {
    r.evidence.iter().map(evidence_row).collect()
}

fn evidence_row(e: &Evidence) -> EvidenceRow {
    EvidenceRow {
        anchor: anchor(&e.id),
        id: e.id.clone(),
        host: e.host.clone(),
        port: e.port,
        probe: e.probe.clone(),
        note: excerpt(&e.note),
        received: decode_preview(&e.received),
    }
}

/// The printable start of base64 evidence bytes (invalid UTF-8 as `�`).
fn decode_preview(b64: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_default();
    let cut = &bytes[..bytes.len().min(EXCERPT_CHARS)];
    let text = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > EXCERPT_CHARS {
        format!("{text}…")
    } else {
        text
    }
}
