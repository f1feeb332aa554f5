//! Traditional DES `crypt(3)`, for list admin passwords saved by Mailman
//! before 2.1 (`crypt.crypt(response, secret[:2]) == secret`).
//!
//! Python's `crypt` module is a thin wrapper over the system's libcrypt, so
//! calling the same library agrees with Mailman by construction (the
//! 8-character truncation, which salts are refused, failure tokens). Exim
//! already links libcrypt.so.1, so loading it costs the MTA nothing more.

use std::ffi::{c_char, c_void, CStr, CString};

#[link(name = "crypt")]
extern "C" {
    fn crypt_r(phrase: *const c_char, setting: *const c_char, data: *mut c_void) -> *mut c_char;
}

/// Larger than `struct crypt_data` of libxcrypt (32 KiB) and of glibc's
/// former libcrypt (128 KiB); it must start zeroed.
const CRYPT_DATA_WORDS: usize = (256 * 1024) / 8;

/// `crypt.crypt(phrase, salt)` as Python 2.7 returns it: None when Python
/// raises (a NUL byte) or libcrypt returns NULL.
pub fn crypt(phrase: &[u8], salt: &[u8]) -> Option<Vec<u8>> {
    let phrase = CString::new(phrase).ok()?;
    let salt = CString::new(salt).ok()?;
    let mut data: Vec<u64> = vec![0; CRYPT_DATA_WORDS];
    // SAFETY: both strings are NUL-terminated and outlive the call; `data`
    // is zeroed and larger than any libcrypt's `struct crypt_data`. The
    // result points into `data` and is copied before `data` is dropped.
    unsafe {
        let out = crypt_r(
            phrase.as_ptr(),
            salt.as_ptr(),
            data.as_mut_ptr().cast::<c_void>(),
        );
        if out.is_null() {
            return None;
        }
        Some(CStr::from_ptr(out).to_bytes().to_vec())
    }
}

/// Mailman's `cryptmatchp(response, secret)`. With a two-character salt
/// libcrypt yields a 13-character DES string or a short failure token, so
/// only a 13-byte secret can match: others are not hashed at all.
pub fn des_crypt_matches(response: &[u8], secret: &[u8]) -> bool {
    secret.len() == 13 && crypt(response, &secret[..2]).as_deref() == Some(secret)
}
