//! Memory the process holds but no longer uses, given back to the system.
//!
//! glibc's allocator gives each thread that allocates its own arena and keeps what is
//! freed in it for reuse: a scan's many short-lived buffers (per-host tasks, packets,
//! the report's intermediate forms) leave arenas holding megabytes that are free but
//! still counted in the process's resident memory (at 16,384 addresses, twice the
//! live heap). Two calls bound that: the arenas are limited before any thread starts,
//! and free pages are returned while the scan runs and between stages (after the scan,
//! after judging, after the report is written). Elsewhere (not glibc) both do nothing.

use std::time::Duration;

/// How often free pages are given back while a scan runs.
pub const SCAN_TRIM: Duration = Duration::from_secs(15);

/// Gives free pages back every `period` until the task is dropped or aborted.
pub async fn give_back_every(period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        give_back();
    }
}

/// Malloc arenas allowed: two serve the runtime's workers without contention worth
/// measuring on a network-bound scan.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

/// Allocations from this size up get pages of their own, returned when freed. Fixed,
/// so glibc does not raise it after the first large free and then serve the report's
/// large buffers from arenas that keep them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const OWN_PAGES_FROM: libc::c_int = 256 * 1024;

/// Limits the allocator's arenas and fixes its own-pages size. Call before any thread
/// is started.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_arenas() {
    // SAFETY: mallopt takes two integers and changes a tuning value of the allocator;
    // it reads and writes no memory of ours. A refusal (0) leaves the default.
    let _ = unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
    // SAFETY: as above.
    let _ = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_PAGES_FROM) };
}

/// Gives the free pages of every arena back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn give_back() {
    // SAFETY: malloc_trim takes an integer (the padding to keep) and only returns free
    // pages of the allocator's own arenas; no memory of ours is touched.
    let _ = unsafe { libc::malloc_trim(0) };
}

/// Limits the allocator's arenas (nothing to do on this platform).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_arenas() {}

/// Gives free pages back (nothing to do on this platform).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_back() {}
