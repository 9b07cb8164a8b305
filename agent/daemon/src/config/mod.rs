//! The daemon's configuration file (`/etc/kenshin/kenshin.toml`): named scopes with
//! their schedules, windows and freeze dates, scan settings, retention, notification
//! targets and paths.
//!
//! Parsing is strict. An unknown key in any table, a value of the wrong type, or a
//! value that does not make sense (a schedule, window, date, target, port list or URL
//! that does not parse; a scan setting out of range) is an error naming the file, the
//! line and the key. [`Config::load`] checks everything that can be checked without
//! resolving a name or sending a packet, so `kenshin check-config` finds every
//! mistake before the daemon does.

pub mod cron;
mod fleet;
mod settings;
pub mod window;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kenshin_engine::job::Shared;
use kenshin_engine::settings::parse_duration;
use kenshin_engine::ScanSettings;
use kenshin_probe::scope::AddrRange;
use kenshin_probe::target::TargetSpec;
use kenshin_report::Lang;
use serde::Deserialize;
use time::UtcOffset;
use toml::Spanned;

pub use fleet::{redact_url, Fleet, FleetDb, SecretUrl, REDACTED};

use crate::notify::{EventKind, Notify, Syslog, SyslogTarget, Webhook};
use cron::Schedule;
use settings::{scope_settings, RawSettings};
use window::{Freeze, Window};

/// Where the daemon and `check-config` look unless told otherwise.
pub const DEFAULT_PATH: &str = "/etc/kenshin/kenshin.toml";

/// The largest configuration file read (a hospital group's thousands of scopes fit
/// in a few MiB).
pub const CONFIG_LIMIT: u64 = 16 << 20;

/// A configuration error: the file, the line (when known) and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Read(#[from] kenshin_files::ReadError),
    #[error("kenshin's built-in rules cannot be loaded: {0}")]
    Rules(String),
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}: {key}: {message}", path.display())]
    Value {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

// ---------------------------------------------------------------------------
// The file as written. Every table refuses keys it does not know.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    daemon: RawDaemon,
    #[serde(default)]
    retention: RawRetention,
    #[serde(default)]
    defaults: RawSettings,
    #[serde(default)]
    segments: BTreeMap<String, Vec<Spanned<String>>>,
    #[serde(default)]
    scope: Vec<RawScope>,
    #[serde(default)]
    notify: RawNotify,
    #[serde(default)]
    rules: RawRules,
    fleet: Option<Spanned<fleet::RawFleet>>,
}

/// `[rules]`: the rule pack publisher `kenshin rules install` trusts by default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    publisher: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
    state_dir: Option<PathBuf>,
    reports_dir: Option<PathBuf>,
    signing_key: Option<PathBuf>,
    utc_offset: Option<Spanned<String>>,
    max_parallel_scans: Option<Spanned<usize>>,
    lang: Option<Spanned<String>>,
    group_readable: Option<bool>,
    ledger: Option<PathBuf>,
    /// The accepted-risk register every scope uses unless it names its own.
    exceptions: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    keep_scans: Option<Spanned<u32>>,
    keep_days: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    name: Spanned<String>,
    targets: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    exclude_files: Vec<PathBuf>,
    vantage: Option<String>,
    schedule: Spanned<String>,
    window: Option<Spanned<String>>,
    #[serde(default)]
    freeze: Vec<Spanned<String>>,
    ledger: Option<PathBuf>,
    exceptions: Option<PathBuf>,
    #[serde(default)]
    settings: RawSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    #[serde(default)]
    webhook: Vec<RawWebhook>,
    syslog: Option<RawSyslog>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: Spanned<String>,
    timeout: Option<Spanned<String>>,
    retries: Option<Spanned<u32>>,
    events: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSyslog {
    target: Spanned<String>,
    facility: Option<Spanned<String>>,
    events: Option<Vec<Spanned<String>>>,
}

// ---------------------------------------------------------------------------
// The configuration as the daemon uses it.

/// Whether checking a configuration reads the files it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    Read,
    /// For example configurations, whose files exist only on the machine they describe.
    Skip,
}

/// A loaded, checked configuration.
#[derive(Debug)]
pub struct Config {
    pub daemon: Daemon,
    pub retention: Retention,
    pub scopes: Vec<ScopeConfig>,
    pub notify: Notify,
    /// `[rules] publisher`: the rule pack publisher's key fingerprint.
    pub rules_publisher: Option<String>,
    /// `[fleet]`: the site, and the database sealed scans are pushed to.
    pub fleet: Option<Fleet>,
}

