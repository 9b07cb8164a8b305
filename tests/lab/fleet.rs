//! The fleet lab: a headquarters namespace running PostgreSQL, a router, and two
//! hospital sites, each a sensor namespace with its own small segment to scan; all
//! in 198.18.0.0/15, with no default route anywhere.
//!
//! ```text
//!   kf-hq 198.18.40.10 (PostgreSQL, TLS, cert auth) ── kf-rtr ─┬─ 198.18.41.2 kf-sa (sensor, site A)
//!                                                               │     └─ 198.18.51.0/24: kf-a1 .10 .11 (tcp 22, 23, RDP 3389)
//!                                                               └─ 198.18.42.2 kf-sb (sensor, site B)
//!                                                                     └─ 198.18.52.0/24: kf-b1 .10 (tcp 23, RDP 3389)
//! ```
//!
//! The sensors reach only the headquarters' /24 (outbound); the headquarters has no
//! route that a scan would use. [`FleetLab`] tears everything down when dropped,
//! also when a test panics, and `up` first removes what a killed run left.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::command::{ip, run};
use crate::postgres::{make_ca, make_cert, Cluster, Pair, CLIENT_EXT};

/// Namespaces, in the order they are made.
pub const FLEET_NS: [&str; 6] = ["kf-hq", "kf-rtr", "kf-sa", "kf-sb", "kf-a1", "kf-b1"];
/// The headquarters.
pub const HQ_NS: &str = "kf-hq";
/// The headquarters' address, where PostgreSQL listens.
pub const HQ_ADDR: &str = "198.18.40.10";
/// Site A's sensor namespace and its segment's hosts.
pub const SITE_A_NS: &str = "kf-sa";
pub const SITE_A_HOSTS: [&str; 2] = ["198.18.51.10", "198.18.51.11"];
/// Site B's sensor namespace and its segment's host.
pub const SITE_B_NS: &str = "kf-sb";
pub const SITE_B_HOSTS: [&str; 1] = ["198.18.52.10"];
/// The ports the segment hosts listen on.
pub const SITE_A_PORTS: &str = "22,23";
pub const SITE_B_PORTS: &str = "23";
/// The RDP fixtures (so each site has findings): Standard RDP Security at site A,
/// RDP with NLA at site B.
pub const SITE_A_FIXTURE: &str = "rdp-standard:3389";
pub const SITE_B_FIXTURE: &str = "rdp:3389";

/// The fleet lab's folder.
fn lab_dir() -> PathBuf {
    std::env::temp_dir().join("kenshin-fleet-lab")
}

/// A running fleet lab.
#[derive(Debug)]
pub struct FleetLab {
    pub dir: PathBuf,
    /// Present until drop; dropped first, so the server stops before its namespace goes.
    pub cluster: Option<Cluster>,
    /// The CA that signed the server and the sites' client certificates.
    pub ca: Pair,
    /// Site A's and B's client certificates (CN = their roles, site_a and site_b).
    pub site_a: Pair,
    pub site_b: Pair,
    /// A certificate with CN site_a signed by a CA the server does not trust.
    pub stranger: Pair,
    children: Vec<Child>,
}

impl FleetLab {
    /// Builds the namespaces, the segment hosts and the cluster. `listener` is the
    /// `kenshin-lab` binary.
    pub fn up(listener: &Path) -> Result<Self> {
        if !crate::is_root() {
            bail!("the fleet lab needs root (network namespaces, PostgreSQL as postgres)");
        }
        crate::postgres::server_bin()?;
        fleet_down();
        let dir = lab_dir();
        fs::create_dir_all(&dir)?;
        let ca = make_ca(&dir, "fleet-ca")?;
        let other = make_ca(&dir, "other-ca")?;
        let site_a = make_cert(&dir, &ca, "site-a", "site_a", CLIENT_EXT)?;
        let site_b = make_cert(&dir, &ca, "site-b", "site_b", CLIENT_EXT)?;
        let stranger = make_cert(&dir, &other, "stranger", "site_a", CLIENT_EXT)?;
        let mut lab = Self {
            dir: dir.clone(),
            cluster: None,
            ca,
            site_a,
            site_b,
            stranger,
            children: Vec::new(),
        };
        lab.build_network()?;
        for (ns, what, spec) in [
            ("kf-a1", "listen", SITE_A_PORTS),
            ("kf-a1", "serve", SITE_A_FIXTURE),
            ("kf-b1", "listen", SITE_B_PORTS),
            ("kf-b1", "serve", SITE_B_FIXTURE),
        ] {
            let log = fs::File::create(dir.join(format!("{ns}-{what}.log")))?;
            let child = Command::new("ip")
                .args(["netns", "exec", ns])
                .arg(listener)
                .args([what, spec])
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .with_context(|| format!("cannot start the listener in {ns}"))?;
            lab.children.push(child);
            wait_listening(ns, if what == "listen" { 23 } else { 3389 })?;
        }
        lab.cluster = Some(Cluster::start(&dir, HQ_NS, HQ_ADDR, &lab.ca)?);
        Ok(lab)
    }

