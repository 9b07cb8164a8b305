//! Frame accounting over time: the pacer that spaces frames evenly, and the
//! sliding one-second window that holds every fixed one-second window on the
//! wire under a cap.
//!
//! A frame is anything kenshin causes to leave its interface: a SYN, the ACK and
//! RST the kernel sends to complete or end a connect, a data segment, the ACK of
//! received data, an ICMP echo, an ARP request, a UDP datagram. Some of these
//! kenshin sends when it chooses (a SYN, a write); others the kernel sends on its
//! own schedule (the ACK of a SYN-ACK, the ACK of a reply). So the window keeps
//! two numbers: frames already on the wire in the last second, and frames
//! *expected* from connections still open (the RST at close, the ACK of a
//! SYN-ACK not yet seen). A new send is admitted only when
//!
//! ```text
//! on the wire in the last second + expected + this send ≤ cap
//! ```
//!
//! and an expected frame that goes out moves from one number to the other, so
//! the sum never passes the cap. A reserve of the cap (a twentieth of a small cap,
//! less of a large one: [`reserve`]) is left to frames no one announced. Any
//! one-second interval, and so every fixed one-second window a capture is cut
//! into, then carries at most `cap` frames,
//! unless the kernel sends more than was expected (a retransmission); those
//! frames are counted when kenshin learns of them and delay what follows.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// The length of the window every cap is stated over.
pub const WINDOW: Duration = Duration::from_secs(1);

/// Evenly spaced send slots: each charge of `n` frames takes the next slot and
/// pushes the one after it `n` intervals on. Idle time is not banked, so there are
/// never bursts.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    next: Option<Instant>,
}

impl Pacer {
    pub(crate) fn new(rate_pps: u32) -> Self {
        Self {
            interval: WINDOW / rate_pps.max(1),
            next: None,
        }
    }

    /// The slot for a send of `frames` frames, at `now` or later.
    pub(crate) fn reserve(&mut self, now: Instant, frames: u32) -> Instant {
        let slot = self.next.map_or(now, |n| n.max(now));
        self.next = Some(slot + self.interval * frames.max(1));
        slot
    }

    /// Frames that went out unplanned still use up their share of time.
    pub(crate) fn push_back(&mut self, now: Instant, frames: u32) {
        let from = self.next.map_or(now, |n| n.max(now));
        self.next = Some(from + self.interval * frames);
    }

    /// A new rate from now on.
    pub(crate) fn set_rate(&mut self, rate_pps: u32) {
        self.interval = WINDOW / rate_pps.max(1);
    }

    /// Stretches the spacing by `factor`, at most to two seconds a frame.
    pub(crate) fn slow_down(&mut self, factor: u32) {
        self.interval = (self.interval * factor).min(Duration::from_secs(2));
    }
}

/// Frames counted in fixed one-second windows from a common origin, as kenshin
/// counted them: the figure the report states next to the capture's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Frames sent in all.
    pub frames: u64,
    /// The largest count in any one fixed second since the origin.
    pub peak_second: u32,
    /// Seconds after the origin at which that largest count fell.
    pub peak_at_s: u64,
    second: u64,
    in_second: u32,
}

impl Tally {
    fn add(&mut self, origin: Instant, now: Instant, frames: u32) {
        let second = now.saturating_duration_since(origin).as_secs();
        if second != self.second {
            self.second = second;
            self.in_second = 0;
        }
        self.in_second = self.in_second.saturating_add(frames);
        self.frames += u64::from(frames);
        if self.in_second > self.peak_second {
            self.peak_second = self.in_second;
            self.peak_at_s = second;
        }
    }
}

