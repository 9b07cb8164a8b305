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
use kenshin_assess::checklist::Edition;
use kenshin_assess::evaluate::Rules;
use kenshin_assess::fingerprint::FingerprintSet;
use kenshin_assess::kev::ProductMap;
use kenshin_assess::ledger::Ledger;
use kenshin_assess::passive_kinds::PassiveKinds;
use kenshin_assess::segments::Segments;
use kenshin_assess::service_names::ServiceNames;
use kenshin_assess::tls::{ProfileSet, TrustStore};
use kenshin_assess::vendor_kinds::VendorKinds;
use kenshin_probe::governor::SafetySettings;
use kenshin_probe::governor::{ClassHint, ClassHints, ClassSource};
use kenshin_probe::listen::Heard;
use kenshin_probe::observation::ScanOutcome;
use kenshin_probe::ports::{parse_port_spec, PortCatalog, PortList};
use kenshin_probe::scan::{self, ClassPlan, DiscoveryMode, MacClasses, Progress, ScanPlan};
use kenshin_probe::scope::{AddrRange, Scope, ScopeGuard};
use kenshin_probe::service::AuditSettings;
use kenshin_probe::target::{self, TargetSpec};
use kenshin_report::build::{self, ScanRequest};
use kenshin_report::bundle::Written;
use kenshin_report::model::{Report, RulesUsed};
use kenshin_report::output::{Access, OutputDir};
use kenshin_report::seal::SigningKey;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::rules_home::{Installed, Overlay};
use crate::settings::{Discovery, ScanSettings};

/// The rules a scan judges with, loaded once per scan (and by host-check): the active
/// installed pack or the built-in rules, with the imported KEV catalog applied.
pub struct Knowledge {
    pub catalog: Arc<PortCatalog>,
    pub fingerprints: FingerprintSet,
    pub rules: Rules,
    pub vendor_kinds: VendorKinds,
    pub kind_rules: kenshin_assess::kinds::KindRules,
    /// Kinds from what hosts say while kenshin listens (`rules/passive.toml`).
    pub passive_kinds: PassiveKinds,
    pub profiles: ProfileSet,
    pub service_names: ServiceNames,
    /// Budgets by device class (`rules/safety.toml`).
    pub safety: Arc<kenshin_probe::governor::SafetyRules>,
    /// The installed pack in use; none for the built-in rules.
    pub pack: Option<Installed>,
    /// The imported KEV catalog's version, if one was applied.
    pub kev_catalog: Option<String>,
}

impl std::fmt::Debug for Knowledge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Knowledge")
            .field("ports", &self.catalog.entries.len())
            .finish_non_exhaustive()
    }
}

impl Knowledge {
    /// What a report judged with these rules says it was judged with.
    pub fn used(&self) -> RulesUsed {
        RulesUsed {
            pack: self
                .pack
                .as_ref()
                .map_or_else(|| "builtin".to_owned(), |p| p.version.clone()),
            publisher: self.pack.as_ref().map(|p| p.publisher.clone()),
            kev_catalog: self.kev_catalog.clone().or_else(|| {
                self.rules
                    .advisories
                    .provenance
                    .iter()
                    .map(|(_, p)| p.kev_catalog_version.clone())
                    .max()
            }),
            checklist: Edition::default_in(&self.rules.registry)
                .framework()
                .to_owned(),
            checklist_newer: Edition::default_in(&self.rules.registry)
                .newer_in(&self.rules.registry)
                .map(|e| e.framework().to_owned()),
        }
    }

    /// The rules of the overlay ([`Overlay::locate`]): the active installed pack if
    /// any, else the built-in rules; then the newest imported KEV catalog applied.
    pub fn load() -> anyhow::Result<Knowledge> {
        Self::from_overlay(&Overlay::locate())
    }

    /// [`Knowledge::load`] from the overlay at hand.
    pub fn from_overlay(overlay: &Overlay) -> anyhow::Result<Knowledge> {
        let (mut knowledge, products) = match overlay.load_active()? {
            Some((installed, pack, products)) => {
                let mut k = Self::from_pack(pack);
                k.pack = Some(installed);
                (k, products)
            }
            None => (
                Self::builtin()?,
                ProductMap::builtin().map_err(|e| anyhow::anyhow!(e))?,
            ),
        };
        if let Some(catalog) = overlay.kev()? {
            catalog.apply(&mut knowledge.rules.advisories, &products);
            knowledge.kev_catalog = Some(catalog.version);
        }
        Ok(knowledge)
    }

