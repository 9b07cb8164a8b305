//! `report.html`: the report for people, one self-contained file.
//!
//! No script, no external font, image or stylesheet; a Content-Security-Policy that
//! allows only the inline stylesheet, so even a mistake in escaping could not run
//! script. Japanese by default, English on request; an A4 print stylesheet with the
//! scan ID and date in every page's header. Severity and status always carry a word
//! and a symbol, so they read without colour.
//!
//! The page is laid out by the templates in `agent/report/templates/` (one per
//! section), filled from [`view`], with every word from [`crate::labels`]. Every value
//! a template writes passes through [`esc`]: templates cannot opt out (they use no
//! `safe` filter, and a test holds them to that).
//!
//! Sections: summary, the checklist edition the report answers (its title and a line
//! naming it and any newer edition), findings by requirement and by host,
//! the asset inventory (and the ledger comparison), TLS, and the evidence appendix.

mod escape;
mod view;

use minijinja::{AutoEscape, Environment, Error, Output, State, UndefinedBehavior, Value};
use serde::Serialize;

pub use escape::{anchor, esc, excerpt, excerpt_to, EXCERPT_CHARS};

use crate::model::Report;
use crate::Lang;

const STYLE: &str = include_str!("style.css");

/// The templates, by name. The page is written in three parts: `page_start.html` (which
/// includes the sections before the inventory's rows), `hosts.html` once per chunk of
/// rows, and `page_end.html` (the rest).
const TEMPLATES: [(&str, &str); 13] = [
    (
        "page_start.html",
        include_str!("../../templates/page_start.html"),
    ),
    (
        "page_end.html",
        include_str!("../../templates/page_end.html"),
    ),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("summary.html", include_str!("../../templates/summary.html")),
    ("groups.html", include_str!("../../templates/groups.html")),
    (
        "accepted.html",
        include_str!("../../templates/accepted.html"),
    ),
    (
        "checklist.html",
        include_str!("../../templates/checklist.html"),
    ),
    (
        "findings.html",
        include_str!("../../templates/findings.html"),
    ),
    (
        "inventory_start.html",
        include_str!("../../templates/inventory_start.html"),
    ),
    ("hosts.html", include_str!("../../templates/hosts.html")),
    (
        "inventory_end.html",
        include_str!("../../templates/inventory_end.html"),
    ),
    ("tls.html", include_str!("../../templates/tls.html")),
    (
        "evidence.html",
        include_str!("../../templates/evidence.html"),
    ),
];

/// Everything the templates read.
#[derive(Serialize)]
struct Context<'a> {
    lang: &'static str,
    /// The page's words in `lang`, by name.
    t: std::collections::BTreeMap<&'static str, String>,
    /// The stylesheet, written as it is.
    style: Value,
    r: Head<'a>,
    /// The scan's start in the report's offset (JST unless told), to the second, and
    /// the scan ID and that time reduced to what a CSS string may hold.
    date: String,
    print_id: String,
    print_date: String,
    facts: Vec<view::Fact>,
    warnings: Vec<String>,
    counts: Vec<view::Count>,
    checklist: Vec<view::ChecklistRow>,
    /// Which checklist edition the report answers, and any newer one.
    checklist_edition: String,
    findings: view::Findings,
    groups: Vec<view::GroupView>,
    accepted: view::Accepted,
    inventory: view::Inventory,
    tls: view::TlsSection,
    evidence: Vec<view::EvidenceCount>,
}

/// The few report fields the templates read directly. The report itself is not
/// handed to them: turning a report of thousands of hosts into template values cost
/// more than rendering the page.
#[derive(Serialize)]
struct Head<'a> {
    contract: &'a str,
    tool: HeadTool<'a>,
    scan: HeadScan<'a>,
    /// Whether there is any finding (templates test it for the empty state).
    findings: bool,
    inventory: Option<&'a crate::model::Inventory>,
    signing: Option<&'a crate::model::Signing>,
}

#[derive(Serialize)]
struct HeadTool<'a> {
    version: &'a str,
    rules_version: &'a str,
}

#[derive(Serialize)]
struct HeadScan<'a> {
    id: &'a str,
    complete: bool,
}

impl<'a> Head<'a> {
    fn of(r: &'a Report) -> Self {
        Head {
            contract: &r.contract,
            tool: HeadTool {
                version: &r.tool.version,
                rules_version: &r.tool.rules_version,
            },
            scan: HeadScan {
                id: &r.scan.id,
                complete: r.scan.complete,
            },
            findings: !r.findings.is_empty(),
            inventory: r.inventory.as_ref(),
            signing: r.signing.as_ref(),
        }
    }
}

/// The page's words, with the title of the checklist edition the report answers.
fn words(r: &Report, lang: Lang) -> std::collections::BTreeMap<&'static str, String> {
    let mut t = crate::labels::page::for_lang(lang);
    let edition = crate::labels::edition::of_report(r);
    t.insert("CHECKLIST_TITLE", edition.title.get(lang).to_owned());
    t
}

