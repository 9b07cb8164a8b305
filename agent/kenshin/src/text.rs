//! Text people read at the end of a scan and from `kenshin diff`: this module counts,
//! and every word comes from `kenshin_report::labels`. Every line holding a value from
//! a report (hosts, titles, products, versions, check IDs) goes through
//! [`visible`] before it is printed, so a hostile banner or a forged report.json
//! cannot drive the terminal.

use std::path::Path;

use kenshin_report::bundle::Written;
use kenshin_report::diff::{Diff, FindingRef, PortRef};
use kenshin_report::labels::{self, terminal as words, Lang as Words, Pair};
use kenshin_report::model::{ChecklistStatus, Report, Severity};
use kenshin_report::visible;

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
fn tls_counts(r: &Report) -> words::TlsCounts {
    let mut c = words::TlsCounts::default();
    for tls in r
        .hosts
        .iter()
        .flat_map(|h| &h.services)
        .filter_map(|s| s.tls.as_ref())
    {
        c.audited += 1;
        c.legacy += usize::from(tls.accepts_legacy());
        c.high += usize::from(tls.evaluation.satisfies_high());
        c.bad_certificates += usize::from(tls.certificate.as_ref().is_some_and(|l| l.is_bad()));
    }
    c
}

fn tls_line(lang: Words, c: &words::TlsCounts) -> String {
    if c.audited == 0 {
        return String::new();
    }
    format!("\n{}", words::tls_line(lang, c))
}

/// `word count` pairs joined: `緊急 0、重要 1` / `critical 0, high 1`.
fn counted(lang: Words, sep: &str, counts: impl Iterator<Item = (Pair, usize)>) -> String {
    counts
        .map(|(word, n)| format!("{} {n}", word.in_sentence(lang)))
        .collect::<Vec<_>>()
        .join(sep)
}

/// Findings by severity, then the checklist's statuses, then the worst few.
fn findings_lines(lang: Words, r: &Report) -> String {
    let by_severity = counted(
        lang,
        ", ",
        Severity::ALL.iter().map(|s| {
            let n = r.findings.iter().filter(|f| f.severity == *s).count();
            (labels::severity(*s), n)
        }),
    );
    let by_status = counted(
        lang,
        words::list_separator(lang),
        ChecklistStatus::ALL.iter().map(|s| {
            let n = r.checklist.iter().filter(|c| c.status == *s).count();
            (labels::status(*s), n)
        }),
    );
    let mut out = format!(
        "\n{}: {by_severity}\n{}: {by_status}",
        words::FINDINGS_BY_SEVERITY.get(lang),
        words::checklist_items(lang, &labels::edition::of_report(r), r.checklist.len()),
    );
    let edition = labels::edition::of_report(r);
    let newer = r
        .scan
        .rules
        .as_ref()
        .and_then(|u| u.checklist_newer.as_ref());
    if newer.is_some() || edition.numbering_unconfirmed {
        out.push_str(&format!("\n{}", labels::edition::used_line(r, lang)));
    }
    if !r.groups.is_empty() {
        out.push_str(&groups_lines(lang, r));
        return out;
    }
    for f in r
        .findings
        .iter()
        .filter(|f| matches!(f.severity, Severity::Critical | Severity::High))
        .take(5)
    {
        out.push_str(&format!("\n  {}", visible(&finding_line(lang, f))));
    }
    out
}

/// `[critical/confirmed] 198.18.1.10:445 SMBv1 is enabled`, and the exception that
/// accepts it, if any.
fn finding_line(lang: Words, f: &kenshin_report::model::Finding) -> String {
    let port = f.port.map(|p| format!(":{p}")).unwrap_or_default();
    let accepted = f
        .disposition
        .exception
        .as_ref()
        .map(|ex| {
            format!(
                " ({} {ex})",
                labels::disposition(f.disposition.status).get(lang)
            )
        })
        .unwrap_or_default();
    format!(
        "[{}/{}] {}{port} {}{accepted}",
        labels::severity(f.severity).in_sentence(lang),
        labels::confidence(f.confidence).in_sentence(lang),
        f.host,
        lang.text(&f.title)
    )
}

/// How many groups the summary lists before pointing at report.html.
const GROUPS_SHOWN: usize = 12;

