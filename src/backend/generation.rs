//! What differs between Mbed TLS generations — 3.6 LTS (bundled or system)
//! and 4.x (system) — behind one set of functions, with the static inline
//! functions and private fields of `ssl_context` the backend reaches. Most
//! of the backend's version cfgs live here (the rest: a few lines of
//! rng.rs, init.rs, errors.rs and x509.rs).

#![allow(clippy::missing_safety_doc)]

use super::sys;

// src/backend/static_inline.c: out-of-line copies of static inline functions.
extern "C" {
    fn mojotls_sys_ssl_is_handshake_over(ssl: *mut sys::ssl_context) -> i32;
    fn mojotls_sys_ssl_get_version_number(ssl: *const sys::ssl_context) -> i32;
    fn mojotls_sys_ssl_conf_min_tls_version(conf: *mut sys::ssl_config, version: i32);
    fn mojotls_sys_ssl_conf_max_tls_version(conf: *mut sys::ssl_config, version: i32);
    fn mojotls_sys_ssl_set_user_data_p(ssl: *mut sys::ssl_context, p: *mut libc::c_void);
    fn mojotls_sys_ssl_get_user_data_p(ssl: *mut sys::ssl_context) -> *mut libc::c_void;
    fn mojotls_sys_ssl_conf_cert_cb(conf: *mut sys::ssl_config, f_cert_cb: sys::ssl_hs_cb_t);
}

#[cfg(mbedtls_bundled)]
pub(crate) const GENERATION: &str = "bundled";
#[cfg(not(mbedtls_bundled))]
pub(crate) const GENERATION: &str = "system";
/// TLS 1.3 NamedGroup values (conf_groups).
pub(crate) type GroupId = u16;
pub(crate) const GROUP_NONE: GroupId = 0;

pub(crate) fn version_string() -> String {
    String::from_utf8_lossy(
        sys::VERSION_STRING
            .strip_suffix(b"\0")
            .unwrap_or(sys::VERSION_STRING),
    )
    .into_owned()
}

pub(crate) fn group_id(name: &str) -> Option<GroupId> {
    Some(match name {
        "secp256r1" => 23,
        "secp384r1" => 24,
        "secp521r1" => 25,
        "x25519" => 29,
        "x448" => 30,
        "brainpoolP256r1" => 31,
        "brainpoolP384r1" => 32,
        "brainpoolP512r1" => 33,
        _ => return None,
    })
}

