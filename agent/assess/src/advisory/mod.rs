//! Advisories as self-testing data: `rules/advisories/*.toml`.
//!
//! An advisory names a vulnerability (CVE, CVSS, KEV date, vendor advisory IDs) or an
//! end of support, the product it concerns (matchers over the service's fields), and
//! which versions are affected, branch by branch (`{ branch = "7.2", from = "7.2.0",
//! fixed = "7.2.3" }`). Its confidence rules:
//!
//! - `confirmed`: the version is exact and in an affected range, and nothing could
//!   have backported the fix — or the distribution's package revision (Debian/Ubuntu
//!   SSH banners) is older than the distribution's fixed revision;
//! - `potential`: the version is in range but the platform backports fixes and the
//!   banner does not say which package revision it runs (RHEL-style `OpenSSH_8.7`),
//!   or the advisory caps itself there (vsftpd 2.3.4: only one tarball was
//!   backdoored);
//! - `likely`: no version, but a build date (FortiGate ETag, NetScaler gzip stamp)
//!   older than the fix on every branch;
//! - `exposure`: the product is there and nothing tells its version.
//!
//! Every advisory carries boundary examples — the last affected and the first fixed
//! version of each branch with a fix — and [`AdvisorySet::verify`] requires and runs
//! them. The pack records where its data came from (KEV catalog version, dates).

pub mod version;

use std::collections::BTreeMap;
use std::path::Path;

use kenshin_probe::observation::{Fact, Facts};
use regex::Regex;
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::finding::{Confidence, RequirementRef, Severity, Text};
use crate::matcher::{compile_all, example_fields, Matcher, RawMatcher};
use crate::requirements::Registry;
use crate::rulefile::{
    duplicate_ids, parse_each, place, read_toml_dir, valid_slug, Problem, Problems, Source,
};
use crate::subject::{known_field, unknown_field};

/// The advisories' folder in the rules tree.
pub const FOLDER: &str = "advisories";

/// The shipped advisory files.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "end-of-life.toml",
        include_str!("../../../../rules/advisories/end-of-life.toml"),
    ),
    (
        "servers.toml",
        include_str!("../../../../rules/advisories/servers.toml"),
    ),
    (
        "vpn-appliances.toml",
        include_str!("../../../../rules/advisories/vpn-appliances.toml"),
    ),
];

/// Where a file's data came from.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// CISA KEV `catalogVersion` the KEV dates were read from.
    pub kev_catalog_version: String,
    /// When the entries were last compiled.
    pub compiled: String,
    pub sources: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    provenance: Provenance,
    advisory: Vec<RawAdvisory>,
}

