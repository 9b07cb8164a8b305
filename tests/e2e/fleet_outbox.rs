//! The daemon's durable outbox against a real PostgreSQL: a sensor's daemon with a
//! `[fleet]` section pushes each sealed scan to the headquarters as it is made; with
//! the sensor's uplink cut, the next two scans wait in the outbox (`kenshin status`
//! shows them queued, nothing reaches the database), and when the link returns they
//! arrive in the order they were made, once each, and are filed as two new runs.
//!
//! The daemon's schedule is cron's finest, once a minute, so the test waits for three
//! minute boundaries: about three minutes in all.

use std::path::Path;

use super::fleet::{ingest, kenshin_in, key, ok, rollup};
use crate::support::{daemon_history, Daemon};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kenshin_lab::fleet::{FleetLab, HQ_ADDR, HQ_NS, SITE_A_HOSTS, SITE_A_NS};
use serde_json::Value;

use crate::support::{fleet_lab, kenshin_offline, out_dir, read_report, text};

/// The site the sensor scans from, and its scope in the daemon's configuration.
const SITE: &str = "site-a";
const SCOPE: &str = "segment";

/// Rows of an administrator's query, each split at `|`.
fn rows(lab: &FleetLab, sql: &str) -> Vec<Vec<String>> {
    lab.cluster()
        .psql_admin(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e:#}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

/// The scan IDs the inbox holds for the site, in the order they arrived.
fn inbox(lab: &FleetLab) -> Vec<String> {
    rows(
        lab,
        &format!("SELECT scan_id FROM fleet.inbox WHERE site = '{SITE}' ORDER BY id"),
    )
    .into_iter()
    .map(|mut r| r.remove(0))
    .collect()
}

/// The scope's complete scans, oldest first.
fn complete_scans(config: &Path) -> Vec<Value> {
    let mut scans: Vec<Value> = daemon_history(config)
        .into_iter()
        .filter(|s| s["scope"] == SCOPE && s["status"] == "complete")
        .collect();
    scans.sort_by(|a, b| {
        a["started_at"]
            .as_str()
            .cmp(&b["started_at"].as_str())
            .then_with(|| a["id"].as_str().cmp(&b["id"].as_str()))
    });
    scans
}

fn id(scan: &Value) -> String {
    scan["id"].as_str().expect("scan id").to_owned()
}

/// `kenshin status --json`: the fleet section.
fn fleet_status(config: &Path) -> Value {
    let o = kenshin_offline(&[
        "status",
        "--json",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("status JSON");
    v["fleet"].clone()
}

/// The outbox entry of one scan (`history --scan ID --json`).
fn upload(config: &Path, scan: &str) -> Value {
    let o = kenshin_offline(&[
        "history",
        "--scan",
        scan,
        "--json",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("history --scan {scan}: {e}: {}", text(&o)));
    v["upload"].clone()
}

/// Polls `probe` until it returns `Some`, up to `secs`.
fn wait<T>(daemon: &Daemon, secs: u64, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "waited {secs} s for {what}\nlog:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_sensor_cut_off_queues_two_scans_in_the_outbox_and_they_arrive_in_order_once_each() {
    let started = Instant::now();
    let lab = fleet_lab();
    let work = out_dir();
    let w = work.path();
    let admin = lab.cluster().admin_url();

    ok(&kenshin_in(HQ_NS, &["fleet", "init", "--db", &admin]));
    let (signing_key, fp) = key(w, "sensor-a");
    ok(&kenshin_in(
        HQ_NS,
        &[
            "fleet", "sensor", "add", "--db", &admin, "--site", SITE, "--key", &fp,
        ],
    ));

    // The sensor's daemon: its segment every minute, each sealed scan pushed over TLS
    // with site A's client certificate; a failed push retried after 1 to 2 s.
    let config = w.join("kenshin.toml");
    let targets = SITE_A_HOSTS
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nstate_dir = \"{state}\"\nsigning_key = \"{key}\"\n\n\
             [fleet]\nsite = \"{SITE}\"\ndb = \"postgresql://site_a@{HQ_ADDR}:5432/fleet\"\n\
             client_cert = \"{cert}\"\nclient_key = \"{ckey}\"\nca = \"{ca}\"\n\
             retry_min = \"1s\"\nretry_max = \"2s\"\n\n\
             [[scope]]\nname = \"{SCOPE}\"\ntargets = [{targets}]\nschedule = \"* * * * *\"\n\
             [scope.settings]\nports = \"T:22,23,3389\"\nsnmp = false\n",
            state = w.join("state").display(),
            key = signing_key.display(),
            cert = lab.site_a.cert.display(),
            ckey = lab.site_a.key.display(),
            ca = lab.ca.cert.display(),
        ),
    )
    .expect("config");
    let cfg = config.to_str().expect("utf-8");
    ok(&kenshin_offline(&["check-config", cfg]));
    let daemon = Daemon::start_in(SITE_A_NS, &config, w.join("daemon.log"));

    // 1. Link up: the first scan is pushed as soon as it is sealed.
    let first = wait(&daemon, 100, "the first complete scan", || {
        complete_scans(&config).into_iter().next()
    });
    let id1 = id(&first);
    let report = read_report(Path::new(first["report_dir"].as_str().expect("dir")));
    assert_eq!(report["scan"]["site"], SITE, "every scan records its site");
    assert_eq!(
        report["hosts"].as_array().map(Vec::len),
        Some(SITE_A_HOSTS.len()),
        "the scan saw the segment: {report:#}"
    );
    wait(&daemon, 30, "the first scan pushed", || {
        let o = fleet_status(&config)["outbox"].clone();
        (o["done"] == 1 && o["queued"] == 0).then_some(())
    });
    assert_eq!(upload(&config, &id1)["state"], "done");
    assert_eq!(
        inbox(&lab),
        vec![id1.clone()],
        "the first scan is in the inbox"
    );
    let handled = ingest(&admin);
    assert_eq!(handled.len(), 1, "{handled:#?}");
    assert_eq!(handled[0]["outcome"], "filed", "{handled:#?}");
    assert_eq!(handled[0]["scan_id"], id1.as_str(), "{handled:#?}");

    // 2. Link down: the next two scans are sealed and wait in the outbox.
    lab.set_uplink(SITE_A_NS, false).expect("uplink down");
    let cut = wait(&daemon, 180, "two more complete scans", || {
        let s = complete_scans(&config);
        (s.len() >= 3).then_some(s)
    });
    assert_eq!(cut.len(), 3, "exactly three scans so far: {cut:#?}");
    let (id2, id3) = (id(&cut[1]), id(&cut[2]));
    assert_eq!(id(&cut[0]), id1);
    // The head has been tried and failed more than once (retried after 1-2 s), and
    // nothing behind it went first.
    let outbox = wait(&daemon, 20, "two scans queued after failed tries", || {
        let o = fleet_status(&config)["outbox"].clone();
        (o["queued"] == 2 && o["attempts"].as_u64().is_some_and(|a| a >= 2)).then_some(o)
    });
    assert_eq!(outbox["done"], 1, "{outbox:#}");
    assert_eq!(outbox["failed"], 0, "{outbox:#}");
    assert_eq!(
        outbox["oldest_queued_at"],
        upload(&config, &id2)["queued_at"],
        "the oldest waiting bundle is the second scan: {outbox:#}"
    );
    let last_error = outbox["last_error"].as_str().unwrap_or_default();
    assert!(
        last_error.contains("cannot reach") && last_error.contains(HQ_ADDR),
        "the failure says the database cannot be reached: {outbox:#}"
    );
    assert!(
        outbox["next_try_at"].is_string(),
        "a next try is scheduled: {outbox:#}"
    );
    let shown = ok(&kenshin_offline(&[
        "status", "--lang", "en", "--config", cfg,
    ]));
    assert!(shown.contains("outbox: 2 waiting"), "{shown}");
    assert!(shown.contains("last error: cannot reach"), "{shown}");
    for scan in [&id2, &id3] {
        assert_eq!(upload(&config, scan)["state"], "queued", "{scan}");
    }
    assert_eq!(
        inbox(&lab),
        vec![id1.clone()],
        "nothing reached the database while the link was down"
    );

    // 3. Link back: both arrive, in the order they were made, once each.
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    lab.set_uplink(SITE_A_NS, true).expect("uplink up");
    wait(&daemon, 30, "the queued scans pushed", || {
        let o = fleet_status(&config)["outbox"].clone();
        (o["queued"] == 0 && o["done"] == 3).then_some(())
    });
    for scan in [&id2, &id3] {
        assert_eq!(upload(&config, scan)["state"], "done", "{scan}");
    }
    assert_eq!(
        inbox(&lab),
        vec![id1.clone(), id2.clone(), id3.clone()],
        "one inbox row per scan, in the order the scans were made"
    );
    let late = rows(
        &lab,
        &format!(
            "SELECT scan_id FROM fleet.inbox WHERE site = '{SITE}' \
             AND received_at >= to_timestamp({since}) ORDER BY received_at, id"
        ),
    );
    assert_eq!(
        late,
        vec![vec![id2.clone()], vec![id3.clone()]],
        "the two queued scans arrived after the link returned, the older first"
    );

    let handled = ingest(&admin);
    let filed: Vec<(&str, &str)> = handled
        .iter()
        .map(|h| {
            (
                h["outcome"].as_str().unwrap_or("?"),
                h["scan_id"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        filed,
        vec![("filed", id2.as_str()), ("filed", id3.as_str())],
        "{handled:#?}"
    );
    assert!(
        handled[0]["run"].as_i64() < handled[1]["run"].as_i64(),
        "{handled:#?}"
    );
    assert!(
        ingest(&admin).is_empty(),
        "nothing is left to file, nothing filed twice"
    );
    let runs = rows(
        &lab,
        &format!(
            "SELECT scan_id, count(*) OVER (PARTITION BY scan_id) FROM fleet.runs \
             WHERE site = '{SITE}' ORDER BY finished_at, id"
        ),
    );
    assert_eq!(
        runs,
        vec![
            vec![id1.clone(), "1".to_owned()],
            vec![id2.clone(), "1".to_owned()],
            vec![id3.clone(), "1".to_owned()],
        ],
        "three runs for the site, in order of scan time, none twice"
    );
    let r = rollup(&admin);
    let site = r["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["site"] == SITE)
        .unwrap_or_else(|| panic!("no site {SITE} in {r:#}"));
    let trend: Vec<&str> = site["trend"]
        .as_array()
        .expect("trend")
        .iter()
        .filter_map(|p| p["scan_id"].as_str())
        .collect();
    assert_eq!(
        trend,
        vec![id1.as_str(), id2.as_str(), id3.as_str()],
        "{site:#}"
    );
    assert_eq!(
        site["last_complete_scan"]["scan_id"],
        id3.as_str(),
        "{site:#}"
    );
    assert!(
        r["quarantine"].as_array().is_some_and(Vec::is_empty),
        "{r:#}"
    );

    let log = daemon.log();
    assert_eq!(daemon.terminate(), Some(0), "{log}");
    assert!(
        log.contains("cannot push to the fleet database"),
        "the failed tries are logged:\n{log}"
    );
    assert_eq!(
        log.matches("pushed to the fleet database").count(),
        3,
        "each scan pushed once:\n{log}"
    );
    eprintln!(
        "fleet outbox: {id1} pushed live; {id2} and {id3} queued while cut off, then pushed in \
         order ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
}
