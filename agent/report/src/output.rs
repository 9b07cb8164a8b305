//! The report folder: checked before any packet is sent, written atomically,
//! private by default.
//!
//! Folders are created `0700` (`0750` with group-readable output) and files
//! written `0600` (`0640`). Every file goes to a temporary name in the same
//! folder, is flushed to disk, and is renamed into place, so a reader never
//! sees half a report and an interrupted write leaves the previous one intact.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::model::Report;

/// Why the report folder cannot be used or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OutputError {
    #[error("output folder {path}", path = path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("output folder {path} exists and is not a folder")]
    NotADirectory { path: PathBuf },
    #[error("output folder {path} already holds a report.json; choose a new folder")]
    AlreadyUsed { path: PathBuf },
    #[error("cannot serialise the report: {0}")]
    Json(#[from] serde_json::Error),
}

/// Who may read the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Owner only: folders 0700, files 0600.
    Private,
    /// Owner and group: folders 0750, files 0640.
    GroupReadable,
}

impl Access {
    fn dir_mode(self) -> u32 {
        match self {
            Access::Private => 0o700,
            Access::GroupReadable => 0o750,
        }
    }

    fn file_mode(self) -> u32 {
        match self {
            Access::Private => 0o600,
            Access::GroupReadable => 0o640,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A checked, writable report folder.
#[derive(Debug, Clone)]
pub struct OutputDir {
    path: PathBuf,
    access: Access,
}

impl OutputDir {
    /// Creates the folder if needed and proves it writable by writing and removing a
    /// file, so that a scan never runs only to fail at the end.
    pub fn prepare(path: &Path, access: Access) -> Result<Self, OutputError> {
        if path.exists() {
            if !path.is_dir() {
                return Err(OutputError::NotADirectory {
                    path: path.to_owned(),
                });
            }
            if path.join("report.json").exists() {
                return Err(OutputError::AlreadyUsed {
                    path: path.to_owned(),
                });
            }
        } else {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(access.dir_mode())
                .create(path)
                .map_err(io(path))?;
            // The umask may have narrowed the mode; set it exactly.
            fs::set_permissions(path, fs::Permissions::from_mode(access.dir_mode()))
                .map_err(io(path))?;
        }
        let probe = path.join(format!(".kenshin-write-test-{}", std::process::id()));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(access.file_mode())
            .open(&probe)
            .and_then(|mut f| f.write_all(b"ok"))
            .map_err(io(path))?;
        fs::remove_file(&probe).map_err(io(&probe))?;
        Ok(Self {
            path: path.to_owned(),
            access,
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the subfolder `name` with the folder's mode.
    pub fn create_subdir(&self, name: &str) -> Result<PathBuf, OutputError> {
        let path = self.path.join(name);
        if !path.is_dir() {
            fs::DirBuilder::new()
                .mode(self.access.dir_mode())
                .create(&path)
                .map_err(io(&path))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(self.access.dir_mode()))
                .map_err(io(&path))?;
        }
        Ok(path)
    }

    /// Writes `name` (a file of the folder, or `sub/file` in a subfolder made with
    /// [`OutputDir::create_subdir`]) atomically with the folder's file mode.
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, OutputError> {
        self.write_atomic_with(name, |w| w.write_all(bytes))
    }

    /// Writes `name` atomically as [`OutputDir::write_atomic`] does, from what `fill`
    /// writes, through a buffer: a large file is never held whole in memory.
    pub fn write_atomic_with<F>(&self, name: &str, fill: F) -> Result<PathBuf, OutputError>
    where
        F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
    {
        let final_path = self.path.join(name);
        let (dir, file) = match name.rsplit_once('/') {
            Some((d, f)) => (self.path.join(d), f),
            None => (self.path.clone(), name),
        };
        let tmp = dir.join(format!(".{file}.tmp-{}", std::process::id()));
        let result = (|| {
            let f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(self.access.file_mode())
                .open(&tmp)?;
            f.set_permissions(fs::Permissions::from_mode(self.access.file_mode()))?;
            let mut w = std::io::BufWriter::with_capacity(64 * 1024, f);
            fill(&mut w)?;
            let f = w
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)?;
            f.sync_all()?;
            fs::rename(&tmp, &final_path)?;
            fs::File::open(&dir)?.sync_all()
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(OutputError::Io {
                path: final_path,
                source: e,
            });
        }
        Ok(final_path)
    }

    /// Writes `report.json`, compact (one line): it is read by programs, and a person
    /// reads it through `jq` or report.html. Serialised straight into the file.
    pub fn write_report(&self, report: &Report) -> Result<PathBuf, OutputError> {
        self.write_atomic_with("report.json", |w| {
            serde_json::to_writer(&mut *w, report)?;
            w.write_all(b"\n")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_private_unless_group_readable_is_asked_for() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (access, dmode, fmode) in [
            (Access::Private, 0o700, 0o600),
            (Access::GroupReadable, 0o750, 0o640),
        ] {
            let out = dir.path().join(format!("{access:?}"));
            let o = OutputDir::prepare(&out, access).expect("prepare");
            let file = o.write_atomic("x.json", b"{}").expect("write");
            let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&out), dmode);
            assert_eq!(mode(&file), fmode);
            let leftovers: Vec<_> = fs::read_dir(&out)
                .expect("list")
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
                .collect();
            assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        }
    }

    #[test]
    fn a_file_in_the_way_or_a_used_folder_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("plain");
        fs::write(&file, b"").expect("write");
        let err = OutputDir::prepare(&file, Access::Private).expect_err("a file");
        assert!(err.to_string().contains("not a folder"));
        fs::write(dir.path().join("report.json"), b"{}").expect("write");
        assert!(matches!(
            OutputDir::prepare(dir.path(), Access::Private),
            Err(OutputError::AlreadyUsed { .. })
        ));
    }
}
