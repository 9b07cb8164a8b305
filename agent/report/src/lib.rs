//! kenshin-report owns the report contract `kenshin.report/1.1` and its writing.
//!
//! - [`model`]: the contract's types, field for field as docs/report-contract.md
//!   documents them. Fields may be added; none may be renamed or removed
//!   without bumping [`CONTRACT`].
//! - [`build`]: assembles a report from a scan's observations and assessment.
//! - [`labels`]: every word shown to people, in Japanese and English, spelled once.
//! - [`output`]: the report folder: checked before the scan, written atomically,
//!   private unless asked otherwise.
//! - [`screen`]: [`visible`], the one rule that makes untrusted text safe to show on a
//!   terminal or in a log.
//! - [`seal`]: sealing a folder and verifying the seal.

pub mod archive;
pub mod build;
pub mod bundle;
pub mod checklist_export;
pub mod diff;
pub mod html;
pub mod labels;
pub mod local_time;
pub mod model;
pub mod output;
pub mod screen;
pub mod seal;
pub mod transcript;
pub mod verdict;

/// The contract identifier written into every report.
pub const CONTRACT: &str = "kenshin.report/1.2";

/// The JSON Schema of the contract, as shipped in docs/.
pub const SCHEMA: &str = include_str!("../../../docs/report-schema.json");

pub use labels::Lang;
pub use screen::visible;
