//! The kernel's IPv4 neighbour table (`/proc/net/arp`), read after a scan.
//!
//! Every host kenshin reached on a directly connected segment has been
//! resolved by the kernel, so its MAC address is in this table even when
//! kenshin could not open an ARP channel itself. Reading it sends nothing.

use std::collections::HashMap;
use std::net::Ipv4Addr;

/// Parses `/proc/net/arp` text into complete entries (flag 0x2).
pub fn parse_proc_arp(text: &str) -> HashMap<Ipv4Addr, [u8; 6]> {
    let mut out = HashMap::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let [ip, _hw_type, flags, mac, ..] = cols.as_slice() else {
            continue;
        };
        let complete = u32::from_str_radix(flags.trim_start_matches("0x"), 16)
            .map(|f| f & 0x2 != 0)
            .unwrap_or(false);
        let (Ok(ip), Some(mac)) = (ip.parse::<Ipv4Addr>(), parse_mac(mac)) else {
            continue;
        };
        if complete && mac != [0; 6] {
            out.insert(ip, mac);
        }
    }
    out
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Reads the live table; an unreadable table is simply empty.
pub fn read() -> HashMap<Ipv4Addr, [u8; 6]> {
    std::fs::read_to_string("/proc/net/arp")
        .map(|t| parse_proc_arp(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_entries_are_kept() {
        let text =
            "IP address       HW type     Flags       HW address            Mask     Device\n\
                    198.18.1.10      0x1         0x2         02:00:c6:12:01:0a     *        lab0\n\
                    198.18.1.11      0x1         0x0         00:00:00:00:00:00     *        lab0\n\
                    junk\n";
        let table = parse_proc_arp(text);
        assert_eq!(table.len(), 1);
        assert_eq!(
            table.get(&Ipv4Addr::new(198, 18, 1, 10)),
            Some(&[2, 0, 0xc6, 0x12, 1, 0x0a])
        );
    }
}