/// Paths and daemon-wide settings.
#[derive(Debug, Clone)]
pub struct Daemon {
    /// history.db and the daemon's lock live here.
    pub state_dir: PathBuf,
    /// One folder per scope, one report folder per scan inside it.
    pub reports_dir: PathBuf,
    pub signing_key: PathBuf,
    /// Schedules, windows and freeze dates are in this offset (default +09:00, JST).
    pub utc_offset: UtcOffset,
    pub max_parallel_scans: usize,
    pub lang: Lang,
}

/// How many scans of each scope to keep. The newest complete scan is always kept.
#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    pub keep_scans: Option<u32>,
    pub keep_days: Option<u32>,
}

/// One named scope.
#[derive(Debug)]
pub struct ScopeConfig {
    pub name: String,
    pub schedule: Schedule,
    pub window: Option<Window>,
    pub freeze: Vec<Freeze>,
    /// The scan's settings: `[defaults]`, then `[scope.settings]`, over the engine's
    /// defaults.
    pub settings: ScanSettings,
    /// The address ranges the targets name; `None` when a target is a hostname, whose
    /// addresses are known only when it is resolved.
    pub ranges: Option<Vec<AddrRange>>,
}

impl ScopeConfig {
    /// True if the two scopes may share an address, so must never be scanned at once.
    pub fn overlaps(&self, other: &ScopeConfig) -> bool {
        match (&self.ranges, &other.ranges) {
            (Some(a), Some(b)) => a.iter().any(|x| {
                b.iter().any(|y| {
                    x.is_ipv6() == y.is_ipv6() && x.first() <= y.last() && y.first() <= x.last()
                })
            }),
            _ => true,
        }
    }

    /// True if a scan may start at local time `t`: inside the window, not frozen.
    pub fn may_start(&self, t: time::PrimitiveDateTime) -> bool {
        self.window.is_none_or(|w| w.contains(t.time()))
            && !self.freeze.iter().any(|f| f.contains(t.date()))
    }

    /// The next minute after `t` (local time) at which the schedule fires and a scan
    /// may start; `None` if none comes within the schedule's horizon.
    pub fn next_run_after(&self, t: time::PrimitiveDateTime) -> Option<time::PrimitiveDateTime> {
        let mut at = t;
        for _ in 0..200_000 {
            at = self.schedule.next_after(at)?;
            if self.may_start(at) {
                return Some(at);
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------
// Loading and checking.

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text
            .get(..offset)
            .map_or(1, |s| s.bytes().filter(|b| *b == b'\n').count() + 1)
    }

    fn err(&self, span: std::ops::Range<usize>, key: &str, message: impl ToString) -> ConfigError {
        ConfigError::Value {
            path: self.path.to_owned(),
            line: self.line_of(span.start),
            key: key.to_owned(),
            message: message.to_string(),
        }
    }
}

impl Config {
    /// Reads and checks the configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = kenshin_files::read_text(path, CONFIG_LIMIT, kenshin_files::Follow::Yes)?;
        Config::parse(path, &text)
    }

    /// Checks configuration text; `path` only names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        Config::parse_with(path, text, Files::Read)
    }

