//! The words of the fleet report (`kenshin fleet report`): the page across sites and
//! its JSON's headings. Templates read them as `t.NAME` (see [`for_lang`]).

use std::collections::BTreeMap;

use super::{Lang, Pair};

/// Defines each label as a constant and lists them all in [`ALL`] by name.
macro_rules! fleet_labels {
    ($($name:ident = $ja:literal, $en:literal;)*) => {
        $(pub const $name: Pair = Pair::new($ja, $en);)*
        /// Every label of the fleet page, by the name templates use.
        pub const ALL: &[(&str, Pair)] = &[$((stringify!($name), $name),)*];
    };
}

fleet_labels! {
    TITLE = "拠点横断レポート", "Fleet report";
    GENERATED = "作成日時", "Generated";
    SIGNING_KEY = "署名鍵", "Signing key";
    SITES = "拠点", "Sites";
    SITE = "拠点", "Site";
    ORGANISATION = "組織", "Organisation";
    LAST_SCAN = "最後の完了スキャン", "Last complete scan";
    AGE_DAYS = "経過日数", "Age (days)";
    NO_SCAN = "完了したスキャンはまだありません", "no complete scan yet";
    HOSTS = "ホスト", "Hosts";
    HOSTS_BY_KIND = "種別ごとのホスト数", "Hosts by kind";
    OPEN_BY_SEVERITY = "重大度別の未対応所見", "Open findings by severity";
    ACCEPTED = "受容済みリスク", "Accepted risks";
    CHECKLIST_FINDINGS = "所見のあるチェックリスト項目", "Checklist items with findings";
    MATRIX = "チェックリスト対照表（拠点 × 項目）", "Checklist matrix (sites × items)";
    MATRIX_NOTE = "各拠点の最後の完了スキャンによる判定", "As judged by each site's last complete scan";
    GROUPS = "多くの拠点に共通する所見グループ", "Most widespread finding groups";
    GROUP = "グループ", "Group";
    CAUSE = "原因", "Cause";
    SEVERITY = "重大度", "Severity";
    N_SITES = "拠点数", "Sites";
    N_FINDINGS = "所見数", "Findings";
    STALE = "連絡の途絶えた拠点", "Silent sites";
    STALE_NOTE = "この日数を超えてスキャンが届いていない拠点", "Sites no scan has arrived from for more than this many days";
    SILENT_DAYS = "途絶日数", "Days silent";
    NEVER = "届いたことがない", "never";
    NONE_STALE = "連絡の途絶えた拠点はありません。", "No site is silent.";
    TREND = "未対応所見の推移", "Open findings over the last scans";
    TREND_NOTE = "拠点ごと、直近のスキャンにおける重大度別の未対応所見数", "Per site, open findings by severity in its last scans";
    QUARANTINE = "隔離されたバンドル", "Quarantined bundles";
    QUARANTINE_NOTE = "検証に失敗したため取り込まれていない報告", "Reports not filed because they failed verification";
    NONE_QUARANTINED = "隔離されたバンドルはありません。", "No bundle is quarantined.";
    SCAN = "スキャン", "Scan";
    KEY = "鍵", "Key";
    FILE = "ファイル", "File";
    REASON = "理由", "Reason";
    WHEN = "日時", "When";
    STATUS_FINDINGS = "所見あり", "findings";
    STATUS_NO_FINDINGS = "所見なし", "no findings";
    STATUS_MANUAL = "要確認", "check";
    STATUS_NONE = "—", "—";
}

/// Every label of the fleet page in `lang`, for the template.
pub fn for_lang(lang: Lang) -> BTreeMap<&'static str, String> {
    ALL.iter()
        .map(|(name, p)| (*name, p.get(lang).to_owned()))
        .collect()
}

/// A checklist status as the matrix shows it.
pub fn status(lang: Lang, status: Option<&str>) -> &'static str {
    match status {
        Some("findings") => STATUS_FINDINGS.get(lang),
        Some("no-findings") => STATUS_NO_FINDINGS.get(lang),
        Some("manual") => STATUS_MANUAL.get(lang),
        _ => STATUS_NONE.get(lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fleet_label_has_a_unique_name_and_both_languages() {
        assert_eq!(for_lang(Lang::En).len(), ALL.len(), "a name is used twice");
        for (name, p) in ALL {
            assert!(!p.ja.is_empty() && !p.en.is_empty(), "{name}");
        }
    }
}
