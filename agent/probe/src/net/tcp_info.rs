//! What the kernel counted on a TCP socket (`getsockopt(TCP_INFO)`): the segments
//! it sent, so the governor's estimate of a connection's frames can be corrected
//! from what actually happened.
//!
//! One of kenshin's two `unsafe` places (the other, engine/src/memory.rs, tunes the
//! allocator): `getsockopt` writes into a buffer we own, of the size we pass, and the
//! kernel reports how much it filled.

use std::os::fd::AsRawFd;

/// `tcpi_segs_out` of the socket, or `None` where the kernel cannot tell (not
/// Linux, an old kernel whose `tcp_info` stops short of the field, an error).
pub(super) fn segments_out(socket: &impl AsRawFd) -> Option<u32> {
    let info = read(socket.as_raw_fd())?;
    Some(info.tcpi_segs_out)
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn read(fd: std::os::fd::RawFd) -> Option<libc::tcp_info> {
    let mut info = std::mem::MaybeUninit::<libc::tcp_info>::zeroed();
    let size = size_of::<libc::tcp_info>();
    let mut len = libc::socklen_t::try_from(size).ok()?;
    // SAFETY: `info` is a zeroed buffer of `len` bytes that outlives the call; the
    // kernel writes at most `len` bytes into it and sets `len` to what it wrote.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_segs_out) + 4;
    if rc != 0 || (len as usize) < needed {
        return None;
    }
    // SAFETY: zero-initialised, then filled by the kernel; every field is an integer.
    Some(unsafe { info.assume_init() })
}

#[cfg(not(target_os = "linux"))]
fn read(_fd: std::os::fd::RawFd) -> Option<libc::tcp_info> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_loopback_connection_reports_the_segments_it_sent() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        #[allow(clippy::disallowed_methods)] // loopback, in a test
        let client = std::net::TcpStream::connect(addr).expect("connect");
        let (_server, _) = listener.accept().expect("accept");
        use std::io::Write;
        (&client).write_all(b"hello").expect("write");
        // SYN and the handshake's ACK, then at least the one data segment.
        let n = segments_out(&client).expect("linux reports tcpi_segs_out");
        assert!(n >= 3, "{n}");
    }
}
