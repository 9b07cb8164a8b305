//! kenshin-files: the one way kenshin reads a file that someone handed it (a
//! configuration, a target list, a ledger, a CA bundle, a report folder's files).
//!
//! A file is opened without blocking (a FIFO cannot hold the reader up), must be a
//! regular file by the open descriptor's own metadata (so `/dev/zero`, a FIFO, a
//! socket or a folder are refused whatever a symlink pretends), and is read with a
//! hard byte limit whatever size it reports. [`Follow::No`] also refuses a symlink as
//! the last component, for folders whose members must be the files themselves.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Whether a symlink as the file's last component is followed or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    Yes,
    No,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is a {kind}, not a regular file", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{} is larger than the limit of {limit} bytes for this file", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
}

impl ReadError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. }
            | ReadError::NotRegular { path, .. }
            | ReadError::TooLarge { path, .. } => path,
        }
    }
}

fn kind_of(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "folder"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else if t.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}

/// Opens `path` for reading without blocking and checks that it is a regular file.
pub fn open_regular(path: &Path, follow: Follow) -> Result<File, ReadError> {
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if follow == Follow::No {
        flags |= libc::O_NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|source| {
            // O_NOFOLLOW on a symlink fails with ELOOP: say what it is.
            if follow == Follow::No && source.raw_os_error() == Some(libc::ELOOP) {
                ReadError::NotRegular {
                    path: path.to_owned(),
                    kind: "symbolic link",
                }
            } else {
                ReadError::Io {
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
    let meta = file.metadata().map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind: kind_of(meta.file_type()),
        });
    }
    Ok(file)
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read(path: &Path, limit: u64, follow: Follow) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path, follow)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// Reads a whole regular UTF-8 text file of at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64, follow: Follow) -> Result<String, ReadError> {
    let bytes = read(path, limit, follow)?;
    String::from_utf8(bytes).map_err(|e| ReadError::Io {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "hello").expect("write");
        assert_eq!(read_text(&p, 5, Follow::Yes).expect("read"), "hello");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_naming_the_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "hello!").expect("write");
        let e = read(&p, 5, Follow::Yes).expect_err("too large");
        assert!(e.to_string().contains("limit of 5 bytes"), "{e}");
    }

    #[test]
    fn devices_and_fifos_are_refused_at_once_even_through_a_symlink() {
        let dir = tempfile::tempdir().expect("temp dir");
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        let e = read(&zero, 1 << 20, Follow::Yes).expect_err("device");
        assert!(e.to_string().contains("character device"), "{e}");

        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let started = std::time::Instant::now();
        let e = read(&fifo, 1 << 20, Follow::Yes).expect_err("fifo");
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(read(dir.path(), 10, Follow::Yes)
            .expect_err("folder")
            .to_string()
            .contains("folder"));
    }

    #[test]
    fn a_symlink_is_refused_when_not_followed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("real");
        std::fs::write(&real, "x").expect("write");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        assert!(read(&link, 10, Follow::Yes).is_ok());
        let e = read(&link, 10, Follow::No).expect_err("symlink");
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }
}
