//! The daemon on a full disk, through the real binary (issue 20, defect 4): its state
//! and reports folders are small tmpfs mounts that the test fills. Mounting needs
//! root, so these tests fail (never skip) without it; `tests/run` runs as root.
//!
//! The only scan target is a listener the test opens on 127.0.0.1, and the webhook
//! receiver and syslog socket are the test's own, on 127.0.0.1 and in a temp folder.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{kenshin, stderr};

fn require_root() {
    let o = Command::new("id").arg("-u").output().expect("id -u");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "0",
        "the full-disk tests mount tmpfs folders and must run as root (tests/run does)"
    );
}

/// A tmpfs of `size` mounted on a temp folder; unmounted when dropped, whatever
/// happened.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("mount point");
        let o = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0750"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        assert!(
            o.status.success(),
            "cannot mount a tmpfs on {}: {}",
            dir.path().display(),
            String::from_utf8_lossy(&o.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills every free block with a file named `name`.
    fn fill(&self, name: &str) {
        let path = self.path().join(name);
        let mut f = std::fs::File::create(&path).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = f.write_all(&chunk) {
                assert_eq!(e.raw_os_error(), Some(28), "ENOSPC expected: {e}");
                break;
            }
        }
        // The last partial chunk: byte by byte until not one more fits.
        while f.write_all(&[0]).is_ok() {}
        let o = Command::new("df")
            .arg("--output=avail")
            .arg(self.path())
            .output()
            .expect("df");
        let avail = String::from_utf8_lossy(&o.stdout);
        assert!(
            avail.lines().nth(1).map(str::trim) == Some("0"),
            "still free: {avail}"
        );
    }

    fn free(&self, name: &str) {
        std::fs::remove_file(self.path().join(name)).expect("remove the filler");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Still busy (a daemon that would not die): detach it.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// A loopback service that greets like OpenSSH and hangs up.
fn listener() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let _ = c.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
        }
    });
    port
}

