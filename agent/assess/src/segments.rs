//! Named network segments (`clinical`, `servers`, `guest`, `vendor` …): address blocks
//! a site gives names to, so that checks can tell where a host sits and where the
//! scanner looks from.

use std::net::IpAddr;

use kenshin_probe::scope::AddrRange;
use kenshin_probe::target::{parse_target, TargetSpec};

/// One named segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    pub ranges: Vec<AddrRange>,
}

/// Every segment, in the order given; the first that holds an address names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segments {
    pub segments: Vec<Segment>,
}

/// Why a segment definition was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SegmentError {
    #[error("segment {0:?}: write NAME=CIDR[,CIDR…], e.g. clinical=198.18.2.0/24")]
    Syntax(String),
    #[error("segment name {0:?}: use lower-case letters, digits, '-' and '_'")]
    Name(String),
    #[error("segment {name:?}: {value:?} is not an address, CIDR block or range")]
    Range { name: String, value: String },
}

/// True for a segment name: lower-case letters, digits, '-' and '_'.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Segments {
    /// Adds one `NAME=CIDR[,CIDR…]` definition; a name given twice gains the blocks.
    pub fn add(&mut self, spec: &str) -> Result<(), SegmentError> {
        let (name, blocks) = spec
            .split_once('=')
            .ok_or_else(|| SegmentError::Syntax(spec.to_owned()))?;
        let name = name.trim();
        if !valid_name(name) {
            return Err(SegmentError::Name(name.to_owned()));
        }
        let mut ranges = Vec::new();
        for b in blocks.split(',').map(str::trim) {
            match parse_target(b) {
                Ok(TargetSpec::Range(r)) => ranges.push(r),
                _ => {
                    return Err(SegmentError::Range {
                        name: name.to_owned(),
                        value: b.to_owned(),
                    })
                }
            }
        }
        match self.segments.iter_mut().find(|s| s.name == name) {
            Some(s) => s.ranges.extend(ranges),
            None => self.segments.push(Segment {
                name: name.to_owned(),
                ranges,
            }),
        }
        Ok(())
    }

    /// The name of the first segment holding `addr`.
    pub fn name_of(&self, addr: IpAddr) -> Option<&str> {
        self.segments
            .iter()
            .find(|s| s.ranges.iter().any(|r| r.contains(addr)))
            .map(|s| s.name.as_str())
    }

    /// True if a segment of that name is defined.
    pub fn has(&self, name: &str) -> bool {
        self.segments.iter().any(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_takes_the_name_of_the_first_segment_holding_it() {
        let mut s = Segments::default();
        s.add("clinical=198.18.2.0/24").expect("clinical");
        s.add("guest=198.18.1.0/24, 198.18.3.5").expect("guest");
        s.add("clinical=198.18.4.0/24").expect("more clinical");
        let ip = |t: &str| t.parse::<IpAddr>().expect("ip");
        assert_eq!(s.name_of(ip("198.18.2.7")), Some("clinical"));
        assert_eq!(s.name_of(ip("198.18.4.7")), Some("clinical"));
        assert_eq!(s.name_of(ip("198.18.3.5")), Some("guest"));
        assert_eq!(s.name_of(ip("198.18.3.6")), None);
        assert!(s.has("guest") && !s.has("vendor"));
    }

    #[test]
    fn bad_definitions_name_the_bad_part() {
        let mut s = Segments::default();
        assert_eq!(
            s.add("clinical"),
            Err(SegmentError::Syntax("clinical".into()))
        );
        assert_eq!(
            s.add("Clinical=198.18.2.0/24"),
            Err(SegmentError::Name("Clinical".into()))
        );
        assert_eq!(
            s.add("guest=198.18.1.0/33"),
            Err(SegmentError::Range {
                name: "guest".into(),
                value: "198.18.1.0/33".into()
            })
        );
        assert_eq!(
            s.add("guest=pacs.example"),
            Err(SegmentError::Range {
                name: "guest".into(),
                value: "pacs.example".into()
            })
        );
    }
}
