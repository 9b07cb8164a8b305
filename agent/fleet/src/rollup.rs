//! The rollup: the figures `fleet report` shows, read from the filed runs with a
//! handful of queries that each walk an index (`runs_site_finished`, and the
//! per-run primary keys of the other tables), so their cost grows with the number
//! of sites, not with the history kept.
//!
//! Per site, from its last complete scan: its age, hosts by kind, open findings by
//! severity, accepted risks and checklist items with findings; across sites: the
//! checklist matrix, the most widespread finding groups, the sites silent for more
//! than `stale_days`, the open findings by severity over each site's last scans,
//! and the quarantined bundles.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use tokio_postgres::Client;

use crate::error::FleetError;
use crate::ingest::SEVERITIES;

/// How many of a site's last scans the trend shows.
pub const TREND_SCANS: i64 = 30;
/// How many finding groups the widespread list shows.
pub const TOP_GROUPS: i64 = 20;
/// How many quarantined bundles are listed (newest first).
pub const QUARANTINE_SHOWN: i64 = 100;

/// Everything `fleet report` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Rollup {
    pub contract: &'static str,
    pub generated_at: String,
    pub stale_days: i64,
    pub sites: Vec<SiteRollup>,
    pub checklist_matrix: Matrix,
    pub widespread_groups: Vec<WideGroup>,
    pub stale_sites: Vec<StaleSite>,
    pub quarantine: Vec<Quarantined>,
}

/// The rollup's contract identifier.
pub const CONTRACT: &str = "kenshin.fleet-report/1";

/// One site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteRollup {
    pub site: String,
    pub organisation: Option<String>,
    pub last_complete_scan: Option<LastScan>,
    pub hosts_by_kind: BTreeMap<String, i64>,
    pub open_by_severity: BTreeMap<String, i64>,
    pub accepted_risks: i64,
    pub checklist_with_findings: Vec<String>,
    pub trend: Vec<TrendPoint>,
}

/// A site's last complete scan.
#[derive(Debug, Clone, Serialize)]
pub struct LastScan {
    pub scan_id: String,
    pub finished_at: String,
    pub age_days: f64,
    pub hosts: i64,
}

/// Open findings by severity after one scan.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub scan_id: String,
    pub finished_at: String,
    pub open: BTreeMap<String, i64>,
}

/// The checklist matrix: items as columns, one row per site.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Matrix {
    /// `framework id`, in the order of the columns.
    pub items: Vec<MatrixItem>,
    pub rows: Vec<MatrixRow>,
}

/// One checklist item (a column).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MatrixItem {
    pub framework: String,
    pub id: String,
}

/// One site's statuses, in the order of [`Matrix::items`] (`null` when its last
/// scan did not judge the item).
#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub site: String,
    pub statuses: Vec<Option<String>>,
}

/// A finding group and how many sites have it.
#[derive(Debug, Clone, Serialize)]
pub struct WideGroup {
    pub group: String,
    pub check: String,
    pub severity: String,
    pub cause_ja: Option<String>,
    pub cause_en: Option<String>,
    pub sites: i64,
    pub findings: i64,
}

/// A site no scan has come from for longer than the limit.
#[derive(Debug, Clone, Serialize)]
pub struct StaleSite {
    pub site: String,
    pub last_scan_at: Option<String>,
    pub silent_days: Option<f64>,
}

/// A bundle kept aside.
#[derive(Debug, Clone, Serialize)]
pub struct Quarantined {
    pub site: String,
    pub scan_id: String,
    pub key: String,
    pub file: Option<String>,
    pub reason: String,
    pub reason_ja: String,
    pub at: String,
}

const RFC3339: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

fn utc(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', {RFC3339})")
}

