use std::fs;

use super::*;

/// A sealed folder with a report, an HTML page and one evidence file.
fn sealed() -> (tempfile::TempDir, SigningKey) {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = SigningKey::load_or_create(&dir.path().join("key.pem")).expect("key");
    let folder = dir.path().join("report");
    fs::create_dir_all(folder.join("evidence")).expect("mkdir");
    fs::write(
        folder.join("report.json"),
        b"{\"contract\":\"kenshin.report/1\"}\n",
    )
    .expect("w");
    fs::write(folder.join("report.html"), "<p>健診</p>").expect("w");
    fs::write(folder.join("evidence/e-0001.txt"), b"220 hello\r\n").expect("w");
    seal_into(&folder, &key);
    (dir, key)
}

/// Seals `folder` with `key` and writes the manifest and signature into it.
fn seal_into(folder: &Path, key: &SigningKey) {
    let s = seal(
        folder,
        "scan-1",
        "2026-11-22T00:00:00Z",
        "kenshin 0.1.0",
        key,
    )
    .expect("sealed");
    fs::write(folder.join(MANIFEST), &s.json).expect("manifest written");
    fs::write(folder.join(SIGNATURE), &s.signature).expect("signature written");
}

fn folder(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("report")
}

#[test]
fn an_untouched_folder_verifies_and_lists_every_file() {
    let (dir, key) = sealed();
    let pin = KeyPin::Fingerprint(key.public().fingerprint());
    let v = verify(&folder(&dir), Some(&pin)).expect("verify runs");
    assert!(v.passed(), "{:?}", v.problems);
    assert!(v.pinned);
    assert_eq!(v.files_ok, 3);
    let m = v.manifest.expect("manifest");
    let paths: Vec<_> = m.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["evidence/e-0001.txt", "report.html", "report.json"]);
}

#[test]
fn any_single_byte_change_names_the_file() {
    for target in ["report.json", "report.html", "evidence/e-0001.txt"] {
        let (dir, _) = sealed();
        let path = folder(&dir).join(target);
        let mut bytes = fs::read(&path).expect("read");
        bytes[3] ^= 0x01;
        fs::write(&path, bytes).expect("write");
        let v = verify(&folder(&dir), None).expect("verify runs");
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        assert!(
            matches!(&v.problems[0], Problem::Changed { path, .. } if path == target),
            "{:?}",
            v.problems
        );
        let said = crate::labels::terminal::seal_problem(crate::Lang::En, &v.problems[0]);
        assert!(said.contains(target));
    }
}

#[test]
fn a_missing_or_added_file_fails() {
    let (dir, _) = sealed();
    fs::remove_file(folder(&dir).join("report.html")).expect("rm");
    fs::write(folder(&dir).join("evidence/extra.txt"), b"x").expect("w");
    let v = verify(&folder(&dir), None).expect("verify runs");
    assert_eq!(
        v.problems,
        vec![
            Problem::Added {
                path: "evidence/extra.txt".to_owned()
            },
            Problem::Missing {
                path: "report.html".to_owned()
            },
        ]
    );
}

#[test]
fn an_edited_manifest_or_signature_breaks_the_signature() {
    let (dir, _) = sealed();
    let m = folder(&dir).join(MANIFEST);
    let text = fs::read_to_string(&m).expect("read");
    fs::write(&m, text.replace("scan-1", "scan-2")).expect("w");
    let v = verify(&folder(&dir), None).expect("verify runs");
    assert_eq!(v.problems, vec![Problem::BadSignature]);

    let (dir, _) = sealed();
    let s = folder(&dir).join(SIGNATURE);
    let mut sig = fs::read(&s).expect("read");
    sig[0] ^= 0x80;
    fs::write(&s, sig).expect("w");
    let v = verify(&folder(&dir), None).expect("verify runs");
    assert_eq!(v.problems, vec![Problem::BadSignature]);
}

