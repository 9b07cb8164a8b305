//! What the terminal shows: the summary at the end of `kenshin scan`, `kenshin diff`
//! and `kenshin verify`. Sentences with numbers in them are functions here, so the
//! command code only counts.

use super::{Lang, Pair};
use crate::screen::visible;
use crate::verdict::Problem;

/// The counts the summary's TLS line reports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TlsCounts {
    pub audited: usize,
    /// Accepting SSLv2, SSLv3, TLS 1.0 or TLS 1.1.
    pub legacy: usize,
    /// Satisfying the guideline's 高セキュリティ型.
    pub high: usize,
    /// Certificates expired, not yet valid, or not trusted.
    pub bad_certificates: usize,
}

/// `TLS 監査: …` / `TLS: … services audited, …`.
pub fn tls_line(lang: Lang, c: &TlsCounts) -> String {
    match lang {
        Lang::Ja => format!(
            "TLS 監査: {} 件、旧プロトコル（SSL/TLS 1.0/1.1）受け入れ {} 件、高セキュリティ型を満たす {} 件、\
             証明書の問題（期限切れ・未信頼）{} 件",
            c.audited, c.legacy, c.high, c.bad_certificates
        ),
        Lang::En => format!(
            "TLS: {} services audited, {} accept SSL/TLS 1.0/1.1, {} satisfy the guideline's high-security \
             profile, {} with an expired or untrusted certificate",
            c.audited, c.legacy, c.high, c.bad_certificates
        ),
    }
}

/// Before the counts by severity.
pub const FINDINGS_BY_SEVERITY: Pair = Pair::new("検出事項", "findings");

/// `チェックリスト(令和7年度版)19 項目` / `checklist (R7), 19 items`.
pub fn checklist_items(lang: Lang, edition: &super::edition::Edition, n: usize) -> String {
    let short = edition.short.get(lang);
    match (lang, edition.numbering_unconfirmed) {
        (Lang::Ja, false) => format!("チェックリスト({short}){n} 項目"),
        (Lang::Ja, true) => format!("チェックリスト({short}、項目番号未確認){n} 項目"),
        (Lang::En, false) => format!("checklist ({short}), {n} items"),
        (Lang::En, true) => format!("checklist ({short}, item numbers unconfirmed), {n} items"),
    }
}

/// `所見グループ 23（受容済みの所見 3 件）` / `finding groups: 23 (3 findings accepted)`,
/// with the register's expired and unused exceptions when there are any.
pub fn groups_line(
    lang: Lang,
    groups: usize,
    accepted: usize,
    expired: usize,
    unused: usize,
) -> String {
    let mut out = match lang {
        Lang::Ja => format!("所見グループ: {groups}（受容済みリスクの所見 {accepted} 件）"),
        Lang::En => format!("finding groups: {groups} ({accepted} findings accepted as risks)"),
    };
    if expired + unused > 0 {
        out.push_str(&match lang {
            Lang::Ja => format!("、例外登録簿: 期限切れ {expired} 件、未使用 {unused} 件"),
            Lang::En => format!("; exceptions: {expired} expired, {unused} unused"),
        });
    }
    out
}

/// One group in the summary: `[重要] 12 件: …` / `[high] 12×: …`.
pub fn group_line(lang: Lang, severity: &str, count: u64, accepted: u64, cause: &str) -> String {
    let accepted = match (lang, accepted) {
        (_, 0) => String::new(),
        (Lang::Ja, n) => format!("（うち受容済み {n}）"),
        (Lang::En, n) => format!(" ({n} accepted)"),
    };
    match lang {
        Lang::Ja => format!("[{severity}] {count} 件{accepted}: {cause}"),
        Lang::En => format!("[{severity}] {count}×{accepted}: {cause}"),
    }
}

/// Before the groups that did not fit in the summary.
pub fn more_groups(lang: Lang, n: usize) -> String {
    match lang {
        Lang::Ja => format!("ほか {n} グループは report.html を参照"),
        Lang::En => format!("{n} more groups in report.html"),
    }
}

/// The separator between counted words: `、` or `, `.
pub fn list_separator(lang: Lang) -> &'static str {
    lang.pick("、", ", ")
}

/// `台帳: …` / `ledger: …`.
pub fn ledger_line(
    lang: Lang,
    entries: u64,
    matched: u64,
    unregistered: usize,
    not_seen: usize,
) -> String {
    match lang {
        Lang::Ja => format!(
            "台帳: {entries} 行中 {matched} 行を確認、台帳にない機器 {unregistered} 台、見つからなかった行 {not_seen}"
        ),
        Lang::En => format!(
            "ledger: {matched} of {entries} rows matched, {unregistered} devices not in the ledger, {not_seen} rows not seen"
        ),
    }
}