    /// The rules built into this kenshin, without the overlay.
    pub fn builtin() -> anyhow::Result<Knowledge> {
        let pack = kenshin_assess::RulePack::builtin()
            .context("the built-in rules are invalid (run `kenshin rules verify`)")?;
        Ok(Self::from_pack(pack))
    }

    fn from_pack(pack: kenshin_assess::RulePack) -> Knowledge {
        let kenshin_assess::RulePack {
            catalog,
            fingerprints,
            profiles,
            registry,
            vendor_kinds,
            kind_rules,
            passive_kinds,
            service_names,
            checks,
            advisories,
            safety,
            ..
        } = pack;
        Knowledge {
            catalog: Arc::new(catalog),
            fingerprints,
            rules: Rules {
                checks,
                advisories,
                registry,
            },
            vendor_kinds,
            kind_rules,
            passive_kinds,
            profiles,
            service_names,
            safety: Arc::new(safety),
            pack: None,
            kev_catalog: None,
        }
    }
}

/// What the scans of one process, or of one configuration load, share: the rules
/// ([`Knowledge::load`]) and the system's trusted roots, each loaded once rather than per scan.
#[derive(Debug, Clone)]
pub struct Shared {
    pub knowledge: Arc<Knowledge>,
    pub system_roots: TrustStore,
}

impl Shared {
    pub fn load() -> anyhow::Result<Shared> {
        Ok(Shared {
            knowledge: Arc::new(Knowledge::load()?),
            system_roots: TrustStore::system(),
        })
    }
}

/// Every input of a scan, read and validated; nothing resolved or sent yet.
pub struct Checked {
    settings: ScanSettings,
    knowledge: Arc<Knowledge>,
    target_specs: Vec<TargetSpec>,
    exclude_specs: Vec<TargetSpec>,
    ports: PortList,
    safety: SafetySettings,
    trust: TrustStore,
    segments: Segments,
    ledger: Option<Ledger>,
    exceptions: Option<kenshin_assess::exceptions::Register>,
    /// The IEEE registry, read once on first use: the class plan and the assessment
    /// share one copy (a few MiB).
    oui: std::sync::OnceLock<Option<Arc<kenshin_assess::OuiRegistry>>>,
}

impl Checked {
    /// The IEEE registry of MAC vendors, if the system has one.
    fn oui(&self) -> Option<Arc<kenshin_assess::OuiRegistry>> {
        self.oui
            .get_or_init(|| kenshin_assess::OuiRegistry::load(&oui_dir()).map(Arc::new))
            .clone()
    }
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked")
            .field("targets", &self.settings.targets)
            .finish_non_exhaustive()
    }
}

/// Raises the open-file limit as far as allowed and returns how many probes may be in
/// flight without running out of descriptors.
fn inflight_budget() -> u32 {
    let limit = rlimit::increase_nofile_limit(65_536).unwrap_or(1024);
    u32::try_from(limit.saturating_sub(128).clamp(16, 4096)).unwrap_or(1024)
}

/// Reads and validates every input of a scan: the settings' ranges, then targets,
/// excludes, ports, CA files and the ledger. Resolves no name and sends nothing.
pub fn check(settings: ScanSettings) -> anyhow::Result<Checked> {
    check_with(settings, &Shared::load()?)
}

