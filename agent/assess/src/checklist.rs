//! The checklist view: for every item of a checklist edition (令和7年度版 by default), a
//! status and the findings that bear on it.
//!
//! - `findings`: findings map to the item (linked);
//! - `no-findings`: the item can be evidenced by a network scan, kenshin has checks for
//!   it, and none fired — never "compliant": a scan sees only part of any item;
//! - `manual`: only documents (1-①, 2-③, 3-①) or a check on the host itself can answer.

use crate::advisory::AdvisorySet;
use crate::checks::CheckSet;
use crate::finding::{Finding, Text};
use crate::requirements::{Evidence, Registry};

/// The framework the checklist view is built for.
pub const CHECKLIST: &str = "mhlw-checklist-r7";

/// An item's status, serialized in the contract spelling (the report's `ChecklistStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Findings,
    NoFindings,
    Manual,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Findings, Status::NoFindings, Status::Manual];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Findings => "findings",
            Status::NoFindings => "no-findings",
            Status::Manual => "manual",
        }
    }
}

impl std::fmt::Display for Status {
    /// The contract spelling.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One item of the view.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub framework: String,
    pub id: String,
    pub forms: Vec<String>,
    pub question: Text,
    pub unconfirmed: bool,
    pub status: Status,
    /// Finding IDs, in report order.
    pub findings: Vec<String>,
    /// Why this status, in words.
    pub note: Text,
}

fn note(ja: &str, en: &str) -> Text {
    Text {
        ja: ja.to_owned(),
        en: en.to_owned(),
    }
}

/// Builds the view of `framework` from the findings.
pub fn view(
    framework: &str,
    registry: &Registry,
    checks: &CheckSet,
    advisories: &AdvisorySet,
    findings: &[Finding],
) -> Vec<Entry> {
    let Some((_, items)) = registry.frameworks.iter().find(|(f, _)| f.id == framework) else {
        return Vec::new();
    };
    let bears = |refs: &[crate::finding::RequirementRef], id: &str| {
        refs.iter().any(|r| r.framework == framework && r.id == id)
    };
    items
        .iter()
        .map(|item| {
            let linked: Vec<String> = findings
                .iter()
                .filter(|f| bears(&f.requirements, &item.id))
                .map(|f| f.id.clone())
                .collect();
            let scannable = item
                .evidence
                .iter()
                .any(|e| matches!(e, Evidence::Network | Evidence::Partial));
            let covered = checks.checks.iter().any(|c| bears(&c.requirements, &item.id))
                || advisories
                    .advisories
                    .iter()
                    .any(|a| bears(&a.requirements, &item.id));
            let (status, why) = if !linked.is_empty() {
                (
                    Status::Findings,
                    note(
                        &format!("スキャンで関係する所見が {} 件見つかった。各所見を確認する。", linked.len()),
                        &format!("The scan found {} findings that bear on this item; review each.", linked.len()),
                    ),
                )
            } else if scannable && covered {
                (
                    Status::NoFindings,
                    note(
                        "スキャンの範囲では反する所見はなかった(適合を示すものではない。文書と運用も確認する)。",
                        "Nothing contrary was seen within the scan's reach; this is not a statement of compliance: review documents and practice too.",
                    ),
                )
            } else if item.evidence.contains(&Evidence::Host) {
                (
                    Status::Manual,
                    note(
                        "ネットワークスキャンでは確認できない。端末・サーバ上の確認(設定・ログ)と文書で確認する。",
                        "A network scan cannot show this; check on the hosts themselves (settings, logs) and in documents.",
                    ),
                )
            } else {
                (
                    Status::Manual,
                    note(
                        "文書・体制の確認が必要な項目で、スキャンでは確認できない。",
                        "Only document and organisational review can answer this item.",
                    ),
                )
            };
            Entry {
                framework: framework.to_owned(),
                id: item.id.clone(),
                forms: item.forms.clone(),
                question: Text {
                    ja: item.ja.clone(),
                    en: item.en.clone(),
                },
                unconfirmed: item.unconfirmed,
                status,
                findings: linked,
                note: why,
            }
        })
        .collect()
}
