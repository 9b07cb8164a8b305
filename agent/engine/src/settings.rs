//! The settings of one scan, whoever asks for it: `kenshin scan`'s flags, a daemon
//! scope's `[scope.settings]`, a future fleet job. Every default and every allowed
//! range lives here, once; the front ends only translate their own syntax into a
//! [`ScanSettings`] and name a bad value in their own terms ([`Setting::flag`],
//! [`Setting::key`]) around the same message.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use kenshin_assess::checklist::Edition;
use kenshin_probe::governor::{
    DEFAULT_HOST_CONCURRENCY, DEFAULT_HOST_RATE_PPS, DEFAULT_RATE_PPS, MAX_RATE_PPS,
};
use kenshin_report::Lang;
use serde::{Deserialize, Serialize};
use time::UtcOffset;

/// Which addresses get a port scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Discovery {
    /// Port-scan every address when that fits the time budget, else only hosts found up.
    #[default]
    Auto,
    /// Port-scan only hosts that answered ARP, ICMP or a TCP ping.
    Gate,
    /// Port-scan every address in scope.
    Direct,
}

impl Discovery {
    pub const ALL: [Discovery; 3] = [Discovery::Auto, Discovery::Gate, Discovery::Direct];

    pub fn as_str(self) -> &'static str {
        match self {
            Discovery::Auto => "auto",
            Discovery::Gate => "gate",
            Discovery::Direct => "direct",
        }
    }
}

impl FromStr for Discovery {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Discovery::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not \"auto\", \"gate\" or \"direct\""))
    }
}

/// Everything one scan may be told. `Default` is `kenshin scan`'s behaviour with no
/// flag but the targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanSettings {
    /// Addresses, CIDR blocks, ranges, hostnames, `@FILE` lists.
    pub targets: Vec<String>,
    /// Addresses never to send to (same syntax).
    pub exclude: Vec<String>,
    /// Files of addresses never to send to.
    pub exclude_files: Vec<PathBuf>,
    /// Ports in nmap syntax; `None` is the curated default list.
    pub ports: Option<String>,
    /// Packets per second across the whole scan.
    pub rate_pps: u32,
    /// Packets per second to any one host.
    pub host_rate_pps: u32,
    /// Probes in flight to any one host.
    pub host_conns: u32,
    /// Hosts port-scanned at once; `None`: enough to fill the rate at the host rate.
    pub parallel_hosts: Option<usize>,
    /// Extra attempts for a probe that got no answer.
    pub retries: u32,
    pub discovery: Discovery,
    /// Longest a direct scan of every address may take before `auto` gates.
    #[serde(with = "duration_text")]
    pub time_budget: Duration,
    pub icmp: bool,
    pub arp: bool,
    /// The one SNMP read of the system group; `None` sends no SNMP at all.
    pub snmp_community: Option<String>,
    /// Talk to services to identify them (banners, TLS, HTTP, RDP, SMB, DICOM).
    pub identify: bool,
    /// Audit TLS on the ports that speak it (only when `identify`).
    pub tls_audit: bool,
    /// The full TLS audit (suites, groups) even on classes whose budget limits it to
    /// versions and the certificate (`rules/safety.toml`): the operator's opt-in.
    #[serde(default)]
    pub tls_audit_all_classes: bool,
    /// Pause between two TLS handshakes to the same port.
    pub tls_pause_ms: u64,
    /// Most TLS handshakes spent auditing one port.
    pub tls_max_handshakes: u32,
    /// PEM CA certificates trusted besides the system roots.
    pub ca_files: Vec<PathBuf>,
    /// Named segments, `NAME=CIDR[,CIDR…]`.
    pub segments: Vec<String>,
    /// The segment the scanner sits in.
    pub vantage: Option<String>,
    /// The fleet site the scan is made from (report.json `scan.site`).
    pub site: Option<String>,
    /// Most addresses a scope may hold without `allow_large_scope`.
    pub scope_limit: u64,
    pub allow_large_scope: bool,
    /// The asset ledger (CSV) to compare with.
    pub inventory: Option<PathBuf>,
    /// The key that seals the report folder; `None`: the default path for this user.
    pub signing_key: Option<PathBuf>,
    /// Report folder 0750/0640 instead of 0700/0600.
    pub group_readable: bool,
    /// Language of report.html (Japanese unless asked).
    #[serde(with = "lang_code")]
    pub report_lang: Lang,
    /// The checklist edition the report answers; `None`: the newest one whose item
    /// numbers are confirmed (`Edition::default_in`).
    pub checklist: Option<Edition>,
    /// The accepted-risk register (TOML), checked before any packet.
    pub exceptions: Option<PathBuf>,
    /// The offset people read times in (report.html, the checklist exports) and the
    /// day an exception's expiry is judged in; +09:00 (JST) by default.
    #[serde(with = "offset_text")]
    pub utc_offset: UtcOffset,
}

