//! The AES block cipher of the bundled Mbed TLS computed by AWS-LC (issue
//! #18). The bundled C has no AES-NI, so its AES is the table-driven
//! software kind, whose memory accesses depend on key and data bytes (a
//! cache-timing side channel) and which is slow. AWS-LC's `AES_encrypt`
//! uses AES-NI where the CPU has it, else vector-permute or bitsliced code,
//! all constant-time. Everything AES in Mbed TLS goes through these hooks:
//! CCM, CTR_DRBG, and the GCM calls src/backend/gcm.rs leaves to Mbed TLS's
//! own GCM (whole AES-GCM records go to AWS-LC's AEAD there instead).
//!
//! The state in Mbed TLS's context work area is plain data (Mbed TLS's
//! cipher layer copies AES contexts with memcpy): AWS-LC's `AES_KEY` and
//! which direction it was scheduled for.

use aws_lc_sys as awslc;
use mbedtls_rs_sys::hook::aes::{hook_aes, AesBlock, MbedtlsAes};
use mbedtls_rs_sys::hook::{WorkArea, WorkAreaMemory};
use mbedtls_rs_sys::MbedtlsError;
use zeroize::Zeroize;

use super::sys;

#[derive(Clone, Copy, PartialEq)]
#[repr(u32)]
enum Dir {
    None = 0,
    Encrypt = 1,
    Decrypt = 2,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct State {
    dir: Dir,
    key: awslc::AES_KEY,
}

struct AwsLcAes;

/// Blocks run through the hook (tests check Mbed TLS really calls it).
#[cfg(test)]
pub(crate) static BLOCKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn state(memory: &mut WorkAreaMemory) -> &mut State {
    // SAFETY: `init` (Mbed TLS calls mbedtls_aes_init first) wrote a State;
    // its alignment (4) and size (248) fit the crate's 512-byte work area.
    unsafe { memory.cast_mut::<State>() }
}

fn schedule(memory: &mut WorkAreaMemory, key: &[u8], dir: Dir) -> Result<(), MbedtlsError> {
    let st = state(memory);
    st.dir = Dir::None;
    let bits = (key.len() * 8) as u32;
    // SAFETY: `key` has key.len() bytes; the schedule is written into `st`.
    let rc = unsafe {
        match dir {
            Dir::Decrypt => awslc::AES_set_decrypt_key(key.as_ptr(), bits, &mut st.key),
            _ => awslc::AES_set_encrypt_key(key.as_ptr(), bits, &mut st.key),
        }
    };
    if rc != 0 {
        return Err(MbedtlsError::new(sys::ERR_AES_INVALID_KEY_LENGTH as i32));
    }
    st.dir = dir;
    Ok(())
}

fn crypt(memory: &mut WorkAreaMemory, block: &mut AesBlock, dir: Dir) -> Result<(), MbedtlsError> {
    let st = state(memory);
    if st.dir != dir {
        // Not keyed for this direction: Mbed TLS's own answer.
        return Err(MbedtlsError::new(sys::ERR_AES_BAD_INPUT_DATA as i32));
    }
    #[cfg(test)]
    BLOCKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let input = *block;
    // SAFETY: 16-byte input and output blocks, a scheduled key.
    unsafe {
        match dir {
            Dir::Decrypt => awslc::AES_decrypt(input.as_ptr(), block.as_mut_ptr(), &st.key),
            _ => awslc::AES_encrypt(input.as_ptr(), block.as_mut_ptr(), &st.key),
        }
    }
    Ok(())
}

impl MbedtlsAes for AwsLcAes {
    fn init(&self, memory: &mut WorkAreaMemory) {
        // SAFETY: as in `state`; this writes the whole State.
        unsafe { memory.cast_mut_maybe::<State>() }.write(State {
            dir: Dir::None,
            key: awslc::AES_KEY {
                rd_key: [0; 60],
                rounds: 0,
            },
        });
    }

    fn free(&self, memory: &mut WorkAreaMemory) {
        memory.zeroize(); // the key schedule
    }

    fn set_enc_key(&self, memory: &mut WorkAreaMemory, key: &[u8]) -> Result<(), MbedtlsError> {
        schedule(memory, key, Dir::Encrypt)
    }

    fn set_dec_key(&self, memory: &mut WorkAreaMemory, key: &[u8]) -> Result<(), MbedtlsError> {
        schedule(memory, key, Dir::Decrypt)
    }

    fn encrypt(
        &self,
        memory: &mut WorkAreaMemory,
        block: &mut AesBlock,
    ) -> Result<(), MbedtlsError> {
        crypt(memory, block, Dir::Encrypt)
    }

    fn decrypt(
        &self,
        memory: &mut WorkAreaMemory,
        block: &mut AesBlock,
    ) -> Result<(), MbedtlsError> {
        crypt(memory, block, Dir::Decrypt)
    }
}

static AWS_LC_AES: AwsLcAes = AwsLcAes;

/// Plug AWS-LC's AES in. Called once from `platform::install`, before any
/// AES context exists.
pub(crate) fn install() {
    // SAFETY: before any Mbed TLS AES use; a static implementation.
    unsafe { hook_aes(Some(&AWS_LC_AES)) };
}