    /// Checks configuration text, reading the files it names (ledger, CA files,
    /// exclude files) or not.
    pub fn parse_with(path: &Path, text: &str, files: Files) -> Result<Config, ConfigError> {
        let raw = parse_raw(path, text)?;
        let ctx = Ctx { path, text };
        let daemon = check_daemon(&ctx, &raw.daemon)?;
        let rules_publisher = check_rules(&ctx, &raw.rules)?;
        let fleet = fleet::check_fleet(&ctx, raw.fleet.as_ref(), files)?;
        let retention = Retention {
            keep_scans: check_positive(
                &ctx,
                raw.retention.keep_scans.as_ref(),
                "retention.keep_scans",
            )?,
            keep_days: check_positive(
                &ctx,
                raw.retention.keep_days.as_ref(),
                "retention.keep_days",
            )?,
        };
        let mut segments = Vec::new();
        for (name, cidrs) in &raw.segments {
            let spec = format!(
                "{name}={}",
                cidrs
                    .iter()
                    .map(|c| c.get_ref().as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let span = cidrs.first().map_or(0..0, Spanned::span);
            kenshin_assess::segments::Segments::default()
                .add(&spec)
                .map_err(|e| ctx.err(span, &format!("segments.{name}"), e))?;
            segments.push(spec);
        }
        let mut scopes: Vec<ScopeConfig> = Vec::new();
        // The rules and the system's roots, loaded once for every scope.
        let shared = Shared::load().map_err(|e| ConfigError::Rules(format!("{e:#}")))?;
        for s in &raw.scope {
            let file = FileContext {
                ctx: &ctx,
                raw: &raw,
                daemon: &daemon,
                segments: &segments,
                files,
                shared: &shared,
            };
            let mut scope = check_scope(&file, s)?;
            // Checked with [fleet] above; every scan of the sensor records it.
            scope.settings.site = fleet.as_ref().map(|f| f.site.clone());
            if scopes.iter().any(|o| o.name == scope.name) {
                return Err(ctx.err(
                    s.name.span(),
                    "scope.name",
                    format!("{:?} names two scopes", scope.name),
                ));
            }
            scopes.push(scope);
        }
        let notify = check_notify(&ctx, &raw.notify)?;
        Ok(Config {
            daemon,
            retention,
            scopes,
            notify,
            rules_publisher,
            fleet,
        })
    }

    /// The database of scans.
    pub fn history_path(&self) -> PathBuf {
        crate::history::path(&self.daemon.state_dir)
    }
}

/// The file as written, or where and why it does not parse.
fn parse_raw(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let ctx = Ctx { path, text };
        let offset = e.span().map_or(0, |s| s.start);
        let line = ctx.line_of(offset);
        let line_start = text
            .get(..offset)
            .and_then(|s| s.rfind('\n'))
            .map_or(0, |i| i + 1);
        let table = text
            .get(..offset)
            .unwrap_or("")
            .lines()
            .rev()
            .find_map(|l| {
                let l = l.trim();
                // The header as written: `[daemon]`, `[[scope]]`, `[scope.settings]`.
                let end = if l.starts_with("[[") {
                    l.find("]]").map(|i| i + 1)
                } else if l.starts_with('[') {
                    l.find(']')
                } else {
                    None
                };
                end.and_then(|i| l.get(..=i)).map(str::to_owned)
            });
        let message = e.message().trim();
        ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column: text
                .get(line_start..offset)
                .map_or(1, |s| s.chars().count() + 1),
            message: match table {
                Some(t) if line > 1 => format!("in {t}: {message}"),
                _ => message.to_owned(),
            },
        }
    })
}

/// The rule pack publisher pinned by `[rules] publisher` (`SHA256:…`), read without
/// checking the rest of the file beyond its syntax: `kenshin rules install` needs
/// only this.
pub fn rules_publisher(path: &Path) -> Result<Option<String>, ConfigError> {
    let text = kenshin_files::read_text(path, CONFIG_LIMIT, kenshin_files::Follow::Yes)?;
    let raw = parse_raw(path, &text)?;
    let ctx = Ctx { path, text: &text };
    check_rules(&ctx, &raw.rules)
}

fn check_rules(ctx: &Ctx<'_>, r: &RawRules) -> Result<Option<String>, ConfigError> {
    let Some(p) = &r.publisher else {
        return Ok(None);
    };
    match kenshin_report::seal::KeyPin::parse(p.get_ref()) {
        Ok(kenshin_report::seal::KeyPin::Fingerprint(f)) => Ok(Some(f)),
        _ => Err(ctx.err(
            p.span(),
            "rules.publisher",
            format!(
                "{:?} is not a key fingerprint (SHA256: and 43 base64 characters)",
                p.get_ref()
            ),
        )),
    }
}

fn check_positive(
    ctx: &Ctx<'_>,
    v: Option<&Spanned<u32>>,
    key: &str,
) -> Result<Option<u32>, ConfigError> {
    match v {
        Some(n) if *n.get_ref() == 0 => Err(ctx.err(
            n.span(),
            key,
            "must be at least 1 (leave it out for no limit)",
        )),
        Some(n) => Ok(Some(*n.get_ref())),
        None => Ok(None),
    }
}