/// Japan Standard Time, +09:00 (no daylight saving, so a fixed offset is exact).
pub use kenshin_report::local_time::JST;

/// The default SNMP community read, when SNMP is on.
pub const DEFAULT_SNMP_COMMUNITY: &str = "public";
/// Default extra attempts for a silent probe.
pub const DEFAULT_RETRIES: u32 = 1;
/// Default time budget of a direct scan (30 minutes).
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(30 * 60);
/// Default pause between two TLS handshakes to one port, in milliseconds.
pub const DEFAULT_TLS_PAUSE_MS: u64 = 50;
/// Default size of a scope without `allow_large_scope` (a /16).
pub const DEFAULT_SCOPE_LIMIT: u64 = 65_536;

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            targets: Vec::new(),
            exclude: Vec::new(),
            exclude_files: Vec::new(),
            ports: None,
            rate_pps: DEFAULT_RATE_PPS,
            host_rate_pps: DEFAULT_HOST_RATE_PPS,
            host_conns: DEFAULT_HOST_CONCURRENCY,
            parallel_hosts: None,
            retries: DEFAULT_RETRIES,
            discovery: Discovery::Auto,
            time_budget: DEFAULT_TIME_BUDGET,
            icmp: true,
            arp: true,
            snmp_community: Some(DEFAULT_SNMP_COMMUNITY.to_owned()),
            identify: true,
            tls_audit: true,
            tls_audit_all_classes: false,
            tls_pause_ms: DEFAULT_TLS_PAUSE_MS,
            tls_max_handshakes: kenshin_probe::service::DEFAULT_MAX_HANDSHAKES,
            ca_files: Vec::new(),
            segments: Vec::new(),
            vantage: None,
            site: None,
            scope_limit: DEFAULT_SCOPE_LIMIT,
            allow_large_scope: false,
            inventory: None,
            signing_key: None,
            group_readable: false,
            report_lang: Lang::Ja,
            checklist: None,
            exceptions: None,
            utc_offset: JST,
        }
    }
}

/// A setting that can be out of range, named for each front end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Targets,
    Ports,
    RatePps,
    HostRatePps,
    HostConns,
    ParallelHosts,
    Retries,
    TimeBudget,
    TlsPauseMs,
    TlsMaxHandshakes,
    Segments,
    Vantage,
    Site,
    ScopeLimit,
}

