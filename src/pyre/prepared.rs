//! Compiled patterns as bytes, so that a new process can take a list's
//! patterns from its snapshot instead of compiling them again.
//!
//! The bytes come from a file, so reading them trusts nothing: every
//! count is bounded by the bytes left, every code point, jump target,
//! class, alternative table and mark index is checked against what the
//! matcher will index, and the program must end in `SUCCESS` or
//! `FAILURE` so that no operator runs off its end. A program that passes
//! cannot make the matcher index out of bounds; the matcher's step budget
//! and stack cap bound its work as they do for a compiled one. Anything
//! else is `None`, and the caller compiles the pattern from its source.
//!
//! Layout (integers little-endian): [`PREPARED_VERSION`] (1 byte), then a
//! tag: 0 the bit-parallel form (its item sets, `x*` bits, anchors,
//! multiline, folding model; the masks are derived on reading), 1 a
//! program (model, marks, size, operators, alternative tables, classes,
//! `INFO` block).

use super::charset::{CharModel, CharSet, Class, MAX_CHAR};
use super::compile::{AtCode, Info, Op, Program, UNBOUNDED};
use super::parse::{At, Cat};
use super::simple::Simple;
use super::{Compiled, PROGRAM_LIMIT};

/// Version of the byte layout; bytes of another version are not read.
pub const PREPARED_VERSION: u8 = 1;

const TAG_SIMPLE: u8 = 0;
const TAG_PROGRAM: u8 = 1;

pub(super) fn encode(c: &Compiled) -> Vec<u8> {
    let mut w = Vec::with_capacity(64);
    w.push(PREPARED_VERSION);
    match c {
        Compiled::Simple(s) => {
            let (sets, many, start, end, multiline, fold) = s.parts();
            w.push(TAG_SIMPLE);
            w.extend_from_slice(&many.to_le_bytes());
            w.push(at_code(start));
            w.push(at_code(end));
            w.push(multiline as u8);
            w.push(fold.map_or(0xff, |m| m.bits()));
            put_u32(&mut w, sets.len() as u32);
            for set in sets {
                put_set(&mut w, set);
            }
        }
        Compiled::Program(p) => {
            w.push(TAG_PROGRAM);
            w.push(p.model.bits());
            put_u32(&mut w, p.marks as u32);
            put_u32(&mut w, p.bytes.min(u32::MAX as usize) as u32);
            put_u32(&mut w, p.ops.len() as u32);
            for op in &p.ops {
                put_op(&mut w, *op);
            }
            put_u32(&mut w, p.alts.len() as u32);
            for a in &p.alts {
                put_u32(&mut w, *a);
            }
            put_u32(&mut w, p.classes.len() as u32);
            for c in &p.classes {
                put_class(&mut w, c);
            }
            let i = &p.info;
            w.push(i.present as u8 | (i.literal as u8) << 1 | (i.charset.is_some() as u8) << 2);
            w.extend_from_slice(&i.min.to_le_bytes());
            put_u32(&mut w, i.prefix.len() as u32);
            for c in &i.prefix {
                put_u32(&mut w, *c);
            }
            put_u32(&mut w, i.prefix_skip as u32);
            if let Some(c) = &i.charset {
                put_class(&mut w, c);
            }
        }
    }
    w
}

/// The pattern `bytes` describe, checked; None if they are not exactly
/// one well-formed pattern of this version.
pub(super) fn decode(bytes: &[u8]) -> Option<Compiled> {
    let mut r = Reader { b: bytes, at: 0 };
    if r.u8()? != PREPARED_VERSION {
        return None;
    }
    let c = match r.u8()? {
        TAG_SIMPLE => {
            let many = r.u64()?;
            let start = at_of(r.u8()?)?;
            let end = at_of(r.u8()?)?;
            let multiline = bool_of(r.u8()?)?;
            let fold = match r.u8()? {
                0xff => None,
                bits => Some(CharModel::from_bits(bits)?),
            };
            let n = r.count(4)?;
            if n > 62 {
                return None;
            }
            let mut sets = Vec::with_capacity(n);
            for _ in 0..n {
                sets.push(r.set()?);
            }
            Compiled::Simple(Simple::from_parts(sets, many, start, end, multiline, fold)?)
        }
        TAG_PROGRAM => Compiled::Program(program(&mut r)?),
        _ => return None,
    };
    (r.at == bytes.len()).then_some(c)
}

