//! kenshin-assess turns observations into what a person asks about a host:
//! which services run on it and what kind of device it is.
//!
//! It names services (from their bytes, else the port catalog), runs the
//! fingerprints, judges TLS, names MAC vendors and infers device kinds
//! ([`identify`]); then the checks ([`checks`]) and advisories ([`advisory`]) turn
//! the result into findings with requirement IDs ([`evaluate`]), and the checklist
//! view ([`checklist`]) answers each item of the MHLW checklist from them.

pub mod advisory;
pub mod checklist;
pub mod checks;
pub mod evaluate;
pub mod finding;
pub mod fingerprint;
pub mod identify;
pub mod kind;
pub mod ledger;
pub mod matcher;
pub mod oui;
pub mod requirements;
pub mod rulefile;
pub mod segments;
pub mod subject;
pub mod tls;
pub mod vendor_kinds;

pub use identify::{assess, AssessedHost, Service};
pub use kind::DeviceKind;
pub use oui::OuiRegistry;
