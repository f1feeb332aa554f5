//! A port of CPython 2.7's `_sre.c` matcher (`SRE_MATCH`, `SRE_SEARCH`,
//! `SRE_COUNT`, `SRE_AT`) over the program of `compile.rs`, with every step
//! counted against a budget.
//!
//! `SRE_MATCH` is non-recursive in C: each nested attempt is a context on
//! a stack and returns to its parent through a jump code; the same is done
//! here with `Frame` and `Jump`.  Marks, `lastmark`, the mark stack saved
//! by `BRANCH` and `MAX_UNTIL`, the repeat contexts and the zero-width
//! guards (`last_ptr`) follow the C code, including what it does not reset
//! between the start positions of a search.
//!
//! The subject is UTF-8 (`&str`); positions are byte offsets, and one step
//! back is one char back.  Each operator executed, each char counted or
//! given back by a repeat, each char scanned by a search shortcut and each
//! start position costs one step.  The frame and mark stacks are capped
//! ([`MatchError::Memory`]) and grown fallibly.

use super::compile::{AtCode, Op, Program, UNBOUNDED};
use super::MatchError;

const NULL: usize = usize::MAX;
const NONE: usize = usize::MAX;

/// Bytes the frame and data stacks of one match may hold together.
pub const STACK_LIMIT: usize = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Jump {
    Top,
    Branch,
    RepeatOne1,
    RepeatOne2,
    MinRepeatOne,
    Repeat,
    MaxUntil1,
    MaxUntil2,
    MaxUntil3,
    MinUntil1,
    MinUntil2,
    MinUntil3,
    Assert,
    AssertNot,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    pc: usize,
    ptr: usize,
    count: i64,
    lastmark: isize,
    lastindex: isize,
    rep: usize,
    alt: usize,
    jump: Jump,
}

#[derive(Debug, Clone, Copy)]
struct Rep {
    count: i64,
    /// The `Repeat` op.
    pc: usize,
    prev: usize,
    last_ptr: usize,
}

enum Flow {
    Call(Jump, usize),
    Ret(bool),
    Continue,
}

pub(super) struct Vm<'p, 's> {
    prog: &'p Program,
    s: &'s [u8],
    end: usize,
    marks: Vec<usize>,
    lastmark: isize,
    lastindex: isize,
    reps: Vec<Rep>,
    repeat: usize,
    data: Vec<usize>,
    frames: Vec<Frame>,
    /// `state->ptr`.
    sptr: usize,
    /// Steps left.
    pub(super) left: u64,
}

/// The char at `i` (which must be below the end) and the position after it.
#[inline]
fn decode(s: &[u8], i: usize) -> (u32, usize) {
    let b = s[i];
    if b < 0x80 {
        return (b as u32, i + 1);
    }
    let (n, init) = if b >= 0xF0 {
        (4, (b & 0x07) as u32)
    } else if b >= 0xE0 {
        (3, (b & 0x0F) as u32)
    } else {
        (2, (b & 0x1F) as u32)
    };
    let mut c = init;
    for k in 1..n {
        c = (c << 6) | (s.get(i + k).copied().unwrap_or(0x80) & 0x3F) as u32;
    }
    (c, i + n)
}

/// The position of the char before `i` (> 0).
#[inline]
fn back(s: &[u8], i: usize) -> usize {
    let mut j = i - 1;
    while j > 0 && s[j] & 0xC0 == 0x80 {
        j -= 1;
    }
    j
}

fn utf8_len(c: u32) -> usize {
    char::from_u32(c).map_or(4, char::len_utf8)
}

impl<'p, 's> Vm<'p, 's> {
    pub(super) fn new(prog: &'p Program, text: &'s str, left: u64) -> Result<Self, MatchError> {
        let mut marks = Vec::new();
        marks
            .try_reserve_exact(prog.marks)
            .map_err(|_| MatchError::Memory)?;
        marks.resize(prog.marks, NULL);
        Ok(Vm {
            prog,
            s: text.as_bytes(),
            end: text.len(),
            marks,
            lastmark: -1,
            lastindex: -1,
            reps: Vec::new(),
            repeat: NONE,
            data: Vec::new(),
            frames: Vec::new(),
            sptr: 0,
            left,
        })
    }

    #[inline]
    fn step(&mut self) -> Result<(), MatchError> {
        if self.left == 0 {
            return Err(MatchError::Budget);
        }
        self.left -= 1;
        Ok(())
    }