/// A webhook receiver on loopback answering 200; the JSON bodies it got.
#[derive(Clone)]
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}/hook", l.local_addr().expect("addr"));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let got = bodies.clone();
        std::thread::spawn(move || {
            for stream in l.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                if let Ok(v) = serde_json::from_slice(&body) {
                    got.lock().expect("lock").push(v);
                }
                let _ = reader.into_inner().write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Receiver { url, bodies }
    }

    /// Waits up to `secs` for a notification with a `recording-failed` event of
    /// `stage`.
    fn wait_recording_failed(&self, stage: &str, secs: u64, daemon: &Daemon) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let found = self
                .bodies
                .lock()
                .expect("lock")
                .iter()
                .find(|n| {
                    n["events"].as_array().is_some_and(|e| {
                        e.iter()
                            .any(|e| e["type"] == "recording-failed" && e["stage"] == stage)
                    })
                })
                .cloned();
            if let Some(n) = found {
                return n;
            }
            assert!(
                Instant::now() < deadline,
                "no recording-failed ({stage}) webhook within {secs} s; got {:#?}\nlog:\n{}",
                self.bodies.lock().expect("lock"),
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The daemon, its output in `log`; killed when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(config: &Path, log: &Path) -> Daemon {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_kenshin"))
            .args(["daemon", "--config"])
            .arg(config)
            .env("LANG", "C")
            .env("KENSHIN_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .expect("the daemon starts");
        let d = Daemon {
            child,
            log: log.to_owned(),
        };
        d.wait_log("daemon started", 20);
        d
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&self, text: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !self.log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} in the log within {secs} s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, and wait for it to exit 0.
    fn terminate(mut self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                assert_eq!(s.code(), Some(0), "{}", self.log());
                return;
            }
            assert!(Instant::now() < deadline, "did not stop:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test's folders: state and reports on their own tmpfs, the rest (config, key,
/// log, syslog socket) in an ordinary temp folder.
struct Setup {
    work: tempfile::TempDir,
    state: Tmpfs,
    reports: Tmpfs,
}

impl Setup {
    fn new() -> Setup {
        require_root();
        Setup {
            work: tempfile::tempdir().expect("work dir"),
            state: Tmpfs::mount("1m"),
            reports: Tmpfs::mount("4m"),
        }
    }

    /// Writes the configuration: one scope scanning `port` and six closed ports on
    /// 127.0.0.1 every minute, slowly (about 20 s), alerting `hook` and `syslog`.
    fn config(&self, port: u16, hook: &Receiver, syslog: Option<&Path>, extra: &str) -> PathBuf {
        let path = self.work.path().join("kenshin.toml");
        let syslog = syslog.map_or_else(String::new, |s| {
            format!("[notify.syslog]\ntarget = \"unix:{}\"\n", s.display())
        });
        let toml = format!(
            "[daemon]\nstate_dir = \"{}\"\nreports_dir = \"{}\"\nsigning_key = \"{}\"\n\
             utc_offset = \"+00:00\"\n{extra}\n\
             [[notify.webhook]]\nurl = \"{}\"\ntimeout = \"5s\"\n{syslog}\n\
             [[scope]]\nname = \"local\"\ntargets = [\"127.0.0.1\"]\nschedule = \"* * * * *\"\n\
             [scope.settings]\nports = \"T:{port},1-6\"\nsnmp = false\nicmp = false\narp = false\n\
             host_rate_pps = 1\n",
            self.state.path().display(),
            self.reports.path().display(),
            self.work.path().join("key/signing-key.pem").display(),
            hook.url,
        );
        std::fs::write(&path, toml).expect("config");
        let o = kenshin(&["check-config", path.to_str().expect("utf-8")]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        path
    }
}

fn out(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    )
}

/// `kenshin ARGS --config CONFIG`, which must exit 0.
fn ok(args: &[&str], config: &Path) -> std::process::Output {
    let mut all = args.to_vec();
    all.extend(["--config", config.to_str().expect("utf-8")]);
    let o = kenshin(&all);
    assert_eq!(o.status.code(), Some(0), "kenshin {args:?}: {}", out(&o));
    o
}

fn json(args: &[&str], config: &Path) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_slice(&ok(&all, config).stdout).expect("JSON")
}

/// The recorded scans, newest first (`[]` before the first).
fn scans(config: &Path) -> Vec<Value> {
    let o = kenshin(&[
        "history",
        "--json",
        "--limit",
        "100",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    if stderr(&o).contains("no history at") {
        return Vec::new();
    }
    assert_eq!(o.status.code(), Some(0), "history: {}", out(&o));
    serde_json::from_slice(&o.stdout).expect("history JSON")
}

fn wait_scans(
    config: &Path,
    daemon: &Daemon,
    secs: u64,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = scans(config);
        if pred(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "waited {secs} s for {what}; scans: {s:#?}\nlog:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Sleeps past the next minute if fewer than 15 s are left in this one, so a step
/// taken now happens before the every-minute schedule next fires.
fn clear_of_the_minute() {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        % 60;
    if secs >= 45 {
        std::thread::sleep(Duration::from_secs(62 - secs));
    }
}

#[test]
fn a_full_state_folder_before_a_scan_is_alerted_shown_by_status_and_cleared_once_freed() {
    let setup = Setup::new();
    let hook = Receiver::start();
    let sock_path = setup.work.path().join("syslog.sock");
    let syslog = UnixDatagram::bind(&sock_path).expect("syslog socket");
    syslog
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let config = setup.config(listener(), &hook, Some(&sock_path), "");
    clear_of_the_minute();
    let daemon = Daemon::start(&config, &setup.work.path().join("daemon.log"));
    assert!(setup.state.path().join("health.json").is_file());

    // The state folder fills before the scan is due.
    setup.state.fill("filler");
    let n = hook.wait_recording_failed("start", 90, &daemon);
    eprintln!("{}", serde_json::to_string_pretty(&n).expect("json"));
    assert_eq!(n["scope"], "local");
    assert_eq!(n["scan"]["status"], "failed");
    assert_eq!(n["scan"]["complete"], false);
    assert!(n["scan"]["report_dir"].is_null());
    let e = &n["events"][0];
    let history_db = setup.state.path().join("history.db");
    assert_eq!(e["history"], history_db.to_str().expect("utf-8"));
    assert!(
        e["reason"].as_str().is_some_and(|r| r.contains("disk")),
        "{e:#}"
    );
    assert!(
        n["summary"]["en"]
            .as_str()
            .is_some_and(|s| s.contains("did not run")),
        "{n:#}"
    );
    let scan_id = n["scan"]["id"].as_str().expect("id").to_owned();
    // Syslog got it too, as an error.
    let mut buf = [0u8; 4096];
    let len = syslog.recv(&mut buf).expect("a syslog message");
    let msg = String::from_utf8_lossy(&buf[..len]);
    assert!(
        msg.starts_with("<27>1 ")
            && msg.contains(" recording-failed ")
            && msg.contains("stage=\"start\""),
        "{msg}"
    );
    // Nothing was scanned: no report folder.
    assert!(!setup.reports.path().join("local").exists());

    // status and history read the full disk and say what is wrong.
    let o = ok(&["status"], &config);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("history: CANNOT RECORD scans since")
            && text.contains(&format!(
                "scope \"local\" scan {scan_id} (the scan did not run)"
            ))
            && text.contains("reason: "),
        "{text}"
    );
    let o = ok(&["status", "--lang", "ja"], &config);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("履歴: 記録できません") && text.contains("スキャンは実行されませんでした"),
        "{text}"
    );
    let v = json(&["status"], &config);
    let f = &v["recording_failure"];
    assert_eq!(f["stage"], "start", "{v:#}");
    assert_eq!(f["scope"], "local");
    assert_eq!(f["scan"], scan_id.as_str());
    assert!(v["daemon_pid"].is_u64());
    assert_eq!(json(&["history"], &config), serde_json::json!([]));
    let o = ok(&["history"], &config);
    assert!(String::from_utf8_lossy(&o.stdout).contains("no scans recorded"));

    // Space is freed: the next scan runs, is recorded, and the failure is over.
    setup.state.free("filler");
    let s = wait_scans(&config, &daemon, 100, "a scan recorded once freed", |s| {
        s.iter().any(|x| x["status"] == "complete")
    });
    assert_eq!(s.len(), 1, "{s:#?}");
    let v = json(&["status"], &config);
    assert!(v["recording_failure"].is_null(), "{v:#}");
    let o = ok(&["status"], &config);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("CANNOT RECORD"));
    daemon.terminate();
}

#[test]
fn a_scan_sealed_while_the_disk_filled_is_alerted_kept_and_adopted_at_the_next_start() {
    let setup = Setup::new();
    let hook = Receiver::start();
    let port = listener();
    let config = setup.config(port, &hook, None, "");
    let log = setup.work.path().join("daemon.log");
    let daemon = Daemon::start(&config, &log);

    // A first scan, recorded: the scope's baseline.
    let s = wait_scans(&config, &daemon, 100, "a first complete scan", |s| {
        s.iter().any(|x| x["status"] == "complete")
    });
    let baseline = s[0]["id"].as_str().expect("id").to_owned();
    // The next one is recorded running (before its first packet); then the state
    // folder fills while it scans.
    let s = wait_scans(&config, &daemon, 90, "a second scan running", |s| {
        s.iter().any(|x| x["status"] == "running")
    });
    let cut = s[0]["id"].as_str().expect("id").to_owned();
    setup.state.fill("filler");

    // It ends: sealed and renamed into place, but its end cannot be recorded.
    let n = hook.wait_recording_failed("finish", 60, &daemon);
    eprintln!("{}", serde_json::to_string_pretty(&n).expect("json"));
    assert_eq!(n["scan"]["id"], cut.as_str());
    assert_eq!(n["scan"]["status"], "complete");
    let folder = setup.reports.path().join("local").join(&cut);
    assert_eq!(n["scan"]["report_dir"], folder.to_str().expect("utf-8"));
    assert_eq!(n["previous_scan"], baseline.as_str());
    for f in [
        "manifest.json",
        "manifest.sig",
        "report.json",
        "report.html",
    ] {
        assert!(
            folder.join(f).is_file(),
            "{f} missing from {}",
            folder.display()
        );
    }
    assert!(!setup
        .reports
        .path()
        .join("local")
        .join(format!(".{cut}.partial"))
        .exists());
    // SQLite may have freed its WAL since: fill again, and read on a full disk.
    setup.state.fill("filler-2");
    let listed = scans(&config);
    let row = listed
        .iter()
        .find(|x| x["id"] == cut.as_str())
        .expect("row");
    assert_eq!(row["status"], "running", "{row:#}");
    let v = json(&["status"], &config);
    assert_eq!(v["recording_failure"]["stage"], "finish", "{v:#}");
    assert_eq!(v["recording_failure"]["scan"], cut.as_str());
    let o = ok(&["status"], &config);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("its sealed report is kept"),
        "{}",
        out(&o)
    );
    daemon.terminate();

    // With the daemon stopped, status says the sealed scan is recorded at the next
    // start (not run again).
    let v = json(&["status"], &config);
    assert_eq!(v["scopes"][0]["adopt_pending"], true, "{v:#}");
    assert_eq!(v["scopes"][0]["rerun_pending"], false, "{v:#}");

    // Space freed, the daemon restarted (keeping one scan per scope from now on).
    setup.state.free("filler");
    setup.state.free("filler-2");
    let config = setup.config(port, &hook, None, "\n[retention]\nkeep_scans = 1\n");
    clear_of_the_minute();
    let daemon = Daemon::start(&config, &setup.work.path().join("daemon-2.log"));
    let s = wait_scans(&config, &daemon, 20, "the sealed scan adopted", |s| {
        s.iter()
            .any(|x| x["id"] == cut.as_str() && x["status"] == "complete")
    });
    let row = s.iter().find(|x| x["id"] == cut.as_str()).expect("row");
    assert_eq!(
        row["report_dir"],
        folder.to_str().expect("utf-8"),
        "{row:#}"
    );
    assert_eq!(row["previous_scan"], baseline.as_str(), "{row:#}");
    assert_eq!(row["hosts_up"], 1, "{row:#}");
    assert!(
        row["reason"]
            .as_str()
            .is_some_and(|r| r.contains("sealed report folder")),
        "{row:#}"
    );
    assert!(
        !s.iter().any(|x| x["rerun_of"] == cut.as_str()),
        "adopted, not run again: {s:#?}"
    );
    assert!(daemon
        .log()
        .contains("was sealed but not recorded; recorded now"));
    let detail = json(&["history", "--scan", &cut], &config);
    assert!(detail["changes"].is_object(), "{detail:#}");
    let v = json(&["status"], &config);
    assert!(v["recording_failure"].is_null(), "{v:#}");
    assert_eq!(v["scopes"][0]["last"]["id"], cut.as_str());

    // The adopted scan is under retention: once the next scan is recorded, only one
    // scan is kept, and the adopted folder goes with its record.
    let s = wait_scans(&config, &daemon, 100, "the next scheduled scan", |s| {
        s.iter().any(|x| {
            x["status"] == "complete" && x["id"] != cut.as_str() && x["id"] != baseline.as_str()
        }) && !s.iter().any(|x| x["id"] == cut.as_str())
    });
    assert_eq!(s.len(), 1, "{s:#?}");
    assert!(s[0]["rerun_of"].is_null(), "a scheduled scan: {s:#?}");
    assert!(!folder.exists(), "retention removed {}", folder.display());
    daemon.terminate();
}