pub(crate) fn handshake_over(ctx: &sys::ssl_context) -> bool {
    // SAFETY: a read-only query (static inline in the header).
    unsafe { mojotls_sys_ssl_is_handshake_over(ctx as *const _ as *mut _) != 0 }
}
pub(crate) fn before_handshake(ctx: &sys::ssl_context) -> bool {
    ctx.private_state == sys::SSL_HELLO_REQUEST as i32
}
/// Server: the next handshake step sends the certificate (a full
/// handshake, TLS 1.2 or 1.3; a resumption never gets there).
pub(crate) fn server_certificate_next(ctx: &sys::ssl_context) -> bool {
    ctx.private_state == sys::SSL_SERVER_CERTIFICATE as i32
}
/// Client, before the handshake: run the context on `conf` (a copy of the
/// config it was set up with that differs only in its TLS 1.3 key exchange
/// modes; Mbed TLS has no setter, and nothing of the config is cached in
/// the context before the handshake).
pub(crate) fn swap_conf_before_handshake(ctx: &mut sys::ssl_context, conf: &sys::ssl_config) {
    debug_assert!(before_handshake(ctx));
    ctx.private_conf = conf;
}
/// A saved TLS 1.3 session whose ticket was received while psk_ke was
/// allowed (Mbed TLS then marks it usable for psk_ke resumption).
pub(crate) fn session_allows_psk_ke(s: &sys::ssl_session) -> bool {
    s.private_tls_version == sys::SSL_VERSION_TLS1_3
        && s.private_ticket_flags as u32 & sys::SSL_TLS1_3_TICKET_ALLOW_PSK_RESUMPTION != 0
}
pub(crate) fn version_number(ctx: &sys::ssl_context) -> u16 {
    // SAFETY: a read-only query.
    unsafe { mojotls_sys_ssl_get_version_number(ctx) as u16 }
}
pub(crate) fn in_msg(ctx: &sys::ssl_context) -> *const u8 {
    ctx.private_in_msg
}
/// `is_handshake_over` is already true while a TLS 1.3 server still
/// has NewSessionTicket states to run; this is the end of all of them.
pub(crate) fn handshake_fully_over(ctx: &sys::ssl_context) -> bool {
    ctx.private_state == sys::SSL_HANDSHAKE_OVER as i32
}
/// Server: the certificate-selection callback (a static inline).
pub(crate) fn conf_cert_cb(conf: &mut sys::ssl_config, cb: sys::ssl_hs_cb_t) {
    // SAFETY: sets one field of an initialised config.
    unsafe { mojotls_sys_ssl_conf_cert_cb(conf, cb) }
}
/// TLS 1.3, after the handshake: the exporter_master_secret (RFC 8446
/// §7.1), `len` bytes (the suite's hash length). Mbed TLS exports it
/// through no callback, and its own exporter is compiled out of the bundled
/// engine, so it is read from the session.
pub(crate) fn tls13_exporter_secret(ctx: &sys::ssl_context, len: usize) -> Option<Vec<u8>> {
    if ctx.private_session.is_null() {
        return None;
    }
    // SAFETY: `session` points at the context's current session, alive as
    // long as the context; the array is inline in it.
    let secret = unsafe {
        &(*ctx.private_session)
            .private_app_secrets
            .exporter_master_secret
    };
    secret.get(..len).map(<[u8]>::to_vec)
}
/// TLS 1.2: the verify_data of (our Finished, the peer's Finished), which
/// Mbed TLS keeps for secure renegotiation; None before both were seen or
/// on TLS 1.3 (Mbed TLS keeps no TLS 1.3 Finished).
pub(crate) fn finished_verify_data(ctx: &sys::ssl_context) -> Option<(Vec<u8>, Vec<u8>)> {
    let len = ctx.private_verify_data_len;
    if len == 0 || len > ctx.private_own_verify_data.len() {
        return None;
    }
    let bytes = |a: &[libc::c_char]| a[..len].iter().map(|&b| b as u8).collect();
    Some((
        bytes(&ctx.private_own_verify_data),
        bytes(&ctx.private_peer_verify_data),
    ))
}
/// (next read sequence number, next write sequence number).
pub(crate) fn record_seqs(ctx: &sys::ssl_context) -> Option<(u64, u64)> {
    if ctx.private_in_ctr.is_null() {
        return None;
    }
    // SAFETY: in_ctr points at the 8-byte counter inside in_buf.
    let read = unsafe { u64::from_be_bytes(*(ctx.private_in_ctr as *const [u8; 8])) };
    Some((read, u64::from_be_bytes(ctx.private_cur_out_ctr)))
}
/// Record-layer state Mbed TLS still holds: (bytes of a record read in
/// part, bytes not yet sent, renegotiation in progress).
pub(crate) fn record_state(ctx: &sys::ssl_context) -> (usize, usize, bool) {
    (
        ctx.private_in_left,
        ctx.private_out_left,
        ctx.private_renego_status != 0,
    )
}
/// Free the record buffers (see `Parked`).
///
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn release_record_buffers(ctx: &mut sys::ssl_context) -> Option<Parked> {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let parked = Parked::take(ctx.private_in_buf, ctx.private_in_ctr, ctx.private_out_buf)?;
        for p in [
            &mut ctx.private_in_buf,
            &mut ctx.private_in_ctr,
            &mut ctx.private_in_hdr,
            &mut ctx.private_in_cid,
            &mut ctx.private_in_len,
            &mut ctx.private_in_iv,
            &mut ctx.private_in_msg,
            &mut ctx.private_in_offt,
            &mut ctx.private_out_buf,
            &mut ctx.private_out_ctr,
            &mut ctx.private_out_hdr,
            &mut ctx.private_out_cid,
            &mut ctx.private_out_len,
            &mut ctx.private_out_iv,
            &mut ctx.private_out_msg,
        ] {
            *p = std::ptr::null_mut();
        }
        Some(parked)
    }
}
/// Fresh record buffers after `release_record_buffers`, for a TLS 1.3
/// client that reads tickets: the pointers as Mbed TLS's
/// `reset_in_pointers` / `reset_out_pointers` set them for a stream
/// transport (header after the 8-byte counter; no explicit IV in TLS
/// 1.3), and the read counter Mbed TLS kept in its input buffer.
///
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn restore_record_buffers(ctx: &mut sys::ssl_context, parked: &Parked) -> bool {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let Some((inb, outb)) = parked.allocate() else {
            return false;
        };
        ctx.private_in_buf = inb;
        ctx.private_out_buf = outb;
        ctx.private_in_offt = std::ptr::null_mut();
        let directions = [
            (
                inb,
                [
                    &mut ctx.private_in_ctr,
                    &mut ctx.private_in_hdr,
                    &mut ctx.private_in_len,
                    &mut ctx.private_in_cid,
                    &mut ctx.private_in_iv,
                    &mut ctx.private_in_msg,
                ],
            ),
            (
                outb,
                [
                    &mut ctx.private_out_ctr,
                    &mut ctx.private_out_hdr,
                    &mut ctx.private_out_len,
                    &mut ctx.private_out_cid,
                    &mut ctx.private_out_iv,
                    &mut ctx.private_out_msg,
                ],
            ),
        ];
        for (buf, [ctr, hdr, len, cid, iv, msg]) in directions {
            *ctr = buf;
            *hdr = buf.add(8);
            *len = buf.add(8 + 3);
            *cid = *len;
            *iv = buf.add(8 + 5);
            *msg = *iv;
        }
        true
    }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn session_user_ptr(ssl: *mut sys::ssl_context) -> *mut libc::c_void {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe { mojotls_sys_ssl_get_user_data_p(ssl) }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn set_session_user_ptr(ssl: *mut sys::ssl_context, p: *mut libc::c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        mojotls_sys_ssl_set_user_data_p(ssl, p);
    }
}

