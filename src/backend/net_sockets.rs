//! The `mbedtls_net_*` socket calls the compat layer offers (seed-shim
//! programs drive Mbed TLS with them), implemented here with the same
//! contract and return codes: the bundled engine is built without
//! MBEDTLS_NET_C, so no engine supplies them.
//! A context is Mbed TLS's `net_context` (one fd, -1 when closed).

use std::mem::size_of;

use libc::{c_char, c_int, c_uchar, c_void};

use super::sys;

type Ctx = sys::net_context;

const WANT_READ: c_int = sys::ERR_SSL_WANT_READ as c_int;
const WANT_WRITE: c_int = sys::ERR_SSL_WANT_WRITE as c_int;

fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// As Mbed TLS: EAGAIN means "would block" only on a non-blocking socket.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
unsafe fn would_block(fd: c_int) -> bool {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let e = errno();
        let nonblocking = libc::fcntl(fd, libc::F_GETFL) & libc::O_NONBLOCK != 0;
        nonblocking && (e == libc::EAGAIN || e == libc::EWOULDBLOCK)
    }
}

/// As Mbed TLS's net_prepare: a write to a closed peer must not kill the
/// process with SIGPIPE.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
unsafe fn prepare() {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

fn hints(proto: c_int, passive: bool) -> libc::addrinfo {
    let udp = proto == sys::NET_PROTO_UDP as c_int;
    // SAFETY: addrinfo is plain data; all-zero is a valid "no hints" value.
    let mut h: libc::addrinfo = unsafe { std::mem::zeroed() };
    h.ai_family = libc::AF_UNSPEC;
    h.ai_socktype = if udp {
        libc::SOCK_DGRAM
    } else {
        libc::SOCK_STREAM
    };
    h.ai_protocol = if udp {
        libc::IPPROTO_UDP
    } else {
        libc::IPPROTO_TCP
    };
    if passive {
        h.ai_flags = libc::AI_PASSIVE;
    }
    h
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn init(ctx: *mut Ctx) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        (*ctx).fd = -1;
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn free(ctx: *mut Ctx) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if (*ctx).fd == -1 {
            return;
        }
        libc::shutdown((*ctx).fd, libc::SHUT_RDWR);
        libc::close((*ctx).fd);
        (*ctx).fd = -1;
    }
}

/// Resolve `host`/`port` and try each address in turn, as Mbed TLS does:
/// a new socket, then `attempt` (0 keeps the socket in `ctx`, anything else
/// is that address's error code). The code of the last failure, or
/// ERR_NET_UNKNOWN_HOST.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
unsafe fn try_addresses(
    ctx: *mut Ctx,
    host: *const c_char,
    port: *const c_char,
    hints: &libc::addrinfo,
    attempt: impl Fn(c_int, &libc::addrinfo) -> c_int,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let mut list: *mut libc::addrinfo = std::ptr::null_mut();
        if libc::getaddrinfo(host, port, hints, &mut list) != 0 {
            return sys::ERR_NET_UNKNOWN_HOST as c_int;
        }
        let mut ret = sys::ERR_NET_UNKNOWN_HOST as c_int;
        let mut cur = list;
        while !cur.is_null() {
            let ai = &*cur;
            cur = ai.ai_next;
            let fd = libc::socket(ai.ai_family, ai.ai_socktype, ai.ai_protocol);
            if fd < 0 {
                ret = sys::ERR_NET_SOCKET_FAILED as c_int;
                continue;
            }
            ret = attempt(fd, ai);
            if ret == 0 {
                (*ctx).fd = fd;
                break;
            }
            libc::close(fd);
        }
        libc::freeaddrinfo(list);
        ret
    }
}

/// setsockopt(SOL_SOCKET, `opt`, 1).
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
unsafe fn set_flag(fd: c_int, opt: c_int) -> bool {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let one: c_int = 1;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            &one as *const c_int as *const c_void,
            size_of::<c_int>() as libc::socklen_t,
        ) == 0
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn connect(
    ctx: *mut Ctx,
    host: *const c_char,
    port: *const c_char,
    proto: c_int,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        prepare();
        try_addresses(ctx, host, port, &hints(proto, false), |fd, ai| {
            if libc::connect(fd, ai.ai_addr, ai.ai_addrlen) == 0 {
                0
            } else {
                sys::ERR_NET_CONNECT_FAILED as c_int
            }
        })
    }
}

