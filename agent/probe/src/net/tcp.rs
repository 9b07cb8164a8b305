//! TCP connect probes.
//!
//! A connect is the one TCP probe that needs no privilege and that every stack
//! understands. The socket asks the kernel to hold the handshake's last ACK
//! (`TCP_QUICKACK` off before the connect: Linux then waits to send it with the
//! first data), and closing with linger 0 sends an RST at once. So an open port
//! costs the SYN and the RST, as a half-open (SYN) scan does: the host never
//! completes the handshake, the RST clears its half-open entry, its application
//! never sees a connection, and no state lingers on a small device or here. No
//! payload is ever sent.
//!
//! Every frame of it is charged to the governor: the admission keeps room for the
//! SYN and the RST ([`connect_cost`]), and [`connect`] says what went out (the RST
//! of an open port, the kernel's SYN retransmissions to a silent one, the ACK if
//! the kernel sent it after all, in which case later connects keep room for it
//! again). A connection opened for a conversation ([`open`]) is a [`Stream`] that
//! charges its own writes before they leave, the ACKs of what it reads, and, when
//! it is dropped, the RST and whatever the kernel's own count (`TCP_INFO`) shows
//! beyond what was charged. Where kenshin speaks first ([`FirstWords::Ours`]) the
//! handshake's ACK rides on its first words, and the ACK of each reply on the next.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, Sleep};

use super::{classify, segments, ErrorClass};
use crate::governor::{Admission, FrameCost, FrameMeter, ProbeKind, Ticket};

/// What one connect attempt learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOutcome {
    /// SYN-ACK: the port is open.
    Open { rtt: Duration },
    /// RST: the host is up and the port closed.
    Closed { rtt: Duration },
    /// A router or the local stack reported the host unreachable.
    Unreachable { rtt: Duration },
    /// No answer within the timeout.
    NoAnswer,
    /// A local failure (descriptors, ephemeral ports); nothing was learned.
    LocalError(String),
}

/// Connects to `port` on the admitted host, waiting at most `timeout`.
#[allow(clippy::disallowed_methods)] // this is the one place TCP connects are made
pub async fn connect(admission: &Admission, port: u16, timeout: Duration) -> TcpOutcome {
    let addr = SocketAddr::new(admission.addr(), port);
    // A port-scan connect reads nothing: the smallest window, and the handshake's ACK
    // held, so the host never completes the handshake the RST then cancels.
    let (socket, held) = match probe_socket(addr, SCAN_RECV_BUFFER, true) {
        Ok(s) => s,
        Err(e) => return TcpOutcome::LocalError(e.to_string()),
    };
    // The closing RST goes when kenshin drops the stream: where the kernel sends
    // nothing on its own within the timeout (no SYN retransmission), the scan's lane
    // lends its room for it to other probes, and an open port takes it back first.
    let lent = syn_retransmissions(timeout) == 0;
    if lent {
        admission.lend_closing_room(1);
    }
    let start = Instant::now();
    // Room for the ACK and RST of an open port is kept only while an answer can be
    // expected (the RTT estimate's horizon); a port silent past it gives the room back
    // to other probes, and an answer that still comes late is counted as unplanned
    // frames, which the cap's reserve holds and what follows waits for.
    let horizon = admission.answer_horizon().min(timeout);
    let connecting = socket.connect(addr);
    tokio::pin!(connecting);
    let answer = match tokio::time::timeout(horizon, &mut connecting).await {
        Ok(answer) => Ok(answer),
        Err(_) => {
            // The kernel's SYN retransmissions within the timeout still go out: their
            // room stays kept.
            admission.release_expected(syn_retransmissions(timeout));
            tokio::time::timeout(timeout.saturating_sub(horizon), connecting).await
        }
    };
    match answer {
        Err(_) => {
            admission.arrived(syn_retransmissions(start.elapsed()));
            TcpOutcome::NoAnswer
        }
        Ok(Ok(stream)) => {
            let rtt = start.elapsed();
            if lent {
                admission.keep_closing_room().await;
            }
            let sent = segments_out(&stream);
            // Linger 0: the kernel answers with RST at once.
            drop(stream);
            let waited = start.elapsed();
            let (frames, acked) = open_port_frames(sent, held, waited);
            if held && acked && waited - rtt < SYN_ACK_AGAIN {
                // The handshake's ACK went though it was asked to be held, before the
                // host could have sent its SYN-ACK again: this kernel does not hold it.
                crate::governor::kernel_sends_held_acks();
            }
            admission.arrived(frames);
            TcpOutcome::Open { rtt }
        }
        Ok(Err(e)) => {
            let rtt = start.elapsed();
            admission.arrived(syn_retransmissions(rtt));
            match classify(&e) {
                ErrorClass::Refused => TcpOutcome::Closed { rtt },
                ErrorClass::Unreachable => TcpOutcome::Unreachable { rtt },
                ErrorClass::Silent => TcpOutcome::NoAnswer,
                ErrorClass::Local => TcpOutcome::LocalError(e.to_string()),
            }
        }
    }
}

