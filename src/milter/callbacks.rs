//! The milter protocol callbacks: each hands its arguments to the
//! connection's [`Session`] and turns the [`Reply`] into a protocol
//! status. Every decision runs inside a panic boundary: a bug answers
//! "continue" and logs, the connection and the MTA never suffer.

use std::ffi::{CStr, CString};
use std::future::ready;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use indymilter::{
    Actions, CallbackFuture, Callbacks, Context, EomContext, MacroStage, Macros, NegotiateContext,
    ProtoOpts, SetErrorReply, SmtpReply, Status,
};

use super::reply::Reply;
use super::transaction::Session;
use super::{log, Shared};

/// Messages at least this large are judged with the worker thread handed
/// over to blocking work, so other connections keep being served.
const BLOCKING_SIZE: usize = 256 << 10;

pub fn callbacks(shared: Arc<Shared>) -> Callbacks<Session> {
    let s_neg = shared.clone();
    let s_rcpt = shared.clone();
    let s_eom = shared;
    Callbacks::new()
        .on_negotiate(move |cx, _actions, opts| negotiate(&s_neg, cx, opts))
        .on_mail(|cx, args| done(mail(cx, &args)))
        .on_rcpt(move |cx, args| done(rcpt(&s_rcpt, cx, &args)))
        .on_data(|cx| done(data(cx)))
        .on_header(|cx, name, value| done(header(cx, &name, &value)))
        .on_body(|cx, chunk| done(body(cx, &chunk)))
        .on_eom(move |cx| done(eom(&s_eom, cx)))
        .on_abort(|cx| done(abort(cx)))
}

fn done<'a>(s: Status) -> CallbackFuture<'a> {
    Box::pin(ready(s))
}

fn negotiate<'a>(
    shared: &Shared,
    cx: &'a mut NegotiateContext<Session>,
    offered: ProtoOpts,
) -> CallbackFuture<'a> {
    // Nothing is ever changed in a message.
    cx.requested_actions = Actions::empty();
    // Header values exactly as received (else the MTA strips the space
    // after the colon and the message can't be rebuilt as sent).
    let leading_space = offered.contains(ProtoOpts::LEADING_SPACE);
    if leading_space {
        cx.requested_opts |= ProtoOpts::LEADING_SPACE;
    }
    // No reply to MAIL, to each header, to each body chunk: the MTA does
    // not wait for them (one round trip per header saved).
    let mut session = Session::new(shared.budget.clone(), leading_space);
    for (opt, flag) in [
        (ProtoOpts::NOREPLY_MAIL, &mut session.noreply_mail),
        (ProtoOpts::NOREPLY_HEADER, &mut session.noreply_header),
        (ProtoOpts::NOREPLY_BODY, &mut session.noreply_body),
    ] {
        if offered.contains(opt) {
            cx.requested_opts |= opt;
            *flag = true;
        }
    }
    session.skip = cx.requested_opts.contains(ProtoOpts::SKIP);
    cx.data = Some(session);
    // Only the queue id, for the log; no other macros (each would cost
    // the MTA a message per stage).
    cx.requested_macros.insert(MacroStage::Eom, c"i".to_owned());
    done(Status::Continue)
}

/// Continue, or no reply at all where that was negotiated.
fn go_on(noreply: bool) -> Status {
    if noreply {
        Status::Noreply
    } else {
        Status::Continue
    }
}

fn text(c: &CStr) -> String {
    String::from_utf8_lossy(c.to_bytes()).into_owned()
}

fn mail(cx: &mut Context<Session>, args: &[CString]) -> Status {
    let Some(s) = cx.data.as_mut() else {
        return Status::Continue;
    };
    if let Some(a) = args.first() {
        s.tx.mail(&text(a));
    }
    go_on(s.noreply_mail)
}

