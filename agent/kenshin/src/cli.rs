//! Command-line syntax, and its translation into the engine's [`ScanSettings`]
//! (whose defaults and ranges the flags show and obey).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kenshin_engine::settings::{self, parse_duration, Discovery, ScanSettings};

/// kenshin (健診): finds every host and open port on a hospital network, gently,
/// and writes a verifiable report.
#[derive(Debug, Parser)]
#[command(name = "kenshin", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 done, no findings; 1 done, findings; 2 usage or runtime error; \
130 interrupted (partial report written)."
)]
pub(crate) struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Print nothing but errors; no progress bar, no summary.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Discover hosts and scan their ports.
    Scan(Box<ScanArgs>),
    /// Listen only: find hosts from what they broadcast and multicast (ARP, DHCP, LLDP,
    /// CDP, mDNS, SSDP, NetBIOS, IPv6 neighbour discovery) and send nothing at all.
    /// Writes a sealed report folder as `scan` does. Needs CAP_NET_RAW.
    Listen(ListenArgs),
    /// List the default ports with the reason each is scanned.
    Ports(PortsArgs),
    /// Check the rule files: the port catalog and every fingerprint's examples.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Check a report folder against its signed manifest: every file's SHA-256, no file
    /// missing or added, and the signature. Exits 0 if intact, 1 if not, 2 on error.
    Verify(VerifyReportArgs),
    /// Print evidence records of a report folder as transcripts (what was sent and
    /// received, as a hex dump), read from its archive evidence.jsonl.gz: the records
    /// named, or every record. Exits 0, or 2 naming an ID the folder does not hold.
    Evidence(EvidenceArgs),
    /// Compare two report folders: hosts, ports, versions and findings that changed.
    /// Exits 0 if nothing changed, 1 if something did, 2 on error.
    Diff(DiffArgs),
    /// Show the signing key's public half (creating the key if there is none), to hand
    /// its fingerprint to whoever verifies the reports.
    Key(KeyArgs),
    /// Run the scopes of the configuration file on their schedules, keep their history
    /// and send change alerts. SIGHUP reloads the configuration; SIGTERM stops cleanly.
    Daemon(ConfigArgs),
    /// Check the configuration file without scanning: every key, schedule, window,
    /// target and setting. Exits 0 if valid, 2 naming the file, line and key if not.
    CheckConfig(CheckConfigArgs),
    /// The last and next scan of every scope, and whether the daemon runs.
    Status(StatusArgs),
    /// The scans the daemon recorded: a list, one scan's changes, or one host's timeline.
    History(HistoryArgs),
    /// Check this machine without sending a packet: OS, kernel, uptime, listening
    /// services and processes, mapped to the checklist items that need a host view.
    /// Exits 0 with no findings, 1 with findings.
    HostCheck(HostCheckArgs),
    /// Many sensors, one view: the central PostgreSQL database (init, sensor, push,
    /// ingest, report). See docs/fleet.md.
    #[command(subcommand)]
    Fleet(crate::fleet_cmd::FleetCommand),
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// The configuration file.
    #[arg(short, long, value_name = "FILE", env = "KENSHIN_CONFIG", default_value = kenshin_daemon::config::DEFAULT_PATH)]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CheckConfigArgs {
    /// The configuration file (also taken as the first argument).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Language of the text (default: from LANG).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Language of the text (default: from LANG).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Only this scope's scans.
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,
    /// One host's timeline: what each scan saw at this address.
    #[arg(long, value_name = "ADDRESS", conflicts_with = "scan")]
    pub host: Option<String>,
    /// One scan: its record, its changes since the scan before, its notifications.
    #[arg(long, value_name = "ID")]
    pub scan: Option<String>,
    /// How many scans to list.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Language of the text (default: from LANG).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub(crate) struct HostCheckArgs {
    /// Print JSON (kenshin.host-check/1).
    #[arg(long)]
    pub json: bool,
    /// Language of the text (default: from LANG).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyReportArgs {
    /// The report folder (holding manifest.json and manifest.sig).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The key that must have signed it: SHA256:<fingerprint>, or a public-key PEM file.
    #[arg(long, value_name = "FINGERPRINT|FILE")]
    pub key: Option<String>,
    /// Language of the messages (default: from LANG).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub(crate) struct EvidenceArgs {
    /// The report folder.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Evidence IDs as the report cites them (ev-000123); none for every record.
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// One JSON record a line (the contract's evidence form, payloads in base64).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The earlier report folder.
    #[arg(value_name = "OLD_DIR")]
    pub old: PathBuf,
    /// The later report folder.
    #[arg(value_name = "NEW_DIR")]
    pub new: PathBuf,
    /// Print the changes as JSON.
    #[arg(long)]
    pub json: bool,
    /// Language of the text (default: from LANG).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// The private key file (created 0600 if missing).
    #[arg(long, value_name = "FILE", env = "KENSHIN_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
}