/// [`check`] with the rules and roots already loaded.
pub fn check_with(settings: ScanSettings, shared: &Shared) -> anyhow::Result<Checked> {
    settings.validate().map_err(|e| {
        let name = e.setting.key();
        anyhow::anyhow!("{name} {e}")
    })?;
    let knowledge = shared.knowledge.clone();
    let target_specs = target::parse_targets(&settings.targets)?;
    let mut exclude_specs = target::parse_targets(&settings.exclude)?;
    for file in &settings.exclude_files {
        exclude_specs.extend(target::parse_target_file(file)?);
    }
    let ports = match &settings.ports {
        Some(spec) => parse_port_spec(spec)?,
        None => knowledge.catalog.default_ports(),
    };
    if ports.is_empty() {
        bail!("the port list is empty");
    }
    let safety = SafetySettings {
        rate_pps: settings.rate_pps,
        host_rate_pps: settings.host_rate_pps,
        host_concurrency: settings.host_conns,
        max_inflight: inflight_budget(),
        ..SafetySettings::default()
    };
    safety.validate()?;
    let trust = shared.system_roots.extended(&settings.ca_files)?;
    let mut segments = Segments::default();
    for spec in &settings.segments {
        segments.add(spec)?;
    }
    let ledger = settings
        .inventory
        .as_deref()
        .map(Ledger::load)
        .transpose()?;
    let rules = &knowledge.rules;
    let exceptions = settings
        .exceptions
        .as_deref()
        .map(|path| {
            kenshin_assess::exceptions::load(path, &|id| {
                kenshin_assess::exceptions::known_in(rules, id)
            })
        })
        .transpose()?;
    Ok(Checked {
        settings,
        knowledge,
        target_specs,
        exclude_specs,
        ports,
        safety,
        trust,
        segments,
        ledger,
        exceptions,
        oui: std::sync::OnceLock::new(),
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
pub struct Prepared {
    checked: Checked,
    key: SigningKey,
    scan_id: String,
    output: OutputDir,
    plan: ScanPlan,
    resolved: Vec<(String, Vec<IpAddr>)>,
    /// What listening before the scan heard (`scan --listen`).
    heard: Option<Heard>,
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
    pub fn addresses(&self) -> u128 {
        self.plan.guard.scope().len()
    }

    /// The signing key, and whether this scan created it.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn key_path(&self) -> PathBuf {
        key_path(&self.checked.settings)
    }

    /// Adds classes learned before the scan from outside it (listen-only discovery):
    /// each host's class budget then holds from its first frame. The ledger's kind,
    /// already in the plan, outranks them (`ClassSource` order).
    pub fn add_class_hints(&mut self, hints: impl IntoIterator<Item = (IpAddr, ClassHint)>) {
        let map = Arc::make_mut(&mut self.plan.classes.hints);
        for (addr, hint) in hints {
            map.add(addr, hint);
        }
    }

    /// The scope guard of this scan.
    pub fn guard(&self) -> &ScopeGuard {
        &self.plan.guard
    }

    /// What listening heard before the scan: its sources join the hosts'
    /// `discovered_by`, its hosts in scope join the report, its class hints set kinds.
    /// Hosts that listening classed get their class budget from their first frame.
    pub fn with_heard(mut self, heard: Heard) -> Self {
        let hints = crate::heard::class_hints(&heard, &self.checked.knowledge.passive_kinds);
        self.add_class_hints(hints.into_iter().map(|(addr, hint)| {
            (
                addr,
                ClassHint {
                    class: hint.kind.as_str().to_owned(),
                    source: ClassSource::Passive,
                    reason: hint.reason,
                },
            )
        }));
        self.heard = Some(heard);
        self
    }

    /// The rules this scan judges with.
    pub fn knowledge(&self) -> &Knowledge {
        &self.checked.knowledge
    }
}

fn key_path(settings: &ScanSettings) -> PathBuf {
    settings
        .signing_key
        .clone()
        .unwrap_or_else(kenshin_report::seal::default_key_path)
}

/// A new scan ID, from the time now.
pub fn new_scan_id() -> String {
    build::scan_id(OffsetDateTime::now_utc())
}

/// Resolves the targets, fixes the scope, loads (or creates) the signing key and
/// creates the output folder `out_path` for scan `scan_id`.
pub async fn prepare(
    checked: Checked,
    scan_id: String,
    out_path: PathBuf,
) -> anyhow::Result<Prepared> {
    let args = &checked.settings;
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
            Discovery::Auto => DiscoveryMode::Auto,
            Discovery::Gate => DiscoveryMode::Gate,
            Discovery::Direct => DiscoveryMode::Direct,
        },
        time_budget: args.time_budget,
        snmp_community: args.snmp_community.clone(),
        use_icmp: args.icmp,
        use_arp: args.arp,
        identify: args.identify,
        tls_audit: (args.identify && args.tls_audit).then(|| AuditSettings {
            pause: std::time::Duration::from_millis(args.tls_pause_ms),
            max_handshakes: args.tls_max_handshakes,
            ..AuditSettings::default()
        }),
        host_parallelism: args
            .parallel_hosts
            .unwrap_or_else(|| ScanPlan::default_parallelism(&safety)),
        classes: class_plan(&checked),
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
        heard: None,
    })
}

