//! MAC address vendors from the IEEE registration authority's registry, as Debian's
//! `ieee-data` package installs it (`/usr/share/ieee-data/*.csv`).
//!
//! kenshin does not ship the registry: it reads the system's copy, so it is as current
//! as the package and carries the package's terms. Without it, vendors are unknown
//! (`null` in the report) and the scan says so once. The longest assignment wins:
//! MA-S (36 bits) and IAB over MA-M (28 bits) over MA-L (24 bits).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
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
/// Longest registry line read; a longer one is skipped (the registry's lines are
/// under 300 bytes).
const MAX_LINE: u64 = 4096;

/// Vendor names by MAC prefix, kept compact: the registry's ~46,000 assignments name
/// ~27,000 organisations, so each name is stored once in one text and every
/// assignment is a sorted 8-byte key with a 4-byte name number (about 1.5 MB in all,
/// where a map of owned strings took 8 MB for the whole scan).
#[derive(Debug, Clone, Default)]
pub struct OuiRegistry {
    /// `key(bits, prefix)`, sorted, one per assignment.
    keys: Vec<u64>,
    /// The name number of each key.
    names: Vec<u32>,
    /// Every distinct name, one after another.
    text: String,
    /// Where name number `i` sits in `text`.
    spans: Vec<(u32, u32)>,
    /// The folder it was read from.
    pub source: PathBuf,
}

