//! The words of `checklist.csv` and `checklist.xlsx` that the page does not already
//! have. The forms are in Japanese, as the MHLW publishes them; the CSV carries an
//! English half beside the Japanese one.

use super::page::{
    ANSWER, CONFIDENCE, EVIDENCE, FINDING, FINDINGS, ITEM, QUESTION, REMEDIATION, REQUIREMENT,
    SEVERITY, WHERE,
};
use super::{answer, Lang, Pair};
use crate::model::ChecklistStatus;

/// The 令和7年度版's forms, in the order the MHLW publishes them, with the English of
/// their names; each edition's are in [`super::edition`].
pub const FORMS: [Pair; 2] = super::edition::R7.forms;

/// The end of a form's name that the page leaves out (医療機関確認用 → 医療機関).
pub const FORM_SUFFIX: &str = "確認用";

pub const FORM: Pair = Pair::new("様式", "Form");
pub const REASON: Pair = Pair::new("根拠", "Reason");
/// The form's 点検日: the day of the inspection.
pub const DATE: &str = "点検日";
pub const FINDINGS_AND_EVIDENCE: &str = "所見と証跡";

/// `checklist.csv`'s header: the Japanese columns, then the English ones.
pub fn csv_header() -> [String; 11] {
    let (ja, en) = (Lang::Ja, Lang::En);
    [
        FORM.get(ja).to_owned(),
        ITEM.get(ja).to_owned(),
        QUESTION.get(ja).to_owned(),
        ANSWER.get(ja).to_owned(),
        REASON.get(ja).to_owned(),
        format!("{DATE}（JST）"),
        FINDINGS_AND_EVIDENCE.to_owned(),
        FORM.get(en).to_owned(),
        QUESTION.get(en).to_owned(),
        ANSWER.get(en).to_owned(),
        REASON.get(en).to_owned(),
    ]
}

/// The title row of a form's sheet.
pub fn sheet_title(edition: &super::edition::Edition, form: &str) -> String {
    format!("{}　{form}", edition.title.ja)
}

/// What the reason column says first about an item whose number or wording is
/// unconfirmed.
pub const UNCONFIRMED: Pair = Pair::new(
    "※ 項目番号または文言は未確認。",
    "* Item number or wording unconfirmed. ",
);

/// The second row of a form's sheet; `when` is the scan's start, to the second, with its zone.
pub fn sheet_intro(version: &str, scan_id: &str, when: &str, rules: &str) -> String {
    format!(
        "kenshin {version} による回答案（スキャン ID {scan_id}、点検日時 {when}、ルール {rules}）。最終的な回答は文書と現地で確認してください。"
    )
}

/// What the reason column says first when some of the item's findings are accepted risks.
pub const ACCEPTED_NOTE: Pair = Pair::new(
    "※ 受容済みリスク（例外登録簿）の所見を含む。受容は対策済みを意味しないため回答案は「いいえ」のまま。",
    "* Includes findings accepted as risks (exception register); an accepted risk is not compliance, so the answer stays No. ",
);

/// A finding's acceptance as the forms cite it: `受容: EX-2026-001（期限 2027-03-31）`.
pub fn accepted_ref(exception: &str, expires: &str) -> String {
    format!("受容: {exception}（期限 {expires}）")
}

/// The end of a cell whose list was too long for Excel (32,767 characters).
pub fn cell_cut(left_out: usize) -> String {
    format!("ほか {left_out} 件（Excel のセルに収まらないため省略。全件は report.json と checklist.csv に） / {left_out} more, left out to fit an Excel cell: all are in report.json and checklist.csv")
}

/// The third row of a form's sheet, when the folder is sealed.
pub fn sheet_sealed(algorithm: &str, fingerprint: &str) -> String {
    format!(
        "証跡は manifest.json に署名済み（{algorithm} {fingerprint}）。kenshin verify で改変がないことを確認できます。"
    )
}

/// A form sheet's columns and their widths.
pub fn form_columns() -> [(String, f64); 6] {
    let answers = [
        ChecklistStatus::NoFindings,
        ChecklistStatus::Findings,
        ChecklistStatus::Manual,
    ]
    .iter()
    .map(|s| answer(*s).ja)
    .collect::<Vec<_>>()
    .join("／");
    [
        (ITEM.ja.to_owned(), 8.0),
        (QUESTION.ja.to_owned(), 48.0),
        (format!("{}\n{answers}", ANSWER.ja), 14.0),
        (DATE.to_owned(), 12.0),
        ("根拠となる所見・証跡".to_owned(), 36.0),
        ("備考".to_owned(), 40.0),
    ]
}

/// The name of the sheet listing the findings.
pub const FINDINGS_SHEET: &str = FINDINGS.ja;

/// The findings sheet's columns and their widths.
pub fn finding_columns() -> [(&'static str, f64); 10] {
    [
        ("ID", 8.0),
        (SEVERITY.ja, 10.0),
        (CONFIDENCE.ja, 10.0),
        (WHERE.ja, 22.0),
        (FINDING.ja, 40.0),
        (REMEDIATION.ja, 50.0),
        (REQUIREMENT.ja, 24.0),
        (EVIDENCE.ja, 24.0),
        ("所見グループ", 40.0),
        ("処置", 24.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_column_lists_yes_no_check_in_the_forms_order() {
        assert_eq!(form_columns()[2].0, "回答案\nはい／いいえ／要確認");
    }
}
