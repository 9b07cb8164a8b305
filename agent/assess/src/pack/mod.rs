//! The rule pack: every rule family in one value, loaded from the rules compiled into
//! the binary ([`RulePack::builtin`]) or from a rules tree on disk with the same layout
//! ([`RulePack::load_dir`]), and checked by every family's self-tests
//! ([`RulePack::verify`]). Every loader and self-test reports a
//! [`Problem`](crate::rulefile::Problem) naming file, line and rule.
//!
//! The tree:
//!
//! | path | family |
//! | --- | --- |
//! | `ports.toml` | the port catalog ([`PortCatalog`]) |
//! | `fingerprints/*.toml` | fingerprints ([`FingerprintSet`]) |
//! | `tls/ipa-profiles.toml` | the IPA guideline's TLS profiles ([`ProfileSet`]) |
//! | `requirements/*.toml` | requirement registries ([`Registry`]) |
//! | `mac-vendors.toml` | device kinds by MAC vendor ([`VendorKinds`]) |
//! | `kinds.toml` | device kinds from what hosts and the network show ([`KindRules`]) |
//! | `passive.toml` | device kinds from what hosts said while kenshin listened ([`PassiveKinds`]) |
//! | `ledger.toml` | the words of an asset ledger ([`LedgerWords`]) |
//! | `noise.toml` | the noise corpus ([`crate::noise`]) |
//! | `service-names.toml` | names inside TLS and of ambiguous greetings ([`ServiceNames`]) |
//! | `checks/*.toml` | checks ([`CheckSet`]) |
//! | `advisories/*.toml` | advisories ([`AdvisorySet`]) |
//!
//! [`load`] reads the tree family by family, keeping each family's problems apart so
//! that `rules verify` still runs the self-tests of the families that loaded;
//! [`verify`] holds the self-tests and the outcome they report.

mod load;
mod verify;

use std::path::Path;

use kenshin_probe::observation::Facts;
use kenshin_probe::ports::PortCatalog;

use crate::advisory::AdvisorySet;
use crate::checks::CheckSet;
use crate::fingerprint::FingerprintSet;
use crate::kinds::KindRules;
use crate::ledger::LedgerWords;
use crate::passive_kinds::PassiveKinds;
use crate::requirements::Registry;
use crate::rulefile::{Problems, Source};
use crate::service_names::ServiceNames;
use crate::tls::ProfileSet;
use crate::vendor_kinds::VendorKinds;

pub use load::Tree;
pub use verify::{Counts, Family, FamilyOutcome, Verification};

/// Every rule family, loaded and checked for structure.
#[derive(Debug)]
pub struct RulePack {
    pub catalog: PortCatalog,
    pub fingerprints: FingerprintSet,
    pub profiles: ProfileSet,
    pub registry: Registry,
    pub vendor_kinds: VendorKinds,
    pub kind_rules: KindRules,
    pub passive_kinds: PassiveKinds,
    /// The words an asset ledger may use.
    pub ledger_words: LedgerWords,
    /// The noise corpus: field maps no check or advisory may fire on.
    pub noise: Vec<Facts>,
    pub service_names: ServiceNames,
    pub checks: CheckSet,
    pub advisories: AdvisorySet,
    /// Budgets by device class (`rules/safety.toml`).
    pub safety: kenshin_probe::governor::SafetyRules,
    /// Every file read, to place the self-tests' problems on their lines.
    sources: Vec<Source>,
}

impl RulePack {
    /// The rules compiled into this binary.
    pub fn builtin() -> Result<Self, Problems> {
        load::Loaded::read(Tree::Builtin).into_pack()
    }

    /// The rules tree at `dir`, laid out as `rules/` is.
    pub fn load_dir(dir: &Path) -> Result<Self, Problems> {
        load::Loaded::read(Tree::Dir(dir)).into_pack()
    }

    /// Runs every family's self-tests: examples, counterexamples, the noise corpus,
    /// shadowing, requirement IDs and mappings, names the catalog must know.
    pub fn verify(&self) -> Verification {
        verify::run(&self.parts(), &self.sources)
    }

    /// Loads what loads of `tree` and runs the self-tests of those families; the
    /// families that did not load report their load problems. This is
    /// `kenshin rules verify`.
    pub fn verify_tree(tree: Tree<'_>) -> Verification {
        load::Loaded::read(tree).verify()
    }

    /// Every file the families were read from (path within the tree, text): what
    /// `kenshin rules pack` packs.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    fn parts(&self) -> verify::Parts<'_> {
        verify::Parts {
            catalog: Some(&self.catalog),
            fingerprints: Some(&self.fingerprints),
            profiles: Some(&self.profiles),
            registry: Some(&self.registry),
            vendor_kinds: Some(&self.vendor_kinds),
            kind_rules: Some(&self.kind_rules),
            passive_kinds: Some(&self.passive_kinds),
            ledger_words: Some(&self.ledger_words),
            noise: Some(&self.noise),
            service_names: Some(&self.service_names),
            checks: Some(&self.checks),
            advisories: Some(&self.advisories),
            safety: Some(&self.safety),
        }
    }
}

#[cfg(test)]
mod tests;