/// Opens a connection for a service probe: the same connect as [`connect`], but the
/// stream is handed back for the probe to talk over. Linger stays 0, so dropping the
/// stream resets the connection at once and leaves no state on the device.
#[allow(clippy::disallowed_methods)] // the one place TCP connections are opened
pub async fn open(
    admission: &Admission,
    port: u16,
    timeout: Duration,
    first: FirstWords,
) -> Result<Stream, TcpOutcome> {
    let addr = SocketAddr::new(admission.addr(), port);
    let (socket, held) = probe_socket(addr, STREAM_RECV_BUFFER, first == FirstWords::Ours)
        .map_err(|e| TcpOutcome::LocalError(e.to_string()))?;
    let start = Instant::now();
    match tokio::time::timeout(timeout, socket.connect(addr)).await {
        Err(_) => {
            admission.arrived(syn_retransmissions(start.elapsed()));
            Err(TcpOutcome::NoAnswer)
        }
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            admission.observe_rtt(start.elapsed());
            // What went after the SYN: the SYNs the kernel sent again and the
            // handshake's ACK, unless it is held for kenshin's first words (then its
            // room stays kept with the ACKs'). Where the kernel cannot tell, the ACK.
            let after_syn = segments_out(&stream).map_or(1, |n| n.saturating_sub(1));
            admission.arrived(after_syn);
            let ack_waits = held && after_syn == 0;
            if held {
                // The SYN-ACK ended the held mode: the ACK of each reply waits again,
                // for the next words or the close.
                hold_acks(&stream);
            }
            // The room kept for the RST and for the ACKs of what will be read goes
            // with the stream.
            let rst = admission.take_expected(1);
            let acks = admission.take_expected(u32::MAX);
            let mut stream = Stream::new(stream, admission.meter().clone(), rst, acks);
            stream.ack_waits = ack_waits;
            Ok(stream)
        }
        Ok(Err(e)) => {
            let rtt = start.elapsed();
            admission.arrived(syn_retransmissions(rtt));
            Err(match classify(&e) {
                ErrorClass::Refused => TcpOutcome::Closed { rtt },
                ErrorClass::Unreachable => TcpOutcome::Unreachable { rtt },
                ErrorClass::Silent => TcpOutcome::NoAnswer,
                ErrorClass::Local => TcpOutcome::LocalError(e.to_string()),
            })
        }
    }
}

/// The receive buffer asked for on a port-scan connect: the kernel raises it to
/// its minimum (about 2 KiB), so the window offered in the SYN is about one segment.
const SCAN_RECV_BUFFER: usize = 1;

/// The receive buffer asked for on a conversation's connection (the kernel doubles
/// it): the window stays a few segments, so a service that sends more than kenshin
/// reads can make the kernel ACK only that much before kenshin reads again, and
/// [`Stream`] keeps room for those ACKs before every read.
const STREAM_RECV_BUFFER: usize = 4096;

