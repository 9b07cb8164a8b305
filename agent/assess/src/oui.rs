//! MAC address vendors from the IEEE registration authority's registry, as Debian's
//! `ieee-data` package installs it (`/usr/share/ieee-data/*.csv`).
//!
//! kenshin does not ship the registry: it reads the system's copy, so it is as current
//! as the package and carries the package's terms. Without it, vendors are unknown
//! (`null` in the report) and the scan says so once. The longest assignment wins:
//! MA-S (36 bits) and IAB over MA-M (28 bits) over MA-L (24 bits).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where Debian's `ieee-data` puts the registry.
pub const DEFAULT_DIR: &str = "/usr/share/ieee-data";
/// The registry files read, with the prefix length of their assignments in bits.
const FILES: [(&str, u8); 4] = [
    ("oui36.csv", 36),
    ("iab.csv", 36),
    ("mam.csv", 28),
    ("oui.csv", 24),
];
/// Longest vendor name kept.
const MAX_NAME: usize = 128;

/// Vendor names by MAC prefix.
#[derive(Debug, Clone, Default)]
pub struct OuiRegistry {
    /// (prefix length in bits, prefix value) → organisation name.
    by_prefix: HashMap<(u8, u64), String>,
    /// The folder it was read from.
    pub source: PathBuf,
}

/// Splits one CSV record (RFC 4180 quoting) into fields.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

impl OuiRegistry {
    /// Reads the registry from `dir`; `None` if no registry file is there.
    pub fn load(dir: &Path) -> Option<Self> {
        let mut reg = Self {
            source: dir.to_owned(),
            ..Self::default()
        };
        let mut any = false;
        for (file, bits) in FILES {
            if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
                any = true;
                reg.add_csv(&text, bits);
            }
        }
        any.then_some(reg)
    }

    /// Adds the records of one registry CSV whose assignments are `bits` long.
    pub fn add_csv(&mut self, text: &str, bits: u8) {
        for line in text.lines().skip(1) {
            let f = csv_fields(line);
            let (Some(assignment), Some(name)) = (f.get(1), f.get(2)) else {
                continue;
            };
            let hex_digits = usize::from(bits / 4);
            if assignment.len() != hex_digits {
                continue;
            }
            let Ok(prefix) = u64::from_str_radix(assignment, 16) else {
                continue;
            };
            let name: String = name.trim().chars().take(MAX_NAME).collect();
            if !name.is_empty() {
                self.by_prefix.insert((bits, prefix), name);
            }
        }
    }

    /// Number of assignments known.
    pub fn len(&self) -> usize {
        self.by_prefix.len()
    }

    /// True if no assignment is known.
    pub fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }

    /// The organisation a MAC address was assigned to. Locally administered addresses
    /// (second-lowest bit of the first octet set) belong to no vendor.
    pub fn vendor(&self, mac: [u8; 6]) -> Option<&str> {
        if mac[0] & 0x02 != 0 {
            return None;
        }
        let value = mac.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
        [36u8, 28, 24].iter().find_map(|&bits| {
            self.by_prefix
                .get(&(bits, value >> (48 - u32::from(bits))))
                .map(String::as_str)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUI: &str = "Registry,Assignment,Organization Name,Organization Address\n\
        MA-L,00095C,Philips Medical Systems - Cardiac and Monitoring Systems (CM,3000 Minuteman Road Andover US\n\
        MA-L,444B5D,GE Healthcare,Kuortaneenkatu 2 Helsinki  FI 00510\n\
        MA-L,0050C2,IEEE Registration Authority,445 Hoes Lane Piscataway NJ US\n\
        MA-L,001B63,\"Apple, Inc.\",1 Infinite Loop Cupertino CA US\n";
    const IAB: &str = "Registry,Assignment,Organization Name,Organization Address\n\
        IAB,0050C2123,\"Nihon Kohden \"\"Test\"\"\",Tokyo JP\n";

    fn registry() -> OuiRegistry {
        let mut r = OuiRegistry::default();
        r.add_csv(OUI, 24);
        r.add_csv(IAB, 36);
        r
    }

    #[test]
    fn vendors_are_found_by_their_24_bit_assignment() {
        let r = registry();
        assert_eq!(r.vendor([0x44, 0x4b, 0x5d, 1, 2, 3]), Some("GE Healthcare"));
        assert_eq!(r.vendor([0x00, 0x1b, 0x63, 0, 0, 1]), Some("Apple, Inc."));
        assert_eq!(r.vendor([0x00, 0x11, 0x22, 0, 0, 1]), None);
    }

    #[test]
    fn a_36_bit_assignment_wins_over_the_block_it_sits_in() {
        let r = registry();
        assert_eq!(
            r.vendor([0x00, 0x50, 0xc2, 0x12, 0x34, 0x56]),
            Some("Nihon Kohden \"Test\"")
        );
        assert_eq!(
            r.vendor([0x00, 0x50, 0xc2, 0x99, 0, 0]),
            Some("IEEE Registration Authority")
        );
    }

    #[test]
    fn locally_administered_addresses_have_no_vendor() {
        let mut r = registry();
        r.add_csv("h\nMA-L,02AABB,Nobody,x\n", 24);
        assert_eq!(r.vendor([0x02, 0xaa, 0xbb, 0, 0, 1]), None);
    }

    #[test]
    fn a_folder_without_the_registry_loads_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(OuiRegistry::load(dir.path()).is_none());
        std::fs::write(dir.path().join("oui.csv"), OUI).expect("write");
        let r = OuiRegistry::load(dir.path()).expect("loads");
        assert_eq!(r.len(), 4);
    }
}
