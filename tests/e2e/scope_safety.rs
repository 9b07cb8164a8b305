use crate::support::*;

/// A lab in which the scanner resolves `trap.lab.test` to 198.18.2.25, an RST host whose
/// namespace counts every packet the scanner sends it.
fn lab_with_trap_name() -> LabSession {
    let session = lab();
    session
        .lab
        .set_scanner_hosts(&[("198.18.2.25", "trap.lab.test")])
        .expect("hosts file");
    session
}

#[test]
fn an_excluded_address_gets_no_packet_even_when_a_target_hostname_resolves_to_it() {
    let session = lab_with_trap_name();
    let out = out_dir();
    let dir = out.path().join("r");
    let o = kenshin_in_lab(&[
        "scan",
        "trap.lab.test",
        "198.18.2.20-30",
        "--exclude",
        "198.18.2.25",
        "-p",
        "443,445,8080",
        "-o",
        dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = read_report(&dir);
    assert_valid_report(&report);
    let found = hosts(&report);
    assert!(
        !found.contains_key("198.18.2.25"),
        "the excluded address was reported"
    );
    assert_eq!(
        found.len(),
        10,
        "the other ten addresses answer: {:?}",
        found.keys()
    );
    assert_eq!(report["scan"]["resolved"][0]["name"], "trap.lab.test");
    assert_eq!(report["scan"]["resolved"][0]["addresses"][0], "198.18.2.25");
    let sent = session
        .lab
        .counter("ksl-b1", "to_excluded")
        .expect("counter");
    assert_eq!(sent, 0, "packets reached the excluded address");
}

#[test]
fn a_hostname_whose_only_address_is_excluded_leaves_an_empty_scope_and_sends_nothing() {
    let session = lab_with_trap_name();
    let out = out_dir();
    let dir = out.path().join("r");
    let o = kenshin_in_lab(&[
        "scan",
        "trap.lab.test",
        "--exclude",
        "198.18.2.25",
        "-o",
        dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("scope is empty"), "{}", text(&o));
    assert!(
        !dir.exists(),
        "an output folder was created for a refused scan"
    );
    assert_eq!(
        session
            .lab
            .counter("ksl-b1", "to_excluded")
            .expect("counter"),
        0
    );
}
