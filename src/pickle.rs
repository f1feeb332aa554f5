//! A small, bounded reader for the Python 2 pickles Mailman 2.1 writes.
//!
//! [`parse`] runs a pickle machine over the whole input and builds an arena
//! of [`Node`]s; containers refer to their children by [`NodeId`], so an
//! object fetched from the memo many times is stored once and never copied.
//! Strings are spans of the input whenever their bytes can be used as they
//! are. [`Val`] is a cheap cursor into the arena.
//!
//! Accepted input:
//! * protocols 0, 1 and 2 as CPython 2's `cPickle` writes them, with either
//!   memo style (2.7: only shared objects are memoized; 2.4-2.6: every dict
//!   key and value is);
//! * the Python 3 dialect (protocol 1 written by Python 3 with
//!   `fix_imports`): every string is `BINUNICODE`, `bytes` arrive as
//!   `_codecs.encode(text, 'latin1')` (read back as [`Node::Bytes`]) and
//!   instances as `copy_reg._reconstructor(cls, object, None)` (read back as
//!   [`Node::Instance`]);
//! * the simple opcodes of protocols 3 and 4 (`BINBYTES`,
//!   `SHORT_BINUNICODE`, `FRAME`, `MEMOIZE`, `STACK_GLOBAL`, ...).
//!
//! A Python 2 `str` stays bytes ([`Node::Bytes`]); a `unicode` becomes UTF-8
//! text ([`Node::Text`]), with lone surrogates replaced by U+FFFD and an
//! encoded surrogate pair joined into its character. Classes, instances and
//! calls are kept as opaque nodes and never make the parse fail.
//!
//! Every input is bounded by [`Limits`]; any failure is a [`PickleError`]
//! naming the byte offset and the opcode. The reader never panics, never
//! allocates more than a small multiple of the input, and does constant work
//! per opcode apart from copying the items a `MARK` frame holds.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Index of a node in [`Pickle::nodes`].
pub type NodeId = u32;

/// Bounds that protect the reader against hostile files.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in bytes (never more than `u32::MAX`).
    pub max_bytes: usize,
    /// Deepest nesting of containers, both of the finished value and of the
    /// `MARK` frames open at any time.
    pub max_depth: usize,
    /// Most memo entries.
    pub max_memo: usize,
    /// Most nodes in the arena.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 256 << 20,
            max_depth: 200,
            max_memo: 1 << 24,
            max_nodes: 1 << 25,
        }
    }
}

/// A byte or text string: either a span of the input or owned bytes.
#[derive(Debug, Clone)]
pub enum Str {
    Span { start: u32, len: u32 },
    Owned(Box<[u8]>),
}

/// One decoded value.
#[derive(Debug, Clone)]
pub enum Node {
    None,
    Bool(bool),
    Int(i64),
    /// A Python long that does not fit in i64, as decimal text.
    BigInt(String),
    Float(f64),
    /// Python 2 `str` (bytes, in the list's charset).
    Bytes(Str),
    /// Python 2 `unicode`, UTF-8 (lone surrogates as U+FFFD).
    Text(Str),
    Tuple(Vec<NodeId>),
    List(Vec<NodeId>),
    /// Entries in pickle order; a later duplicate key overrides an earlier one.
    Dict(Vec<(NodeId, NodeId)>),
    /// A class or function reference (GLOBAL).
    Global {
        module: String,
        name: String,
    },
    /// An instance (OBJ, INST, NEWOBJ, copy_reg._reconstructor): opaque.
    Instance {
        module: String,
        name: String,
        args: Vec<NodeId>,
        state: Option<NodeId>,
    },
    /// Any other REDUCE result: opaque.
    Reduced {
        callable: NodeId,
        args: NodeId,
    },
}

/// Why a pickle could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickleError {
    /// Byte offset of the opcode that failed.
    pub offset: usize,
    /// The opcode byte, when there was one.
    pub opcode: Option<u8>,
    pub reason: String,
}

impl std::fmt::Display for PickleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.opcode {
            Some(op) => match opcode_name(op) {
                Some(name) => write!(
                    f,
                    "pickle error at offset {} (opcode {:?} {}): {}",
                    self.offset, op as char, name, self.reason
                ),
                None => write!(
                    f,
                    "pickle error at offset {} (opcode 0x{:02x}): {}",
                    self.offset, op, self.reason
                ),
            },
            None => write!(f, "pickle error at offset {}: {}", self.offset, self.reason),
        }
    }
}

impl std::error::Error for PickleError {}

/// The name pickletools gives an opcode byte, if it is one.
pub fn opcode_name(op: u8) -> Option<&'static str> {
    Some(match op {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        _ => return None,
    })
}

/// A parsed pickle: the input bytes, the node arena and the root.
pub struct Pickle {
    data: Vec<u8>,
    nodes: Vec<Node>,
    root: NodeId,
}

impl std::fmt::Debug for Pickle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pickle")
            .field("bytes", &self.data.len())
            .field("nodes", &self.nodes.len())
            .field("root", &self.root)
            .finish()
    }
}