#[test]
fn a_folder_resealed_with_another_key_fails_only_when_the_key_is_pinned() {
    let (dir, original) = sealed();
    let other = SigningKey::load_or_create(&dir.path().join("other.pem")).expect("key");
    let f = folder(&dir);
    fs::write(f.join("report.html"), "<p>forged</p>").expect("w");
    fs::remove_file(f.join(MANIFEST)).expect("rm");
    fs::remove_file(f.join(SIGNATURE)).expect("rm");
    seal_into(&f, &other);
    assert!(verify(&f, None).expect("runs").passed());
    let pin = KeyPin::Key(original.public());
    let v = verify(&f, Some(&pin)).expect("runs");
    assert!(
        matches!(&v.problems[..], [Problem::WrongKey { expected, .. }] if *expected == original.public().fingerprint()),
        "{:?}",
        v.problems
    );
}

#[test]
fn an_unsealed_folder_or_a_path_escaping_manifest_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let v = verify(dir.path(), None).expect("runs");
    assert!(matches!(&v.problems[..], [Problem::NoManifest { .. }]));

    let (dir, _) = sealed();
    let m = folder(&dir).join(MANIFEST);
    let text = fs::read_to_string(&m).expect("read");
    fs::write(&m, text.replace("\"report.html\"", "\"../report.html\"")).expect("w");
    let v = verify(&folder(&dir), None).expect("runs");
    assert!(
        matches!(&v.problems[..], [Problem::BadManifest { reason }] if reason.contains("leaves the folder")),
        "{:?}",
        v.problems
    );
    assert!(verify(&dir.path().join("nope"), None).is_err());
}

#[test]
fn a_symbolic_link_in_the_folder_is_not_followed() {
    let (dir, _) = sealed();
    let f = folder(&dir);
    fs::remove_file(f.join("report.html")).expect("rm");
    std::os::unix::fs::symlink("/etc/hostname", f.join("report.html")).expect("link");
    let v = verify(&f, None).expect("runs");
    assert!(
        matches!(&v.problems[..], [Problem::Unreadable { path, .. }] if path == "report.html"),
        "{:?}",
        v.problems
    );
}

/// Seals `folder` with `key`, lets `edit` change the manifest, and writes the edited
/// manifest correctly signed: the folder a forger holding a key would make.
fn resign(folder: &Path, key: &SigningKey, edit: impl FnOnce(&mut Manifest)) {
    let _ = fs::remove_file(folder.join(MANIFEST));
    let _ = fs::remove_file(folder.join(SIGNATURE));
    let mut m = seal(
        folder,
        "scan-1",
        "2026-11-22T00:00:00Z",
        "kenshin 0.1.0",
        key,
    )
    .expect("sealed")
    .manifest;
    edit(&mut m);
    let mut json = serde_json::to_vec_pretty(&m).expect("json");
    json.push(b'\n');
    fs::write(folder.join(MANIFEST), &json).expect("manifest written");
    fs::write(folder.join(SIGNATURE), key.sign(&json)).expect("signature written");
}

#[test]
fn a_signed_manifest_listing_a_path_twice_is_refused() {
    let (dir, key) = sealed();
    let f = folder(&dir);
    resign(&f, &key, |m| {
        let mut wrong = m.files[2].clone();
        assert_eq!(wrong.path, "report.json");
        wrong.sha256 = "0".repeat(64);
        m.files.insert(2, wrong);
    });
    let pin = KeyPin::Key(key.public());
    let v = verify(&f, Some(&pin)).expect("runs");
    assert_eq!(
        v.problems,
        vec![Problem::Duplicate {
            path: "report.json".to_owned()
        }]
    );
    let said = crate::labels::terminal::seal_problem(crate::Lang::En, &v.problems[0]);
    assert!(said.contains("lists report.json more than once"), "{said}");
}

