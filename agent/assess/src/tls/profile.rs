//! The IPA/CRYPTREC TLS guideline's profiles (高セキュリティ型, 推奨セキュリティ型,
//! セキュリティ例外型) as data (`rules/tls/ipa-profiles.toml`), and the evaluation of
//! one TLS service against them: which profile it satisfies, and what breaks each.

use std::collections::BTreeMap;

use kenshin_wire::tls::{CipherSuite, KeyExchange, NamedGroup, Version};
use serde::{Deserialize, Serialize};

use crate::rulefile::{self, place, Problem, Problems};

/// The profiles' path in the rules tree.
pub const FILE: &str = "tls/ipa-profiles.toml";

/// The shipped profiles.
pub const BUILTIN: &str = include_str!("../../../../rules/tls/ipa-profiles.toml");

/// Suite properties a profile can forbid.
pub const FLAGS: &[&str] = &[
    "null",
    "export",
    "anon",
    "rc4",
    "des",
    "3des",
    "md5",
    "cbc",
    "static-kx",
    "psk",
    "srp",
];

/// Numeric conditions a profile sets, by their key.
const LIMITS: &[&str] = &[
    "min_cipher_bits",
    "min_ec_group_bits",
    "min_dh_bits",
    "min_rsa_bits",
    "min_ec_key_bits",
];

/// Where the profiles come from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title_ja: String,
    pub title_en: String,
    pub edition: String,
    pub url: String,
    pub checked: String,
}

/// One profile's conditions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub id: String,
    pub name_ja: String,
    pub name_en: String,
    pub versions: Vec<String>,
    pub forbidden_flags: Vec<String>,
    pub min_cipher_bits: u16,
    pub min_ec_group_bits: u16,
    pub min_dh_bits: u16,
    pub min_rsa_bits: u32,
    pub min_ec_key_bits: u32,
    pub forbidden_signature_hashes: Vec<String>,
    /// Conditions (a flag, a limit's key, or `versions`) the primary text does not confirm.
    #[serde(default)]
    pub unconfirmed: Vec<String>,
}

/// The profiles, strictest first.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSet {
    pub source: Source,
    pub profile: Vec<Profile>,
}

/// What the evaluation reads about one TLS service.
#[derive(Debug, Clone, Default)]
pub struct TlsFacts {
    pub versions: Vec<Version>,
    pub suites: Vec<(Version, CipherSuite)>,
    pub groups: Vec<NamedGroup>,
    pub dh_bits: Vec<u16>,
    /// The leaf's key type (`RSA`, `EC` …) and size.
    pub key: Option<(String, u32)>,
    pub signature_hash: Option<String>,
}

/// One condition a service breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// `version`, `suite`, `group`, `dh` or `certificate`.
    pub kind: &'static str,
    /// The offending value (`TLSv1.0`, a suite name, `1024` …).
    pub value: String,
    /// The profile condition (`versions`, a flag such as `cbc`, `min_dh_bits` …).
    pub condition: String,
    pub ja: String,
    pub en: String,
    /// The condition is not confirmed in the guideline's primary text.
    pub unconfirmed: bool,
}

/// A service against every profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub guideline: String,
    /// The strictest profile with no violation (`high`, `recommended`, `exception`), if any.
    pub satisfies: Option<String>,
    pub satisfies_ja: Option<String>,
    pub satisfies_en: Option<String>,
    /// Violations by profile ID.
    pub breaks: BTreeMap<String, Vec<Violation>>,
}

impl ProfileSet {
    /// The profiles shipped in `rules/tls/`.
    pub fn builtin() -> Result<Self, Problems> {
        Self::parse(BUILTIN)
    }

