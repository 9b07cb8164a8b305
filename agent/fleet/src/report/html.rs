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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::rollup::{
        LastScan, Matrix, MatrixItem, MatrixRow, Quarantined, SiteRollup, TrendPoint, WideGroup,
    };

    /// A rollup of two sites, one never heard from, and a quarantined bundle whose
    /// reason carries markup.
    fn sample() -> Rollup {
        let open = |c: i64, h: i64| {
            BTreeMap::from([
                ("critical".to_owned(), c),
                ("high".to_owned(), h),
                ("medium".to_owned(), 0),
                ("low".to_owned(), 0),
                ("info".to_owned(), 1),
            ])
        };
        let site = |name: &str, scans: usize| SiteRollup {
            site: name.to_owned(),
            organisation: Some("osaka-group".to_owned()),
            last_complete_scan: (scans > 0).then(|| LastScan {
                scan_id: format!("{name}-scan"),
                finished_at: "2026-12-01T01:00:00Z".to_owned(),
                age_days: 1.2,
                hosts: 12,
            }),
            hosts_by_kind: BTreeMap::from([("server".to_owned(), 4), ("printer".to_owned(), 8)]),
            open_by_severity: open(1, 2),
            accepted_risks: 1,
            checklist_with_findings: vec!["2-⑥".to_owned()],
            trend: (0..scans)
                .map(|i| TrendPoint {
                    scan_id: format!("{name}-{i}"),
                    finished_at: format!("2026-11-{:02}T01:00:00Z", i + 1),
                    open: open(i64::try_from(i % 3).unwrap_or(0), 2),
                })
                .collect(),
        };
        Rollup {
            contract: crate::rollup::CONTRACT,
            generated_at: "2026-12-02T00:00:00Z".to_owned(),
            stale_days: 7,
            sites: vec![site("site-a", 30), site("site-b", 0)],
            checklist_matrix: Matrix {
                items: vec![MatrixItem {
                    framework: "mhlw-checklist-r7".to_owned(),
                    id: "2-⑥".to_owned(),
                }],
                rows: vec![
                    MatrixRow {
                        site: "site-a".to_owned(),
                        statuses: vec![Some("findings".to_owned())],
                    },
                    MatrixRow {
                        site: "site-b".to_owned(),
                        statuses: vec![None],
                    },
                ],
            },
            widespread_groups: vec![WideGroup {
                group: "smb.smb1".to_owned(),
                check: "smb.smb1".to_owned(),
                severity: "critical".to_owned(),
                cause_ja: Some("SMBv1 が有効".to_owned()),
                cause_en: Some("SMBv1 is enabled".to_owned()),
                sites: 1,
                findings: 3,
            }],
            stale_sites: vec![crate::rollup::StaleSite {
                site: "site-b".to_owned(),
                last_scan_at: None,
                silent_days: None,
            }],
            quarantine: vec![Quarantined {
                site: "site-a".to_owned(),
                scan_id: "<b>scan</b>".to_owned(),
                key: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU".to_owned(),
                file: Some("report.json".to_owned()),
                reason: "changed <script>alert(1)</script>".to_owned(),
                reason_ja: "改変 <script>alert(1)</script>".to_owned(),
                at: "2026-12-02T00:00:00Z".to_owned(),
            }],
        }
    }

    #[test]
    fn the_page_is_japanese_by_default_english_when_asked_and_never_runs_what_it_shows() {
        let ja = render(&sample(), Lang::Ja, "SHA256:k").expect("renders");
        let en = render(&sample(), Lang::En, "SHA256:k").expect("renders");
        assert!(
            ja.contains("拠点横断レポート") && ja.contains("改変"),
            "Japanese"
        );
        assert!(
            en.contains("Fleet report") && en.contains("changed"),
            "English"
        );
        for page in [&ja, &en] {
            assert!(!page.contains("<script"), "escaped");
            assert!(page.contains("&lt;script&gt;"), "shown as text");
            assert!(page.contains("Content-Security-Policy"));
            assert_eq!(page.matches("<svg").count(), 2, "one chart a site");
        }
        assert_eq!(
            ja.matches("<rect").count(),
            30 * 3 - 10,
            "a bar per severity with findings"
        );
    }
}
