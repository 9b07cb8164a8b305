//! Reading a rules tree family by family. Each family keeps its own problems, so that
//! a broken family does not hide the self-tests of the others.

use std::path::Path;

use kenshin_probe::governor::{budget as safety, SafetyRules};
use kenshin_probe::observation::Facts;
use kenshin_probe::ports::{CatalogError, PortCatalog, BUILTIN_CATALOG};

use super::verify::{self, Family, FamilyOutcome, Parts, Verification};
use super::RulePack;
use crate::advisory::{self, AdvisorySet};
use crate::checks::{self, CheckSet};
use crate::fingerprint::{self, FingerprintSet};
use crate::kinds::{rules as kind_rules, KindRules};
use crate::ledger::{words, LedgerWords};
use crate::passive_kinds::{self, PassiveKinds};
use crate::requirements::{self, Registry};
use crate::rulefile::{self, Problem, Problems, Source};
use crate::service_names::{self, ServiceNames};
use crate::tls::{profile, ProfileSet};
use crate::{noise, vendor_kinds, vendor_kinds::VendorKinds};

/// Where the rules come from.
#[derive(Debug, Clone, Copy)]
pub enum Tree<'a> {
    /// The rules compiled into this binary.
    Builtin,
    /// A rules tree on disk, laid out as `rules/` is.
    Dir(&'a Path),
}

impl Tree<'_> {
    /// The files of a folder family.
    fn folder(self, folder: &str, builtin: &[(&str, &str)]) -> Result<Vec<Source>, Problems> {
        match self {
            Tree::Builtin => Ok(rulefile::owned(folder, builtin)),
            Tree::Dir(root) => rulefile::read_toml_dir(&root.join(folder), folder),
        }
    }

    /// The file of a one-file family.
    fn file(self, path: &str, builtin: &str) -> Result<Source, Problems> {
        match self {
            Tree::Builtin => Ok(Source {
                path: path.to_owned(),
                text: builtin.to_owned(),
            }),
            Tree::Dir(root) => rulefile::read_file(root, path),
        }
    }
}

/// Each family loaded, or its problems.
pub(super) struct Loaded {
    sources: Vec<Source>,
    catalog: Result<PortCatalog, Problems>,
    fingerprints: Result<FingerprintSet, Problems>,
    profiles: Result<ProfileSet, Problems>,
    registry: Result<Registry, Problems>,
    vendor_kinds: Result<VendorKinds, Problems>,
    kind_rules: Result<KindRules, Problems>,
    passive_kinds: Result<PassiveKinds, Problems>,
    ledger_words: Result<LedgerWords, Problems>,
    noise: Result<Vec<Facts>, Problems>,
    service_names: Result<ServiceNames, Problems>,
    checks: Result<CheckSet, Problems>,
    advisories: Result<AdvisorySet, Problems>,
    safety: Result<SafetyRules, Problems>,
}

/// The path of a port catalog entry's `port = N` line (with its protocol within the
/// next lines), for a catalog problem.
fn catalog_line(text: &str, port: u16, protocol: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let port_line = format!("port = {port}");
    let proto_line = format!("protocol = \"{protocol}\"");
    (0..lines.len())
        .find(|&i| {
            lines[i].trim() == port_line
                && lines[i + 1..]
                    .iter()
                    .take(3)
                    .any(|l| l.trim() == proto_line)
        })
        .map(|i| i + 1)
}

/// A catalog error (the probe crate's loader) as a problem of `ports.toml`.
fn catalog_problem(source: &Source, e: &CatalogError) -> Problem {
    const FILE: &str = "ports.toml";
    match e {
        CatalogError::Toml(t) => {
            let p = Problem::in_file(FILE, t.message().trim_end().to_owned());
            match t.span() {
                Some(span) => p.at_line(rulefile::line_at(&source.text, span.start)),
                None => p,
            }
        }
        CatalogError::Entry {
            port,
            protocol,
            reason,
        } => Problem {
            line: catalog_line(&source.text, *port, protocol.as_str()),
            ..Problem::in_rule(FILE, format!("{protocol}/{port}"), reason.clone())
        },
        other => Problem::in_file(FILE, other.to_string()),
    }
}