/// Parse a whole pickle.
///
/// Reading stops at the first `STOP`; anything after it is ignored, as
/// Python's `pickle.loads` does.
pub fn parse(data: Vec<u8>, limits: &Limits) -> Result<Pickle, PickleError> {
    let max_bytes = limits.max_bytes.min(u32::MAX as usize);
    if data.len() > max_bytes {
        return Err(PickleError {
            offset: 0,
            opcode: None,
            reason: format!(
                "input of {} bytes exceeds the limit of {} bytes",
                data.len(),
                max_bytes
            ),
        });
    }
    let (nodes, root) = {
        let mut m = Machine::new(&data, limits);
        let root = m.run()?;
        m.check_shape(root)?;
        if m.nodes.capacity() > m.nodes.len().saturating_mul(2) {
            m.nodes.shrink_to_fit();
        }
        (m.nodes, root)
    };
    Ok(Pickle { data, nodes, root })
}

impl Pickle {
    pub fn root(&self) -> Val<'_> {
        Val {
            p: self,
            id: self.root,
        }
    }
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    pub fn str_bytes<'a>(&'a self, s: &'a Str) -> &'a [u8] {
        match s {
            Str::Span { start, len } => {
                let start = *start as usize;
                start
                    .checked_add(*len as usize)
                    .and_then(|end| self.data.get(start..end))
                    .unwrap_or(&[])
            }
            Str::Owned(b) => b,
        }
    }
    /// A cursor to any node of the arena (`None` when out of range).
    pub fn val(&self, id: NodeId) -> Option<Val<'_>> {
        (usize::try_from(id).ok()? < self.nodes.len()).then_some(Val { p: self, id })
    }
    /// The input the pickle was parsed from.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// A canonical JSON rendering of the whole value, used to compare this
    /// reader with CPython's (`tools/pickle_canon.py` renders the same form):
    ///
    /// * `None`, `True`, `False` → `null`, `true`, `false`;
    /// * int or long → `{"i":"<decimal>"}`; float → `{"f":"<16 hex digits
    ///   of the IEEE-754 bits>"}`;
    /// * str → `{"b":"<hex>"}`; unicode → `{"u":"<text>"}`;
    /// * tuple, list → `{"t":[…]}`, `{"l":[…]}`; dict → `{"d":[[k,v],…]}`
    ///   in pickle order, a repeated key keeping its first place and its last
    ///   value (as a Python dict does);
    /// * class reference → `{"g":["module","name"]}`;
    /// * instance, or a call of a class → `{"inst":["module","name",[args…],
    ///   state]}` (`state` is `null` without `BUILD`);
    /// * any other call → `{"r":[callable,args]}`.
    ///
    /// JSON strings escape `"`, `\`, the control characters (`\b \f \n \r
    /// \t`, else `\u00XX`) and everything outside ASCII 0x20-0x7e as `\uXXXX`
    /// (UTF-16), like Python's `json.dumps(ensure_ascii=True)`; there is no
    /// whitespace. Shared objects are rendered at each place they occur.
    pub fn to_canonical_json(&self) -> String {
        let mut out = String::with_capacity(self.data.len().saturating_mul(2));
        self.canon(self.root, &mut out);
        out
    }

    fn canon(&self, id: NodeId, out: &mut String) {
        let Some(node) = self.nodes.get(id as usize) else {
            out.push_str("null");
            return;
        };
        match node {
            Node::None => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Int(i) => {
                let _ = write!(out, "{{\"i\":\"{i}\"}}");
            }
            Node::BigInt(s) => {
                out.push_str("{\"i\":");
                json_str(s, out);
                out.push('}');
            }
            Node::Float(f) => {
                let _ = write!(out, "{{\"f\":\"{:016x}\"}}", f.to_bits());
            }
            Node::Bytes(s) => {
                out.push_str("{\"b\":\"");
                for b in self.str_bytes(s) {
                    let _ = write!(out, "{b:02x}");
                }
                out.push_str("\"}");
            }
            Node::Text(s) => {
                out.push_str("{\"u\":");
                json_str(&String::from_utf8_lossy(self.str_bytes(s)), out);
                out.push('}');
            }
            Node::Tuple(v) => self.canon_seq("t", v, out),
            Node::List(v) => self.canon_seq("l", v, out),
            Node::Dict(entries) => {
                let mut rendered: Vec<(String, NodeId)> = Vec::with_capacity(entries.len());
                let mut seen: HashMap<String, usize> = HashMap::new();
                for &(k, v) in entries {
                    let mut ks = String::new();
                    self.canon(k, &mut ks);
                    if entries.len() > 1 {
                        if let Some(&i) = seen.get(&ks) {
                            rendered[i].1 = v;
                            continue;
                        }
                        seen.insert(ks.clone(), rendered.len());
                    }
                    rendered.push((ks, v));
                }
                out.push_str("{\"d\":[");
                for (i, (ks, v)) in rendered.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    out.push_str(ks);
                    out.push(',');
                    self.canon(*v, out);
                    out.push(']');
                }
                out.push_str("]}");
            }
            Node::Global { module, name } => {
                out.push_str("{\"g\":[");
                json_str(module, out);
                out.push(',');
                json_str(name, out);
                out.push_str("]}");
            }
            Node::Instance {
                module,
                name,
                args,
                state,
            } => {
                self.canon_inst(module, name, args, *state, out);
            }
            Node::Reduced { callable, args } => {
                let cls = self.nodes.get(*callable as usize);
                let tuple = self.nodes.get(*args as usize);
                if let (Some(Node::Global { module, name }), Some(Node::Tuple(a))) = (cls, tuple) {
                    self.canon_inst(module, name, a, None, out);
                } else {
                    out.push_str("{\"r\":[");
                    self.canon(*callable, out);
                    out.push(',');
                    self.canon(*args, out);
                    out.push_str("]}");
                }
            }
        }
    }

    fn canon_seq(&self, tag: &str, items: &[NodeId], out: &mut String) {
        out.push_str("{\"");
        out.push_str(tag);
        out.push_str("\":[");
        for (i, &c) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.canon(c, out);
        }
        out.push_str("]}");
    }

    fn canon_inst(
        &self,
        module: &str,
        name: &str,
        args: &[NodeId],
        state: Option<NodeId>,
        out: &mut String,
    ) {
        out.push_str("{\"inst\":[");
        json_str(module, out);
        out.push(',');
        json_str(name, out);
        out.push_str(",[");
        for (i, &a) in args.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.canon(a, out);
        }
        out.push_str("],");
        match state {
            Some(s) => self.canon(s, out),
            None => out.push_str("null"),
        }
        out.push_str("]}");
    }
}

