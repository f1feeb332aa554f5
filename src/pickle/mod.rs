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
//!
//! One stage per file: `value` (the arena, [`Node`], [`Val`]), `machine`
//! (the opcode loop, over the names in [`opcode`]), `literal` (Python's
//! text forms of numbers and strings), `json` (the canonical rendering
//! the cross-checks compare with CPython's).

mod json;
mod literal;
mod machine;
pub mod opcode;
mod value;

pub use opcode::opcode_name;
pub use value::{Class, Instance, Node, NodeId, Pickle, Str, Val};

/// Bounds that protect the reader against hostile files.
///
/// Memory is a budget: every byte the parse holds besides the input (arena
/// nodes, container items, the stack, the memo, decoded strings) is charged
/// as it grows, against `memory_floor + memory_per_byte x input`, capped at
/// `max_memory`. Past it, or when an allocation is refused, the parse stops
/// with a [`PickleError`] whose `limit` is set: the file may be a good list
/// that this reader will not afford, not a corrupt one.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in bytes (never more than `u32::MAX`).
    pub max_bytes: usize,
    /// Most memory the parse may hold besides the input, in bytes.
    pub max_memory: usize,
    /// Memory allowed per input byte, below `max_memory`.
    pub memory_per_byte: usize,
    /// Memory allowed whatever the input size, below `max_memory`.
    pub memory_floor: usize,
    /// Most memory the input and the parse may hold together: the budget
    /// is also capped at this less the input's size.
    pub max_total: usize,
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
            // A 100 000-member list is 16 MiB; Mailman itself slows to a
            // crawl long before 400 000.
            max_bytes: 64 << 20,
            max_memory: MAX_MEMORY,
            memory_per_byte: MEMORY_PER_BYTE,
            memory_floor: 8 << 20,
            max_total: MAX_TOTAL,
            max_depth: 200,
            max_memo: 1 << 24,
            max_nodes: 1 << 25,
        }
    }
}

/// The memory budget's cap (see [`Limits`]).
pub const MAX_MEMORY: usize = 128 << 20;
/// The cap on input and parse together (see [`Limits`]): with the policy
/// built from them, a read holds at most `policy::READ_BUDGET`.
pub const MAX_TOTAL: usize = 176 << 20;
/// The memory budget per input byte (see [`Limits`]).
pub const MEMORY_PER_BYTE: usize = 3;

impl Limits {
    /// The memory budget for an input of `len` bytes.
    pub fn memory_budget(&self, len: usize) -> usize {
        self.memory_per_byte
            .saturating_mul(len)
            .saturating_add(self.memory_floor)
            .min(self.max_memory)
            .min(self.max_total.saturating_sub(len))
    }
}

/// Why a pickle could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickleError {
    /// Byte offset of the opcode that failed.
    pub offset: usize,
    /// The opcode byte, when there was one.
    pub opcode: Option<u8>,
    pub reason: String,
    /// Set when a limit of [`Limits`] (size, nodes, memo, memory) stopped
    /// the parse or an allocation was refused, rather than bad input.
    pub limit: bool,
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

/// An empty buffer with room for an input of `len` bytes, or `None` when
/// that memory is refused.
///
/// Reading a 64 MiB file into 4 KiB pages faults 16 000 times; on Linux
/// the buffer asks for transparent huge pages (a hint) before it is filled.
pub fn input_buffer(len: usize) -> Option<Vec<u8>> {
    huge_vec(len)
}

/// An empty vector with room for `n` items, its pages advised as huge
/// (see [`input_buffer`]), or `None` when that memory is refused. For the
/// big tables built once from a parse.
pub fn huge_vec<T>(n: usize) -> Option<Vec<T>> {
    let mut v: Vec<T> = Vec::new();
    v.try_reserve_exact(n).ok()?;
    #[cfg(target_os = "linux")]
    machine::advise_huge_pages(
        v.as_mut_ptr().cast::<u8>(),
        v.capacity().saturating_mul(std::mem::size_of::<T>()),
    );
    Some(v)
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
            limit: true,
            reason: format!(
                "input of {} bytes exceeds the limit of {} bytes",
                data.len(),
                max_bytes
            ),
        });
    }
    let (nodes, root, charged) = {
        let mut m = machine::Machine::new(&data, limits);
        let root = m.run()?;
        m.check_shape(root)?;
        if m.nodes.capacity() > m.nodes.len().saturating_mul(2) {
            m.nodes.shrink_to_fit();
        }
        let charged = m.charged();
        (m.nodes, root, charged)
    };
    Ok(Pickle {
        data,
        nodes,
        root,
        charged,
    })
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
            Node::BigInt(s) if &**s == "123456789012345678901234567890")
        );
        assert_eq!(p(b"\x8a\x01\xff.").unwrap().root().as_int(), Some(-1));
        assert_eq!(p(b"\x8a\x00.").unwrap().root().as_int(), Some(0));
        assert!(
            matches!(p(b"\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.").unwrap().root().node(),
            Node::BigInt(s) if &**s == "18446744073709551616")
        );
        assert!(
            matches!(p(b"\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\xff.").unwrap().root().node(),
            Node::BigInt(s) if &**s == "-18446744073709551616")
        );
        assert_eq!(p(b"F1.5\n.").unwrap().root().as_f64(), Some(1.5));
        assert!(!p(b"N.").unwrap().root().truthy());
    }

    #[test]
    fn node_stays_small() {
        // The arena holds one Node per value; see `Node`.
        assert!(std::mem::size_of::<Node>() <= 24);
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
