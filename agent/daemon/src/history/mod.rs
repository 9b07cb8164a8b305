//! The history store: every scan the daemon ran, with its hosts, services and
//! findings, in one SQLite database (`/var/lib/kenshin/history.db`).
//!
//! The database is in WAL mode with `synchronous = FULL`: each change is one
//! transaction, so a `kill -9` (or a power cut) at any moment leaves either the state
//! before it or the state after it. A scan is recorded as `running` before its first
//! packet; a scan still `running` when the daemon starts is settled by
//! [`crate::reconcile`]: adopted if its sealed folder is in place, else marked
//! `interrupted` (and re-run). Nothing is ever rewritten but a scan's own row.
//!
//! The schema is versioned (`PRAGMA user_version`): a new database gets [`SCHEMA`]
//! and every migration; an older one gets the migrations it lacks, in one transaction;
//! a newer one is refused. Version 2 added the `outbox` of sealed scans waiting to be
//! pushed to the fleet database ([`crate::outbox`]): a store opened with
//! [`Store::queueing`] queues each scan it records there, in the same transaction.
//!
//! The database and its `-wal` and `-shm` files are private to the daemon's user
//! (`0600`): they list every host and finding. [`Store::open_read_only`] is how
//! `kenshin status` and `history` read it: it writes nothing, not even the shared
//! memory index, so it works while the disk is full.

use std::path::Path;

use anyhow::Context;
use kenshin_report::model::{Report, Severity};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

/// The database in a state folder.
pub fn path(state_dir: &Path) -> std::path::PathBuf {
    state_dir.join("history.db")
}

/// The mode of the database and its `-wal` and `-shm` files (SQLite creates those two
/// with the database's mode).
const PRIVATE: u32 = 0o600;

/// Takes group and other access away from the database and its `-wal` and `-shm`
/// files (a database created `0640` by an earlier kenshin). A file kenshin may not
/// change (another user's) is left as it is, with a warning.
fn make_private(db: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut files = vec![db.to_owned()];
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        files.push(name.into());
    }
    for f in files {
        let Ok(meta) = std::fs::symlink_metadata(&f) else {
            continue; // not there (yet)
        };
        let mode = meta.permissions().mode();
        if meta.is_file() && mode & 0o077 != 0 {
            if let Err(e) = std::fs::set_permissions(&f, std::fs::Permissions::from_mode(PRIVATE)) {
                tracing::warn!(
                    "cannot make {} private (mode {:o} to 0600): {e}",
                    f.display(),
                    mode & 0o777
                );
            }
        }
    }
}

/// A path as the path part of an SQLite `file:` URI: every byte but letters, digits
/// and `/._-` percent-encoded (SQLite decodes `%HH` to the byte).
fn uri_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Schema version kept in `PRAGMA user_version`: the last of [`MIGRATIONS`].
const SCHEMA_VERSION: i64 = 2;

/// Each schema version after the first, with the statements that reach it from the
/// one before. Only ever appended to.
const MIGRATIONS: [(i64, &str); 1] = [(2, OUTBOX)];

/// Version 2: sealed scans waiting to be pushed to the fleet database, oldest first
/// (`seq`), each `queued` until pushed (`done`) or refused for good (`failed`).
const OUTBOX: &str = "
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id     TEXT NOT NULL UNIQUE,
    scope       TEXT NOT NULL,
    report_dir  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued','done','failed')),
    queued_at   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try_at TEXT,
    last_error  TEXT,
    settled_at  TEXT
);
CREATE INDEX outbox_by_state ON outbox (state, seq);
";

