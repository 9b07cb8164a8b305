//! Captures on the wire, to measure what kenshin sends from outside kenshin:
//! `tcpdump -w` on a lab namespace's interface while a scan runs, then the pcap
//! file read here (the classic libpcap format is simple enough to parse by hand:
//! a 24-byte file header, then a 16-byte header before each frame) and each
//! Ethernet frame decoded as far as the tests need: ARP, IPv4, and the TCP, UDP
//! and ICMP headers with the payload bytes captured.
//!
//! Also the one thing a test does to the lab mid-scan: [`Lab::drop_from_scanner`],
//! an nft rule that makes a host drop everything the scanner sends from then on.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::command::nft;
use crate::Lab;

/// A tcpdump running in a namespace, writing every frame of `eth0` to a file.
#[derive(Debug)]
pub struct Capture {
    child: Child,
    path: PathBuf,
    ns: String,
}

impl Capture {
    /// Starts `tcpdump` on `eth0` in namespace `ns`, writing to `path`, and returns once
    /// it is capturing (it says so on stderr). Immediate mode: without it the kernel
    /// hands tcpdump its frames a block at a time, up to a second late, and a capture
    /// stopped within that second of a short scan held none of its frames.
    pub fn start(ns: &str, path: &Path) -> Result<Self> {
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "tcpdump",
                "--immediate-mode",
                "-i",
                "eth0",
                "-n",
                "-U",
                "-s",
                "0",
            ])
            .arg("-w")
            .arg(path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start tcpdump in {ns} (is tcpdump installed?)"))?;
        let stderr = child.stderr.take().context("tcpdump's stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("listening on") => break,
                Some(Ok(_)) if Instant::now() < deadline => {}
                other => {
                    let _ = child.kill();
                    let _ = child.wait();
                    bail!("tcpdump in {ns} did not start capturing: {other:?}");
                }
            }
        }
        // Keep draining stderr so tcpdump never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Self {
            child,
            path: path.to_owned(),
            ns: ns.to_owned(),
        })
    }

    /// Stops the capture (SIGINT, so tcpdump flushes and closes the file) and reads
    /// every frame it wrote.
    pub fn stop(mut self) -> Result<Vec<Frame>> {
        // Frames still in flight reach the interface within this pause.
        std::thread::sleep(Duration::from_millis(300));
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!("tcpdump in {} did not stop", self.ns);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let bytes = std::fs::read(&self.path)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        parse_pcap(&bytes).with_context(|| format!("{}", self.path.display()))
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What a frame carries, as far as the tests look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carried {
    /// An ARP packet: who asks, and about which address.
    Arp { sender: Ipv4Addr, target: Ipv4Addr },
    /// IPv4: addresses, protocol, and for TCP and UDP the ports and the payload.
    Ipv4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        src_port: Option<u16>,
        dst_port: Option<u16>,
        /// TCP flags (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10).
        tcp_flags: Option<u8>,
        /// Payload length from the IP header (what was on the wire).
        payload_len: usize,
        /// The payload bytes captured.
        payload: Vec<u8>,
    },
    /// Anything else (IPv6, LLDP …).
    Other(u16),
}

/// One frame of a capture.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Seconds since the Unix epoch.
    pub at: f64,
    pub carried: Carried,
}

impl Frame {
    /// True if `addr` sent this frame (its IPv4 source or ARP sender).
    pub fn from(&self, addr: Ipv4Addr) -> bool {
        match &self.carried {
            Carried::Arp { sender, .. } => *sender == addr,
            Carried::Ipv4 { src, .. } => *src == addr,
            Carried::Other(_) => false,
        }
    }

    /// The address the frame is for (IPv4 destination, or the address an ARP asks about).
    pub fn about(&self) -> Option<Ipv4Addr> {
        match &self.carried {
            Carried::Arp { target, .. } => Some(*target),
            Carried::Ipv4 { dst, .. } => Some(*dst),
            Carried::Other(_) => None,
        }
    }
}

fn u16_at(b: &[u8], at: usize, big: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
    Some(if big {
        u16::from_be_bytes(s)
    } else {
        u16::from_le_bytes(s)
    })
}

fn u32_at(b: &[u8], at: usize, big: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    })
}

fn ipv4_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(Ipv4Addr::from(s))
}

/// Reads a classic pcap file (either byte order, micro- or nanosecond stamps) of
/// Ethernet frames.
pub fn parse_pcap(bytes: &[u8]) -> Result<Vec<Frame>> {
    let magic = u32_at(bytes, 0, true).context("shorter than a pcap header")?;
    let (big, nanos) = match magic {
        0xa1b2_c3d4 => (true, false),
        0xd4c3_b2a1 => (false, false),
        0xa1b2_3c4d => (true, true),
        0x4d3c_b2a1 => (false, true),
        other => bail!("not a pcap file (magic {other:#010x})"),
    };
    let link = u32_at(bytes, 20, big).context("truncated pcap header")?;
    ensure!(link == 1, "link type {link} is not Ethernet");
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let sec = u32_at(bytes, at, big).context("record header")?;
        let frac = u32_at(bytes, at + 4, big).context("record header")?;
        let incl = u32_at(bytes, at + 8, big).context("record header")? as usize;
        let data = bytes
            .get(at + 16..at + 16 + incl)
            .with_context(|| format!("a frame at byte {at} runs past the end of the file"))?;
        let frac = f64::from(frac) / if nanos { 1e9 } else { 1e6 };
        frames.push(Frame {
            at: f64::from(sec) + frac,
            carried: decode(data),
        });
        at += 16 + incl;
    }
    Ok(frames)
}

