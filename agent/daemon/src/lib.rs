//! kenshin-daemon: scheduled scans of configured scopes, their history and the alerts
//! about what changed.
//!
//! - [`config`]: the strict `/etc/kenshin/kenshin.toml` (TOML → [`kenshin_engine::ScanSettings`]
//!   per scope, never through a command line), with [`config::cron`] schedules,
//!   [`config::window`]s and freeze dates;
//! - [`scheduler`]: wakes at each scope's next run and starts [`scan_task`]s without
//!   overlapping scopes;
//! - [`scan_task`]: one scan, recorded before its first packet, sealed, diffed,
//!   announced;
//! - [`history`]: the SQLite store; [`record`]: a sealed report into it, with its
//!   changes; [`reconcile`]: scans left `running` adopted or marked interrupted;
//!   [`health`]: the file that tells `kenshin status` the history cannot record;
//!   [`retention`]: old scans removed; [`lock`]: one daemon per state folder;
//! - [`notify`]: events from a diff, sent to webhooks and syslog;
//! - [`outbox`]: sealed scans queued for the fleet's PostgreSQL and the worker that
//!   pushes them, in order, through the binary's [`outbox::Uploader`].

pub mod config;
pub mod health;
pub mod history;
pub mod lock;
pub mod notify;
pub mod outbox;
pub mod reconcile;
pub mod record;
pub mod retention;
pub mod scan_task;
pub mod scheduler;

pub use scheduler::{run, MakeUploader};
