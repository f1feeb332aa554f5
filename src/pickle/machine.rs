//! The pickle machine: one pass over the opcodes, building the arena.

use std::collections::HashMap;

use super::literal::{
    decode_raw_unicode_escape, decode_utf8_surrogates, long_from_le, parse_decimal, parse_u64, trim,
};
use super::opcode::*;
use super::value::{is_container, Class, Instance, Node, NodeId, Str};
use super::{Limits, PickleError};
use crate::py::escape::{string_escape, EscapeError};

const NIL: NodeId = u32::MAX;
const SMALL_MIN: i64 = -5;
/// Ints up to this are one shared node each: user_options bit sets (264,
/// 272, ...) come once per member.
const SMALL_MAX: i64 = 1023;
/// Longest `LONG1`/`LONG4` payload accepted, in bytes (about 10,000 digits).
const MAX_LONG_BYTES: usize = 4096;

/// What one arena node costs: the node, its bit in `containers` and its
/// mark in `check_shape` (rounded up).
const NODE_COST: usize = std::mem::size_of::<Node>() + 3;
/// What the allocator adds to each owned string.
const OWNED_COST: usize = 32;
/// What the allocator adds to each new vector (its header and rounding).
const ALLOC_COST: usize = 16;
/// What a list's or dict's box costs (the vector's header, allocated).
const BOX_COST: usize = 24 + ALLOC_COST;
/// Arena nodes are charged this many at a time (2.3 MB): the arena's
/// pages are touched only as nodes are pushed, so the charge follows them.
const NODE_CHUNK: usize = 1 << 16;
/// What one entry of the sparse memo is charged: twice its size (key,
/// value, table overhead), as cPickle numbers memo keys densely and only a
/// made-up file fills this table, at the cost of a hash insert each.
const MEMO_FAR_COST: usize = 64;
/// Most entries of the sparse memo: a hash insert each costs more time
/// than any other opcode, and no pickler writes such keys (cPickle and
/// pickle.py number them from 0 up).
const MAX_MEMO_FAR: usize = 1 << 16;

type R<T> = Result<T, PickleError>;

pub(super) struct Machine<'d> {
    d: &'d [u8],
    pos: usize,
    /// Offset and byte of the opcode being run.
    at: usize,
    op: u8,
    lim: Limits,
    pub(super) nodes: Vec<Node>,
    /// Nodes charged against the budget: the arena's size as far as the
    /// budget is concerned (its reservation may be larger, untouched).
    nodes_charged: usize,
    stack: Vec<NodeId>,
    /// Stack lengths at each open MARK.
    marks: Vec<usize>,
    /// Dense memo, indexed by memo key; `NIL` where unset.
    memo: Vec<NodeId>,
    /// Memo keys far beyond the dense part.
    memo_far: HashMap<u64, NodeId>,
    memo_count: usize,
    /// One bit per node: set for containers (the only nodes that can nest).
    containers: Vec<u64>,
    /// Shared leaf nodes: None, False, True, ().
    consts: [NodeId; 4],
    small_ints: [NodeId; (SMALL_MAX - SMALL_MIN + 1) as usize],
    /// Bytes charged so far against `budget` (see [`Limits`]).
    mem: usize,
    budget: usize,
}

impl<'d> Machine<'d> {
    pub(super) fn new(d: &'d [u8], lim: &Limits) -> Self {
        let budget = lim.memory_budget(d.len());
        // A config.pck has about one node per 24 bytes: the room reserved
        // when the whole arena's address space is refused (then growth
        // reallocates), never more than half the budget.
        let guess = (d.len() / 24)
            .min(lim.max_nodes)
            .min(budget / 2 / NODE_COST)
            .max(16);
        // Address space for as many nodes as the budget could ever pay
        // for (at most a node per input byte), so that growing never
        // copies the arena; only what the guess and later growth charge is
        // counted, and untouched pages cost nothing.
        let room = d
            .len()
            .saturating_add(64)
            .min(lim.max_nodes)
            .min(budget / NODE_COST)
            .max(guess);
        let nodes = arena(room, guess);
        Machine {
            d,
            pos: 0,
            at: 0,
            op: 0,
            lim: *lim,
            mem: 0,
            nodes,
            nodes_charged: 0,
            stack: Vec::new(),
            marks: Vec::with_capacity(16),
            memo: Vec::new(),
            memo_far: HashMap::new(),
            memo_count: 0,
            containers: Vec::new(),
            consts: [NIL; 4],
            small_ints: [NIL; (SMALL_MAX - SMALL_MIN + 1) as usize],
            budget,
        }
    }

    /// Bytes charged so far.
    pub(super) fn charged(&self) -> usize {
        self.mem
    }

    /// A limit, not bad input: the list may be fine but is not affordable.
    fn over(&self, reason: impl Into<String>) -> PickleError {
        PickleError {
            limit: true,
            ..self.fail(reason)
        }
    }

