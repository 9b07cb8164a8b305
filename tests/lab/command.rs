//! Running the host's tools for the lab: any command with its output in the
//! error, `ip` (one command, or a batch inside a namespace), `nft` rulesets
//! inside a namespace, and the checks that the lab can be built at all (root, and
//! every tool installed).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::PACKAGES;

/// Runs a command, failing with its output if it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<String> {
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

pub(crate) fn ip(args: &[&str]) -> Result<String> {
    run(Command::new("ip").args(args))
}

/// Runs `ip -n NS -batch -` with the given lines.
pub(crate) fn ip_batch(ns: &str, lines: &[String]) -> Result<()> {
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
pub(crate) fn nft(ns: &str, ruleset: &str) -> Result<()> {
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
/// Kills whatever still runs in namespace `ns` and deletes it; quiet when it does not
/// exist.
pub(crate) fn remove_namespace(ns: &str) {
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

/// Writes a self-signed P-256 certificate for `subject` to `crt` and its key to `key`.
pub(crate) fn self_signed_p256(subject: &str, key: &Path, crt: &Path) -> Result<()> {
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
        &key.to_string_lossy(),
        "-out",
        &crt.to_string_lossy(),
    ]))?;
    Ok(())
}

pub fn is_root() -> bool {
    run(Command::new("id").arg("-u"))
        .map(|s| s.trim() == "0")
        .unwrap_or(false)
}

/// Fails unless the process is root and every tool the lab runs is installed.
pub(crate) fn require_tools() -> Result<()> {
    if !is_root() {
        bail!("the lab needs root (network namespaces, nftables, daemons); run tests/run as root");
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
        "dnsmasq",
    ] {
        let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            .iter()
            .any(|d| Path::new(d).join(tool).exists());
        if !found {
            bail!("the lab needs {tool}; run tests/run, which installs {PACKAGES:?}");
        }
    }
    Ok(())
}
