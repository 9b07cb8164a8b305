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

/// Why ingest quarantined a bundle, as data; [`Quarantine::words`] says it in
/// either language. Every value in it came from the bundle or the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quarantine {
    /// The seal does not hold: the problems as `seal_problem` words them, per language.
    Seal { ja: Vec<String>, en: Vec<String> },
    /// The bundle names a path that leaves its folder.
    BadPath { path: String },
    /// The bundle's paths and files do not pair up.
    Mismatch,
    /// The bundle cannot be laid out or verified at all.
    Unverifiable { reason: String },
    /// The inbox row and the manifest disagree (`what` is `key` or `scan`).
    PushedAs {
        what: &'static str,
        pushed: String,
        manifest: String,
    },
    /// The key is not enrolled for the site.
    NotEnrolled { key: String, site: String },
    /// The key was revoked for the site.
    Revoked {
        key: String,
        site: String,
        when: String,
    },
    /// The bundle has no report.json.
    NoReport,
    /// report.json cannot be read as a kenshin report.
    BadReport { reason: String },
    /// report.json is another scan than the manifest's.
    OtherScan { report: String, manifest: String },
    /// report.json was made for another site.
    OtherSite { report: String, pushed: String },
    /// A time in report.json is not RFC 3339.
    BadTime { field: &'static str, value: String },
}

impl Quarantine {
    /// The reason in `lang`.
    pub fn words(&self, lang: Lang) -> String {
        let ja = lang == Lang::Ja;
        let v = |s: &str| crate::visible(s).into_owned();
        match self {
            Self::Seal { ja: j, en } if ja => format!("封印が成り立ちません: {}", j.join("; ")),
            Self::Seal { en, .. } => format!("the seal does not hold: {}", en.join("; ")),
            Self::BadPath { path } if ja => {
                format!("フォルダの外を指すパスがあります: {:?}", v(path))
            }
            Self::BadPath { path } => {
                format!(
                    "the bundle holds a path that leaves its folder: {:?}",
                    v(path)
                )
            }
            Self::Mismatch if ja => "パスとファイルの数が一致しません".to_owned(),
            Self::Mismatch => "the bundle lists a different number of paths and files".to_owned(),
            Self::Unverifiable { reason } if ja => format!("検証できません: {}", v(reason)),
            Self::Unverifiable { reason } => format!("cannot be verified: {}", v(reason)),
            Self::PushedAs {
                what,
                pushed,
                manifest,
            } if ja => format!(
                "送信時の{}は {} ですが、マニフェストは {} です",
                if *what == "key" {
                    "署名鍵"
                } else {
                    "スキャン"
                },
                v(pushed),
                v(manifest)
            ),
            Self::PushedAs {
                what,
                pushed,
                manifest,
            } => format!(
                "the bundle was pushed as {what} {} but its manifest names {}",
                v(pushed),
                v(manifest)
            ),
            Self::NotEnrolled { key, site } if ja => {
                format!("鍵 {} は拠点 {} に登録されていません", v(key), v(site))
            }
            Self::NotEnrolled { key, site } => {
                format!("key {} is not enrolled for site {}", v(key), v(site))
            }
            Self::Revoked { key, site, when } if ja => format!(
                "鍵 {} は拠点 {} で {} に失効しています",
                v(key),
                v(site),
                v(when)
            ),
            Self::Revoked { key, site, when } => format!(
                "key {} was revoked for site {} on {}",
                v(key),
                v(site),
                v(when)
            ),
            Self::NoReport if ja => "report.json がありません".to_owned(),
            Self::NoReport => "the bundle has no report.json".to_owned(),
            Self::BadReport { reason } if ja => {
                format!("kenshin の報告書として読めません: {}", v(reason))
            }
            Self::BadReport { reason } => format!("cannot be read: {}", v(reason)),
            Self::OtherScan { report, manifest } if ja => format!(
                "報告書はスキャン {} ですが、マニフェストはスキャン {} です",
                v(report),
                v(manifest)
            ),
            Self::OtherScan { report, manifest } => format!(
                "it is scan {} but the manifest names scan {}",
                v(report),
                v(manifest)
            ),
            Self::OtherSite { report, pushed } if ja => format!(
                "報告書は拠点 {} のものですが、拠点 {} として送信されました",
                v(report),
                v(pushed)
            ),
            Self::OtherSite { report, pushed } => format!(
                "the report was made for site {} but was pushed for site {}",
                v(report),
                v(pushed)
            ),
            Self::BadTime { field, value } if ja => {
                format!("{field} の {:?} は RFC 3339 の時刻ではありません", v(value))
            }
            Self::BadTime { field, value } => {
                format!("{field} {:?} is not an RFC 3339 time", v(value))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quarantine_reason_is_said_in_both_languages() {
        let s = String::from;
        let all = [
            Quarantine::Seal {
                ja: vec![s("変更")],
                en: vec![s("changed")],
            },
            Quarantine::BadPath { path: s("../x") },
            Quarantine::Mismatch,
            Quarantine::Unverifiable { reason: s("r") },
            Quarantine::PushedAs {
                what: "key",
                pushed: s("a"),
                manifest: s("b"),
            },
            Quarantine::NotEnrolled {
                key: s("SHA256:k"),
                site: s("site-a"),
            },
            Quarantine::Revoked {
                key: s("SHA256:k"),
                site: s("site-a"),
                when: s("2026-12-01"),
            },
            Quarantine::NoReport,
            Quarantine::BadReport { reason: s("r") },
            Quarantine::OtherScan {
                report: s("a"),
                manifest: s("b"),
            },
            Quarantine::OtherSite {
                report: s("a"),
                pushed: s("b"),
            },
            Quarantine::BadTime {
                field: "scan.finished_at",
                value: s("yesterday"),
            },
        ];
        for q in &all {
            let (ja, en) = (q.words(Lang::Ja), q.words(Lang::En));
            assert!(!ja.is_empty() && !en.is_empty() && ja != en, "{q:?}");
            assert!(!ja.is_ascii(), "{q:?}: {ja}");
        }
    }

    #[test]
    fn a_reason_shows_control_characters_as_escapes() {
        let q = Quarantine::NotEnrolled {
            key: "SHA256:\u{1b}[2J".to_owned(),
            site: "a".to_owned(),
        };
        assert!(!q.words(Lang::En).contains('\u{1b}'));
    }

    #[test]
    fn every_fleet_label_has_a_unique_name_and_both_languages() {
        assert_eq!(for_lang(Lang::En).len(), ALL.len(), "a name is used twice");
        for (name, p) in ALL {
            assert!(!p.ja.is_empty() && !p.en.is_empty(), "{name}");
        }
    }
}
