//! What the CLI tests share: running the built binary with a fixed locale.

use std::process::{Command, Output};

/// Runs `kenshin ARGS…` with `LANG=C`.
pub(crate) fn kenshin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kenshin"))
        .args(args)
        .env("LANG", "C")
        .output()
        .expect("kenshin runs")
}
