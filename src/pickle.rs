//! A small, bounded reader for the Python 2 pickles Mailman 2.1 writes.
//!
//! API CONTRACT (implementation pending): parse() builds an arena of nodes;
//! containers refer to children by index so shared memo objects are never
//! copied. `Val` is a cheap cursor into that arena.

use std::borrow::Cow;

/// Index of a node in [`Pickle::nodes`].
pub type NodeId = u32;

/// Bounds that protect the reader against hostile files.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_memo: usize,
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
            Some(op) => write!(
                f,
                "pickle error at offset {} (opcode {:?}): {}",
                self.offset, op as char, self.reason
            ),
            None => write!(f, "pickle error at offset {}: {}", self.offset, self.reason),
        }
    }
}

impl std::error::Error for PickleError {}

/// A parsed pickle: the input bytes, the node arena and the root.
pub struct Pickle {
    data: Vec<u8>,
    nodes: Vec<Node>,
    root: NodeId,
}

/// Parse a whole pickle.
pub fn parse(data: Vec<u8>, limits: &Limits) -> Result<Pickle, PickleError> {
    let _ = limits;
    let _ = data;
    Err(PickleError {
        offset: 0,
        opcode: None,
        reason: "not implemented".into(),
    })
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
            Str::Span { start, len } => &self.data[*start as usize..(*start + *len) as usize],
            Str::Owned(b) => b,
        }
    }
}

/// A cursor to one node of a [`Pickle`].
#[derive(Clone, Copy)]
pub struct Val<'a> {
    p: &'a Pickle,
    id: NodeId,
}

impl<'a> Val<'a> {
    pub fn node(&self) -> &'a Node {
        &self.p.nodes[self.id as usize]
    }
    pub fn is_none(&self) -> bool {
        matches!(self.node(), Node::None)
    }
    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        todo!()
    }
    /// int, bool (as 0/1) or a long that fits.
    pub fn as_int(&self) -> Option<i64> {
        todo!()
    }
    /// The bytes of a str, or the UTF-8 of a unicode.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        todo!()
    }
    /// True for Python `unicode`.
    pub fn is_text(&self) -> bool {
        matches!(self.node(), Node::Text(_))
    }
    /// Text of a str (UTF-8 if valid, else Latin-1) or unicode.
    pub fn as_str_lossy(&self) -> Option<Cow<'a, str>> {
        todo!()
    }
    /// Dict lookup by a str or unicode key equal to `key`; the last match wins.
    pub fn get(&self, key: &str) -> Option<Val<'a>> {
        let _ = key;
        todo!()
    }
    /// Dict entries in pickle order (empty when not a dict).
    pub fn items(&self) -> impl Iterator<Item = (Val<'a>, Val<'a>)> + 'a {
        std::iter::empty()
    }
    /// List or tuple elements (empty otherwise).
    pub fn elements(&self) -> impl Iterator<Item = Val<'a>> + 'a {
        std::iter::empty()
    }
    /// Number of elements or entries of a container, 0 otherwise.
    pub fn len(&self) -> usize {
        todo!()
    }
}