    fn spend(&mut self, n: u64) -> Result<(), MatchError> {
        if self.left < n {
            self.left = 0;
            return Err(MatchError::Budget);
        }
        self.left -= n;
        Ok(())
    }

    fn stack_bytes(&self) -> usize {
        self.frames.len() * std::mem::size_of::<Frame>()
            + self.data.len() * 8
            + self.reps.len() * std::mem::size_of::<Rep>()
    }

    fn grow_check(&self) -> Result<(), MatchError> {
        if self.stack_bytes() > STACK_LIMIT {
            return Err(MatchError::Memory);
        }
        Ok(())
    }

    fn data_push(&mut self, v: usize) -> Result<(), MatchError> {
        self.grow_check()?;
        self.data.try_reserve(1).map_err(|_| MatchError::Memory)?;
        self.data.push(v);
        Ok(())
    }

    fn data_pop(&mut self) -> usize {
        self.data.pop().unwrap_or(NULL)
    }

    fn mark_push(&mut self, lastmark: isize) -> Result<(), MatchError> {
        if lastmark > 0 {
            let n = lastmark as usize + 1;
            self.grow_check()?;
            self.data.try_reserve(n).map_err(|_| MatchError::Memory)?;
            self.data.extend_from_slice(&self.marks[..n]);
        }
        Ok(())
    }

    fn mark_pop_keep(&mut self, lastmark: isize) {
        if lastmark > 0 {
            let n = lastmark as usize + 1;
            let from = self.data.len() - n;
            self.marks[..n].copy_from_slice(&self.data[from..]);
        }
    }

    fn mark_pop(&mut self, lastmark: isize) {
        if lastmark > 0 {
            self.mark_pop_keep(lastmark);
            self.mark_pop_discard(lastmark);
        }
    }

    fn mark_pop_discard(&mut self, lastmark: isize) {
        if lastmark > 0 {
            let n = lastmark as usize + 1;
            self.data.truncate(self.data.len() - n);
        }
    }

    fn lastmark_save(&self, f: &mut Frame) {
        f.lastmark = self.lastmark;
        f.lastindex = self.lastindex;
    }

    fn lastmark_restore(&mut self, f: &Frame) {
        self.lastmark = f.lastmark;
        self.lastindex = f.lastindex;
    }

    #[inline]
    fn lower(&self, c: u32) -> u32 {
        self.prog.model.lower(c)
    }

    /// Whether the single-character op accepts `c`.
    #[inline]
    fn test(&self, op: Op, c: u32) -> bool {
        match op {
            Op::Any => c != 10,
            Op::AnyAll => true,
            Op::Lit(x) => c == x,
            Op::NotLit(x) => c != x,
            Op::LitFold(x) => self.lower(c) == x,
            Op::NotLitFold(x) => self.lower(c) != x,
            Op::In(k) => self.prog.classes[k as usize].contains(c),
            Op::InFold(k) => self.prog.classes[k as usize].contains(self.lower(c)),
            _ => false,
        }
    }

    fn is_word(&self, c: u32) -> bool {
        self.prog.model.is(super::charset::Base::Word, c)
    }

    /// `SRE_AT`.
    fn at(&self, ptr: usize, code: AtCode) -> bool {
        let (s, end) = (self.s, self.end);
        match code {
            AtCode::Beginning | AtCode::BeginningString => ptr == 0,
            AtCode::BeginningLine => ptr == 0 || s[ptr - 1] == b'\n',
            AtCode::End => (ptr + 1 == end && s[ptr] == b'\n') || ptr == end,
            AtCode::EndLine => ptr == end || s[ptr] == b'\n',
            AtCode::EndString => ptr == end,
            AtCode::Boundary | AtCode::NonBoundary => {
                if end == 0 {
                    return false;
                }
                let that = ptr > 0 && self.is_word(decode(s, back(s, ptr)).0);
                let this = ptr < end && self.is_word(decode(s, ptr).0);
                (this != that) == (code == AtCode::Boundary)
            }
        }
    }

