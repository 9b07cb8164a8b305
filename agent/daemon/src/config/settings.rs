//! `[defaults]` and `[scope.settings]`: the configuration's spelling of a scan's
//! settings, translated into the engine's [`ScanSettings`] (never through a command
//! line). The engine checks the values; this module only points its verdict at the
//! key and line that set the bad value.

use std::ops::Range;
use std::path::PathBuf;

use kenshin_engine::settings::{parse_duration, Setting, SettingError, DEFAULT_SNMP_COMMUNITY};
use kenshin_engine::ScanSettings;
use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Ctx, FileContext, Files, RawConfig, RawScope};

/// Scan settings: `[defaults]` for every scope, `[scope.settings]` for one.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    ports: Option<Spanned<String>>,
    rate_pps: Option<Spanned<u32>>,
    host_rate_pps: Option<Spanned<u32>>,
    host_conns: Option<Spanned<u32>>,
    parallel_hosts: Option<Spanned<usize>>,
    retries: Option<Spanned<u32>>,
    discovery: Option<Spanned<String>>,
    time_budget: Option<Spanned<String>>,
    icmp: Option<bool>,
    arp: Option<bool>,
    snmp: Option<bool>,
    snmp_community: Option<String>,
    identify: Option<bool>,
    tls_audit: Option<bool>,
    tls_pause_ms: Option<Spanned<u64>>,
    tls_max_handshakes: Option<Spanned<u32>>,
    ca_files: Option<Vec<PathBuf>>,
    scope_limit: Option<Spanned<u64>>,
    allow_large_scope: Option<bool>,
    /// The checklist edition (`r7`, `r8`); checked here, where its line is known.
    checklist: Option<Spanned<String>>,
}

impl RawSettings {
    /// Copies every key this table sets over `to`. Only the syntax of a value is
    /// checked here (a duration, a discovery mode); ranges are the engine's.
    fn apply(&self, ctx: &Ctx<'_>, to: &mut ScanSettings, table: &str) -> Result<(), ConfigError> {
        fn set<T: Clone>(from: Option<&Spanned<T>>, to: &mut T) {
            if let Some(v) = from {
                *to = v.get_ref().clone();
            }
        }
        fn set_plain<T: Clone>(from: Option<&T>, to: &mut T) {
            if let Some(v) = from {
                *to = v.clone();
            }
        }
        if let Some(p) = &self.ports {
            to.ports = (p.get_ref() != "default").then(|| p.get_ref().clone());
        }
        set(self.rate_pps.as_ref(), &mut to.rate_pps);
        set(self.host_rate_pps.as_ref(), &mut to.host_rate_pps);
        set(self.host_conns.as_ref(), &mut to.host_conns);
        if let Some(n) = &self.parallel_hosts {
            to.parallel_hosts = Some(*n.get_ref());
        }
        set(self.retries.as_ref(), &mut to.retries);
        set(self.tls_pause_ms.as_ref(), &mut to.tls_pause_ms);
        set(self.tls_max_handshakes.as_ref(), &mut to.tls_max_handshakes);
        set(self.scope_limit.as_ref(), &mut to.scope_limit);
        set_plain(self.icmp.as_ref(), &mut to.icmp);
        set_plain(self.arp.as_ref(), &mut to.arp);
        set_plain(self.identify.as_ref(), &mut to.identify);
        set_plain(self.tls_audit.as_ref(), &mut to.tls_audit);
        set_plain(self.ca_files.as_ref(), &mut to.ca_files);
        set_plain(self.allow_large_scope.as_ref(), &mut to.allow_large_scope);
        if let Some(d) = &self.discovery {
            to.discovery = d
                .get_ref()
                .parse()
                .map_err(|e| ctx.err(d.span(), &format!("{table}.discovery"), e))?;
        }
        if let Some(c) = &self.checklist {
            to.checklist = Some(
                c.get_ref()
                    .parse()
                    .map_err(|e| ctx.err(c.span(), &format!("{table}.checklist"), e))?,
            );
        }
        if let Some(t) = &self.time_budget {
            to.time_budget = parse_duration(t.get_ref())
                .map_err(|e| ctx.err(t.span(), &format!("{table}.time_budget"), e))?;
        }
        Ok(())
    }

    /// Where this table sets `setting`, if it does.
    fn span_of(&self, setting: Setting) -> Option<Range<usize>> {
        match setting {
            Setting::Ports => self.ports.as_ref().map(Spanned::span),
            Setting::RatePps => self.rate_pps.as_ref().map(Spanned::span),
            Setting::HostRatePps => self.host_rate_pps.as_ref().map(Spanned::span),
            Setting::HostConns => self.host_conns.as_ref().map(Spanned::span),
            Setting::ParallelHosts => self.parallel_hosts.as_ref().map(Spanned::span),
            Setting::Retries => self.retries.as_ref().map(Spanned::span),
            Setting::TimeBudget => self.time_budget.as_ref().map(Spanned::span),
            Setting::TlsPauseMs => self.tls_pause_ms.as_ref().map(Spanned::span),
            Setting::TlsMaxHandshakes => self.tls_max_handshakes.as_ref().map(Spanned::span),
            Setting::ScopeLimit => self.scope_limit.as_ref().map(Spanned::span),
            Setting::Targets | Setting::Segments | Setting::Vantage | Setting::Site => None,
        }
    }
}

