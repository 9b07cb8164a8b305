//! The Debian package, built with cargo-deb from the release binary: its contents are
//! listed and checked, it is installed on this machine (the unit ships enabled but not
//! started, and nothing is scanned: the shipped configuration has no scope), the
//! user, folders, key, configuration and unit are checked, the daemon is run once as
//! the unprivileged user, and the package is purged again.
//!
//! Needs root and cargo-deb (`tests/run` installs it). Refuses to touch a machine
//! where kenshin is already installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Purges the package and what its scripts made, also when the test fails.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", "kenshin"]).output();
        let _ = Command::new("userdel").arg("kenshin").output();
        let _ = Command::new("groupdel").arg("kenshin").output();
        let _ = std::fs::remove_dir_all("/var/lib/kenshin");
    }
}

fn mode_owner(path: &str) -> String {
    ok(Command::new("stat").args(["-c", "%a %U:%G", path]))
        .trim()
        .to_owned()
}

#[test]
fn the_debian_package_installs_a_user_its_folders_a_key_and_a_hardened_unit() {
    let id = ok(Command::new("id").arg("-u"));
    assert_eq!(
        id.trim(),
        "0",
        "the package test installs a package: run it as root"
    );
    let has_deb = Command::new("cargo")
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_deb,
        "cargo-deb is missing: `cargo install --locked cargo-deb` (tests/run does)"
    );
    let status = run(Command::new("dpkg-query").args(["-W", "-f=${Status}", "kenshin"]));
    assert!(
        !String::from_utf8_lossy(&status.stdout).contains("installed"),
        "kenshin is already installed on this machine; the package test will not replace it"
    );

    // Build: the release binary (tests/run has built it and names it in KENSHIN_BIN,
    // as for the e2e tests), then the package.
    if std::env::var_os("KENSHIN_BIN").is_none() {
        ok(Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--release", "--locked", "-p", "kenshin"])
            .current_dir(root()));
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deb");
    let _ = std::fs::remove_dir_all(&out);
    let built = ok(Command::new(env!("CARGO"))
        .args(["deb", "-p", "kenshin", "--no-build", "--strip", "-o"])
        .arg(&out)
        .current_dir(root()));
    let deb = PathBuf::from(
        built
            .lines()
            .last()
            .expect("cargo deb prints the package path")
            .trim(),
    );
    assert!(deb.is_file(), "{built}");

    // What is in it.
    let contents = ok(Command::new("dpkg-deb").arg("-c").arg(&deb));
    eprintln!("{}\n{contents}", deb.display());
    for (mode, path) in [
        ("-rwxr-xr-x", "./usr/bin/kenshin"),
        ("-rw-r-----", "./etc/kenshin/kenshin.toml"),
        ("-rw-r--r--", "./usr/lib/systemd/system/kenshin.service"),
        ("-rw-r--r--", "./usr/share/doc/kenshin/install.md"),
        ("-rw-r--r--", "./usr/share/doc/kenshin/notifications.md"),
        (
            "-rw-r--r--",
            "./usr/share/doc/kenshin/examples/small-hospital.toml",
        ),
    ] {
        assert!(
            contents
                .lines()
                .any(|l| l.starts_with(mode) && l.ends_with(path)),
            "{path} ({mode}) is not in the package:\n{contents}"
        );
    }
    let control = ok(Command::new("dpkg-deb").arg("-I").arg(&deb));
    assert!(control.contains("Depends: adduser"), "{control}");
    assert!(control.contains("conffiles"), "{control}");

    // root's own `kenshin scan` may keep its signing key in /etc/kenshin; the purge
    // must leave such a file alone.
    let etc_before = Path::new("/etc/kenshin").exists();

    // Install, with service starts forbidden while dpkg runs.
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let added_policy = !policy.exists();
    if added_policy {
        std::fs::write(policy, "#!/bin/sh\nexit 101\n").expect("policy-rc.d");
        ok(Command::new("chmod").args(["755", "/usr/sbin/policy-rc.d"]));
    }
    let _installed = Installed;
    let installed = run(Command::new("dpkg").arg("-i").arg(&deb));
    if added_policy {
        let _ = std::fs::remove_file(policy);
    }
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&installed.stdout),
        String::from_utf8_lossy(&installed.stderr)
    );
    assert!(installed.status.success(), "dpkg -i failed:\n{said}");
    eprintln!("{said}");
    assert!(
        said.contains("SHA256:"),
        "the install prints the key's fingerprint:\n{said}"
    );

    // The user, the folders, the key and the configuration.
    let passwd = ok(Command::new("getent").args(["passwd", "kenshin"]));
    assert!(passwd.contains(":/var/lib/kenshin:"), "{passwd}");
    assert!(
        passwd.trim_end().ends_with("nologin") || passwd.trim_end().ends_with("/bin/false"),
        "{passwd}"
    );
    assert_eq!(mode_owner("/var/lib/kenshin"), "750 kenshin:kenshin");
    assert_eq!(
        mode_owner("/var/lib/kenshin/signing-key.pem"),
        "600 kenshin:kenshin"
    );
    assert_eq!(mode_owner("/etc/kenshin"), "750 root:kenshin");
    assert_eq!(mode_owner("/etc/kenshin/kenshin.toml"), "640 root:kenshin");
    let checked = ok(Command::new("runuser")
        .args(["-u", "kenshin", "--", "/usr/bin/kenshin", "check-config"])
        .env("LANG", "C"));
    assert!(
        checked.contains("/etc/kenshin/kenshin.toml is valid"),
        "{checked}"
    );

    // The unit: verified by systemd, one capability, its own user, hardened.
    let unit = "/usr/lib/systemd/system/kenshin.service";
    ok(Command::new("systemd-analyze").args(["verify", unit]));
    let text = std::fs::read_to_string(unit).expect("unit");
    for line in [
        "User=kenshin",
        "AmbientCapabilities=CAP_NET_RAW",
        "CapabilityBoundingSet=CAP_NET_RAW",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "ReadWritePaths=/var/lib/kenshin",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} is missing from the unit"
        );
    }
    let security = run(Command::new("systemd-analyze").args(["security", "--offline=yes", unit]));
    let verdict = String::from_utf8_lossy(&security.stdout);
    eprintln!("{}", verdict.lines().last().unwrap_or(""));

    // The daemon as the kenshin user, without CAP_NET_RAW: it runs, says so once,
    // holds its lock (status sees it), and stops cleanly on SIGTERM.
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("package-daemon.log");
    let file = std::fs::File::create(&log).expect("log");
    let mut daemon = Command::new("runuser")
        .args(["-u", "kenshin", "--", "/usr/bin/kenshin", "daemon"])
        .env("LANG", "C")
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log"))
        .stderr(file)
        .spawn()
        .expect("daemon");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = run(Command::new("/usr/bin/kenshin")
            .arg("status")
            .env("LANG", "C"));
        if String::from_utf8_lossy(&status.stdout).contains("daemon: running") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "status never saw the daemon: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The daemon's lock file holds its PID.
    let pid = std::fs::read_to_string("/var/lib/kenshin/daemon.lock").expect("lock file");
    ok(Command::new("kill").args(["-TERM", pid.trim()]));
    let exit = daemon.wait().expect("wait");
    let said = std::fs::read_to_string(&log).expect("log");
    assert!(exit.success(), "{said}");
    assert_eq!(said.matches("no CAP_NET_RAW").count(), 1, "{said}");
    assert!(said.contains("kenshin daemon stopped"), "{said}");

    // Purge: the configuration folder goes, the evidence stays.
    ok(Command::new("dpkg").args(["--purge", "kenshin"]));
    assert!(!Path::new("/usr/bin/kenshin").exists());
    assert!(!Path::new("/etc/kenshin/kenshin.toml").exists());
    assert_eq!(
        Path::new("/etc/kenshin").exists(),
        etc_before,
        "/etc/kenshin is removed on purge only when the package made it and nothing else is in it"
    );
    assert!(
        Path::new("/var/lib/kenshin/signing-key.pem").exists(),
        "reports and the key are kept on purge"
    );
}