    /// `SRE_COUNT`: how many chars from `ptr` the single-character op at
    /// `pc` accepts, up to `max`; and the position after them.
    fn count(&mut self, pc: usize, ptr: usize, max: u32) -> Result<(i64, usize), MatchError> {
        let op = self.prog.ops[pc];
        let (mut p, mut n) = (ptr, 0u64);
        let max = if max == UNBOUNDED {
            u64::MAX
        } else {
            max as u64
        };
        while n < max && p < self.end {
            self.step()?;
            let (c, next) = decode(self.s, p);
            if !self.test(op, c) {
                break;
            }
            p = next;
            n += 1;
        }
        Ok((n as i64, p))
    }

    fn push_frame(&mut self, pc: usize, ptr: usize, jump: Jump) -> Result<(), MatchError> {
        self.grow_check()?;
        self.frames.try_reserve(1).map_err(|_| MatchError::Memory)?;
        self.frames.push(Frame {
            pc,
            ptr,
            count: 0,
            lastmark: -1,
            lastindex: -1,
            rep: NONE,
            alt: 0,
            jump,
        });
        Ok(())
    }

    /// `SRE_MATCH` from op `pc` at `ptr`.
    pub(super) fn run(&mut self, pc: usize, ptr: usize) -> Result<bool, MatchError> {
        self.frames.clear();
        self.data.clear();
        self.reps.clear();
        self.repeat = NONE;
        self.sptr = ptr;
        self.push_frame(pc, ptr, Jump::Top)?;
        let mut resume: Option<(Jump, bool)> = None;
        loop {
            let flow = match resume.take() {
                None => self.exec()?,
                Some((jump, ret)) => self.resume(jump, ret)?,
            };
            match flow {
                Flow::Call(jump, pc) => {
                    let ptr = self.sptr;
                    self.push_frame(pc, ptr, jump)?;
                }
                Flow::Ret(ret) => {
                    let child = self.frames.pop().map_or(Jump::Top, |f| f.jump);
                    if self.frames.is_empty() {
                        return Ok(ret);
                    }
                    resume = Some((child, ret));
                }
                Flow::Continue => {}
            }
        }
    }

    fn top(&self) -> Frame {
        self.frames[self.frames.len() - 1]
    }

    fn set_top(&mut self, f: Frame) {
        let i = self.frames.len() - 1;
        self.frames[i] = f;
    }