/// `mbedtls_net_bind`; with `reuseport`, SO_REUSEPORT as well so several
/// processes or threads can listen on one port. Backlog 10, as Mbed TLS.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn bind(
    ctx: *mut Ctx,
    bind_ip: *const c_char,
    port: *const c_char,
    proto: c_int,
    reuseport: bool,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        prepare();
        let udp = proto == sys::NET_PROTO_UDP as c_int;
        try_addresses(
            ctx,
            bind_ip,
            port,
            &hints(proto, bind_ip.is_null()),
            |fd, ai| {
                if !set_flag(fd, libc::SO_REUSEADDR)
                    || (reuseport && !set_flag(fd, libc::SO_REUSEPORT))
                {
                    sys::ERR_NET_SOCKET_FAILED as c_int
                } else if libc::bind(fd, ai.ai_addr, ai.ai_addrlen) != 0 {
                    sys::ERR_NET_BIND_FAILED as c_int
                } else if !udp && libc::listen(fd, 10) != 0 {
                    sys::ERR_NET_LISTEN_FAILED as c_int
                } else {
                    0
                }
            },
        )
    }
}

/// Copy the peer's address (4 bytes IPv4, 16 bytes IPv6) into `client_ip`.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
unsafe fn store_ip(
    addr: &libc::sockaddr_storage,
    client_ip: *mut c_void,
    buf_size: usize,
    ip_len: *mut usize,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if client_ip.is_null() {
            return 0;
        }
        let bytes: &[u8] = if addr.ss_family as c_int == libc::AF_INET {
            let a = &*(addr as *const _ as *const libc::sockaddr_in);
            std::slice::from_raw_parts(&a.sin_addr as *const _ as *const u8, 4)
        } else {
            let a = &*(addr as *const _ as *const libc::sockaddr_in6);
            std::slice::from_raw_parts(&a.sin6_addr as *const _ as *const u8, 16)
        };
        *ip_len = bytes.len();
        if buf_size < bytes.len() {
            return sys::ERR_NET_BUFFER_TOO_SMALL as c_int;
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), client_ip as *mut c_uchar, bytes.len());
        0
    }
}

/// TCP: accept a connection. UDP (as Mbed TLS): the bound socket becomes the
/// client's, connected to the first sender, and the listener is re-bound to
/// the same local address.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn accept(
    bind_ctx: *mut Ctx,
    client_ctx: *mut Ctx,
    client_ip: *mut c_void,
    buf_size: usize,
    ip_len: *mut usize,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let bfd = (*bind_ctx).fd;
        let mut kind: c_int = 0;
        let mut kind_len = size_of::<c_int>() as libc::socklen_t;
        if libc::getsockopt(
            bfd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            &mut kind as *mut c_int as *mut c_void,
            &mut kind_len,
        ) != 0
            || (kind != libc::SOCK_STREAM && kind != libc::SOCK_DGRAM)
        {
            return sys::ERR_NET_ACCEPT_FAILED as c_int;
        }
        let mut addr: libc::sockaddr_storage = std::mem::zeroed();
        let mut addr_len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let addr_ptr = &mut addr as *mut _ as *mut libc::sockaddr;
        if kind == libc::SOCK_STREAM {
            let fd = libc::accept(bfd, addr_ptr, &mut addr_len);
            if fd < 0 {
                return if would_block(bfd) {
                    WANT_READ
                } else {
                    sys::ERR_NET_ACCEPT_FAILED as c_int
                };
            }
            (*client_ctx).fd = fd;
        } else {
            let mut byte = [0u8; 1];
            let n = libc::recvfrom(
                bfd,
                byte.as_mut_ptr() as *mut c_void,
                1,
                libc::MSG_PEEK,
                addr_ptr,
                &mut addr_len,
            );
            if n < 0 {
                return if would_block(bfd) {
                    WANT_READ
                } else {
                    sys::ERR_NET_ACCEPT_FAILED as c_int
                };
            }
            if libc::connect(bfd, addr_ptr, addr_len) != 0 {
                return sys::ERR_NET_ACCEPT_FAILED as c_int;
            }
            (*client_ctx).fd = bfd;
            (*bind_ctx).fd = -1;
            // A new listener on the same local address.
            let mut local: libc::sockaddr_storage = std::mem::zeroed();
            let mut local_len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            let local_ptr = &mut local as *mut _ as *mut libc::sockaddr;
            if libc::getsockname(bfd, local_ptr, &mut local_len) != 0 {
                return sys::ERR_NET_BIND_FAILED as c_int;
            }
            let nfd = libc::socket(
                local.ss_family as c_int,
                libc::SOCK_DGRAM,
                libc::IPPROTO_UDP,
            );
            if nfd < 0 {
                return sys::ERR_NET_SOCKET_FAILED as c_int;
            }
            set_flag(nfd, libc::SO_REUSEADDR);
            if libc::bind(nfd, local_ptr, local_len) != 0 {
                libc::close(nfd);
                return sys::ERR_NET_BIND_FAILED as c_int;
            }
            (*bind_ctx).fd = nfd;
        }
        store_ip(&addr, client_ip, buf_size, ip_len)
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn set_block(ctx: *mut Ctx) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let fd = (*ctx).fd;
        libc::fcntl(
            fd,
            libc::F_SETFL,
            libc::fcntl(fd, libc::F_GETFL) & !libc::O_NONBLOCK,
        )
    }
}

