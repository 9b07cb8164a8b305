//! TLS as a scanner needs it: ClientHellos for SSLv2 through TLS 1.3, and the
//! server's clear-text first flight (ServerHello, HelloRetryRequest,
//! Certificate, ServerKeyExchange, ServerHelloDone, Alert).
//!
//! kenshin never completes a handshake with this codec; it reads what the
//! server chose and leaves. That is how every version, suite and group a
//! server accepts is learned without a TLS library that would refuse the old
//! ones. Cipher suites, groups, signature schemes, versions and alerts are
//! open enums with their registry names; [`CURVES`] pairs each named curve's
//! certificate OID with its TLS group.

mod curves;
mod hello;
mod names;
mod registry;
mod server;
pub mod sslv2;
mod suites;

pub use curves::{curve_by_oid, Curve, CURVES};
pub use hello::{encode_client_hello, encode_goodbye, ClientHello};
pub use names::{AlertDescription, NamedGroup, SignatureScheme, Version};
pub use server::{
    bit_length, decode_certificates, decode_key_exchange, decode_server_hello, read_flight, Alert,
    Flight, FlightEnd, KeyExchangeParams, ServerHello, HELLO_RETRY_RANDOM, MAX_CERTIFICATES,
    MAX_HANDSHAKE, MAX_RECORD,
};
pub use suites::{
    classify, CipherSuite, KeyExchange, Mode, SuiteClass, EMPTY_RENEGOTIATION_INFO_SCSV,
};