    /// Parses and checks a profile file; every problem is named by profile and line.
    pub fn parse(text: &str) -> Result<Self, Problems> {
        let source = rulefile::Source {
            path: FILE.to_owned(),
            text: text.to_owned(),
        };
        let set: ProfileSet = rulefile::parse(&source)?;
        let mut problems = Vec::new();
        if set.profile.is_empty() {
            problems.push(Problem::in_file(FILE, "the file defines no profile"));
        }
        let mut seen = Vec::new();
        for p in &set.profile {
            let mut bad = |m: String| problems.push(Problem::in_rule(FILE, p.id.as_str(), m));
            if seen.contains(&p.id) {
                bad(rulefile::USED_TWICE.into());
            }
            seen.push(p.id.clone());
            for v in p
                .versions
                .iter()
                .filter(|v| Version::from_name(v).is_none())
            {
                bad(format!("unknown version {v:?} (write TLSv1.2 style)"));
            }
            for f in p
                .forbidden_flags
                .iter()
                .filter(|f| !FLAGS.contains(&f.as_str()))
            {
                bad(format!("unknown flag {f:?}; known: {}", FLAGS.join(", ")));
            }
            for u in p.unconfirmed.iter().filter(|u| {
                u.as_str() != "versions"
                    && !FLAGS.contains(&u.as_str())
                    && !LIMITS.contains(&u.as_str())
            }) {
                bad(format!("`unconfirmed` names {u:?}, which is no condition"));
            }
        }
        place(&mut problems, std::slice::from_ref(&source));
        Problems::or_ok(problems, set)
    }

    /// Evaluates one service against every profile.
    pub fn evaluate(&self, facts: &TlsFacts) -> Evaluation {
        let mut breaks = BTreeMap::new();
        let mut satisfies: Option<&Profile> = None;
        for p in &self.profile {
            let v = p.violations(facts);
            if v.is_empty() && satisfies.is_none() {
                satisfies = Some(p);
            }
            breaks.insert(p.id.clone(), v);
        }
        Evaluation {
            guideline: format!(
                "{} {} ({})",
                self.source.title_ja, self.source.edition, self.source.title_en
            ),
            satisfies: satisfies.map(|p| p.id.clone()),
            satisfies_ja: satisfies.map(|p| p.name_ja.clone()),
            satisfies_en: satisfies.map(|p| p.name_en.clone()),
            breaks,
        }
    }
}

/// The flags a suite carries.
pub fn suite_flags(suite: CipherSuite) -> Vec<&'static str> {
    let Some(c) = suite.class() else {
        return Vec::new();
    };
    let mut flags = Vec::new();
    let mut add = |cond: bool, flag| {
        if cond {
            flags.push(flag);
        }
    };
    add(c.null_cipher, "null");
    add(c.export, "export");
    add(c.anonymous, "anon");
    add(c.rc4, "rc4");
    add(c.des && !c.triple_des, "des");
    add(c.triple_des, "3des");
    add(c.mac == "MD5", "md5");
    add(c.cbc, "cbc");
    add(
        matches!(
            c.key_exchange,
            KeyExchange::Rsa | KeyExchange::StaticDh | KeyExchange::StaticEcdh
        ),
        "static-kx",
    );
    add(c.authentication == "PSK", "psk");
    add(c.key_exchange == KeyExchange::Srp, "srp");
    flags
}

/// Words for a flag: (ja, en).
fn flag_words(flag: &str) -> (&'static str, &'static str) {
    match flag {
        "null" => ("暗号化なし(NULL)", "no encryption (NULL)"),
        "export" => ("輸出グレード暗号", "export-grade cipher"),
        "anon" => ("サーバ認証なし(anon)", "no server authentication (anon)"),
        "rc4" => ("RC4", "RC4"),
        "des" => ("DES", "single DES"),
        "3des" => ("3DES", "3DES"),
        "md5" => ("MD5 による MAC", "MD5 MAC"),
        "cbc" => ("CBC モード(AEAD でない)", "CBC mode (not AEAD)"),
        "static-kx" => (
            "前方秘匿性のない鍵交換(RSA 鍵輸送・静的 DH)",
            "key exchange without forward secrecy (RSA key transport or static DH)",
        ),
        "psk" => (
            "事前共有鍵のみの認証(PSK)",
            "pre-shared-key authentication (PSK)",
        ),
        "srp" => ("SRP", "SRP"),
        _ => ("不明な条件", "unknown condition"),
    }
}

impl Profile {
    fn unconfirmed(&self, condition: &str) -> bool {
        self.unconfirmed.iter().any(|u| u == condition)
    }

