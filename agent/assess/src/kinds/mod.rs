//! Device kinds from all the evidence: the fields a host shows ([`evidence`]), the
//! kind rules over them (`rules/kinds.toml`, [`rules`]) and the decision that weighs
//! them with the product fingerprints, the MAC vendor and the open ports' hints
//! ([`decide`]).

pub mod decide;
pub mod evidence;
pub mod rules;

pub use decide::{decide, Inputs, KindDecision};
pub use evidence::ServiceView;
pub use rules::KindRules;
