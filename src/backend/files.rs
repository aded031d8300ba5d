//! Input for Mbed TLS's parsers: PEM buffers NUL-terminated, and
//! certificate and key files read here. The bundled engine is
//! built without MBEDTLS_FS_IO, so files are read here on every engine and
//! handed to the buffer parsers, the way Mbed TLS's own loaders would.

use std::borrow::Cow;
use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::sys;

/// Mbed TLS wants PEM input NUL-terminated (and counts the NUL in the length).
pub(crate) fn pem_aware_buffer(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let is_pem = data.windows(10).any(|w| w == b"-----BEGIN");
    if is_pem && data.last() != Some(&0) {
        let mut v = Vec::with_capacity(data.len() + 1);
        v.extend_from_slice(data);
        v.push(0);
        std::borrow::Cow::Owned(v)
    } else {
        std::borrow::Cow::Borrowed(data)
    }
}

/// The file's bytes as Mbed TLS's `pk_load_file` gives them: PEM text keeps
/// a terminating NUL inside the length (the PEM parsers require it), DER
/// does not (`pem_aware_buffer`, as for in-memory input).
pub(crate) fn load(path: &Path) -> Option<Vec<u8>> {
    let data = std::fs::read(path).ok()?;
    Some(match pem_aware_buffer(&data) {
        Cow::Owned(terminated) => terminated,
        Cow::Borrowed(_) => data,
    })
}

/// `load` for a C path; None for NULL or an unreadable file.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
pub(crate) unsafe fn load_c_path(path: *const libc::c_char) -> Option<Vec<u8>> {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if path.is_null() {
            return None;
        }
        let bytes = CStr::from_ptr(path).to_bytes();
        load(Path::new(OsStr::from_bytes(bytes)))
    }
}

/// Every regular file in `dir` (symlinks followed) into `crt`, like
/// `mbedtls_x509_crt_parse_path`: the number of files that did not parse,
/// or ERR_X509_FILE_IO_ERROR when the directory cannot be read.
///
/// # Safety
/// `crt` points to an initialised `x509_crt` nothing else uses during the
/// call.
pub(crate) unsafe fn parse_crt_dir(crt: *mut sys::x509_crt, dir: &Path) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return sys::ERR_X509_FILE_IO_ERROR as i32;
        };
        let mut failed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if !std::fs::metadata(&path)
                .map(|m| m.is_file())
                .unwrap_or(false)
            {
                continue;
            }
            let ok = load(&path)
                .map(|data| sys::x509_crt_parse(crt, data.as_ptr(), data.len()) == 0)
                .unwrap_or(false);
            if !ok {
                failed += 1;
            }
        }
        failed
    }
}