/// A JSON string literal as Python's `json.dumps(ensure_ascii=True)` writes it.
pub fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// A cursor to one node of a [`Pickle`].
#[derive(Clone, Copy)]
pub struct Val<'a> {
    p: &'a Pickle,
    id: NodeId,
}

impl std::fmt::Debug for Val<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Val({}: {:?})", self.id, self.node())
    }
}

impl<'a> Val<'a> {
    pub fn node(&self) -> &'a Node {
        &self.p.nodes[self.id as usize]
    }
    /// The node's index in [`Pickle::nodes`].
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// The pickle this cursor points into.
    pub fn pickle(&self) -> &'a Pickle {
        self.p
    }
    pub fn is_none(&self) -> bool {
        matches!(self.node(), Node::None)
    }
    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self.node() {
            Node::None => false,
            Node::Bool(b) => *b,
            Node::Int(i) => *i != 0,
            Node::BigInt(_) => true,
            Node::Float(f) => *f != 0.0,
            Node::Bytes(s) | Node::Text(s) => !self.p.str_bytes(s).is_empty(),
            Node::Tuple(v) | Node::List(v) => !v.is_empty(),
            Node::Dict(v) => !v.is_empty(),
            Node::Global { .. } | Node::Instance { .. } | Node::Reduced { .. } => true,
        }
    }
    /// int, bool (as 0/1) or a long that fits.
    pub fn as_int(&self) -> Option<i64> {
        match self.node() {
            Node::Int(i) => Some(*i),
            Node::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
    /// float, or an int or bool as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self.node() {
            Node::Float(f) => Some(*f),
            Node::Int(i) => Some(*i as f64),
            Node::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
    /// The bytes of a str, or the UTF-8 of a unicode.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.node() {
            Node::Bytes(s) | Node::Text(s) => Some(self.p.str_bytes(s)),
            _ => None,
        }
    }
    /// True for Python `unicode`.
    pub fn is_text(&self) -> bool {
        matches!(self.node(), Node::Text(_))
    }
    /// True for a dict.
    pub fn is_dict(&self) -> bool {
        matches!(self.node(), Node::Dict(_))
    }
    /// Text of a str (UTF-8 if valid, else Latin-1) or unicode.
    pub fn as_str_lossy(&self) -> Option<Cow<'a, str>> {
        match self.node() {
            Node::Bytes(s) => {
                let b = self.p.str_bytes(s);
                Some(match std::str::from_utf8(b) {
                    Ok(t) => Cow::Borrowed(t),
                    Err(_) => Cow::Owned(b.iter().map(|&c| char::from(c)).collect()),
                })
            }
            Node::Text(s) => Some(String::from_utf8_lossy(self.p.str_bytes(s))),
            _ => None,
        }
    }
    /// Dict lookup by a str or unicode key equal to `key`; the last match wins.
    pub fn get(&self, key: &str) -> Option<Val<'a>> {
        let Node::Dict(entries) = self.node() else {
            return None;
        };
        let key = key.as_bytes();
        entries.iter().rev().find_map(|&(k, v)| {
            let kv = Val { p: self.p, id: k };
            (kv.as_bytes() == Some(key)).then_some(Val { p: self.p, id: v })
        })
    }
    /// Dict entries in pickle order (empty when not a dict).
    pub fn items(&self) -> impl Iterator<Item = (Val<'a>, Val<'a>)> + 'a {
        let p = self.p;
        let entries: &'a [(NodeId, NodeId)] = match self.node() {
            Node::Dict(v) => v,
            _ => &[],
        };
        entries
            .iter()
            .map(move |&(k, v)| (Val { p, id: k }, Val { p, id: v }))
    }
    /// List or tuple elements (empty otherwise).
    pub fn elements(&self) -> impl Iterator<Item = Val<'a>> + 'a {
        let p = self.p;
        let items: &'a [NodeId] = match self.node() {
            Node::List(v) | Node::Tuple(v) => v,
            _ => &[],
        };
        items.iter().map(move |&id| Val { p, id })
    }
    /// Number of elements or entries of a container, 0 otherwise.
    pub fn len(&self) -> usize {
        match self.node() {
            Node::List(v) | Node::Tuple(v) => v.len(),
            Node::Dict(v) => v.len(),
            _ => 0,
        }
    }
    /// True when [`Val::len`] is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `(module, name)` of an instance or class reference.
    pub fn class(&self) -> Option<(&'a str, &'a str)> {
        match self.node() {
            Node::Instance { module, name, .. } | Node::Global { module, name } => {
                Some((module, name))
            }
            _ => None,
        }
    }
    /// The state an instance received from `BUILD`.
    pub fn state(&self) -> Option<Val<'a>> {
        match self.node() {
            Node::Instance { state: Some(s), .. } => Some(Val { p: self.p, id: *s }),
            _ => None,
        }
    }
    /// An attribute of an instance whose state is a dict.
    pub fn attr(&self, name: &str) -> Option<Val<'a>> {
        self.state()?.get(name)
    }
}