impl Setting {
    /// The `kenshin scan` flag.
    pub fn flag(self) -> &'static str {
        match self {
            Setting::Targets => "TARGET",
            Setting::Ports => "--ports",
            Setting::RatePps => "--rate",
            Setting::HostRatePps => "--host-rate",
            Setting::HostConns => "--host-conns",
            Setting::ParallelHosts => "--parallel-hosts",
            Setting::Retries => "--retries",
            Setting::TimeBudget => "--time-budget",
            Setting::TlsPauseMs => "--tls-pause",
            Setting::TlsMaxHandshakes => "--tls-max-handshakes",
            Setting::Segments => "--segment",
            Setting::Vantage => "--vantage",
            Setting::Site => "--site",
            Setting::ScopeLimit => "--scope-limit",
        }
    }

    /// The configuration key (in `[defaults]` or `[scope.settings]`, or the scope's own
    /// key for targets, segments and vantage; the site is `[fleet] site`).
    pub fn key(self) -> &'static str {
        match self {
            Setting::Targets => "targets",
            Setting::Ports => "ports",
            Setting::RatePps => "rate_pps",
            Setting::HostRatePps => "host_rate_pps",
            Setting::HostConns => "host_conns",
            Setting::ParallelHosts => "parallel_hosts",
            Setting::Retries => "retries",
            Setting::TimeBudget => "time_budget",
            Setting::TlsPauseMs => "tls_pause_ms",
            Setting::TlsMaxHandshakes => "tls_max_handshakes",
            Setting::Segments => "segments",
            Setting::Vantage => "vantage",
            Setting::Site => "fleet.site",
            Setting::ScopeLimit => "scope_limit",
        }
    }
}

/// A setting with a value it may not have. Its text is the value and what is
/// allowed; front ends put their own name of the setting before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value} {problem}")]
pub struct SettingError {
    pub setting: Setting,
    /// The value as given.
    pub value: String,
    /// What is wrong, e.g. `is out of range: 1 to 100000 packets/s`.
    pub problem: String,
}

impl SettingError {
    fn out_of_range(setting: Setting, value: impl fmt::Display, allowed: &str) -> Self {
        SettingError {
            setting,
            value: value.to_string(),
            problem: format!("is out of range: {allowed}"),
        }
    }

    fn invalid(setting: Setting, value: impl fmt::Debug, why: impl fmt::Display) -> Self {
        SettingError {
            setting,
            value: format!("{value:?}"),
            problem: format!("is not valid: {why}"),
        }
    }
}

/// The allowed range of a numeric setting, as the message names it.
fn check_range<T: PartialOrd + fmt::Display + Copy>(
    setting: Setting,
    value: T,
    range: std::ops::RangeInclusive<T>,
    allowed: &str,
) -> Result<(), SettingError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(SettingError::out_of_range(setting, value, allowed))
    }
}

impl ScanSettings {
    /// Settings for these targets, every other setting at its default.
    pub fn for_targets(targets: Vec<String>) -> Self {
        ScanSettings {
            targets,
            ..ScanSettings::default()
        }
    }

    /// Checks every value that can be checked without reading a file, resolving a
    /// name or sending a packet. The first bad value is returned.
    pub fn validate(&self) -> Result<(), SettingError> {
        if self.targets.is_empty() {
            return Err(SettingError {
                setting: Setting::Targets,
                value: String::new(),
                problem: "no target given".to_owned(),
            });
        }
        if let Some(spec) = &self.ports {
            match kenshin_probe::ports::parse_port_spec(spec) {
                Ok(list) if list.is_empty() => {
                    return Err(SettingError::invalid(Setting::Ports, spec, "no port"))
                }
                Ok(_) => {}
                Err(e) => return Err(SettingError::invalid(Setting::Ports, spec, e)),
            }
        }
        let packets = "1 to 100000 packets/s";
        check_range(Setting::RatePps, self.rate_pps, 1..=MAX_RATE_PPS, packets)?;
        check_range(
            Setting::HostRatePps,
            self.host_rate_pps,
            1..=MAX_RATE_PPS,
            packets,
        )?;
        check_range(Setting::HostConns, self.host_conns, 1..=256, "1 to 256")?;
        if let Some(n) = self.parallel_hosts {
            check_range(Setting::ParallelHosts, n, 1..=65_536, "1 to 65536")?;
        }
        check_range(Setting::Retries, self.retries, 0..=10, "0 to 10")?;
        let budget = self.time_budget.as_secs();
        check_range(Setting::TimeBudget, budget, 1..=7 * 86_400, "1s to 168h")?;
        check_range(
            Setting::TlsPauseMs,
            self.tls_pause_ms,
            0..=10_000,
            "0 to 10000",
        )?;
        let handshakes = self.tls_max_handshakes;
        check_range(Setting::TlsMaxHandshakes, handshakes, 1..=5000, "1 to 5000")?;
        check_range(
            Setting::ScopeLimit,
            self.scope_limit,
            1..=u64::MAX,
            "at least 1",
        )?;
        let mut segments = kenshin_assess::segments::Segments::default();
        for spec in &self.segments {
            segments
                .add(spec)
                .map_err(|e| SettingError::invalid(Setting::Segments, spec, e))?;
        }
        if let Some(v) = &self.vantage {
            if !kenshin_assess::segments::valid_name(v) {
                return Err(SettingError::invalid(
                    Setting::Vantage,
                    v,
                    "use lower-case letters, digits, '-' and '_' (e.g. guest)",
                ));
            }
        }
        if let Some(site) = &self.site {
            check_site(site).map_err(|why| SettingError::invalid(Setting::Site, site, why))?;
        }
        Ok(())
    }