/// A host lane's pacer and window, folded into 32 bytes while nothing holds the host
/// (see `Resting` in the governor). Instants are kept as milliseconds from the scan's
/// origin, rounded towards the stricter side: the pacer's next slot and the window's
/// last frame are rounded up, and every frame still in the window counts as sent at
/// that last frame, so an unfolded lane never admits a frame the live one would not
/// have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FoldedLane {
    frames: u32,
    peak_second: u32,
    peak_at_s: u32,
    second: u32,
    in_second: u32,
    /// The last frame still in the window, or [`NEVER`].
    last_ms: u32,
    in_window: u32,
    /// The pacer's next slot, or [`NEVER`].
    next_ms: u32,
}

/// A folded instant that is not set.
pub(crate) const NEVER: u32 = u32::MAX;

/// `at` as whole milliseconds from `origin`, rounded up; `None` past what a `u32` holds.
pub(crate) fn ms_up(origin: Instant, at: Instant) -> Option<u32> {
    let us = at
        .saturating_duration_since(origin)
        .as_micros()
        .div_ceil(1000);
    u32::try_from(us).ok().filter(|&ms| ms != NEVER)
}

/// `at` as whole milliseconds from `origin`, rounded down.
pub(crate) fn ms_down(origin: Instant, at: Instant) -> Option<u32> {
    let ms = at.saturating_duration_since(origin).as_millis();
    u32::try_from(ms).ok().filter(|&ms| ms != NEVER)
}

/// The instant `ms` milliseconds after `origin`; `None` for [`NEVER`].
pub(crate) fn at_ms(origin: Instant, ms: u32) -> Option<Instant> {
    (ms != NEVER).then(|| origin + Duration::from_millis(u64::from(ms)))
}

impl FoldedLane {
    /// Folds a lane of cap `rate` whose pacer and window are as [`Pacer::new`] and
    /// [`FrameWindow::new`] made them for `rate` (no learned budget, not slowed), with
    /// no frames expected and none unannounced. `None` when the lane does not fold
    /// exactly that way, or a figure outgrows 32 bits: then it stays as it is.
    pub(crate) fn fold(
        pacer: &Pacer,
        window: &mut FrameWindow,
        rate: u32,
        now: Instant,
    ) -> Option<Self> {
        let fresh = Pacer::new(rate);
        if pacer.interval != fresh.interval
            || window.cap != rate.max(1)
            || window.expected != 0
            || window.unplanned != Tally::default()
        {
            return None;
        }
        window.expire(now);
        let origin = window.origin;
        let (last_ms, in_window) = match window.sent.back() {
            Some(&(at, _)) => (ms_up(origin, at)?, window.in_window),
            None => (NEVER, 0),
        };
        let next_ms = match pacer.next {
            Some(at) => ms_up(origin, at)?,
            None => NEVER,
        };
        let t = window.tally;
        Some(Self {
            frames: u32::try_from(t.frames).ok()?,
            peak_second: t.peak_second,
            peak_at_s: u32::try_from(t.peak_at_s).ok()?,
            second: u32::try_from(t.second).ok()?,
            in_second: t.in_second,
            last_ms,
            in_window,
            next_ms,
        })
    }

    /// The frames counted so far.
    pub(crate) fn tally(&self) -> Tally {
        Tally {
            frames: u64::from(self.frames),
            peak_second: self.peak_second,
            peak_at_s: u64::from(self.peak_at_s),
            second: u64::from(self.second),
            in_second: self.in_second,
        }
    }

    /// The pacer and window again, for a lane of cap `rate` counted from `origin`.
    pub(crate) fn unfold(&self, rate: u32, origin: Instant) -> (Pacer, FrameWindow) {
        let mut pacer = Pacer::new(rate);
        pacer.next = at_ms(origin, self.next_ms);
        let mut window = FrameWindow::new(rate, origin);
        if let Some(at) = at_ms(origin, self.last_ms) {
            window.sent.push_back((at, self.in_window));
            window.in_window = self.in_window;
        }
        window.tally = self.tally();
        (pacer, window)
    }
}

