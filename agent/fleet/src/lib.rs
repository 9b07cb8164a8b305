//! kenshin-fleet: many sensors, one view, on PostgreSQL.
//!
//! - [`connect`]: the URL, TLS with `verify-full` semantics and a client certificate,
//!   the password redacted everywhere it is shown.
//! - [`schema`]: versioned migrations (`migrations/*.sql`) that `fleet init` applies;
//!   a database newer than this binary is refused.
//! - [`sites`]: sites, organisations and enrolled sensor keys, with revocation.
//! - [`bundle`]: a sealed report folder read as the unit that moves.
//! - [`push`]: a bundle into the inbox of the caller's own site (idempotent).
//! - [`ingest`]: each inbox bundle verified against its site's enrolled key and
//!   filed in one transaction, or quarantined with the reason.
//! - [`rollup`] and [`report`]: the figures across sites, as JSON or a sealed
//!   HTML+JSON folder.

pub mod bundle;
pub mod connect;
mod error;
pub mod ingest;
pub mod push;
pub mod report;
pub mod rollup;
pub mod schema;
pub mod sites;

pub use connect::{connect, FleetConnect};
pub use error::FleetError;
pub use push::{push_bundle, PushError, PushReceipt};
