//! The scope guard: the one gate every destination passes before a packet leaves.
//!
//! A [`Scope`] is the set of addresses the user named, minus the excludes.
//! [`ScopeGuard::clear`] is the only way to obtain a [`Cleared`] address, and
//! every function in this crate that sends a packet takes a [`Cleared`] (through
//! the governor's `Admission`). The type has no public constructor, so there
//! is no code path that reaches the network with an address the guard has not
//! seen.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use thiserror::Error;

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddrRange {
    v6: bool,
    lo: u128,
    hi: u128,
}

impl fmt::Debug for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.at(self.lo))
        } else {
            write!(f, "{}-{}", self.at(self.lo), self.at(self.hi))
        }
    }
}

fn to_u128(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

fn from_u128(v6: bool, v: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(v))
    } else {
        // A v4 range only ever holds values that came from a u32.
        IpAddr::V4(Ipv4Addr::from(u32::try_from(v).unwrap_or(u32::MAX)))
    }
}

impl AddrRange {
    /// The range `start..=end`, or `None` if the families differ or `end < start`.
    pub fn new(start: IpAddr, end: IpAddr) -> Option<Self> {
        let (v6a, lo) = to_u128(start);
        let (v6b, hi) = to_u128(end);
        (v6a == v6b && lo <= hi).then_some(Self { v6: v6a, lo, hi })
    }

    /// One address.
    pub fn single(ip: IpAddr) -> Self {
        let (v6, v) = to_u128(ip);
        Self { v6, lo: v, hi: v }
    }

    /// A CIDR block; host bits of `ip` are ignored. `bits` must be at most 32 or 128.
    pub fn cidr(ip: IpAddr, bits: u32) -> Self {
        let (v6, v) = to_u128(ip);
        let width = if v6 { 128 } else { 32 };
        let host_bits = width - bits.min(width);
        let host_mask = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        Self {
            v6,
            lo: v & !host_mask,
            hi: v | host_mask,
        }
    }

    fn at(&self, v: u128) -> IpAddr {
        from_u128(self.v6, v)
    }

    /// First address.
    pub fn first(&self) -> IpAddr {
        self.at(self.lo)
    }

    /// Last address.
    pub fn last(&self) -> IpAddr {
        self.at(self.hi)
    }

    /// True for an IPv6 range.
    pub fn is_ipv6(&self) -> bool {
        self.v6
    }

    /// Number of addresses, saturating at `u128::MAX`.
    pub fn len(&self) -> u128 {
        (self.hi - self.lo).saturating_add(1)
    }

    /// Never true: a range holds at least one address.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// True if `ip` lies in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v6, v) = to_u128(ip);
        v6 == self.v6 && self.lo <= v && v <= self.hi
    }

    /// Every address in the range, in order.
    pub fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        (self.lo..=self.hi).map(move |v| self.at(v))
    }
}

/// Sorts and merges overlapping or adjacent ranges of the same family.
fn normalise(mut ranges: Vec<AddrRange>) -> Vec<AddrRange> {
    ranges.sort();
    let mut out: Vec<AddrRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if last.v6 == r.v6 && r.lo <= last.hi.saturating_add(1) => {
                last.hi = last.hi.max(r.hi);
            }
            _ => out.push(r),
        }
    }
    out
}

/// `include` minus `exclude`, both normalised.
fn subtract(include: &[AddrRange], exclude: &[AddrRange]) -> Vec<AddrRange> {
    let mut out = Vec::new();
    for r in include {
        let mut pieces = vec![*r];
        for x in exclude.iter().filter(|x| x.v6 == r.v6) {
            let mut next = Vec::new();
            for p in pieces {
                if x.hi < p.lo || x.lo > p.hi {
                    next.push(p);
                    continue;
                }
                if x.lo > p.lo {
                    next.push(AddrRange { hi: x.lo - 1, ..p });
                }
                if x.hi < p.hi {
                    next.push(AddrRange { lo: x.hi + 1, ..p });
                }
            }
            pieces = next;
        }
        out.extend(pieces);
    }
    out
}

/// Why a scope cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeError {
    #[error("the scope is empty: every target address is excluded")]
    Empty,
    #[error(
        "the scope holds {count} addresses, more than the limit of {limit}; \
         narrow the targets, or pass --allow-large-scope if this is intended"
    )]
    TooLarge { count: u128, limit: u128 },
    #[error(
        "the scope holds {count} addresses, more than kenshin will ever scan in one run \
         ({limit}); split the scan"
    )]
    BeyondHardLimit { count: u128, limit: u128 },
}

/// A destination the guard refused.
#[derive(Debug, Clone, Copy, Error, PartialEq, Eq)]
#[error("{addr} is outside the scan scope (not a target, or excluded); nothing was sent")]
pub struct OutOfScope {
    pub addr: IpAddr,
}

/// Addresses kenshin may send to: targets minus excludes.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Targets minus excludes, normalised: the excludes are already carved out.
    included: Vec<AddrRange>,
    count: u128,
}

/// Default largest scope without `--allow-large-scope`: a /16.
pub const DEFAULT_SCOPE_LIMIT: u128 = 1 << 16;
/// Largest scope kenshin ever scans in one run, even when allowed: a /8.
pub const HARD_SCOPE_LIMIT: u128 = 1 << 24;

