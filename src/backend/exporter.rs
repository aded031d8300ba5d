//! Keying material exporters (RFC 5705 for TLS 1.2, RFC 8446 §7.5 for
//! TLS 1.3) and the tls-unique channel binding (RFC 5929), from secrets
//! the session already holds: the TLS 1.2 master secret captured by the
//! key-export callback (`keys.rs`), the TLS 1.3 exporter_master_secret and
//! the Finished messages kept by Mbed TLS. The bundled engine is built
//! without Mbed TLS's own exporter, so the PRF and HKDF run in ring. None
//! of it depends on the record layer in use.

use ring::{digest, hkdf, hmac};

use super::generation;
use super::ssl::Session;
use super::sys;
use crate::error::{Code, Error, Result};

/// Mbed TLS's bound for its exporter (MBEDTLS_SSL_EXPORT_MAX_KEY_LEN): 255
/// blocks of SHA-256, the TLS 1.3 limit with the smaller hash.
pub(crate) const MAX_LEN: usize = 8160;

/// Labels RFC 5705 §4 reserves for TLS itself (OpenSSL refuses them too).
const RESERVED_LABELS: [&[u8]; 5] = [
    b"client finished",
    b"server finished",
    b"master secret",
    b"extended master secret",
    b"key expansion",
];

/// TLS 1.3 suites whose hash is SHA-384 (TLS_AES_256_GCM_SHA384).
const TLS13_SHA384_SUITES: [i32; 1] = [0x1302];

impl Session {
    /// Fill `out` with keying material for `label` and `context` (None:
    /// no context; TLS 1.3 treats it as empty, TLS 1.2 does not).
    pub fn export_keying_material(
        &self,
        label: &[u8],
        context: Option<&[u8]>,
        out: &mut [u8],
    ) -> Result<()> {
        if !self.handshake_done() {
            return Err(Error::not_available("the handshake has not completed"));
        }
        if out.is_empty() || out.len() > MAX_LEN {
            return Err(Error::invalid_arg(format!(
                "the exported length must be 1..{MAX_LEN} bytes, not {}",
                out.len()
            )));
        }
        if self.version() == 0x0304 {
            if label.len() > 249 {
                return Err(Error::invalid_arg(
                    "a TLS 1.3 exporter label has at most 249 bytes",
                ));
            }
            let sha384 = TLS13_SHA384_SUITES.contains(&self.suite_id());
            let len = if sha384 { 48 } else { 32 };
            let secret = generation::tls13_exporter_secret(&self.ctx, len).ok_or_else(|| {
                Error::not_available("the session holds no TLS 1.3 exporter secret")
            })?;
            let secret = zeroize::Zeroizing::new(secret);
            return tls13_export(sha384, &secret, label, context.unwrap_or(&[]), out);
        }
        if RESERVED_LABELS.contains(&label) {
            return Err(Error::invalid_arg(format!(
                "the exporter label '{}' is reserved by TLS (RFC 5705)",
                String::from_utf8_lossy(label)
            )));
        }
        if context.is_some_and(|c| c.len() > 0xffff) {
            return Err(Error::invalid_arg(
                "a TLS 1.2 exporter context has at most 65535 bytes",
            ));
        }
        let secret = self.key_export().tls12_secret();
        let s = secret
            .as_ref()
            .ok_or_else(|| Error::not_available("the session holds no TLS 1.2 master secret"))?;
        let mut seed = Vec::with_capacity(label.len() + 66 + context.map_or(0, |c| c.len() + 2));
        seed.extend_from_slice(label);
        seed.extend_from_slice(&s.client_random);
        seed.extend_from_slice(&s.server_random);
        if let Some(c) = context {
            seed.extend_from_slice(&(c.len() as u16).to_be_bytes());
            seed.extend_from_slice(c);
        }
        let alg = if s.sha384 {
            hmac::HMAC_SHA384
        } else {
            hmac::HMAC_SHA256
        };
        p_hash(alg, &s.master, &seed, out);
        Ok(())
    }

    /// The tls-unique channel binding (RFC 5929): the verify_data of the
    /// first Finished message of the handshake, as OpenSSL (and so Python's
    /// ssl) reports it: ours if we sent first (a client's full handshake,
    /// a server's resumption), else the peer's. TLS 1.2 only: Mbed TLS keeps
    /// no TLS 1.3 Finished (NOT_AVAILABLE).
    pub fn tls_unique(&self) -> Result<Vec<u8>> {
        if !self.handshake_done() {
            return Err(Error::not_available("the handshake has not completed"));
        }
        if self.version() != 0x0303 {
            return Err(Error::new(
                Code::MOJO_TLS_ERR_NOT_AVAILABLE,
                "tls-unique is defined for TLS 1.2 only (RFC 9266); use the exporter",
            ));
        }
        let (own, peer) = generation::finished_verify_data(&self.ctx)
            .ok_or_else(|| Error::not_available("Mbed TLS kept no Finished message"))?;
        // The client sends the first Finished of a full handshake, the
        // server that of an abbreviated one.
        let we_sent_first = self.resumed() == self.is_server();
        Ok(if we_sent_first { own } else { peer })
    }

    fn suite_id(&self) -> i32 {
        // SAFETY: read-only queries on an initialised session.
        unsafe {
            let name = sys::ssl_get_ciphersuite(&*self.ctx);
            if name.is_null() {
                0
            } else {
                sys::ssl_get_ciphersuite_id(name)
            }
        }
    }
}

/// TLS 1.2's P_hash (RFC 5246 §5): HMAC chained over `seed`.
fn p_hash(alg: hmac::Algorithm, secret: &[u8], seed: &[u8], out: &mut [u8]) {
    let key = hmac::Key::new(alg, secret);
    let mut a = hmac::sign(&key, seed);
    for chunk in out.chunks_mut(alg.digest_algorithm().output_len()) {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(seed);
        let block = ctx.sign();
        chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        a = hmac::sign(&key, a.as_ref());
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1).
fn expand_label(
    alg: hkdf::Algorithm,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let prk = hkdf::Prk::new_less_safe(alg, secret);
    let length = (out.len() as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let context_len = [context.len() as u8];
    let info: [&[u8]; 6] = [&length, &label_len, b"tls13 ", label, &context_len, context];
    prk.expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| Error::invalid_arg("exported length too large for the suite's hash"))
}

/// TLS-Exporter(label, context, length) of RFC 8446 §7.5.
fn tls13_export(
    sha384: bool,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let (alg, hash) = if sha384 {
        (hkdf::HKDF_SHA384, &digest::SHA384)
    } else {
        (hkdf::HKDF_SHA256, &digest::SHA256)
    };
    let empty = digest::digest(hash, b"");
    let mut derived = zeroize::Zeroizing::new(vec![0u8; hash.output_len()]);
    expand_label(alg, secret, label, empty.as_ref(), &mut derived)?;
    let context_hash = digest::digest(hash, context);
    expand_label(alg, &derived, b"exporter", context_hash.as_ref(), out)
}
