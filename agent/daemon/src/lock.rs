//! One daemon per state folder: an exclusive lock on `daemon.lock`, which also holds
//! the daemon's PID for `kenshin status`. The kernel drops the lock when the process
//! dies, however it dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The held lock; released when dropped or when the process ends.
#[derive(Debug)]
pub struct DaemonLock {
    _file: File,
}

/// Where the lock lives.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("daemon.lock")
}

/// Takes the lock, or says which process holds it.
pub fn acquire(state_dir: &Path) -> anyhow::Result<DaemonLock> {
    let p = path(state_dir);
    let mut file = OpenOptions::new()
        .mode(0o640)
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&p)
        .with_context(|| format!("cannot open the lock file {}", p.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            anyhow::bail!(
                "another kenshin daemon (pid {}) is running on {}",
                pid.trim(),
                state_dir.display()
            );
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", p.display()))
        }
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    file.sync_all()?;
    Ok(DaemonLock { _file: file })
}

/// The PID of the daemon running on `state_dir`, if one is.
pub fn holder(state_dir: &Path) -> Option<u32> {
    let mut file = File::open(path(state_dir)).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(_) => {
            let mut pid = String::new();
            file.read_to_string(&mut pid).ok()?;
            pid.trim().parse().ok()
        }
    }
}
