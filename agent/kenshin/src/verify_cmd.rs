//! `kenshin verify DIR`: is this report folder exactly what kenshin sealed?
//!
//! Without `--key` the first line says so: the result then shows only that the folder
//! is consistent with itself, not who sealed it. With `-q` nothing is printed but
//! errors; the exit code says whether the folder is intact (0) or not (1). Every name
//! from the folder is made visible before it is printed (`kenshin_report::screen`).

use anyhow::Context;
use kenshin_report::labels::terminal;
use kenshin_report::screen::visible_path;
use kenshin_report::seal::{self, KeyPin};

use crate::cli::{Lang, VerifyReportArgs};

/// Exit code when the folder does not verify.
const NOT_VERIFIED: u8 = 1;

pub(crate) fn run(args: &VerifyReportArgs, quiet: bool) -> anyhow::Result<u8> {
    let lang = Lang::resolve(args.lang);
    let words: kenshin_report::Lang = lang.into();
    let pin = args.key.as_deref().map(KeyPin::parse).transpose()?;
    let dir = visible_path(&args.dir);
    let v =
        seal::verify(&args.dir, pin.as_ref()).with_context(|| format!("cannot verify {dir}"))?;
    let code = if v.passed() { 0 } else { NOT_VERIFIED };
    if quiet {
        return Ok(code);
    }
    let signer = v.manifest.as_ref().map(|m| m.key.fingerprint.as_str());
    if pin.is_none() {
        println!("{}", terminal::not_pinned(words, signer));
    }
    if v.passed() {
        let signer = signer.unwrap_or_default();
        println!("{}", terminal::verified(words, v.files_ok, &dir, signer));
        return Ok(code);
    }
    println!("{}", terminal::not_verified(words, &dir, v.problems.len()));
    for p in &v.problems {
        println!("  {}", terminal::seal_problem(words, p));
    }
    Ok(code)
}
