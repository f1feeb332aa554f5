//! The C API, for any MTA or program: `include/mailman_gate.h`.
//!
//! - `mg_gate`: an opened configuration (site settings and the list
//!   store, with its cache). Open it once and share it; it is thread-safe.
//! - `mg_route`: what an address is (list, kind, list domain).
//! - `mg_verdict`: what Mailman would do with a message, and the SMTP
//!   answer the site's settings give for it.
//!
//! Every function that can fail returns an `mg_result`; on failure
//! `mg_last_error()` gives a detailed message for this thread. Strings
//! returned are UTF-8, NUL-terminated and owned by the object they come
//! from (valid until it is freed). Every `*_free` accepts NULL. Nothing is
//! printed; a panic inside is caught and returned as `MG_RESULT_PANIC`.

#![allow(non_camel_case_types)]

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::path::Path;
use std::ptr;

use crate::address::Kind;
use crate::address::Route;
use crate::answer::verdict_answer;
use crate::decide::{Action, Verdict};
pub use crate::ffi::mg_result;
use crate::ffi::{boundary, c_text, opt_str, req_str, take_panic_message, CEnum, Error};
use crate::gate::Gate;
use crate::site::{AnswerPolicy, ListsLocation, Site};
use crate::store::Layout;

/// An opened configuration: site settings and the list store.
pub struct mg_gate {
    gate: Gate,
}

/// A Mailman address.
pub struct mg_route {
    list: CString,
    kind: CString,
    domain: CString,
}

/// What Mailman would do with a message.
pub struct mg_verdict {
    action: mg_action,
    step: Option<CString>,
    reason: Option<CString>,
    shunted: bool,
    undecided: Option<CString>,
    trace: Vec<CString>,
    caveats: Vec<CString>,
    smtp_code: c_int,
    smtp_text: CString,
    token: CString,
}

/// What happens to the post in Mailman.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mg_action {
    Accept = 0,
    Hold = 1,
    Reject = 2,
    Discard = 3,
}

impl CEnum for mg_action {
    const ALL: &'static [mg_action] = &[
        mg_action::Accept,
        mg_action::Hold,
        mg_action::Reject,
        mg_action::Discard,
    ];
    const UNKNOWN: &'static CStr = c"unknown";

    fn code(self) -> c_int {
        self as c_int
    }

    fn text(self) -> &'static CStr {
        match self {
            mg_action::Accept => c"accept",
            mg_action::Hold => c"hold",
            mg_action::Reject => c"reject",
            mg_action::Discard => c"discard",
        }
    }
}

impl From<Action> for mg_action {
    fn from(a: Action) -> mg_action {
        match a {
            Action::Accept => mg_action::Accept,
            Action::Hold => mg_action::Hold,
            Action::Reject => mg_action::Reject,
            Action::Discard => mg_action::Discard,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(s: &str) {
    LAST_ERROR.with(|e| *e.borrow_mut() = c_text(s));
}

/// Run a fallible body in the panic boundary; record the error text.
fn call(f: impl FnOnce() -> Result<(), Error>) -> mg_result {
    let r = boundary(|| match f() {
        Ok(()) => mg_result::Ok,
        Err(e) => {
            set_last_error(&e.detail);
            e.code
        }
    });
    if r == mg_result::Panic {
        let why = take_panic_message().unwrap_or_else(|| "unknown".into());
        set_last_error(&format!("internal error: {why}"));
    }
    r
}

/// # Safety
/// `out` is NULL or valid for one pointer write.
unsafe fn put<T>(out: *mut *mut T, v: Option<T>) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::new(mg_result::NullArgument, "out is NULL"));
    }
    *out = match v {
        Some(v) => Box::into_raw(Box::new(v)),
        None => ptr::null_mut(),
    };
    Ok(())
}

fn gate_ref<'a>(g: *const mg_gate) -> Result<&'a Gate, Error> {
    if g.is_null() {
        return Err(Error::new(mg_result::NullArgument, "gate is NULL"));
    }
    // SAFETY: a non-NULL gate came from mg_gate_open*.
    Ok(unsafe { &(*g).gate })
}

/// The fixed text for a result code (static storage). Any int is
/// accepted: a value that is no `mg_result` gives "unknown result code".
#[no_mangle]
pub extern "C" fn mg_result_text(code: c_int) -> *const c_char {
    mg_result::text_of(code)
}

