//! Exim's side: `${dlfunc}` entry points for the RCPT and DATA ACLs, and
//! `local_scan()` for Debian's `local_scan_path`.
//!
//! Nothing here decides anything about Mailman: it marshals Exim's data,
//! calls [`crate::gate::Gate`] through [`crate::answer`], and formats
//! the answer.
//!
//! # dlfunc ABI
//! `int fn(uschar **yield, int argc, uschar *argv[])`. Every function
//! returns `OK` (0) with a short token in `*yield`; never `FAIL_FORCED`
//! (an ACL treats it as true), never a failure code for a decision. The
//! token lives in library memory (so Exim sees it as untainted) until the
//! next call on the thread. Never call with 8 arguments (Exim 4.96 crashes
//! at exactly 8); these take at most 6.
//!
//! ## `mailman_gate_rcpt{CONFIG}{LOCAL_PART}{DOMAIN}{MAILMAN_DOMAIN}{RCOUNT}{PREVIOUS}`
//! - `CONFIG`: configuration file (empty: `/etc/mailman-gate.conf`).
//! - `MAILMAN_DOMAIN`: `yes` when `DOMAIN` is one of Mailman's domains
//!   (an address there that is no list is refused under
//!   `on_unknown_list = reject`).
//! - `RCOUNT`: `$recipients_count`, recipients accepted so far.
//! - `PREVIOUS`: the token this function gave for an earlier accepted
//!   list recipient of the same message (the recipe keeps it in
//!   `$acl_m_mailman_gate`), or empty.
//!
//! Tokens: `list <name> <kind> <domain>` (a Mailman address: keep the token
//! for DATA), `notlist`, `reject <text>` (no such list), `defer <text>`
//! (separate submissions), `error <text>` (could not tell: treat as
//! `notlist`, the text is logged).
//!
//! ## `mailman_gate_data{CONFIG}{LIST_TOKEN}{SPOOL_DIRECTORY}`
//! - `LIST_TOKEN`: the `list ...` token from RCPT.
//! - `SPOOL_DIRECTORY`: `$spool_directory`; the body is read from the
//!   message's `-D` spool file there (`$message_body` is cut at 500
//!   bytes). Empty: asked from Exim.
//!
//! The envelope sender, the recipient count and the complete header block
//! (walking `header_list`, which has no 64 KiB cap) come from Exim itself.
//!
//! Tokens: `accept`, `hold` (accept: Mailman holds it), `discard`,
//! `reject <text>`, `defer <text>`, `notlist`, `error <text>` (could not
//! decide: accept). `<text>` may hold newlines: Exim's `message =` turns
//! them into a multi-line reply.
//!
//! ## `mailman_gate_version{}`
//! The library version, to check which file Exim loaded.
//!
//! ## `mailman_gate_daemon{CONFIG}`
//! Warm start (see [`warm`]): for `smtp_accept_max_per_host`, which Exim
//! expands in the daemon before each fork. Returns the empty string.
//!
//! ## `mailman_gate_selftest{}`
//! `ok`, after a deliberate panic inside the panic boundary was caught in
//! this process: the unwinder works in the host (the library links its
//! own, statically).
//!
//! # Revalidation
//! An RCPT call with an empty `PREVIOUS` begins a round
//! ([`crate::store::begin_round`]) and the DATA call ends it: between the
//! two, each list is revalidated with one `stat`, not one per call.

pub mod local_scan;
pub mod spool;
pub mod sys;
pub mod warm;

use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::{c_int, CStr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::answer::{self, Answer, RcptAnswer, RcptContext};
use crate::ffi::{boundary, gates, take_panic_message};
use crate::gate::Gate;

/// `OK` from `local_scan.h`.
pub const EXIM_OK: c_int = 0;

thread_local! {
    /// The last token returned, NUL-terminated, valid until the next call.
    /// The body of each call writes its token straight into it, and its
    /// capacity is set aside once (by the daemon, with warm start), so that
    /// a call allocates nothing for its token.
    static YIELD: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Room set aside for tokens: RCPT's are short, DATA's hold a few lines of
/// reply text.
const YIELD_CAPACITY: usize = 1024;

/// Make the token in `buf` safe for C (a NUL inside it becomes `?`, as
/// [`crate::ffi::c_text`] does), NUL-terminate it and point `*y` at it.
///
/// # Safety
/// `y` is NULL or valid for one pointer write.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
unsafe fn set_yield(y: *mut *mut u8, buf: &mut String) {
    // A byte loop rather than `contains`: no searcher code to fault in.
    if buf.bytes().any(|b| b == 0) {
        *buf = buf.replace('\0', "?");
    }
    buf.push('\0');
    if !y.is_null() {
        *y = buf.as_mut_ptr();
    }
}

/// `b` as a string if it is UTF-8. ASCII (what Exim passes but for
/// unusual local parts) is told inline, without the general validator.
#[inline]
fn as_str(b: &[u8]) -> Option<&str> {
    if b.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(b) })
    } else {
        std::str::from_utf8(b).ok()
    }
}