fn program(r: &mut Reader<'_>) -> Option<Program> {
    let model = CharModel::from_bits(r.u8()?)?;
    let marks = r.u32()? as usize;
    let bytes = r.u32()? as usize;
    let n_ops = r.count(1)?;
    let mut ops = Vec::with_capacity(n_ops);
    for _ in 0..n_ops {
        ops.push(r.op()?);
    }
    let n_alts = r.count(4)?;
    let mut alts = Vec::with_capacity(n_alts);
    for _ in 0..n_alts {
        alts.push(r.u32()?);
    }
    let n_classes = r.count(9)?;
    let mut classes = Vec::with_capacity(n_classes);
    for _ in 0..n_classes {
        classes.push(r.class()?);
    }
    let flags = r.u8()?;
    if flags >= 8 {
        return None;
    }
    let min = r.u64()?;
    let n_prefix = r.count(4)?;
    let mut prefix = Vec::with_capacity(n_prefix);
    for _ in 0..n_prefix {
        let c = r.u32()?;
        if c > MAX_CHAR {
            return None;
        }
        prefix.push(c);
    }
    let prefix_skip = r.u32()? as usize;
    let charset = if flags & 4 != 0 {
        Some(r.class()?)
    } else {
        None
    };
    let info = Info {
        present: flags & 1 != 0,
        min,
        prefix,
        prefix_skip,
        literal: flags & 2 != 0,
        charset,
    };
    let p = Program {
        ops,
        alts,
        classes,
        model,
        marks,
        info,
        bytes,
    };
    verify(&p).then_some(p)
}

/// Whether every index the matcher takes from `p` is in bounds.
fn verify(p: &Program) -> bool {
    let n = p.ops.len();
    // Every operator but these two may go on to the next one: the last
    // must be one of them.
    if !matches!(p.ops.last(), Some(Op::Success | Op::Failure)) {
        return false;
    }
    if p.bytes > PROGRAM_LIMIT || p.marks > 2 * n || p.info.prefix_skip >= n {
        return false;
    }
    if p.info.prefix_skip > p.info.prefix.len() {
        return false;
    }
    let target = |t: u32| (t as usize) < n;
    let alt_table_ok = |t: u32| {
        let t = t as usize;
        let Some(&count) = p.alts.get(t) else {
            return false;
        };
        let end = t.saturating_add(1).saturating_add(count as usize);
        end <= p.alts.len() && p.alts[t + 1..end].iter().all(|&a| target(a))
    };
    p.ops.iter().all(|op| match *op {
        Op::Failure
        | Op::Success
        | Op::Any
        | Op::AnyAll
        | Op::At(_)
        | Op::MaxUntil
        | Op::MinUntil => true,
        Op::Lit(c) | Op::NotLit(c) | Op::LitFold(c) | Op::NotLitFold(c) => c <= MAX_CHAR,
        Op::In(k) | Op::InFold(k) => (k as usize) < p.classes.len(),
        Op::Mark(i) => (i as usize) < p.marks,
        Op::Jump(t) => target(t),
        Op::Branch(t) => alt_table_ok(t),
        Op::RepeatOne { min, max, next } | Op::MinRepeatOne { min, max, next } => {
            target(next) && (max == UNBOUNDED || min <= max)
        }
        Op::Repeat { min, max, until } => target(until) && (max == UNBOUNDED || min <= max),
        // The matcher reads a group's marks only below the last mark set,
        // so any group number is safe (sre compiles references to groups
        // that do not exist: `(?(1)b|c)`).
        Op::GroupRef(_) | Op::GroupRefFold(_) => true,
        Op::GroupRefExists { no, .. } => target(no),
        Op::Assert { next, .. } | Op::AssertNot { next, .. } => target(next),
    })
}

fn put_u32(w: &mut Vec<u8>, v: u32) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_set(w: &mut Vec<u8>, set: &CharSet) {
    put_u32(w, set.0.len() as u32);
    for &(lo, hi) in &set.0 {
        put_u32(w, lo);
        put_u32(w, hi);
    }
}

fn put_class(w: &mut Vec<u8>, c: &Class) {
    let (negate, chars, cats, unicode) = c.parts();
    w.push(negate as u8 | (unicode as u8) << 1);
    put_set(w, chars);
    put_u32(w, cats.len() as u32);
    for cat in cats {
        w.push(match cat {
            Cat::Digit => 0,
            Cat::NotDigit => 1,
            Cat::Space => 2,
            Cat::NotSpace => 3,
            Cat::Word => 4,
            Cat::NotWord => 5,
        });
    }
}

fn at_code(a: Option<At>) -> u8 {
    match a {
        None => 0,
        Some(At::Beginning) => 1,
        Some(At::BeginningString) => 2,
        Some(At::Boundary) => 3,
        Some(At::NonBoundary) => 4,
        Some(At::End) => 5,
        Some(At::EndString) => 6,
    }
}

fn at_of(b: u8) -> Option<Option<At>> {
    Some(match b {
        0 => None,
        1 => Some(At::Beginning),
        2 => Some(At::BeginningString),
        3 => Some(At::Boundary),
        4 => Some(At::NonBoundary),
        5 => Some(At::End),
        6 => Some(At::EndString),
        _ => return None,
    })
}

