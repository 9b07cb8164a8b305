//! Files that are not what they claim: a FIFO or /dev/zero where a configuration or
//! a target list should be ends with an error naming the file at once, never a hang
//! or a read until memory runs out; a cron step past its field's span is refused.
//! Nothing here sends a packet.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::test_key;

/// Runs kenshin, killing it if it has not ended after `HANG` (a hang detector, not a
/// timing target): returns its exit code and stderr.
fn run_bounded(args: &[&str]) -> (Option<i32>, String) {
    const HANG: Duration = Duration::from_secs(10);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kenshin"))
        .args(args)
        .env("LANG", "C")
        .env("KENSHIN_SIGNING_KEY", test_key())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kenshin runs");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            return (
                status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kenshin {args:?} still ran after {HANG:?}: it hangs on its input");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn fifo(dir: &Path, name: &str) -> String {
    let p = dir.join(name);
    let made = Command::new("mkfifo").arg(&p).status().expect("mkfifo");
    assert!(made.success());
    p.to_string_lossy().into_owned()
}

#[test]
fn check_config_refuses_a_fifo_and_a_device_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let fifo = fifo(dir.path(), "kenshin.toml");
    let (code, err) = run_bounded(&["check-config", &fifo]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("kenshin.toml is a FIFO, not a regular file"),
        "{err}"
    );

    let zero = dir.path().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
    let (code, err) = run_bounded(&["check-config", zero.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is a character device"), "{err}");
}

#[test]
fn check_config_refuses_an_oversized_file_naming_the_limit() {
    let dir = tempfile::tempdir().expect("dir");
    let big = dir.path().join("big.toml");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(17 << 20).expect("sparse file");
    let (code, err) = run_bounded(&["check-config", big.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("larger than the limit of 16777216 bytes"),
        "{err}"
    );
}

#[test]
fn target_and_exclude_files_refuse_a_fifo_and_dev_zero_before_scanning() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("report");
    let out = out.to_str().expect("utf-8");
    let fifo = fifo(dir.path(), "targets.txt");
    let (code, err) = run_bounded(&["scan", &format!("@{fifo}"), "-o", out]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("targets.txt is a FIFO"), "{err}");

    let (code, err) = run_bounded(&["scan", "@/dev/zero", "-o", out]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/dev/zero is a character device"), "{err}");

    let (code, err) = run_bounded(&[
        "scan",
        "198.18.1.1",
        "--exclude-file",
        "/dev/zero",
        "-o",
        out,
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/dev/zero is a character device"), "{err}");
    assert!(!Path::new(out).exists(), "an output folder was left behind");
}

#[test]
fn check_config_refuses_a_cron_step_past_its_fields_span() {
    let dir = tempfile::tempdir().expect("dir");
    for (schedule, names) in [
        ("59/4294967295 * * * *", "minute step 4294967295"),
        ("1/4294967295 3 * * *", "minute step 4294967295"),
        ("0 0/24 * * *", "hour step 24"),
    ] {
        let p = dir.path().join("kenshin.toml");
        std::fs::write(
            &p,
            format!(
                "[daemon]\nstate_dir = \"{}\"\n[[scope]]\nname = \"s\"\ntargets = [\"198.18.1.1\"]\nschedule = \"{schedule}\"\n",
                dir.path().join("state").display()
            ),
        )
        .expect("write");
        let (code, err) = run_bounded(&["check-config", p.to_str().expect("utf-8")]);
        assert_eq!(code, Some(2), "{schedule}: {err}");
        assert!(
            err.contains(names) && err.contains(":6:"),
            "{schedule}: {err}"
        );
    }
}

#[test]
fn an_error_quoting_a_hostile_file_name_shows_its_controls_escaped() {
    let dir = tempfile::tempdir().expect("dir");
    let name = dir.path().join("t\r\x1b[2Kscan complete\u{202e}.txt");
    let (code, err) = run_bounded(&["scan", &format!("@{}", name.display())]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        !err.contains('\x1b') && !err.contains('\r') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(
        err.contains(r"t\r\x1b[2Kscan complete\u{202e}.txt"),
        "{err}"
    );
}