    fn build_network(&self) -> Result<()> {
        for ns in FLEET_NS {
            ip(&["netns", "add", ns])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        // (namespace, interface, address) at each end of each link.
        let links = [
            (
                ("kf-hq", "hq0", "198.18.40.10/24"),
                ("kf-rtr", "rhq", "198.18.40.1/24"),
            ),
            (
                ("kf-sa", "up0", "198.18.41.2/24"),
                ("kf-rtr", "ra", "198.18.41.1/24"),
            ),
            (
                ("kf-sb", "up0", "198.18.42.2/24"),
                ("kf-rtr", "rb", "198.18.42.1/24"),
            ),
            (
                ("kf-sa", "seg0", "198.18.51.2/24"),
                ("kf-a1", "eth0", "198.18.51.10/24"),
            ),
            (
                ("kf-sb", "seg0", "198.18.52.2/24"),
                ("kf-b1", "eth0", "198.18.52.10/24"),
            ),
        ];
        for ((ns1, if1, a1), (ns2, if2, a2)) in links {
            ip(&[
                "link", "add", "kf-tmp1", "type", "veth", "peer", "name", "kf-tmp2",
            ])?;
            ip(&["link", "set", "kf-tmp1", "netns", ns1, "name", if1])?;
            ip(&["link", "set", "kf-tmp2", "netns", ns2, "name", if2])?;
            for (ns, ifname, addr) in [(ns1, if1, a1), (ns2, if2, a2)] {
                ip(&["-n", ns, "addr", "add", addr, "dev", ifname])?;
                ip(&["-n", ns, "link", "set", ifname, "up"])?;
            }
        }
        ip(&[
            "-n",
            "kf-a1",
            "addr",
            "add",
            "198.18.51.11/24",
            "dev",
            "eth0",
        ])?;
        run(Command::new("ip").args([
            "netns",
            "exec",
            "kf-rtr",
            "sysctl",
            "-q",
            "-w",
            "net.ipv4.ip_forward=1",
        ]))?;
        // Sensors reach the headquarters' /24 only; the headquarters answers them.
        ip(&[
            "-n",
            "kf-sa",
            "route",
            "add",
            "198.18.40.0/24",
            "via",
            "198.18.41.1",
        ])?;
        ip(&[
            "-n",
            "kf-sb",
            "route",
            "add",
            "198.18.40.0/24",
            "via",
            "198.18.42.1",
        ])?;
        ip(&[
            "-n",
            "kf-hq",
            "route",
            "add",
            "198.18.41.0/24",
            "via",
            "198.18.40.1",
        ])?;
        ip(&[
            "-n",
            "kf-hq",
            "route",
            "add",
            "198.18.42.0/24",
            "via",
            "198.18.40.1",
        ])?;
        Ok(())
    }

    /// The cluster (present from `up` until drop).
    pub fn cluster(&self) -> &Cluster {
        self.cluster
            .as_ref()
            .expect("the cluster runs while the lab is up")
    }

    /// A site's URL: TLS to the headquarters with `pair` as the client certificate.
    pub fn site_url(&self, role: &str, pair: &Pair) -> String {
        format!(
            "postgresql://{role}@{HQ_ADDR}:5432/fleet?sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}",
            self.ca.cert.display(),
            pair.cert.display(),
            pair.key.display()
        )
    }

    /// Cuts (`false`) or restores (`true`) a sensor's uplink.
    pub fn set_uplink(&self, ns: &str, up: bool) -> Result<()> {
        ip(&[
            "-n",
            ns,
            "link",
            "set",
            "up0",
            if up { "up" } else { "down" },
        ])?;
        if up {
            let via = if ns == SITE_A_NS {
                "198.18.41.1"
            } else {
                "198.18.42.1"
            };
            let _ = ip(&["-n", ns, "route", "replace", "198.18.40.0/24", "via", via]);
        }
        Ok(())
    }
}

fn wait_listening(ns: &str, port: u16) -> Result<()> {
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

impl Drop for FleetLab {
    fn drop(&mut self) {
        drop(self.cluster.take());
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        fleet_down();
    }
}

/// Removes the fleet lab: stops a cluster a killed run left, the namespaces and what
/// still runs in them, and the folder. Safe when nothing is there.
pub fn fleet_down() {
    let dir = lab_dir();
    let data = dir.join("pg/data");
    if data.join("postmaster.pid").exists() {
        if let Ok(bin) = crate::postgres::server_bin() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    for ns in FLEET_NS {
        crate::command::remove_namespace(ns);
    }
    let _ = fs::remove_dir_all(&dir);
}