fn bool_of(b: u8) -> Option<bool> {
    match b {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

const AT_CODES: [AtCode; 8] = [
    AtCode::Beginning,
    AtCode::BeginningLine,
    AtCode::BeginningString,
    AtCode::Boundary,
    AtCode::NonBoundary,
    AtCode::End,
    AtCode::EndLine,
    AtCode::EndString,
];

fn put_op(w: &mut Vec<u8>, op: Op) {
    let (tag, args): (u8, &[u32]) = match op {
        Op::Failure => (0, &[]),
        Op::Success => (1, &[]),
        Op::Any => (2, &[]),
        Op::AnyAll => (3, &[]),
        Op::Lit(c) => (4, &[c]),
        Op::NotLit(c) => (5, &[c]),
        Op::LitFold(c) => (6, &[c]),
        Op::NotLitFold(c) => (7, &[c]),
        Op::In(k) => (8, &[k]),
        Op::InFold(k) => (9, &[k]),
        Op::At(a) => {
            let i = AT_CODES.iter().position(|&x| x == a).unwrap_or(0) as u32;
            w.push(10);
            put_u32(w, i);
            return;
        }
        Op::Mark(i) => (11, &[i]),
        Op::Jump(t) => (12, &[t]),
        Op::Branch(t) => (13, &[t]),
        Op::RepeatOne { min, max, next } => {
            w.push(14);
            for v in [min, max, next] {
                put_u32(w, v);
            }
            return;
        }
        Op::MinRepeatOne { min, max, next } => {
            w.push(15);
            for v in [min, max, next] {
                put_u32(w, v);
            }
            return;
        }
        Op::Repeat { min, max, until } => {
            w.push(16);
            for v in [min, max, until] {
                put_u32(w, v);
            }
            return;
        }
        Op::MaxUntil => (17, &[]),
        Op::MinUntil => (18, &[]),
        Op::GroupRef(g) => (19, &[g]),
        Op::GroupRefFold(g) => (20, &[g]),
        Op::GroupRefExists { group, no } => {
            w.push(21);
            put_u32(w, group);
            put_u32(w, no);
            return;
        }
        Op::Assert { back, next } => {
            w.push(22);
            put_u32(w, back);
            put_u32(w, next);
            return;
        }
        Op::AssertNot { back, next } => {
            w.push(23);
            put_u32(w, back);
            put_u32(w, next);
            return;
        }
    };
    w.push(tag);
    for &a in args {
        put_u32(w, a);
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    /// A count of items at least `each` bytes long: never more than the
    /// bytes left could hold, so no allocation exceeds the input.
    fn count(&mut self, each: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n.checked_mul(each)? <= self.b.len() - self.at).then_some(n)
    }
    /// Sorted, disjoint ranges of code points.
    fn set(&mut self) -> Option<CharSet> {
        let n = self.count(8)?;
        let mut ranges = Vec::with_capacity(n);
        let mut prev: Option<u32> = None;
        for _ in 0..n {
            let (lo, hi) = (self.u32()?, self.u32()?);
            if lo > hi || hi > MAX_CHAR || prev.is_some_and(|p| lo <= p) {
                return None;
            }
            prev = Some(hi);
            ranges.push((lo, hi));
        }
        Some(CharSet(ranges))
    }
    fn class(&mut self) -> Option<Class> {
        let bits = self.u8()?;
        if bits >= 4 {
            return None;
        }
        let chars = self.set()?;
        let n = self.count(1)?;
        let mut cats = Vec::with_capacity(n);
        for _ in 0..n {
            cats.push(match self.u8()? {
                0 => Cat::Digit,
                1 => Cat::NotDigit,
                2 => Cat::Space,
                3 => Cat::NotSpace,
                4 => Cat::Word,
                5 => Cat::NotWord,
                _ => return None,
            });
        }
        Some(Class::from_parts(bits & 1 != 0, chars, cats, bits & 2 != 0))
    }
    fn op(&mut self) -> Option<Op> {
        Some(match self.u8()? {
            0 => Op::Failure,
            1 => Op::Success,
            2 => Op::Any,
            3 => Op::AnyAll,
            4 => Op::Lit(self.u32()?),
            5 => Op::NotLit(self.u32()?),
            6 => Op::LitFold(self.u32()?),
            7 => Op::NotLitFold(self.u32()?),
            8 => Op::In(self.u32()?),
            9 => Op::InFold(self.u32()?),
            10 => Op::At(*AT_CODES.get(self.u32()? as usize)?),
            11 => Op::Mark(self.u32()?),
            12 => Op::Jump(self.u32()?),
            13 => Op::Branch(self.u32()?),
            14 => Op::RepeatOne {
                min: self.u32()?,
                max: self.u32()?,
                next: self.u32()?,
            },
            15 => Op::MinRepeatOne {
                min: self.u32()?,
                max: self.u32()?,
                next: self.u32()?,
            },
            16 => Op::Repeat {
                min: self.u32()?,
                max: self.u32()?,
                until: self.u32()?,
            },
            17 => Op::MaxUntil,
            18 => Op::MinUntil,
            19 => Op::GroupRef(self.u32()?),
            20 => Op::GroupRefFold(self.u32()?),
            21 => Op::GroupRefExists {
                group: self.u32()?,
                no: self.u32()?,
            },
            22 => Op::Assert {
                back: self.u32()?,
                next: self.u32()?,
            },
            23 => Op::AssertNot {
                back: self.u32()?,
                next: self.u32()?,
            },
            _ => return None,
        })
    }
}
