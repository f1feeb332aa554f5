//! Python `re` patterns on a bounded backtracking engine.
//!
//! List owners write Python 2.7 regular expressions (non-member `^regex`
//! entries, `acceptable_aliases`, `bounce_matching_headers`,
//! `header_filter_rules`, the site's `KNOWN_SPAMMERS`).  Mailman evaluates
//! them with CPython 2.7's `sre`.  This module parses a pattern exactly as
//! `sre_parse` does (same accepted syntax, same errors, inline flags applied
//! to the whole pattern), then emits an equivalent pattern for
//! `fancy-regex` in which every construct whose meaning differs between the
//! two engines is spelled out explicitly:
//!
//! - every character-matching atom becomes an explicit set of code points,
//!   computed with sre's own rules (ASCII-only `\w \d \s` and case folding
//!   without `re.UNICODE`; CPython 2.7's Unicode 5.2 tables and its
//!   tables with it, generated from CPython into `pyre/tables.rs`);
//! - under IGNORECASE sre compares `lower(c)` for every subject char, so
//!   the subject is lowercased with sre's mapping (ASCII-only without
//!   `re.UNICODE`) and atoms match the lowercased chars exactly; group
//!   references then compare lowercased text, as sre's do;
//! - `\b`/`\B` become lookarounds over that word set, and never match an
//!   empty subject (as in sre);
//! - `$` without MULTILINE matches at the end or before a final `\n`;
//!   `\Z` is the absolute end;
//! - a lookbehind goes back its fixed width and matches forward from there,
//!   as sre does even when its body holds a group reference.
//!
//! Matching is bounded: the backtracking engine stops after
//! [`BACKTRACK_LIMIT`] steps ([`MatchLimitExceeded`]), and the compiled
//! program size is capped ([`PatternError`] for patterns too large).
//!
//! Subjects are `&str`.  Callers holding Python 2 byte strings map each byte
//! to the char of the same value (Latin-1); without `unicode` every char is
//! then one "byte" to sre.
//!
//! Constructs this engine cannot express although Python accepts them are
//! compile errors with a reason: very large counted repetitions (program
//! size), and nesting deeper than the engine's parser allows.
//!
//! Work not counted by the backtracking bound: a pattern that needs the
//! backtracking engine (group references, lookarounds, `\b`, `$` on a
//! subject ending in `\n`) may rerun a linear-time piece from every start
//! position, quadratic in the subject; a linear-time program costs its
//! size times the subject length.  Callers should keep subjects to what
//! Mailman passes (addresses, header values, header blocks).

use std::sync::Arc;

use fancy_regex::{Regex, RegexBuilder};

#[allow(clippy::unreadable_literal)]
mod tables;

/// Flags, as Python's `re.I`, `re.M`, `re.U`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub ignorecase: bool,
    pub multiline: bool,
    pub unicode: bool,
}

/// Why a pattern could not be compiled (Python would raise `re.error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad regular expression: {}", self.0)
    }
}

impl std::error::Error for PatternError {}

/// A match could not be completed within the backtracking bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchLimitExceeded;

impl std::fmt::Display for MatchLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("regular expression match exceeded its work limit")
    }
}

impl std::error::Error for MatchLimitExceeded {}

/// Backtracking steps allowed for one `search` or `match_start` call.
pub const BACKTRACK_LIMIT: usize = 200_000;
/// Approximate byte limit for each compiled linear-time sub-program.
pub const PROGRAM_SIZE_LIMIT: usize = 2 << 20;
/// Lazy DFA cache for each linear-time sub-program.
pub const DFA_CACHE_LIMIT: usize = 2 << 20;
/// Instruction limit of the backtracking program.
pub const MAX_PROG_INSNS: usize = 100_000;
/// Longest pattern accepted, in chars.
pub const MAX_PATTERN_CHARS: usize = 64 * 1024;

/// A compiled Python pattern.
#[derive(Debug, Clone)]
pub struct PyRegex {
    inner: Arc<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    /// A pattern of single characters, `x*` runs and edge anchors only:
    /// matched directly, without building any program.
    simple: Option<Simple>,
    /// Distinct program sources; each is built on first use (only the
    /// unanchored one for ordinary subjects is built at compile time).
    sources: Vec<String>,
    progs: Vec<std::sync::OnceLock<Result<Regex, PatternError>>>,
    /// Index into `progs` for `SubjectKind::{Plain, TrailingNewline, Empty}`,
    /// unanchored (`search`) then anchored at the start (`match`).
    by_kind: [[usize; 3]; 2],
    /// Under IGNORECASE: the lowercasing applied to subjects.
    fold: Option<CharModel>,
}

/// Properties of a subject that change how `$`, `\b` and `\B` translate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SubjectKind {
    /// Non-empty, not ending in `\n`.
    Plain = 0,
    /// Ends in `\n`: `$` also matches before that last `\n`.
    TrailingNewline = 1,
    /// Empty: `\b` and `\B` never match.
    Empty = 2,
}

impl SubjectKind {
    fn of(text: &str) -> SubjectKind {
        if text.is_empty() {
            SubjectKind::Empty
        } else if text.ends_with('\n') {
            SubjectKind::TrailingNewline
        } else {
            SubjectKind::Plain
        }
    }
}

impl PyRegex {
    /// `re.compile(pattern, flags)`.
    pub fn compile(pattern: &str, flags: Flags) -> Result<PyRegex, PatternError> {
        let mut f = 0u32;
        if flags.ignorecase {
            f |= FLAG_I;
        }
        if flags.multiline {
            f |= FLAG_M;
        }
        if flags.unicode {
            f |= FLAG_U;
        }
        if pattern.chars().count() > MAX_PATTERN_CHARS {
            return Err(PatternError("pattern too long".into()));
        }
        let parsed = parse(pattern, f)?;
        check(&parsed)?;
        let model = CharModel::new(parsed.flags);
        let fold = model.ignorecase.then_some(model);
        if let Some(simple) = Simple::from_parsed(&parsed, &model) {
            return Ok(PyRegex {
                inner: Arc::new(Compiled {
                    simple: Some(simple),
                    sources: Vec::new(),
                    progs: Vec::new(),
                    by_kind: [[0; 3]; 2],
                    fold,
                }),
            });
        }
        let mut sources: Vec<String> = Vec::new();
        let mut by_kind = [[0usize; 3]; 2];
        for kind in [
            SubjectKind::Plain,
            SubjectKind::TrailingNewline,
            SubjectKind::Empty,
        ] {
            let body = translate(&parsed, kind);
            let anchored = format!("\\A(?:{body})");
            for (a, src) in [body, anchored].into_iter().enumerate() {
                let idx = match sources.iter().position(|s| *s == src) {
                    Some(i) => i,
                    None => {
                        sources.push(src);
                        sources.len() - 1
                    }
                };
                by_kind[a][kind as usize] = idx;
            }
        }
        let progs: Vec<_> = sources.iter().map(|_| std::sync::OnceLock::new()).collect();
        // Build the program ordinary searches use now, so that a pattern
        // the engine cannot take is refused at compile time.
        let first = by_kind[0][SubjectKind::Plain as usize];
        let built = build(&sources[first]);
        if let Err(e) = &built {
            return Err(e.clone());
        }
        let _ = progs[first].set(built);
        Ok(PyRegex {
            inner: Arc::new(Compiled {
                simple: None,
                sources,
                progs,
                by_kind,
                fold,
            }),
        })
    }