/// The frames of a one-second `cap` left to frames no one announced: a twentieth of
/// it, at least one frame of any cap above one, and no more than 10 frames and a
/// hundredth of the cap.
///
/// At small caps one frame is a large share: a class budget of 10 frames a second
/// that kept nothing back let a lost RST draw the host's SYN-ACK again, the kernel's
/// RST answered it, and a capture counted 11 frames to a printer in one second. At
/// large caps unannounced frames stay few, because they come from the rare answer that
/// arrives after its wait and from retransmissions at the link's loss: a full default
/// scan of the bench lab at 1000 frames/s (0.5 % loss each way on its routed link)
/// sent 22 of 139,507 frames unannounced, at most 5 in one second
/// (`scan.stats.frames.unplanned_peak_second`), where a twentieth would have kept 50
/// idle every second. Every report states that peak beside the cap, so a network
/// where they are many shows it.
pub(crate) fn reserve(cap: u32) -> u32 {
    (cap / 20).min(10 + cap / 100).max(u32::from(cap > 1))
}

/// How soon a send that other sends' claims leave no room for asks again.
const CLAIM_RECHECK: Duration = Duration::from_millis(10);

/// One cap over a sliding second: frames on the wire and frames expected.
#[derive(Debug)]
pub(crate) struct FrameWindow {
    cap: u32,
    sent: VecDeque<(Instant, u32)>,
    in_window: u32,
    expected: u32,
    origin: Instant,
    tally: Tally,
    /// The frames among them that went out unannounced: what the cap's reserve is for.
    unplanned: Tally,
}

impl FrameWindow {
    pub(crate) fn new(cap: u32, origin: Instant) -> Self {
        Self {
            cap: cap.max(1),
            sent: VecDeque::new(),
            in_window: 0,
            expected: 0,
            origin,
            tally: Tally::default(),
            unplanned: Tally::default(),
        }
    }

    /// Frames room is kept for.
    #[cfg(test)]
    pub(crate) fn expected_frames(&self) -> u32 {
        self.expected
    }

    pub(crate) fn set_cap(&mut self, cap: u32) {
        self.cap = cap.max(1);
    }

    pub(crate) fn tally(&self) -> Tally {
        self.tally
    }

