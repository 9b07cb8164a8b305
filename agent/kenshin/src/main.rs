//! The `kenshin` binary: command-line glue over the engine, the daemon and the report
//! crates. One small file per command; no business rule lives here.
//!
//! Exit codes (documented in README.md and `kenshin --help`):
//! - 0: the scan completed and produced no findings;
//! - 1: the scan completed and produced findings;
//! - 2: usage error, bad input, or a runtime error (nothing was scanned, or the
//!   report could not be written);
//! - 130: interrupted (Ctrl-C or SIGTERM); a partial report marked
//!   `"complete": false` was written.

mod check_config_cmd;
mod cli;
mod diff_cmd;
mod evidence_cmd;
mod fleet_cmd;
mod fleet_uploader;
mod history_cmd;
mod host_check_cmd;
mod key_cmd;
mod listen_cmd;
mod ports_cmd;
mod progress;
mod rules_cmd;
mod say;
mod scan_cmd;
mod signals;
mod status_cmd;
mod text;
mod verify_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Before any thread starts (docs/benchmarks.md, scale: memory).
    kenshin_engine::memory::limit_arenas();
    let cli = cli::Cli::parse();
    // The daemon's log is its only output: say what it does by default.
    let daemon = matches!(cli.command, cli::Command::Daemon(_));
    init_tracing(cli.verbose + u8::from(daemon), cli.quiet);
    let result = match cli.command {
        cli::Command::Scan(args) => scan_cmd::run(*args, cli.quiet),
        cli::Command::Listen(args) => listen_cmd::run(args, cli.quiet),
        cli::Command::Ports(args) => ports_cmd::run(&args),
        cli::Command::Rules(command) => rules_cmd::run(command),
        cli::Command::Verify(args) => verify_cmd::run(&args, cli.quiet),
        cli::Command::Evidence(args) => evidence_cmd::run(&args),
        cli::Command::Diff(args) => diff_cmd::run(&args),
        cli::Command::Key(args) => key_cmd::run(&args),
        cli::Command::Daemon(args) => {
            kenshin_daemon::run(&args.config, Some(&fleet_uploader::make))
        }
        cli::Command::CheckConfig(args) => check_config_cmd::run(&args, cli.quiet),
        cli::Command::Status(args) => status_cmd::run(&args),
        cli::Command::History(args) => history_cmd::run(&args),
        cli::Command::HostCheck(args) => host_check_cmd::run(&args),
        cli::Command::Fleet(command) => fleet_cmd::run(command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // An error may quote a file name or a peer's words: shown, never obeyed.
            eprintln!(
                "kenshin: error: {}",
                kenshin_report::visible(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}

fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KENSHIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Every line made visible; no colour codes, which that would show as text.
        .with_writer(|| say::VisibleStderr)
        .with_ansi(false)
        .with_target(false)
        .init();
}
