//! The workspace's crates as `cargo metadata` lists them, and the rule that they
//! depend only downwards.
//!
//! The stack, top to bottom, is [`STACK`]. A crate may depend on any crate below
//! it (skipping levels is fine) and on none above it or beside it; dev- and
//! build-dependencies count too, since a test that reaches up ties the layers
//! together just the same. Crates of the stack that do not exist yet are simply
//! absent. A workspace crate outside the stack must be named in [`OUTSIDE`], so a
//! new crate gets a place on purpose; no crate of the stack may depend on one.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The layers, top first.
pub(crate) const STACK: [&str; 9] = [
    "kenshin",
    "kenshin-fleet",
    "kenshin-daemon",
    "kenshin-engine",
    "kenshin-report",
    "kenshin-assess",
    "kenshin-probe",
    "kenshin-wire",
    // reading handed-in files with a byte limit: a leaf any layer may use
    "kenshin-files",
];

/// Workspace crates that are not part of the product's stack.
pub(crate) const OUTSIDE: [&str; 1] = [
    // the network-namespace lab and its tests; it runs the binary, it links nothing
    "kenshin-lab",
];

/// One workspace crate.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub(crate) name: String,
    /// Dependencies on other crates, with their kind (`normal`, `dev`, `build`).
    pub(crate) dependencies: Vec<(String, String)>,
    /// Root files of the library and binary targets.
    pub(crate) roots: Vec<PathBuf>,
}

/// The workspace's crates, from `cargo metadata --no-deps`.
pub(crate) fn workspace(root: &Path) -> Result<Vec<Package>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run {cargo} metadata in {}: {e}", root.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{cargo} metadata failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let json: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
    let packages = json["packages"]
        .as_array()
        .ok_or("cargo metadata has no packages array")?;
    packages.iter().map(package).collect()
}

fn package(p: &Value) -> Result<Package, String> {
    let text = |v: &Value, what: &str| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("cargo metadata: a package without {what}: {p}"))
    };
    let name = text(&p["name"], "name")?;
    let dependencies = p["dependencies"]
        .as_array()
        .map(|deps| {
            deps.iter()
                .filter_map(|d| {
                    let kind = d["kind"].as_str().unwrap_or("normal");
                    Some((d["name"].as_str()?.to_owned(), kind.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let roots = p["targets"]
        .as_array()
        .map(|targets| {
            targets
                .iter()
                .filter(|t| {
                    t["kind"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k == "lib" || k == "bin"))
                })
                .filter_map(|t| t["src_path"].as_str().map(PathBuf::from))
                .collect()
        })
        .unwrap_or_default();
    Ok(Package {
        name,
        dependencies,
        roots,
    })
}

/// Every dependency that breaks the layering, as a sentence; empty when the
/// workspace is layered.
pub(crate) fn violations(packages: &[Package]) -> Vec<String> {
    let level = |name: &str| STACK.iter().position(|s| *s == name);
    let ours = |name: &str| packages.iter().any(|p| p.name == name);
    let mut bad = Vec::new();
    for p in packages {
        let Some(mine) = level(&p.name) else {
            if !OUTSIDE.contains(&p.name.as_str()) {
                bad.push(format!(
                    "{} is a workspace crate outside the stack {STACK:?}: give it a layer \
                     (tests/architecture/layers.rs) or list it as outside the stack",
                    p.name
                ));
            }
            continue;
        };
        for (dep, kind) in &p.dependencies {
            if !ours(dep) {
                continue;
            }
            match level(dep) {
                Some(theirs) if theirs > mine => {}
                Some(_) => bad.push(format!(
                    "{} depends on {dep} ({kind}), which is not below it in {STACK:?}",
                    p.name
                )),
                None => bad.push(format!(
                    "{} depends on {dep} ({kind}), which is outside the stack",
                    p.name
                )),
            }
        }
    }
    bad
}
