//! Private keys (PEM or DER, optionally password-protected).

use super::errors::{mbed_error, parse_error};
use super::files::pem_aware_buffer;
use super::sys;
use super::x509::check_readable;
use crate::error::{Code, Error, Result};

pub struct PrivateKey {
    pk: Box<sys::pk_context>,
}

// SAFETY: a parsed key is only read (signing updates nothing but RSA's
// blinding values, under the RSA context's own mutex); mutation requires
// `&mut`.
unsafe impl Send for PrivateKey {}
// SAFETY: as for Send, above.
unsafe impl Sync for PrivateKey {}

impl PrivateKey {
    pub fn parse(data: &[u8], password: Option<&[u8]>) -> Result<PrivateKey> {
        if data.is_empty() {
            return Err(Error::invalid_arg("empty private key data"));
        }
        if let Some(plain) = decrypt_pkcs8(data, password)? {
            return PrivateKey::parse_plain(&plain, None).map_err(|e| {
                Error::new(
                    Code::MOJO_TLS_ERR_BAD_PASSWORD,
                    format!(
                        "wrong password for the encrypted private key ({})",
                        e.message
                    ),
                )
            });
        }
        // A wrong password sometimes decrypts to bytes with valid padding;
        // Mbed TLS then reports a format error. For an encrypted key that
        // is still a password problem.
        let encrypted = data.windows(9).any(|w| w == b"ENCRYPTED");
        PrivateKey::parse_plain(data, password).map_err(|e| {
            if encrypted && e.code == Code::MOJO_TLS_ERR_PARSE {
                Error::new(
                    Code::MOJO_TLS_ERR_BAD_PASSWORD,
                    format!(
                        "wrong password for the encrypted private key, or a corrupted key ({})",
                        e.message
                    ),
                )
            } else {
                e
            }
        })
    }

    fn parse_plain(data: &[u8], password: Option<&[u8]>) -> Result<PrivateKey> {
        if data.is_empty() {
            return Err(Error::invalid_arg("empty private key data"));
        }
        let buf = pem_aware_buffer(data);
        let (pwd, pwd_len) = match password {
            Some(p) if !p.is_empty() => (p.as_ptr(), p.len()),
            _ => (std::ptr::null(), 0),
        };
        // SAFETY: zeroed memory is valid input to pk_init; buffers valid for their lengths.
        unsafe {
            let mut pk: Box<sys::pk_context> = Box::new(std::mem::zeroed());
            sys::pk_init(&mut *pk);
            let ret = super::generation::pk_parse_key(&mut *pk, &buf, pwd, pwd_len);
            if ret != 0 {
                sys::pk_free(&mut *pk);
                return Err(parse_error(ret, "cannot parse private key"));
            }
            Ok(PrivateKey { pk })
        }
    }

    pub fn parse_file(path: &str, password: Option<&[u8]>) -> Result<PrivateKey> {
        check_readable(path, "key file")?;
        let data = std::fs::read(path).map_err(|e| Error::io(&format!("reading '{path}'"), &e))?;
        let key = PrivateKey::parse(&data, password)
            .map_err(|e| e.context(&format!("key file '{path}'")));
        // Don't leave key material in freed heap memory.
        let mut data = data;
        data.iter_mut().for_each(|b| *b = 0);
        key
    }

    /// Check that this key belongs to the certificate's public key.
    pub fn check_matches(&self, crt: &sys::x509_crt) -> Result<()> {
        // SAFETY: both contexts are initialised.
        let ret = unsafe { super::generation::pk_check_pair(&crt.pk, &*self.pk) };
        if ret != 0 {
            return Err(mbed_error(
                ret,
                Code::MOJO_TLS_ERR_PARSE,
                "the private key does not match the certificate",
            ));
        }
        Ok(())
    }

    pub(crate) fn as_mut_ptr(&self) -> *mut sys::pk_context {
        &*self.pk as *const sys::pk_context as *mut sys::pk_context
    }
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        // SAFETY: initialised; freed once (pk_free zeroizes key material).
        unsafe { sys::pk_free(&mut *self.pk) };
    }
}

/// PKCS#8 `EncryptedPrivateKeyInfo` (PEM "ENCRYPTED PRIVATE KEY" or DER):
/// decrypt with the pkcs8 crate, so that every engine reads what OpenSSL
/// writes (PBES2 with AES, PBKDF2 or scrypt) whatever PKCS#5 support its
/// Mbed TLS build has (3.6 has no scrypt). `None` when `data` is not one.
fn decrypt_pkcs8(
    data: &[u8],
    password: Option<&[u8]>,
) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    use pkcs8::der::pem::PemLabel;
    use pkcs8::EncryptedPrivateKeyInfo;

    let pem_der;
    let der: &[u8] = if data.windows(10).any(|w| w == b"-----BEGIN") {
        let text = std::str::from_utf8(data)
            .map_err(|_| Error::new(Code::MOJO_TLS_ERR_PARSE, "PEM is not text"))?;
        let start = text.find("-----BEGIN").unwrap_or(0);
        match pkcs8::der::pem::decode_vec(&text.as_bytes()[start..]) {
            Ok((label, bytes)) if label == EncryptedPrivateKeyInfo::PEM_LABEL => {
                pem_der = bytes;
                &pem_der
            }
            _ => return Ok(None),
        }
    } else {
        data
    };
    let Ok(info) = EncryptedPrivateKeyInfo::try_from(der) else {
        return Ok(None);
    };
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(Error::new(
            Code::MOJO_TLS_ERR_BAD_PASSWORD,
            "the private key is encrypted: a password is needed",
        ));
    };
    match info.decrypt(password) {
        Ok(doc) => Ok(Some(zeroize::Zeroizing::new(doc.as_bytes().to_vec()))),
        // pkcs5 reports a bad CBC padding (the sign of a wrong password) as
        // EncryptFailed in some versions, DecryptFailed in others.
        Err(pkcs8::Error::EncryptedPrivateKey(
            pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed,
        )) => Err(Error::new(
            Code::MOJO_TLS_ERR_BAD_PASSWORD,
            "wrong password for the encrypted private key",
        )),
        // Schemes the pkcs8 crate does not do (e.g. a SHA-1 PRF): let Mbed
        // TLS try, it knows the DES/3DES + SHA-1 ones.
        Err(_) => Ok(None),
    }
}
