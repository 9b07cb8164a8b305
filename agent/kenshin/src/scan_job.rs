//! One scan, from settings to a sealed report folder: shared by `kenshin scan` and
//! the daemon.
//!
//! [`check`] reads and validates every input without resolving a name, creating a
//! file or sending a packet (so `kenshin check-config` runs it on every scope);
//! [`prepare`] resolves hostnames, fixes the scope, loads the signing key and creates
//! the output folder; [`execute`] scans, assesses and writes the folder.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use kenshin_assess::evaluate::Rules;
use kenshin_assess::fingerprint::FingerprintSet;
use kenshin_assess::ledger::Ledger;
use kenshin_assess::segments::Segments;
use kenshin_assess::service_names::ServiceNames;
use kenshin_assess::tls::{ProfileSet, TrustStore};
use kenshin_assess::vendor_kinds::VendorKinds;
use kenshin_probe::governor::SafetySettings;
use kenshin_probe::ports::{parse_port_spec, PortCatalog, PortList};
use kenshin_probe::scan::{self, DiscoveryMode, Progress, ScanPlan};
use kenshin_probe::scope::{AddrRange, Scope, ScopeGuard};
use kenshin_probe::service::AuditSettings;
use kenshin_probe::target::{self, TargetSpec};
use kenshin_report::build::{self, ScanRequest};
use kenshin_report::bundle::Written;
use kenshin_report::model::Report;
use kenshin_report::output::{Access, OutputDir};
use kenshin_report::seal::SigningKey;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::cli::{DiscoveryArg, Lang, ScanArgs};

/// The rules built into this kenshin, loaded once per scan (and by host-check).
pub(crate) struct Knowledge {
    pub catalog: Arc<PortCatalog>,
    pub fingerprints: FingerprintSet,
    pub rules: Rules,
    pub vendor_kinds: VendorKinds,
    pub profiles: ProfileSet,
    pub service_names: ServiceNames,
}

impl Knowledge {
    pub(crate) fn builtin() -> anyhow::Result<Knowledge> {
        let kenshin_assess::RulePack {
            catalog,
            fingerprints,
            profiles,
            registry,
            vendor_kinds,
            service_names,
            checks,
            advisories,
            ..
        } = kenshin_assess::RulePack::builtin()
            .context("the built-in rules are invalid (run `kenshin rules verify`)")?;
        Ok(Knowledge {
            catalog: Arc::new(catalog),
            fingerprints,
            rules: Rules {
                checks,
                advisories,
                registry,
            },
            vendor_kinds,
            profiles,
            service_names,
        })
    }
}

/// Every input of a scan, read and validated; nothing resolved or sent yet.
pub(crate) struct Checked {
    args: ScanArgs,
    knowledge: Knowledge,
    target_specs: Vec<TargetSpec>,
    exclude_specs: Vec<TargetSpec>,
    ports: PortList,
    safety: SafetySettings,
    trust: TrustStore,
    segments: Segments,
    ledger: Option<Ledger>,
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked")
            .field("targets", &self.args.targets)
            .finish_non_exhaustive()
    }
}

/// Raises the open-file limit as far as allowed and returns how many probes may be in
/// flight without running out of descriptors.
fn inflight_budget() -> u32 {
    let limit = rlimit::increase_nofile_limit(65_536).unwrap_or(1024);
    u32::try_from(limit.saturating_sub(128).clamp(16, 4096)).unwrap_or(1024)
}

