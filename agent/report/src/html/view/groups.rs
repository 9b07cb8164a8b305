//! The groups (one row per cause, expandable to its explanation, said once, and its
//! hosts) and the accepted risks: the findings the register accepts, and every
//! exception with its status.

use serde::Serialize;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::findings::{advisory, check_anchor, requirements, Advisory, Requirement, R7};
use super::{Link, SeverityView};
use crate::html::escape::anchor;
use crate::labels::{self, Lang};
use crate::model::{ExceptionStatus, Finding, Report, Severity};

/// One member of a group: the finding and where it is.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Member {
    pub link: Link,
    pub place: String,
    /// The exception that accepts it, if any.
    pub accepted_by: Option<String>,
}

/// One group as the page shows it.
#[derive(Debug, Serialize)]
pub(in crate::html) struct GroupView {
    pub anchor: String,
    pub id: String,
    pub severity: SeverityView,
    pub cause: String,
    pub check: String,
    pub count: u64,
    pub hosts: u64,
    pub accepted: u64,
    /// What the group's findings share, said once: from its first finding.
    pub explanation: Option<Explanation>,
    pub members: Vec<Member>,
}

/// Why a group's findings matter and what to do, with the requirements they bear on.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Explanation {
    pub title: String,
    pub confidence: &'static str,
    pub why: String,
    pub fix: String,
    pub advisory: Option<Advisory>,
    pub requirements: Vec<Requirement>,
}

fn explanation(f: &Finding, lang: Lang, link_r7: bool) -> Explanation {
    Explanation {
        title: lang.text(&f.title).to_owned(),
        confidence: labels::confidence(f.confidence).get(lang),
        why: lang.text(&f.rationale).to_owned(),
        fix: lang.text(&f.remediation).to_owned(),
        advisory: f.advisory.as_ref().map(|a| advisory(a, lang)),
        requirements: requirements(f, link_r7),
    }
}

fn member(id: &str, f: Option<&&Finding>) -> Member {
    Member {
        link: Link::to(id),
        place: f.map(|f| f.place()).unwrap_or_default(),
        accepted_by: f.and_then(|f| f.disposition.exception.clone()),
    }
}

/// The report's groups, then (for a report written before groups) one stand-in per
/// check holding the findings no group holds, so every finding is explained once.
pub(in crate::html) fn groups(r: &Report, lang: Lang) -> Vec<GroupView> {
    let by_id: HashMap<&str, &Finding> = r.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let link_r7 = labels::edition::of_report(r).framework == R7;
    let mut out: Vec<GroupView> = r
        .groups
        .iter()
        .map(|g| {
            let first = g.findings.first().and_then(|id| by_id.get(id.as_str()));
            GroupView {
                anchor: anchor(&g.id),
                id: g.id.clone(),
                severity: SeverityView::of(g.severity, lang),
                cause: lang.text(&g.cause).to_owned(),
                check: g.check.clone(),
                count: g.count,
                hosts: g.hosts,
                accepted: g.accepted,
                explanation: first.map(|f| explanation(f, lang, link_r7)),
                members: g
                    .findings
                    .iter()
                    .map(|id| member(id, by_id.get(id.as_str())))
                    .collect(),
            }
        })
        .collect();
    let grouped: BTreeSet<&str> = r
        .groups
        .iter()
        .flat_map(|g| g.findings.iter().map(String::as_str))
        .collect();
    let mut by_check: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in r
        .findings
        .iter()
        .filter(|f| !grouped.contains(f.id.as_str()))
    {
        by_check.entry(&f.check).or_default().push(f);
    }
    for (check, list) in by_check {
        let worst = list
            .iter()
            .map(|f| f.severity)
            .min()
            .unwrap_or(Severity::Info);
        let hosts: BTreeSet<&str> = list.iter().map(|f| f.host.as_str()).collect();
        out.push(GroupView {
            anchor: check_anchor(check),
            id: check.to_owned(),
            severity: SeverityView::of(worst, lang),
            cause: lang.text(&list[0].title).to_owned(),
            check: check.to_owned(),
            count: list.len() as u64,
            hosts: hosts.len() as u64,
            accepted: list.iter().filter(|f| f.disposition.is_accepted()).count() as u64,
            explanation: Some(explanation(list[0], lang, link_r7)),
            members: list.iter().map(|f| member(&f.id, Some(f))).collect(),
        });
    }
    out
}

/// An accepted finding, with what accepts it.
#[derive(Debug, Serialize)]
pub(in crate::html) struct AcceptedRow {
    pub link: Link,
    pub severity: SeverityView,
    pub title: String,
    pub place: String,
    pub exception: String,
    pub expires: String,
}

/// One exception of the register, as applied.
#[derive(Debug, Serialize)]
pub(in crate::html) struct ExceptionRow {
    pub id: String,
    pub status_class: &'static str,
    pub status: &'static str,
    pub check: String,
    pub hosts: String,
    pub ports: String,
    pub reason: String,
    pub approved: String,
    pub expires: String,
    pub matched: Vec<Link>,
    pub source: String,
}

/// The accepted-risks section.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Accepted {
    pub findings: Vec<AcceptedRow>,
    pub exceptions: Vec<ExceptionRow>,
    /// Expired or unused exceptions, which someone should review.
    pub to_review: usize,
}

pub(in crate::html) fn accepted(r: &Report, lang: Lang) -> Accepted {
    let findings = r
        .findings
        .iter()
        .filter(|f| f.disposition.is_accepted())
        .map(|f| AcceptedRow {
            link: Link::to(&f.id),
            severity: SeverityView::of(f.severity, lang),
            title: lang.text(&f.title).to_owned(),
            place: f.place(),
            exception: f.disposition.exception.clone().unwrap_or_default(),
            expires: f.disposition.expires.clone().unwrap_or_default(),
        })
        .collect();
    let exceptions = r
        .exceptions
        .iter()
        .map(|e| ExceptionRow {
            id: e.id.clone(),
            status_class: e.status.as_str(),
            status: labels::exception_status(e.status).get(lang),
            check: e.check.clone(),
            hosts: e.hosts.join(", "),
            ports: e
                .ports
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            reason: lang.text(&e.reason).to_owned(),
            approved: format!("{} · {}", e.approved_by, e.approved_on),
            expires: e.expires.clone(),
            matched: e.matched.iter().map(|id| Link::to(id)).collect(),
            source: e.source.clone(),
        })
        .collect();
    Accepted {
        findings,
        exceptions,
        to_review: r
            .exceptions
            .iter()
            .filter(|e| e.status != ExceptionStatus::Active)
            .count(),
    }
}
