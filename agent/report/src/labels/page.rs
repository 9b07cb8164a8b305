//! The words of `report.html`: titles, column headers and sentences. Templates read
//! them as `t.NAME` (see [`for_lang`]); Rust code reads the constants.

use std::collections::BTreeMap;

use super::{Lang, Pair};

/// Defines each label as a constant and lists them all in [`ALL`] by name.
macro_rules! labels {
    ($($name:ident = $ja:literal, $en:literal;)*) => {
        $(pub const $name: Pair = Pair::new($ja, $en);)*
        /// Every label of the page, by the name templates use.
        pub const ALL: &[(&str, Pair)] = &[$((stringify!($name), $name),)*];
    };
}

labels! {
    // Head
    TITLE = "セキュリティ健診レポート", "Security check-up report";
    SCAN_ID = "スキャンID", "Scan ID";
    RULES = "ルール", "rules";
    INTERRUPTED = "このスキャンは中断されました。結果は途中までのものです。",
        "This scan was interrupted; the results are partial.";

    // 1. Summary
    SUMMARY = "概要", "Summary";
    TARGETS = "対象", "Targets";
    EXCLUDED = "除外", "Excluded";
    SCOPE = "スキャン範囲", "Scope";
    PORTS = "ポート", "Ports";
    SEGMENTS = "セグメント", "Segments";
    VANTAGE = "スキャナの位置", "Scanner's segment";
    WHEN = "日時", "When";
    RESULT = "結果", "Result";
    HOSTS_UP = "台のホスト", "hosts up";
    OPEN_PORTS = "個の開ポート", "open ports";
    N_FINDINGS = "件の所見", "findings";
    TOOL = "ツール", "Tool";
    SIGNING_KEY = "署名鍵", "Signing key";
    SIGNING_NOTE = "kenshin verify で manifest.json の署名と全ファイルのハッシュを検証できる",
        "kenshin verify checks manifest.json's signature and every file's hash";
    BY_SEVERITY = "重大度別の所見数", "Findings by severity";
    FIX_FIRST = "優先して対処する所見", "Fix these first";
    NOTHING_TO_FIX = "注意以上の重大度の所見はありません。", "No findings of low severity or worse.";

    // Finding tables and cards
    SEVERITY = "重大度", "Severity";
    FINDING = "所見", "Finding";
    WHERE = "場所", "Where";
    CONFIDENCE = "確度", "Confidence";
    CONFIDENCE_IN_LINE = "確度", "confidence";
    SEEN = "観測", "Seen";
    WHY = "理由", "Why it matters";
    REMEDIATION = "対処", "Remediation";
    ADVISORY = "脆弱性情報", "Advisory";
    RANSOMWARE = "ランサムウェアでの悪用あり", "used by ransomware";
    END_OF_SUPPORT = "サポート終了", "end of support";
    REFERENCES = "参照", "References";
    EVIDENCE = "証跡", "Evidence";

    // Finding groups
    GROUPS = "所見グループ（原因別）", "Finding groups (by cause)";
    GROUPS_INTRO = "同じ検査項目で同じ原因（同じ発行者、同じ製品とバージョン、同じ脆弱性、同じ対策の欠如）の所見を 1 行にまとめています。行を開くと該当するホストが表示されます。",
        "Findings of one check with one cause (the same issuer, product and version, advisory, or missing control) are one line; open a line to see its hosts.";
    GROUP_ACCEPTED = "件は受容済み", "accepted";
    ACCEPTED_BY = "受容:", "accepted by";

    // Accepted risks
    ACCEPTED_RISKS = "受容済みリスク", "Accepted risks";
    ACCEPTED_INTRO = "例外登録簿で承認されたリスクです。所見は報告に残り、終了コードと通知の対象外になりますが、チェックリストの回答案は「いいえ」のままです（受容は対策済みではありません）。期限切れの例外は適用されず、その所見は未対応に戻ります。",
        "Risks approved in the exception register. The findings stay in the report but leave the exit code and the alerts; their checklist answers stay \"No\" (an accepted risk is not compliance). An expired exception no longer applies and its findings are open again.";
    EXCEPTIONS_TO_REVIEW = "件の例外が期限切れまたは未使用です。登録簿を見直してください。",
        "exceptions are expired or unused; review the register.";
    EXCEPTION_REGISTER = "例外登録簿", "Exception register";
    EXCEPTION = "例外", "Exception";
    ACCEPTS = "対象", "Accepts";
    REASON = "理由（代替の対策）", "Reason (compensating control)";
    APPROVED = "承認", "Approved";

    // 2. Checklist
    CHECKLIST_TITLE = "医療機関におけるサイバーセキュリティ対策チェックリスト（令和7年度版）",
        "MHLW cybersecurity checklist for medical institutions (FY2025 edition)";
    CHECKLIST_INTRO = "回答案は、スキャンで所見があれば「{no}」、なければ「{yes}」、スキャンで確かめられない項目は「{check}」です。最終的な回答は文書と現地で確認してください。",
        "The suggested answer is \"{no}\" where the scan found something, \"{yes}\" where it found nothing, and \"{check}\" where a scan cannot tell. Confirm every answer with documents and on site.";
    ITEM = "項目", "Item";
    QUESTION = "確認事項（要約）", "Question (paraphrased)";
    FORMS = "様式", "Forms";
    STATUS = "状態", "Status";
    ANSWER = "回答案", "Suggested answer";
    FINDINGS_AND_REASON = "所見・理由", "Findings and reason";
    UNCONFIRMED_MARK = " ※", " *";
    UNCONFIRMED_NOTE = "※ 項目番号または文言が kenshin の資料では未確認のもの。",
        "* The item's number or wording is unconfirmed in kenshin's sources.";

    // 3. Findings
    FINDINGS = "所見", "Findings";
    BY_REQUIREMENT = "要件別", "By requirement";
    NO_FINDINGS = "所見はありません。", "No findings.";
    FRAMEWORK = "枠組み", "Framework";
    REQUIREMENT = "要件", "Requirement";
    ROWS_INTRO = "1 行 1 所見。理由と対処は所見名のリンク先（所見グループ）に一度だけ記載。証跡 ID の記録は付録（6）の方法で表示できます。",
        "One row per finding. Why it matters and what to do are said once, in the group the finding's name links to; the evidence IDs' records are shown as the appendix (6) says.";
    MORE_BEFORE = "… ほか ", "… and ";
    MORE_AFTER = " 件（所見グループを参照）", " more (see the finding groups)";
    BY_HOST = "ホスト別", "By host";
    HOST_FINDINGS = "件", "findings";

    // 4. Inventory
    INVENTORY = "資産一覧", "Asset inventory";
    ADDRESS = "アドレス", "Address";
    NAMES = "名前", "Names";
    KIND_AND_WHY = "種別と根拠", "Kind and why";
    SERVICES = "サービス", "Services";
    LEDGER = "台帳", "Ledger";
    LEDGER_LINE = "行", "line";
    NOT_IN_LEDGER = "台帳にない", "not in ledger";
    LEDGER_COMPARISON = "台帳との照合（チェックリスト 2-①）", "Ledger comparison (checklist 2-①)";
    LEDGER_ENTRIES = "行", "entries";
    LEDGER_MATCHED = "行を確認", "matched";
    LEDGER_OUT_OF_SCOPE = "行はスキャン範囲外", "outside the scanned scope";
    UNREGISTERED = "台帳にない機器", "Devices seen but not in the ledger";
    NOT_SEEN = "見つからなかった台帳の機器", "Ledger entries not seen";
    LINE = "行", "Line";
    HOSTNAME = "ホスト名", "Hostname";
    KIND = "種別", "Kind";
    OWNER = "管理者", "Owner";
    LOCATION = "設置場所", "Location";

    // 5. TLS
    VERSIONS = "プロトコル", "Versions";
    CERTIFICATE = "証明書", "Certificate";
    IPA_GUIDELINE = "IPA ガイドライン", "IPA guideline";
    PROBLEMS = "問題", "Problems";
    CERT_EXPIRED = "✗ 期限切れ", "✗ expired";
    CERT_EXPIRING = "⚠ 30日以内に期限切れ", "⚠ expires within 30 days";
    CERT_SELF_SIGNED = "✗ 自己署名", "✗ self-signed";
    CERT_UNTRUSTED = "✗ 信頼できない", "✗ untrusted";
    CERT_NAME_MISMATCH = "✗ 名前不一致", "✗ name mismatch";
    CERT_NO_NAME_KNOWN = "– 名前は未判定（既知の名前なし）", "– names not judged (no name known)";
    UNTIL = "期限", "until";
    TLS_PROBLEMS = "問題の一覧（各サービスの P 番号）", "Problems (the P numbers of each service)";
    TLS_DETAIL = "暗号スイート、グループ、証明書チェーンなど各サービスの詳細は report.json の hosts[].services[].tls にあります。",
        "Each service's full detail (cipher suites, groups, the certificate chain) is in report.json under hosts[].services[].tls.";
    NO_TLS = "TLS を話すサービスはありませんでした。", "No service spoke TLS.";

    // 6. Evidence
    EVIDENCE_TITLE = "証跡（付録）", "Evidence appendix";
    EVIDENCE_INTRO = "各プローブの送受信バイトの記録（証跡）は、レポートフォルダの証跡アーカイブにあり、manifest.json の署名で改変がないことを確認できます。所見の表の証跡 ID（例: ev-000123）の記録は kenshin evidence フォルダ ev-000123 で 1 件ずつ表示できます（docs/evidence.md）。このページには記録を複製せず、プローブごとの件数のみ示します。",
        "Each probe's bytes sent and received (the evidence) are in the report folder's evidence archive; the signature of manifest.json shows they are unchanged. Show the record behind an evidence ID of the findings table (for example ev-000123) with kenshin evidence FOLDER ev-000123 (docs/evidence.md). This page does not copy the records; it counts them by probe.";
    RECORDS = "件数", "Records";
    PROBE = "プローブ", "Probe";
}

/// Every page label in `lang`, by name, for templates (answers filled in).
pub fn for_lang(lang: Lang) -> BTreeMap<&'static str, String> {
    ALL.iter().map(|(name, p)| (*name, p.fill(lang))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_a_unique_name_and_both_languages() {
        assert_eq!(for_lang(Lang::Ja).len(), ALL.len(), "a name is used twice");
        for (name, p) in ALL {
            assert!(!p.ja.is_empty() && !p.en.is_empty(), "{name}");
        }
    }

    #[test]
    fn the_checklist_intro_names_the_answers_the_forms_get() {
        let ja = &for_lang(Lang::Ja)["CHECKLIST_INTRO"];
        assert!(ja.contains("「いいえ」") && ja.contains("「はい」") && ja.contains("「要確認」"));
        assert!(!ja.contains('{'));
    }
}