/// How a fix may reach a system without changing the version it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backports {
    /// The vendor's version is the build: an exact version is conclusive.
    None,
    /// Linux distributions patch the package and keep the upstream version.
    Distribution,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    /// The last affected version, where the first fixed one is not known.
    #[serde(default)]
    through: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistroFix {
    distribution: String,
    version: String,
    fixed_revision: String,
    advisory: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuildDate {
    field: String,
    /// Captures `stamp`.
    regex: String,
    /// `hex-epoch` (8 hex digits of Unix time) or `http-date` (RFC 7231).
    format: String,
    /// A build made before this date (YYYY-MM-DD) lacks the fix on every branch.
    unfixed_before: String,
    /// Where the date comes from, in words.
    basis: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    fields: BTreeMap<String, toml::Value>,
    expect: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdvisory {
    id: String,
    #[serde(default)]
    cve: Vec<String>,
    #[serde(default)]
    name: Option<String>,
    title: Text,
    severity: Severity,
    #[serde(default)]
    cvss: Option<f32>,
    #[serde(default)]
    kev_added: Option<String>,
    #[serde(default)]
    ransomware: Option<String>,
    #[serde(default)]
    end_of_life: Option<String>,
    #[serde(default)]
    vendor_advisory: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    remediation: Text,
    requirements: Vec<String>,
    product: Vec<RawMatcher>,
    #[serde(default = "default_version_field")]
    version_field: String,
    #[serde(default)]
    affected: Vec<RawRange>,
    backports: Backports,
    #[serde(default)]
    distribution_fix: Vec<RawDistroFix>,
    #[serde(default)]
    build_date: Option<RawBuildDate>,
    /// The finding when the product is there but its version is unknown.
    #[serde(default)]
    when_version_unknown: Option<Confidence>,
    /// The strongest confidence this advisory may claim.
    #[serde(default)]
    max_confidence: Option<Confidence>,
    /// Fields every example starts from.
    #[serde(default)]
    example_base: BTreeMap<String, toml::Value>,
    example: Vec<RawExample>,
}

fn default_version_field() -> String {
    "version".to_owned()
}

/// One affected range: `from` (inclusive) to `fixed` (exclusive) or `through`
/// (inclusive) on `branch`; a range with neither end is the whole branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub branch: Option<String>,
    pub from: Option<String>,
    pub fixed: Option<String>,
    pub through: Option<String>,
}

impl Range {
    fn contains(&self, v: &str) -> bool {
        use std::cmp::Ordering::Less;
        self.branch
            .as_deref()
            .is_none_or(|b| version::on_branch(v, b))
            && self
                .from
                .as_deref()
                .is_none_or(|f| version::compare(v, f) != Less)
            && self
                .fixed
                .as_deref()
                .is_none_or(|f| version::compare(v, f) == Less)
            && self
                .through
                .as_deref()
                .is_none_or(|t| version::compare(v, t) != std::cmp::Ordering::Greater)
    }
}

/// A distribution's fixed package revision of one upstream version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistroFix {
    pub distribution: String,
    pub version: String,
    pub fixed_revision: String,
    pub advisory: String,
}

#[derive(Debug, Clone)]
struct BuildDate {
    field: String,
    regex: Regex,
    hex_epoch: bool,
    unfixed_before: Date,
    basis: String,
}

/// An advisory's expected outcome on an example: a confidence, or `none`.
#[derive(Debug, Clone)]
pub struct Example {
    pub fields: Facts,
    pub expect: Option<Confidence>,
}

/// A checked advisory.
#[derive(Debug, Clone)]
pub struct Advisory {
    pub id: String,
    pub file: String,
    pub cve: Vec<String>,
    pub name: Option<String>,
    pub title: Text,
    pub severity: Severity,
    pub cvss: Option<f32>,
    pub kev_added: Option<String>,
    pub ransomware: Option<String>,
    pub end_of_life: Option<String>,
    pub vendor_advisory: Vec<String>,
    pub references: Vec<String>,
    pub remediation: Text,
    pub requirements: Vec<RequirementRef>,
    product: Vec<Matcher>,
    version_field: String,
    pub affected: Vec<Range>,
    pub backports: Backports,
    pub distribution_fix: Vec<DistroFix>,
    build_date: Option<BuildDate>,
    when_version_unknown: Option<Confidence>,
    max_confidence: Option<Confidence>,
    /// Set for an advisory made from the KEV catalog alone: the product is known, the
    /// affected versions are not, so every verdict is `exposure` with this basis.
    unjudged: Option<String>,
    pub examples: Vec<Example>,
}

/// What an advisory made from KEV catalog entries alone holds ([`Advisory::from_kev`]).
#[derive(Debug, Clone)]
pub struct KevOnly {
    pub id: String,
    /// Where it comes from, as the report names rule files.
    pub file: String,
    pub cve: Vec<String>,
    pub title: Text,
    pub remediation: Text,
    pub kev_added: String,
    pub ransomware: Option<String>,
    /// Why exposure, in words (the CVEs, and that the version could not be judged).
    pub basis: String,
    pub requirements: Vec<RequirementRef>,
    pub product: Vec<Matcher>,
}

/// What an advisory concluded on one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub confidence: Confidence,
    /// The version, revision or date compared, in words.
    pub basis: String,
}

