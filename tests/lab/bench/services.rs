//! The bench lab's services: in each segment namespace one sshd and one nginx (plain
//! HTTP on 80 and 8080, HTTPS with a self-signed certificate the lab makes on 443), all
//! bound to the wildcard address so that one daemon serves every address of the
//! namespace, and `kenshin-lab listen` (accept and close) on the other open ports. The
//! nft sets of [`super::network`] decide which addresses a port is open on.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::model::{BenchTruth, REAL_SERVICES};
use crate::command::run;

/// The processes of the bench lab, with their logs in `dir`.
#[derive(Debug)]
pub(super) struct Services {
    dir: PathBuf,
    pub(super) children: Vec<Child>,
}

impl Services {
    pub(super) fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            children: Vec::new(),
        }
    }

    /// Starts every segment namespace's daemons and listeners and waits until each
    /// port of the namespace's union is bound.
    pub(super) fn start(&mut self, truth: &BenchTruth, listener: &Path) -> Result<()> {
        self.host_keys()?;
        for seg in &truth.segments {
            let ns = seg.namespace;
            let ports = truth.ports_of(ns);
            let real = |p: &u16| REAL_SERVICES.iter().any(|(r, _)| r == p);
            if ports.contains(&22) {
                self.sshd(ns)?;
            }
            if ports.iter().any(|p| [80, 443, 8080].contains(p)) {
                self.nginx(ns)?;
            }
            let plain: Vec<String> = ports
                .iter()
                .filter(|p| !real(p))
                .map(u16::to_string)
                .collect();
            if !plain.is_empty() {
                self.spawn(
                    ns,
                    &listener.to_string_lossy(),
                    &["listen", &plain.join(",")],
                )?;
            }
            self.wait_bound(ns, &ports)?;
        }
        Ok(())
    }

    /// One sshd host key and one self-signed certificate for the whole lab.
    fn host_keys(&self) -> Result<()> {
        let p = |name: &str| self.dir.join(name).to_string_lossy().into_owned();
        run(Command::new("ssh-keygen").args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            &p("ssh_host_ed25519_key"),
        ]))?;
        crate::command::self_signed_p256(
            "/O=kenshin bench lab/CN=bench-device",
            &self.dir.join("bench.key"),
            &self.dir.join("bench.crt"),
        )
    }

    /// sshd on the wildcard address of `ns`, accepting many handshakes at once (a
    /// scanner identifies hundreds of hosts, all served by this one daemon).
    fn sshd(&mut self, ns: &str) -> Result<()> {
        let p = |name: &str| self.dir.join(name).to_string_lossy().into_owned();
        fs::create_dir_all("/run/sshd")?;
        let conf = p(&format!("sshd-{ns}.conf"));
        fs::write(
            &conf,
            format!(
                "Port 22\nListenAddress 0.0.0.0\nHostKey {}\nPidFile {}\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 MaxStartups 1000:30:2000\nLoginGraceTime 20\n",
                p("ssh_host_ed25519_key"),
                p(&format!("sshd-{ns}.pid")),
            ),
        )?;
        self.spawn(ns, "/usr/sbin/sshd", &["-D", "-e", "-f", &conf])
    }

    /// nginx on the wildcard address of `ns`: a device's landing page on 80 and 8080,
    /// the same over TLS on 443.
    fn nginx(&mut self, ns: &str) -> Result<()> {
        let d = self.dir.join(format!("nginx-{ns}"));
        fs::create_dir_all(d.join("tmp"))?;
        let p = |s: &str| d.join(s).to_string_lossy().into_owned();
        let q = |s: &str| self.dir.join(s).to_string_lossy().into_owned();
        let page = "location / { default_type text/html; \
                    return 200 '<html><head><title>bench device</title></head></html>'; }";
        let conf = p("nginx.conf");
        fs::write(
            &conf,
            format!(
                "pid {pid};\nerror_log {err};\nworker_processes 1;\nworker_rlimit_nofile 16384;\n\
                 events {{ worker_connections 8192; }}\n\
                 http {{ access_log off; client_body_temp_path {t}/body; proxy_temp_path {t}/proxy;\n\
                 fastcgi_temp_path {t}/fcgi; uwsgi_temp_path {t}/uwsgi; scgi_temp_path {t}/scgi;\n\
                 server {{ listen 80; listen 8080; {page} }}\n\
                 server {{ listen 443 ssl; ssl_certificate {crt}; ssl_certificate_key {key}; {page} }}\n}}\n",
                pid = p("nginx.pid"),
                err = p("error.log"),
                t = p("tmp"),
                crt = q("bench.crt"),
                key = q("bench.key"),
            ),
        )?;
        self.spawn(ns, "/usr/sbin/nginx", &["-c", &conf, "-g", "daemon off;"])
    }

    fn spawn(&mut self, ns: &str, program: &str, args: &[&str]) -> Result<()> {
        let name = Path::new(program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let log = fs::File::create(self.dir.join(format!("{ns}-{name}.log")))?;
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

    /// Waits up to 20 s until every port of `ports` is bound in `ns`.
    fn wait_bound(&mut self, ns: &str, ports: &[u16]) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = run(Command::new("ip").args(["netns", "exec", ns, "ss", "-lntH"]))?;
            let missing: Vec<u16> = ports
                .iter()
                .copied()
                .filter(|p| !out.contains(&format!(":{p} ")))
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            if let Some(status) = self
                .children
                .iter_mut()
                .find_map(|c| c.try_wait().ok().flatten())
            {
                bail!(
                    "a bench daemon exited ({status}); logs are in {}; {ns} still misses {missing:?}",
                    self.dir.display()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{ns}: nothing listens on tcp {missing:?} after 20 s; logs are in {}",
                    self.dir.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops every process.
    pub(super) fn stop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