    /// Charge `bytes` against the memory budget before holding them.
    fn charge(&mut self, bytes: usize) -> R<()> {
        let mem = self.mem.saturating_add(bytes);
        if mem > self.budget {
            return Err(self.over(format!(
                "over the memory budget of {} bytes for a {}-byte input",
                self.budget,
                self.d.len()
            )));
        }
        self.mem = mem;
        Ok(())
    }

    /// Room for `extra` more items in `v` (a vector of the machine's own,
    /// or one in the arena taken out for the call): charged as Vec's
    /// amortized growth would allocate, then reserved fallibly.
    fn grow<T>(&mut self, v: &mut Vec<T>, extra: usize) -> R<()> {
        let need = v.len().saturating_add(extra);
        if need <= v.capacity() {
            return Ok(());
        }
        let cap = need.max(v.capacity().saturating_mul(2)).max(4);
        let header = if v.capacity() == 0 { ALLOC_COST } else { 0 };
        self.charge(
            (cap - v.capacity())
                .saturating_mul(std::mem::size_of::<T>())
                .saturating_add(header),
        )?;
        v.try_reserve_exact(cap - v.len())
            .map_err(|_| self.over(format!("an allocation of {cap} items was refused")))
    }

    /// Room for `extra` more items in the container at `id` of the arena.
    fn grow_node(&mut self, id: NodeId, extra: usize) -> R<()> {
        let mut node = std::mem::replace(&mut self.nodes[id as usize], Node::None);
        let r = match &mut node {
            Node::List(v) => self.grow(v, extra),
            Node::Dict(v) => self.grow(v, extra),
            _ => Ok(()),
        };
        self.nodes[id as usize] = node;
        r
    }

    /// A new vector holding the stack's items from `m` up, which are then
    /// taken off the stack.
    /// Sized exactly (a tuple's box keeps the allocation as it is).
    fn take_stack(&mut self, m: usize) -> R<Vec<NodeId>> {
        let n = self.stack.len() - m;
        let mut v = Vec::new();
        if n > 0 {
            self.charge(
                n.saturating_mul(std::mem::size_of::<NodeId>())
                    .saturating_add(ALLOC_COST),
            )?;
            v.try_reserve_exact(n)
                .map_err(|_| self.over(format!("an allocation of {n} items was refused")))?;
        }
        v.extend_from_slice(&self.stack[m..]);
        self.stack.truncate(m);
        Ok(v)
    }

    fn fail(&self, reason: impl Into<String>) -> PickleError {
        PickleError {
            offset: self.at,
            opcode: Some(self.op),
            reason: reason.into(),
            limit: false,
        }
    }

    // -- input ------------------------------------------------------------

