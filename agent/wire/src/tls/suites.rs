//! Cipher suites: an open enum over the 16-bit code point, its IANA name, and a
//! classification read from that name (key exchange, authentication, cipher,
//! mode, MAC; AEAD, forward secrecy, export, NULL, anonymous, RC4, 3DES, CBC).
//!
//! The IANA names are regular (`TLS_<kx>_<auth>_WITH_<cipher>_<mac>`, or
//! `TLS_<cipher>_<hash>` for TLS 1.3), so the classification is derived from the
//! name rather than kept as a second hand-written table that could disagree
//! with it.

use super::registry::REGISTRY;

/// A cipher suite code point. Unknown code points are kept as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CipherSuite(pub u16);

/// The signalling value that asks for secure renegotiation (RFC 5746), not a suite.
pub const EMPTY_RENEGOTIATION_INFO_SCSV: CipherSuite = CipherSuite(0x00FF);

/// How a suite agrees on keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyExchange {
    /// RSA key transport: no forward secrecy.
    Rsa,
    /// Static (EC)DH from the certificate: no forward secrecy.
    StaticDh,
    StaticEcdh,
    /// Ephemeral finite-field Diffie-Hellman.
    Dhe,
    /// Ephemeral elliptic-curve Diffie-Hellman.
    Ecdhe,
    /// Pre-shared key only.
    Psk,
    /// SRP.
    Srp,
    /// TLS 1.3: negotiated separately from the suite, always ephemeral.
    Tls13,
    Other,
}

impl KeyExchange {
    /// `RSA`, `DH`, `ECDH`, `DHE`, `ECDHE`, `PSK`, `SRP`, `TLS1.3`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyExchange::Rsa => "RSA",
            KeyExchange::StaticDh => "DH",
            KeyExchange::StaticEcdh => "ECDH",
            KeyExchange::Dhe => "DHE",
            KeyExchange::Ecdhe => "ECDHE",
            KeyExchange::Psk => "PSK",
            KeyExchange::Srp => "SRP",
            KeyExchange::Tls13 => "TLS1.3",
            KeyExchange::Other => "other",
        }
    }
}

/// How the bulk cipher runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Cbc,
    Gcm,
    Ccm,
    /// ChaCha20-Poly1305.
    Poly1305,
    /// RC4.
    Stream,
    /// No encryption at all.
    Null,
    Other,
}

impl Mode {
    /// `CBC`, `GCM`, `CCM`, `Poly1305`, `stream`, `NULL`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Cbc => "CBC",
            Mode::Gcm => "GCM",
            Mode::Ccm => "CCM",
            Mode::Poly1305 => "Poly1305",
            Mode::Stream => "stream",
            Mode::Null => "NULL",
            Mode::Other => "other",
        }
    }
}

/// What a suite's name says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteClass {
    pub key_exchange: KeyExchange,
    /// `RSA`, `ECDSA`, `DSS`, `PSK`, `anon`, or `any` (TLS 1.3).
    pub authentication: &'static str,
    /// The bulk cipher as the name spells it (`AES_128_GCM`, `3DES_EDE_CBC`, `RC4_128`).
    pub cipher: String,
    /// Key bits of the bulk cipher (0 for NULL; 40/56 for export ciphers).
    pub cipher_bits: u16,
    pub mode: Mode,
    /// The MAC or PRF hash (`MD5`, `SHA`, `SHA256`, `SHA384`), or `AEAD` alone for CCM.
    pub mac: &'static str,
    pub aead: bool,
    pub forward_secrecy: bool,
    pub export: bool,
    pub null_cipher: bool,
    pub anonymous: bool,
    pub rc4: bool,
    pub des: bool,
    pub triple_des: bool,
    pub cbc: bool,
    /// Usable only with TLS 1.3.
    pub tls13: bool,
    /// Usable only with TLS 1.2 or later (AEAD or SHA-2 suites).
    pub tls12_only: bool,
}

