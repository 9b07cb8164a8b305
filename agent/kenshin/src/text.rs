//! Text people read at the end of a scan, in Japanese or English.

use std::path::Path;

use kenshin_report::model::Report;

use crate::cli::Lang;

pub(crate) fn summary(lang: Lang, r: &Report, path: &Path) -> String {
    let s = &r.scan.stats;
    let secs = s.duration_ms as f64 / 1000.0;
    let state = match (lang, r.scan.complete) {
        (Lang::Ja, true) => "完了",
        (Lang::Ja, false) => "中断（部分的な結果）",
        (Lang::En, true) => "complete",
        (Lang::En, false) => "INTERRUPTED (partial results)",
    };
    match lang {
        Lang::Ja => format!(
            "kenshin: スキャン{state}: {} アドレス中 {} ホスト稼働、開ポート {}、検出事項 {} 件\n\
             所要 {secs:.1} 秒、送信プローブ {}（{} 方式: {}）\n\
             レポート: {}",
            s.addresses,
            s.hosts_up,
            s.open_ports,
            r.findings.len(),
            s.probes_sent,
            r.scan.discovery.mode,
            r.scan.discovery.reason,
            path.display()
        ),
        Lang::En => format!(
            "kenshin: scan {state}: {} hosts up of {} addresses, {} open ports, {} findings\n\
             {secs:.1} s, {} probes sent ({} discovery: {})\n\
             report: {}",
            s.hosts_up,
            s.addresses,
            s.open_ports,
            r.findings.len(),
            s.probes_sent,
            r.scan.discovery.mode,
            r.scan.discovery.reason,
            path.display()
        ),
    }
}