    /// `pattern.search(text) is not None`.
    pub fn search(&self, text: &str) -> Result<bool, MatchLimitExceeded> {
        self.run(text, false)
    }

    /// `pattern.match(text) is not None` (anchored at the start only).
    pub fn match_start(&self, text: &str) -> Result<bool, MatchLimitExceeded> {
        self.run(text, true)
    }

    fn run(&self, text: &str, anchored: bool) -> Result<bool, MatchLimitExceeded> {
        if let Some(simple) = &self.inner.simple {
            return Ok(simple.run(text, anchored));
        }
        let idx = self.inner.by_kind[usize::from(anchored)][SubjectKind::of(text) as usize];
        let prog = self.inner.progs[idx]
            .get_or_init(|| build(&self.inner.sources[idx]))
            .as_ref()
            .map_err(|_| MatchLimitExceeded)?;
        let res = match &self.inner.fold {
            Some(model) => {
                // sre compares `lower(c)` everywhere under IGNORECASE;
                // lowering keeps `\n` and word-ness, so anchors and `\b`
                // see the same subject.
                prog.is_match(&lower_subject(model, text))
            }
            None => prog.is_match(text),
        };
        res.map_err(|_| MatchLimitExceeded)
    }
}

/// The subject as sre compares it under IGNORECASE: every char lowered.
fn lower_subject(model: &CharModel, text: &str) -> String {
    // ASCII lowers the same way in every model: the fast path.
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.chars()
            .map(|c| char::from_u32(model.lower(c as u32)).unwrap_or(c))
            .collect()
    }
}

/// A pattern made only of single-character items, `*` and `+` on them, a
/// leading `^`/`\\A` and a trailing `$`/`\\Z`, with no group references.
/// Typical list settings (`^.*@example\\.com$`, `to: friend@public.com`)
/// are of this kind. Matched bit-parallel (one bit per item, all start
/// positions at once): linear in the subject, no program to build.
#[derive(Debug)]
struct Simple {
    /// Items that take exactly one char.
    one: u64,
    /// Items that take any number of chars (`x*`).
    many: u64,
    /// Bit of the state past the last item: a match.
    accept: u64,
    /// Per item, the chars it takes (as sre compares them: lowered under
    /// IGNORECASE), and the same as masks for ASCII chars.
    sets: Vec<CharSet>,
    ascii: [u64; 128],
    start: Option<At>,
    end: Option<At>,
    multiline: bool,
    fold: Option<CharModel>,
}

impl Simple {
    fn from_parsed(p: &Parsed, model: &CharModel) -> Option<Simple> {
        if has_groupref(&p.nodes) {
            return None;
        }
        fn flatten<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
            for n in nodes {
                match n {
                    Node::Group(_, body) => flatten(body, out),
                    other => out.push(other),
                }
            }
        }
        let mut flat: Vec<&Node> = Vec::new();
        flatten(&p.nodes, &mut flat);
        let any = if p.flags & FLAG_S != 0 {
            CharSet(vec![(0, 0x10FFFF)])
        } else {
            CharSet(vec![(0, 9), (11, 0x10FFFF)])
        };
        let single = |n: &Node| -> Option<CharSet> {
            match n {
                Node::Any => Some(any.clone()),
                Node::Lit(_) | Node::NotLit(_) | Node::In(_) => model.node_set(n),
                _ => None,
            }
        };
        let (mut start, mut end) = (None, None);
        let (mut sets, mut many) = (Vec::new(), 0u64);
        let last = flat.len().saturating_sub(1);
        for (i, n) in flat.iter().enumerate() {
            match n {
                Node::At(a @ (At::Beginning | At::BeginningString)) if i == 0 => start = Some(*a),
                Node::At(a @ (At::End | At::EndString)) if i == last => end = Some(*a),
                Node::Repeat { min, max, body, .. } if *max == MAXREPEAT && *min <= 1 => {
                    let set = single(body)?;
                    if *min == 1 {
                        sets.push(set.clone());
                    }
                    many |= 1u64.checked_shl(sets.len() as u32)?;
                    sets.push(set);
                }
                other => sets.push(single(other)?),
            }
        }
        if sets.len() > 62 {
            return None;
        }
        let all = (1u64 << sets.len()) - 1;
        let mut ascii = [0u64; 128];
        for (i, set) in sets.iter().enumerate() {
            for &(lo, hi) in &set.0 {
                for c in lo..=hi.min(127) {
                    ascii[c as usize] |= 1 << i;
                }
            }
        }
        Some(Simple {
            one: all & !many,
            many,
            accept: 1 << sets.len(),
            sets,
            ascii,
            start,
            end,
            multiline: p.flags & FLAG_M != 0,
            fold: model.ignorecase.then_some(*model),
        })
    }

    /// The states reachable from `s` without reading a char: past `x*`.
    fn closure(&self, mut s: u64) -> u64 {
        loop {
            let t = s | ((s & self.many) << 1);
            if t == s {
                return s;
            }
            s = t;
        }
    }

    fn mask(&self, c: u32) -> u64 {
        if c < 128 {
            return self.ascii[c as usize];
        }
        let mut m = 0;
        for (i, set) in self.sets.iter().enumerate() {
            if set.contains(c) {
                m |= 1 << i;
            }
        }
        m
    }

    fn run(&self, text: &str, anchored: bool) -> bool {
        let entry = self.closure(1);
        // Whether a match can still begin after the first position.
        let later_starts = !anchored && (self.start.is_none() || self.multiline);
        let mut s = 0u64;
        let mut prev: Option<char> = None;
        let mut rest = text.chars();
        loop {
            let may_start = match (anchored, self.start) {
                (true, _) | (false, Some(_)) if prev.is_none() => true,
                (false, None) => true,
                (false, Some(At::Beginning)) if self.multiline => prev == Some('\n'),
                _ => false,
            };
            if may_start {
                s |= entry;
            }
            if s & self.accept != 0 && self.end_ok(rest.clone()) {
                return true;
            }
            let Some(c) = rest.next() else { return false };
            let folded = match &self.fold {
                Some(model) if c.is_ascii() => c.to_ascii_lowercase() as u32,
                Some(model) => model.lower(c as u32),
                None => c as u32,
            };
            let m = self.mask(folded);
            s = self.closure(((s & m & self.one) << 1) | (s & m & self.many));
            if s == 0 && !later_starts {
                return false;
            }
            prev = Some(c);
            if s == 0 && self.start.is_some() && c != '\n' {
                // Only a line start can begin a match (multiline `^`):
                // go straight to the next one.
                let tail = rest.as_str();
                let Some(nl) = tail.find('\n') else {
                    return false;
                };
                rest = tail[nl + 1..].chars();
                prev = Some('\n');
            }
        }
    }

    /// Whether the end anchor holds before `rest`.
    fn end_ok(&self, mut rest: std::str::Chars<'_>) -> bool {
        match self.end {
            None => true,
            Some(At::End) if self.multiline => matches!(rest.next(), None | Some('\n')),
            Some(At::End) => match rest.next() {
                None => true,
                Some('\n') => rest.next().is_none(),
                Some(_) => false,
            },
            Some(_) => rest.next().is_none(),
        }
    }
}