/// One sortable number for a prefix of `bits` bits (at most 36).
fn key(bits: u8, prefix: u64) -> u64 {
    (u64::from(bits) << 48) | prefix
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

/// The registry while it is read: names are numbered as they first appear.
#[derive(Default)]
struct Builder {
    numbers: HashMap<String, u32>,
    entries: Vec<(u64, u32)>,
    reg: OuiRegistry,
}

impl Builder {
    fn starting_from(reg: OuiRegistry) -> Self {
        let mut b = Self::default();
        for (i, &(from, to)) in reg.spans.iter().enumerate() {
            let name = reg.text[from as usize..to as usize].to_owned();
            b.numbers.insert(name, u32::try_from(i).unwrap_or(u32::MAX));
        }
        b.entries = reg
            .keys
            .iter()
            .copied()
            .zip(reg.names.iter().copied())
            .collect();
        b.reg = OuiRegistry {
            keys: Vec::new(),
            names: Vec::new(),
            ..reg
        };
        b
    }

    /// Adds one CSV record (the header and malformed records add nothing).
    fn record(&mut self, line: &str, bits: u8) {
        let f = csv_fields(line.trim_end_matches(['\r', '\n']));
        let (Some(assignment), Some(name)) = (f.get(1), f.get(2)) else {
            return;
        };
        if assignment.len() != usize::from(bits / 4) {
            return;
        }
        let Ok(prefix) = u64::from_str_radix(assignment, 16) else {
            return;
        };
        let name: String = name.trim().chars().take(MAX_NAME).collect();
        if name.is_empty() {
            return;
        }
        let number = match self.numbers.get(&name) {
            Some(&n) => n,
            None => {
                let Ok(n) = u32::try_from(self.reg.spans.len()) else {
                    return;
                };
                let from = self.reg.text.len();
                self.reg.text.push_str(&name);
                let (Ok(from), Ok(to)) = (u32::try_from(from), u32::try_from(self.reg.text.len()))
                else {
                    return;
                };
                self.reg.spans.push((from, to));
                self.numbers.insert(name, n);
                n
            }
        };
        self.entries.push((key(bits, prefix), number));
    }

    /// Sorts the assignments; where one was listed twice, the later record wins.
    fn finish(mut self) -> OuiRegistry {
        self.entries.sort_by_key(|&(k, _)| k);
        let mut reg = self.reg;
        reg.keys.reserve_exact(self.entries.len());
        reg.names.reserve_exact(self.entries.len());
        for (i, &(k, n)) in self.entries.iter().enumerate() {
            if self.entries.get(i + 1).is_some_and(|&(next, _)| next == k) {
                continue;
            }
            reg.keys.push(k);
            reg.names.push(n);
        }
        reg.text.shrink_to_fit();
        reg.spans.shrink_to_fit();
        reg
    }
}

impl OuiRegistry {
    /// Reads the registry from `dir`, a line at a time; `None` if no registry file is
    /// there.
    pub fn load(dir: &Path) -> Option<Self> {
        let mut b = Builder::default();
        b.reg.source = dir.to_owned();
        let mut any = false;
        let mut line = Vec::new();
        for (file, bits) in FILES {
            let Ok(f) = std::fs::File::open(dir.join(file)) else {
                continue;
            };
            any = true;
            let mut r = BufReader::new(f);
            let mut first = true;
            loop {
                line.clear();
                match r.by_ref().take(MAX_LINE).read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if line.last() != Some(&b'\n') && line.len() as u64 == MAX_LINE {
                    // Too long: skip the rest of it.
                    let mut rest = Vec::new();
                    let _ = r.by_ref().take(1 << 20).read_until(b'\n', &mut rest);
                    continue;
                }
                if std::mem::take(&mut first) {
                    continue; // the header
                }
                if let Ok(text) = std::str::from_utf8(&line) {
                    b.record(text, bits);
                }
            }
        }
        any.then(|| b.finish())
    }

    /// Adds the records of one registry CSV whose assignments are `bits` long.
    pub fn add_csv(&mut self, text: &str, bits: u8) {
        let mut b = Builder::starting_from(std::mem::take(self));
        for line in text.lines().skip(1) {
            b.record(line, bits);
        }
        *self = b.finish();
    }

    /// Number of assignments known.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True if no assignment is known.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The organisation a MAC address was assigned to. Locally administered addresses
    /// (second-lowest bit of the first octet set) belong to no vendor.
    pub fn vendor(&self, mac: [u8; 6]) -> Option<&str> {
        if mac[0] & 0x02 != 0 {
            return None;
        }
        let value = mac.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
        [36u8, 28, 24].iter().find_map(|&bits| {
            let at = self
                .keys
                .binary_search(&key(bits, value >> (48 - u32::from(bits))))
                .ok()?;
            let &(from, to) = self.spans.get(*self.names.get(at)? as usize)?;
            self.text.get(from as usize..to as usize)
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
    fn a_prefix_listed_twice_names_the_later_record_and_names_are_stored_once() {
        let mut r = registry();
        r.add_csv(
            "h\r\nMA-L,444B5D,GE Healthcare Finland,x\r\nMA-L,A0B1C2,Apple, Inc.,x\r\n",
            24,
        );
        assert_eq!(
            r.vendor([0x44, 0x4b, 0x5d, 0, 0, 1]),
            Some("GE Healthcare Finland")
        );
        assert_eq!(r.vendor([0xa0, 0xb1, 0xc2, 0, 0, 1]), Some("Apple"));
        assert_eq!(r.len(), 6);
        let shared = r.text.matches("GE Healthcare").count();
        assert_eq!(shared, 2, "two different names, each once: {:?}", r.text);
    }

    #[test]
    fn a_registry_file_is_read_a_line_at_a_time_skipping_overlong_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let long = format!("MA-L,112233,{},x\n", "A".repeat(10_000));
        let text = format!(
            "{}{long}MA-L,444B5D,GE Healthcare,x\n",
            OUI.lines().next().expect("header").to_owned() + "\n"
        );
        std::fs::write(dir.path().join("oui.csv"), text).expect("write");
        let r = OuiRegistry::load(dir.path()).expect("loads");
        assert_eq!(r.len(), 1);
        assert_eq!(r.vendor([0x11, 0x22, 0x33, 0, 0, 1]), None);
        assert_eq!(r.vendor([0x44, 0x4b, 0x5d, 0, 0, 1]), Some("GE Healthcare"));
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