const SCHEMA: &str = "
CREATE TABLE scans (
    id            TEXT PRIMARY KEY,
    scope         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('running','complete','partial','interrupted','failed')),
    reason        TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    report_dir    TEXT,
    rerun_of      TEXT,
    previous_scan TEXT,
    hosts_up      INTEGER,
    open_ports    INTEGER,
    findings      INTEGER,
    critical      INTEGER,
    high          INTEGER,
    changes       TEXT
);
CREATE INDEX scans_by_scope ON scans (scope, started_at);
CREATE TABLE hosts (
    scan_id    TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    mac        TEXT,
    mac_vendor TEXT,
    hostnames  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    PRIMARY KEY (scan_id, address)
);
CREATE INDEX hosts_by_address ON hosts (address);
CREATE TABLE services (
    scan_id  TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    address  TEXT NOT NULL,
    port     INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    service  TEXT NOT NULL,
    product  TEXT,
    version  TEXT,
    PRIMARY KEY (scan_id, address, port, protocol)
);
CREATE TABLE findings (
    scan_id  TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    id       TEXT NOT NULL,
    check_id TEXT NOT NULL,
    advisory TEXT,
    severity TEXT NOT NULL,
    host     TEXT NOT NULL,
    port     INTEGER,
    protocol TEXT,
    title_ja TEXT NOT NULL,
    title_en TEXT NOT NULL,
    PRIMARY KEY (scan_id, id)
);
CREATE INDEX findings_by_host ON findings (host);
CREATE TABLE notifications (
    id       INTEGER PRIMARY KEY,
    scan_id  TEXT NOT NULL,
    target   TEXT NOT NULL,
    at       TEXT NOT NULL,
    ok       INTEGER NOT NULL,
    attempts INTEGER,
    error    TEXT
);
";

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Started and not yet finished (or the daemon died during it).
    Running,
    Complete,
    /// Stopped early (SIGTERM, the window closed); its report is marked incomplete.
    Partial,
    /// Cut off without a report: the daemon was killed or crashed.
    Interrupted,
    /// Could not run or could not write its report.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Complete => "complete",
            Status::Partial => "partial",
            Status::Interrupted => "interrupted",
            Status::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "complete" => Status::Complete,
            "partial" => Status::Partial,
            "interrupted" => Status::Interrupted,
            "failed" => Status::Failed,
            _ => Status::Running,
        }
    }
}

/// One scan as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRow {
    pub id: String,
    pub scope: String,
    pub status: Status,
    pub reason: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub report_dir: Option<String>,
    pub rerun_of: Option<String>,
    pub previous_scan: Option<String>,
    pub hosts_up: Option<i64>,
    pub open_ports: Option<i64>,
    pub findings: Option<i64>,
    pub critical: Option<i64>,
    pub high: Option<i64>,
}

const SCAN_COLUMNS: &str = "id, scope, status, reason, started_at, finished_at, report_dir, \
     rerun_of, previous_scan, hosts_up, open_ports, findings, critical, high";

fn scan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScanRow> {
    Ok(ScanRow {
        id: r.get(0)?,
        scope: r.get(1)?,
        status: Status::parse(&r.get::<_, String>(2)?),
        reason: r.get(3)?,
        started_at: r.get(4)?,
        finished_at: r.get(5)?,
        report_dir: r.get(6)?,
        rerun_of: r.get(7)?,
        previous_scan: r.get(8)?,
        hosts_up: r.get(9)?,
        open_ports: r.get(10)?,
        findings: r.get(11)?,
        critical: r.get(12)?,
        high: r.get(13)?,
    })
}

/// A host as one scan saw it, with its services and findings.
#[derive(Debug, Clone, Serialize)]
pub struct HostAt {
    pub scan: ScanRow,
    /// `None` when this scan did not see the host.
    pub seen: Option<HostSeen>,
}

/// What a scan recorded about a host.
#[derive(Debug, Clone, Serialize)]
pub struct HostSeen {
    pub mac: Option<String>,
    pub mac_vendor: Option<String>,
    pub hostnames: Vec<String>,
    pub kind: String,
    pub services: Vec<String>,
    pub findings: Vec<String>,
}

