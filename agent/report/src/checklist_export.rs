//! The checklist edition the report answers (令和7年度版 by default, 令和8年度版 on
//! request) as its forms ask it: `checklist.csv` (UTF-8 with a BOM, so Excel opens it
//! in Japanese) and `checklist.xlsx`, one sheet per form of the edition (医療機関確認用
//! or 医療機関・薬局確認用, and 事業者確認用) laid out like the MHLW form, plus a sheet of
//! the findings the answers refer to. An item whose number or wording is unconfirmed
//! says so first in its reason.
//!
//! The suggested answer is いいえ where the scan found something for the item, はい
//! where it found nothing, and 要確認 where a scan cannot tell. A finding accepted by
//! the accepted-risk register keeps its item at いいえ (an accepted risk is not
//! compliance), with the exception cited beside the finding and its group. Dates are
//! the scan's start in Japan time (or the report's `utc_offset`), as the form's 点検日;
//! the sheet's intro gives the start to the second.

use crate::labels::{self, checklist as words, Lang};
use crate::local_time;
use crate::model::{ChecklistItem, Report};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

/// The 令和7年度版's forms' Japanese names, in the order the MHLW publishes them.
pub const FORMS: [&str; 2] = [words::FORMS[0].ja, words::FORMS[1].ja];

/// The item's reason in `lang`, marked first if the item is unconfirmed.
fn reason(item: &ChecklistItem, lang: Lang) -> String {
    let note = lang.text(&item.note);
    if item.unconfirmed {
        format!("{}{note}", words::UNCONFIRMED.get(lang))
    } else {
        note.to_owned()
    }
}

/// The scan's start date in Japan time, or the report's offset (`YYYY-MM-DD`), or the
/// date part as written.
pub fn inspection_date(report: &Report) -> String {
    local_time::day(&report.scan.started_at, local_time::offset_of(report))
}

/// The scan's start to the second, with its zone (`2026-12-02 17:51:03 JST`).
pub fn inspection_time(report: &Report) -> String {
    local_time::shown(&report.scan.started_at, local_time::offset_of(report))
}

/// One row of a form.
struct Row<'a> {
    form: labels::Pair,
    item: &'a ChecklistItem,
    evidence: String,
}

fn rows(report: &Report) -> Vec<Row<'_>> {
    let mut out = Vec::new();
    for form in labels::edition::of_report(report).forms {
        for item in report
            .checklist
            .iter()
            .filter(|c| c.forms.iter().any(|f| f == form.ja))
        {
            out.push(Row {
                form,
                item,
                evidence: evidence_refs(report, item),
            });
        }
    }
    out
}

/// `f-0003 [g-…] (ev-000017, ev-000152) 受容: EX-2026-001 〜2027-03-31; f-0007 (…)`: each
/// finding with its group, its evidence IDs and the exception that accepts it.
fn evidence_refs(report: &Report, item: &ChecklistItem) -> String {
    item.findings
        .iter()
        .map(|id| {
            let mut out = id.clone();
            if let Some(g) = report.groups.iter().find(|g| g.findings.contains(id)) {
                out.push_str(&format!(" [{}]", g.id));
            }
            let Some(f) = report.findings.iter().find(|f| &f.id == id) else {
                return out;
            };
            if !f.evidence.is_empty() {
                out.push_str(&format!(" ({})", f.evidence.join(", ")));
            }
            if let (Some(ex), Some(until)) = (&f.disposition.exception, &f.disposition.expires) {
                out.push_str(&format!(" {}", words::accepted_ref(ex, until)));
            }
            out
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The reason, with a note first when some of the item's findings are accepted risks.
fn reason_with_acceptance(report: &Report, item: &ChecklistItem, lang: Lang) -> String {
    let accepted = item.findings.iter().any(|id| {
        report
            .findings
            .iter()
            .any(|f| &f.id == id && f.disposition.is_accepted())
    });
    let reason = reason(item, lang);
    if accepted {
        format!("{}{reason}", words::ACCEPTED_NOTE.get(lang))
    } else {
        reason
    }
}

/// `checklist.csv`: UTF-8 with a BOM, CRLF line ends, every field quoted.
pub fn csv(report: &Report) -> Vec<u8> {
    let date = inspection_date(report);
    let mut out = String::from("\u{feff}");
    push_csv_line(&mut out, words::csv_header().iter().map(String::as_str));
    for r in rows(report) {
        let answer = labels::answer(r.item.status);
        let (reason_ja, reason_en) = (
            reason_with_acceptance(report, r.item, Lang::Ja),
            reason_with_acceptance(report, r.item, Lang::En),
        );
        push_csv_line(
            &mut out,
            [
                r.form.ja,
                &r.item.id,
                &r.item.question.ja,
                answer.get(Lang::Ja),
                &reason_ja,
                &date,
                &r.evidence,
                r.form.en,
                &r.item.question.en,
                answer.get(Lang::En),
                &reason_en,
            ],
        );
    }
    out.into_bytes()
}

fn push_csv_line<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    let mut first = true;
    for f in fields {
        if !first {
            out.push(',');
        }
        first = false;
        out.push('"');
        // A cell starting with = + - @ would be run as a formula by a spreadsheet.
        if f.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            out.push('\'');
        }
        out.push_str(&f.replace('"', "\"\""));
        out.push('"');
    }
    out.push_str("\r\n");
}

/// The cell formats of the workbook.
struct Formats {
    title: Format,
    meta: Format,
    head: Format,
    cell: Format,
    answer: Format,
}

impl Formats {
    fn new() -> Self {
        let cell = Format::new()
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_border(FormatBorder::Thin);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            meta: Format::new().set_font_size(9),
            head: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(0xD9E1F2)
                .set_border(FormatBorder::Thin),
            answer: cell.clone().set_bold().set_align(FormatAlign::Center),
            cell,
        }
    }
}