/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn conf_versions(conf: *mut sys::ssl_config, min: u16, max: u16) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        mojotls_sys_ssl_conf_min_tls_version(conf, i32::from(min));
        mojotls_sys_ssl_conf_max_tls_version(conf, i32::from(max));
    }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn conf_groups(conf: *mut sys::ssl_config, groups: *const GroupId) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        sys::ssl_conf_groups(conf, groups);
    }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn conf_extra(conf: *mut sys::ssl_config, client: bool) {
    // 3.6.1+ drops TLS 1.3 tickets unless told to hand them over (4.x
    // always does).
    #[cfg(mbedtls_3)]
    if client {
        // SAFETY: the caller upholds this function's `# Safety` contract.
        unsafe {
            sys::ssl_conf_tls13_enable_signal_new_session_tickets(
                conf,
                sys::SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED as i32,
            );
        }
    }
    let _ = (conf, client);
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_3)]
pub(crate) unsafe fn conf_rng(conf: *mut sys::ssl_config, f: RngFn, p: *mut libc::c_void) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        sys::ssl_conf_rng(conf, f, p);
    }
}
/// The DTLS cookie key (3.6 takes an RNG for it).
///
/// # Safety
/// `ctx` is an initialised cookie context nothing else uses during the
/// call; `p` is what `f` expects.
#[cfg(mbedtls_3)]
pub(crate) unsafe fn cookie_setup(
    ctx: *mut sys::ssl_cookie_ctx,
    f: RngFn,
    p: *mut libc::c_void,
) -> i32 {
    // SAFETY: per this function's contract.
    unsafe { sys::ssl_cookie_setup(ctx, f, p) }
}
/// 4.x: the cookie key comes from PSA's RNG.
///
/// # Safety
/// `ctx` is an initialised cookie context nothing else uses during the call.
#[cfg(mbedtls_4)]
pub(crate) unsafe fn cookie_setup(
    ctx: *mut sys::ssl_cookie_ctx,
    _f: RngFn,
    _p: *mut libc::c_void,
) -> i32 {
    // SAFETY: per this function's contract.
    unsafe { sys::ssl_cookie_setup(ctx) }
}
/// 4.x: PSA is the only RNG; there is no conf_rng.
///
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_4)]
pub(crate) unsafe fn conf_rng(_conf: *mut sys::ssl_config, _f: RngFn, _p: *mut libc::c_void) {}

