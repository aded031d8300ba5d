//! Kernel TLS (Linux `tls` ULP): when the kernel offers it, a TLS 1.2
//! connection's records are sealed and opened by the kernel, and the data
//! path is plain send/recv on the socket.
//!
//! Scope, on purpose small: TLS 1.2 only (AES-128/256-GCM,
//! ChaCha20-Poly1305). TLS 1.3 stays on the ring layer: its KeyUpdate and
//! NewSessionTicket messages would need kernel rekeying and re-encryption
//! for Mbed TLS. If the kernel refuses the ULP or the keys, the socket is
//! left as it was (the ULP without keys passes data through) and the ring
//! layer is used.

use std::io;
use std::os::unix::io::RawFd;

use super::{ContentType, Tls12Keys};

/// Kernel constants (linux/tls.h, linux/tcp.h).
const TCP_ULP: libc::c_int = 31;
const SOL_TLS: libc::c_int = 282;
const TLS_TX: libc::c_int = 1;
const TLS_RX: libc::c_int = 2;
/// cmsg type on SOL_TLS: the record type of a message sent / received.
const TLS_SET_RECORD_TYPE: libc::c_int = 1;
const TLS_GET_RECORD_TYPE: libc::c_int = 2;
const TLS_1_2_VERSION: u16 = 0x0303;
const TLS_CIPHER_AES_GCM_128: u16 = 51;
const TLS_CIPHER_AES_GCM_256: u16 = 52;
const TLS_CIPHER_CHACHA20_POLY1305: u16 = 54;

/// struct tls12_crypto_info_aes_gcm_128 / _256 / chacha20_poly1305: the
/// header, then iv, key, salt and rec_seq, packed exactly as the kernel
/// reads them (all byte arrays after two u16s: no padding).
fn crypto_info(
    cipher: u16,
    iv: &[u8],
    key: &[u8],
    salt: &[u8],
    rec_seq: u64,
) -> zeroize::Zeroizing<Vec<u8>> {
    let mut b = zeroize::Zeroizing::new(Vec::with_capacity(64));
    b.extend_from_slice(&TLS_1_2_VERSION.to_ne_bytes());
    b.extend_from_slice(&cipher.to_ne_bytes());
    b.extend_from_slice(iv);
    b.extend_from_slice(key);
    b.extend_from_slice(salt);
    b.extend_from_slice(&rec_seq.to_be_bytes());
    b
}

/// The crypto_info for one direction of a TLS 1.2 suite: `key` and the
/// fixed IV (4 bytes for GCM, 12 for ChaCha20), the next sequence number.
/// GCM's explicit nonce starts at the sequence number, as OpenSSL does.
fn tls12_info(key: &[u8], fixed_iv: &[u8], seq: u64) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    match (key.len(), fixed_iv.len()) {
        (16, 4) => Some(crypto_info(
            TLS_CIPHER_AES_GCM_128,
            &seq.to_be_bytes(),
            key,
            fixed_iv,
            seq,
        )),
        (32, 4) => Some(crypto_info(
            TLS_CIPHER_AES_GCM_256,
            &seq.to_be_bytes(),
            key,
            fixed_iv,
            seq,
        )),
        (32, 12) => Some(crypto_info(
            TLS_CIPHER_CHACHA20_POLY1305,
            fixed_iv,
            key,
            &[],
            seq,
        )),
        _ => None,
    }
}

fn setsockopt_bytes(fd: RawFd, level: libc::c_int, name: libc::c_int, v: &[u8]) -> io::Result<()> {
    // SAFETY: v is valid for its length.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            v.as_ptr() as *const libc::c_void,
            v.len() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Attach the `tls` ULP to a connected TCP socket. `Err` says why not (this
/// leaves the socket untouched).
pub fn probe(fd: RawFd) -> std::result::Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Err("kernel TLS is Linux-only".into());
    }
    setsockopt_bytes(fd, libc::SOL_TCP, TCP_ULP, b"tls").map_err(|e| {
        let hint = match e.raw_os_error() {
            Some(libc::ENOENT) => " (the kernel has no tls module)",
            Some(libc::EEXIST) => " (the socket already has a ULP)",
            _ => "",
        };
        format!("kernel TLS unavailable: setsockopt(TCP_ULP, \"tls\"): {e}{hint}")
    })
}

/// After a successful [`probe`]: give the kernel both directions' keys.
/// `Ok(false)`: the kernel refused the transmit keys — nothing is set up,
/// the socket still passes data through, use the ring layer. `Err`: the
/// transmit side is in the kernel but the receive side was refused; the
/// connection cannot continue.
pub fn configure_tls12(
    fd: RawFd,
    keys: &Tls12Keys,
    is_server: bool,
    read_seq: u64,
    write_seq: u64,
) -> std::result::Result<bool, String> {
    let (rk, riv, wk, wiv) = if is_server {
        (
            &keys.client_key,
            &keys.client_iv,
            &keys.server_key,
            &keys.server_iv,
        )
    } else {
        (
            &keys.server_key,
            &keys.server_iv,
            &keys.client_key,
            &keys.client_iv,
        )
    };
    let (Some(tx), Some(rx)) = (
        tls12_info(wk, wiv, write_seq),
        tls12_info(rk, riv, read_seq),
    ) else {
        return Ok(false);
    };
    if setsockopt_bytes(fd, SOL_TLS, TLS_TX, &tx).is_err() {
        return Ok(false);
    }
    setsockopt_bytes(fd, SOL_TLS, TLS_RX, &rx)
        .map(|_| true)
        .map_err(|e| format!("kernel TLS: TLS_RX refused after TLS_TX was set: {e}"))
}

