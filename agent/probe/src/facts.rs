//! The fact-name registry: every protocol fact a probe may write into
//! [`ServiceObservation::facts`](crate::observation::ServiceObservation), with its type
//! and what it means.
//!
//! Rules name facts (`smb.smb1`, `ssh.software` …); `kenshin rules verify` refuses a
//! rule or an example that names a fact missing here, and this module's tests read the
//! probe sources to check that every fact the probe code writes is listed here, with
//! the type it is written with. A new fact is one line here and one in the probe.

/// The type a fact is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Text,
    Int,
    Bool,
    /// A list of texts.
    List,
}

impl FactType {
    /// `text`, `int`, `bool` or `list`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Int => "int",
            Self::Bool => "bool",
            Self::List => "list",
        }
    }
}

/// One registered fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactName {
    /// `namespace.field`.
    pub name: &'static str,
    pub kind: FactType,
    /// What it holds, in one line.
    pub meaning: &'static str,
}

const fn fact(name: &'static str, kind: FactType, meaning: &'static str) -> FactName {
    FactName {
        name,
        kind,
        meaning,
    }
}

use FactType::{Bool, Int, List, Text};

/// Every fact a probe may write, by namespace.
#[rustfmt::skip]
pub const REGISTRY: &[FactName] = &[
    // SSH identification string (greet.rs).
    fact("ssh.proto_version", Text, "protocol version of the identification string (`2.0`)"),
    fact("ssh.software", Text, "software version field (`OpenSSH_9.2p1`)"),
    fact("ssh.comments", Text, "comments after the software version (`Debian-2+deb12u3`)"),
    fact("ssh.prelude", List, "lines the server sent before its identification string"),
    // FTP or SMTP greeting whose text names the protocol (greet.rs, sniff.rs).
    fact("ftp.code", Int, "reply code of an FTP greeting (`220`)"),
    fact("ftp.greeting", Text, "text of an FTP greeting"),
    fact("smtp.code", Int, "reply code of an SMTP greeting (`220`)"),
    fact("smtp.greeting", Text, "text of an SMTP greeting"),
    // A 220-style greeting that names neither FTP nor SMTP.
    fact("reply.code", Int, "reply code of a greeting that names no protocol"),
    fact("reply.greeting", Text, "text of a greeting that names no protocol"),
    fact("pop3.greeting", Text, "text of the POP3 `+OK` greeting"),
    fact("imap.greeting", Text, "text of the IMAP `* OK` greeting"),
    fact("imap.capabilities", List, "capabilities the IMAP greeting lists"),
    // Telnet and VNC (greet.rs).
    fact("telnet.options", List, "Telnet options the server negotiated"),
    fact("telnet.banner", Text, "printable login banner after option negotiation"),
    fact("vnc.version", Text, "RFB protocol version the server offered (`3.8`)"),
    fact("vnc.security_types", List, "RFB security types offered (`none`, `vnc-auth` …)"),
    fact("vnc.no_auth", Bool, "the RFB security types include `none` (no password)"),
    fact("vnc.refused", Text, "the reason an RFB server gave for refusing the connection"),
    // HTTP (http.rs).
    fact("http.status", Int, "status code of the last response followed"),
    fact("http.server", Text, "`Server` header"),
    fact("http.www_authenticate", Text, "`WWW-Authenticate` header"),
    fact("http.etag", Text, "`ETag` header"),
    fact("http.last_modified", Text, "`Last-Modified` header"),
    fact("http.content_type", Text, "`Content-Type` header"),
    fact("http.powered_by", Text, "`X-Powered-By` header"),
    fact("http.location", Text, "`Location` header"),
    fact("http.cookies", List, "names of the cookies set"),
    fact("http.redirects", List, "URLs of the redirects followed"),
    fact("http.title", Text, "the page's `<title>`"),
    // RDP X.224 negotiation (ask.rs).
    fact("rdp.negotiation", Bool, "the server answered the security negotiation"),
    fact("rdp.selected_protocol", Text, "security protocol selected (`rdp`, `ssl`, `credssp` …)"),
    fact("rdp.flags", Int, "flags of the negotiation response"),
    fact("rdp.failure", Text, "negotiation failure code, by name"),
    // SMB negotiation and the NTLMSSP challenge (ask.rs).
    fact("smb.smb1", Bool, "the server accepts the SMB1 dialect NT LM 0.12"),
    fact("smb.smb1_signing_required", Bool, "SMB1: the server requires message signing"),
    fact("smb.dialect", Text, "highest SMB2/3 dialect the server chose (`3.1.1`)"),
    fact("smb.dialects", List, "every dialect the server accepts, oldest first"),
    fact("smb.signing_required", Bool, "SMB2/3: the server requires message signing"),
    fact("smb.server_guid", Text, "the server's GUID"),
    fact("smb.server_time", Int, "the server's clock, Unix seconds"),
    fact("smb.os_version", Text, "Windows version from the NTLMSSP challenge (`10.0.17763`)"),
    fact("smb.os_build", Int, "Windows build number from the NTLMSSP challenge"),
    fact("smb.netbios_computer", Text, "NetBIOS computer name from the challenge"),
    fact("smb.netbios_domain", Text, "NetBIOS domain name from the challenge"),
    fact("smb.dns_computer", Text, "DNS computer name from the challenge"),
    fact("smb.dns_domain", Text, "DNS domain name from the challenge"),
    fact("smb.dns_tree", Text, "DNS forest name from the challenge"),
    // DICOM association (ask.rs).
    fact("dicom.association", Text, "`accepted`, `rejected` or `aborted`"),
    fact("dicom.verification", Bool, "the Verification SOP class was accepted"),
    fact("dicom.implementation_class_uid", Text, "implementation class UID of the A-ASSOCIATE-AC"),
    fact("dicom.implementation_version", Text, "implementation version name of the A-ASSOCIATE-AC"),
    fact("dicom.max_pdu", Int, "maximum PDU length the server accepts"),
    fact("dicom.reject_result", Int, "A-ASSOCIATE-RJ result"),
    fact("dicom.reject_source", Int, "A-ASSOCIATE-RJ source"),
    fact("dicom.reject_reason", Int, "A-ASSOCIATE-RJ reason"),
    fact("dicom.abort_reason", Int, "A-ABORT reason"),
    // The identification TLS handshake (tls.rs; the audit's findings are not facts).
    fact("tls.handshake", Bool, "the TLS handshake completed"),
    fact("tls.error", Text, "why the TLS handshake failed"),
    fact("tls.version", Text, "negotiated TLS version"),
    fact("tls.cipher", Text, "negotiated cipher suite"),
    fact("tls.alpn", Text, "negotiated ALPN protocol"),
    fact("tls.certificate_error", Text, "why the leaf certificate could not be read"),
    fact("tls.subject", Text, "leaf certificate subject"),
    fact("tls.issuer", Text, "leaf certificate issuer"),
    fact("tls.subject_cn", Text, "leaf certificate subject common name"),
    fact("tls.subject_o", Text, "leaf certificate subject organisation"),
    fact("tls.self_signed", Bool, "leaf certificate subject equals its issuer"),
    fact("tls.not_before", Text, "leaf certificate start of validity, RFC 3339"),
    fact("tls.not_after", Text, "leaf certificate end of validity, RFC 3339"),
    fact("tls.sans", List, "leaf certificate subject alternative names"),
    // SNMP (from the SNMP probe's observation, observation.rs).
    fact("snmp.version", Text, "SNMP version of the request answered (`v1`, `v2c`)"),
    fact("snmp.sys_descr", Text, "sysDescr.0"),
    fact("snmp.sys_object_id", Text, "sysObjectID.0"),
    fact("snmp.sys_name", Text, "sysName.0"),
    fact("snmp.sys_uptime_ticks", Int, "sysUpTime.0 in hundredths of a second"),
];