/// The groups, most severe first: one line per cause rather than per host.
fn groups_lines(lang: Words, r: &Report) -> String {
    use kenshin_report::model::ExceptionStatus;
    let accepted = r
        .findings
        .iter()
        .filter(|f| f.disposition.is_accepted())
        .count();
    let with = |s: ExceptionStatus| r.exceptions.iter().filter(|e| e.status == s).count();
    let mut out = format!(
        "\n{}",
        words::groups_line(
            lang,
            r.groups.len(),
            accepted,
            with(ExceptionStatus::Expired),
            with(ExceptionStatus::Unused)
        )
    );
    for g in r.groups.iter().take(GROUPS_SHOWN) {
        // A group of one reads best as its finding: where, and what.
        let single = (g.count == 1)
            .then(|| g.findings.first())
            .flatten()
            .and_then(|id| r.findings.iter().find(|f| &f.id == id));
        let line = match single {
            Some(f) => finding_line(lang, f),
            None => words::group_line(
                lang,
                &labels::severity(g.severity).in_sentence(lang),
                g.count,
                g.accepted,
                lang.text(&g.cause),
            ),
        };
        out.push_str(&format!("\n  {}", visible(&line)));
    }
    if r.groups.len() > GROUPS_SHOWN {
        out.push_str(&format!(
            "\n  {}",
            words::more_groups(lang, r.groups.len() - GROUPS_SHOWN)
        ));
    }
    out
}

pub(crate) fn summary(lang: Lang, r: &Report, written: &Written) -> String {
    let lang: Words = lang.into();
    let ledger = r.inventory.as_ref().map_or_else(String::new, |i| {
        let line = words::ledger_line(
            lang,
            i.entries,
            i.matched,
            i.unregistered.len(),
            i.not_seen.len(),
        );
        format!("\n{line}")
    });
    let frames = r.scan.stats.frames.as_ref().map_or_else(String::new, |f| {
        let budgeted = r
            .hosts
            .iter()
            .filter(|h| {
                h.budget
                    .as_ref()
                    .is_some_and(|b| b.frames_per_s < r.scan.settings.host_rate_pps)
            })
            .count();
        let line = words::frames_line(
            lang,
            f.sent,
            f.peak_second,
            r.scan.settings.rate_pps,
            f.peak_second_host,
            r.scan.settings.host_rate_pps,
            budgeted,
        );
        format!("\n{line}")
    });
    let more = tls_line(lang, &tls_counts(r)) + &findings_lines(lang, r) + &ledger + &frames;
    let s = &r.scan.stats;
    let (by_probe, with_product, services) = identified(r);
    let folder = written.report_json.parent().unwrap_or(Path::new("."));
    words::summary(
        lang,
        &words::Summary {
            state: words::scan_state(lang, r.scan.complete),
            addresses: s.addresses,
            hosts_up: s.hosts_up,
            open_ports: s.open_ports,
            findings: r.findings.len(),
            services,
            by_probe,
            with_product,
            more: &more,
            seconds: s.duration_ms as f64 / 1000.0,
            probes_sent: s.probes_sent,
            discovery_mode: &r.scan.discovery.mode,
            discovery_reason: &r.scan.discovery.reason,
            folder: &folder.display().to_string(),
            html: &written.report_html.display().to_string(),
            files: written.files,
            key: r
                .signing
                .as_ref()
                .map(|s| s.fingerprint.as_str())
                .unwrap_or("-"),
        },
    )
}

fn port(p: &PortRef) -> String {
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
}

fn finding(lang: Words, f: &FindingRef) -> String {
    format!(
        "[{}] {}{} {} ({})",
        labels::severity(f.severity).in_sentence(lang),
        f.host,
        f.port.map(|p| format!(":{p}")).unwrap_or_default(),
        lang.text(&f.title),
        f.advisory.as_deref().unwrap_or(&f.check)
    )
}

