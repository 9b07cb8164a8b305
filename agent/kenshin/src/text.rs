//! Text people read at the end of a scan, in Japanese or English.

use std::path::Path;

use kenshin_report::bundle::Written;
use kenshin_report::diff::Diff;
use kenshin_report::model::Report;

use crate::cli::Lang;

/// (services named from their own bytes, of those with a product, open services in all).
fn identified(r: &Report) -> (usize, usize, usize) {
    let services = r.hosts.iter().flat_map(|h| &h.services);
    let (mut by_probe, mut with_product, mut all) = (0, 0, 0);
    for s in services {
        all += 1;
        by_probe += usize::from(s.service_from == "probe");
        with_product += usize::from(s.product.is_some());
    }
    (by_probe, with_product, all)
}

/// What the TLS audit found, counted over the audited services.
#[derive(Debug, Default, PartialEq, Eq)]
struct TlsCounts {
    audited: usize,
    /// Accepting SSLv2, SSLv3, TLS 1.0 or TLS 1.1.
    legacy: usize,
    /// Satisfying the guideline's 高セキュリティ型.
    high: usize,
    /// Certificates expired, not yet valid, or not trusted.
    bad_certificates: usize,
}

fn tls_counts(r: &Report) -> TlsCounts {
    let mut c = TlsCounts::default();
    for tls in r
        .hosts
        .iter()
        .flat_map(|h| &h.services)
        .filter_map(|s| s.tls.as_ref())
    {
        c.audited += 1;
        let versions = tls["versions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        c.legacy += usize::from(
            versions
                .iter()
                .any(|v| matches!(v.as_str(), Some("SSLv2" | "SSLv3" | "TLSv1.0" | "TLSv1.1"))),
        );
        c.high += usize::from(tls["evaluation"]["satisfies"] == "high");
        let cert = &tls["certificate"];
        c.bad_certificates += usize::from(
            cert["expired"] == true
                || cert["not_yet_valid"] == true
                || cert["chain_trusted"] == false,
        );
    }
    c
}

fn tls_line(lang: Lang, c: &TlsCounts) -> String {
    if c.audited == 0 {
        return String::new();
    }
    match lang {
        Lang::Ja => format!(
            "\nTLS 監査: {} 件、旧プロトコル（SSL/TLS 1.0/1.1）受け入れ {} 件、高セキュリティ型を満たす {} 件、\
             証明書の問題（期限切れ・未信頼）{} 件",
            c.audited, c.legacy, c.high, c.bad_certificates
        ),
        Lang::En => format!(
            "\nTLS: {} services audited, {} accept SSL/TLS 1.0/1.1, {} satisfy the guideline's high-security \
             profile, {} with an expired or untrusted certificate",
            c.audited, c.legacy, c.high, c.bad_certificates
        ),
    }
}

