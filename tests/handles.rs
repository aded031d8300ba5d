//! The handle registry through the C entry points: NULL, freed, forged and
//! wrong-type handles are rejected with INVALID_HANDLE, never a crash.

use mojo_tls::ffi::certgen::*;
use mojo_tls::ffi::config::*;
use mojo_tls::ffi::conn::*;
use mojo_tls::ffi::library::*;
use mojo_tls::Code;

const INVALID_HANDLE: i32 = Code::MOJO_TLS_ERR_INVALID_HANDLE as i32;

#[test]
fn stale_forged_and_wrong_type_handles() {
    let cfg = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    assert!(!cfg.is_null());
    assert_eq!(mojo_tls_config_set_min_version(cfg, 0x0303), 0);

    // Wrong type: a config used as a connection.
    let as_conn = cfg as *mut mojo_tls_conn;
    assert_eq!(mojo_tls_conn_handshake(as_conn), INVALID_HANDLE);
    assert_eq!(mojo_tls_last_error_code(), INVALID_HANDLE);
    assert_eq!(
        mojo_tls_gencert_free(cfg as *mut mojo_tls_gencert),
        INVALID_HANDLE
    );

    // Forged values.
    for forged in [
        1usize,
        0x1234,
        0xdead_beef,
        usize::MAX,
        &cfg as *const _ as usize,
    ] {
        assert_eq!(
            mojo_tls_conn_close(forged as *mut mojo_tls_conn),
            INVALID_HANDLE
        );
        assert_eq!(
            mojo_tls_config_set_min_version(forged as *mut mojo_tls_config, 0x0303),
            INVALID_HANDLE
        );
    }

    // NULL.
    assert_eq!(
        mojo_tls_conn_read(std::ptr::null_mut(), std::ptr::null_mut(), 0),
        INVALID_HANDLE as isize
    );
    assert_eq!(
        mojo_tls_config_free(std::ptr::null_mut()),
        0,
        "free(NULL) is fine"
    );

    // Freed: the id is never reused, so the stale handle stays invalid.
    assert_eq!(mojo_tls_config_free(cfg), 0);
    assert_eq!(
        mojo_tls_config_free(cfg),
        INVALID_HANDLE,
        "double free is reported, not a crash"
    );
    assert_eq!(mojo_tls_config_set_min_version(cfg, 0x0303), INVALID_HANDLE);
    let again = mojo_tls_config_new(MOJO_TLS_ROLE_CLIENT);
    assert_ne!(again, cfg);
    assert_eq!(mojo_tls_config_free(again), 0);
}

#[test]
fn last_error_is_snprintf_style_and_thread_local() {
    let cfg = mojo_tls_config_new(MOJO_TLS_ROLE_SERVER);
    // TLS 1.1 is refused on every backend.
    assert_eq!(
        mojo_tls_config_set_min_version(cfg, 0x0302),
        Code::MOJO_TLS_ERR_UNSUPPORTED as i32
    );
    let full = mojo_tls_last_error(std::ptr::null_mut(), 0);
    assert!(full > 10);
    let mut small = [0x55 as libc::c_char; 8];
    assert_eq!(mojo_tls_last_error(small.as_mut_ptr(), small.len()), full);
    assert_eq!(small[7], 0, "truncated output stays NUL-terminated");
    std::thread::spawn(|| assert_eq!(mojo_tls_last_error_code(), 0))
        .join()
        .unwrap();
    mojo_tls_config_free(cfg);
}

#[test]
fn strerror_covers_every_code() {
    let mut seen = std::collections::HashSet::new();
    for code in Code::ALL {
        let p = mojo_tls_strerror(code as i32);
        let s = unsafe { std::ffi::CStr::from_ptr(p) }
            .to_str()
            .unwrap()
            .to_string();
        assert!(!s.is_empty());
        assert!(seen.insert(s), "duplicate text for {code:?}");
    }
    assert!(!mojo_tls_strerror(12345).is_null());
}
