//! Architecture checks that need neither root nor a network, so they run in plain
//! `cargo test` (and in tests/run):
//!
//! - the workspace's crates depend only downwards (kenshin → fleet → daemon →
//!   engine → report → assess → probe → wire; [`layers`]);
//! - no crate of the workspace (`agent/*` and the lab) has an import cycle among
//!   sibling modules, at any depth ([`modules`] reads the sources, [`cycles`] finds the cycles).
//!
//! [`checker`] proves on small in-memory crates that the checks can fail.

mod checker;
mod cycles;
mod layers;
mod modules;

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from(".."))
}

#[test]
fn crates_depend_only_downwards() {
    let packages = layers::workspace(&workspace_root()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        packages.iter().any(|p| p.name == "kenshin-wire"),
        "cargo metadata listed no kenshin-wire: {packages:?}"
    );
    let bad = layers::violations(&packages);
    assert!(bad.is_empty(), "crates depend upwards:\n{}", bad.join("\n"));
}

#[test]
fn no_crate_has_a_module_cycle() {
    let root = workspace_root();
    let packages = layers::workspace(&root).unwrap_or_else(|e| panic!("{e}"));
    let mut checked = Vec::new();
    let mut report = String::new();
    // Every crate of the workspace: agent/* and the lab's library and binary.
    for p in &packages {
        for target in &p.roots {
            // Paths relative to the workspace, so the report reads agent/…/x.rs:12.
            let target = target.strip_prefix(&root).unwrap_or(target);
            let krate = modules::load(target, &|f| std::fs::read_to_string(root.join(f)).ok())
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert!(
                !krate.references.is_empty() || krate.modules.len() == 1,
                "{}: {} modules and not one reference between them: the reader is broken",
                p.name,
                krate.modules.len()
            );
            for cycle in cycles::find(&krate) {
                report.push_str(&format!("{} ({}): {cycle}", p.name, target.display()));
            }
            checked.push(format!("{} ({} modules)", p.name, krate.modules.len()));
        }
    }
    assert!(
        checked.len() >= 5,
        "only these crates were checked: {checked:?}"
    );
    eprintln!("checked for module cycles: {}", checked.join(", "));
    assert!(report.is_empty(), "module import cycles:\n{report}");
}