/// Most arguments an entry point looks at (they take at most 6).
const MAX_ARGS: usize = 8;

/// The arguments as strings, borrowed from Exim's memory when they are
/// UTF-8 (no allocation), else copied lossily into `owned`. At most
/// [`MAX_ARGS`].
///
/// # Safety
/// `argv` holds `argc` NUL-terminated strings (or is NULL with argc 0),
/// which outlive the returned slices.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
unsafe fn args<'a>(
    argc: c_int,
    argv: *const *const u8,
    owned: &'a mut Vec<String>,
) -> ([&'a str; MAX_ARGS], usize) {
    let mut out = [""; MAX_ARGS];
    if argv.is_null() || argc <= 0 {
        return (out, 0);
    }
    let n = (argc as usize).min(MAX_ARGS);
    let mut raw: [&'a [u8]; MAX_ARGS] = [b""; MAX_ARGS];
    for (i, r) in raw.iter_mut().enumerate().take(n) {
        let p = *argv.add(i);
        if !p.is_null() {
            *r = CStr::from_ptr(p as *const std::ffi::c_char).to_bytes();
        }
    }
    if raw[..n].iter().all(|r| as_str(r).is_some()) {
        for i in 0..n {
            out[i] = as_str(raw[i]).unwrap_or("");
        }
    } else {
        owned.extend(
            raw[..n]
                .iter()
                .map(|r| String::from_utf8_lossy(r).into_owned()),
        );
        for (o, s) in out.iter_mut().zip(owned.iter()) {
            *o = s.as_str();
        }
    }
    (out, n)
}

/// Run one dlfunc body inside the panic boundary and hand its token to
/// Exim. Always returns OK: an internal failure is the token `error ...`,
/// which the recipes treat as accept, and a log line.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
unsafe fn dlfunc(
    y: *mut *mut u8,
    argc: c_int,
    argv: *const *const u8,
    name: &str,
    body: fn(&[&str], &mut String),
) -> c_int {
    // A closure that only calls: `with` then inlines into this function
    // (its code stays with the rest of the call's, see the README).
    YIELD.with(|cell| dlfunc_into(cell, y, argc, argv, name, body));
    EXIM_OK
}

/// [`dlfunc`] with this thread's token buffer.
///
/// # Safety
/// As [`dlfunc`].
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
unsafe fn dlfunc_into(
    cell: &RefCell<String>,
    y: *mut *mut u8,
    argc: c_int,
    argv: *const *const u8,
    name: &str,
    body: fn(&[&str], &mut String),
) {
    let mut buf = cell.borrow_mut();
    buf.clear();
    buf.reserve(YIELD_CAPACITY);
    let done = boundary(|| {
        let mut owned = Vec::new();
        // SAFETY: as this function's contract.
        let (a, n) = unsafe { args(argc, argv, &mut owned) };
        body(&a[..n], &mut buf);
        true
    });
    if !done {
        let why = take_panic_message().unwrap_or_else(|| "unknown".into());
        sys::log(&format!("{name}: internal error (accepting): {why}"));
        buf.clear();
        buf.push_str("error internal error");
    }
    set_yield(y, &mut buf);
}

/// A gate for the entry points: the first one opened in the process is
/// read from a `OnceLock`, with no lock taken and no reference count
/// changed, so that a connection forked from a warm daemon does not write
/// (and copy) the pages that hold them.
enum GateRef {
    First(&'static Gate),
    Other(Arc<Gate>),
}

impl std::ops::Deref for GateRef {
    type Target = Gate;
    fn deref(&self) -> &Gate {
        match self {
            GateRef::First(g) => g,
            GateRef::Other(g) => g,
        }
    }
}

/// [`gates`], with the first gate kept apart (see [`GateRef`]).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn gate(path: Option<&Path>) -> Result<GateRef, crate::ffi::Error> {
    static FIRST: OnceLock<(Option<PathBuf>, Arc<Gate>)> = OnceLock::new();
    if let Some((p, g)) = FIRST.get() {
        // As bytes: `Path`'s own equality walks components.
        if p.as_deref().map(Path::as_os_str) == path.map(Path::as_os_str) {
            return Ok(GateRef::First(g));
        }
    }
    let g = gates(path)?;
    let _ = FIRST.set((path.map(Path::to_path_buf), Arc::clone(&g)));
    Ok(GateRef::Other(g))
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn arg<'a>(a: &[&'a str], i: usize) -> &'a str {
    a.get(i).copied().unwrap_or("")
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn config_path<'a>(a: &[&'a str]) -> Option<&'a Path> {
    let p = arg(a, 0);
    (!p.is_empty()).then(|| Path::new(p))
}