/// The class budgets and what is known of hosts' classes before the scan: the
/// ledger's kind column now, the MAC vendor once discovery has a host's MAC.
fn class_plan(checked: &Checked) -> ClassPlan {
    let knowledge = &checked.knowledge;
    let mut plan = ClassPlan::new(knowledge.safety.clone());
    plan.full_tls_audit = checked.settings.tls_audit_all_classes;
    if let Some(ledger) = &checked.ledger {
        let mut hints = ClassHints::default();
        for entry in &ledger.entries {
            if let (Some(addr), Some(kind)) = (entry.address, entry.kind) {
                hints.add(
                    addr,
                    ClassHint {
                        class: kind.as_str().to_owned(),
                        source: ClassSource::Ledger,
                        reason: format!(
                            "asset ledger {} line {}: kind {}",
                            ledger.source,
                            entry.line,
                            kind.as_str()
                        ),
                    },
                );
            }
        }
        plan.hints = Arc::new(hints);
    }
    if let Some(oui) = checked.oui() {
        let vendors = knowledge.vendor_kinds.clone();
        plan.by_mac = Some(MacClasses(Arc::new(move |mac| {
            let vendor = oui.vendor(mac)?;
            let kind = vendors.kind_of(vendor)?;
            Some(ClassHint {
                class: kind.as_str().to_owned(),
                source: ClassSource::MacVendor,
                reason: format!("MAC vendor {vendor}"),
            })
        })));
    }
    plan
}

/// A written, sealed report folder.
#[derive(Debug)]
pub struct Finished {
    pub report: Report,
    pub written: Written,
    /// The port catalog the scan used (the daemon's alerts read its categories).
    pub catalog: Arc<PortCatalog>,
}

/// Scans, assesses and writes the folder. A cancelled scan still writes what it
/// found, marked incomplete.
pub async fn execute(
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
        heard,
    } = prepared;
    let trimmer = tokio::spawn(crate::memory::give_back_every(crate::memory::SCAN_TRIM));
    let mut outcome = scan::run(plan.clone(), cancel, progress).await;
    trimmer.abort();
    // Each stage's scratch memory is given back before the next stage builds on it.
    crate::memory::give_back();
    if let Some(h) = &heard {
        crate::heard::merge(&mut outcome, h, &plan.guard);
    }
    let report = judge(&checked, &plan, outcome, scan_id, resolved, heard.as_ref());
    // The plan's class rules hold the IEEE registry too.
    drop(plan);
    crate::memory::give_back();
    write_folder(checked, &output, &key, report)
}

/// Writes and seals the folder of a judged report. The rules, fingerprints and the
/// IEEE registry (a few MiB that no longer serve) are let go first, so they are not
/// held beside the report while its files are made.
fn write_folder(
    checked: Checked,
    output: &OutputDir,
    key: &SigningKey,
    mut report: Report,
) -> anyhow::Result<Finished> {
    let lang = checked.settings.report_lang;
    let catalog = checked.knowledge.catalog.clone();
    drop(checked);
    crate::memory::give_back();
    let written = kenshin_report::bundle::write(output, &mut report, lang, key);
    crate::memory::give_back();
    Ok(Finished {
        report,
        written: written?,
        catalog,
    })
}

/// Judges and writes what listening alone observed (`kenshin listen`): no scan runs.
pub fn execute_heard(
    prepared: Prepared,
    outcome: ScanOutcome,
    heard: Heard,
) -> anyhow::Result<Finished> {
    let Prepared {
        checked,
        key,
        scan_id,
        output,
        plan,
        resolved,
        ..
    } = prepared;
    let report = judge(&checked, &plan, outcome, scan_id, resolved, Some(&heard));
    drop(plan);
    write_folder(checked, &output, &key, report)
}

