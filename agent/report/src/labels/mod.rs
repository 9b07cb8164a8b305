//! Every word kenshin shows a person, in Japanese and English, spelled once.
//!
//! - here: the [`Lang`], and the words for the contract's enums (severity, confidence,
//!   checklist status and answer, device kind), looked up by the enum;
//! - [`page`]: the words of `report.html` (section titles, column headers, sentences);
//! - [`checklist`]: the words of `checklist.csv` and `checklist.xlsx` that the page does
//!   not already have;
//! - [`edition`]: the names, titles and forms of each checklist edition;
//! - [`terminal`]: what `kenshin scan`, `kenshin diff` and `kenshin verify` print.
//!
//! A renderer never writes a Japanese or English word of its own: it asks here.

pub mod checklist;
pub mod edition;
pub mod fleet;
pub mod page;
pub mod terminal;

use std::borrow::Cow;

use crate::model::{ChecklistStatus, Confidence, DeviceKind, Severity, Text};

/// The language of text written for people (HTML, checklist, terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    /// `ja` or `en`, as `lang` attributes want.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The Japanese or the English of a pair.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// The language's half of a report text.
    pub fn text(self, t: &Text) -> &str {
        self.pick(&t.ja, &t.en)
    }
}

/// One word or phrase in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub ja: &'static str,
    pub en: &'static str,
}

impl Pair {
    pub const fn new(ja: &'static str, en: &'static str) -> Self {
        Self { ja, en }
    }

    /// The word in `lang`, as a label or heading shows it.
    pub fn get(self, lang: Lang) -> &'static str {
        lang.pick(self.ja, self.en)
    }

    /// The word in `lang` with the checklist's answers put in for `{yes}`, `{no}` and
    /// `{check}`, so a sentence about them never spells them again.
    pub fn fill(self, lang: Lang) -> String {
        let mut out = self.get(lang).to_owned();
        for (slot, s) in [
            ("{yes}", ChecklistStatus::NoFindings),
            ("{no}", ChecklistStatus::Findings),
            ("{check}", ChecklistStatus::Manual),
        ] {
            out = out.replace(slot, answer(s).get(lang));
        }
        out
    }

    /// The word inside a sentence: English loses its capital (`Critical` → `critical`),
    /// Japanese is unchanged.
    pub fn in_sentence(self, lang: Lang) -> Cow<'static, str> {
        match lang {
            Lang::Ja => Cow::Borrowed(self.ja),
            Lang::En => {
                let mut chars = self.en.chars();
                match chars.next() {
                    Some(c)
                        if c.is_uppercase() && !chars.next().is_some_and(char::is_uppercase) =>
                    {
                        Cow::Owned(c.to_lowercase().chain(self.en.chars().skip(1)).collect())
                    }
                    _ => Cow::Borrowed(self.en),
                }
            }
        }
    }
}

/// The answer for an item a scan cannot settle, and the start of its status word.
macro_rules! check_ja {
    () => {
        "要確認"
    };
}
macro_rules! check_en {
    () => {
        "Check"
    };
}

/// A severity's word.
pub fn severity(s: Severity) -> Pair {
    match s {
        Severity::Critical => Pair::new("緊急", "Critical"),
        Severity::High => Pair::new("重要", "High"),
        Severity::Medium => Pair::new("警告", "Medium"),
        Severity::Low => Pair::new("注意", "Low"),
        Severity::Info => Pair::new("情報", "Info"),
    }
}

/// A severity's symbol, so it reads without colour.
pub fn severity_symbol(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "▲▲",
        Severity::High => "▲",
        Severity::Medium => "◆",
        Severity::Low => "▽",
        Severity::Info => "ⓘ",
    }
}

/// Symbol and word: `▲▲ 緊急`, `▲▲ Critical`.
pub fn severity_badge(s: Severity, lang: Lang) -> String {
    format!("{} {}", severity_symbol(s), severity(s).get(lang))
}

/// A confidence's word.
pub fn confidence(c: Confidence) -> Pair {
    match c {
        Confidence::Confirmed => Pair::new("確認済み", "confirmed"),
        Confidence::Likely => Pair::new("可能性が高い", "likely"),
        Confidence::Potential => Pair::new("可能性あり", "potential"),
        Confidence::Exposure => Pair::new("露出", "exposure"),
    }
}

/// A checklist status's word.
pub fn status(s: ChecklistStatus) -> Pair {
    match s {
        ChecklistStatus::Findings => Pair::new("所見あり", "Findings"),
        ChecklistStatus::NoFindings => Pair::new("所見なし", "No findings"),
        ChecklistStatus::Manual => Pair::new(
            concat!(check_ja!(), "（文書・現地）"),
            concat!(check_en!(), " by hand"),
        ),
    }
}

