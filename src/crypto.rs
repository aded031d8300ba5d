//! Digests, HMAC and HKDF (RFC 5869) for the C API's crypto helpers, all in
//! ring: no hand-written cryptography, and no dependence on which Mbed TLS
//! generation the build uses.

use ring::{digest, hkdf, hmac};

use crate::error::{Error, Result};

/// A hash function of the crypto helpers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The digest's length in bytes.
    pub fn output_len(self) -> usize {
        self.digest().output_len()
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Hash::Sha256 => hmac::HMAC_SHA256,
            Hash::Sha384 => hmac::HMAC_SHA384,
            Hash::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn hkdf(self) -> hkdf::Algorithm {
        match self {
            Hash::Sha256 => hkdf::HKDF_SHA256,
            Hash::Sha384 => hkdf::HKDF_SHA384,
            Hash::Sha512 => hkdf::HKDF_SHA512,
        }
    }

    /// RFC 5869's bound on HKDF-Expand's output: 255 blocks.
    pub fn hkdf_max_len(self) -> usize {
        255 * self.output_len()
    }
}

/// The digest of `data`.
pub fn digest(hash: Hash, data: &[u8]) -> Vec<u8> {
    digest::digest(hash.digest(), data).as_ref().to_vec()
}

/// HMAC of `data` under `key` (any length, RFC 2104).
pub fn hmac(hash: Hash, key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hash.hmac(), key), data)
        .as_ref()
        .to_vec()
}

/// HKDF-Extract: the pseudorandom key, HMAC(salt, ikm). An empty salt is
/// the RFC's HashLen zero bytes (HMAC pads its key with zeros anyway).
pub fn hkdf_extract(hash: Hash, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
    hmac(hash, salt, ikm)
}

/// The output length ring's expand takes as a key type.
struct OutLen(usize);

impl hkdf::KeyType for OutLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand of the pseudorandom key `prk` (at least HashLen bytes, as
/// RFC 5869 §2.3 requires) with `info` into all of `out`
/// (1..=255·HashLen bytes).
pub fn hkdf_expand(hash: Hash, prk: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    if prk.len() < hash.output_len() {
        return Err(Error::invalid_arg(format!(
            "the HKDF pseudorandom key must have at least {} bytes, not {}",
            hash.output_len(),
            prk.len()
        )));
    }
    check_out_len(hash, out.len())?;
    let prk = hkdf::Prk::new_less_safe(hash.hkdf(), prk);
    let info = [info];
    let okm = prk
        .expand(&info, OutLen(out.len()))
        .map_err(|_| Error::invalid_arg("HKDF-Expand refused the output length"))?;
    okm.fill(out)
        .map_err(|_| Error::invalid_arg("HKDF-Expand refused the output length"))
}

/// HKDF (extract then expand) into all of `out`.
pub fn hkdf(hash: Hash, salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    check_out_len(hash, out.len())?;
    let prk = zeroize::Zeroizing::new(hkdf_extract(hash, salt, ikm));
    hkdf_expand(hash, &prk, info, out)
}

fn check_out_len(hash: Hash, len: usize) -> Result<()> {
    if len == 0 || len > hash.hkdf_max_len() {
        return Err(Error::invalid_arg(format!(
            "the HKDF output length must be 1..{} bytes for this hash, not {len}",
            hash.hkdf_max_len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::crypto::{hkdf, hkdf_expand, hkdf_extract, Hash};

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc5869_case_1() {
        let ikm = [0x0b; 22];
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let prk = hkdf_extract(Hash::Sha256, &salt, &ikm);
        assert_eq!(
            prk,
            unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        );
        let mut okm = [0u8; 42];
        hkdf(Hash::Sha256, &salt, &ikm, &info, &mut okm).unwrap();
        assert_eq!(
            okm.to_vec(),
            unhex(
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf\
                 34007208d5b887185865"
            )
        );
    }

    #[test]
    fn expand_bounds() {
        let prk = [7u8; 32];
        assert!(hkdf_expand(Hash::Sha256, &prk, b"", &mut [0u8; 8160]).is_ok());
        assert!(hkdf_expand(Hash::Sha256, &prk, b"", &mut [0u8; 8161]).is_err());
        assert!(hkdf_expand(Hash::Sha256, &prk, b"", &mut []).is_err());
        assert!(hkdf_expand(Hash::Sha384, &prk, b"", &mut [0u8; 16]).is_err());
    }
}