impl Advisory {
    /// An advisory for KEV entries that no advisory of the rules covers: high
    /// severity (KEV says exploited, not how badly; the catalog has no score),
    /// `exposure` whatever the version.
    pub fn from_kev(k: KevOnly) -> Self {
        Self {
            id: k.id,
            file: k.file,
            cve: k.cve,
            name: None,
            title: k.title,
            severity: Severity::High,
            cvss: None,
            kev_added: Some(k.kev_added),
            ransomware: k.ransomware,
            end_of_life: None,
            vendor_advisory: Vec::new(),
            references: Vec::new(),
            remediation: k.remediation,
            requirements: k.requirements,
            product: k.product,
            version_field: default_version_field(),
            affected: Vec::new(),
            backports: Backports::None,
            distribution_fix: Vec::new(),
            build_date: None,
            when_version_unknown: Some(Confidence::Exposure),
            max_confidence: Some(Confidence::Exposure),
            unjudged: Some(k.basis),
            examples: Vec::new(),
        }
    }

    /// The check ID its findings carry.
    pub fn check(&self) -> &'static str {
        match (&self.end_of_life, &self.kev_added) {
            (Some(_), _) => "lifecycle.end-of-support",
            (None, Some(_)) => "vuln.known-exploited",
            (None, None) => "vuln.known-vulnerability",
        }
    }

    fn cap(&self, c: Confidence) -> Confidence {
        // Confidence orders strongest first: a cap is a floor on the enum order.
        self.max_confidence.map_or(c, |m| c.max(m))
    }

    /// The verdict on one service's fields; `None` if it does not apply.
    pub fn evaluate(&self, fields: &Facts) -> Option<Verdict> {
        if !self.product.iter().all(|m| m.holds(fields)) {
            return None;
        }
        if let Some(basis) = &self.unjudged {
            return Some(Verdict {
                confidence: Confidence::Exposure,
                basis: basis.clone(),
            });
        }
        let version = fields
            .get(&self.version_field)
            .map(Fact::as_text)
            .filter(|v| !v.trim().is_empty());
        match version {
            Some(v) => self.by_version(&v, fields),
            None => self.by_build_date(fields).or_else(|| {
                self.when_version_unknown.map(|c| Verdict {
                    confidence: self.cap(c),
                    basis: "the product is present; its version could not be read".to_owned(),
                })
            }),
        }
    }

    fn by_version(&self, v: &str, fields: &Facts) -> Option<Verdict> {
        if !self.affected.is_empty() && !self.affected.iter().any(|r| r.contains(v)) {
            return None;
        }
        let in_range = if self.affected.is_empty() {
            format!("{} {v}", self.version_field)
        } else {
            format!("{} {v} is in an affected range", self.version_field)
        };
        if self.backports == Backports::None {
            return Some(Verdict {
                confidence: self.cap(Confidence::Confirmed),
                basis: in_range,
            });
        }
        let text = |k: &str| fields.get(k).map(Fact::as_text);
        let (distro, revision) = (text("distribution"), text("package_revision"));
        match (distro, revision) {
            (Some(d), Some(rev)) => {
                let fix = self
                    .distribution_fix
                    .iter()
                    .find(|f| f.distribution == d && f.version == v);
                match fix {
                    Some(f)
                        if version::compare_dpkg(&rev, &f.fixed_revision)
                            != std::cmp::Ordering::Less =>
                    {
                        None
                    }
                    Some(f) => Some(Verdict {
                        confidence: self.cap(Confidence::Confirmed),
                        basis: format!(
                            "{in_range}; {d} package revision {rev} is older than {} ({})",
                            f.fixed_revision, f.advisory
                        ),
                    }),
                    None => Some(Verdict {
                        confidence: self.cap(Confidence::Potential),
                        basis: format!(
                            "{in_range}; kenshin knows no {d} fix for {v}, so revision {rev} \
                             cannot be judged"
                        ),
                    }),
                }
            }
            _ => Some(Verdict {
                confidence: self.cap(Confidence::Potential),
                basis: format!(
                    "{in_range}, but distributions backport fixes and the banner names no \
                     package revision"
                ),
            }),
        }
    }

    fn by_build_date(&self, fields: &Facts) -> Option<Verdict> {
        let b = self.build_date.as_ref()?;
        let raw = fields.get(&b.field).map(Fact::as_text)?;
        let stamp = b.regex.captures(&raw)?.name("stamp")?.as_str().to_owned();
        let date = if b.hex_epoch {
            let secs = i64::from_str_radix(&stamp, 16).ok()?;
            OffsetDateTime::from_unix_timestamp(secs).ok()?.date()
        } else {
            parse_http_date(&stamp)?
        };
        (date < b.unfixed_before).then(|| Verdict {
            confidence: self.cap(Confidence::Likely),
            basis: format!(
                "build date {date} ({} {stamp:?}) is before {}: {}",
                b.field, b.unfixed_before, b.basis
            ),
        })
    }
}

