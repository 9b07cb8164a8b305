//! Helpers: one lab at a time, the kenshin binary, running it in the scanner namespace,
//! reading and validating its report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};

use kenshin_lab::{Lab, SCANNER_NS};
use serde_json::Value;

/// Tests share fixed namespace names, so only one lab exists at a time.
static LAB_LOCK: Mutex<()> = Mutex::new(());

/// A fresh lab, held exclusively until dropped (then torn down, also on panic).
pub(crate) struct LabSession {
    pub lab: Lab,
    _lock: MutexGuard<'static, ()>,
}

pub(crate) fn lab() -> LabSession {
    let lock = LAB_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let listener = PathBuf::from(env!("CARGO_BIN_EXE_kenshin-lab"));
    let lab = Lab::up(&listener).unwrap_or_else(|e| panic!("the lab could not be built: {e:#}"));
    LabSession { lab, _lock: lock }
}

/// The kenshin binary: `KENSHIN_BIN`, or a release build made once here.
pub(crate) fn kenshin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("KENSHIN_BIN") {
            return PathBuf::from(p);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--release", "-p", "kenshin"])
            .current_dir(&root)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build -p kenshin failed");
        root.join("target/release/kenshin")
    })
}

/// Runs `kenshin ARGS` inside the scanner namespace. The caller holds a
/// lab session for as long as this runs: the namespace exists only then.
pub(crate) fn kenshin_in_lab(args: &[&str]) -> Output {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", SCANNER_NS]).arg(kenshin());
    run_kenshin(c, args)
}

/// Runs `kenshin ARGS` for a command that sends nothing (verify, diff,
/// history…), outside any namespace, so it needs no lab session.
pub(crate) fn kenshin_offline(args: &[&str]) -> Output {
    run_kenshin(Command::new(kenshin()), args)
}

fn run_kenshin(mut c: Command, args: &[&str]) -> Output {
    c.args(args)
        .env("LANG", "C")
        .env("KENSHIN_SIGNING_KEY", signing_key())
        .output()
        .expect("kenshin runs")
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// report.json with its evidence records put back from the folder's archive (contract
/// 1.2 keeps them only in evidence.jsonl.gz), read through `kenshin evidence --json` as
/// an inspector would: every test that follows an evidence ID resolves it this way.
pub(crate) fn read_report(dir: &Path) -> Value {
    let path = dir.join("report.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut report: Value = serde_json::from_slice(&bytes).expect("report.json is JSON");
    if let Some(archive) = report.get("evidence_archive") {
        assert_eq!(
            report["evidence"].as_array().map(Vec::len),
            Some(0),
            "records are only in the archive"
        );
        let o = kenshin_offline(&["evidence", dir.to_str().expect("utf-8"), "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let records: Vec<Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON record a line"))
            .collect();
        assert_eq!(
            archive["records"].as_u64(),
            Some(records.len() as u64),
            "the archive holds the records report.json counts"
        );
        report["evidence"] = Value::Array(records);
    }
    report
}

/// Validates a report against docs/report-schema.json, listing every violation.
pub(crate) fn assert_valid_report(report: &Value) {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report-schema.json");
    assert!(
        schema_path.exists(),
        "schema missing at {}",
        schema_path.display()
    );
    let schema: Value =
        serde_json::from_slice(&std::fs::read(&schema_path).expect("schema readable"))
            .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report violates the schema:\n{}",
        errors.join("\n")
    );
}

/// Hosts of a report by address.
pub(crate) fn hosts(report: &Value) -> std::collections::BTreeMap<String, Value> {
    report["hosts"]
        .as_array()
        .expect("hosts array")
        .iter()
        .map(|h| {
            (
                h["address"].as_str().expect("address").to_owned(),
                h.clone(),
            )
        })
        .collect()
}

/// (protocol, port) of every service of a host.
pub(crate) fn open_ports(host: &Value) -> std::collections::BTreeSet<(String, u16)> {
    host["services"]
        .as_array()
        .expect("services array")
        .iter()
        .map(|s| {
            (
                s["protocol"].as_str().expect("protocol").to_owned(),
                u16::try_from(s["port"].as_u64().expect("port")).expect("port fits"),
            )
        })
        .collect()
}

/// A private temporary folder for one test's output.
pub(crate) fn out_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("kenshin-e2e-")
        .tempdir()
        .expect("temp dir")
}