#[test]
fn a_path_with_an_empty_or_dot_part_is_refused() {
    for spelling in [
        "evidence//e-0001.txt",
        "evidence/./e-0001.txt",
        "./report.json",
    ] {
        let (dir, key) = sealed();
        let f = folder(&dir);
        resign(&f, &key, |m| m.files[0].path = spelling.to_owned());
        let v = verify(&f, None).expect("runs");
        assert!(
            matches!(&v.problems[..], [Problem::BadManifest { reason }] if reason.contains("plain form")),
            "{spelling}: {:?}",
            v.problems
        );
    }
}

#[test]
fn a_listed_size_that_is_not_the_files_size_is_refused() {
    let (dir, key) = sealed();
    let f = folder(&dir);
    resign(&f, &key, |m| m.files[1].bytes += 1);
    let v = verify(&f, Some(&KeyPin::Key(key.public()))).expect("runs");
    let real = fs::metadata(f.join("report.html")).expect("meta").len();
    assert_eq!(
        v.problems,
        vec![Problem::Resized {
            path: "report.html".to_owned(),
            listed: real + 1,
            found: real,
        }]
    );
    assert_eq!(v.files_ok, 2);
}

#[test]
fn names_that_differ_only_in_invalid_utf8_bytes_stay_apart() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, key) = sealed();
    let f = folder(&dir);
    // The sealed file's name is what a lossy reading makes of the added one's.
    fs::write(f.join("note\u{fffd}.txt"), b"same").expect("w");
    resign(&f, &key, |_| {});
    let raw = std::ffi::OsStr::from_bytes(b"note\xff.txt");
    fs::write(f.join(raw), b"same").expect("w");
    let v = verify(&f, Some(&KeyPin::Key(key.public()))).expect("runs");
    assert_eq!(
        v.problems,
        vec![Problem::Added {
            path: "note\\xff.txt".to_owned()
        }]
    );
}

#[test]
fn sealing_refuses_a_name_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, key) = sealed();
    let f = folder(&dir);
    fs::write(f.join(std::ffi::OsStr::from_bytes(b"evidence/\xfe")), b"x").expect("w");
    let e = seal(&f, "s", "t", "kenshin", &key).expect_err("not UTF-8");
    assert!(matches!(e, SealError::NotUtf8Name { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("evidence/\\xfe: the name is not UTF-8"),
        "{e}"
    );
}

#[test]
fn a_manifest_or_signature_that_is_a_link_is_refused_even_to_a_true_copy() {
    for name in [MANIFEST, SIGNATURE] {
        let (dir, key) = sealed();
        let f = folder(&dir);
        let outside = dir.path().join(format!("copy-of-{name}"));
        fs::rename(f.join(name), &outside).expect("mv");
        std::os::unix::fs::symlink(&outside, f.join(name)).expect("link");
        let v = verify(&f, Some(&KeyPin::Key(key.public()))).expect("runs");
        let reason = match &v.problems[..] {
            [Problem::NoManifest { reason }] | [Problem::NoSignature { reason }] => reason,
            other => panic!("{name}: {other:?}"),
        };
        assert!(
            reason.contains("symbolic link, not a regular file"),
            "{reason}"
        );
    }
}

#[test]
fn a_fifo_manifest_or_signature_is_refused_at_once() {
    for name in [MANIFEST, SIGNATURE] {
        let (dir, _) = sealed();
        let f = folder(&dir);
        fs::remove_file(f.join(name)).expect("rm");
        let made = std::process::Command::new("mkfifo")
            .arg(f.join(name))
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let v = verify(&f, None).expect("runs");
        let said: Vec<_> = v
            .problems
            .iter()
            .map(|p| crate::labels::terminal::seal_problem(crate::Lang::En, p))
            .collect();
        assert!(
            said[0].contains(name) && said[0].contains("FIFO"),
            "{said:?}"
        );
    }
}

/// A sealed folder whose report.json and report.html name `key` as their signer, as
/// the bundle writes them.
fn sealed_report(key: &SigningKey) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let f = folder(&dir);
    fs::create_dir_all(&f).expect("mkdir");
    let fp = key.public().fingerprint();
    fs::write(
        f.join("report.json"),
        format!("{{\"contract\":\"kenshin.report/1\",\"signing\":{{\"algorithm\":\"ed25519\",\"fingerprint\":\"{fp}\",\"manifest\":\"manifest.json\"}}}}\n"),
    )
    .expect("w");
    fs::write(
        f.join("report.html"),
        format!("<dl><dt>Signing key</dt><dd>ed25519 <code>{fp}</code> (…)</dd></dl>"),
    )
    .expect("w");
    seal_into(&f, key);
    dir
}