    /// Runs the top frame from its `pc` until it calls or returns.
    fn exec(&mut self) -> Result<Flow, MatchError> {
        let mut f = self.top();
        let (s, end) = (self.s, self.end);
        loop {
            self.step()?;
            let op = self.prog.ops[f.pc];
            match op {
                Op::Failure => return Ok(Flow::Ret(false)),
                Op::Success => {
                    self.sptr = f.ptr;
                    return Ok(Flow::Ret(true));
                }
                Op::Any
                | Op::AnyAll
                | Op::Lit(_)
                | Op::NotLit(_)
                | Op::LitFold(_)
                | Op::NotLitFold(_)
                | Op::In(_)
                | Op::InFold(_) => {
                    if f.ptr >= end {
                        return Ok(Flow::Ret(false));
                    }
                    let (c, next) = decode(s, f.ptr);
                    if !self.test(op, c) {
                        return Ok(Flow::Ret(false));
                    }
                    f.ptr = next;
                    f.pc += 1;
                }
                Op::At(code) => {
                    if !self.at(f.ptr, code) {
                        return Ok(Flow::Ret(false));
                    }
                    f.pc += 1;
                }
                Op::Mark(i) => {
                    let i = i as usize;
                    if i & 1 == 1 {
                        self.lastindex = (i / 2 + 1) as isize;
                    }
                    if i as isize > self.lastmark {
                        let from = (self.lastmark + 1) as usize;
                        for m in &mut self.marks[from..i] {
                            *m = NULL;
                        }
                        self.lastmark = i as isize;
                    }
                    self.marks[i] = f.ptr;
                    f.pc += 1;
                }
                Op::Jump(to) => f.pc = to as usize,
                Op::Branch(_) => {
                    self.lastmark_save(&mut f);
                    f.rep = self.repeat;
                    if f.rep != NONE {
                        self.mark_push(f.lastmark)?;
                    }
                    f.alt = 0;
                    let flow = self.branch_next(&mut f)?;
                    self.set_top(f);
                    return Ok(flow);
                }
                Op::RepeatOne { min, max, next } => {
                    if ((end - f.ptr) as u64) < min as u64 {
                        return Ok(Flow::Ret(false));
                    }
                    self.sptr = f.ptr;
                    let (n, p) = self.count(f.pc + 1, f.ptr, max)?;
                    f.count = n;
                    f.ptr = p;
                    if n < min as i64 {
                        return Ok(Flow::Ret(false));
                    }
                    if self.prog.ops[next as usize] == Op::Success {
                        self.sptr = f.ptr;
                        return Ok(Flow::Ret(true));
                    }
                    self.lastmark_save(&mut f);
                    let flow = self.repeat_one_next(&mut f)?;
                    self.set_top(f);
                    return Ok(flow);
                }
                Op::MinRepeatOne { min, next, .. } => {
                    if ((end - f.ptr) as u64) < min as u64 {
                        return Ok(Flow::Ret(false));
                    }
                    self.sptr = f.ptr;
                    if min == 0 {
                        f.count = 0;
                    } else {
                        let (n, p) = self.count(f.pc + 1, f.ptr, min)?;
                        if n < min as i64 {
                            return Ok(Flow::Ret(false));
                        }
                        f.count = n;
                        f.ptr = p;
                    }
                    if self.prog.ops[next as usize] == Op::Success {
                        self.sptr = f.ptr;
                        return Ok(Flow::Ret(true));
                    }
                    self.lastmark_save(&mut f);
                    let flow = self.min_repeat_one_next(&mut f);
                    self.set_top(f);
                    return Ok(flow);
                }
                Op::Repeat { until, .. } => {
                    self.grow_check()?;
                    self.reps.try_reserve(1).map_err(|_| MatchError::Memory)?;
                    self.reps.push(Rep {
                        count: -1,
                        pc: f.pc,
                        prev: self.repeat,
                        last_ptr: NULL,
                    });
                    f.rep = self.reps.len() - 1;
                    self.repeat = f.rep;
                    self.sptr = f.ptr;
                    self.set_top(f);
                    return Ok(Flow::Call(Jump::Repeat, until as usize));
                }
                Op::MaxUntil => {
                    let flow = match self.until_round(&mut f, Jump::MaxUntil1)? {
                        Err(again) => again,
                        Ok(_) => self.max_until_more(&mut f)?,
                    };
                    self.set_top(f);
                    return Ok(flow);
                }
                Op::MinUntil => {
                    let flow = match self.until_round(&mut f, Jump::MinUntil1)? {
                        Err(again) => again,
                        Ok(rep) => {
                            self.lastmark_save(&mut f);
                            self.repeat = rep.prev;
                            Flow::Call(Jump::MinUntil2, f.pc + 1)
                        }
                    };
                    self.set_top(f);
                    return Ok(flow);
                }
                Op::GroupRef(g) | Op::GroupRefFold(g) => {
                    let fold = matches!(op, Op::GroupRefFold(_));
                    let gr = 2 * g as usize;
                    if gr as isize >= self.lastmark {
                        return Ok(Flow::Ret(false));
                    }
                    let (p, e) = (self.marks[gr], self.marks[gr + 1]);
                    if p == NULL || e == NULL || e < p {
                        return Ok(Flow::Ret(false));
                    }
                    self.spend((e - p) as u64)?;
                    if !fold {
                        let n = e - p;
                        if f.ptr + n > end || s[p..e] != s[f.ptr..f.ptr + n] {
                            return Ok(Flow::Ret(false));
                        }
                        f.ptr += n;
                    } else {
                        let mut q = p;
                        while q < e {
                            if f.ptr >= end {
                                return Ok(Flow::Ret(false));
                            }
                            let (a, qn) = decode(s, q);
                            let (b, pn) = decode(s, f.ptr);
                            if self.lower(a) != self.lower(b) {
                                return Ok(Flow::Ret(false));
                            }
                            q = qn;
                            f.ptr = pn;
                        }
                    }
                    f.pc += 1;
                }
                Op::GroupRefExists { group, no } => {
                    let gr = 2 * group as u64;
                    let set = if gr as i64 >= self.lastmark as i64 {
                        false
                    } else {
                        let gr = gr as usize;
                        let (p, e) = (self.marks[gr], self.marks[gr + 1]);
                        !(p == NULL || e == NULL || e < p)
                    };
                    f.pc = if set { f.pc + 1 } else { no as usize };
                }
                Op::Assert { back: n, .. } | Op::AssertNot { back: n, .. } => {
                    let negate = matches!(op, Op::AssertNot { .. });
                    let next = match op {
                        Op::Assert { next, .. } | Op::AssertNot { next, .. } => next as usize,
                        _ => unreachable!(),
                    };
                    let start = self.back_chars(f.ptr, n)?;
                    match (start, negate) {
                        (None, false) => return Ok(Flow::Ret(false)),
                        (None, true) => f.pc = next,
                        (Some(p), _) => {
                            self.sptr = p;
                            self.set_top(f);
                            let jump = if negate {
                                Jump::AssertNot
                            } else {
                                Jump::Assert
                            };
                            return Ok(Flow::Call(jump, f.pc + 1));
                        }
                    }
                }
            }
        }
    }

