-- The fleet bench's bulk generator: from the runs filed through push + ingest
-- (real, verified bundles), fill every site's remaining days by copying a template
-- run's rows with SQL, so the database holds SITES × DAYS runs of HOSTS hosts
-- without sealing and verifying each one. psql variables: template (a run ID),
-- sites, days.

\set ON_ERROR_STOP 1
BEGIN;
CREATE TEMP TABLE synth_runs ON COMMIT DROP AS
WITH wanted AS (
    SELECT format('s%s', lpad(s::text, 3, '0')) AS site, d
      FROM generate_series(0, :sites - 1) s, generate_series(0, :days - 1) d
)
SELECT w.site, w.d, format('sql-%s-d%s', w.site, lpad(w.d::text, 2, '0')) AS scan_id,
       date_trunc('day', now()) - make_interval(days => :days - 1 - w.d) + interval '3 hours' AS finished_at
  FROM wanted w
 WHERE NOT EXISTS (SELECT 1 FROM fleet.runs r
                    WHERE r.site = w.site
                      AND r.finished_at::date = (date_trunc('day', now()) - make_interval(days => :days - 1 - w.d))::date);

INSERT INTO fleet.sites (name, role)
SELECT DISTINCT site, replace(site, '-', '_') FROM synth_runs
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE synth_ids ON COMMIT DROP AS
WITH ins AS (
    INSERT INTO fleet.runs (site, scan_id, key_fingerprint, started_at, finished_at, complete,
                            tool_version, rules_version, hosts_up)
    SELECT s.site, s.scan_id, t.key_fingerprint, s.finished_at - interval '20 minutes', s.finished_at,
           true, t.tool_version, t.rules_version, t.hosts_up
      FROM synth_runs s, fleet.runs t WHERE t.id = :template
    RETURNING id)
SELECT id FROM ins;

INSERT INTO fleet.hosts (run_id, address, kind, mac)
SELECT n.id, h.address, h.kind, h.mac FROM synth_ids n, fleet.hosts h WHERE h.run_id = :template;
INSERT INTO fleet.services (run_id, address, port, protocol, service, product, version)
SELECT n.id, s.address, s.port, s.protocol, s.service, s.product, s.version
  FROM synth_ids n, fleet.services s WHERE s.run_id = :template;
-- Each run keeps about 85 % of the template's findings, so the trends move.
INSERT INTO fleet.findings (run_id, finding_id, check_id, group_id, severity, host, port,
                            title_ja, title_en, requirements, disposition, exception, expires)
SELECT n.id, f.finding_id, f.check_id, f.group_id, f.severity, f.host, f.port,
       f.title_ja, f.title_en, f.requirements, f.disposition, f.exception, f.expires
  FROM synth_ids n, fleet.findings f WHERE f.run_id = :template AND random() < 0.85;
INSERT INTO fleet.finding_groups (run_id, group_id, check_id, cause_ja, cause_en, severity, count)
SELECT n.id, g.group_id, g.check_id, g.cause_ja, g.cause_en, g.severity,
       (SELECT count(*) FROM fleet.findings f WHERE f.run_id = n.id AND f.group_id = g.group_id)
  FROM synth_ids n, fleet.finding_groups g WHERE g.run_id = :template;
INSERT INTO fleet.run_counts (run_id, severity, open, accepted)
SELECT n.id, sev,
       count(f.*) FILTER (WHERE f.disposition <> 'accepted'),
       count(f.*) FILTER (WHERE f.disposition = 'accepted')
  FROM synth_ids n
 CROSS JOIN unnest(ARRAY['critical','high','medium','low','info']) sev
  LEFT JOIN fleet.findings f ON f.run_id = n.id AND f.severity = sev
 GROUP BY n.id, sev;
INSERT INTO fleet.checklist (run_id, framework, item_id, status, findings)
SELECT n.id, c.framework, c.item_id, c.status, c.findings
  FROM synth_ids n, fleet.checklist c WHERE c.run_id = :template;
COMMIT;
ANALYZE;