/// The lines of each section of a diff, hosts first, then ports, then findings.
fn diff_sections(lang: Words, d: &Diff) -> [(Pair, Vec<String>); 10] {
    let kind = |k| labels::kind(k).get(lang);
    let finding = |sign: &str, f: &FindingRef| format!("{sign} {}", finding(lang, f));
    [
        (
            words::HOSTS_APPEARED,
            d.hosts_appeared
                .iter()
                .map(|h| {
                    format!(
                        "+ {} [{}] {}",
                        h.address,
                        kind(h.kind),
                        h.services.join(", ")
                    )
                })
                .collect(),
        ),
        (
            words::HOSTS_VANISHED,
            d.hosts_vanished
                .iter()
                .map(|h| format!("- {} [{}]", h.address, kind(h.kind)))
                .collect(),
        ),
        (
            words::PORTS_OPENED,
            d.ports_opened
                .iter()
                .map(|p| format!("+ {}", port(p)))
                .collect(),
        ),
        (
            words::PORTS_CLOSED,
            d.ports_closed
                .iter()
                .map(|p| format!("- {}", port(p)))
                .collect(),
        ),
        (
            words::SERVICES_CHANGED,
            d.services_changed
                .iter()
                .map(|c| {
                    format!(
                        "~ {}:{}/{} {} → {}",
                        c.host, c.port, c.protocol, c.old, c.new
                    )
                })
                .collect(),
        ),
        (
            words::FINDINGS_NEW,
            d.findings_new.iter().map(|f| finding("+", f)).collect(),
        ),
        (
            words::FINDINGS_RESOLVED,
            d.findings_resolved
                .iter()
                .map(|f| finding("-", f))
                .collect(),
        ),
        (
            words::SEVERITY_CHANGED,
            d.severity_changed
                .iter()
                .map(|c| {
                    let was = labels::severity(c.old_severity).in_sentence(lang);
                    format!(
                        "{} ({} {was})",
                        finding("~", &c.finding),
                        words::WAS.get(lang)
                    )
                })
                .collect(),
        ),
        (
            words::FINDINGS_ACCEPTED,
            d.findings_accepted
                .iter()
                .map(|f| finding("=", f))
                .collect(),
        ),
        (
            words::FINDINGS_REOPENED,
            d.findings_reopened
                .iter()
                .map(|f| finding("!", f))
                .collect(),
        ),
    ]
}