impl Scope {
    /// Builds a scope and checks its size against `limit` (unless `allow_large`).
    pub fn new(
        targets: Vec<AddrRange>,
        excludes: Vec<AddrRange>,
        limit: u128,
        allow_large: bool,
    ) -> Result<Self, ScopeError> {
        let included = subtract(&normalise(targets), &normalise(excludes));
        let count = included
            .iter()
            .fold(0u128, |acc, r| acc.saturating_add(r.len()));
        if count == 0 {
            return Err(ScopeError::Empty);
        }
        if count > HARD_SCOPE_LIMIT {
            return Err(ScopeError::BeyondHardLimit {
                count,
                limit: HARD_SCOPE_LIMIT,
            });
        }
        if count > limit && !allow_large {
            return Err(ScopeError::TooLarge { count, limit });
        }
        Ok(Self { included, count })
    }

    /// Number of addresses in scope.
    pub fn len(&self) -> u128 {
        self.count
    }

    /// Never true: an empty scope is refused at construction.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// True if `ip` is a target and not excluded.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.included.iter().any(|r| r.contains(ip))
    }

    /// The included ranges, normalised.
    pub fn ranges(&self) -> &[AddrRange] {
        &self.included
    }

    /// Every address in scope, in order.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.included.iter().flat_map(AddrRange::iter)
    }
}

/// An address the scope guard has checked. Only [`ScopeGuard::clear`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cleared {
    addr: IpAddr,
}

impl Cleared {
    /// The checked address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }
}

/// The gate between "an address" and "a destination kenshin may send to".
#[derive(Debug, Clone)]
pub struct ScopeGuard {
    scope: Arc<Scope>,
}

impl ScopeGuard {
    pub fn new(scope: Scope) -> Self {
        Self {
            scope: Arc::new(scope),
        }
    }

    /// The scope this guard enforces.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Checks `addr` against the scope; the only way to make a [`Cleared`].
    pub fn clear(&self, addr: IpAddr) -> Result<Cleared, OutOfScope> {
        // An IPv4-mapped IPv6 address reaches the IPv4 host: judge it as that host.
        let judged = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        if self.scope.contains(judged) {
            Ok(Cleared { addr: judged })
        } else {
            tracing::error!(%addr, "scope guard refused a destination");
            Err(OutOfScope { addr })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn r(a: &str, b: &str) -> AddrRange {
        AddrRange::new(ip(a), ip(b)).expect("test range")
    }

    #[test]
    fn excludes_are_carved_out_of_targets() {
        let scope = Scope::new(
            vec![AddrRange::cidr(ip("198.18.1.0"), 24)],
            vec![
                r("198.18.1.10", "198.18.1.19"),
                AddrRange::single(ip("198.18.1.0")),
            ],
            DEFAULT_SCOPE_LIMIT,
            false,
        )
        .expect("valid scope");
        assert_eq!(scope.len(), 256 - 11);
        assert!(scope.contains(ip("198.18.1.9")));
        assert!(!scope.contains(ip("198.18.1.15")));
        assert!(!scope.contains(ip("198.18.2.1")));
        assert_eq!(scope.addresses().count(), 245);
    }

    #[test]
    fn overlapping_targets_count_once() {
        let scope = Scope::new(
            vec![
                r("198.18.1.1", "198.18.1.40"),
                AddrRange::cidr(ip("198.18.1.0"), 27),
            ],
            vec![],
            DEFAULT_SCOPE_LIMIT,
            false,
        )
        .expect("valid scope");
        assert_eq!(scope.len(), 41);
    }

    #[test]
    fn a_scope_with_everything_excluded_is_refused() {
        let t = AddrRange::cidr(ip("198.18.1.0"), 30);
        assert_eq!(
            Scope::new(vec![t], vec![t], DEFAULT_SCOPE_LIMIT, false).err(),
            Some(ScopeError::Empty)
        );
    }

    #[test]
    fn a_scope_over_the_limit_needs_explicit_permission() {
        let big = AddrRange::cidr(ip("198.18.0.0"), 15);
        assert!(matches!(
            Scope::new(vec![big], vec![], DEFAULT_SCOPE_LIMIT, false),
            Err(ScopeError::TooLarge { count: 131_072, .. })
        ));
        assert!(Scope::new(vec![big], vec![], DEFAULT_SCOPE_LIMIT, true).is_ok());
        let v6 = AddrRange::cidr(ip("2001:db8::"), 64);
        assert!(matches!(
            Scope::new(vec![v6], vec![], DEFAULT_SCOPE_LIMIT, true),
            Err(ScopeError::BeyondHardLimit { .. })
        ));
    }

    #[test]
    fn the_guard_refuses_what_is_not_in_scope_including_mapped_forms() {
        let guard = ScopeGuard::new(
            Scope::new(
                vec![AddrRange::cidr(ip("198.18.1.0"), 24)],
                vec![AddrRange::single(ip("198.18.1.5"))],
                DEFAULT_SCOPE_LIMIT,
                false,
            )
            .expect("valid scope"),
        );
        assert_eq!(
            guard.clear(ip("198.18.1.4")).map(|c| c.addr()),
            Ok(ip("198.18.1.4"))
        );
        assert!(guard.clear(ip("198.18.1.5")).is_err());
        assert!(guard.clear(ip("198.18.2.4")).is_err());
        assert!(guard.clear(ip("::ffff:198.18.1.5")).is_err());
        assert_eq!(
            guard.clear(ip("::ffff:198.18.1.4")).map(|c| c.addr()),
            Ok(ip("198.18.1.4"))
        );
    }
}