    /// `ptr` moved `n` chars back, or `None` before the beginning.
    fn back_chars(&mut self, ptr: usize, n: u32) -> Result<Option<usize>, MatchError> {
        if n as usize > ptr {
            return Ok(None);
        }
        let mut p = ptr;
        for _ in 0..n {
            if p == 0 {
                return Ok(None);
            }
            self.step()?;
            p = back(self.s, p);
        }
        Ok(Some(p))
    }

    fn repeat_bounds(&self, pc: usize) -> (u32, u32) {
        match self.prog.ops[pc] {
            Op::Repeat { min, max, .. } => (min, max),
            _ => (0, UNBOUNDED),
        }
    }

    fn branch_next(&mut self, f: &mut Frame) -> Result<Flow, MatchError> {
        let Op::Branch(table) = self.prog.ops[f.pc] else {
            return Err(MatchError::Internal);
        };
        let table = table as usize;
        let n = self.prog.alts[table] as usize;
        while f.alt < n {
            self.step()?;
            let apc = self.prog.alts[table + 1 + f.alt] as usize;
            let first = self.prog.ops[apc];
            if matches!(first, Op::Lit(_) | Op::In(_)) {
                let ok = f.ptr < self.end && self.test(first, decode(self.s, f.ptr).0);
                if !ok {
                    f.alt += 1;
                    continue;
                }
            }
            self.sptr = f.ptr;
            return Ok(Flow::Call(Jump::Branch, apc));
        }
        if f.rep != NONE {
            self.mark_pop_discard(f.lastmark);
        }
        Ok(Flow::Ret(false))
    }

    /// One char less for a greedy single-character repeat.
    fn give_back(&mut self, f: &mut Frame) -> Result<(), MatchError> {
        self.step()?;
        if f.count > 0 {
            f.ptr = back(self.s, f.ptr);
        }
        f.count -= 1;
        Ok(())
    }

    fn repeat_one_next(&mut self, f: &mut Frame) -> Result<Flow, MatchError> {
        let Op::RepeatOne { min, next, .. } = self.prog.ops[f.pc] else {
            return Err(MatchError::Internal);
        };
        let (min, next) = (min as i64, next as usize);
        if let Op::Lit(chr) = self.prog.ops[next] {
            // The tail starts with a literal: skip the positions where it
            // cannot match.
            while f.count >= min && (f.ptr >= self.end || decode(self.s, f.ptr).0 != chr) {
                self.give_back(f)?;
            }
            if f.count < min {
                return Ok(Flow::Ret(false));
            }
            self.sptr = f.ptr;
            return Ok(Flow::Call(Jump::RepeatOne1, next));
        }
        if f.count >= min {
            self.sptr = f.ptr;
            return Ok(Flow::Call(Jump::RepeatOne2, next));
        }
        Ok(Flow::Ret(false))
    }

    fn min_repeat_one_next(&mut self, f: &mut Frame) -> Flow {
        let Op::MinRepeatOne { max, next, .. } = self.prog.ops[f.pc] else {
            return Flow::Ret(false);
        };
        if max == UNBOUNDED || f.count <= max as i64 {
            self.sptr = f.ptr;
            return Flow::Call(Jump::MinRepeatOne, next as usize);
        }
        Flow::Ret(false)
    }

