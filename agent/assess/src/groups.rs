//! Finding groups: one line for one cause, however many hosts it touches.
//!
//! Every finding belongs to exactly one group. A group is one check and one common
//! cause:
//! - an advisory finding groups by its advisory (the same vulnerability everywhere);
//! - a certificate finding groups by the certificate's issuer (one internal CA that the
//!   scan was not told about is one group, not one line per server), except
//!   `tls.certificate-self-signed`, whose issuers are the hosts themselves and so group
//!   by the check alone, whatever the product;
//! - any other finding on an identified product groups by the product and version;
//! - the rest group by the check alone (the same missing control).
//!
//! A group's ID is derived from its check and cause, so the same cause carries the
//! same ID from one scan to the next (the daemon alerts once per new group, and an
//! exception may name a group).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::finding::{Finding, Severity, Text};
use crate::identify::{AssessedHost, Service};

/// The check whose members share the trust store problem named in its cause.
const UNTRUSTED: &str = "tls.certificate-untrusted";
/// Self-signed certificates are each their own issuer: grouped by the check.
const SELF_SIGNED: &str = "tls.certificate-self-signed";

/// One group of findings that share a cause.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// `g-` and 12 hex digits of the SHA-256 of the check and cause key.
    pub id: String,
    pub check: String,
    /// What the members share, as a stable key: `issuer:CN=Lab CA`,
    /// `advisory:openssh-regresshion`, `product:nginx 1.22.1`, or `check`.
    pub key: String,
    /// The cause in words.
    pub cause: Text,
    /// The highest severity among the members.
    pub severity: Severity,
    /// Member finding IDs, in report order.
    pub findings: Vec<String>,
    /// Distinct hosts among the members.
    pub hosts: usize,
}

impl Group {
    pub fn count(&self) -> usize {
        self.findings.len()
    }
}

/// The ID of the group of `check` with cause key `key`.
pub fn group_id(check: &str, key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("{check}\n{key}").as_bytes());
    let hex: String = digest
        .as_ref()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("g-{hex}")
}

/// True if `s` is shaped like a group ID (`g-` and 12 lower-case hex digits).
pub fn is_group_id(s: &str) -> bool {
    s.strip_prefix("g-").is_some_and(|h| {
        h.len() == 12
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// What a finding's cause is, before it is put into words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Cause {
    Advisory { id: String, what: Option<String> },
    Issuer(String),
    Product(String),
    Check,
}

impl Cause {
    fn key(&self) -> String {
        match self {
            Cause::Advisory { id, .. } => format!("advisory:{id}"),
            Cause::Issuer(i) => format!("issuer:{i}"),
            Cause::Product(p) => format!("product:{p}"),
            Cause::Check => "check".to_owned(),
        }
    }
}

/// What grouping reads about the service a finding is on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFacts {
    /// `vendor product version` of an identified service.
    pub product: Option<String>,
    /// The issuer of the certificate the service presented.
    pub issuer: Option<String>,
}

impl ServiceFacts {
    /// What `hosts` say about the service `f` is on (nothing for a host-level finding).
    pub fn of(hosts: &[AssessedHost], f: &Finding) -> ServiceFacts {
        let Some(s) = service_of(hosts, f) else {
            return ServiceFacts::default();
        };
        ServiceFacts {
            product: product_of(s),
            issuer: s
                .tls_report
                .as_ref()
                .and_then(|t| t.certificate.as_ref())
                .map(|c| c.facts.issuer.clone()),
        }
    }
}

fn service_of<'a>(hosts: &'a [AssessedHost], f: &Finding) -> Option<&'a Service> {
    let port = f.port?;
    let host = hosts.iter().find(|h| h.observation.address == f.host)?;
    host.services
        .iter()
        .find(|s| s.port == port && f.protocol.is_none_or(|p| p == s.protocol))
}

/// `vendor product version`, or `product version`, of an identified service.
fn product_of(s: &Service) -> Option<String> {
    let product = s.product.as_deref().filter(|p| !p.trim().is_empty())?;
    Some(product_words(
        s.vendor.as_deref(),
        product,
        s.version.as_deref(),
    ))
}

