//! Budgets by device class: `rules/safety.toml`, and where a host's class comes from.
//!
//! A class budget narrows the scan's per-host limits for a kind of device that
//! deserves less than a Linux server: fewer frames a second, fewer connections in
//! flight, a TLS audit that stops at versions and the certificate, ports that get
//! a connect and nothing more. Each budget carries its reason, in Japanese and
//! English, because the report repeats it next to every host it applied to.
//!
//! A host's class is learned from, in this order of trust: the asset ledger's kind
//! column, what listening heard, the MAC vendor, and the first telling open port
//! (DICOM on 104, HL7 on 2575, a JetDirect port). [`ClassHints`] is how the first
//! two reach the governor before the scan sends anything; the governor learns the
//! other two during the scan. From the moment a class is known its budget applies.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;
use thiserror::Error;

/// The file, under `rules/`.
pub const FILE: &str = "safety.toml";
/// The class budgets shipped with kenshin, compiled in.
pub const BUILTIN: &str = include_str!("../../../../rules/safety.toml");

/// The device classes a budget may name (the report's device kinds).
pub const CLASSES: [&str; 7] = [
    "server",
    "network_device",
    "terminal_pc",
    "medical_device",
    "printer",
    "iot",
    "unknown",
];

/// Where a host's class came from, most trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClassSource {
    /// The asset ledger's kind column (`--inventory`).
    Ledger,
    /// Listen-only discovery, before the scan.
    Passive,
    /// The vendor of the host's MAC address.
    MacVendor,
    /// An open port that only one kind of device offers.
    OpenPort,
    /// Nothing said otherwise.
    Default,
}

impl ClassSource {
    /// The name in report.json.
    pub fn as_str(self) -> &'static str {
        match self {
            ClassSource::Ledger => "ledger",
            ClassSource::Passive => "passive",
            ClassSource::MacVendor => "mac-vendor",
            ClassSource::OpenPort => "open-port",
            ClassSource::Default => "default",
        }
    }
}

/// A class learned for one address, and the words that say how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassHint {
    /// One of [`CLASSES`].
    pub class: String,
    pub source: ClassSource,
    /// How it was learned, for a person: "ledger row 4: kind 医療機器".
    pub reason: String,
}

/// Classes known before the scan, by address: from the ledger's kind column and
/// from listen-only discovery. The governor reads them when it first meets a host,
/// so the class budget holds from that host's very first frame.
#[derive(Debug, Clone, Default)]
pub struct ClassHints {
    by_addr: HashMap<IpAddr, ClassHint>,
}

impl ClassHints {
    /// Adds a hint; of two hints for one address the more trusted source wins, and
    /// of two from the same source the first.
    pub fn add(&mut self, addr: IpAddr, hint: ClassHint) {
        match self.by_addr.get(&addr) {
            Some(old) if old.source <= hint.source => {}
            _ => {
                self.by_addr.insert(addr, hint);
            }
        }
    }

    /// The hint for `addr`, if any.
    pub fn get(&self, addr: IpAddr) -> Option<&ClassHint> {
        self.by_addr.get(&addr)
    }

    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }
}

/// Text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    pub ja: String,
    pub en: String,
}

/// How far the TLS audit goes on a host of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsAuditScope {
    /// Versions, suites, preference, groups and certificates.
    Full,
    /// Which versions are accepted and the certificate; no suite enumeration.
    VersionsAndCertificate,
}

/// One class's budget, as `rules/safety.toml` states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassBudget {
    pub class: String,
    /// Frames a second to one host of the class; `None` keeps the scan's `--host-rate`.
    pub frames_per_s: Option<u32>,
    /// Connections in flight to one host; `None` keeps the scan's `--host-conns`.
    pub inflight: Option<u32>,
    pub tls_audit: TlsAuditScope,
    /// Ports that get a connect and no payload on a host of this class.
    pub connect_only: BTreeSet<u16>,
    pub reason: Words,
}