    /// `MAX_UNTIL` once the minimum is reached: one more item if possible.
    /// What MAX_UNTIL and MIN_UNTIL share (as in `_sre.c`): take the
    /// current repeat and count this round; below the repeat's minimum, go
    /// round the body again (`Err` holds that call). Otherwise the repeat
    /// is handed back for the caller's greedy or lazy choice.
    fn until_round(&mut self, f: &mut Frame, again: Jump) -> Result<Result<Rep, Flow>, MatchError> {
        let ri = self.repeat;
        if ri == NONE {
            return Err(MatchError::Internal);
        }
        f.rep = ri;
        self.sptr = f.ptr;
        let rep = self.reps[ri];
        let (min, _) = self.repeat_bounds(rep.pc);
        f.count = rep.count + 1;
        if f.count < min as i64 {
            self.reps[ri].count = f.count;
            return Ok(Err(Flow::Call(again, rep.pc + 1)));
        }
        Ok(Ok(rep))
    }

    fn max_until_more(&mut self, f: &mut Frame) -> Result<Flow, MatchError> {
        let ri = f.rep;
        let rep = self.reps[ri];
        let (_, max) = self.repeat_bounds(rep.pc);
        if (f.count < max as i64 || max == UNBOUNDED) && self.sptr != rep.last_ptr {
            self.reps[ri].count = f.count;
            self.lastmark_save(f);
            self.mark_push(f.lastmark)?;
            self.data_push(rep.last_ptr)?;
            self.reps[ri].last_ptr = self.sptr;
            return Ok(Flow::Call(Jump::MaxUntil2, rep.pc + 1));
        }
        Ok(self.max_until_tail(f))
    }

    fn max_until_tail(&mut self, f: &mut Frame) -> Flow {
        self.repeat = self.reps[f.rep].prev;
        Flow::Call(Jump::MaxUntil3, f.pc + 1)
    }

    /// Continues the top frame after a call made with `jump` returned `ret`.
    fn resume(&mut self, jump: Jump, ret: bool) -> Result<Flow, MatchError> {
        let mut f = self.top();
        let flow = match jump {
            Jump::Top => Flow::Ret(ret),
            Jump::Branch => {
                if ret {
                    if f.rep != NONE {
                        self.mark_pop_discard(f.lastmark);
                    }
                    return Ok(Flow::Ret(true));
                }
                if f.rep != NONE {
                    self.mark_pop_keep(f.lastmark);
                }
                self.lastmark_restore(&f);
                f.alt += 1;
                self.branch_next(&mut f)?
            }
            Jump::RepeatOne1 | Jump::RepeatOne2 => {
                if ret {
                    return Ok(Flow::Ret(true));
                }
                self.give_back(&mut f)?;
                self.lastmark_restore(&f);
                self.repeat_one_next(&mut f)?
            }
            Jump::MinRepeatOne => {
                if ret {
                    return Ok(Flow::Ret(true));
                }
                self.sptr = f.ptr;
                let (n, p) = self.count(f.pc + 1, f.ptr, 1)?;
                if n == 0 {
                    return Ok(Flow::Ret(false));
                }
                f.ptr = p;
                f.count += 1;
                self.lastmark_restore(&f);
                self.min_repeat_one_next(&mut f)
            }
            Jump::Repeat => {
                self.repeat = self.reps[f.rep].prev;
                self.reps.truncate(f.rep);
                Flow::Ret(ret)
            }
            Jump::MaxUntil1 | Jump::MinUntil1 => {
                if ret {
                    return Ok(Flow::Ret(true));
                }
                self.reps[f.rep].count = f.count - 1;
                self.sptr = f.ptr;
                Flow::Ret(false)
            }
            Jump::MaxUntil2 => {
                self.reps[f.rep].last_ptr = self.data_pop();
                if ret {
                    self.mark_pop_discard(f.lastmark);
                    return Ok(Flow::Ret(true));
                }
                self.mark_pop(f.lastmark);
                self.lastmark_restore(&f);
                self.reps[f.rep].count = f.count - 1;
                self.sptr = f.ptr;
                self.max_until_tail(&mut f)
            }
            Jump::MaxUntil3 => {
                if ret {
                    return Ok(Flow::Ret(true));
                }
                self.repeat = f.rep;
                self.sptr = f.ptr;
                Flow::Ret(false)
            }
            Jump::MinUntil2 => {
                if ret {
                    return Ok(Flow::Ret(true));
                }
                self.repeat = f.rep;
                self.sptr = f.ptr;
                self.lastmark_restore(&f);
                let rep = self.reps[f.rep];
                let (_, max) = self.repeat_bounds(rep.pc);
                if (f.count >= max as i64 && max != UNBOUNDED) || self.sptr == rep.last_ptr {
                    return Ok(Flow::Ret(false));
                }
                self.reps[f.rep].count = f.count;
                self.data_push(rep.last_ptr)?;
                self.reps[f.rep].last_ptr = self.sptr;
                Flow::Call(Jump::MinUntil3, rep.pc + 1)
            }
            Jump::MinUntil3 => {
                self.reps[f.rep].last_ptr = self.data_pop();
                if ret {
                    return Ok(Flow::Ret(true));
                }
                self.reps[f.rep].count = f.count - 1;
                self.sptr = f.ptr;
                Flow::Ret(false)
            }
            Jump::Assert | Jump::AssertNot => {
                if ret != (jump == Jump::Assert) {
                    return Ok(Flow::Ret(false));
                }
                f.pc = match self.prog.ops[f.pc] {
                    Op::Assert { next, .. } | Op::AssertNot { next, .. } => next as usize,
                    _ => return Err(MatchError::Internal),
                };
                Flow::Continue
            }
        };
        self.set_top(f);
        Ok(flow)
    }
}

