//! The checklist view: for every item of a checklist edition, a status and the
//! findings that bear on it; and the editions a scan may choose ([`Edition`]).
//!
//! The default edition is the newest one whose registry does not say its numbering is
//! unconfirmed (令和7年度版 while the 令和8年度版's item numbers are not read); the
//! report names the edition it used and a newer one if there is one.
//!
//! A finding bears on an item when it cites the item, or an item the item maps to: the
//! 令和8年度版's items map to the 令和7年度版 items on the same topic, so the checks, which
//! cite R7 numbers, answer R8 items too.
//!
//! - `findings`: findings map to the item (linked);
//! - `no-findings`: the item can be evidenced by a network scan, kenshin has checks for
//!   it, and none fired — never "compliant": a scan sees only part of any item;
//! - `manual`: only documents (1-①, 2-③, 3-①) or a check on the host itself can answer.

use std::fmt;
use std::str::FromStr;

use crate::advisory::AdvisorySet;
use crate::checks::CheckSet;
use crate::finding::{Finding, Text};
use crate::requirements::{Evidence, Registry};

/// The edition used when the registry cannot name a default (none loaded is confirmed).
pub const CHECKLIST: &str = Edition::R7.framework();

/// A checklist edition `--checklist` (daemon `checklist = …`) can choose, oldest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    /// 令和7年度版 (2025-05).
    R7,
    /// 令和8年度版 (2026-06): item numbering unconfirmed.
    R8,
}

impl Edition {
    /// Every edition, oldest first.
    pub const ALL: [Edition; 2] = [Edition::R7, Edition::R8];

