//! A webhook receiver for the daemon tests: an HTTP/1.1 server on one loopback port
//! that appends each request body as one line to a file and answers 200. It runs
//! inside the scanner namespace, where the daemon under test posts to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;

use anyhow::{Context, Result};

/// Largest body accepted.
const MAX_BODY: usize = 1 << 20;

/// Serves forever on 127.0.0.1:`port`, appending bodies to `out`.
pub fn receive(port: u16, out: &Path) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if let Err(e) = answer(stream, out) {
            eprintln!("kenshin-lab webhook: {e:#}");
        }
    }
    Ok(())
}

fn answer(stream: std::net::TcpStream, out: &Path) -> Result<()> {
    let mut reader = BufReader::new(stream);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().context("bad Content-Length")?;
        }
    }
    anyhow::ensure!(len <= MAX_BODY, "body of {len} bytes is too large");
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .with_context(|| format!("cannot open {}", out.display()))?;
    body.push(b'\n');
    file.write_all(&body)?;
    let mut stream = reader.into_inner();
    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    Ok(())
}
