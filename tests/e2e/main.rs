//! End-to-end tests: the real `kenshin` binary, run inside the lab's scanner
//! namespace, against the namespace lab in 198.18.0.0/15. They need root; they
//! fail (never skip) without it. `tests/run` installs what the lab needs.

mod support;

/// Headless Chromium over the DevTools protocol, for rendering report.html.
mod browser;

/// Certificate names judged only against the names a host is known by: address only,
/// hostname target, ledger hostname, PTR from the lab resolver.
mod cert_names;
/// The daemon: scheduled scans, history, webhook alerts, kill -9 and SIGTERM.
mod daemon;
/// Degraded conditions: no raw-socket privilege, interruption, SNMP switched off.
mod degraded;
/// Findings, device kinds and the checklist view from one scan of the lab.
mod findings;
/// The fleet: PostgreSQL at headquarters, two sensors, push, ingest, rollup, refusals.
mod fleet;
/// The daemon's outbox: scans queued while a sensor is cut off arrive in order, once each.
mod fleet_outbox;
/// Finding groups on the lab's default scan: a few dozen, every finding in one.
mod groups;
/// Service identification: real Debian daemons, protocol fixtures and hostile servers.
mod identify;
/// The KEV catalog imported into a temporary overlay, and the FortiGate portal judged with it.
mod kev;
/// The device kind of every live host in the lab, from one scan of its three segments.
mod kinds;
/// One full scan of the lab at raised rate caps, and what its report must say.
mod lab_scan;
/// Listen-only discovery on a segment of its own: nothing sent, every passive source heard.
mod listen;
/// The report folder from the findings scan: HTML in Chromium, checklist exports,
/// the ledger, verify after tampering, and diff across a port opened between scans.
mod report_folder;
/// Excludes, hostnames and the scope guard: nothing is sent out of scope.
mod scope_safety;
/// The TLS audit on the lab's TLS segment, checked against testssl.sh.
mod tls;
/// The rate caps and class budgets measured on the wire with tcpdump, payload-free
/// printer and HL7 ports, DICOM limited to association and release, and the back-off.
mod wire_caps;