/// How many evidence records each probe left: the page's section 6. Counted before the
/// records go into the archive, so the records need not be kept while the page is made.
#[derive(Debug, Clone, Default)]
pub struct EvidenceTally {
    by_probe: std::collections::BTreeMap<String, usize>,
}

impl EvidenceTally {
    /// Counts `records` by probe.
    pub fn of(records: &[crate::model::Evidence]) -> Self {
        let mut by_probe = std::collections::BTreeMap::new();
        for e in records {
            *by_probe.entry(e.probe.clone()).or_insert(0) += 1;
        }
        Self { by_probe }
    }
}

fn context<'a>(r: &'a Report, lang: Lang, tally: &EvidenceTally) -> Context<'a> {
    let date = crate::local_time::shown(&r.scan.started_at, crate::local_time::offset_of(r));
    Context {
        lang: lang.code(),
        t: words(r, lang),
        style: Value::from_safe_string(STYLE.to_owned()),
        r: Head::of(r),
        date,
        print_id: css_string(&r.scan.id),
        print_date: css_string(&crate::local_time::shown(
            &r.scan.started_at,
            crate::local_time::offset_of(r),
        )),
        facts: view::facts(r, lang),
        warnings: view::warnings(r),
        counts: view::counts(r, lang),
        checklist: view::checklist(r, lang),
        checklist_edition: crate::labels::edition::used_line(r, lang),
        findings: view::findings(r, lang),
        groups: view::groups(r, lang),
        accepted: view::accepted(r, lang),
        inventory: view::inventory(r),
        tls: view::tls(r, lang),
        evidence: view::evidence(tally),
    }
}

/// Characters allowed inside the CSS strings of the print header.
fn css_string(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || " :.-+TZ".contains(*c))
        .collect()
}

/// Writes a value into the page: through [`esc`] unless it is markup a template made.
fn format(out: &mut Output<'_>, state: &State<'_, '_>, value: &Value) -> Result<(), Error> {
    if value.is_safe() || matches!(state.auto_escape(), AutoEscape::None) {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = match value.as_str() {
        Some(s) => esc(s),
        None if value.is_none() || value.is_undefined() => String::new(),
        None => esc(&value.to_string()),
    };
    out.write_str(&text).map_err(Error::from)
}

fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_formatter(format);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Renders the whole page, or says which template failed.
pub fn try_render(report: &Report, lang: Lang) -> Result<String, Error> {
    let mut page = Vec::new();
    render_into(
        report,
        lang,
        &EvidenceTally::of(&report.evidence),
        &mut page,
    )?;
    // The templates and every value written are UTF-8, so nothing is replaced.
    Ok(String::from_utf8_lossy(&page).into_owned())
}

/// What `hosts.html` reads: one chunk of the inventory's rows.
#[derive(Serialize)]
struct HostChunk {
    /// The page's words and its inventory section (the page context's own values,
    /// shared): the rows read whether a ledger was given.
    t: Value,
    inventory: Value,
    rows: Vec<view::HostRow>,
    /// More than one chunk: each is a box the browser lays out near the viewport.
    many: bool,
}

/// Renders the whole page into `out` as it is made, with section 6 from `tally` (the
/// report's records may already be in the archive). The inventory's rows are made and
/// written a chunk at a time: at thousands of hosts they are the page's bulk, and need
/// not all be held at once.
pub fn render_into(
    report: &Report,
    lang: Lang,
    tally: &EvidenceTally,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    let env = environment()?;
    // The views become template values first, and are dropped before the page is
    // made: they need not live twice.
    let page = Value::from_serialize(context(report, lang, tally));
    env.get_template("page_start.html")?
        .render_captured_to(&page, &mut *out)?;
    let hosts = env.get_template("hosts.html")?;
    let t = page.get_attr("t")?;
    let inventory = page.get_attr("inventory")?;
    let many = report.hosts.len() > view::CHUNK_ROWS;
    for rows in report.hosts.chunks(view::CHUNK_ROWS) {
        let chunk = HostChunk {
            t: t.clone(),
            inventory: inventory.clone(),
            rows: rows.iter().map(|h| view::host_row(h, lang)).collect(),
            many,
        };
        hosts.render_captured_to(chunk, &mut *out)?;
    }
    env.get_template("page_end.html")?
        .render_captured_to(&page, out)?;
    Ok(())
}

/// Renders the whole page. A template error (which the tests rule out) gives a page
/// that names it instead of the report.
pub fn render(report: &Report, lang: Lang) -> String {
    try_render(report, lang).unwrap_or_else(|e| {
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body><p>kenshin: report.html could not be rendered: {}</p></body></html>\n",
            esc(&format!("{e:#}"))
        )
    })
}

#[cfg(test)]
mod template_tests;
#[cfg(test)]
pub(crate) mod tests;
