//! Listen-only discovery as a job: `kenshin listen` and the listening that
//! `kenshin scan --listen` does before its first probe.
//!
//! [`check`] reads and validates every input (the duration, the interface, the
//! ledger, the segments) and opens the receive-only capture, so that a bad value or a
//! missing CAP_NET_RAW stops everything before a file is written. [`Ready::listen`]
//! listens; [`run`] then turns what was heard into the same sealed report folder a
//! scan writes: hosts with passive `discovered_by` sources, what each said
//! (`heard`), and kinds from `rules/passive.toml` with their reasons. Nothing is sent:
//! the capture has no sender ([`kenshin_probe::listen::capture`]), and the report's
//! probe counts are zero.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use kenshin_probe::listen::capture::{self, Capture};
use kenshin_probe::listen::{check_duration, Heard, ListenError};
use kenshin_probe::observation::{DiscoveryDecision, HostObservation, ScanMode, ScanOutcome};
use kenshin_probe::scope::{AddrRange, ScopeGuard};
use kenshin_report::labels::Lang;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::job::{self, Finished, Shared};
use crate::settings::ScanSettings;

/// Default listening time of `kenshin listen`.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10 * 60);
/// The largest interface network put in a listening report's scope; a larger one is
/// left out and only the addresses heard are.
const MAX_SCOPE_PREFIX_V4: u8 = 16;

/// Everything `kenshin listen` is told.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenSettings {
    /// The interface; `None`: the only up, non-loopback interface with an IPv4 address.
    pub interface: Option<String>,
    pub duration: Duration,
    /// Accept frames for other MACs too (a mirror port). Changes what the interface
    /// receives, never what it sends.
    pub promiscuous: bool,
    pub inventory: Option<PathBuf>,
    pub segments: Vec<String>,
    pub signing_key: Option<PathBuf>,
    pub group_readable: bool,
    pub report_lang: Lang,
}

impl Default for ListenSettings {
    fn default() -> Self {
        Self {
            interface: None,
            duration: DEFAULT_DURATION,
            promiscuous: false,
            inventory: None,
            segments: Vec::new(),
            signing_key: None,
            group_readable: false,
            report_lang: ScanSettings::default().report_lang,
        }
    }
}

/// Inputs checked and the capture open: ready to listen.
#[derive(Debug)]
pub struct Ready {
    settings: ListenSettings,
    capture: Capture,
    /// The interface's IPv4 networks that go into the report's scope.
    networks: Vec<AddrRange>,
}

/// Validates every input and opens the capture; writes nothing and sends nothing.
pub fn check(settings: ListenSettings) -> anyhow::Result<Ready> {
    check_duration(settings.duration).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(path) = &settings.inventory {
        kenshin_assess::ledger::Ledger::load(path)?;
    }
    let mut segments = kenshin_assess::segments::Segments::default();
    for spec in &settings.segments {
        segments.add(spec)?;
    }
    let name = match &settings.interface {
        Some(n) => n.clone(),
        None => capture::default_interface().map_err(listen_error)?,
    };
    let iface = capture::interface(&name).map_err(listen_error)?;
    let networks = capture::ipv4_networks(&iface, MAX_SCOPE_PREFIX_V4);
    let capture = Capture::open(&name, settings.promiscuous).map_err(listen_error)?;
    Ok(Ready {
        settings,
        capture,
        networks,
    })
}

fn listen_error(e: ListenError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

impl Ready {
    /// The interface listened on.
    pub fn interface(&self) -> &str {
        self.capture.interface()
    }

    /// How long it will listen.
    pub fn duration(&self) -> Duration {
        self.settings.duration
    }

    /// Listens for the duration (or until `cancel`), on a blocking thread.
    pub async fn listen(
        self,
        cancel: CancellationToken,
    ) -> anyhow::Result<(Heard, Vec<AddrRange>, ListenSettings)> {
        let Ready {
            settings,
            capture,
            networks,
        } = self;
        let duration = settings.duration;
        let heard = tokio::task::spawn_blocking(move || capture.run(duration, &cancel))
            .await
            .context("the capture thread failed")?;
        Ok((heard, networks, settings))
    }
}

/// Listens and writes the sealed report folder `out_path`.
pub async fn run(
    ready: Ready,
    scan_id: String,
    out_path: PathBuf,
    cancel: CancellationToken,
    shared: &Shared,
) -> anyhow::Result<Finished> {
    let interface = ready.interface().to_owned();
    let started_at = OffsetDateTime::now_utc();
    let (heard, networks, settings) = ready.listen(cancel.clone()).await?;
    let finished_at = OffsetDateTime::now_utc();
    let mut targets: Vec<String> = networks
        .iter()
        .map(|n| format!("{}-{}", n.first(), n.last()))
        .collect();
    for h in &heard.hosts {
        if !networks.iter().any(|n| n.contains(h.address)) {
            targets.push(h.address.to_string());
        }
    }
    if targets.is_empty() {
        anyhow::bail!(
            "nothing was heard on {interface} in {:?}, and it has no IPv4 address to report on",
            heard.duration
        );
    }
    let scan = ScanSettings {
        targets,
        icmp: false,
        arp: false,
        identify: false,
        tls_audit: false,
        snmp_community: None,
        allow_large_scope: true,
        inventory: settings.inventory.clone(),
        segments: settings.segments.clone(),
        signing_key: settings.signing_key.clone(),
        group_readable: settings.group_readable,
        report_lang: settings.report_lang,
        ..ScanSettings::default()
    };
    let checked = job::check_with(scan, shared)?;
    let prepared = job::prepare(checked, scan_id, out_path).await?;
    let complete = !cancel.is_cancelled();
    let outcome = outcome(
        &heard,
        &interface,
        prepared.guard(),
        started_at,
        finished_at,
        complete,
    );
    job::execute_heard(prepared, outcome, heard)
}

/// What listening observed, as a scan outcome that sent nothing.
fn outcome(
    heard: &Heard,
    interface: &str,
    guard: &ScopeGuard,
    started_at: OffsetDateTime,
    finished_at: OffsetDateTime,
    complete: bool,
) -> ScanOutcome {
    let mut warnings: Vec<String> = heard.unaddressed.clone();
    if heard.malformed > 0 {
        warnings.push(format!(
            "{} frames of a listened-for protocol were malformed and not read",
            heard.malformed
        ));
    }
    ScanOutcome {
        started_at,
        finished_at,
        complete,
        addresses: guard.scope().len(),
        hosts: heard
            .hosts
            .iter()
            .map(|h| HostObservation::unprobed(h.address, h.mac, h.sources.clone(), Vec::new()))
            .collect(),
        evidence: Vec::new(),
        discovery: DiscoveryDecision {
            mode: ScanMode::Listen,
            reason: format!(
                "listened on {interface} for {}s and sent nothing: {} frames read, {} hosts heard",
                heard.duration.as_secs(),
                heard.frames,
                heard.hosts.len()
            ),
            direct_probes: 0,
            direct_seconds: 0.0,
        },
        warnings,
        probes_icmp: 0,
        probes_arp: 0,
        probes_tcp: 0,
        probes_udp: 0,
        frames: Default::default(),
        timing: Default::default(),
        retry: Default::default(),
    }
}

/// The default folder name of a listening report.
pub fn default_out(scan_id: &str) -> PathBuf {
    Path::new(&format!(
        "kenshin-listen-{}",
        &scan_id[..16.min(scan_id.len())]
    ))
    .to_path_buf()
}
