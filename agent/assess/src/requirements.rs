//! Requirement registries (`rules/requirements/*.toml`): each framework's IDs as its
//! source prints them, kenshin's own short paraphrase in Japanese and English, what
//! can evidence each item (a scan, a host check, or only documents), whether the
//! reference could confirm it, and which item of another edition it maps to.
//!
//! A framework is one file named after its ID. Editions are data: a new edition is a
//! new file whose items (or the old edition's items) say what they map to, and the old
//! edition says which framework supersedes it.
//!
//! Honesty is checked here, not left to the author: an edition whose numbering could
//! not be confirmed (`numbering_unconfirmed`) must flag every item `unconfirmed`, and
//! so must any item whose own words say it is unconfirmed or was not read; a registry
//! that breaks either rule does not load, so `kenshin rules verify` refuses it.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::rulefile::{place, Problem, Problems, Source, USED_TWICE};

/// The registries' folder in the rules tree.
pub const FOLDER: &str = "requirements";

/// The shipped registries, as (file name, text).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "ipa-tls-guideline.toml",
        include_str!("../../../rules/requirements/ipa-tls-guideline.toml"),
    ),
    (
        "mhlw-checklist-r6.toml",
        include_str!("../../../rules/requirements/mhlw-checklist-r6.toml"),
    ),
    (
        "mhlw-checklist-r7.toml",
        include_str!("../../../rules/requirements/mhlw-checklist-r7.toml"),
    ),
    (
        "mhlw-checklist-r8.toml",
        include_str!("../../../rules/requirements/mhlw-checklist-r8.toml"),
    ),
    (
        "mhlw-guideline-6.0.toml",
        include_str!("../../../rules/requirements/mhlw-guideline-6.0.toml"),
    ),
    (
        "mhlw-guideline-7.0.toml",
        include_str!("../../../rules/requirements/mhlw-guideline-7.0.toml"),
    ),
    (
        "mhlw-notice-2022-11-10.toml",
        include_str!("../../../rules/requirements/mhlw-notice-2022-11-10.toml"),
    ),
    (
        "mhlw-notice-2024-08-01.toml",
        include_str!("../../../rules/requirements/mhlw-notice-2024-08-01.toml"),
    ),
    (
        "provider-guideline-2.0.toml",
        include_str!("../../../rules/requirements/provider-guideline-2.0.toml"),
    ),
    (
        "provider-guideline.toml",
        include_str!("../../../rules/requirements/provider-guideline.toml"),
    ),
];

/// What can show that an item is met or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// A network scan.
    Network,
    /// A check on the host itself.
    Host,
    /// A scan gives a signal; the item is mostly process or paperwork.
    Partial,
    /// Only document review.
    Document,
}

/// A framework: one checklist, guideline or notice, in one edition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// `mhlw-checklist-r7`, `mhlw-guideline-6.0` …
    pub id: String,
    pub title_ja: String,
    pub title_en: String,
    pub edition: String,
    /// The date of issue (`2026-06-29`, or `2026-06` where only the month is known).
    #[serde(default)]
    pub issued: Option<String>,
    pub source: String,
    /// The framework of the edition that replaces this one.
    #[serde(default)]
    pub superseded_by: Option<String>,
    /// The parts (編) of a guideline; when given, every item's ID starts with one.
    #[serde(default)]
    pub parts: Vec<String>,
    /// The forms of a checklist; when given, every item's forms are among them.
    #[serde(default)]
    pub forms: Vec<String>,
    /// The edition's item list and numbering could not be confirmed: every item must be
    /// flagged `unconfirmed`.
    #[serde(default)]
    pub numbering_unconfirmed: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// One item of a framework.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// As the source prints it: `2-⑥`, `システム運用編 13⑪`.
    pub id: String,
    /// The forms that ask it (`医療機関確認用`, `事業者確認用`).
    #[serde(default)]
    pub forms: Vec<String>,
    pub ja: String,
    pub en: String,
    pub evidence: Vec<Evidence>,
    /// The reference could not confirm the number or the item in the primary text.
    #[serde(default)]
    pub unconfirmed: bool,
    /// Items of other frameworks this one corresponds to, as `framework:id`.
    #[serde(default)]
    pub maps_to: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    framework: Framework,
    requirement: Vec<Requirement>,
}

/// Every framework loaded, in file-name order.
#[derive(Debug, Clone)]
pub struct Registry {
    pub frameworks: Vec<(Framework, Vec<Requirement>)>,
}

/// What `rules verify` reports about the registries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub frameworks: usize,
    pub requirements: usize,
    pub unconfirmed: usize,
    /// Each framework with unconfirmed items and how many, in file order.
    pub unconfirmed_by: Vec<(String, usize)>,
    pub mappings: usize,
}