fn build(src: &str) -> Result<Regex, PatternError> {
    RegexBuilder::new(src)
        .backtrack_limit(BACKTRACK_LIMIT)
        .delegate_size_limit(PROGRAM_SIZE_LIMIT)
        .delegate_dfa_size_limit(DFA_CACHE_LIMIT)
        .max_prog_size(MAX_PROG_INSNS)
        .build()
        .map_err(|e| {
            PatternError(format!(
                "pattern valid in Python but not supported by the matcher \
                 (too large or too deeply nested?): {e}"
            ))
        })
}

// ---------------------------------------------------------------------------
// Parsing, as sre_parse does it.

const FLAG_T: u32 = 1;
const FLAG_I: u32 = 2;
const FLAG_L: u32 = 4;
const FLAG_M: u32 = 8;
const FLAG_S: u32 = 16;
const FLAG_U: u32 = 32;
const FLAG_X: u32 = 64;

/// sre's "unbounded" repeat count; counts at or above it are errors.
const MAXREPEAT: u64 = 4_294_967_295;
/// Parser recursion bound (nested groups).
const MAX_NESTING: usize = 200;

fn flag_of(c: char) -> Option<u32> {
    Some(match c {
        'i' => FLAG_I,
        'L' => FLAG_L,
        'm' => FLAG_M,
        's' => FLAG_S,
        't' => FLAG_T,
        'u' => FLAG_U,
        'x' => FLAG_X,
        _ => return None,
    })
}