impl CipherSuite {
    /// The IANA name, or `None` for a code point kenshin does not know.
    pub fn name(self) -> Option<&'static str> {
        REGISTRY
            .binary_search_by_key(&self.0, |&(code, _)| code)
            .ok()
            .map(|i| REGISTRY[i].1)
    }

    /// The IANA name, or `0xC0FF`-style hex for an unknown suite.
    pub fn display(self) -> String {
        self.name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("0x{:04X}", self.0))
    }

    /// The suite with this IANA name.
    pub fn from_name(name: &str) -> Option<CipherSuite> {
        REGISTRY
            .iter()
            .find(|(_, n)| *n == name)
            .map(|&(c, _)| CipherSuite(c))
    }

    /// What the name says about the suite; `None` for an unknown code point.
    pub fn class(self) -> Option<SuiteClass> {
        self.name().map(classify)
    }

    /// Every suite kenshin knows, in code-point order.
    pub fn all() -> impl Iterator<Item = CipherSuite> {
        REGISTRY.iter().map(|&(c, _)| CipherSuite(c))
    }
}

/// Classifies a suite by its IANA name.
pub fn classify(name: &str) -> SuiteClass {
    let body = name.strip_prefix("TLS_").unwrap_or(name);
    let (kx_auth, cipher_mac, tls13) = match body.split_once("_WITH_") {
        Some((l, r)) => (l, r, false),
        None => ("", body, true),
    };
    let (key_exchange, authentication) = if tls13 {
        (KeyExchange::Tls13, "any")
    } else {
        kx_and_auth(kx_auth)
    };
    let (cipher, mac) = match ["_SHA384", "_SHA256", "_SHA", "_MD5"]
        .iter()
        .find(|m| cipher_mac.ends_with(*m))
    {
        Some(m) => (&cipher_mac[..cipher_mac.len() - m.len()], &m[1..]),
        None => (cipher_mac, "AEAD"),
    };
    let mode = if cipher == "NULL" {
        Mode::Null
    } else if cipher.contains("GCM") {
        Mode::Gcm
    } else if cipher.contains("CCM") {
        Mode::Ccm
    } else if cipher.contains("POLY1305") {
        Mode::Poly1305
    } else if cipher.starts_with("RC4") {
        Mode::Stream
    } else if cipher.contains("CBC") {
        Mode::Cbc
    } else {
        Mode::Other
    };
    let export = kx_auth.contains("EXPORT");
    let cipher_bits = cipher_bits(cipher, export);
    let aead = matches!(mode, Mode::Gcm | Mode::Ccm | Mode::Poly1305);
    let forward_secrecy = matches!(
        key_exchange,
        KeyExchange::Dhe | KeyExchange::Ecdhe | KeyExchange::Tls13
    );
    SuiteClass {
        key_exchange,
        authentication,
        cipher_bits,
        mode,
        // GCM and ChaCha suites name their PRF hash here, not a MAC.
        mac,
        aead,
        forward_secrecy,
        export,
        null_cipher: mode == Mode::Null,
        anonymous: authentication == "anon",
        rc4: cipher.starts_with("RC4"),
        des: cipher.starts_with("DES"),
        triple_des: cipher.starts_with("3DES"),
        cbc: mode == Mode::Cbc,
        tls13,
        tls12_only: !tls13 && (aead || mac == "SHA256" || mac == "SHA384"),
        cipher: cipher.to_owned(),
    }
}

fn kx_and_auth(kx_auth: &str) -> (KeyExchange, &'static str) {
    let kx = kx_auth.replace("_EXPORT1024", "").replace("_EXPORT", "");
    match kx.as_str() {
        "RSA" => (KeyExchange::Rsa, "RSA"),
        "DH_DSS" => (KeyExchange::StaticDh, "DSS"),
        "DH_RSA" => (KeyExchange::StaticDh, "RSA"),
        "DHE_DSS" => (KeyExchange::Dhe, "DSS"),
        "DHE_RSA" => (KeyExchange::Dhe, "RSA"),
        "DH_anon" => (KeyExchange::Dhe, "anon"),
        "ECDH_ECDSA" => (KeyExchange::StaticEcdh, "ECDSA"),
        "ECDH_RSA" => (KeyExchange::StaticEcdh, "RSA"),
        "ECDHE_ECDSA" => (KeyExchange::Ecdhe, "ECDSA"),
        "ECDHE_RSA" => (KeyExchange::Ecdhe, "RSA"),
        "ECDH_anon" => (KeyExchange::Ecdhe, "anon"),
        "PSK" => (KeyExchange::Psk, "PSK"),
        "RSA_PSK" => (KeyExchange::Rsa, "PSK"),
        "DHE_PSK" | "PSK_DHE" => (KeyExchange::Dhe, "PSK"),
        "ECDHE_PSK" => (KeyExchange::Ecdhe, "PSK"),
        "SRP_SHA" => (KeyExchange::Srp, "SRP"),
        "SRP_SHA_RSA" => (KeyExchange::Srp, "RSA"),
        "SRP_SHA_DSS" => (KeyExchange::Srp, "DSS"),
        _ => (KeyExchange::Other, "other"),
    }
}