// ---------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------

const NIL: NodeId = u32::MAX;
const SMALL_MIN: i64 = -5;
const SMALL_MAX: i64 = 256;
/// Longest `LONG1`/`LONG4` payload accepted, in bytes (about 10,000 digits).
const MAX_LONG_BYTES: usize = 4096;

type R<T> = Result<T, PickleError>;

struct Machine<'d> {
    d: &'d [u8],
    pos: usize,
    /// Offset and byte of the opcode being run.
    at: usize,
    op: u8,
    lim: Limits,
    nodes: Vec<Node>,
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
}

impl<'d> Machine<'d> {
    fn new(d: &'d [u8], lim: &Limits) -> Self {
        Machine {
            d,
            pos: 0,
            at: 0,
            op: 0,
            lim: *lim,
            nodes: arena((d.len() / 24).clamp(16, lim.max_nodes.clamp(16, 1 << 23))),
            stack: Vec::with_capacity(64),
            marks: Vec::with_capacity(16),
            memo: Vec::new(),
            memo_far: HashMap::new(),
            memo_count: 0,
            containers: Vec::with_capacity(d.len() / 1024 + 1),
            consts: [NIL; 4],
            small_ints: [NIL; (SMALL_MAX - SMALL_MIN + 1) as usize],
        }
    }

