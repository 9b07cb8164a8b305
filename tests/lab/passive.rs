//! A small lab segment of its own for listen-only discovery (issue 15): hosts that
//! speak for themselves on a bridge, and a scanner namespace that only listens.
//!
//! ```text
//!   segment 198.19.40.0/24, bridge br0 in kl-br
//!   ├─ kl-scan .2   the listener; IPv6 off, so its kernel sends nothing on its own
//!   ├─ kl-sw   .10  lldpd (Debian), IP forwarding on: LLDP with the router capability
//!   ├─ kl-cdp  .11  lldpd with CDPv1 forced (and so no LLDP), forwarding on
//!   ├─ kl-prn  .20  avahi-daemon (no D-Bus) announcing _ipp._tcp and _printer._tcp
//!   ├─ kl-pc   .30  `kenshin-lab announce pc`: a DHCPDISCOVER (hostname, vendor class
//!   │               MSFT 5.0, parameter list), a NetBIOS registration, and a datagram to
//!   │               kl-prn whose ARP request is broadcast
//!   └─ kl-tv   .40  `kenshin-lab announce tv`: an SSDP NOTIFY of a UPnP MediaServer
//! ```
//!
//! The hosts keep IPv6, so their kernels' neighbour and router solicitations are
//! heard too. Every namespace, and the processes in it, go when [`PassiveLab`] is
//! dropped. The daemons run in a private mount and UTS namespace (their own /run and
//! host name); nothing is started on the machine itself.

use std::fs;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::command::{ip, ip_batch, run};

/// The listener's namespace and interface.
pub const LISTEN_NS: &str = "kl-scan";
pub const LISTEN_IF: &str = "kl-scan0";
pub const LISTEN_ADDR: &str = "198.19.40.2";
/// The segment.
pub const SEGMENT: &str = "198.19.40.0/24";

/// A host of the passive segment: namespace, address, what it runs.
#[derive(Debug, Clone, Copy)]
pub struct Speaker {
    pub ns: &'static str,
    pub address: &'static str,
    pub host_name: &'static str,
}

pub const SWITCH: Speaker = Speaker {
    ns: "kl-sw",
    address: "198.19.40.10",
    host_name: "ward3-switch",
};
pub const CDP_ROUTER: Speaker = Speaker {
    ns: "kl-cdp",
    address: "198.19.40.11",
    host_name: "ward3-router",
};
pub const PRINTER: Speaker = Speaker {
    ns: "kl-prn",
    address: "198.19.40.20",
    host_name: "ward3-printer",
};
pub const PC: Speaker = Speaker {
    ns: "kl-pc",
    address: "198.19.40.30",
    host_name: "ward3-pc1",
};
pub const TV: Speaker = Speaker {
    ns: "kl-tv",
    address: "198.19.40.40",
    host_name: "ward3-tv",
};
pub const SPEAKERS: [Speaker; 5] = [SWITCH, CDP_ROUTER, PRINTER, PC, TV];
const BRIDGE_NS: &str = "kl-br";

/// The SSDP server string the TV fixture announces.
pub const TV_SERVER: &str = "Linux/6.1 UPnP/1.0 KenshinLab-DLNA/1.0";
/// The DHCP vendor class and parameter list the PC fixture sends.
pub const PC_VENDOR_CLASS: &str = "MSFT 5.0";
pub const PC_PARAMETERS: [u8; 14] = [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252];
/// The printer's model string (TXT `ty`).
pub const PRINTER_MODEL: &str = "Kenshin LabJet 3000";

/// The passive segment, up; torn down when dropped.
#[derive(Debug)]
pub struct PassiveLab {
    dir: tempfile::TempDir,
    children: Vec<Child>,
    /// The listener interface's MAC, as tcpdump prints it.
    pub listener_mac: String,
}

fn namespaces() -> Vec<&'static str> {
    let mut all = vec![BRIDGE_NS, LISTEN_NS];
    all.extend(SPEAKERS.iter().map(|s| s.ns));
    all
}

/// Removes every namespace of the passive segment (left over or not).
pub fn down() {
    for ns in namespaces() {
        let _ = Command::new("ip")
            .args(["netns", "pids", ns])
            .output()
            .map(|o| {
                for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            });
        let _ = Command::new("ip")
            .args(["netns", "del", ns])
            .stderr(Stdio::null())
            .status();
    }
}

