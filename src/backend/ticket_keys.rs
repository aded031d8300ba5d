//! Session tickets sealed under the caller's keys, so that servers behind a
//! load balancer resume each other's sessions. Mbed TLS's own ticket
//! context makes random keys (and only 3.6 can be handed keys, with
//! `ssl_ticket_rotate`), so the ticket callbacks are ours on every
//! generation: Mbed TLS serialises the session (`ssl_session_save` /
//! `ssl_session_load`, what its own callbacks use) and ring seals it with
//! AES-256-GCM.
//!
//! Ticket: key id (4) | nonce (12) | sealed(issued_at, ms since the Unix
//! epoch, u64 BE | session) | tag (16); the key id and nonce are the AAD.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

use super::generation;
use super::sys;
use crate::error::{Error, Result};

/// Bytes of one caller key.
pub(crate) const KEY_LEN: usize = 32;
/// Keys accepted at once (the first encrypts, all decrypt).
pub(crate) const MAX_KEYS: usize = 8;
/// RFC 8446 §4.6.1: a ticket lives at most 7 days.
pub(crate) const MAX_LIFETIME_S: u32 = 604_800;
const ID_LEN: usize = 4;
const HEAD_LEN: usize = ID_LEN + NONCE_LEN;
const TIME_LEN: usize = 8;
const TAG_LEN: usize = 16;
/// Tickets from a server whose clock runs ahead are accepted up to this.
const CLOCK_SKEW_MS: u64 = 300_000;

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// One key: the AES-256-GCM key and a public id, both derived with
/// HKDF-SHA256 from the caller's secret (the secret itself is not kept).
struct TicketKey {
    id: [u8; ID_LEN],
    key: Zeroizing<[u8; 32]>,
}

impl TicketKey {
    fn derive(secret: &[u8]) -> TicketKey {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"mojo-tls session tickets").extract(secret);
        let mut key = Zeroizing::new([0u8; 32]);
        let mut id = [0u8; ID_LEN];
        for (label, out) in [
            (&b"aes-256-gcm key"[..], &mut key[..]),
            (&b"key id"[..], &mut id[..]),
        ] {
            prk.expand(&[label], Len(out.len()))
                .and_then(|okm| okm.fill(out))
                .expect("HKDF-SHA256 output of at most 32 bytes");
        }
        TicketKey { id, key }
    }

    /// Built per ticket rather than kept: ring's key schedule is not
    /// wiped on drop, our copy of the key is.
    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.key[..]).expect("a 32-byte key"))
    }
}

/// The caller's ticket keys; replaced in place on rotation, so
/// configurations already in use switch at once.
pub struct TicketKeyRing {
    keys: RwLock<Vec<TicketKey>>,
}

impl TicketKeyRing {
    pub fn new(keys: &[u8]) -> Result<TicketKeyRing> {
        Ok(TicketKeyRing {
            keys: RwLock::new(Self::derive_all(keys)?),
        })
    }

    /// Rotation: `keys` replace the current ones.
    pub fn replace(&self, keys: &[u8]) -> Result<()> {
        let new = Self::derive_all(keys)?;
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = new;
        Ok(())
    }

    fn derive_all(keys: &[u8]) -> Result<Vec<TicketKey>> {
        let n = keys.len() / KEY_LEN;
        if keys.len() % KEY_LEN != 0 || !(1..=MAX_KEYS).contains(&n) {
            return Err(Error::invalid_arg(format!(
                "ticket keys: {} bytes; expected 1 to {MAX_KEYS} keys of {KEY_LEN} bytes each",
                keys.len()
            )));
        }
        Ok(keys.chunks(KEY_LEN).map(TicketKey::derive).collect())
    }

