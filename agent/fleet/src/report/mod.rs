//! The fleet report: the [`Rollup`] as JSON (`fleet.json`), and as a page
//! (`fleet.html`, `html`), written into a folder sealed like a scan's report
//! folder, so `kenshin verify` checks it the same way.

mod html;
pub mod svg;

use std::path::{Path, PathBuf};

use kenshin_report::output::{Access, OutputDir};
use kenshin_report::seal::{self, SigningKey};
use kenshin_report::Lang;

use crate::error::FleetError;
use crate::rollup::Rollup;

pub use html::render;

/// The rollup as pretty JSON with a final newline.
pub fn json(rollup: &Rollup) -> Result<String, FleetError> {
    let mut text = serde_json::to_string_pretty(rollup).map_err(|e| FleetError::Render {
        what: "fleet.json",
        reason: e.to_string(),
    })?;
    text.push('\n');
    Ok(text)
}

/// What [`write_folder`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub json: PathBuf,
    pub html: PathBuf,
    pub files: usize,
}

/// Writes `fleet.json` and `fleet.html` into `dir` and seals the folder with `key`.
pub fn write_folder(
    dir: &Path,
    rollup: &Rollup,
    lang: Lang,
    key: &SigningKey,
) -> Result<Written, FleetError> {
    let out_err = |e: kenshin_report::output::OutputError| FleetError::Io {
        path: dir.to_owned(),
        reason: e.to_string(),
    };
    if dir.join("fleet.json").exists() {
        return Err(FleetError::Io {
            path: dir.to_owned(),
            reason: "it already holds a fleet report; name a new folder".to_owned(),
        });
    }
    let out = OutputDir::prepare(dir, Access::Private).map_err(out_err)?;
    let json_path = out
        .write_atomic("fleet.json", json(rollup)?.as_bytes())
        .map_err(out_err)?;
    let page = render(rollup, lang, &key.public().fingerprint())?;
    let html_path = out
        .write_atomic("fleet.html", page.as_bytes())
        .map_err(out_err)?;
    let id = format!("fleet-{}", rollup.generated_at);
    let sealed = seal::seal(
        dir,
        &id,
        &rollup.generated_at,
        &format!("kenshin {}", env!("CARGO_PKG_VERSION")),
        key,
    )?;
    out.write_atomic(seal::MANIFEST, &sealed.json)
        .map_err(out_err)?;
    out.write_atomic(seal::SIGNATURE, &sealed.signature)
        .map_err(out_err)?;
    Ok(Written {
        json: json_path,
        html: html_path,
        files: sealed.manifest.files.len(),
    })
}