/// From what the scan observed to the report: services and kinds, the ledger
/// comparison, findings and the checklist.
fn judge(
    checked: &Checked,
    plan: &ScanPlan,
    mut outcome: ScanOutcome,
    scan_id: String,
    resolved: Vec<(String, Vec<IpAddr>)>,
    heard: Option<&Heard>,
) -> Report {
    let Checked {
        settings,
        knowledge,
        trust,
        segments,
        ledger,
        exceptions,
        ..
    } = checked;
    // Read only when some host has a MAC address to look up.
    let oui = outcome
        .hosts
        .iter()
        .any(|h| h.mac.is_some())
        .then(|| checked.oui())
        .flatten();
    if outcome.hosts.iter().any(|h| h.mac.is_some()) && oui.is_none() {
        outcome.warnings.push(format!(
            "MAC vendors are unknown: no IEEE registry in {} (install the Debian package \
             ieee-data, or set KENSHIN_IEEE_DATA to a folder holding oui.csv)",
            oui_dir().display()
        ));
    }
    let ledger_names = ledger.as_ref().map(|l| l.names_for(&outcome.hosts));
    // The assessment takes the observations over: the report is built from it.
    let mut assessed = kenshin_assess::assess(
        std::mem::take(&mut outcome.hosts),
        kenshin_assess::identify::Knowledge {
            catalog: &knowledge.catalog,
            fingerprints: &knowledge.fingerprints,
            service_names: &knowledge.service_names,
            oui: oui.as_deref(),
            tls: Some(kenshin_assess::tls::TlsKnowledge {
                trust,
                profiles: &knowledge.profiles,
                now: outcome.finished_at,
            }),
            segments: Some(segments),
            vendor_kinds: Some(&knowledge.vendor_kinds),
            kind_rules: Some(&knowledge.kind_rules),
            ledger_names: ledger_names.as_ref(),
        },
    );
    if let Some(h) = heard {
        crate::heard::apply_hints(&mut assessed, h, &knowledge.passive_kinds);
    }
    let comparison = ledger
        .as_ref()
        .map(|l| kenshin_assess::ledger::compare(l, &assessed, |a| plan.guard.scope().contains(a)));
    let context = kenshin_assess::subject::ScanContext {
        vantage: settings.vantage.clone(),
        snmp_default_community: settings.snmp_default_community(),
        registered: comparison
            .as_ref()
            .map(kenshin_assess::ledger::Comparison::registered),
    };
    let rules = &knowledge.rules;
    let findings = kenshin_assess::evaluate::findings(&assessed, rules, &context);
    let edition = settings
        .checklist
        .unwrap_or_else(|| Edition::default_in(&rules.registry));
    let checklist = kenshin_assess::checklist::view(
        edition.framework(),
        &rules.registry,
        &rules.checks,
        &rules.advisories,
        &findings,
    );
    let groups = kenshin_assess::groups::group(&findings, &assessed);
    let today = outcome.finished_at.to_offset(settings.utc_offset).date();
    let applied = exceptions
        .as_ref()
        .map(|r| kenshin_assess::exceptions::apply(r, &findings, &groups, today));
    let conclusions = build::Conclusions {
        findings,
        checklist,
        provenance: rules.advisories.provenance.clone(),
    };
    let used = RulesUsed {
        checklist: edition.framework().to_owned(),
        checklist_newer: edition
            .newer_in(&rules.registry)
            .map(|e| e.framework().to_owned()),
        ..knowledge.used()
    };
    let request = ScanRequest {
        id: scan_id,
        targets: settings.targets.clone(),
        excluded: settings
            .exclude
            .iter()
            .cloned()
            .chain(
                settings
                    .exclude_files
                    .iter()
                    .map(|f| format!("@{}", f.display())),
            )
            .collect(),
        resolved,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        trust_sources: trust.sources.clone(),
        segments: segments.clone(),
        vantage: settings.vantage.clone(),
        rules: used,
    };
    let mut report = build::build(&request, plan, outcome, assessed, conclusions);
    report.scan.site.clone_from(&settings.site);
    if let (Some(l), Some(c)) = (ledger, &comparison) {
        build::attach_inventory(&mut report, l, c);
    }
    build::attach_groups(
        &mut report,
        &build::Judged {
            groups: &groups,
            register: applied.as_ref(),
            utc_offset: Some(crate::settings::offset_string(settings.utc_offset)),
        },
    );
    if let Some(h) = heard {
        crate::heard::attach_heard(&mut report, h);
    }
    report
}

fn oui_dir() -> PathBuf {
    std::env::var_os("KENSHIN_IEEE_DATA").map_or_else(
        || PathBuf::from(kenshin_assess::oui::DEFAULT_DIR),
        PathBuf::from,
    )
}