/// Reads and validates every input of a scan: targets, excludes, ports, safety
/// settings, segments, CA files and the ledger. Resolves no name and sends nothing.
pub(crate) fn check(args: ScanArgs) -> anyhow::Result<Checked> {
    let knowledge = Knowledge::builtin()?;
    let target_specs = target::parse_targets(&args.targets)?;
    let mut exclude_specs = target::parse_targets(&args.exclude)?;
    for file in &args.exclude_file {
        exclude_specs.extend(target::parse_target_file(file)?);
    }
    let ports = match &args.ports {
        Some(spec) => parse_port_spec(spec)?,
        None => knowledge.catalog.default_ports(),
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
    let trust = TrustStore::load(&args.ca_file)?;
    let mut segments = Segments::default();
    for spec in &args.segment {
        segments.add(spec)?;
    }
    if let Some(v) = &args.vantage {
        if !kenshin_assess::segments::valid_name(v) {
            bail!("vantage {v:?}: use lower-case letters, digits, '-' and '_' (e.g. guest)");
        }
    }
    let ledger = args.inventory.as_deref().map(Ledger::load).transpose()?;
    Ok(Checked {
        args,
        knowledge,
        target_specs,
        exclude_specs,
        ports,
        safety,
        trust,
        segments,
        ledger,
    })
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

/// A scan ready to run: scope fixed, key loaded, output folder created.
pub(crate) struct Prepared {
    checked: Checked,
    key: SigningKey,
    scan_id: String,
    output: OutputDir,
    plan: ScanPlan,
    resolved: Vec<(String, Vec<IpAddr>)>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("scan_id", &self.scan_id)
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// How many addresses the scope holds.
    pub(crate) fn addresses(&self) -> u128 {
        self.plan.guard.scope().len()
    }

    /// The signing key, and whether this scan created it.
    pub(crate) fn key(&self) -> &SigningKey {
        &self.key
    }

    pub(crate) fn key_path(&self) -> PathBuf {
        key_path(&self.checked.args)
    }
}

fn key_path(args: &ScanArgs) -> PathBuf {
    args.signing_key
        .clone()
        .unwrap_or_else(kenshin_report::seal::default_key_path)
}

/// A new scan ID, from the time now.
pub(crate) fn new_scan_id() -> String {
    build::scan_id(OffsetDateTime::now_utc())
}

/// Resolves the targets, fixes the scope, loads (or creates) the signing key and
/// creates the output folder `out_path` for scan `scan_id`.
pub(crate) async fn prepare(
    checked: Checked,
    scan_id: String,
    out_path: PathBuf,
) -> anyhow::Result<Prepared> {
    let args = &checked.args;
    let key = SigningKey::load_or_create(&key_path(args))?;
    let access = if args.group_readable {
        Access::GroupReadable
    } else {
        Access::Private
    };
    // Hostnames are resolved once, here; the scope is fixed from now on.
    let targets = resolve_specs(checked.target_specs.clone()).await?;
    let excludes = resolve_specs(checked.exclude_specs.clone()).await?;
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
    let safety = checked.safety;
    let plan = ScanPlan {
        guard: ScopeGuard::new(scope),
        hostnames,
        ports: checked.ports.clone(),
        catalog: checked.knowledge.catalog.clone(),
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
    let resolved = targets
        .resolved
        .into_iter()
        .chain(excludes.resolved)
        .collect();
    Ok(Prepared {
        checked,
        key,
        scan_id,
        output,
        plan,
        resolved,
    })
}

/// A written, sealed report folder.
#[derive(Debug)]
pub(crate) struct Finished {
    pub report: Report,
    pub written: Written,
    /// The port catalog the scan used (the daemon's alerts read its categories).
    pub catalog: Arc<PortCatalog>,
}

/// Scans, assesses and writes the folder. A cancelled scan still writes what it
/// found, marked incomplete.
pub(crate) async fn execute(
    prepared: Prepared,
    cancel: CancellationToken,
    progress: Arc<Progress>,
) -> anyhow::Result<Finished> {
    let Prepared {
        checked,
        key,
        scan_id,
        output,
        plan,
        resolved,
    } = prepared;
    let Checked {
        args,
        knowledge,
        trust,
        segments,
        ledger,
        ..
    } = checked;
    let mut outcome = scan::run(plan.clone(), cancel, progress).await;

    let oui = load_oui(&outcome);
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
            catalog: &knowledge.catalog,
            fingerprints: &knowledge.fingerprints,
            service_names: &knowledge.service_names,
            oui: oui.as_ref(),
            tls: Some(kenshin_assess::tls::TlsKnowledge {
                trust: &trust,
                profiles: &knowledge.profiles,
                now: outcome.finished_at,
            }),
            segments: Some(&segments),
            vendor_kinds: Some(&knowledge.vendor_kinds),
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
    let rules = &knowledge.rules;
    let findings = kenshin_assess::evaluate::findings(&assessed, rules, &context);
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
        resolved,
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
    Ok(Finished {
        report,
        written,
        catalog: knowledge.catalog.clone(),
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
