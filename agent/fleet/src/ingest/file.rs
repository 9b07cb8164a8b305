//! Filing a verified report: the run, its hosts, services, findings (with
//! requirement IDs and dispositions), finding groups, per-severity counts and
//! checklist statuses, each table in one array INSERT, all inside the caller's
//! transaction.

use std::collections::HashMap;

use tokio_postgres::Transaction;

use super::report::{Report, SEVERITIES};
use super::InboxItem;
use crate::error::FleetError;

/// Files `report` for the inbox `item`; returns the run's ID.
pub(crate) async fn file(
    tx: &Transaction<'_>,
    url: &str,
    item: &InboxItem,
    report: &Report,
) -> Result<i64, FleetError> {
    let failed = |what: &str, e: tokio_postgres::Error| FleetError::query(what, url, &e);
    let hosts_up = i32::try_from(report.hosts.len()).unwrap_or(i32::MAX);
    let run: i64 = tx
        .query_one(
            "INSERT INTO fleet.runs (site, scan_id, key_fingerprint, inbox_id, started_at,
                                     finished_at, complete, tool_version, rules_version, hosts_up)
             VALUES ($1, $2, $3, $4, $5::text::timestamptz, $6::text::timestamptz, $7, $8, $9, $10)
             RETURNING id",
            &[
                &item.site,
                &report.scan.id,
                &item.key,
                &item.id,
                &report.scan.started_at,
                &report.scan.finished_at,
                &report.scan.complete,
                &report.tool.version,
                &report.tool.rules_version,
                &hosts_up,
            ],
        )
        .await
        .map_err(|e| failed("filing the run", e))?
        .get(0);

    let addresses: Vec<&str> = report.hosts.iter().map(|h| h.address.as_str()).collect();
    let kinds: Vec<&str> = report
        .hosts
        .iter()
        .map(|h| h.kind.as_deref().unwrap_or("unknown"))
        .collect();
    let macs: Vec<Option<&str>> = report.hosts.iter().map(|h| h.mac.as_deref()).collect();
    tx.execute(
        "INSERT INTO fleet.hosts (run_id, address, kind, mac)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])",
        &[&run, &addresses, &kinds, &macs],
    )
    .await
    .map_err(|e| failed("filing the hosts", e))?;

    let mut s_addr = Vec::new();
    let mut s_port = Vec::new();
    let mut s_proto = Vec::new();
    let mut s_name = Vec::new();
    let mut s_product = Vec::new();
    let mut s_version = Vec::new();
    for h in &report.hosts {
        for s in &h.services {
            s_addr.push(h.address.as_str());
            s_port.push(i32::from(s.port));
            s_proto.push(s.protocol.as_str());
            s_name.push(s.service.as_deref());
            s_product.push(s.product.as_deref());
            s_version.push(s.version.as_deref());
        }
    }
    tx.execute(
        "INSERT INTO fleet.services (run_id, address, port, protocol, service, product, version)
         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[])
         ON CONFLICT DO NOTHING",
        &[&run, &s_addr, &s_port, &s_proto, &s_name, &s_product, &s_version],
    )
    .await
    .map_err(|e| failed("filing the services", e))?;

    let groups = report.groups();
    let group_of: HashMap<&str, &str> = groups
        .iter()
        .flat_map(|g| g.findings.iter().map(move |f| (f.as_str(), g.id.as_str())))
        .collect();
    let f = &report.findings;
    let ids: Vec<&str> = f.iter().map(|x| x.id.as_str()).collect();
    let checks: Vec<&str> = f.iter().map(|x| x.check.as_str()).collect();
    let group_ids: Vec<&str> = f
        .iter()
        .map(|x| {
            group_of
                .get(x.id.as_str())
                .copied()
                .unwrap_or(x.check.as_str())
        })
        .collect();
    let severities: Vec<&str> = f.iter().map(|x| x.severity.as_str()).collect();
    let hosts: Vec<Option<&str>> = f.iter().map(|x| x.host.as_deref()).collect();
    let ports: Vec<Option<i32>> = f.iter().map(|x| x.port.map(i32::from)).collect();
    let ja: Vec<Option<&str>> = f
        .iter()
        .map(|x| x.title.as_ref().and_then(|t| t.ja.as_deref()))
        .collect();
    let en: Vec<Option<&str>> = f
        .iter()
        .map(|x| x.title.as_ref().and_then(|t| t.en.as_deref()))
        .collect();
    let requirements: Vec<String> = f
        .iter()
        .map(|x| {
            x.requirements
                .iter()
                .map(|r| format!("{}:{}", r.framework, r.id.replace('\n', " ")))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let dispositions: Vec<&str> = f
        .iter()
        .map(|x| x.disposition.as_ref().map_or("open", |d| d.status.as_str()))
        .collect();
    let exceptions: Vec<Option<&str>> = f
        .iter()
        .map(|x| x.disposition.as_ref().and_then(|d| d.exception.as_deref()))
        .collect();
    let expires: Vec<Option<&str>> = f
        .iter()
        .map(|x| x.disposition.as_ref().and_then(|d| d.expires.as_deref()))
        .collect();
    tx.execute(
        "INSERT INTO fleet.findings (run_id, finding_id, check_id, group_id, severity, host, port,
                                     title_ja, title_en, requirements, disposition, exception, expires)
         SELECT $1, i, c, g, s, h, p, tj, te, string_to_array(r, E'\\n'), d, x, e
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
                AS t(i, c, g, s, h, p, tj, te, r, d, x, e)",
        &[
            &run,
            &ids,
            &checks,
            &group_ids,
            &severities,
            &hosts,
            &ports,
            &ja,
            &en,
            &requirements,
            &dispositions,
            &exceptions,
            &expires,
        ],
    )
    .await
    .map_err(|e| failed("filing the findings", e))?;

    let g_ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    let g_checks: Vec<&str> = groups.iter().map(|g| g.check.as_str()).collect();
    let g_ja: Vec<Option<&str>> = groups.iter().map(|g| g.cause_ja.as_deref()).collect();
    let g_en: Vec<Option<&str>> = groups.iter().map(|g| g.cause_en.as_deref()).collect();
    let g_sev: Vec<&str> = groups.iter().map(|g| g.severity.as_str()).collect();
    let g_count: Vec<i32> = groups
        .iter()
        .map(|g| i32::try_from(g.findings.len()).unwrap_or(i32::MAX))
        .collect();
    tx.execute(
        "INSERT INTO fleet.finding_groups (run_id, group_id, check_id, cause_ja, cause_en, severity, count)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
         ON CONFLICT DO NOTHING",
        &[&run, &g_ids, &g_checks, &g_ja, &g_en, &g_sev, &g_count],
    )
    .await
    .map_err(|e| failed("filing the finding groups", e))?;

    let mut open = Vec::new();
    let mut accepted = Vec::new();
    for sev in SEVERITIES {
        let of = f.iter().filter(|x| x.severity == sev);
        let acc = of
            .clone()
            .filter(|x| {
                x.disposition
                    .as_ref()
                    .is_some_and(|d| d.status == "accepted")
            })
            .count();
        let all = of.count();
        open.push(i32::try_from(all - acc).unwrap_or(i32::MAX));
        accepted.push(i32::try_from(acc).unwrap_or(i32::MAX));
    }
    let sevs: Vec<&str> = SEVERITIES.to_vec();
    tx.execute(
        "INSERT INTO fleet.run_counts (run_id, severity, open, accepted)
         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[])",
        &[&run, &sevs, &open, &accepted],
    )
    .await
    .map_err(|e| failed("filing the counts", e))?;

    let c = &report.checklist;
    let frameworks: Vec<&str> = c.iter().map(|x| x.framework.as_str()).collect();
    let items: Vec<&str> = c.iter().map(|x| x.id.as_str()).collect();
    let statuses: Vec<&str> = c.iter().map(|x| x.status.as_str()).collect();
    let counts: Vec<i32> = c
        .iter()
        .map(|x| i32::try_from(x.findings.len()).unwrap_or(i32::MAX))
        .collect();
    tx.execute(
        "INSERT INTO fleet.checklist (run_id, framework, item_id, status, findings)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[])
         ON CONFLICT DO NOTHING",
        &[&run, &frameworks, &items, &statuses, &counts],
    )
    .await
    .map_err(|e| failed("filing the checklist", e))?;
    Ok(run)
}