#[test]
fn a_folder_sealed_again_by_another_key_fails_without_a_pin_naming_both_keys() {
    let keys = tempfile::tempdir().expect("temp dir");
    let original = SigningKey::load_or_create(&keys.path().join("a.pem")).expect("key");
    let forger = SigningKey::load_or_create(&keys.path().join("b.pem")).expect("key");
    let dir = sealed_report(&original);
    let f = folder(&dir);
    assert!(verify(&f, None).expect("runs").passed());
    resign(&f, &forger, |_| {});
    let v = verify(&f, None).expect("runs");
    let (a, b) = (
        original.public().fingerprint(),
        forger.public().fingerprint(),
    );
    assert_eq!(
        v.problems,
        vec![
            Problem::SignerDiffers {
                file: "report.html".to_owned(),
                recorded: a.clone(),
                signer: b.clone(),
            },
            Problem::SignerDiffers {
                file: "report.json".to_owned(),
                recorded: a,
                signer: b,
            },
        ]
    );
}

#[test]
fn a_tree_too_deep_is_refused_saying_why() {
    let (dir, key) = sealed();
    let mut deep = folder(&dir);
    for _ in 0..=MAX_DEPTH {
        deep.push("d");
    }
    fs::create_dir_all(&deep).expect("mkdir");
    fs::write(deep.join("x"), b"x").expect("w");
    let e = verify(&folder(&dir), None).expect_err("too deep");
    assert!(
        e.to_string()
            .contains(&format!("nested more than {MAX_DEPTH} folders deep")),
        "{e}"
    );
    let e = seal(&folder(&dir), "s", "t", "kenshin", &key).expect_err("too deep");
    assert!(matches!(e, SealError::TooDeep { .. }), "{e}");
}

mod archive_members {
    use std::io::Write;

    use super::*;
    use crate::archive::{self, read, write};
    use crate::model::{Evidence, Payload};

    fn record(id: &str, received: &str) -> Evidence {
        Evidence {
            id: id.to_owned(),
            host: "198.18.2.10".to_owned(),
            port: Some(21),
            protocol: Some("tcp".to_owned()),
            probe: "banner".to_owned(),
            at: "2026-11-22T00:00:00Z".to_owned(),
            sent: Payload::default(),
            received: Payload::from_base64(received),
            truncated: false,
            redacted: Vec::new(),
            note: "greeting".to_owned(),
            exchange: Vec::new(),
        }
    }