/// `checklist.xlsx`: one sheet per form and one of findings.
pub fn xlsx(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let formats = Formats::new();
    let all = rows(report);
    for form in labels::edition::of_report(report).forms.map(|f| f.ja) {
        let rows: Vec<&Row<'_>> = all.iter().filter(|r| r.form.ja == form).collect();
        form_sheet(&mut book, &formats, report, form, &rows)?;
    }
    findings_sheet(&mut book, &formats, report)?;
    book.save_to_buffer()
}

/// A form's sheet, laid out like the MHLW form.
fn form_sheet(
    book: &mut Workbook,
    f: &Formats,
    report: &Report,
    form: &str,
    rows: &[&Row<'_>],
) -> Result<(), XlsxError> {
    let date = inspection_date(report);
    let sheet = book.add_worksheet();
    sheet.set_name(form)?;
    sheet.set_paper_size(9); // A4
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    let edition = labels::edition::of_report(report);
    sheet.write_string_with_format(0, 0, words::sheet_title(&edition, form), &f.title)?;
    let intro = words::sheet_intro(
        &report.tool.version,
        &report.scan.id,
        &inspection_time(report),
        &report.tool.rules_version,
    );
    sheet.write_string_with_format(1, 0, intro, &f.meta)?;
    if let Some(s) = &report.signing {
        let sealed = words::sheet_sealed(&s.algorithm, &s.fingerprint);
        sheet.write_string_with_format(2, 0, sealed, &f.meta)?;
    }
    for (col, (h, width)) in (0u16..).zip(words::form_columns()) {
        sheet.write_string_with_format(4, col, h, &f.head)?;
        sheet.set_column_width(col, width)?;
    }
    sheet.set_freeze_panes(5, 0)?;
    sheet.set_repeat_rows(4, 4)?;
    for (row, r) in (5u32..).zip(rows) {
        let ja = labels::answer(r.item.status).ja;
        sheet.write_string_with_format(row, 0, &r.item.id, &f.cell)?;
        sheet.write_string_with_format(row, 1, &r.item.question.ja, &f.cell)?;
        sheet.write_string_with_format(row, 2, ja, &f.answer)?;
        sheet.write_string_with_format(row, 3, &date, &f.cell)?;
        sheet.write_string_with_format(row, 4, cell(&r.evidence), &f.cell)?;
        let reason = reason_with_acceptance(report, r.item, Lang::Ja);
        sheet.write_string_with_format(row, 5, cell(&reason), &f.cell)?;
    }
    Ok(())
}

/// The most characters Excel keeps in one cell.
const CELL_LIMIT: usize = 32_767;

/// `text` as one cell can hold it: a list too long for Excel (a checklist item citing
/// thousands of findings on a large site) is cut at an item boundary and says how many
/// items were left out and where they all are.
fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= CELL_LIMIT {
        return std::borrow::Cow::Borrowed(text);
    }
    // Room for the note at the end, which is short.
    let keep: usize = text
        .char_indices()
        .nth(CELL_LIMIT - 200)
        .map_or(text.len(), |(i, _)| i);
    let cut = text[..keep].rfind(", ").unwrap_or(keep);
    let left_out = text[cut..].matches(", ").count().max(1);
    std::borrow::Cow::Owned(format!("{} … {}", &text[..cut], words::cell_cut(left_out)))
}

