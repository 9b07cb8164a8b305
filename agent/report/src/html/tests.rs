use super::*;
use crate::model::ChecklistStatus;

/// A report captured from a lab scan (trimmed), as the scanner wrote it.
pub(crate) fn lab_report() -> Report {
    serde_json::from_str(include_str!("../../tests/data/lab-report.json"))
        .expect("the captured report parses")
}

#[test]
fn the_page_is_self_contained_and_runs_no_script() {
    let html = render(&lab_report(), Lang::Ja);
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"ja\">"));
    assert!(html.contains("default-src 'none'"));
    for forbidden in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "href=\"http",
        "src=",
        "url(",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} found in the page");
    }
}

#[test]
fn every_section_is_there_in_japanese_and_in_english() {
    let r = lab_report();
    let ja = render(&r, Lang::Ja);
    for heading in [
        "1. 概要",
        "2. 医療機関におけるサイバーセキュリティ対策チェックリスト（令和7年度版）",
        "3. 所見",
        "4. 資産一覧",
        "5. TLS",
        "6. 証跡（付録）",
    ] {
        assert!(ja.contains(heading), "missing {heading}");
    }
    let en = render(&r, Lang::En);
    assert!(en.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    for heading in [
        "1. Summary",
        "3. Findings",
        "4. Asset inventory",
        "6. Evidence appendix",
    ] {
        assert!(en.contains(heading), "missing {heading}");
    }
    assert!(!en.contains("所見なし"));
}

#[test]
fn checklist_rows_link_to_their_findings_and_findings_to_their_items() {
    let r = lab_report();
    let html = render(&r, Lang::Ja);
    let item = r
        .checklist
        .iter()
        .find(|c| c.status == ChecklistStatus::Findings && !c.findings.is_empty())
        .expect("an item with findings");
    assert!(html.contains(&format!("<tr id=\"r7-{}\">", anchor(&item.id))));
    let f = &item.findings[0];
    assert!(html.contains(&format!("<a href=\"#{f}\">{f}</a>")));
    assert!(html.contains("<article class=\"finding"));
    assert!(html.contains(&format!("id=\"{f}\"")));
    assert!(html.contains(&format!("href=\"#r7-{}\"", anchor(&item.id))));
}

#[test]
fn severity_and_status_read_without_colour() {
    let html = render(&lab_report(), Lang::Ja);
    assert!(html.contains("▲▲ 緊急"));
    assert!(html.contains("✗ 所見あり"));
    assert!(html.contains("？ 要確認"));
    let en = render(&lab_report(), Lang::En);
    assert!(en.contains("▲▲ Critical") && en.contains("? Check by hand"));
}

#[test]
fn a_hostile_banner_is_shown_as_capped_text_and_cannot_inject_markup() {
    let mut r = lab_report();
    let payload = format!(
        "220 <script>window.pwned=1</script><img src=x onerror=\"pwned=2\">\u{1b}[2J{}",
        "A".repeat(2000)
    );
    let svc = &mut r.hosts[0].services[0];
    svc.banner = Some(payload.clone());
    svc.product = None;
    r.hosts[0]
        .hostnames
        .push("</td><script>x()</script>".to_owned());
    r.findings[0].detail = payload.clone();
    r.scan.id = "x\"; } body { display:none".to_owned();
    let html = render(&r, Lang::Ja);
    assert!(!html.contains("<script"), "script tag injected");
    assert!(!html.contains("<img"), "img tag injected");
    assert!(!html.contains('\u{1b}'), "terminal escape passed through");
    assert!(html.contains("220 &lt;script&gt;window.pwned=1&lt;/script&gt;"));
    assert!(
        !html.contains(&"A".repeat(EXCERPT_CHARS * 4 + 1)),
        "banner not capped"
    );
    let style = &html[html.find("<style>").expect("style")..html.find("</style>").expect("end")];
    assert!(
        style.contains("content: \"kenshin · x  body  display:none\";"),
        "the scan ID stays inside its CSS string"
    );
}

#[test]
fn an_interrupted_scan_says_so_at_the_top() {
    let mut r = lab_report();
    r.scan.complete = false;
    let html = render(&r, Lang::En);
    assert!(html.contains("This scan was interrupted"));
}

#[test]
fn a_host_held_to_its_class_budget_says_so_in_the_inventory_and_a_default_one_does_not() {
    let mut r = lab_report();
    let budget = |source: &str| crate::model::Budget {
        class: "medical_device".into(),
        frames_per_s: 10,
        inflight: 2,
        tls_audit: "versions-and-certificate".into(),
        source: source.into(),
        learned: "ledger row 4: kind 医療機器".into(),
        reason: crate::model::Text {
            ja: "患者につながる機器の小さな TCP スタックを守るため".into(),
            en: "to spare the small TCP stacks of patient-connected equipment".into(),
        },
        frames_sent: 231,
        peak_second: 10,
    };
    r.hosts[0].budget = Some(budget("ledger"));
    let ja = render(&r, Lang::Ja);
    assert!(
        ja.contains("送信上限 10 フレーム/秒・同時接続 2（医療機器: ledger row 4: kind 医療機器）— 患者につながる機器"),
        "the Japanese inventory does not show the budget"
    );
    let en = render(&r, Lang::En);
    assert!(en.contains("budget 10 frames/s, 2 connections (medical device: ledger row 4"));
    r.hosts[0].budget = Some(budget("default"));
    assert!(!render(&r, Lang::En).contains("budget 10 frames/s"));
}