    /// True if the SNMP read uses a community that devices ship with.
    pub fn snmp_default_community(&self) -> bool {
        self.snmp_community
            .as_deref()
            .is_some_and(|c| ["public", "private"].contains(&c))
    }
}

/// The longest site name, in characters.
pub const MAX_SITE_CHARS: usize = 64;

/// Whether `name` can name a fleet site: 1 to [`MAX_SITE_CHARS`] characters, each a
/// letter or digit of any script (`大阪総合病院` is a name) or one of `-`, `_`, `.`,
/// not starting with `.` or `-`. No spaces, controls, slashes or quotes: the name is
/// shown in reports, logs and the fleet's tables, and must not need escaping there.
pub fn check_site(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 {
        return Err("a site name cannot be empty".to_owned());
    }
    if chars > MAX_SITE_CHARS {
        return Err(format!(
            "{chars} characters; a site name has at most {MAX_SITE_CHARS}"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{:?} (U+{:04X}) is not allowed; use letters, digits, '-', '_' and '.'",
            c, c as u32
        ));
    }
    if name.starts_with(['.', '-']) {
        return Err("a site name cannot start with '.' or '-'".to_owned());
    }
    Ok(())
}

/// Parses `90`, `90s`, `15m`, `2h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3600),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{s:?} is not a duration (examples: 90, 90s, 15m, 2h)"))
}

/// Durations as the text [`parse_duration`] reads (`1800s`).
mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}s", d.as_secs()))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// Languages as their codes (`ja`, `en`).
mod lang_code {
    use kenshin_report::Lang;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(l: &Lang, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(l.code())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Lang, D::Error> {
        match String::deserialize(d)?.as_str() {
            "ja" => Ok(Lang::Ja),
            "en" => Ok(Lang::En),
            other => Err(serde::de::Error::custom(format!(
                "{other:?} is not \"ja\" or \"en\""
            ))),
        }
    }
}

pub use kenshin_report::local_time::{offset_string, parse_offset};

mod offset_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::UtcOffset;

