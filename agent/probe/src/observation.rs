//! What the probes saw: typed observations, judged by nothing.
//!
//! The probe crate reports every state it met (open, closed, filtered,
//! unreachable, not scanned) and how each host was found; deciding what that
//! means is the assess crate's job.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use kenshin_wire::tls::{CipherSuite, NamedGroup, Version};
use time::OffsetDateTime;

use crate::evidence::Evidence;
use crate::ports::Protocol;

/// How a host was found to be up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiscoveryMethod {
    /// ICMP echo reply.
    Icmp,
    /// ARP reply on a directly connected segment.
    Arp,
    /// A TCP SYN-ACK or RST, from a TCP ping or the port scan.
    Tcp,
    /// A UDP reply or an ICMP port-unreachable from the host.
    Udp,
    /// Heard while listening: a DHCP client's broadcast.
    Dhcp,
    /// Heard while listening: an LLDP announcement.
    Lldp,
    /// Heard while listening: a CDP announcement.
    Cdp,
    /// Heard while listening: an mDNS/DNS-SD message.
    Mdns,
    /// Heard while listening: an SSDP NOTIFY or search.
    Ssdp,
    /// Heard while listening: a NetBIOS name-service broadcast.
    Nbns,
    /// Heard while listening: IPv6 neighbour or router discovery.
    Ndp,
}

impl DiscoveryMethod {
    /// `icmp`, `arp`, `tcp` or `udp`; passive sources `dhcp`, `lldp`, `cdp`,
    /// `mdns`, `ssdp`, `nbns`, `ndp` (an ARP heard while listening is `arp`).
    pub fn as_str(self) -> &'static str {
        match self {
            DiscoveryMethod::Icmp => "icmp",
            DiscoveryMethod::Arp => "arp",
            DiscoveryMethod::Tcp => "tcp",
            DiscoveryMethod::Udp => "udp",
            DiscoveryMethod::Dhcp => "dhcp",
            DiscoveryMethod::Lldp => "lldp",
            DiscoveryMethod::Cdp => "cdp",
            DiscoveryMethod::Mdns => "mdns",
            DiscoveryMethod::Ssdp => "ssdp",
            DiscoveryMethod::Nbns => "nbns",
            DiscoveryMethod::Ndp => "ndp",
        }
    }
}

/// The state of one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortState {
    /// TCP SYN-ACK, or a UDP reply.
    Open,
    /// TCP RST, or ICMP port unreachable for UDP.
    Closed,
    /// TCP: no answer after every attempt.
    Filtered,
    /// UDP: no answer after every attempt; a UDP service may be silent.
    OpenFiltered,
    /// A router said the host is unreachable.
    Unreachable,
}

impl PortState {
    /// `open`, `closed`, `filtered`, `open|filtered` or `unreachable`.
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::OpenFiltered => "open|filtered",
            PortState::Unreachable => "unreachable",
        }
    }
}

/// One port's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortObservation {
    pub port: u16,
    pub protocol: Protocol,
    pub state: PortState,
    /// `syn-ack`, `reset`, `no-response`, `udp-response`, `port-unreachable`, `host-unreachable`.
    pub reason: &'static str,
    /// Attempts made (1 = answered the first time).
    pub attempts: u32,
    pub rtt: Option<Duration>,
    /// The safety policy allows nothing but a connect on this port.
    pub connect_only: bool,
    pub evidence: Option<String>,
}

/// What SNMP said, when a GetRequest with the configured community was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnmpObservation {
    /// `v1` or `v2c`: the version of the request that was answered.
    pub version: &'static str,
    /// The agent answered, so it accepts the community for reading (v1/v2c agents
    /// do not answer requests with a community they reject).
    pub community_accepted: bool,
    /// The error-status name when the agent answered with an error.
    pub error_status: Option<String>,
    pub sys_descr: Option<String>,
    pub sys_object_id: Option<String>,
    pub sys_name: Option<String>,
    pub sys_uptime_ticks: Option<u64>,
    pub evidence: String,
}

impl SnmpObservation {
    /// What SNMP said, as the protocol facts of the SNMP service (`snmp.sys_descr` …;
    /// names from [`crate::facts`]).
    pub fn facts(&self) -> Facts {
        let mut facts = Facts::new();
        facts.insert("snmp.version".into(), Fact::Text(self.version.to_owned()));
        for (name, value) in [
            ("snmp.sys_descr", &self.sys_descr),
            ("snmp.sys_object_id", &self.sys_object_id),
            ("snmp.sys_name", &self.sys_name),
        ] {
            if let Some(v) = value {
                facts.insert(name.into(), Fact::Text(v.clone()));
            }
        }
        if let Some(t) = self.sys_uptime_ticks {
            facts.insert(
                "snmp.sys_uptime_ticks".into(),
                Fact::Int(i64::try_from(t).unwrap_or(i64::MAX)),
            );
        }
        facts
    }
}

