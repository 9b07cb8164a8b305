//! `kenshin verify DIR`: is this report folder exactly what kenshin sealed?

use anyhow::Context;
use kenshin_report::seal::{self, KeyPin};

use crate::cli::{Lang, VerifyReportArgs};

/// Exit code when the folder does not verify.
const NOT_VERIFIED: u8 = 1;

pub(crate) fn run(args: &VerifyReportArgs) -> anyhow::Result<u8> {
    let ja = Lang::resolve(args.lang).is_ja();
    let pin = args.key.as_deref().map(KeyPin::parse).transpose()?;
    let v = seal::verify(&args.dir, pin.as_ref())
        .with_context(|| format!("cannot verify {}", args.dir.display()))?;
    let dir = args.dir.display();
    let signer = v
        .manifest
        .as_ref()
        .map(|m| m.key.fingerprint.clone())
        .unwrap_or_default();
    if v.passed() {
        if ja {
            println!(
                "検証成功: {dir} の {} ファイルはすべて封印時のままで、署名は鍵 {signer} のものです。",
                v.files_ok
            );
        } else {
            println!(
                "verified: all {} files of {dir} are as sealed, signed by key {signer}",
                v.files_ok
            );
        }
        if !v.pinned {
            if ja {
                println!(
                    "注意: 鍵を指定していません。署名者を確かめるには --key {signer} を、受け取った指紋と照合して使ってください。"
                );
            } else {
                println!(
                    "note: no key was pinned; to check who signed, compare {signer} with the fingerprint you were given, or pass --key"
                );
            }
        }
        return Ok(0);
    }
    if ja {
        println!("検証失敗: {dir}（問題 {} 件）", v.problems.len());
    } else {
        println!("NOT verified: {dir} ({} problems)", v.problems.len());
    }
    for p in &v.problems {
        println!("  {}", p.describe(ja));
    }
    Ok(NOT_VERIFIED)
}
