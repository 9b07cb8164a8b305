//! The self-tests of every family and the one outcome they report: per family, what
//! was checked (counts) or every problem found.

use std::fmt;

use kenshin_probe::observation::Facts;
use kenshin_probe::ports::PortCatalog;

use crate::advisory::{self, AdvisorySet};
use crate::checks::{self, CheckSet};
use crate::fingerprint::{self, FingerprintSet};
use crate::kinds::KindRules;
use crate::ledger::LedgerWords;
use crate::passive_kinds::PassiveKinds;
use crate::requirements::{self, Registry};
use crate::rulefile::{place, Problem, Problems, Source};
use crate::service_names::{self, ServiceNames};
use crate::tls::ProfileSet;
use crate::vendor_kinds::VendorKinds;

/// A rule family, in the order `rules verify` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Ports,
    Fingerprints,
    TlsProfiles,
    Requirements,
    VendorKinds,
    KindRules,
    PassiveKinds,
    LedgerWords,
    Noise,
    ServiceNames,
    Checks,
    Advisories,
    SafetyBudgets,
}

impl Family {
    /// The family's file or folder in the rules tree.
    pub fn path(self) -> &'static str {
        match self {
            Family::Ports => "ports.toml",
            Family::Fingerprints => fingerprint::FOLDER,
            Family::TlsProfiles => crate::tls::profile::FILE,
            Family::Requirements => requirements::FOLDER,
            Family::VendorKinds => crate::vendor_kinds::FILE,
            Family::KindRules => crate::kinds::rules::FILE,
            Family::PassiveKinds => crate::passive_kinds::FILE,
            Family::LedgerWords => crate::ledger::words::FILE,
            Family::Noise => crate::noise::FILE,
            Family::ServiceNames => service_names::FILE,
            Family::Checks => checks::FOLDER,
            Family::Advisories => advisory::FOLDER,
            Family::SafetyBudgets => kenshin_probe::governor::budget::FILE,
        }
    }
}

/// What a family's self-test checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Counts {
    Ports {
        ports: usize,
        version: String,
    },
    Fingerprints(fingerprint::Verified),
    TlsProfiles {
        profiles: usize,
        title_ja: String,
        edition: String,
    },
    Requirements(requirements::Verified),
    VendorKinds {
        rules: usize,
        examples: usize,
    },
    KindRules {
        rules: usize,
        examples: usize,
    },
    PassiveKinds {
        rules: usize,
        examples: usize,
    },
    LedgerWords {
        headers: usize,
        kind_words: usize,
        examples: usize,
    },
    Noise {
        samples: usize,
    },
    ServiceNames(service_names::Verified),
    Checks {
        verified: checks::Verified,
        noise: usize,
    },
    Advisories {
        verified: advisory::Verified,
        kev_catalog: String,
    },
    SafetyBudgets {
        classes: usize,
        ports: usize,
        examples: usize,
    },
}

