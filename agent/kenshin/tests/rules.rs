//! `kenshin rules verify` runs every fingerprint's examples and counterexamples, on the
//! built-in rules or on a folder a rule author edited, and names what fails.

use std::path::Path;
use std::process::Output;

mod support;
use support::kenshin;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `kenshin rules verify --dir DIR`.
fn verify_dir(dir: &Path) -> Output {
    kenshin(&["rules", "verify", "--dir", dir.to_str().expect("utf-8")])
}

fn copy_rules(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    std::fs::create_dir_all(to.join("fingerprints")).expect("mkdir");
    std::fs::copy(from.join("ports.toml"), to.join("ports.toml")).expect("ports.toml");
    std::fs::create_dir_all(to.join("tls")).expect("mkdir");
    std::fs::create_dir_all(to.join("requirements")).expect("mkdir");
    for e in std::fs::read_dir(from.join("requirements")).expect("requirements") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join("requirements").join(e.file_name())).expect("copy");
    }
    std::fs::copy(
        from.join("tls/ipa-profiles.toml"),
        to.join("tls/ipa-profiles.toml"),
    )
    .expect("ipa-profiles.toml");
    for e in std::fs::read_dir(from.join("fingerprints")).expect("fingerprints") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join("fingerprints").join(e.file_name())).expect("copy");
    }
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
    assert!(out.contains("ok   requirements: 7 frameworks"), "{out}");
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
        out.contains("FAIL fingerprints/ssh.toml: ssh.openssh: example 1"),
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