/// The sheet of the findings the answers refer to.
fn findings_sheet(book: &mut Workbook, f: &Formats, report: &Report) -> Result<(), XlsxError> {
    let sheet = book.add_worksheet();
    sheet.set_name(words::FINDINGS_SHEET)?;
    sheet.set_paper_size(9);
    sheet.set_landscape();
    for (col, (h, width)) in (0u16..).zip(words::finding_columns()) {
        sheet.write_string_with_format(0, col, h, &f.head)?;
        sheet.set_column_width(col, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (row, x) in (1u32..).zip(&report.findings) {
        let reqs: Vec<&str> = x.requirements.iter().map(|q| q.id.as_str()).collect();
        let group = report
            .groups
            .iter()
            .find(|g| g.findings.contains(&x.id))
            .map_or_else(String::new, |g| format!("{} {}", g.id, g.cause.ja));
        let disposition = match (&x.disposition.exception, &x.disposition.expires) {
            (Some(ex), Some(until)) => words::accepted_ref(ex, until),
            _ => labels::disposition(x.disposition.status).ja.to_owned(),
        };
        let values = [
            x.id.as_str(),
            labels::severity(x.severity).ja,
            labels::confidence(x.confidence).ja,
            &x.place(),
            &x.title.ja,
            &x.remediation.ja,
            &reqs.join(", "),
            &x.evidence.join(", "),
            &group,
            &disposition,
        ];
        for (col, v) in (0u16..).zip(values) {
            sheet.write_string_with_format(row, col, cell(v), &f.cell)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::html::tests::lab_report;

    #[test]
    fn a_list_too_long_for_one_excel_cell_is_cut_at_an_item_and_says_how_many_are_left_out() {
        let ids: Vec<String> = (0..5000).map(|i| format!("f-{i:06}")).collect();
        let long = ids.join(", ");
        assert!(long.chars().count() > CELL_LIMIT);
        let c = cell(&long);
        assert!(c.chars().count() <= CELL_LIMIT, "{}", c.chars().count());
        let kept = c.split(" … ").next().expect("kept part");
        assert!(
            kept.ends_with(|ch: char| ch.is_ascii_digit()),
            "cut mid-item: {kept:?}"
        );
        let left = 5000 - kept.split(", ").count();
        assert!(c.contains(&left.to_string()), "{c:?}");
        assert_eq!(cell("short"), "short");
    }

    #[test]
    fn the_csv_opens_in_excel_as_utf8_with_both_forms() {
        let r = lab_report();
        let bytes = csv(&r);
        assert!(bytes.starts_with("\u{feff}\"様式\",\"項目\"".as_bytes()));
        let text = String::from_utf8(bytes).expect("utf-8");
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        let per_form = |form: &str| {
            r.checklist
                .iter()
                .filter(|c| c.forms.iter().any(|f| f == form))
                .count()
        };
        assert_eq!(lines.len(), 1 + per_form(FORMS[0]) + per_form(FORMS[1]));
        let item = r
            .checklist
            .iter()
            .find(|c| c.status == crate::model::ChecklistStatus::Findings && !c.findings.is_empty())
            .expect("an item with findings");
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("\"医療機関確認用\",\"{}\"", item.id)))
            .expect("its row");
        assert!(line.contains("\"いいえ\""), "{line}");
        assert!(line.contains(&format!("\"{}", item.findings[0])), "{line}");
        assert!(lines.iter().any(|l| l.contains("\"要確認\"")));
        assert!(lines.iter().any(|l| l.starts_with("\"事業者確認用\"")));
    }

    #[test]
    fn a_cell_that_looks_like_a_formula_is_defused() {
        let mut out = String::new();
        push_csv_line(&mut out, ["=HYPERLINK(\"x\")", "ok"]);
        assert_eq!(out, "\"'=HYPERLINK(\"\"x\"\")\",\"ok\"\r\n");
    }

    #[test]
    fn the_workbook_has_a_sheet_per_form_laid_out_like_the_mhlw_form() {
        let r = lab_report();
        let bytes = xlsx(&r).expect("workbook");
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("opens");
        assert_eq!(
            book.sheet_names(),
            ["医療機関確認用", "事業者確認用", "所見"]
        );
        let sheet = book.worksheet_range("医療機関確認用").expect("sheet");
        let text = |row: u32, col: u32| match sheet.get_value((row, col)) {
            Some(Data::String(s)) => s.clone(),
            other => format!("{other:?}"),
        };
        assert!(text(0, 0).contains("令和7年度版"));
        assert_eq!(text(4, 0), "項目");
        assert!(text(4, 2).starts_with("回答案"));
        let answers: Vec<String> = (5..5 + r.checklist.len() as u32)
            .map(|row| text(row, 2))
            .collect();
        for a in &answers {
            assert!(["はい", "いいえ", "要確認"].contains(&a.as_str()), "{a}");
        }
        let first = &r.checklist[0];
        assert_eq!(text(5, 0), first.id);
        assert_eq!(text(5, 3), inspection_date(&r));
        let findings = book.worksheet_range("所見").expect("findings sheet");
        assert_eq!(findings.height(), 1 + r.findings.len());
    }

    #[test]
    fn the_inspection_date_is_japan_time() {
        let mut r = lab_report();
        r.scan.started_at = "2026-11-22T16:30:00Z".to_owned();
        assert_eq!(inspection_date(&r), "2026-11-23");
    }
}