    fn take(&mut self, n: usize) -> R<&'d [u8]> {
        let rest = self.d.len() - self.pos;
        if n > rest {
            return Err(self.fail(format!("truncated: needs {n} bytes, {rest} left")));
        }
        let s = &self.d[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn take_arr<const N: usize>(&mut self) -> R<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.take_arr::<1>()?[0])
    }

    /// The rest of the line (without the newline) as `(start, end)`.
    fn line(&mut self) -> R<(usize, usize)> {
        let start = self.pos;
        match self.d[start..].iter().position(|&b| b == b'\n') {
            Some(n) => {
                self.pos = start + n + 1;
                Ok((start, start + n))
            }
            None => Err(self.fail("truncated: no end of line")),
        }
    }

    fn line_bytes(&mut self) -> R<&'d [u8]> {
        let (s, e) = self.line()?;
        Ok(&self.d[s..e])
    }

    /// A length field: checked against the rest of the input before use.
    fn length(&mut self, n: u64) -> R<usize> {
        let rest = self.d.len() - self.pos;
        match usize::try_from(n) {
            Ok(n) if n <= rest => Ok(n),
            _ => Err(self.fail(format!("length {n} exceeds the {rest} bytes left"))),
        }
    }

    // -- arena and stack --------------------------------------------------

    fn node(&mut self, n: Node) -> R<NodeId> {
        let id = self.nodes.len();
        if id >= self.lim.max_nodes || id >= NIL as usize {
            return Err(self.over(format!("more than {} nodes", self.lim.max_nodes)));
        }
        if id == self.nodes.capacity() {
            // Only when the arena's room was refused: a reallocation,
            // which touches all it copies. Half again, not twice: the
            // arena is most of the budget.
            let more = (id / 2).max(1024);
            let cap = id + more;
            self.charge(
                cap.saturating_sub(self.nodes_charged)
                    .saturating_mul(NODE_COST),
            )?;
            self.nodes_charged = self.nodes_charged.max(cap);
            if self.nodes.try_reserve_exact(more).is_err() {
                return Err(self.over(format!("an arena of {cap} nodes was refused")));
            }
        } else if id >= self.nodes_charged {
            let more = NODE_CHUNK.min(self.nodes.capacity() - id);
            self.charge(more.saturating_mul(NODE_COST))?;
            self.nodes_charged = id + more;
        }
        if id % 64 == 0 {
            if self.containers.len() == self.containers.capacity()
                && self
                    .containers
                    .try_reserve(self.containers.len().max(64))
                    .is_err()
            {
                return Err(self.over("the container table's allocation was refused"));
            }
            self.containers.push(0);
        }
        if is_container(&n) {
            self.containers[id / 64] |= 1 << (id % 64);
        }
        self.nodes.push(n);
        Ok(id as NodeId)
    }

    fn is_container_id(&self, id: NodeId) -> bool {
        let i = id as usize;
        self.containers
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn push(&mut self, id: NodeId) -> R<()> {
        if self.stack.len() == self.stack.capacity() {
            let mut stack = std::mem::take(&mut self.stack);
            let r = self.grow(&mut stack, 1);
            self.stack = stack;
            r?;
        }
        self.stack.push(id);
        Ok(())
    }

    fn push_node(&mut self, n: Node) -> R<()> {
        let id = self.node(n)?;
        self.push(id)
    }

    fn konst(&mut self, i: usize, n: Node) -> R<()> {
        if self.consts[i] == NIL {
            self.consts[i] = self.node(n)?;
        }
        self.push(self.consts[i])
    }

    fn push_int(&mut self, v: i64) -> R<()> {
        if (SMALL_MIN..=SMALL_MAX).contains(&v) {
            let i = (v - SMALL_MIN) as usize;
            if self.small_ints[i] == NIL {
                self.small_ints[i] = self.node(Node::Int(v))?;
            }
            self.push(self.small_ints[i])
        } else {
            self.push_node(Node::Int(v))
        }
    }

    fn base(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> R<NodeId> {
        if self.stack.len() <= self.base() {
            return Err(self.underflow());
        }
        Ok(self.stack.pop().unwrap_or(NIL))
    }

    fn top(&self) -> R<NodeId> {
        if self.stack.len() <= self.base() {
            return Err(self.underflow());
        }
        Ok(self.stack.last().copied().unwrap_or(NIL))
    }

    fn underflow(&self) -> PickleError {
        if self.marks.is_empty() {
            self.fail("stack underflow")
        } else {
            self.fail("stack underflow (reaching below a MARK)")
        }
    }

    /// Closes the innermost MARK; returns the stack position it marked.
    fn pop_mark(&mut self) -> R<usize> {
        match self.marks.pop() {
            Some(m) => Ok(m),
            None => Err(self.fail("no MARK to close")),
        }
    }

    /// Closes the innermost MARK and checks that the stack slot just below
    /// it (the object the frame's items go into) belongs to the enclosing
    /// frame; returns the mark position.
    fn pop_mark_with_target(&mut self) -> R<usize> {
        let m = self.pop_mark()?;
        if m == 0 || m - 1 < self.base() {
            return Err(self.underflow());
        }
        Ok(m)
    }

    // -- memo -------------------------------------------------------------

    fn memo_put(&mut self, key: u64) -> R<()> {
        let id = self.top()?;
        if let Ok(k) = usize::try_from(key) {
            if k < self.memo.len() {
                if self.memo[k] == NIL {
                    self.count_memo()?;
                }
                self.memo[k] = id;
                return Ok(());
            }
            if k < self.memo_count.saturating_mul(2).saturating_add(4096) {
                self.count_memo()?;
                let mut memo = std::mem::take(&mut self.memo);
                let extra = k + 1 - memo.len();
                let r = self.grow(&mut memo, extra);
                self.memo = memo;
                r?;
                self.memo.resize(k + 1, NIL);
                self.memo[k] = id;
                return Ok(());
            }
        }
        if !self.memo_far.contains_key(&key) {
            if self.memo_far.len() >= MAX_MEMO_FAR {
                return Err(self.over(format!("more than {MAX_MEMO_FAR} sparse memo keys")));
            }
            self.count_memo()?;
            self.charge(MEMO_FAR_COST)?;
            if self.memo_far.try_reserve(1).is_err() {
                return Err(self.over("the memo's allocation was refused"));
            }
        }
        self.memo_far.insert(key, id);
        Ok(())
    }

    fn count_memo(&mut self) -> R<()> {
        if self.memo_count >= self.lim.max_memo {
            return Err(self.over(format!("more than {} memo entries", self.lim.max_memo)));
        }
        self.memo_count += 1;
        Ok(())
    }

    fn memo_get(&mut self, key: u64) -> R<()> {
        let dense = usize::try_from(key)
            .ok()
            .and_then(|k| self.memo.get(k).copied());
        let id = match dense {
            Some(id) if id != NIL => Some(id),
            _ => self.memo_far.get(&key).copied(),
        };
        match id {
            Some(id) => self.push(id),
            None => Err(self.fail(format!("memo key {key} was never set"))),
        }
    }

    fn text_index(&mut self) -> R<u64> {
        let line = self.line_bytes()?;
        let t = trim(line);
        match parse_u64(t) {
            Some(v) => Ok(v),
            None => Err(self.fail(format!(
                "bad memo index {:?}",
                String::from_utf8_lossy(line)
            ))),
        }
    }

    // -- strings ----------------------------------------------------------

    fn bytes_at(&mut self, start: usize, len: usize) -> R<()> {
        self.push_node(Node::Bytes(Str::Span {
            start: start as u32,
            len: len as u32,
        }))
    }

    /// A UTF-8 payload (BINUNICODE and friends) starting at `start`.
    fn utf8_at(&mut self, start: usize, len: usize) -> R<()> {
        let s = &self.d[start..start + len];
        let node = match std::str::from_utf8(s) {
            Ok(_) => Node::Text(Str::Span {
                start: start as u32,
                len: len as u32,
            }),
            Err(_) => {
                self.charge(len + OWNED_COST)?;
                match decode_utf8_surrogates(s) {
                    Ok(t) => Node::Text(Str::Owned(t.into_bytes().into_boxed_slice())),
                    Err(at) => {
                        return Err(self.fail(format!("invalid UTF-8 at byte {} of the string", at)))
                    }
                }
            }
        };
        self.push_node(node)
    }

    fn string_op(&mut self) -> R<()> {
        let (s, e) = self.line()?;
        let raw = &self.d[s..e];
        // Python strips trailing whitespace and control characters first.
        let mut end = raw.len();
        while end > 0 && raw[end - 1] <= b' ' {
            end -= 1;
        }
        let raw = &raw[..end];
        if raw.len() < 2 || (raw[0] != b'"' && raw[0] != b'\'') || raw[raw.len() - 1] != raw[0] {
            return Err(self.fail("STRING argument is not a quoted string"));
        }
        let inner = &raw[1..raw.len() - 1];
        if !inner.contains(&b'\\') {
            return self.bytes_at(s + 1, inner.len());
        }
        self.charge(inner.len() + OWNED_COST)?;
        match string_escape(inner) {
            Ok(v) => self.push_node(Node::Bytes(Str::Owned(v.into_boxed_slice()))),
            Err(EscapeError::TrailingBackslash) => {
                Err(self.fail("STRING ends with a lone backslash"))
            }
            Err(e) => Err(self.fail(e.to_string())),
        }
    }

    fn unicode_op(&mut self) -> R<()> {
        let (s, e) = self.line()?;
        let raw = &self.d[s..e];
        if raw.is_ascii() && !raw.contains(&b'\\') {
            return self.push_node(Node::Text(Str::Span {
                start: s as u32,
                len: (e - s) as u32,
            }));
        }
        // UTF-8 of the decoded text: at most 3 bytes per input byte
        // (`\uXXXX`, 6 bytes, is at most 3).
        self.charge(raw.len().saturating_mul(3) + OWNED_COST)?;
        match decode_raw_unicode_escape(raw) {
            Ok(t) => self.push_node(Node::Text(Str::Owned(t.into_bytes().into_boxed_slice()))),
            Err(msg) => Err(self.fail(msg)),
        }
    }

    fn global_names(&mut self) -> R<(String, String)> {
        let m = self.line_bytes()?;
        let n = self.line_bytes()?;
        self.charge(m.len() + n.len() + 64)?;
        Ok((
            String::from_utf8_lossy(m).into_owned(),
            String::from_utf8_lossy(n).into_owned(),
        ))
    }

    // -- numbers ----------------------------------------------------------

    fn int_text(&mut self, long: bool) -> R<()> {
        let line = self.line_bytes()?;
        let mut t = trim(line);
        if !long {
            if t == b"00" {
                return self.konst(1, Node::Bool(false));
            }
            if t == b"01" {
                return self.konst(2, Node::Bool(true));
            }
        } else if let Some(x) = t.strip_suffix(b"L") {
            t = x;
        }
        // A long beyond i64 is kept as its digits.
        self.charge(t.len() + OWNED_COST)?;
        match parse_decimal(t) {
            Some(Ok(v)) => self.push_int(v),
            Some(Err(big)) => self.push_node(Node::BigInt(big.into_boxed_str())),
            None => Err(self.fail(format!("bad integer {:?}", String::from_utf8_lossy(line)))),
        }
    }

    fn long_bytes(&mut self, n: usize) -> R<()> {
        if n > MAX_LONG_BYTES {
            return Err(self.fail(format!("long of {n} bytes is too large")));
        }
        let b = self.take(n)?;
        match long_from_le(b) {
            Ok(v) => self.push_int(v),
            Err(s) => self.push_node(Node::BigInt(s.into_boxed_str())),
        }
    }

    fn float_text(&mut self) -> R<()> {
        let line = self.line_bytes()?;
        let t = trim(line);
        let v = std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.parse::<f64>().ok());
        match v {
            Some(f) => self.push_node(Node::Float(f)),
            None => Err(self.fail(format!("bad float {:?}", String::from_utf8_lossy(line)))),
        }
    }

    // -- objects ----------------------------------------------------------

    fn check_key(&self, k: NodeId) -> R<()> {
        if !self.is_container_id(k) {
            return Ok(());
        }
        match self.nodes.get(k as usize) {
            Some(Node::List(_) | Node::Dict(_)) => {
                Err(self.fail("unhashable dict key (a list or dict)"))
            }
            _ => Ok(()),
        }
    }

    fn instance_of(&mut self, cls: NodeId, args: Vec<NodeId>) -> R<NodeId> {
        match self.nodes.get(cls as usize) {
            Some(Node::Global(c)) => {
                let (module, name) = (c.module.clone(), c.name.clone());
                // Copies of the class's names, once per instance.
                self.charge(module.len() + name.len() + 64)?;
                self.node(Node::Instance(Box::new(Instance {
                    module,
                    name,
                    args,
                    state: None,
                })))
            }
            _ => {
                let t = self.node(Node::Tuple(args.into_boxed_slice()))?;
                self.node(Node::Reduced {
                    callable: cls,
                    args: t,
                })
            }
        }
    }

    fn reduce(&mut self, callable: NodeId, args: NodeId) -> R<NodeId> {
        let (Some(Node::Global(c)), Some(Node::Tuple(a))) = (
            self.nodes.get(callable as usize),
            self.nodes.get(args as usize),
        ) else {
            return self.node(Node::Reduced { callable, args });
        };
        match (c.module.as_str(), c.name.as_str(), &a[..]) {
            ("copy_reg" | "copyreg", "_reconstructor", [cls, ..]) => {
                if let Some(Node::Global(c)) = self.nodes.get(*cls as usize) {
                    let (module, name) = (c.module.clone(), c.name.clone());
                    self.charge(module.len() + name.len() + 64)?;
                    return self.node(Node::Instance(Box::new(Instance {
                        module,
                        name,
                        args: Vec::new(),
                        state: None,
                    })));
                }
            }
            ("_codecs" | "codecs", "encode", [text, rest @ ..]) if rest.len() <= 1 => {
                let enc = match rest.first() {
                    Some(e) => self
                        .text_of(*e)
                        .map(|e| e.to_ascii_lowercase().replace(['-', '_'], "")),
                    None => Some("utf8".to_owned()),
                };
                if let (Some(t), Some(enc)) = (self.text_of(*text), enc) {
                    // A copy per call, of a text that may be memoized once
                    // and encoded again and again.
                    self.charge(t.len() + OWNED_COST)?;
                    let bytes = match enc.as_str() {
                        "latin1" | "iso88591" | "l1" | "8859" | "cp819" => t
                            .chars()
                            .map(|c| u8::try_from(u32::from(c)).ok())
                            .collect::<Option<Vec<u8>>>(),
                        "ascii" | "usascii" => t.is_ascii().then(|| t.as_bytes().to_vec()),
                        "utf8" | "u8" => Some(t.as_bytes().to_vec()),
                        _ => None,
                    };
                    if let Some(b) = bytes {
                        return self.node(Node::Bytes(Str::Owned(b.into_boxed_slice())));
                    }
                }
            }
            ("__builtin__" | "builtins", "bytes", []) => {
                return self.node(Node::Bytes(Str::Owned(Box::default())));
            }
            _ => {}
        }
        self.node(Node::Reduced { callable, args })
    }

    fn text_of(&self, id: NodeId) -> Option<String> {
        match self.nodes.get(id as usize)? {
            Node::Text(Str::Span { start, len }) => {
                let s = self
                    .d
                    .get(*start as usize..(*start as usize).checked_add(*len as usize)?)?;
                Some(String::from_utf8_lossy(s).into_owned())
            }
            Node::Text(Str::Owned(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    // -- the loop ---------------------------------------------------------

    pub(super) fn run(&mut self) -> R<NodeId> {
        loop {
            let at = self.pos;
            let Some(&op) = self.d.get(at) else {
                return Err(PickleError {
                    offset: at,
                    opcode: None,
                    reason: "truncated: input ended before STOP".into(),
                    limit: false,
                });
            };
            self.at = at;
            self.op = op;
            self.pos = at + 1;
            match op {
                // -- strings, the bulk of a config.pck
                SHORT_BINSTRING => {
                    let n = usize::from(self.u8()?);
                    let n = self.length(n as u64)?;
                    let s = self.pos;
                    self.pos += n;
                    self.bytes_at(s, n)?;
                }
                BINPUT => {
                    let k = self.u8()?;
                    self.memo_put(u64::from(k))?;
                }
                LONG_BINPUT => {
                    let k = u32::from_le_bytes(self.take_arr()?);
                    self.memo_put(u64::from(k))?;
                }
                BINGET => {
                    let k = self.u8()?;
                    self.memo_get(u64::from(k))?;
                }
                LONG_BINGET => {
                    let k = u32::from_le_bytes(self.take_arr()?);
                    self.memo_get(u64::from(k))?;
                }
                BINSTRING => {
                    let n = i32::from_le_bytes(self.take_arr()?);
                    if n < 0 {
                        return Err(self.fail(format!("negative byte count {n}")));
                    }
                    let n = self.length(n as u64)?;
                    let s = self.pos;
                    self.pos += n;
                    self.bytes_at(s, n)?;
                }
                BINUNICODE => {
                    let n = u32::from_le_bytes(self.take_arr()?);
                    let n = self.length(u64::from(n))?;
                    let s = self.pos;
                    self.pos += n;
                    self.utf8_at(s, n)?;
                }
                BININT1 => {
                    let v = self.u8()?;
                    self.push_int(i64::from(v))?;
                }
                BININT2 => {
                    let v = u16::from_le_bytes(self.take_arr()?);
                    self.push_int(i64::from(v))?;
                }
                BININT => {
                    let v = i32::from_le_bytes(self.take_arr()?);
                    self.push_int(i64::from(v))?;
                }
                INT => self.int_text(false)?,
                LONG => self.int_text(true)?,
                LONG1 => {
                    let n = usize::from(self.u8()?);
                    self.long_bytes(n)?;
                }
                LONG4 => {
                    let n = i32::from_le_bytes(self.take_arr()?);
                    if n < 0 {
                        return Err(self.fail(format!("negative byte count {n}")));
                    }
                    let n = self.length(n as u64)?;
                    self.long_bytes(n)?;
                }
                BINFLOAT => {
                    let v = f64::from_be_bytes(self.take_arr()?);
                    self.push_node(Node::Float(v))?;
                }
                FLOAT => self.float_text()?,
                NONE => self.konst(0, Node::None)?,
                NEWTRUE => self.konst(2, Node::Bool(true))?,
                NEWFALSE => self.konst(1, Node::Bool(false))?,
                STRING => self.string_op()?,
                UNICODE => self.unicode_op()?,

                // -- containers
                MARK => {
                    if self.marks.len() >= self.lim.max_depth {
                        return Err(
                            self.fail(format!("more than {} nested MARKs", self.lim.max_depth))
                        );
                    }
                    self.marks.push(self.stack.len());
                }
                EMPTY_DICT => {
                    self.charge(BOX_COST)?;
                    self.push_node(Node::Dict(Box::default()))?
                }
                EMPTY_LIST => {
                    self.charge(BOX_COST)?;
                    self.push_node(Node::List(Box::default()))?
                }
                EMPTY_TUPLE => self.konst(3, Node::Tuple(Box::new([])))?,
                SETITEM => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.check_key(k)?;
                    let d = self.top()?;
                    self.grow_node(d, 1)?;
                    match &mut self.nodes[d as usize] {
                        Node::Dict(e) => e.push((k, v)),
                        _ => return Err(self.fail("SETITEM on something that is not a dict")),
                    }
                }
                SETITEMS => {
                    let m = self.pop_mark_with_target()?;
                    if (self.stack.len() - m) % 2 != 0 {
                        return Err(self.fail("SETITEMS with an odd number of items"));
                    }
                    for i in (m..self.stack.len()).step_by(2) {
                        self.check_key(self.stack[i])?;
                    }
                    let d = self.stack[m - 1];
                    self.grow_node(d, (self.stack.len() - m) / 2)?;
                    match &mut self.nodes[d as usize] {
                        Node::Dict(e) => {
                            e.extend(self.stack[m..].chunks_exact(2).map(|c| (c[0], c[1])))
                        }
                        _ => return Err(self.fail("SETITEMS on something that is not a dict")),
                    }
                    self.stack.truncate(m);
                }
                APPEND => {
                    let v = self.pop()?;
                    let l = self.top()?;
                    self.grow_node(l, 1)?;
                    match &mut self.nodes[l as usize] {
                        Node::List(e) => e.push(v),
                        _ => return Err(self.fail("APPEND to something that is not a list")),
                    }
                }
                APPENDS => {
                    let m = self.pop_mark_with_target()?;
                    let l = self.stack[m - 1];
                    self.grow_node(l, self.stack.len() - m)?;
                    match &mut self.nodes[l as usize] {
                        Node::List(e) => e.extend_from_slice(&self.stack[m..]),
                        _ => return Err(self.fail("APPENDS to something that is not a list")),
                    }
                    self.stack.truncate(m);
                }
                DICT => {
                    let m = self.pop_mark()?;
                    if (self.stack.len() - m) % 2 != 0 {
                        return Err(self.fail("DICT with an odd number of items"));
                    }
                    for i in (m..self.stack.len()).step_by(2) {
                        self.check_key(self.stack[i])?;
                    }
                    let mut e: Vec<(NodeId, NodeId)> = Vec::new();
                    self.grow(&mut e, (self.stack.len() - m) / 2)?;
                    e.extend(self.stack[m..].chunks_exact(2).map(|c| (c[0], c[1])));
                    self.stack.truncate(m);
                    self.charge(BOX_COST)?;
                    self.push_node(Node::Dict(Box::new(e)))?;
                }
                LIST => {
                    let m = self.pop_mark()?;
                    let items = self.take_stack(m)?;
                    self.charge(BOX_COST)?;
                    self.push_node(Node::List(Box::new(items)))?;
                }
                TUPLE => {
                    let m = self.pop_mark()?;
                    let items = self.take_stack(m)?;
                    self.push_node(Node::Tuple(items.into_boxed_slice()))?;
                }
                TUPLE1..=TUPLE3 => {
                    let n = usize::from(op - TUPLE1 + 1);
                    if self.stack.len() < self.base() + n {
                        return Err(self.underflow());
                    }
                    let items = self.take_stack(self.stack.len() - n)?;
                    self.push_node(Node::Tuple(items.into_boxed_slice()))?;
                }

                // -- memo (text forms)
                PUT => {
                    let k = self.text_index()?;
                    self.memo_put(k)?;
                }
                GET => {
                    let k = self.text_index()?;
                    self.memo_get(k)?;
                }

                // -- stack manipulation
                POP => {
                    if self.stack.len() > self.base() {
                        self.stack.pop();
                    } else if self.marks.is_empty() {
                        return Err(self.underflow());
                    } else {
                        self.marks.pop();
                    }
                }
                POP_MARK => {
                    let m = self.pop_mark()?;
                    self.stack.truncate(m);
                }
                DUP => {
                    let t = self.top()?;
                    self.push(t)?;
                }

                // -- classes, instances, calls
                GLOBAL => {
                    let (module, name) = self.global_names()?;
                    self.push_node(Node::Global(Box::new(Class { module, name })))?;
                }
                INST => {
                    let (module, name) = self.global_names()?;
                    let m = self.pop_mark()?;
                    let args = self.take_stack(m)?;
                    self.push_node(Node::Instance(Box::new(Instance {
                        module,
                        name,
                        args,
                        state: None,
                    })))?;
                }
                OBJ => {
                    let m = self.pop_mark()?;
                    if self.stack.len() <= m {
                        return Err(self.fail("OBJ without a class"));
                    }
                    let cls = self.stack[m];
                    let items = self.take_stack(m + 1)?;
                    self.stack.pop();
                    let id = self.instance_of(cls, items)?;
                    self.push(id)?;
                }
                NEWOBJ => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let id = match self.nodes.get(args as usize) {
                        Some(Node::Tuple(a)) => {
                            let n = a.len();
                            let mut copy = Vec::new();
                            self.grow(&mut copy, n)?;
                            if let Some(Node::Tuple(a)) = self.nodes.get(args as usize) {
                                copy.extend_from_slice(a);
                            }
                            self.instance_of(cls, copy)?
                        }
                        _ => return Err(self.fail("NEWOBJ arguments are not a tuple")),
                    };
                    self.push(id)?;
                }
                REDUCE => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let id = self.reduce(callable, args)?;
                    self.push(id)?;
                }
                BUILD => {
                    let state = self.pop()?;
                    let inst = self.top()?;
                    if let Node::Instance(i) = &mut self.nodes[inst as usize] {
                        i.state = Some(state);
                    }
                }
                PERSID | BINPERSID => return Err(self.fail("persistent IDs are not supported")),
                EXT1..=EXT4 => return Err(self.fail("extension registry codes are not supported")),

                // -- protocol markers and protocol 3/4 opcodes
                PROTO => {
                    let v = self.u8()?;
                    if v > 5 {
                        return Err(self.fail(format!("unsupported protocol {v}")));
                    }
                }
                FRAME => {
                    self.take(8)?;
                }
                SHORT_BINBYTES => {
                    let n = usize::from(self.u8()?);
                    let n = self.length(n as u64)?;
                    let s = self.pos;
                    self.pos += n;
                    self.bytes_at(s, n)?;
                }
                BINBYTES | BINBYTES8 => {
                    let n = if op == BINBYTES {
                        u64::from(u32::from_le_bytes(self.take_arr()?))
                    } else {
                        u64::from_le_bytes(self.take_arr()?)
                    };
                    let n = self.length(n)?;
                    let s = self.pos;
                    self.pos += n;
                    self.bytes_at(s, n)?;
                }
                SHORT_BINUNICODE | BINUNICODE8 => {
                    let n = if op == SHORT_BINUNICODE {
                        u64::from(self.u8()?)
                    } else {
                        u64::from_le_bytes(self.take_arr()?)
                    };
                    let n = self.length(n)?;
                    let s = self.pos;
                    self.pos += n;
                    self.utf8_at(s, n)?;
                }
                MEMOIZE => {
                    let k = self.memo_count as u64;
                    self.memo_put(k)?;
                }
                STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (self.text_of(module), self.text_of(name)) {
                        (Some(module), Some(name)) => {
                            self.push_node(Node::Global(Box::new(Class { module, name })))?
                        }
                        _ => return Err(self.fail("STACK_GLOBAL needs two strings")),
                    }
                }
                STOP => {
                    return self.pop();
                }
                _ => return Err(self.fail(format!("unknown opcode 0x{op:02x}"))),
            }
        }
    }

    /// Rejects values nested deeper than the limit and recursive values.
    /// Runs over the containers reachable from the root, once each.
    pub(super) fn check_shape(&mut self, root: NodeId) -> R<()> {
        const UNSEEN: u16 = 0;
        const OPEN: u16 = 1;
        // Depth d of a finished container is stored as d + 2.
        /// The i-th child of a container node (`None` past the last; `NIL`
        /// for an absent slot).
        fn child(n: &Node, i: usize) -> Option<NodeId> {
            match n {
                Node::Tuple(v) => v.get(i).copied(),
                Node::List(v) => v.get(i).copied(),
                Node::Dict(e) => e.get(i / 2).map(|&(k, v)| if i % 2 == 0 { k } else { v }),
                Node::Instance(inst) => match i.checked_sub(inst.args.len()) {
                    None => Some(inst.args[i]),
                    Some(0) => Some(inst.state.unwrap_or(NIL)),
                    Some(_) => None,
                },
                Node::Reduced { callable, args } => match i {
                    0 => Some(*callable),
                    1 => Some(*args),
                    _ => None,
                },
                _ => None,
            }
        }
        let nodes = &self.nodes;
        if !self.is_container_id(root) {
            return Ok(());
        }
        let max = self.lim.max_depth.min(u16::MAX as usize - 2);
        // Charged with each node (NODE_COST).
        let mut mark = Vec::new();
        if mark.try_reserve_exact(nodes.len()).is_err() {
            return Err(self.over("the nesting check's allocation was refused"));
        }
        mark.resize(nodes.len(), UNSEEN);
        // (node, next child index, deepest child depth + 1 so far)
        let mut work: Vec<(NodeId, usize, usize)> = vec![(root, 0, 1)];
        mark[root as usize] = OPEN;
        let fail = |reason: String| PickleError {
            offset: self.at,
            opcode: Some(self.op),
            reason,
            limit: false,
        };
        while let Some(&mut (id, ref mut i, ref mut depth)) = work.last_mut() {
            let n = &nodes[id as usize];
            let mut descend = None;
            while let Some(c) = child(n, *i) {
                *i += 1;
                if c == NIL || !self.is_container_id(c) {
                    continue;
                }
                match mark[c as usize] {
                    UNSEEN => {
                        descend = Some(c);
                        break;
                    }
                    OPEN => {
                        return Err(fail(
                            "recursive structure (a container inside itself)".into(),
                        ))
                    }
                    d => *depth = (*depth).max(usize::from(d - 2) + 1),
                }
            }
            if let Some(c) = descend {
                if work.len() >= max {
                    return Err(fail(format!("value nested deeper than {max} levels")));
                }
                mark[c as usize] = OPEN;
                work.push((c, 0, 1));
                continue;
            }
            let d = *depth;
            if d > max {
                return Err(fail(format!("value nested deeper than {max} levels")));
            }
            mark[id as usize] = d as u16 + 2;
            work.pop();
            if let Some(&mut (_, _, ref mut pd)) = work.last_mut() {
                *pd = (*pd).max(d + 1);
            }
        }
        Ok(())
    }
}