/// One line of summary, as `rules verify` prints it after `ok   FAMILY: `.
impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Counts::Ports { ports, version } => write!(f, "{ports} ports, version {version}"),
            Counts::Fingerprints(v) => write!(
                f,
                "{} entries in {} files; {} examples and {} counterexamples hold, none shadowed",
                v.fingerprints, v.files, v.examples, v.counterexamples
            ),
            Counts::TlsProfiles {
                profiles,
                title_ja,
                edition,
            } => write!(f, "{profiles} profiles ({title_ja} {edition})"),
            Counts::Requirements(v) => {
                let by: Vec<String> = v
                    .unconfirmed_by
                    .iter()
                    .map(|(framework, n)| format!("{framework} {n}"))
                    .collect();
                write!(
                    f,
                    "{} registries, {} IDs; unconfirmed: {} ({}); {} mappings between \
                     frameworks and editions resolve; every item an unconfirmed edition or \
                     its own words call unconfirmed is flagged",
                    v.frameworks,
                    v.requirements,
                    v.unconfirmed,
                    if by.is_empty() {
                        "none".to_owned()
                    } else {
                        by.join(", ")
                    },
                    v.mappings
                )
            }
            Counts::VendorKinds { rules, examples } => write!(
                f,
                "{rules} vendor rules; {examples} examples and counterexamples hold"
            ),
            Counts::KindRules { rules, examples } => write!(
                f,
                "{rules} kind rules; {examples} examples and counterexamples hold"
            ),
            Counts::PassiveKinds { rules, examples } => write!(
                f,
                "{rules} listening rules; {examples} examples and counterexamples hold"
            ),
            Counts::LedgerWords {
                headers,
                kind_words,
                examples,
            } => write!(
                f,
                "{headers} header names, {kind_words} kind words; {examples} examples hold"
            ),
            Counts::Noise { samples } => write!(
                f,
                "{samples} samples, every field a fixed field or a fact a probe writes"
            ),
            Counts::ServiceNames(v) => {
                write!(f, "{} names; {} examples hold", v.names, v.examples)
            }
            Counts::Checks { verified: v, noise } => write!(
                f,
                "{} checks in {} files; {} examples fire, {} counterexamples and {noise} noise \
                 samples stay silent; every requirement ID resolves and every field is a \
                 fixed field or a fact a probe writes",
                v.checks, v.files, v.examples, v.counterexamples
            ),
            Counts::Advisories {
                verified: v,
                kev_catalog,
            } => write!(
                f,
                "{} advisories ({} CVEs, {} in CISA KEV catalog {kev_catalog}); {} examples \
                 hold, boundaries present, noise silent",
                v.advisories, v.cves, v.kev, v.examples
            ),
            Counts::SafetyBudgets {
                classes,
                ports,
                examples,
            } => write!(
                f,
                "{classes} class budgets, {ports} telling ports; {examples} examples derive \
                 their class and rate"
            ),
        }
    }
}

/// One family's outcome: what was checked, or every problem.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyOutcome {
    pub family: Family,
    pub outcome: Result<Counts, Vec<Problem>>,
}

/// Every family's outcome, in family order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verification {
    pub families: Vec<FamilyOutcome>,
}

impl Verification {
    /// True if every family verified.
    pub fn is_ok(&self) -> bool {
        self.families.iter().all(|f| f.outcome.is_ok())
    }

    /// Every problem, family by family.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.families
            .iter()
            .filter_map(|f| f.outcome.as_ref().err())
            .flatten()
    }

    /// The outcome of one family.
    pub fn of(&self, family: Family) -> Option<&Result<Counts, Vec<Problem>>> {
        self.families
            .iter()
            .find(|f| f.family == family)
            .map(|f| &f.outcome)
    }
}

/// The families to test (`None`: did not load; its load problems are reported apart).
pub(super) struct Parts<'a> {
    pub catalog: Option<&'a PortCatalog>,
    pub fingerprints: Option<&'a FingerprintSet>,
    pub profiles: Option<&'a ProfileSet>,
    pub registry: Option<&'a Registry>,
    pub vendor_kinds: Option<&'a VendorKinds>,
    pub kind_rules: Option<&'a KindRules>,
    pub passive_kinds: Option<&'a PassiveKinds>,
    pub ledger_words: Option<&'a LedgerWords>,
    pub noise: Option<&'a Vec<Facts>>,
    pub service_names: Option<&'a ServiceNames>,
    pub checks: Option<&'a CheckSet>,
    pub advisories: Option<&'a AdvisorySet>,
    pub safety: Option<&'a kenshin_probe::governor::SafetyRules>,
}

/// A family that cannot be tested because one it depends on did not load.
fn blocked(family: Family, by: Family) -> Problems {
    Problems::from(Problem::in_file(
        family.path(),
        format!("not verified: {} is invalid (see above)", by.path()),
    ))
}

