//! `kenshin evidence DIR [ID…]`: the transcripts of a report folder's evidence records,
//! read from its archive (`evidence.jsonl.gz`), or from report.json for a folder
//! written before contract 1.2. Without IDs, every record. Each transcript is the text
//! `evidence/ID.txt` held before: who was asked what and when, both directions as a
//! hex dump. With `--json`, one record a line in the contract's evidence form (base64
//! payloads). This reads; `kenshin verify` says whether the folder is intact.

use std::collections::BTreeSet;

use anyhow::Context;
use kenshin_report::archive::read;
use kenshin_report::screen::visible_path;
use kenshin_report::transcript;

use crate::cli::EvidenceArgs;
use crate::say::say;

pub(crate) fn run(args: &EvidenceArgs) -> anyhow::Result<u8> {
    let wanted: BTreeSet<String> = args.ids.iter().cloned().collect();
    let dir = visible_path(&args.dir);
    let records = read::folder_records(&args.dir, (!wanted.is_empty()).then_some(&wanted))
        .with_context(|| format!("cannot read the evidence of {dir}"))?;
    let found: BTreeSet<&str> = records.iter().map(|e| e.id.as_str()).collect();
    let missing: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|id| !found.contains(id))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "{dir} holds no evidence record {} / 証跡レコードがありません",
            missing.join(", ")
        );
    }
    for (i, e) in records.iter().enumerate() {
        if args.json {
            let line = serde_json::to_string(e)?;
            println!("{}", kenshin_report::screen::json_visible(&line));
            continue;
        }
        if i > 0 {
            println!();
        }
        for line in transcript::render(e).lines() {
            say!("{line}");
        }
    }
    Ok(0)
}
