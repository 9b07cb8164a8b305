//! `report.html`: the report for people, one self-contained file.
//!
//! No script, no external font, image or stylesheet; a Content-Security-Policy that
//! allows only the inline stylesheet, so even a mistake in escaping could not run
//! script. Japanese by default, English on request; an A4 print stylesheet with the
//! scan ID and date in every page's header. Severity and status always carry a word
//! and a symbol, so they read without colour.
//!
//! Sections: summary, the 令和7年度版 checklist, findings by requirement and by host,
//! the asset inventory (and the ledger comparison), TLS, and the evidence appendix.

mod escape;

use std::collections::BTreeMap;
use std::fmt::Write;

pub use escape::{anchor, esc, excerpt, excerpt_to, EXCERPT_CHARS};

use crate::labels::{self, severity_badge as severity_label, status_badge as status_label};
use crate::model::{Finding, Report, Service, Severity};
use crate::Lang;

fn confidence_label(lang: Lang, c: crate::model::Confidence) -> &'static str {
    labels::confidence(c).get(lang)
}

fn kind_label(lang: Lang, k: crate::model::DeviceKind) -> &'static str {
    labels::kind(k).get(lang)
}

const STYLE: &str = include_str!("style.css");

/// Renders the whole page.
pub fn render(report: &Report, lang: Lang) -> String {
    let mut p = Page {
        out: String::with_capacity(256 * 1024),
        lang,
    };
    p.head(report);
    p.summary(report);
    p.checklist(report);
    p.findings(report);
    p.inventory(report);
    p.tls(report);
    p.evidence(report);
    p.foot(report);
    p.out
}

struct Page {
    out: String,
    lang: Lang,
}

/// Characters allowed inside the CSS strings of the print header.
fn css_string(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || " :.-+TZ".contains(*c))
        .collect()
}

