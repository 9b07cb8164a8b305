//! The local rule overlay: what an administrator carried into a closed network and
//! kenshin judges with instead of (or on top of) its built-in rules.
//!
//! Where: `$KENSHIN_RULES_DIR`, else `/var/lib/kenshin/rules` for root, else
//! `~/.local/share/kenshin/rules`. Layout:
//!
//! | path | what |
//! | --- | --- |
//! | `kev/known_exploited_vulnerabilities.json` | the newest imported CISA KEV catalog, byte for byte |
//! | `packs/<version>-<hash>/` | an installed pack's rules tree, and `pack.json` (its manifest and publisher) |
//! | `packs/state.json` | which installed pack is active and which was active before |
//!
//! Every change is a file written beside its target, fsynced and renamed over it (then
//! the folder fsynced): a reader sees the old state or the new, never half of one. An
//! install unpacks and verifies in a staging folder; only the rename of `state.json`
//! activates it, so a refused pack leaves the overlay as it was (its staging folder is
//! removed).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use kenshin_assess::advisory::version;
use kenshin_assess::kev::{Catalog, ProductMap, MAX_CATALOG, PRODUCTS_FILE};
use kenshin_assess::RulePack;
use kenshin_files::Follow;
use serde::{Deserialize, Serialize};

use crate::signed_pack::{Manifest, Opened};

/// The environment variable that moves the overlay.
pub const ENV: &str = "KENSHIN_RULES_DIR";

/// The overlay of root.
pub const SYSTEM_DIR: &str = "/var/lib/kenshin/rules";

/// The largest state or pack description file read.
const MAX_STATE: u64 = 1 << 20;

/// The largest rule file of an installed pack read back.
const MAX_RULE_FILE: u64 = 16 << 20;

const KEV_DIR: &str = "kev";
const KEV_FILE: &str = "known_exploited_vulnerabilities.json";
const PACKS_DIR: &str = "packs";
const STATE_FILE: &str = "state.json";
const PACK_FILE: &str = "pack.json";
const TREE_DIR: &str = "tree";

/// One installed pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Installed {
    /// Its folder under `packs/`.
    pub dir: String,
    pub version: String,
    /// The publisher key's fingerprint.
    pub publisher: String,
    /// When the pack was made.
    pub date: String,
}

/// Which pack is active (none: the built-in rules) and which was before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub active: Option<Installed>,
    /// True once something was activated over something else.
    pub has_previous: bool,
    pub previous: Option<Installed>,
}

/// What an import did.
#[derive(Debug)]
pub enum Imported {
    /// The catalog is now the one applied.
    New { replaced: Option<String> },
    /// The same release was imported before; nothing changed.
    AlreadyThere,
}

/// The overlay folder.
#[derive(Debug, Clone)]
pub struct Overlay {
    root: PathBuf,
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// Writes `bytes` to `dir/name` atomically: a temporary file beside it, fsynced,
/// renamed over it, the folder fsynced.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let target = dir.join(name);
    let written = (|| -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &target)?;
        fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", target.display()));
    }
    Ok(())
}