/// Words by which an item says that its number or text is not confirmed.
const UNCONFIRMED_WORDS: [&str; 4] = ["未確認", "unconfirmed", "not read", "not confirmed"];

/// The problems of one framework's items against the framework's own declarations.
fn honesty(framework: &Framework, items: &[Requirement]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in items {
        let mut say = |m: String| out.push((r.id.clone(), m));
        if !r.unconfirmed {
            if framework.numbering_unconfirmed {
                say(format!(
                    "{} says its numbering is unconfirmed (numbering_unconfirmed): flag the \
                     item `unconfirmed = true`",
                    framework.id
                ));
            } else if let Some(word) = UNCONFIRMED_WORDS
                .iter()
                .find(|w| r.ja.to_lowercase().contains(*w) || r.en.to_lowercase().contains(*w))
            {
                say(format!(
                    "its text says {word:?} but the item is not flagged `unconfirmed = true`"
                ));
            }
        }
        if !framework.parts.is_empty()
            && !framework.parts.iter().any(|p| {
                r.id.strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.starts_with(' '))
            })
        {
            say(format!(
                "the ID must start with one of the parts {:?} and a space",
                framework.parts
            ));
        }
        if !framework.forms.is_empty() {
            for form in r.forms.iter().filter(|f| !framework.forms.contains(f)) {
                say(format!(
                    "form {form:?} is not one of the framework's forms {:?}",
                    framework.forms
                ));
            }
        }
    }
    out
}

impl Registry {
    /// The shipped registries.
    pub fn builtin() -> Result<Self, Problems> {
        Self::from_sources(&crate::rulefile::owned(FOLDER, BUILTIN))
    }

    /// Every `*.toml` in `dir` (the rules tree's `requirements/`).
    pub fn load_dir(dir: &Path) -> Result<Self, Problems> {
        Self::from_sources(&crate::rulefile::read_toml_dir(dir, FOLDER)?)
    }

    /// Parses and checks files in path order; every problem is named by file, line and
    /// item.
    pub fn from_sources(sources: &[Source]) -> Result<Self, Problems> {
        let mut problems = Vec::new();
        let mut frameworks = Vec::new();
        let mut paths = Vec::new();
        let mut sorted: Vec<&Source> = sources.iter().collect();
        sorted.sort();
        for source in sorted {
            let name = source.path.as_str();
            let file: File = match crate::rulefile::parse(source) {
                Ok(f) => f,
                Err(p) => {
                    problems.push(p);
                    continue;
                }
            };
            let id = &file.framework.id;
            if !crate::rulefile::valid_slug(id) {
                problems.push(Problem::in_rule(
                    name,
                    id.as_str(),
                    "a framework ID is lower-case letters, digits, '-' and '.'",
                ));
            }
            let stem = Path::new(name).file_stem().and_then(|s| s.to_str());
            if stem != Some(id.as_str()) {
                problems.push(Problem::in_rule(
                    name,
                    id.as_str(),
                    format!("the file must be named {id}.toml"),
                ));
            }
            let mut seen = BTreeSet::new();
            for r in &file.requirement {
                let at = |m: &str| Problem::in_rule(name, r.id.as_str(), m);
                if !seen.insert(r.id.clone()) {
                    problems.push(at(USED_TWICE));
                }
                if r.ja.trim().is_empty() || r.en.trim().is_empty() {
                    problems.push(at("needs both `ja` and `en`"));
                }
                if r.evidence.is_empty() {
                    problems.push(at("`evidence` is empty"));
                }
            }
            for (item, message) in honesty(&file.framework, &file.requirement) {
                problems.push(Problem::in_rule(name, item.as_str(), message));
            }
            paths.push(name.to_owned());
            frameworks.push((file.framework, file.requirement));
        }
        let ids: BTreeSet<(String, String)> = frameworks
            .iter()
            .flat_map(|(f, rs)| rs.iter().map(move |r| (f.id.clone(), r.id.clone())))
            .collect();
        for (path, (_, rs)) in paths.iter().zip(&frameworks) {
            for r in rs {
                for target in &r.maps_to {
                    let resolves = target
                        .split_once(':')
                        .is_some_and(|(fw, id)| ids.contains(&(fw.to_owned(), id.to_owned())));
                    if !resolves {
                        problems.push(Problem::in_rule(
                            path.as_str(),
                            r.id.as_str(),
                            format!(
                                "maps to {target:?}, which no registry defines (write framework:id)"
                            ),
                        ));
                    }
                }
            }
        }
        let mut seen_frameworks = BTreeSet::new();
        for (path, (f, _)) in paths.iter().zip(&frameworks) {
            if !seen_frameworks.insert(f.id.clone()) {
                problems.push(Problem::in_rule(
                    path.as_str(),
                    f.id.as_str(),
                    "the framework is defined twice",
                ));
            }
        }
        for (path, (f, _)) in paths.iter().zip(&frameworks) {
            if let Some(next) = &f.superseded_by {
                if next == &f.id || !frameworks.iter().any(|(g, _)| &g.id == next) {
                    problems.push(Problem::in_rule(
                        path.as_str(),
                        f.id.as_str(),
                        format!("superseded_by {next:?} names no other framework"),
                    ));
                }
            }
        }
        place(&mut problems, sources);
        Problems::or_ok(problems, Self { frameworks })
    }

