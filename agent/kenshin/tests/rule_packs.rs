//! Keeping a closed network's rules current (issue 19): signed rule packs built,
//! installed, used by a scan and rolled back; tampered, foreign-key and downgrade packs
//! refused with the overlay unchanged; CISA KEV catalogs imported, older and malformed
//! ones refused; `rules status` saying what is in use. Every run points
//! `KENSHIN_RULES_DIR` at a temporary overlay, never the system's.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::test_key;

const KEV_NEW: &str = "../assess/tests/data/kev-2026.01.27.json";
const KEV_OLD: &str = "../assess/tests/data/kev-2025.12.16.json";
const KEV_MALFORMED: &str = "../assess/tests/data/kev-malformed.json";

fn data(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    assert!(p.exists(), "fixture {} is missing", p.display());
    p.to_str().expect("utf-8").to_owned()
}

/// A temporary overlay and the keys of two publishers.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn overlay(&self) -> PathBuf {
        self.dir.path().join("overlay")
    }

    fn path(&self, name: &str) -> String {
        self.dir
            .path()
            .join(name)
            .to_str()
            .expect("utf-8")
            .to_owned()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kenshin"))
            .args(args)
            .env("LANG", "C")
            .env("KENSHIN_SIGNING_KEY", test_key())
            .env("KENSHIN_RULES_DIR", self.overlay())
            .output()
            .expect("kenshin runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Runs a command that must be refused (exit 2, naming `must_name`) and change
    /// nothing in the overlay.
    fn refused(&self, args: &[&str], must_name: &str) {
        let before = snapshot(&self.overlay());
        let o = self.run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(must_name),
            "{args:?} should name {must_name:?}: {err}"
        );
        assert_eq!(
            snapshot(&self.overlay()),
            before,
            "{args:?} changed the overlay"
        );
    }

    /// A publisher key (created on first use) and its fingerprint.
    fn publisher(&self, name: &str) -> (String, String) {
        let key = self.path(name);
        let o = self.ok(&["key", "--signing-key", &key]);
        let fp = o
            .lines()
            .find_map(|l| l.strip_prefix("fingerprint: ").map(str::to_owned))
            .expect("kenshin key prints the fingerprint");
        (key, fp)
    }

    fn pack(&self, key: &str, version: &str) -> String {
        let out = self.path(&format!("rules-{version}.pack"));
        self.ok(&[
            "rules",
            "pack",
            "--signing-key",
            key,
            "-o",
            &out,
            "--version",
            version,
        ]);
        out
    }
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under `dir`, path → bytes (an absent folder is empty).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_dir() {
                todo.push(e.path());
            } else {
                let bytes = std::fs::read(e.path()).expect("read");
                out.insert(e.path(), bytes);
            }
        }
    }
    out
}

/// A loopback listener that accepts and closes, for a one-port scan.
fn listener() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            drop(c);
        }
    });
    port
}

