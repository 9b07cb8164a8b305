//! `kenshin rules …`: the rule data's self-test, and keeping a closed network's rules
//! current without a new kenshin build — signed packs built, installed and rolled back,
//! the CISA KEV catalog imported, and what is in use shown. Every command reads and
//! writes the local rule overlay through `kenshin_engine::rules_home`; a refusal is an
//! error (exit 2) that changed nothing.

mod import_kev;
mod install;
mod pack;
mod rollback;
mod status;
mod verify;

use crate::cli::RulesCommand;

/// Runs one `rules` subcommand; returns its exit code.
pub(crate) fn run(command: RulesCommand) -> anyhow::Result<u8> {
    match command {
        RulesCommand::Verify(args) => verify::verify(&args),
        RulesCommand::Pack(args) => pack::run(&args),
        RulesCommand::Install(args) => install::run(&args),
        RulesCommand::Rollback => rollback::run(),
        RulesCommand::Status => status::run(),
        RulesCommand::ImportKev(args) => import_kev::run(&args),
    }
}
