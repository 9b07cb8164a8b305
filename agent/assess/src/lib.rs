//! kenshin-assess turns observations into what a person asks about a host:
//! which services run on it and what kind of device it is.
//!
//! It names services (from their bytes, else the port catalog), runs the
//! fingerprints, judges TLS, names MAC vendors and infers device kinds
//! ([`identify`]); then the checks ([`checks`]) and advisories ([`advisory`]) turn
//! the result into findings with requirement IDs ([`evaluate`]), and the checklist
//! view ([`checklist`]) answers each item of the MHLW checklist from them.
//!
//! Every rule family (ports, fingerprints, TLS profiles, requirement registries, MAC
//! vendor kinds, ledger words, the noise corpus, service names, checks, advisories) loads and
//! verifies through one [`RulePack`]; every loader reports the one
//! [`rulefile::Problem`] type, naming file, line and rule.

pub mod advisory;
pub mod checklist;
pub mod checks;
pub mod evaluate;
pub mod exceptions;
pub mod fields;
pub mod finding;
pub mod fingerprint;
pub mod groups;
pub mod identify;
pub mod kev;
pub mod kind;
pub mod kinds;
pub mod ledger;
pub mod matcher;
pub mod noise;
pub mod oui;
pub mod pack;
pub mod passive_kinds;
pub mod requirements;
pub mod rulefile;
pub mod segments;
pub mod service_names;
pub mod subject;
pub mod tls;
pub mod vendor_kinds;

pub use identify::{assess, AssessedHost, Service};
pub use kind::DeviceKind;
pub use oui::OuiRegistry;
pub use pack::RulePack;