/// Whether the scan ran to its end.
pub fn scan_state(lang: Lang, complete: bool) -> &'static str {
    match complete {
        true => Pair::new("完了", "complete").get(lang),
        false => Pair::new("中断（部分的な結果）", "INTERRUPTED (partial results)").get(lang),
    }
}

/// Everything the summary's fixed sentences need.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a> {
    pub state: &'a str,
    pub addresses: u64,
    pub hosts_up: u64,
    pub open_ports: u64,
    pub findings: usize,
    pub services: usize,
    pub by_probe: usize,
    pub with_product: usize,
    /// Lines put after the services line (TLS, findings, ledger), each starting with `\n`,
    /// their fields already made visible (the only field not escaped here).
    pub more: &'a str,
    pub seconds: f64,
    pub probes_sent: u64,
    pub discovery_mode: &'a str,
    pub discovery_reason: &'a str,
    pub folder: &'a str,
    pub html: &'a str,
    pub files: usize,
    pub key: &'a str,
}

/// The summary printed when a scan ends; every field but `more` is made [`visible`] here.
pub fn summary(lang: Lang, s: &Summary<'_>) -> String {
    let Summary {
        state,
        addresses,
        hosts_up,
        open_ports,
        findings,
        services,
        by_probe,
        with_product,
        more,
        seconds,
        probes_sent,
        discovery_mode,
        discovery_reason,
        folder,
        html,
        files,
        key,
    } = *s;
    let (discovery_mode, discovery_reason) = (visible(discovery_mode), visible(discovery_reason));
    let (folder, html, key) = (visible(folder), visible(html), visible(key));
    match lang {
        Lang::Ja => format!(
            "kenshin: スキャン{state}: {addresses} アドレス中 {hosts_up} ホスト稼働、開ポート {open_ports}、検出事項 {findings} 件\n\
             サービス識別: {services} 件中 {by_probe} 件を応答から判定、{with_product} 件で製品を特定{more}\n\
             所要 {seconds:.1} 秒、送信プローブ {probes_sent}（{discovery_mode} 方式: {discovery_reason}）\n\
             レポート: {folder}（{html}、{files} ファイルを鍵 {key} で署名、kenshin verify で検証）"
        ),
        Lang::En => format!(
            "kenshin: scan {state}: {hosts_up} hosts up of {addresses} addresses, {open_ports} open ports, {findings} findings\n\
             services: {by_probe} of {services} named from their own answers, {with_product} with a product{more}\n\
             {seconds:.1} s, {probes_sent} probes sent ({discovery_mode} discovery: {discovery_reason})\n\
             report: {folder} ({html}; {files} files signed by {key}; check with kenshin verify)"
        ),
    }
}

/// The frames line of the scan summary: what kenshin counted on the wire against
/// the caps, and how many hosts got a narrower class budget.
pub fn frames_line(
    lang: Lang,
    sent: u64,
    peak: u32,
    rate: u32,
    peak_host: u32,
    host_rate: u32,
    budgeted: usize,
) -> String {
    match lang {
        Lang::Ja => format!(
            "送信フレーム {sent}（1 秒あたり最大: 全体 {peak}／上限 {rate}、1 ホスト {peak_host}／上限 {host_rate}）、\
             機器種別の予算で絞ったホスト {budgeted}"
        ),
        Lang::En => format!(
            "{sent} frames sent (most in one second: {peak} overall, cap {rate}; {peak_host} to one host, \
             cap {host_rate}); {budgeted} hosts on a narrower class budget"
        ),
    }
}

/// `差分: A → B` / `changes from A to B`.
pub fn diff_title(lang: Lang, old: &str, new: &str) -> String {
    let (old, new) = (visible(old), visible(new));
    match lang {
        Lang::Ja => format!("差分: {old} → {new}"),
        Lang::En => format!("changes from {old} to {new}"),
    }
}

