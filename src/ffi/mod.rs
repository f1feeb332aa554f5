//! The C boundary's common ground, shared by [`crate::capi`] and
//! [`crate::exim`]:
//!
//! - [`mg_result`]: one error enum with stable numeric codes.
//! - [`boundary`]: the panic boundary every `extern "C"` function runs its
//!   body in. A panic never crosses into C and is never printed: its
//!   message is kept for the caller's log ([`take_panic_message`]).
//! - [`gates`]: one process-wide [`Gate`] per configuration path, so the
//!   list cache lives across the calls of one SMTP connection.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once, OnceLock};

use crate::gate::Gate;
use crate::site::ConfigError;
use crate::store::StoreError;

/// Result of every fallible C API call. The numbers are stable.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mg_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// A string argument was not UTF-8.
    InvalidUtf8 = 2,
    /// An argument had a value outside its domain (e.g. an unknown kind).
    InvalidArgument = 3,
    /// The configuration file is missing, unreadable or invalid.
    Config = 4,
    /// The list name is not one Mailman accepts.
    BadListName = 5,
    /// No such list.
    NoSuchList = 6,
    /// A list file exists but cannot be read (permissions).
    Unreadable = 7,
    /// Neither config.pck nor config.pck.last holds a list.
    Corrupt = 8,
    /// An internal error (a bug); the library stays usable.
    Panic = 9,
}

/// A C enum: stable numbers, a fixed text for each value, and an answer
/// for any int C passes (C cannot promise a valid value).
pub trait CEnum: Copy + 'static {
    /// Every value.
    const ALL: &'static [Self];
    /// The text for an int that is no value.
    const UNKNOWN: &'static CStr;
    /// The value's number.
    fn code(self) -> std::ffi::c_int;
    /// The value's fixed text.
    fn text(self) -> &'static CStr;

    /// The value whose number is `code`, if any.
    fn from_code(code: std::ffi::c_int) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }

    /// The fixed text for any int (static storage): its value's, or
    /// [`CEnum::UNKNOWN`].
    fn text_of(code: std::ffi::c_int) -> *const c_char {
        Self::from_code(code)
            .map_or(Self::UNKNOWN, Self::text)
            .as_ptr()
    }
}

impl CEnum for mg_result {
    const ALL: &'static [mg_result] = {
        use mg_result::*;
        &[
            Ok,
            NullArgument,
            InvalidUtf8,
            InvalidArgument,
            Config,
            BadListName,
            NoSuchList,
            Unreadable,
            Corrupt,
            Panic,
        ]
    };
    const UNKNOWN: &'static CStr = c"unknown result code";

    fn code(self) -> std::ffi::c_int {
        self as std::ffi::c_int
    }

    fn text(self) -> &'static CStr {
        match self {
            mg_result::Ok => c"ok",
            mg_result::NullArgument => c"a required argument was NULL",
            mg_result::InvalidUtf8 => c"a string argument was not UTF-8",
            mg_result::InvalidArgument => c"an argument had an invalid value",
            mg_result::Config => c"configuration file missing or invalid",
            mg_result::BadListName => c"not an acceptable list name",
            mg_result::NoSuchList => c"no such list",
            mg_result::Unreadable => c"list files cannot be read",
            mg_result::Corrupt => c"list files are corrupt",
            mg_result::Panic => c"internal error",
        }
    }
}

impl From<&StoreError> for mg_result {
    fn from(e: &StoreError) -> mg_result {
        match e {
            StoreError::BadName(_) => mg_result::BadListName,
            StoreError::NoSuchList(_) => mg_result::NoSuchList,
            StoreError::Unreadable { .. } => mg_result::Unreadable,
            StoreError::Corrupt { .. } => mg_result::Corrupt,
        }
    }
}

/// An error with its code and a detailed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: mg_result,
    pub detail: String,
}

impl Error {
    pub fn new(code: mg_result, detail: impl Into<String>) -> Error {
        Error {
            code,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::new((&e).into(), e.to_string())
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Error {
        Error::new(mg_result::Config, e.to_string())
    }
}

thread_local! {
    /// How many boundaries this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The message of the last panic caught at a boundary.
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Chain a panic hook that keeps quiet inside a boundary (the host's
/// stdout may be its SMTP channel) and records the message instead.
/// Outside a boundary the previous hook runs as before.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DEPTH.with(|d| d.get()) > 0 {
                let msg = payload_text(info.payload());
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{msg}{at}")));
            } else {
                previous(info)
            }
        }));
    });
}