/// An open port that tells a host's class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortClass {
    pub port: u16,
    pub class: String,
    pub service: String,
}

/// A self-test of the file: what class a host with these traits gets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Example {
    line: usize,
    ledger: Option<String>,
    open_ports: Vec<u16>,
    class: String,
    frames_per_s: Option<u32>,
}

/// The parsed `rules/safety.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyRules {
    classes: Vec<ClassBudget>,
    ports: Vec<PortClass>,
    examples: Vec<Example>,
}

/// Why `rules/safety.toml` was refused: the file, the line and the key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct SafetyError {
    pub file: String,
    pub line: Option<usize>,
    pub key: String,
    pub problem: String,
}

impl fmt::Display for SafetyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}: {}", self.file, self.key, self.problem),
            None => write!(f, "{}: {}: {}", self.file, self.key, self.problem),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    class: Vec<toml::Spanned<RawClass>>,
    #[serde(default)]
    port: Vec<toml::Spanned<RawPort>>,
    #[serde(default)]
    example: Vec<toml::Spanned<RawExample>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    class: String,
    frames_per_s: Option<u32>,
    inflight: Option<u32>,
    tls_audit: TlsAuditScope,
    #[serde(default)]
    connect_only: Vec<String>,
    reason: Words,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPort {
    port: u16,
    class: String,
    service: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    ledger: Option<String>,
    #[serde(default)]
    open_ports: Vec<u16>,
    class: String,
    frames_per_s: Option<u32>,
}

