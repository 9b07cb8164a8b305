//! Fingerprints as self-testing data: `rules/fingerprints/*.toml`.
//!
//! A fingerprint is a list of matchers over a service's fields (its protocol
//! facts such as `ssh.software` or `http.title`, plus `banner`, `service` and,
//! for HTTP, `http.body`), every one of which must match, and the attributes
//! it then sets (`vendor`, `product`, `version`, `distribution`, `device` …),
//! which may use the regexes' named captures as `${name}`.
//!
//! Fingerprints run in order (files by name, entries as written). An attribute
//! set by an earlier fingerprint is kept, so specific entries go before
//! general ones. Every entry carries examples (fields in, attributes out) and,
//! where look-alikes exist, counterexamples that must stay silent;
//! [`FingerprintSet::verify`] checks them all, alone and against the whole
//! set, so that no entry shadows another's example. Regexes are the `regex`
//! crate's: linear time, whatever a hostile banner holds.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde::Deserialize;

use crate::kind::DeviceKind;
use crate::rulefile::{place, read_toml_dir, Problem, Problems, Source};

/// The fingerprints' folder in the rules tree.
pub const FOLDER: &str = "fingerprints";

/// Fields a fingerprint may read besides the protocol facts the probes write
/// ([`kenshin_probe::facts`]).
pub const FIELDS: &[&str] = &["banner", "service", "http.body"];

/// True if a fingerprint may read `field`.
pub fn known_field(field: &str) -> bool {
    FIELDS.contains(&field) || kenshin_probe::facts::lookup(field).is_some()
}

/// Why a fingerprint may not read `field`, in words.
fn unknown_field(field: &str) -> String {
    if kenshin_probe::facts::in_known_namespace(field) {
        format!("no probe writes the fact {field:?} (the facts are listed in kenshin_probe::facts)")
    } else {
        format!(
            "unknown field {field:?} (a fingerprint reads {} and the probes' facts)",
            FIELDS.join(", ")
        )
    }
}

/// Attributes a fingerprint may set.
pub const ATTRIBUTES: &[&str] = &[
    "vendor",
    "product",
    "version",
    "os",
    "distribution",
    "package_revision",
    "model",
    "device",
];

/// Attributes that describe one product and are set together, by one fingerprint.
pub const PRODUCT_GROUP: &[&str] = &["vendor", "product", "version"];

/// The built-in fingerprint files, in evaluation order.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "appliance-vpn.toml",
        include_str!("../../../rules/fingerprints/appliance-vpn.toml"),
    ),
    (
        "dicom.toml",
        include_str!("../../../rules/fingerprints/dicom.toml"),
    ),
    (
        "ftp.toml",
        include_str!("../../../rules/fingerprints/ftp.toml"),
    ),
    (
        "http.toml",
        include_str!("../../../rules/fingerprints/http.toml"),
    ),
    (
        "mail.toml",
        include_str!("../../../rules/fingerprints/mail.toml"),
    ),
    (
        "printer.toml",
        include_str!("../../../rules/fingerprints/printer.toml"),
    ),
    (
        "smb.toml",
        include_str!("../../../rules/fingerprints/smb.toml"),
    ),
    (
        "snmp.toml",
        include_str!("../../../rules/fingerprints/snmp.toml"),
    ),
    (
        "ssh.toml",
        include_str!("../../../rules/fingerprints/ssh.toml"),
    ),
    (
        "telnet-vnc-rdp.toml",
        include_str!("../../../rules/fingerprints/telnet-vnc-rdp.toml"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    fingerprint: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    description: String,
    /// Only services identified as this (`ssh`, `http` …).
    #[serde(default)]
    service: Option<String>,
    #[serde(rename = "match")]
    matchers: Vec<RawMatcher>,
    set: BTreeMap<String, String>,
    /// How sure a match makes us, 0 to 1.
    certainty: f32,
    #[serde(default)]
    example: Vec<Example>,
    #[serde(default)]
    counterexample: Vec<Counterexample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatcher {
    field: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    exact: Option<String>,
}

/// Fields in, attributes out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    #[serde(default)]
    pub service: Option<String>,
    pub fields: BTreeMap<String, String>,
    pub expect: BTreeMap<String, String>,
}

/// Fields that must not match.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counterexample {
    #[serde(default)]
    pub service: Option<String>,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug)]