/// `Tue, 15 Nov 1994 08:12:31 GMT` → its date.
fn parse_http_date(s: &str) -> Option<Date> {
    let mut words = s.split_whitespace().skip(1);
    let day: u8 = words.next()?.parse().ok()?;
    let month = match words.next()? {
        "Jan" => time::Month::January,
        "Feb" => time::Month::February,
        "Mar" => time::Month::March,
        "Apr" => time::Month::April,
        "May" => time::Month::May,
        "Jun" => time::Month::June,
        "Jul" => time::Month::July,
        "Aug" => time::Month::August,
        "Sep" => time::Month::September,
        "Oct" => time::Month::October,
        "Nov" => time::Month::November,
        "Dec" => time::Month::December,
        _ => return None,
    };
    let year: i32 = words.next()?.parse().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|e| format!("{s:?} is not a YYYY-MM-DD date: {e}"))
}

fn parse_expect(s: &str) -> Result<Option<Confidence>, String> {
    Ok(match s {
        "none" => None,
        "confirmed" => Some(Confidence::Confirmed),
        "likely" => Some(Confidence::Likely),
        "potential" => Some(Confidence::Potential),
        "exposure" => Some(Confidence::Exposure),
        other => {
            return Err(format!(
                "expect {other:?}: write confirmed, likely, potential, exposure or none"
            ))
        }
    })
}

