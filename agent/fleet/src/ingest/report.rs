//! The parts of report.json the fleet files, read leniently: only what the rollup
//! needs, fields added by later contract versions ignored, and the optional ones of
//! `kenshin.report/1.1` (`scan.site`, `groups`, per-finding `disposition`) taken
//! when present.

use serde::Deserialize;

/// The report, as the fleet reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct Report {
    pub(crate) contract: String,
    #[serde(default)]
    pub(crate) tool: Tool,
    pub(crate) scan: Scan,
    #[serde(default)]
    pub(crate) hosts: Vec<Host>,
    #[serde(default)]
    pub(crate) findings: Vec<Finding>,
    #[serde(default)]
    pub(crate) checklist: Vec<ChecklistItem>,
    #[serde(default)]
    pub(crate) groups: Option<Vec<Group>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Tool {
    pub(crate) version: Option<String>,
    pub(crate) rules_version: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Scan {
    pub(crate) id: String,
    pub(crate) started_at: Option<String>,
    pub(crate) finished_at: String,
    pub(crate) complete: bool,
    #[serde(default)]
    pub(crate) site: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Host {
    pub(crate) address: String,
    #[serde(default)]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) mac: Option<String>,
    #[serde(default)]
    pub(crate) services: Vec<Service>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Service {
    pub(crate) port: u16,
    pub(crate) protocol: String,
    #[serde(default)]
    pub(crate) service: Option<String>,
    #[serde(default)]
    pub(crate) product: Option<String>,
    #[serde(default)]
    pub(crate) version: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Words {
    #[serde(default)]
    pub(crate) ja: Option<String>,
    #[serde(default)]
    pub(crate) en: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Requirement {
    pub(crate) framework: String,
    pub(crate) id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Disposition {
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) exception: Option<String>,
    #[serde(default)]
    pub(crate) expires: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Finding {
    pub(crate) id: String,
    pub(crate) check: String,
    pub(crate) severity: String,
    #[serde(default)]
    pub(crate) host: Option<String>,
    #[serde(default)]
    pub(crate) port: Option<u16>,
    #[serde(default)]
    pub(crate) title: Option<Words>,
    #[serde(default)]
    pub(crate) requirements: Vec<Requirement>,
    #[serde(default)]
    pub(crate) disposition: Option<Disposition>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChecklistItem {
    pub(crate) framework: String,
    pub(crate) id: String,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) findings: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Group {
    pub(crate) id: String,
    pub(crate) check: String,
    #[serde(default)]
    pub(crate) cause: Option<Words>,
    pub(crate) severity: String,
    #[serde(default)]
    pub(crate) findings: Vec<String>,
}

impl Report {
    /// Reads report.json's bytes; the error says what is missing.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        let report: Self = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if !report.contract.starts_with(kenshin_report::CONTRACT) {
            return Err(format!(
                "contract {:?}, expected {}",
                report.contract,
                kenshin_report::CONTRACT
            ));
        }
        Ok(report)
    }

    /// The finding groups: the report's own, or one per check when it has none.
    pub(crate) fn groups(&self) -> Vec<FiledGroup> {
        if let Some(groups) = &self.groups {
            return groups
                .iter()
                .map(|g| FiledGroup {
                    id: g.id.clone(),
                    check: g.check.clone(),
                    cause_ja: g.cause.as_ref().and_then(|c| c.ja.clone()),
                    cause_en: g.cause.as_ref().and_then(|c| c.en.clone()),
                    severity: g.severity.clone(),
                    findings: g.findings.clone(),
                })
                .collect();
        }
        let mut by_check: std::collections::BTreeMap<&str, FiledGroup> =
            std::collections::BTreeMap::new();
        for f in &self.findings {
            let group = by_check.entry(&f.check).or_insert_with(|| FiledGroup {
                id: f.check.clone(),
                check: f.check.clone(),
                cause_ja: f.title.as_ref().and_then(|t| t.ja.clone()),
                cause_en: f.title.as_ref().and_then(|t| t.en.clone()),
                severity: f.severity.clone(),
                findings: Vec::new(),
            });
            if severity_rank(&f.severity) < severity_rank(&group.severity) {
                group.severity = f.severity.clone();
            }
            group.findings.push(f.id.clone());
        }
        by_check.into_values().collect()
    }
}

/// A group as it is filed.
#[derive(Debug, Clone)]
pub(crate) struct FiledGroup {
    pub(crate) id: String,
    pub(crate) check: String,
    pub(crate) cause_ja: Option<String>,
    pub(crate) cause_en: Option<String>,
    pub(crate) severity: String,
    pub(crate) findings: Vec<String>,
}

/// The severities, most severe first.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// 0 for critical … 4 for info; 5 for anything else.
pub(crate) fn severity_rank(s: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|x| *x == s)
        .unwrap_or(SEVERITIES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_golden_report_is_read_and_grouped_by_check_without_groups() {
        let bytes = include_bytes!("../../../report/tests/golden/report.json");
        let report = Report::parse(bytes).expect("the golden report");
        assert!(!report.hosts.is_empty());
        let groups = report.groups();
        let grouped: usize = groups.iter().map(|g| g.findings.len()).sum();
        assert_eq!(grouped, report.findings.len(), "every finding in one group");
    }

    #[test]
    fn another_contract_is_refused_by_name() {
        let err = Report::parse(
            br#"{"contract":"other/1","scan":{"id":"x","finished_at":"t","complete":true}}"#,
        )
        .expect_err("another contract");
        assert!(err.contains("other/1"), "{err}");
    }
}