    /// The frames that went out unannounced ([`FrameWindow::record_unplanned`]).
    pub(crate) fn unplanned_tally(&self) -> Tally {
        self.unplanned
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(at, n)) = self.sent.front() {
            if now.saturating_duration_since(at) >= WINDOW {
                self.sent.pop_front();
                self.in_window -= n;
            } else {
                break;
            }
        }
    }

    /// `None` if `frames` more frames fit now; otherwise the earliest instant they
    /// may fit (when enough of the last second's frames have aged out). A send
    /// larger than the cap itself waits for an empty window and then goes: a
    /// connect cannot be cut in pieces.
    #[cfg(test)]
    pub(crate) fn room(&mut self, now: Instant, frames: u32) -> Option<Instant> {
        self.room_leaving(now, frames, 0)
    }

    /// [`FrameWindow::room`] for a send that must also leave `reserved` frames free:
    /// the room claimed by sends that have waited long (see `Claim` in the governor),
    /// so that a steady stream of small sends cannot starve a large one. When the
    /// claims leave no room even in an empty window, the send asks again shortly,
    /// once the claimants have gone.
    pub(crate) fn room_leaving(
        &mut self,
        now: Instant,
        frames: u32,
        reserved: u32,
    ) -> Option<Instant> {
        self.expire(now);
        let limit = self.planned_limit();
        let alone = self.expected.saturating_add(frames);
        let need = alone.saturating_add(reserved);
        if self.in_window.saturating_add(need) <= limit {
            return None;
        }
        if alone >= limit {
            return self.sent.back().map(|&(at, _)| at + WINDOW);
        }
        if need >= limit {
            return Some(now + CLAIM_RECHECK);
        }
        let mut left = self.in_window;
        for &(at, n) in &self.sent {
            left -= n;
            if left + need <= limit {
                return Some(at + WINDOW);
            }
        }
        self.sent.back().map(|&(at, _)| at + WINDOW)
    }

    /// What planned sends may fill of the cap: all of it but the reserve left for
    /// frames the kernel sends unannounced (a retransmission, the RST it answers a late
    /// segment with), so that they too stay under the cap. See [`reserve`].
    fn planned_limit(&self) -> u32 {
        self.cap - reserve(self.cap)
    }

    /// `frames` frames went on the wire at `now`.
    pub(crate) fn record(&mut self, now: Instant, frames: u32) {
        if frames == 0 {
            return;
        }
        self.expire(now);
        self.sent.push_back((now, frames));
        self.in_window += frames;
        self.tally.add(self.origin, now, frames);
    }

    /// `frames` frames no one kept room for went on the wire at `now`: counted like
    /// any other, and tallied apart, so a scan can show how much of the reserve
    /// ([`reserve`]) they took.
    pub(crate) fn record_unplanned(&mut self, now: Instant, frames: u32) {
        if frames > 0 {
            self.record(now, frames);
            self.unplanned.add(self.origin, now, frames);
        }
    }

    /// `frames` frames will follow from a send just admitted.
    pub(crate) fn expect(&mut self, frames: u32) {
        self.expected = self.expected.saturating_add(frames);
    }

    /// Up to `frames` expected frames went on the wire at `now`; any beyond what was
    /// expected are counted all the same.
    pub(crate) fn arrive(&mut self, now: Instant, frames: u32) {
        self.expected = self.expected.saturating_sub(frames);
        self.record(now, frames);
    }

    /// `frames` expected frames will not be sent after all.
    pub(crate) fn cancel(&mut self, frames: u32) {
        self.expected = self.expected.saturating_sub(frames);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest number of frames in any one-second interval starting at any of
    /// the sends (the worst fixed window a capture could be cut into).
    fn worst_second(sends: &[(Instant, u32)]) -> u32 {
        sends
            .iter()
            .map(|&(from, _)| {
                sends
                    .iter()
                    .filter(|&&(at, _)| at >= from && at < from + WINDOW)
                    .map(|&(_, n)| n)
                    .sum()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn a_send_waits_until_the_last_seconds_frames_age_out() {
        let t0 = Instant::now();
        let mut w = FrameWindow::new(20, t0);
        for i in 0..19 {
            assert_eq!(w.room(t0 + Duration::from_millis(i * 10), 1), None);
            w.record(t0 + Duration::from_millis(i * 10), 1);
        }
        let at = w
            .room(t0 + Duration::from_millis(200), 3)
            .expect("the window is full");
        // Planned sends fill 19 of 20 (one kept for the unannounced): three more fit
        // once the first three have aged out.
        assert_eq!(at, t0 + Duration::from_millis(20) + WINDOW);
    }

    #[test]
    fn small_caps_keep_a_twentieth_for_unannounced_frames_and_large_ones_a_hundredth_and_ten() {
        let kept = |cap| (cap, reserve(cap));
        assert_eq!(kept(1), (1, 0), "a cap of one frame has nothing to spare");
        // A printer's or a medical device's budget keeps at least one frame.
        assert_eq!(kept(10), (10, 1));
        assert_eq!(kept(40), (40, 2));
        assert_eq!(kept(60), (60, 3));
        assert_eq!(kept(200), (200, 10));
        // From 250 frames a second the hundredth and ten is the smaller.
        assert_eq!(kept(1000), (1000, 20));
        assert_eq!(kept(20_000), (20_000, 210));
        assert_eq!(kept(100_000), (100_000, 1010));
        for cap in 2..=100_000 {
            let r = reserve(cap);
            assert!(r >= 1 && r <= cap / 10 + 1, "cap {cap} keeps {r}");
        }
    }

    #[test]
    fn expected_frames_hold_their_room_until_they_go_out() {
        let t0 = Instant::now();
        // A cap of 5: planned sends fill 4 of it.
        let mut w = FrameWindow::new(5, t0);
        w.record(t0, 1);
        w.expect(2);
        assert!(w.room(t0, 2).is_some(), "1 sent + 2 expected + 2 new > 4");
        assert_eq!(w.room(t0, 1), None);
        w.arrive(t0 + Duration::from_millis(1), 2);
        assert_eq!(w.tally().frames, 3);
        w.cancel(5);
        assert_eq!(w.room(t0 + Duration::from_millis(2), 1), None);
    }

    #[test]
    fn unannounced_frames_count_against_the_cap_and_are_tallied_apart() {
        let t0 = Instant::now();
        let mut w = FrameWindow::new(20, t0);
        w.record(t0, 10);
        w.record_unplanned(t0 + Duration::from_millis(10), 3);
        // The 13 frames of the first second leave room for 6 planned ones (19 of 20).
        let at = t0 + Duration::from_millis(20);
        assert_eq!(w.room(at, 6), None);
        assert!(w.room(at, 7).is_some());
        w.record_unplanned(t0 + Duration::from_millis(1500), 2);
        assert_eq!(w.tally().frames, 15);
        let u = w.unplanned_tally();
        assert_eq!((u.frames, u.peak_second, u.peak_at_s), (5, 3, 0));
    }

    #[test]
    fn the_tally_keeps_the_largest_fixed_second() {
        let t0 = Instant::now();
        let mut w = FrameWindow::new(100, t0);
        w.record(t0 + Duration::from_millis(100), 5);
        w.record(t0 + Duration::from_millis(1100), 7);
        w.record(t0 + Duration::from_millis(1900), 2);
        w.record(t0 + Duration::from_millis(2100), 1);
        let t = w.tally();
        assert_eq!((t.frames, t.peak_second, t.peak_at_s), (15, 9, 1));
    }

    /// Connects to one host, the way the governor admits them: each needs room for
    /// its SYN now and its ACK and RST to come, and half of them find the port open.
    #[test]
    fn every_one_second_window_stays_within_the_cap_for_connects_that_close_late() {
        let t0 = Instant::now();
        let cap = 40;
        let mut w = FrameWindow::new(cap, t0);
        let mut pacer = Pacer::new(cap);
        let mut now = t0;
        let mut wire = Vec::new();
        // (closes at, frames still expected) for connections that are open
        let mut open: Vec<(Instant, u32)> = Vec::new();
        for i in 0..600u32 {
            let mut at = pacer.reserve(now, 1);
            while let Some(later) = {
                // frames the kernel sends for open connections, up to `at`
                open.sort_by_key(|&(t, _)| t);
                while let Some(&(t, n)) = open.first() {
                    if t > at {
                        break;
                    }
                    w.arrive(t, n);
                    pacer.push_back(t, n);
                    wire.push((t, n));
                    open.remove(0);
                }
                w.room(at, 3)
            } {
                at = later;
            }
            w.record(at, 1);
            wire.push((at, 1));
            w.expect(2);
            if i % 2 == 0 {
                // open: the ACK at once, the RST when the conversation ends, 0.5–3 s later
                w.arrive(at + Duration::from_micros(300), 1);
                pacer.push_back(at + Duration::from_micros(300), 1);
                wire.push((at + Duration::from_micros(300), 1));
                let close = at + Duration::from_millis(500 + u64::from(i % 7) * 400);
                open.push((close, 1));
            } else {
                w.cancel(2); // refused: the RST comes from the host, not from kenshin
            }
            now = at;
        }
        for (t, n) in open {
            wire.push((t, n));
        }
        wire.sort_by_key(|&(t, _)| t);
        let worst = worst_second(&wire);
        assert!(
            f64::from(worst) <= f64::from(cap) * 1.05,
            "a one-second window carried {worst} frames against a cap of {cap}"
        );
        // Room held for RSTs that come seconds later costs throughput, not more.
        assert!(worst >= cap * 2 / 3, "the cap was not used: {worst}");
    }
}