/// The arena: room for `room` nodes, or for `guess` when that much address
/// space is refused (then growth reallocates).
///
/// A big file needs tens of megabytes of nodes; faulting them in 4 KiB pages
/// costs more than the parse itself, so on Linux the arena asks for
/// transparent huge pages (a hint: without them nothing changes).
fn arena(room: usize, guess: usize) -> Vec<Node> {
    let mut v: Vec<Node> = Vec::new();
    if v.try_reserve_exact(room).is_err() && v.try_reserve_exact(guess).is_err() {
        return v;
    }
    #[cfg(target_os = "linux")]
    advise_huge_pages(
        v.as_mut_ptr().cast::<u8>(),
        v.capacity().saturating_mul(std::mem::size_of::<Node>()),
    );
    v
}

/// Asks the kernel to back the whole pages of `[ptr, ptr + len)` with
/// transparent huge pages; a no-op under 8 MiB or where unsupported.
#[cfg(target_os = "linux")]
pub(super) fn advise_huge_pages(ptr: *mut u8, len: usize) {
    const PAGE: usize = 4096;
    const HUGE: usize = 2 << 20;
    if len < 4 * HUGE {
        return;
    }
    let addr = ptr as usize;
    let start = addr.saturating_add(PAGE - 1) & !(PAGE - 1);
    let end = addr.saturating_add(len) & !(PAGE - 1);
    if end <= start {
        return;
    }
    // SAFETY: [start, end) lies inside the allocation `ptr` points to, which
    // the caller owns; MADV_HUGEPAGE only changes how the kernel backs that
    // memory, never its contents, and a failure is harmless.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}
