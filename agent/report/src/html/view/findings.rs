//! The checklist rows and the findings: tables, cards, by requirement and by host.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Link, SeverityView};
use crate::html::escape::{anchor, excerpt_to, EXCERPT_CHARS};
use crate::labels::{self, checklist::FORM_SUFFIX, page, Lang};
use crate::model::{AdvisoryRef, Finding, Report};

/// The framework whose items the checks cite and whose rows a finding's pills link to
/// when the page's checklist section lists it.
const R7: &str = "mhlw-checklist-r7";

/// One row of the checklist table.
#[derive(Debug, Serialize)]
pub(in crate::html) struct ChecklistRow {
    pub anchor: String,
    pub id: String,
    pub unconfirmed: bool,
    pub question: String,
    /// Form names without their common ending (医療機関, 事業者).
    pub forms: Vec<String>,
    pub status_class: &'static str,
    pub status: String,
    pub answer: &'static str,
    pub findings: Vec<Link>,
    pub note: String,
}

pub(in crate::html) fn checklist(r: &Report, lang: Lang) -> Vec<ChecklistRow> {
    r.checklist
        .iter()
        .map(|c| ChecklistRow {
            anchor: anchor(&c.id),
            id: c.id.clone(),
            unconfirmed: c.unconfirmed,
            question: lang.text(&c.question).to_owned(),
            forms: c
                .forms
                .iter()
                .map(|f| f.strip_suffix(FORM_SUFFIX).unwrap_or(f).to_owned())
                .collect(),
            status_class: c.status.as_str(),
            status: labels::status_badge(c.status, lang),
            answer: labels::answer(c.status).get(lang),
            findings: c.findings.iter().map(|id| Link::to(id)).collect(),
            note: lang.text(&c.note).to_owned(),
        })
        .collect()
}

/// A requirement a finding bears on: the R7 checklist's link to its row, or a pill.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Requirement {
    /// Set for the R7 checklist, whose rows are in the page.
    pub r7_anchor: Option<String>,
    pub framework: String,
    pub id: String,
}

/// One finding as its card and the tables show it.
#[derive(Debug, Serialize)]
pub(in crate::html) struct FindingView {
    pub anchor: String,
    pub id: String,
    pub severity: SeverityView,
    pub title: String,
    pub place: String,
    pub confidence: &'static str,
    pub check: String,
    pub detail: String,
    pub why: String,
    pub fix: String,
    pub advisory: Option<Advisory>,
    pub requirements: Vec<Requirement>,
    pub evidence: Vec<Link>,
    /// `受容済みリスク EX-2026-001 · 期限 2027-03-31` when an exception accepts it.
    pub accepted: Option<String>,
}

/// What an advisory adds to a card.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Advisory {
    /// CVEs, CVSS, KEV date, ransomware use, end of support.
    pub parts: Vec<String>,
    pub basis: String,
    pub references: Vec<String>,
}

fn advisory(a: &AdvisoryRef, lang: Lang) -> Advisory {
    let mut parts = Vec::new();
    if !a.cve.is_empty() {
        parts.push(a.cve.join(", "));
    }
    if let Some(c) = a.cvss {
        parts.push(format!("CVSS {c:.1}"));
    }
    if let Some(k) = &a.kev_added {
        parts.push(format!("CISA KEV {k}"));
    }
    if a.ransomware.as_deref() == Some("known") {
        parts.push(page::RANSOMWARE.get(lang).to_owned());
    }
    if let Some(e) = &a.end_of_life {
        parts.push(format!("{} {e}", page::END_OF_SUPPORT.get(lang)));
    }
    Advisory {
        parts,
        basis: a.basis.clone(),
        references: a
            .vendor_advisories
            .iter()
            .chain(&a.references)
            .cloned()
            .collect(),
    }
}

/// A finding's view; `link_r7` when the page's checklist rows are the R7 items.
pub(in crate::html) fn finding(f: &Finding, lang: Lang, link_r7: bool) -> FindingView {
    FindingView {
        anchor: anchor(&f.id),
        id: f.id.clone(),
        severity: SeverityView::of(f.severity, lang),
        title: lang.text(&f.title).to_owned(),
        place: f.place(),
        confidence: labels::confidence(f.confidence).get(lang),
        check: f.check.clone(),
        detail: excerpt_to(&f.detail, EXCERPT_CHARS * 4),
        why: lang.text(&f.rationale).to_owned(),
        fix: lang.text(&f.remediation).to_owned(),
        advisory: f.advisory.as_ref().map(|a| advisory(a, lang)),
        requirements: f
            .requirements
            .iter()
            .map(|q| Requirement {
                r7_anchor: (link_r7 && q.framework == R7).then(|| anchor(&q.id)),
                framework: q.framework.clone(),
                id: q.id.clone(),
            })
            .collect(),
        evidence: f.evidence.iter().map(|e| Link::to(e)).collect(),
        accepted: f.disposition.exception.as_ref().map(|ex| {
            format!(
                "{} {ex} · {} {}",
                labels::disposition(f.disposition.status).get(lang),
                page::UNTIL.get(lang),
                f.disposition.expires.as_deref().unwrap_or("—")
            )
        }),
    }
}

/// The findings of one requirement.
#[derive(Debug, Serialize)]
pub(in crate::html) struct ByRequirement {
    pub framework: String,
    pub id: String,
    pub findings: Vec<FindingView>,
}

/// The findings on one host.
#[derive(Debug, Serialize)]
pub(in crate::html) struct ByHost {
    pub anchor: String,
    pub host: String,
    pub findings: Vec<FindingView>,
}

/// Section 3 and the summary's list of what to fix first.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Findings {
    /// The first ten findings worse than info.
    pub worst: Vec<FindingView>,
    pub by_requirement: Vec<ByRequirement>,
    pub by_host: Vec<ByHost>,
}

pub(in crate::html) fn findings(r: &Report, lang: Lang) -> Findings {
    let worst = r
        .findings
        .iter()
        .filter(|f| f.severity != crate::model::Severity::Info)
        .take(10);
    let mut by_req: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
    let mut by_host: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &r.findings {
        for q in &f.requirements {
            by_req.entry((&q.framework, &q.id)).or_default().push(f);
        }
        by_host.entry(&f.host).or_default().push(f);
    }
    let mut by_req: Vec<_> = by_req.into_iter().collect();
    // The R7 checklist first, then the other frameworks (a stable sort keeps their order).
    by_req.sort_by_key(|((fw, _), _)| *fw != R7);
    let link_r7 = labels::edition::of_report(r).framework == R7;
    let views = |list: Vec<&Finding>| {
        list.into_iter()
            .map(|f| finding(f, lang, link_r7))
            .collect()
    };
    Findings {
        worst: worst.map(|f| finding(f, lang, link_r7)).collect(),
        by_requirement: by_req
            .into_iter()
            .map(|((framework, id), list)| ByRequirement {
                framework: framework.to_owned(),
                id: id.to_owned(),
                findings: views(list),
            })
            .collect(),
        by_host: by_host
            .into_iter()
            .map(|(host, list)| ByHost {
                anchor: anchor(host),
                host: host.to_owned(),
                findings: views(list),
            })
            .collect(),
    }
}