/// The open database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// Queue each scan recorded by [`Store::finish`] for upload.
    queue_sealed: bool,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(PRIVATE)
                .open(path)
                .with_context(|| {
                    format!("cannot create the history database {}", path.display())
                })?;
        }
        make_private(path);
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the history database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .with_context(|| format!("cannot put {} in WAL mode", path.display()))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        match version {
            SCHEMA_VERSION => {}
            v if (0..SCHEMA_VERSION).contains(&v) => {
                let tx = conn.unchecked_transaction()?;
                if v == 0 {
                    tx.execute_batch(SCHEMA)?;
                }
                for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > v.max(1)) {
                    tx.execute_batch(sql).with_context(|| {
                        format!(
                            "cannot migrate the history database {} to schema version {to}",
                            path.display()
                        )
                    })?;
                }
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
                tx.commit()?;
            }
            v => anyhow::bail!(
                "{} has schema version {v}; this kenshin knows version {SCHEMA_VERSION} (a newer kenshin wrote it)",
                path.display()
            ),
        }
        Ok(Store {
            conn,
            queue_sealed: false,
        })
    }

    /// This store queues every scan it records ([`Store::finish`]) for upload to the
    /// fleet database, in the same transaction: the daemon's store when `[fleet] db`
    /// is set.
    pub fn queueing(mut self, on: bool) -> Store {
        self.queue_sealed = on;
        self
    }

    /// The connection, for the modules that keep their own tables here
    /// ([`crate::outbox`]).
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Opens the database to read it and nothing else: no pragma that writes, no
    /// journal mode change, no schema; `None` when there is no database yet (or the
    /// daemon has not finished creating its tables).
    ///
    /// SQLite's normal read-only open still writes the `-shm` index when it is the
    /// first to open the database, which fails on a full disk (`disk I/O error`). So
    /// when that fails the database is opened again with the `-shm` file read-only
    /// (`readonly_shm=1`): SQLite then reads the WAL into memory itself.
    pub fn open_read_only(path: &Path) -> anyhow::Result<Option<Store>> {
        if !path.exists() {
            return Ok(None);
        }
        let shared = match Store::open_read_only_with(path, false) {
            Ok(found) => return Ok(found),
            // The failed connection is closed here, before the second try: SQLite
            // shares one -shm handle per file within a process.
            Err(e) => e,
        };
        Store::open_read_only_with(path, true).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the history database {}: {shared:#}; with its shared-memory \
                 index read-only: {e:#}",
                path.display()
            )
        })
    }

    fn open_read_only_with(path: &Path, readonly_shm: bool) -> anyhow::Result<Option<Store>> {
        let uri = format!(
            "file:{}?mode=ro{}",
            uri_path(path),
            if readonly_shm { "&readonly_shm=1" } else { "" }
        );
        let conn = Connection::open_with_flags(
            &uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // The first read opens the WAL and its index: the error, if any, is here.
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        match version {
            0 => Ok(None),
            // An older schema reads as it is: what it lacks (the outbox of version 2)
            // reads as empty.
            1..=SCHEMA_VERSION => Ok(Some(Store {
                conn,
                queue_sealed: false,
            })),
            v => anyhow::bail!(
                "{} has schema version {v}; this kenshin knows version {SCHEMA_VERSION} (a newer kenshin wrote it)",
                path.display()
            ),
        }
    }

    /// SQLite's own consistency check: `ok`, or what is wrong.
    pub fn integrity(&self) -> anyhow::Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Records a scan as running, before its first packet.
    pub fn begin(
        &self,
        id: &str,
        scope: &str,
        started_at: &str,
        report_dir: &Path,
        rerun_of: Option<&str>,
    ) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO scans (id, scope, status, started_at, report_dir, rerun_of) \
             VALUES (?1, ?2, 'running', ?3, ?4, ?5)",
            params![
                id,
                scope,
                started_at,
                report_dir.to_string_lossy(),
                rerun_of
            ],
        )?;
        Ok(())
    }

    /// Records a scan that wrote its report, with its hosts, services and findings
    /// and its changes since `previous`, in one transaction.
    pub fn finish(
        &self,
        id: &str,
        report: &Report,
        report_dir: &Path,
        previous: Option<&str>,
        changes: Option<&serde_json::Value>,
        reason: Option<&str>,
    ) -> anyhow::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        let status = if report.scan.complete {
            Status::Complete
        } else {
            Status::Partial
        };
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        let open_ports = n(report.hosts.iter().map(|h| h.services.len()).sum());
        let count = |s: Severity| n(report.findings.iter().filter(|f| f.severity == s).count());
        tx.execute(
            "UPDATE scans SET status = ?2, reason = ?3, finished_at = ?4, report_dir = ?5, \
             previous_scan = ?6, hosts_up = ?7, open_ports = ?8, findings = ?9, critical = ?10, \
             high = ?11, changes = ?12 WHERE id = ?1",
            params![
                id,
                status.as_str(),
                reason,
                report.scan.finished_at,
                report_dir.to_string_lossy(),
                previous,
                n(report.hosts.len()),
                open_ports,
                n(report.findings.len()),
                count(Severity::Critical),
                count(Severity::High),
                changes.map(ToString::to_string),
            ],
        )?;
        {
            let mut host = tx.prepare(
                "INSERT INTO hosts (scan_id, address, mac, mac_vendor, hostnames, kind) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut service = tx.prepare(
                "INSERT OR IGNORE INTO services (scan_id, address, port, protocol, service, product, version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for h in &report.hosts {
                host.execute(params![
                    id,
                    h.address,
                    h.mac,
                    h.mac_vendor,
                    serde_json::to_string(&h.hostnames)?,
                    h.kind.as_str()
                ])?;
                for s in &h.services {
                    service.execute(params![
                        id, h.address, s.port, s.protocol, s.service, s.product, s.version
                    ])?;
                }
            }
            let mut finding = tx.prepare(
                "INSERT INTO findings (scan_id, id, check_id, advisory, severity, host, port, protocol, title_ja, title_en) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for f in &report.findings {
                finding.execute(params![
                    id,
                    f.id,
                    f.check,
                    f.advisory.as_ref().map(|a| a.id.clone()),
                    f.severity.as_str(),
                    f.host,
                    f.port,
                    f.protocol,
                    f.title.ja,
                    f.title.en
                ])?;
            }
        }
        if self.queue_sealed {
            let scope: String =
                tx.query_row("SELECT scope FROM scans WHERE id = ?1", params![id], |r| {
                    r.get(0)
                })?;
            tx.execute(
                "INSERT OR IGNORE INTO outbox (scan_id, scope, report_dir, state, queued_at) \
                 VALUES (?1, ?2, ?3, 'queued', ?4)",
                params![
                    id,
                    scope,
                    report_dir.to_string_lossy(),
                    kenshin_engine::clock::now_rfc3339()
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a scan that ended without a report.
    pub fn fail(&self, id: &str, status: Status, reason: &str, at: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE scans SET status = ?2, reason = ?3, finished_at = ?4 WHERE id = ?1",
            params![id, status.as_str(), reason, at],
        )?;
        Ok(())
    }

    /// The scans still recorded `running`, oldest first: of one scope, or of all.
    pub fn running(&self, scope: Option<&str>) -> anyhow::Result<Vec<ScanRow>> {
        let mut q = self.conn.prepare(&format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE status = 'running' \
             AND (?1 IS NULL OR scope = ?1) ORDER BY started_at, rowid"
        ))?;
        let rows = q
            .query_map(params![scope], scan_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Marks a scan still `running` as interrupted, with why; a scan that is not
    /// running any more is left as it is.
    pub fn interrupt(&self, id: &str, at: &str, reason: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE scans SET status = 'interrupted', finished_at = ?2, reason = ?3 \
             WHERE id = ?1 AND status = 'running'",
            params![id, at, reason],
        )?;
        Ok(())
    }

    /// Scans, newest first: of one scope, or of all.
    pub fn scans(&self, scope: Option<&str>, limit: usize) -> anyhow::Result<Vec<ScanRow>> {
        let mut q = self.conn.prepare(&format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE ?1 IS NULL OR scope = ?1 \
             ORDER BY started_at DESC, rowid DESC LIMIT ?2"
        ))?;
        let rows = q
            .query_map(
                params![scope, i64::try_from(limit).unwrap_or(i64::MAX)],
                scan_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// One scan by ID.
    pub fn scan(&self, id: &str) -> anyhow::Result<Option<ScanRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = ?1"),
                params![id],
                scan_row,
            )
            .optional()?)
    }

    /// The scope's latest complete scan: the baseline a new scan is compared with.
    pub fn baseline(&self, scope: &str) -> anyhow::Result<Option<ScanRow>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {SCAN_COLUMNS} FROM scans WHERE scope = ?1 AND status = 'complete' \
                     ORDER BY started_at DESC, rowid DESC LIMIT 1"
                ),
                params![scope],
                scan_row,
            )
            .optional()?)
    }

    /// The baseline of scan `id`: the latest complete scan of its scope that started
    /// before it (a scan adopted late is compared with what came before it, not after).
    pub fn baseline_before(&self, scope: &str, id: &str) -> anyhow::Result<Option<ScanRow>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {SCAN_COLUMNS} FROM scans WHERE scope = ?1 AND status = 'complete' \
                     AND id != ?2 AND started_at <= (SELECT started_at FROM scans WHERE id = ?2) \
                     ORDER BY started_at DESC, rowid DESC LIMIT 1"
                ),
                params![scope, id],
                scan_row,
            )
            .optional()?)
    }

    /// The scan's stored changes since its baseline (the `kenshin diff --json` form).
    pub fn changes(&self, id: &str) -> anyhow::Result<Option<serde_json::Value>> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT changes FROM scans WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Every scan's view of one host, oldest first: from the first scan that saw it.
    pub fn host_timeline(&self, address: &str) -> anyhow::Result<Vec<HostAt>> {
        let scopes: Vec<String> = {
            let mut q = self
                .conn
                .prepare("SELECT DISTINCT s.scope FROM hosts h JOIN scans s ON s.id = h.scan_id WHERE h.address = ?1")?;
            let v = q
                .query_map(params![address], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?;
            v
        };
        let first_seen: Option<String> = self
            .conn
            .query_row(
                "SELECT MIN(s.started_at) FROM hosts h JOIN scans s ON s.id = h.scan_id WHERE h.address = ?1",
                params![address],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let Some(first_seen) = first_seen else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut q = self.conn.prepare(&format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE started_at >= ?1 AND status IN ('complete','partial') \
             ORDER BY started_at, rowid"
        ))?;
        let scans = q
            .query_map(params![first_seen], scan_row)?
            .collect::<Result<Vec<_>, _>>()?;
        for scan in scans.into_iter().filter(|s| scopes.contains(&s.scope)) {
            let seen = self.host_seen(&scan.id, address)?;
            out.push(HostAt { scan, seen });
        }
        Ok(out)
    }

    fn host_seen(&self, scan: &str, address: &str) -> anyhow::Result<Option<HostSeen>> {
        let host = self
            .conn
            .query_row(
                "SELECT mac, mac_vendor, hostnames, kind FROM hosts WHERE scan_id = ?1 AND address = ?2",
                params![scan, address],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((mac, mac_vendor, hostnames, kind)) = host else {
            return Ok(None);
        };
        let mut q = self.conn.prepare(
            "SELECT port, protocol, service, product, version FROM services \
             WHERE scan_id = ?1 AND address = ?2 ORDER BY protocol, port",
        )?;
        let services = q
            .query_map(params![scan, address], |r| {
                let (port, proto, service): (i64, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                let software: Vec<String> = [
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ]
                .into_iter()
                .flatten()
                .collect();
                let mut s = format!("{port}/{proto} {service}");
                if !software.is_empty() {
                    s.push(' ');
                    s.push_str(&software.join(" "));
                }
                Ok(s)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut q = self.conn.prepare(
            "SELECT severity, check_id, port FROM findings WHERE scan_id = ?1 AND host = ?2 ORDER BY id",
        )?;
        let findings = q
            .query_map(params![scan, address], |r| {
                let (sev, check, port): (String, String, Option<i64>) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok(match port {
                    Some(p) => format!("{sev} {check} (port {p})"),
                    None => format!("{sev} {check}"),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(HostSeen {
            mac,
            mac_vendor,
            hostnames: serde_json::from_str(&hostnames).unwrap_or_default(),
            kind,
            services,
            findings,
        }))
    }

    /// Records one notification attempt's outcome.
    pub fn record_notification(
        &self,
        scan: &str,
        target: &str,
        result: &Result<u32, String>,
    ) -> anyhow::Result<()> {
        let at = kenshin_engine::clock::now_rfc3339();
        let (ok, attempts, error) = match result {
            Ok(n) => (1, Some(*n), None),
            Err(e) => (0, None, Some(e.as_str())),
        };
        self.conn.execute(
            "INSERT INTO notifications (scan_id, target, at, ok, attempts, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![scan, target, at, ok, attempts, error],
        )?;
        Ok(())
    }

    /// Notification outcomes of a scan: (target, ok, error).
    pub fn notifications(&self, scan: &str) -> anyhow::Result<Vec<(String, bool, Option<String>)>> {
        let mut q = self.conn.prepare(
            "SELECT target, ok, error FROM notifications WHERE scan_id = ?1 ORDER BY id",
        )?;
        let rows = q
            .query_map(params![scan], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? == 1, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Deletes a scan's records (retention). Its report folder is the caller's.
    pub fn forget(&self, id: &str) -> anyhow::Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM notifications WHERE scan_id = ?1", params![id])?;
        tx.execute("DELETE FROM scans WHERE id = ?1", params![id])?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