    /// The value of `--checklist`.
    pub const fn code(self) -> &'static str {
        match self {
            Edition::R7 => "r7",
            Edition::R8 => "r8",
        }
    }

    /// The registry framework holding its items.
    pub const fn framework(self) -> &'static str {
        match self {
            Edition::R7 => "mhlw-checklist-r7",
            Edition::R8 => "mhlw-checklist-r8",
        }
    }

    /// The edition whose items are in `framework`.
    pub fn of_framework(framework: &str) -> Option<Edition> {
        Edition::ALL
            .into_iter()
            .find(|e| e.framework() == framework)
    }

    /// True if `registry` holds this edition and does not say its numbering is
    /// unconfirmed.
    fn confirmed_in(self, registry: &Registry) -> bool {
        registry
            .framework(self.framework())
            .is_some_and(|(f, _)| !f.numbering_unconfirmed)
    }

    /// The newest edition in `registry` whose numbering is confirmed.
    pub fn default_in(registry: &Registry) -> Edition {
        Edition::ALL
            .into_iter()
            .rev()
            .find(|e| e.confirmed_in(registry))
            .unwrap_or(Edition::R7)
    }

    /// The newest edition in `registry` that is newer than this one, if any.
    pub fn newer_in(self, registry: &Registry) -> Option<Edition> {
        Edition::ALL
            .into_iter()
            .rev()
            .find(|e| *e > self && registry.framework(e.framework()).is_some())
    }

    /// The choices, as an error message names them.
    pub fn choices() -> String {
        Edition::ALL
            .iter()
            .map(|e| format!("{} ({})", e.code(), e.framework()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Edition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A `--checklist` value that names no edition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a checklist edition; choose one of {choices}", choices = Edition::choices())]
pub struct UnknownEdition {
    pub value: String,
}

impl FromStr for Edition {
    type Err = UnknownEdition;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Edition::ALL
            .into_iter()
            .find(|e| e.code() == s)
            .ok_or_else(|| UnknownEdition {
                value: s.to_owned(),
            })
    }
}

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

impl fmt::Display for Status {
    /// The contract spelling.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
    let Some((_, items)) = registry.framework(framework) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            // The item itself and every item it maps to, as (framework, id).
            let names: Vec<(&str, &str)> = std::iter::once((framework, item.id.as_str()))
                .chain(item.maps_to.iter().filter_map(|m| m.split_once(':')))
                .collect();
            let bears = |refs: &[crate::finding::RequirementRef]| {
                refs.iter()
                    .any(|r| names.contains(&(r.framework.as_str(), r.id.as_str())))
            };
            let linked: Vec<String> = findings
                .iter()
                .filter(|f| bears(&f.requirements))
                .map(|f| f.id.clone())
                .collect();
            let scannable = item
                .evidence
                .iter()
                .any(|e| matches!(e, Evidence::Network | Evidence::Partial));
            let covered = checks.checks.iter().any(|c| bears(&c.requirements))
                || advisories.advisories.iter().any(|a| bears(&a.requirements));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Confidence, RequirementRef, Severity};
    use crate::pack::RulePack;
    use crate::requirements::BUILTIN;

    fn pack() -> RulePack {
        RulePack::builtin().unwrap_or_else(|p| panic!("{p}"))
    }

    fn finding(id: &str, cites: &str) -> Finding {
        let text = || Text {
            ja: "x".to_owned(),
            en: "x".to_owned(),
        };
        Finding {
            id: id.to_owned(),
            check: "service.telnet".to_owned(),
            severity: Severity::High,
            confidence: Confidence::Confirmed,
            host: std::net::IpAddr::from([198, 18, 1, 1]),
            port: Some(23),
            protocol: None,
            title: text(),
            rationale: text(),
            detail: String::new(),
            remediation: text(),
            requirements: vec![RequirementRef::parse(cites).expect("framework:id")],
            evidence: Vec::new(),
            advisory: None,
        }
    }

    #[test]
    fn the_default_is_r7_and_r8_is_named_as_newer_while_r8_numbering_is_unconfirmed() {
        let p = pack();
        assert_eq!(Edition::default_in(&p.registry), Edition::R7);
        assert_eq!(Edition::R7.newer_in(&p.registry), Some(Edition::R8));
        assert_eq!(Edition::R8.newer_in(&p.registry), None);
        assert_eq!(CHECKLIST, "mhlw-checklist-r7");
    }

    #[test]
    fn the_default_moves_to_r8_once_its_numbering_is_confirmed() {
        let text = crate::rulefile::shipped_text(BUILTIN, "mhlw-checklist-r8.toml")
            .replace("numbering_unconfirmed = true\n", "")
            .replace("unconfirmed = true\n", "")
            .replace("文言は未確認", "文言は確認済み")
            .replace("wording unconfirmed", "wording confirmed");
        let sources =
            crate::rulefile::replacing("requirements", BUILTIN, "mhlw-checklist-r8.toml", &text);
        let registry = Registry::from_sources(&sources).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(Edition::default_in(&registry), Edition::R8);
    }

    #[test]
    fn an_unknown_edition_is_refused_naming_the_value_and_the_choices() {
        assert_eq!("r8".parse::<Edition>(), Ok(Edition::R8));
        let e = "r9".parse::<Edition>().expect_err("no r9");
        assert_eq!(
            e.to_string(),
            "\"r9\" is not a checklist edition; choose one of r7 (mhlw-checklist-r7), r8 \
             (mhlw-checklist-r8)"
        );
    }

    #[test]
    fn the_r8_view_answers_through_the_r7_items_it_maps_to_and_stays_unconfirmed() {
        let p = pack();
        let findings = [finding("f-0001", "mhlw-checklist-r7:2-⑫")];
        let view = view(
            Edition::R8.framework(),
            &p.registry,
            &p.checks,
            &p.advisories,
            &findings,
        );
        assert!(view.len() >= 19, "{}", view.len());
        assert!(view
            .iter()
            .all(|e| e.unconfirmed && e.framework == "mhlw-checklist-r8"));
        let services = view
            .iter()
            .find(|e| e.id == "不要サービス停止")
            .expect("the item on unneeded services");
        assert_eq!(services.status, Status::Findings);
        assert_eq!(services.findings, ["f-0001"]);
        let patches = view
            .iter()
            .find(|e| e.id == "セキュリティ更新")
            .expect("patches");
        assert_eq!(patches.status, Status::NoFindings, "checks cite R7 2-⑥");
        let officer = view
            .iter()
            .find(|e| e.id == "安全管理責任者")
            .expect("officer");
        assert_eq!(officer.status, Status::Manual);
        let r7 = super::view(CHECKLIST, &p.registry, &p.checks, &p.advisories, &findings);
        let item = r7.iter().find(|e| e.id == "2-⑫").expect("2-⑫");
        assert_eq!((item.status, item.unconfirmed), (Status::Findings, false));
    }
}
