//! `kenshin ports`: the curated port list with the reason each port is scanned.

use crate::cli::PortsArgs;

/// `kenshin ports`.
pub(crate) fn run(args: &PortsArgs) -> anyhow::Result<u8> {
    let catalog = kenshin_probe::ports::PortCatalog::builtin()?;
    if args.spec {
        println!("{}", catalog.default_ports().to_spec());
        return Ok(0);
    }
    let mut entries = catalog.entries.clone();
    entries.sort_by_key(|e| (e.protocol, e.port));
    for e in entries {
        let flag = if catalog.is_connect_only(e.protocol, e.port) {
            " [connect only]"
        } else {
            ""
        };
        println!(
            "{:>5}/{:<3}  {:<20} {:<18} {}{flag}",
            e.port, e.protocol, e.service, e.category, e.reason
        );
    }
    Ok(0)
}
