//! `Utils.is_administrivia`: does a post look like a mail command (Hold's
//! administrivia test)?

use crate::message::text::{first_non_ws, is_ws, strip};
use crate::message::{to_bytes, Message};

/// `Utils.is_administrivia(msg)` with DEFAULT_MAIL_COMMANDS_MAX_LINES = `max_lines`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub fn is_administrivia(msg: &Message<'_>, max_lines: usize) -> bool {
    let mut linecnt = 0;
    // Only what the checks below read: the first five lines and the
    // non-blank ones (at most max_lines), not every line of the body.
    let mut head: [&[u8]; 5] = [b""; 5];
    let mut head_len = 0;
    // The first non-blank line, and whether there are others.
    let mut first_nonblank: Option<&[u8]> = None;
    'walk: for p in msg.walk() {
        if p.is_multipart() {
            continue;
        }
        let payload = p.payload();
        let mut pos = 0;
        while pos < payload.len() {
            if head_len == 5 {
                // Past the head, blank lines count for nothing: a run of
                // them is passed at once, to the line of the next
                // non-blank byte.
                let Some(k) = first_non_ws(&payload[pos..]) else {
                    break;
                };
                pos += memchr::memrchr(b'\n', &payload[pos..pos + k]).map_or(0, |j| j + 1);
            }
            // The next line as `StringIO(payload)` yields it (split after
            // `\n` only).
            let end = memchr::memchr(b'\n', &payload[pos..]).map_or(payload.len(), |j| pos + j + 1);
            let line = &payload[pos..end];
            pos = end;
            if line == b"-- " {
                break 'walk;
            }
            if !strip(line).is_empty() {
                linecnt += 1;
                first_nonblank.get_or_insert(line);
            }
            if linecnt > max_lines {
                return false;
            }
            if head_len < 5 {
                head[head_len] = line;
                head_len += 1;
            }
        }
    }
    // `NL.join(lines).strip().lower()` is one command word only when a
    // single line is not blank (a command word holds no whitespace).
    if let (1, Some(only)) = (linecnt, first_nonblank) {
        if admin_word(strip(only)).is_some() {
            return true;
        }
    }
    let subject: std::borrow::Cow<'_, [u8]> = match msg.get("subject") {
        Some(s) if s.is_ascii() => s.as_bytes().into(),
        Some(s) => to_bytes(s).into(),
        None => (&b""[..]).into(),
    };
    for line in head[..head_len].iter().copied().chain([&subject[..]]) {
        if strip(line).is_empty() {
            continue;
        }
        // `line.split()` lowered, read only as far as the test needs:
        // a command word and at most `hi` + 1 more (a line may be
        // one huge word or millions of them).
        let mut words = line.split(|&c| is_ws(c)).filter(|w| !w.is_empty());
        let Some(first) = words.next() else { continue };
        let Some((lo, hi)) = admin_word(first) else {
            continue;
        };
        // At most `hi` + 1 (<= 4) words: the second one kept for `set`.
        let mut second: &[u8] = b"";
        let mut n = 0;
        for w in words.take(hi + 1) {
            if n == 1 {
                second = w;
            }
            n += 1;
        }
        if lo <= n && n <= hi {
            let on_off = |w: &[u8]| w.eq_ignore_ascii_case(b"on") || w.eq_ignore_ascii_case(b"off");
            if first.eq_ignore_ascii_case(b"set") && !on_off(second) {
                continue;
            }
            return true;
        }
    }
    false
}

const ADMIN_COMMANDS: &[(&[u8], usize, usize)] = &[
    (b"confirm", 1, 1),
    (b"help", 0, 0),
    (b"info", 0, 0),
    (b"lists", 0, 0),
    (b"options", 0, 0),
    (b"password", 2, 2),
    (b"remove", 0, 0),
    (b"set", 3, 3),
    (b"subscribe", 0, 3),
    (b"unsubscribe", 0, 1),
    (b"who", 0, 1),
];

/// The arguments (least, most) the command `word` takes, compared as
/// lowered (`.lower()` of a `str` lowers ASCII only).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn admin_word(word: &[u8]) -> Option<(usize, usize)> {
    // Most words are not commands: told apart by length and first letter
    // before any comparison.
    let first = word.first()?.to_ascii_lowercase();
    ADMIN_COMMANDS
        .iter()
        .find(|(w, _, _)| w.len() == word.len() && w[0] == first && w.eq_ignore_ascii_case(word))
        .map(|&(_, a, b)| (a, b))
}