/// `kenshin diff` for a terminal: one section per kind of change, `+` for what came,
/// `-` for what went, `~` for what changed.
pub(crate) fn diff(lang: Lang, d: &Diff) -> String {
    let lang: Words = lang.into();
    let mut out = format!("{}\n", words::diff_title(lang, &d.old.id, &d.new.id));
    if d.scope_differs {
        out.push_str(&format!("{}\n", words::DIFF_SCOPE_DIFFERS.get(lang)));
    }
    if !d.old.complete || !d.new.complete {
        out.push_str(&format!("{}\n", words::DIFF_INTERRUPTED.get(lang)));
    }
    if d.is_empty() {
        out.push_str(&format!("{}\n", words::DIFF_NONE.get(lang)));
        return out;
    }
    for (title, lines) in diff_sections(lang, d) {
        if lines.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{} ({})\n", title.get(lang), lines.len()));
        for l in lines {
            out.push_str(&format!("  {}\n", visible(&l)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use kenshin_report::model::tls::Tls;

    use super::*;

    fn report() -> Report {
        serde_json::from_str(include_str!("../../report/tests/golden/report.json"))
            .expect("the golden report parses")
    }

    fn written() -> Written {
        Written {
            report_json: PathBuf::from("/r/report.json"),
            report_html: PathBuf::from("/r/report.html"),
            files: 13,
        }
    }

    #[test]
    fn the_english_summary_keeps_the_lines_the_lab_tests_read() {
        let out = summary(Lang::En, &report(), &written());
        assert!(
            out.contains("\nfindings: critical 2, high 2, medium 2, low 1, info 1\n"),
            "{out}"
        );
        assert!(
            out.contains("checklist (R7), 7 items: findings 4, no findings 1, check by hand 2"),
            "{out}"
        );
        assert!(
            out.contains(
                "TLS: 2 services audited, 1 accept SSL/TLS 1.0/1.1, 1 satisfy the guideline's \
             high-security profile, 1 with an expired or untrusted certificate"
            ),
            "{out}"
        );
        assert!(
            out.contains("\n  [critical/confirmed] 198.18.1.10:445 SMBv1 is enabled"),
            "{out}"
        );
    }

    #[test]
    fn the_japanese_summary_spells_the_manual_status_as_the_page_does() {
        let out = summary(Lang::Ja, &report(), &written());
        let manual = labels::status(ChecklistStatus::Manual).ja;
        assert!(
            out.contains(&format!("所見あり 4、所見なし 1、{manual} 2")),
            "{out}"
        );
        assert!(out.contains("検出事項: 緊急 2, 重要 2"), "{out}");
        assert!(
            out.contains("[緊急/確認済み] 198.18.1.10:445 SMBv1 が有効"),
            "{out}"
        );
    }

    #[test]
    fn the_summary_prints_one_line_per_group_and_counts_accepted_findings() {
        let mut r = report();
        // Two telnet findings of one cause make one line; one of them is accepted.
        let mut second = r.findings[1].clone();
        second.id = "f-0099".to_owned();
        second.host = "198.18.1.21".to_owned();
        second.disposition = kenshin_report::model::Disposition::default();
        r.findings.push(second);
        let g = r
            .groups
            .iter_mut()
            .find(|g| g.check == "service.telnet")
            .expect("the telnet group");
        g.findings.push("f-0099".to_owned());
        g.count = 2;
        g.hosts = 2;
        g.accepted = 1;
        g.cause.en = "Telnet is open: 2 hosts".to_owned();
        let out = summary(Lang::En, &r, &written());
        assert!(
            out.contains(
                "finding groups: 8 (1 findings accepted as risks); exceptions: 1 expired, 1 unused"
            ),
            "{out}"
        );
        assert!(
            out.contains("\n  [critical] 2× (1 accepted): Telnet is open: 2 hosts"),
            "{out}"
        );
        assert!(
            !out.contains("198.18.1.21"),
            "one line for the group, not per host"
        );
    }

    #[test]
    fn tls_counts_read_the_typed_section() {
        let mut r = report();
        let c = tls_counts(&r);
        assert_eq!(
            (c.audited, c.legacy, c.high, c.bad_certificates),
            (2, 1, 1, 1)
        );
        let tls: &mut Tls = r.hosts[0].services[1]
            .tls
            .as_mut()
            .expect("the server's TLS");
        tls.versions.retain(|v| v == "TLSv1.2");
        assert_eq!(tls_counts(&r).legacy, 0);
    }

    #[test]
    fn a_diff_names_kinds_and_severities_in_words() {
        let old = report();
        let mut new = old.clone();
        new.hosts.retain(|h| h.address != "198.18.1.40");
        new.findings[0].severity = Severity::Medium;
        let d = kenshin_report::diff::diff(&old, &new);
        let en = diff(Lang::En, &d);
        assert!(
            en.contains("hosts vanished (1)\n  - 198.18.1.40 [network device]"),
            "{en}"
        );
        assert!(en.contains("severity changed (1)\n  ~ [medium] 198.18.1.10:445 SMBv1 is enabled (smb.smb1) (was critical)"), "{en}");
        let ja = diff(Lang::Ja, &d);
        assert!(
            ja.contains("消えたホスト (1)\n  - 198.18.1.40 [ネットワーク機器]"),
            "{ja}"
        );
        assert!(ja.contains("(以前は 緊急)"), "{ja}");
    }

    /// Nothing a terminal obeys: no control character but newline, no bidi control.
    fn assert_nothing_hidden(out: &str) {
        let hidden: Vec<char> = out
            .chars()
            .filter(|c| *c != '\n' && kenshin_report::screen::is_hidden(*c))
            .collect();
        assert!(hidden.is_empty(), "{hidden:?} in {out}");
    }

    #[test]
    fn report_values_in_the_summary_are_made_visible() {
        let mut r = report();
        r.findings[0].host = "198.18.1.10\r\u{1b}[2K".to_owned();
        r.findings[0].title.en = "SMBv1 \u{202e}elbane si".to_owned();
        r.scan.discovery.reason = "ARP\u{1b}]0;owned\u{7}".to_owned();
        let out = summary(Lang::En, &r, &written());
        assert_nothing_hidden(&out);
        assert!(
            out.contains("198.18.1.10\\r\\x1b[2K:445 SMBv1 \\u{202e}elbane si"),
            "{out}"
        );
        assert!(out.contains("ARP\\x1b]0;owned\\x07"), "{out}");
    }

    #[test]
    fn report_values_in_a_diff_are_made_visible() {
        let old = report();
        let mut new = old.clone();
        new.hosts[0].services[0].product = Some("Open\u{9b}31mSSH".to_owned());
        new.findings[0].severity = Severity::Medium;
        new.findings[0].title.ja = "SMBv1\u{2066}が有効".to_owned();
        new.scan.id = "scan\u{1b}[8m".to_owned();
        let d = kenshin_report::diff::diff(&old, &new);
        for lang in [Lang::En, Lang::Ja] {
            let out = diff(lang, &d);
            assert_nothing_hidden(&out);
            assert!(out.contains("scan\\x1b[8m"), "{out}");
            assert!(out.contains("Open\\u{9b}31mSSH"), "{out}");
        }
        assert!(diff(Lang::Ja, &d).contains("SMBv1\\u{2066}が有効"));
    }
}
