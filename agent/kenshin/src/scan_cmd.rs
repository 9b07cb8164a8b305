//! `kenshin scan`: from arguments to a written report.
//!
//! Everything that can be wrong with the input (targets, ports, limits, the
//! output folder) is checked before the first packet is sent.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use kenshin_probe::governor::SafetySettings;
use kenshin_probe::ports::{parse_port_spec, PortCatalog};
use kenshin_probe::scan::{self, DiscoveryMode, Progress, ScanPlan};
use kenshin_probe::scope::{AddrRange, Scope, ScopeGuard};
use kenshin_probe::service::AuditSettings;
use kenshin_probe::target::{self, TargetSpec};
use kenshin_report::build::{self, ScanRequest};
use kenshin_report::output::{Access, OutputDir};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::cli::{DiscoveryArg, Lang, ScanArgs};
use crate::{progress, text};

/// Exit code of an interrupted scan.
const INTERRUPTED: u8 = 130;

pub(crate) fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(args, quiet))
}

struct Resolution {
    ranges: Vec<AddrRange>,
    resolved: Vec<(String, Vec<IpAddr>)>,
}

async fn resolve_specs(specs: Vec<TargetSpec>) -> anyhow::Result<Resolution> {
    let mut ranges = Vec::new();
    let mut resolved = Vec::new();
    for spec in specs {
        match spec {
            TargetSpec::Range(r) => ranges.push(r),
            TargetSpec::Hostname(name) => {
                let r = target::resolve(&name).await?;
                ranges.extend(r.addresses.iter().map(|a| AddrRange::single(*a)));
                resolved.push((r.name, r.addresses));
            }
        }
    }
    Ok(Resolution { ranges, resolved })
}

/// Raises the open-file limit as far as allowed and returns how many probes may be in
/// flight without running out of descriptors.
fn inflight_budget() -> u32 {
    let limit = rlimit::increase_nofile_limit(65_536).unwrap_or(1024);
    u32::try_from(limit.saturating_sub(128).clamp(16, 4096)).unwrap_or(1024)
}

