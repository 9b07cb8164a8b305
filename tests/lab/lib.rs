//! kenshin's test lab: Linux network namespaces joined by veth pairs and bridges,
//! addressed from 198.18.0.0/15 only, with real daemons and firewall rules that
//! shape silent hosts, filtered ports and a lossy link.
//!
//! ```text
//!                       ksl-rtr (router, bridges br1 + br2, 0.5 % loss between them)
//!   segment A 198.18.1.0/24 (br1)             segment B 198.18.2.0/24 (br2)
//!   ├─ ksl-scan   .2   the scanner            ├─ ksl-svc   .10       sshd nginx (80, 443) vsftpd snmpd telnetd
//!   ├─ ksl-a1     .10-.59  RST hosts          │                      Samba (SMB1 allowed) storescp Xvnc
//!   ├─ ksl-a2     .100-.119 silent hosts      ├─ ksl-svc2  .11       Samba (SMB2 only), an RDP fixture, a VPN portal,
//!   └─ ksl-flaky  .200 stops answering        │                      hostile servers (see fixtures.rs)
//!                                             ├─ ksl-b1    .20-.59   RST hosts
//!                                             └─ ksl-b2    .100-.139 silent hosts
//!   segment C 198.18.3.0/24 (br3, no loss): ksl-tls .10, nginx TLS servers, vsftpd
//!   with AUTH TLS and Postfix with STARTTLS (see tls.rs); ksl-net .20, a switch whose
//!   snmpd answers `public` with a Cisco IOS 12.2 sysDescr; ksl-term .30, an old
//!   terminal whose RDP selects Standard RDP Security
//! ```
//!
//! The scanner's namespace has one interface on segment A and a single route,
//! 198.18.0.0/15 via the router: it cannot reach anything outside the lab. No
//! namespace has a default route. The lab needs root; building it fails loudly
//! otherwise, and [`Lab`] tears everything down when dropped, also when a test
//! panics.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;

pub mod fixtures;
pub mod tls;
pub mod webhook;

pub use tls::{TLS_ADDR, TLS_NAME, TLS_SEGMENT};

/// Namespace of the scanner.
pub const SCANNER_NS: &str = "ksl-scan";
/// The scanner's address.
pub const SCANNER_ADDR: &str = "198.18.1.2";
/// The two segments the lab tests scan.
pub const SEGMENTS: [&str; 2] = ["198.18.1.0/24", "198.18.2.0/24"];
/// The host running real daemons.
pub const SERVICES_ADDR: &str = "198.18.2.10";
/// The host running an SMB2-only Samba, the RDP fixture and the hostile servers.
pub const SERVICES2_ADDR: &str = "198.18.2.11";
/// The AE title the lab's storescp answers to.
pub const DICOM_AE: &str = "KENSHIN-PACS";
/// The X display number the lab's Xvnc takes.
const X_DISPLAY: &str = ":41";

/// Removes the lock and socket of the lab's X display (left by a killed Xvnc).
fn remove_x_display() {
    let n = X_DISPLAY.trim_start_matches(':');
    let _ = fs::remove_file(format!("/tmp/.X{n}-lock"));
    let _ = fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
}

/// Fixtures on the second services host, as (fixture, port).
pub const FIXTURES: &str =
    "rdp:3389,tarpit:2323,drip:21,endless:25,garbage:110,reset:22,hostile:2121";
/// The host that stops answering after its first few dozen packets.
pub const FLAKY_ADDR: &str = "198.18.1.200";
/// MAC address of the silent modality hosts (ksl-a2): an OUI registered to Philips
/// Medical Systems, harmless inside the isolated lab.
pub const MODALITY_MAC: &str = "00:09:5c:4b:01:01";
/// A switch on segment C whose snmpd answers the default community `public` with a
/// Cisco IOS 12.2 sysDescr (a stand-in: only the answer's shape matters).
pub const SWITCH_ADDR: &str = "198.18.3.20";
/// The sysDescr the lab switch answers.
pub const SWITCH_SYS_DESCR: &str = "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), \
     Version 12.2(55)SE7, RELEASE SOFTWARE (fc1)";
/// An old terminal on segment C whose RDP selects Standard RDP Security.
pub const TERMINAL_ADDR: &str = "198.18.3.30";
/// The FortiGate-like portal's ETag: its last 8 hex digits are the build time,
/// 0x5b200000 = 2018-06-12, older than every FortiOS fix kenshin's advisories know.
pub const FORTIGATE_ETAG: &str = "\"1d2-5b200000\"";
/// The SNMP community the lab's snmpd accepts.
pub const SNMP_COMMUNITY: &str = "kenshin-lab-ro";
/// Loss on the routed link, per mille, each direction.
pub const LOSS_PER_MILLE: u32 = 5;