/// Chars in `s`.
fn char_count(s: &[u8]) -> u64 {
    s.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64
}

/// `pattern.match(text)` (`anchored`) or `pattern.search(text)`, as
/// `pattern_match` and `SRE_SEARCH` run them.
pub(super) fn execute(
    prog: &Program,
    text: &str,
    anchored: bool,
    left: &mut u64,
) -> Result<bool, MatchError> {
    let mut vm = Vm::new(prog, text, *left)?;
    let res = search(prog, text, anchored, &mut vm);
    *left = vm.left;
    res
}

fn search(
    prog: &Program,
    text: &str,
    anchored: bool,
    vm: &mut Vm<'_, '_>,
) -> Result<bool, MatchError> {
    let s = text.as_bytes();
    let info = &prog.info;
    let need_count = info.present && info.min > 0;
    let nchars = if need_count {
        vm.spend(s.len() as u64 / 16 + 1)?;
        char_count(s)
    } else {
        0
    };
    if need_count && nchars < info.min {
        return Ok(false);
    }
    if anchored {
        return vm.run(0, 0);
    }
    if info.prefix.len() > 1 {
        let needle: String = info
            .prefix
            .iter()
            .map(|&c| char::from_u32(c).unwrap_or('\u{FFFD}'))
            .collect();
        if needle.chars().any(|c| c == '\u{FFFD}') {
            // A surrogate in the prefix never occurs in a `&str`.
            return Ok(false);
        }
        let skip_bytes: usize = info.prefix[..info.prefix_skip]
            .iter()
            .map(|&c| utf8_len(c))
            .sum();
        let mut from = 0;
        while from <= s.len() {
            let Some(found) = text[from..].find(&needle) else {
                vm.spend((s.len() - from) as u64)?;
                return Ok(false);
            };
            let at = from + found;
            vm.spend(found as u64 + 1)?;
            if info.literal {
                return Ok(true);
            }
            if vm.run(info.prefix_skip, at + skip_bytes)? {
                return Ok(true);
            }
            from = at + utf8_len(decode(s, at).0);
        }
        return Ok(false);
    }
    if let Some(&Op::Lit(chr)) = prog.ops.first() {
        let mut ptr = 0;
        loop {
            while ptr < s.len() {
                vm.step()?;
                let (c, next) = decode(s, ptr);
                if c == chr {
                    break;
                }
                ptr = next;
            }
            if ptr >= s.len() {
                return Ok(false);
            }
            let next = ptr + utf8_len(chr);
            if info.literal {
                return Ok(true);
            }
            if vm.run(1, next)? {
                return Ok(true);
            }
            ptr = next;
        }
    }
    if let Some(set) = &info.charset {
        let mut ptr = 0;
        loop {
            while ptr < s.len() {
                vm.step()?;
                let (c, next) = decode(s, ptr);
                if set.contains(c) {
                    break;
                }
                ptr = next;
            }
            if ptr >= s.len() {
                return Ok(false);
            }
            if vm.run(0, ptr)? {
                return Ok(true);
            }
            ptr = decode(s, ptr).1;
        }
    }
    // The general case: every start position, but the last ones that
    // leave fewer chars than the pattern needs.
    let last = if info.present && info.min > 1 {
        nchars - (info.min - 1)
    } else {
        u64::MAX
    };
    // Two shortcuts sre does not take (it has no prefix or charset under
    // IGNORECASE), both exact: a position whose char no first op accepts
    // fails at once, and a leading unbounded `.*` that fails at a
    // position fails at every later one of the same line.
    let first = FirstOps::of(prog);
    let dot_star = leading_dot_star(prog);
    let (mut ptr, mut idx) = (0usize, 0u64);
    loop {
        if let Some(first) = &first {
            while ptr < s.len() && idx <= last {
                let (c, next) = decode(s, ptr);
                if first.accepts(vm, c) {
                    break;
                }
                // A step per op tested, as the branch would spend.
                vm.spend(first.len as u64)?;
                ptr = next;
                idx += 1;
            }
            if ptr >= s.len() {
                // No char to read: every first op fails.
                return Ok(false);
            }
        }
        if idx > last {
            return Ok(false);
        }
        vm.step()?;
        if vm.run(0, ptr)? {
            return Ok(true);
        }
        if ptr >= s.len() {
            return Ok(false);
        }
        if dot_star {
            // From `ptr` the `.*` tried every end on this line that a
            // later start on it could try: go to the next line.
            let Some(nl) = memchr::memchr(b'\n', &s[ptr..]) else {
                vm.spend((s.len() - ptr) as u64 / 16 + 1)?;
                return Ok(false);
            };
            vm.spend(nl as u64 / 16 + 1)?;
            if last != u64::MAX {
                idx += char_count(&s[ptr..ptr + nl + 1]);
            }
            ptr += nl + 1;
            continue;
        }
        ptr = decode(s, ptr).1;
        idx += 1;
    }
}

