//! kenshin-probe owns all of kenshin's network I/O.
//!
//! It turns a scope and a port list into typed observations: which addresses
//! answered and how, which ports are open, closed or filtered, what SNMP said,
//! and the evidence transcript of every probe. It judges nothing; that is the
//! assess crate's job.
//!
//! Safety is structural here:
//! - [`scope::ScopeGuard::clear`] is the only way to make a [`scope::Cleared`]
//!   address;
//! - [`governor::Governor::admit`] turns a cleared address into an
//!   [`governor::Admission`] once the global and per-host rate and concurrency
//!   caps allow;
//! - the functions in [`net`], the only code that opens sockets, take an
//!   admission. `clippy.toml` forbids socket sends anywhere else.
//!
//! Modules: [`target`] (target syntax), [`scope`] (scope and guard), [`ports`]
//! (port specs and the catalog), [`governor`] (rate and concurrency caps),
//! [`listen`] (listen-only discovery: a receive-only capture that cannot send),
//! [`rtt`] (timeouts), [`net`] (sockets), [`snmp`] (the SNMP probe),
//! [`evidence`] (transcripts), [`facts`] (the fact-name registry), [`neighbors`]
//! (the kernel ARP table), [`observation`] (output types), [`scan`] (the
//! orchestration).

pub mod chunk;
pub mod evidence;
pub mod facts;
pub mod governor;
pub mod listen;
pub mod neighbors;
pub mod net;
pub mod observation;
pub mod ports;
pub mod rtt;
pub mod scan;
pub mod scope;
pub mod service;
pub mod snmp;
pub mod target;
