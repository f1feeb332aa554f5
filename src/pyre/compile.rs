//! The parsed pattern compiled to sre's program, as CPython 2.7's
//! `sre_compile` lays it out: the same operators (`REPEAT_ONE` for a
//! repeated single character, `REPEAT` … `MAX_UNTIL` otherwise, `BRANCH`
//! with its alternatives, `MARK`, `ASSERT`, `GROUPREF_EXISTS` …) in the same
//! order, and the same `INFO` block (minimum width, literal prefix or first
//! character set) that steers the search.  Operators are an enum with
//! absolute targets instead of 32-bit words with relative skips, and a
//! character set is stored once per program, with its categories kept
//! symbolic: the program is proportional to the pattern, whatever its
//! repeat counts.

use std::collections::HashMap;

use super::charset::{CharModel, Class};
use super::parse::{width, At, Node, Parsed, SetItem, FLAG_I, FLAG_M, FLAG_S, MAXREPEAT};
use super::CompileError;

/// `MAXREPEAT` as a program operand: no upper bound.
pub(super) const UNBOUNDED: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AtCode {
    Beginning,
    BeginningLine,
    BeginningString,
    Boundary,
    NonBoundary,
    End,
    EndLine,
    EndString,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Failure,
    Success,
    /// Any char but `\n`.
    Any,
    AnyAll,
    Lit(u32),
    NotLit(u32),
    /// `LITERAL_IGNORE`: `lower(c) == x`.
    LitFold(u32),
    NotLitFold(u32),
    /// Index into the program's classes.
    In(u32),
    /// `IN_IGNORE`: the class tested on `lower(c)`.
    InFold(u32),
    At(AtCode),
    Mark(u32),
    Jump(u32),
    /// Index into `alts`: a count, then the first op of each alternative.
    Branch(u32),
    /// The item is the next op, followed by `Success`; `next` is the tail.
    RepeatOne {
        min: u32,
        max: u32,
        next: u32,
    },
    MinRepeatOne {
        min: u32,
        max: u32,
        next: u32,
    },
    /// The body starts at the next op and ends with the `until` op.
    Repeat {
        min: u32,
        max: u32,
        until: u32,
    },
    MaxUntil,
    MinUntil,
    /// Group index (0-based), as sre's operand.
    GroupRef(u32),
    GroupRefFold(u32),
    GroupRefExists {
        group: u32,
        no: u32,
    },
    /// Body at the next op, ending with `Success`; `back` chars behind.
    Assert {
        back: u32,
        next: u32,
    },
    AssertNot {
        back: u32,
        next: u32,
    },
}

/// sre's `INFO` block.
#[derive(Debug, Default)]
pub(super) struct Info {
    /// Whether the block is there (not when the pattern may be empty yet
    /// longer at times: "not worth it").
    pub(super) present: bool,
    /// Minimum width in chars.
    pub(super) min: u64,
    pub(super) prefix: Vec<u32>,
    /// How many of the prefix chars are the program's first literal ops.
    pub(super) prefix_skip: usize,
    /// The whole pattern is its prefix.
    pub(super) literal: bool,
    pub(super) charset: Option<Class>,
}

#[derive(Debug)]
pub(super) struct Program {
    pub(super) ops: Vec<Op>,
    pub(super) alts: Vec<u32>,
    pub(super) classes: Vec<Class>,
    pub(super) model: CharModel,
    /// Size of the mark array: two per capturing group.
    pub(super) marks: usize,
    pub(super) info: Info,
    /// Heap bytes held by the program.
    pub(super) bytes: usize,
}

struct Compiler {
    model: CharModel,
    flags: u32,
    ops: Vec<Op>,
    alts: Vec<u32>,
    classes: Vec<Class>,
    class_ids: HashMap<Class, u32>,
    bytes: usize,
    limit: usize,
    /// Identical classes are built once.
    class_src: HashMap<Vec<SetItem>, u32>,
    /// Steps spent building classes, and the most that may be.
    work: u64,
    max_work: u64,
}

/// Steps charged per range a class holds (building it costs about as
/// much as that many matcher steps).
const RANGE_STEPS: u64 = 8;

fn too_large<T>() -> Result<T, CompileError> {
    Err(CompileError::TooLarge(
        "compiled program over the size limit".into(),
    ))
}

fn u32_of(v: u64) -> u32 {
    if v >= MAXREPEAT {
        UNBOUNDED
    } else {
        v as u32
    }
}

impl Compiler {
    fn charge(&mut self, bytes: usize) -> Result<(), CompileError> {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > self.limit {
            return too_large();
        }
        Ok(())
    }

    fn emit(&mut self, op: Op) -> Result<usize, CompileError> {
        self.charge(std::mem::size_of::<Op>())?;
        if self.ops.try_reserve(1).is_err() {
            return too_large();
        }
        self.ops.push(op);
        Ok(self.ops.len() - 1)
    }