/// The registered fact of that name.
pub fn lookup(name: &str) -> Option<&'static FactName> {
    REGISTRY.iter().find(|f| f.name == name)
}

/// True if some registered fact lives in `name`'s namespace (`smb.` for `smb.smbv1`).
pub fn in_known_namespace(name: &str) -> bool {
    name.split_once('.').is_some_and(|(ns, _)| {
        REGISTRY
            .iter()
            .any(|f| f.name.split_once('.').is_some_and(|(n, _)| n == ns))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    /// The non-test code of every probe source but this registry, comments dropped
    /// and whitespace after `(` and runs of whitespace squeezed, so that a call
    /// spread over lines reads `set(obs, "vnc.no_auth", Fact::Bool(`.
    fn probe_code() -> Vec<(String, String)> {
        fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).expect("probe sources").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&root, &mut files);
        files.sort();
        files
            .into_iter()
            .filter(|p| !p.ends_with("facts.rs"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("read a probe source");
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                let kept: Vec<&str> = code
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.starts_with("//"))
                    .collect();
                let squeezed = kept.join(" ").replace("( ", "(");
                (p.display().to_string(), squeezed)
            })
            .collect()
    }

    /// Every `"namespace.field"` literal whose namespace is a registered one, with the
    /// code before it.
    fn fact_literals(code: &str) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        let mut rest = code;
        let mut offset = 0;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(len) = after.find('"') else { break };
            let lit = &after[..len];
            let shaped = lit.split_once('.').is_some_and(|(ns, field)| {
                !ns.is_empty()
                    && ns
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && !field.is_empty()
                    && field
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
            if shaped && in_known_namespace(lit) {
                out.push((lit, &code[..offset + start]));
            }
            offset += start + len + 2;
            rest = &after[len + 1..];
        }
        out
    }

    /// The type a direct call writes the literal with, if the call is direct.
    fn written_type(before: &str, code_after: &str) -> Option<FactType> {
        if before.ends_with("set_text(obs, ") {
            return Some(Text);
        }
        if !before.ends_with("set(obs, ") {
            return None;
        }
        let next = code_after.trim_start_matches(", ");
        [
            ("Fact::Text(", Text),
            ("Fact::Int(", Int),
            ("Fact::Bool(", Bool),
            ("Fact::List(", List),
        ]
        .into_iter()
        .find(|(p, _)| next.starts_with(p))
        .map(|(_, t)| t)
    }

    /// Namespaces the greeting code picks at run time (`format!("{ns}.code")`): the
    /// protocol `sniff::reply_protocol` names, or `reply`.
    const GREETING_NAMESPACES: [&str; 3] = ["ftp", "smtp", "reply"];

    #[test]
    fn every_fact_the_probe_code_writes_is_registered_with_its_type() {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        let mut typed = 0;
        for (file, code) in probe_code() {
            for (lit, before) in fact_literals(&code) {
                seen.insert(lit.to_owned());
                let after = &code[before.len() + lit.len() + 2..];
                match (lookup(lit), written_type(before, after)) {
                    (None, _) => problems.push(format!("{file}: {lit:?} is not in the registry")),
                    (Some(f), Some(t)) if f.kind != t => problems.push(format!(
                        "{file}: {lit:?} is written as {} but registered as {}",
                        t.as_str(),
                        f.kind.as_str()
                    )),
                    (Some(_), Some(_)) => typed += 1,
                    (Some(_), None) => {}
                }
            }
            for (at, _) in code.match_indices("format!(\"{") {
                let tail = &code[at..];
                let Some(field) = tail
                    .split_once("}.")
                    .and_then(|(_, f)| f.split_once('"'))
                    .map(|(f, _)| f)
                    .filter(|f| f.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                else {
                    continue;
                };
                for ns in GREETING_NAMESPACES {
                    let name = format!("{ns}.{field}");
                    if lookup(&name).is_none() {
                        problems.push(format!(
                            "{file}: {name:?} (written by format!) is not in the registry"
                        ));
                    }
                    seen.insert(name);
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
        let stale: Vec<&str> = REGISTRY
            .iter()
            .map(|f| f.name)
            .filter(|n| !seen.contains(*n))
            .collect();
        assert!(
            stale.is_empty(),
            "registered but written nowhere: {stale:?}"
        );
        assert!(REGISTRY.len() >= 65, "{}", REGISTRY.len());
        // Most writes are direct calls whose type the scan reads.
        assert!(typed >= 40, "only {typed} writes had their type checked");
    }

    #[test]
    fn the_scan_sees_a_direct_write_and_its_type() {
        let code = "x; set(obs, \"smb.smb1\", Fact::Bool(true)); set_text(obs, \"ssh.sofware\", v)";
        let lits = fact_literals(code);
        assert_eq!(
            lits.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            ["smb.smb1", "ssh.sofware"]
        );
        let (lit, before) = lits[0];
        let after = &code[before.len() + lit.len() + 2..];
        assert_eq!(written_type(before, after), Some(Bool));
        assert!(
            lookup(lits[1].0).is_none(),
            "a misspelt fact is not registered"
        );
    }

    #[test]
    fn names_are_unique_and_namespaced_and_meanings_given() {
        let mut names = BTreeSet::new();
        for f in REGISTRY {
            assert!(names.insert(f.name), "{} is registered twice", f.name);
            assert!(
                f.name
                    .split_once('.')
                    .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty()),
                "{}",
                f.name
            );
            assert!(!f.meaning.trim().is_empty(), "{}", f.name);
        }
        assert!(in_known_namespace("smb.smbv1"));
        assert!(!in_known_namespace("cert.key_bits"));
    }
}
