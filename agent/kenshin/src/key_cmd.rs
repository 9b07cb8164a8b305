//! `kenshin key`: the signing key's public half, for whoever verifies the reports.

use kenshin_report::seal::{default_key_path, SigningKey};

use crate::cli::KeyArgs;

pub(crate) fn run(args: &KeyArgs) -> anyhow::Result<u8> {
    let path = args.signing_key.clone().unwrap_or_else(default_key_path);
    let key = SigningKey::load_or_create(&path)?;
    let public = key.public();
    if key.created() {
        eprintln!("kenshin: created signing key {}", path.display());
    }
    println!("key:         {}", path.display());
    println!("algorithm:   ed25519");
    println!("fingerprint: {}", public.fingerprint());
    print!("{}", public.to_pem());
    Ok(0)
}
