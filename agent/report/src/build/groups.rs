//! Puts the groups and the accepted-risk register's outcome into a built report:
//! `groups`, each finding's `disposition`, `exceptions`, and the offset times are shown in.

use kenshin_assess::exceptions::{Applied, Status};
use kenshin_assess::groups::Group as AssessedGroup;

use crate::model::{
    Disposition, DispositionStatus, ExceptionRecord, ExceptionStatus, Group, Report, Text,
};

/// What grouping and the register concluded about a scan's findings.
#[derive(Debug, Clone, Default)]
pub struct Judged<'a> {
    pub groups: &'a [AssessedGroup],
    /// The register applied, when one was given.
    pub register: Option<&'a Applied>,
    /// The offset people read times in (`+09:00`).
    pub utc_offset: Option<String>,
}

/// Records `judged` in `report`.
pub fn attach_groups(report: &mut Report, judged: &Judged<'_>) {
    if let Some(applied) = judged.register {
        for f in &mut report.findings {
            if let Some(ex) = applied.accepted.get(&f.id) {
                f.disposition = Disposition {
                    status: DispositionStatus::Accepted,
                    exception: Some(ex.id.clone()),
                    expires: Some(ex.expires.to_string()),
                };
            }
        }
        report.exceptions = applied
            .outcomes
            .iter()
            .map(|o| {
                let ex = &o.exception;
                ExceptionRecord {
                    id: ex.id.clone(),
                    status: match o.status {
                        Status::Active => ExceptionStatus::Active,
                        Status::Expired => ExceptionStatus::Expired,
                        Status::Unused => ExceptionStatus::Unused,
                    },
                    check: ex.check.clone(),
                    hosts: ex.hosts.iter().map(ToString::to_string).collect(),
                    ports: ex.ports.clone(),
                    reason: Text {
                        ja: ex.reason.ja.clone(),
                        en: ex.reason.en.clone(),
                    },
                    approved_by: ex.approved_by.clone(),
                    approved_on: ex.approved_on.to_string(),
                    expires: ex.expires.to_string(),
                    matched: o.matched.clone(),
                    source: format!("{}:{}", applied.source, ex.line),
                }
            })
            .collect();
    }
    report.groups = judged
        .groups
        .iter()
        .map(|g| Group {
            id: g.id.clone(),
            check: g.check.clone(),
            cause: Text {
                ja: g.cause.ja.clone(),
                en: g.cause.en.clone(),
            },
            severity: g.severity,
            count: g.count() as u64,
            hosts: g.hosts as u64,
            accepted: g
                .findings
                .iter()
                .filter(|id| {
                    judged
                        .register
                        .is_some_and(|a| a.accepted.contains_key(*id))
                })
                .count() as u64,
            findings: g.findings.clone(),
        })
        .collect();
    report.scan.utc_offset = judged.utc_offset.clone();
}