/// The detailed message of the last failure on this thread (empty if
/// none); valid until the next failing call on this thread.
#[no_mangle]
pub extern "C" fn mg_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The library version (static storage).
#[no_mangle]
pub extern "C" fn mg_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// Open the configuration file at `config_path` (NULL: the default
/// `/etc/mailman-gate.conf`, whose absence means Debian's defaults).
///
/// # Safety
/// `config_path` is NULL or a C string; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn mg_gate_open(
    config_path: *const c_char,
    out: *mut *mut mg_gate,
) -> mg_result {
    call(|| {
        let path = opt_str(config_path)?;
        let gate = Gate::open(path.map(Path::new))?;
        put(out, Some(mg_gate { gate }))
    })
}

/// Open with Debian's default settings over the lists in `lists_dir`;
/// `layout` is `"standard"` or `"cpanel"` (NULL: standard).
///
/// # Safety
/// `lists_dir` and `layout` are C strings (layout may be NULL); `out` is
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn mg_gate_open_lists(
    lists_dir: *const c_char,
    layout: *const c_char,
    out: *mut *mut mg_gate,
) -> mg_result {
    call(|| {
        let dir = req_str(lists_dir, "lists_dir")?;
        let layout = match opt_str(layout)? {
            None => Layout::Standard,
            Some(s) => Layout::parse(s).ok_or_else(|| {
                Error::new(
                    mg_result::InvalidArgument,
                    format!("layout must be standard or cpanel, not {s:?}"),
                )
            })?,
        };
        let site = Site {
            lists: ListsLocation {
                lists_dir: dir.into(),
                layout,
                ..ListsLocation::default()
            },
            ..Site::default()
        };
        put(
            out,
            Some(mg_gate {
                gate: Gate::new(site),
            }),
        )
    })
}

/// Free a gate (NULL is fine).
///
/// # Safety
/// `gate` is NULL or from `mg_gate_open*`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mg_gate_free(gate: *mut mg_gate) {
    if !gate.is_null() {
        boundary(|| drop(Box::from_raw(gate)));
    }
}

/// Route `local_part@domain`. On success `*out` is the route, or NULL when
/// the address is not a Mailman address.
///
/// # Safety
/// `gate` from `mg_gate_open*`; strings are C strings; `out` is valid for
/// a write.
#[no_mangle]
pub unsafe extern "C" fn mg_gate_route(
    gate: *const mg_gate,
    local_part: *const c_char,
    domain: *const c_char,
    out: *mut *mut mg_route,
) -> mg_result {
    call(|| {
        let g = gate_ref(gate)?;
        let lp = req_str(local_part, "local_part")?;
        let d = req_str(domain, "domain")?;
        let r = g.route(lp, d)?;
        put(
            out,
            r.map(|Route { list, kind, domain }| mg_route {
                list: c_text(&list),
                kind: c_text(kind.as_str()),
                domain: c_text(&domain),
            }),
        )
    })
}

/// The list's internal name.
///
/// # Safety
/// `route` from `mg_gate_route`.
#[no_mangle]
pub unsafe extern "C" fn mg_route_list(route: *const mg_route) -> *const c_char {
    route.as_ref().map_or(ptr::null(), |r| r.list.as_ptr())
}

/// The address kind: post, admin, bounces, confirm, join, leave, owner,
/// request, subscribe, unsubscribe.
///
/// # Safety
/// `route` from `mg_gate_route`.
#[no_mangle]
pub unsafe extern "C" fn mg_route_kind(route: *const mg_route) -> *const c_char {
    route.as_ref().map_or(ptr::null(), |r| r.kind.as_ptr())
}

/// The list's mail domain (its `host_name`).
///
/// # Safety
/// `route` from `mg_gate_route`.
#[no_mangle]
pub unsafe extern "C" fn mg_route_domain(route: *const mg_route) -> *const c_char {
    route.as_ref().map_or(ptr::null(), |r| r.domain.as_ptr())
}

/// Free a route (NULL is fine).
///
/// # Safety
/// `route` is NULL or from `mg_gate_route`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mg_route_free(route: *mut mg_route) {
    if !route.is_null() {
        boundary(|| drop(Box::from_raw(route)));
    }
}

fn to_verdict(answers: &AnswerPolicy, v: Verdict) -> mg_verdict {
    let a = verdict_answer(answers, &v);
    mg_verdict {
        action: v.action.into(),
        step: v.step.map(|s| c_text(s.as_str())),
        reason: v.reason.as_deref().map(c_text),
        shunted: v.shunted,
        undecided: v.undecided.as_deref().map(c_text),
        trace: v.trace.iter().map(|s| c_text(s)).collect(),
        caveats: v.caveats.iter().map(|s| c_text(s)).collect(),
        smtp_code: a.code() as c_int,
        smtp_text: c_text(a.text()),
        token: c_text(&a.token()),
    }
}