/// Scans the listener and returns report.json's `scan.rules`.
fn scan_rules(home: &Home, name: &str) -> serde_json::Value {
    let port = listener().to_string();
    let folder = home.path(name);
    let o = home.run(&[
        "scan",
        "127.0.0.1",
        "-p",
        &port,
        "-q",
        "--no-snmp",
        "-o",
        &folder,
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let bytes = std::fs::read(Path::new(&folder).join("report.json")).expect("report.json");
    let report: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    report["scan"]["rules"].clone()
}

#[test]
fn a_pack_round_trips_pack_install_scan_rollback() {
    let home = Home::new();
    let (key, fp) = home.publisher("publisher.pem");
    let builtin = scan_rules(&home, "before");
    assert_eq!(builtin["pack"], "builtin", "{builtin:#}");
    assert_eq!(builtin["publisher"], serde_json::Value::Null);

    let pack = home.pack(&key, "2026.7.1");
    let out = home.ok(&["rules", "install", &pack, "--publisher", &fp]);
    assert!(out.contains("rule pack 2026.7.1"), "{out}");
    let used = scan_rules(&home, "with-pack");
    assert_eq!(used["pack"], "2026.7.1", "{used:#}");
    assert_eq!(used["publisher"], fp.as_str(), "{used:#}");

    let status = home.ok(&["rules", "status"]);
    assert!(
        status.contains("pack: 2026.7.1 (publisher SHA256:"),
        "{status}"
    );
    assert!(status.contains("previous: built-in rules"), "{status}");

    let out = home.ok(&["rules", "rollback"]);
    assert!(out.contains("built-in rules are active again"), "{out}");
    assert_eq!(scan_rules(&home, "after")["pack"], "builtin");
}

#[test]
fn tampered_foreign_and_older_packs_are_refused_and_change_nothing() {
    let home = Home::new();
    let (key, fp) = home.publisher("publisher.pem");
    let (other_key, other_fp) = home.publisher("other.pem");
    let v2 = home.pack(&key, "2026.7.2");
    home.ok(&["rules", "install", &v2, "--publisher", &fp]);

    // Signed by another key than the pinned one.
    let foreign = home.pack(&other_key, "2026.7.3");
    home.refused(
        &["rules", "install", &foreign, "--publisher", &fp],
        "not by the pinned publisher",
    );
    // A file changed after signing.
    let v3 = home.pack(&key, "2026.7.3");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&v3).expect("pack")).expect("json");
    doc["files"]["ports.toml"] = "# emptied\n".into();
    let tampered = home.path("tampered.pack");
    std::fs::File::create(&tampered)
        .and_then(|mut f| f.write_all(&serde_json::to_vec(&doc).expect("json")))
        .expect("write");
    home.refused(
        &["rules", "install", &tampered, "--publisher", &fp],
        "ports.toml: does not match the signed manifest",
    );
    // Older than the active one.
    let v1 = home.pack(&key, "2026.7.1");
    home.refused(
        &["rules", "install", &v1, "--publisher", &fp],
        "not newer than the active 2026.7.2",
    );
    // Not a pack at all; a publisher that is not a fingerprint.
    home.refused(
        &["rules", "install", &data(KEV_NEW), "--publisher", &fp],
        "not a kenshin rule pack",
    );
    home.refused(
        &["rules", "install", &v3, "--publisher", "SHA256:short"],
        "SHA256:short",
    );
    // On purpose, it goes through.
    home.ok(&[
        "rules",
        "install",
        &v1,
        "--publisher",
        &fp,
        "--allow-downgrade",
    ]);
    assert!(home.ok(&["rules", "status"]).contains("pack: 2026.7.1"));
    let _ = other_fp;
}

#[test]
fn the_daemon_configuration_pins_the_publisher() {
    let home = Home::new();
    let (key, fp) = home.publisher("publisher.pem");
    let pack = home.pack(&key, "2026.8.1");
    let config = home.path("kenshin.toml");
    std::fs::write(
        &config,
        "[rules]\npublisher = \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"\n",
    )
    .expect("write");
    home.refused(
        &["rules", "install", &pack, "--config", &config],
        "not by the pinned publisher SHA256:AAAA",
    );
    std::fs::write(&config, "[rules]\npublisher = \"SHA256:nope\"\n").expect("write");
    home.refused(
        &["rules", "install", &pack, "--config", &config],
        "rules.publisher",
    );
    std::fs::write(&config, format!("[rules]\npublisher = \"{fp}\"\n")).expect("write");
    home.ok(&["rules", "install", &pack, "--config", &config]);
}

#[test]
fn a_kev_catalog_imports_and_older_or_malformed_ones_are_refused() {
    let home = Home::new();
    let status = home.ok(&["rules", "status"]);
    assert!(status.contains("kev catalog: none imported"), "{status}");
    assert!(status.contains("mhlw-checklist-r7"), "{status}");

    let out = home.ok(&["rules", "import-kev", &data(KEV_NEW)]);
    assert!(out.contains("KEV catalog 2026.01.27"), "{out}");
    home.refused(
        &["rules", "import-kev", &data(KEV_OLD)],
        "catalogVersion 2025.12.16 (dateReleased 2025-12-16T18:00:00.0000Z) is older than the imported 2026.01.27",
    );
    home.refused(
        &["rules", "import-kev", &data(KEV_MALFORMED)],
        "missing field `dateAdded`",
    );
    home.refused(
        &["rules", "import-kev", "/nonexistent/kev.json"],
        "/nonexistent/kev.json",
    );
    let again = home.ok(&["rules", "import-kev", &data(KEV_NEW)]);
    assert!(
        again.contains("already imported; nothing changed"),
        "{again}"
    );

    let status = home.ok(&["rules", "status"]);
    assert!(
        status.contains(
            "kev catalog: 2026.01.27 (released 2026-01-27T17:01:15.6623Z, 10 entries, imported)"
        ),
        "{status}"
    );
    assert_eq!(scan_rules(&home, "scan")["kev_catalog"], "2026.01.27");
}