/// `s` without ASCII white space around it (Exim's expansions are ASCII).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn trimmed(s: &str) -> &str {
    s.trim_ascii()
}

#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn yes(s: &str) -> bool {
    let s = trimmed(s);
    ["yes", "true", "1", "on"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
}

/// The RCPT stage; see the module documentation. The token goes to `out`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn rcpt(a: &[&str], out: &mut String) {
    let gate = match gate(config_path(a)) {
        Ok(g) => g,
        Err(e) => {
            sys::log(&format!("configuration: {e} (accepting)"));
            out.push_str(&format!("error {e}"));
            return;
        }
    };
    let (local_part, domain) = (arg(a, 1), arg(a, 2));
    let cx = RcptContext {
        mailman_domain: yes(arg(a, 3)),
        accepted_before: trimmed(arg(a, 4)).parse().unwrap_or(0),
        list_before: answer::parse_list_token(arg(a, 5)).is_some(),
    };
    if !cx.list_before {
        crate::store::begin_round();
    }
    gate.rcpt_answer_with(local_part, domain, cx, |answer| {
        if let RcptAnswer::Refuse(Answer::Error(t)) = &answer {
            sys::log(&format!("{t} (accepting)"));
        }
        answer.write_token(out);
    });
}

/// Ends this thread's revalidation round when dropped.
struct EndRound;

impl Drop for EndRound {
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
    fn drop(&mut self) {
        crate::store::end_round();
    }
}

/// The DATA stage; see the module documentation. The token goes to `out`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn data(a: &[&str], out: &mut String) {
    // The call's blocks from one region (see `crate::arena`): a new
    // connection's process writes (and faults in) fewer pages.
    crate::arena::scope(|| match data_answer(a) {
        Some(answer) => answer.write_token(out),
        None => out.push_str("notlist"),
    })
}

/// The DATA stage's answer; None without a list token.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn data_answer(a: &[&str]) -> Option<Answer> {
    let _end = EndRound;
    let (list, kind) = answer::parse_list_token(arg(a, 1))?;
    let gate = match gate(config_path(a)) {
        Ok(g) => g,
        Err(e) => {
            sys::log(&format!("configuration: {e} (accepting)"));
            return Some(Answer::Error(e.to_string()));
        }
    };
    Some(match message_from_exim(arg(a, 2)) {
        Err(e) => {
            let a = Answer::Error(e);
            sys::log(&answer::log_line(list, kind, &a, None));
            a
        }
        Ok((sender, raw, rcount)) => {
            let (ans, verdict) = gate.data_answer(list, kind, Some(&sender), &raw, rcount);
            if let Some(line) = answer::data_log_line(list, kind, &ans, verdict.as_ref()) {
                sys::log(&line);
            }
            ans
        }
    })
}

/// Envelope sender, the raw message ([`raw_message`], the body from the
/// spool read into room reserved for it: headers and body each copied
/// once) and the recipient count.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn message_from_exim(spool_arg: &str) -> Result<(String, Vec<u8>, usize), String> {
    let sender = sys::sender_address().unwrap_or_default();
    let rcount = sys::recipients_count().unwrap_or(1);
    let raw = raw_message(|raw| {
        let id = sys::message_id().ok_or("no message id")?;
        let spool = if spool_arg.is_empty() {
            Cow::Owned(sys::expand(c"$spool_directory").ok_or("cannot expand $spool_directory")?)
        } else {
            Cow::Borrowed(spool_arg)
        };
        let unreadable =
            |e: std::io::Error| format!("cannot read the message body from the spool: {e}");
        let file = spool::open_body(Path::new(&*spool), &id).map_err(unreadable)?;
        spool::append_body(&file, &id, raw).map_err(unreadable)
    })?;
    Ok((sender, raw, rcount))
}

/// The message as the gate reads it: the complete header block (walking
/// `header_list`), a blank line, then the body `append_body` appends. One
/// buffer, sized for the headers before they are copied.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn raw_message(
    append_body: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
) -> Result<Vec<u8>, String> {
    let headers = sys::header_block_len().ok_or("not running inside Exim")?;
    let mut raw = Vec::new();
    raw.try_reserve_exact(headers + 1)
        .map_err(|e| format!("cannot hold the header block: {e}"))?;
    sys::append_header_block(&mut raw).ok_or("not running inside Exim")?;
    raw.push(b'\n');
    append_body(&mut raw)?;
    Ok(raw)
}

fn version(_: &[&str], out: &mut String) {
    out.push_str(env!("CARGO_PKG_VERSION"));
}

fn selftest(_: &[&str], out: &mut String) {
    out.push_str(&selftest_token());
}