    fn here(&self) -> u32 {
        self.ops.len() as u32
    }

    fn class_id(&mut self, class: Class) -> Result<u32, CompileError> {
        self.work += class.heap_bytes() as u64 / 8 * RANGE_STEPS + 64;
        if self.work > self.max_work {
            return Err(CompileError::Budget);
        }
        if let Some(&id) = self.class_ids.get(&class) {
            return Ok(id);
        }
        self.charge(class.heap_bytes() * 2 + 64)?;
        let id = self.classes.len() as u32;
        if self.classes.try_reserve(1).is_err() {
            return too_large();
        }
        self.classes.push(class.clone());
        self.class_ids.insert(class, id);
        Ok(id)
    }

    fn seq(&mut self, nodes: &[Node]) -> Result<(), CompileError> {
        for n in nodes {
            self.node(n)?;
        }
        Ok(())
    }

    /// One single-character test.
    fn char_op(&mut self, n: &Node) -> Result<(), CompileError> {
        let fold = self.model.ignorecase;
        match n {
            Node::Any => {
                self.emit(if self.flags & FLAG_S != 0 {
                    Op::AnyAll
                } else {
                    Op::Any
                })?;
            }
            Node::Lit(c) if !fold => {
                self.emit(Op::Lit(*c))?;
            }
            Node::NotLit(c) if !fold => {
                self.emit(Op::NotLit(*c))?;
            }
            Node::In(items) => {
                if let Some(&id) = self.class_src.get(items) {
                    self.emit(if fold { Op::InFold(id) } else { Op::In(id) })?;
                    return Ok(());
                }
                let class = self.model.class(items);
                let id = self.class_id(class)?;
                self.class_src.insert(items.clone(), id);
                self.emit(if fold { Op::InFold(id) } else { Op::In(id) })?;
            }
            Node::Lit(c) | Node::NotLit(c) => {
                let negate = matches!(n, Node::NotLit(_));
                let set = self.model.lit_set(*c, false);
                match set.single_char() {
                    // LITERAL_IGNORE / NOT_LITERAL_IGNORE.
                    Some(l) if negate => self.emit(Op::NotLitFold(l))?,
                    Some(l) => self.emit(Op::LitFold(l))?,
                    // IN_IGNORE with the fix-ups.
                    None => {
                        let class = Class::new(&self.model, negate, set, Vec::new());
                        let id = self.class_id(class)?;
                        self.emit(Op::InFold(id))?
                    }
                };
            }
            _ => return Err(CompileError::Unsupported("not a character test".into())),
        }
        Ok(())
    }

    fn node(&mut self, n: &Node) -> Result<(), CompileError> {
        match n {
            Node::Lit(_) | Node::NotLit(_) | Node::In(_) | Node::Any => self.char_op(n)?,
            Node::At(at) => {
                let ml = self.flags & FLAG_M != 0;
                let code = match at {
                    At::Beginning if ml => AtCode::BeginningLine,
                    At::Beginning => AtCode::Beginning,
                    At::BeginningString => AtCode::BeginningString,
                    At::Boundary => AtCode::Boundary,
                    At::NonBoundary => AtCode::NonBoundary,
                    At::End if ml => AtCode::EndLine,
                    At::End => AtCode::End,
                    At::EndString => AtCode::EndString,
                };
                self.emit(Op::At(code))?;
            }
            Node::Branch(items) => {
                let table = self.alts.len();
                self.charge(4 * (items.len() + 1))?;
                if self.alts.try_reserve(items.len() + 1).is_err() {
                    return too_large();
                }
                self.alts.push(items.len() as u32);
                self.alts.extend(std::iter::repeat_n(0, items.len()));
                self.emit(Op::Branch(table as u32))?;
                let mut jumps = Vec::new();
                for (i, alt) in items.iter().enumerate() {
                    self.alts[table + 1 + i] = self.here();
                    self.seq(alt)?;
                    jumps.push(self.emit(Op::Jump(0))?);
                }
                let end = self.here();
                for j in jumps {
                    self.ops[j] = Op::Jump(end);
                }
            }
            Node::Repeat {
                min,
                max,
                lazy,
                body,
            } => {
                let (min, max) = (u32_of(*min), u32_of(*max));
                let simple = width(std::slice::from_ref(body.as_ref())) == (1, 1)
                    && !matches!(body.as_ref(), Node::Group(..));
                if simple {
                    let at = self.emit(Op::Failure)?;
                    self.char_op(body)?;
                    self.emit(Op::Success)?;
                    let next = self.here();
                    self.ops[at] = if *lazy {
                        Op::MinRepeatOne { min, max, next }
                    } else {
                        Op::RepeatOne { min, max, next }
                    };
                } else {
                    let at = self.emit(Op::Failure)?;
                    self.node(body)?;
                    let until = self.here();
                    self.emit(if *lazy { Op::MinUntil } else { Op::MaxUntil })?;
                    self.ops[at] = Op::Repeat { min, max, until };
                }
            }
            Node::Group(gid, body) => {
                if let Some(g) = gid {
                    self.emit(Op::Mark(((g - 1) * 2) as u32))?;
                }
                self.seq(body)?;
                if let Some(g) = gid {
                    self.emit(Op::Mark(((g - 1) * 2 + 1) as u32))?;
                }
            }
            Node::Assert {
                behind,
                negate,
                body,
            } => {
                let back = if *behind {
                    u32::try_from(width(body).0).unwrap_or(u32::MAX)
                } else {
                    0
                };
                let at = self.emit(Op::Failure)?;
                self.seq(body)?;
                self.emit(Op::Success)?;
                let next = self.here();
                self.ops[at] = if *negate {
                    Op::AssertNot { back, next }
                } else {
                    Op::Assert { back, next }
                };
            }
            Node::GroupRef(g) => {
                let g = (*g - 1) as u32;
                self.emit(if self.flags & FLAG_I != 0 {
                    Op::GroupRefFold(g)
                } else {
                    Op::GroupRef(g)
                })?;
            }
            Node::GroupRefExists(cond, yes, no) => {
                let group = u32::try_from(cond.saturating_sub(1)).unwrap_or(u32::MAX);
                let at = self.emit(Op::Failure)?;
                self.seq(yes)?;
                match no {
                    Some(no) => {
                        let jump = self.emit(Op::Jump(0))?;
                        let no_at = self.here();
                        self.seq(no)?;
                        let end = self.here();
                        self.ops[jump] = Op::Jump(end);
                        self.ops[at] = Op::GroupRefExists { group, no: no_at };
                    }
                    None => {
                        let end = self.here();
                        self.ops[at] = Op::GroupRefExists { group, no: end };
                    }
                }
            }
        }
        Ok(())
    }
}