/// One protocol fact, as a service stated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    Text(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

impl Fact {
    /// The fact as text, for matching: lists joined with `,`.
    pub fn as_text(&self) -> String {
        match self {
            Fact::Text(s) => s.clone(),
            Fact::Int(i) => i.to_string(),
            Fact::Bool(b) => b.to_string(),
            Fact::List(v) => v.join(","),
        }
    }
}

/// Protocol facts by name (`ssh.software`, `smb.signing_required`, `http.title` …).
pub type Facts = std::collections::BTreeMap<String, Fact>;

/// What service identification learned on one open port.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceObservation {
    pub port: u16,
    pub protocol: Protocol,
    /// The protocol the service's bytes showed (`ssh`, `http`, `smb` …); `None` if
    /// nothing it said was recognised.
    pub detected: Option<String>,
    /// True if the service spoke TLS.
    pub tls: bool,
    /// What the service said about itself, printable and capped.
    pub banner: Option<String>,
    pub facts: Facts,
    /// The TLS audit's findings, if the port speaks TLS or can be upgraded to it.
    pub tls_audit: Option<TlsAuditObservation>,
    /// Text the fingerprints may read but the report does not carry (an HTTP body).
    pub body: Option<String>,
    pub evidence: Vec<String>,
    /// What went wrong or was cut short, for a person reading the report.
    pub notes: Vec<String>,
}

/// Whether a server picks the suite by its own order or by the client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuitePreference {
    Server,
    Client,
    /// One suite accepted, or the audit stopped before it could tell.
    Unknown,
}

impl SuitePreference {
    /// `server`, `client` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            SuitePreference::Server => "server",
            SuitePreference::Client => "client",
            SuitePreference::Unknown => "unknown",
        }
    }
}

/// What the TLS audit learned about one protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsVersionObservation {
    pub version: Version,
    pub accepted: bool,
    /// Accepted suites in the order the server gave them, each with the evidence of
    /// the handshake that showed it.
    pub suites: Vec<(CipherSuite, String)>,
    pub preference: SuitePreference,
    /// The handshake that showed the version accepted (the first) or refused.
    pub evidence: Option<String>,
    /// False if the enumeration stopped before the server refused the rest.
    pub complete: bool,
}

/// A certificate chain the server presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainObservation {
    /// DER certificates, leaf first.
    pub der: Vec<Vec<u8>>,
    pub evidence: String,
}

/// What the TLS audit learned on one port.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsAuditObservation {
    /// `tls`, `smtp-starttls`, `ftp-auth-tls`, `imap-starttls`, `pop3-stls`.
    pub channel: &'static str,
    /// Every version asked about, newest first.
    pub versions: Vec<TlsVersionObservation>,
    /// Key-exchange groups in the server's order, with evidence.
    pub groups: Vec<(NamedGroup, String)>,
    /// Finite-field DHE prime sizes seen, with evidence.
    pub dh_bits: Vec<(u16, String)>,
    /// Distinct chains (by leaf), in the order seen.
    pub chains: Vec<ChainObservation>,
    /// SSLv2 cipher kinds, if the server answered SSLv2.
    pub sslv2_ciphers: Vec<String>,
    /// TLS handshakes attempted (one TCP connection each).
    pub handshakes: u32,
    /// How long the audit took, pauses included.
    pub duration: Duration,
    pub complete: bool,
    pub notes: Vec<String>,
}

/// How far the scan of a host got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostScanState {
    /// Every planned probe was made.
    Complete,
    /// A router reported the host unreachable; the remaining ports were not probed.
    Unreachable,
    /// The host stopped answering mid-scan and was abandoned after backing off.
    Abandoned,
    /// The scan was interrupted before this host was finished.
    Interrupted,
    /// Only discovery ran for this address (a gated scan found it silent).
    NotPortScanned,
}

impl HostScanState {
    /// `complete`, `unreachable`, `abandoned`, `interrupted`, `not-port-scanned`.
    pub fn as_str(self) -> &'static str {
        match self {
            HostScanState::Complete => "complete",
            HostScanState::Unreachable => "unreachable",
            HostScanState::Abandoned => "abandoned",
            HostScanState::Interrupted => "interrupted",
            HostScanState::NotPortScanned => "not-port-scanned",
        }
    }
}

