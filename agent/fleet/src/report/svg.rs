//! The trend chart: open findings by severity over a site's last scans, as an inline
//! SVG of stacked columns (one per scan, oldest left). Only numbers and fixed words
//! go into it, so it needs no escaping beyond what the labels already are, and no
//! script: it passes the page's Content-Security-Policy as it is.

use std::fmt::Write as _;

use crate::ingest::SEVERITIES;
use crate::rollup::TrendPoint;

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 120.0;
const LEFT: f64 = 30.0;
const BOTTOM: f64 = 16.0;

/// The colour of a severity, as report.html's palette has it.
fn colour(severity: &str) -> &'static str {
    match severity {
        "critical" => "#8b0000",
        "high" => "#c2410c",
        "medium" => "#a16207",
        "low" => "#1d4ed8",
        _ => "#4b5563",
    }
}

/// The chart of `trend`, titled `title` (already plain text).
pub fn trend(trend: &[TrendPoint], title: &str) -> String {
    let totals: Vec<i64> = trend.iter().map(|p| p.open.values().sum()).collect();
    let top = totals.iter().copied().max().unwrap_or(0).max(1);
    let plot_w = WIDTH - LEFT - 4.0;
    let plot_h = HEIGHT - BOTTOM - 6.0;
    let slot = plot_w / trend.len().max(1) as f64;
    let bar = (slot * 0.7).clamp(1.0, 24.0);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let base = HEIGHT - BOTTOM;
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="#59636e" stroke-width="1"/><text x="{}" y="10" font-size="9" text-anchor="end" fill="#59636e">{top}</text><text x="{}" y="{base}" font-size="9" text-anchor="end" fill="#59636e">0</text>"##,
        WIDTH - 4.0,
        LEFT - 3.0,
        LEFT - 3.0
    );
    for (i, point) in trend.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = base;
        for sev in SEVERITIES {
            let n = point.open.get(sev).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let h = plot_h * n as f64 / top as f64;
            y -= h;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="{}"><title>{sev} {n}</title></rect>"#,
                colour(sev)
            );
        }
    }
    if let Some(last) = totals.last() {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="9" text-anchor="end" fill="#1b1f24">{last}</text>"##,
            WIDTH - 4.0,
            HEIGHT - 3.0
        );
    }
    out.push_str("</svg>");
    out
}

/// Escapes text for an SVG element's content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn point(critical: i64, low: i64) -> TrendPoint {
        TrendPoint {
            scan_id: "s".to_owned(),
            finished_at: "2026-12-01T00:00:00Z".to_owned(),
            open: BTreeMap::from([("critical".to_owned(), critical), ("low".to_owned(), low)]),
        }
    }

    #[test]
    fn each_scan_is_a_column_of_its_severities_and_nothing_runs() {
        let svg = trend(&[point(2, 1), point(0, 3)], "<site>");
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains("&lt;site&gt;"), "{svg}");
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("<site>"));
    }

    #[test]
    fn an_empty_trend_is_an_empty_axis() {
        let svg = trend(&[], "x");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 0);
    }
}
