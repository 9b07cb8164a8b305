use std::process::{Command, Stdio};
use std::time::Duration;

use kenshin_lab::{SCANNER_NS, SERVICES_ADDR, SNMP_COMMUNITY};

use crate::support::*;

#[test]
fn without_raw_socket_privilege_the_scan_falls_back_to_tcp_with_one_warning() {
    let session = lab();
    let out = out_dir();
    let dir = out.path().join("r");
    std::fs::set_permissions(
        out.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    // The checkout may sit where an unprivileged user cannot reach (under /root, say):
    // run a copy from the world-readable temporary folder instead.
    let bin = out.path().join("kenshin");
    std::fs::copy(kenshin(), &bin).expect("copy kenshin");
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let o = Command::new("ip")
        .args([
            "netns",
            "exec",
            SCANNER_NS,
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ])
        .arg(&bin)
        .args([
            "scan",
            "198.18.1.100-119",
            "198.18.2.20-21",
            "-p",
            "443,3389,9100",
            "-o",
            dir.to_str().expect("utf-8"),
            // A key the unprivileged user can create (the default is under /root).
            "--signing-key",
            out.path()
                .join("key/signing-key.pem")
                .to_str()
                .expect("utf-8"),
        ])
        .env("LANG", "C")
        .output()
        .expect("setpriv runs");
    // RDP reachable on the modalities: findings, exit 1.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "expected exactly one warning:\n{stderr}");
    assert!(warnings[0].contains("CAP_NET_RAW"), "{stderr}");
    let report = read_report(&dir);
    assert_valid_report(&report);
    let found = hosts(&report);
    assert_eq!(
        found.len(),
        22,
        "every host is still found by TCP: {:?}",
        found.keys()
    );
    for h in found.values() {
        assert_eq!(h["discovered_by"], serde_json::json!(["tcp"]), "{h}");
    }
    drop(session);
}

#[test]
fn an_interrupted_scan_writes_a_partial_report_and_exits_130() {
    let session = lab();
    let out = out_dir();
    let dir = out.path().join("r");
    let child = Command::new("ip")
        .args(["netns", "exec", SCANNER_NS])
        .arg(kenshin())
        .args([
            "scan",
            "198.18.1.0/24",
            "198.18.2.0/24",
            "-o",
            dir.to_str().expect("utf-8"),
        ])
        // The tests' key, never root's /etc/kenshin one.
        .env("KENSHIN_SIGNING_KEY", signing_key())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kenshin starts");
    std::thread::sleep(Duration::from_secs(4));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    // `ip netns exec` replaces itself with kenshin, so the signal reaches kenshin.
    let o = child.wait_with_output().expect("kenshin exits");
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    let report = read_report(&dir);
    assert_valid_report(&report);
    assert_eq!(report["scan"]["complete"], false);
    assert!(String::from_utf8_lossy(&o.stdout).contains("INTERRUPTED"));
    drop(session);
}

#[test]
fn with_snmp_switched_off_no_snmp_packet_is_sent() {
    let session = lab();
    let out = out_dir();
    let dir = out.path().join("r");
    let o = kenshin_in_lab(&[
        "scan",
        SERVICES_ADDR,
        "-p",
        "22,U:161",
        "--no-snmp",
        "--snmp-community",
        SNMP_COMMUNITY,
        "-o",
        dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = read_report(&dir);
    let svc = &hosts(&report)[SERVICES_ADDR];
    assert!(svc["snmp"].is_null());
    assert!(!open_ports(svc).contains(&("udp".to_owned(), 161)));
    assert_eq!(
        session.lab.counter("ksl-svc", "to_snmp").expect("counter"),
        0
    );
}
