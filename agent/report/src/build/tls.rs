//! The judged TLS audit (assess's [`TlsReport`]) as the contract's [`Tls`] section.

use kenshin_assess::tls::profile::{
    Evaluation as AssessedEvaluation, Violation as AssessedViolation,
};
use kenshin_assess::tls::{CertificateFacts, LeafReport, SuiteReport, TlsEvidence, TlsReport};

use crate::model::tls::{self, Certificate, Evaluation, Leaf, Suite, Tls, Violation};

/// The contract's TLS section for one judged audit.
pub(crate) fn section(r: &TlsReport) -> Tls {
    Tls {
        certificate: r.certificate.as_ref().map(leaf),
        chain: r.chain.iter().map(certificate).collect(),
        channel: r.channel.to_owned(),
        cipher_suites: r.cipher_suites.clone(),
        complete: r.complete,
        dh_bits: r.dh_bits.clone(),
        duration_ms: r.duration_ms,
        evaluation: evaluation(&r.evaluation),
        evidence: evidence(&r.evidence),
        groups: r.groups.clone(),
        handshakes: r.handshakes,
        notes: r.notes.clone(),
        other_certificates: r.other_certificates.iter().map(certificate).collect(),
        preference: r
            .preference
            .iter()
            .map(|(v, p)| (v.clone(), (*p).to_owned()))
            .collect(),
        sslv2_ciphers: r.sslv2_ciphers.clone(),
        starttls: r.starttls.map(str::to_owned),
        suites: r.suites.iter().map(suite).collect(),
        versions: r.versions.clone(),
        versions_refused: r.versions_refused.clone(),
    }
}

fn suite(s: &SuiteReport) -> Suite {
    Suite {
        aead: s.aead,
        authentication: s.authentication.to_owned(),
        cipher: s.cipher.clone(),
        cipher_bits: s.cipher_bits,
        code: s.code.clone(),
        evidence: s.evidence.clone(),
        flags: s.flags.iter().map(|f| (*f).to_owned()).collect(),
        forward_secrecy: s.forward_secrecy,
        key_exchange: s.key_exchange.to_owned(),
        mac: s.mac.to_owned(),
        mode: s.mode.to_owned(),
        name: s.name.clone(),
        version: s.version.clone(),
    }
}

fn certificate(c: &CertificateFacts) -> Certificate {
    Certificate {
        curve: c.curve.clone(),
        days_left: c.days_left,
        expired: c.expired,
        expires_within_30_days: c.expires_within_30_days,
        issuer: c.issuer.clone(),
        key_bits: c.key_bits,
        key_type: c.key_type.clone(),
        not_after: c.not_after.clone(),
        not_before: c.not_before.clone(),
        not_yet_valid: c.not_yet_valid,
        sans: c.sans.clone(),
        self_signed: c.self_signed,
        serial: c.serial.clone(),
        sha256: c.sha256.clone(),
        signature_algorithm: c.signature_algorithm.clone(),
        signature_hash: c.signature_hash.clone(),
        subject: c.subject.clone(),
        subject_cn: c.subject_cn.clone(),
    }
}

fn leaf(l: &LeafReport) -> Leaf {
    let c = &l.facts;
    Leaf {
        chain_error: l.chain_error.clone(),
        chain_length: l.chain_length as u64,
        chain_trusted: l.chain_trusted,
        curve: c.curve.clone(),
        days_left: c.days_left,
        evidence: l.evidence.clone(),
        expired: c.expired,
        expires_within_30_days: c.expires_within_30_days,
        hostname_match: l.hostname_match,
        issuer: c.issuer.clone(),
        key_bits: c.key_bits,
        key_type: c.key_type.clone(),
        names_checked: l.names_checked.clone(),
        name_sources: l
            .name_sources
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        name_check: match l.hostname_match {
            Some(true) => "match",
            Some(false) => "mismatch",
            None => "no-name-known",
        }
        .to_owned(),
        not_after: c.not_after.clone(),
        not_before: c.not_before.clone(),
        not_yet_valid: c.not_yet_valid,
        sans: c.sans.clone(),
        self_signed: c.self_signed,
        serial: c.serial.clone(),
        sha256: c.sha256.clone(),
        signature_algorithm: c.signature_algorithm.clone(),
        signature_hash: c.signature_hash.clone(),
        subject: c.subject.clone(),
        subject_cn: c.subject_cn.clone(),
    }
}

fn evaluation(e: &AssessedEvaluation) -> Evaluation {
    Evaluation {
        breaks: e
            .breaks
            .iter()
            .map(|(p, list)| (p.clone(), list.iter().map(violation).collect()))
            .collect(),
        guideline: e.guideline.clone(),
        satisfies: e.satisfies.clone(),
        satisfies_en: e.satisfies_en.clone(),
        satisfies_ja: e.satisfies_ja.clone(),
    }
}

fn violation(v: &AssessedViolation) -> Violation {
    Violation {
        condition: v.condition.clone(),
        en: v.en.clone(),
        ja: v.ja.clone(),
        kind: v.kind.to_owned(),
        unconfirmed: v.unconfirmed,
        value: v.value.clone(),
    }
}

fn evidence(e: &TlsEvidence) -> tls::TlsEvidence {
    tls::TlsEvidence {
        certificate: e.certificate.clone(),
        dh: e.dh.clone(),
        groups: e.groups.clone(),
        versions: e.versions.clone(),
    }
}
