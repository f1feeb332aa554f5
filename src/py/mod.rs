//! Python 2 text, as Mailman 2.1 handles it under CPython 2.7: `str`
//! (bytes) against `unicode`, the codecs mail charsets are decoded and
//! encoded with, and their `strict` and `replace` error handling.
//!
//! - [`str`]: `PyStr`, Latin-1 views of bytes, `splitlines`.
//! - [`codec`]: `codecs.lookup` and `unicode(bytes, charset, errors)` /
//!   `text.encode(charset, errors)` for every codec mail uses.
//! - [`escape`]: the backslash escapes of Python 2 string literals.
//! - [`json`]: JSON string literals as Python's `json.dumps` writes them.
//! - [`binascii`]: the transfer decodings (base64, quoted-printable).

pub mod binascii;
#[doc(hidden)]
pub mod cjk;
mod cjk_diff;
pub mod codec;
pub mod escape;
pub mod json;
mod names;
mod single_byte;
pub mod str;
mod utf;

pub use codec::{lookup, Codec, DecodeError, EncodeError, Errors, LookupError};
pub use json::json_str;
pub use str::{bytes_to_text, latin1, splitlines, PyStr};
