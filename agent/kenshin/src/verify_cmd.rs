//! `kenshin verify DIR`: is this report folder exactly what kenshin sealed?

use anyhow::Context;
use kenshin_report::labels::terminal;
use kenshin_report::seal::{self, KeyPin};

use crate::cli::{Lang, VerifyReportArgs};

/// Exit code when the folder does not verify.
const NOT_VERIFIED: u8 = 1;

pub(crate) fn run(args: &VerifyReportArgs) -> anyhow::Result<u8> {
    let lang = Lang::resolve(args.lang);
    let words: kenshin_report::Lang = lang.into();
    let pin = args.key.as_deref().map(KeyPin::parse).transpose()?;
    let v = seal::verify(&args.dir, pin.as_ref())
        .with_context(|| format!("cannot verify {}", args.dir.display()))?;
    let dir = args.dir.display().to_string();
    let signer = v
        .manifest
        .as_ref()
        .map(|m| m.key.fingerprint.clone())
        .unwrap_or_default();
    if v.passed() {
        println!("{}", terminal::verified(words, v.files_ok, &dir, &signer));
        if !v.pinned {
            println!("{}", terminal::not_pinned(words, &signer));
        }
        return Ok(0);
    }
    println!("{}", terminal::not_verified(words, &dir, v.problems.len()));
    for p in &v.problems {
        println!("  {}", terminal::seal_problem(words, p));
    }
    Ok(NOT_VERIFIED)
}