fn rcpt(shared: &Shared, cx: &mut Context<Session>, args: &[CString]) -> Status {
    let (Some(s), Some(a)) = (cx.data.as_mut(), args.first()) else {
        return Status::Continue;
    };
    let addr = text(a);
    match guarded(&format!("rcpt {addr}"), || {
        s.tx.rcpt(&shared.gate, &shared.settings, &addr)
    }) {
        Some((reply, line)) => logged_status(&mut cx.reply, &reply, line),
        None => Status::Continue,
    }
}

/// Run `f`; a panic inside it is one log line (`what`: internal error)
/// and `None`: the caller accepts.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|p| {
            let why = crate::ffi::payload_text(&*p);
            log(&format!("{what}: internal error (accepting): {why}"));
        })
        .ok()
}

/// The reply for a decision, after its log line if it has one.
fn logged_status(out: &mut SmtpReply, reply: &Reply, line: Option<String>) -> Status {
    if let Some(line) = line {
        log(&line);
    }
    status(out, reply)
}

/// At DATA: a message without a list recipient is none of our business.
fn data(cx: &mut Context<Session>) -> Status {
    match &cx.data {
        Some(s) if s.tx.wants_message() => Status::Continue,
        _ => Status::Accept,
    }
}

fn header(cx: &mut Context<Session>, name: &CStr, value: &CStr) -> Status {
    let Some(s) = cx.data.as_mut() else {
        return Status::Accept;
    };
    if !s.tx.wants_message() {
        return Status::Accept;
    }
    let lead = s.leading_space;
    s.tx.header(name.to_bytes(), value.to_bytes(), lead);
    go_on(s.noreply_header)
}

fn body(cx: &mut Context<Session>, chunk: &[u8]) -> Status {
    let Some(s) = cx.data.as_mut() else {
        return Status::Accept;
    };
    s.tx.body(chunk);
    if s.noreply_body {
        return Status::Noreply;
    }
    if s.tx.overflowed() && s.skip {
        // Nothing more is needed from the body.
        return Status::Skip;
    }
    Status::Continue
}

fn eom(shared: &Shared, cx: &mut EomContext<Session>) -> Status {
    let Some(s) = cx.data.as_mut() else {
        return Status::Continue;
    };
    let size = s.tx.message().len();
    let id = queue_id(&cx.macros);
    let what = format!("{id}end of message");
    let mut judge = || guarded(&what, || s.tx.end_of_message(&shared.gate));
    let r = if size >= BLOCKING_SIZE && multi_thread() {
        tokio::task::block_in_place(judge)
    } else {
        judge()
    };
    s.tx.reset();
    match r {
        Some(Some((reply, line))) => {
            logged_status(&mut cx.reply, &reply, line.map(|l| format!("{id}{l}")))
        }
        Some(None) | None => Status::Continue,
    }
}

fn abort(cx: &mut Context<Session>) -> Status {
    if let Some(s) = cx.data.as_mut() {
        s.tx.reset();
    }
    Status::Continue
}

/// The protocol status for a reply, with its SMTP text set.
fn status(out: &mut SmtpReply, r: &Reply) -> Status {
    match r {
        Reply::Continue => Status::Continue,
        Reply::Discard => Status::Discard,
        Reply::Reject { code, xcode, lines } | Reply::Tempfail { code, xcode, lines } => {
            if let Err(e) = out.set_error_reply(code, Some(xcode), lines.iter().map(String::as_str))
            {
                // The MTA's own text then; the refusal itself stands.
                log(&format!("reply text not accepted ({e}): {lines:?}"));
            }
            if matches!(r, Reply::Reject { .. }) {
                Status::Reject
            } else {
                Status::Tempfail
            }
        }
    }
}

/// `QUEUEID: ` from the `i` macro (Postfix and Sendmail send it at end of
/// message), or nothing.
fn queue_id(m: &Macros) -> String {
    m.get(c"i")
        .map(|i| format!("{}: ", i.to_string_lossy()))
        .unwrap_or_default()
}

fn multi_thread() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}
