//! A prober for tests against a loopback service: the scan's parts it borrows, owned
//! here, and 127.0.0.1 cleared by a scope of that one address.

use std::net::{IpAddr, Ipv4Addr};

use tokio_util::sync::CancellationToken;

use super::{Clients, Prober};
use crate::evidence::EvidenceLog;
use crate::governor::{Governor, SafetySettings};
use crate::ports::PortCatalog;
use crate::scope::{AddrRange, Cleared, Scope, ScopeGuard};

/// What a [`Prober`] borrows, with default safety settings.
pub(super) struct Loopback {
    pub(super) governor: Governor,
    pub(super) cancel: CancellationToken,
    pub(super) evidence: EvidenceLog,
    catalog: PortCatalog,
    clients: Clients,
    guard: ScopeGuard,
}

impl Loopback {
    pub(super) fn new() -> Self {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        Self {
            governor: Governor::new(SafetySettings::default()),
            cancel: CancellationToken::new(),
            evidence: EvidenceLog::default(),
            catalog: PortCatalog::builtin().expect("catalog"),
            clients: Clients::new("kenshin-test").expect("clients"),
            guard: ScopeGuard::new(
                Scope::new(vec![AddrRange::single(lo)], vec![], 16, false).expect("scope"),
            ),
        }
    }

    /// 127.0.0.1, cleared.
    pub(super) fn cleared(&self) -> Cleared {
        self.guard
            .clear(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .expect("in scope")
    }

    pub(super) fn prober(&self) -> Prober<'_> {
        Prober {
            governor: &self.governor,
            cancel: &self.cancel,
            evidence: &self.evidence,
            catalog: &self.catalog,
            clients: &self.clients,
        }
    }
}
