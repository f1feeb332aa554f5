//! Exim's exported globals and functions, resolved at run time with
//! `dlsym(RTLD_DEFAULT, ...)` so that nothing links against them (a test
//! binary has no Exim to resolve them against). Only what `local_scan.h`
//! documents is used, and only for reading, plus `log_write`.
//!
//! Layouts follow Exim 4.94 to 4.99 (`local_scan.h`): `header_line`,
//! `recipient_item`.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `header_line` from `local_scan.h`.
#[repr(C)]
pub struct HeaderLine {
    pub next: *mut HeaderLine,
    /// `'*'`: deleted.
    pub htype: c_int,
    pub slen: c_int,
    /// The whole header line(s), ending in `\n`; NULL for Exim's
    /// placeholder.
    pub text: *mut u8,
}

/// The leading fields of `recipient_item` from `local_scan.h` (4.94 to
/// 4.99: address, pno, errors_to, orcpt, dsn_flags, and with
/// EXPERIMENTAL_BRIGHTMAIL a bmi_optin). Only `address` is read, through
/// the element size below, which is right for Debian's builds.
#[repr(C)]
pub struct RecipientItem {
    pub address: *mut u8,
    pub pno: c_int,
    pub errors_to: *mut u8,
    pub orcpt: *mut u8,
    pub dsn_flags: c_int,
}

/// `LOG_MAIN` from `local_scan.h`.
pub const LOG_MAIN: c_int = 1;

type LogWrite = unsafe extern "C" fn(c_uint, c_int, *const c_char, ...);
type ExpandString = unsafe extern "C" fn(*const u8) -> *mut u8;

/// The names looked up, in the order of [`RESOLVED`].
const NAMES: [&CStr; 7] = [
    c"header_list",
    c"log_write",
    c"sender_address",
    c"message_id",
    c"recipients_count",
    c"recipients_list",
    c"expand_string",
];

/// Each name's address once looked up (0: not yet; 1: absent). A
/// `dlsym(RTLD_DEFAULT)` reads the symbol tables of every object in the
/// process; looked up once here (by the daemon with warm start, see
/// [`resolve_all`]), a forked process reads the answers without touching
/// those tables.
static RESOLVED: [AtomicUsize; NAMES.len()] = [const { AtomicUsize::new(0) }; NAMES.len()];

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn sym(name: &CStr) -> *mut c_void {
    let Some(i) = NAMES.iter().position(|n| *n == name) else {
        // SAFETY: dlsym with a valid NUL-terminated name.
        return unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    };
    match RESOLVED[i].load(Ordering::Relaxed) {
        0 => {}
        1 => return std::ptr::null_mut(),
        a => return a as *mut c_void,
    }
    // SAFETY: dlsym with a valid NUL-terminated name.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    // Symbols of the process do not move: a race stores the same value.
    RESOLVED[i].store(if p.is_null() { 1 } else { p as usize }, Ordering::Relaxed);
    p
}

/// Look up every name now (the daemon before it forks).
pub fn resolve_all() {
    for n in NAMES {
        sym(n);
    }
}

/// Whether this process is Exim (its local_scan API is exported).
pub fn in_exim() -> bool {
    !sym(c"header_list").is_null() && !sym(c"log_write").is_null()
}

/// Write one line to Exim's main log (in `-bh` mode: to stderr as
/// `LOG:`). Outside Exim this does nothing.
pub fn log(line: &str) {
    let f = sym(c"log_write");
    if f.is_null() {
        return;
    }
    let text = crate::ffi::c_text(&format!("mailman-gate: {line}"));
    // SAFETY: log_write(selector, flags, format, ...) as exported by Exim;
    // "%s" with one C string.
    unsafe {
        let f: LogWrite = std::mem::transmute::<*mut c_void, LogWrite>(f);
        f(0, LOG_MAIN, c"%s".as_ptr(), text.as_ptr());
    }
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
unsafe fn read_ptr<T>(name: &CStr) -> Option<*mut T> {
    let p = sym(name) as *const *mut T;
    if p.is_null() {
        None
    } else {
        Some(*p)
    }
}

/// `p`'s text, copied: as it is when UTF-8 (ASCII told inline), else
/// lossily.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
unsafe fn c_string(p: *const u8) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let b = CStr::from_ptr(p as *const c_char).to_bytes();
    Some(if b.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        std::str::from_utf8_unchecked(b).to_owned()
    } else {
        String::from_utf8_lossy(b).into_owned()
    })
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
unsafe fn c_bytes(p: *const u8) -> Option<Vec<u8>> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p as *const c_char).to_bytes().to_vec())
    }
}

