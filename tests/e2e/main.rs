//! End-to-end tests: the real `kenshin` binary, run inside the lab's scanner
//! namespace, against the namespace lab in 198.18.0.0/15. They need root; they
//! fail (never skip) without it. `tests/run` installs what the lab needs.

mod support;

/// Degraded conditions: no raw-socket privilege, interruption, SNMP switched off.
mod degraded;
/// Findings, device kinds and the checklist view from one scan of the lab.
mod findings;
/// Service identification: real Debian daemons, protocol fixtures and hostile servers.
mod identify;
/// One full scan of the lab at raised rate caps, and what its report must say.
mod lab_scan;
/// Excludes, hostnames and the scope guard: nothing is sent out of scope.
mod scope_safety;
/// The TLS audit on the lab's TLS segment, checked against testssl.sh.
mod tls;