    pub(super) fn serialize<S: Serializer>(o: &UtcOffset, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::offset_string(*o))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UtcOffset, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_offset(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not an offset like \"+09:00\""))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(f: impl FnOnce(&mut ScanSettings)) -> SettingError {
        let mut s = ScanSettings::for_targets(vec!["198.18.1.1".into()]);
        f(&mut s);
        s.validate().expect_err("refused")
    }

    #[test]
    fn the_defaults_are_valid_and_match_the_documented_ones() {
        let s = ScanSettings::for_targets(vec!["198.18.1.0/24".into()]);
        assert_eq!(s.validate(), Ok(()));
        assert_eq!((s.rate_pps, s.host_rate_pps, s.host_conns), (1000, 40, 6));
        assert_eq!(s.time_budget, Duration::from_secs(1800));
        assert_eq!(s.snmp_community.as_deref(), Some("public"));
    }

    #[test]
    fn an_out_of_range_value_is_named_with_its_range() {
        let e = bad(|s| s.rate_pps = 0);
        assert_eq!(e.setting, Setting::RatePps);
        assert_eq!(e.to_string(), "0 is out of range: 1 to 100000 packets/s");
        let e = bad(|s| s.tls_pause_ms = 99_999);
        assert_eq!(e.to_string(), "99999 is out of range: 0 to 10000");
        assert_eq!(bad(|s| s.retries = 11).setting, Setting::Retries);
        assert_eq!(bad(|s| s.host_conns = 0).setting, Setting::HostConns);
        assert_eq!(
            bad(|s| s.parallel_hosts = Some(0)).setting,
            Setting::ParallelHosts
        );
        assert_eq!(
            bad(|s| s.tls_max_handshakes = 5001).setting,
            Setting::TlsMaxHandshakes
        );
    }

    #[test]
    fn ports_segments_and_vantage_are_checked_with_the_value() {
        let e = bad(|s| s.ports = Some("T:99999".into()));
        assert!(e.to_string().contains("99999"), "{e}");
        let e = bad(|s| s.segments = vec!["clinical".into()]);
        assert_eq!(e.setting, Setting::Segments);
        let e = bad(|s| s.vantage = Some("Guest VLAN".into()));
        assert!(e.to_string().contains("Guest VLAN"), "{e}");
        assert_eq!(bad(|s| s.targets.clear()).setting, Setting::Targets);
    }

    #[test]
    fn a_site_is_a_plain_bounded_name() {
        let ok = |site: &str| {
            let mut s = ScanSettings::for_targets(vec!["198.18.1.1".into()]);
            s.site = Some(site.into());
            s.validate()
        };
        assert_eq!(ok("osaka-general"), Ok(()));
        assert_eq!(ok("大阪総合病院.ward_3"), Ok(()));
        for bad_name in [
            "",
            "a b",
            "a/b",
            "-x",
            "tab\tname",
            "bidi\u{202e}x",
            &"x".repeat(65),
        ] {
            let e = bad(|s| s.site = Some(bad_name.into()));
            assert_eq!(e.setting, Setting::Site, "{bad_name:?}");
            assert_eq!(
                e.value,
                format!("{bad_name:?}"),
                "the error names the value"
            );
        }
        assert_eq!(ok(&"病".repeat(64)), Ok(()));
    }

    #[test]
    fn settings_round_trip_through_toml_with_their_defaults() {
        let s: ScanSettings = toml::from_str(
            "targets = [\"198.18.1.1\"]\ntime_budget = \"15m\"\nreport_lang = \"en\"\n",
        )
        .expect("parses");
        assert_eq!(s.time_budget, Duration::from_secs(900));
        assert_eq!(s.report_lang, Lang::En);
        assert_eq!(s.rate_pps, DEFAULT_RATE_PPS);
        let back: ScanSettings =
            toml::from_str(&toml::to_string(&s).expect("writes")).expect("reads back");
        assert_eq!(back, s);
        assert!(toml::from_str::<ScanSettings>("rate = 5\n").is_err());
    }

    #[test]
    fn the_checklist_edition_defaults_to_none_and_reads_its_code() {
        assert_eq!(ScanSettings::default().checklist, None);
        let s: ScanSettings =
            toml::from_str("targets = [\"198.18.1.1\"]\nchecklist = \"r8\"\n").expect("parses");
        assert_eq!(s.checklist, Some(Edition::R8));
        let e = toml::from_str::<ScanSettings>("checklist = \"r9\"\n").expect_err("no r9");
        assert!(e.to_string().contains("r9"), "{e}");
    }

    #[test]
    fn durations_take_plain_seconds_and_suffixes() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("soon").is_err());
    }
}
