//! The value model: the node arena a parse builds, its strings, and
//! [`Val`], a cursor into it with the Python-side reads policy needs.

use std::borrow::Cow;

/// Index of a node in [`Pickle::nodes`].
pub type NodeId = u32;

/// A byte or text string: either a span of the input or owned bytes.
#[derive(Debug, Clone)]
pub enum Str {
    Span { start: u32, len: u32 },
    Owned(Box<[u8]>),
}

/// A class or function reference: `module.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub module: String,
    pub name: String,
}

/// An instance of a class, kept opaque: its constructor arguments and the
/// state `BUILD` gave it.
#[derive(Debug, Clone)]
pub struct Instance {
    pub module: String,
    pub name: String,
    pub args: Vec<NodeId>,
    pub state: Option<NodeId>,
}

/// One decoded value.
///
/// Kept at 24 bytes (lists, dicts and longs are boxed; a tuple, never
/// grown, is a boxed slice): a big `config.pck` has millions of nodes,
/// and the arena is most of what the parse holds.
#[derive(Debug, Clone)]
pub enum Node {
    None,
    Bool(bool),
    Int(i64),
    /// A Python long that does not fit in i64, as decimal text.
    BigInt(Box<str>),
    Float(f64),
    /// Python 2 `str` (bytes, in the list's charset).
    Bytes(Str),
    /// Python 2 `unicode`, UTF-8 (lone surrogates as U+FFFD).
    Text(Str),
    Tuple(Box<[NodeId]>),
    List(Box<Vec<NodeId>>),
    /// Entries in pickle order; a later duplicate key overrides an earlier one.
    Dict(Box<Vec<(NodeId, NodeId)>>),
    /// A class or function reference (GLOBAL).
    Global(Box<Class>),
    /// An instance (OBJ, INST, NEWOBJ, copy_reg._reconstructor): opaque.
    Instance(Box<Instance>),
    /// Any other REDUCE result: opaque.
    Reduced {
        callable: NodeId,
        args: NodeId,
    },
}

/// A parsed pickle: the input bytes, the node arena and the root.
pub struct Pickle {
    pub(super) data: Vec<u8>,
    pub(super) nodes: Vec<Node>,
    pub(super) root: NodeId,
    /// Bytes the parse charged against its memory budget (see `Limits`).
    pub(super) charged: usize,
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

impl Pickle {
    /// Length of the pickle's bytes.
    pub fn input_len(&self) -> usize {
        self.data.len()
    }
    /// What the parse holds besides the input, as charged to its budget.
    pub fn memory_charged(&self) -> usize {
        self.charged
    }
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
}

/// A cursor to one node of a [`Pickle`].
#[derive(Clone, Copy)]
pub struct Val<'a> {
    pub(super) p: &'a Pickle,
    pub(super) id: NodeId,
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
            Node::Tuple(_) | Node::List(_) | Node::Dict(_) => !self.is_empty(),
            Node::Global(_) | Node::Instance(_) | Node::Reduced { .. } => true,
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
            Node::List(v) => v,
            Node::Tuple(v) => v,
            _ => &[],
        };
        items.iter().map(move |&id| Val { p, id })
    }
    /// Number of elements or entries of a container, 0 otherwise.
    pub fn len(&self) -> usize {
        match self.node() {
            Node::List(v) => v.len(),
            Node::Tuple(v) => v.len(),
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
            Node::Instance(i) => Some((&i.module, &i.name)),
            Node::Global(c) => Some((&c.module, &c.name)),
            _ => None,
        }
    }
    /// The state an instance received from `BUILD`.
    pub fn state(&self) -> Option<Val<'a>> {
        match self.node() {
            Node::Instance(i) => i.state.map(|id| Val { p: self.p, id }),
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

pub(super) fn is_container(n: &Node) -> bool {
    matches!(
        n,
        Node::Tuple(_) | Node::List(_) | Node::Dict(_) | Node::Instance(_) | Node::Reduced { .. }
    )
}