/// A TCP socket for one probe: linger 0, so closing sends RST at once and never
/// blocks, and a receive buffer of `recv_buffer` bytes, which bounds the window
/// the host may fill, and so the ACKs the kernel sends for it, between two reads.
/// With `hold_ack`, the handshake's ACK is held (see [`hold_acks`]); the flag
/// returned says whether the kernel took the request.
fn probe_socket(
    addr: SocketAddr,
    recv_buffer: usize,
    hold_ack: bool,
) -> io::Result<(TcpSocket, bool)> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }?;
    socket2::SockRef::from(&socket).set_linger(Some(Duration::ZERO))?;
    // Set before connect: the window scale and first window are chosen from it.
    socket.set_recv_buffer_size(u32::try_from(recv_buffer).unwrap_or(u32::MAX))?;
    let held = hold_ack && hold_acks(&socket);
    Ok((socket, held))
}

/// Turns Linux's quick-ACK mode off (`TCP_QUICKACK` 0): an ACK then waits for data
/// going the other way, the close, or the delayed-ACK timer (40–200 ms). Set before
/// a connect, it holds the handshake's own ACK: the kernel sends it with the first
/// data, or never if the connection is reset first. True if the kernel took it.
fn hold_acks(socket: &impl std::os::fd::AsFd) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        socket2::SockRef::from(socket)
            .set_tcp_quickack(false)
            .is_ok()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = socket;
        false
    }
}

/// Who speaks first on a connection opened for a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstWords {
    /// kenshin does (a TLS ClientHello, an RDP, SMB or DICOM request): the
    /// handshake's ACK waits and goes with them, one frame fewer.
    Ours,
    /// The service does (a banner): the ACK goes at once, or the service would wait
    /// for it.
    Theirs,
}

/// What a port-scan [`connect`] is admitted with: the SYN now, and room for the RST
/// that closes an open port (or for the SYN the kernel sends again to a silent one).
/// Where the kernel does not hold the handshake's ACK, room for that ACK and for the
/// RST that answers a banner already on its way when ours left.
pub fn connect_cost() -> FrameCost {
    ProbeKind::Tcp.cost()
}

/// The frames an open port's connect sent after its SYN, the closing RST included,
/// and whether the handshake's ACK went:
/// the SYNs the kernel sent again (it counts them in `segments_out`), the RST, and,
/// if the handshake's ACK went (not held, or the count shows more than the SYNs the
/// wait explains), that ACK and the RST that can answer a banner already on its way
/// when ours left: counted whether or not that one goes (it would go within a round
/// trip, after the admission's room is gone; a capture showed it take a medical
/// device's 10 frames/s cap to 11). Only a host that saw the handshake complete can
/// send a banner.
fn open_port_frames(segments_out: Option<u32>, held: bool, waited: Duration) -> (u32, bool) {
    let Some(n) = segments_out else {
        return (3, !held);
    };
    let after_syn = n.saturating_sub(1);
    let acked = !held || after_syn > syn_retransmissions(waited);
    let frames = if acked {
        after_syn.max(1) + 2
    } else {
        after_syn + 1
    };
    (frames, acked)
}

/// The soonest a host sends its SYN-ACK again when nothing answers it (Linux and
/// Windows wait a second or more): an ACK seen sooner after the answer was the
/// kernel's own choice, not its answer to a SYN-ACK sent again.
const SYN_ACK_AGAIN: Duration = Duration::from_millis(500);

/// SYNs the kernel sent again while a connect waited `waited`: Linux retransmits an
/// unanswered SYN after 1 s, then 3 s, 7 s … from the first.
pub(crate) fn syn_retransmissions(waited: Duration) -> u32 {
    let mut at = Duration::from_secs(1);
    let mut n = 0;
    while waited >= at && n < 6 {
        n += 1;
        at = at * 2 + Duration::from_secs(1);
    }
    n
}

