//! `kenshin host-check`: prints the engine's [`HostCheck`] as JSON or as text.

use kenshin_engine::host_check::{self, HostCheck};

use crate::cli::{HostCheckArgs, Lang};
use crate::say::say;

/// Processes listed in the text output (all are in the JSON).
const TOP_PROCESSES: usize = 10;

pub(crate) fn run(args: &HostCheckArgs) -> anyhow::Result<u8> {
    let lang = Lang::resolve(args.lang);
    let check = host_check::check(lang.into())?;
    if args.json {
        println!("{}", crate::say::json(&check)?);
    } else {
        print_text(&check, lang);
    }
    Ok(u8::from(check.serious()))
}

fn print_text(c: &HostCheck, lang: Lang) {
    let t = |j: &'static str, e: &'static str| lang.pick(j, e);
    let h = &c.host;
    say!("{} {}", t("ホスト", "host"), h.name);
    say!("  OS: {}", h.os);
    say!("  {}: {}", t("カーネル", "kernel"), h.kernel);
    say!(
        "  {}: {}d {}h {}m",
        t("稼働時間", "uptime"),
        h.uptime_s / 86_400,
        h.uptime_s % 86_400 / 3600,
        h.uptime_s % 3600 / 60
    );
    say!(
        "{} ({})",
        t("待ち受け中のサービス", "listening services"),
        c.listening.len()
    );
    for l in &c.listening {
        say!(
            "  {:>5}/{:<3} {:<39} {:<16} {}{}",
            l.port,
            l.protocol,
            l.address,
            l.service.as_deref().unwrap_or("?"),
            l.process
                .as_ref()
                .map(|p| format!("{p} (pid {})", l.pid.unwrap_or(0)))
                .unwrap_or_else(|| "-".to_owned()),
            if l.exposed {
                ""
            } else {
                t("  [ローカルのみ]", "  [local only]")
            }
        );
    }
    say!(
        "{} ({}; {} {})",
        t("プロセス", "processes"),
        c.processes.count,
        t("メモリ使用量の上位", "top by memory:"),
        TOP_PROCESSES
    );
    for p in c.processes.list.iter().take(TOP_PROCESSES) {
        say!(
            "  {:>7} {:<24} {} MiB",
            p.pid,
            p.name,
            p.memory_bytes / (1 << 20)
        );
    }
    say!("{} ({})", t("所見", "findings"), c.findings.len());
    for f in &c.findings {
        let reqs: Vec<&str> = f.requirements.iter().map(|r| r.id.as_str()).collect();
        say!(
            "  [{}] {}{} — {} ({})",
            f.severity.as_str(),
            f.check,
            f.port
                .map(|p| format!(" {p}/{}", f.protocol.unwrap_or("")))
                .unwrap_or_default(),
            lang.pick(&f.title.ja, &f.title.en),
            reqs.join(", ")
        );
    }
    for n in &c.notes {
        say!("{}: {n}", t("注記", "note"));
    }
}