/// Everything seen of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostObservation {
    pub address: IpAddr,
    /// Target hostnames that resolved to this address.
    pub hostnames: Vec<String>,
    pub mac: Option<[u8; 6]>,
    pub discovered_by: BTreeSet<DiscoveryMethod>,
    pub rtt: Option<Duration>,
    /// The scanned ports worth keeping one by one, in (protocol, port) order: open
    /// ports, and any port that left evidence. The closed and silent rest are
    /// counted in `quiet` once the host's scan is over.
    pub ports: Vec<PortObservation>,
    /// Closed and silent ports that left no evidence, counted.
    pub quiet: QuietPorts,
    pub snmp: Option<SnmpObservation>,
    /// What identification learned on each open TCP port it probed.
    pub services: Vec<ServiceObservation>,
    pub scan_state: HostScanState,
    /// Things a person should know: back-offs, local errors.
    pub notes: Vec<String>,
    pub probes_sent: u64,
    /// What the path to the host showed: the reply's TTL, whether it routes for the
    /// scanner.
    pub path: PathEvidence,
    /// Names the system resolver gave for the address (a PTR lookup, made for hosts
    /// that serve TLS).
    pub reverse_names: Vec<String>,
    /// Frames sent to this host and its busiest second, as kenshin counted them.
    pub frames: crate::governor::Tally,
    /// The class budget the host got, and why; `None` if its class stayed unknown.
    pub budget: Option<crate::governor::AppliedBudget>,
}

impl HostObservation {
    /// A host known without any probe of its own (heard while listening): no ports,
    /// no services, nothing sent to it.
    pub fn unprobed(
        address: IpAddr,
        mac: Option<[u8; 6]>,
        discovered_by: BTreeSet<DiscoveryMethod>,
        notes: Vec<String>,
    ) -> Self {
        Self {
            address,
            hostnames: Vec::new(),
            mac,
            discovered_by,
            rtt: None,
            ports: Vec::new(),
            quiet: Default::default(),
            snmp: None,
            services: Vec::new(),
            scan_state: HostScanState::NotPortScanned,
            notes,
            probes_sent: 0,
            path: PathEvidence::default(),
            reverse_names: Vec::new(),
            frames: Default::default(),
            budget: None,
        }
    }
}

/// What the network path says about a host, without asking its services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathEvidence {
    /// The IP TTL of its echo reply (a weak hint of the operating system: most start
    /// at 64, 128 or 255).
    pub reply_ttl: Option<u8>,
    /// The address is a gateway in the scanner's own routing table (its default
    /// gateway or a route's next hop).
    pub route_gateway: bool,
    /// It answered an echo request limited to one hop although it is outside the
    /// scanner's connected segments: it is an interface of the next-hop router.
    pub one_hop: bool,
    /// It answered a TTL-limited echo request towards another address with ICMP time
    /// exceeded: it forwards packets, a router on the way.
    pub time_exceeded_for: Vec<IpAddr>,
    /// The address is one of the scanner's own.
    pub scanner: bool,
    /// Evidence records of the hop probes that showed it.
    pub evidence: Vec<String>,
}

impl PathEvidence {
    /// True if anything shows the host routes packets for the scanner.
    pub fn is_router(&self) -> bool {
        self.route_gateway || self.one_hop || !self.time_exceeded_for.is_empty()
    }
}

impl HostObservation {
    /// True if anything at all answered from this address.
    pub fn is_up(&self) -> bool {
        !self.discovered_by.is_empty()
    }

    /// Moves closed and silent ports without evidence from `ports` into the counts
    /// of `quiet`. At hospital scale they are nearly every port observation a scan
    /// makes, and nothing reads them but as counts.
    pub fn fold_quiet_ports(&mut self) {
        let quiet = &mut self.quiet;
        self.ports.retain(|p| {
            if p.evidence.is_some() {
                return true;
            }
            match p.state {
                PortState::Closed => {
                    quiet.closed += 1;
                    if p.protocol == Protocol::Tcp {
                        quiet.tcp_closed += 1;
                        quiet.tcp_closed_retried += u32::from(p.attempts > 1);
                    }
                    false
                }
                PortState::Filtered | PortState::OpenFiltered => {
                    quiet.filtered += 1;
                    false
                }
                PortState::Open | PortState::Unreachable => true,
            }
        });
        self.ports.shrink_to_fit();
    }

    /// Closed ports, kept or counted.
    pub fn closed_ports(&self) -> u64 {
        self.count_kept(|s| s == PortState::Closed) + u64::from(self.quiet.closed)
    }

    /// Filtered (TCP) and open|filtered (UDP) ports, kept or counted.
    pub fn filtered_ports(&self) -> u64 {
        self.count_kept(|s| matches!(s, PortState::Filtered | PortState::OpenFiltered))
            + u64::from(self.quiet.filtered)
    }