/// `_compile_info`: the search shortcuts.
fn info(p: &Parsed, model: &CharModel) -> Info {
    let (lo, hi) = width(&p.nodes);
    if lo == 0 && hi != 0 {
        return Info::default();
    }
    let mut info = Info {
        present: true,
        min: lo as u64,
        ..Info::default()
    };
    if p.flags & FLAG_I != 0 {
        return info;
    }
    let (mut prefix, mut skip) = (Vec::new(), 0usize);
    for n in &p.nodes {
        match n {
            Node::Lit(c) => {
                if prefix.len() == skip {
                    skip += 1;
                }
                prefix.push(*c);
            }
            Node::Group(_, body) if body.len() == 1 => match body[0] {
                Node::Lit(c) => prefix.push(c),
                _ => break,
            },
            _ => break,
        }
    }
    if prefix.is_empty() {
        let first_lits = |items: &[Vec<Node>]| -> Option<Vec<SetItem>> {
            items
                .iter()
                .map(|alt| match alt.first() {
                    Some(Node::Lit(c)) => Some(SetItem::Lit(*c)),
                    _ => None,
                })
                .collect()
        };
        let set = match p.nodes.first() {
            Some(Node::Group(_, body)) => match body.first() {
                Some(Node::Lit(c)) => Some(vec![SetItem::Lit(*c)]),
                Some(Node::Branch(items)) => first_lits(items),
                _ => None,
            },
            Some(Node::Branch(items)) => first_lits(items),
            Some(Node::In(items)) => Some(items.clone()),
            _ => None,
        };
        info.charset = set.filter(|s| !s.is_empty()).map(|s| model.class(&s));
    } else {
        info.literal = prefix.len() == skip && skip == p.nodes.len();
        info.prefix = prefix;
        info.prefix_skip = skip;
    }
    info
}

/// `sre_compile.compile`: the program for a parsed pattern, at most
/// `limit` bytes.
/// `max_work` bounds the steps spent building classes; `work` returns
/// them.
pub(super) fn compile(
    p: &Parsed,
    limit: usize,
    max_work: u64,
    work: &mut u64,
) -> Result<Program, CompileError> {
    let model = CharModel::new(p.flags);
    let mut c = Compiler {
        model,
        flags: p.flags,
        ops: Vec::new(),
        alts: Vec::new(),
        classes: Vec::new(),
        class_ids: HashMap::new(),
        bytes: 0,
        limit,
        class_src: HashMap::new(),
        work: 0,
        max_work,
    };
    let info = info(p, &model);
    if let Some(cs) = &info.charset {
        c.charge(cs.heap_bytes())?;
    }
    c.charge(info.prefix.len() * 4)?;
    let res = c.seq(&p.nodes).and_then(|()| c.emit(Op::Success).map(drop));
    *work = c.work;
    res?;
    let mut ops = c.ops;
    ops.shrink_to_fit();
    let mut alts = c.alts;
    alts.shrink_to_fit();
    Ok(Program {
        ops,
        alts,
        classes: c.classes,
        model,
        marks: 2 * p.groups.saturating_sub(1),
        info,
        bytes: c.bytes,
    })
}
