//! The names a host is known by in the system resolver: one reverse (PTR) lookup per
//! host that serves TLS, so a certificate can be judged against a name clients may
//! really use rather than against the bare address.
//!
//! The lookup goes through the system resolver (`getent hosts ADDRESS`: NSS, so
//! `/etc/hosts` and the configured DNS servers, exactly what the hospital's clients
//! see), never to a server kenshin picks. It is admitted by the governor against the
//! host's budget like a UDP probe and recorded as evidence (`dns-ptr`). A lookup that
//! fails or takes longer than [`TIMEOUT`] gives no name.

use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::evidence::Transcript;
use crate::governor::ProbeKind;

use super::Ctx;

/// Longest a reverse lookup may take.
pub(super) const TIMEOUT: Duration = Duration::from_secs(4);
/// Most names kept from one answer.
const MAX_NAMES: usize = 8;

/// Looks the host's address up and returns the names, lower-case, without the
/// trailing dot. Sends nothing when the scan is cancelled.
pub(super) async fn reverse(ctx: &Ctx, cleared: crate::scope::Cleared) -> Vec<String> {
    let Some(_adm) = ctx
        .governor
        .admit(cleared, ProbeKind::Udp, &ctx.cancel)
        .await
    else {
        return Vec::new();
    };
    let addr = cleared.addr();
    let started = Instant::now();
    let (names, note) = match getent(addr).await {
        Ok(text) => {
            let names = parse_getent(&text, addr);
            let note = if names.is_empty() {
                format!("reverse lookup of {addr} through the system resolver: no name")
            } else {
                format!(
                    "reverse lookup of {addr} through the system resolver: {} ({} ms)",
                    names.join(", "),
                    started.elapsed().as_millis()
                )
            };
            (names, note)
        }
        Err(e) => (
            Vec::new(),
            format!("reverse lookup of {addr} through the system resolver failed: {e}"),
        ),
    };
    ctx.evidence.record(Transcript {
        host: addr,
        port: None,
        protocol: None,
        probe: "dns-ptr",
        sent: addr.to_string().as_bytes(),
        received: names.join(" ").as_bytes(),
        secrets: &[],
        note,
        exchange: &[],
    });
    names
}

/// Runs `getent hosts ADDRESS` with a deadline; its standard output.
async fn getent(addr: IpAddr) -> Result<String, String> {
    let mut child = Command::new("getent")
        .arg("hosts")
        .arg(addr.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run getent: {e}"))?;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s", TIMEOUT.as_secs()));
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => return Err(format!("getent: {e}")),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("getent: {e}"))?;
    // Exit status 2: the key was not found, an empty answer rather than an error.
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The names in `getent hosts` output for `addr`: every line whose first column is
/// the address; names that are not DNS names are dropped.
pub(super) fn parse_getent(text: &str, addr: IpAddr) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in text.lines() {
        let mut cols = line.split_whitespace();
        if cols.next().and_then(|a| a.parse::<IpAddr>().ok()) != Some(addr) {
            continue;
        }
        for n in cols {
            let n = n.trim_end_matches('.').to_ascii_lowercase();
            if is_dns_name(&n) && !names.contains(&n) && names.len() < MAX_NAMES {
                names.push(n);
            }
        }
    }
    names
}

fn is_dns_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 253
        && n.parse::<IpAddr>().is_err()
        && n.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_for_the_address_are_kept_lower_case_and_without_the_root_dot() {
        let addr: IpAddr = "198.18.3.10".parse().expect("addr");
        let text = "198.18.3.10     EMR.lab.example. emr\n198.18.3.11 other.example\n";
        assert_eq!(parse_getent(text, addr), vec!["emr.lab.example", "emr"]);
    }

    #[test]
    fn an_answer_that_is_not_a_name_is_dropped() {
        let addr: IpAddr = "198.18.3.10".parse().expect("addr");
        let text = "198.18.3.10 \u{1b}[2Jx 198.18.3.10 bad..name ok-name\n";
        assert_eq!(parse_getent(text, addr), vec!["ok-name"]);
        assert!(parse_getent("", addr).is_empty());
    }
}
