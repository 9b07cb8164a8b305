//! The kind decision: every piece of evidence casts a vote for a kind with a
//! confidence; the strongest confidence wins, and among kinds voted at that
//! confidence the catalog's precedence (`rules/ports.toml` `[hints] precedence`)
//! settles it. The reason names the evidence that decided, and what it outweighed.
//!
//! | evidence | confidence |
//! | --- | --- |
//! | a product fingerprint that names a device kind | confirmed |
//! | a kind rule (`rules/kinds.toml`) | as the rule says |
//! | the MAC vendor (`rules/mac-vendors.toml`) | likely |
//! | an open port's hint (`rules/ports.toml`) | potential |

use std::collections::BTreeMap;

use kenshin_probe::observation::HostObservation;
use kenshin_probe::ports::PortCatalog;

use super::evidence::{self, ServiceView};
use super::rules::KindRules;
use crate::kind::{DeviceKind, KindConfidence};
use crate::matcher::render;

/// Where a vote came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Fingerprint,
    Rule,
    MacVendor,
    PortHint,
}

#[derive(Debug, Clone)]
struct Vote {
    kind: DeviceKind,
    confidence: KindConfidence,
    source: Source,
    /// What it rests on, in English and Japanese.
    en: String,
    ja: String,
    /// The kind rule's ID, for a rule's vote.
    rule: String,
}

/// A host's kind, how sure, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindDecision {
    pub kind: DeviceKind,
    /// `None` for `unknown`.
    pub confidence: Option<KindConfidence>,
    pub reason: String,
    pub reason_ja: String,
    /// The kind rules that matched, by ID.
    pub rules: Vec<String>,
}

/// What the decision reads besides the host.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub catalog: &'a PortCatalog,
    pub rules: Option<&'a KindRules>,
    /// The kind the MAC vendor points to, with the vendor's name.
    pub mac_kind: Option<(DeviceKind, &'a str)>,
}

fn confidence_ja(c: KindConfidence) -> &'static str {
    match c {
        KindConfidence::Confirmed => "確実",
        KindConfidence::Likely => "可能性が高い",
        KindConfidence::Potential => "可能性あり",
    }
}

