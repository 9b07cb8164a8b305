//! Open enums for the small TLS registries: protocol versions, named groups,
//! signature schemes and alert descriptions. Unknown values are kept.

/// A protocol version as it travels on the wire (`0x0303` is TLS 1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u16);

impl Version {
    pub const SSL2: Version = Version(0x0002);
    pub const SSL3: Version = Version(0x0300);
    pub const TLS10: Version = Version(0x0301);
    pub const TLS11: Version = Version(0x0302);
    pub const TLS12: Version = Version(0x0303);
    pub const TLS13: Version = Version(0x0304);

    /// The contract's spelling: `SSLv2`, `SSLv3`, `TLSv1.0` … `TLSv1.3`.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0002 => "SSLv2",
            0x0300 => "SSLv3",
            0x0301 => "TLSv1.0",
            0x0302 => "TLSv1.1",
            0x0303 => "TLSv1.2",
            0x0304 => "TLSv1.3",
            _ => return None,
        })
    }

    /// The name, or hex for an unknown version.
    pub fn display(self) -> String {
        self.name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("0x{:04X}", self.0))
    }

    /// The version with this contract name.
    pub fn from_name(name: &str) -> Option<Version> {
        [
            Version::SSL2,
            Version::SSL3,
            Version::TLS10,
            Version::TLS11,
            Version::TLS12,
            Version::TLS13,
        ]
        .into_iter()
        .find(|v| v.name() == Some(name))
    }
}

/// A key-exchange group (RFC 8446 4.2.7; the "elliptic curves" of RFC 4492).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamedGroup(pub u16);

impl NamedGroup {
    pub const SECP256R1: NamedGroup = NamedGroup(23);
    pub const SECP384R1: NamedGroup = NamedGroup(24);
    pub const SECP521R1: NamedGroup = NamedGroup(25);
    pub const X25519: NamedGroup = NamedGroup(29);
    pub const X448: NamedGroup = NamedGroup(30);
    pub const FFDHE2048: NamedGroup = NamedGroup(256);

    /// Every group kenshin offers when it asks a server which groups it accepts,
    /// modern first.
    pub const ALL: &'static [NamedGroup] = &[
        NamedGroup(29),
        NamedGroup(23),
        NamedGroup(24),
        NamedGroup(25),
        NamedGroup(30),
        NamedGroup(256),
        NamedGroup(257),
        NamedGroup(258),
        NamedGroup(259),
        NamedGroup(260),
        NamedGroup(26),
        NamedGroup(27),
        NamedGroup(28),
        NamedGroup(22),
        NamedGroup(21),
        NamedGroup(19),
        NamedGroup(20),
        NamedGroup(18),
        NamedGroup(14),
        NamedGroup(11),
        NamedGroup(13),
        NamedGroup(9),
    ];

    /// The registry name (`x25519`, `secp256r1`, `ffdhe2048` …).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            9 => "sect283k1",
            11 => "sect409k1",
            13 => "sect571k1",
            14 => "sect571r1",
            18 => "secp192k1",
            19 => "secp192r1",
            20 => "secp224k1",
            21 => "secp224r1",
            22 => "secp256k1",
            23 => "secp256r1",
            24 => "secp384r1",
            25 => "secp521r1",
            26 => "brainpoolP256r1",
            27 => "brainpoolP384r1",
            28 => "brainpoolP512r1",
            29 => "x25519",
            30 => "x448",
            256 => "ffdhe2048",
            257 => "ffdhe3072",
            258 => "ffdhe4096",
            259 => "ffdhe6144",
            260 => "ffdhe8192",
            0x11EC => "X25519MLKEM768",
            _ => return None,
        })
    }

    /// The name, or the decimal code point for an unknown group.
    pub fn display(self) -> String {
        self.name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("group-{}", self.0))
    }

    /// The group's size in bits (the curve's field size, or the DH modulus), if known.
    pub fn bits(self) -> Option<u16> {
        Some(match self.0 {
            9 => 283,
            11 => 409,
            13 | 14 => 571,
            18 | 19 => 192,
            20 | 21 => 224,
            22 | 23 | 26 | 29 => 256,
            24 | 27 => 384,
            25 => 521,
            28 => 512,
            30 => 448,
            256 => 2048,
            257 => 3072,
            258 => 4096,
            259 => 6144,
            260 => 8192,
            _ => return None,
        })
    }

    /// True for the finite-field groups of RFC 7919.
    pub fn is_ffdhe(self) -> bool {
        (256..=511).contains(&self.0)
    }
}

/// A signature scheme (RFC 8446 4.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignatureScheme(pub u16);

impl SignatureScheme {
    /// What kenshin offers: every scheme a server might sign with, so that the
    /// offer never decides the outcome.
    pub const OFFERED: &'static [SignatureScheme] = &[
        SignatureScheme(0x0403),
        SignatureScheme(0x0503),
        SignatureScheme(0x0603),
        SignatureScheme(0x0807),
        SignatureScheme(0x0808),
        SignatureScheme(0x0804),
        SignatureScheme(0x0805),
        SignatureScheme(0x0806),
        SignatureScheme(0x0809),
        SignatureScheme(0x080A),
        SignatureScheme(0x080B),
        SignatureScheme(0x0401),
        SignatureScheme(0x0501),
        SignatureScheme(0x0601),
        SignatureScheme(0x0303),
        SignatureScheme(0x0301),
        SignatureScheme(0x0302),
        SignatureScheme(0x0402),
        SignatureScheme(0x0502),
        SignatureScheme(0x0602),
        SignatureScheme(0x0203),
        SignatureScheme(0x0201),
        SignatureScheme(0x0202),
    ];

    /// The registry name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0201 => "rsa_pkcs1_sha1",
            0x0202 => "dsa_sha1",
            0x0203 => "ecdsa_sha1",
            0x0301 => "rsa_sha224",
            0x0302 => "dsa_sha224",
            0x0303 => "ecdsa_sha224",
            0x0401 => "rsa_pkcs1_sha256",
            0x0402 => "dsa_sha256",
            0x0403 => "ecdsa_secp256r1_sha256",
            0x0501 => "rsa_pkcs1_sha384",
            0x0502 => "dsa_sha384",
            0x0503 => "ecdsa_secp384r1_sha384",
            0x0601 => "rsa_pkcs1_sha512",
            0x0602 => "dsa_sha512",
            0x0603 => "ecdsa_secp521r1_sha512",
            0x0804 => "rsa_pss_rsae_sha256",
            0x0805 => "rsa_pss_rsae_sha384",
            0x0806 => "rsa_pss_rsae_sha512",
            0x0807 => "ed25519",
            0x0808 => "ed448",
            0x0809 => "rsa_pss_pss_sha256",
            0x080A => "rsa_pss_pss_sha384",
            0x080B => "rsa_pss_pss_sha512",
            _ => return None,
        })
    }
}

/// An alert description (RFC 8446 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    pub const HANDSHAKE_FAILURE: AlertDescription = AlertDescription(40);
    pub const PROTOCOL_VERSION: AlertDescription = AlertDescription(70);
    pub const INSUFFICIENT_SECURITY: AlertDescription = AlertDescription(71);

    /// The registry name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            22 => "record_overflow",
            40 => "handshake_failure",
            42 => "bad_certificate",
            47 => "illegal_parameter",
            50 => "decode_error",
            51 => "decrypt_error",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            109 => "missing_extension",
            110 => "unsupported_extension",
            112 => "unrecognized_name",
            120 => "no_application_protocol",
            _ => return None,
        })
    }

    /// The name, or the number.
    pub fn display(self) -> String {
        self.name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("alert {}", self.0))
    }
}
