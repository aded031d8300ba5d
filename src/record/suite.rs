//! The cipher suites the Rust record layer runs: AEAD suites only (the
//! handshake stays in Mbed TLS; anything else falls back to its record layer).

use ring::aead;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aead {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20Poly1305,
}

/// The PRF (TLS 1.2) / HKDF (TLS 1.3) hash of a suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    pub id: u16,
    pub aead: Aead,
    pub hash: Hash,
    pub tls13: bool,
}

impl Aead {
    pub fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Aead::Aes128Gcm => &aead::AES_128_GCM,
            Aead::Aes256Gcm => &aead::AES_256_GCM,
            Aead::Chacha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::Chacha20Poly1305 => 32,
        }
    }

    /// TLS 1.2 fixed IV length (RFC 5288: 4-byte salt for GCM; RFC 7905:
    /// 12 bytes for ChaCha20-Poly1305). TLS 1.3 always uses 12.
    pub fn tls12_iv_len(self) -> usize {
        match self {
            Aead::Aes128Gcm | Aead::Aes256Gcm => 4,
            Aead::Chacha20Poly1305 => 12,
        }
    }

    /// TLS 1.2 GCM carries an 8-byte explicit nonce in every record.
    pub fn tls12_explicit_nonce_len(self) -> usize {
        match self {
            Aead::Aes128Gcm | Aead::Aes256Gcm => 8,
            Aead::Chacha20Poly1305 => 0,
        }
    }

    /// RFC 8446 §5.5 limits the records protected under one key: AES-GCM
    /// 2^24.5 full-size records; stay well below it (ChaCha20 has no
    /// practical limit, only the 64-bit sequence number).
    pub fn record_limit(self) -> u64 {
        match self {
            Aead::Aes128Gcm | Aead::Aes256Gcm => 1 << 24,
            Aead::Chacha20Poly1305 => u64::MAX,
        }
    }
}

impl Hash {
    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }
}

/// Look a suite up by its IANA id and protocol version.
pub fn find(id: u16, tls13: bool) -> Option<Suite> {
    use Aead::*;
    use Hash::*;
    let (aead, hash) = if tls13 {
        match id {
            0x1301 => (Aes128Gcm, Sha256),
            0x1302 => (Aes256Gcm, Sha384),
            0x1303 => (Chacha20Poly1305, Sha256),
            _ => return None,
        }
    } else {
        match id {
            // RSA, DHE_RSA, ECDHE_ECDSA, ECDHE_RSA with AES-GCM
            0x009C | 0x009E | 0xC02B | 0xC02F => (Aes128Gcm, Sha256),
            0x009D | 0x009F | 0xC02C | 0xC030 => (Aes256Gcm, Sha384),
            // ECDHE_RSA, ECDHE_ECDSA, DHE_RSA with ChaCha20-Poly1305
            0xCCA8..=0xCCAA => (Chacha20Poly1305, Sha256),
            _ => return None,
        }
    };
    Some(Suite {
        id,
        aead,
        hash,
        tls13,
    })
}
