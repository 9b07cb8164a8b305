//! The groups (one row per cause, expandable to the hosts) and the accepted risks:
//! the findings the register accepts, and every exception with its status.

use serde::Serialize;

use super::{Link, SeverityView};
use crate::html::escape::anchor;
use crate::labels::{self, Lang};
use crate::model::{ExceptionStatus, Report};

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
    pub members: Vec<Member>,
}

pub(in crate::html) fn groups(r: &Report, lang: Lang) -> Vec<GroupView> {
    r.groups
        .iter()
        .map(|g| GroupView {
            anchor: anchor(&g.id),
            id: g.id.clone(),
            severity: SeverityView::of(g.severity, lang),
            cause: lang.text(&g.cause).to_owned(),
            check: g.check.clone(),
            count: g.count,
            hosts: g.hosts,
            accepted: g.accepted,
            members: g
                .findings
                .iter()
                .map(|id| {
                    let f = r.findings.iter().find(|f| &f.id == id);
                    Member {
                        link: Link::to(id),
                        place: f.map(crate::model::Finding::place).unwrap_or_default(),
                        accepted_by: f.and_then(|f| f.disposition.exception.clone()),
                    }
                })
                .collect(),
        })
        .collect()
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