    fn violation(
        &self,
        kind: &'static str,
        value: String,
        condition: &str,
        ja: String,
        en: String,
    ) -> Violation {
        Violation {
            kind,
            value,
            condition: condition.to_owned(),
            ja,
            en,
            unconfirmed: self.unconfirmed(condition),
        }
    }

    /// Every condition `facts` breaks.
    pub fn violations(&self, facts: &TlsFacts) -> Vec<Violation> {
        let mut out = Vec::new();
        let allowed: Vec<Version> = self
            .versions
            .iter()
            .filter_map(|v| Version::from_name(v))
            .collect();
        for v in &facts.versions {
            if !allowed.contains(v) {
                let name = v.display();
                out.push(self.violation(
                    "version",
                    name.clone(),
                    "versions",
                    format!(
                        "{name} を受け付けている({} では {} のみ)",
                        self.name_ja,
                        self.versions.join("・")
                    ),
                    format!(
                        "accepts {name} ({} allows only {})",
                        self.name_en,
                        self.versions.join(", ")
                    ),
                ));
            }
        }
        for (version, suite) in &facts.suites {
            if !allowed.contains(version) {
                continue; // the version itself is already a violation
            }
            let name = suite.display();
            for flag in suite_flags(*suite) {
                if self.forbidden_flags.iter().any(|f| f == flag) {
                    let (ja, en) = flag_words(flag);
                    out.push(self.violation(
                        "suite",
                        name.clone(),
                        flag,
                        format!("{} で {name} を受け付けている: {ja}", version.display()),
                        format!("accepts {name} at {}: {en}", version.display()),
                    ));
                }
            }
            if let Some(c) = suite.class() {
                if !c.null_cipher && c.cipher_bits < self.min_cipher_bits {
                    out.push(self.violation(
                        "suite",
                        name.clone(),
                        "min_cipher_bits",
                        format!(
                            "{name} の暗号鍵長 {} ビットが {} ビット未満",
                            c.cipher_bits, self.min_cipher_bits
                        ),
                        format!(
                            "{name} has a {}-bit cipher, below {} bits",
                            c.cipher_bits, self.min_cipher_bits
                        ),
                    ));
                }
            }
        }
        for g in &facts.groups {
            if g.is_ffdhe() {
                continue; // finite-field groups are judged by min_dh_bits
            }
            if let Some(bits) = g.bits().filter(|b| *b < self.min_ec_group_bits) {
                let name = g.display();
                out.push(self.violation(
                    "group",
                    name.clone(),
                    "min_ec_group_bits",
                    format!(
                        "鍵交換の曲線 {name}({bits} ビット)が {} ビット未満",
                        self.min_ec_group_bits
                    ),
                    format!(
                        "key-exchange curve {name} ({bits} bits) is below {} bits",
                        self.min_ec_group_bits
                    ),
                ));
            }
        }
        let dh = facts.dh_bits.iter().copied().chain(
            facts
                .groups
                .iter()
                .filter(|g| g.is_ffdhe())
                .filter_map(|g| g.bits()),
        );
        for bits in dh {
            if bits < self.min_dh_bits {
                out.push(self.violation(
                    "dh",
                    bits.to_string(),
                    "min_dh_bits",
                    format!(
                        "DH 鍵交換のパラメータ {bits} ビットが {} ビット未満",
                        self.min_dh_bits
                    ),
                    format!(
                        "DH key exchange uses {bits} bits, below {} bits",
                        self.min_dh_bits
                    ),
                ));
            }
        }
        if let Some((key_type, bits)) = &facts.key {
            let min = match key_type.as_str() {
                "RSA" | "DSA" => Some(("min_rsa_bits", self.min_rsa_bits)),
                "EC" => Some(("min_ec_key_bits", self.min_ec_key_bits)),
                _ => None,
            };
            if let Some((condition, min)) = min.filter(|(_, m)| bits < m) {
                out.push(self.violation(
                    "certificate",
                    format!("{key_type} {bits}"),
                    condition,
                    format!("証明書の {key_type} 鍵 {bits} ビットが {min} ビット未満"),
                    format!("the certificate's {key_type} key has {bits} bits, below {min}"),
                ));
            }
        }
        if let Some(hash) = &facts.signature_hash {
            if self.forbidden_signature_hashes.iter().any(|h| h == hash) {
                out.push(self.violation(
                    "certificate",
                    hash.clone(),
                    "forbidden_signature_hashes",
                    format!("証明書の署名に {hash} を使っている"),
                    format!("the certificate is signed with {hash}"),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modern() -> TlsFacts {
        TlsFacts {
            versions: vec![Version::TLS13, Version::TLS12],
            suites: vec![
                (Version::TLS13, CipherSuite(0x1301)),
                (Version::TLS12, CipherSuite(0xC02F)),
                (Version::TLS12, CipherSuite(0xCCA8)),
            ],
            groups: vec![NamedGroup::X25519, NamedGroup::SECP256R1],
            dh_bits: vec![],
            key: Some(("RSA".into(), 2048)),
            signature_hash: Some("SHA-256".into()),
        }
    }

    fn profiles() -> ProfileSet {
        ProfileSet::builtin().expect("the shipped profiles parse")
    }

    #[test]
    fn a_modern_aead_only_server_satisfies_high_security() {
        let e = profiles().evaluate(&modern());
        assert_eq!(e.satisfies.as_deref(), Some("high"));
        assert_eq!(e.satisfies_ja.as_deref(), Some("高セキュリティ型"));
        assert!(e.breaks.values().all(Vec::is_empty));
    }

    #[test]
    fn cbc_and_static_rsa_at_tls12_fall_to_recommended() {
        let mut f = modern();
        f.suites.push((Version::TLS12, CipherSuite(0x002F)));
        let e = profiles().evaluate(&f);
        assert_eq!(e.satisfies.as_deref(), Some("recommended"));
        let high: Vec<&str> = e.breaks["high"]
            .iter()
            .map(|v| v.condition.as_str())
            .collect();
        assert_eq!(high, ["cbc", "static-kx"]);
        assert!(e.breaks["high"]
            .iter()
            .all(|v| v.value == "TLS_RSA_WITH_AES_128_CBC_SHA"));
    }

    #[test]
    fn tls10_is_only_for_the_exception_profile_and_sslv3_for_none() {
        let mut f = modern();
        f.versions.push(Version::TLS10);
        f.suites.push((Version::TLS10, CipherSuite(0xC013)));
        assert_eq!(
            profiles().evaluate(&f).satisfies.as_deref(),
            Some("exception")
        );
        f.versions.push(Version::SSL3);
        let e = profiles().evaluate(&f);
        assert_eq!(e.satisfies, None);
        assert!(e.breaks["exception"].iter().any(|v| v.value == "SSLv3"));
    }

    #[test]
    fn weak_certificates_and_small_dh_break_every_profile() {
        let mut f = modern();
        f.key = Some(("RSA".into(), 1024));
        f.signature_hash = Some("SHA-1".into());
        f.dh_bits = vec![1024];
        let e = profiles().evaluate(&f);
        assert_eq!(e.satisfies, None);
        let conditions: Vec<&str> = e.breaks["exception"]
            .iter()
            .map(|v| v.condition.as_str())
            .collect();
        assert_eq!(conditions, ["min_rsa_bits", "forbidden_signature_hashes"]);
        let high: Vec<&str> = e.breaks["high"]
            .iter()
            .map(|v| v.condition.as_str())
            .collect();
        assert!(high.contains(&"min_dh_bits"));
        assert!(e.breaks["high"]
            .iter()
            .find(|v| v.condition == "min_rsa_bits")
            .is_some_and(|v| v.unconfirmed));
    }

    #[test]
    fn every_flag_is_worded_in_both_languages() {
        for f in FLAGS {
            assert_ne!(flag_words(f).0, "不明な条件", "{f}");
        }
    }

    #[test]
    fn a_profile_file_with_an_unknown_flag_or_key_is_refused_by_name() {
        let bad = BUILTIN.replacen("\"null\", \"export\"", "\"nul\", \"export\"", 1);
        let e = ProfileSet::parse(&bad).expect_err("unknown flag");
        assert!(e.to_string().contains("\"nul\""), "{e}");
        let bad = BUILTIN.replacen("min_cipher_bits", "min_cypher_bits", 1);
        let e = ProfileSet::parse(&bad).expect_err("unknown key");
        assert!(e.to_string().contains("min_cypher_bits"), "{e}");
    }
}