/// Decodes standard base64 (evidence bytes).
pub(crate) fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("evidence is base64")
}

/// Points the scanner's hosts file at the TLS host by name and copies the lab's root CA
/// into `out`, for scans that judge names and chains; returns the CA file's path.
pub(crate) fn tls_name_and_root(session: &LabSession, out: &Path) -> PathBuf {
    session
        .lab
        .set_scanner_hosts(&[(kenshin_lab::TLS_ADDR, kenshin_lab::TLS_NAME)])
        .expect("hosts file");
    let root = out.join("lab-root.pem");
    std::fs::copy(session.lab.dir.join("tls/root.crt"), &root).expect("root CA copied");
    root
}

/// The lab tests' signing key (never the machine's /etc/kenshin key).
pub(crate) fn signing_key() -> &'static Path {
    static KEY: OnceLock<PathBuf> = OnceLock::new();
    KEY.get_or_init(|| {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-signing-key/signing-key.pem")
    })
}

/// Where lab tests keep files for people to look at (screenshots, PDFs).
pub(crate) fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts folder");
    dir
}

/// A `kenshin daemon` running in a lab namespace, its output appended to `log`; killed
/// when dropped, so a failing test leaves no daemon behind.
pub(crate) struct Daemon {
    child: std::process::Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts the daemon in `ns` on `config`.
    pub(crate) fn start_in(ns: &str, config: &Path, log: PathBuf) -> Daemon {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        // `ip netns exec` execs kenshin in place, so the child's PID is kenshin's.
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(kenshin())
            .args(["daemon", "--config"])
            .arg(config)
            .env("LANG", "C")
            .env("KENSHIN_LOG", "info")
            .env_remove("KENSHIN_FLEET_DB")
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("the daemon starts");
        Daemon { child, log }
    }

    /// Starts the daemon in the scanner namespace.
    pub(crate) fn start(config: &Path, log: PathBuf) -> Daemon {
        Daemon::start_in(SCANNER_NS, config, log)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit code.
    pub(crate) fn terminate(mut self) -> Option<i32> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s.code();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the daemon did not stop within 120 s:\n{}",
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// SIGKILL: no chance to write or record anything.
    pub(crate) fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fleet tests share the fleet lab's fixed names (`kf-*`, its folder), so only one
/// fleet lab exists at a time.
static FLEET_LOCK: Mutex<()> = Mutex::new(());

/// A fresh fleet lab, held exclusively until dropped (torn down first, also on panic).
pub(crate) struct FleetSession {
    lab: kenshin_lab::fleet::FleetLab,
    _lock: MutexGuard<'static, ()>,
}

impl std::ops::Deref for FleetSession {
    type Target = kenshin_lab::fleet::FleetLab;
    fn deref(&self) -> &Self::Target {
        &self.lab
    }
}

pub(crate) fn fleet_lab() -> FleetSession {
    let lock = FLEET_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let listener = PathBuf::from(env!("CARGO_BIN_EXE_kenshin-lab"));
    let lab = kenshin_lab::fleet::FleetLab::up(&listener)
        .unwrap_or_else(|e| panic!("the fleet lab could not be built: {e:#}"));
    FleetSession { lab, _lock: lock }
}

/// The daemon's recorded scans (`kenshin history --json` on its configuration), newest
/// first; empty before the first record.
pub(crate) fn daemon_history(config: &Path) -> Vec<Value> {
    let o = kenshin_offline(&[
        "history",
        "--json",
        "--limit",
        "100",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    if o.status.code() != Some(0) {
        return Vec::new(); // no history yet
    }
    serde_json::from_slice::<Vec<Value>>(&o.stdout).expect("history JSON")
}
