//! `kenshin diff OLD_DIR NEW_DIR`: what changed between two scans.
//!
//! Each report.json is read as kenshin reads any file it is handed (a regular file,
//! not a link, at most `seal::MAX_REPORT` bytes), and everything printed from the
//! reports, as text or JSON, is made visible first (`kenshin_report::screen`).

use kenshin_report::diff::{self, Diff};
use kenshin_report::labels::terminal;
use kenshin_report::screen::{json_visible, visible_path};
use kenshin_report::seal;

use crate::cli::{DiffArgs, Lang};
use crate::text;

pub(crate) fn run(args: &DiffArgs) -> anyhow::Result<u8> {
    let lang = Lang::resolve(args.lang);
    let old = diff::read_report(&args.old)?;
    let new = diff::read_report(&args.new)?;
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
                terminal::diff_unverified(&visible_path(dir), &problems)
            );
        }
    }
    let d: Diff = diff::diff(&old, &new);
    if args.json {
        println!("{}", json_visible(&serde_json::to_string_pretty(&d)?));
    } else {
        print!("{}", text::diff(lang, &d));
    }
    Ok(if d.is_empty() { 0 } else { 1 })
}