async fn run_async(args: ScanArgs, quiet: bool) -> anyhow::Result<u8> {
    let lang = Lang::resolve(args.lang);
    let catalog =
        Arc::new(PortCatalog::builtin().context("the built-in rules/ports.toml is invalid")?);
    let fingerprints = kenshin_assess::fingerprint::FingerprintSet::builtin().map_err(|p| {
        anyhow::anyhow!(
            "the built-in fingerprints are invalid (run `kenshin rules verify`): {}",
            p.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;

    // Input, all of it, before any packet.
    let target_specs = target::parse_targets(&args.targets)?;
    let mut exclude_specs = target::parse_targets(&args.exclude)?;
    for file in &args.exclude_file {
        exclude_specs.extend(target::parse_target_file(file)?);
    }
    let ports = match &args.ports {
        Some(spec) => parse_port_spec(spec)?,
        None => catalog.default_ports(),
    };
    if ports.is_empty() {
        bail!("the port list is empty");
    }
    let safety = SafetySettings {
        rate_pps: args.rate,
        host_rate_pps: args.host_rate,
        host_concurrency: args.host_conns,
        max_inflight: inflight_budget(),
        ..SafetySettings::default()
    };
    safety.validate()?;
    if args.retries > 10 {
        bail!("retries = {} is out of range: 0 to 10", args.retries);
    }
    if let Some(0) = args.parallel_hosts {
        bail!("parallel-hosts = 0 is out of range: at least 1");
    }
    let trust = kenshin_assess::tls::TrustStore::load(&args.ca_file)?;
    let rules = kenshin_assess::evaluate::Rules::builtin().map_err(|p| {
        anyhow::anyhow!(
            "the built-in rules are invalid (run `kenshin rules verify`): {}",
            p.join("; ")
        )
    })?;
    let vendor_kinds = kenshin_assess::vendor_kinds::VendorKinds::builtin().map_err(|p| {
        anyhow::anyhow!(
            "the built-in rules/mac-vendors.toml is invalid: {}",
            p.join("; ")
        )
    })?;
    let mut segments = kenshin_assess::segments::Segments::default();
    for spec in &args.segment {
        segments.add(spec)?;
    }
    if let Some(v) = &args.vantage {
        if !kenshin_assess::segments::valid_name(v) {
            bail!("vantage {v:?}: use lower-case letters, digits, '-' and '_' (e.g. guest)");
        }
    }
    let profiles = kenshin_assess::tls::ProfileSet::builtin()?;
    let ledger = args
        .inventory
        .as_deref()
        .map(kenshin_assess::ledger::Ledger::load)
        .transpose()?;
    let key_path = args
        .signing_key
        .clone()
        .unwrap_or_else(kenshin_report::seal::default_key_path);
    let key = kenshin_report::seal::SigningKey::load_or_create(&key_path)?;
    if key.created() && !quiet {
        eprintln!(
            "kenshin: created the signing key {} (fingerprint {}); give this fingerprint to \
             whoever verifies the reports (`kenshin key` shows it again)",
            key_path.display(),
            key.public().fingerprint()
        );
    }
    let started = OffsetDateTime::now_utc();
    let scan_id = build::scan_id(started);
    let out_path = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("kenshin-{}", &scan_id[..16])));
    let access = if args.group_readable {
        Access::GroupReadable
    } else {
        Access::Private
    };

    // Hostnames are resolved once, here; the scope is fixed from now on.
    let targets = resolve_specs(target_specs).await?;
    let excludes = resolve_specs(exclude_specs).await?;
    let scope = Scope::new(
        targets.ranges,
        excludes.ranges,
        u128::from(args.scope_limit),
        args.allow_large_scope,
    )?;
    let output = OutputDir::prepare(&out_path, access)?;

    let mut hostnames: HashMap<IpAddr, Vec<String>> = HashMap::new();
    for (name, addrs) in &targets.resolved {
        for a in addrs {
            hostnames.entry(*a).or_default().push(name.clone());
        }
    }
    let plan = ScanPlan {
        guard: ScopeGuard::new(scope),
        hostnames,
        ports,
        catalog: catalog.clone(),
        safety,
        retries: args.retries,
        discovery: match args.discovery {
            DiscoveryArg::Auto => DiscoveryMode::Auto,
            DiscoveryArg::Gate => DiscoveryMode::Gate,
            DiscoveryArg::Direct => DiscoveryMode::Direct,
        },
        time_budget: args.time_budget,
        snmp_community: (!args.no_snmp).then(|| args.snmp_community.clone()),
        use_icmp: !args.no_icmp,
        use_arp: !args.no_arp,
        identify: !args.no_identify,
        tls_audit: (!args.no_identify && !args.no_tls_audit).then(|| AuditSettings {
            pause: std::time::Duration::from_millis(args.tls_pause),
            max_handshakes: args.tls_max_handshakes,
            ..AuditSettings::default()
        }),
        host_parallelism: args
            .parallel_hosts
            .unwrap_or_else(|| ScanPlan::default_parallelism(&safety)),
    };

    let cancel = CancellationToken::new();
    spawn_signal_watch(cancel.clone());
    let progress_state = Arc::new(Progress::default());
    let display = progress::Display::start(
        progress_state.clone(),
        !quiet,
        plan.guard.scope().len(),
        lang,
    );
    let outcome = scan::run(plan.clone(), cancel.clone(), progress_state).await;
    display.finish();

    let oui = load_oui(&outcome);
    let mut outcome = outcome;
    if outcome.hosts.iter().any(|h| h.mac.is_some()) && oui.is_none() {
        outcome.warnings.push(format!(
            "MAC vendors are unknown: no IEEE registry in {} (install the Debian package \
             ieee-data, or set KENSHIN_IEEE_DATA to a folder holding oui.csv)",
            oui_dir().display()
        ));
    }
    let assessed = kenshin_assess::assess(
        outcome.hosts.clone(),
        kenshin_assess::identify::Knowledge {
            catalog: &catalog,
            fingerprints: &fingerprints,
            oui: oui.as_ref(),
            tls: Some(kenshin_assess::tls::TlsKnowledge {
                trust: &trust,
                profiles: &profiles,
                now: outcome.finished_at,
            }),
            segments: Some(&segments),
            vendor_kinds: Some(&vendor_kinds),
        },
    );
    let comparison = ledger
        .as_ref()
        .map(|l| kenshin_assess::ledger::compare(l, &assessed, |a| plan.guard.scope().contains(a)));
    let context = kenshin_assess::subject::ScanContext {
        vantage: args.vantage.clone(),
        snmp_default_community: !args.no_snmp
            && ["public", "private"].contains(&args.snmp_community.as_str()),
        registered: comparison
            .as_ref()
            .map(kenshin_assess::ledger::Comparison::registered),
    };
    let findings = kenshin_assess::evaluate::findings(&assessed, &rules, &context);
    let checklist = kenshin_assess::checklist::view(
        kenshin_assess::checklist::CHECKLIST,
        &rules.registry,
        &rules.checks,
        &rules.advisories,
        &findings,
    );
    let conclusions = build::Conclusions {
        findings,
        checklist,
        provenance: rules.advisories.provenance.clone(),
    };
    let request = ScanRequest {
        id: scan_id,
        targets: args.targets.clone(),
        excluded: args
            .exclude
            .iter()
            .cloned()
            .chain(
                args.exclude_file
                    .iter()
                    .map(|f| format!("@{}", f.display())),
            )
            .collect(),
        resolved: targets
            .resolved
            .into_iter()
            .chain(excludes.resolved)
            .collect(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        trust_sources: trust.sources.clone(),
        segments,
        vantage: args.vantage.clone(),
    };
    let mut report = build::build(&request, &plan, &outcome, &assessed, &conclusions);
    if let (Some(l), Some(c)) = (&ledger, &comparison) {
        build::attach_inventory(&mut report, l, c);
    }
    let html_lang = args.lang.unwrap_or(Lang::Ja).into();
    let written = kenshin_report::bundle::write(&output, &mut report, html_lang, &key)?;

    if !quiet {
        for w in &report.scan.warnings {
            eprintln!("kenshin: warning: {w}");
        }
        println!("{}", text::summary(lang, &report, &written));
    }
    Ok(if !report.scan.complete {
        INTERRUPTED
    } else if report.findings.iter().all(|f| f.severity == "info") {
        // Informational findings (a medical device on the network …) are not faults.
        0
    } else {
        1
    })
}

fn oui_dir() -> PathBuf {
    std::env::var_os("KENSHIN_IEEE_DATA").map_or_else(
        || PathBuf::from(kenshin_assess::oui::DEFAULT_DIR),
        PathBuf::from,
    )
}

/// The IEEE registry, read only when some host has a MAC address to look up.
fn load_oui(
    outcome: &kenshin_probe::observation::ScanOutcome,
) -> Option<kenshin_assess::OuiRegistry> {
    outcome
        .hosts
        .iter()
        .any(|h| h.mac.is_some())
        .then(|| kenshin_assess::OuiRegistry::load(&oui_dir()))
        .flatten()
}

/// Ctrl-C and SIGTERM stop the scan; what was found so far is still written.
fn spawn_signal_watch(cancel: CancellationToken) {
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        tracing::warn!("interrupted: finishing the probes in flight and writing a partial report");
        cancel.cancel();
    });
}