/// Each header line of `header_list` in order (the whole header block as
/// received, Exim's own `Received:` included; the list has no size cap),
/// deleted ones left out. False outside Exim.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn each_header(mut f: impl FnMut(&[u8])) -> bool {
    // SAFETY: header_list is Exim's list of header_line; it is only read,
    // from the thread Exim calls us on.
    unsafe {
        let Some(mut h) = read_ptr::<HeaderLine>(c"header_list") else {
            return false;
        };
        while !h.is_null() {
            let hl = &*h;
            if !hl.text.is_null() && hl.htype != b'*' as c_int && hl.slen > 0 {
                f(std::slice::from_raw_parts(hl.text, hl.slen as usize));
            }
            h = hl.next;
        }
        true
    }
}

/// The length of the header block ([`each_header`]). None outside Exim.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn header_block_len() -> Option<usize> {
    let mut n = 0usize;
    each_header(|l| n = n.saturating_add(l.len())).then_some(n)
}

/// Append the header block to `out` (reserve [`header_block_len`] first to
/// copy it once). None outside Exim.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn append_header_block(out: &mut Vec<u8>) -> Option<()> {
    each_header(|l| out.extend_from_slice(l)).then_some(())
}

/// The envelope sender (`""` for the null sender). None outside Exim.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn sender_address() -> Option<String> {
    // SAFETY: sender_address is Exim's NUL-terminated string or NULL.
    unsafe {
        let p = read_ptr::<u8>(c"sender_address")?;
        Some(c_string(p).unwrap_or_default())
    }
}

/// The current message id. None outside Exim or before there is one.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn message_id() -> Option<String> {
    // SAFETY: message_id is Exim's NUL-terminated string or NULL.
    unsafe {
        let p = read_ptr::<u8>(c"message_id")?;
        c_string(p).filter(|id| !id.is_empty())
    }
}

/// Accepted envelope recipients so far.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn recipients_count() -> Option<usize> {
    let p = sym(c"recipients_count") as *const c_int;
    if p.is_null() {
        return None;
    }
    // SAFETY: recipients_count is Exim's int.
    Some(unsafe { *p }.max(0) as usize)
}

/// The envelope recipients (`recipients_list[0..recipients_count]`).
pub fn recipients() -> Option<Vec<String>> {
    let n = recipients_count()?;
    // SAFETY: recipients_list holds recipients_count items of Exim's
    // recipient_item.
    unsafe {
        let list = read_ptr::<RecipientItem>(c"recipients_list")?;
        if list.is_null() {
            return Some(Vec::new());
        }
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let item = &*list.add(i);
            if let Some(b) = c_bytes(item.address) {
                out.push(String::from_utf8_lossy(&b).into_owned());
            }
        }
        Some(out)
    }
}

/// `expand_string(text)`: None outside Exim or when the expansion fails.
pub fn expand(text: &CStr) -> Option<String> {
    let f = sym(c"expand_string");
    if f.is_null() {
        return None;
    }
    // SAFETY: expand_string(const uschar *) as exported by Exim; the result
    // lives in Exim's pool and is copied at once.
    unsafe {
        let f: ExpandString = std::mem::transmute::<*mut c_void, ExpandString>(f);
        let r = f(text.as_ptr() as *const u8);
        c_bytes(r).map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_exim_everything_is_absent() {
        assert!(!in_exim());
        assert!(header_block_len().is_none());
        assert!(append_header_block(&mut Vec::new()).is_none());
        assert!(sender_address().is_none());
        assert!(recipients().is_none());
        assert!(expand(c"$spool_directory").is_none());
        log("not logged anywhere");
    }
}