/// Decide what Mailman would do with the message `data[0..len]`
/// (headers, blank line, body) sent to `list` at an address of `kind`
/// (NULL: "post") by `envelope_sender` ("" for the null sender; NULL: take
/// a leading `From ` line of the message, if any).
///
/// # Safety
/// `gate` from `mg_gate_open*`; strings are C strings; `data` is valid
/// for `len` bytes; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn mg_gate_check(
    gate: *const mg_gate,
    list: *const c_char,
    kind: *const c_char,
    envelope_sender: *const c_char,
    data: *const u8,
    len: usize,
    out: *mut *mut mg_verdict,
) -> mg_result {
    call(|| {
        let g = gate_ref(gate)?;
        let list = req_str(list, "list")?;
        let kind = match opt_str(kind)? {
            None => Kind::Post,
            Some(k) => Kind::parse(k).ok_or_else(|| {
                Error::new(mg_result::InvalidArgument, format!("unknown kind {k:?}"))
            })?,
        };
        let sender = opt_str(envelope_sender)?;
        let raw: &[u8] = if len == 0 {
            &[]
        } else if data.is_null() {
            return Err(Error::new(mg_result::NullArgument, "data is NULL"));
        } else {
            std::slice::from_raw_parts(data, len)
        };
        let v = g.check(list, kind, sender, raw)?;
        put(out, Some(to_verdict(&g.site.answers, v)))
    })
}

/// What Mailman would do.
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_action(v: *const mg_verdict) -> mg_action {
    v.as_ref().map_or(mg_action::Accept, |v| v.action)
}

/// The action's name: accept, hold, reject or discard (static storage).
/// Any int is accepted: a value that is no `mg_action` gives "unknown".
#[no_mangle]
pub extern "C" fn mg_action_name(action: c_int) -> *const c_char {
    mg_action::text_of(action)
}

/// A text of the verdict at `v` (NULL when `v` is NULL or the text absent).
///
/// # Safety
/// `v` is NULL or from `mg_gate_check`.
unsafe fn verdict_text(
    v: *const mg_verdict,
    text: impl FnOnce(&mg_verdict) -> Option<&CString>,
) -> *const c_char {
    v.as_ref()
        .and_then(text)
        .map_or(ptr::null(), |s| s.as_ptr())
}

/// The Mailman handler that decided (e.g. "Moderate"), or NULL when the
/// post is accepted.
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_step(v: *const mg_verdict) -> *const c_char {
    verdict_text(v, |v| v.step.as_ref())
}

/// The text the poster receives, or NULL: for a reject, the notice Mailman
/// mails (after its second interpolation of `%(sender)s`/`%(subject)s`)
/// with each paragraph on one line and paragraphs apart by a blank line,
/// the words of the 550; for a hold, the reason Mailman records.
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_reason(v: *const mg_verdict) -> *const c_char {
    verdict_text(v, |v| v.reason.as_ref())
}

/// 1 when Mailman would fail on the message and shunt it (reported as a
/// hold), else 0.
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_shunted(v: *const mg_verdict) -> c_int {
    v.as_ref().is_some_and(|v| v.shunted) as c_int
}

/// Why the engine cannot tell what Mailman would do, or NULL when it can.
/// An undecided verdict's action is accept (answer 250): the post goes on
/// to Mailman, which decides as it would without the gate.
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_undecided(v: *const mg_verdict) -> *const c_char {
    verdict_text(v, |v| v.undecided.as_ref())
}

/// How many trace lines (every rule consulted, in order).
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_trace_len(v: *const mg_verdict) -> usize {
    v.as_ref().map_or(0, |v| v.trace.len())
}

/// Trace line `i`, or NULL past the end.
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_trace(v: *const mg_verdict, i: usize) -> *const c_char {
    verdict_text(v, |v| v.trace.get(i))
}

/// How many caveats (what Mailman might do differently, and why).
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_caveats_len(v: *const mg_verdict) -> usize {
    v.as_ref().map_or(0, |v| v.caveats.len())
}

/// Caveat `i`, or NULL past the end.
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_caveat(v: *const mg_verdict, i: usize) -> *const c_char {
    verdict_text(v, |v| v.caveats.get(i))
}

/// The SMTP code the site's settings give: 250 (accept, hold, discard),
/// 451 (defer) or 550 (reject).
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_smtp_code(v: *const mg_verdict) -> c_int {
    v.as_ref().map_or(250, |v| v.smtp_code)
}