    /// Seal `session` into `out`; the ticket's length.
    fn seal(
        &self,
        session: *const sys::ssl_session,
        out: &mut [u8],
    ) -> std::result::Result<usize, i32> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let key = keys.first().ok_or(sys::ERR_SSL_INTERNAL_ERROR)?;
        if out.len() < HEAD_LEN + TIME_LEN + TAG_LEN {
            return Err(sys::ERR_SSL_BUFFER_TOO_SMALL);
        }
        let (head, body) = out.split_at_mut(HEAD_LEN);
        head[..ID_LEN].copy_from_slice(&key.id);
        SystemRandom::new()
            .fill(&mut head[ID_LEN..])
            .map_err(|_| sys::ERR_SSL_INTERNAL_ERROR)?;
        body[..TIME_LEN].copy_from_slice(&now_ms().to_be_bytes());
        let room = body.len() - TIME_LEN - TAG_LEN;
        let mut len = 0usize;
        // SAFETY: session is Mbed TLS's live session; the output range is
        // inside `out` (room bytes after the timestamp).
        let ret = unsafe {
            sys::ssl_session_save(session, body[TIME_LEN..].as_mut_ptr(), room, &mut len)
        };
        if ret != 0 || len > room {
            body.zeroize();
            return Err(if ret != 0 {
                ret
            } else {
                sys::ERR_SSL_INTERNAL_ERROR
            });
        }
        let nonce = Nonce::try_assume_unique_for_key(&head[ID_LEN..]).expect("12 bytes");
        let sealed = TIME_LEN + len;
        match key
            .aead()
            .seal_in_place_separate_tag(nonce, Aad::from(&*head), &mut body[..sealed])
        {
            Ok(tag) => {
                body[sealed..sealed + TAG_LEN].copy_from_slice(tag.as_ref());
                Ok(HEAD_LEN + sealed + TAG_LEN)
            }
            Err(_) => {
                body.zeroize();
                Err(sys::ERR_SSL_INTERNAL_ERROR)
            }
        }
    }

    /// Open `ticket` into `session` if one of the keys sealed it within
    /// `lifetime_s`. Failures are Mbed TLS codes; Mbed TLS then ignores the
    /// ticket and runs a full handshake.
    fn open(
        &self,
        session: *mut sys::ssl_session,
        ticket: &[u8],
        lifetime_s: u32,
    ) -> std::result::Result<(), i32> {
        if ticket.len() < HEAD_LEN + TIME_LEN + TAG_LEN {
            return Err(sys::ERR_SSL_BAD_INPUT_DATA);
        }
        let (head, sealed) = ticket.split_at(HEAD_LEN);
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        for key in keys.iter().filter(|k| k.id[..] == head[..ID_LEN]) {
            let mut plain = Zeroizing::new(sealed.to_vec());
            let nonce = Nonce::try_assume_unique_for_key(&head[ID_LEN..]).expect("12 bytes");
            let Ok(clear) = key
                .aead()
                .open_in_place(nonce, Aad::from(head), &mut plain[..])
            else {
                continue;
            };
            let issued = u64::from_be_bytes(clear[..TIME_LEN].try_into().expect("8 bytes"));
            let now = now_ms();
            if issued > now + CLOCK_SKEW_MS
                || now.saturating_sub(issued) > u64::from(lifetime_s) * 1000
            {
                return Err(sys::ERR_SSL_SESSION_TICKET_EXPIRED);
            }
            let state = &clear[TIME_LEN..];
            // SAFETY: session is the fresh session Mbed TLS hands the parse
            // callback; state is valid for its length.
            let ret = unsafe { sys::ssl_session_load(session, state.as_ptr(), state.len()) };
            if ret != 0 {
                return Err(ret);
            }
            // SAFETY: the session was just loaded.
            unsafe { generation::rebase_ticket_creation_time(session, now.saturating_sub(issued)) };
            return Ok(());
        }
        Err(sys::ERR_SSL_INVALID_MAC)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What the ticket callbacks get as their context; owned by the SslConfig.
pub struct OwnTickets {
    ring: Arc<TicketKeyRing>,
    lifetime_s: u32,
}

impl OwnTickets {
    pub fn new(ring: Arc<TicketKeyRing>, lifetime_s: u32) -> Box<OwnTickets> {
        Box::new(OwnTickets {
            ring,
            lifetime_s: lifetime_s.clamp(1, MAX_LIFETIME_S),
        })
    }

    pub(crate) fn install(&self, conf: *mut sys::ssl_config) {
        // SAFETY: conf is being built; self is boxed and owned by the
        // SslConfig, so the pointer outlives the ssl_config.
        unsafe {
            sys::ssl_conf_session_tickets_cb(
                conf,
                Some(write_cb),
                Some(parse_cb),
                self as *const OwnTickets as *mut libc::c_void,
            );
        }
    }
}

/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
unsafe extern "C" fn write_cb(
    p: *mut libc::c_void,
    session: *const sys::ssl_session,
    start: *mut u8,
    end: *const u8,
    tlen: *mut usize,
    lifetime: *mut u32,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if p.is_null()
            || session.is_null()
            || start.is_null()
            || tlen.is_null()
            || lifetime.is_null()
        {
            return sys::ERR_SSL_BAD_INPUT_DATA;
        }
        *tlen = 0;
        if (end as usize) < (start as usize) {
            return sys::ERR_SSL_BUFFER_TOO_SMALL;
        }
        let out = std::slice::from_raw_parts_mut(start, end as usize - start as usize);
        let own = &*(p as *const OwnTickets);
        // Unwinding through Mbed TLS's C frames is undefined: stop here.
        match catch_unwind(AssertUnwindSafe(|| own.ring.seal(session, out))) {
            Ok(Ok(n)) => {
                *tlen = n;
                *lifetime = own.lifetime_s;
                0
            }
            Ok(Err(ret)) => ret,
            Err(_) => sys::ERR_SSL_INTERNAL_ERROR,
        }
    }
}

/// # Safety
/// Called by Mbed TLS only, with the context pointer registered alongside the
/// callback and every other pointer valid for the length it passes.
unsafe extern "C" fn parse_cb(
    p: *mut libc::c_void,
    session: *mut sys::ssl_session,
    buf: *mut u8,
    len: usize,
) -> i32 {
    // SAFETY: the caller upholds this function's `# Safety` contract,
    // which is what the unsafe operations below rely on.
    unsafe {
        if p.is_null() || session.is_null() || buf.is_null() {
            return sys::ERR_SSL_BAD_INPUT_DATA;
        }
        let own = &*(p as *const OwnTickets);
        let ticket = std::slice::from_raw_parts(buf, len);
        let ret = match catch_unwind(AssertUnwindSafe(|| {
            own.ring.open(session, ticket, own.lifetime_s)
        })) {
            Ok(Ok(())) => 0,
            Ok(Err(ret)) => ret,
            Err(_) => sys::ERR_SSL_INTERNAL_ERROR,
        };
        super::resumption::mark_if_ok(ret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_derived_deterministically_and_validated() {
        let a = TicketKey::derive(&[7; KEY_LEN]);
        let b = TicketKey::derive(&[7; KEY_LEN]);
        let c = TicketKey::derive(&[8; KEY_LEN]);
        assert_eq!((a.id, *a.key), (b.id, *b.key));
        assert_ne!(a.id, c.id);
        assert_ne!(*a.key, *c.key);
        for bad in [0, 31, 33, KEY_LEN * (MAX_KEYS + 1)] {
            assert!(TicketKeyRing::new(&vec![1; bad]).is_err(), "{bad} bytes");
        }
        assert!(TicketKeyRing::new(&[1; KEY_LEN * MAX_KEYS]).is_ok());
    }
}