/// The community of the one SNMP read, or none: a scope's keys over `[defaults]`.
fn snmp_community(defaults: &RawSettings, scope: &RawSettings) -> Option<String> {
    let enabled = scope.snmp.or(defaults.snmp).unwrap_or(true);
    enabled.then(|| {
        scope
            .snmp_community
            .clone()
            .or_else(|| defaults.snmp_community.clone())
            .unwrap_or_else(|| DEFAULT_SNMP_COMMUNITY.to_owned())
    })
}

/// One scope's settings: the engine's defaults, then `[defaults]`, then the scope's
/// own table and keys; checked as `kenshin scan` checks them before sending.
pub(super) fn scope_settings(
    file: &FileContext<'_>,
    s: &RawScope,
) -> Result<ScanSettings, ConfigError> {
    let FileContext {
        ctx,
        raw,
        daemon,
        segments,
        files,
        shared,
    } = *file;
    let name = s.name.get_ref();
    let scope_key = |k: &str| format!("scope {name:?} {k}");
    let mut settings =
        ScanSettings::for_targets(s.targets.iter().map(|t| t.get_ref().clone()).collect());
    raw.defaults.apply(ctx, &mut settings, "defaults")?;
    s.settings
        .apply(ctx, &mut settings, &scope_key("settings"))?;
    settings.snmp_community = snmp_community(&raw.defaults, &s.settings);
    settings.exclude = s.exclude.iter().map(|x| x.get_ref().clone()).collect();
    settings.exclude_files.clone_from(&s.exclude_files);
    settings.vantage.clone_from(&s.vantage);
    settings.segments = segments.to_vec();
    settings.inventory = s.ledger.clone().or_else(|| raw.daemon.ledger.clone());
    settings.exceptions = s
        .exceptions
        .clone()
        .or_else(|| raw.daemon.exceptions.clone());
    settings.utc_offset = daemon.utc_offset;
    settings.signing_key = Some(daemon.signing_key.clone());
    settings.group_readable = raw.daemon.group_readable.unwrap_or(false);
    settings.report_lang = daemon.lang;

    settings.validate().map_err(|e| locate(ctx, &e, s, raw))?;
    // Everything else `kenshin scan` checks before sending (target syntax, files).
    let mut checked = settings.clone();
    if files == Files::Skip {
        checked.inventory = None;
        checked.exceptions = None;
        checked.ca_files.clear();
        checked.exclude_files.clear();
    }
    kenshin_engine::job::check_with(checked, shared)
        .map_err(|e| ctx.err(s.name.span(), &format!("scope {name:?}"), format!("{e:#}")))?;
    Ok(settings)
}

/// Points a bad value at the table that set it: the scope's own settings first, then
/// `[defaults]`, else the scope's name.
fn locate(ctx: &Ctx<'_>, e: &SettingError, s: &RawScope, raw: &RawConfig) -> ConfigError {
    let name = s.name.get_ref();
    let key = e.setting.key();
    if let Some(span) = s.settings.span_of(e.setting) {
        ctx.err(span, &format!("scope {name:?} settings.{key}"), e)
    } else if let Some(span) = raw.defaults.span_of(e.setting) {
        ctx.err(span, &format!("defaults.{key}"), e)
    } else {
        ctx.err(s.name.span(), &format!("scope {name:?} {key}"), e)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use kenshin_assess::checklist::Edition;

    use super::super::{Config, Files};

    fn parse(text: &str) -> Result<Config, super::ConfigError> {
        Config::parse_with(Path::new("/etc/kenshin/kenshin.toml"), text, Files::Skip)
    }

    const SCOPE: &str =
        "[[scope]]\nname = \"s\"\ntargets = [\"198.18.1.1\"]\nschedule = \"@daily\"\n";

    #[test]
    fn the_checklist_edition_comes_from_defaults_or_the_scope() {
        let c = parse(SCOPE).expect("parses");
        assert_eq!(c.scopes[0].settings.checklist, None);
        let c = parse(&format!("[defaults]\nchecklist = \"r8\"\n{SCOPE}")).expect("parses");
        assert_eq!(c.scopes[0].settings.checklist, Some(Edition::R8));
        let text = format!(
            "[defaults]\nchecklist = \"r8\"\n{SCOPE}[scope.settings]\nchecklist = \"r7\"\n"
        );
        let c = parse(&text).expect("parses");
        assert_eq!(c.scopes[0].settings.checklist, Some(Edition::R7));
    }

    #[test]
    fn a_checklist_edition_that_does_not_exist_is_named_with_its_line_and_the_choices() {
        let e = parse(&format!("{SCOPE}[scope.settings]\nchecklist = \"r9\"\n"))
            .expect_err("no r9")
            .to_string();
        assert!(
            e.contains("kenshin.toml:6:")
                && e.contains("checklist")
                && e.contains("\"r9\" is not a checklist edition")
                && e.contains("r7 (mhlw-checklist-r7), r8 (mhlw-checklist-r8)"),
            "{e}"
        );
        let e = parse(&format!("[defaults]\nchecklist = \"R7\"\n{SCOPE}"))
            .expect_err("codes are lower-case")
            .to_string();
        assert!(e.contains(":2:") && e.contains("\"R7\""), "{e}");
    }
}