/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
pub(crate) unsafe fn set_nonblock(ctx: *mut Ctx) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let fd = (*ctx).fd;
        libc::fcntl(
            fd,
            libc::F_SETFL,
            libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK,
        )
    }
}

fn ctx_fd(ctx: *mut c_void) -> c_int {
    if ctx.is_null() {
        -1
    } else {
        // SAFETY: a non-NULL BIO context is the caller's net_context.
        unsafe { (*(ctx as *mut Ctx)).fd }
    }
}

/// A read(2)/write(2) result in Mbed TLS's BIO terms: the byte count, or
/// `want` (would block, EINTR), CONN_RESET, or `failed`.
///
/// # Safety
/// Compat layer, as unsafe as Mbed TLS itself: every pointer is NULL where
/// allowed or points to memory of the size the `mojo_tls_sizeof_*` query
/// gives for its type, set up (`*_init`) as Mbed TLS requires, and not used
/// elsewhere during the call; buffers are valid for the lengths passed.
unsafe fn io_result(fd: c_int, n: isize, want: c_int, failed: c_int) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if n >= 0 {
            return n as c_int;
        }
        match errno() {
            _ if would_block(fd) => want,
            libc::EPIPE | libc::ECONNRESET => sys::ERR_NET_CONN_RESET as c_int,
            libc::EINTR => want,
            _ => failed,
        }
    }
}

/// `f_send` for `ssl_set_bio`; `ctx` is a `net_context`.
///
/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
pub(crate) unsafe extern "C" fn send(ctx: *mut c_void, buf: *const c_uchar, len: usize) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let fd = ctx_fd(ctx);
        if fd < 0 {
            return sys::ERR_NET_INVALID_CONTEXT as c_int;
        }
        let n = libc::write(fd, buf as *const c_void, len);
        io_result(fd, n, WANT_WRITE, sys::ERR_NET_SEND_FAILED as c_int)
    }
}

/// `f_recv` for `ssl_set_bio`.
///
/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
pub(crate) unsafe extern "C" fn recv(ctx: *mut c_void, buf: *mut c_uchar, len: usize) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let fd = ctx_fd(ctx);
        if fd < 0 {
            return sys::ERR_NET_INVALID_CONTEXT as c_int;
        }
        let n = libc::read(fd, buf as *mut c_void, len);
        io_result(fd, n, WANT_READ, sys::ERR_NET_RECV_FAILED as c_int)
    }
}

/// `f_recv_timeout` for `ssl_set_bio`: wait up to `timeout` ms (0 = no
/// limit), then ERR_SSL_TIMEOUT.
///
/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
pub(crate) unsafe extern "C" fn recv_timeout(
    ctx: *mut c_void,
    buf: *mut c_uchar,
    len: usize,
    timeout: u32,
) -> c_int {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let fd = ctx_fd(ctx);
        if fd < 0 {
            return sys::ERR_NET_INVALID_CONTEXT as c_int;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let wait = if timeout == 0 {
            -1
        } else {
            timeout.min(c_int::MAX as u32) as c_int
        };
        match libc::poll(&mut pfd, 1, wait) {
            0 => sys::ERR_SSL_TIMEOUT as c_int,
            n if n < 0 && errno() == libc::EINTR => WANT_READ,
            n if n < 0 => sys::ERR_NET_RECV_FAILED as c_int,
            _ => recv(ctx, buf, len),
        }
    }
}
