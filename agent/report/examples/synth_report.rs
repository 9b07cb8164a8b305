//! A synthetic report.json of N live hosts made from a real one, with no network:
//! the template's hosts repeated (fresh addresses in 198.18.0.0/15) with their
//! findings, evidence records, group memberships, checklist links and ledger marks,
//! every ID renumbered so the result stays one consistent report. The bench renders
//! it to measure report.html at hospital scale (issue 17, targets 3 and 4).
//!
//! ```text
//! cargo run --release -p kenshin-report --example synth_report -- IN.json N OUT.json
//! ```
//!
//! Addresses are replaced as whole strings, so the template's host addresses must not
//! be prefixes of one another inside free text (true of every lab report).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, count, output] = args.as_slice() else {
        return Err("usage: synth_report IN.json N OUT.json".into());
    };
    let count: usize = count
        .parse()
        .map_err(|e| format!("host count {count:?}: {e}"))?;
    if count == 0 || count > 131_000 {
        return Err(format!("host count {count} is outside 1..=131000 (198.18.0.0/15)").into());
    }
    let bytes = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let template: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{input}: {e}"))?;
    let report = synthesise(&template, count)?;
    let mut out = serde_json::to_vec_pretty(&report)?;
    out.push(b'\n');
    std::fs::write(output, &out).map_err(|e| format!("{output}: {e}"))?;
    eprintln!("{output}: {count} hosts, {} bytes", out.len());
    Ok(())
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map_or(&[], Vec::as_slice)
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The N-th address of 198.18.0.0/15, skipping each /24's .0 and .255.
fn address(i: usize) -> String {
    let n = (i / 254) * 256 + i % 254 + 1;
    format!("198.{}.{}.{}", 18 + n / 65536, (n / 256) % 256, n % 256)
}

/// `text` with every `ev-NNNNNN` and `f-NNNN` the maps know replaced, and `old`
/// (an address) replaced by `new`.
fn rewrite(text: &str, ids: &HashMap<String, String>, old: &str, new: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['e', 'f']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let prefix = if tail.starts_with("ev-") {
            3
        } else if tail.starts_with("f-") {
            2
        } else {
            0
        };
        let digits = tail[prefix.min(tail.len())..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let token = &tail[..prefix + digits];
        match ids.get(token).filter(|_| prefix > 0 && digits > 0) {
            Some(mapped) => {
                out.push_str(mapped);
                rest = &tail[token.len()..];
            }
            None => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out.replace(old, new)
}

fn rewrite_value(
    v: &Value,
    ids: &HashMap<String, String>,
    old: &str,
    new: &str,
) -> Result<Value, Failure> {
    let s = serde_json::to_string(v)?;
    Ok(serde_json::from_str(&rewrite(&s, ids, old, new))?)
}

fn synthesise(template: &Value, count: usize) -> Result<Value, Failure> {
    let hosts = array(template, "hosts");
    if hosts.is_empty() {
        return Err("the template report has no hosts".into());
    }
    let findings = array(template, "findings");
    let evidence = array(template, "evidence");
    let mut out_hosts = Vec::with_capacity(count);
    let mut out_findings = Vec::new();
    let mut out_evidence = Vec::new();
    // Old finding ID → its copies; old address → its copies.
    let mut finding_copies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut address_copies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..count {
        let source = &hosts[i % hosts.len()];
        let old = text(&source["address"]).to_owned();
        let new = address(i);
        let mut ids = HashMap::new();
        let first_new = out_evidence.len();
        for e in evidence.iter().filter(|e| text(&e["host"]) == old) {
            let id = format!("ev-{:06}", out_evidence.len() + 1);
            ids.insert(text(&e["id"]).to_owned(), id.clone());
            let mut copy = e.clone();
            copy["id"] = json!(id);
            out_evidence.push(copy);
        }
        let mine: Vec<&Value> = findings
            .iter()
            .filter(|f| text(&f["host"]) == old)
            .collect();
        for (k, f) in mine.iter().enumerate() {
            let id = format!("f-{:04}", out_findings.len() + k + 1);
            ids.insert(text(&f["id"]).to_owned(), id.clone());
            finding_copies
                .entry(text(&f["id"]).to_owned())
                .or_default()
                .push(id);
        }
        for e in &mut out_evidence[first_new..] {
            *e = rewrite_value(e, &ids, &old, &new)?;
        }
        for f in mine {
            out_findings.push(rewrite_value(f, &ids, &old, &new)?);
        }
        out_hosts.push(rewrite_value(source, &ids, &old, &new)?);
        address_copies.entry(old).or_default().push(new);
    }
    let copies = |id: &str| finding_copies.get(id).cloned().unwrap_or_default();
    let mut report = template.clone();
    let open_ports: usize = out_hosts.iter().map(|h| array(h, "services").len()).sum();
    report["scan"]["stats"]["hosts_up"] = json!(count);
    report["scan"]["stats"]["open_ports"] = json!(open_ports);
    let host_of: HashMap<&str, &str> = out_findings
        .iter()
        .map(|f| (text(&f["id"]), text(&f["host"])))
        .collect();
    let mut groups = Vec::new();
    for g in array(template, "groups") {
        let members: Vec<String> = array(g, "findings")
            .iter()
            .flat_map(|f| copies(text(f)))
            .collect();
        if members.is_empty() {
            continue;
        }
        let distinct: BTreeSet<&str> = members
            .iter()
            .filter_map(|m| host_of.get(m.as_str()).copied())
            .collect();
        let (was, now) = (g["hosts"].as_u64().unwrap_or(0), distinct.len());
        let mut g = g.clone();
        let ja = text(&g["cause"]["ja"]).replace(&format!("{was} 台"), &format!("{now} 台"));
        let en = text(&g["cause"]["en"])
            .replace(&format!(": {was} hosts"), &format!(": {now} hosts"))
            .replace(&format!(": {was} host"), &format!(": {now} hosts"));
        g["cause"] = json!({ "ja": ja, "en": en });
        g["count"] = json!(members.len());
        g["hosts"] = json!(now);
        g["findings"] = json!(members);
        groups.push(g);
    }
    report["groups"] = Value::Array(groups);
    if let Some(items) = report["checklist"].as_array_mut() {
        for c in items {
            let linked: Vec<String> = array(c, "findings")
                .iter()
                .flat_map(|f| copies(text(f)))
                .collect();
            c["findings"] = json!(linked);
        }
    }
    if let Some(list) = report["exceptions"].as_array_mut() {
        for e in list {
            let matched: Vec<String> = array(e, "matched")
                .iter()
                .flat_map(|f| copies(text(f)))
                .collect();
            e["matched"] = json!(matched);
        }
    }
    if report["inventory"].is_object() {
        let unregistered: Vec<String> = array(&report["inventory"], "unregistered")
            .iter()
            .flat_map(|a| address_copies.get(text(a)).cloned().unwrap_or_default())
            .collect();
        report["inventory"]["unregistered"] = json!(unregistered);
    }
    report["hosts"] = Value::Array(out_hosts);
    report["findings"] = Value::Array(out_findings);
    report["evidence"] = Value::Array(out_evidence);
    Ok(report)
}