const ROUTER_NS: &str = "ksl-rtr";
const ALL_NS: [&str; 12] = [
    SCANNER_NS,
    ROUTER_NS,
    "ksl-a1",
    "ksl-a2",
    "ksl-flaky",
    "ksl-svc",
    "ksl-svc2",
    "ksl-b1",
    "ksl-b2",
    "ksl-tls",
    "ksl-net",
    "ksl-term",
];

/// The Debian packages the lab runs.
pub const PACKAGES: [&str; 16] = [
    "ieee-data",
    "iproute2",
    "nftables",
    "openssh-server",
    "nginx-light",
    "vsftpd",
    "snmpd",
    "util-linux",
    "samba",
    "dcmtk",
    "tigervnc-standalone-server",
    "inetutils-telnetd",
    "systemd",
    "openssl",
    "testssl.sh",
    "postfix",
];

/// What is really there at one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostTruth {
    pub address: Ipv4Addr,
    pub namespace: &'static str,
    pub tcp_open: Vec<u16>,
    pub udp_open: Vec<u16>,
    /// Answers ICMP echo.
    pub icmp: bool,
    /// On the scanner's own segment (answers ARP).
    pub same_segment: bool,
    /// Drops everything after its first few dozen packets.
    pub stops_answering: bool,
}

/// The lab's ground truth: every live address and what it serves.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Truth {
    pub hosts: BTreeMap<Ipv4Addr, HostTruth>,
}

impl Truth {
    /// Number of (address, port) pairs that are open, TCP and UDP.
    pub fn open_ports(&self) -> usize {
        self.hosts
            .values()
            .map(|h| h.tcp_open.len() + h.udp_open.len())
            .sum()
    }

