//! The progress bar on a terminal: phase, hosts up, open ports, probes, ETA.
//! Nothing is drawn when stderr is not a terminal or with `-q`.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kenshin_probe::scan::{Phase, Progress};

use crate::cli::Lang;

pub(crate) struct Display {
    bar: Option<ProgressBar>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Display {
    pub(crate) fn start(state: Arc<Progress>, enabled: bool, addresses: u128, lang: Lang) -> Self {
        if !enabled || !std::io::stderr().is_terminal() {
            return Self {
                bar: None,
                task: None,
            };
        }
        let bar = ProgressBar::with_draw_target(
            Some(u64::try_from(addresses).unwrap_or(u64::MAX)),
            ProgressDrawTarget::stderr_with_hz(8),
        );
        let style =
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg} (ETA {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        let b = bar.clone();
        let task = tokio::spawn(async move {
            let mut last = Phase::Starting;
            loop {
                let phase = state.phase();
                let (done, total) = state.position();
                if phase != last {
                    b.reset();
                    last = phase;
                }
                b.set_prefix(match lang {
                    Lang::En => phase.label(),
                    Lang::Ja => match phase {
                        Phase::Starting => "開始",
                        Phase::Discovery => "ホスト探索",
                        Phase::TcpPing => "TCP ping",
                        Phase::PortScan => "ポート調査",
                        Phase::SecondLook => "再確認",
                        Phase::Finishing => "集計",
                    },
                });
                b.set_length(total.max(1));
                b.set_position(done);
                b.set_message(match lang {
                    Lang::Ja => format!(
                        "稼働ホスト {} 開ポート {} 送信 {}",
                        state.hosts_up(),
                        state.open_ports(),
                        state.probes()
                    ),
                    Lang::En => format!(
                        "up {} open {} probes {}",
                        state.hosts_up(),
                        state.open_ports(),
                        state.probes()
                    ),
                });
                tokio::time::sleep(Duration::from_millis(125)).await;
            }
        });
        Self {
            bar: Some(bar),
            task: Some(task),
        }
    }

    pub(crate) fn finish(self) {
        if let Some(t) = self.task {
            t.abort();
        }
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
