//! Version ordering: the natural order of vendor version strings (`9.2p1`, `7.2.3`,
//! `13.1-49.15`, `22.7R2.5`, `10.2.9-h1`), and Debian's package-revision order
//! (`2+deb12u3`), written from the rules in Debian Policy §5.6.12.
//!
//! Both are total orders over any string and never panic; a string with no digit at
//! all still compares. Branch membership (`7.2.x`) is a prefix of whole components.

use std::cmp::Ordering;

/// One run of a version string: digits (compared as numbers) or anything else
/// (compared as text).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part<'a> {
    Number(&'a str),
    Text(&'a str),
}

fn parts(v: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let bytes = v.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let digit = bytes[start].is_ascii_digit();
        let mut end = start;
        while end < bytes.len() && bytes[end].is_ascii_digit() == digit {
            end += 1;
        }
        let run = &v[start..end];
        out.push(if digit {
            Part::Number(run)
        } else {
            Part::Text(run)
        });
        start = end;
    }
    out
}

/// Compares digit runs as numbers of any length (leading zeros ignored).
fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The natural order of two vendor version strings: digit runs as numbers, other runs
/// as text, a missing tail lower (`10.2.9` < `10.2.9-h1`).
pub fn compare(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x, y) {
            (Part::Number(x), Part::Number(y)) => cmp_digits(x, y),
            (Part::Text(x), Part::Text(y)) => x.cmp(y),
            (Part::Number(_), Part::Text(_)) => Ordering::Greater,
            (Part::Text(_), Part::Number(_)) => Ordering::Less,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// True if `version` is on `branch`: equal to it, or continuing it after a separator
/// (`7.2.3` and `7.2` are on `7.2`; `7.20.1` is not).
pub fn on_branch(version: &str, branch: &str) -> bool {
    match version.strip_prefix(branch) {
        Some("") => true,
        Some(rest) => !rest.starts_with(|c: char| c.is_ascii_digit()) || branch.is_empty(),
        None => false,
    }
}

/// The weight of one character in Debian's non-digit comparison: `~` sorts before
/// everything, even the end of the string; letters sort before other characters.
fn dpkg_weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Compares two Debian upstream versions or revisions, as dpkg does.
pub fn compare_dpkg(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // The non-digit prefix, character by character.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ca = a.get(i).copied().filter(|c| !c.is_ascii_digit());
            let cb = b.get(j).copied().filter(|c| !c.is_ascii_digit());
            let (wa, wb) = (dpkg_weight(ca), dpkg_weight(cb));
            if wa != wb {
                return wa.cmp(&wb);
            }
            if ca.is_some() {
                i += 1;
            }
            if cb.is_some() {
                j += 1;
            }
        }
        // Then the digit run, as a number.
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let da = std::str::from_utf8(&a[si..i]).unwrap_or("");
        let db = std::str::from_utf8(&b[sj..j]).unwrap_or("");
        let o = cmp_digits(da, db);
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    #[test]
    fn vendor_versions_compare_by_their_numbers() {
        assert_eq!(compare("9.8p1", "9.2p1"), Greater);
        assert_eq!(compare("9.2p1", "9.2p1"), Equal);
        assert_eq!(compare("8.5p1", "8.10p1"), Less);
        assert_eq!(compare("7.2.10", "7.2.9"), Greater);
        assert_eq!(compare("13.1-49.15", "13.1-49.13"), Greater);
        assert_eq!(compare("22.7R2.5", "22.7R2.4"), Greater);
        assert_eq!(compare("10.2.9", "10.2.9-h1"), Less);
        assert_eq!(compare("12.2(55)SE7", "12.2(55)SE12"), Less);
        assert_eq!(compare("007", "7"), Equal);
        assert_eq!(compare("", "1"), Less);
    }

    #[test]
    fn a_branch_is_a_prefix_of_whole_components() {
        assert!(on_branch("7.2.3", "7.2"));
        assert!(on_branch("7.2", "7.2"));
        assert!(!on_branch("7.20.1", "7.2"));
        assert!(on_branch("13.1-49.15", "13.1"));
        assert!(on_branch("22.7R2.5", "22.7"));
        assert!(!on_branch("6.4.1", "7.2"));
    }

    #[test]
    fn debian_revisions_order_as_dpkg_orders_them() {
        assert_eq!(compare_dpkg("2+deb12u3", "2+deb12u2"), Greater);
        assert_eq!(compare_dpkg("2+deb12u10", "2+deb12u3"), Greater);
        assert_eq!(compare_dpkg("2+deb12u3", "2+deb12u3"), Equal);
        assert_eq!(compare_dpkg("2", "2+deb12u1"), Less);
        assert_eq!(compare_dpkg("1.0~rc1", "1.0"), Less);
        assert_eq!(compare_dpkg("1.0a", "1.0+"), Less);
        assert_eq!(compare_dpkg("3ubuntu0.10", "3ubuntu0.9"), Greater);
        assert_eq!(compare_dpkg("3ubuntu13.3", "3ubuntu13"), Greater);
        assert_eq!(compare_dpkg("", ""), Equal);
    }
}