/// The SMTP reply text for a 451/550 (ASCII, lines of at most 76
/// characters joined by `\n`; empty for 250).
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_smtp_text(v: *const mg_verdict) -> *const c_char {
    v.as_ref().map_or(c"".as_ptr(), |v| v.smtp_text.as_ptr())
}

/// The answer as a token: `accept`, `hold`, `discard`, `reject <text>`,
/// `defer <text>` (the same tokens the Exim functions return).
///
/// # Safety
/// `v` from `mg_gate_check`.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_token(v: *const mg_verdict) -> *const c_char {
    v.as_ref().map_or(c"accept".as_ptr(), |v| v.token.as_ptr())
}

/// Free a verdict (NULL is fine).
///
/// # Safety
/// `v` is NULL or from `mg_gate_check`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mg_verdict_free(v: *mut mg_verdict) {
    if !v.is_null() {
        boundary(|| drop(Box::from_raw(v)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn s(p: *const c_char) -> String {
        assert!(!p.is_null());
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn errors_are_codes_with_text() {
        let mut g: *mut mg_gate = ptr::null_mut();
        let rc = unsafe { mg_gate_open(c"/nonexistent/x.conf".as_ptr(), &mut g) };
        assert_eq!(rc, mg_result::Config);
        assert!(g.is_null());
        assert!(s(mg_last_error()).contains("/nonexistent/x.conf"));
        assert_eq!(
            s(mg_result_text(rc as c_int)),
            "configuration file missing or invalid"
        );
        let rc = unsafe { mg_gate_open_lists(ptr::null(), ptr::null(), &mut g) };
        assert_eq!(rc, mg_result::NullArgument);
        let rc = unsafe { mg_gate_open_lists(c"/tmp".as_ptr(), c"weird".as_ptr(), &mut g) };
        assert_eq!(rc, mg_result::InvalidArgument);
        let rc =
            unsafe { mg_gate_route(ptr::null(), c"a".as_ptr(), c"b".as_ptr(), ptr::null_mut()) };
        assert_eq!(rc, mg_result::NullArgument);
        assert_eq!(s(mg_version()), env!("CARGO_PKG_VERSION"));
        assert_eq!(s(mg_action_name(mg_action::Discard as c_int)), "discard");
    }

    #[test]
    fn codes_out_of_range_have_documented_answers() {
        for code in 0..=9 {
            let r = mg_result::from_code(code).unwrap();
            assert_eq!(r as c_int, code);
            assert_eq!(s(mg_result_text(code)), r.text().to_str().unwrap());
        }
        for code in [10, 42, -1, c_int::MIN, c_int::MAX] {
            assert!(mg_result::from_code(code).is_none());
            assert_eq!(s(mg_result_text(code)), "unknown result code");
        }
        for (code, name) in [(0, "accept"), (1, "hold"), (2, "reject"), (3, "discard")] {
            assert_eq!(s(mg_action_name(code)), name);
        }
        for code in [4, 100, -1, c_int::MIN, c_int::MAX] {
            assert_eq!(s(mg_action_name(code)), "unknown");
        }
    }

    #[test]
    fn null_objects_are_harmless() {
        unsafe {
            mg_gate_free(ptr::null_mut());
            mg_route_free(ptr::null_mut());
            mg_verdict_free(ptr::null_mut());
            assert!(mg_route_list(ptr::null()).is_null());
            assert_eq!(mg_verdict_trace_len(ptr::null()), 0);
            assert_eq!(mg_verdict_smtp_code(ptr::null()), 250);
        }
    }

    #[test]
    fn verdict_conversion() {
        let site = AnswerPolicy::default();
        let v = Verdict {
            action: Action::Reject,
            step: Some(crate::decide::Step::Moderate),
            notice: None,
            reason: Some("Go away".into()),
            shunted: false,
            undecided: None,
            trace: vec!["Moderate: x".into()],
            caveats: vec![],
        };
        let b = Box::into_raw(Box::new(to_verdict(&site, v)));
        unsafe {
            assert_eq!(mg_verdict_action(b), mg_action::Reject);
            assert_eq!(s(mg_verdict_step(b)), "Moderate");
            assert_eq!(s(mg_verdict_reason(b)), "Go away");
            assert_eq!(mg_verdict_smtp_code(b), 550);
            assert_eq!(s(mg_verdict_smtp_text(b)), "Go away");
            assert_eq!(s(mg_verdict_token(b)), "reject Go away");
            assert_eq!(s(mg_verdict_trace(b, 0)), "Moderate: x");
            assert!(mg_verdict_trace(b, 1).is_null());
            mg_verdict_free(b);
        }
    }
}