fn check_daemon(ctx: &Ctx<'_>, d: &RawDaemon) -> Result<Daemon, ConfigError> {
    let state_dir = d
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("/var/lib/kenshin"));
    let utc_offset = match &d.utc_offset {
        None => UtcOffset::from_hms(9, 0, 0).unwrap_or(UtcOffset::UTC),
        Some(s) => parse_offset(s.get_ref()).ok_or_else(|| {
            ctx.err(
                s.span(),
                "daemon.utc_offset",
                format!("{:?} is not an offset like \"+09:00\"", s.get_ref()),
            )
        })?,
    };
    let max_parallel_scans = match &d.max_parallel_scans {
        None => 1,
        Some(n) if (1..=16).contains(n.get_ref()) => *n.get_ref(),
        Some(n) => {
            return Err(ctx.err(
                n.span(),
                "daemon.max_parallel_scans",
                format!("{} is out of range: 1 to 16", n.get_ref()),
            ))
        }
    };
    let lang = match &d.lang {
        None => Lang::Ja,
        Some(l) => match l.get_ref().as_str() {
            "ja" => Lang::Ja,
            "en" => Lang::En,
            other => {
                return Err(ctx.err(
                    l.span(),
                    "daemon.lang",
                    format!("{other:?} is not \"ja\" or \"en\""),
                ))
            }
        },
    };
    Ok(Daemon {
        reports_dir: d
            .reports_dir
            .clone()
            .unwrap_or_else(|| state_dir.join("reports")),
        signing_key: d
            .signing_key
            .clone()
            .unwrap_or_else(|| state_dir.join("signing-key.pem")),
        state_dir,
        utc_offset,
        max_parallel_scans,
        lang,
    })
}