fn err<T>(msg: &str) -> Result<T, PatternError> {
    Err(PatternError(msg.to_string()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ch(char),
    /// A backslash and the char after it.
    Esc(char),
}

struct Source {
    s: Vec<char>,
    index: usize,
    next: Option<Tok>,
}

impl Source {
    fn new(p: &str) -> Result<Source, PatternError> {
        let mut s = Source {
            s: p.chars().collect(),
            index: 0,
            next: None,
        };
        s.advance()?;
        Ok(s)
    }
    fn advance(&mut self) -> Result<(), PatternError> {
        if self.index >= self.s.len() {
            self.next = None;
            return Ok(());
        }
        let c = self.s[self.index];
        if c == '\\' {
            match self.s.get(self.index + 1) {
                Some(&d) => {
                    self.next = Some(Tok::Esc(d));
                    self.index += 2;
                }
                None => return err("bogus escape (end of line)"),
            }
        } else {
            self.next = Some(Tok::Ch(c));
            self.index += 1;
        }
        Ok(())
    }
    fn get(&mut self) -> Result<Option<Tok>, PatternError> {
        let t = self.next;
        self.advance()?;
        Ok(t)
    }
    fn eat(&mut self, c: char) -> Result<bool, PatternError> {
        if self.next == Some(Tok::Ch(c)) {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }
    fn next_ch(&self) -> Option<char> {
        match self.next {
            Some(Tok::Ch(c)) => Some(c),
            _ => None,
        }
    }
    fn next_in(&self, set: &str) -> bool {
        self.next_ch().is_some_and(|c| set.contains(c))
    }
    fn tell(&self) -> (usize, Option<Tok>) {
        (self.index, self.next)
    }
    fn seek(&mut self, at: (usize, Option<Tok>)) {
        self.index = at.0;
        self.next = at.1;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cat {
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Word,
    NotWord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetItem {
    Negate,
    Lit(u32),
    Range(u32, u32),
    Cat(Cat),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Beginning,
    BeginningString,
    Boundary,
    NonBoundary,
    End,
    EndString,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Lit(u32),
    NotLit(u32),
    In(Vec<SetItem>),
    Any,
    At(At),
    Branch(Vec<Vec<Node>>),
    Repeat {
        min: u64,
        max: u64,
        lazy: bool,
        body: Box<Node>,
    },
    Group(Option<usize>, Vec<Node>),
    Assert {
        behind: bool,
        negate: bool,
        body: Vec<Node>,
    },
    GroupRef(usize),
    GroupRefExists(u64, Vec<Node>, Option<Vec<Node>>),
}

struct State {
    flags: u32,
    groups: usize,
    groupdict: Vec<(String, usize)>,
    open: Vec<usize>,
}

impl State {
    fn opengroup(&mut self, name: Option<String>) -> Result<usize, PatternError> {
        let gid = self.groups;
        self.groups += 1;
        if let Some(name) = name {
            if self.lookup(&name).is_some() {
                return err("redefinition of group name");
            }
            self.groupdict.push((name, gid));
        }
        self.open.push(gid);
        Ok(gid)
    }
    fn closegroup(&mut self, gid: usize) {
        self.open.retain(|&g| g != gid);
    }
    fn checkgroup(&self, gid: usize) -> bool {
        gid < self.groups && !self.open.contains(&gid)
    }
    fn lookup(&self, name: &str) -> Option<usize> {
        self.groupdict
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, g)| g)
    }
}

/// A parsed pattern with its final (global) flags.
struct Parsed {
    nodes: Vec<Node>,
    flags: u32,
    /// Python's `groups` counter: capturing groups + 1.
    groups: usize,
}

fn parse(pattern: &str, flags: u32) -> Result<Parsed, PatternError> {
    let mut source = Source::new(pattern)?;
    let mut state = State {
        flags,
        groups: 1,
        groupdict: Vec::new(),
        open: Vec::new(),
    };
    let nodes = parse_sub(&mut source, &mut state, 0)?;
    match source.get()? {
        None => {}
        Some(Tok::Ch(')')) => return err("unbalanced parenthesis"),
        Some(_) => return err("bogus characters at end of regular expression"),
    }
    if flags & FLAG_X == 0 && state.flags & FLAG_X != 0 {
        // VERBOSE switched on inside the pattern: parse again with it.
        return parse(pattern, state.flags);
    }
    Ok(Parsed {
        nodes,
        flags: state.flags,
        groups: state.groups,
    })
}

fn parse_sub(src: &mut Source, st: &mut State, nested: usize) -> Result<Vec<Node>, PatternError> {
    if nested > MAX_NESTING {
        return err("pattern too deeply nested");
    }
    let mut items = Vec::new();
    loop {
        items.push(parse_seq(src, st, nested + 1)?);
        if src.eat('|')? {
            continue;
        }
        if nested == 0 {
            break;
        }
        if src.next.is_none() || src.next == Some(Tok::Ch(')')) {
            break;
        }
        return err("pattern not properly closed");
    }
    if items.len() == 1 {
        return Ok(items.pop().unwrap_or_default());
    }
    Ok(vec![Node::Branch(items)])
}

fn parse_sub_cond(
    src: &mut Source,
    st: &mut State,
    condgroup: u64,
    nested: usize,
) -> Result<Vec<Node>, PatternError> {
    let yes = parse_seq(src, st, nested + 1)?;
    let no = if src.eat('|')? {
        let no = parse_seq(src, st, nested + 1)?;
        if src.next == Some(Tok::Ch('|')) {
            return err("conditional backref with more than two branches");
        }
        Some(no)
    } else {
        None
    };
    if src.next.is_some() && src.next != Some(Tok::Ch(')')) {
        return err("pattern not properly closed");
    }
    Ok(vec![Node::GroupRefExists(condgroup, yes, no)])
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn tok_text(t: Tok) -> String {
    match t {
        Tok::Ch(c) => c.to_string(),
        Tok::Esc(c) => format!("\\{c}"),
    }
}

fn is_name(name: &str) -> bool {
    let mut cs = name.chars();
    match cs.next() {
        Some(c) if is_ident(c) => {}
        _ => return false,
    }
    cs.all(|c| is_ident(c) || c.is_ascii_digit())
}

/// Reads tokens up to `end`; `Ok(None)` at the end of the pattern.
fn read_name(src: &mut Source, end: char) -> Result<Option<String>, PatternError> {
    let mut name = String::new();
    loop {
        match src.get()? {
            None => return Ok(None),
            Some(Tok::Ch(c)) if c == end => return Ok(Some(name)),
            Some(t) => name.push_str(&tok_text(t)),
        }
    }
}

/// Python's `int(s)` for the group number of a conditional.
fn py_int(s: &str) -> Option<i128> {
    let t = s.trim_matches(|c: char| c.is_whitespace());
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: i128 = digits.parse().unwrap_or(i128::MAX);
    Some(if neg { -v } else { v })
}

const SPECIAL_CHARS: &str = ".\\[{()*+?^$|";
const WHITESPACE: &str = " \t\n\r\x0b\x0c";

fn parse_seq(src: &mut Source, st: &mut State, nested: usize) -> Result<Vec<Node>, PatternError> {
    if nested > MAX_NESTING {
        return err("pattern too deeply nested");
    }
    let mut sub: Vec<Node> = Vec::new();
    loop {
        if src.next_in("|)") {
            break;
        }
        let this = match src.get()? {
            None => break,
            Some(t) => t,
        };
        if st.flags & FLAG_X != 0 {
            if let Tok::Ch(c) = this {
                if WHITESPACE.contains(c) {
                    continue;
                }
                if c == '#' {
                    loop {
                        match src.get()? {
                            None | Some(Tok::Ch('\n')) => break,
                            _ => {}
                        }
                    }
                    continue;
                }
            }
        }
        match this {
            Tok::Ch(c) if !SPECIAL_CHARS.contains(c) => sub.push(Node::Lit(c as u32)),
            Tok::Ch('[') => sub.push(parse_class(src)?),
            Tok::Ch(c @ ('*' | '+' | '?' | '{')) => {
                let (min, max) = match c {
                    '?' => (0, 1),
                    '*' => (0, MAXREPEAT),
                    '+' => (1, MAXREPEAT),
                    _ => {
                        if src.next == Some(Tok::Ch('}')) {
                            sub.push(Node::Lit('{' as u32));
                            continue;
                        }
                        let here = src.tell();
                        let mut lo = String::new();
                        let mut hi = String::new();
                        while src.next_in("0123456789") {
                            lo.push(src.next_ch().unwrap_or('0'));
                            src.advance()?;
                        }
                        if src.eat(',')? {
                            while src.next_in("0123456789") {
                                hi.push(src.next_ch().unwrap_or('0'));
                                src.advance()?;
                            }
                        } else {
                            hi = lo.clone();
                        }
                        if !src.eat('}')? {
                            sub.push(Node::Lit('{' as u32));
                            src.seek(here);
                            continue;
                        }
                        let num = |s: &str| -> Result<u64, PatternError> {
                            let v: u128 = s.parse().unwrap_or(u128::MAX);
                            if v >= MAXREPEAT as u128 {
                                return err("the repetition number is too large");
                            }
                            Ok(v as u64)
                        };
                        let min = if lo.is_empty() { 0 } else { num(&lo)? };
                        let mut max = MAXREPEAT;
                        if !hi.is_empty() {
                            max = num(&hi)?;
                            if max < min {
                                return err("bad repeat interval");
                            }
                        }
                        (min, max)
                    }
                };
                let item = match sub.pop() {
                    None | Some(Node::At(_)) => return err("nothing to repeat"),
                    Some(Node::Repeat { .. }) => return err("multiple repeat"),
                    Some(n) => n,
                };
                let lazy = src.eat('?')?;
                sub.push(Node::Repeat {
                    min,
                    max,
                    lazy,
                    body: Box::new(item),
                });
            }
            Tok::Ch('.') => sub.push(Node::Any),
            Tok::Ch('(') => {
                if let Some(n) = parse_paren(src, st, nested)? {
                    sub.push(n);
                }
            }
            Tok::Ch('^') => sub.push(Node::At(At::Beginning)),
            Tok::Ch('$') => sub.push(Node::At(At::End)),
            Tok::Esc(e) => sub.push(escape(src, e, st)?),
            Tok::Ch(_) => return err("parser error"),
        }
    }
    Ok(sub)
}

/// After `(`: a group, assertion, conditional, comment or flags.
fn parse_paren(
    src: &mut Source,
    st: &mut State,
    nested: usize,
) -> Result<Option<Node>, PatternError> {
    // 1: capturing, 2: non-capturing, 0: flags only.
    let mut group = 1;
    let mut name = None;
    let mut condgroup: Option<i128> = None;
    if src.eat('?')? {
        group = 0;
        if src.eat('P')? {
            if src.eat('<')? {
                let n = match read_name(src, '>')? {
                    None => return err("unterminated name"),
                    Some(n) => n,
                };
                if n.is_empty() {
                    return err("missing group name");
                }
                if !is_name(&n) {
                    return err("bad character in group name");
                }
                name = Some(n);
                group = 1;
            } else if src.eat('=')? {
                let n = match read_name(src, ')')? {
                    None => return err("unterminated name"),
                    Some(n) => n,
                };
                if n.is_empty() {
                    return err("missing group name");
                }
                if !is_name(&n) {
                    return err("bad character in backref group name");
                }
                return match st.lookup(&n) {
                    Some(gid) => Ok(Some(Node::GroupRef(gid))),
                    None => err("unknown group name"),
                };
            } else {
                return match src.get()? {
                    None => err("unexpected end of pattern"),
                    Some(_) => err("unknown specifier: ?P"),
                };
            }
        } else if src.eat(':')? {
            group = 2;
        } else if src.eat('#')? {
            while src.next.is_some() && src.next != Some(Tok::Ch(')')) {
                src.get()?;
            }
            if !src.eat(')')? {
                return err("unbalanced parenthesis");
            }
            return Ok(None);
        } else if src.next_in("=!<") {
            let mut c = src.next_ch().unwrap_or('=');
            src.advance()?;
            let mut behind = false;
            if c == '<' {
                if !src.next_in("=!") {
                    return err("syntax error");
                }
                behind = true;
                c = src.next_ch().unwrap_or('=');
                src.advance()?;
            }
            let body = parse_sub(src, st, nested + 1)?;
            if !src.eat(')')? {
                return err("unbalanced parenthesis");
            }
            return Ok(Some(Node::Assert {
                behind,
                negate: c == '!',
                body,
            }));
        } else if src.eat('(')? {
            let n = match read_name(src, ')')? {
                None => return err("unterminated name"),
                Some(n) => n,
            };
            group = 2;
            if n.is_empty() {
                return err("missing group name");
            }
            if is_name(&n) {
                match st.lookup(&n) {
                    Some(g) => condgroup = Some(g as i128),
                    None => return err("unknown group name"),
                }
            } else {
                match py_int(&n) {
                    Some(v) => condgroup = Some(v),
                    None => return err("bad character in group name"),
                }
            }
        } else {
            if src.next_ch().is_none_or(|c| flag_of(c).is_none()) {
                return err("unexpected end of pattern");
            }
            while let Some(f) = src.next_ch().and_then(flag_of) {
                st.flags |= f;
                src.advance()?;
            }
        }
    }
    if group == 0 {
        return match src.get()? {
            None => err("unexpected end of pattern"),
            Some(Tok::Ch(')')) => Ok(None),
            Some(_) => err("unknown extension"),
        };
    }
    let gid = if group == 2 {
        None
    } else {
        Some(st.opengroup(name)?)
    };
    let body = match condgroup {
        Some(c) if c != 0 => {
            if c < 0 {
                // sre_compile emits a negative group index: rejected.
                return err("regular expression code size limit exceeded");
            }
            let c = u64::try_from(c).unwrap_or(u64::MAX);
            parse_sub_cond(src, st, c, nested + 1)?
        }
        _ => parse_sub(src, st, nested + 1)?,
    };
    if !src.eat(')')? {
        return err("unbalanced parenthesis");
    }
    if let Some(g) = gid {
        st.closegroup(g);
    }
    Ok(Some(Node::Group(gid, body)))
}

fn parse_class(src: &mut Source) -> Result<Node, PatternError> {
    let mut set = Vec::new();
    if src.eat('^')? {
        set.push(SetItem::Negate);
    }
    let start_len = set.len();
    loop {
        let this = src.get()?;
        let code1 = match this {
            Some(Tok::Ch(']')) if set.len() != start_len => break,
            Some(Tok::Esc(e)) => class_escape(src, e)?,
            Some(Tok::Ch(c)) => SetItem::Lit(c as u32),
            None => return err("unexpected end of regular expression"),
        };
        if src.eat('-')? {
            match src.get()? {
                Some(Tok::Ch(']')) => {
                    set.push(code1);
                    set.push(SetItem::Lit('-' as u32));
                    break;
                }
                Some(t) => {
                    let code2 = match t {
                        Tok::Esc(e) => class_escape(src, e)?,
                        Tok::Ch(c) => SetItem::Lit(c as u32),
                    };
                    match (code1, code2) {
                        (SetItem::Lit(lo), SetItem::Lit(hi)) => {
                            if hi < lo {
                                return err("bad character range");
                            }
                            set.push(SetItem::Range(lo, hi));
                        }
                        _ => return err("bad character range"),
                    }
                }
                None => return err("unexpected end of regular expression"),
            }
        } else {
            set.push(code1);
        }
    }
    Ok(match set.as_slice() {
        [SetItem::Lit(c)] => Node::Lit(*c),
        [SetItem::Negate, SetItem::Lit(c)] => Node::NotLit(*c),
        _ => Node::In(set),
    })
}

fn category(e: char) -> Option<Cat> {
    Some(match e {
        'd' => Cat::Digit,
        'D' => Cat::NotDigit,
        's' => Cat::Space,
        'S' => Cat::NotSpace,
        'w' => Cat::Word,
        'W' => Cat::NotWord,
        _ => return None,
    })
}

fn simple_escape(e: char) -> Option<u32> {
    Some(match e {
        'a' => 7,
        'b' => 8,
        'f' => 12,
        'n' => 10,
        'r' => 13,
        't' => 9,
        'v' => 11,
        '\\' => 92,
        _ => return None,
    })
}

fn class_escape(src: &mut Source, e: char) -> Result<SetItem, PatternError> {
    if let Some(v) = simple_escape(e) {
        return Ok(SetItem::Lit(v));
    }
    if let Some(c) = category(e) {
        return Ok(SetItem::Cat(c));
    }
    if e == 'x' {
        return Ok(SetItem::Lit(hex_escape(src)?));
    }
    if ('0'..='7').contains(&e) {
        let mut digits = e.to_string();
        while digits.len() < 3 && src.next_in("01234567") {
            digits.push(src.next_ch().unwrap_or('0'));
            src.advance()?;
        }
        return Ok(SetItem::Lit(
            u32::from_str_radix(&digits, 8).unwrap_or(0) & 0xff,
        ));
    }
    if e.is_ascii_digit() {
        return err("bogus escape");
    }
    Ok(SetItem::Lit(e as u32))
}

/// The two hex digits after `\x` (sre requires exactly two), as a byte.
fn hex_escape(src: &mut Source) -> Result<u32, PatternError> {
    let mut digits = String::new();
    while digits.len() < 2 && src.next_ch().is_some_and(|c| c.is_ascii_hexdigit()) {
        digits.push(src.next_ch().unwrap_or('0'));
        src.advance()?;
    }
    if digits.len() != 2 {
        return err("bogus escape");
    }
    Ok(u32::from_str_radix(&digits, 16).unwrap_or(0) & 0xff)
}

fn escape(src: &mut Source, e: char, st: &State) -> Result<Node, PatternError> {
    let at = match e {
        'A' => Some(At::BeginningString),
        'b' => Some(At::Boundary),
        'B' => Some(At::NonBoundary),
        'Z' => Some(At::EndString),
        _ => None,
    };
    if let Some(at) = at {
        return Ok(Node::At(at));
    }
    if let Some(c) = category(e) {
        return Ok(Node::In(vec![SetItem::Cat(c)]));
    }
    if let Some(v) = simple_escape(e) {
        return Ok(Node::Lit(v));
    }
    if e == 'x' {
        return Ok(Node::Lit(hex_escape(src)?));
    }
    if e == '0' {
        let mut digits = e.to_string();
        while digits.len() < 3 && src.next_in("01234567") {
            digits.push(src.next_ch().unwrap_or('0'));
            src.advance()?;
        }
        return Ok(Node::Lit(
            u32::from_str_radix(&digits, 8).unwrap_or(0) & 0xff,
        ));
    }
    if e.is_ascii_digit() {
        let mut digits = e.to_string();
        if let Some(d) = src.next_ch().filter(char::is_ascii_digit) {
            src.advance()?;
            digits.push(d);
            let oct = |c: char| ('0'..='7').contains(&c);
            if oct(e) && oct(d) {
                if let Some(d3) = src.next_ch().filter(|&c| oct(c)) {
                    src.advance()?;
                    digits.push(d3);
                    return Ok(Node::Lit(
                        u32::from_str_radix(&digits, 8).unwrap_or(0) & 0xff,
                    ));
                }
            }
        }
        let group: usize = digits.parse().unwrap_or(usize::MAX);
        if group < st.groups {
            if !st.checkgroup(group) {
                return err("cannot refer to open group");
            }
            return Ok(Node::GroupRef(group));
        }
        return err("bogus escape");
    }
    Ok(Node::Lit(e as u32))
}

// ---------------------------------------------------------------------------
// Checks sre_compile makes after parsing.

/// `SubPattern.getwidth()`: (min, max) width, capped as sre caps it.
fn width(nodes: &[Node]) -> (u128, u128) {
    let (mut lo, mut hi) = (0u128, 0u128);
    for n in nodes {
        match n {
            Node::Branch(items) => {
                let mut i = (MAXREPEAT - 1) as u128;
                let mut j = 0u128;
                for it in items {
                    let (l, h) = width(it);
                    i = i.min(l);
                    j = j.max(h);
                }
                lo += i;
                hi += j;
            }
            Node::Group(_, body) => {
                let (l, h) = width(body);
                lo += l;
                hi += h;
            }
            Node::Repeat { min, max, body, .. } => {
                let (l, h) = width(std::slice::from_ref(body.as_ref()));
                lo += l * *min as u128;
                hi += h * *max as u128;
            }
            Node::Lit(_) | Node::NotLit(_) | Node::In(_) | Node::Any => {
                lo += 1;
                hi += 1;
            }
            _ => {}
        }
    }
    (lo.min((MAXREPEAT - 1) as u128), hi.min(MAXREPEAT as u128))
}

fn check(p: &Parsed) -> Result<(), PatternError> {
    fn walk(nodes: &[Node], flags: u32) -> Result<(), PatternError> {
        for n in nodes {
            match n {
                Node::Branch(items) => {
                    for it in items {
                        walk(it, flags)?;
                    }
                }
                Node::Group(_, b) => walk(b, flags)?,
                Node::Repeat { body, .. } => {
                    if flags & FLAG_T != 0 {
                        return err("internal: unsupported template operator");
                    }
                    walk(std::slice::from_ref(body.as_ref()), flags)?;
                }
                Node::Assert { behind, body, .. } => {
                    if *behind {
                        let (lo, hi) = width(body);
                        if lo != hi {
                            return err("look-behind requires fixed-width pattern");
                        }
                    }
                    walk(body, flags)?;
                }
                Node::GroupRefExists(_, yes, no) => {
                    walk(yes, flags)?;
                    if let Some(no) = no {
                        walk(no, flags)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
    walk(&p.nodes, p.flags)?;
    // sre's code validation rejects a condition on a group beyond the
    // last one, unless the pattern has no groups at all.
    fn max_cond(nodes: &[Node]) -> u64 {
        nodes
            .iter()
            .map(|n| match n {
                Node::Branch(items) => items.iter().map(|i| max_cond(i)).max().unwrap_or(0),
                Node::Group(_, b) | Node::Assert { body: b, .. } => max_cond(b),
                Node::Repeat { body, .. } => max_cond(std::slice::from_ref(body.as_ref())),
                Node::GroupRefExists(g, yes, no) => (*g)
                    .max(max_cond(yes))
                    .max(no.as_deref().map_or(0, max_cond)),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }
    let ncaptures = (p.groups - 1) as u64;
    if ncaptures > 0 && max_cond(&p.nodes) > ncaptures {
        return err("invalid SRE code");
    }
    if p.groups > 100 {
        return err("sorry, but this version only supports 100 named groups");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Code point sets.

const MAX_CHAR: u32 = 0x10FFFF;

/// Sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct CharSet(Vec<(u32, u32)>);

impl CharSet {
    fn from_ranges(mut r: Vec<(u32, u32)>) -> CharSet {
        r.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(r.len());
        for (lo, hi) in r {
            if let Some(last) = out.last_mut() {
                if lo <= last.1.saturating_add(1) {
                    last.1 = last.1.max(hi);
                    continue;
                }
            }
            out.push((lo, hi));
        }
        CharSet(out)
    }
    fn single(c: u32) -> CharSet {
        CharSet(vec![(c, c)])
    }
    fn union(&self, o: &CharSet) -> CharSet {
        let mut r = self.0.clone();
        r.extend_from_slice(&o.0);
        CharSet::from_ranges(r)
    }
    fn complement(&self) -> CharSet {
        let mut out = Vec::new();
        let mut next = 0u32;
        for &(lo, hi) in &self.0 {
            if lo > next {
                out.push((next, lo - 1));
            }
            next = hi.saturating_add(1);
        }
        if next <= MAX_CHAR && self.0.last().is_none_or(|l| l.1 < MAX_CHAR) {
            out.push((next, MAX_CHAR));
        }
        CharSet(out)
    }
    fn difference(&self, o: &CharSet) -> CharSet {
        self.complement().union(o).complement()
    }
    fn contains(&self, c: u32) -> bool {
        self.0
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }
}

/// Lowercase equivalents sre adds under IGNORECASE|UNICODE
/// (`sre_compile._equivalences`).
const EQUIVALENCES: &[&[u32]] = &[
    &[0x69, 0x131],
    &[0x73, 0x17f],
    &[0xb5, 0x3bc],
    &[0x345, 0x3b9, 0x1fbe],
    &[0x3b2, 0x3d0],
    &[0x3b5, 0x3f5],
    &[0x3b8, 0x3d1],
    &[0x3ba, 0x3f0],
    &[0x3c0, 0x3d6],
    &[0x3c1, 0x3f1],
    &[0x3c2, 0x3c3],
    &[0x3c6, 0x3d5],
    &[0x1e61, 0x1e9b],
];

/// How a pattern sees characters: sre's `getlower` and categories.
#[derive(Debug, Clone, Copy)]
struct CharModel {
    unicode: bool,
    ignorecase: bool,
    /// `_ignorecase_fixes` in effect (IGNORECASE|UNICODE without LOCALE).
    fixes: bool,
}

impl CharModel {
    fn new(flags: u32) -> CharModel {
        let unicode = flags & FLAG_U != 0 && flags & FLAG_L == 0;
        let ignorecase = flags & FLAG_I != 0;
        CharModel {
            unicode,
            ignorecase,
            fixes: ignorecase && unicode,
        }
    }
    fn pairs(&self) -> &'static [(u32, u32)] {
        if self.unicode {
            tables::UNI_LOWER
        } else {
            // The table starts with A-Z, which is all ASCII lowering is.
            &tables::UNI_LOWER[..26]
        }
    }
    fn lower(&self, c: u32) -> u32 {
        let pairs = self.pairs();
        match pairs.binary_search_by_key(&c, |&(k, _)| k) {
            Ok(i) => pairs[i].1,
            Err(_) => c,
        }
    }
    fn category(&self, cat: Cat) -> CharSet {
        let (base, neg) = match cat {
            Cat::Digit => (Base::Digit, false),
            Cat::NotDigit => (Base::Digit, true),
            Cat::Space => (Base::Space, false),
            Cat::NotSpace => (Base::Space, true),
            Cat::Word => (Base::Word, false),
            Cat::NotWord => (Base::Word, true),
        };
        let s = self.base(base);
        if neg {
            s.complement()
        } else {
            s
        }
    }
    fn base(&self, b: Base) -> CharSet {
        let ranges: Vec<(u32, u32)> = match (self.unicode, b) {
            (true, Base::Digit) => tables::UNI_DIGIT.to_vec(),
            (true, Base::Space) => tables::UNI_SPACE.to_vec(),
            (true, Base::Word) => tables::UNI_WORD.to_vec(),
            (false, Base::Digit) => vec![(0x30, 0x39)],
            (false, Base::Space) => vec![(0x09, 0x0d), (0x20, 0x20)],
            (false, Base::Word) => vec![(0x30, 0x39), (0x41, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)],
        };
        CharSet::from_ranges(ranges)
    }
    /// Adds `fixes[i]` for every `i` in `s`.
    fn add_fixes(&self, s: CharSet) -> CharSet {
        if !self.fixes {
            return s;
        }
        let mut extra = Vec::new();
        for eq in EQUIVALENCES {
            if eq.iter().any(|&c| s.contains(c)) {
                extra.extend(eq.iter().map(|&c| (c, c)));
            }
        }
        if extra.is_empty() {
            s
        } else {
            s.union(&CharSet::from_ranges(extra))
        }
    }
    /// `{lower(c) for c in [lo, hi]}`.
    fn lower_image(&self, lo: u32, hi: u32) -> CharSet {
        let mut removed = Vec::new();
        let mut added = Vec::new();
        for &(c, l) in self.pairs() {
            if c >= lo && c <= hi {
                removed.push((c, c));
                added.push((l, l));
            }
        }
        CharSet(vec![(lo, hi)])
            .difference(&CharSet::from_ranges(removed))
            .union(&CharSet::from_ranges(added))
    }
    /// The code points a single-character node accepts.  Under
    /// IGNORECASE sre tests `lower(c)`, and the subject is lowercased
    /// before matching, so this is the set of accepted lowercased chars.
    fn node_set(&self, n: &Node) -> Option<CharSet> {
        match n {
            Node::Lit(c) | Node::NotLit(c) => {
                let s = if self.ignorecase {
                    self.add_fixes(CharSet::single(self.lower(*c)))
                } else {
                    CharSet::single(*c)
                };
                Some(if matches!(n, Node::NotLit(_)) {
                    s.complement()
                } else {
                    s
                })
            }
            Node::In(items) => Some(self.class_set(items)),
            _ => None,
        }
    }

    fn class_set(&self, items: &[SetItem]) -> CharSet {
        let mut negate = false;
        let mut t = CharSet::default();
        for it in items {
            match *it {
                SetItem::Negate => negate = true,
                SetItem::Lit(c) => {
                    if self.ignorecase {
                        let i = self.lower(c);
                        if i > 0xFFFF {
                            t = t.union(&CharSet::single(c));
                        } else {
                            t = t.union(&self.add_fixes(CharSet::single(i)));
                        }
                    } else {
                        t = t.union(&CharSet::single(c));
                    }
                }
                SetItem::Range(lo, hi) => {
                    if self.ignorecase {
                        if lo <= 0xFFFF {
                            let img = self.lower_image(lo, hi.min(0xFFFF));
                            t = t.union(&self.add_fixes(img));
                        }
                        if hi > 0xFFFF {
                            t = t.union(&CharSet(vec![(lo, hi)]));
                            if self.unicode {
                                let (a, b) = (lo.max(0x10000), hi.min(0x11FFF));
                                if a <= b {
                                    t = t.union(&self.lower_image(a, b));
                                }
                            }
                        }
                    } else {
                        t = t.union(&CharSet(vec![(lo, hi)]));
                    }
                }
                SetItem::Cat(cat) => t = t.union(&self.category(cat)),
            }
        }
        if negate {
            t.complement()
        } else {
            t
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Base {
    Digit,
    Space,
    Word,
}

// ---------------------------------------------------------------------------
// Emitting the engine's pattern.

/// Never matches.
const FAIL: &str = "[^\\x{0}-\\x{10FFFF}]";

fn push_char(out: &mut String, c: u32) {
    match char::from_u32(c) {
        Some(ch) if ch.is_ascii_alphanumeric() => out.push(ch),
        _ => out.push_str(&format!("\\x{{{c:X}}}")),
    }
}

/// Emits a set as one atom.
fn push_set(out: &mut String, s: &CharSet) {
    // Surrogates cannot occur in a `&str`, and the engine rejects them.
    let surrogates = CharSet(vec![(0xD800, 0xDFFF)]);
    let s = s.difference(&surrogates);
    let r = &s.0;
    if r.is_empty() {
        out.push_str(FAIL);
    } else if r.len() == 1 && r[0].0 == r[0].1 {
        push_char(out, r[0].0);
    } else if r.as_slice() == [(0, 0xD7FF), (0xE000, MAX_CHAR)] {
        out.push_str("(?s:.)");
    } else if r.as_slice() == [(0, 9), (11, 0xD7FF), (0xE000, MAX_CHAR)] {
        out.push('.');
    } else {
        out.push('[');
        for &(lo, hi) in r {
            push_char(out, lo);
            if hi > lo {
                if hi > lo + 1 {
                    out.push('-');
                }
                push_char(out, hi);
            }
        }
        out.push(']');
    }
}

struct Emitter {
    model: CharModel,
    flags: u32,
    kind: SubjectKind,
    groups: usize,
    word: String,
}

fn translate(p: &Parsed, kind: SubjectKind) -> String {
    let model = CharModel::new(p.flags);
    let mut word = String::new();
    push_set(&mut word, &model.base(Base::Word));
    let e = Emitter {
        model,
        flags: p.flags,
        kind,
        groups: p.groups,
        word,
    };
    let mut out = String::new();
    e.seq(&p.nodes, &mut out);
    out
}

/// Whether a node always matches the empty string when it matches.
fn zero_width(n: &Node) -> bool {
    match n {
        Node::Assert { .. } | Node::At(_) => true,
        Node::Group(_, b) => b.iter().all(zero_width),
        Node::Branch(items) => items.iter().all(|i| i.iter().all(zero_width)),
        Node::GroupRefExists(_, yes, no) => {
            yes.iter().all(zero_width) && no.iter().flatten().all(zero_width)
        }
        Node::Repeat { max, body, .. } => *max == 0 || zero_width(body),
        _ => false,
    }
}

fn has_groupref(nodes: &[Node]) -> bool {
    nodes.iter().any(|n| match n {
        Node::GroupRef(_) | Node::GroupRefExists(..) => true,
        Node::Branch(items) => items.iter().any(|i| has_groupref(i)),
        Node::Group(_, b) | Node::Assert { body: b, .. } => has_groupref(b),
        Node::Repeat { body, .. } => has_groupref(std::slice::from_ref(body.as_ref())),
        _ => false,
    })
}

impl Emitter {
    fn seq(&self, nodes: &[Node], out: &mut String) {
        for n in nodes {
            self.node(n, out);
        }
    }

    fn node(&self, n: &Node, out: &mut String) {
        match n {
            Node::Lit(_) | Node::NotLit(_) | Node::In(_) => {
                let s = self.model.node_set(n).unwrap_or_default();
                push_set(out, &s);
            }
            Node::Any => out.push_str(if self.flags & FLAG_S != 0 {
                "(?s:.)"
            } else {
                "."
            }),
            Node::At(at) => self.at(*at, out),
            Node::Branch(items) => {
                out.push_str("(?:");
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push('|');
                    }
                    self.seq(it, out);
                }
                out.push(')');
            }
            Node::Repeat {
                min,
                max,
                lazy,
                body,
            } if zero_width(body) => {
                // sre repeats a zero-width item at most once per position:
                // a minimum of 0 makes it optional, otherwise it is needed
                // once.  The engine rejects quantified assertions.
                if *max == 0 {
                    out.push_str("(?:");
                    out.push_str(FAIL);
                    self.node(body, out);
                    out.push_str("|)");
                } else if *min == 0 {
                    out.push_str("(?:");
                    if *lazy {
                        out.push('|');
                    }
                    self.node(body, out);
                    if !*lazy {
                        out.push('|');
                    }
                    out.push(')');
                } else {
                    out.push_str("(?:");
                    self.node(body, out);
                    out.push(')');
                }
            }
            Node::Repeat {
                min,
                max,
                lazy,
                body,
            } => {
                let atom = matches!(
                    body.as_ref(),
                    Node::Lit(_) | Node::NotLit(_) | Node::In(_) | Node::Any | Node::Group(..)
                );
                if !atom {
                    out.push_str("(?:");
                }
                self.node(body, out);
                if !atom {
                    out.push(')');
                }
                match (*min, *max) {
                    (0, MAXREPEAT) => out.push('*'),
                    (1, MAXREPEAT) => out.push('+'),
                    (0, 1) => out.push('?'),
                    (m, MAXREPEAT) => out.push_str(&format!("{{{m},}}")),
                    (m, x) if m == x => out.push_str(&format!("{{{m}}}")),
                    (m, x) => out.push_str(&format!("{{{m},{x}}}")),
                }
                if *lazy {
                    out.push('?');
                }
            }
            Node::Group(gid, body) => {
                out.push_str(if gid.is_some() { "(" } else { "(?:" });
                self.seq(body, out);
                out.push(')');
            }
            Node::Assert {
                behind,
                negate,
                body,
            } => {
                let mut inner = String::new();
                self.seq(body, &mut inner);
                if !*behind {
                    out.push_str(if *negate { "(?!" } else { "(?=" });
                    out.push_str(&inner);
                    out.push(')');
                } else if has_groupref(body) {
                    // sre goes back the computed width (group references
                    // count as zero) and matches forward from there.
                    let (w, _) = width(body);
                    if w == 0 {
                        out.push_str(if *negate { "(?!" } else { "(?=" });
                        out.push_str(&inner);
                        out.push(')');
                    } else {
                        out.push_str(if *negate { "(?<!(?=" } else { "(?<=(?=" });
                        out.push_str(&inner);
                        out.push_str(&format!(")(?s:.){{{w}}})"));
                    }
                } else {
                    out.push_str(if *negate { "(?<!" } else { "(?<=" });
                    out.push_str(&inner);
                    out.push(')');
                }
            }
            // Under IGNORECASE the subject is lowercased, so sre's
            // `lower(a) == lower(b)` comparison is plain equality.
            Node::GroupRef(g) => out.push_str(&format!("\\k<{g}>")),
            Node::GroupRefExists(g, yes, no) => {
                let no = no.as_deref().unwrap_or(&[]);
                if *g as u128 >= self.groups as u128 {
                    // No such group: it never matched.
                    out.push_str("(?:");
                    self.seq(no, out);
                    out.push(')');
                } else if yes.is_empty() && no.is_empty() {
                } else {
                    out.push_str(&format!("(?({g})(?:"));
                    self.seq(yes, out);
                    out.push_str(")|(?:");
                    self.seq(no, out);
                    out.push_str("))");
                }
            }
        }
    }

    fn at(&self, at: At, out: &mut String) {
        let ml = self.flags & FLAG_M != 0;
        match at {
            At::Beginning if ml => out.push_str("(?m:^)"),
            At::Beginning | At::BeginningString => out.push_str("\\A"),
            At::End if ml => out.push_str("(?m:$)"),
            At::End => match self.kind {
                SubjectKind::TrailingNewline => out.push_str("(?:\\z|(?=\\n\\z))"),
                _ => out.push_str("\\z"),
            },
            At::EndString => out.push_str("\\z"),
            At::Boundary | At::NonBoundary if self.kind == SubjectKind::Empty => out.push_str(FAIL),
            At::Boundary => {
                let w = &self.word;
                out.push_str(&format!("(?:(?<={w})(?!{w})|(?<!{w})(?={w}))"));
            }
            At::NonBoundary => {
                let w = &self.word;
                out.push_str(&format!("(?:(?<={w})(?={w})|(?<!{w})(?!{w}))"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_lowering_is_the_head_of_the_unicode_table() {
        let ascii: Vec<(u32, u32)> = (b'A'..=b'Z').map(|c| (c as u32, c as u32 + 32)).collect();
        assert_eq!(&tables::UNI_LOWER[..26], ascii.as_slice());
    }

    #[test]
    fn typical_list_patterns_need_no_program() {
        let i = Flags {
            ignorecase: true,
            multiline: false,
            unicode: false,
        };
        let imu = Flags {
            ignorecase: true,
            multiline: true,
            unicode: true,
        };
        for (p, f) in [
            ("^.*@trusted\\.org$", i),
            ("friend@public.com", i),
            (".*@uplinkpro.com", i),
            ("^[^@]+@(lists\\.)?example\\.org", i),
            ("^subject:.*vi\u{e1}gra", imu),
            ("^x-spam-flag: yes", imu),
        ] {
            let re = PyRegex::compile(p, f).unwrap();
            let simple = re.inner.simple.is_some();
            // The optional group is not a simple item.
            assert_eq!(simple, !p.contains('?'), "{p}");
        }
        let re = PyRegex::compile("^.*@trusted\\.org$", i).unwrap();
        assert!(re.search("Y@Trusted.ORG").unwrap());
        assert!(re.search("y@trusted.org\n").unwrap());
        assert!(!re.search("y@trusted.org.evil.net").unwrap());
        assert!(!re.search("y@trusted.org\n\n").unwrap());
        let re = PyRegex::compile("^x-spam-flag: yes", imu).unwrap();
        assert!(re.search("subject: hi\nX-Spam-Flag: YES\n").unwrap());
        assert!(!re.search("subject: x-spam-flag: yes").unwrap());
        assert!(re.match_start("x-spam-flag: yes").unwrap());
        assert!(!re.match_start("a\nx-spam-flag: yes").unwrap());
    }

    fn t(p: &str) -> String {
        let parsed = parse(p, 0).unwrap();
        translate(&parsed, SubjectKind::Plain)
    }

    #[test]
    fn translations() {
        assert_eq!(t("ab"), "ab");
        assert_eq!(t("^a$"), "\\Aa\\z");
        assert_eq!(t("\\d+"), "[0-9]+");
    }

    #[test]
    fn sets() {
        let m = CharModel::new(FLAG_I);
        let s = m.node_set(&Node::Lit('K' as u32)).unwrap();
        assert_eq!(s.0, vec![(0x6b, 0x6b)]);
        let m = CharModel::new(FLAG_I | FLAG_U);
        assert_eq!(m.lower(0x212A), 0x6b);
        let s = m.node_set(&Node::Lit('s' as u32)).unwrap();
        assert!(s.contains(0x17f));
    }

    /// Lowercasing the subject must not change what `\b`, `$` and `.` see.
    #[test]
    fn lowering_keeps_word_and_newline() {
        for flags in [FLAG_I, FLAG_I | FLAG_U] {
            let m = CharModel::new(flags);
            let word = m.base(Base::Word);
            for &(c, l) in m.pairs() {
                assert_eq!(word.contains(c), word.contains(l), "{c:x}");
                assert!(c != 10 && l != 10);
                assert!(char::from_u32(l).is_some());
            }
        }
    }
}
