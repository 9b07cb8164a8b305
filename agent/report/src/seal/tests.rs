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
