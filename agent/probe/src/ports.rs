//! Port lists: nmap-style `-p` specs, and the default catalog in `rules/ports.toml`.
//!
//! A spec is a comma-separated list of ports and ranges, each optionally
//! prefixed by `T:` or `U:` to choose the protocol; a prefix stays in force
//! until the next one, as in nmap (`22,80,U:161,T:443`). Unprefixed entries
//! are TCP.

use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize;
use thiserror::Error;

/// Transport protocol of a port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a port spec could not be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("port spec {spec:?}: {reason} (at {part:?})")]
pub struct PortSpecError {
    pub spec: String,
    pub part: String,
    pub reason: &'static str,
}

/// The TCP and UDP ports of a scan, each sorted and unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortList {
    pub tcp: Vec<u16>,
    pub udp: Vec<u16>,
}

impl PortList {
    /// Total number of (protocol, port) pairs.
    pub fn len(&self) -> usize {
        self.tcp.len() + self.udp.len()
    }

    /// True if no port is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Renders the list back in spec syntax with ranges collapsed (`T:22-23,80,U:161`).
    pub fn to_spec(&self) -> String {
        let mut parts = Vec::new();
        for (prefix, ports) in [("T:", &self.tcp), ("U:", &self.udp)] {
            if ports.is_empty() {
                continue;
            }
            parts.push(format!("{prefix}{}", collapse(ports)));
        }
        parts.join(",")
    }
}

fn collapse(ports: &[u16]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ports.len() {
        let start = ports[i];
        let mut end = start;
        while i + 1 < ports.len() && ports[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = ports[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

/// Parses an nmap-style port spec.
pub fn parse_port_spec(spec: &str) -> Result<PortList, PortSpecError> {
    let err = |part: &str, reason| PortSpecError {
        spec: spec.to_owned(),
        part: part.to_owned(),
        reason,
    };
    let mut tcp = BTreeSet::new();
    let mut udp = BTreeSet::new();
    let mut proto = Protocol::Tcp;
    for raw in spec.split(',') {
        let mut part = raw.trim();
        if part.is_empty() {
            return Err(err(raw, "empty entry"));
        }
        if let Some((p, rest)) = part.split_once(':') {
            proto = match p.to_ascii_uppercase().as_str() {
                "T" => Protocol::Tcp,
                "U" => Protocol::Udp,
                _ => return Err(err(raw, "protocol prefix must be T: or U:")),
            };
            part = rest;
        }
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (parse_port(a), parse_port(b)),
            None => (parse_port(part), parse_port(part)),
        };
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Err(err(raw, "ports must be numbers from 1 to 65535"));
        };
        if hi < lo {
            return Err(err(raw, "range end is below its start"));
        }
        let set = match proto {
            Protocol::Tcp => &mut tcp,
            Protocol::Udp => &mut udp,
        };
        set.extend(lo..=hi);
    }
    Ok(PortList {
        tcp: tcp.into_iter().collect(),
        udp: udp.into_iter().collect(),
    })
}

fn parse_port(s: &str) -> Option<u16> {
    s.trim().parse::<u16>().ok().filter(|p| *p != 0)
}

/// One entry of `rules/ports.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PortEntry {
    pub port: u16,
    pub protocol: Protocol,
    pub service: String,
    pub category: String,
    #[serde(default)]
    pub hint: Option<String>,
    /// The probe to open with when the service speaks only when spoken to; ports
    /// without one are first listened to (see [`FirstProbe`]).
    #[serde(default)]
    pub probe: Option<FirstProbe>,
    /// With `probe = "tls"`: what to speak inside TLS.
    #[serde(default)]
    pub tls_inner: Option<TlsInner>,
    pub reason: String,
}

/// What identification speaks inside TLS on a port whose probe is `tls`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum TlsInner {
    /// A GET of `/` over TLS.
    #[default]
    Http,
    /// Listen for a greeting (IMAPS, POP3S, SMTPS).
    Banner,
    /// DICOM association over TLS.
    Dicom,
    /// The handshake only.
    None,
}

