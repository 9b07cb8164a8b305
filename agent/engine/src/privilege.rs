//! What this process may do, read from /proc/self/status: its user, and whether it
//! holds CAP_NET_RAW (ICMP and ARP discovery).

/// The value of one `Name:` line of /proc/self/status.
fn status_field(name: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(name)?
            .strip_prefix(':')
            .map(|v| v.trim().to_owned())
    })
}

/// True if the real user is root.
pub fn is_root() -> bool {
    status_field("Uid").is_some_and(|u| u.split_whitespace().next() == Some("0"))
}

/// True if this process may open raw sockets.
pub fn has_cap_net_raw() -> bool {
    const CAP_NET_RAW: u32 = 13;
    status_field("CapEff")
        .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_NET_RAW) != 0)
}
