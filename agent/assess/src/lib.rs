//! kenshin-assess turns observations into what a person asks about a host:
//! which services run on it and what kind of device it is.
//!
//! Today it names services from the port catalog (`rules/ports.toml`), infers the
//! device kind from the catalog's per-port hints, and names MAC vendors from the
//! system's IEEE registry; the rule engine that produces findings with requirement
//! IDs builds on this.

pub mod fingerprint;
pub mod identify;
pub mod oui;
pub mod requirements;
pub mod tls;

pub use identify::{assess, AssessedHost, DeviceKind, Service};
pub use oui::OuiRegistry;
