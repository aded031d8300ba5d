//! Key material: the TLS 1.2 key block (RFC 5246 §6.3, PRF of §5) and the
//! TLS 1.3 key schedule pieces the record layer needs (RFC 8446 §7.1–7.3:
//! HKDF-Expand-Label for key, iv and "traffic upd").

use ring::{hkdf, hmac};
use zeroize::Zeroizing;

use super::suite::{Hash, Suite};

/// TLS 1.2 traffic keys of both directions.
pub struct Tls12Keys {
    pub client_key: Zeroizing<Vec<u8>>,
    pub server_key: Zeroizing<Vec<u8>>,
    pub client_iv: Zeroizing<Vec<u8>>,
    pub server_iv: Zeroizing<Vec<u8>>,
}

/// What the handshake hands over.
pub enum Secrets {
    Tls12(Tls12Keys),
    /// The client and server application traffic secrets (traffic_secret_0).
    Tls13 {
        client: Zeroizing<Vec<u8>>,
        server: Zeroizing<Vec<u8>>,
    },
}

/// Split a key block `client_key | server_key | client_iv | server_iv`
/// (AEAD suites have no MAC keys). `None` if the lengths do not fit the suite.
pub fn tls12_from_block(
    suite: Suite,
    block: &[u8],
    keylen: usize,
    ivlen: usize,
) -> Option<Tls12Keys> {
    if suite.tls13
        || keylen != suite.aead.key_len()
        || ivlen != suite.aead.tls12_iv_len()
        || block.len() < 2 * (keylen + ivlen)
    {
        return None;
    }
    let part = |at: usize, len: usize| Zeroizing::new(block[at..at + len].to_vec());
    Some(Tls12Keys {
        client_key: part(0, keylen),
        server_key: part(keylen, keylen),
        client_iv: part(2 * keylen, ivlen),
        server_iv: part(2 * keylen + ivlen, ivlen),
    })
}

/// Derive the key block from the master secret:
/// PRF(master, "key expansion", server_random + client_random).
pub fn tls12_from_master(
    suite: Suite,
    master: &[u8],
    client_random: &[u8],
    server_random: &[u8],
) -> Option<Tls12Keys> {
    if suite.tls13 || master.len() != 48 || client_random.len() != 32 || server_random.len() != 32 {
        return None;
    }
    let (keylen, ivlen) = (suite.aead.key_len(), suite.aead.tls12_iv_len());
    let mut seed = Vec::with_capacity(64);
    seed.extend_from_slice(server_random);
    seed.extend_from_slice(client_random);
    let mut block = Zeroizing::new(vec![0u8; 2 * (keylen + ivlen)]);
    tls12_prf(suite.hash, master, b"key expansion", &seed, &mut block);
    tls12_from_block(suite, &block, keylen, ivlen)
}

/// The TLS 1.2 PRF: P_hash(secret, label + seed).
pub fn tls12_prf(hash: Hash, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    let alg = match hash {
        Hash::Sha256 => hmac::HMAC_SHA256,
        Hash::Sha384 => hmac::HMAC_SHA384,
    };
    let key = hmac::Key::new(alg, secret);
    let mut label_seed = Vec::with_capacity(label.len() + seed.len());
    label_seed.extend_from_slice(label);
    label_seed.extend_from_slice(seed);
    // A(1) = HMAC(secret, label_seed); A(i) = HMAC(secret, A(i-1))
    let mut a = hmac::sign(&key, &label_seed);
    let mut filled = 0;
    while filled < out.len() {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(&label_seed);
        let chunk = ctx.sign();
        let n = chunk.as_ref().len().min(out.len() - filled);
        out[filled..filled + n].copy_from_slice(&chunk.as_ref()[..n]);
        filled += n;
        a = hmac::sign(&key, a.as_ref());
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(secret, label, "", len) of RFC 8446 §7.1.
pub fn expand_label(hash: Hash, secret: &[u8], label: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let alg = match hash {
        Hash::Sha256 => hkdf::HKDF_SHA256,
        Hash::Sha384 => hkdf::HKDF_SHA384,
    };
    let prk = hkdf::Prk::new_less_safe(alg, secret);
    let out_len = (len as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let info: [&[u8]; 5] = [&out_len, &label_len, b"tls13 ", label, &[0u8]];
    let mut out = Zeroizing::new(vec![0u8; len]);
    prk.expand(&info, Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .expect("HKDF-Expand-Label lengths are within the hash's limit");
    out
}

/// The write key and IV for a TLS 1.3 traffic secret.
pub fn tls13_key_iv(suite: Suite, secret: &[u8]) -> (Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>) {
    (
        expand_label(suite.hash, secret, b"key", suite.aead.key_len()),
        expand_label(suite.hash, secret, b"iv", 12),
    )
}

/// application_traffic_secret_N+1 (KeyUpdate).
pub fn tls13_next_secret(suite: Suite, secret: &[u8]) -> Zeroizing<Vec<u8>> {
    expand_label(suite.hash, secret, b"traffic upd", suite.hash.output_len())
}
