//! `kenshin-lab`: builds and removes kenshin's namespace lab, and serves its plain
//! TCP ports. Used by the end-to-end tests and by bench/.
//!
//! ```text
//! kenshin-lab up [TRUTH.json]   build the lab, leave it running, write the truth
//! kenshin-lab down              remove the lab (and the fleet lab, kf-*)
//! kenshin-lab bench-up [--scale N] [--seed S] TRUTH.json   build the bench lab (kb-*), write its truth
//! kenshin-lab bench-down        remove the bench lab, restore the neighbour limits it raised
//! kenshin-lab bench-probe ADDR:PORT…   (inside kb-scan) open, reset or silent, per target
//! kenshin-lab listen 22,80      (inside a lab namespace) accept and close on these ports
//! kenshin-lab serve rdp:3389,tarpit:2323   (inside a lab namespace) run fixtures
//! kenshin-lab webhook 8808 FILE   (inside a lab namespace) append POSTed bodies to FILE
//! kenshin-lab announce pc|tv OWN PEER   (inside a passive-lab namespace) speak once
//! ```

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("up") => {
            let me = std::env::current_exe().context("cannot find my own path")?;
            let lab = kenshin_lab::Lab::up(&me)?;
            if let Some(path) = args.get(1) {
                std::fs::write(path, serde_json::to_vec_pretty(&lab.truth)?)
                    .with_context(|| format!("cannot write {path}"))?;
            }
            eprintln!(
                "kenshin-lab: up: {} live hosts, {} open ports; scanner namespace {}",
                lab.truth.hosts.len(),
                lab.truth.open_ports(),
                kenshin_lab::SCANNER_NS
            );
            lab.detach();
            Ok(())
        }
        Some("down") => {
            kenshin_lab::down();
            kenshin_lab::fleet::fleet_down();
            Ok(())
        }
        Some("bench-up") => bench_up(&args[1..]),
        Some("bench-down") => kenshin_lab::bench::bench_down(),
        Some("bench-probe") => {
            let targets = args[1..]
                .iter()
                .map(|t| t.parse().with_context(|| format!("bad target {t:?}: want ADDR:PORT")))
                .collect::<Result<Vec<_>>>()?;
            for line in kenshin_lab::bench::probe(&targets) {
                println!("{line}");
            }
            Ok(())
        }
        Some("listen") => {
            let spec = args.get(1).context("listen needs ports, e.g. 22,80")?;
            let ports = spec
                .split(',')
                .map(|p| p.parse::<u16>().with_context(|| format!("bad port {p:?}")))
                .collect::<Result<Vec<_>>>()?;
            kenshin_lab::listen(&ports)
        }
        Some("serve") => {
            let spec = args.get(1).context("serve needs fixtures, e.g. rdp:3389")?;
            let specs = spec
                .split(',')
                .map(|item| {
                    let (kind, port) = item
                        .split_once(':')
                        .with_context(|| format!("bad fixture {item:?}: want KIND:PORT"))?;
                    let port = port
                        .parse::<u16>()
                        .with_context(|| format!("bad port in {item:?}"))?;
                    Ok((kenshin_lab::fixtures::Fixture::parse(kind)?, port))
                })
                .collect::<Result<Vec<_>>>()?;
            kenshin_lab::fixtures::serve(&specs)
        }
        Some("webhook") => {
            let port = args
                .get(1)
                .and_then(|p| p.parse::<u16>().ok())
                .context("webhook needs a port and a file")?;
            let file = args.get(2).context("webhook needs a port and a file")?;
            kenshin_lab::webhook::receive(port, std::path::Path::new(file))
        }
        Some("announce") => {
            let what = args.get(1).context("announce needs pc or tv")?;
            let addr = |i: usize| -> Result<std::net::Ipv4Addr> {
                args.get(i)
                    .context("announce needs its own address and a peer")?
                    .parse()
                    .context("not an IPv4 address")
            };
            kenshin_lab::passive::announce(what, addr(2)?, addr(3)?)
        }
        _ => bail!(
            "usage: kenshin-lab up [TRUTH.json] | down | bench-up [--scale N] [--seed S] TRUTH.json | bench-down | listen PORTS | serve FIXTURES | webhook PORT FILE | announce pc|tv OWN PEER"
        ),
    }
}

/// `bench-up [--scale N] [--seed S] TRUTH.json`: builds the bench lab, leaves it
/// running and writes its truth.
fn bench_up(args: &[String]) -> Result<()> {
    use kenshin_lab::bench::{BenchLab, Scope, DEFAULT_SEED};
    let mut scope = Scope::Speed;
    let mut seed = DEFAULT_SEED;
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--scale" => {
                let n = it.next().context("--scale needs a number of addresses")?;
                scope = Scope::Scale(n.parse().with_context(|| format!("bad --scale {n:?}"))?);
            }
            "--seed" => {
                let s = it.next().context("--seed needs a number")?;
                seed = s.parse().with_context(|| format!("bad --seed {s:?}"))?;
            }
            path if out.is_none() && !path.starts_with("--") => out = Some(path.to_owned()),
            other => bail!("bench-up: unexpected argument {other:?}"),
        }
    }
    let out = out.context("bench-up needs the path to write the truth to")?;
    let me = std::env::current_exe().context("cannot find my own path")?;
    let lab = BenchLab::up(&me, scope, seed)?;
    std::fs::write(&out, serde_json::to_vec_pretty(&lab.truth)?)
        .with_context(|| format!("cannot write {out}"))?;
    let silent = lab.truth.hosts.values().filter(|h| h.silent).count();
    eprintln!(
        "kenshin-lab: bench-up {}: {} live hosts ({} silent), {} open ports, {} addresses to probe; scanner namespace {}",
        lab.truth.scope,
        lab.truth.hosts.len(),
        silent,
        lab.truth.open_ports(),
        lab.truth.must_probe,
        kenshin_lab::bench::SCANNER_NS
    );
    lab.detach();
    Ok(())
}
