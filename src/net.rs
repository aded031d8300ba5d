//! Sockets: connect, listen, accept, non-blocking send/recv and waiting with
//! a deadline. POSIX via libc; platform differences are marked.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::io::{IntoRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::error::{Code, Error, Result};

mod resolve;
mod sockaddr;
mod udp;

use resolve::resolve;
use sockaddr::sockaddr_of;
pub use udp::{udp_connect, udp_listen, udp_peer_socket, udp_reconnect};

/// When an operation gives up. Built from the C ABI's `timeout_ms`.
#[derive(Debug, Clone, Copy)]
pub enum Deadline {
    /// timeout 0: try once, report WANT_READ / WANT_WRITE.
    NonBlocking,
    At(Instant),
    Never,
}

impl Deadline {
    pub fn from_timeout(timeout_ms: i32) -> Deadline {
        match timeout_ms {
            0 => Deadline::NonBlocking,
            t if t < 0 => Deadline::Never,
            t => Deadline::At(Instant::now() + Duration::from_millis(t as u64)),
        }
    }

    /// Milliseconds left for poll(): -1 = forever, 0 = expired.
    fn poll_ms(&self) -> i32 {
        match self {
            Deadline::NonBlocking => 0,
            Deadline::Never => -1,
            Deadline::At(t) => {
                let left = t.saturating_duration_since(Instant::now());
                // Round up so we never spin on sub-millisecond remainders.
                (left.as_micros().div_ceil(1000)).min(i32::MAX as u128) as i32
            }
        }
    }
}

pub fn timeout_error(what: &str) -> Error {
    Error::new(Code::MOJO_TLS_ERR_TIMEOUT, format!("{what} timed out"))
}

/// A wait cut short by a signal (EINTR): reported, not retried, so a
/// caller's handler (Ctrl-C) gets to run; the caller calls again.
pub fn interrupted_error(what: &str) -> Error {
    Error::new(
        Code::MOJO_TLS_ERR_INTERRUPTED,
        format!("{what}: EINTR while waiting for the socket"),
    )
}

/// Wait until `fd` is readable (or writable); TIMEOUT when the deadline
/// passes, INTERRUPTED when a signal arrives.
pub fn wait(fd: RawFd, for_write: bool, deadline: Deadline, what: &str) -> Result<()> {
    loop {
        let ms = deadline.poll_ms();
        if ms == 0 {
            return Err(timeout_error(what));
        }
        let mut p = libc::pollfd {
            fd,
            events: if for_write {
                libc::POLLOUT
            } else {
                libc::POLLIN
            },
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r > 0 {
            return Ok(());
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Err(interrupted_error(what));
            }
            return Err(Error::io("poll", &e));
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
const SEND_FLAGS: libc::c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
// macOS has no MSG_NOSIGNAL: SO_NOSIGPIPE is set on the socket instead.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
const SEND_FLAGS: libc::c_int = libc::MSG_DONTWAIT;

pub fn send_nonblocking(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: buf valid for its length.
    let n = unsafe {
        libc::send(
            fd,
            buf.as_ptr() as *const libc::c_void,
            buf.len(),
            SEND_FLAGS,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

pub fn recv_nonblocking(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf valid for its length.
    unsafe { recv_nonblocking_raw(fd, buf.as_mut_ptr(), buf.len()) }
}

/// # Safety
/// `buf` is valid for writes of `len` bytes (it may be uninitialised).
pub unsafe fn recv_nonblocking_raw(fd: RawFd, buf: *mut u8, len: usize) -> io::Result<usize> {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe { recv_raw(fd, buf, len, libc::MSG_DONTWAIT) }
}

/// # Safety
/// As for `recv_nonblocking_raw`.
pub unsafe fn recv_raw(
    fd: RawFd,
    buf: *mut u8,
    len: usize,
    flags: libc::c_int,
) -> io::Result<usize> {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let n = libc::recv(fd, buf as *mut libc::c_void, len, flags);
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

fn setsockopt_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) {
    // SAFETY: passing a pointer to a local int of the right size.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Whether Nagle's algorithm is on for `fd` (a TCP socket without
/// TCP_NODELAY); false for anything else (UDP, Unix sockets, errors).
pub fn nagle_on(fd: RawFd) -> bool {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a pointer to a local int and its size.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            &mut v as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    };
    r == 0 && v == 0
}

/// Per-socket options we always want: TCP_NODELAY (without it Mbed TLS
/// handshakes stall ~40 ms per flight on delayed ACKs), close-on-exec and,
/// on Apple platforms, no SIGPIPE.
pub fn prepare_socket(fd: RawFd) {
    setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_NOSIGPIPE, 1);
    // SAFETY: fcntl on an fd we were given; failure is harmless.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}

pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a valid fd.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

pub fn close(fd: RawFd) {
    if fd >= 0 {
        // SAFETY: closing an fd we own.
        unsafe { libc::close(fd) };
    }
}

pub fn shutdown(fd: RawFd) {
    if fd >= 0 {
        // SAFETY: shutdown wakes threads polling the fd; harmless on errors.
        unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
    }
}

/// Close after a failed handshake: send FIN (after the alert already
/// queued), then read and discard what the peer still sends for a short,
/// bounded time so the close does not turn into a reset that would destroy
/// the alert before the peer reads it.
pub fn linger_close(fd: RawFd) {
    // SAFETY: plain socket calls on an fd we own.
    unsafe { libc::shutdown(fd, libc::SHUT_WR) };
    let deadline = Deadline::from_timeout(200);
    let mut buf = [0u8; 4096];
    loop {
        match wait(fd, false, deadline, "linger") {
            Ok(()) => {}
            // Bounded by the deadline anyway: keep lingering.
            Err(e) if e.code == Code::MOJO_TLS_ERR_INTERRUPTED => continue,
            Err(_) => break,
        }
        match recv_nonblocking(fd, &mut buf) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                continue
            }
            Err(_) => break,
        }
    }
    close(fd);
}

pub fn is_socket(fd: RawFd) -> bool {
    // SAFETY: an all-zero `stat` is a valid value (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat into a local struct.
    unsafe { libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK }
}

fn connect_one(addr: &SocketAddr, deadline: Deadline) -> Result<RawFd> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM, 0) };
    if fd < 0 {
        return Err(Error::io("socket", &io::Error::last_os_error()));
    }
    prepare_socket(fd);
    if let Err(e) = set_nonblocking(fd) {
        close(fd);
        return Err(Error::io("fcntl", &e));
    }
    let (ss, len) = sockaddr_of(addr);
    // SAFETY: ss holds a valid sockaddr of length len.
    let r = unsafe { libc::connect(fd, &ss as *const _ as *const libc::sockaddr, len) };
    if r == 0 {
        return Ok(fd);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() != Some(libc::EINPROGRESS) {
        close(fd);
        return Err(Error::new(
            Code::MOJO_TLS_ERR_CONNECT,
            format!("connect to {addr}: {e}"),
        ));
    }
    if let Deadline::NonBlocking = deadline {
        // Connection continues in the background; the handshake will wait for it.
        return Ok(fd);
    }
    if let Err(e) = wait(fd, true, deadline, &format!("connect to {addr}")) {
        close(fd);
        return Err(e);
    }
    let mut err: libc::c_int = 0;
    let mut l = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: reading SO_ERROR into a local int.
    unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut err as *mut _ as *mut libc::c_void,
            &mut l,
        )
    };
    if err != 0 {
        close(fd);
        return Err(Error::new(
            Code::MOJO_TLS_ERR_CONNECT,
            format!("connect to {addr}: {}", io::Error::from_raw_os_error(err)),
        ));
    }
    Ok(fd)
}