/// Reads the rollup.
pub async fn read(client: &Client, url: &str, stale_days: i64) -> Result<Rollup, FleetError> {
    let failed = |what: &str, e: tokio_postgres::Error| FleetError::query(what, url, &e);
    let generated_at: String = client
        .query_one(&format!("SELECT {}", utc("now()")), &[])
        .await
        .map_err(|e| failed("reading the clock", e))?
        .get(0);

    // Each site and its last complete scan: one index walk per site.
    let latest = client
        .query(
            &format!(
                "SELECT s.name, s.organisation, r.id, r.scan_id, {}, 
                        extract(epoch FROM now() - r.finished_at)::float8 / 86400, r.hosts_up
                   FROM fleet.sites s
                   LEFT JOIN LATERAL (
                        SELECT id, scan_id, finished_at, hosts_up FROM fleet.runs
                         WHERE site = s.name AND complete
                         ORDER BY finished_at DESC LIMIT 1) r ON true
                  ORDER BY s.name",
                utc("r.finished_at")
            ),
            &[],
        )
        .await
        .map_err(|e| failed("reading each site's last scan", e))?;
    let mut sites = Vec::new();
    let mut run_of: HashMap<i64, usize> = HashMap::new();
    for row in &latest {
        let run: Option<i64> = row.get(2);
        let last = match run {
            Some(id) => {
                run_of.insert(id, sites.len());
                Some(LastScan {
                    scan_id: row.get(3),
                    finished_at: row.get(4),
                    age_days: row.get(5),
                    hosts: i64::from(row.get::<_, i32>(6)),
                })
            }
            None => None,
        };
        sites.push(SiteRollup {
            site: row.get(0),
            organisation: row.get(1),
            last_complete_scan: last,
            hosts_by_kind: BTreeMap::new(),
            open_by_severity: SEVERITIES.iter().map(|s| ((*s).to_owned(), 0)).collect(),
            accepted_risks: 0,
            checklist_with_findings: Vec::new(),
            trend: Vec::new(),
        });
    }
    let runs: Vec<i64> = run_of.keys().copied().collect();

    for row in client
        .query(
            "SELECT run_id, kind, count(*) FROM fleet.hosts WHERE run_id = ANY($1)
              GROUP BY run_id, kind",
            &[&runs],
        )
        .await
        .map_err(|e| failed("counting hosts by kind", e))?
    {
        if let Some(&i) = run_of.get(&row.get::<_, i64>(0)) {
            sites[i].hosts_by_kind.insert(row.get(1), row.get(2));
        }
    }
    for row in client
        .query(
            "SELECT run_id, severity, open, accepted FROM fleet.run_counts WHERE run_id = ANY($1)",
            &[&runs],
        )
        .await
        .map_err(|e| failed("counting open findings", e))?
    {
        if let Some(&i) = run_of.get(&row.get::<_, i64>(0)) {
            sites[i]
                .open_by_severity
                .insert(row.get(1), i64::from(row.get::<_, i32>(2)));
            sites[i].accepted_risks += i64::from(row.get::<_, i32>(3));
        }
    }

    // The checklist: per site the items with findings, across sites the matrix.
    let mut items = BTreeSet::new();
    let mut status: HashMap<(usize, MatrixItem), String> = HashMap::new();
    for row in client
        .query(
            "SELECT run_id, framework, item_id, status FROM fleet.checklist WHERE run_id = ANY($1)",
            &[&runs],
        )
        .await
        .map_err(|e| failed("reading the checklists", e))?
    {
        let Some(&i) = run_of.get(&row.get::<_, i64>(0)) else {
            continue;
        };
        let item = MatrixItem {
            framework: row.get(1),
            id: row.get(2),
        };
        let s: String = row.get(3);
        if s == "findings" {
            sites[i].checklist_with_findings.push(item.id.clone());
        }
        items.insert(item.clone());
        status.insert((i, item), s);
    }
    let items: Vec<MatrixItem> = items.into_iter().collect();
    let matrix = Matrix {
        rows: sites
            .iter()
            .enumerate()
            .map(|(i, s)| MatrixRow {
                site: s.site.clone(),
                statuses: items
                    .iter()
                    .map(|item| status.get(&(i, item.clone())).cloned())
                    .collect(),
            })
            .collect(),
        items,
    };
    for s in &mut sites {
        s.checklist_with_findings.sort();
    }

    let widespread_groups = client
        .query(
            "SELECT g.group_id, min(g.check_id),
                    (array_agg(g.severity ORDER BY array_position(
                        ARRAY['critical','high','medium','low','info'], g.severity)))[1],
                    min(g.cause_ja), min(g.cause_en),
                    count(DISTINCT r.site), sum(g.count)::bigint
               FROM fleet.finding_groups g JOIN fleet.runs r ON r.id = g.run_id
              WHERE g.run_id = ANY($1)
              GROUP BY g.group_id
              ORDER BY count(DISTINCT r.site) DESC, sum(g.count) DESC, g.group_id
              LIMIT $2",
            &[&runs, &TOP_GROUPS],
        )
        .await
        .map_err(|e| failed("reading the widespread finding groups", e))?
        .iter()
        .map(|r| WideGroup {
            group: r.get(0),
            check: r.get(1),
            severity: r.get(2),
            cause_ja: r.get(3),
            cause_en: r.get(4),
            sites: r.get(5),
            findings: r.get(6),
        })
        .collect();

    // The trend: each site's last scans, newest last.
    let index_of: HashMap<String, usize> = sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.site.clone(), i))
        .collect();
    let trend_rows = client
        .query(
            &format!(
                "SELECT s.name, r.scan_id, {}, c.severity, c.open
                   FROM fleet.sites s
                   CROSS JOIN LATERAL (
                        SELECT id, scan_id, finished_at FROM fleet.runs
                         WHERE site = s.name ORDER BY finished_at DESC LIMIT $1) r
                   JOIN fleet.run_counts c ON c.run_id = r.id
                  ORDER BY s.name, r.finished_at, r.scan_id",
                utc("r.finished_at")
            ),
            &[&TREND_SCANS],
        )
        .await
        .map_err(|e| failed("reading the trend", e))?;
    for row in trend_rows {
        let Some(&i) = index_of.get(&row.get::<_, String>(0)) else {
            continue;
        };
        let scan_id: String = row.get(1);
        let trend = &mut sites[i].trend;
        if trend.last().is_none_or(|p| p.scan_id != scan_id) {
            trend.push(TrendPoint {
                scan_id,
                finished_at: row.get(2),
                open: BTreeMap::new(),
            });
        }
        if let Some(point) = trend.last_mut() {
            point
                .open
                .insert(row.get(3), i64::from(row.get::<_, i32>(4)));
        }
    }

    let stale_sites = client
        .query(
            &format!(
                "SELECT s.name, {}, extract(epoch FROM now() - r.finished_at)::float8 / 86400
                   FROM fleet.sites s
                   LEFT JOIN LATERAL (
                        SELECT finished_at FROM fleet.runs WHERE site = s.name
                         ORDER BY finished_at DESC LIMIT 1) r ON true
                  WHERE r.finished_at IS NULL OR r.finished_at < now() - make_interval(days => $1::int)
                  ORDER BY r.finished_at NULLS FIRST, s.name",
                utc("r.finished_at")
            ),
            &[&i32::try_from(stale_days).unwrap_or(i32::MAX)],
        )
        .await
        .map_err(|e| failed("reading the silent sites", e))?
        .iter()
        .map(|r| StaleSite {
            site: r.get(0),
            last_scan_at: r.get(1),
            silent_days: r.get(2),
        })
        .collect();

    let quarantine = client
        .query(
            &format!(
                "SELECT site, scan_id, key_fingerprint, file, reason, reason_ja, {} FROM fleet.quarantine
                  ORDER BY at DESC, id DESC LIMIT $1",
                utc("at")
            ),
            &[&QUARANTINE_SHOWN],
        )
        .await
        .map_err(|e| failed("reading the quarantine", e))?
        .iter()
        .map(|r| Quarantined {
            site: r.get(0),
            scan_id: r.get(1),
            key: r.get(2),
            file: r.get(3),
            reason: r.get(4),
            reason_ja: r.get(5),
            at: r.get(6),
        })
        .collect();

    Ok(Rollup {
        contract: CONTRACT,
        generated_at,
        stale_days,
        sites,
        checklist_matrix: matrix,
        widespread_groups,
        stale_sites,
        quarantine,
    })
}