fn compile(file: &str, raw: RawAdvisory) -> Result<Advisory, Vec<Problem>> {
    let id = raw.id.clone();
    let placed = |messages: Vec<String>| -> Vec<Problem> {
        messages
            .into_iter()
            .map(|m| Problem::in_rule(file, id.as_str(), m))
            .collect()
    };
    let mut problems = Vec::new();
    if !valid_slug(&raw.id) {
        problems.push("the ID must be lower-case letters, digits, '-' and '.'".to_owned());
    }
    for c in &raw.cve {
        let ok = c.strip_prefix("CVE-").is_some_and(|rest| {
            rest.split_once('-').is_some_and(|(y, n)| {
                y.len() == 4
                    && n.len() >= 4
                    && y.chars().chain(n.chars()).all(|ch| ch.is_ascii_digit())
            })
        });
        if !ok {
            problems.push(format!("{c:?} is not a CVE ID"));
        }
    }
    if raw.cve.is_empty() && raw.end_of_life.is_none() {
        problems.push("needs a CVE or an end_of_life date".to_owned());
    }
    for d in raw.kev_added.iter().chain(raw.end_of_life.iter()) {
        if let Err(e) = parse_date(d) {
            problems.push(e);
        }
    }
    if raw.cvss.is_some_and(|s| !(0.0..=10.0).contains(&s)) {
        problems.push("cvss must be 0 to 10".to_owned());
    }
    if raw.title.is_blank() || raw.remediation.is_blank() {
        problems.push("title and remediation need both ja and en".to_owned());
    }
    if !known_field(&raw.version_field) {
        problems.push(format!(
            "version_field: {}",
            unknown_field(&raw.version_field)
        ));
    }
    let mut requirements = Vec::new();
    for r in &raw.requirements {
        match RequirementRef::parse(r) {
            Some(x) => requirements.push(x),
            None => problems.push(format!("requirement {r:?} is not framework:id")),
        }
    }
    if requirements.is_empty() {
        problems.push("maps to no requirement".to_owned());
    }
    let product = compile_all(&raw.product).map_err(|e| format!("product: {e}"));
    if raw.product.is_empty() {
        problems.push("`product` is empty".to_owned());
    }
    let build_date = match &raw.build_date {
        None => None,
        Some(b) => {
            let regex = Regex::new(&b.regex).map_err(|e| format!("build_date regex: {e}"));
            let date = parse_date(&b.unfixed_before);
            let hex = match b.format.as_str() {
                "hex-epoch" => Ok(true),
                "http-date" => Ok(false),
                other => Err(format!(
                    "build_date format {other:?}: write hex-epoch or http-date"
                )),
            };
            if !known_field(&b.field) {
                problems.push(format!("build_date field: {}", unknown_field(&b.field)));
            }
            match (regex, date, hex) {
                (Ok(regex), Ok(unfixed_before), Ok(hex_epoch)) => {
                    if !regex.capture_names().any(|n| n == Some("stamp")) {
                        problems.push("build_date regex must capture `stamp`".to_owned());
                    }
                    Some(BuildDate {
                        field: b.field.clone(),
                        regex,
                        hex_epoch,
                        unfixed_before,
                        basis: b.basis.clone(),
                    })
                }
                (r, d, h) => {
                    problems.extend(r.err());
                    problems.extend(d.err());
                    problems.extend(h.err());
                    None
                }
            }
        }
    };
    for r in &raw.affected {
        if r.fixed.is_some() && r.through.is_some() {
            problems.push("a range gives `fixed` or `through`, not both".to_owned());
        }
    }
    let mut examples = Vec::new();
    for (i, x) in raw.example.iter().enumerate() {
        let mut merged = raw.example_base.clone();
        merged.extend(x.fields.clone());
        match (example_fields(&merged), parse_expect(&x.expect)) {
            (Ok(fields), Ok(expect)) => examples.push(Example { fields, expect }),
            (f, e) => {
                problems.extend(f.err().map(|e| format!("example {}: {e}", i + 1)));
                problems.extend(e.err().map(|e| format!("example {}: {e}", i + 1)));
            }
        }
    }
    let product = match product {
        Ok(p) => p,
        Err(e) => {
            problems.push(e);
            return Err(placed(problems));
        }
    };
    if !problems.is_empty() {
        return Err(placed(problems));
    }
    Ok(Advisory {
        id: raw.id,
        file: file.to_owned(),
        cve: raw.cve,
        name: raw.name,
        title: raw.title,
        severity: raw.severity,
        cvss: raw.cvss,
        kev_added: raw.kev_added,
        ransomware: raw.ransomware,
        end_of_life: raw.end_of_life,
        vendor_advisory: raw.vendor_advisory,
        references: raw.references,
        remediation: raw.remediation,
        requirements,
        product,
        version_field: raw.version_field,
        affected: raw
            .affected
            .into_iter()
            .map(|r| Range {
                branch: r.branch,
                from: r.from,
                fixed: r.fixed,
                through: r.through,
            })
            .collect(),
        backports: raw.backports,
        distribution_fix: raw
            .distribution_fix
            .into_iter()
            .map(|f| DistroFix {
                distribution: f.distribution,
                version: f.version,
                fixed_revision: f.fixed_revision,
                advisory: f.advisory,
            })
            .collect(),
        build_date,
        when_version_unknown: raw.when_version_unknown,
        max_confidence: raw.max_confidence,
        unjudged: None,
        examples,
    })
}

/// Every advisory, with each file's provenance.
#[derive(Debug, Clone)]
pub struct AdvisorySet {
    pub advisories: Vec<Advisory>,
    /// (file name within `advisories/`, provenance), as the report names them.
    pub provenance: Vec<(String, Provenance)>,
}

/// What `rules verify` reports about the advisories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub advisories: usize,
    pub cves: usize,
    pub kev: usize,
    pub examples: usize,
}

