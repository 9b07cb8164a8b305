//! `kenshin rules verify`: the self-test of the rule data, as users and rule
//! authors run it. The test suite runs the same checks on the shipped rules.

use std::path::Path;

use anyhow::Context;
use kenshin_assess::advisory::AdvisorySet;
use kenshin_assess::checks::{parse_noise, CheckSet};
use kenshin_assess::fingerprint::FingerprintSet;
use kenshin_assess::requirements::Registry;
use kenshin_assess::tls::ProfileSet;
use kenshin_assess::vendor_kinds::VendorKinds;
use kenshin_probe::ports::PortCatalog;

use crate::cli::VerifyArgs;

/// Checks the port catalog, the fingerprints, the TLS guideline profiles, the
/// requirement registries, the checks and the advisories (with the noise corpus);
/// returns exit code 0 or 1.
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
    let registry = match registry {
        Ok(r) => {
            let v = r.verified();
            println!(
                "ok   requirements: {} frameworks, {} items ({} marked unconfirmed), {} mappings \
                 between frameworks and editions resolve",
                v.frameworks, v.requirements, v.unconfirmed, v.mappings
            );
            Some(r)
        }
        Err(problems) => {
            failed = true;
            for p in problems {
                println!("FAIL requirements/{p}");
            }
            None
        }
    };
    let vendor_kinds = match &args.dir {
        None => VendorKinds::builtin(),
        Some(dir) => std::fs::read_to_string(dir.join("mac-vendors.toml"))
            .map_err(|e| vec![format!("cannot read: {e}")])
            .and_then(|t| VendorKinds::parse(&t)),
    };
    match vendor_kinds.and_then(|v| v.verify().map(|n| (v.rules.len(), n))) {
        Ok((rules, n)) => println!(
            "ok   mac-vendors.toml: {rules} vendor rules; {n} examples and counterexamples hold"
        ),
        Err(problems) => {
            failed = true;
            for p in problems {
                println!("FAIL mac-vendors.toml: {p}");
            }
        }
    }
    let noise = match &args.dir {
        None => Ok(kenshin_assess::checks::NOISE.to_owned()),
        Some(dir) => {
            std::fs::read_to_string(dir.join("noise.toml")).map_err(|e| format!("cannot read: {e}"))
        }
    }
    .and_then(|t| parse_noise(&t));
    let noise = match noise {
        Ok(n) => n,
        Err(e) => {
            failed = true;
            println!("FAIL noise.toml: {e}");
            Vec::new()
        }
    };
    let checks = match &args.dir {
        None => CheckSet::builtin(),
        Some(dir) => CheckSet::load_dir(&dir.join("checks")),
    };
    let advisories = match &args.dir {
        None => AdvisorySet::builtin(),
        Some(dir) => AdvisorySet::load_dir(&dir.join("advisories")),
    };
    let no_registry =
        || vec!["not verified: the requirement registries above are invalid".to_owned()];
    let checked = checks.and_then(|set| {
        let r = registry.as_ref().ok_or_else(no_registry)?;
        set.verify(r, &noise).map(|v| {
            format!(
                "{} checks in {} files; {} examples fire, {} counterexamples and {} noise \
                 samples stay silent; every requirement ID resolves",
                v.checks,
                v.files,
                v.examples,
                v.counterexamples,
                noise.len()
            )
        })
    });
    failed |= !print_outcome("checks", checked);
    let checked = advisories.and_then(|set| {
        let r = registry.as_ref().ok_or_else(no_registry)?;
        let v = set.verify(r, &noise)?;
        let kev = set
            .provenance
            .first()
            .map_or("?", |(_, p)| p.kev_catalog_version.as_str());
        Ok(format!(
            "{} advisories ({} CVEs, {} in CISA KEV catalog {kev}); {} examples hold, \
             boundaries present, noise silent",
            v.advisories, v.cves, v.kev, v.examples
        ))
    });
    failed |= !print_outcome("advisories", checked);
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

/// Prints `ok   WHAT: summary`, or one `FAIL WHAT/problem` line per problem; true if ok.
fn print_outcome(what: &str, outcome: Result<String, Vec<String>>) -> bool {
    match outcome {
        Ok(summary) => {
            println!("ok   {what}: {summary}");
            true
        }
        Err(problems) => {
            for p in problems {
                println!("FAIL {what}/{p}");
            }
            false
        }
    }
}