/// Decides the kind of one host.
pub fn decide(
    observation: &HostObservation,
    services: &[ServiceView<'_>],
    inputs: Inputs<'_>,
) -> KindDecision {
    let mut votes: Vec<Vote> = Vec::new();
    // A product fingerprint that names a device kind.
    let mut said: BTreeMap<DeviceKind, Vec<String>> = BTreeMap::new();
    for s in services {
        if let Some(kind) = s.identity.get("device").and_then(DeviceKind::parse) {
            let what = [
                s.identity.get("vendor"),
                s.identity.get("product").or(s.identity.get("os")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            said.entry(kind).or_default().push(format!(
                "{}/{} ({what})",
                s.protocol.as_str(),
                s.port
            ));
        }
    }
    for (kind, items) in said {
        let items = items.join(", ");
        votes.push(Vote {
            kind,
            confidence: KindConfidence::Confirmed,
            source: Source::Fingerprint,
            rule: String::new(),
            en: format!("service fingerprints identify {}: {items}", kind.phrase()),
            ja: format!("サービスの指紋が{}と識別: {items}", kind.phrase_ja()),
        });
    }
    // The kind rules over what the host and the network show.
    let fields = evidence::of_host(observation, services);
    let mut matched = Vec::new();
    if let Some(rules) = inputs.rules {
        for r in rules.matching(&fields) {
            matched.push(r.id.clone());
            votes.push(Vote {
                kind: r.kind,
                confidence: r.confidence,
                source: Source::Rule,
                rule: r.id.clone(),
                en: format!("{} ({})", render(&r.reason.en, &fields), r.id),
                ja: format!("{}（{}）", render(&r.reason.ja, &fields), r.id),
            });
        }
    }
    // The MAC vendor.
    if let Some((kind, vendor)) = inputs.mac_kind {
        votes.push(Vote {
            kind,
            confidence: KindConfidence::Likely,
            source: Source::MacVendor,
            rule: String::new(),
            en: format!("MAC vendor {vendor}"),
            ja: format!("MAC ベンダ {vendor}"),
        });
    }
    // The open ports' hints, as a last resort.
    let mut hinted: BTreeMap<DeviceKind, Vec<String>> = BTreeMap::new();
    for s in services {
        let hint = inputs
            .catalog
            .entry(s.protocol, s.port)
            .and_then(|e| e.hint.as_deref())
            .and_then(DeviceKind::parse);
        if let Some(kind) = hint {
            hinted
                .entry(kind)
                .or_default()
                .push(format!("{}/{} ({})", s.protocol, s.port, s.service));
        }
    }
    for (kind, ports) in hinted {
        let ports = ports.join(", ");
        votes.push(Vote {
            kind,
            confidence: KindConfidence::Potential,
            source: Source::PortHint,
            rule: String::new(),
            en: ports.clone(),
            ja: ports,
        });
    }
    conclude(&votes, inputs.catalog, services.is_empty(), matched)
}

fn conclude(
    votes: &[Vote],
    catalog: &PortCatalog,
    no_services: bool,
    rules: Vec<String>,
) -> KindDecision {
    let Some(best) = votes.iter().map(|v| v.confidence).min() else {
        let (reason, reason_ja) = if no_services {
            (
                "no open port and nothing else to tell the device kind from",
                "開いているポートも、種別を判断できる他の手がかりもない",
            )
        } else {
            (
                "its open ports and answers do not indicate a device kind",
                "開いているポートや応答から種別を判断できない",
            )
        };
        return KindDecision {
            kind: DeviceKind::Unknown,
            confidence: None,
            reason: reason.to_owned(),
            reason_ja: reason_ja.to_owned(),
            rules,
        };
    };
    let top: Vec<&Vote> = votes.iter().filter(|v| v.confidence == best).collect();
    let kind = catalog
        .hint_precedence
        .iter()
        .filter_map(|k| DeviceKind::parse(k))
        .find(|k| top.iter().any(|v| v.kind == *k))
        .or_else(|| top.iter().map(|v| v.kind).min())
        .unwrap_or(DeviceKind::Unknown);
    let winning: Vec<&Vote> = votes.iter().filter(|v| v.kind == kind).collect();
    let decided: Vec<&Vote> = winning
        .iter()
        .copied()
        .filter(|v| v.confidence == best)
        .collect();
    let outvoted: Vec<&Vote> = votes.iter().filter(|v| v.kind != kind).collect();
    let (mut en, mut ja) = (Vec::new(), Vec::new());
    for source in [
        Source::Fingerprint,
        Source::Rule,
        Source::MacVendor,
        Source::PortHint,
    ] {
        let of: Vec<&&Vote> = decided.iter().filter(|v| v.source == source).collect();
        if of.is_empty() {
            continue;
        }
        let items_en = of.iter().map(|v| v.en.as_str()).collect::<Vec<_>>();
        let items_ja = of.iter().map(|v| v.ja.as_str()).collect::<Vec<_>>();
        match source {
            Source::Fingerprint | Source::Rule => {
                en.extend(items_en.iter().map(|s| (*s).to_owned()));
                ja.extend(items_ja.iter().map(|s| (*s).to_owned()));
            }
            Source::MacVendor => {
                let ports_agree = winning.iter().any(|v| v.source == Source::PortHint);
                let ports_other = outvoted.iter().any(|v| v.source == Source::PortHint);
                let lead = match (ports_agree, ports_other) {
                    (true, _) => "open ports and the MAC vendor suggest",
                    (false, true) => "the MAC vendor suggests (over the open ports' hints)",
                    (false, false) => "the MAC vendor suggests",
                };
                let ports: Vec<&str> = winning
                    .iter()
                    .filter(|v| v.source == Source::PortHint)
                    .map(|v| v.en.as_str())
                    .collect();
                let all = ports
                    .iter()
                    .copied()
                    .chain(items_en.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", ");
                en.push(format!("{lead} {}: {all}", kind.phrase()));
                ja.push(format!(
                    "MAC ベンダから{}と推定: {}",
                    kind.phrase_ja(),
                    items_ja.join(", ")
                ));
            }
            Source::PortHint => {
                en.push(format!(
                    "open ports suggest {}: {}",
                    kind.phrase(),
                    items_en.join(", ")
                ));
                ja.push(format!(
                    "開いているポートから{}と推定: {}",
                    kind.phrase_ja(),
                    items_ja.join(", ")
                ));
            }
        }
    }
    let mut reason = format!("{} ({}): {}", kind.as_str(), best.as_str(), en.join("; "));
    let mut reason_ja = format!(
        "{}（{}）: {}",
        kind.phrase_ja(),
        confidence_ja(best),
        ja.join("; ")
    );
    // What was outweighed, one entry per kind: its strongest confidence and, briefly,
    // each piece of evidence (a kind rule by its ID).
    let mut over: BTreeMap<DeviceKind, (KindConfidence, Vec<String>, Vec<String>)> =
        BTreeMap::new();
    for v in &outvoted {
        let e = over
            .entry(v.kind)
            .or_insert((v.confidence, Vec::new(), Vec::new()));
        e.0 = e.0.min(v.confidence);
        let (en, ja) = match v.source {
            Source::Rule => (v.rule.clone(), v.rule.clone()),
            Source::PortHint => (format!("open ports {}", v.en), format!("ポート {}", v.ja)),
            _ => (v.en.clone(), v.ja.clone()),
        };
        e.1.push(en);
        e.2.push(ja);
    }
    if !over.is_empty() {
        let en: Vec<String> = over
            .iter()
            .map(|(k, (c, items, _))| {
                format!("{} ({}: {})", k.as_str(), c.as_str(), items.join(", "))
            })
            .collect();
        let ja: Vec<String> = over
            .iter()
            .map(|(k, (c, _, items))| {
                format!(
                    "{}（{}: {}）",
                    k.phrase_ja(),
                    confidence_ja(*c),
                    items.join(", ")
                )
            })
            .collect();
        reason.push_str(&format!("; outweighed: {}", en.join("; ")));
        reason_ja.push_str(&format!("; 採らなかった手がかり: {}", ja.join("; ")));
    }
    KindDecision {
        kind,
        confidence: Some(best),
        reason,
        reason_ja,
        rules,
    }
}