impl PassiveLab {
    /// Builds the segment: namespaces, the bridge, addresses. Starts nothing yet.
    pub fn up() -> Result<Self> {
        if !crate::is_root() {
            bail!("the passive lab needs root (network namespaces)");
        }
        for tool in ["lldpd", "avahi-daemon", "tcpdump", "unshare", "setpriv"] {
            let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
                .iter()
                .any(|d| Path::new(d).join(tool).exists());
            if !found {
                bail!("the passive lab needs {tool}; run tests/run, which installs lldpd, avahi-daemon and tcpdump");
            }
        }
        down();
        let dir = tempfile::Builder::new()
            .prefix("kenshin-passive-")
            .tempdir()?;
        for ns in namespaces() {
            ip(&["netns", "add", ns])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        // The listener's kernel must stay silent: no IPv6 (no DAD, RS or MLD).
        for key in [
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
        ] {
            run(Command::new("ip").args(["netns", "exec", LISTEN_NS, "sysctl", "-qw", key]))?;
        }
        ip_batch(
            BRIDGE_NS,
            &[
                "link add br0 type bridge".to_owned(),
                "link set br0 type bridge stp_state 0 forward_delay 0".to_owned(),
                // A bridge keeps 802.1D link-local groups to itself; let LLDP's
                // 01:80:c2:00:00:0e through, as a hub or an unmanaged switch would.
                "link set br0 type bridge group_fwd_mask 0x4000".to_owned(),
                "link set br0 up".to_owned(),
            ],
        )?;
        let mut links = vec![(LISTEN_NS, LISTEN_IF, LISTEN_ADDR)];
        links.extend(SPEAKERS.iter().map(|s| (s.ns, "eth0", s.address)));
        for (i, (ns, ifname, addr)) in links.iter().enumerate() {
            let port = format!("klp{i}");
            let peer = format!("klh{i}");
            ip(&[
                "link", "add", &port, "netns", BRIDGE_NS, "type", "veth", "peer", "name", &peer,
                "netns", ns,
            ])?;
            ip_batch(
                BRIDGE_NS,
                &[
                    format!("link set {port} master br0"),
                    format!("link set {port} up"),
                ],
            )?;
            ip_batch(
                ns,
                &[
                    format!("link set {peer} name {ifname}"),
                    format!("addr add {addr}/24 dev {ifname}"),
                ],
            )?;
        }
        // The listener comes up now, well before listening starts; the speakers come
        // up when `start` runs, so their kernels' first frames fall inside it.
        ip(&["-n", LISTEN_NS, "link", "set", LISTEN_IF, "up"])?;
        for s in [SWITCH, CDP_ROUTER] {
            run(Command::new("ip").args([
                "netns",
                "exec",
                s.ns,
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
            ]))?;
        }
        // /sys shows the namespace of whoever mounted it: read it from inside.
        let listener_mac = run(Command::new("ip")
            .args(["netns", "exec", LISTEN_NS, "cat"])
            .arg(format!("/sys/class/net/{LISTEN_IF}/address")))?
        .trim()
        .to_owned();
        write_avahi_files(dir.path())?;
        Ok(Self {
            dir,
            children: Vec::new(),
            listener_mac,
        })
    }

    /// The lab's folder (configuration, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Brings the speakers up and starts everything that speaks: lldpd twice, avahi,
    /// and the `kenshin-lab announce` fixtures (`lab_bin`).
    pub fn start(&mut self, lab_bin: &Path) -> Result<()> {
        for s in SPEAKERS {
            ip(&["-n", s.ns, "link", "set", "eth0", "up"])?;
        }
        let dir = self.dir.path().to_path_buf();
        // Each daemon in its own mount and UTS namespace: its own /run, its own name.
        let script = "mount -t tmpfs kenshin-lab /run && mkdir -p /run/lldpd /run/avahi-daemon \
                      && hostname \"$1\" && shift && exec \"$@\"";
        let lldpd = |name: &str, sock: PathBuf, cdp: bool| -> Vec<String> {
            let mut v = vec![name.to_owned(), "lldpd".into(), "-d".into()];
            if cdp {
                v.push("-cc".into());
            }
            v.extend([
                "-I".into(),
                "eth0".into(),
                "-u".into(),
                sock.display().to_string(),
            ]);
            v
        };
        self.daemon(
            SWITCH,
            script,
            &lldpd(SWITCH.host_name, dir.join("sw.sock"), false),
        )?;
        self.daemon(
            CDP_ROUTER,
            script,
            &lldpd(CDP_ROUTER.host_name, dir.join("cdp.sock"), true),
        )?;
        let avahi_script = "mount -t tmpfs kenshin-lab /run && mkdir -p /run/avahi-daemon \
                            && mount --bind \"$2\" /etc/avahi/services && hostname \"$1\" \
                            && exec avahi-daemon -f \"$3\" --no-drop-root --no-chroot --no-rlimits";
        self.daemon(
            PRINTER,
            avahi_script,
            &[
                PRINTER.host_name.to_owned(),
                dir.join("services").display().to_string(),
                dir.join("avahi.conf").display().to_string(),
            ],
        )?;
        // Let the daemons start before the fixtures speak once.
        std::thread::sleep(Duration::from_secs(2));
        self.announce(lab_bin, PC, "pc")?;
        self.announce(lab_bin, TV, "tv")?;
        Ok(())
    }

    /// Runs `kenshin-lab announce WHAT` in the speaker's namespace, once.
    pub fn announce(&self, lab_bin: &Path, s: Speaker, what: &str) -> Result<()> {
        run(Command::new("ip")
            .args(["netns", "exec", s.ns])
            .arg(lab_bin)
            .args(["announce", what, s.address, PRINTER.address]))?;
        Ok(())
    }

    fn daemon(&mut self, s: Speaker, script: &str, args: &[String]) -> Result<()> {
        let log = fs::File::create(self.dir.path().join(format!("{}.log", s.ns)))?;
        let child = Command::new("ip")
            .args([
                "netns", "exec", s.ns, "unshare", "--mount", "--uts", "--", "sh", "-c", script,
                "sh",
            ])
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start a daemon in {}", s.ns))?;
        self.children.push(child);
        Ok(())
    }

    /// Starts tcpdump on the listener's interface, writing every frame to `pcap`.
    pub fn capture(&mut self, pcap: &Path) -> Result<()> {
        let log = fs::File::create(self.dir.path().join("tcpdump.log"))?;
        let child = Command::new("ip")
            .args([
                "netns", "exec", LISTEN_NS, "tcpdump", "-i", LISTEN_IF, "-U", "-n", "-w",
            ])
            .arg(pcap)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start tcpdump")?;
        self.children.push(child);
        // tcpdump says "listening on" once its capture is open.
        for _ in 0..50 {
            let text = fs::read_to_string(self.dir.path().join("tcpdump.log")).unwrap_or_default();
            if text.contains("listening on") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("tcpdump did not start on {LISTEN_IF}")
    }

    /// Stops tcpdump (and everything else) so its file is complete.
    pub fn stop_all(&mut self) {
        for c in &mut self.children {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
        self.children.clear();
    }
}

impl Drop for PassiveLab {
    fn drop(&mut self) {
        self.stop_all();
        down();
    }
}

/// How many frames of a capture match a tcpdump filter.
pub fn count_frames(pcap: &Path, filter: &str) -> Result<usize> {
    let out = run(Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(pcap)
        .arg(filter))?;
    Ok(out.lines().count())
}

fn write_avahi_files(dir: &Path) -> Result<()> {
    fs::write(
        dir.join("avahi.conf"),
        "[server]\nuse-ipv4=yes\nuse-ipv6=yes\nallow-interfaces=eth0\nenable-dbus=no\n\
         domain-name=local\n[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=yes\n\
         publish-workstation=no\n",
    )?;
    fs::create_dir_all(dir.join("services"))?;
    fs::write(
        dir.join("services/printer.service"),
        format!(
            "<?xml version=\"1.0\" standalone='no'?>\n<!DOCTYPE service-group SYSTEM \"avahi-service.dtd\">\n\
             <service-group><name>Ward 3 Printer</name>\
             <service><type>_ipp._tcp</type><port>631</port><txt-record>ty={PRINTER_MODEL}</txt-record>\
             <txt-record>rp=ipp/print</txt-record></service>\
             <service><type>_printer._tcp</type><port>515</port></service></service-group>\n"
        ),
    )?;
    Ok(())
}

/// `kenshin-lab announce pc|tv OWN_ADDRESS PEER`: what the fixtures say, once.
pub fn announce(what: &str, own: Ipv4Addr, peer: Ipv4Addr) -> Result<()> {
    match what {
        "pc" => {
            broadcast_dhcp_discover(own)?;
            broadcast_nbns_registration(own)?;
            // A datagram to the peer makes the kernel broadcast an ARP request.
            send(
                &UdpSocket::bind((own, 0))?,
                b"hello",
                SocketAddrV4::new(peer, 9),
            )?;
            std::thread::sleep(Duration::from_millis(300));
            Ok(())
        }
        "tv" => ssdp_notify(own),
        other => bail!("announce knows pc and tv, not {other:?}"),
    }
}

#[allow(clippy::disallowed_methods)] // a lab host announcing itself on its own segment
fn send(socket: &UdpSocket, bytes: &[u8], to: SocketAddrV4) -> Result<()> {
    socket
        .send_to(bytes, to)
        .with_context(|| format!("cannot send to {to}"))?;
    Ok(())
}

/// A DHCPDISCOVER as a Windows client sends it: hostname (12), vendor class (60),
/// parameter-request list (55), requested address (50).
pub fn dhcp_discover(own: Ipv4Addr, mac: [u8; 6]) -> Vec<u8> {
    let mut m = vec![1, 1, 6, 0, 0x4b, 0x45, 0x4e, 0x53, 0, 0, 0x80, 0];
    m.extend_from_slice(&[0; 16]); // ciaddr yiaddr siaddr giaddr
    m.extend_from_slice(&mac);
    m.extend_from_slice(&[0; 10 + 64 + 128]);
    m.extend_from_slice(&[0x63, 0x82, 0x53, 0x63, 53, 1, 1, 50, 4]);
    m.extend_from_slice(&own.octets());
    m.push(12);
    m.push(u8::try_from(PC.host_name.len()).unwrap_or(0));
    m.extend_from_slice(PC.host_name.as_bytes());
    m.push(60);
    m.push(u8::try_from(PC_VENDOR_CLASS.len()).unwrap_or(0));
    m.extend_from_slice(PC_VENDOR_CLASS.as_bytes());
    m.push(55);
    m.push(u8::try_from(PC_PARAMETERS.len()).unwrap_or(0));
    m.extend_from_slice(&PC_PARAMETERS);
    m.push(255);
    m
}

fn own_mac() -> Result<[u8; 6]> {
    let text = fs::read_to_string("/sys/class/net/eth0/address").context("eth0's MAC")?;
    let bytes: Vec<u8> = text
        .trim()
        .split(':')
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    <[u8; 6]>::try_from(bytes).map_err(|_| anyhow::anyhow!("eth0's MAC is not 6 bytes: {text:?}"))
}

fn broadcast_dhcp_discover(own: Ipv4Addr) -> Result<()> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    socket.set_broadcast(true)?;
    socket.set_reuse_address(true)?;
    socket.bind_device(Some(b"eth0"))?;
    socket.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68).into())?;
    let socket: UdpSocket = socket.into();
    send(
        &socket,
        &dhcp_discover(own, own_mac()?),
        SocketAddrV4::new(Ipv4Addr::BROADCAST, 67),
    )
}

