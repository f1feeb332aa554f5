//! `local_scan()` for Debian's `local_scan_path` (no Exim rebuild): the
//! same verdict as the DATA ACL call, for a message with one list
//! recipient, decided after all ACLs have run.
//!
//! The configuration file is `$acl_m_mailman_gate_config` when an ACL set
//! it (e.g. `warn set acl_m_mailman_gate_config = /etc/mailman-gate.conf`
//! in the RCPT ACL), otherwise `/etc/mailman-gate.conf`.
//!
//! Answers: accept, hold and errors accept (0); reject is
//! `LOCAL_SCAN_REJECT` (550) with Mailman's text (multi-line); defer is
//! `LOCAL_SCAN_TEMPREJECT` (451); discard removes every recipient, so Exim
//! accepts the message and delivers it nowhere.

use std::cell::RefCell;
use std::ffi::{c_int, CString};
use std::path::PathBuf;

use super::{spool, sys};
use crate::answer::{self, Answer};
use crate::ffi::{boundary, take_panic_message};

/// `LOCAL_SCAN_ABI_VERSION_MAJOR` of Exim 4.96 to 4.99.
pub const ABI_MAJOR: c_int = 6;
/// `LOCAL_SCAN_ABI_VERSION_MINOR` required (0: the oldest 6.x).
pub const ABI_MINOR: c_int = 0;

pub const LOCAL_SCAN_ACCEPT: c_int = 0;
pub const LOCAL_SCAN_REJECT: c_int = 3;
pub const LOCAL_SCAN_TEMPREJECT: c_int = 5;

thread_local! {
    static RETURN_TEXT: RefCell<CString> = RefCell::new(CString::default());
}

/// What local_scan does, as data (for tests and the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub code: c_int,
    pub text: Option<String>,
    /// Remove every recipient (discard).
    pub drop_all: bool,
}

/// Map an answer to local_scan's return.
pub fn outcome(a: &Answer) -> Outcome {
    match a {
        Answer::Reject(t) => Outcome {
            code: LOCAL_SCAN_REJECT,
            text: Some(t.clone()),
            drop_all: false,
        },
        Answer::Defer(t) => Outcome {
            code: LOCAL_SCAN_TEMPREJECT,
            text: Some(t.clone()),
            drop_all: false,
        },
        Answer::Discard => Outcome {
            code: LOCAL_SCAN_ACCEPT,
            text: None,
            drop_all: true,
        },
        _ => Outcome {
            code: LOCAL_SCAN_ACCEPT,
            text: None,
            drop_all: false,
        },
    }
}

fn scan(fd: c_int) -> Answer {
    let config = sys::expand(c"$acl_m_mailman_gate_config")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let gate = match super::gate(config.as_deref()) {
        Ok(g) => g,
        Err(e) => return Answer::Error(format!("configuration: {e}")),
    };
    let Some(recipients) = sys::recipients() else {
        return Answer::Error("not running inside Exim".into());
    };
    let route = match gate.list_recipient(&recipients) {
        Ok(Some(route)) => route,
        Ok(None) => return Answer::Accept,
        Err(a) => return a,
    };
    let id = sys::message_id();
    let raw = match super::raw_message(|raw| {
        spool::append_body_at(fd, id.as_deref(), raw)
            .map_err(|e| format!("cannot read the message body: {e}"))
    }) {
        Ok(raw) => raw,
        Err(e) => return Answer::Error(e),
    };
    let sender = sys::sender_address().unwrap_or_default();
    let (a, v) = gate.data_answer(
        &route.list,
        route.kind,
        Some(&sender),
        &raw,
        recipients.len(),
    );
    if let Some(line) = answer::data_log_line(&route.list, route.kind, &a, v.as_ref()) {
        sys::log(&format!("local_scan: {line}"));
    }
    a
}

/// Remove every envelope recipient with Exim's `receive_remove_recipient`.
fn remove_all_recipients() {
    type Remove = unsafe extern "C" fn(*const u8) -> c_int;
    // SAFETY: dlsym of Exim's exported function.
    let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"receive_remove_recipient".as_ptr()) };
    if f.is_null() {
        return;
    }
    let Some(all) = sys::recipients() else { return };
    // SAFETY: receive_remove_recipient(uschar *) as exported by Exim; the
    // address is a copy that outlives the call.
    unsafe {
        let f: Remove = std::mem::transmute::<*mut libc::c_void, Remove>(f);
        for r in all {
            let c = crate::ffi::c_text(&r);
            f(c.as_ptr() as *const u8);
        }
    }
}

/// Debian's `local_scan_path` checks this equals its ABI major version.
#[no_mangle]
pub extern "C" fn local_scan_version_major() -> c_int {
    ABI_MAJOR
}

/// Debian's `local_scan_path` checks this is at most its minor version.
#[no_mangle]
pub extern "C" fn local_scan_version_minor() -> c_int {
    ABI_MINOR
}

/// Exim's local_scan(): see the module documentation.
///
/// # Safety
/// Called by Exim with the open -D file and a valid `return_text`.
#[no_mangle]
pub unsafe extern "C" fn local_scan(fd: c_int, return_text: *mut *mut u8) -> c_int {
    // One round: routing every recipient and the verdict revalidate each
    // list once.
    crate::store::begin_round();
    let out = boundary(|| {
        // The scan's blocks from one region, as the DATA call's (see
        // `crate::arena`).
        let a = crate::arena::scope(|| scan(fd));
        if let Answer::Error(t) = &a {
            sys::log(&format!("local_scan: {t} (accepting)"));
        }
        let o = outcome(&a);
        if o.drop_all {
            remove_all_recipients();
        }
        Some(o)
    });
    crate::store::end_round();
    let out = out.unwrap_or_else(|| {
        let why = take_panic_message().unwrap_or_else(|| "unknown".into());
        sys::log(&format!("local_scan: internal error (accepting): {why}"));
        outcome(&Answer::Accept)
    });
    if let (Some(t), false) = (&out.text, return_text.is_null()) {
        RETURN_TEXT.with(|cell| {
            *cell.borrow_mut() = crate::ffi::c_text(t);
            *return_text = cell.borrow().as_ptr() as *mut u8;
        });
    }
    out.code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_numbers() {
        assert_eq!(local_scan_version_major(), 6);
        assert_eq!(local_scan_version_minor(), 0);
    }

    #[test]
    fn outcomes() {
        assert_eq!(outcome(&Answer::Accept).code, LOCAL_SCAN_ACCEPT);
        assert_eq!(outcome(&Answer::Hold).code, LOCAL_SCAN_ACCEPT);
        assert_eq!(outcome(&Answer::Error("x".into())).code, LOCAL_SCAN_ACCEPT);
        let r = outcome(&Answer::Reject("no\nway".into()));
        assert_eq!(
            (r.code, r.text.as_deref()),
            (LOCAL_SCAN_REJECT, Some("no\nway"))
        );
        assert_eq!(
            outcome(&Answer::Defer("later".into())).code,
            LOCAL_SCAN_TEMPREJECT
        );
        assert!(outcome(&Answer::Discard).drop_all);
    }

    #[test]
    fn outside_exim_accepts() {
        let mut t: *mut u8 = std::ptr::null_mut();
        assert_eq!(unsafe { local_scan(-1, &mut t) }, LOCAL_SCAN_ACCEPT);
        assert!(t.is_null());
    }
}
