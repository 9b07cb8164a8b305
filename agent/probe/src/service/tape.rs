//! A stream wrapper that keeps a copy of what went each way, for the evidence,
//! and enforces a probe's byte budget on what it receives.
//!
//! The copy is shared ([`Tape`] behind an `Arc`) so that it survives the stream
//! being handed to rustls or dropped on an error.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::evidence::{Direction, Segment, MAX_CAPTURE, MAX_SEGMENTS};

/// What a connection carried, capped at [`MAX_CAPTURE`] bytes per direction.
#[derive(Debug, Default, Clone)]
pub struct Tape {
    pub sent: Vec<u8>,
    pub received: Vec<u8>,
    /// Bytes received in all, kept or not.
    pub received_total: usize,
    pub sent_total: usize,
    /// Most bytes the probe may receive before the stream fails with "byte budget".
    pub budget: usize,
    /// Reads and writes in order, at most [`MAX_SEGMENTS`].
    pub segments: Vec<Segment>,
    /// When the tape started (the connection opened).
    started: Option<std::time::Instant>,
}

impl Tape {
    fn segment(&mut self, direction: Direction, bytes: usize) {
        if bytes == 0 || self.segments.len() >= MAX_SEGMENTS {
            return;
        }
        let at_ms = self.started.map_or(0.0, |t| {
            (t.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0
        });
        self.segments.push(Segment {
            direction,
            at_ms,
            bytes,
        });
    }
}

impl Tape {
    /// True if either direction carried more than was kept.
    pub fn truncated(&self) -> bool {
        self.received_total > self.received.len() || self.sent_total > self.sent.len()
    }
}

/// A shared handle on a [`Tape`].
#[derive(Debug, Clone, Default)]
pub struct TapeHandle(Arc<Mutex<Tape>>);

impl TapeHandle {
    pub fn new(budget: usize) -> Self {
        Self(Arc::new(Mutex::new(Tape {
            budget,
            started: Some(std::time::Instant::now()),
            ..Tape::default()
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Tape> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of what was carried so far.
    pub fn snapshot(&self) -> Tape {
        self.lock().clone()
    }

    /// True once the budget is used up.
    pub fn over_budget(&self) -> bool {
        let t = self.lock();
        t.received_total >= t.budget
    }
}

fn keep(into: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_CAPTURE.saturating_sub(into.len());
    into.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// A stream whose traffic is copied to a [`TapeHandle`].
#[derive(Debug)]
pub struct Taped<S> {
    inner: S,
    tape: TapeHandle,
}

impl<S> Taped<S> {
    pub fn new(inner: S, tape: TapeHandle) -> Self {
        Self { inner, tape }
    }
}

/// Why a read failed once the byte budget was spent.
#[derive(Debug, thiserror::Error)]
#[error("byte budget reached")]
pub(crate) struct BudgetSpent;

/// The error a read returns once the byte budget is spent.
pub(crate) fn budget_error() -> io::Error {
    io::Error::other(BudgetSpent)
}

/// True if `e` is the byte-budget error (possibly wrapped by TLS).
pub(crate) fn is_budget(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<BudgetSpent>())
}

impl<S: AsyncRead + Unpin> AsyncRead for Taped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.tape.over_budget() {
            return Poll::Ready(Err(budget_error()));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let new = &buf.filled()[before..];
            let mut t = self.tape.lock();
            t.received_total += new.len();
            keep(&mut t.received, new);
            t.segment(Direction::Received, new.len());
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Taped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            let mut t = self.tape.lock();
            t.sent_total += n;
            keep(&mut t.sent, &buf[..*n]);
            t.segment(Direction::Sent, *n);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