enum Test {
    Regex(Regex),
    Exact(String),
}

#[derive(Debug)]
struct Matcher {
    field: String,
    test: Test,
}

/// One compiled fingerprint.
#[derive(Debug)]
pub struct Fingerprint {
    pub id: String,
    pub file: String,
    pub description: String,
    pub service: Option<String>,
    matchers: Vec<Matcher>,
    set: BTreeMap<String, String>,
    pub certainty: f32,
    pub examples: Vec<Example>,
    pub counterexamples: Vec<Counterexample>,
}

/// What a service shows the fingerprints.
#[derive(Clone, Copy)]
pub struct Subject<'a> {
    pub service: Option<&'a str>,
    pub fields: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for Subject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subject")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// Attributes learned, and which fingerprints said so.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    pub attributes: BTreeMap<String, String>,
    /// IDs of the fingerprints that matched, in order.
    pub matched: Vec<String>,
    /// The highest certainty among the fingerprints that set an attribute.
    pub certainty: Option<f32>,
}

impl Identity {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
}

/// What [`FingerprintSet::verify`] checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    pub files: usize,
    pub fingerprints: usize,
    pub examples: usize,
    pub counterexamples: usize,
}

/// Every fingerprint, in evaluation order.
#[derive(Debug, Default)]
pub struct FingerprintSet {
    pub entries: Vec<Fingerprint>,
    files: usize,
}

fn problem(file: &str, id: &str, message: impl Into<String>) -> Problem {
    Problem::in_rule(file, id, message)
}

impl Fingerprint {
    /// The attributes this fingerprint sets for `subject`, or `None` if it does not match.
    pub fn apply(&self, subject: Subject<'_>) -> Option<BTreeMap<String, String>> {
        if let Some(s) = &self.service {
            if subject.service != Some(s.as_str()) {
                return None;
            }
        }
        let mut captures: BTreeMap<String, String> = BTreeMap::new();
        for m in &self.matchers {
            let value = (subject.fields)(&m.field)?;
            match &m.test {
                Test::Exact(e) => {
                    if &value != e {
                        return None;
                    }
                }
                Test::Regex(re) => {
                    let caps = re.captures(&value)?;
                    for name in re.capture_names().flatten() {
                        if let Some(c) = caps.name(name) {
                            captures.insert(name.to_owned(), c.as_str().to_owned());
                        }
                    }
                }
            }
        }
        let mut out = BTreeMap::new();
        for (attr, template) in &self.set {
            let value = expand(template, &captures);
            if !value.is_empty() {
                out.insert(attr.clone(), value);
            }
        }
        Some(out)
    }
}