fn selftest_token() -> String {
    let caught = boundary(|| -> bool {
        panic!("mailman-gate selftest: a deliberate panic");
    });
    let message = take_panic_message().unwrap_or_default();
    if !caught && message.contains("deliberate panic") {
        "ok".to_owned()
    } else {
        format!("error the panic boundary did not report the panic: {message:?}")
    }
}

/// An exported `${dlfunc}` entry point running `body` through [`dlfunc`].
macro_rules! dlfunc_entry {
    ($(#[doc = $doc:literal])* $name:ident, $label:literal, $body:path) => {
        $(#[doc = $doc])*
        ///
        /// # Safety
        /// Called by Exim's `${dlfunc}` with its documented arguments.
        #[no_mangle]
        #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
        pub unsafe extern "C" fn $name(
            y: *mut *mut u8,
            argc: c_int,
            argv: *const *const u8,
        ) -> c_int {
            dlfunc(y, argc, argv, $label, $body)
        }
    };
}

dlfunc_entry!(
    /// RCPT ACL entry point.
    mailman_gate_rcpt, "rcpt", rcpt
);
dlfunc_entry!(
    /// DATA ACL entry point.
    mailman_gate_data, "data", data
);
dlfunc_entry!(
    /// The library version.
    mailman_gate_version, "version", version
);
/// Warm start entry point, for `smtp_accept_max_per_host` (see [`warm`]).
/// Exim calls it before every fork: when nothing is due ([`warm::quiet`])
/// it returns at once and writes nothing but `*y`.
///
/// # Safety
/// Called by Exim's `${dlfunc}` with its documented arguments.
#[no_mangle]
pub unsafe extern "C" fn mailman_gate_daemon(
    y: *mut *mut u8,
    argc: c_int,
    argv: *const *const u8,
) -> c_int {
    // Borrowed from Exim's memory: nothing is allocated for a UTF-8 path.
    let mut owned = Vec::new();
    let (a, n) = args(argc, argv, &mut owned);
    if warm::quiet(config_path(&a[..n])) {
        if !y.is_null() {
            // Exim only reads a dlfunc's result.
            *y = std::ptr::addr_of!(EMPTY_TOKEN).cast_mut();
        }
        return EXIM_OK;
    }
    dlfunc(y, argc, argv, "daemon", warm::daemon)
}

/// The daemon call's token when it has nothing to do (an empty string).
static EMPTY_TOKEN: u8 = 0;

dlfunc_entry!(
    /// Checks the panic boundary in the host process.
    mailman_gate_selftest, "selftest", selftest
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    #[test]
    fn selftest_catches_its_panic() {
        let (rc, s) = unsafe { call(mailman_gate_selftest, &[]) };
        assert_eq!((rc, s.as_str()), (EXIM_OK, "ok"));
    }

    unsafe fn call(
        f: unsafe extern "C" fn(*mut *mut u8, c_int, *const *const u8) -> c_int,
        a: &[&str],
    ) -> (c_int, String) {
        let owned: Vec<CString> = a.iter().map(|s| CString::new(*s).unwrap()).collect();
        let mut ptrs: Vec<*const u8> = owned.iter().map(|c| c.as_ptr() as *const u8).collect();
        ptrs.push(std::ptr::null());
        let mut y: *mut u8 = std::ptr::null_mut();
        let rc = f(&mut y, a.len() as c_int, ptrs.as_ptr());
        assert!(!y.is_null());
        let s = CStr::from_ptr(y as *const std::ffi::c_char)
            .to_string_lossy()
            .into_owned();
        (rc, s)
    }

    #[test]
    fn version_token() {
        let (rc, s) = unsafe { call(mailman_gate_version, &[]) };
        assert_eq!((rc, s.as_str()), (EXIM_OK, env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn bad_config_fails_open() {
        let (rc, s) = unsafe {
            call(
                mailman_gate_rcpt,
                &[
                    "/nonexistent/mailman-gate.conf",
                    "test",
                    "example.com",
                    "yes",
                    "0",
                    "",
                ],
            )
        };
        assert_eq!(rc, EXIM_OK);
        assert!(s.starts_with("error "), "{s}");
    }

    #[test]
    fn data_without_a_list_token_is_notlist() {
        let (rc, s) = unsafe { call(mailman_gate_data, &["", "", ""]) };
        assert_eq!((rc, s.as_str()), (EXIM_OK, "notlist"));
    }

    #[test]
    fn data_outside_exim_is_an_error_token() {
        let dir = std::env::temp_dir().join(format!("mg-exim-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("c.conf");
        std::fs::write(&conf, format!("lists_dir = {}\n", dir.display())).unwrap();
        let (rc, s) = unsafe {
            call(
                mailman_gate_data,
                &[
                    conf.to_str().unwrap(),
                    "list test post example.com",
                    "/var/spool/exim4",
                ],
            )
        };
        assert_eq!(rc, EXIM_OK);
        assert!(s.starts_with("error "), "{s}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