    /// Whether any port answered, open or closed.
    pub fn any_port_answered(&self) -> bool {
        self.quiet.closed > 0
            || self
                .ports
                .iter()
                .any(|p| matches!(p.state, PortState::Open | PortState::Closed))
    }

    fn count_kept(&self, state: impl Fn(PortState) -> bool) -> u64 {
        self.ports.iter().filter(|p| state(p.state)).count() as u64
    }
}

/// Closed and silent ports of one host that left no evidence, counted rather than
/// kept (see [`HostObservation::fold_quiet_ports`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuietPorts {
    /// Closed ports: a TCP reset, or ICMP port unreachable for UDP.
    pub closed: u32,
    /// TCP ports silent after every attempt, and silent UDP ports (open|filtered).
    pub filtered: u32,
    /// The closed TCP ports among `closed`.
    pub tcp_closed: u32,
    /// Those of `tcp_closed` that answered only after a retry (the loss estimate
    /// counts them).
    pub tcp_closed_retried: u32,
}

/// Which addresses a scan port-scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMode {
    /// Every address in scope (less those ARP showed absent).
    Direct,
    /// Only hosts that answered ARP, ICMP or a TCP ping.
    Gated,
    /// Nothing sent: hosts heard while listening (`kenshin listen`).
    Listen,
}

impl ScanMode {
    /// `direct` or `gated`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanMode::Direct => "direct",
            ScanMode::Gated => "gated",
            ScanMode::Listen => "listen",
        }
    }
}

/// How the scan decided which addresses to port-scan.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryDecision {
    pub mode: ScanMode,
    pub reason: String,
    /// Probes a direct scan would need, and the seconds that takes at the rate caps.
    pub direct_probes: u64,
    pub direct_seconds: f64,
}

/// The result of a scan.
#[derive(Debug)]
pub struct ScanOutcome {
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub complete: bool,
    pub addresses: u128,
    /// Hosts found up, and addresses with something to say (notes), in address order.
    pub hosts: Vec<HostObservation>,
    pub evidence: Vec<Evidence>,
    pub discovery: DiscoveryDecision,
    pub warnings: Vec<String>,
    pub probes_icmp: u64,
    pub probes_arp: u64,
    pub probes_tcp: u64,
    pub probes_udp: u64,
    /// Frames on the wire, as kenshin counted them.
    pub frames: crate::governor::FrameStats,
    /// Where the time went.
    pub timing: ScanTiming,
    /// What the retry policy decided and the miss probability it accepted.
    pub retry: RetryPolicy,
}

/// Where a scan's time went: each phase's wall time, and each stage of a host's scan
/// summed over hosts (hosts run side by side, so these add up to more than the wall).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanTiming {
    /// (phase, milliseconds), in order.
    pub phases_ms: Vec<(String, u64)>,
    pub host_tcp_ms: u64,
    pub host_udp_ms: u64,
    /// Identification, the TLS audit included.
    pub host_identify_ms: u64,
    pub host_tls_audit_ms: u64,
    pub host_names_ms: u64,
}

/// The retry policy's decisions in one scan.
///
/// Silent ports of an address that has shown life are retried. An address silent on
/// every port after its first pass gets a second look on the few ports that this
/// scan's ping-silent hosts answered on (all ports on a lossy network), not a second
/// attempt on every port.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetryPolicy {
    /// Estimated chance that one probe to an answering port got no answer (from ports
    /// that answered only on a retry).
    pub loss_estimate: f64,
    /// Answering ports the estimate rests on.
    pub loss_samples: u64,
    /// The ports of the second look.
    pub second_look_ports: Vec<u16>,
    /// Share of the hosts expected missed by the first pass (ping-silent hosts like
    /// those found, weighted by their chance of being missed) whose open ports include
    /// one of them.
    pub second_look_coverage: f64,
    /// Live hosts expected still missed after the second look (see
    /// [`crate::scan::second_look::Look`]).
    pub expected_missed_hosts: f64,
    /// Addresses silent on every port after the first pass.
    pub lifeless_addresses: u64,
    /// Hosts found only by the second look.
    pub found_by_second_look: u64,
    /// The second look sent each silent address an echo too (the scan found hosts that
    /// answer ping and nothing else).
    pub second_look_echo: bool,
    /// The chance that a live host silent to ping, with filtered closed ports, is
    /// missed: every first-pass probe to its open ports lost, and the second look missed
    /// it too (for a host with one open port, the worst case).
    pub accepted_miss_probability: f64,
}

impl ScanOutcome {
    /// All probes sent.
    pub fn probes_sent(&self) -> u64 {
        self.probes_icmp + self.probes_arp + self.probes_tcp + self.probes_udp
    }
}