fn netbios_name(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw: Vec<u8> = format!("{name:<15}").bytes().take(15).collect();
    raw.push(suffix);
    let mut out = vec![32];
    for c in raw {
        out.push(b'A' + (c >> 4));
        out.push(b'A' + (c & 0x0f));
    }
    out.push(0);
    out
}

fn broadcast_nbns_registration(own: Ipv4Addr) -> Result<()> {
    let mut m = vec![0x7a, 0x01, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1];
    m.extend(netbios_name(&PC.host_name.to_uppercase(), 0));
    m.extend_from_slice(&[
        0, 32, 0, 1, 0xc0, 0x0c, 0, 32, 0, 1, 0, 4, 0x93, 0xe0, 0, 6, 0, 0,
    ]);
    m.extend_from_slice(&own.octets());
    let socket = UdpSocket::bind((own, 137))?;
    socket.set_broadcast(true)?;
    let [a, b, c, _] = own.octets();
    send(
        &socket,
        &m,
        SocketAddrV4::new(Ipv4Addr::new(a, b, c, 255), 137),
    )
}

fn ssdp_notify(own: Ipv4Addr) -> Result<()> {
    let text = format!(
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n\
         LOCATION: http://{own}:49152/description.xml\r\n\
         NT: urn:schemas-upnp-org:device:MediaServer:1\r\nNTS: ssdp:alive\r\n\
         SERVER: {TV_SERVER}\r\n\
         USN: uuid:1b2c3d4e-0000-1000-8000-0011223344aa::urn:schemas-upnp-org:device:MediaServer:1\r\n\r\n"
    );
    let socket = UdpSocket::bind((own, 0))?;
    socket.set_multicast_ttl_v4(2)?;
    let s2 = socket2::SockRef::from(&socket);
    s2.set_multicast_if_v4(&own)?;
    send(
        &socket,
        text.as_bytes(),
        SocketAddrV4::new(Ipv4Addr::new(239, 255, 255, 250), 1900),
    )
}