/// The 1-based line of byte offset `at` in `text`.
fn line_at(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Most frames a second a class may allow a host: the scan's own ceiling.
const MAX_FRAMES: u32 = 100_000;

impl SafetyRules {
    /// The budgets compiled into this kenshin.
    pub fn builtin() -> Result<Self, SafetyError> {
        Self::parse(FILE, BUILTIN)
    }

    /// Parses `text`, the contents of `file`.
    pub fn parse(file: &str, text: &str) -> Result<Self, SafetyError> {
        let err = |line: Option<usize>, key: &str, problem: String| SafetyError {
            file: file.to_owned(),
            line,
            key: key.to_owned(),
            problem,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_at(text, s.start));
            let key = e.message().split('`').nth(1).unwrap_or("(file)").to_owned();
            err(line, &key, e.message().trim_end().to_owned())
        })?;
        let mut classes: Vec<ClassBudget> = Vec::new();
        for spanned in raw.class {
            let line = Some(line_at(text, spanned.span().start));
            let c = spanned.into_inner();
            if !CLASSES.contains(&c.class.as_str()) {
                return Err(err(
                    line,
                    "class",
                    format!("{:?} is not a class (use {})", c.class, CLASSES.join(", ")),
                ));
            }
            if classes.iter().any(|b| b.class == c.class) {
                return Err(err(line, "class", format!("{:?} has two budgets", c.class)));
            }
            if let Some(f) = c.frames_per_s.filter(|f| *f == 0 || *f > MAX_FRAMES) {
                return Err(err(
                    line,
                    "frames_per_s",
                    format!("{f} is out of range (1 to {MAX_FRAMES})"),
                ));
            }
            if let Some(n) = c.inflight.filter(|n| *n == 0 || *n > 256) {
                return Err(err(
                    line,
                    "inflight",
                    format!("{n} is out of range (1 to 256)"),
                ));
            }
            if c.reason.ja.trim().is_empty() || c.reason.en.trim().is_empty() {
                return Err(err(
                    line,
                    "reason",
                    "a budget needs its reason in both ja and en".into(),
                ));
            }
            let mut connect_only = BTreeSet::new();
            for spec in &c.connect_only {
                let (lo, hi) = match spec.split_once('-') {
                    Some((a, b)) => (a.trim().parse::<u16>(), b.trim().parse::<u16>()),
                    None => (spec.trim().parse::<u16>(), spec.trim().parse::<u16>()),
                };
                match (lo, hi) {
                    (Ok(lo), Ok(hi)) if lo >= 1 && lo <= hi => connect_only.extend(lo..=hi),
                    _ => {
                        return Err(err(
                            line,
                            "connect_only",
                            format!("{spec:?} is not a port or a range like \"9100-9107\""),
                        ))
                    }
                }
            }
            classes.push(ClassBudget {
                class: c.class,
                frames_per_s: c.frames_per_s,
                inflight: c.inflight,
                tls_audit: c.tls_audit,
                connect_only,
                reason: c.reason,
            });
        }
        for needed in ["unknown", "medical_device", "printer", "network_device"] {
            if !classes.iter().any(|c| c.class == needed) {
                return Err(err(
                    None,
                    "class",
                    format!("no budget for {needed:?}; every file must state it"),
                ));
            }
        }
        let mut ports = Vec::new();
        for spanned in raw.port {
            let line = Some(line_at(text, spanned.span().start));
            let p = spanned.into_inner();
            if !classes.iter().any(|c| c.class == p.class) {
                return Err(err(
                    line,
                    "class",
                    format!("port {} names {:?}, which has no budget", p.port, p.class),
                ));
            }
            if p.port == 0 {
                return Err(err(line, "port", "0 is not a port".into()));
            }
            ports.push(PortClass {
                port: p.port,
                class: p.class,
                service: p.service,
            });
        }
        let examples = raw
            .example
            .into_iter()
            .map(|s| {
                let line = line_at(text, s.span().start);
                let e = s.into_inner();
                Example {
                    line,
                    ledger: e.ledger,
                    open_ports: e.open_ports,
                    class: e.class,
                    frames_per_s: e.frames_per_s,
                }
            })
            .collect();
        Ok(Self {
            classes,
            ports,
            examples,
        })
    }

    /// The budget of `class`, or of `unknown` for a class the file does not name.
    pub fn budget(&self, class: &str) -> &ClassBudget {
        self.classes
            .iter()
            .find(|c| c.class == class)
            .or_else(|| self.classes.iter().find(|c| c.class == "unknown"))
            .unwrap_or(&self.classes[0])
    }

    /// The class an open `port` tells, with its words.
    pub fn class_of_port(&self, port: u16) -> Option<ClassHint> {
        self.ports
            .iter()
            .find(|p| p.port == port)
            .map(|p| ClassHint {
                class: p.class.clone(),
                source: ClassSource::OpenPort,
                reason: format!("tcp/{port} ({}) open", p.service),
            })
    }

    /// How many open ports tell a class.
    pub fn telling_ports(&self) -> usize {
        self.ports.len()
    }

    /// Every class budget.
    pub fn classes(&self) -> &[ClassBudget] {
        &self.classes
    }

    /// The class a host gets from what is known about it, in the order of trust,
    /// with the frames a second it may receive under a scan host rate of `host_rate`.
    pub fn derive(
        &self,
        ledger: Option<&str>,
        open_ports: &[u16],
        host_rate: u32,
    ) -> (String, u32) {
        let class = ledger
            .map(str::to_owned)
            .or_else(|| {
                open_ports
                    .iter()
                    .find_map(|&p| self.class_of_port(p))
                    .map(|h| h.class)
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let rate = self
            .budget(&class)
            .frames_per_s
            .map_or(host_rate, |f| f.min(host_rate));
        (class, rate)
    }

    /// Runs the file's examples; each failure names its line. Returns how many held.
    pub fn verify(&self, file: &str) -> Result<usize, Vec<SafetyError>> {
        let mut problems = Vec::new();
        for e in &self.examples {
            let (class, rate) = self.derive(
                e.ledger.as_deref(),
                &e.open_ports,
                super::DEFAULT_HOST_RATE_PPS,
            );
            if class != e.class {
                problems.push(SafetyError {
                    file: file.to_owned(),
                    line: Some(e.line),
                    key: "example.class".into(),
                    problem: format!("expected class {:?}, derived {class:?}", e.class),
                });
            }
            if let Some(want) = e.frames_per_s.filter(|w| *w != rate) {
                problems.push(SafetyError {
                    file: file.to_owned(),
                    line: Some(e.line),
                    key: "example.frames_per_s".into(),
                    problem: format!("expected {want} frames/s, derived {rate}"),
                });
            }
        }
        if self.examples.is_empty() {
            problems.push(SafetyError {
                file: file.to_owned(),
                line: None,
                key: "example".into(),
                problem: "the file has no examples to check".into(),
            });
        }
        if problems.is_empty() {
            Ok(self.examples.len())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_budgets_load_and_their_examples_hold() {
        let rules = SafetyRules::builtin().expect("rules/safety.toml");
        let held = rules.verify(FILE).expect("examples");
        assert!(held >= 4, "{held}");
        let medical = rules.budget("medical_device");
        assert_eq!(medical.frames_per_s, Some(10));
        assert_eq!(medical.inflight, Some(2));
        assert_eq!(medical.tls_audit, TlsAuditScope::VersionsAndCertificate);
        let printer = rules.budget("printer");
        assert_eq!(printer.frames_per_s, Some(10));
        assert!((9100..=9107).all(|p| printer.connect_only.contains(&p)));
        assert_eq!(rules.budget("network_device").frames_per_s, None);
        assert_eq!(rules.budget("no-such-class").class, "unknown");
    }

    #[test]
    fn the_ledger_outranks_an_open_port_and_a_port_outranks_nothing() {
        let rules = SafetyRules::builtin().expect("rules/safety.toml");
        assert_eq!(rules.derive(Some("server"), &[104], 40).0, "server");
        assert_eq!(
            rules.derive(None, &[22, 104], 40),
            ("medical_device".into(), 10)
        );
        assert_eq!(rules.derive(None, &[9100], 40), ("printer".into(), 10));
        assert_eq!(rules.derive(None, &[22], 40), ("unknown".into(), 40));
        // A class budget never raises the operator's own host rate.
        assert_eq!(rules.derive(Some("medical_device"), &[], 5).1, 5);
    }

    #[test]
    fn a_hint_from_a_more_trusted_source_wins() {
        let addr: IpAddr = "198.18.0.5".parse().expect("addr");
        let mut hints = ClassHints::default();
        let hint = |class: &str, source| ClassHint {
            class: class.into(),
            source,
            reason: String::new(),
        };
        hints.add(addr, hint("printer", ClassSource::Passive));
        hints.add(addr, hint("medical_device", ClassSource::Ledger));
        hints.add(addr, hint("server", ClassSource::Passive));
        assert_eq!(
            hints.get(addr).map(|h| h.class.as_str()),
            Some("medical_device")
        );
    }

    #[test]
    fn a_malformed_file_is_refused_naming_file_line_and_key() {
        let bad = "[[class]]\nclass = \"medical_device\"\nframes_per_s = 0\ntls_audit = \"full\"\nreason = { ja = \"x\", en = \"x\" }\n";
        let e = SafetyRules::parse("safety.toml", bad).expect_err("frames 0");
        assert_eq!((e.line, e.key.as_str()), (Some(1), "frames_per_s"));
        assert!(
            e.to_string().starts_with("safety.toml:1: frames_per_s:"),
            "{e}"
        );

        let typo = "[[class]]\nclass = \"printer\"\nframes_per_sec = 10\n";
        let e = SafetyRules::parse("safety.toml", typo).expect_err("unknown key");
        assert_eq!(e.key, "frames_per_sec", "{e}");
        assert!(e.line.is_some(), "{e}");

        let toaster = "[[class]]\nclass = \"toaster\"\ntls_audit = \"full\"\nreason = { ja = \"x\", en = \"x\" }\n";
        let e = SafetyRules::parse("safety.toml", toaster).expect_err("class");
        assert!(e.to_string().contains("\"toaster\" is not a class"), "{e}");
    }
}