impl AdvisorySet {
    /// The shipped advisories.
    pub fn builtin() -> Result<Self, Problems> {
        Self::from_sources(&crate::rulefile::owned(FOLDER, BUILTIN))
    }

    /// Every `*.toml` in `dir` (the rules tree's `advisories/`).
    pub fn load_dir(dir: &Path) -> Result<Self, Problems> {
        Self::from_sources(&read_toml_dir(dir, FOLDER)?)
    }

    /// Parses files in path order; every problem is named by file, line and advisory.
    pub fn from_sources(sources: &[Source]) -> Result<Self, Problems> {
        let mut advisories: Vec<Advisory> = Vec::new();
        let mut provenance = Vec::new();
        let mut problems = parse_each(sources, |source, file: File, problems| {
            let name = source.path.as_str();
            if let Err(e) = parse_date(&file.provenance.compiled) {
                problems.push(Problem::in_file(name, format!("provenance.compiled: {e}")));
            }
            // The report names the file as it is named in its folder.
            let file_name = name.rsplit('/').next().unwrap_or(name);
            provenance.push((file_name.to_owned(), file.provenance));
            for raw in file.advisory {
                match compile(name, raw) {
                    Ok(a) => advisories.push(a),
                    Err(p) => problems.extend(p),
                }
            }
        });
        problems.extend(duplicate_ids(
            advisories.iter().map(|a| (a.file.as_str(), a.id.as_str())),
        ));
        place(&mut problems, sources);
        Problems::or_ok(
            problems,
            Self {
                advisories,
                provenance,
            },
        )
    }

    /// Runs every example, demands boundary examples (the first fixed and the last
    /// affected version of every branch with a fix), resolves every requirement, and
    /// runs the noise corpus (which must raise nothing).
    pub fn verify(&self, registry: &Registry, noise: &[Facts]) -> Result<Verified, Problems> {
        let mut problems = Vec::new();
        let mut v = Verified {
            advisories: self.advisories.len(),
            cves: self.advisories.iter().map(|a| a.cve.len()).sum(),
            kev: self
                .advisories
                .iter()
                .filter(|a| a.kev_added.is_some())
                .count(),
            examples: 0,
        };
        for a in &self.advisories {
            let at = |m: String| Problem::in_rule(a.file.as_str(), a.id.as_str(), m);
            for r in &a.requirements {
                if registry.get(&r.framework, &r.id).is_none() {
                    problems.push(at(format!(
                        "requirement \"{}:{}\" is in no registry",
                        r.framework, r.id
                    )));
                }
            }
            for (i, x) in a.examples.iter().enumerate() {
                v.examples += 1;
                let got = a.evaluate(&x.fields).map(|v| v.confidence);
                if got != x.expect {
                    problems.push(at(format!(
                        "example {} expects {} but gives {}",
                        i + 1,
                        x.expect.map_or("none", Confidence::as_str),
                        got.map_or("none", Confidence::as_str)
                    )));
                }
            }
            let versions_tried: Vec<(String, Option<Confidence>)> = a
                .examples
                .iter()
                .filter_map(|x| {
                    x.fields
                        .get(&a.version_field)
                        .map(|f| (f.as_text(), x.expect))
                })
                .collect();
            for r in &a.affected {
                let Some(fixed) = &r.fixed else { continue };
                let first_fixed = versions_tried
                    .iter()
                    .any(|(ver, e)| ver == fixed && e.is_none());
                let last_affected = versions_tried
                    .iter()
                    .any(|(ver, e)| e.is_some() && r.contains(ver));
                if !first_fixed || !last_affected {
                    problems.push(at(format!(
                        "the range fixed in {fixed:?} needs a boundary example at {fixed} \
                         (expect none) and one affected version in it"
                    )));
                }
            }
            for (i, n) in noise.iter().enumerate() {
                if let Some(verdict) = a.evaluate(n) {
                    problems.push(at(format!(
                        "noise sample {} raises it ({})",
                        i + 1,
                        verdict.basis
                    )));
                }
            }
        }
        Problems::or_ok(problems, v)
    }
}

#[cfg(test)]
mod tests;