impl Overlay {
    /// `$KENSHIN_RULES_DIR`, else the system's (root) or the user's overlay.
    pub fn locate() -> Overlay {
        if let Some(p) = std::env::var_os(ENV).filter(|p| !p.is_empty()) {
            return Overlay::at(PathBuf::from(p));
        }
        if is_root() {
            return Overlay::at(PathBuf::from(SYSTEM_DIR));
        }
        let data = std::env::var_os("XDG_DATA_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        Overlay::at(data.join("kenshin/rules"))
    }

    pub fn at(root: PathBuf) -> Overlay {
        Overlay { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn kev_path(&self) -> PathBuf {
        self.root.join(KEV_DIR).join(KEV_FILE)
    }

    fn packs(&self) -> PathBuf {
        self.root.join(PACKS_DIR)
    }

    /// The imported KEV catalog, if any.
    pub fn kev(&self) -> anyhow::Result<Option<Catalog>> {
        let path = self.kev_path();
        if !path.exists() {
            return Ok(None);
        }
        let bytes = kenshin_files::read(&path, MAX_CATALOG, Follow::No)?;
        let catalog = Catalog::parse(&bytes).with_context(|| {
            format!(
                "the imported KEV catalog {} is damaged; import the catalog again",
                path.display()
            )
        })?;
        Ok(Some(catalog))
    }

    /// Imports the catalog file at `path`: refused if malformed or older than the
    /// imported one (nothing changes then).
    pub fn import_kev(&self, path: &Path) -> anyhow::Result<(Catalog, Imported)> {
        let bytes = kenshin_files::read(path, MAX_CATALOG, Follow::Yes)?;
        let catalog =
            Catalog::parse(&bytes).with_context(|| format!("{} is refused", path.display()))?;
        let current = self.kev()?;
        if let Some(c) = &current {
            if catalog.same_release(c) {
                return Ok((catalog, Imported::AlreadyThere));
            }
            if !catalog.is_newer_than(c) {
                bail!(
                    "{} is refused: its catalogVersion {} (dateReleased {}) is older than the \
                     imported {} (dateReleased {})",
                    path.display(),
                    catalog.version,
                    catalog.released,
                    c.version,
                    c.released
                );
            }
        }
        write_atomic(&self.root.join(KEV_DIR), KEV_FILE, &bytes)?;
        Ok((
            catalog,
            Imported::New {
                replaced: current.map(|c| c.version),
            },
        ))
    }

    /// Which pack is active.
    pub fn state(&self) -> anyhow::Result<State> {
        let path = self.packs().join(STATE_FILE);
        if !path.exists() {
            return Ok(State::default());
        }
        let bytes = kenshin_files::read(&path, MAX_STATE, Follow::No)?;
        serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display()))
    }

    /// The rules tree of an installed pack.
    pub fn tree(&self, pack: &Installed) -> PathBuf {
        self.packs().join(&pack.dir).join(TREE_DIR)
    }

    /// The active pack's rules and mapping table, loaded; `None` for the built-in rules.
    pub fn load_active(&self) -> anyhow::Result<Option<(Installed, RulePack, ProductMap)>> {
        let Some(active) = self.state()?.active else {
            return Ok(None);
        };
        let tree = self.tree(&active);
        let pack = RulePack::load_dir(&tree).map_err(|p| {
            anyhow::anyhow!(
                "the installed rule pack {} in {} cannot be loaded: {p}",
                active.version,
                tree.display()
            )
        })?;
        let products = products_of(&tree)?;
        Ok(Some((active, pack, products)))
    }

    /// Verifies `opened` in a staging folder and activates it. Refused (and nothing
    /// changed) if it is not newer than the active pack, unless `allow_downgrade`, or
    /// if its rules do not load and verify.
    pub fn install(&self, opened: &Opened, allow_downgrade: bool) -> anyhow::Result<Installed> {
        let state = self.state()?;
        let m = &opened.manifest;
        if let Some(active) = &state.active {
            let order = version::compare(&m.version, &active.version);
            if order != std::cmp::Ordering::Greater && !allow_downgrade {
                bail!(
                    "pack version {} is not newer than the active {} (to go back on purpose, \
                     use --allow-downgrade or `kenshin rules rollback`)",
                    m.version,
                    active.version
                );
            }
        }
        let hash = manifest_hash(m)?;
        let dir = format!("{}-{}", m.version, &hash[..12]);
        let packs = self.packs();
        fs::create_dir_all(&packs).with_context(|| format!("cannot create {}", packs.display()))?;
        let staging = packs.join(format!(".staging-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        let staged = stage(&staging, opened).and_then(|()| verify_tree(&staging.join(TREE_DIR)));
        if let Err(e) = staged {
            let _ = fs::remove_dir_all(&staging);
            return Err(e.context(format!("pack {} is refused", m.version)));
        }
        let final_dir = packs.join(&dir);
        if final_dir.exists() {
            // The same pack installed before (and rolled back from): its files are these.
            let _ = fs::remove_dir_all(&staging);
        } else {
            fs::rename(&staging, &final_dir)
                .with_context(|| format!("cannot move the pack to {}", final_dir.display()))?;
            fs::File::open(&packs).and_then(|d| d.sync_all())?;
        }
        let installed = Installed {
            dir,
            version: m.version.clone(),
            publisher: opened.publisher.clone(),
            date: m.date.clone(),
        };
        let next = State {
            active: Some(installed.clone()),
            has_previous: true,
            previous: state.active,
        };
        self.write_state(&next)?;
        self.prune(&next);
        Ok(installed)
    }

    /// Makes the previous pack (or the built-in rules) active again; running it twice
    /// returns to where it was.
    pub fn rollback(&self) -> anyhow::Result<State> {
        let state = self.state()?;
        if !state.has_previous {
            bail!(
                "nothing to roll back to: no pack was activated over another in {}",
                self.packs().display()
            );
        }
        let next = State {
            active: state.previous,
            has_previous: true,
            previous: state.active,
        };
        self.write_state(&next)?;
        Ok(next)
    }

    fn write_state(&self, state: &State) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(state)?;
        write_atomic(&self.packs(), STATE_FILE, &bytes)
    }

    /// Removes installed packs that are neither active nor previous.
    fn prune(&self, state: &State) {
        let keep: Vec<&str> = [&state.active, &state.previous]
            .into_iter()
            .flatten()
            .map(|p| p.dir.as_str())
            .collect();
        let Ok(entries) = fs::read_dir(self.packs()) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() && !name.starts_with('.') && !keep.contains(&name.as_str()) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

fn manifest_hash(m: &Manifest) -> anyhow::Result<String> {
    let text = serde_json::to_vec(m)?;
    Ok(ring::digest::digest(&ring::digest::SHA256, &text)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Writes the pack's files under `staging/tree/` and its description beside them.
fn stage(staging: &Path, opened: &Opened) -> anyhow::Result<()> {
    let tree = staging.join(TREE_DIR);
    for (path, text) in &opened.files {
        let target = tree.join(path);
        let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
            bail!("{path}: not a file path");
        };
        write_atomic(dir, &name.to_string_lossy(), text.as_bytes())?;
    }
    let description = serde_json::to_vec_pretty(&(&opened.manifest, &opened.publisher))?;
    write_atomic(staging, PACK_FILE, &description)
}

/// The mapping table of a rules tree: its `kev-products.toml`, else none.
pub fn products_of(tree: &Path) -> anyhow::Result<ProductMap> {
    let path = tree.join(PRODUCTS_FILE);
    if !path.exists() {
        return Ok(ProductMap::default());
    }
    let text = kenshin_files::read_text(&path, MAX_RULE_FILE, Follow::No)?;
    ProductMap::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", tree.display()))
}

/// Loads the tree and runs every self-test (`kenshin rules verify`) and the mapping
/// table's checks.
pub fn verify_tree(tree: &Path) -> anyhow::Result<()> {
    let pack =
        RulePack::load_dir(tree).map_err(|p| anyhow::anyhow!("its rules do not load: {p}"))?;
    let v = pack.verify();
    if !v.is_ok() {
        let problems: Vec<String> = v.problems().map(ToString::to_string).collect();
        bail!("its rules fail verification:\n{}", problems.join("\n"));
    }
    products_of(tree)?
        .verify(&pack.registry)
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::signed_pack;

    fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut todo = vec![dir.to_owned()];
        while let Some(d) = todo.pop() {
            for e in fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    todo.push(e.path());
                } else {
                    out.push((e.path(), fs::read(e.path()).unwrap_or_default()));
                }
            }
        }
        out.sort();
        out
    }

    fn builtin_files() -> BTreeMap<String, String> {
        let pack = RulePack::builtin().unwrap_or_else(|p| panic!("{p}"));
        pack.sources()
            .iter()
            .map(|s| (s.path.clone(), s.text.clone()))
            .collect()
    }

    #[test]
    fn a_signed_pack_whose_rules_fail_verification_is_refused_and_changes_nothing() {
        let tmp = tempfile::tempdir().expect("tmp");
        let key = kenshin_report::seal::SigningKey::load_or_create(&tmp.path().join("k.pem"))
            .expect("key");
        let pin = key.public().fingerprint();
        let overlay = Overlay::at(tmp.path().join("overlay"));
        assert!(overlay.rollback().is_err(), "nothing to roll back to");

        let good = signed_pack::build(&builtin_files(), "1.0", "2026-07-01T00:00:00Z", &key)
            .expect("built");
        let opened = signed_pack::open(&good, &pin).expect("opens");
        overlay.install(&opened, false).expect("installs");
        let before = snapshot(overlay.root());

        // A check that fires on the noise corpus: signed, but not valid rules.
        let mut files = builtin_files();
        let broken = files
            .iter()
            .find(|(p, _)| p.starts_with("checks/"))
            .map(|(p, _)| p.clone())
            .expect("a checks file");
        files.insert(broken.clone(), "[[check]]\nid = 1\n".to_owned());
        let bad = signed_pack::build(&files, "2.0", "2026-07-02T00:00:00Z", &key).expect("built");
        let opened = signed_pack::open(&bad, &pin).expect("signature holds");
        let e = overlay.install(&opened, false).expect_err("refused");
        assert!(format!("{e:#}").contains(&broken), "{e:#}");
        assert_eq!(snapshot(overlay.root()), before);
        assert_eq!(
            overlay.state().expect("state").active.map(|a| a.version),
            Some("1.0".to_owned())
        );
    }
}
