//! What the CLI tests share: running the built binary with a fixed locale and a
//! signing key of the tests' own (never the machine's /etc/kenshin key).

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