/// A checklist status's symbol.
pub fn status_symbol(s: ChecklistStatus) -> Pair {
    match s {
        ChecklistStatus::Findings => Pair::new("✗", "✗"),
        ChecklistStatus::NoFindings => Pair::new("✓", "✓"),
        ChecklistStatus::Manual => Pair::new("？", "?"),
    }
}

/// Symbol and word: `✗ 所見あり`, `? Check by hand`.
pub fn status_badge(s: ChecklistStatus, lang: Lang) -> String {
    format!("{} {}", status_symbol(s).get(lang), status(s).get(lang))
}

/// The answer the checklist forms suggest for a status: いいえ where the scan found
/// something, はい where it found nothing, 要確認 where a scan cannot tell.
pub fn answer(s: ChecklistStatus) -> Pair {
    match s {
        ChecklistStatus::Findings => Pair::new("いいえ", "No"),
        ChecklistStatus::NoFindings => Pair::new("はい", "Yes"),
        ChecklistStatus::Manual => Pair::new(check_ja!(), check_en!()),
    }
}

/// A finding's disposition's word.
pub fn disposition(d: crate::model::DispositionStatus) -> Pair {
    match d {
        crate::model::DispositionStatus::Open => Pair::new("未対応", "open"),
        crate::model::DispositionStatus::Accepted => Pair::new("受容済みリスク", "accepted risk"),
    }
}

/// An exception's status's word.
pub fn exception_status(s: crate::model::ExceptionStatus) -> Pair {
    match s {
        crate::model::ExceptionStatus::Active => Pair::new("有効", "active"),
        crate::model::ExceptionStatus::Expired => Pair::new("期限切れ", "expired"),
        crate::model::ExceptionStatus::Unused => {
            Pair::new("未使用（該当なし）", "unused (matched nothing)")
        }
    }
}

/// A device kind's word.
pub fn kind(k: DeviceKind) -> Pair {
    match k {
        DeviceKind::Server => Pair::new("サーバ", "server"),
        DeviceKind::NetworkDevice => Pair::new("ネットワーク機器", "network device"),
        DeviceKind::TerminalPc => Pair::new("端末PC", "terminal PC"),
        DeviceKind::MedicalDevice => Pair::new("医療機器", "medical device"),
        DeviceKind::Printer => Pair::new("プリンタ", "printer"),
        DeviceKind::Iot => Pair::new("IoT 機器", "iot"),
        DeviceKind::Unknown => Pair::new("不明", "unknown"),
    }
}

/// A host's class budget in the inventory: the limits, the class and how it was
/// learned, and why the class has them (`rules/safety.toml`).
pub fn budget_line(
    lang: Lang,
    class: &str,
    frames_per_s: u32,
    inflight: u32,
    learned: &str,
    why: &str,
) -> String {
    let class = DeviceKind::parse(class).map_or(class.to_owned(), |k| kind(k).get(lang).to_owned());
    match lang {
        Lang::Ja => format!(
            "送信上限 {frames_per_s} フレーム/秒・同時接続 {inflight}（{class}: {learned}）— {why}"
        ),
        Lang::En => format!(
            "budget {frames_per_s} frames/s, {inflight} connections ({class}: {learned}) — {why}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manual_status_starts_with_the_answer_it_suggests() {
        let s = ChecklistStatus::Manual;
        assert!(status(s).ja.starts_with(answer(s).ja));
        assert!(status(s).en.starts_with(answer(s).en));
        assert_eq!(status_badge(s, Lang::Ja), "？ 要確認（文書・現地）");
        assert_eq!(status_badge(s, Lang::En), "? Check by hand");
    }

    #[test]
    fn words_in_a_sentence_lose_only_an_english_capital() {
        assert_eq!(
            severity(Severity::Critical).in_sentence(Lang::En),
            "critical"
        );
        assert_eq!(
            status(ChecklistStatus::NoFindings).in_sentence(Lang::En),
            "no findings"
        );
        assert_eq!(severity(Severity::Critical).in_sentence(Lang::Ja), "緊急");
        assert_eq!(Pair::new("台帳", "TLS").in_sentence(Lang::En), "TLS");
    }

    #[test]
    fn every_enum_value_has_a_word_in_both_languages() {
        let pairs = Severity::ALL
            .map(severity)
            .into_iter()
            .chain(Confidence::ALL.map(confidence))
            .chain(ChecklistStatus::ALL.map(status))
            .chain(ChecklistStatus::ALL.map(answer))
            .chain(DeviceKind::ALL.map(kind));
        for p in pairs {
            assert!(!p.ja.trim().is_empty() && !p.en.trim().is_empty(), "{p:?}");
        }
    }
}
