//! kenshin-assess turns observations into what a person asks about a host:
//! which services run on it and what kind of device it is.
//!
//! Today it names services from the port catalog (`rules/ports.toml`) and
//! infers the device kind from the catalog's per-port hints; the rule engine
//! that produces findings with requirement IDs builds on this.

pub mod identify;

pub use identify::{assess, AssessedHost, DeviceKind, Service};