/// A msghdr for one buffer and one control message of one byte (the TLS
/// record type), both borrowed for the call that uses it.
///
/// # Safety
/// `iov` and `cbuf` must outlive every use of the returned msghdr; `cbuf`
/// is `CMSG_SPACE(1)` bytes (from `record_type_cmsg_buf`).
unsafe fn one_cmsg_msghdr(iov: &mut libc::iovec, cbuf: &mut [u8]) -> libc::msghdr {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = cbuf.len() as _;
        msg
    }
}

fn record_type_cmsg_buf() -> Vec<u8> {
    // SAFETY: pure arithmetic on the length.
    vec![0u8; unsafe { libc::CMSG_SPACE(1) } as usize]
}

/// Send one record of `record_type` (an alert) through the kernel.
pub fn send_record(fd: RawFd, record_type: u8, data: &[u8]) -> io::Result<usize> {
    let mut cbuf = record_type_cmsg_buf();
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: iov and cbuf outlive msg; the cmsg is filled through the
    // CMSG_* accessors inside cbuf.
    unsafe {
        let msg = one_cmsg_msghdr(&mut iov, &mut cbuf);
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = SOL_TLS;
        (*c).cmsg_type = TLS_SET_RECORD_TYPE;
        (*c).cmsg_len = libc::CMSG_LEN(1) as _;
        *libc::CMSG_DATA(c) = record_type;
        let n = libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL);
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

/// Receive decrypted bytes of one record type: (bytes, record type).
pub fn recv_record(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, u8)> {
    let mut cbuf = record_type_cmsg_buf();
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: iov and cbuf outlive msg; the record type is read only from a
    // cmsg the kernel filled in.
    unsafe {
        let mut msg = one_cmsg_msghdr(&mut iov, &mut cbuf);
        let n = libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut rtype = ContentType::APPLICATION_DATA; // unless a cmsg says otherwise
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == SOL_TLS && (*c).cmsg_type == TLS_GET_RECORD_TYPE {
                rtype = *libc::CMSG_DATA(c);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        Ok((n as usize, rtype))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_messages_carry_their_bytes() {
        // Without kernel TLS the record-type cmsg is ignored (AF_UNIX skips
        // other levels' control messages), so this checks the msghdr
        // plumbing: the bytes arrive, and the type defaults to
        // application data.
        let mut fds = [0; 2];
        assert_eq!(
            // SAFETY: a valid 2-element array for socketpair.
            unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, fds.as_mut_ptr()) },
            0
        );
        assert_eq!(send_record(fds[0], 21, &[1, 0]).unwrap(), 2);
        let mut buf = [0u8; 8];
        assert_eq!(recv_record(fds[1], &mut buf).unwrap(), (2, 23));
        assert_eq!(&buf[..2], &[1, 0]);
        for fd in fds {
            // SAFETY: our own descriptors.
            unsafe { libc::close(fd) };
        }
    }

    #[test]
    fn crypto_info_layouts_match_linux_tls_h() {
        // sizeof(struct tls12_crypto_info_aes_gcm_128) == 40,
        // aes_gcm_256 == 56, chacha20_poly1305 == 56.
        assert_eq!(tls12_info(&[1; 16], &[2; 4], 7).unwrap().len(), 40);
        assert_eq!(tls12_info(&[1; 32], &[2; 4], 7).unwrap().len(), 56);
        assert_eq!(tls12_info(&[1; 32], &[2; 12], 7).unwrap().len(), 56);
        assert!(tls12_info(&[1; 24], &[2; 4], 7).is_none());
        let info = tls12_info(&[1; 16], &[2; 4], 0x0102).unwrap();
        assert_eq!(&info[0..2], &0x0303u16.to_ne_bytes());
        assert_eq!(&info[2..4], &51u16.to_ne_bytes());
        assert_eq!(&info[4..12], &0x0102u64.to_be_bytes()); // explicit nonce
        assert_eq!(&info[12..28], &[1; 16]); // key
        assert_eq!(&info[28..32], &[2; 4]); // salt
        assert_eq!(&info[32..40], &0x0102u64.to_be_bytes()); // rec_seq
    }

    #[test]
    fn probe_on_a_non_socket_fails_cleanly() {
        let err = probe(-1).unwrap_err();
        assert!(err.contains("kernel TLS"), "{err}");
    }
}