    /// A sealed folder whose evidence is an archive of three records.
    fn sealed_archive() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = SigningKey::load_or_create(&dir.path().join("key.pem")).expect("key");
        let folder = dir.path().join("report");
        fs::create_dir_all(&folder).expect("mkdir");
        fs::write(folder.join("report.json"), b"{}\n").expect("w");
        let packed = write::pack(&[
            record("ev-000001", "MjIwIGhlbGxvDQo="),
            record("ev-000002", "MjIwIGhlbGxvDQo="),
            record("ev-000003", "U1NILTIuMC1PcGVuU1NIXzcuNA0K"),
        ])
        .expect("packed");
        fs::write(folder.join(archive::ARCHIVE), &packed.archive).expect("w");
        fs::write(folder.join(archive::INDEX), &packed.index).expect("w");
        seal_into(&folder, &key);
        (dir, folder)
    }

    /// Rewrites the archive's member lines through `edit` and compresses them again.
    fn rewrite(folder: &Path, edit: impl FnOnce(&mut Vec<Vec<u8>>)) {
        let path = folder.join(archive::ARCHIVE);
        let mut lines = Vec::new();
        let mut m = read::members(&path).expect("opens");
        while let Some(member) = m.next_member().expect("member") {
            lines.push(member.line);
        }
        edit(&mut lines);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for l in &lines {
            gz.write_all(l).expect("gz");
            gz.write_all(b"\n").expect("gz");
        }
        fs::write(&path, gz.finish().expect("gz")).expect("w");
    }

    fn problems(folder: &Path) -> Vec<Problem> {
        let v = verify(folder, None).expect("verify runs");
        v.problems
            .into_iter()
            .filter(|p| !matches!(p, Problem::Changed { .. } | Problem::Resized { .. }))
            .collect()
    }

    #[test]
    fn an_untouched_archive_verifies_without_being_read() {
        let (_dir, folder) = sealed_archive();
        let v = verify(&folder, None).expect("verify runs");
        assert!(v.passed(), "{:?}", v.problems);
        assert_eq!(v.files_ok, 3);
    }

    #[test]
    fn a_changed_record_is_named_by_its_id() {
        let (_dir, folder) = sealed_archive();
        rewrite(&folder, |lines| {
            let i = lines
                .iter()
                .position(|l| l.starts_with(b"{\"id\":\"ev-000002\""))
                .expect("ev-000002");
            let text = String::from_utf8(lines[i].clone()).expect("utf-8");
            lines[i] = text.replace("greeting", "greetinG").into_bytes();
        });
        let v = verify(&folder, None).expect("verify runs");
        assert!(
            v.problems
                .iter()
                .any(|p| matches!(p, Problem::Changed { path, .. }
                | Problem::Resized { path, .. } if path == archive::ARCHIVE)),
            "{:?}",
            v.problems
        );
        let named = problems(&folder);
        assert_eq!(
            named,
            vec![Problem::MemberChanged {
                archive: archive::ARCHIVE.to_owned(),
                member: "ev-000002".to_owned(),
                record: true,
            }]
        );
        let said = crate::labels::terminal::seal_problem(crate::Lang::En, &named[0]);
        assert!(said.contains("evidence record ev-000002"), "{said}");
    }

    #[test]
    fn an_added_and_a_removed_member_are_named() {
        let (_dir, folder) = sealed_archive();
        rewrite(&folder, |lines| {
            lines.retain(|l| !l.starts_with(b"{\"id\":\"ev-000003\""));
            lines.push(br#"{"chunk":"c99","base64":"AAAA"}"#.to_vec());
        });
        assert_eq!(
            problems(&folder),
            vec![
                Problem::MemberAdded {
                    archive: archive::ARCHIVE.to_owned(),
                    member: "c99".to_owned(),
                },
                Problem::MemberMissing {
                    archive: archive::ARCHIVE.to_owned(),
                    member: "ev-000003".to_owned(),
                },
            ]
        );
    }

    #[test]
    fn a_corrupt_archive_says_it_cannot_be_read_through_and_a_changed_list_says_so() {
        let (_dir, folder) = sealed_archive();
        let path = folder.join(archive::ARCHIVE);
        let mut bytes = fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        fs::write(&path, &bytes).expect("w");
        let named = problems(&folder);
        assert!(
            matches!(named.as_slice(), [Problem::ArchiveUnreadable { .. }, ..]),
            "{named:?}"
        );
        fs::write(folder.join(archive::INDEX), b"x").expect("w");
        let named = problems(&folder);
        assert!(
            matches!(named.as_slice(), [Problem::ArchiveUnreadable { reason, .. }]
                if reason.contains("member list")),
            "{named:?}"
        );
    }
}