    /// The framework `id` and its items.
    pub fn framework(&self, id: &str) -> Option<&(Framework, Vec<Requirement>)> {
        self.frameworks.iter().find(|(f, _)| f.id == id)
    }

    /// The requirement `id` of `framework`.
    pub fn get(&self, framework: &str, id: &str) -> Option<&Requirement> {
        self.frameworks
            .iter()
            .find(|(f, _)| f.id == framework)
            .and_then(|(_, rs)| rs.iter().find(|r| r.id == id))
    }

    /// Counts for `rules verify`.
    pub fn verified(&self) -> Verified {
        let all = || self.frameworks.iter().flat_map(|(_, rs)| rs);
        Verified {
            frameworks: self.frameworks.len(),
            requirements: all().count(),
            unconfirmed: all().filter(|r| r.unconfirmed).count(),
            unconfirmed_by: self
                .frameworks
                .iter()
                .map(|(f, rs)| (f.id.clone(), rs.iter().filter(|r| r.unconfirmed).count()))
                .filter(|(_, n)| *n > 0)
                .collect(),
            mappings: all().map(|r| r.maps_to.len()).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, text: &str) -> Result<Registry, Problems> {
        Registry::from_sources(&crate::rulefile::replacing(FOLDER, BUILTIN, name, text))
    }

    fn builtin_text(name: &str) -> &'static str {
        crate::rulefile::shipped_text(BUILTIN, name)
    }

    #[test]
    fn the_shipped_registries_load_and_every_mapping_resolves() {
        let r = Registry::builtin().expect("registries");
        let v = r.verified();
        assert_eq!(v.frameworks, 10);
        assert!(v.requirements >= 100 && v.mappings >= 60, "{v:?}");
        let item = r.get("mhlw-checklist-r7", "2-⑥").expect("2-⑥");
        assert_eq!(item.evidence, [Evidence::Network, Evidence::Host]);
        assert!(!item.unconfirmed);
        assert!(r
            .get("mhlw-checklist-r7", "2-⑩")
            .is_some_and(|i| i.unconfirmed));
        let old = r.get("mhlw-checklist-r6", "2-(8)").expect("2-(8)");
        assert_eq!(old.maps_to, ["mhlw-checklist-r7:2-⑬"]);
        let tls = r.get("mhlw-guideline-6.0", "TLS Q&A").expect("TLS Q&A");
        assert_eq!(tls.maps_to, ["ipa-tls-guideline:高セキュリティ型"]);
    }

