//! `kenshin rules import-kev FILE`: CISA's KEV catalog into the overlay, refused if
//! malformed or older than the one imported.

use kenshin_engine::rules_home::{Imported, Overlay};

use crate::cli::ImportKevArgs;
use crate::say::say;

pub(super) fn run(args: &ImportKevArgs) -> anyhow::Result<u8> {
    let overlay = Overlay::locate();
    let (catalog, imported) = overlay.import_kev(&args.file)?;
    match imported {
        Imported::AlreadyThere => say!(
            "KEV catalog {} (released {}) is already imported; nothing changed",
            catalog.version,
            catalog.released
        ),
        Imported::New { replaced } => say!(
            "KEV catalog {} (released {}, {} entries) imported in {}{}",
            catalog.version,
            catalog.released,
            catalog.entries.len(),
            overlay.root().display(),
            replaced
                .map(|r| format!(", replacing {r}"))
                .unwrap_or_default()
        ),
    }
    Ok(0)
}