pub const DIFF_SCOPE_DIFFERS: Pair = Pair::new(
    "注意: 2 回のスキャンの範囲またはポートが異なります。消えたように見えるものは調べていないだけかもしれません。",
    "note: the two scans covered different scopes or ports; what seems gone may just not have been looked at",
);
pub const DIFF_INTERRUPTED: Pair = Pair::new(
    "注意: 中断されたスキャンを含みます。",
    "note: one of the scans was interrupted",
);
pub const DIFF_NONE: Pair = Pair::new("変化はありません。", "no changes");
pub const HOSTS_APPEARED: Pair = Pair::new("新しいホスト", "hosts appeared");
pub const HOSTS_VANISHED: Pair = Pair::new("消えたホスト", "hosts vanished");
pub const PORTS_OPENED: Pair = Pair::new("開いたポート", "ports opened");
pub const PORTS_CLOSED: Pair = Pair::new("閉じたポート", "ports closed");
pub const SERVICES_CHANGED: Pair = Pair::new(
    "変わったサービス・バージョン",
    "services or versions changed",
);
pub const FINDINGS_NEW: Pair = Pair::new("新しい所見", "new findings");
pub const FINDINGS_RESOLVED: Pair = Pair::new("解消した所見", "resolved findings");
pub const SEVERITY_CHANGED: Pair = Pair::new("重大度が変わった所見", "severity changed");
pub const FINDINGS_ACCEPTED: Pair = Pair::new(
    "受容済みになった所見（例外登録簿）",
    "findings now accepted as risks",
);
pub const FINDINGS_REOPENED: Pair = Pair::new(
    "受容が外れ未対応に戻った所見",
    "findings open again (exception expired or removed)",
);
/// Before a finding's severity in the older scan.
pub const WAS: Pair = Pair::new("以前は", "was");

/// `kenshin verify` when every file is as sealed.
pub fn verified(lang: Lang, files: usize, dir: &str, signer: &str) -> String {
    let (dir, signer) = (visible(dir), visible(signer));
    match lang {
        Lang::Ja => format!(
            "検証成功: {dir} の {files} ファイルはすべて封印時のままで、署名は鍵 {signer} のものです。"
        ),
        Lang::En => format!("verified: all {files} files of {dir} are as sealed, signed by key {signer}"),
    }
}

/// `kenshin verify` without `--key`, said before the result: what the result proves.
/// `signer` is the key that signed the manifest, if the manifest could be read.
pub fn not_pinned(lang: Lang, signer: Option<&str>) -> String {
    let (warning, signer_sentence) = match lang {
        Lang::Ja => (
            "注意: 鍵が指定されていません（--key なし）。この検証はフォルダが自己矛盾していないことしか示しません。\
             誰でも自分の鍵で封印し直せるため、誰が封印したかは証明されません。",
            "マニフェストの署名鍵は {signer} です。事前に受け取った指紋と照合するか、--key で指定してください。",
        ),
        Lang::En => (
            "note: no key was pinned (no --key): this only shows that the folder is consistent with \
             itself; anyone can seal a folder again with a key of their own, so it does not show who \
             sealed it.",
            " The manifest is signed by {signer}: compare it with the fingerprint you were given, or \
             pass --key.",
        ),
    };
    match signer {
        Some(s) => format!(
            "{warning}{}",
            signer_sentence.replace("{signer}", &visible(s))
        ),
        None => warning.to_owned(),
    }
}

/// `kenshin verify` when something changed.
pub fn not_verified(lang: Lang, dir: &str, problems: usize) -> String {
    let dir = visible(dir);
    match lang {
        Lang::Ja => format!("検証失敗: {dir}（問題 {problems} 件）"),
        Lang::En => format!("NOT verified: {dir} ({problems} problems)"),
    }
}

/// `kenshin diff` when a folder does not verify.
pub fn diff_unverified(dir: &str, problems: &str) -> String {
    format!(
        "kenshin: warning: {} does not verify against its manifest ({}); comparing it anyway",
        visible(dir),
        visible(problems)
    )
}