/// `kenshin rules …`
#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Check every rule file and run every fingerprint's examples and counterexamples.
    /// Exits 1 and names each problem if any fails.
    Verify(VerifyArgs),
    /// Build a signed rule pack: the rules tree (built in, or --dir) and a manifest of
    /// its version, date and file hashes, signed with Ed25519, in one file.
    Pack(PackArgs),
    /// Verify a rule pack (publisher, signature, every rule's self-test) and activate
    /// it in the local rule overlay; the previous one is kept for `rules rollback`.
    Install(InstallArgs),
    /// Make the previously active rule pack (or the built-in rules) active again.
    Rollback,
    /// Show the active rule pack, the imported KEV catalog and the editions in use.
    Status,
    /// Import CISA's known_exploited_vulnerabilities.json (downloaded on a connected
    /// PC): advisories take their KEV flags and dates from it.
    ImportKev(ImportKevArgs),
}

#[derive(Debug, Args)]
pub(crate) struct PackArgs {
    /// The Ed25519 private key that signs the pack (the publisher's key).
    #[arg(long, value_name = "FILE")]
    pub signing_key: PathBuf,
    /// Where the pack file is written.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,
    /// The pack's version, dotted numbers (default: today, YYYY.MM.DD).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// A rules folder to pack instead of the rules built into this kenshin.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// The pack file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The publisher's key fingerprint (SHA256:…); default: `[rules] publisher` of the
    /// daemon's configuration.
    #[arg(long, value_name = "SHA256:…")]
    pub publisher: Option<String>,
    /// The daemon configuration that pins the publisher.
    #[arg(long, value_name = "FILE", default_value = kenshin_daemon::config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// Accept a pack that is not newer than the active one.
    #[arg(long)]
    pub allow_downgrade: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ImportKevArgs {
    /// The catalog file (known_exploited_vulnerabilities.json).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// A rules folder to check (ports.toml, fingerprints/, checks/, advisories/ …) instead of the
    /// rules built into this kenshin.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// How hosts are chosen for the port scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiscoveryArg {
    /// Port-scan every address when that fits --time-budget, else only hosts found up.
    Auto,
    /// Port-scan only hosts that answered ARP, ICMP or a TCP ping.
    Gate,
    /// Port-scan every address in scope.
    Direct,
}

/// Language of the text kenshin prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Lang {
    Ja,
    En,
}

impl Lang {
    /// The language asked for, else Japanese if the locale is Japanese, else English.
    pub(crate) fn resolve(asked: Option<Lang>) -> Lang {
        asked.unwrap_or_else(|| {
            let env = ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
                .unwrap_or_default();
            if env.starts_with("ja") {
                Lang::Ja
            } else {
                Lang::En
            }
        })
    }

    /// True for Japanese.
    pub(crate) fn is_ja(self) -> bool {
        self == Lang::Ja
    }

    /// The text in this language.
    pub(crate) fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        if self.is_ja() {
            ja
        } else {
            en
        }
    }
}