/// How service identification opens a conversation on a port.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum FirstProbe {
    /// Connect and listen: SSH, FTP, SMTP, POP3, IMAP, Telnet and VNC speak first.
    Banner,
    /// A plain HTTP GET of `/`.
    Http,
    /// A TLS handshake, then the inner protocol (HTTP unless the port says otherwise).
    Tls,
    /// RDP's X.224 Connection Request with security negotiation.
    Rdp,
    /// SMB1 then SMB2 NEGOTIATE.
    Smb,
    /// A DICOM A-ASSOCIATE-RQ for Verification, then A-RELEASE-RQ.
    Dicom,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SafetySection {
    connect_only: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiscoverySection {
    tcp_ping: Vec<u16>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HintsSection {
    precedence: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    version: String,
    safety: SafetySection,
    discovery: DiscoverySection,
    hints: HintsSection,
    category: Vec<Category>,
    port: Vec<PortEntry>,
}

/// A group of ports by what they are for (`remote-access`, `web`, `medical` …).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub name: String,
    /// A way into the hospital from outside or for a vendor (checklist 2-⑥ 2-⑬).
    #[serde(default)]
    pub remote_entry: bool,
    pub meaning: String,
}

/// Device kinds a catalog entry may hint at (the report contract's `kind` values).
pub const KINDS: &[&str] = &[
    "server",
    "network_device",
    "terminal_pc",
    "medical_device",
    "printer",
    "iot",
];

/// Why the catalog could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CatalogError {
    #[error("ports catalog: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("ports catalog: {0}")]
    Spec(#[from] PortSpecError),
    #[error("ports catalog: {0}")]
    Hints(String),
    #[error("ports catalog entry {protocol}/{port}: {reason}")]
    Entry {
        port: u16,
        protocol: Protocol,
        reason: String,
    },
}

/// The default ports, their services and reasons, and the safety and discovery lists.
#[derive(Debug, Clone)]
pub struct PortCatalog {
    pub version: String,
    pub entries: Vec<PortEntry>,
    connect_only: PortList,
    pub tcp_ping: Vec<u16>,
    /// Device kinds in the order they win when hints disagree.
    pub hint_precedence: Vec<String>,
    /// What the ports are grouped by.
    pub categories: Vec<Category>,
}

/// The catalog shipped in `rules/ports.toml`, compiled in.
pub const BUILTIN_CATALOG: &str = include_str!("../../../rules/ports.toml");

impl PortCatalog {
    /// The catalog compiled into this binary.
    pub fn builtin() -> Result<Self, CatalogError> {
        Self::parse(BUILTIN_CATALOG)
    }

    /// Parses and checks a catalog.
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let file: CatalogFile = toml::from_str(text)?;
        let mut names = BTreeSet::new();
        for c in &file.category {
            if !names.insert(c.name.as_str()) || c.meaning.trim().is_empty() {
                return Err(CatalogError::Hints(format!(
                    "[[category]] {:?} is listed twice or has no meaning",
                    c.name
                )));
            }
        }
        let mut seen = BTreeSet::new();
        for e in &file.port {
            let bad = |reason: String| CatalogError::Entry {
                port: e.port,
                protocol: e.protocol,
                reason,
            };
            if e.port == 0 {
                return Err(bad("port 0 is not a port".into()));
            }
            if !seen.insert((e.protocol, e.port)) {
                return Err(bad("listed twice".into()));
            }
            if !file.category.iter().any(|c| c.name == e.category) {
                return Err(bad(format!("unknown category {:?}", e.category)));
            }
            if let Some(h) = &e.hint {
                if !KINDS.contains(&h.as_str()) {
                    return Err(bad(format!("unknown hint {h:?}")));
                }
            }
            if e.tls_inner.is_some() && e.probe != Some(FirstProbe::Tls) {
                return Err(bad("tls_inner needs probe = \"tls\"".into()));
            }
            if e.reason.trim().is_empty() || e.service.trim().is_empty() {
                return Err(bad("service and reason must not be empty".into()));
            }
            if e.service != e.service.to_ascii_lowercase() {
                return Err(bad(format!("service {:?} must be lower-case", e.service)));
            }
        }
        let mut precedence = file.hints.precedence.clone();
        precedence.sort();
        let mut kinds = KINDS.to_vec();
        kinds.sort_unstable();
        if precedence != kinds {
            return Err(CatalogError::Hints(format!(
                "[hints].precedence must list each of {} exactly once",
                KINDS.join(", ")
            )));
        }
        let connect_only = if file.safety.connect_only.is_empty() {
            PortList::default()
        } else {
            parse_port_spec(&file.safety.connect_only.join(","))?
        };
        Ok(Self {
            version: file.version,
            entries: file.port,
            connect_only,
            tcp_ping: file.discovery.tcp_ping,
            hint_precedence: file.hints.precedence,
            categories: file.category,
        })
    }

    /// True if ports of this category are a way in from outside or for a vendor.
    pub fn is_remote_entry(&self, category: &str) -> bool {
        self.categories
            .iter()
            .any(|c| c.name == category && c.remote_entry)
    }

    /// Every catalog port, as a scan list.
    pub fn default_ports(&self) -> PortList {
        let mut tcp: Vec<u16> = self
            .entries
            .iter()
            .filter(|e| e.protocol == Protocol::Tcp)
            .map(|e| e.port)
            .collect();
        let mut udp: Vec<u16> = self
            .entries
            .iter()
            .filter(|e| e.protocol == Protocol::Udp)
            .map(|e| e.port)
            .collect();
        tcp.sort_unstable();
        udp.sort_unstable();
        PortList { tcp, udp }
    }

    /// The catalog entry for a port, if any.
    pub fn entry(&self, protocol: Protocol, port: u16) -> Option<&PortEntry> {
        self.entries
            .iter()
            .find(|e| e.protocol == protocol && e.port == port)
    }

    /// The probe to open with on `port`, from the catalog (`Banner` when it says nothing).
    pub fn first_probe(&self, protocol: Protocol, port: u16) -> FirstProbe {
        self.entry(protocol, port)
            .and_then(|e| e.probe)
            .unwrap_or(FirstProbe::Banner)
    }

    /// What to speak inside TLS on `port` (HTTP unless the catalog says otherwise).
    pub fn tls_inner(&self, protocol: Protocol, port: u16) -> TlsInner {
        self.entry(protocol, port)
            .and_then(|e| e.tls_inner)
            .unwrap_or_default()
    }

    /// True if the safety policy allows nothing but a TCP connect on this port.
    pub fn is_connect_only(&self, protocol: Protocol, port: u16) -> bool {
        match protocol {
            Protocol::Tcp => self.connect_only.tcp.binary_search(&port).is_ok(),
            Protocol::Udp => self.connect_only.udp.binary_search(&port).is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remote_entry_categories_come_from_the_catalog() {
        let c = PortCatalog::builtin().expect("built-in catalog");
        let mut remote: Vec<&str> = c
            .categories
            .iter()
            .filter(|k| c.is_remote_entry(&k.name))
            .map(|k| k.name.as_str())
            .collect();
        remote.sort_unstable();
        assert_eq!(remote, ["remote-access", "remote-maintenance", "vpn"]);
        assert!(!c.is_remote_entry("web") && !c.is_remote_entry("no-such-category"));
        // Every port's category is one the catalog defines.
        let unknown = BUILTIN_CATALOG.replacen(
            "category = \"remote-access\"\nreason",
            "category = \"remote-acess\"\nreason",
            1,
        );
        let e = PortCatalog::parse(&unknown).expect_err("unknown category");
        assert!(
            e.to_string().contains("unknown category \"remote-acess\""),
            "{e}"
        );
    }

    #[test]
    fn nmap_style_specs_parse_with_sticky_protocol_prefixes() {
        let list = parse_port_spec("22,80,8000-8003,U:161,T:443").expect("valid spec");
        assert_eq!(list.tcp, vec![22, 80, 443, 8000, 8001, 8002, 8003]);
        assert_eq!(list.udp, vec![161]);
        let sticky = parse_port_spec("U:53,161").expect("valid spec");
        assert_eq!(sticky.udp, vec![53, 161]);
        assert!(sticky.tcp.is_empty());
    }

    #[test]
    fn bad_specs_name_the_bad_part() {
        for (spec, part) in [
            ("22,abc", "abc"),
            ("0", "0"),
            ("65536", "65536"),
            ("90-80", "90-80"),
            ("X:22", "X:22"),
            ("22,,23", ""),
        ] {
            let err = parse_port_spec(spec).expect_err(spec);
            assert_eq!(err.part, part, "{spec}");
            assert!(err.to_string().contains(spec));
        }
    }

    #[test]
    fn specs_round_trip_through_their_collapsed_form() {
        let list = parse_port_spec("T:1-3,5,U:161-162").expect("valid spec");
        assert_eq!(list.to_spec(), "T:1-3,5,U:161-162");
        assert_eq!(parse_port_spec(&list.to_spec()), Ok(list));
    }

    #[test]
    fn the_builtin_catalog_covers_what_the_safety_policy_and_probes_need() {
        let cat = PortCatalog::builtin().expect("builtin catalog is valid");
        let ports = cat.default_ports();
        for needed in [
            21, 22, 23, 80, 104, 443, 445, 2575, 3389, 5900, 8443, 9100, 10443, 11112,
        ] {
            assert!(
                ports.tcp.contains(&needed),
                "default list lacks tcp/{needed}"
            );
        }
        assert_eq!(ports.udp, vec![161]);
        assert!(
            ports.len() < 200,
            "the default list is curated, not exhaustive"
        );
        for raw in 9100..=9107 {
            assert!(cat.is_connect_only(Protocol::Tcp, raw));
        }
        assert!(cat.is_connect_only(Protocol::Tcp, 2575));
        assert!(!cat.is_connect_only(Protocol::Tcp, 443));
        assert_eq!(
            cat.entry(Protocol::Udp, 161).map(|e| e.service.as_str()),
            Some("snmp")
        );
    }

    #[test]
    fn a_catalog_with_an_unknown_field_or_duplicate_is_refused() {
        let base = "version = \"t\"\n[safety]\nconnect_only = []\n[discovery]\ntcp_ping = [80]\n\
                    [hints]\nprecedence = [\"medical_device\", \"printer\", \"network_device\", \
                    \"iot\", \"server\", \"terminal_pc\"]\n\
                    [[category]]\nname = \"web\"\nmeaning = \"web servers\"\n";
        let entry = "[[port]]\nport = 80\nprotocol = \"tcp\"\nservice = \"http\"\ncategory = \"web\"\nreason = \"r\"\n";
        assert!(PortCatalog::parse(&format!("{base}{entry}")).is_ok());
        let dup = PortCatalog::parse(&format!("{base}{entry}{entry}"))
            .expect_err("duplicate")
            .to_string();
        assert!(dup.contains("tcp/80") && dup.contains("twice"), "{dup}");
        let unknown = format!("{base}{entry}colour = \"red\"\n");
        assert!(PortCatalog::parse(&unknown).is_err());
        let bad_hint = format!("{base}{entry}hint = \"toaster\"\n");
        assert!(PortCatalog::parse(&bad_hint)
            .expect_err("bad hint")
            .to_string()
            .contains("toaster"));
    }
}
