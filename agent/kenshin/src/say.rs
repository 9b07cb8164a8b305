//! Printing what came from outside (a report folder, the history, a network peer, a
//! configuration, this machine's process list): every line goes through
//! `kenshin_report::visible` first, so no control or bidi character reaches the
//! terminal raw and no text can redraw what kenshin printed.

/// `println!`, with the whole line made visible.
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", kenshin_report::visible(&format!($($arg)*)))
    };
}

/// `print!` (no line end), made visible.
macro_rules! say_part {
    ($($arg:tt)*) => {
        print!("{}", kenshin_report::visible(&format!($($arg)*)))
    };
}

pub(crate) use {say, say_part};

/// JSON for stdout: serde_json already escapes C0 controls; the others that a
/// terminal obeys (DEL, C1, bidi controls) are written as `\uNNNN`, the same value.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<String> {
    Ok(kenshin_report::screen::json_visible(&serde_json::to_string_pretty(value)?).into_owned())
}

/// Log output: each event's line made visible before it reaches stderr (journald
/// under systemd), so a banner or a file name quoted in a log can neither forge
/// another line nor redraw the terminal.
#[derive(Debug)]
pub(crate) struct VisibleStderr;

impl std::io::Write for VisibleStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (&*text, ""),
        };
        let line = format!("{}{end}", kenshin_report::visible(body));
        std::io::stderr().write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