/// Segments the kernel has sent on `stream` (`tcpi_segs_out`), where it can tell.
fn segments_out(stream: &TcpStream) -> Option<u32> {
    super::tcp_info::segments_out(stream)
}

/// The MSS of `stream`, or the smallest any IPv4 host must accept.
fn mss_of(stream: &TcpStream) -> usize {
    socket2::SockRef::from(stream)
        .tcp_mss()
        .ok()
        .filter(|m| *m >= 64)
        .map_or(536, |m| m as usize)
}

/// ACKs room is kept for after each write: a reply of a few segments, each ACKed at
/// once while the connection is young (Linux's quick-ACK mode).
const REPLY_ACKS: u32 = 3;

/// A connection opened for a conversation, charging its frames as they go: each
/// write waits for the governor's room for its segments and the ACKs of the reply;
/// after each read and when it is dropped, the kernel's own count of segments sent
/// (`TCP_INFO`) says what else went out (ACKs, retransmissions), which is counted
/// against the room kept and beyond it. Where the kernel cannot tell, each read is
/// counted as one ACK a segment.
#[derive(Debug)]
pub struct Stream {
    inner: TcpStream,
    meter: FrameMeter,
    mss: usize,
    /// The kernel's count of segments sent when last looked at, if it keeps one.
    seen: Option<u32>,
    /// Segments charged for writes that the kernel's count does not show yet.
    ahead: u32,
    /// Room kept for the closing RST (0 or 1).
    rst: u32,
    /// Room kept for the ACKs of what will be read.
    acks: u32,
    /// Bytes of the write being sent that its charge covers and that have not been
    /// written yet (a partial write leaves the rest of the same buffer). Never more than
    /// that write: with `TCP_NODELAY` every write leaves as segments of its own, so the
    /// next one is charged again before it goes.
    cleared: usize,
    ticket: Ticket,
    wait: Option<Pin<Box<Sleep>>>,
    /// ACKs the receive window can draw from the kernel between two reads.
    window_acks: u32,
    read_ticket: Ticket,
    read_wait: Option<Pin<Box<Sleep>>>,
    /// The handshake's ACK is held for kenshin's first words and has not gone yet.
    ack_waits: bool,
}

impl Stream {
    fn new(inner: TcpStream, meter: FrameMeter, rst: u32, acks: u32) -> Self {
        let mss = mss_of(&inner);
        let seen = segments_out(&inner);
        Self {
            inner,
            meter,
            mss,
            seen,
            ahead: 0,
            rst,
            acks,
            cleared: 0,
            ticket: Ticket::default(),
            wait: None,
            window_acks: segments(STREAM_RECV_BUFFER, mss),
            read_ticket: Ticket::default(),
            read_wait: None,
            ack_waits: false,
        }
    }

    /// The socket underneath.
    pub fn get_ref(&self) -> &TcpStream {
        &self.inner
    }

    /// Counts what the kernel sent since the last look, beyond the writes already
    /// charged: from the room kept for ACKs first, then as unplanned frames.
    fn settle(&mut self) {
        let Some(before) = self.seen else { return };
        let Some(now) = segments_out(&self.inner) else {
            return;
        };
        self.seen = Some(now);
        let sent = now.wrapping_sub(before);
        let extra = sent.saturating_sub(self.ahead);
        self.ahead = self.ahead.saturating_sub(sent);
        if extra > 0 {
            // Something went on its own: the held ACK, if nothing else.
            self.ack_waits = false;
        }
        self.spend(extra);
    }