    #[test]
    fn the_builtin_list_names_every_file_in_the_rules_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/requirements");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("rules/requirements")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        files.sort();
        let builtin: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        assert_eq!(files, builtin);
        let loaded = Registry::load_dir(&dir).expect("the folder loads");
        assert_eq!(
            loaded.verified(),
            Registry::builtin().expect("builtin").verified()
        );
    }

    #[test]
    fn a_mapping_to_an_item_no_registry_defines_is_named() {
        let text = builtin_text("mhlw-checklist-r6.toml").replacen(
            "mhlw-checklist-r7:2-⑬",
            "mhlw-checklist-r7:2-⑭",
            1,
        );
        let problems = with("mhlw-checklist-r6.toml", &text).expect_err("unresolved");
        let p = problems
            .iter()
            .find(|p| p.message.contains("2-⑭"))
            .unwrap_or_else(|| panic!("{problems}"));
        assert_eq!(p.rule.as_deref(), Some("2-(8)"), "{p}");
        assert_eq!(p.file, "requirements/mhlw-checklist-r6.toml", "{p}");
        let line = p.line.expect("placed");
        assert!(
            text.lines()
                .nth(line - 1)
                .is_some_and(|l| l.contains("2-⑭")),
            "{p}"
        );
    }

    #[test]
    fn a_duplicate_id_an_unknown_key_and_a_misnamed_file_are_named() {
        let text =
            builtin_text("mhlw-checklist-r7.toml").replacen("id = \"2-⑦\"", "id = \"2-⑥\"", 1);
        let problems = with("mhlw-checklist-r7.toml", &text).expect_err("duplicate");
        assert!(
            problems.mention("rule 2-⑥: the ID is used twice"),
            "{problems}"
        );
        let text = builtin_text("mhlw-checklist-r7.toml").replacen(
            "\nunconfirmed = true",
            "\nunconfrimed = true",
            1,
        );
        let problems = with("mhlw-checklist-r7.toml", &text).expect_err("unknown key");
        assert!(problems.mention("unconfrimed"), "{problems}");
        let problems =
            with("checklist.toml", builtin_text("mhlw-checklist-r7.toml")).expect_err("name");
        assert!(
            problems.mention("must be named mhlw-checklist-r7.toml"),
            "{problems}"
        );
    }

    #[test]
    fn the_unconfirmed_count_of_each_registry_is_reported() {
        let v = Registry::builtin().expect("registries").verified();
        let count = |f: &str| {
            v.unconfirmed_by
                .iter()
                .find(|(id, _)| id == f)
                .map(|(_, n)| *n)
        };
        assert_eq!(count("mhlw-checklist-r8"), Some(20));
        assert_eq!(count("provider-guideline-2.0"), Some(6));
        // 14⑤, 14.1.1, 12⑥ and 17①–③ are confirmed; the other 18 are not.
        assert_eq!(count("mhlw-guideline-7.0"), Some(18));
        assert_eq!(count("ipa-tls-guideline"), None, "{v:?}");
        let total: usize = v.unconfirmed_by.iter().map(|(_, n)| n).sum();
        assert_eq!(total, v.unconfirmed);
    }

    #[test]
    fn the_confirmed_7_0_items_and_their_6_0_mappings_hold() {
        let r = Registry::builtin().expect("registries");
        for id in [
            "システム運用編 14⑤",
            "システム運用編 14.1.1",
            "システム運用編 12⑥",
            "システム運用編 17①",
            "システム運用編 17②",
            "システム運用編 17③",
        ] {
            let item = r.get("mhlw-guideline-7.0", id).expect(id);
            assert!(!item.unconfirmed, "{id}");
        }
        let old = r
            .get("mhlw-guideline-6.0", "システム運用編 14 二要素認証")
            .expect("6.0 2FA");
        assert!(old
            .maps_to
            .contains(&"mhlw-guideline-7.0:システム運用編 14⑤".to_owned()));
        let (f, _) = r.framework("mhlw-guideline-7.0").expect("7.0");
        assert_eq!(f.parts.len(), 5);
        assert_eq!(f.issued.as_deref(), Some("2026-06-29"));
        let (f, _) = r.framework("provider-guideline").expect("1.1");
        assert_eq!(f.superseded_by.as_deref(), Some("provider-guideline-2.0"));
    }

    #[test]
    fn an_item_of_an_unconfirmed_edition_that_is_not_flagged_is_refused() {
        let text = builtin_text("mhlw-checklist-r8.toml").replacen(
            "evidence = [\"partial\"]\nunconfirmed = true\nmaps_to = [\"mhlw-checklist-r7:2-①\"",
            "evidence = [\"partial\"]\nmaps_to = [\"mhlw-checklist-r7:2-①\"",
            1,
        );
        assert_ne!(
            text,
            builtin_text("mhlw-checklist-r8.toml"),
            "the edit applies"
        );
        let problems = with("mhlw-checklist-r8.toml", &text).expect_err("unflagged");
        let p = problems
            .iter()
            .find(|p| p.message.contains("numbering_unconfirmed"))
            .unwrap_or_else(|| panic!("{problems}"));
        assert_eq!(p.rule.as_deref(), Some("台帳管理"), "{p}");
        assert_eq!(p.file, "requirements/mhlw-checklist-r8.toml", "{p}");
    }

    #[test]
    fn an_item_whose_words_say_unconfirmed_must_be_flagged() {
        let text = builtin_text("mhlw-guideline-7.0.toml").replacen(
            "evidence = [\"network\", \"host\"]\nunconfirmed = true\n",
            "evidence = [\"network\", \"host\"]\n",
            1,
        );
        assert_ne!(
            text,
            builtin_text("mhlw-guideline-7.0.toml"),
            "the edit applies"
        );
        let problems = with("mhlw-guideline-7.0.toml", &text).expect_err("unflagged");
        assert!(
            problems.mention("rule 企画管理編 機器の安全性確認: its text says \"未確認\""),
            "{problems}"
        );
        let text = builtin_text("mhlw-guideline-7.0.toml").replacen(
            "id = \"システム運用編 12⑥\"",
            "id = \"運用編 12⑥\"",
            1,
        );
        let problems = with("mhlw-guideline-7.0.toml", &text).expect_err("no part");
        assert!(
            problems.mention("must start with one of the parts"),
            "{problems}"
        );
    }
}
