//! kenshin-wire owns the byte codecs for every protocol kenshin speaks.
//!
//! Everything here is pure: no I/O, no async, no allocation beyond what a
//! decoded value needs. Every decoder works over a [`Reader`], which checks
//! every length against the bytes that are really there, so no input can make
//! a decoder panic or read out of bounds. Wire codes that kenshin does not know
//! are kept as values (open enums), never treated as errors, because a
//! scanner that fails on an unknown code learns nothing from the device that
//! sent it.
//!
//! Modules:
//! - [`fuzzing`]: the properties the fuzz targets and the corpus replay check.
//! - [`reader`]: the checked cursor every decoder uses, and [`DecodeError`].
//! - [`ber`]: the subset of ASN.1 BER that SNMP needs.
//! - [`snmp`]: SNMP v1/v2c GetRequest encoding and GetResponse decoding.
//! - [`line`]: bounded line framing for text protocols.
//! - [`ssh`]: the SSH identification string.
//! - [`greeting`]: FTP/SMTP replies, POP3 and IMAP greetings.
//! - [`telnet`]: Telnet option negotiation, answered as the plainest client.
//! - [`rdp`]: RDP's X.224 connection request and confirm with security negotiation.
//! - [`rfb`]: VNC's protocol version and offered security types.
//! - [`dicom`]: DICOM A-ASSOCIATE-RQ for Verification, and the PDUs that answer it.
//! - [`smb`]: SMB1 and SMB2 dialect negotiation, and the SMB2 SESSION_SETUP that
//!   carries an anonymous NTLMSSP exchange.
//! - [`ntlm`]: the NTLMSSP NEGOTIATE and CHALLENGE messages (server identity, no credentials).
//! - [`listen`]: what a listener hears without asking: ARP, DHCP, LLDP, CDP, mDNS/DNS-SD,
//!   SSDP, the NetBIOS name service and IPv6 neighbour discovery, from whole Ethernet frames.
//! - [`tls`]: ClientHellos from SSLv2 to TLS 1.3 and the server's clear-text first flight;
//!   cipher suites, groups and signature schemes with their names and classification.

pub mod ber;
pub mod dicom;
pub mod fuzzing;
pub mod greeting;
pub mod line;
pub mod listen;
pub mod ntlm;
pub mod rdp;
pub mod reader;
pub mod rfb;
pub mod smb;
pub mod snmp;
pub mod ssh;
pub mod telnet;
pub mod tls;

pub use reader::{DecodeError, Reader};
