//! The checklist rows and the findings: one compact table row per finding (what was
//! seen where, with its evidence IDs), the explanation left to its group; the
//! requirements list the groups that bear on them, so the page grows by a row per
//! finding, never by a paragraph.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::{Link, SeverityView};
use crate::html::escape::{anchor, excerpt};
use crate::labels::{self, checklist::FORM_SUFFIX, page, Lang};
use crate::model::{AdvisoryRef, Finding, Report, Severity};

/// The framework whose items the checks cite and whose rows a finding's pills link to
/// when the page's checklist section lists it.
pub(in crate::html) const R7: &str = "mhlw-checklist-r7";

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
    /// The first [`LINKS_SHOWN`] findings, and how many more there are.
    pub findings: Vec<Link>,
    pub more: usize,
    pub note: String,
}

/// Findings linked from one checklist row; the rest are counted (their groups say
/// where they are).
const LINKS_SHOWN: usize = 10;

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
            findings: c
                .findings
                .iter()
                .take(LINKS_SHOWN)
                .map(|id| Link::to(id))
                .collect(),
            more: c.findings.len().saturating_sub(LINKS_SHOWN),
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

/// The requirements a finding bears on; `link_r7` when the page's checklist rows are
/// the R7 items.
pub(in crate::html) fn requirements(f: &Finding, link_r7: bool) -> Vec<Requirement> {
    f.requirements
        .iter()
        .map(|q| Requirement {
            r7_anchor: (link_r7 && q.framework == R7).then(|| anchor(&q.id)),
            framework: q.framework.clone(),
            id: q.id.clone(),
        })
        .collect()
}

/// One finding as its table row shows it: the explanation is its group's.
#[derive(Debug, Serialize)]
pub(in crate::html) struct FindingView {
    pub anchor: String,
    pub id: String,
    pub severity: SeverityView,
    pub title: String,
    pub place: String,
    pub confidence: &'static str,
    /// What was seen on this host, capped.
    pub detail: String,
    /// Evidence IDs as text: the records are in the evidence archive, not the page.
    pub evidence: String,
    /// The group that explains it, when the report has groups.
    pub group: Option<String>,
    /// `受容済みリスク EX-2026-001 · 期限 2027-03-31` when an exception accepts it.
    pub accepted: Option<String>,
}

/// What an advisory adds to a group's explanation.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Advisory {
    /// CVEs, CVSS, KEV date, ransomware use, end of support.
    pub parts: Vec<String>,
    pub basis: String,
    pub references: Vec<String>,
}

pub(in crate::html) fn advisory(a: &AdvisoryRef, lang: Lang) -> Advisory {
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

/// Finding ID → the anchor of the group that holds it: a report group, or for a
/// finding no group holds (a report written before groups), its check's.
pub(in crate::html) fn group_of(r: &Report) -> HashMap<&str, String> {
    let mut out = HashMap::new();
    for g in &r.groups {
        let a = anchor(&g.id);
        for f in &g.findings {
            out.insert(f.as_str(), a.clone());
        }
    }
    for f in &r.findings {
        if !out.contains_key(f.id.as_str()) {
            out.insert(f.id.as_str(), check_anchor(&f.check));
        }
    }
    out
}

/// The anchor of the stand-in group of a check's ungrouped findings.
pub(in crate::html) fn check_anchor(check: &str) -> String {
    anchor(&format!("check-{check}"))
}

/// A finding's row.
pub(in crate::html) fn finding(f: &Finding, lang: Lang, group: Option<&String>) -> FindingView {
    FindingView {
        anchor: anchor(&f.id),
        id: f.id.clone(),
        severity: SeverityView::of(f.severity, lang),
        title: lang.text(&f.title).to_owned(),
        place: f.place(),
        confidence: labels::confidence(f.confidence).get(lang),
        detail: excerpt(&f.detail),
        evidence: f.evidence.join(" "),
        group: group.cloned(),
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

/// A group bearing on a requirement: its link, severity and size.
#[derive(Debug, Serialize)]
pub(in crate::html) struct GroupRef {
    pub anchor: String,
    pub cause: String,
    pub severity: SeverityView,
    pub count: u64,
}

/// The groups of one requirement.
#[derive(Debug, Serialize)]
pub(in crate::html) struct ByRequirement {
    pub framework: String,
    pub id: String,
    pub groups: Vec<GroupRef>,
}

/// Section 3 and the summary's list of what to fix first.
#[derive(Debug, Serialize)]
pub(in crate::html) struct Findings {
    /// The first ten findings worse than info.
    pub worst: Vec<FindingView>,
    pub by_requirement: Vec<ByRequirement>,
    /// Every finding, by host (in the report's order within a host), in chunks.
    pub rows: Vec<Vec<FindingView>>,
}

pub(in crate::html) fn findings(r: &Report, lang: Lang) -> Findings {
    let group_of = group_of(r);
    let by_id: HashMap<&str, &Finding> = r.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let view = |f: &Finding| finding(f, lang, group_of.get(f.id.as_str()));
    let worst = r
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .take(10)
        .map(view)
        .collect();
    let mut by_req: BTreeMap<(&str, &str), Vec<GroupRef>> = BTreeMap::new();
    for g in &r.groups {
        let reqs: BTreeSet<(&str, &str)> = g
            .findings
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .flat_map(|f| f.requirements.iter())
            .map(|q| (q.framework.as_str(), q.id.as_str()))
            .collect();
        for q in reqs {
            by_req.entry(q).or_default().push(GroupRef {
                anchor: anchor(&g.id),
                cause: lang.text(&g.cause).to_owned(),
                severity: SeverityView::of(g.severity, lang),
                count: g.count,
            });
        }
    }
    let mut by_req: Vec<_> = by_req.into_iter().collect();
    // The R7 checklist first, then the other frameworks (a stable sort keeps their order).
    by_req.sort_by_key(|((fw, _), _)| *fw != R7);
    let mut rows: Vec<&Finding> = r.findings.iter().collect();
    rows.sort_by(|a, b| a.host.cmp(&b.host));
    Findings {
        worst,
        by_requirement: by_req
            .into_iter()
            .map(|((framework, id), groups)| ByRequirement {
                framework: framework.to_owned(),
                id: id.to_owned(),
                groups,
            })
            .collect(),
        rows: super::chunks(rows.into_iter().map(view).collect()),
    }
}