fn cipher_bits(cipher: &str, export: bool) -> u16 {
    if cipher == "NULL" {
        return 0;
    }
    if cipher.starts_with("3DES") {
        return 112; // effective strength of three-key 3DES
    }
    if cipher.starts_with("DES40") || (export && cipher.contains("40")) {
        return 40;
    }
    if cipher.starts_with("RC4_56") {
        return 56;
    }
    if cipher.starts_with("DES") {
        return 56;
    }
    if cipher.starts_with("CHACHA20") || cipher.contains("_256") {
        return 256;
    }
    if cipher.contains("_128") || cipher.starts_with("IDEA") || cipher.starts_with("SEED") {
        return 128;
    }
    if export {
        return 40;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_sorted_and_has_no_duplicate_code_points() {
        assert!(REGISTRY.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn every_registered_name_classifies_to_a_known_key_exchange() {
        for (code, name) in REGISTRY {
            let c = classify(name);
            assert_ne!(c.key_exchange, KeyExchange::Other, "{code:04X} {name}");
            assert_ne!(c.mode, Mode::Other, "{code:04X} {name}");
        }
    }

    #[test]
    fn an_ecdhe_gcm_suite_is_aead_with_forward_secrecy() {
        let c = CipherSuite(0xC02F).class().expect("known");
        assert_eq!(
            CipherSuite(0xC02F).name(),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
        assert_eq!(c.key_exchange, KeyExchange::Ecdhe);
        assert_eq!(c.authentication, "RSA");
        assert_eq!(c.cipher, "AES_128_GCM");
        assert_eq!(c.cipher_bits, 128);
        assert!(c.aead && c.forward_secrecy && c.tls12_only && !c.cbc);
    }

    #[test]
    fn static_rsa_cbc_has_no_forward_secrecy_and_works_before_tls12() {
        let c = CipherSuite(0x002F).class().expect("known");
        assert_eq!(c.key_exchange, KeyExchange::Rsa);
        assert!(c.cbc && !c.aead && !c.forward_secrecy && !c.tls12_only);
        assert_eq!(c.mac, "SHA");
    }

    #[test]
    fn legacy_ciphers_are_flagged() {
        let rc4 = CipherSuite(0x0005).class().expect("known");
        assert!(rc4.rc4 && rc4.mode == Mode::Stream);
        let des3 = CipherSuite(0x000A).class().expect("known");
        assert!(des3.triple_des && des3.cbc && des3.cipher_bits == 112);
        let export = CipherSuite(0x0003).class().expect("known");
        assert!(export.export && export.rc4 && export.cipher_bits == 40);
        let anon = CipherSuite(0x0034).class().expect("known");
        assert!(anon.anonymous);
        let null = CipherSuite(0x0002).class().expect("known");
        assert!(null.null_cipher && null.cipher_bits == 0);
        let des = CipherSuite(0x0009).class().expect("known");
        assert!(des.des && !des.triple_des && des.cipher_bits == 56);
    }

    #[test]
    fn tls13_suites_are_tls13_only_and_aead() {
        let c = CipherSuite(0x1301).class().expect("known");
        assert!(c.tls13 && c.aead && c.forward_secrecy);
        assert_eq!(c.mac, "SHA256");
        let ccm = CipherSuite(0x1305).class().expect("known");
        assert!(ccm.tls13 && ccm.mode == Mode::Ccm);
    }

    #[test]
    fn ccm_suites_without_a_hash_suffix_are_aead() {
        let c = CipherSuite::from_name("TLS_ECDHE_ECDSA_WITH_AES_128_CCM")
            .and_then(CipherSuite::class)
            .expect("known");
        assert!(c.aead && c.tls12_only);
        assert_eq!(c.mac, "AEAD");
    }

    #[test]
    fn unknown_code_points_are_kept_and_shown_in_hex() {
        assert_eq!(CipherSuite(0xFAFA).name(), None);
        assert_eq!(CipherSuite(0xFAFA).display(), "0xFAFA");
    }
}
