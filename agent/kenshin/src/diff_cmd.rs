//! `kenshin diff OLD_DIR NEW_DIR`: what changed between two scans.

use std::path::Path;

use anyhow::Context;
use kenshin_report::diff::{self, Diff};
use kenshin_report::labels::terminal;
use kenshin_report::model::Report;
use kenshin_report::seal;

use crate::cli::{DiffArgs, Lang};
use crate::text;

/// The largest report.json read.
const MAX_REPORT: u64 = 1024 * 1024 * 1024;

pub(crate) fn run(args: &DiffArgs) -> anyhow::Result<u8> {
    let lang = Lang::resolve(args.lang);
    let old = read(&args.old)?;
    let new = read(&args.new)?;
    for dir in [&args.old, &args.new] {
        let v = seal::verify(dir, None)?;
        if !v.passed() {
            let problems = v
                .problems
                .iter()
                .map(|p| terminal::seal_problem(kenshin_report::Lang::En, p))
                .collect::<Vec<_>>()
                .join("; ");
            eprintln!(
                "{}",
                terminal::diff_unverified(&dir.display().to_string(), &problems)
            );
        }
    }
    let d: Diff = diff::diff(&old, &new);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", text::diff(lang, &d));
    }
    Ok(if d.is_empty() { 0 } else { 1 })
}

fn read(dir: &Path) -> anyhow::Result<Report> {
    let path = dir.join("report.json");
    let len = std::fs::metadata(&path)
        .with_context(|| format!("{}: not a kenshin report folder", dir.display()))?
        .len();
    anyhow::ensure!(
        len <= MAX_REPORT,
        "{}: {len} bytes is larger than a report can be",
        path.display()
    );
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a kenshin report", path.display()))
}
