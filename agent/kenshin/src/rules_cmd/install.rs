//! `kenshin rules install FILE`: the pack checked against the pinned publisher
//! (`--publisher`, else the daemon configuration's `[rules] publisher`), its every rule
//! verified, and only then activated in the overlay.

use anyhow::{bail, Context};
use kenshin_engine::rules_home::Overlay;
use kenshin_engine::signed_pack::{self, MAX_PACK};
use kenshin_files::Follow;
use kenshin_report::seal::KeyPin;

use crate::cli::InstallArgs;
use crate::say::say;

pub(super) fn run(args: &InstallArgs) -> anyhow::Result<u8> {
    let pinned = match &args.publisher {
        Some(p) => match KeyPin::parse(p) {
            Ok(KeyPin::Fingerprint(f)) => f,
            _ => bail!("--publisher {p:?} is not a key fingerprint (SHA256:…)"),
        },
        None => kenshin_daemon::config::rules_publisher(&args.config)
            .with_context(|| {
                format!(
                    "no --publisher given and {} cannot be read for [rules] publisher",
                    args.config.display()
                )
            })?
            .with_context(|| {
                format!(
                    "no --publisher given and {} pins none ([rules] publisher = \"SHA256:…\")",
                    args.config.display()
                )
            })?,
    };
    let bytes = kenshin_files::read(&args.file, MAX_PACK, Follow::Yes)?;
    let opened = signed_pack::open(&bytes, &pinned)
        .with_context(|| format!("{} is refused", args.file.display()))?;
    let overlay = Overlay::locate();
    let installed = overlay
        .install(&opened, args.allow_downgrade)
        .with_context(|| format!("{} is refused", args.file.display()))?;
    say!(
        "rule pack {} (publisher {}, made {}) is active in {}",
        installed.version,
        installed.publisher,
        installed.date,
        overlay.root().display()
    );
    Ok(0)
}
