//! The command line refuses bad input before any packet is sent: each case here
//! names the bad value, exits 2 and leaves no output folder behind. None of these
//! scans can start, so none sends anything; the addresses are from the lab range.

mod support;
use support::{kenshin, refused, stderr};

#[test]
fn a_mistyped_address_is_named_and_never_looked_up() {
    refused(&["scan", "198.18.1.300"], "198.18.1.300");
}

#[test]
fn a_bad_port_spec_names_the_bad_part() {
    refused(&["scan", "198.18.1.1", "-p", "22,80x"], "80x");
    refused(&["scan", "198.18.1.1", "-p", "0"], "\"0\"");
}

#[test]
fn a_scope_emptied_by_excludes_is_refused() {
    refused(
        &["scan", "198.18.1.0/30", "--exclude", "198.18.1.0/30"],
        "scope is empty",
    );
}

#[test]
fn an_oversized_scope_needs_explicit_permission() {
    refused(&["scan", "198.18.0.0/15"], "--allow-large-scope");
    refused(
        &["scan", "198.18.1.0/24", "--scope-limit", "100"],
        "256 addresses",
    );
}

#[test]
fn a_missing_target_file_is_named() {
    refused(
        &["scan", "@/nonexistent/kenshin-targets.txt"],
        "/nonexistent/kenshin-targets.txt",
    );
}

#[test]
fn out_of_range_safety_settings_are_named() {
    // The same words as the daemon's configuration gives (settings.rate_pps: 0 is …):
    // the range lives once, in the engine's ScanSettings.
    refused(
        &["scan", "198.18.1.1", "--rate", "0"],
        "--rate: 0 is out of range: 1 to 100000 packets/s",
    );
    refused(
        &["scan", "198.18.1.1", "--host-conns", "1000"],
        "--host-conns: 1000 is out of range: 1 to 256",
    );
}

#[test]
fn a_site_that_is_not_a_plain_name_is_named() {
    refused(
        &["scan", "198.18.1.1", "--site", "ward 3/east"],
        "--site: \"ward 3/east\" is not valid",
    );
    refused(
        &["scan", "198.18.1.1", "--site", &"x".repeat(65)],
        "at most 64",
    );
}

#[test]
fn an_unwritable_output_folder_is_refused_before_scanning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"").expect("write");
    let o = kenshin(&[
        "scan",
        "198.18.1.1",
        "-o",
        blocker.join("sub").to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("output folder"), "{}", stderr(&o));
    let o = kenshin(&["scan", "198.18.1.1", "-o", blocker.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a folder"), "{}", stderr(&o));
}

#[test]
fn a_folder_that_already_holds_a_report_is_not_overwritten() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("report.json"), b"{\"keep\":true}").expect("write");
    let o = kenshin(&[
        "scan",
        "198.18.1.1",
        "-o",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let kept = std::fs::read_to_string(dir.path().join("report.json")).expect("read");
    assert_eq!(kept, "{\"keep\":true}");
}

#[test]
fn the_port_list_says_why_each_port_is_scanned_and_which_are_connect_only() {
    let o = kenshin(&["ports"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    let jetdirect = out
        .lines()
        .find(|l| l.contains("9100/tcp"))
        .expect("9100 listed");
    assert!(jetdirect.contains("connect only"), "{jetdirect}");
    let spec = kenshin(&["ports", "--spec"]);
    let spec = String::from_utf8_lossy(&spec.stdout);
    assert!(spec.starts_with("T:") && spec.contains("U:161"), "{spec}");
}

#[test]
fn help_documents_the_exit_codes() {
    let o = kenshin(&["--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("130 interrupted"), "{out}");
    assert!(out.contains("2 usage or runtime error"), "{out}");
}

#[test]
fn a_ca_file_that_cannot_be_used_is_named_before_anything_is_sent() {
    refused(
        &[
            "scan",
            "198.18.1.1",
            "--ca-file",
            "/nonexistent/hospital-ca.pem",
        ],
        "/nonexistent/hospital-ca.pem",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("not-a-ca.pem");
    std::fs::write(&empty, "this is not a certificate\n").expect("write");
    refused(
        &[
            "scan",
            "198.18.1.1",
            "--ca-file",
            empty.to_str().expect("utf-8"),
        ],
        "holds no PEM certificate",
    );
}

#[test]
fn tls_audit_limits_out_of_range_are_named() {
    refused(
        &["scan", "198.18.1.1", "--tls-pause", "99999"],
        "--tls-pause: 99999 is out of range: 0 to 10000",
    );
    refused(
        &["scan", "198.18.1.1", "--tls-max-handshakes", "0"],
        "--tls-max-handshakes: 0 is out of range: 1 to 5000",
    );
}
