//! What the templates show, prepared from the report: every enum turned into its
//! label, every banner cut to an excerpt, every link target made an anchor. The
//! templates only lay it out; escaping happens when they write a value.

mod assets;
mod findings;
mod groups;

use serde::Serialize;

pub(super) use assets::{
    evidence, host_row, inventory, tls, EvidenceCount, HostRow, Inventory, TlsSection,
};
pub(super) use findings::{checklist, findings, ChecklistRow, Findings};
pub(super) use groups::{accepted, groups, Accepted, GroupView};

use super::escape::{anchor, excerpt};
use crate::labels::{self, Lang};
use crate::model::{Report, Severity};

/// Rows of a long table per chunk. Each chunk is its own table in a box the browser
/// lays out only when it comes near the viewport (`content-visibility: auto`), so a
/// page of thousands of hosts reaches `load` without laying out every row.
pub(super) const CHUNK_ROWS: usize = 200;

/// `rows` cut into chunks of [`CHUNK_ROWS`] (none for no rows).
pub(super) fn chunks<T>(rows: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::with_capacity(rows.len().div_ceil(CHUNK_ROWS));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        out.push(rows.by_ref().take(CHUNK_ROWS).collect());
    }
    out
}

/// A link inside the page: `#anchor` and the text shown.
#[derive(Debug, Serialize)]
pub(super) struct Link {
    pub anchor: String,
    pub text: String,
}

impl Link {
    pub(super) fn to(id: &str) -> Self {
        Link {
            anchor: anchor(id),
            text: id.to_owned(),
        }
    }
}

/// A severity as the page shows it: its CSS class and its symbol and word.
#[derive(Debug, Serialize)]
pub(super) struct SeverityView {
    pub class: &'static str,
    pub label: String,
}

impl SeverityView {
    pub(super) fn of(s: Severity, lang: Lang) -> Self {
        SeverityView {
            class: s.as_str(),
            label: labels::severity_badge(s, lang),
        }
    }
}

/// One line of the summary's facts: either a list of code values or plain text.
#[derive(Debug, Serialize)]
pub(super) struct Fact {
    pub label: &'static str,
    pub codes: Option<Vec<String>>,
    pub text: Option<String>,
}

fn codes(label: labels::Pair, lang: Lang, values: Vec<String>) -> Fact {
    Fact {
        label: label.get(lang),
        codes: Some(values),
        text: None,
    }
}

fn text(label: labels::Pair, lang: Lang, value: String) -> Fact {
    Fact {
        label: label.get(lang),
        codes: None,
        text: Some(value),
    }
}

/// The summary's facts about the scan, in the order the page lists them.
pub(super) fn facts(r: &Report, lang: Lang) -> Vec<Fact> {
    use crate::labels::page::*;
    let mut out = vec![
        codes(TARGETS, lang, r.scan.targets.clone()),
        codes(EXCLUDED, lang, r.scan.excluded.clone()),
        codes(SCOPE, lang, r.scan.scope.clone()),
        codes(PORTS, lang, vec![excerpt(&r.scan.ports)]),
    ];
    if !r.scan.segments.is_empty() {
        let segs = r.scan.segments.iter();
        let segs = segs.map(|s| format!("{}={}", s.name, s.ranges.join(",")));
        out.push(codes(SEGMENTS, lang, segs.collect()));
    }
    if let Some(v) = &r.scan.vantage {
        out.push(text(VANTAGE, lang, v.clone()));
    }
    let offset = crate::local_time::offset_of(r);
    let when = format!(
        "{} – {}",
        crate::local_time::shown(&r.scan.started_at, offset),
        crate::local_time::shown(&r.scan.finished_at, offset)
    );
    out.push(text(WHEN, lang, when));
    let s = &r.scan.stats;
    let result = format!(
        "{} {} · {} {} · {} {}",
        s.hosts_up,
        HOSTS_UP.get(lang),
        s.open_ports,
        OPEN_PORTS.get(lang),
        r.findings.len(),
        N_FINDINGS.get(lang),
    );
    out.push(text(RESULT, lang, result));
    let kev = r.tool.advisories.first();
    let kev = kev.map(|a| format!(" · CISA KEV {}", a.kev_catalog_version));
    let tool = format!(
        "kenshin {} · {} {}{}",
        r.tool.version,
        RULES.get(lang),
        r.tool.rules_version,
        kev.unwrap_or_default()
    );
    out.push(text(TOOL, lang, tool));
    out
}

/// Findings counted by severity, worst first.
#[derive(Debug, Serialize)]
pub(super) struct Count {
    pub severity: SeverityView,
    pub n: usize,
}

pub(super) fn counts(r: &Report, lang: Lang) -> Vec<Count> {
    Severity::ALL
        .iter()
        .map(|s| Count {
            severity: SeverityView::of(*s, lang),
            n: r.findings.iter().filter(|f| f.severity == *s).count(),
        })
        .collect()
}

/// The scan's warnings, capped.
pub(super) fn warnings(r: &Report) -> Vec<String> {
    r.scan.warnings.iter().map(|w| excerpt(w)).collect()
}