impl From<Lang> for kenshin_report::Lang {
    fn from(l: Lang) -> Self {
        match l {
            Lang::Ja => kenshin_report::Lang::Ja,
            Lang::En => kenshin_report::Lang::En,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ListenArgs {
    /// How long to listen (1s to 24h; 90, 90s, 15m, 2h).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10m")]
    pub duration: std::time::Duration,
    /// The interface to listen on. Default: the only one that is up with an IPv4 address.
    #[arg(short, long, value_name = "IF")]
    pub interface: Option<String>,
    /// Also receive frames addressed to other machines (a mirror port). Changes what the
    /// interface accepts, never what it sends.
    #[arg(long)]
    pub promiscuous: bool,
    /// Output folder (default: ./kenshin-listen-<scan id prefix>).
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Make the report folder and files group-readable (0750/0640) instead of private.
    #[arg(long)]
    pub group_readable: bool,
    /// Names a segment (NAME=CIDR), as for `scan`.
    #[arg(long, value_name = "NAME=CIDR")]
    pub segment: Vec<String>,
    /// Language of the summary (default: from LANG) and of report.html (default: ja).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// The asset ledger (CSV), as for `scan`.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// The Ed25519 key that signs the report folder's manifest, as for `scan`.
    #[arg(long, value_name = "FILE", env = "KENSHIN_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
}

impl From<ListenArgs> for kenshin_engine::listen::ListenSettings {
    fn from(a: ListenArgs) -> Self {
        let defaults = Self::default();
        Self {
            interface: a.interface,
            duration: a.duration,
            promiscuous: a.promiscuous,
            inventory: a.inventory,
            segments: a.segment,
            signing_key: a.signing_key,
            group_readable: a.group_readable,
            report_lang: a.lang.map_or(defaults.report_lang, Into::into),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ScanArgs {
    /// Listen first, sending nothing, for this long (e.g. 2m); hosts heard and their
    /// classes join the scan before its first probe.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub listen: Option<std::time::Duration>,
    /// The interface `--listen` listens on (default: the only one up with IPv4).
    #[arg(long, value_name = "IF", requires = "listen")]
    pub listen_interface: Option<String>,
    /// Targets: addresses, CIDR blocks, ranges (198.18.1.1-40), hostnames, @FILE.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Ports in nmap syntax (22,80,8000-8100,U:161). Default: the curated list in rules/ports.toml.
    #[arg(short, long, value_name = "SPEC")]
    pub ports: Option<String>,
    /// Addresses never to send to (same syntax as targets; repeat or separate with commas).
    #[arg(long, value_name = "TARGET", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// A file of addresses never to send to.
    #[arg(long, value_name = "FILE")]
    pub exclude_file: Vec<PathBuf>,
    /// Report folder. Default: ./kenshin-<scan time>.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Make the report folder and files group-readable (0750/0640) instead of private.
    #[arg(long)]
    pub group_readable: bool,
    /// Packets per second across the whole scan.
    #[arg(long, value_name = "PPS", default_value_t = kenshin_probe::governor::DEFAULT_RATE_PPS)]
    pub rate: u32,
    /// Packets per second to any one host.
    #[arg(long, value_name = "PPS", default_value_t = kenshin_probe::governor::DEFAULT_HOST_RATE_PPS)]
    pub host_rate: u32,
    /// Probes in flight to any one host.
    #[arg(long, value_name = "N", default_value_t = kenshin_probe::governor::DEFAULT_HOST_CONCURRENCY)]
    pub host_conns: u32,
    /// Hosts port-scanned at once. Default: enough to fill --rate at --host-rate.
    #[arg(long, value_name = "N")]
    pub parallel_hosts: Option<usize>,
    /// Extra attempts for a probe that got no answer.
    #[arg(long, value_name = "N", default_value_t = settings::DEFAULT_RETRIES)]
    pub retries: u32,
    /// Which addresses get a port scan.
    #[arg(long, value_enum, default_value_t = DiscoveryArg::Auto)]
    pub discovery: DiscoveryArg,
    /// Longest a direct scan of every address may take before --discovery auto gates on
    /// discovery (seconds, or with s/m/h suffix) [default: 30m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub time_budget: Option<std::time::Duration>,
    /// Do not send ICMP echo requests.
    #[arg(long)]
    pub no_icmp: bool,
    /// Do not send ARP requests.
    #[arg(long)]
    pub no_arp: bool,
    /// SNMP community for the one read of the system group (never written to any output).
    #[arg(
        long,
        value_name = "COMMUNITY",
        default_value = settings::DEFAULT_SNMP_COMMUNITY,
        env = "KENSHIN_SNMP_COMMUNITY",
        hide_env_values = true
    )]
    pub snmp_community: String,
    /// Do not send SNMP requests at all.
    #[arg(long)]
    pub no_snmp: bool,
    /// Only find open ports: do not talk to services to identify them (no banners,
    /// TLS, HTTP, RDP, SMB or DICOM probes).
    #[arg(long)]
    pub no_identify: bool,
    /// Do not audit TLS (versions, cipher suites, groups, certificates) on the ports
    /// that speak it or offer STARTTLS.
    #[arg(long)]
    pub no_tls_audit: bool,
    /// Audit TLS in full (suites, groups) on every host, also on classes whose budget
    /// limits it to versions and the certificate (medical devices, IoT; rules/safety.toml).
    #[arg(long)]
    pub tls_audit_all_classes: bool,
    /// Pause between two TLS handshakes to the same port, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = settings::DEFAULT_TLS_PAUSE_MS)]
    pub tls_pause: u64,
    /// Most TLS handshakes (TCP connections) spent auditing one port.
    #[arg(long, value_name = "N", default_value_t = kenshin_probe::service::DEFAULT_MAX_HANDSHAKES)]
    pub tls_max_handshakes: u32,
    /// A PEM file of CA certificates to trust besides the system's roots (a hospital's
    /// internal CA, say). May be given more than once.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Vec<PathBuf>,
    /// Names a segment, for checks that depend on where hosts sit:
    /// NAME=CIDR[,CIDR…] (e.g. clinical=10.1.0.0/16). May be given more than once.
    #[arg(long, value_name = "NAME=CIDR")]
    pub segment: Vec<String>,
    /// The segment the scanner sits in (e.g. user, guest, vendor): checks report
    /// clinical services and management interfaces reachable from it.
    #[arg(long, value_name = "NAME")]
    pub vantage: Option<String>,
    /// The fleet site this scan is made from (a hospital, or a VLAN group inside one),
    /// recorded as report.json scan.site: letters, digits, '-', '_' and '.', at most
    /// 64 characters.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Most addresses a scope may hold without --allow-large-scope.
    #[arg(long, value_name = "N", default_value_t = settings::DEFAULT_SCOPE_LIMIT)]
    pub scope_limit: u64,
    /// Allow a scope larger than --scope-limit.
    #[arg(long)]
    pub allow_large_scope: bool,
    /// Language of the summary (default: from LANG) and of report.html (default: ja).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// The asset ledger (CSV, UTF-8 or Shift_JIS; columns address, mac, hostname, kind,
    /// owner, location, note): hosts not in it, and rows not seen, are reported (2-①).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// The Ed25519 key that signs the report folder's manifest (created 0600 on first
    /// use). Default: /etc/kenshin/signing-key.pem for root, else
    /// ~/.config/kenshin/signing-key.pem.
    #[arg(long, value_name = "FILE", env = "KENSHIN_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// The checklist edition the report answers: r7 (令和7年度版) or r8 (令和8年度版, item
    /// numbers unconfirmed). Default: the newest edition whose item numbers are confirmed.
    #[arg(long, value_name = "EDITION")]
    pub checklist: Option<kenshin_assess::checklist::Edition>,
    /// The accepted-risk register (TOML, `[[exception]]` entries): findings it covers are
    /// reported as accepted and do not count towards the exit code. Checked before any packet.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct PortsArgs {
    /// Print the list as a -p spec instead of a table.
    #[arg(long)]
    pub spec: bool,
}

impl From<DiscoveryArg> for Discovery {
    fn from(d: DiscoveryArg) -> Self {
        match d {
            DiscoveryArg::Auto => Discovery::Auto,
            DiscoveryArg::Gate => Discovery::Gate,
            DiscoveryArg::Direct => Discovery::Direct,
        }
    }
}

impl From<ScanArgs> for ScanSettings {
    /// The flags' meaning; the checks are the engine's ([`ScanSettings::validate`]).
    fn from(a: ScanArgs) -> Self {
        let defaults = ScanSettings::default();
        ScanSettings {
            targets: a.targets,
            exclude: a.exclude,
            exclude_files: a.exclude_file,
            ports: a.ports,
            rate_pps: a.rate,
            host_rate_pps: a.host_rate,
            host_conns: a.host_conns,
            parallel_hosts: a.parallel_hosts,
            retries: a.retries,
            discovery: a.discovery.into(),
            time_budget: a.time_budget.unwrap_or(defaults.time_budget),
            icmp: !a.no_icmp,
            arp: !a.no_arp,
            snmp_community: (!a.no_snmp).then_some(a.snmp_community),
            identify: !a.no_identify,
            tls_audit: !a.no_tls_audit,
            tls_audit_all_classes: a.tls_audit_all_classes,
            tls_pause_ms: a.tls_pause,
            tls_max_handshakes: a.tls_max_handshakes,
            ca_files: a.ca_file,
            segments: a.segment,
            vantage: a.vantage,
            site: a.site,
            scope_limit: a.scope_limit,
            allow_large_scope: a.allow_large_scope,
            inventory: a.inventory,
            signing_key: a.signing_key,
            group_readable: a.group_readable,
            report_lang: a.lang.map_or(defaults.report_lang, Into::into),
            checklist: a.checklist,
            exceptions: a.exceptions,
            ..defaults
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_left_out_give_the_engines_defaults() {
        let cli = Cli::try_parse_from(["kenshin", "scan", "198.18.1.1"]).expect("parses");
        let Command::Scan(args) = cli.command else {
            panic!("not a scan")
        };
        assert_eq!(
            ScanSettings::from(*args),
            ScanSettings::for_targets(vec!["198.18.1.1".into()])
        );
    }

    #[test]
    fn the_checklist_edition_is_chosen_by_its_code_and_a_bad_one_names_the_choices() {
        let cli = Cli::try_parse_from(["kenshin", "scan", "--checklist", "r8", "198.18.1.1"])
            .expect("parses");
        let Command::Scan(args) = cli.command else {
            panic!("not a scan")
        };
        let settings = ScanSettings::from(*args);
        assert_eq!(
            settings.checklist,
            Some(kenshin_assess::checklist::Edition::R8)
        );
        let e = Cli::try_parse_from(["kenshin", "scan", "--checklist", "r9", "198.18.1.1"])
            .expect_err("no r9")
            .to_string();
        assert!(
            e.contains("--checklist")
                && e.contains("\"r9\" is not a checklist edition")
                && e.contains("r7 (mhlw-checklist-r7), r8 (mhlw-checklist-r8)"),
            "{e}"
        );
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