/// 3.6.3+ and 4.x refuse to verify without a host name unless told NULL.
///
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn set_hostname_none(ssl: *mut sys::ssl_context) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        sys::ssl_set_hostname(ssl, std::ptr::null());
    }
}

/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_3)]
pub(crate) unsafe fn pk_parse_key(
    pk: *mut sys::pk_context,
    key: &[u8],
    pwd: *const u8,
    pwd_len: usize,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        sys::pk_parse_key(
            pk,
            key.as_ptr(),
            key.len(),
            pwd,
            pwd_len,
            Some(super::rng::Drbg::global_callback),
            std::ptr::null_mut(),
        )
    }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_4)]
pub(crate) unsafe fn pk_parse_key(
    pk: *mut sys::pk_context,
    key: &[u8],
    pwd: *const u8,
    pwd_len: usize,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract.
    unsafe { sys::pk_parse_key(pk, key.as_ptr(), key.len(), pwd, pwd_len) }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_3)]
pub(crate) unsafe fn pk_check_pair(
    public: *const sys::pk_context,
    private: *const sys::pk_context,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        sys::pk_check_pair(
            public,
            private,
            Some(super::rng::Drbg::global_callback),
            std::ptr::null_mut(),
        )
    }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_4)]
pub(crate) unsafe fn pk_check_pair(
    public: *const sys::pk_context,
    private: *const sys::pk_context,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract.
    unsafe { sys::pk_check_pair(public, private) }
}

/// 3.6 checks a TLS 1.3 ticket's age against the session's
/// `ticket_creation_time`, taken from `mbedtls_ms_time()`: a monotonic
/// clock whose start differs between machines (and boots), so the time
/// in a ticket from another server is meaningless here. Restate it on
/// this machine's clock from the ticket's wall-clock age.
///
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_3)]
pub(crate) unsafe fn rebase_ticket_creation_time(session: *mut sys::ssl_session, age_ms: u64) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        let age = i64::try_from(age_ms).unwrap_or(i64::MAX);
        (*session).private_ticket_creation_time = sys::ms_time().saturating_sub(age);
    }
}
/// 4.x: the same field presumably needs the same treatment; not done
/// while no 4.x build can check it (tickets from another machine then
/// mean a full TLS 1.3 handshake, never a wrong resumption).
///
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_4)]
pub(crate) unsafe fn rebase_ticket_creation_time(_session: *mut sys::ssl_session, _age_ms: u64) {}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_3)]
pub(crate) unsafe fn ticket_setup(
    ctx: *mut sys::ssl_ticket_context,
    f: RngFn,
    p: *mut libc::c_void,
    lifetime: u32,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe { sys::ssl_ticket_setup(ctx, f, p, sys::CIPHER_AES_256_GCM, lifetime) }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
#[cfg(mbedtls_4)]
pub(crate) unsafe fn ticket_setup(
    ctx: *mut sys::ssl_ticket_context,
    _f: RngFn,
    _p: *mut libc::c_void,
    lifetime: u32,
) -> i32 {
    const PSA_ALG_GCM: sys::psa_algorithm_t = 0x0550_0200;
    const PSA_KEY_TYPE_AES: sys::psa_key_type_t = 0x2400;
    // SAFETY: the caller upholds this function's `# Safety` contract.
    unsafe { sys::ssl_ticket_setup(ctx, PSA_ALG_GCM, PSA_KEY_TYPE_AES, 256, lifetime) }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn compat_set_min(conf: *mut sys::ssl_config, v: u16) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        mojotls_sys_ssl_conf_min_tls_version(conf, i32::from(v));
    }
}
/// # Safety
/// Every pointer argument points to an initialised Mbed TLS object of its
/// type that nothing else uses during the call; buffers are valid for their
/// lengths.
pub(crate) unsafe fn compat_set_max(conf: *mut sys::ssl_config, v: u16) {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        mojotls_sys_ssl_conf_max_tls_version(conf, i32::from(v));
    }
}