    fn fail(&self, reason: impl Into<String>) -> PickleError {
        PickleError {
            offset: self.at,
            opcode: Some(self.op),
            reason: reason.into(),
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
            return Err(self.fail(format!("more than {} nodes", self.lim.max_nodes)));
        }
        if id % 64 == 0 {
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

    fn push(&mut self, id: NodeId) {
        self.stack.push(id);
    }

    fn push_node(&mut self, n: Node) -> R<()> {
        let id = self.node(n)?;
        self.stack.push(id);
        Ok(())
    }

    fn konst(&mut self, i: usize, n: Node) -> R<()> {
        if self.consts[i] == NIL {
            self.consts[i] = self.node(n)?;
        }
        self.push(self.consts[i]);
        Ok(())
    }

    fn push_int(&mut self, v: i64) -> R<()> {
        if (SMALL_MIN..=SMALL_MAX).contains(&v) {
            let i = (v - SMALL_MIN) as usize;
            if self.small_ints[i] == NIL {
                self.small_ints[i] = self.node(Node::Int(v))?;
            }
            self.push(self.small_ints[i]);
            Ok(())
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
                self.memo.resize(k + 1, NIL);
                self.memo[k] = id;
                return Ok(());
            }
        }
        if self.memo_far.insert(key, id).is_none() {
            self.count_memo()?;
        }
        Ok(())
    }

    fn count_memo(&mut self) -> R<()> {
        if self.memo_count >= self.lim.max_memo {
            return Err(self.fail(format!("more than {} memo entries", self.lim.max_memo)));
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
            Some(id) => {
                self.push(id);
                Ok(())
            }
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
            Err(_) => match decode_utf8_surrogates(s) {
                Ok(t) => Node::Text(Str::Owned(t.into_bytes().into_boxed_slice())),
                Err(at) => {
                    return Err(self.fail(format!("invalid UTF-8 at byte {} of the string", at)))
                }
            },
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
        match unescape_py_str(inner) {
            Ok(v) => self.push_node(Node::Bytes(Str::Owned(v.into_boxed_slice()))),
            Err(msg) => Err(self.fail(msg)),
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
        match decode_raw_unicode_escape(raw) {
            Ok(t) => self.push_node(Node::Text(Str::Owned(t.into_bytes().into_boxed_slice()))),
            Err(msg) => Err(self.fail(msg)),
        }
    }

    fn global_names(&mut self) -> R<(String, String)> {
        let m = self.line_bytes()?;
        let n = self.line_bytes()?;
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
        match parse_decimal(t) {
            Some(Ok(v)) => self.push_int(v),
            Some(Err(big)) => self.push_node(Node::BigInt(big)),
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
            Err(s) => self.push_node(Node::BigInt(s)),
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
            Some(Node::Global { module, name }) => {
                let (module, name) = (module.clone(), name.clone());
                self.node(Node::Instance {
                    module,
                    name,
                    args,
                    state: None,
                })
            }
            _ => {
                let t = self.node(Node::Tuple(args))?;
                self.node(Node::Reduced {
                    callable: cls,
                    args: t,
                })
            }
        }
    }

    fn reduce(&mut self, callable: NodeId, args: NodeId) -> R<NodeId> {
        let (Some(Node::Global { module, name }), Some(Node::Tuple(a))) = (
            self.nodes.get(callable as usize),
            self.nodes.get(args as usize),
        ) else {
            return self.node(Node::Reduced { callable, args });
        };
        match (module.as_str(), name.as_str(), a.as_slice()) {
            ("copy_reg" | "copyreg", "_reconstructor", [cls, ..]) => {
                if let Some(Node::Global { module, name }) = self.nodes.get(*cls as usize) {
                    let (module, name) = (module.clone(), name.clone());
                    return self.node(Node::Instance {
                        module,
                        name,
                        args: Vec::new(),
                        state: None,
                    });
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

    fn run(&mut self) -> R<NodeId> {
        loop {
            let at = self.pos;
            let Some(&op) = self.d.get(at) else {
                return Err(PickleError {
                    offset: at,
                    opcode: None,
                    reason: "truncated: input ended before STOP".into(),
                });
            };
            self.at = at;
            self.op = op;
            self.pos = at + 1;
            match op {
                // -- strings, the bulk of a config.pck
                b'U' => {
                    let n = usize::from(self.u8()?);
                    let n = self.length(n as u64)?;
                    let s = self.pos;
                    self.pos += n;
                    self.bytes_at(s, n)?;
                }
                b'q' => {
                    let k = self.u8()?;
                    self.memo_put(u64::from(k))?;
                }
                b'r' => {
                    let k = u32::from_le_bytes(self.take_arr()?);
                    self.memo_put(u64::from(k))?;
                }
                b'h' => {
                    let k = self.u8()?;
                    self.memo_get(u64::from(k))?;
                }
                b'j' => {
                    let k = u32::from_le_bytes(self.take_arr()?);
                    self.memo_get(u64::from(k))?;
                }
                b'T' => {
                    let n = i32::from_le_bytes(self.take_arr()?);
                    if n < 0 {
                        return Err(self.fail(format!("negative byte count {n}")));
                    }
                    let n = self.length(n as u64)?;
                    let s = self.pos;
                    self.pos += n;
                    self.bytes_at(s, n)?;
                }
                b'X' => {
                    let n = u32::from_le_bytes(self.take_arr()?);
                    let n = self.length(u64::from(n))?;
                    let s = self.pos;
                    self.pos += n;
                    self.utf8_at(s, n)?;
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push_int(i64::from(v))?;
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.take_arr()?);
                    self.push_int(i64::from(v))?;
                }
                b'J' => {
                    let v = i32::from_le_bytes(self.take_arr()?);
                    self.push_int(i64::from(v))?;
                }
                b'I' => self.int_text(false)?,
                b'L' => self.int_text(true)?,
                0x8a => {
                    let n = usize::from(self.u8()?);
                    self.long_bytes(n)?;
                }
                0x8b => {
                    let n = i32::from_le_bytes(self.take_arr()?);
                    if n < 0 {
                        return Err(self.fail(format!("negative byte count {n}")));
                    }
                    let n = self.length(n as u64)?;
                    self.long_bytes(n)?;
                }
                b'G' => {
                    let v = f64::from_be_bytes(self.take_arr()?);
                    self.push_node(Node::Float(v))?;
                }
                b'F' => self.float_text()?,
                b'N' => self.konst(0, Node::None)?,
                0x88 => self.konst(2, Node::Bool(true))?,
                0x89 => self.konst(1, Node::Bool(false))?,
                b'S' => self.string_op()?,
                b'V' => self.unicode_op()?,

                // -- containers
                b'(' => {
                    if self.marks.len() >= self.lim.max_depth {
                        return Err(
                            self.fail(format!("more than {} nested MARKs", self.lim.max_depth))
                        );
                    }
                    self.marks.push(self.stack.len());
                }
                b'}' => self.push_node(Node::Dict(Vec::new()))?,
                b']' => self.push_node(Node::List(Vec::new()))?,
                b')' => self.konst(3, Node::Tuple(Vec::new()))?,
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.check_key(k)?;
                    let d = self.top()?;
                    match &mut self.nodes[d as usize] {
                        Node::Dict(e) => e.push((k, v)),
                        _ => return Err(self.fail("SETITEM on something that is not a dict")),
                    }
                }
                b'u' => {
                    let m = self.pop_mark_with_target()?;
                    if (self.stack.len() - m) % 2 != 0 {
                        return Err(self.fail("SETITEMS with an odd number of items"));
                    }
                    for i in (m..self.stack.len()).step_by(2) {
                        self.check_key(self.stack[i])?;
                    }
                    let d = self.stack[m - 1];
                    match &mut self.nodes[d as usize] {
                        Node::Dict(e) => {
                            e.extend(self.stack[m..].chunks_exact(2).map(|c| (c[0], c[1])))
                        }
                        _ => return Err(self.fail("SETITEMS on something that is not a dict")),
                    }
                    self.stack.truncate(m);
                }
                b'a' => {
                    let v = self.pop()?;
                    let l = self.top()?;
                    match &mut self.nodes[l as usize] {
                        Node::List(e) => e.push(v),
                        _ => return Err(self.fail("APPEND to something that is not a list")),
                    }
                }
                b'e' => {
                    let m = self.pop_mark_with_target()?;
                    let l = self.stack[m - 1];
                    match &mut self.nodes[l as usize] {
                        Node::List(e) => e.extend_from_slice(&self.stack[m..]),
                        _ => return Err(self.fail("APPENDS to something that is not a list")),
                    }
                    self.stack.truncate(m);
                }
                b'd' => {
                    let m = self.pop_mark()?;
                    if (self.stack.len() - m) % 2 != 0 {
                        return Err(self.fail("DICT with an odd number of items"));
                    }
                    for i in (m..self.stack.len()).step_by(2) {
                        self.check_key(self.stack[i])?;
                    }
                    let e: Vec<(NodeId, NodeId)> = self.stack[m..]
                        .chunks_exact(2)
                        .map(|c| (c[0], c[1]))
                        .collect();
                    self.stack.truncate(m);
                    self.push_node(Node::Dict(e))?;
                }
                b'l' => {
                    let m = self.pop_mark()?;
                    let items = self.stack.split_off(m);
                    self.push_node(Node::List(items))?;
                }
                b't' => {
                    let m = self.pop_mark()?;
                    let items = self.stack.split_off(m);
                    self.push_node(Node::Tuple(items))?;
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < self.base() + n {
                        return Err(self.underflow());
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push_node(Node::Tuple(items))?;
                }

                // -- memo (text forms)
                b'p' => {
                    let k = self.text_index()?;
                    self.memo_put(k)?;
                }
                b'g' => {
                    let k = self.text_index()?;
                    self.memo_get(k)?;
                }

                // -- stack manipulation
                b'0' => {
                    if self.stack.len() > self.base() {
                        self.stack.pop();
                    } else if self.marks.is_empty() {
                        return Err(self.underflow());
                    } else {
                        self.marks.pop();
                    }
                }
                b'1' => {
                    let m = self.pop_mark()?;
                    self.stack.truncate(m);
                }
                b'2' => {
                    let t = self.top()?;
                    self.push(t);
                }

                // -- classes, instances, calls
                b'c' => {
                    let (module, name) = self.global_names()?;
                    self.push_node(Node::Global { module, name })?;
                }
                b'i' => {
                    let (module, name) = self.global_names()?;
                    let m = self.pop_mark()?;
                    let args = self.stack.split_off(m);
                    self.push_node(Node::Instance {
                        module,
                        name,
                        args,
                        state: None,
                    })?;
                }
                b'o' => {
                    let m = self.pop_mark()?;
                    if self.stack.len() <= m {
                        return Err(self.fail("OBJ without a class"));
                    }
                    let mut items = self.stack.split_off(m);
                    let cls = items.remove(0);
                    let id = self.instance_of(cls, items)?;
                    self.push(id);
                }
                0x81 => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let id = match self.nodes.get(args as usize) {
                        Some(Node::Tuple(a)) => {
                            let a = a.clone();
                            self.instance_of(cls, a)?
                        }
                        _ => return Err(self.fail("NEWOBJ arguments are not a tuple")),
                    };
                    self.push(id);
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let id = self.reduce(callable, args)?;
                    self.push(id);
                }
                b'b' => {
                    let state = self.pop()?;
                    let inst = self.top()?;
                    if let Node::Instance { state: s, .. } = &mut self.nodes[inst as usize] {
                        *s = Some(state);
                    }
                }
                b'P' | b'Q' => return Err(self.fail("persistent IDs are not supported")),
                0x82..=0x84 => return Err(self.fail("extension registry codes are not supported")),

                // -- protocol markers and protocol 3/4 opcodes
                0x80 => {
                    let v = self.u8()?;
                    if v > 5 {
                        return Err(self.fail(format!("unsupported protocol {v}")));
                    }
                }
                0x95 => {
                    self.take(8)?;
                }
                b'C' => {
                    let n = usize::from(self.u8()?);
                    let n = self.length(n as u64)?;
                    let s = self.pos;
                    self.pos += n;
                    self.bytes_at(s, n)?;
                }
                b'B' | 0x8e => {
                    let n = if op == b'B' {
                        u64::from(u32::from_le_bytes(self.take_arr()?))
                    } else {
                        u64::from_le_bytes(self.take_arr()?)
                    };
                    let n = self.length(n)?;
                    let s = self.pos;
                    self.pos += n;
                    self.bytes_at(s, n)?;
                }
                0x8c | 0x8d => {
                    let n = if op == 0x8c {
                        u64::from(self.u8()?)
                    } else {
                        u64::from_le_bytes(self.take_arr()?)
                    };
                    let n = self.length(n)?;
                    let s = self.pos;
                    self.pos += n;
                    self.utf8_at(s, n)?;
                }
                0x94 => {
                    let k = self.memo_count as u64;
                    self.memo_put(k)?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (self.text_of(module), self.text_of(name)) {
                        (Some(module), Some(name)) => {
                            self.push_node(Node::Global { module, name })?
                        }
                        _ => return Err(self.fail("STACK_GLOBAL needs two strings")),
                    }
                }
                b'.' => {
                    return self.pop();
                }
                _ => return Err(self.fail(format!("unknown opcode 0x{op:02x}"))),
            }
        }
    }

    /// Rejects values nested deeper than the limit and recursive values.
    /// Runs over the containers reachable from the root, once each.
    fn check_shape(&mut self, root: NodeId) -> R<()> {
        const UNSEEN: u16 = 0;
        const OPEN: u16 = 1;
        // Depth d of a finished container is stored as d + 2.
        /// The i-th child of a container node (`None` past the last; `NIL`
        /// for an absent slot).
        fn child(n: &Node, i: usize) -> Option<NodeId> {
            match n {
                Node::Tuple(v) | Node::List(v) => v.get(i).copied(),
                Node::Dict(e) => e.get(i / 2).map(|&(k, v)| if i % 2 == 0 { k } else { v }),
                Node::Instance { args, state, .. } => match i.checked_sub(args.len()) {
                    None => Some(args[i]),
                    Some(0) => Some(state.unwrap_or(NIL)),
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
        let mut mark = vec![UNSEEN; nodes.len()];
        // (node, next child index, deepest child depth + 1 so far)
        let mut work: Vec<(NodeId, usize, usize)> = vec![(root, 0, 1)];
        mark[root as usize] = OPEN;
        let fail = |reason: String| PickleError {
            offset: self.at,
            opcode: Some(self.op),
            reason,
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

fn is_container(n: &Node) -> bool {
    matches!(
        n,
        Node::Tuple(_)
            | Node::List(_)
            | Node::Dict(_)
            | Node::Instance { .. }
            | Node::Reduced { .. }
    )
}

/// An empty node arena with room for about `n` nodes.
///
/// A big file needs tens of megabytes of nodes; faulting them in 4 KiB pages
/// costs more than the parse itself, so on Linux the arena asks for
/// transparent huge pages (a hint: without them nothing changes).
fn arena(n: usize) -> Vec<Node> {
    let mut v: Vec<Node> = Vec::with_capacity(n);
    #[cfg(target_os = "linux")]
    advise_huge_pages(
        v.as_mut_ptr().cast::<u8>(),
        v.capacity().saturating_mul(std::mem::size_of::<Node>()),
    );
    v
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *mut u8, len: usize) {
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

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

fn parse_u64(t: &[u8]) -> Option<u64> {
    if t.is_empty() {
        return None;
    }
    t.iter().try_fold(0u64, |acc, &c| {
        if c.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        } else {
            None
        }
    })
}

/// A decimal integer with an optional sign: `Ok(i64)` when it fits, else
/// `Err(normalized decimal text)`; `None` when it is not a number.
fn parse_decimal(t: &[u8]) -> Option<Result<i64, String>> {
    let (neg, digits) = match t.first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Python rejects leading zeros in a base-0 literal ("010"), except zeros.
    if digits.len() > 1 && digits[0] == b'0' && digits.iter().any(|&c| c != b'0') {
        return None;
    }
    let mut v: i128 = 0;
    for &c in digits {
        v = v * 10 + i128::from(c - b'0');
        if v > i128::from(u64::MAX) {
            break;
        }
    }
    let v = if neg { -v } else { v };
    if let Ok(x) = i64::try_from(v) {
        return Some(Ok(x));
    }
    let first = digits
        .iter()
        .position(|&c| c != b'0')
        .unwrap_or(digits.len() - 1);
    let mut s = String::with_capacity(digits.len() + 1);
    if neg {
        s.push('-');
    }
    s.extend(digits[first..].iter().map(|&c| char::from(c)));
    Some(Err(s))
}

/// A little-endian two's complement integer (LONG1/LONG4).
fn long_from_le(b: &[u8]) -> Result<i64, String> {
    if b.is_empty() {
        return Ok(0);
    }
    let neg = b[b.len() - 1] & 0x80 != 0;
    if b.len() <= 8 {
        let fill = if neg { 0xff } else { 0 };
        let mut a = [fill; 8];
        a[..b.len()].copy_from_slice(b);
        return Ok(i64::from_le_bytes(a));
    }
    // Magnitude as little-endian u32 limbs.
    let mut mag: Vec<u8> = b.to_vec();
    if neg {
        let mut carry = true;
        for x in mag.iter_mut() {
            *x = !*x;
            if carry {
                let (y, c) = x.overflowing_add(1);
                *x = y;
                carry = c;
            }
        }
    }
    let mut limbs: Vec<u32> = mag
        .chunks(4)
        .map(|c| {
            let mut a = [0u8; 4];
            a[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(a)
        })
        .collect();
    while limbs.last() == Some(&0) {
        limbs.pop();
    }
    if limbs.len() <= 2 {
        let m = u64::from(limbs.first().copied().unwrap_or(0))
            | (u64::from(limbs.get(1).copied().unwrap_or(0)) << 32);
        let v = if neg { -i128::from(m) } else { i128::from(m) };
        if let Ok(x) = i64::try_from(v) {
            return Ok(x);
        }
    }
    // Repeated division by 10^9.
    let mut chunks: Vec<u32> = Vec::new();
    while !limbs.is_empty() {
        let mut rem: u64 = 0;
        for l in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*l);
            *l = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem as u32);
        while limbs.last() == Some(&0) {
            limbs.pop();
        }
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    let mut it = chunks.iter().rev();
    if let Some(first) = it.next() {
        let _ = write!(s, "{first}");
    }
    for c in it {
        let _ = write!(s, "{c:09}");
    }
    Err(s)
}

/// Collects UTF-16 code units / code points into UTF-8, joining surrogate
/// pairs and replacing lone surrogates with U+FFFD.
struct TextBuilder {
    out: String,
    high: Option<u32>,
}

impl TextBuilder {
    fn new(cap: usize) -> Self {
        TextBuilder {
            out: String::with_capacity(cap),
            high: None,
        }
    }
    fn push(&mut self, cp: u32) {
        if let Some(h) = self.high.take() {
            if (0xdc00..0xe000).contains(&cp) {
                let c = 0x10000 + ((h - 0xd800) << 10) + (cp - 0xdc00);
                self.out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                return;
            }
            self.out.push('\u{fffd}');
        }
        if (0xd800..0xdc00).contains(&cp) {
            self.high = Some(cp);
        } else {
            self.out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
        }
    }
    fn push_str(&mut self, s: &str) {
        if let Some(_h) = self.high.take() {
            self.out.push('\u{fffd}');
        }
        self.out.push_str(s);
    }
    fn finish(mut self) -> String {
        if self.high.take().is_some() {
            self.out.push('\u{fffd}');
        }
        self.out
    }
}

/// UTF-8 as Python 2 decodes it: surrogates encoded as 3-byte sequences are
/// accepted. `Err(position)` for any other invalid sequence.
fn decode_utf8_surrogates(mut s: &[u8]) -> Result<String, usize> {
    let total = s.len();
    let mut tb = TextBuilder::new(s.len());
    loop {
        match std::str::from_utf8(s) {
            Ok(t) => {
                tb.push_str(t);
                return Ok(tb.finish());
            }
            Err(e) => {
                let (good, bad) = s.split_at(e.valid_up_to());
                if let Ok(t) = std::str::from_utf8(good) {
                    if !t.is_empty() {
                        tb.push_str(t);
                    }
                }
                match bad {
                    [0xed, b1 @ 0xa0..=0xbf, b2 @ 0x80..=0xbf, ..] => {
                        let cp = 0xd000 | (u32::from(b1 & 0x3f) << 6) | u32::from(b2 & 0x3f);
                        tb.push(cp);
                        s = &bad[3..];
                    }
                    _ => return Err(total - bad.len()),
                }
            }
        }
    }
}

/// Python's `raw-unicode-escape` decoding (protocol-0 `UNICODE`).
fn decode_raw_unicode_escape(raw: &[u8]) -> Result<String, String> {
    let mut tb = TextBuilder::new(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            tb.push(u32::from(c));
            i += 1;
            continue;
        }
        // A run of backslashes: \u escapes count only after an odd number.
        let run_start = i;
        while i < raw.len() && raw[i] == b'\\' {
            i += 1;
        }
        let run = i - run_start;
        let escape = run % 2 == 1 && i < raw.len() && (raw[i] == b'u' || raw[i] == b'U');
        let literal = if escape { run - 1 } else { run };
        for _ in 0..literal {
            tb.push(u32::from(b'\\'));
        }
        if !escape {
            continue;
        }
        let count = if raw[i] == b'u' { 4 } else { 8 };
        i += 1;
        let hex = raw.get(i..i + count).ok_or("truncated \\uXXXX escape")?;
        let mut cp: u32 = 0;
        for &h in hex {
            let d = char::from(h).to_digit(16).ok_or("bad \\uXXXX escape")?;
            cp = (cp << 4) | d;
        }
        if cp > 0x10ffff {
            return Err("\\Uxxxxxxxx out of range".into());
        }
        tb.push(cp);
        i += count;
    }
    Ok(tb.finish())
}

/// Python 2 string-escape decoding of a `STRING` argument between quotes.
fn unescape_py_str(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err("STRING ends with a lone backslash".into());
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let hex = s.get(i..i + 2).ok_or("invalid \\x escape")?;
                let hi = char::from(hex[0])
                    .to_digit(16)
                    .ok_or("invalid \\x escape")?;
                let lo = char::from(hex[1])
                    .to_digit(16)
                    .ok_or("invalid \\x escape")?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            _ => {
                out.push(b'\\');
                out.push(e);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(data: &[u8]) -> Result<Pickle, PickleError> {
        parse(data.to_vec(), &Limits::default())
    }

    #[test]
    fn scalars() {
        assert_eq!(p(b"I42\n.").unwrap().root().as_int(), Some(42));
        assert_eq!(p(b"I01\n.").unwrap().root().as_int(), Some(1));
        assert!(matches!(
            p(b"I00\n.").unwrap().root().node(),
            Node::Bool(false)
        ));
        assert!(
            matches!(p(b"L123456789012345678901234567890L\n.").unwrap().root().node(),
            Node::BigInt(s) if s == "123456789012345678901234567890")
        );
        assert_eq!(p(b"\x8a\x01\xff.").unwrap().root().as_int(), Some(-1));
        assert_eq!(p(b"\x8a\x00.").unwrap().root().as_int(), Some(0));
        assert!(
            matches!(p(b"\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.").unwrap().root().node(),
            Node::BigInt(s) if s == "18446744073709551616")
        );
        assert!(
            matches!(p(b"\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\xff.").unwrap().root().node(),
            Node::BigInt(s) if s == "-18446744073709551616")
        );
        assert_eq!(p(b"F1.5\n.").unwrap().root().as_f64(), Some(1.5));
        assert!(!p(b"N.").unwrap().root().truthy());
    }

    #[test]
    fn strings() {
        let x = p(b"S'a\\'b\\\\c\\x41\\101\\n'\n.").unwrap();
        assert_eq!(x.root().as_bytes(), Some(&b"a'b\\cAA\n"[..]));
        let x = p(b"Vcaf\xe9\\u20ac\\\\u0041\n.").unwrap();
        assert_eq!(
            x.root().as_str_lossy().unwrap(),
            "caf\u{e9}\u{20ac}\\\\u0041"
        );
        let x = p(b"X\x03\x00\x00\x00\xed\xa0\x80.").unwrap();
        assert_eq!(x.root().as_str_lossy().unwrap(), "\u{fffd}");
        let x = p(b"X\x06\x00\x00\x00\xed\xa0\xbd\xed\xb8\x80.").unwrap();
        assert_eq!(x.root().as_str_lossy().unwrap(), "\u{1f600}");
        let x = p(b"U\x02\xe9a.").unwrap();
        assert_eq!(x.root().as_str_lossy().unwrap(), "\u{e9}a");
    }
}
