//! Synthetic sealed bundles for the fleet bench, made from one real report.json:
//! for each site and day, the report's hosts repeated (with fresh addresses in
//! 198.18.0.0/15) up to the asked host count, their findings with them, a new scan
//! ID and finish time, written as a folder and sealed with the given key exactly as
//! a sensor seals it.
//!
//! ```text
//! cargo run --release -p kenshin-fleet --example synth_bundles -- \
//!     REPORT.json KEY.pem OUT_DIR SITES SCANS HOSTS
//! ```
//! Folders are named `OUT_DIR/sNNN-dDD`; sites are `sNNN`.

use std::path::Path;

use kenshin_report::output::{Access, OutputDir};
use kenshin_report::seal::{self, SigningKey};
use serde_json::{json, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [report, key, out, sites, scans, hosts] = args.as_slice() else {
        return Err("usage: synth_bundles REPORT.json KEY.pem OUT_DIR SITES SCANS HOSTS".into());
    };
    let template: Value = serde_json::from_slice(&std::fs::read(report)?)?;
    let key = SigningKey::load_or_create(Path::new(key))?;
    let (sites, scans, hosts): (usize, usize, usize) =
        (sites.parse()?, scans.parse()?, hosts.parse()?);
    let day0 = time::OffsetDateTime::now_utc() - time::Duration::days(i64::try_from(scans)?);
    for site in 0..sites {
        for day in 0..scans {
            let finished = day0 + time::Duration::days(i64::try_from(day + 1)?);
            let when = finished.format(&time::format_description::well_known::Rfc3339)?;
            let id = format!("synth-s{site:03}-d{day:02}");
            let body = synthesise(&template, &id, &when, hosts, &key)?;
            let dir = Path::new(out).join(format!("s{site:03}-d{day:02}"));
            let folder = OutputDir::prepare(&dir, Access::Private)?;
            folder.write_atomic("report.json", &body)?;
            let sealed = seal::seal(&dir, &id, &when, "kenshin synth", &key)?;
            folder.write_atomic(seal::MANIFEST, &sealed.json)?;
            folder.write_atomic(seal::SIGNATURE, &sealed.signature)?;
        }
    }
    Ok(())
}

/// The template's hosts (and their findings) repeated to `count` hosts.
fn synthesise(
    template: &Value,
    id: &str,
    when: &str,
    count: usize,
    key: &SigningKey,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut report = template.clone();
    let empty = Vec::new();
    let hosts = template["hosts"].as_array().unwrap_or(&empty);
    let findings = template["findings"].as_array().unwrap_or(&empty);
    if hosts.is_empty() {
        return Err("the template report has no hosts".into());
    }
    let mut out_hosts = Vec::with_capacity(count);
    let mut out_findings = Vec::new();
    for i in 0..count {
        let source = &hosts[i % hosts.len()];
        let old = source["address"].as_str().unwrap_or_default();
        let address = format!("198.{}.{}.{}", 18 + i / 65536, (i / 256) % 256, i % 256);
        let mut host = source.clone();
        host["address"] = json!(address);
        out_hosts.push(host);
        for f in findings.iter().filter(|f| f["host"] == old) {
            let mut f = f.clone();
            f["id"] = json!(format!("f-{:06}", out_findings.len() + 1));
            f["host"] = json!(address);
            out_findings.push(f);
        }
    }
    report["hosts"] = Value::Array(out_hosts);
    report["findings"] = Value::Array(out_findings);
    report["evidence"] = json!([]);
    report["groups"] = Value::Null;
    report["scan"]["id"] = json!(id);
    report["scan"]["finished_at"] = json!(when);
    report["scan"]["started_at"] = json!(when);
    report["scan"]["complete"] = json!(true);
    if let Some(obj) = report.as_object_mut() {
        obj.remove("groups");
        obj.insert(
            "signing".into(),
            json!({"algorithm": "ed25519", "fingerprint": key.public().fingerprint(), "manifest": "manifest.json"}),
        );
    }
    let mut bytes = serde_json::to_vec_pretty(&report)?;
    bytes.push(b'\n');
    Ok(bytes)
}
