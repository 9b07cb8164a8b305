//! The words that name a checklist edition: its title, its forms, the short name the
//! terminal shows, and the sentence that says which edition a report answers and that
//! a newer one exists. Looked up by the framework ID the report's `scan.rules.checklist`
//! holds; a report written before that field existed answered the 令和7年度版.

use super::{Lang, Pair};
use crate::model::Report;

/// One checklist edition's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edition {
    /// The registry framework (`mhlw-checklist-r7`).
    pub framework: &'static str,
    pub title: Pair,
    /// The terminal's short name (`R7`, `令和7年度版`).
    pub short: Pair,
    /// The forms, in the order the MHLW publishes them.
    pub forms: [Pair; 2],
    /// `--checklist` value.
    pub code: &'static str,
    /// The edition's item numbers could not be confirmed.
    pub numbering_unconfirmed: bool,
}

pub const R7: Edition = Edition {
    framework: "mhlw-checklist-r7",
    title: Pair::new(
        "医療機関におけるサイバーセキュリティ対策チェックリスト（令和7年度版）",
        "MHLW cybersecurity checklist for medical institutions (FY2025 edition)",
    ),
    short: Pair::new("令和7年度版", "R7"),
    forms: [
        Pair::new("医療機関確認用", "for medical institutions"),
        Pair::new("事業者確認用", "for vendors"),
    ],
    code: "r7",
    numbering_unconfirmed: false,
};

pub const R8: Edition = Edition {
    framework: "mhlw-checklist-r8",
    title: Pair::new(
        "医療機関・薬局におけるサイバーセキュリティ対策チェックリスト（令和8年度版）",
        "MHLW cybersecurity checklist for medical institutions and pharmacies (FY2026 edition)",
    ),
    short: Pair::new("令和8年度版", "R8"),
    forms: [
        Pair::new(
            "医療機関・薬局確認用",
            "for medical institutions and pharmacies",
        ),
        Pair::new("事業者確認用", "for vendors"),
    ],
    code: "r8",
    numbering_unconfirmed: true,
};

/// Every edition kenshin has words for.
pub const ALL: [Edition; 2] = [R7, R8];

/// The edition of `framework`, if kenshin has words for it.
pub fn of(framework: &str) -> Option<Edition> {
    ALL.into_iter().find(|e| e.framework == framework)
}

/// The edition a report's checklist answers (令和7年度版 for reports that do not say).
pub fn of_report(r: &Report) -> Edition {
    r.scan
        .rules
        .as_ref()
        .and_then(|u| of(&u.checklist))
        .unwrap_or(R7)
}

/// The newer edition a report names, as its framework ID and, if known, its words.
fn newer(r: &Report) -> Option<(&str, Option<Edition>)> {
    let id = r.scan.rules.as_ref()?.checklist_newer.as_deref()?;
    Some((id, of(id)))
}

/// The line that says which edition the report answers and that a newer one exists.
pub fn used_line(r: &Report, lang: Lang) -> String {
    let e = of_report(r);
    let mut out = match lang {
        Lang::Ja => format!("判定に使った版: {}（{}）。", e.title.ja, e.framework),
        Lang::En => format!("Edition used: {} ({}).", e.title.en, e.framework),
    };
    if e.numbering_unconfirmed {
        out.push_str(lang.pick(
            " この版の項目番号と文言は kenshin の資料では未確認のため、各項目を未確認として示します。",
            " Its item numbers and wording are unconfirmed in kenshin's sources, so every item is marked unconfirmed.",
        ));
    }
    if let Some((id, words)) = newer(r) {
        let title = words.map_or(id, |w| w.title.get(lang));
        out.push_str(&match lang {
            Lang::Ja => format!(" より新しい版があります: {title}（{id}）。"),
            Lang::En => format!(" A newer edition exists: {title} ({id})."),
        });
        if let Some(w) = words.filter(|w| w.numbering_unconfirmed) {
            out.push_str(&match lang {
                Lang::Ja => format!(
                    "項目番号が未確認のため既定では使っていません（--checklist {} で選べます）。",
                    w.code
                ),
                Lang::En => format!(
                    " It is not the default because its item numbers are unconfirmed (choose it with --checklist {}).",
                    w.code
                ),
            });
        }
    }
    out.trim_start().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tests::lab_report;
    use crate::model::RulesUsed;

    fn with(checklist: &str, newer: Option<&str>) -> Report {
        let mut r = lab_report();
        r.scan.rules = Some(RulesUsed {
            pack: "builtin".to_owned(),
            publisher: None,
            kev_catalog: None,
            checklist: checklist.to_owned(),
            checklist_newer: newer.map(str::to_owned),
        });
        r
    }

    #[test]
    fn the_default_line_names_r7_and_the_newer_r8() {
        let r = with("mhlw-checklist-r7", Some("mhlw-checklist-r8"));
        assert_eq!(of_report(&r), R7);
        let en = used_line(&r, Lang::En);
        assert!(
            en.starts_with("Edition used: MHLW cybersecurity checklist for medical institutions (FY2025 edition) (mhlw-checklist-r7).")
                && en.contains("A newer edition exists: MHLW cybersecurity checklist for medical institutions and pharmacies (FY2026 edition) (mhlw-checklist-r8).")
                && en.contains("--checklist r8"),
            "{en}"
        );
        let ja = used_line(&r, Lang::Ja);
        assert!(
            ja.contains("令和7年度版") && ja.contains("より新しい版があります"),
            "{ja}"
        );
    }

    #[test]
    fn the_r8_line_says_its_numbering_is_unconfirmed_and_names_no_newer() {
        let r = with("mhlw-checklist-r8", None);
        assert_eq!(of_report(&r), R8);
        let ja = used_line(&r, Lang::Ja);
        assert!(ja.contains("令和8年度版") && ja.contains("未確認"), "{ja}");
        assert!(!ja.contains("より新しい版"), "{ja}");
    }

    #[test]
    fn a_report_without_rules_answered_r7() {
        let mut r = lab_report();
        r.scan.rules = None;
        assert_eq!(of_report(&r), R7);
    }
}
