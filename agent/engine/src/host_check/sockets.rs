//! Listening sockets of this machine, from /proc/net/{tcp,tcp6,udp,udp6}, and the
//! processes that own them, from the `socket:[inode]` links under /proc/PID/fd.
//! The parser is bounded: at most [`MAX_LINES`] lines per table; malformed lines are
//! skipped.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use kenshin_probe::ports::Protocol;

/// Most socket lines read from one table.
const MAX_LINES: usize = 100_000;

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listener {
    pub protocol: Protocol,
    pub address: IpAddr,
    pub port: u16,
    pub inode: u64,
}

impl Listener {
    /// True if only this machine can reach it.
    pub(crate) fn is_loopback(&self) -> bool {
        match self.address {
            IpAddr::V4(a) => a.is_loopback(),
            IpAddr::V6(a) => {
                a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        }
    }
}

/// Decodes the kernel's hex address: IPv4 as one native-endian 32-bit word, IPv6 as
/// four of them.
fn parse_addr(hex: &str) -> Option<IpAddr> {
    // Each word is printed as the machine reads the address's bytes from memory.
    let word = |s: &str| u32::from_str_radix(s, 16).ok();
    match hex.len() {
        8 => {
            let w = word(hex)?;
            Some(IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes())))
        }
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                let w = word(hex.get(i * 8..i * 8 + 8)?)?;
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

/// The listening sockets in one /proc/net table. TCP sockets in state LISTEN (0A);
/// UDP sockets with no remote end.
pub(crate) fn parse_table(text: &str, protocol: Protocol) -> Vec<Listener> {
    text.lines()
        .skip(1)
        .take(MAX_LINES)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (local, remote, state, inode) = (f.get(1)?, f.get(2)?, f.get(3)?, f.get(9)?);
            let listening = match protocol {
                Protocol::Tcp => *state == "0A",
                Protocol::Udp => {
                    remote.rsplit_once(':').is_some_and(|(_, p)| p == "0000") && *state == "07"
                }
            };
            if !listening {
                return None;
            }
            let (addr, port) = local.rsplit_once(':')?;
            Some(Listener {
                protocol,
                address: parse_addr(addr)?,
                port: u16::from_str_radix(port, 16).ok()?,
                inode: inode.parse().ok()?,
            })
        })
        .collect()
}

/// Every listening socket of this machine, deduplicated.
pub(crate) fn listeners() -> Vec<Listener> {
    let mut out = Vec::new();
    for (file, proto) in [
        ("/proc/net/tcp", Protocol::Tcp),
        ("/proc/net/tcp6", Protocol::Tcp),
        ("/proc/net/udp", Protocol::Udp),
        ("/proc/net/udp6", Protocol::Udp),
    ] {
        if let Ok(text) = std::fs::read_to_string(file) {
            out.extend(parse_table(&text, proto));
        }
    }
    out.sort_by_key(|l| (l.protocol, l.port, l.address));
    out.dedup_by_key(|l| (l.protocol, l.port, l.address));
    out
}

/// The process owning each socket inode: (pid, name). Sockets of other users'
/// processes are found only when run as root.
pub(crate) fn owners() -> HashMap<u64, (u32, String)> {
    let mut out = HashMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let name = std::fs::read_to_string(p.path().join("comm"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let inode = link
                .to_str()
                .and_then(|s| s.strip_prefix("socket:["))
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u64>().ok());
            if let Some(i) = inode {
                out.entry(i).or_insert_with(|| (pid, name.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from /proc/net/tcp and /proc/net/tcp6 of a Debian 12 machine.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21817 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23304 1 0000000000000000 100 0 0 10 0
   2: 0A00020F:0016 0202000A:D2F4 01 00000000:00000000 02:0009C2B6 00000000     0        0 40021 4 0000000000000000 20 4 30 10 -1
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21819 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 24114 1 0000000000000000 100 0 0 10 0
";
    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:00A1 00000000:0000 07 00000000:00000000 00:00000000 00000000   110        0 31337 2 0000000000000000 0
  101: 0100007F:0035 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 31338 2 0000000000000000 0
";

    #[test]
    fn listening_tcp_sockets_are_read_with_their_address_port_and_inode() {
        let l = parse_table(TCP, Protocol::Tcp);
        assert_eq!(
            l.len(),
            2,
            "the established connection is not a listener: {l:?}"
        );
        assert_eq!(l[0].address, IpAddr::from([0, 0, 0, 0]));
        assert_eq!((l[0].port, l[0].inode), (22, 21817));
        assert_eq!(l[1].address, IpAddr::from([127, 0, 0, 1]));
        assert!(l[1].is_loopback() && !l[0].is_loopback());
    }

    #[test]
    fn ipv6_addresses_are_decoded_word_by_word() {
        let l = parse_table(TCP6, Protocol::Tcp);
        assert_eq!(l[0].address, "::".parse::<IpAddr>().expect("addr"));
        assert_eq!(l[1].address, "::1".parse::<IpAddr>().expect("addr"));
        assert_eq!(l[1].port, 631);
        assert!(l[1].is_loopback());
    }

    #[test]
    fn an_unconnected_udp_socket_listens_and_a_connected_one_does_not() {
        let l = parse_table(UDP, Protocol::Udp);
        assert_eq!(l.len(), 1);
        assert_eq!((l[0].port, l[0].inode), (161, 31337));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let junk = "header\n0: zz:0016 00000000:0000 0A a b c d e 1\nshort line\n\n";
        assert!(parse_table(junk, Protocol::Tcp).is_empty());
    }
}
