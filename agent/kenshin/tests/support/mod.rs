//! What the CLI tests share: running the built binary with a fixed locale and a
//! signing key of the tests' own (never the machine's /etc/kenshin key).

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The tests' signing key, kept in Cargo's temporary folder for integration tests.
pub(crate) fn test_key() -> &'static Path {
    static KEY: OnceLock<PathBuf> = OnceLock::new();
    KEY.get_or_init(|| {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-signing-key/signing-key.pem")
    })
}

/// Runs `kenshin ARGS…` with `LANG=C` and the tests' signing key.
pub(crate) fn kenshin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kenshin"))
        .args(args)
        .env("LANG", "C")
        .env("KENSHIN_SIGNING_KEY", test_key())
        .output()
        .expect("kenshin runs")
}

/// What kenshin wrote on stderr.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `kenshin ARGS… -o DIR` and asserts it exits 2, names `must_name` on stderr
/// and leaves no output folder behind.
pub(crate) fn refused(args: &[&str], must_name: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("report");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-o", out.to_str().expect("utf-8")]);
    let o = kenshin(&all);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    assert!(
        stderr(&o).contains(must_name),
        "{args:?}: the error does not name {must_name:?}: {}",
        stderr(&o)
    );
    assert!(!out.exists(), "{args:?}: an output folder was left behind");
}