/// A panic's message (`panic!` with a text gives a `&str` or a `String`).
pub(crate) fn payload_text(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

/// What an exported function returns when its body panicked, chosen by
/// its return type (as rustls-ffi's `PanicOrDefault`): an error code says
/// so, an answer is the neutral one, a pointer is NULL.
pub trait PanicOrDefault {
    fn value() -> Self;
}

impl PanicOrDefault for () {
    fn value() {}
}

impl PanicOrDefault for bool {
    fn value() -> bool {
        false
    }
}

/// A body that returns `Some` on success: `None` says it panicked.
impl<T> PanicOrDefault for Option<T> {
    fn value() -> Option<T> {
        None
    }
}

impl<T> PanicOrDefault for *const T {
    fn value() -> *const T {
        std::ptr::null()
    }
}

impl<T> PanicOrDefault for *mut T {
    fn value() -> *mut T {
        std::ptr::null_mut()
    }
}

impl PanicOrDefault for mg_result {
    fn value() -> mg_result {
        mg_result::Panic
    }
}

/// Run `f`; a panic inside it returns [`PanicOrDefault::value`] of its
/// type instead (and its message is kept for [`take_panic_message`]).
/// Every exported C function's body runs in here. Inlined into each, so
/// that the MTA entry points' copy lies with their code (see the README,
/// "Benchmarks").
#[inline(always)]
pub fn boundary<T: PanicOrDefault>(f: impl FnOnce() -> T) -> T {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let r = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    match r {
        Ok(v) => v,
        Err(payload) => {
            PANIC_MESSAGE.with(|m| {
                let mut m = m.borrow_mut();
                if m.is_none() {
                    *m = Some(payload_text(&*payload));
                }
            });
            T::value()
        }
    }
}

/// The message of the last panic a boundary caught on this thread.
pub fn take_panic_message() -> Option<String> {
    PANIC_MESSAGE.with(|m| m.borrow_mut().take())
}

/// A C string argument as `&str`; NULL is `Ok(None)`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives the returned borrow.
pub unsafe fn opt_str<'a>(p: *const c_char) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(p)
        .to_str()
        .map(Some)
        .map_err(|_| Error::new(mg_result::InvalidUtf8, "a string argument was not UTF-8"))
}

/// A required C string argument.
///
/// # Safety
/// As [`opt_str`].
pub unsafe fn req_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Error> {
    opt_str(p)?.ok_or_else(|| Error::new(mg_result::NullArgument, format!("{what} is NULL")))
}

/// Text for C: NUL bytes become `?`.
pub fn c_text(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s.replace('\0', "?")).expect("no NUL left")
}

/// The process-wide gates, one per configuration path.
type GateTable = Mutex<Vec<(Option<PathBuf>, Arc<Gate>)>>;

fn table() -> &'static GateTable {
    static GATES: OnceLock<GateTable> = OnceLock::new();
    GATES.get_or_init(|| Mutex::new(Vec::new()))
}

/// The gate for configuration `path` (None: the default path), opened on
/// first use and kept for the life of the process, so its list cache
/// serves every later call. A configuration error is not kept: the next
/// call tries again.
pub fn gates(path: Option<&Path>) -> Result<Arc<Gate>, Error> {
    let mut t = table().lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, g)) = t.iter().find(|(p, _)| p.as_deref() == path) {
        return Ok(Arc::clone(g));
    }
    let gate = Arc::new(Gate::open(path)?);
    t.push((path.map(Path::to_path_buf), Arc::clone(&gate)));
    Ok(gate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_catches_and_keeps_the_message() {
        let v = boundary(|| -> Option<i32> { panic!("boom {}", 42) });
        assert_eq!(v, None);
        let m = take_panic_message().unwrap();
        assert!(m.starts_with("boom 42"), "{m}");
        assert_eq!(take_panic_message(), None);
        assert_eq!(boundary(|| Some(5)), Some(5));
        // The value follows from the return type.
        assert_eq!(boundary(|| -> mg_result { panic!("x") }), mg_result::Panic);
        assert!(boundary(|| -> *const u8 { panic!("x") }).is_null());
        assert!(!boundary(|| -> bool { panic!("x") }));
        let _ = take_panic_message();
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(mg_result::Ok as i32, 0);
        assert_eq!(mg_result::Corrupt as i32, 8);
        assert_eq!(mg_result::Panic as i32, 9);
        assert_eq!(
            mg_result::NoSuchList.text().to_str().unwrap(),
            "no such list"
        );
    }

    #[test]
    fn gates_are_shared_per_path() {
        let dir = std::env::temp_dir().join(format!("mg-ffi-gates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("gate.conf");
        std::fs::write(&conf, "lists_dir = /nonexistent\n").unwrap();
        let a = gates(Some(&conf)).unwrap();
        let b = gates(Some(&conf)).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let bad = dir.join("missing.conf");
        assert_eq!(gates(Some(&bad)).err().unwrap().code, mg_result::Config);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
