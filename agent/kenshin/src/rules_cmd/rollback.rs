//! `kenshin rules rollback`: the previously active pack (or the built-in rules) active
//! again.

use kenshin_engine::rules_home::Overlay;

use crate::say::say;

pub(super) fn run() -> anyhow::Result<u8> {
    let overlay = Overlay::locate();
    let state = overlay.rollback()?;
    match &state.active {
        Some(p) => say!(
            "rule pack {} (publisher {}) is active again",
            p.version,
            p.publisher
        ),
        None => say!("the built-in rules are active again"),
    }
    Ok(0)
}