/// Decodes one Ethernet frame as far as [`Carried`] goes.
fn decode(f: &[u8]) -> Carried {
    let Some(mut ethertype) = u16_at(f, 12, true) else {
        return Carried::Other(0);
    };
    let mut l3 = 14;
    if ethertype == 0x8100 {
        ethertype = u16_at(f, 16, true).unwrap_or(0);
        l3 = 18;
    }
    match ethertype {
        0x0806 => match (ipv4_at(f, l3 + 14), ipv4_at(f, l3 + 24)) {
            (Some(sender), Some(target)) => Carried::Arp { sender, target },
            _ => Carried::Other(ethertype),
        },
        0x0800 => decode_ipv4(f, l3).unwrap_or(Carried::Other(ethertype)),
        other => Carried::Other(other),
    }
}

fn decode_ipv4(f: &[u8], l3: usize) -> Option<Carried> {
    let ihl = usize::from(f.get(l3)? & 0x0f) * 4;
    let total = usize::from(u16_at(f, l3 + 2, true)?);
    let protocol = *f.get(l3 + 9)?;
    let src = ipv4_at(f, l3 + 12)?;
    let dst = ipv4_at(f, l3 + 16)?;
    let l4 = l3 + ihl;
    let (src_port, dst_port, tcp_flags, header) = match protocol {
        6 => {
            let offset = usize::from(f.get(l4 + 12)? >> 4) * 4;
            (
                u16_at(f, l4, true),
                u16_at(f, l4 + 2, true),
                f.get(l4 + 13).copied(),
                offset,
            )
        }
        17 => (u16_at(f, l4, true), u16_at(f, l4 + 2, true), None, 8),
        _ => (None, None, None, 0),
    };
    let payload_len = total.saturating_sub(ihl + header);
    let start = (l4 + header).min(f.len());
    let end = (l3 + total).min(f.len()).max(start);
    Some(Carried::Ipv4 {
        src,
        dst,
        protocol,
        src_port,
        dst_port,
        tcp_flags,
        payload_len,
        payload: f[start..end].to_vec(),
    })
}

/// The most frames in any fixed one-second window, windows counted from `origin`
/// (seconds since the epoch), with the window's start.
pub fn busiest_fixed_second(times: &[f64], origin: f64) -> (usize, f64) {
    let mut counts = std::collections::BTreeMap::<i64, usize>::new();
    for t in times {
        *counts.entry((t - origin).floor() as i64).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(second, n)| (n, std::cmp::Reverse(second)))
        .map_or((0, origin), |(second, n)| (n, origin + second as f64))
}

/// The most frames in any one-second interval at all (every fixed window, wherever
/// the windows start, holds at most this many).
pub fn busiest_any_second(times: &[f64]) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..sorted.len() {
        while sorted[hi] - sorted[lo] >= 1.0 {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

impl Lab {
    /// Makes namespace `ns` drop everything the scanner sends to `addr`, from now on:
    /// a host that stops answering mid-scan.
    pub fn drop_from_scanner(&self, ns: &str, addr: &str) -> Result<()> {
        nft(
            ns,
            &format!(
                "table inet gone {{ chain input {{ type filter hook input priority -20; \
                 ip saddr {} ip daddr {addr} drop; }} }}",
                crate::SCANNER_ADDR
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcap file of `frames` (microsecond stamps, little-endian, Ethernet).
    fn pcap(frames: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&65535u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        for (sec, usec, data) in frames {
            b.extend_from_slice(&sec.to_le_bytes());
            b.extend_from_slice(&usec.to_le_bytes());
            let n = u32::try_from(data.len()).expect("small");
            b.extend_from_slice(&n.to_le_bytes());
            b.extend_from_slice(&n.to_le_bytes());
            b.extend_from_slice(data);
        }
        b
    }

    fn tcp_frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = u16::try_from(20 + 20 + payload.len()).expect("small");
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&[198, 18, 1, 2, 198, 18, 2, 10]);
        f.extend_from_slice(&40000u16.to_be_bytes());
        f.extend_from_slice(&104u16.to_be_bytes());
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&[0x50, 0x18, 0, 0, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn a_tcp_segment_is_read_with_its_addresses_ports_flags_and_payload() {
        let file = pcap(&[(1_700_000_000, 250_000, tcp_frame(b"\x01\x00"))]);
        let frames = parse_pcap(&file).expect("parses");
        assert_eq!(frames.len(), 1);
        assert!((frames[0].at - 1_700_000_000.25).abs() < 1e-6);
        assert!(frames[0].from(Ipv4Addr::new(198, 18, 1, 2)));
        assert_eq!(frames[0].about(), Some(Ipv4Addr::new(198, 18, 2, 10)));
        match &frames[0].carried {
            Carried::Ipv4 {
                dst_port,
                tcp_flags,
                payload_len,
                payload,
                ..
            } => {
                assert_eq!(*dst_port, Some(104));
                assert_eq!(*tcp_flags, Some(0x18));
                assert_eq!(*payload_len, 2);
                assert_eq!(payload, b"\x01\x00");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_file_cut_mid_frame_is_an_error_not_a_short_count() {
        let mut file = pcap(&[(1, 0, tcp_frame(b"abc"))]);
        file.truncate(file.len() - 2);
        assert!(parse_pcap(&file).is_err());
    }

    #[test]
    fn fixed_windows_and_any_window_are_counted_apart() {
        // Each fixed second from 10.0 holds 3; the second from 10.9 holds 4.
        let t = [10.0, 10.1, 10.9, 11.0, 11.05, 11.8];
        assert_eq!(busiest_fixed_second(&t, 10.0), (3, 10.0));
        assert_eq!(busiest_any_second(&t), 4);
    }
}
