//! Renders report.html from a report.json with the real renderer, as a scan's
//! bundle does, and says how long it took and how many bytes it wrote per host:
//! the bench's way to measure the page without scanning.
//!
//! ```text
//! cargo run --release -p kenshin-report --example render_html -- IN.json OUT.html [ja|en]
//! ```

use kenshin_report::{html, model::Report, Lang};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output, lang) = match args.as_slice() {
        [i, o] => (i, o, Lang::Ja),
        [i, o, l] if l == "ja" => (i, o, Lang::Ja),
        [i, o, l] if l == "en" => (i, o, Lang::En),
        _ => return Err("usage: render_html IN.json OUT.html [ja|en]".into()),
    };
    let bytes = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let report: Report = serde_json::from_slice(&bytes).map_err(|e| format!("{input}: {e}"))?;
    let started = std::time::Instant::now();
    let page = html::try_render(&report, lang).map_err(|e| format!("rendering {input}: {e:#}"))?;
    let took = started.elapsed();
    std::fs::write(output, &page).map_err(|e| format!("{output}: {e}"))?;
    let hosts = report.hosts.len().max(1);
    println!(
        "{output}: {} hosts, {} bytes, {} bytes/host, rendered in {} ms",
        report.hosts.len(),
        page.len(),
        page.len() / hosts,
        took.as_millis()
    );
    Ok(())
}
