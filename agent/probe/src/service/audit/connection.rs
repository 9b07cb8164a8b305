//! The audit's connections: each one within the port's handshake cap and time
//! limit, after the pause between handshakes, admitted by the governor, with one
//! rest and retry for a server that stops accepting, and the channel's STARTTLS
//! upgrade run before the hello.

use std::time::Duration;

use crate::net::tcp::Stream as TcpStream;
use tokio::time::Instant;

use super::super::conversation::Conversation;
use super::super::{Connection, BYTE_BUDGET, STEP_WAIT};
use super::Auditor;
use crate::governor::Admission;

/// How long to wait before asking again a server that refused a connection.
pub(super) const BACKOFF: Duration = Duration::from_secs(3);

impl Auditor<'_, '_> {
    /// Opens a connection and runs the channel's preamble; `None` stops the audit.
    pub(super) async fn open(
        &mut self,
        what: &str,
    ) -> Option<(Conversation<TcpStream>, Admission)> {
        if !self.within_limits() {
            return None;
        }
        if self.out.handshakes > 0 {
            tokio::time::sleep(self.settings.pause).await;
        }
        let connection = self.connect(what).await?;
        self.out.handshakes += 1;
        let until = self.deadline.min(Instant::now() + STEP_WAIT * 3);
        let mut conv = Conversation::new(connection.stream, BYTE_BUDGET, until);
        if let Err(e) = self.channel.prepare(&mut conv).await {
            let ev = self.p.record_only(
                self.cleared.addr(),
                self.port,
                "tls-starttls",
                &conv.tape().snapshot(),
                format!(
                    "{} upgrade before a handshake failed: {e}",
                    self.channel.as_str()
                ),
            );
            self.stop(format!(
                "{} upgrade failed: {e} ({ev})",
                self.channel.as_str()
            ));
            return None;
        }
        Some((conv, connection._admission))
    }

    /// False, and the audit stopped, once it has stopped or spent its handshakes or
    /// its time on this port.
    fn within_limits(&mut self) -> bool {
        if self.stopped {
            return false;
        }
        if self.out.handshakes >= self.settings.max_handshakes {
            self.stop(format!(
                "stopped at the cap of {} handshakes for one port",
                self.settings.max_handshakes
            ));
            return false;
        }
        if Instant::now() >= self.deadline {
            self.stop(format!(
                "stopped at the {} s time limit for one port",
                self.settings.deadline.as_secs()
            ));
            return false;
        }
        true
    }

    /// Connects; a server that accepted before and refuses now gets one rest of
    /// [`BACKOFF`] and one more try. `None` stops the audit.
    async fn connect(&mut self, what: &str) -> Option<Connection> {
        let words = self.channel.first_words();
        match self.p.connect(self.cleared, self.port, words).await {
            Ok(c) => Some(c),
            Err(first) if self.out.handshakes > 0 && !self.p.cancel.is_cancelled() => {
                tokio::time::sleep(BACKOFF).await;
                match self.p.connect(self.cleared, self.port, words).await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        self.stop(format!(
                            "the server stopped accepting connections after {} handshakes \
                             ({first}; again after {} s: {e}); the result is partial",
                            self.out.handshakes,
                            BACKOFF.as_secs()
                        ));
                        None
                    }
                }
            }
            Err(e) => {
                self.stop(format!("{what}: {e}"));
                None
            }
        }
    }
}
