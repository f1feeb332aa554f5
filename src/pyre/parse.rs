//! The pattern parser: a port of CPython 2.7's `sre_parse`, with the checks
//! `sre_compile` makes after parsing.

use super::CompileError;

// ---------------------------------------------------------------------------
// Parsing, as sre_parse does it.

pub(super) const FLAG_T: u32 = 1;
pub(super) const FLAG_I: u32 = 2;
pub(super) const FLAG_L: u32 = 4;
pub(super) const FLAG_M: u32 = 8;
pub(super) const FLAG_S: u32 = 16;
pub(super) const FLAG_U: u32 = 32;
pub(super) const FLAG_X: u32 = 64;

/// sre's "unbounded" repeat count; counts at or above it are errors.
pub(super) const MAXREPEAT: u64 = 4_294_967_295;
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

/// What Python raises as `sre_constants.error`.
fn err<T>(msg: &str) -> Result<T, CompileError> {
    Err(CompileError::Invalid(msg.to_string()))
}

/// What Python raises as another exception (`RuntimeError`,
/// `OverflowError`, `AssertionError`): Mailman does not catch these, so the
/// outcome is not a "bad pattern" but a failure of the handler.
fn unsupported<T>(msg: &str) -> Result<T, CompileError> {
    Err(CompileError::Unsupported(msg.to_string()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
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
    fn new(p: &str) -> Result<Source, CompileError> {
        // Sized by the input: a refused allocation is a limit, not an abort.
        let mut chars = Vec::new();
        chars
            .try_reserve_exact(p.len())
            .map_err(|_| CompileError::TooLarge("no memory for the pattern".into()))?;
        chars.extend(p.chars());
        let mut s = Source {
            s: chars,
            index: 0,
            next: None,
        };
        s.advance()?;
        Ok(s)
    }
    fn advance(&mut self) -> Result<(), CompileError> {
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
    fn get(&mut self) -> Result<Option<Tok>, CompileError> {
        let t = self.next;
        self.advance()?;
        Ok(t)
    }
    fn eat(&mut self, c: char) -> Result<bool, CompileError> {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Cat {
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Word,
    NotWord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum SetItem {
    Negate,
    Lit(u32),
    Range(u32, u32),
    Cat(Cat),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    Beginning,
    BeginningString,
    Boundary,
    NonBoundary,
    End,
    EndString,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node {
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
    fn opengroup(&mut self, name: Option<String>) -> Result<usize, CompileError> {
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
pub(super) struct Parsed {
    pub(super) nodes: Vec<Node>,
    pub(super) flags: u32,
    /// Python's `groups` counter: capturing groups + 1.
    pub(super) groups: usize,
}

pub(super) fn parse(pattern: &str, flags: u32) -> Result<Parsed, CompileError> {
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

fn parse_sub(src: &mut Source, st: &mut State, nested: usize) -> Result<Vec<Node>, CompileError> {
    if nested > MAX_NESTING {
        return unsupported("pattern too deeply nested (Python: maximum recursion depth exceeded)");
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
    // As sre_parse: a first item all alternatives share moves out of the
    // branch (Python compares the tuples, so only items without a nested
    // subpattern can be equal), and a branch of single literals becomes a
    // set.  Both shape the program sre_compile emits (its search prefix).
    let mut sub = Vec::new();
    let mut common = 0;
    while let Some(first) = items[0].get(common) {
        if flat(first) && items.iter().all(|it| it.get(common) == Some(first)) {
            common += 1;
        } else {
            break;
        }
    }
    if common > 0 {
        sub.extend(items[0][..common].iter().cloned());
        for it in &mut items {
            it.drain(..common);
        }
    }
    let lits: Option<Vec<SetItem>> = items
        .iter()
        .map(|it| match it.as_slice() {
            [Node::Lit(c)] => Some(SetItem::Lit(*c)),
            _ => None,
        })
        .collect();
    match lits {
        Some(set) => sub.push(Node::In(set)),
        None => sub.push(Node::Branch(items)),
    }
    Ok(sub)
}

/// Whether Python's tuple comparison can find two such items equal: those
/// holding a `SubPattern` compare by identity.
fn flat(n: &Node) -> bool {
    matches!(
        n,
        Node::Lit(_) | Node::NotLit(_) | Node::In(_) | Node::Any | Node::At(_) | Node::GroupRef(_)
    )
}

fn parse_sub_cond(
    src: &mut Source,
    st: &mut State,
    condgroup: u64,
    nested: usize,
) -> Result<Vec<Node>, CompileError> {
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
fn read_name(src: &mut Source, end: char) -> Result<Option<String>, CompileError> {
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

fn parse_seq(src: &mut Source, st: &mut State, nested: usize) -> Result<Vec<Node>, CompileError> {
    if nested > MAX_NESTING {
        return unsupported("pattern too deeply nested (Python: maximum recursion depth exceeded)");
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
                        let num = |s: &str| -> Result<u64, CompileError> {
                            let v: u128 = s.parse().unwrap_or(u128::MAX);
                            if v >= MAXREPEAT as u128 {
                                return unsupported(
                                    "the repetition number is too large (Python: OverflowError)",
                                );
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
) -> Result<Option<Node>, CompileError> {
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
                return unsupported("regular expression code size limit exceeded");
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

fn parse_class(src: &mut Source) -> Result<Node, CompileError> {
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

fn class_escape(src: &mut Source, e: char) -> Result<SetItem, CompileError> {
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
fn hex_escape(src: &mut Source) -> Result<u32, CompileError> {
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

fn escape(src: &mut Source, e: char, st: &State) -> Result<Node, CompileError> {
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
pub(super) fn width(nodes: &[Node]) -> (u128, u128) {
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

pub(super) fn check(p: &Parsed) -> Result<(), CompileError> {
    fn walk(nodes: &[Node], flags: u32) -> Result<(), CompileError> {
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
        return unsupported("invalid SRE code");
    }
    if p.groups > 100 {
        return unsupported("sorry, but this version only supports 100 named groups");
    }
    Ok(())
}

pub(super) fn has_groupref(nodes: &[Node]) -> bool {
    nodes.iter().any(|n| match n {
        Node::GroupRef(_) | Node::GroupRefExists(..) => true,
        Node::Branch(items) => items.iter().any(|i| has_groupref(i)),
        Node::Group(_, b) | Node::Assert { body: b, .. } => has_groupref(b),
        Node::Repeat { body, .. } => has_groupref(std::slice::from_ref(body.as_ref())),
        _ => false,
    })
}