/// Runs the self-tests of every family in `parts`, placing problems on their lines.
pub(super) fn run(parts: &Parts<'_>, sources: &[Source]) -> Verification {
    let mut out: Vec<(Family, Result<Counts, Problems>)> = Vec::new();
    if let Some(c) = parts.catalog {
        out.push((
            Family::Ports,
            Ok(Counts::Ports {
                ports: c.entries.len(),
                version: c.version.clone(),
            }),
        ));
    }
    if let Some(f) = parts.fingerprints {
        out.push((Family::Fingerprints, f.verify().map(Counts::Fingerprints)));
    }
    if let Some(p) = parts.profiles {
        out.push((
            Family::TlsProfiles,
            Ok(Counts::TlsProfiles {
                profiles: p.profile.len(),
                title_ja: p.source.title_ja.clone(),
                edition: p.source.edition.clone(),
            }),
        ));
    }
    if let Some(r) = parts.registry {
        out.push((Family::Requirements, Ok(Counts::Requirements(r.verified()))));
    }
    if let Some(v) = parts.vendor_kinds {
        out.push((
            Family::VendorKinds,
            v.verify().map(|examples| Counts::VendorKinds {
                rules: v.rules.len(),
                examples,
            }),
        ));
    }
    if let Some(k) = parts.kind_rules {
        out.push((
            Family::KindRules,
            k.verify().map(|examples| Counts::KindRules {
                rules: k.rules.len(),
                examples,
            }),
        ));
    }
    if let Some(p) = parts.passive_kinds {
        out.push((
            Family::PassiveKinds,
            p.verify().map(|examples| Counts::PassiveKinds {
                rules: p.rules.len(),
                examples,
            }),
        ));
    }
    if let Some(w) = parts.ledger_words {
        out.push((
            Family::LedgerWords,
            w.verify().map(|examples| Counts::LedgerWords {
                headers: w.columns.iter().map(|(_, n)| n.len()).sum(),
                kind_words: w.kinds.iter().map(|(_, n)| n.len()).sum(),
                examples,
            }),
        ));
    }
    if let Some(n) = parts.noise {
        out.push((Family::Noise, Ok(Counts::Noise { samples: n.len() })));
    }
    if let Some(s) = parts.service_names {
        let verified = match parts.catalog {
            Some(c) => s.verify(c).map(Counts::ServiceNames),
            None => Err(blocked(Family::ServiceNames, Family::Ports)),
        };
        out.push((Family::ServiceNames, verified));
    }
    // A broken noise corpus is reported on its own; the rest still runs without it.
    let noise: &[Facts] = parts.noise.map_or(&[], Vec::as_slice);
    if let Some(c) = parts.checks {
        let verified = match parts.registry {
            Some(r) => c.verify(r, noise).map(|verified| Counts::Checks {
                verified,
                noise: noise.len(),
            }),
            None => Err(blocked(Family::Checks, Family::Requirements)),
        };
        out.push((Family::Checks, verified));
    }
    if let Some(safety) = parts.safety {
        let file = kenshin_probe::governor::budget::FILE;
        out.push((
            Family::SafetyBudgets,
            safety
                .verify(file)
                .map(|examples| Counts::SafetyBudgets {
                    classes: safety.classes().len(),
                    ports: safety.telling_ports(),
                    examples,
                })
                .map_err(|errors| Problems(errors.iter().map(safety_problem).collect())),
        ));
    }
    if let Some(a) = parts.advisories {
        let verified = match parts.registry {
            Some(r) => a.verify(r, noise).map(|verified| Counts::Advisories {
                verified,
                kev_catalog: a
                    .provenance
                    .first()
                    .map_or_else(|| "?".to_owned(), |(_, p)| p.kev_catalog_version.clone()),
            }),
            None => Err(blocked(Family::Advisories, Family::Requirements)),
        };
        out.push((Family::Advisories, verified));
    }
    Verification {
        families: out
            .into_iter()
            .map(|(family, outcome)| FamilyOutcome {
                family,
                outcome: outcome.map_err(|p| {
                    let mut problems = p.0;
                    place(&mut problems, sources);
                    problems
                }),
            })
            .collect(),
    }
}

/// A `rules/safety.toml` error as a problem: file, line and key.
pub(super) fn safety_problem(e: &kenshin_probe::governor::SafetyError) -> Problem {
    Problem {
        file: e.file.clone(),
        line: e.line,
        rule: Some(e.key.clone()),
        message: e.problem.clone(),
    }
}
