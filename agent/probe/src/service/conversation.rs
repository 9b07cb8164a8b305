//! One probe's conversation with a service: send bytes, then read until a
//! decoder is satisfied, the step's wait runs out, the probe's deadline
//! passes, the byte budget is spent or the peer closes. Whatever happens, the
//! bytes are on the tape.

use std::time::Duration;

use kenshin_wire::DecodeError;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::tape::{TapeHandle, Taped};

/// What a read step came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard<T> {
    /// The decoder is satisfied.
    Done(T),
    /// Nothing at all arrived within the wait.
    Silent,
    /// Some bytes arrived, but not enough for the decoder, before the wait ran out.
    Partial,
    /// The peer closed the connection (with whatever it sent before on the tape).
    Closed,
    /// The bytes do not decode as this protocol.
    Invalid(DecodeError),
    /// The byte budget is spent.
    OverBudget,
    /// The connection failed (reset, or a local error).
    Failed(String),
}

impl<T> Heard<T> {
    /// The same outcome with a `Done` value transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Heard<U> {
        match self {
            Heard::Done(v) => Heard::Done(f(v)),
            Heard::Silent => Heard::Silent,
            Heard::Partial => Heard::Partial,
            Heard::Closed => Heard::Closed,
            Heard::Invalid(e) => Heard::Invalid(e),
            Heard::OverBudget => Heard::OverBudget,
            Heard::Failed(e) => Heard::Failed(e),
        }
    }
}

/// A conversation over a taped stream.
#[derive(Debug)]
pub struct Conversation<S> {
    stream: Taped<S>,
    tape: TapeHandle,
    /// Bytes received and not yet consumed by a decoder.
    pub buf: Vec<u8>,
    deadline: Instant,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conversation<S> {
    pub fn new(stream: S, budget: usize, deadline: Instant) -> Self {
        let tape = TapeHandle::new(budget);
        Self {
            stream: Taped::new(stream, tape.clone()),
            tape,
            buf: Vec::new(),
            deadline,
        }
    }

    pub fn tape(&self) -> &TapeHandle {
        &self.tape
    }

    /// The stream underneath, for a protocol that takes over (TLS).
    pub fn into_parts(self) -> (Taped<S>, TapeHandle, Vec<u8>) {
        (self.stream, self.tape, self.buf)
    }

    /// Time left before the probe's deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Sends `bytes`; false if the connection failed or the deadline passed.
    pub async fn say(&mut self, bytes: &[u8]) -> Result<(), String> {
        match tokio::time::timeout(self.remaining(), async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("deadline passed while sending".to_owned()),
        }
    }

    /// Drops the first `n` buffered bytes (a decoder consumed them).
    pub fn consume(&mut self, n: usize) {
        self.buf.drain(..n.min(self.buf.len()));
    }

    /// Reads until `decode` returns a value, for at most `wait` (and never past the
    /// probe's deadline). `decode` sees every byte received and not yet consumed.
    pub async fn hear<T>(
        &mut self,
        wait: Duration,
        mut decode: impl FnMut(&[u8]) -> Result<Option<T>, DecodeError>,
    ) -> Heard<T> {
        let until = Instant::now() + wait.min(self.remaining());
        let start_len = self.buf.len();
        loop {
            if !self.buf.is_empty() {
                match decode(&self.buf) {
                    Ok(Some(v)) => return Heard::Done(v),
                    Ok(None) => {}
                    Err(e) => return Heard::Invalid(e),
                }
            }
            let mut chunk = [0u8; 2048];
            let left = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.stream.read(&mut chunk)).await {
                Err(_) => {
                    return if self.buf.len() > start_len {
                        Heard::Partial
                    } else {
                        Heard::Silent
                    }
                }
                Ok(Ok(0)) => return Heard::Closed,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) if super::tape::is_budget(&e) => return Heard::OverBudget,
                Ok(Err(e)) => return Heard::Failed(e.to_string()),
            }
        }
    }

    /// Reads whatever arrives until the line goes quiet for `quiet`, at most `wait`.
    /// For banners that have no end marker (a Telnet login prompt).
    pub async fn hear_until_quiet(&mut self, quiet: Duration, wait: Duration) -> Heard<()> {
        let until = Instant::now() + wait.min(self.remaining());
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Heard::Partial;
            }
            let mut chunk = [0u8; 2048];
            match tokio::time::timeout(quiet.min(left), self.stream.read(&mut chunk)).await {
                Err(_) => return Heard::Done(()),
                Ok(Ok(0)) => return Heard::Closed,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) if super::tape::is_budget(&e) => return Heard::OverBudget,
                Ok(Err(e)) => return Heard::Failed(e.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_decoder_gets_every_byte_and_the_tape_keeps_them() {
        let (client, mut server) = tokio::io::duplex(64);
        let mut c = Conversation::new(client, 1024, Instant::now() + Duration::from_secs(5));
        server.write_all(b"SSH-2.0-x").await.expect("write");
        server.write_all(b"\r\n").await.expect("write");
        let heard = c
            .hear(Duration::from_secs(1), |b| {
                Ok(b.ends_with(b"\r\n").then_some(b.len()))
            })
            .await;
        assert_eq!(heard, Heard::Done(11));
        assert_eq!(c.tape().snapshot().received, b"SSH-2.0-x\r\n");
    }

    #[tokio::test]
    async fn an_endless_banner_stops_at_the_budget() {
        let (client, mut server) = tokio::io::duplex(64);
        let mut c = Conversation::new(client, 100, Instant::now() + Duration::from_secs(5));
        tokio::spawn(async move { while server.write_all(&[b'A'; 32]).await.is_ok() {} });
        let heard = c.hear(Duration::from_secs(2), |_| Ok(None::<()>)).await;
        assert_eq!(heard, Heard::OverBudget);
        let tape = c.tape().snapshot();
        assert!(tape.received_total >= 100 && tape.received_total < 200);
    }

    #[tokio::test(start_paused = true)]
    async fn silence_and_a_drip_are_told_apart_and_both_end_at_the_wait() {
        let (client, mut server) = tokio::io::duplex(64);
        let mut c = Conversation::new(client, 100, Instant::now() + Duration::from_secs(60));
        assert_eq!(
            c.hear(Duration::from_secs(2), |_| Ok(None::<()>)).await,
            Heard::Silent
        );
        tokio::spawn(async move {
            loop {
                if server.write_all(b"x").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let start = Instant::now();
        assert_eq!(
            c.hear(Duration::from_secs(5), |_| Ok(None::<()>)).await,
            Heard::Partial
        );
        assert!(start.elapsed() <= Duration::from_secs(6));
    }
}