impl Loaded {
    /// Reads every family of `tree`.
    pub(super) fn read(tree: Tree<'_>) -> Self {
        let mut sources = Vec::new();
        let mut keep = |s: &[Source]| sources.extend_from_slice(s);
        let mut folder = |name: &str, builtin: &[(&str, &str)]| {
            let read = tree.folder(name, builtin);
            if let Ok(s) = &read {
                keep(s);
            }
            read
        };
        let fingerprints = folder(fingerprint::FOLDER, fingerprint::BUILTIN)
            .and_then(|s| FingerprintSet::from_sources(&s));
        let registry = folder(requirements::FOLDER, requirements::BUILTIN)
            .and_then(|s| Registry::from_sources(&s));
        let checks =
            folder(checks::FOLDER, checks::BUILTIN).and_then(|s| CheckSet::from_sources(&s));
        let advisories =
            folder(advisory::FOLDER, advisory::BUILTIN).and_then(|s| AdvisorySet::from_sources(&s));
        let mut file = |path: &str, builtin: &str| {
            let read = tree.file(path, builtin);
            if let Ok(s) = &read {
                sources.push(s.clone());
            }
            read
        };
        let catalog = file("ports.toml", BUILTIN_CATALOG).and_then(|s| {
            PortCatalog::parse(&s.text).map_err(|e| Problems::from(catalog_problem(&s, &e)))
        });
        let profiles =
            file(profile::FILE, profile::BUILTIN).and_then(|s| ProfileSet::parse(&s.text));
        let vendor_kinds = file(vendor_kinds::FILE, vendor_kinds::BUILTIN)
            .and_then(|s| VendorKinds::parse(&s.text));
        let kind_rules =
            file(kind_rules::FILE, kind_rules::BUILTIN).and_then(|s| KindRules::parse(&s.text));
        let passive_kinds = file(passive_kinds::FILE, passive_kinds::BUILTIN)
            .and_then(|s| PassiveKinds::parse(&s.text));
        let ledger_words =
            file(words::FILE, words::BUILTIN).and_then(|s| LedgerWords::parse(&s.text));
        let noise = file(noise::FILE, noise::BUILTIN).and_then(|s| noise::load(&s));
        let service_names = file(service_names::FILE, service_names::BUILTIN)
            .and_then(|s| ServiceNames::parse(&s.text));
        let safety = file(safety::FILE, safety::BUILTIN).and_then(|s| {
            SafetyRules::parse(&s.path, &s.text)
                .map_err(|e| Problems::from(verify::safety_problem(&e)))
        });
        Self {
            sources,
            catalog,
            fingerprints,
            profiles,
            registry,
            vendor_kinds,
            kind_rules,
            passive_kinds,
            ledger_words,
            noise,
            service_names,
            checks,
            advisories,
            safety,
        }
    }

    /// The pack, or every problem of every family.
    pub(super) fn into_pack(self) -> Result<RulePack, Problems> {
        match self {
            Loaded {
                sources,
                catalog: Ok(catalog),
                fingerprints: Ok(fingerprints),
                profiles: Ok(profiles),
                registry: Ok(registry),
                vendor_kinds: Ok(vendor_kinds),
                kind_rules: Ok(kind_rules),
                passive_kinds: Ok(passive_kinds),
                ledger_words: Ok(ledger_words),
                noise: Ok(noise),
                service_names: Ok(service_names),
                checks: Ok(checks),
                advisories: Ok(advisories),
                safety: Ok(safety),
            } => Ok(RulePack {
                catalog,
                fingerprints,
                profiles,
                registry,
                vendor_kinds,
                kind_rules,
                passive_kinds,
                ledger_words,
                noise,
                service_names,
                checks,
                advisories,
                safety,
                sources,
            }),
            failed => Err(Problems(
                failed
                    .failures()
                    .into_iter()
                    .flat_map(|(_, p)| p.0)
                    .collect(),
            )),
        }
    }

    /// The families that did not load, with their problems, in family order.
    fn failures(&self) -> Vec<(Family, Problems)> {
        let err = |r: Result<(), &Problems>| r.err().cloned();
        [
            (Family::Ports, err(self.catalog.as_ref().map(drop))),
            (
                Family::Fingerprints,
                err(self.fingerprints.as_ref().map(drop)),
            ),
            (Family::TlsProfiles, err(self.profiles.as_ref().map(drop))),
            (Family::Requirements, err(self.registry.as_ref().map(drop))),
            (
                Family::VendorKinds,
                err(self.vendor_kinds.as_ref().map(drop)),
            ),
            (Family::KindRules, err(self.kind_rules.as_ref().map(drop))),
            (
                Family::PassiveKinds,
                err(self.passive_kinds.as_ref().map(drop)),
            ),
            (
                Family::LedgerWords,
                err(self.ledger_words.as_ref().map(drop)),
            ),
            (Family::Noise, err(self.noise.as_ref().map(drop))),
            (
                Family::ServiceNames,
                err(self.service_names.as_ref().map(drop)),
            ),
            (Family::Checks, err(self.checks.as_ref().map(drop))),
            (Family::Advisories, err(self.advisories.as_ref().map(drop))),
            (Family::SafetyBudgets, err(self.safety.as_ref().map(drop))),
        ]
        .into_iter()
        .filter_map(|(f, p)| p.map(|p| (f, p)))
        .collect()
    }

    /// The self-tests of the families that loaded, and the load problems of the rest.
    pub(super) fn verify(&self) -> Verification {
        let parts = Parts {
            catalog: self.catalog.as_ref().ok(),
            fingerprints: self.fingerprints.as_ref().ok(),
            profiles: self.profiles.as_ref().ok(),
            registry: self.registry.as_ref().ok(),
            vendor_kinds: self.vendor_kinds.as_ref().ok(),
            kind_rules: self.kind_rules.as_ref().ok(),
            passive_kinds: self.passive_kinds.as_ref().ok(),
            ledger_words: self.ledger_words.as_ref().ok(),
            noise: self.noise.as_ref().ok(),
            service_names: self.service_names.as_ref().ok(),
            checks: self.checks.as_ref().ok(),
            advisories: self.advisories.as_ref().ok(),
            safety: self.safety.as_ref().ok(),
        };
        let mut v = verify::run(&parts, &self.sources);
        v.families.extend(
            self.failures()
                .into_iter()
                .map(|(family, problems)| FamilyOutcome {
                    family,
                    outcome: Err(problems.0),
                }),
        );
        v.families.sort_by_key(|f| f.family);
        v
    }
}