    /// `frames` went out that no write charged: the room kept first, then unplanned.
    fn spend(&mut self, frames: u32) {
        let kept = frames.min(self.acks);
        self.acks -= kept;
        self.meter.arrived(kept);
        self.meter.unplanned(frames - kept);
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Reading opens the window again, and the host may fill it at once: room is
        // kept for the ACKs that draws before the read, so a host that sends more than
        // kenshin asked for gets ACKed at the cap's pace, not the link's.
        while self.acks < self.window_acks {
            if let Some(wait) = self.read_wait.as_mut() {
                ready!(wait.as_mut().poll(cx));
                self.read_wait = None;
            }
            let cost = FrameCost {
                now: 0,
                expected: self.window_acks - self.acks,
            };
            let this = &mut *self;
            match this
                .meter
                .try_send(&mut this.read_ticket, Instant::now(), cost)
            {
                Ok(()) => this.acks = this.window_acks,
                Err(at) => this.read_wait = Some(Box::pin(tokio::time::sleep_until(at))),
            }
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        let read = buf.filled().len() - before;
        if self.seen.is_some() {
            self.settle();
        } else if read > 0 {
            // No kernel count: one ACK a segment read, at least one.
            let acks = segments(read, self.mss);
            self.spend(acks);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.ack_waits && self.cleared == 0 {
            self.settle();
        }
        if self.ack_waits && self.cleared == 0 && segments(buf.len(), self.mss) == 1 {
            // kenshin's first words go in the one segment that carries the held ACK:
            // the frame the room was kept for, so it need not wait for more. What is
            // left of that room is kept for the reply's ACKs, and each read keeps room
            // for what its window can draw.
            self.ack_waits = false;
            self.spend(1);
            self.ahead = self.ahead.saturating_add(1);
            self.cleared = buf.len();
        }
        self.ack_waits = false;
        while self.cleared == 0 {
            if let Some(wait) = self.wait.as_mut() {
                ready!(wait.as_mut().poll(cx));
                self.wait = None;
            }
            let frames = segments(buf.len(), self.mss);
            // A question is sent to be answered: room is kept for the ACKs of the reply.
            // What is left of the room kept for the last reply counts toward it, so the
            // write waits only for the rest (asking for all of it anew, while that room
            // was still held, made a TLS handshake's closing alert wait at a host's cap
            // until the kernel's delayed-ACK timer sent the ACK it would have carried).
            self.settle();
            let keep = self.acks.min(REPLY_ACKS);
            let cost = FrameCost {
                now: frames,
                expected: REPLY_ACKS - keep,
            };
            let this = &mut *self;
            match this.meter.try_send(&mut this.ticket, Instant::now(), cost) {
                Ok(()) => {
                    this.meter.cancelled(this.acks - keep);
                    this.acks = REPLY_ACKS;
                    this.ahead = this.ahead.saturating_add(frames);
                    this.cleared = buf.len();
                }
                Err(at) => this.wait = Some(Box::pin(tokio::time::sleep_until(at))),
            }
        }
        let n = buf.len().min(self.cleared);
        let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &buf[..n]))?;
        self.cleared -= written;
        // A partial write leaves the rest of the charge for the next one.
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // What the kernel sent since the last read (a late ACK, a retransmission).
        self.settle();
        self.meter.cancelled(self.acks);
        // Linger 0: closing sends the RST now.
        self.meter.arrived(self.rst);
        self.meter.unplanned(1 - self.rst.min(1));
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::governor::{Governor, ProbeKind, SafetySettings};
    use crate::scope::{AddrRange, Scope, ScopeGuard};

    /// A governor with `host_rate_pps` per host, and one TCP admission to 127.0.0.1
    /// (a SYN now, room for three more frames).
    async fn admitted_on_loopback(host_rate_pps: u32) -> (Governor, Admission) {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let guard = ScopeGuard::new(
            Scope::new(vec![AddrRange::single(lo)], vec![], 16, false).expect("scope"),
        );
        let cleared = guard.clear(lo).expect("in scope");
        let gov = Governor::new(SafetySettings {
            host_rate_pps,
            ..SafetySettings::default()
        });
        let cost = FrameCost {
            now: 1,
            expected: 3,
        };
        let adm = gov
            .admit_costing(cleared, ProbeKind::Tcp, cost, &CancellationToken::new())
            .await
            .expect("admitted");
        (gov, adm)
    }

    /// A loopback service that serves one connection with `serve`; its port.
    async fn serve_once<F, Fut>(serve: F) -> u16
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            if let Ok((s, _)) = listener.accept().await {
                serve(s).await;
            }
        });
        port
    }

    /// A conversation where kenshin speaks first, opened under a governor of
    /// `host_rate_pps` a host to a loopback service that serves it with `serve`.
    async fn speaking_first<F, Fut>(host_rate_pps: u32, serve: F) -> (Governor, Admission, Stream)
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let port = serve_once(serve).await;
        let (gov, adm) = admitted_on_loopback(host_rate_pps).await;
        let stream = open(&adm, port, Duration::from_secs(2), FirstWords::Ours)
            .await
            .expect("connects");
        (gov, adm, stream)
    }

    /// Reads up to `want` bytes (less if the host closes), then drops the stream and the
    /// admission: the bytes read and the kernel's count of segments sent before the close.
    async fn read_then_close(mut stream: Stream, adm: Admission, want: usize) -> (usize, u32) {
        let mut got = 0;
        let mut buf = vec![0u8; 64 * 1024];
        while got < want {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        let kernel = segments_out(stream.get_ref()).expect("linux counts segments");
        drop(stream);
        drop(adm);
        (got, kernel)
    }

    #[tokio::test]
    async fn an_open_port_costs_its_syn_and_rst_and_its_service_never_sees_a_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let guard = ScopeGuard::new(
            Scope::new(vec![AddrRange::single(lo)], vec![], 16, false).expect("scope"),
        );
        let gov = Governor::new(SafetySettings::default());
        // Under a second the RST's room is lent to other probes while the answer is
        // awaited (no SYN retransmission can go); from a second on it stays kept.
        for timeout in [Duration::from_millis(500), Duration::from_secs(2)] {
            let adm = gov
                .admit(
                    guard.clear(lo).expect("in scope"),
                    ProbeKind::Tcp,
                    &CancellationToken::new(),
                )
                .await
                .expect("admitted");
            let outcome = connect(&adm, port, timeout).await;
            drop(adm);
            assert!(matches!(outcome, TcpOutcome::Open { .. }), "{outcome:?}");
        }
        // The handshake was never completed: nothing waits in the listener's queue.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let accepted = listener.accept();
        assert!(
            matches!(&accepted, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
            "the service accepted a connection: {accepted:?}"
        );
        assert_eq!(
            gov.tally(lo).frames.frames,
            4,
            "an open port should cost the SYN and the RST"
        );
        assert_eq!(
            gov.frame_stats().frames_sent,
            4,
            "the scan's lane counts them too"
        );
        assert_eq!(connect_cost().expected, 1, "room for the RST only");
    }

    #[tokio::test]
    async fn a_conversation_where_kenshin_speaks_first_sends_no_ack_of_its_own() {
        let (_gov, _adm, mut stream) = speaking_first(1000, |mut s| async move {
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"a short reply").await;
            let _ = s.read(&mut buf).await;
        })
        .await;
        stream.write_all(b"hello").await.expect("write");
        let mut buf = [0u8; 64];
        let n = stream.read(&mut buf).await.expect("read");
        assert_eq!(&buf[..n], b"a short reply");
        stream.write_all(b"bye").await.expect("write");
        let kernel = segments_out(stream.get_ref()).expect("linux counts segments");
        // The SYN and the two writes: the handshake's ACK rode on the first, the
        // reply's on the second.
        assert_eq!(
            kernel, 3,
            "segments sent besides the SYN and the two writes"
        );
    }

    #[tokio::test]
    async fn words_sent_after_a_reply_are_charged_before_they_leave() {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let (gov, _adm, mut stream) = speaking_first(1000, |mut s| async move {
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"a short reply").await;
            let _ = s.read(&mut buf).await;
            let _ = s.read(&mut buf).await;
        })
        .await;
        // The first words are 5 bytes of the segment the held ACK rides on: what that
        // segment could still carry is no charge for the words after the reply, which
        // leave as segments of their own (an RDP probe's ClientHello went out uncharged
        // that way, and a printer's budget of 10 frames saw 11 in one second).
        stream.write_all(b"hello").await.expect("write");
        let mut buf = [0u8; 64];
        let n = stream.read(&mut buf).await.expect("read");
        assert_eq!(&buf[..n], b"a short reply");
        for words in [&b"second words"[..], &b"third"[..]] {
            let before = gov.tally(lo).frames.frames;
            stream.write_all(words).await.expect("write");
            assert_eq!(
                gov.tally(lo).frames.frames,
                before + 1,
                "the segment of {:?} was not counted as it left",
                String::from_utf8_lossy(words)
            );
        }
    }

    #[tokio::test]
    async fn first_words_leave_with_the_held_ack_even_when_the_hosts_budget_is_spent() {
        // Two frames a second: the SYN and the room kept fill the host's window, and a
        // write that waited for a new slot would let the kernel's delayed-ACK timer
        // (at most 200 ms) send the held ACK alone first.
        let (gov, _adm, mut stream) = speaking_first(2, |mut s| async move {
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
            let _ = s.read(&mut buf).await;
        })
        .await;
        stream.write_all(b"hello").await.expect("write");
        tokio::time::sleep(Duration::from_millis(400)).await;
        let kernel = segments_out(stream.get_ref()).expect("linux counts segments");
        assert_eq!(
            kernel, 2,
            "the SYN and the hello carrying the ACK, nothing alone"
        );
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(gov.tally(lo).frames.frames, 2, "both counted");
    }

    #[tokio::test]
    async fn a_conversation_counts_every_frame_the_kernel_sent_and_its_rst() {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let (gov, adm, mut stream) = speaking_first(1000, |mut s| async move {
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
            // A reply of three segments' worth, for the client to ACK.
            let _ = s.write_all(&vec![b'x'; 3 * 65_000]).await;
            let _ = s.read(&mut buf).await;
        })
        .await;
        stream.write_all(b"hello").await.expect("write");
        let (_, kernel) = read_then_close(stream, adm, 3 * 65_000).await;
        let counted = gov.tally(lo).frames.frames;
        // Everything the kernel sent (SYN, ACK, the write, the ACKs of the reply) and the
        // RST of the close, give or take an ACK sent after the last look.
        assert!(
            (u64::from(kernel) + 1..=u64::from(kernel) + 3).contains(&counted),
            "kenshin counted {counted} frames; the kernel sent {kernel} and the RST"
        );
    }

    #[tokio::test]
    async fn a_host_that_sends_more_than_is_read_is_acked_at_the_caps_pace() {
        const SENT: usize = 100_000;
        let port = serve_once(|mut s| async move {
            // It talks first, and far more than one window.
            let _ = s.write_all(&vec![b'x'; SENT]).await;
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
        })
        .await;
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        const CAP: u32 = 20;
        let (gov, adm) = admitted_on_loopback(CAP).await;
        let stream = open(&adm, port, Duration::from_secs(2), FirstWords::Theirs)
            .await
            .expect("connects");
        let (got, kernel) = read_then_close(stream, adm, SENT).await;
        assert_eq!(got, SENT, "read everything");
        let tally = gov.tally(lo).frames;
        // Every ACK the reads drew was counted, and no second carried more than the cap.
        assert!(
            tally.frames > u64::from(kernel),
            "counted {} of the kernel's {kernel}",
            tally.frames
        );
        assert!(
            tally.peak_second <= CAP,
            "{} frames in one second against a cap of {CAP} ({} in all)",
            tally.peak_second,
            tally.frames
        );
    }
}
