//! `kenshin rules verify` and the editions: it prints how many IDs of each registry
//! are unconfirmed, and refuses a tree in which an item of an edition whose numbering
//! is unconfirmed, or an item whose own words say it is unconfirmed, is not flagged.

use std::path::Path;
use std::process::Output;

mod support;
use support::kenshin;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A copy of the shipped rules tree in `to`.
fn copy_rules(to: &Path) {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("list").flatten() {
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

/// `rules verify --dir` on a copy of the tree with `file` edited by `edit`.
fn verify_edited(file: &str, edit: impl Fn(&str) -> String) -> Output {
    let dir = tempfile::tempdir().expect("temp");
    copy_rules(dir.path());
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit of {file} applies");
    std::fs::write(&path, edited).expect("write");
    kenshin(&[
        "rules",
        "verify",
        "--dir",
        dir.path().to_str().expect("utf-8"),
    ])
}

#[test]
fn rules_verify_prints_the_unconfirmed_ids_of_each_registry() {
    let o = kenshin(&["rules", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with("ok   requirements: "))
        .unwrap_or_else(|| panic!("{out}"));
    for part in [
        "10 registries, ",
        "mhlw-checklist-r8 20",
        "mhlw-guideline-7.0 18",
        "provider-guideline-2.0 6",
        "mhlw-checklist-r7 8",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
}

#[test]
fn an_unflagged_item_of_an_unconfirmed_edition_is_refused() {
    let o = verify_edited("requirements/mhlw-checklist-r8.toml", |t| {
        t.replacen(
            "evidence = [\"partial\"]\nunconfirmed = true\nmaps_to = [\"mhlw-checklist-r7:2-①\"",
            "evidence = [\"partial\"]\nmaps_to = [\"mhlw-checklist-r7:2-①\"",
            1,
        )
    });
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("FAIL requirements/mhlw-checklist-r8.toml:")
            && out.contains("rule 台帳管理: mhlw-checklist-r8 says its numbering is unconfirmed"),
        "{out}"
    );
}

#[test]
fn an_item_that_calls_itself_unconfirmed_but_is_not_flagged_is_refused() {
    let o = verify_edited("requirements/provider-guideline-2.0.toml", |t| {
        t.replace("numbering_unconfirmed = true\n", "").replacen(
            "evidence = [\"document\"]\nunconfirmed = true\n",
            "evidence = [\"document\"]\n",
            1,
        )
    });
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("rule 合意形成: its text says \"未確認\" but the item is not flagged"),
        "{out}"
    );
}
