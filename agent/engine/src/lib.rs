//! kenshin-engine: one scan from settings to a sealed report folder, shared by every
//! front end (`kenshin scan`, the daemon, a future fleet worker), none of which needs
//! clap to use it.
//!
//! - [`settings`]: [`ScanSettings`], every default and range check of a scan, once;
//! - [`job`]: the scan job, `check` → `prepare` → `execute` (scan, judge, seal);
//! - [`listen`]: listen-only discovery to the same sealed folder, and the class
//!   hints that `scan --listen` learns before its first probe; [`heard`]: what was
//!   heard, merged into a scan's hosts, kinds and report;
//! - [`rules_home`]: the local rule overlay (imported KEV catalog, installed packs);
//! - [`signed_pack`]: the signed rule pack file carried into a closed network;
//! - [`host_check`]: this machine seen from the inside, without a packet sent;
//! - [`clock`] and [`privilege`]: time for records and schedules; what this process
//!   may do.

pub mod clock;
pub mod heard;
pub mod host_check;
pub mod job;
pub mod listen;
pub mod memory;
pub mod privilege;
pub mod rules_home;
pub mod settings;
pub mod signed_pack;

pub use settings::{Discovery, ScanSettings, Setting, SettingError};
