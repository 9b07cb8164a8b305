//! `kenshin rules status`: the active rule pack, the imported KEV catalog and the
//! editions the rules in use hold.

use kenshin_engine::job::Knowledge;
use kenshin_engine::rules_home::Overlay;

use crate::say::say;

pub(super) fn run() -> anyhow::Result<u8> {
    let overlay = Overlay::locate();
    say!("overlay: {}", overlay.root().display());
    let state = overlay.state()?;
    match &state.active {
        Some(p) => say!(
            "pack: {} (publisher {}, made {})",
            p.version,
            p.publisher,
            p.date
        ),
        None => say!(
            "pack: built-in rules of kenshin {}",
            env!("CARGO_PKG_VERSION")
        ),
    }
    if state.has_previous {
        match &state.previous {
            Some(p) => say!("previous: {} (kenshin rules rollback)", p.version),
            None => say!("previous: built-in rules (kenshin rules rollback)"),
        }
    }
    let knowledge = Knowledge::from_overlay(&overlay)?;
    match overlay.kev()? {
        Some(c) => say!(
            "kev catalog: {} (released {}, {} entries, imported)",
            c.version,
            c.released,
            c.entries.len()
        ),
        None => say!(
            "kev catalog: none imported; the advisories carry KEV data of catalog {}",
            knowledge.used().kev_catalog.unwrap_or_default()
        ),
    }
    say!("editions:");
    for (f, items) in &knowledge.rules.registry.frameworks {
        let unconfirmed = items.iter().filter(|r| r.unconfirmed).count();
        say!(
            "  {} {} ({} items, {unconfirmed} unconfirmed)",
            f.id,
            f.edition,
            items.len()
        );
    }
    Ok(0)
}