/// Resolve `host` (IPv4 and IPv6) and connect to the first address that answers.
pub fn connect(host: &str, port: u16, deadline: Deadline) -> Result<RawFd> {
    let addrs = resolve(host, port)?;
    let mut last = None;
    for addr in &addrs {
        match connect_one(addr, deadline) {
            Ok(fd) => return Ok(fd),
            Err(e)
                if e.code == Code::MOJO_TLS_ERR_TIMEOUT
                    || e.code == Code::MOJO_TLS_ERR_INTERRUPTED =>
            {
                return Err(e)
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::new(Code::MOJO_TLS_ERR_CONNECT, "connect failed")))
}

/// A listening TCP socket (SO_REUSEADDR, non-blocking, close-on-exec).
pub fn listen(host: &str, port: u16, backlog: i32) -> Result<RawFd> {
    let host_clean = host.trim_start_matches('[').trim_end_matches(']');
    let listener = TcpListener::bind((host_clean, port)).map_err(|e| {
        Error::new(
            Code::MOJO_TLS_ERR_CONNECT,
            format!("cannot listen on {host}:{port}: {e}"),
        )
    })?;
    let fd = listener.into_raw_fd();
    // SAFETY: re-listen to apply the caller's backlog.
    unsafe { libc::listen(fd, backlog.clamp(1, 65535)) };
    prepare_socket(fd);
    let _ = set_nonblocking(fd);
    Ok(fd)
}

pub fn local_port(fd: RawFd) -> Result<u16> {
    // SAFETY: getsockname into a local sockaddr_storage.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) != 0 {
            return Err(Error::new(
                Code::MOJO_TLS_ERR_INVALID_ARGUMENT,
                format!("not a bound socket: {}", io::Error::last_os_error()),
            ));
        }
        match ss.ss_family as libc::c_int {
            libc::AF_INET => Ok(u16::from_be(
                (*(&ss as *const _ as *const libc::sockaddr_in)).sin_port,
            )),
            libc::AF_INET6 => Ok(u16::from_be(
                (*(&ss as *const _ as *const libc::sockaddr_in6)).sin6_port,
            )),
            _ => Err(Error::invalid_arg("not an IP socket")),
        }
    }
}

/// Accept one connection within the deadline.
pub fn accept(listen_fd: RawFd, deadline: Deadline) -> Result<RawFd> {
    loop {
        // SAFETY: accept on the caller's listening socket; addresses not needed.
        let fd = unsafe { libc::accept(listen_fd, std::ptr::null_mut(), std::ptr::null_mut()) };
        if fd >= 0 {
            prepare_socket(fd);
            let _ = set_nonblocking(fd);
            return Ok(fd);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) | Some(libc::ECONNABORTED) => continue,
            Some(libc::EAGAIN) => {
                if let Deadline::NonBlocking = deadline {
                    return Err(Error::new(
                        Code::MOJO_TLS_ERR_WANT_READ,
                        "no pending connection",
                    ));
                }
                wait(listen_fd, false, deadline, "accept")?;
            }
            Some(libc::EBADF) | Some(libc::ENOTSOCK) | Some(libc::EINVAL) => {
                return Err(Error::invalid_arg(format!("not a listening socket: {e}")))
            }
            _ => return Err(Error::io("accept", &e)),
        }
    }
}