impl Page {
    fn t<'a>(&self, ja: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(ja, en)
    }

    fn w(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn head(&mut self, r: &Report) {
        let title = self.t("セキュリティ健診レポート", "Security check-up report");
        let date = r.scan.started_at.get(..10).unwrap_or(&r.scan.started_at);
        let _ = writeln!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"kenshin {version}\">\n\
             <title>kenshin · {title} · {id}</title>\n<style>\n{STYLE}\
             @page {{ size: A4; margin: 16mm 12mm 14mm;\n\
               @top-left {{ content: \"kenshin · {hid}\"; font-size: 8pt; color: #59636e; }}\n\
               @top-right {{ content: \"{hdate}\"; font-size: 8pt; color: #59636e; }}\n\
               @bottom-right {{ content: counter(page) \" / \" counter(pages); font-size: 8pt; color: #59636e; }} }}\n\
             </style>\n</head>\n<body>",
            lang = self.lang.code(),
            version = esc(&r.tool.version),
            id = esc(&r.scan.id),
            hid = css_string(&r.scan.id),
            hdate = css_string(date),
        );
        let _ = writeln!(
            self.out,
            "<header><h1>{title}</h1><p class=\"meta\">{} <code>{}</code> · {} · kenshin {} · {} {}</p></header>",
            self.t("スキャンID", "Scan ID"),
            esc(&r.scan.id),
            esc(date),
            esc(&r.tool.version),
            self.t("ルール", "rules"),
            esc(&r.tool.rules_version),
        );
        if !r.scan.complete {
            let _ = writeln!(
                self.out,
                "<p class=\"warn\">⚠ {}</p>",
                self.t(
                    "このスキャンは中断されました。結果は途中までのものです。",
                    "This scan was interrupted; the results are partial."
                )
            );
        }
    }

    fn summary(&mut self, r: &Report) {
        let lang = self.lang;
        let _ = writeln!(
            self.out,
            "<section id=\"summary\"><h2>1. {}</h2>\n<dl class=\"facts\">",
            self.t("概要", "Summary")
        );
        let fact = |p: &mut Self, k: &str, v: String| {
            let _ = writeln!(p.out, "<dt>{k}</dt><dd>{v}</dd>");
        };
        let join = |v: &[String]| {
            if v.is_empty() {
                "—".to_owned()
            } else {
                v.iter()
                    .map(|s| format!("<code>{}</code>", esc(s)))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        fact(
            self,
            self.lang.pick("対象", "Targets"),
            join(&r.scan.targets),
        );
        fact(
            self,
            self.lang.pick("除外", "Excluded"),
            join(&r.scan.excluded),
        );
        fact(
            self,
            self.lang.pick("スキャン範囲", "Scope"),
            join(&r.scan.scope),
        );
        fact(
            self,
            self.lang.pick("ポート", "Ports"),
            format!("<code>{}</code>", esc(&excerpt(&r.scan.ports))),
        );
        if !r.scan.segments.is_empty() {
            let segs: Vec<String> = r
                .scan
                .segments
                .iter()
                .map(|s| format!("{}={}", s.name, s.ranges.join(",")))
                .collect();
            fact(self, self.lang.pick("セグメント", "Segments"), join(&segs));
        }
        if let Some(v) = &r.scan.vantage {
            fact(
                self,
                self.lang.pick("スキャナの位置", "Scanner's segment"),
                esc(v),
            );
        }
        fact(
            self,
            self.lang.pick("日時", "When"),
            format!("{} – {}", esc(&r.scan.started_at), esc(&r.scan.finished_at)),
        );
        fact(
            self,
            self.lang.pick("結果", "Result"),
            format!(
                "{} {} · {} {} · {} {}",
                r.scan.stats.hosts_up,
                self.t("台のホスト", "hosts up"),
                r.scan.stats.open_ports,
                self.t("個の開ポート", "open ports"),
                r.findings.len(),
                self.t("件の所見", "findings"),
            ),
        );
        fact(
            self,
            self.lang.pick("ツール", "Tool"),
            format!(
                "kenshin {} · {} {}{}",
                esc(&r.tool.version),
                self.t("ルール", "rules"),
                esc(&r.tool.rules_version),
                r.tool
                    .advisories
                    .first()
                    .map(|a| format!(" · CISA KEV {}", esc(&a.kev_catalog_version)))
                    .unwrap_or_default()
            ),
        );
        if let Some(s) = &r.signing {
            fact(
                self,
                self.lang.pick("署名鍵", "Signing key"),
                format!(
                    "{} <code>{}</code> ({})",
                    esc(&s.algorithm),
                    esc(&s.fingerprint),
                    self.t(
                        "kenshin verify で manifest.json の署名と全ファイルのハッシュを検証できる",
                        "kenshin verify checks manifest.json's signature and every file's hash"
                    )
                ),
            );
        }
        self.w("</dl>\n");
        for w in &r.scan.warnings {
            let _ = writeln!(self.out, "<p class=\"warn\">⚠ {}</p>", esc(&excerpt(w)));
        }

        // Counts by severity, with the label in words.
        let _ = write!(
            self.out,
            "<h3>{}</h3>\n<table class=\"counts\"><thead><tr>",
            self.t("重大度別の所見数", "Findings by severity")
        );
        for s in Severity::ALL {
            let _ = write!(
                self.out,
                "<th><span class=\"sev sev-{s}\">{}</span></th>",
                severity_label(s, lang)
            );
        }
        self.w("</tr></thead><tbody><tr>");
        for s in Severity::ALL {
            let n = r.findings.iter().filter(|f| f.severity == s).count();
            let _ = write!(self.out, "<td>{n}</td>");
        }
        self.w("</tr></tbody></table>\n");

        let worst: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .take(10)
            .collect();
        let _ = writeln!(
            self.out,
            "<h3>{}</h3>",
            self.t("優先して対処する所見", "Fix these first")
        );
        if worst.is_empty() {
            let _ = writeln!(
                self.out,
                "<p>{}</p>",
                self.t(
                    "注意以上の重大度の所見はありません。",
                    "No findings of low severity or worse."
                )
            );
        } else {
            self.finding_table(&worst);
        }
        self.w("</section>\n");
    }

    fn finding_table(&mut self, findings: &[&Finding]) {
        let lang = self.lang;
        let _ = writeln!(
            self.out,
            "<table><thead><tr><th>ID</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            self.t("重大度", "Severity"),
            self.t("所見", "Finding"),
            self.t("場所", "Where"),
            self.t("確度", "Confidence"),
        );
        for f in findings {
            let _ = writeln!(
                self.out,
                "<tr><td class=\"id\"><a href=\"#{a}\">{id}</a></td><td><span class=\"sev sev-{sev}\">{sl}</span></td><td>{title}</td><td><code>{at}</code></td><td>{conf}</td></tr>",
                a = anchor(&f.id),
                id = esc(&f.id),
                sev = anchor(f.severity.as_str()),
                sl = severity_label(f.severity, lang),
                title = esc(lang.text(&f.title)),
                at = esc(&f.place()),
                conf = esc(confidence_label(lang, f.confidence)),
            );
        }
        self.w("</tbody></table>\n");
    }

    fn checklist(&mut self, r: &Report) {
        let lang = self.lang;
        let _ = writeln!(
            self.out,
            "<section id=\"checklist\" class=\"major\"><h2>2. {}</h2>\n<p>{}</p>\n\
             <table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            self.t(
                "医療機関におけるサイバーセキュリティ対策チェックリスト（令和7年度版）",
                "MHLW cybersecurity checklist for medical institutions (FY2025 edition)"
            ),
            self.t(
                "回答案は、スキャンで所見があれば「いいえ」、なければ「はい」、スキャンで確かめられない項目は「要確認」です。最終的な回答は文書と現地で確認してください。",
                "The suggested answer is \"No\" where the scan found something, \"Yes\" where it found nothing, and \"Check\" where a scan cannot tell. Confirm every answer with documents and on site."
            ),
            self.t("項目", "Item"),
            self.t("確認事項（要約）", "Question (paraphrased)"),
            self.t("様式", "Forms"),
            self.t("状態", "Status"),
            self.t("回答案", "Suggested answer"),
            self.t("所見・理由", "Findings and reason"),
        );
        for c in &r.checklist {
            let links: Vec<String> = c
                .findings
                .iter()
                .map(|id| format!("<a href=\"#{}\">{}</a>", anchor(id), esc(id)))
                .collect();
            let _ = writeln!(
                self.out,
                "<tr id=\"r7-{a}\"><td><b>{id}</b>{unc}</td><td>{q}</td><td>{forms}</td><td><span class=\"status status-{st}\">{sl}</span></td><td class=\"answer\">{ans}</td><td>{links}{sep}{note}</td></tr>",
                a = anchor(&c.id),
                id = esc(&c.id),
                unc = if c.unconfirmed { self.t(" ※", " *") } else { "" },
                q = esc(lang.text(&c.question)),
                forms = c
                    .forms
                    .iter()
                    .map(|f| esc(f.strip_suffix("確認用").unwrap_or(f)))
                    .collect::<Vec<_>>()
                    .join("<br>"),
                st = anchor(c.status.as_str()),
                sl = status_label(c.status, lang),
                ans = labels::answer(c.status).get(lang),
                links = links.join(" "),
                sep = if links.is_empty() { "" } else { "<br>" },
                note = esc(lang.text(&c.note)),
            );
        }
        let _ = writeln!(
            self.out,
            "</tbody></table>\n<p class=\"meta\">{}</p>\n</section>",
            self.t(
                "※ 項目番号または文言が kenshin の資料では未確認のもの。",
                "* The item's number or wording is unconfirmed in kenshin's sources."
            )
        );
    }

    fn findings(&mut self, r: &Report) {
        let lang = self.lang;
        let _ = writeln!(
            self.out,
            "<section id=\"findings\" class=\"major\"><h2>3. {}</h2>\n<h3>{}</h3>",
            self.t("所見", "Findings"),
            self.t("要件別", "By requirement"),
        );
        if r.findings.is_empty() {
            let _ = writeln!(
                self.out,
                "<p>{}</p>",
                self.t("所見はありません。", "No findings.")
            );
        }
        let mut by_req: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
        for f in &r.findings {
            for q in &f.requirements {
                by_req
                    .entry((q.framework.clone(), q.id.clone()))
                    .or_default()
                    .push(f);
            }
        }
        if !by_req.is_empty() {
            let _ = writeln!(
                self.out,
                "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
                self.t("枠組み", "Framework"),
                self.t("要件", "Requirement"),
                self.t("所見", "Findings"),
            );
            // The R7 checklist first, then the other frameworks.
            let mut keys: Vec<&(String, String)> = by_req.keys().collect();
            keys.sort_by_key(|(fw, _)| fw != "mhlw-checklist-r7");
            for key in keys {
                let list = &by_req[key];
                let links: Vec<String> = list
                    .iter()
                    .map(|f| {
                        format!(
                            "<a href=\"#{}\">{}</a> <span class=\"sev sev-{}\">{}</span>",
                            anchor(&f.id),
                            esc(&f.id),
                            anchor(f.severity.as_str()),
                            severity_label(f.severity, lang)
                        )
                    })
                    .collect();
                let _ = writeln!(
                    self.out,
                    "<tr><td><code>{}</code></td><td><b>{}</b></td><td>{}</td></tr>",
                    esc(&key.0),
                    esc(&key.1),
                    links.join("<br>")
                );
            }
            self.w("</tbody></table>\n");
        }

        let _ = writeln!(self.out, "<h3>{}</h3>", self.t("ホスト別", "By host"));
        let mut by_host: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &r.findings {
            by_host.entry(f.host.as_str()).or_default().push(f);
        }
        for (host, list) in by_host {
            let _ = writeln!(
                self.out,
                "<h3 id=\"host-{}\"><code>{}</code> <span class=\"meta\">({} {})</span></h3>",
                anchor(host),
                esc(host),
                list.len(),
                self.t("件", "findings")
            );
            for f in list {
                self.finding_card(f);
            }
        }
        self.w("</section>\n");
    }

    fn finding_card(&mut self, f: &Finding) {
        let lang = self.lang;
        let reqs: Vec<String> = f
            .requirements
            .iter()
            .map(|q| {
                if q.framework == "mhlw-checklist-r7" {
                    format!(
                        "<a class=\"pill\" href=\"#r7-{}\">R7 {}</a>",
                        anchor(&q.id),
                        esc(&q.id)
                    )
                } else {
                    format!(
                        "<span class=\"pill\">{} {}</span>",
                        esc(&q.framework),
                        esc(&q.id)
                    )
                }
            })
            .collect();
        let evidence: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("<a href=\"#{}\">{}</a>", anchor(e), esc(e)))
            .collect();
        let _ = writeln!(
            self.out,
            "<article class=\"finding {sev}\" id=\"{a}\"><h4><span class=\"sev sev-{sev}\">{sl}</span> {id} · {title}</h4>\
             <p class=\"meta\"><code>{at}</code> · {cl}: {conf} · <code>{check}</code></p>\
             <p><span class=\"label\">{ld}:</span> {detail}</p>\
             <p><span class=\"label\">{lr}:</span> {why}</p>\
             <p><span class=\"label\">{lf}:</span> {fix}</p>",
            sev = anchor(f.severity.as_str()),
            a = anchor(&f.id),
            sl = severity_label(f.severity, lang),
            id = esc(&f.id),
            title = esc(lang.text(&f.title)),
            at = esc(&f.place()),
            cl = self.t("確度", "confidence"),
            conf = esc(confidence_label(lang, f.confidence)),
            check = esc(&f.check),
            ld = self.t("観測", "Seen"),
            detail = esc(&excerpt_to(&f.detail, EXCERPT_CHARS * 4)),
            lr = self.t("理由", "Why it matters"),
            why = esc(lang.text(&f.rationale)),
            lf = self.t("対処", "Remediation"),
            fix = esc(lang.text(&f.remediation)),
        );
        if let Some(a) = &f.advisory {
            let mut parts = Vec::new();
            if !a.cve.is_empty() {
                parts.push(a.cve.iter().map(|c| esc(c)).collect::<Vec<_>>().join(", "));
            }
            if let Some(c) = a.cvss {
                parts.push(format!("CVSS {c:.1}"));
            }
            if let Some(k) = &a.kev_added {
                parts.push(format!("CISA KEV {}", esc(k)));
            }
            if a.ransomware.as_deref() == Some("known") {
                parts.push(
                    self.t("ランサムウェアでの悪用あり", "used by ransomware")
                        .to_owned(),
                );
            }
            if let Some(e) = &a.end_of_life {
                parts.push(format!(
                    "{} {}",
                    self.t("サポート終了", "end of support"),
                    esc(e)
                ));
            }
            let _ = writeln!(
                self.out,
                "<p><span class=\"label\">{}:</span> {} <br><span class=\"meta\">{}</span></p>",
                self.t("脆弱性情報", "Advisory"),
                parts.join(" · "),
                esc(&a.basis)
            );
            if !a.vendor_advisories.is_empty() || !a.references.is_empty() {
                let refs: Vec<String> = a
                    .vendor_advisories
                    .iter()
                    .chain(&a.references)
                    .map(|u| format!("<code>{}</code>", esc(u)))
                    .collect();
                let _ = writeln!(
                    self.out,
                    "<p class=\"meta\">{}: {}</p>",
                    self.t("参照", "References"),
                    refs.join(" ")
                );
            }
        }
        let _ = writeln!(
            self.out,
            "<p>{}</p><p class=\"meta\">{}: {}</p></article>",
            reqs.join(""),
            self.t("証跡", "Evidence"),
            evidence.join(" ")
        );
    }

    fn inventory(&mut self, r: &Report) {
        let lang = self.lang;
        let _ = writeln!(
            self.out,
            "<section id=\"inventory\" class=\"major\"><h2>4. {}</h2>\n\
             <table><thead><tr><th>{}</th><th>MAC</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            self.t("資産一覧", "Asset inventory"),
            self.t("アドレス", "Address"),
            self.t("名前", "Names"),
            self.t("種別と根拠", "Kind and why"),
            self.t("サービス", "Services"),
            self.t("台帳", "Ledger"),
        );
        for h in &r.hosts {
            let mac = match (&h.mac, &h.mac_vendor) {
                (Some(m), Some(v)) => format!("<code>{}</code><br>{}", esc(m), esc(v)),
                (Some(m), None) => format!("<code>{}</code>", esc(m)),
                _ => "—".to_owned(),
            };
            let mut names: Vec<String> = h.hostnames.iter().map(|n| esc(n)).collect();
            if let Some(s) = h.snmp.as_ref().and_then(|s| s.sys_name.as_ref()) {
                names.push(format!("{} (SNMP)", esc(s)));
            }
            let services: Vec<String> = h.services.iter().map(service_line).collect();
            let ledger = match &h.ledger {
                Some(l) => format!(
                    "✓ {} {}{}",
                    self.t("行", "line"),
                    l.line,
                    [&l.owner, &l.location]
                        .iter()
                        .filter_map(|v| v.as_ref())
                        .map(|v| format!("<br>{}", esc(&excerpt(v))))
                        .collect::<String>()
                ),
                None if r.inventory.is_some() => {
                    format!("<b>✗ {}</b>", self.t("台帳にない", "not in ledger"))
                }
                None => "—".to_owned(),
            };
            let _ = writeln!(
                self.out,
                "<tr id=\"asset-{a}\"><td><code>{addr}</code>{seg}</td><td>{mac}</td><td>{names}</td><td><b>{kind}</b><br><span class=\"meta\">{why}</span></td><td>{svc}</td><td>{ledger}</td></tr>",
                a = anchor(&h.address),
                addr = esc(&h.address),
                seg = h
                    .segment
                    .as_ref()
                    .map(|s| format!("<br><span class=\"pill\">{}</span>", esc(s)))
                    .unwrap_or_default(),
                names = if names.is_empty() { "—".to_owned() } else { names.join("<br>") },
                kind = esc(kind_label(lang, h.kind)),
                why = esc(&excerpt(&h.kind_reason)),
                svc = if services.is_empty() { "—".to_owned() } else { services.join("<br>") },
            );
        }
        self.w("</tbody></table>\n");
        if let Some(inv) = &r.inventory {
            let _ = writeln!(
            self.out,
                "<h3 id=\"ledger\">{}</h3>\n<p>{} <code>{}</code> ({}, SHA-256 <code>{}</code>): {} {} · {} {} · {} {}</p>",
                self.t("台帳との照合（チェックリスト 2-①）", "Ledger comparison (checklist 2-①)"),
                self.t("台帳", "Ledger"),
                esc(&inv.source),
                esc(&inv.encoding),
                esc(&inv.sha256),
                inv.entries,
                self.t("行", "entries"),
                inv.matched,
                self.t("行を確認", "matched"),
                inv.out_of_scope,
                self.t("行はスキャン範囲外", "outside the scanned scope"),
            );
            let _ = writeln!(
                self.out,
                "<p><b>✗ {} ({})</b>: {}</p>",
                self.t("台帳にない機器", "Devices seen but not in the ledger"),
                inv.unregistered.len(),
                if inv.unregistered.is_empty() {
                    "—".to_owned()
                } else {
                    inv.unregistered
                        .iter()
                        .map(|a| {
                            format!(
                                "<a href=\"#asset-{}\"><code>{}</code></a>",
                                anchor(a),
                                esc(a)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                }
            );
            let _ = writeln!(
                self.out,
                "<p><b>？ {} ({})</b></p>",
                self.t("見つからなかった台帳の機器", "Ledger entries not seen"),
                inv.not_seen.len()
            );
            if !inv.not_seen.is_empty() {
                let _ = writeln!(
            self.out,
                    "<table><thead><tr><th>{}</th><th>{}</th><th>MAC</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
                    self.t("行", "Line"),
                    self.t("アドレス", "Address"),
                    self.t("ホスト名", "Hostname"),
                    self.t("種別", "Kind"),
                    self.t("管理者", "Owner"),
                    self.t("設置場所", "Location"),
                );
                for e in &inv.not_seen {
                    let cell = |v: &Option<String>| {
                        v.as_deref()
                            .map_or_else(|| "—".to_owned(), |v| esc(&excerpt(v)))
                    };
                    let _ = writeln!(
                        self.out,
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        e.line,
                        cell(&e.address),
                        cell(&e.mac),
                        cell(&e.hostname),
                        cell(&e.kind.map(|k| k.as_str().to_owned())),
                        cell(&e.owner),
                        cell(&e.location)
                    );
                }
                self.w("</tbody></table>\n");
            }
        }
        self.w("</section>\n");
    }

    fn tls(&mut self, r: &Report) {
        let lang = self.lang;
        let _ = writeln!(
            self.out,
            "<section id=\"tls\" class=\"major\"><h2>5. TLS</h2>\n\
             <table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            self.t("場所", "Where"),
            self.t("プロトコル", "Versions"),
            self.t("証明書", "Certificate"),
            self.t("IPA ガイドライン", "IPA guideline"),
            self.t("問題", "Problems"),
        );
        let mut rows = 0;
        for h in &r.hosts {
            for s in &h.services {
                let Some(tls) = s.tls.as_ref() else { continue };
                let versions = tls
                    .versions
                    .iter()
                    .map(|v| esc(v))
                    .collect::<Vec<_>>()
                    .join(" ");
                if versions.is_empty() {
                    continue;
                }
                rows += 1;
                let cert_cell = if let Some(cert) = &tls.certificate {
                    let mut marks = Vec::new();
                    if cert.expired {
                        marks.push(self.t("✗ 期限切れ", "✗ expired"));
                    } else if cert.expires_within_30_days {
                        marks.push(self.t("⚠ 30日以内に期限切れ", "⚠ expires within 30 days"));
                    }
                    if cert.self_signed {
                        marks.push(self.t("✗ 自己署名", "✗ self-signed"));
                    } else if !cert.chain_trusted {
                        marks.push(self.t("✗ 信頼できない", "✗ untrusted"));
                    }
                    if cert.hostname_match == Some(false) {
                        marks.push(self.t("✗ 名前不一致", "✗ name mismatch"));
                    }
                    format!(
                        "{}<br><span class=\"meta\">{} {} · {} {}</span>{}",
                        esc(&excerpt(&cert.subject)),
                        esc(&cert.key_type),
                        cert.key_bits.unwrap_or(0),
                        self.t("期限", "until"),
                        esc(&cert.not_after),
                        if marks.is_empty() {
                            String::new()
                        } else {
                            format!("<br><b>{}</b>", marks.join(" "))
                        }
                    )
                } else {
                    "—".to_owned()
                };
                let eval = &tls.evaluation;
                let satisfies = match lang {
                    Lang::Ja => eval.satisfies_ja.as_deref(),
                    Lang::En => eval.satisfies_en.as_deref(),
                }
                .unwrap_or("—");
                let mut problems: Vec<String> = Vec::new();
                for level in crate::model::tls::PROFILE_ORDER {
                    if let Some(list) = eval.breaks.get(level) {
                        for b in list.iter().take(4) {
                            problems.push(esc(&excerpt(lang.pick(&b.ja, &b.en))));
                        }
                        if list.len() > 4 {
                            problems.push(format!("… (+{})", list.len() - 4));
                        }
                    }
                }
                let _ = writeln!(
                    self.out,
                    "<tr><td><code>{}:{}</code><br><span class=\"meta\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&h.address),
                    s.port,
                    esc(&tls.channel),
                    versions,
                    cert_cell,
                    esc(satisfies),
                    if problems.is_empty() { "—".to_owned() } else { problems.join("<br>") }
                );
            }
        }
        self.w("</tbody></table>\n");
        if rows == 0 {
            let _ = writeln!(
                self.out,
                "<p>{}</p>",
                self.t(
                    "TLS を話すサービスはありませんでした。",
                    "No service spoke TLS."
                )
            );
        }
        self.w("</section>\n");
    }

    fn evidence(&mut self, r: &Report) {
        let _ = writeln!(
            self.out,
            "<section id=\"evidence\" class=\"major\"><h2>6. {}</h2>\n<p>{}</p>\n\
             <table><thead><tr><th>ID</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            self.t("証跡（付録）", "Evidence appendix"),
            self.t(
                "各プローブの送受信バイトは evidence/ のファイル（16 進ダンプ）と report.json にあり、manifest.json の署名で改変がないことを確認できます。ここでは受信の先頭のみ示します。",
                "Each probe's bytes sent and received are in evidence/ (hex dumps) and in report.json; manifest.json's signature shows they were not altered. Only the start of what was received is shown here."
            ),
            self.t("場所", "Where"),
            self.t("プローブ", "Probe"),
            self.t("内容", "What happened"),
            self.t("受信（先頭）", "Received (start)"),
        );
        for e in &r.evidence {
            let received = decode_preview(&e.received);
            let _ = writeln!(
                self.out,
                "<tr id=\"{a}\"><td><a href=\"evidence/{a}.txt\">{id}</a></td><td><code>{host}{port}</code></td><td>{probe}</td><td>{note}</td><td><code class=\"banner\">{recv}</code></td></tr>",
                a = anchor(&e.id),
                id = esc(&e.id),
                host = esc(&e.host),
                port = e.port.map(|p| format!(":{p}")).unwrap_or_default(),
                probe = esc(&e.probe),
                note = esc(&excerpt(&e.note)),
                recv = esc(&received),
            );
        }
        self.w("</tbody></table>\n</section>\n");
    }

    fn foot(&mut self, r: &Report) {
        let _ = writeln!(
            self.out,
            "<footer>kenshin {} · {} · <code>{}</code></footer>\n</body>\n</html>",
            esc(&r.tool.version),
            esc(&r.contract),
            esc(&r.scan.id)
        );
    }
}

fn service_line(s: &Service) -> String {
    let mut line = format!(
        "<code>{}/{}</code> {}",
        s.port,
        esc(&s.protocol),
        esc(&s.service)
    );
    let product: Vec<&str> = [s.product.as_deref(), s.version.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !product.is_empty() {
        let _ = write!(line, " · {}", esc(&excerpt(&product.join(" "))));
    }
    if let Some(b) = &s.banner {
        if s.product.is_none() {
            let _ = write!(
                line,
                " · <span class=\"banner\">{}</span>",
                esc(&excerpt(b))
            );
        }
    }
    line
}

/// The printable start of base64 evidence bytes (invalid UTF-8 as `�`).
fn decode_preview(b64: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_default();
    let cut = &bytes[..bytes.len().min(EXCERPT_CHARS)];
    let text = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > EXCERPT_CHARS {
        format!("{text}…")
    } else {
        text
    }
}

#[cfg(test)]
pub(crate) mod tests;
