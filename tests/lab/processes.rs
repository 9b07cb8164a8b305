//! The lab's processes: starting a program inside a namespace with its output in
//! the lab's folder (stopped with the lab), the plain listeners and fixtures that
//! the `kenshin-lab` binary itself serves, and waiting until everything listens.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::command::run;
use crate::{fixtures, Lab, FIXTURES};

impl Lab {
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

    pub(crate) fn spawn_in(&mut self, ns: &str, program: &str, args: &[&str]) -> Result<()> {
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

    pub(crate) fn start_listeners(&mut self, listener: &Path) -> Result<()> {
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

    /// Waits until every daemon and listener is bound (read from inside each namespace).
    pub(crate) fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let want = ready_sockets();
        loop {
            let missing = not_listening(&want);
            if missing.is_empty() {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                bail!(
                    "a lab daemon exited ({status}); logs are in {}; still missing: {missing:?}",
                    self.dir.display()
                );
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

    /// The exit status of the first started process that has exited, if any has.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.children
            .iter_mut()
            .find_map(|c| c.try_wait().ok().flatten())
    }
}

/// Every (namespace, `:port `) that must be listening before the lab is ready.
fn ready_sockets() -> Vec<(&'static str, String)> {
    vec![
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
        ("ksl-dns", ":53 ".into()),
        ("ksl-a1", ":80 ".into()),
        ("ksl-a2", ":9100 ".into()),
        ("ksl-flaky", ":80 ".into()),
        ("ksl-b1", ":8080 ".into()),
        ("ksl-b2", ":11112 ".into()),
    ]
}

/// The sockets of `want` nothing listens on yet, as `namespace:port`.
fn not_listening(want: &[(&str, String)]) -> Vec<String> {
    want.iter()
        .filter(|(ns, port)| {
            run(Command::new("ip").args(["netns", "exec", ns, "ss", "-lntuH"]))
                .map(|s| !s.contains(port.as_str()))
                .unwrap_or(true)
        })
        .map(|(ns, port)| format!("{ns}{}", port.trim_end()))
        .collect()
}