/// The words naming a product: `Samba Team` + `Samba` reads `Samba`, `Fortinet` +
/// `FortiGate SSL-VPN` keeps both.
fn product_words(vendor: Option<&str>, product: &str, version: Option<&str>) -> String {
    let first = |t: &str| t.split_whitespace().next().unwrap_or("").to_lowercase();
    let vendor = vendor.filter(|v| !v.trim().is_empty() && first(v) != first(product));
    [vendor, Some(product), version]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

fn cause_of(f: &Finding, facts: ServiceFacts) -> Cause {
    if let Some(a) = &f.advisory {
        return Cause::Advisory {
            id: a.id.clone(),
            what: facts.product,
        };
    }
    if f.check == SELF_SIGNED {
        return Cause::Check;
    }
    if f.check.starts_with("tls.certificate-") {
        if let Some(issuer) = facts.issuer {
            return Cause::Issuer(issuer);
        }
    }
    match facts.product {
        Some(p) if !f.check.starts_with("inventory.") => Cause::Product(p),
        _ => Cause::Check,
    }
}

/// The most readable name of a distinguished name: its CN, else the whole name.
pub fn common_name(dn: &str) -> &str {
    dn.split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or(dn)
}

fn words(check: &str, title: &Text, cause: &Cause, hosts: usize) -> Text {
    match cause {
        Cause::Issuer(issuer) if check == UNTRUSTED => {
            let name = common_name(issuer);
            Text {
                ja: format!(
                    "{hosts} 台のサーバが「{name}」の発行した証明書を提示しています。\
                     この発行者は信頼ストアにありません。院内 CA であれば --ca-file で指定してください"
                ),
                en: format!(
                    "{hosts} {servers} present certificates from '{name}', which is not in the \
                     trust store; if it is your internal CA, pass it with --ca-file",
                    servers = plural(hosts, "server", "servers")
                ),
            }
        }
        Cause::Issuer(issuer) => {
            let name = common_name(issuer);
            Text {
                ja: format!("{}：「{name}」が発行した証明書、{hosts} 台", title.ja),
                en: format!(
                    "{}: certificates issued by '{name}', {hosts} {}",
                    title.en,
                    plural(hosts, "host", "hosts")
                ),
            }
        }
        Cause::Advisory { id, what } => {
            let (ja_what, en_what) = match what {
                Some(w) => (format!("（{w}）"), format!(" ({w})")),
                None => (String::new(), String::new()),
            };
            Text {
                ja: format!("{}：{id}{ja_what}、{hosts} 台", title.ja),
                en: format!(
                    "{}: {id}{en_what} on {hosts} {}",
                    title.en,
                    plural(hosts, "host", "hosts")
                ),
            }
        }
        Cause::Product(p) => Text {
            ja: format!("{}：{p}、{hosts} 台", title.ja),
            en: format!(
                "{}: {p} on {hosts} {}",
                title.en,
                plural(hosts, "host", "hosts")
            ),
        },
        Cause::Check => Text {
            ja: format!("{}：{hosts} 台", title.ja),
            en: format!("{}: {hosts} {}", title.en, plural(hosts, "host", "hosts")),
        },
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Groups `findings` (in report order) by check and cause. Groups come out most
/// severe first, then largest first, then by check.
pub fn group(findings: &[Finding], hosts: &[AssessedHost]) -> Vec<Group> {
    group_with(findings, |f| ServiceFacts::of(hosts, f))
}

/// [`group`] with what is known of each finding's service given by `facts`.
pub fn group_with(findings: &[Finding], facts: impl Fn(&Finding) -> ServiceFacts) -> Vec<Group> {
    struct Acc<'a> {
        check: &'a str,
        title: &'a Text,
        cause: Cause,
        severity: Severity,
        findings: Vec<String>,
        hosts: BTreeSet<IpAddr>,
    }
    let mut by_key: BTreeMap<(String, String), Acc<'_>> = BTreeMap::new();
    for f in findings {
        let cause = cause_of(f, facts(f));
        let acc = by_key
            .entry((f.check.clone(), cause.key()))
            .or_insert_with(|| Acc {
                check: &f.check,
                title: &f.title,
                cause,
                severity: f.severity,
                findings: Vec::new(),
                hosts: BTreeSet::new(),
            });
        acc.severity = acc.severity.min(f.severity);
        acc.findings.push(f.id.clone());
        acc.hosts.insert(f.host);
    }
    let mut groups: Vec<Group> = by_key
        .into_iter()
        .map(|((check, key), acc)| Group {
            id: group_id(&check, &key),
            cause: words(acc.check, acc.title, &acc.cause, acc.hosts.len()),
            check,
            key,
            severity: acc.severity,
            findings: acc.findings,
            hosts: acc.hosts.len(),
        })
        .collect();
    groups.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.count().cmp(&a.count()))
            .then(a.check.cmp(&b.check))
            .then(a.key.cmp(&b.key))
    });
    groups
}

#[cfg(test)]
mod tests;