/// What is wrong with a sealed folder, in `lang`. Every name and reason in it came
/// from the folder and is made [`visible`].
pub fn seal_problem(lang: Lang, p: &Problem) -> String {
    let ja = lang == Lang::Ja;
    let v = |s: &str| visible(s).into_owned();
    match p {
        Problem::NoManifest { reason } if ja => {
            format!(
                "manifest.json を読めません（{}）。封印されていないフォルダです",
                v(reason)
            )
        }
        Problem::NoManifest { reason } => {
            format!(
                "manifest.json cannot be read ({}): the folder is not sealed",
                v(reason)
            )
        }
        Problem::BadManifest { reason } if ja => {
            format!(
                "manifest.json が kenshin のマニフェストではありません: {}",
                v(reason)
            )
        }
        Problem::BadManifest { reason } => {
            format!("manifest.json is not a kenshin manifest: {}", v(reason))
        }
        Problem::Duplicate { path } if ja => format!(
            "manifest.json が {} を 2 回以上記載しています。正しいマニフェストは各ファイルを 1 回だけ記載します",
            v(path)
        ),
        Problem::Duplicate { path } => format!(
            "manifest.json lists {} more than once; a true manifest lists each file once",
            v(path)
        ),
        Problem::NoSignature { reason } => format!("manifest.sig: {}", v(reason)),
        Problem::BadSignature => Pair::new(
            "署名が一致しません。manifest.json か manifest.sig が改変されています",
            "the signature does not match: manifest.json or manifest.sig was altered",
        )
        .get(lang)
        .to_owned(),
        Problem::WrongKey { expected, found } if ja => {
            format!(
                "署名した鍵 {} が、指定された鍵 {} と異なります",
                v(found),
                v(expected)
            )
        }
        Problem::WrongKey { expected, found } => {
            format!(
                "signed by {}, not by the expected key {}",
                v(found),
                v(expected)
            )
        }
        Problem::Changed {
            path,
            expected,
            found,
        } if ja => {
            format!(
                "改変: {}（SHA-256 {}、封印時 {}）",
                v(path),
                v(found),
                v(expected)
            )
        }
        Problem::Changed {
            path,
            expected,
            found,
        } => {
            format!(
                "changed: {} (SHA-256 {}, sealed as {})",
                v(path),
                v(found),
                v(expected)
            )
        }
        Problem::Resized {
            path,
            listed,
            found,
        } if ja => format!(
            "改変: {}（{found} バイト、マニフェストでは {listed} バイト）",
            v(path)
        ),
        Problem::Resized {
            path,
            listed,
            found,
        } => format!(
            "changed: {} ({found} bytes, listed as {listed} bytes)",
            v(path)
        ),
        Problem::Missing { path } if ja => {
            format!("欠落: {}（マニフェストにあり、ファイルがない）", v(path))
        }
        Problem::Missing { path } => format!("missing: {} (listed, not found)", v(path)),
        Problem::Added { path } if ja => format!("追加: {}（マニフェストにない）", v(path)),
        Problem::Added { path } => format!("added: {} (not in the manifest)", v(path)),
        Problem::Unreadable { path, reason } if ja => {
            format!("読み取り不可: {}（{}）", v(path), v(reason))
        }
        Problem::Unreadable { path, reason } => {
            format!("unreadable: {} ({})", v(path), v(reason))
        }
        Problem::SignerDiffers {
            file,
            recorded,
            signer,
        } if ja => format!(
            "{} には署名鍵 {} と記録されていますが、manifest.json に署名したのは {} です。別の鍵で封印し直されています",
            v(file),
            v(recorded),
            v(signer)
        ),
        Problem::SignerDiffers {
            file,
            recorded,
            signer,
        } => format!(
            "{} names the signing key {}, but manifest.json was signed by {}: the folder was sealed again by another key",
            v(file),
            v(recorded),
            v(signer)
        ),
        Problem::MemberChanged {
            archive,
            member,
            record: true,
        } if ja => format!(
            "改変: 証跡レコード {}（{} 内。封印された一覧と SHA-256 が異なる）",
            v(member),
            v(archive)
        ),
        Problem::MemberChanged {
            archive,
            member,
            record: true,
        } => format!(
            "changed: evidence record {} in {} (its SHA-256 is not the sealed one)",
            v(member),
            v(archive)
        ),
        Problem::MemberChanged {
            archive, member, ..
        } if ja => format!(
            "改変: 証跡のペイロード断片 {}（{} 内。封印された一覧と SHA-256 が異なる）",
            v(member),
            v(archive)
        ),
        Problem::MemberChanged {
            archive, member, ..
        } => format!(
            "changed: payload chunk {} in {} (its SHA-256 is not the sealed one)",
            v(member),
            v(archive)
        ),
        Problem::MemberAdded { archive, member } if ja => format!(
            "追加: {} 内の {}（封印された一覧にない）",
            v(archive),
            v(member)
        ),
        Problem::MemberAdded { archive, member } => format!(
            "added: {} in {} (not in the sealed member list)",
            v(member),
            v(archive)
        ),
        Problem::MemberMissing { archive, member } if ja => format!(
            "欠落: {} 内の {}（封印された一覧にあり、アーカイブにない）",
            v(archive),
            v(member)
        ),
        Problem::MemberMissing { archive, member } => format!(
            "missing: {} from {} (in the sealed member list, not in the archive)",
            v(member),
            v(archive)
        ),
        Problem::ArchiveUnreadable { archive, reason } if ja => format!(
            "{} を最後まで読めません（{}）。以降のメンバーは照合していません",
            v(archive),
            v(reason)
        ),
        Problem::ArchiveUnreadable { archive, reason } => format!(
            "{} cannot be read through ({}); the members after that point were not compared",
            v(archive),
            v(reason)
        ),
        Problem::MoreMembers { archive, count } if ja => format!(
            "{} 内でさらに {count} 件のメンバーが異なります",
            v(archive)
        ),
        Problem::MoreMembers { archive, count } => format!(
            "{count} more members of {} differ",
            v(archive)
        ),
    }
}
