//! `kenshin rules verify` runs every rule family's self-tests, on the built-in rules or
//! on a folder a rule author edited, and names what fails by file, line and rule.

use std::path::Path;
use std::process::Output;

mod support;
use support::kenshin;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// True if a line reads `FAIL FILE:LINE: …WHAT…`: the problem named by file, line
/// and rule.
fn fail_line(out: &str, file: &str, what: &str) -> bool {
    out.lines().any(|l| {
        l.strip_prefix("FAIL ")
            .and_then(|rest| rest.strip_prefix(file))
            .and_then(|rest| rest.split_once(": "))
            .is_some_and(|(line, rest)| line.parse::<usize>().is_ok() && rest.contains(what))
    })
}

/// `kenshin rules verify --dir DIR`.
fn verify_dir(dir: &Path) -> Output {
    kenshin(&["rules", "verify", "--dir", dir.to_str().expect("utf-8")])
}

fn copy_rules(to: &Path) {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("rules folder") {
            let e = e.expect("entry");
            let target = to.join(e.file_name());
            if e.path().is_dir() {
                copy_tree(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).expect("copy");
            }
        }
    }
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules"),
        to,
    );
}

#[test]
fn the_built_in_rules_verify_and_say_how_much_was_checked() {
    let o = kenshin(&["rules", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("ok   ports.toml"), "{out}");
    assert!(out.contains("counterexamples hold, none shadowed"), "{out}");
    assert!(
        out.contains("ok   tls/ipa-profiles.toml: 3 profiles"),
        "{out}"
    );
    assert!(out.contains("ok   requirements: 10 registries, "), "{out}");
    assert!(out.contains("ok   service-names.toml:"), "{out}");
    assert!(out.contains("ok   noise.toml:"), "{out}");
    assert!(out.contains("ok   ledger.toml:"), "{out}");
    assert!(out.contains("ok   kinds.toml:"), "{out}");
    assert!(out.contains("ok   safety.toml: 7 class budgets"), "{out}");
}

#[test]
fn a_kind_rule_whose_counterexample_matches_is_named_by_file_line_and_rule() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let kinds = dir.path().join("kinds.toml");
    let text = std::fs::read_to_string(&kinds).expect("kinds.toml");
    // A desktop Windows counterexample becomes a server release, which the rule matches.
    let broken = text.replacen(
        r#"counterexample = [
  { os = ["Windows 10"] },"#,
        r#"counterexample = [
  { os = ["Windows Server 2019"] },"#,
        1,
    );
    assert_ne!(broken, text, "the counterexample to break was not found");
    std::fs::write(&kinds, broken).expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        fail_line(
            &out,
            "kinds.toml:",
            "rule os.windows-server: counterexample 1 matches"
        ),
        "{out}"
    );
}

#[test]
fn a_rule_and_its_example_sharing_a_misspelt_fact_are_refused_by_file_line_and_fact() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let path = dir.path().join("checks/services.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    // The matcher and the example both say smb.smbv1: only the fact registry knows
    // that no probe writes it.
    let broken = text.replace("\"smb.smb1\"", "\"smb.smbv1\"");
    assert_ne!(broken, text, "the fact to misspell was not found");
    std::fs::write(&path, &broken).expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    let line = broken
        .lines()
        .position(|l| l.contains("smb.smbv1"))
        .expect("the misspelt fact")
        + 1;
    assert!(
        out.contains(&format!(
            "FAIL checks/services.toml:{line}: rule smb.v1-enabled: match: no probe writes the fact \"smb.smbv1\""
        )),
        "{out}"
    );
}

#[test]
fn a_mapping_between_editions_that_does_not_resolve_is_named_and_fails() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let path = dir.path().join("requirements/mhlw-checklist-r6.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replacen("mhlw-checklist-r7:2-⑬", "mhlw-checklist-r7:2-⑳", 1),
    )
    .expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("FAIL requirements/") && out.contains("2-⑳"),
        "{out}"
    );
}