fn parse_offset(s: &str) -> Option<UtcOffset> {
    if s == "Z" || s == "UTC" {
        return Some(UtcOffset::UTC);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1i8, &s[1..]),
        b'-' => (-1i8, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// What checking one scope needs from the rest of the file.
struct FileContext<'a> {
    ctx: &'a Ctx<'a>,
    raw: &'a RawConfig,
    daemon: &'a Daemon,
    /// The `[segments]` table, as `NAME=CIDR,…` specs.
    segments: &'a [String],
    files: Files,
    /// The rules and system roots, loaded once for the whole file.
    shared: &'a Shared,
}

fn check_scope(file: &FileContext<'_>, s: &RawScope) -> Result<ScopeConfig, ConfigError> {
    let ctx = file.ctx;
    let name = s.name.get_ref().clone();
    if !kenshin_assess::segments::valid_name(&name) {
        return Err(ctx.err(
            s.name.span(),
            "scope.name",
            format!("{name:?}: use lower-case letters, digits, '-' and '_' (it names a folder)"),
        ));
    }
    let ranges = scope_ranges(ctx, s)?;
    let (schedule, window, freeze) = scope_timing(ctx, s)?;
    let settings = scope_settings(file, s)?;
    Ok(ScopeConfig {
        name,
        schedule,
        window,
        freeze,
        settings,
        ranges,
    })
}

/// The address ranges a scope's targets name (`None` if one is a hostname), its
/// targets and excludes checked for syntax.
fn scope_ranges(ctx: &Ctx<'_>, s: &RawScope) -> Result<Option<Vec<AddrRange>>, ConfigError> {
    let key = |k: &str| format!("scope {:?} {k}", s.name.get_ref());
    if s.targets.is_empty() {
        return Err(ctx.err(s.name.span(), &key("targets"), "no targets"));
    }
    let mut ranges = Some(Vec::new());
    for t in &s.targets {
        if t.get_ref().starts_with('@') {
            return Err(ctx.err(
                t.span(),
                &key("targets"),
                "@FILE is for the command line; list the targets here",
            ));
        }
        match kenshin_probe::target::parse_target(t.get_ref()) {
            Ok(TargetSpec::Range(r)) => {
                if let Some(v) = ranges.as_mut() {
                    v.push(r);
                }
            }
            Ok(TargetSpec::Hostname(_)) => ranges = None,
            Err(e) => return Err(ctx.err(t.span(), &key("targets"), e)),
        }
    }
    for x in &s.exclude {
        kenshin_probe::target::parse_target(x.get_ref())
            .map_err(|e| ctx.err(x.span(), &key("exclude"), e))?;
    }
    Ok(ranges)
}

/// A scope's schedule, window and freeze dates.
fn scope_timing(
    ctx: &Ctx<'_>,
    s: &RawScope,
) -> Result<(Schedule, Option<Window>, Vec<Freeze>), ConfigError> {
    let key = |k: &str| format!("scope {:?} {k}", s.name.get_ref());
    let schedule = Schedule::parse(s.schedule.get_ref()).map_err(|e| {
        ctx.err(
            s.schedule.span(),
            &key("schedule"),
            format!("{:?}: {e}", s.schedule.get_ref()),
        )
    })?;
    let window = s
        .window
        .as_ref()
        .map(|w| Window::parse(w.get_ref()).map_err(|e| ctx.err(w.span(), &key("window"), e)))
        .transpose()?;
    let freeze = s
        .freeze
        .iter()
        .map(|f| Freeze::parse(f.get_ref()).map_err(|e| ctx.err(f.span(), &key("freeze"), e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((schedule, window, freeze))
}

fn check_events(
    ctx: &Ctx<'_>,
    events: Option<&Vec<Spanned<String>>>,
    key: &str,
) -> Result<Vec<EventKind>, ConfigError> {
    let Some(events) = events else {
        return Ok(EventKind::ALL.to_vec());
    };
    events
        .iter()
        .map(|e| {
            EventKind::ALL
                .into_iter()
                .find(|k| k.as_str() == e.get_ref())
                .ok_or_else(|| {
                    ctx.err(
                        e.span(),
                        key,
                        format!(
                            "{:?} is not one of {}",
                            e.get_ref(),
                            EventKind::ALL.map(EventKind::as_str).join(", ")
                        ),
                    )
                })
        })
        .collect()
}

fn check_notify(ctx: &Ctx<'_>, n: &RawNotify) -> Result<Notify, ConfigError> {
    let mut webhooks = Vec::new();
    for w in &n.webhook {
        let url = url::Url::parse(w.url.get_ref())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                ctx.err(
                    w.url.span(),
                    "notify.webhook.url",
                    format!("{:?} is not an http:// or https:// URL", w.url.get_ref()),
                )
            })?;
        let timeout = match &w.timeout {
            None => Duration::from_secs(10),
            Some(t) => parse_duration(t.get_ref())
                .ok()
                .filter(|d| (1..=300).contains(&d.as_secs()))
                .ok_or_else(|| {
                    ctx.err(
                        t.span(),
                        "notify.webhook.timeout",
                        format!("{:?}: use 1s to 5m", t.get_ref()),
                    )
                })?,
        };
        let retries = match &w.retries {
            None => 3,
            Some(r) if *r.get_ref() <= 10 => *r.get_ref(),
            Some(r) => {
                return Err(ctx.err(
                    r.span(),
                    "notify.webhook.retries",
                    format!("{} is out of range: 0 to 10", r.get_ref()),
                ))
            }
        };
        webhooks.push(Webhook {
            url,
            timeout,
            retries,
            events: check_events(ctx, w.events.as_ref(), "notify.webhook.events")?,
            headers: w
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        });
    }
    let syslog = n
        .syslog
        .as_ref()
        .map(|s| {
            let t = s.target.get_ref();
            let target = if let Some(p) = t.strip_prefix("unix:") {
                SyslogTarget::Unix(PathBuf::from(p))
            } else if let Some(a) = t.strip_prefix("udp://") {
                SyslogTarget::Udp(a.to_owned())
            } else if let Some(a) = t.strip_prefix("tcp://") {
                SyslogTarget::Tcp(a.to_owned())
            } else {
                return Err(ctx.err(s.target.span(), "notify.syslog.target", format!("{t:?}: use unix:/dev/log, udp://HOST:PORT or tcp://HOST:PORT")));
            };
            let facility = match &s.facility {
                None => 3, // daemon
                Some(f) => crate::notify::syslog::facility_code(f.get_ref()).ok_or_else(|| {
                    ctx.err(f.span(), "notify.syslog.facility", format!("{:?} is not a syslog facility (daemon, local0 … local7, user, auth, security)", f.get_ref()))
                })?,
            };
            Ok(Syslog {
                target,
                facility,
                events: check_events(ctx, s.events.as_ref(), "notify.syslog.events")?,
            })
        })
        .transpose()?;
    Ok(Notify { webhooks, syslog })
}

#[cfg(test)]
mod tests;