    /// Every TCP port open anywhere, sorted.
    pub fn tcp_ports(&self) -> Vec<u16> {
        let mut v: Vec<u16> = self
            .hosts
            .values()
            .flat_map(|h| h.tcp_open.clone())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn range(seg: u8, lo: u8, hi: u8) -> impl Iterator<Item = Ipv4Addr> {
    (lo..=hi).map(move |d| v4(198, 18, seg, d))
}

/// The truth the lab is built to.
pub fn truth() -> Truth {
    let mut t = Truth::default();
    let mut add = |addr, namespace, tcp: &[u16], udp: &[u16], icmp, same_segment, flaky| {
        t.hosts.insert(
            addr,
            HostTruth {
                address: addr,
                namespace,
                tcp_open: tcp.to_vec(),
                udp_open: udp.to_vec(),
                icmp,
                same_segment,
                stops_answering: flaky,
            },
        );
    };
    for a in range(1, 10, 39) {
        add(a, "ksl-a1", &[22, 80], &[], true, true, false);
    }
    for a in range(1, 40, 59) {
        add(a, "ksl-a1", &[80], &[], true, true, false); // 22 filtered here
    }
    for a in range(1, 100, 109) {
        add(a, "ksl-a2", &[3389], &[], false, true, false);
    }
    for a in range(1, 110, 119) {
        add(a, "ksl-a2", &[9100], &[], false, true, false);
    }
    add(
        v4(198, 18, 1, 200),
        "ksl-flaky",
        &[80],
        &[],
        true,
        true,
        true,
    );
    // The router's two legs and the scanner itself are live hosts too, with nothing open.
    add(v4(198, 18, 1, 1), ROUTER_NS, &[], &[], true, true, false);
    add(v4(198, 18, 2, 1), ROUTER_NS, &[], &[], true, false, false);
    add(v4(198, 18, 1, 2), SCANNER_NS, &[], &[], true, true, false);
    add(
        v4(198, 18, 2, 10),
        "ksl-svc",
        &[21, 22, 23, 80, 443, 445, 5901, 11112],
        &[161],
        true,
        false,
        false,
    );
    add(
        v4(198, 18, 2, 11),
        "ksl-svc2",
        // The hostile-banner fixture on 2121 is left out: it is outside the default
        // port list, and only the findings scan asks for it.
        &[21, 22, 25, 110, 445, 2323, 3389, 10443],
        &[],
        true,
        false,
        false,
    );
    for a in range(2, 20, 39) {
        add(a, "ksl-b1", &[443, 8080], &[], true, false, false);
    }
    for a in range(2, 40, 59) {
        add(a, "ksl-b1", &[445], &[], true, false, false);
    }
    for a in range(2, 100, 119) {
        add(a, "ksl-b2", &[11112], &[], false, false, false);
    }
    for a in range(2, 120, 139) {
        add(a, "ksl-b2", &[5938], &[], false, false, false);
    }
    t
}

/// Runs a command, failing with its output if it fails.
fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ip(args: &[&str]) -> Result<String> {
    run(Command::new("ip").args(args))
}

/// Runs `ip -n NS -batch -` with the given lines.
fn ip_batch(ns: &str, lines: &[String]) -> Result<()> {
    let mut child = Command::new("ip")
        .args(["-n", ns, "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run ip -batch")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(lines.join("\n").as_bytes())?;
        stdin.write_all(b"\n")?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "ip -n {ns} -batch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Loads a ruleset written on one line: a chain's closing brace must be followed by a
/// newline before the table's, which this adds.
fn nft(ns: &str, ruleset: &str) -> Result<()> {
    let ruleset = ruleset
        .replace("} }", "}\n}")
        .replace("} counter", "}\ncounter");
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run nft")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(ruleset.as_bytes())?;
        stdin.write_all(b"\n")?; // nft wants the last statement ended
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "nft in {ns} failed: {}\n{ruleset}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// True if the current process is root.
pub fn is_root() -> bool {
    run(Command::new("id").arg("-u"))
        .map(|s| s.trim() == "0")
        .unwrap_or(false)
}

/// A running lab. Dropping it tears it down.
#[derive(Debug)]
pub struct Lab {
    pub truth: Truth,
    pub dir: PathBuf,
    children: Vec<Child>,
    detached: bool,
}

impl Lab {
    /// Builds the lab; `listener` is the path of the `kenshin-lab` binary, which serves
    /// the lab's plain TCP ports.
    pub fn up(listener: &Path) -> Result<Self> {
        if !is_root() {
            bail!(
                "the lab needs root (network namespaces, nftables, daemons); run tests/run as root"
            );
        }
        for tool in [
            "ip",
            "nft",
            "sshd",
            "nginx",
            "vsftpd",
            "snmpd",
            "setpriv",
            "smbd",
            "storescp",
            "Xvnc",
            "telnetd",
            "systemd-socket-activate",
            "openssl",
            "testssl",
            "postfix",
        ] {
            let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
                .iter()
                .any(|d| Path::new(d).join(tool).exists());
            if !found {
                bail!("the lab needs {tool}; run tests/run, which installs {PACKAGES:?}");
            }
        }
        down();
        let dir = std::env::temp_dir().join("kenshin-lab");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        let mut lab = Self {
            truth: truth(),
            dir,
            children: Vec::new(),
            detached: false,
        };
        lab.build_network()?;
        lab.start_listeners(listener)?;
        lab.start_daemons()?;
        lab.wait_ready()?;
        Ok(lab)
    }

    fn build_network(&self) -> Result<()> {
        for ns in ALL_NS {
            ip(&["netns", "add", ns])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        ip_batch(
            ROUTER_NS,
            &[
                "link add br1 type bridge".into(),
                "link add br2 type bridge".into(),
                "link add br3 type bridge".into(),
                "addr add 198.18.1.1/24 dev br1".into(),
                "addr add 198.18.2.1/24 dev br2".into(),
                "addr add 198.18.3.1/24 dev br3".into(),
                "link set br1 up".into(),
                "link set br2 up".into(),
                "link set br3 up".into(),
            ],
        )?;
        run(Command::new("ip").args([
            "netns",
            "exec",
            ROUTER_NS,
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
        ]))?;
        // Loss on the routed link only: bridged traffic on segment A is not forwarded.
        nft(
            ROUTER_NS,
            &format!(
                "table inet lab {{ chain forward {{ type filter hook forward priority 0; \
                 ip daddr {TLS_SEGMENT} accept; ip saddr {TLS_SEGMENT} accept; \
                 numgen random mod 1000 < {LOSS_PER_MILLE} counter drop; }} }}"
            ),
        )?;
        let attach = |ns: &str,
                      idx: u32,
                      bridge: &str,
                      addrs: &[Ipv4Addr],
                      gw: Option<&str>|
         -> Result<()> {
            let peer = format!("v{idx}");
            ip(&[
                "-n", ROUTER_NS, "link", "add", &peer, "type", "veth", "peer", "name", "eth0",
                "netns", ns,
            ])?;
            ip(&[
                "-n", ROUTER_NS, "link", "set", &peer, "master", bridge, "up",
            ])?;
            let mut lines: Vec<String> = addrs
                .iter()
                .map(|a| format!("addr add {a}/24 dev eth0"))
                .collect();
            lines.push("link set eth0 up".into());
            if let Some(gw) = gw {
                lines.push(format!("route add 198.18.0.0/15 via {gw}"));
            }
            ip_batch(ns, &lines)
        };
        let addrs_of = |ns: &str| -> Vec<Ipv4Addr> {
            self.truth
                .hosts
                .values()
                .filter(|h| h.namespace == ns)
                .map(|h| h.address)
                .collect()
        };
        attach(
            SCANNER_NS,
            1,
            "br1",
            &[v4(198, 18, 1, 2)],
            Some("198.18.1.1"),
        )?;
        // ksl-a1 also owns .40-.59 (port 22 filtered) — all in the truth already.
        attach("ksl-a1", 2, "br1", &addrs_of("ksl-a1"), None)?;
        attach("ksl-a2", 3, "br1", &addrs_of("ksl-a2"), None)?;
        // The silent modalities carry a medical vendor's OUI, as real ones do.
        ip(&[
            "-n",
            "ksl-a2",
            "link",
            "set",
            "eth0",
            "address",
            MODALITY_MAC,
        ])?;
        attach("ksl-flaky", 4, "br1", &addrs_of("ksl-flaky"), None)?;
        attach(
            "ksl-svc",
            5,
            "br2",
            &addrs_of("ksl-svc"),
            Some("198.18.2.1"),
        )?;
        attach(
            "ksl-svc2",
            8,
            "br2",
            &addrs_of("ksl-svc2"),
            Some("198.18.2.1"),
        )?;
        attach("ksl-b1", 6, "br2", &addrs_of("ksl-b1"), Some("198.18.2.1"))?;
        attach("ksl-b2", 7, "br2", &addrs_of("ksl-b2"), Some("198.18.2.1"))?;
        attach(
            "ksl-tls",
            9,
            "br3",
            &[TLS_ADDR.parse()?],
            Some("198.18.3.1"),
        )?;

        attach(
            "ksl-net",
            10,
            "br3",
            &[SWITCH_ADDR.parse()?],
            Some("198.18.3.1"),
        )?;
        attach(
            "ksl-term",
            11,
            "br3",
            &[TERMINAL_ADDR.parse()?],
            Some("198.18.3.1"),
        )?;
        nft(
            "ksl-a1",
            "table inet lab { chain input { type filter hook input priority 0; \
             ip daddr 198.18.1.40-198.18.1.59 tcp dport 22 drop; } }",
        )?;
        let silent = |ns: &str, accepts: &str| {
            nft(
                ns,
                &format!(
                    "table inet lab {{ chain input {{ type filter hook input priority 0; policy drop; \
                     iif lo accept; ct state established,related accept; {accepts} }} }}"
                ),
            )
        };
        silent(
            "ksl-a2",
            "ip daddr 198.18.1.100-198.18.1.109 tcp dport 3389 accept; \
             ip daddr 198.18.1.110-198.18.1.119 tcp dport 9100 accept;",
        )?;
        silent(
            "ksl-b2",
            "ip daddr 198.18.2.100-198.18.2.119 tcp dport 11112 accept; \
             ip daddr 198.18.2.120-198.18.2.139 tcp dport 5938 accept;",
        )?;
        nft(
            "ksl-b1",
            "table inet lab { chain input { type filter hook input priority 0; \
             ip daddr 198.18.2.40-198.18.2.59 tcp dport { 443, 8080 } reject with tcp reset; \
             ip daddr 198.18.2.20-198.18.2.39 tcp dport 445 reject with tcp reset; } }",
        )?;
        // The flaky host answers its first ~40 packets from the scanner, then nothing.
        nft(
            "ksl-flaky",
            "table inet lab { chain input { type filter hook input priority 0; \
             ip saddr 198.18.1.2 quota over 2400 bytes drop; } }",
        )?;
        // Count what the scanner sends where, for tests that prove silence.
        for ns in ["ksl-svc", "ksl-b1"] {
            nft(
                ns,
                "table inet count { \
                 chain input { type filter hook input priority -10; \
                 ip saddr 198.18.1.2 ip daddr 198.18.2.25 counter name to_excluded; \
                 ip saddr 198.18.1.2 udp dport 161 counter name to_snmp; } \
                 counter to_excluded { } counter to_snmp { } }",
            )?;
        }
        // Count TCP connections opened to the TLS host (SYNs), for the TLS benchmark.
        nft(
            "ksl-tls",
            &format!(
                "table inet count {{ \
                 chain input {{ type filter hook input priority -10; \
                 ip daddr {TLS_ADDR} tcp flags & (syn | ack) == syn counter name tls_connections; }} \
                 counter tls_connections {{ }} }}"
            ),
        )?;
        Ok(())
    }

    /// Starts `program ARGS` in namespace `ns`; it is stopped with the lab. Tests use
    /// it to change the lab between two scans (open a port, say).
    pub fn start_in(&mut self, ns: &str, program: &Path, args: &[&str]) -> Result<()> {
        self.spawn_in(ns, &program.to_string_lossy(), args)
    }

    /// Waits up to 10 s until something in namespace `ns` listens on TCP `port`.
    pub fn wait_listening(&self, ns: &str, port: u16) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let want = format!(":{port} ");
        loop {
            let out = run(Command::new("ip").args(["netns", "exec", ns, "ss", "-lntH"]))?;
            if out.contains(&want) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("nothing listens on {ns} tcp/{port} after 10 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn spawn_in(&mut self, ns: &str, program: &str, args: &[&str]) -> Result<()> {
        let log = fs::File::create(self.dir.join(format!(
            "{ns}-{}.log",
            Path::new(program)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        )))?;
        let child = Command::new("ip")
            .args(["netns", "exec", ns, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {program} in {ns}"))?;
        self.children.push(child);
        Ok(())
    }

    fn start_listeners(&mut self, listener: &Path) -> Result<()> {
        let bin = listener.to_string_lossy().into_owned();
        for (ns, ports) in [
            ("ksl-a1", "22,80"),
            ("ksl-a2", "3389,9100"),
            ("ksl-flaky", "80"),
            ("ksl-b1", "443,445,8080"),
            ("ksl-b2", "5938,11112"),
        ] {
            self.spawn_in(ns, &bin, &["listen", ports])?;
        }
        self.spawn_in("ksl-svc2", &bin, &["serve", FIXTURES])?;
        self.spawn_in("ksl-term", &bin, &["serve", "rdp-standard:3389"])?;
        Ok(())
    }

    fn start_daemons(&mut self) -> Result<()> {
        let d = self.dir.clone();
        let p = |name: &str| d.join(name).to_string_lossy().into_owned();
        // sshd
        fs::create_dir_all("/run/sshd")?;
        run(Command::new("ssh-keygen").args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            &p("ssh_host_ed25519_key"),
        ]))?;
        fs::write(
            d.join("sshd_config"),
            format!(
                "Port 22\nListenAddress {SERVICES_ADDR}\nHostKey {}\nPidFile {}\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n",
                p("ssh_host_ed25519_key"),
                p("sshd.pid")
            ),
        )?;
        self.spawn_in(
            "ksl-svc",
            "/usr/sbin/sshd",
            &["-D", "-e", "-f", &p("sshd_config")],
        )?;
        // nginx: plain HTTP and HTTPS on the services host, and on the second one a
        // stand-in for a FortiGate SSL-VPN portal (its landing page and factory-style
        // certificate; the bytes of a real appliance are not needed to exercise the
        // fingerprints, only their shape)
        self.certificate("svc", "/O=kenshin lab/CN=lab-svc")?;
        self.certificate("rdp", "/CN=LAB-RDP")?;
        self.certificate(
            "fgt",
            "/C=US/ST=California/L=Sunnyvale/O=Fortinet/OU=FortiGate/CN=FGT60FTK2109LAB01",
        )?;
        self.nginx(
            "ksl-svc",
            &format!(
                "server {{ listen {SERVICES_ADDR}:80; location / {{ return 200 \"kenshin lab\\n\"; }} }}\n\
                 server {{ listen {SERVICES_ADDR}:443 ssl; ssl_certificate {c}; ssl_certificate_key {k};\n\
                 location / {{ default_type text/html; return 200 '<html><head><title>kenshin lab</title></head></html>'; }} }}\n",
                c = p("svc.crt"),
                k = p("svc.key"),
            ),
        )?;
        self.nginx(
            "ksl-svc2",
            &(format!(
                "server {{ listen {SERVICES2_ADDR}:10443 ssl; ssl_certificate {c}; ssl_certificate_key {k};\n\
                 location = / {{ default_type text/html; add_header ETag '{etag}';\
                 return 200 '<html><script type=\"text/javascript\">\
                 if (window!=top) top.location=window.location;top.location=\"/remote/login\";</script></html>'; }} }}\n",
                c = p("fgt.crt"),
                k = p("fgt.key"),
                etag = FORTIGATE_ETAG,
            ) + &format!(
                // The TLS server behind the RDP fixture, with a self-signed certificate
                // named like a Windows host's.
                "server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {c}; ssl_certificate_key {k};\n\
                 ssl_protocols TLSv1.2 TLSv1.3; return 444; }}\n",
                port = fixtures::RDP_TLS_BACKEND,
                c = p("rdp.crt"),
                k = p("rdp.key"),
            )),
        )?;
        // vsftpd, with an empty anonymous area so that it greets with its default banner
        fs::create_dir_all("/var/run/vsftpd/empty")?;
        fs::create_dir_all(d.join("ftp-empty"))?;
        fs::write(
            d.join("vsftpd.conf"),
            format!(
                "listen=YES\nlisten_ipv6=NO\nlisten_address={SERVICES_ADDR}\nbackground=NO\n\
                 anonymous_enable=YES\nno_anon_password=YES\nanon_root={anon}\n\
                 local_enable=NO\nwrite_enable=NO\nseccomp_sandbox=NO\n\
                 secure_chroot_dir=/var/run/vsftpd/empty\n",
                anon = p("ftp-empty"),
            ),
        )?;
        self.spawn_in("ksl-svc", "/usr/sbin/vsftpd", &[&p("vsftpd.conf")])?;
        // snmpd
        fs::write(
            d.join("snmpd.conf"),
            format!(
                "rocommunity {SNMP_COMMUNITY} 198.18.0.0/15\nrocommunity public 198.18.0.0/15\n\
                 sysLocation kenshin lab\n\
                 sysName lab-svc\nsysDescr Linux lab-svc (kenshin lab snmpd)\n"
            ),
        )?;
        self.spawn_in(
            "ksl-svc",
            "/usr/sbin/snmpd",
            &[
                "-f",
                "-Lo",
                "-C",
                "-c",
                &p("snmpd.conf"),
                "-p",
                &p("snmpd.pid"),
                &format!("udp:{SERVICES_ADDR}:161"),
            ],
        )?;
        // telnetd, one per connection, on a real socket (it checks its peer)
        self.spawn_in(
            "ksl-svc",
            "/usr/bin/systemd-socket-activate",
            &[
                "-l",
                &format!("{SERVICES_ADDR}:23"),
                "--inetd",
                "-a",
                "/usr/sbin/telnetd",
            ],
        )?;
        // The lab switch's snmpd: the default community, a Cisco IOS 12.2 sysDescr
        fs::write(
            d.join("snmpd-switch.conf"),
            format!(
                "rocommunity public 198.18.0.0/15\nsysName lab-switch\nsysDescr {SWITCH_SYS_DESCR}\n"
            ),
        )?;
        self.spawn_in(
            "ksl-net",
            "/usr/sbin/snmpd",
            &[
                "-f",
                "-Lo",
                "-C",
                "-c",
                &p("snmpd-switch.conf"),
                "-p",
                &p("snmpd-switch.pid"),
                &format!("udp:{SWITCH_ADDR}:161"),
            ],
        )?;
        self.start_tls_servers()?;
        // Samba: SMB1 allowed on one host, SMB2 and later only on the other
        self.samba("ksl-svc", SERVICES_ADDR, "NT1")?;
        self.samba("ksl-svc2", SERVICES2_ADDR, "SMB2_02")?;
        // DICOM storage SCP (answers Verification)
        fs::create_dir_all(d.join("dicom"))?;
        self.spawn_in(
            "ksl-svc",
            "/usr/bin/storescp",
            &[
                "--aetitle",
                DICOM_AE,
                "--output-directory",
                &p("dicom"),
                "11112",
            ],
        )?;
        // VNC without authentication, as found on forgotten modality consoles. A display
        // number no desktop uses; a lock left by a killed run is removed first.
        remove_x_display();
        self.spawn_in(
            "ksl-svc",
            "/usr/bin/Xvnc",
            &[
                X_DISPLAY,
                "-rfbport",
                "5901",
                "-SecurityTypes",
                "None",
                "-geometry",
                "640x480",
                "-depth",
                "16",
                "-nolisten",
                "tcp",
                "-interface",
                SERVICES_ADDR,
            ],
        )?;
        Ok(())
    }

    /// The TLS segment's servers (tls.rs): nginx for every port but the weak-certificate
    /// one, a second nginx at OpenSSL security level 0 for that one, and vsftpd.
    fn start_tls_servers(&mut self) -> Result<()> {
        let d = self.dir.join("tls");
        fs::create_dir_all(d.join("ftp-empty"))?;
        tls::write_pki(&d)?;
        let rest = tls::nginx_servers(&d, |port| port != tls::WEAK_CERT_PORT);
        self.nginx_instance("tls", "ksl-tls", &rest, None)?;
        let level0 = tls::openssl_level0_conf(&d)?;
        self.nginx_instance(
            "tls-level0",
            "ksl-tls",
            &tls::nginx_servers(&d, |port| port == tls::WEAK_CERT_PORT),
            Some(&level0),
        )?;
        let conf = d.join("vsftpd.conf");
        fs::write(&conf, tls::vsftpd_conf(&d))?;
        self.spawn_in("ksl-tls", "/usr/sbin/vsftpd", &[&conf.to_string_lossy()])?;
        let postfix = d.join("postfix");
        fs::create_dir_all(postfix.join("queue"))?;
        fs::create_dir_all(postfix.join("data"))?;
        run(Command::new("chown")
            .arg("postfix")
            .arg(postfix.join("data")))?;
        let (main, master) = tls::postfix_conf(&d);
        fs::write(postfix.join("main.cf"), main)?;
        fs::write(postfix.join("master.cf"), master)?;
        self.spawn_in(
            "ksl-tls",
            "/usr/sbin/postfix",
            &["-c", &postfix.to_string_lossy(), "start-fg"],
        )?;
        Ok(())
    }

    /// Writes a self-signed P-256 certificate and key as `NAME.crt` and `NAME.key`.
    fn certificate(&self, name: &str, subject: &str) -> Result<()> {
        let d = &self.dir;
        run(Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "400",
            "-subj",
            subject,
            "-keyout",
            &d.join(format!("{name}.key")).to_string_lossy(),
            "-out",
            &d.join(format!("{name}.crt")).to_string_lossy(),
        ]))?;
        Ok(())
    }

    /// Starts an nginx in `ns` with its own pid and temp folders serving `servers`.
    fn nginx(&mut self, ns: &str, servers: &str) -> Result<()> {
        self.nginx_instance(ns, ns, servers, None)
    }

    /// Starts an nginx called `name` in `ns`, with `OPENSSL_CONF` set if given.
    fn nginx_instance(
        &mut self,
        name: &str,
        ns: &str,
        servers: &str,
        openssl_conf: Option<&str>,
    ) -> Result<()> {
        let d = self.dir.join(format!("nginx-{name}"));
        fs::create_dir_all(d.join("tmp"))?;
        let p = |s: &str| d.join(s).to_string_lossy().into_owned();
        let conf = d.join("nginx.conf");
        fs::write(
            &conf,
            format!(
                "pid {pid};\nerror_log {err};\nevents {{ worker_connections 64; }}\n\
                 http {{ access_log off; client_body_temp_path {t}/body; proxy_temp_path {t}/proxy;\n\
                 fastcgi_temp_path {t}/fcgi; uwsgi_temp_path {t}/uwsgi; scgi_temp_path {t}/scgi;\n\
                 {servers} }}\n",
                pid = p("nginx.pid"),
                err = p("error.log"),
                t = p("tmp"),
            ),
        )?;
        let conf = conf.to_string_lossy().into_owned();
        match openssl_conf {
            None => self.spawn_in(ns, "/usr/sbin/nginx", &["-c", &conf, "-g", "daemon off;"]),
            Some(c) => self.spawn_in(
                ns,
                "/usr/bin/env",
                &[
                    &format!("OPENSSL_CONF={c}"),
                    "/usr/sbin/nginx",
                    "-c",
                    &conf,
                    "-g",
                    "daemon off;",
                ],
            ),
        }
    }

    /// Starts an smbd with its own state folders, speaking no protocol below `min`.
    fn samba(&mut self, ns: &str, addr: &str, min: &str) -> Result<()> {
        let d = self.dir.join(format!("samba-{ns}"));
        for sub in ["lock", "state", "cache", "private", "pid", "ncalrpc", "log"] {
            fs::create_dir_all(d.join(sub))?;
        }
        let p = |s: &str| d.join(s).to_string_lossy().into_owned();
        let conf = d.join("smb.conf");
        fs::write(
            &conf,
            format!(
                "[global]\nserver role = standalone server\nworkgroup = KENSHINLAB\n\
                 netbios name = {name}\nserver min protocol = {min}\n\
                 interfaces = {addr}/24\nbind interfaces only = yes\nsmb ports = 445\n\
                 disable netbios = yes\nload printers = no\nprinting = bsd\n\
                 printcap name = /dev/null\ndisable spoolss = yes\n\
                 lock directory = {lock}\nstate directory = {state}\ncache directory = {cache}\n\
                 private dir = {private}\npid directory = {pid}\nncalrpc dir = {ncalrpc}\n\
                 log file = {log}/smbd.log\n",
                name = ns.replace('-', "").to_uppercase(),
                lock = p("lock"),
                state = p("state"),
                cache = p("cache"),
                private = p("private"),
                pid = p("pid"),
                ncalrpc = p("ncalrpc"),
                log = p("log"),
            ),
        )?;
        let conf = conf.to_string_lossy().into_owned();
        self.spawn_in(
            ns,
            "/usr/sbin/smbd",
            &[
                "--foreground",
                "--no-process-group",
                "--debug-stdout",
                "-s",
                &conf,
            ],
        )
    }

    /// Waits until every daemon and listener is bound (read from inside each namespace).
    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let want: Vec<(&str, String)> = vec![
            ("ksl-svc", ":22 ".into()),
            ("ksl-svc", ":80 ".into()),
            ("ksl-svc", ":21 ".into()),
            ("ksl-svc", ":161 ".into()),
            ("ksl-svc", ":23 ".into()),
            ("ksl-svc", ":445 ".into()),
            ("ksl-svc", ":5901 ".into()),
            ("ksl-svc", ":11112 ".into()),
            ("ksl-svc2", ":445 ".into()),
            ("ksl-svc2", ":3389 ".into()),
            ("ksl-svc2", ":2323 ".into()),
            ("ksl-svc2", ":2121 ".into()),
            ("ksl-svc", ":443 ".into()),
            ("ksl-svc2", ":10443 ".into()),
            ("ksl-svc2", format!(":{} ", fixtures::RDP_TLS_BACKEND)),
            ("ksl-tls", ":21 ".into()),
            ("ksl-tls", ":25 ".into()),
            ("ksl-tls", ":4431 ".into()),
            ("ksl-tls", ":4434 ".into()),
            ("ksl-tls", ":4436 ".into()),
            ("ksl-net", ":161 ".into()),
            ("ksl-term", ":3389 ".into()),
            ("ksl-a1", ":80 ".into()),
            ("ksl-a2", ":9100 ".into()),
            ("ksl-flaky", ":80 ".into()),
            ("ksl-b1", ":8080 ".into()),
            ("ksl-b2", ":11112 ".into()),
        ];
        loop {
            let missing: Vec<String> = want
                .iter()
                .filter(|(ns, port)| {
                    run(Command::new("ip").args(["netns", "exec", ns, "ss", "-lntuH"]))
                        .map(|s| !s.contains(port.as_str()))
                        .unwrap_or(true)
                })
                .map(|(ns, port)| format!("{ns}{}", port.trim_end()))
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            for c in &mut self.children {
                if let Ok(Some(status)) = c.try_wait() {
                    bail!(
                        "a lab daemon exited ({status}); logs are in {}; still missing: {missing:?}",
                        self.dir.display()
                    );
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "lab services not listening after 20 s: {missing:?}; logs are in {}",
                    self.dir.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Reads a named nft counter's packet count in a namespace.
    pub fn counter(&self, ns: &str, name: &str) -> Result<u64> {
        let out = run(Command::new("ip").args([
            "netns", "exec", ns, "nft", "list", "counter", "inet", "count", name,
        ]))?;
        out.split_whitespace()
            .skip_while(|w| *w != "packets")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("no packet count in {out:?}"))
    }

    /// Writes `/etc/netns/ksl-scan/hosts`, which `ip netns exec` shows the scanner as
    /// its `/etc/hosts`.
    pub fn set_scanner_hosts(&self, entries: &[(&str, &str)]) -> Result<()> {
        let dir = Path::new("/etc/netns").join(SCANNER_NS);
        fs::create_dir_all(&dir)?;
        let mut text = String::from("127.0.0.1 localhost\n");
        for (addr, name) in entries {
            text.push_str(&format!("{addr} {name}\n"));
        }
        fs::write(dir.join("hosts"), text)?;
        Ok(())
    }
}

impl Lab {
    /// Leaves the lab running after this value is dropped; [`down`] removes it later.
    pub fn detach(mut self) {
        self.detached = true;
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        down();
    }
}

/// Removes every lab namespace and anything still running in them. Safe to call when
/// no lab exists.
pub fn down() {
    for ns in ALL_NS {
        if let Ok(pids) = run(Command::new("ip").args(["netns", "pids", ns])) {
            for pid in pids.split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", ns])
            .stderr(Stdio::null())
            .status();
    }
    let _ = fs::remove_dir_all(Path::new("/etc/netns").join(SCANNER_NS));
    remove_x_display();
}

/// Serves TCP ports: accepts every connection and closes it at once. Used inside the
/// lab namespaces as the plain services of the lab's hosts.
pub fn listen(ports: &[u16]) -> Result<()> {
    let mut handles = Vec::new();
    for &port in ports {
        let listener = std::net::TcpListener::bind(("0.0.0.0", port))
            .with_context(|| format!("cannot listen on tcp/{port}"))?;
        handles.push(std::thread::spawn(move || {
            for conn in listener.incoming() {
                drop(conn);
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    Ok(())
}