pub(crate) type RngFn = Option<unsafe extern "C" fn(*mut libc::c_void, *mut u8, usize) -> i32>;

/// Mbed TLS's record buffers, freed after the fast record layer took over
/// (about 33 KiB per idle connection): their sizes, to allocate them again,
/// and the read sequence number Mbed TLS keeps at the start of its input
/// buffer. Freeing relies on Mbed TLS allocating with libc's calloc (the
/// default of 3.6 and TF-PSA-Crypto 1.0; the bundled engine has
/// MBEDTLS_PLATFORM_MEMORY, but nothing replaces its default calloc/free)
/// and, Linux only, on `malloc_usable_size` for the size to zeroise.
pub(crate) struct Parked {
    in_size: usize,
    out_size: usize,
    in_ctr: [u8; 8],
}

impl Parked {
    /// Zeroise and free both buffers, or do nothing (None).
    ///
    /// # Safety
    /// The buffers are Mbed TLS's own allocations, `in_ctr` points at 8
    /// bytes of `in_buf`, and the caller NULLs every pointer into them.
    #[cfg(target_os = "linux")]
    unsafe fn take(in_buf: *mut u8, in_ctr: *mut u8, out_buf: *mut u8) -> Option<Parked> {
        // SAFETY: the caller upholds this function's `# Safety` contract,
        // which is what the unsafe operations below rely on.
        unsafe {
            if in_buf.is_null() || in_ctr.is_null() || out_buf.is_null() {
                return None;
            }
            let parked = Parked {
                in_size: libc::malloc_usable_size(in_buf.cast()),
                out_size: libc::malloc_usable_size(out_buf.cast()),
                in_ctr: *(in_ctr as *const [u8; 8]),
            };
            for (buf, len) in [(in_buf, parked.in_size), (out_buf, parked.out_size)] {
                zeroize::Zeroize::zeroize(std::slice::from_raw_parts_mut(buf, len));
                libc::free(buf.cast());
            }
            Some(parked)
        }
    }

    /// # Safety
    /// The three pointers are the session's record buffers (or NULL), owned
    /// by nobody else.
    #[cfg(not(target_os = "linux"))]
    unsafe fn take(_in_buf: *mut u8, _in_ctr: *mut u8, _out_buf: *mut u8) -> Option<Parked> {
        None
    }

    /// New zeroed input and output buffers (Mbed TLS frees them with
    /// libc's free), the read counter back at the start of the input one.
    fn allocate(&self) -> Option<(*mut u8, *mut u8)> {
        // SAFETY: plain allocations, checked below.
        let (inb, outb) = unsafe {
            (
                libc::calloc(1, self.in_size) as *mut u8,
                libc::calloc(1, self.out_size) as *mut u8,
            )
        };
        if inb.is_null() || outb.is_null() || self.in_size < 8 {
            // SAFETY: NULL or our own allocations.
            unsafe {
                libc::free(inb.cast());
                libc::free(outb.cast());
            }
            return None;
        }
        // SAFETY: in_size >= 8 bytes were allocated.
        unsafe { std::ptr::copy_nonoverlapping(self.in_ctr.as_ptr(), inb, 8) };
        Some((inb, outb))
    }
}

/// `ssl_get_verify_result` quirks: -1 before a result exists, and (4.1)
/// SKIP_VERIFY after a TLS 1.3 ticket resumption; neither is a failure.
pub(crate) fn normalize_verify_flags(flags: u32, resumed: bool) -> u32 {
    if flags == u32::MAX {
        return 0;
    }
    if resumed {
        return flags & !(sys::X509_BADCERT_SKIP_VERIFY as u32);
    }
    flags
}
