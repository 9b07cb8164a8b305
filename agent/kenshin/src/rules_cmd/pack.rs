//! `kenshin rules pack`: the rules tree (built in, or `--dir`) as one signed pack file
//! (`kenshin_engine::signed_pack`), written atomically beside its target.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use kenshin_assess::kev::{BUILTIN_PRODUCTS, PRODUCTS_FILE};
use kenshin_assess::RulePack;
use kenshin_engine::signed_pack;
use kenshin_files::Follow;
use kenshin_report::seal::SigningKey;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::cli::PackArgs;
use crate::say::say;

/// The largest rule file packed.
const MAX_RULE_FILE: u64 = 16 << 20;

pub(super) fn run(args: &PackArgs) -> anyhow::Result<u8> {
    let key = SigningKey::load(&args.signing_key)?;
    let files = match &args.dir {
        None => builtin_files()?,
        Some(dir) => dir_files(dir)?,
    };
    // A pack that would be refused on install is refused here already.
    let staging = tempdir_for(&args.output)?;
    for (path, text) in &files {
        let target = staging.path().join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text)?;
    }
    kenshin_engine::rules_home::verify_tree(staging.path())
        .context("the rules to pack do not verify (run `kenshin rules verify`)")?;
    let now = OffsetDateTime::now_utc();
    let version = match &args.version {
        Some(v) => v.clone(),
        None => format!(
            "{:04}.{:02}.{:02}",
            now.year(),
            u8::from(now.month()),
            now.day()
        ),
    };
    let bytes = signed_pack::build(&files, &version, &now.format(&Rfc3339)?, &key)?;
    write_beside(&args.output, &bytes)?;
    say!(
        "{}: rule pack {version}, {} files, signed by {}",
        args.output.display(),
        files.len(),
        key.public().fingerprint()
    );
    Ok(0)
}

fn tempdir_for(output: &Path) -> anyhow::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("kenshin-pack-")
        .tempdir()
        .with_context(|| format!("cannot stage the pack for {}", output.display()))
}

/// The rules compiled into this kenshin, as the tree's files.
fn builtin_files() -> anyhow::Result<BTreeMap<String, String>> {
    let mut files: BTreeMap<String, String> = RulePack::builtin()
        .map_err(|p| anyhow::anyhow!("the built-in rules do not load: {p}"))?
        .sources()
        .iter()
        .map(|s| (s.path.clone(), s.text.clone()))
        .collect();
    files.insert(PRODUCTS_FILE.to_owned(), BUILTIN_PRODUCTS.to_owned());
    Ok(files)
}

/// Every `.toml` file of the tree at `dir` (regular files, three levels at most).
fn dir_files(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![(dir.to_owned(), String::new())];
    while let Some((folder, prefix)) = todo.pop() {
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read {}", folder.display()))?;
        for e in entries {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            let kind = e.file_type()?;
            if name.starts_with('.') {
                continue;
            }
            if kind.is_dir() {
                if prefix.matches('/').count() >= 2 {
                    bail!(
                        "{}: rules trees are at most three levels deep",
                        e.path().display()
                    );
                }
                todo.push((e.path(), format!("{rel}/")));
            } else if name.ends_with(".toml") {
                if !signed_pack::valid_path(&rel) {
                    bail!("{}: not a plain rule file name", e.path().display());
                }
                let text = kenshin_files::read_text(&e.path(), MAX_RULE_FILE, Follow::No)?;
                files.insert(rel, text);
            }
        }
    }
    if files.is_empty() {
        bail!("{} holds no rule files", dir.display());
    }
    Ok(files)
}

/// Writes `bytes` to `path` through a temporary file in the same folder.
fn write_beside(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