/// Replaces `${name}` with the capture's text (empty when it did not participate).
fn expand(template: &str, captures: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find('}') {
            Some(end) => {
                if let Some(v) = captures.get(&after[..end]) {
                    out.push_str(v);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[at..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn template_names(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else { break };
        names.push(&after[..end]);
        rest = &after[end + 1..];
    }
    names
}

impl FingerprintSet {
    /// The fingerprints kenshin ships with.
    pub fn builtin() -> Result<Self, Problems> {
        Self::from_sources(&crate::rulefile::owned(FOLDER, BUILTIN))
    }

    /// Loads every `*.toml` in `dir` (the rules tree's `fingerprints/`), in name order.
    pub fn load_dir(dir: &std::path::Path) -> Result<Self, Problems> {
        Self::from_sources(&read_toml_dir(dir, FOLDER)?)
    }

    /// Parses and compiles fingerprint files in path order, checking the structure of
    /// every entry. Examples are checked by [`Self::verify`].
    pub fn from_sources(sources: &[Source]) -> Result<Self, Problems> {
        let mut set = FingerprintSet::default();
        let mut ids = BTreeSet::new();
        let mut problems = crate::rulefile::parse_each(sources, |source, file: File, problems| {
            set.files += 1;
            for raw in file.fingerprint {
                match compile(&source.path, raw, &mut ids) {
                    Ok(fp) => set.entries.push(fp),
                    Err(mut p) => problems.append(&mut p),
                }
            }
        });
        place(&mut problems, sources);
        Problems::or_ok(problems, set)
    }

    /// Runs every fingerprint over a subject. Vendor, product and version describe one
    /// product, so the first fingerprint that sets any of them owns all three: a later
    /// match cannot pin a web server's version on the appliance an earlier one named.
    pub fn identify(&self, subject: Subject<'_>) -> Identity {
        let mut id = Identity::default();
        let mut product_owner: Option<&str> = None;
        for fp in &self.entries {
            let Some(attrs) = fp.apply(subject) else {
                continue;
            };
            id.matched.push(fp.id.clone());
            let sets_product = attrs.keys().any(|k| PRODUCT_GROUP.contains(&k.as_str()));
            if sets_product && product_owner.is_none() {
                product_owner = Some(&fp.id);
            }
            let mut contributed = false;
            for (k, v) in attrs {
                if PRODUCT_GROUP.contains(&k.as_str()) && product_owner != Some(fp.id.as_str()) {
                    continue;
                }
                if let std::collections::btree_map::Entry::Vacant(e) = id.attributes.entry(k) {
                    e.insert(v);
                    contributed = true;
                }
            }
            if contributed {
                id.certainty = Some(id.certainty.map_or(fp.certainty, |c| c.max(fp.certainty)));
            }
        }
        id
    }

    /// Checks every example and counterexample: each example matches its entry and
    /// yields exactly the expected attributes, the whole set yields the same (no earlier
    /// entry shadows it), and each counterexample leaves its entry silent.
    pub fn verify(&self) -> Result<Verified, Problems> {
        let mut problems = Vec::new();
        let mut v = Verified {
            files: self.files,
            fingerprints: self.entries.len(),
            ..Verified::default()
        };
        for fp in &self.entries {
            for (i, ex) in fp.examples.iter().enumerate() {
                v.examples += 1;
                let lookup = |f: &str| ex.fields.get(f).cloned();
                let subject = Subject {
                    service: ex.service.as_deref(),
                    fields: &lookup,
                };
                match fp.apply(subject) {
                    None => problems.push(problem(
                        &fp.file,
                        &fp.id,
                        format!("example {} does not match", i + 1),
                    )),
                    Some(got) if got != ex.expect => problems.push(problem(
                        &fp.file,
                        &fp.id,
                        format!(
                            "example {} extracts {got:?}, expected {:?}",
                            i + 1,
                            ex.expect
                        ),
                    )),
                    Some(_) => {
                        let whole = self.identify(subject);
                        for (k, want) in &ex.expect {
                            if whole.get(k) != Some(want.as_str()) {
                                let by = whole
                                    .matched
                                    .iter()
                                    .take_while(|m| **m != fp.id)
                                    .cloned()
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                problems.push(problem(
                                    &fp.file,
                                    &fp.id,
                                    format!(
                                        "example {}: {k} = {want:?} is shadowed: the whole set \
                                         gives {:?} (earlier matches: {by})",
                                        i + 1,
                                        whole.get(k)
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            for (i, cx) in fp.counterexamples.iter().enumerate() {
                v.counterexamples += 1;
                let lookup = |f: &str| cx.fields.get(f).cloned();
                let subject = Subject {
                    service: cx.service.as_deref(),
                    fields: &lookup,
                };
                if let Some(got) = fp.apply(subject) {
                    problems.push(problem(
                        &fp.file,
                        &fp.id,
                        format!("counterexample {} matches, giving {got:?}", i + 1),
                    ));
                }
            }
        }
        Problems::or_ok(problems, v)
    }
}

fn compile(
    file: &str,
    raw: RawEntry,
    ids: &mut BTreeSet<String>,
) -> Result<Fingerprint, Vec<Problem>> {
    let id = raw.id.clone();
    let mut problems = Vec::new();
    let mut p = |m: String| problems.push(problem(file, &id, m));
    if !ids.insert(raw.id.clone()) {
        p(crate::rulefile::USED_TWICE.into());
    }
    if raw.description.trim().is_empty() {
        p("the description is empty".into());
    }
    if !(0.0..=1.0).contains(&raw.certainty) {
        p(format!("certainty {} is outside 0 to 1", raw.certainty));
    }
    if raw.matchers.is_empty() {
        p("no matcher".into());
    }
    if raw.set.is_empty() {
        p("sets no attribute".into());
    }
    if raw.example.is_empty() {
        p("has no example".into());
    }
    let example_fields = raw
        .example
        .iter()
        .flat_map(|x| x.fields.keys())
        .chain(raw.counterexample.iter().flat_map(|x| x.fields.keys()));
    let mut named: BTreeSet<&str> = raw.matchers.iter().map(|m| m.field.as_str()).collect();
    named.extend(example_fields.map(String::as_str));
    for f in named.into_iter().filter(|f| !known_field(f)) {
        p(unknown_field(f));
    }
    let mut matchers = Vec::new();
    let mut capture_names = BTreeSet::new();
    for m in &raw.matchers {
        let test = match (&m.regex, &m.exact) {
            (Some(r), None) => match regex::RegexBuilder::new(r).size_limit(1 << 20).build() {
                Ok(re) => {
                    capture_names.extend(re.capture_names().flatten().map(str::to_owned));
                    Test::Regex(re)
                }
                Err(e) => {
                    p(format!("regex for {} does not compile: {e}", m.field));
                    continue;
                }
            },
            (None, Some(e)) => Test::Exact(e.clone()),
            _ => {
                p(format!(
                    "matcher on {} needs exactly one of regex or exact",
                    m.field
                ));
                continue;
            }
        };
        matchers.push(Matcher {
            field: m.field.clone(),
            test,
        });
    }
    for (attr, template) in &raw.set {
        if !ATTRIBUTES.contains(&attr.as_str()) {
            p(format!(
                "unknown attribute {attr:?} (known: {})",
                ATTRIBUTES.join(", ")
            ));
        }
        if attr == "device" && DeviceKind::parse(template).is_none() {
            p(format!("device {template:?} is not a device kind"));
        }
        for name in template_names(template) {
            if !capture_names.contains(name) {
                p(format!("{attr} uses ${{{name}}}, which no regex captures"));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Fingerprint {
        id: raw.id,
        file: file.to_owned(),
        description: raw.description,
        service: raw.service,
        matchers,
        set: raw.set,
        certainty: raw.certainty,
        examples: raw.example,
        counterexamples: raw.counterexample,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str) -> Result<FingerprintSet, Problems> {
        FingerprintSet::from_sources(&[Source {
            path: "fingerprints/t.toml".to_owned(),
            text: text.to_owned(),
        }])
    }

    const TWO: &str = r#"
[[fingerprint]]
id = "a.general"
description = "d"
match = [{ field = "banner", regex = '^Foo/(?<v>\S+)' }]
set = { product = "Foo", version = "${v}" }
certainty = 0.8
example = [{ fields = { banner = "Foo/1.2" }, expect = { product = "Foo", version = "1.2" } }]

[[fingerprint]]
id = "b.specific"
description = "d"
match = [{ field = "banner", regex = '^Foo/(?<v>\S+) Pro' }]
set = { product = "Foo Pro", version = "${v}" }
certainty = 0.9
example = [{ fields = { banner = "Foo/2.0 Pro" }, expect = { product = "Foo Pro", version = "2.0" } }]
"#;

    #[test]
    fn a_general_entry_before_a_specific_one_is_caught_shadowing_it() {
        let fps = set(TWO).expect("compiles");
        let problems = fps.verify().expect_err("shadowed");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("shadowed"), "{problems:?}");
        assert!(problems[0].message.contains("a.general"), "{problems:?}");
    }

    #[test]
    fn a_later_fingerprint_cannot_add_its_version_to_an_earlier_ones_product() {
        let text = r#"
[[fingerprint]]
id = "portal"
description = "d"
match = [{ field = "http.title", exact = "Portal" }]
set = { vendor = "Acme", product = "Acme VPN", device = "network_device" }
certainty = 0.9
example = [{ fields = { "http.title" = "Portal" }, expect = { vendor = "Acme", product = "Acme VPN", device = "network_device" } }]

[[fingerprint]]
id = "webserver"
description = "d"
match = [{ field = "http.server", regex = '^nginx/(?<v>\S+)' }]
set = { product = "nginx", version = "${v}", os = "Linux" }
certainty = 0.9
example = [{ fields = { "http.server" = "nginx/1.22.1" }, expect = { product = "nginx", version = "1.22.1", os = "Linux" } }]
"#;
        let fps = set(text).expect("compiles");
        fps.verify().expect("examples hold");
        let fields = |f: &str| match f {
            "http.title" => Some("Portal".to_owned()),
            "http.server" => Some("nginx/1.22.1".to_owned()),
            _ => None,
        };
        let id = fps.identify(Subject {
            service: None,
            fields: &fields,
        });
        assert_eq!(id.get("product"), Some("Acme VPN"));
        assert_eq!(
            id.get("version"),
            None,
            "nginx's version is not the portal's"
        );
        assert_eq!(id.get("os"), Some("Linux"));
        assert_eq!(id.matched, vec!["portal", "webserver"]);
    }

    #[test]
    fn a_counterexample_that_matches_fails_verification() {
        let text = r#"
[[fingerprint]]
id = "x"
description = "d"
match = [{ field = "http.title", regex = 'Monitor' }]
set = { vendor = "Ricoh" }
certainty = 0.5
example = [{ fields = { "http.title" = "Web Image Monitor" }, expect = { vendor = "Ricoh" } }]
counterexample = [{ fields = { "http.title" = "System Monitor" } }]
"#;
        let problems = set(text).expect("compiles").verify().expect_err("fails");
        assert!(problems[0].message.contains("counterexample 1 matches"));
    }

    #[test]
    fn structural_mistakes_are_named() {
        let text = r#"
[[fingerprint]]
id = "x"
description = ""
match = [{ field = "banner", regex = '(' }]
set = { colour = "red", version = "${nope}", device = "toaster" }
certainty = 2.0
"#;
        let problems = set(text).expect_err("bad");
        let all = problems
            .iter()
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
            .join("\n");
        for needle in [
            "description",
            "certainty",
            "does not compile",
            "colour",
            "toaster",
            "no example",
        ] {
            assert!(all.contains(needle), "{needle}: {all}");
        }
    }

    #[test]
    fn a_field_no_probe_writes_is_refused_in_a_matcher_and_an_example() {
        let text = r#"
[[fingerprint]]
id = "x"
description = "d"
match = [{ field = "http.titel", regex = 'Monitor' }]
set = { vendor = "Ricoh" }
certainty = 0.5
example = [{ fields = { "http.titel" = "Web Image Monitor", "htp.server" = "x" }, expect = { vendor = "Ricoh" } }]
"#;
        let problems = set(text).expect_err("unregistered fields");
        assert!(
            problems.mention("no probe writes the fact \"http.titel\""),
            "{problems}"
        );
        assert!(
            problems.mention("unknown field \"htp.server\""),
            "{problems}"
        );
        assert!(
            problems
                .iter()
                .all(|p| p.line == Some(5) || p.line == Some(8)),
            "{problems}"
        );
    }

    #[test]
    fn every_shipped_fingerprint_verifies() {
        let fps = FingerprintSet::builtin().unwrap_or_else(|p| panic!("{p}"));
        let v = fps.verify().unwrap_or_else(|p| panic!("{p}"));
        assert!(v.fingerprints >= 60, "{v:?}");
        assert!(v.examples >= v.fingerprints);
    }

    #[test]
    fn the_builtin_list_names_every_file_in_the_rules_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/fingerprints");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("rules/fingerprints")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let builtin: Vec<String> = BUILTIN.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(on_disk, builtin);
    }
}
