//! Text people read at the end of a scan, in Japanese or English.

use std::path::Path;

use kenshin_report::model::Report;

use crate::cli::Lang;

/// (services named from their own bytes, of those with a product, open services in all).
fn identified(r: &Report) -> (usize, usize, usize) {
    let services = r.hosts.iter().flat_map(|h| &h.services);
    let (mut by_probe, mut with_product, mut all) = (0, 0, 0);
    for s in services {
        all += 1;
        by_probe += usize::from(s.service_from == "probe");
        with_product += usize::from(s.product.is_some());
    }
    (by_probe, with_product, all)
}

pub(crate) fn summary(lang: Lang, r: &Report, path: &Path) -> String {
    let s = &r.scan.stats;
    let (by_probe, with_product, all) = identified(r);
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
             サービス識別: {all} 件中 {by_probe} 件を応答から判定、{with_product} 件で製品を特定\n\
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
             services: {by_probe} of {all} named from their own answers, {with_product} with a product\n\
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
