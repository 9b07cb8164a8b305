use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kenshin_lab::passive::{
    self, count_frames, PassiveLab, CDP_ROUTER, LISTEN_IF, LISTEN_NS, PC, PC_VENDOR_CLASS, PRINTER,
    PRINTER_MODEL, SWITCH, TV, TV_SERVER,
};
use serde_json::Value;

use crate::support::*;

/// The passive segment has fixed namespace names: one test at a time.
static PASSIVE_LOCK: Mutex<()> = Mutex::new(());

fn passive_lab() -> (PassiveLab, MutexGuard<'static, ()>) {
    let lock = PASSIVE_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let lab =
        PassiveLab::up().unwrap_or_else(|e| panic!("the passive lab could not be built: {e:#}"));
    (lab, lock)
}

/// The lab binary that runs the fixtures: `KENSHIN_LAB_BIN` (a copy kept apart from a
/// target folder others build into), else the one cargo built with this test.
fn lab_bin() -> PathBuf {
    std::env::var_os("KENSHIN_LAB_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_kenshin-lab")),
        PathBuf::from,
    )
}

/// `kenshin ARGS` in the listener's namespace, started and not waited for; its
/// stderr goes to `log`.
fn start_kenshin(args: &[&str], log: &Path) -> std::process::Child {
    let err = std::fs::File::create(log).expect("log file");
    Command::new("ip")
        .args(["netns", "exec", LISTEN_NS])
        .arg(kenshin())
        .args(args)
        .env("LANG", "C")
        .env("KENSHIN_SIGNING_KEY", signing_key())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(err)
        .spawn()
        .expect("kenshin starts")
}

