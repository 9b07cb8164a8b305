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
    // The finding is a row of the findings table (its card is gone since issue 17);
    // its group's explanation links back to the item.
    assert!(html.contains(&format!("<tr id=\"{f}\"><td>{f}</td>")));
    assert!(html.contains(&format!("href=\"#r7-{}\"", anchor(&item.id))));
}

#[test]
fn each_group_explains_its_findings_once_and_each_row_links_to_its_group() {
    let mut r = lab_report();
    // The captured report predates groups: group one check's findings by hand, and
    // leave the rest to the page's stand-in groups (one per check).
    let check = r.findings[0].check.clone();
    let members: Vec<&crate::model::Finding> =
        r.findings.iter().filter(|f| f.check == check).collect();
    let group: crate::model::Group = serde_json::from_value(serde_json::json!({
        "id": "g-0123456789ab", "check": check, "severity": members[0].severity,
        "cause": { "ja": "原因", "en": "the cause" }, "count": members.len(),
        "hosts": 1, "findings": members.iter().map(|f| &f.id).collect::<Vec<_>>(),
        "accepted": 0
    }))
    .expect("a group");
    r.groups = vec![group];
    let html = render(&r, Lang::En);
    for f in &r.findings {
        let first_of_check = r.findings.iter().find(|g| g.check == f.check);
        if first_of_check.map(|g| &g.id) != Some(&f.id) {
            continue;
        }
        let same_why = r
            .findings
            .iter()
            .filter(|g| g.rationale.en == f.rationale.en)
            .map(|g| &g.check)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        assert_eq!(
            html.matches(&esc(&f.rationale.en)).count(),
            same_why,
            "{}: its rationale is said once per group",
            f.check
        );
    }
    let f = r
        .findings
        .iter()
        .find(|f| f.check == check)
        .expect("a member");
    let row = &html[html.find(&format!("<tr id=\"{}\">", f.id)).expect("row")..];
    let row = &row[..row.find("</tr>").expect("row end")];
    assert!(row.contains("href=\"#g-0123456789ab\""), "{row}");
    for e in &f.evidence {
        assert!(row.contains(e.as_str()), "{e} missing from {row}");
    }
    let other = r
        .findings
        .iter()
        .find(|f| f.check != check)
        .expect("another check");
    assert!(html.contains(&format!(
        "<details class=\"group {}\" id=\"check-",
        other.severity.as_str()
    )));
}

#[test]
fn evidence_ids_are_text_and_the_page_says_where_the_records_are() {
    let r = lab_report();
    for lang in [Lang::Ja, Lang::En] {
        let html = render(&r, lang);
        assert!(
            !html.contains("href=\"evidence/"),
            "a link to a file that will not exist"
        );
        assert!(
            !html.contains("href=\"#ev-"),
            "a link to an evidence row the page no longer has"
        );
        assert!(
            html.contains("kenshin evidence"),
            "{lang:?}: no word on how to show a record"
        );
        let id = &r.findings[0].evidence[0];
        assert!(html.contains(id.as_str()), "{lang:?}: {id} not shown");
    }
}

#[test]
fn a_checklist_item_with_many_findings_links_ten_and_counts_the_rest() {
    let mut r = lab_report();
    let item = r
        .checklist
        .iter_mut()
        .find(|c| !c.findings.is_empty())
        .expect("an item with findings");
    let first = item.findings[0].clone();
    item.findings = (0..25).map(|_| first.clone()).collect();
    let item_id = item.id.clone();
    let html = render(&r, Lang::En);
    let row = &html[html.find(&format!("<td><b>{item_id}</b>")).expect("row")..];
    let row = &row[..row.find("</tr>").expect("row end")];
    assert_eq!(
        row.matches(&format!("href=\"#{first}\"")).count(),
        10,
        "{row}"
    );
    assert!(row.contains("… and 15 more"), "{row}");
}

#[test]
fn long_tables_come_in_chunks_the_browser_lays_out_near_the_viewport() {
    let mut r = lab_report();
    let template = r.hosts[0].clone();
    r.hosts = (0..(view::CHUNK_ROWS * 2 + 1))
        .map(|i| {
            let mut h = template.clone();
            h.address = format!("198.18.{}.{}", i / 250, i % 250 + 1);
            h
        })
        .collect();
    let html = render(&r, Lang::Ja);
    let inventory = &html[html.find("<section id=\"inventory\"").expect("inventory")..];
    let inventory = &inventory[..inventory.find("</section>").expect("end")];
    assert_eq!(inventory.matches("<div class=\"chunk\">").count(), 3);
    assert_eq!(
        inventory.matches("<tr id=\"asset-").count(),
        view::CHUNK_ROWS * 2 + 1
    );
    assert!(html.contains(".chunk { content-visibility: auto;"));
    // A table of one chunk is laid out at once, so every word of it is in the text a
    // browser gives (innerText leaves out what it has not laid out).
    let small = render(&lab_report(), Lang::Ja);
    assert!(!small.contains("<div class=\"chunk\">"));
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