/// Findings by severity, then the worst few, then the checklist's statuses.
fn findings_lines(lang: Lang, r: &Report) -> String {
    const SEVERITIES: [(&str, &str); 5] = [
        ("critical", "緊急"),
        ("high", "重要"),
        ("medium", "警告"),
        ("low", "注意"),
        ("info", "情報"),
    ];
    let count = |sev: &str| r.findings.iter().filter(|f| f.severity == sev).count();
    let by_severity = SEVERITIES
        .iter()
        .map(|(en, ja)| match lang {
            Lang::Ja => format!("{ja} {}", count(en)),
            Lang::En => format!("{en} {}", count(en)),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let status = |st: &str| r.checklist.iter().filter(|c| c.status == st).count();
    let mut out = match lang {
        Lang::Ja => format!(
            "\n検出事項: {by_severity}\nチェックリスト(令和7年度版){} 項目: 所見あり {}、所見なし {}、要確認(文書・端末) {}",
            r.checklist.len(),
            status("findings"),
            status("no-findings"),
            status("manual")
        ),
        Lang::En => format!(
            "\nfindings: {by_severity}\nchecklist (R7), {} items: {} with findings, {} without, {} for document or host review",
            r.checklist.len(),
            status("findings"),
            status("no-findings"),
            status("manual")
        ),
    };
    for f in r
        .findings
        .iter()
        .filter(|f| matches!(f.severity.as_str(), "critical" | "high"))
        .take(5)
    {
        let title = match lang {
            Lang::Ja => &f.title.ja,
            Lang::En => &f.title.en,
        };
        let port = f.port.map(|p| format!(":{p}")).unwrap_or_default();
        out.push_str(&format!(
            "\n  [{}/{}] {}{port} {title}",
            f.severity, f.confidence, f.host
        ));
    }
    out
}

pub(crate) fn summary(lang: Lang, r: &Report, written: &Written) -> String {
    let path = written.report_json.parent().unwrap_or(Path::new("."));
    let html = written.report_html.display();
    let files = written.files;
    let key = r
        .signing
        .as_ref()
        .map(|s| s.fingerprint.as_str())
        .unwrap_or("-");
    let ledger = r
        .inventory
        .as_ref()
        .map_or_else(String::new, |i| match lang {
            Lang::Ja => format!(
                "\n台帳: {} 行中 {} 行を確認、台帳にない機器 {} 台、見つからなかった行 {}",
                i.entries,
                i.matched,
                i.unregistered.len(),
                i.not_seen.len()
            ),
            Lang::En => format!(
                "\nledger: {} of {} rows matched, {} devices not in the ledger, {} rows not seen",
                i.matched,
                i.entries,
                i.unregistered.len(),
                i.not_seen.len()
            ),
        });
    let tls = tls_line(lang, &tls_counts(r)) + &findings_lines(lang, r) + &ledger;
    let s = &r.scan.stats;
    let (by_probe, with_product, all) = identified(r);
    let secs = s.duration_ms as f64 / 1000.0;
    let state = match (lang, r.scan.complete) {
        (Lang::Ja, true) => "完了",
        (Lang::Ja, false) => "中断（部分的な結果）",
        (Lang::En, true) => "complete",
        (Lang::En, false) => "INTERRUPTED (partial results)",
    };
    match lang {
        Lang::Ja => format!(
            "kenshin: スキャン{state}: {} アドレス中 {} ホスト稼働、開ポート {}、検出事項 {} 件\n\
             サービス識別: {all} 件中 {by_probe} 件を応答から判定、{with_product} 件で製品を特定{tls}\n\
             所要 {secs:.1} 秒、送信プローブ {}（{} 方式: {}）\n\
             レポート: {}（{html}、{files} ファイルを鍵 {key} で署名、kenshin verify で検証）",
            s.addresses,
            s.hosts_up,
            s.open_ports,
            r.findings.len(),
            s.probes_sent,
            r.scan.discovery.mode,
            r.scan.discovery.reason,
            path.display()
        ),
        Lang::En => format!(
            "kenshin: scan {state}: {} hosts up of {} addresses, {} open ports, {} findings\n\
             services: {by_probe} of {all} named from their own answers, {with_product} with a product{tls}\n\
             {secs:.1} s, {} probes sent ({} discovery: {})\n\
             report: {} ({html}; {files} files signed by {key}; check with kenshin verify)",
            s.hosts_up,
            s.addresses,
            s.open_ports,
            r.findings.len(),
            s.probes_sent,
            r.scan.discovery.mode,
            r.scan.discovery.reason,
            path.display()
        ),
    }
}

/// `kenshin diff` for a terminal: one section per kind of change, `+` for what came,
/// `-` for what went, `~` for what changed.
pub(crate) fn diff(lang: Lang, d: &Diff) -> String {
    let ja = lang.is_ja();
    let mut out = if ja {
        format!("差分: {} → {}\n", d.old.id, d.new.id)
    } else {
        format!("changes from {} to {}\n", d.old.id, d.new.id)
    };
    if d.scope_differs {
        out.push_str(if ja {
            "注意: 2 回のスキャンの範囲またはポートが異なります。消えたように見えるものは調べていないだけかもしれません。\n"
        } else {
            "note: the two scans covered different scopes or ports; what seems gone may just not have been looked at\n"
        });
    }
    if !d.old.complete || !d.new.complete {
        out.push_str(if ja {
            "注意: 中断されたスキャンを含みます。\n"
        } else {
            "note: one of the scans was interrupted\n"
        });
    }
    if d.is_empty() {
        out.push_str(if ja {
            "変化はありません。\n"
        } else {
            "no changes\n"
        });
        return out;
    }
    let mut section = |title_ja: &str, title_en: &str, lines: Vec<String>| {
        if lines.is_empty() {
            return;
        }
        out.push_str(&format!(
            "\n{} ({})\n",
            if ja { title_ja } else { title_en },
            lines.len()
        ));
        for l in lines {
            out.push_str(&format!("  {l}\n"));
        }
    };
    section(
        "新しいホスト",
        "hosts appeared",
        d.hosts_appeared
            .iter()
            .map(|h| format!("+ {} [{}] {}", h.address, h.kind, h.services.join(", ")))
            .collect(),
    );
    section(
        "消えたホスト",
        "hosts vanished",
        d.hosts_vanished
            .iter()
            .map(|h| format!("- {} [{}]", h.address, h.kind))
            .collect(),
    );
    let port = |p: &kenshin_report::diff::PortRef| {
        format!(
            "{}:{}/{} {}{}",
            p.host,
            p.port,
            p.protocol,
            p.service,
            p.software
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        )
    };
    section(
        "開いたポート",
        "ports opened",
        d.ports_opened
            .iter()
            .map(|p| format!("+ {}", port(p)))
            .collect(),
    );
    section(
        "閉じたポート",
        "ports closed",
        d.ports_closed
            .iter()
            .map(|p| format!("- {}", port(p)))
            .collect(),
    );
    section(
        "変わったサービス・バージョン",
        "services or versions changed",
        d.services_changed
            .iter()
            .map(|c| {
                format!(
                    "~ {}:{}/{} {} → {}",
                    c.host, c.port, c.protocol, c.old, c.new
                )
            })
            .collect(),
    );
    let finding = |f: &kenshin_report::diff::FindingRef| {
        format!(
            "[{}] {}{} {} ({})",
            f.severity,
            f.host,
            f.port.map(|p| format!(":{p}")).unwrap_or_default(),
            if ja { &f.title.ja } else { &f.title.en },
            f.advisory.as_deref().unwrap_or(&f.check)
        )
    };
    section(
        "新しい所見",
        "new findings",
        d.findings_new
            .iter()
            .map(|f| format!("+ {}", finding(f)))
            .collect(),
    );
    section(
        "解消した所見",
        "resolved findings",
        d.findings_resolved
            .iter()
            .map(|f| format!("- {}", finding(f)))
            .collect(),
    );
    section(
        "重大度が変わった所見",
        "severity changed",
        d.severity_changed
            .iter()
            .map(|c| format!("~ {} (was {})", finding(&c.finding), c.old_severity))
            .collect(),
    );
    out
}
