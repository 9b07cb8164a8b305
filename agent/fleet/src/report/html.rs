//! `fleet.html`: the rollup as one static page from `templates/fleet.html`
//! (minijinja, auto-escaped), every word from the report crate's fleet labels, the
//! trend charts as inline SVG, no script, and report.html's Content-Security-Policy.

use std::collections::BTreeMap;

use kenshin_report::labels::{self, fleet as words, Lang};
use kenshin_report::model::{DeviceKind, Severity};
use minijinja::{context, Environment, Value};
use serde::Serialize;

use super::svg;
use crate::error::FleetError;
use crate::ingest::SEVERITIES;
use crate::rollup::Rollup;

const TEMPLATE: &str = include_str!("../../templates/fleet.html");

/// A severity's word, or the code itself for one the labels do not know.
fn severity_word(lang: Lang, code: &str) -> String {
    serde_json::from_value::<Severity>(serde_json::Value::String(code.to_owned())).map_or_else(
        |_| code.to_owned(),
        |s| labels::severity(s).get(lang).to_owned(),
    )
}

fn kind_word(lang: Lang, code: &str) -> String {
    serde_json::from_value::<DeviceKind>(serde_json::Value::String(code.to_owned())).map_or_else(
        |_| code.to_owned(),
        |k| labels::kind(k).get(lang).to_owned(),
    )
}

#[derive(Serialize)]
struct SiteView {
    site: String,
    organisation: Option<String>,
    last_scan: Option<String>,
    finished_at: Option<String>,
    age_days: Option<String>,
    hosts: Option<i64>,
    kinds: Vec<(String, i64)>,
    open: Vec<i64>,
    accepted: i64,
    checklist: String,
    chart: Value,
}

/// Renders the page.
pub fn render(rollup: &Rollup, lang: Lang, key: &str) -> Result<String, FleetError> {
    let mut env = Environment::new();
    env.add_template("fleet.html", TEMPLATE)
        .map_err(|e| FleetError::Render {
            what: "fleet.html",
            reason: format!("{e:#}"),
        })?;
    let severities: Vec<String> = SEVERITIES.iter().map(|s| severity_word(lang, s)).collect();
    let sites: Vec<SiteView> = rollup
        .sites
        .iter()
        .map(|s| SiteView {
            site: s.site.clone(),
            organisation: s.organisation.clone(),
            last_scan: s.last_complete_scan.as_ref().map(|l| l.scan_id.clone()),
            finished_at: s.last_complete_scan.as_ref().map(|l| l.finished_at.clone()),
            age_days: s
                .last_complete_scan
                .as_ref()
                .map(|l| format!("{:.1}", l.age_days)),
            hosts: s.last_complete_scan.as_ref().map(|l| l.hosts),
            kinds: s
                .hosts_by_kind
                .iter()
                .map(|(k, n)| (kind_word(lang, k), *n))
                .collect(),
            open: SEVERITIES
                .iter()
                .map(|sev| s.open_by_severity.get(*sev).copied().unwrap_or(0))
                .collect(),
            accepted: s.accepted_risks,
            checklist: s.checklist_with_findings.join(", "),
            chart: Value::from_safe_string(svg::trend(
                &s.trend,
                &format!("{} · {}", s.site, words::TREND.get(lang)),
            )),
        })
        .collect();
    let matrix_rows: Vec<(String, Vec<(String, &'static str)>)> = rollup
        .checklist_matrix
        .rows
        .iter()
        .map(|r| {
            (
                r.site.clone(),
                r.statuses
                    .iter()
                    .map(|st| {
                        (
                            st.clone().unwrap_or_default(),
                            words::status(lang, st.as_deref()),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    let groups: Vec<BTreeMap<&str, String>> = rollup
        .widespread_groups
        .iter()
        .map(|g| {
            let cause = match lang {
                Lang::Ja => g.cause_ja.clone().or_else(|| g.cause_en.clone()),
                Lang::En => g.cause_en.clone().or_else(|| g.cause_ja.clone()),
            };
            BTreeMap::from([
                ("group", g.group.clone()),
                ("check", g.check.clone()),
                ("cause", cause.unwrap_or_default()),
                ("severity", severity_word(lang, &g.severity)),
                ("severity_code", g.severity.clone()),
                ("sites", g.sites.to_string()),
                ("findings", g.findings.to_string()),
            ])
        })
        .collect();
    let template = env
        .get_template("fleet.html")
        .map_err(|e| FleetError::Render {
            what: "fleet.html",
            reason: format!("{e:#}"),
        })?;
    template
        .render(context! {
            lang => lang.code(),
            t => words::for_lang(lang),
            r => rollup,
            key => key,
            version => env!("CARGO_PKG_VERSION"),
            severities => severities,
            severity_codes => SEVERITIES,
            sites => sites,
            matrix_items => rollup.checklist_matrix.items,
            matrix_rows => matrix_rows,
            groups => groups,
        })
        .map_err(|e| FleetError::Render {
            what: "fleet.html",
            reason: format!("{e:#}"),
        })
}
