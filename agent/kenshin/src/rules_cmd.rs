//! `kenshin rules verify`: the self-test of the rule data, as users and rule
//! authors run it. The test suite runs the same checks on the shipped rules.

use std::path::Path;

use anyhow::Context;
use kenshin_assess::fingerprint::FingerprintSet;
use kenshin_assess::requirements::Registry;
use kenshin_assess::tls::ProfileSet;
use kenshin_probe::ports::PortCatalog;

use crate::cli::VerifyArgs;

/// Checks the port catalog, the fingerprints, the TLS guideline profiles and the
/// requirement registries; returns exit code 0 or 1.
pub(crate) fn verify(args: &VerifyArgs) -> anyhow::Result<u8> {
    let (catalog, fingerprints) = match &args.dir {
        None => (
            PortCatalog::builtin().map_err(anyhow::Error::from),
            FingerprintSet::builtin(),
        ),
        Some(dir) => (
            load_catalog(dir),
            FingerprintSet::load_dir(&dir.join("fingerprints")),
        ),
    };
    let source = args
        .dir
        .as_ref()
        .map_or_else(|| "built-in rules".to_owned(), |d| d.display().to_string());
    let mut failed = false;
    match catalog {
        Ok(c) => println!(
            "ok   ports.toml: {} ports, version {}",
            c.entries.len(),
            c.version
        ),
        Err(e) => {
            failed = true;
            println!("FAIL ports.toml: {e}");
        }
    }
    match fingerprints {
        Err(problems) => {
            failed = true;
            for p in problems {
                println!("FAIL fingerprints/{p}");
            }
        }
        Ok(set) => match set.verify() {
            Ok(v) => println!(
                "ok   fingerprints: {} entries in {} files; {} examples and {} counterexamples \
                 hold, none shadowed",
                v.fingerprints, v.files, v.examples, v.counterexamples
            ),
            Err(problems) => {
                failed = true;
                for p in problems {
                    println!("FAIL fingerprints/{p}");
                }
            }
        },
    }
    let profiles = match &args.dir {
        None => ProfileSet::builtin().map_err(anyhow::Error::from),
        Some(dir) => load_profiles(dir),
    };
    match profiles {
        Ok(p) => println!(
            "ok   tls/ipa-profiles.toml: {} profiles ({} {})",
            p.profile.len(),
            p.source.title_ja,
            p.source.edition
        ),
        Err(e) => {
            failed = true;
            println!("FAIL tls/ipa-profiles.toml: {e:#}");
        }
    }
    let registry = match &args.dir {
        None => Registry::builtin(),
        Some(dir) => Registry::load_dir(&dir.join("requirements")),
    };
    match registry {
        Ok(r) => {
            let v = r.verified();
            println!(
                "ok   requirements: {} frameworks, {} items ({} marked unconfirmed), {} mappings \
                 between frameworks and editions resolve",
                v.frameworks, v.requirements, v.unconfirmed, v.mappings
            );
        }
        Err(problems) => {
            failed = true;
            for p in problems {
                println!("FAIL requirements/{p}");
            }
        }
    }
    if failed {
        eprintln!("kenshin: the rules in {source} have problems (listed above)");
        Ok(1)
    } else {
        println!("all rules in {source} verified");
        Ok(0)
    }
}

fn load_profiles(dir: &Path) -> Result<ProfileSet, anyhow::Error> {
    let path = dir.join("tls/ipa-profiles.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    ProfileSet::parse(&text).with_context(|| format!("in {}", path.display()))
}

fn load_catalog(dir: &Path) -> Result<PortCatalog, anyhow::Error> {
    let path = dir.join("ports.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    PortCatalog::parse(&text).with_context(|| format!("in {}", path.display()))
}
