//! Legacy list admin passwords against Python 2.7's own `crypt` and `md5`.
//!
//! `tests/fixtures/legacy_password_vectors.txt` was made with
//! `PYENV_VERSION=2.7.18 python2.7`, for every (password, salt) pair of
//! ```python
//! pws = ['', 'a', 'secret', 'secretpa', 'secretpassword', 'secretpaXXXX',
//!        'secretp', 'p\xe4ssw\xf6rd', '\xff\xfe\x80', 'with space ', 'x'*100,
//!        'changeme', 'changemeTOO']
//! salts = ['ab', 'Zz', './', '9.', 'Dx', '$1', '*0', 'a!', '\x80\x81', 'a', '']
//! r = crypt.crypt(pw, s)          # and md5.new(pw).hexdigest() per password
//! ```
//! written as hex.

use mailman_gate::crypt::{crypt, des_crypt_matches};
use md5::{Digest, Md5};

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn vectors() -> Vec<Vec<String>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/legacy_password_vectors.txt"
    );
    std::fs::read_to_string(path)
        .expect("vectors")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

#[test]
fn crypt_agrees_with_python() {
    let mut n = 0;
    for v in vectors().iter().filter(|v| v[0] == "crypt") {
        let (pw, salt) = (unhex(&v[1]), unhex(&v[2]));
        let want = (v[3] != "NONE").then(|| unhex(&v[3]));
        assert_eq!(crypt(&pw, &salt), want, "crypt({:?}, {:?})", v[1], v[2]);
        n += 1;
    }
    assert_eq!(n, 13 * 11);
}

#[test]
fn md5_agrees_with_python() {
    let mut n = 0;
    for v in vectors().iter().filter(|v| v[0] == "md5") {
        let got: String = Md5::digest(unhex(&v[1]))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, v[2]);
        n += 1;
    }
    assert_eq!(n, 13);
}

/// Mailman's `cryptmatchp`: only the first 8 characters count, and every
/// 13-character result Python gave is matched by its own password.
#[test]
fn des_matches_as_mailman_checks() {
    for v in vectors().iter().filter(|v| v[0] == "crypt") {
        let result = unhex(&v[3]);
        if result.len() == 13 {
            assert!(des_crypt_matches(&unhex(&v[1]), &result), "{v:?}");
        }
    }
    let secret = crypt(b"secretpassword", b"ab").expect("DES");
    assert!(des_crypt_matches(b"secretpa", &secret));
    assert!(des_crypt_matches(b"secretpaWRONG", &secret));
    assert!(!des_crypt_matches(b"secretp", &secret));
    assert!(!des_crypt_matches(b"Secretpassword", &secret));
    // A NUL byte makes Python raise TypeError, which Mailman treats as no match.
    assert!(!des_crypt_matches(b"secret\0pa", &secret));
    // A SHA1 hex digest or a raw MD5 digest is never taken for a DES string.
    assert!(!des_crypt_matches(
        b"x",
        b"0123456789abcdef0123456789abcdef01234567"
    ));
}