/// Whether `op` reads exactly one char.
fn single_char(op: Op) -> bool {
    matches!(
        op,
        Op::Any
            | Op::AnyAll
            | Op::Lit(_)
            | Op::NotLit(_)
            | Op::LitFold(_)
            | Op::NotLitFold(_)
            | Op::In(_)
            | Op::InFold(_)
    )
}

/// The single-char ops of which one must accept the char at a start
/// position for a match to begin there: the first op past the group
/// marks (or the item of a repeat that takes at least one), or that of
/// each alternative of a first branch.
struct FirstOps {
    ops: [Op; FirstOps::MAX],
    len: usize,
}

impl FirstOps {
    const MAX: usize = 8;

    /// The op that reads the first char from `pc` on, if one must.
    fn at(prog: &Program, mut pc: usize) -> Option<Op> {
        loop {
            match *prog.ops.get(pc)? {
                Op::Mark(_) => pc += 1,
                op if single_char(op) => return Some(op),
                Op::RepeatOne { min, .. } | Op::MinRepeatOne { min, .. } if min >= 1 => {
                    let item = *prog.ops.get(pc + 1)?;
                    return single_char(item).then_some(item);
                }
                _ => return None,
            }
        }
    }

    fn of(prog: &Program) -> Option<FirstOps> {
        let mut first = FirstOps {
            ops: [Op::Failure; FirstOps::MAX],
            len: 0,
        };
        let mut pc = 0;
        while let Some(Op::Mark(_)) = prog.ops.get(pc) {
            pc += 1;
        }
        if let Some(&Op::Branch(table)) = prog.ops.get(pc) {
            let table = table as usize;
            let n = *prog.alts.get(table)? as usize;
            if n == 0 || n > FirstOps::MAX {
                return None;
            }
            for i in 0..n {
                let apc = *prog.alts.get(table + 1 + i)? as usize;
                first.ops[i] = FirstOps::at(prog, apc)?;
            }
            first.len = n;
        } else {
            first.ops[0] = FirstOps::at(prog, pc)?;
            first.len = 1;
        }
        Some(first)
    }

    fn accepts(&self, vm: &Vm<'_, '_>, c: u32) -> bool {
        self.ops[..self.len].iter().any(|&op| vm.test(op, c))
    }
}

/// Whether the program begins with an unbounded `.*` (`.` without
/// DOTALL, any minimum, greedy or not) outside any group: the ends it
/// tries from a start are a superset of those from any later start on
/// the same line, and what follows sees only the text and its position.
fn leading_dot_star(prog: &Program) -> bool {
    matches!(
        prog.ops.first(),
        Some(Op::RepeatOne { max: UNBOUNDED, .. } | Op::MinRepeatOne { max: UNBOUNDED, .. })
    ) && prog.ops.get(1) == Some(&Op::Any)
}
