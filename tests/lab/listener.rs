//! The plain TCP services of the lab's hosts, served by `kenshin-lab listen`
//! inside the lab namespaces.

use anyhow::{Context, Result};

/// Serves TCP ports: accepts every connection and closes it at once, writing one
/// line `accepted PORT from ADDR` to stdout for each, so a test can tell which
/// connections a service's application saw. Used inside the lab namespaces as the
/// plain services of the lab's hosts.
pub fn listen(ports: &[u16]) -> Result<()> {
    let mut handles = Vec::new();
    for &port in ports {
        let listener = std::net::TcpListener::bind(("0.0.0.0", port))
            .with_context(|| format!("cannot listen on tcp/{port}"))?;
        handles.push(std::thread::spawn(move || {
            for conn in listener.incoming() {
                if let Ok(c) = &conn {
                    if let Ok(peer) = c.peer_addr() {
                        use std::io::Write;
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "accepted {port} from {peer}");
                        let _ = out.flush();
                    }
                }
                drop(conn);
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}