/// Waits until `log` holds `text` (kenshin has opened its capture), up to `limit`.
fn wait_for(log: &Path, text: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains(text)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{text:?} never appeared in {}:\n{}",
        log.display(),
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn heard(host: &Value, key: &str) -> Vec<String> {
    host["heard"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|s| s["key"] == key)
                .filter_map(|s| s["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn sources(host: &Value) -> Vec<&str> {
    host["discovered_by"]
        .as_array()
        .expect("discovered_by")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

fn host<'a>(hosts: &'a BTreeMap<String, Value>, address: &str) -> &'a Value {
    hosts
        .get(address)
        .unwrap_or_else(|| panic!("{address} was not heard; heard: {hosts:#?}"))
}

#[test]
fn listening_sends_no_frame_and_finds_every_speaker_with_its_hints() {
    let (mut lab, _lock) = passive_lab();
    let out = out_dir();
    let pcap = lab.dir().join("listener.pcap");
    lab.capture(&pcap)
        .expect("tcpdump on the listener's interface");
    let dir = out.path().join("heard");
    let log = out.path().join("listen.log");
    let child = start_kenshin(
        &[
            "listen",
            "--duration",
            "15s",
            "--interface",
            LISTEN_IF,
            "-o",
            &dir.to_string_lossy(),
            "--lang",
            "en",
        ],
        &log,
    );
    wait_for(&log, "listening on", Duration::from_secs(10));
    lab.start(&lab_bin()).expect("the speakers start");
    let o = child.wait_with_output_within(Duration::from_secs(60));
    lab.stop_all(); // tcpdump's file is complete once it has stopped
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(o.status.code(), Some(0), "{}\n{stderr}", text(&o));

    // On the wire: frames were captured on the listener's interface (so the capture
    // worked), and not one of them came from the listener.
    let all = count_frames(&pcap, "").expect("tcpdump reads the capture");
    let own = count_frames(&pcap, &format!("ether src {}", lab.listener_mac)).expect("reads");
    assert!(all >= 10, "the capture holds only {all} frames");
    assert_eq!(own, 0, "the listener sent {own} frames while listening");
    eprintln!("listen on the wire: {all} frames on {LISTEN_IF}, {own} from the listener");

    let report = read_report(&dir);
    assert_valid_report(&report);
    assert_eq!(report["scan"]["discovery"]["mode"], "listen");
    assert_eq!(report["scan"]["stats"]["probes_sent"], 0);
    let hosts = hosts(&report);

    let sw = host(&hosts, SWITCH.address);
    assert!(sources(sw).contains(&"lldp"), "{sw:#}");
    assert_eq!(heard(sw, "lldp.system_name"), [SWITCH.host_name]);
    assert_eq!(sw["kind"], "network_device", "{}", sw["kind_reason"]);
    assert!(sw["kind_reason"]
        .as_str()
        .is_some_and(|r| r.contains("passive.lldp-network")));

    let cdp = host(&hosts, CDP_ROUTER.address);
    assert!(sources(cdp).contains(&"cdp"), "{cdp:#}");
    assert_eq!(heard(cdp, "cdp.device_id"), [CDP_ROUTER.host_name]);

    let prn = host(&hosts, PRINTER.address);
    assert!(sources(prn).contains(&"mdns"), "{prn:#}");
    assert!(heard(prn, "mdns.service").contains(&"_ipp._tcp.local".to_owned()));
    assert!(heard(prn, "mdns.model").contains(&format!("ty={PRINTER_MODEL}")));
    assert_eq!(prn["kind"], "printer", "{}", prn["kind_reason"]);

    let pc = host(&hosts, PC.address);
    for s in ["arp", "dhcp", "nbns"] {
        assert!(sources(pc).contains(&s), "{s} missing: {pc:#}");
    }
    assert_eq!(heard(pc, "dhcp.hostname"), [PC.host_name]);
    assert_eq!(heard(pc, "dhcp.vendor_class"), [PC_VENDOR_CLASS]);
    let fingerprint: Vec<String> = passive::PC_PARAMETERS.iter().map(u8::to_string).collect();
    assert_eq!(heard(pc, "dhcp.fingerprint"), [fingerprint.join(",")]);
    assert_eq!(
        heard(pc, "nbns.name"),
        [format!("{}<00>", PC.host_name.to_uppercase())]
    );
    assert_eq!(pc["kind"], "terminal_pc", "{}", pc["kind_reason"]);

    let tv = host(&hosts, TV.address);
    assert!(sources(tv).contains(&"ssdp"), "{tv:#}");
    assert_eq!(heard(tv, "ssdp.server"), [TV_SERVER]);
    assert_eq!(tv["kind"], "iot", "{}", tv["kind_reason"]);

    assert!(
        hosts.values().any(|h| sources(h).contains(&"ndp")),
        "no host heard through IPv6 neighbour discovery"
    );
    assert!(
        !hosts.contains_key(passive::LISTEN_ADDR),
        "the listener reported itself"
    );

    let v = kenshin_offline(&["verify", &dir.to_string_lossy()]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
}

#[test]
fn listen_refuses_bad_input_with_exit_2_naming_the_value_and_writes_nothing() {
    let (lab, _lock) = passive_lab();
    let out = out_dir();
    std::fs::set_permissions(
        out.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let bin = out.path().join("kenshin");
    std::fs::copy(kenshin(), &bin).expect("copy kenshin");
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    // An interface that exists and is down (a veth pair, both ends left down).
    let status = Command::new("ip")
        .args([
            "-n", LISTEN_NS, "link", "add", "kl-down0", "type", "veth", "peer", "name", "kl-down1",
        ])
        .status()
        .expect("ip runs");
    assert!(status.success());
    let dir = out.path().join("never");
    let d = dir.to_string_lossy().into_owned();
    let run = |prefix: &[&str], args: &[&str]| -> Output {
        Command::new("ip")
            .args(["netns", "exec", LISTEN_NS])
            .args(prefix)
            .arg(&bin)
            .args(args)
            .env("LANG", "C")
            .env("KENSHIN_SIGNING_KEY", out.path().join("key.pem"))
            .output()
            .expect("kenshin runs")
    };
    let unprivileged = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
    ];
    for (prefix, args, says) in [
        (
            &[][..],
            &["listen", "--duration", "0", "-i", LISTEN_IF, "-o", &d][..],
            "--duration 0s is out of range",
        ),
        (
            &[],
            &["listen", "--duration", "25h", "-i", LISTEN_IF, "-o", &d],
            "--duration 90000s is out of range",
        ),
        (
            &[],
            &["listen", "-i", "kl-nosuch0", "-o", &d],
            "interface \"kl-nosuch0\" does not exist",
        ),
        (
            &[],
            &["listen", "-i", "kl-down0", "-o", &d],
            "interface \"kl-down0\" is down",
        ),
        (
            &unprivileged,
            &["listen", "-i", LISTEN_IF, "-o", &d],
            "needs CAP_NET_RAW",
        ),
    ] {
        let o = run(prefix, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(err.contains(says), "{args:?} should say {says:?}: {err}");
        assert!(!dir.exists(), "{args:?} wrote {}", dir.display());
        assert!(
            !out.path().join("key.pem").exists(),
            "{args:?} created a key"
        );
    }
    drop(lab);
}

#[test]
fn scan_with_listen_knows_the_tvs_class_from_ssdp_before_its_first_probe() {
    let (lab, _lock) = passive_lab();
    for s in passive::SPEAKERS {
        let ok = Command::new("ip")
            .args(["-n", s.ns, "link", "set", "eth0", "up"])
            .status()
            .expect("ip runs")
            .success();
        assert!(ok);
    }
    let out = out_dir();
    let dir = out.path().join("scan");
    let log = out.path().join("scan.log");
    let child = start_kenshin(
        &[
            "scan",
            "--listen",
            "8s",
            "--listen-interface",
            LISTEN_IF,
            TV.address,
            "--ports",
            "80",
            "-o",
            &dir.to_string_lossy(),
            "--lang",
            "en",
        ],
        &log,
    );
    wait_for(&log, "listening on", Duration::from_secs(10));
    lab.announce(&lab_bin(), TV, "tv")
        .expect("the TV announces itself");
    lab.announce(&lab_bin(), PC, "pc")
        .expect("the PC announces itself");
    let o = child.wait_with_output_within(Duration::from_secs(90));
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}\n{stderr}",
        text(&o)
    );
    let report = read_report(&dir);
    assert_valid_report(&report);
    let hosts = hosts(&report);
    let tv = host(&hosts, TV.address);
    assert!(sources(tv).contains(&"ssdp"), "{tv:#}");
    assert_eq!(tv["kind"], "iot", "{}", tv["kind_reason"]);
    assert!(tv["kind_reason"]
        .as_str()
        .is_some_and(|r| r.contains("listening")));
    // The PC was heard too, but it is outside the scan's targets: not in the report.
    assert!(
        !hosts.contains_key(PC.address),
        "an address out of scope was reported"
    );
}

trait WaitWithin {
    fn wait_with_output_within(self, limit: Duration) -> Output;
}

impl WaitWithin for std::process::Child {
    /// Waits for the child, killing it (and failing) after `limit`.
    fn wait_with_output_within(mut self, limit: Duration) -> Output {
        let deadline = Instant::now() + limit;
        loop {
            match self.try_wait() {
                Ok(Some(_)) => return self.wait_with_output().expect("output"),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                _ => {
                    let _ = self.kill();
                    panic!("kenshin did not finish within {limit:?}");
                }
            }
        }
    }
}