#[test]
fn a_tls_profile_with_an_unknown_version_is_named_and_fails() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let path = dir.path().join("tls/ipa-profiles.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replacen("\"TLSv1.2\"]", "\"TLS1.2\"]", 1)).expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("FAIL tls/ipa-profiles.toml") && out.contains("\"TLS1.2\""),
        "{out}"
    );
}

#[test]
fn a_check_that_fires_on_the_noise_corpus_is_named_and_fails() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let path = dir.path().join("checks/services.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    // Telnet's check loosened to any service: the noise corpus must catch it.
    std::fs::write(
        &path,
        text.replacen(
            "match = [{ field = \"service\", any_of = [\"telnet\"] }, { field = \"named_by\", equals = \"probe\" }]",
            "match = [{ field = \"port\", present = true }]",
            1,
        ),
    )
    .expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        fail_line(
            &out,
            "checks/services.toml:",
            "rule service.telnet: noise sample"
        ),
        "{out}"
    );
}

#[test]
fn an_advisory_whose_fixed_version_moved_fails_its_boundary_example() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let path = dir.path().join("advisories/servers.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replacen(
            "{ from = \"8.5p1\", fixed = \"9.8p1\" }",
            "{ from = \"8.5p1\", fixed = \"9.9p1\" }",
            1,
        ),
    )
    .expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("openssh-cve-2024-6387") && out.contains("expects none but gives potential"),
        "{out}"
    );
}

#[test]
fn a_copy_of_the_rules_verifies_as_the_built_in_ones_do() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_broken_example_is_named_by_file_and_fingerprint_and_fails() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let ssh = dir.path().join("fingerprints/ssh.toml");
    let text = std::fs::read_to_string(&ssh).expect("ssh.toml");
    // The OpenSSH example now expects a version the banner does not carry.
    let broken = text.replacen(r#"version = "9.2p1" } }"#, r#"version = "9.3p1" } }"#, 1);
    assert_ne!(broken, text, "the example to break was not found");
    std::fs::write(&ssh, broken).expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        fail_line(
            &out,
            "fingerprints/ssh.toml:",
            "rule ssh.openssh: example 1"
        ),
        "{out}"
    );
}

#[test]
fn a_fingerprint_that_shadows_a_later_one_is_caught() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    // A greedy rule sorted before every other file claims every SSH server.
    std::fs::write(
        dir.path().join("fingerprints/0-greedy.toml"),
        r#"
[[fingerprint]]
id = "greedy.any-ssh"
description = "claims every SSH server"
service = "ssh"
match = [{ field = "ssh.software", regex = '.' }]
set = { product = "Anything" }
certainty = 0.1
example = [{ service = "ssh", fields = { "ssh.software" = "x" }, expect = { product = "Anything" } }]
"#,
    )
    .expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("ssh.openssh") && out.contains("shadowed"),
        "{out}"
    );
    assert!(out.contains("greedy.any-ssh"), "{out}");
}

#[test]
fn a_class_budget_with_a_bad_rate_is_refused_by_file_line_and_key() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let path = dir.path().join("safety.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    let broken = text.replacen("frames_per_s = 10", "frames_per_s = 0", 1);
    assert_ne!(broken, text, "no budget to break");
    std::fs::write(&path, &broken).expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        fail_line(&out, "safety.toml:", "frames_per_s"),
        "not named by file, line and key:\n{out}"
    );
    assert!(out.contains("0 is out of range"), "{out}");
}

#[test]
fn a_class_budget_example_that_no_longer_holds_is_named_and_fails() {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let path = dir.path().join("safety.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    // Port 104 no longer tells a medical device: the example with DICOM open fails.
    let broken = text.replacen(
        "port = 104\nclass = \"medical_device\"",
        "port = 104\nclass = \"server\"",
        1,
    );
    assert_ne!(broken, text, "no port to change");
    std::fs::write(&path, &broken).expect("write");
    let o = verify_dir(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        fail_line(&out, "safety.toml:", "expected class \"medical_device\""),
        "{out}"
    );
}
