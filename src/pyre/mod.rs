//! Python `re` patterns, matched as CPython 2.7 matches them, with bounded
//! work.
//!
//! List owners write Python 2.7 regular expressions (non-member `^regex`
//! entries, `acceptable_aliases`, `bounce_matching_headers`,
//! `header_filter_rules`, the site's `KNOWN_SPAMMERS`), and Mailman runs
//! them on CPython 2.7's `sre`.  The same stages run here, one per module:
//!
//! - [`parse`]: a port of `sre_parse` (same accepted syntax, same errors,
//!   inline flags applied to the whole pattern, the same tree, including
//!   its branch rewrites);
//! - [`charset`]: sre's character model: `getlower`, the `\d \s \w`
//!   categories (ASCII, or CPython 2.7's Unicode 5.2 tables from
//!   [`tables`] under `re.UNICODE`), the `IGNORECASE` fix-ups;
//! - [`compile`]: the tree compiled to the program `sre_compile` emits
//!   (same operators, same `INFO` block), proportional to the pattern;
//! - [`matcher`]: a port of `_sre.c`'s `SRE_MATCH` / `SRE_SEARCH` (with
//!   its literal-prefix and first-character search shortcuts) that counts
//!   every step;
//! - [`simple`]: patterns of single characters, `x*`/`x+` and edge
//!   anchors (most list settings) skip the program and run bit-parallel,
//!   one step per char read.
//!
//! Why a port and not `rustpython-sre_engine` (MIT, the same design for
//! Python 3): its `Request`/`State` run a match to the end with no way to
//! stop it (no step count, no limit), its opcodes and semantics are
//! Python 3.11's (`LITERAL_UNI_IGNORE`, atomic groups, captures reset
//! between search positions, other repeat guards), not 2.7's, and it
//! allocates infallibly.  Bounding it would mean patching its inner loop,
//! and matching 2.7 would mean rewriting its opcode handlers: that is
//! this port.
//!
//! Work is bounded by a [`Budget`] of steps that a caller shares across
//! every pattern of one verdict: each operator executed, each char a
//! repeat counts or gives back, each char a search shortcut scans, each
//! start position, each char the bit-parallel path reads, and each pattern
//! compiled ([`compile_cost`]).  A spent budget is [`MatchError::Budget`];
//! the frame and mark stacks of one match are capped at
//! [`matcher::STACK_LIMIT`] bytes and grown fallibly
//! ([`MatchError::Memory`]); a program is capped at [`PROGRAM_LIMIT`]
//! bytes and a pattern at [`MAX_PATTERN_CHARS`] chars
//! ([`CompileError::TooLarge`]).  Only [`CompileError::Invalid`] is what
//! Python itself rejects with `re.error`.
//!
//! Subjects are `&str`.  Callers holding Python 2 byte strings map each byte
//! to the char of the same value (Latin-1); without `unicode` every char is
//! then one "byte" to sre.

use std::cell::Cell;
use std::sync::Arc;

pub mod charset;
pub mod compile;
pub mod matcher;
pub mod parse;
pub mod prepared;
pub mod simple;
#[allow(clippy::unreadable_literal)]
mod tables;

use parse::{FLAG_I, FLAG_M, FLAG_U};

/// Flags, as Python's `re.I`, `re.M`, `re.U`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub ignorecase: bool,
    pub multiline: bool,
    pub unicode: bool,
}

/// Why a pattern was not compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// Python rejects it with `sre_constants.error` (`re.error`).
    Invalid(String),
    /// Python raises something else (`RuntimeError`, `OverflowError`,
    /// `AssertionError`), which Mailman does not catch as a bad pattern.
    Unsupported(String),
    /// Python compiles it, but it is past this engine's size limits.
    TooLarge(String),
    /// The budget ran out while compiling (depends on the budget left,
    /// so never remembered).
    Budget,
}

impl CompileError {
    /// Whether Python rejects the pattern as invalid (`re.error`).
    pub fn is_invalid(&self) -> bool {
        matches!(self, CompileError::Invalid(_))
    }
    pub fn reason(&self) -> &str {
        match self {
            CompileError::Invalid(m) | CompileError::Unsupported(m) | CompileError::TooLarge(m) => {
                m
            }
            CompileError::Budget => "regular expression work budget spent",
        }
    }
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::Invalid(m) => write!(f, "bad regular expression: {m}"),
            CompileError::Unsupported(m) => write!(f, "pattern Python cannot use: {m}"),
            CompileError::TooLarge(m) => write!(f, "pattern past the engine's limits: {m}"),
            CompileError::Budget => f.write_str("regular expression work budget spent"),
        }
    }
}

impl std::error::Error for CompileError {}

/// Why a match was not completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchError {
    /// The step budget is spent.
    Budget,
    /// The match stacks reached their cap, or an allocation failed.
    Memory,
    /// The program is inconsistent (a bug; never a verdict).
    Internal,
}

impl std::fmt::Display for MatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MatchError::Budget => "regular expression work budget spent",
            MatchError::Memory => "regular expression match past its memory bound",
            MatchError::Internal => "regular expression engine error",
        })
    }
}

impl std::error::Error for MatchError {}

/// Steps one verdict may spend on patterns (compiling and matching, all
/// patterns together).  About 10 ns a step at worst on the reference
/// machine: well under 250 ms; typical lists spend a few thousand steps
/// (README, "Reliability").
pub const VERDICT_BUDGET: u64 = 12_000_000;

/// Longest pattern compiled, in chars.
pub const MAX_PATTERN_CHARS: usize = 256 * 1024;
/// Largest compiled program, in bytes.
pub const PROGRAM_LIMIT: usize = 8 << 20;
/// Steps charged for each search or match call, before any work.
pub const CALL_STEPS: u64 = 16;
/// Steps charged per byte of a pattern compiled.
pub const COMPILE_STEPS_PER_BYTE: u64 = 8;
/// Steps charged for each compilation, before its bytes: parsing, the
/// char model and sets, the allocations (about 2.5 µs for a short
/// pattern, as much as 250 matcher steps).
pub const COMPILE_STEPS: u64 = 256;

/// A budget of steps, shared by every pattern a verdict evaluates.
#[derive(Debug)]
pub struct Budget {
    left: Cell<u64>,
    total: u64,
}

impl Budget {
    pub fn new(steps: u64) -> Budget {
        Budget {
            left: Cell::new(steps),
            total: steps,
        }
    }
    /// The budget of one verdict.
    pub fn verdict() -> Budget {
        Budget::new(VERDICT_BUDGET)
    }
    pub fn left(&self) -> u64 {
        self.left.get()
    }
    pub fn spent(&self) -> u64 {
        self.total - self.left.get()
    }
    /// Spends `n` steps, or fails (spending all) if fewer are left.
    pub fn charge(&self, n: u64) -> Result<(), MatchError> {
        let left = self.left.get();
        if left < n {
            self.left.set(0);
            return Err(MatchError::Budget);
        }
        self.left.set(left - n);
        Ok(())
    }
}

/// Steps charged for compiling `pattern`.
pub fn compile_cost(pattern: &str) -> u64 {
    (pattern.len() as u64).saturating_mul(COMPILE_STEPS_PER_BYTE) + COMPILE_STEPS
}

/// A compiled Python pattern.
#[derive(Debug, Clone)]
pub struct PyRegex {
    inner: Arc<Compiled>,
}

#[derive(Debug)]
enum Compiled {
    /// Single characters, `x*` runs and edge anchors only: bit-parallel.
    Simple(simple::Simple),
    Program(compile::Program),
}

impl PyRegex {
    /// `re.compile(pattern, flags)`, with no bound on the work but the
    /// engine's size limits.
    pub fn compile(pattern: &str, flags: Flags) -> Result<PyRegex, CompileError> {
        PyRegex::compile_in(pattern, flags, &Budget::new(u64::MAX))
    }

    /// `re.compile(pattern, flags)`, spending from `budget`:
    /// [`compile_cost`] up front, then the work of building its sets.
    pub fn compile_in(
        pattern: &str,
        flags: Flags,
        budget: &Budget,
    ) -> Result<PyRegex, CompileError> {
        budget
            .charge(compile_cost(pattern))
            .map_err(|_| CompileError::Budget)?;
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
            return Err(CompileError::TooLarge(format!(
                "pattern over {MAX_PATTERN_CHARS} chars"
            )));
        }
        let parsed = parse::parse(pattern, f)?;
        parse::check(&parsed)?;
        let model = charset::CharModel::new(parsed.flags);
        let inner = match simple::Simple::from_parsed(&parsed, &model) {
            Some(s) => Compiled::Simple(s),
            None => {
                let mut work = 0;
                let prog = compile::compile(&parsed, PROGRAM_LIMIT, budget.left(), &mut work);
                budget.charge(work).map_err(|_| CompileError::Budget)?;
                Compiled::Program(prog?)
            }
        };
        Ok(PyRegex {
            inner: Arc::new(inner),
        })
    }

    /// The compiled pattern as bytes ([`prepared`]), for a snapshot.
    pub fn to_prepared(&self) -> Vec<u8> {
        prepared::encode(&self.inner)
    }

    /// A pattern from [`PyRegex::to_prepared`]'s bytes, checked so that
    /// no bytes can make the matcher index out of bounds; None if they
    /// are not one well-formed pattern of this version (compile from the
    /// source instead).
    pub fn from_prepared(bytes: &[u8]) -> Option<PyRegex> {
        prepared::decode(bytes).map(|c| PyRegex { inner: Arc::new(c) })
    }

    /// Whether two patterns are the same compiled program (what a
    /// prepared pattern is checked against in tests).
    pub fn same_program(&self, other: &PyRegex) -> bool {
        format!("{:?}", self.inner) == format!("{:?}", other.inner)
    }

    /// Bytes the compiled pattern holds (for cache accounting).
    pub fn heap_bytes(&self) -> usize {
        match &*self.inner {
            Compiled::Simple(s) => s.heap_bytes(),
            Compiled::Program(p) => p.bytes,
        }
    }

    /// `pattern.search(text) is not None`, within a budget of its own.
    pub fn search(&self, text: &str) -> Result<bool, MatchError> {
        self.search_in(text, &Budget::verdict())
    }

    /// `pattern.match(text) is not None` (anchored at the start only),
    /// within a budget of its own.
    pub fn match_start(&self, text: &str) -> Result<bool, MatchError> {
        self.match_in(text, &Budget::verdict())
    }

    /// `pattern.search(text) is not None`, spending from `budget`.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn search_in(&self, text: &str, budget: &Budget) -> Result<bool, MatchError> {
        self.run(text, false, budget)
    }

    /// `pattern.search(text) is not None`, spending from `budget`, where
    /// `line_starts` says where the lines of `text` begin: 0 and each
    /// position after a `\n`, ascending (a caller that built the text
    /// knows them). A simple pattern whose matches begin only at line
    /// starts (a leading `^` under MULTILINE) is tried only there, which
    /// reads a few bytes of each line instead of every line to its end;
    /// any other pattern is searched as by [`PyRegex::search_in`]. The
    /// answer is the same either way.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn search_lines_in(
        &self,
        text: &str,
        line_starts: &[usize],
        budget: &Budget,
    ) -> Result<bool, MatchError> {
        let simple = match &*self.inner {
            Compiled::Simple(simple) if simple.line_anchored() => simple,
            _ => return self.search_in(text, budget),
        };
        debug_assert!(
            line_starts_of(text) == line_starts,
            "line starts of {text:?}"
        );
        budget.charge(CALL_STEPS)?;
        run_simple(budget, |units| {
            simple.run_from_lines(text, line_starts, units)
        })
    }

    /// `pattern.match(text) is not None`, spending from `budget`.
    pub fn match_in(&self, text: &str, budget: &Budget) -> Result<bool, MatchError> {
        self.run(text, true, budget)
    }

    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    fn run(&self, text: &str, anchored: bool, budget: &Budget) -> Result<bool, MatchError> {
        // Setting up a match costs something whatever the subject.
        budget.charge(CALL_STEPS)?;
        match &*self.inner {
            Compiled::Simple(simple) => {
                run_simple(budget, |units| simple.run(text, anchored, units))
            }
            Compiled::Program(prog) => {
                let mut left = budget.left();
                let res = matcher::execute(prog, text, anchored, &mut left);
                budget.left.set(left);
                res
            }
        }
    }
}

/// Where the lines of `text` begin, as [`PyRegex::search_lines_in`] wants
/// them: 0 and each position after a `\n`.
pub fn line_starts_of(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
        .collect()
}

/// Runs the bit-parallel path on what is left of `budget` (in its finer
/// units), then charges what it used; a run that spent it all (`None`)
/// empties the budget.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn run_simple(
    budget: &Budget,
    run: impl FnOnce(&mut u64) -> Option<bool>,
) -> Result<bool, MatchError> {
    let start = budget.left().saturating_mul(simple::UNITS_PER_STEP);
    let mut units = start;
    let hit = run(&mut units);
    budget.charge((start - units).div_ceil(simple::UNITS_PER_STEP).max(1))?;
    hit.ok_or(MatchError::Budget).inspect_err(|_| {
        let _ = budget.charge(u64::MAX);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_from_line_starts_answers_as_search() {
        let texts = [
            "",
            "\n",
            "Subject: hello\nX-Spam-Flag: YES\n",
            "x-spam-flag: no\nX-SPAM-FLAG: yes",
            "a\n\nsubject: vi\u{e1}gra now\n",
            "\u{e9}t\u{e9}\nSubject: caf\u{e9}\n\n",
            "To: b@x\nsubject:\nviagra\n",
            "from: a\nfrom: list@listme.com\n",
        ];
        let patterns = [
            "^x-spam-flag: yes",
            "^subject:.*vi\u{e1}gra",
            "^subject:.*viagra$",
            "^$",
            "^[a-z]*:",
            "^from: .*@listme\\.com\\Z",
            "^\u{e9}t",
            "^.",
            "x-spam",
            "\\Asubject",
        ];
        for p in patterns {
            for ignorecase in [false, true] {
                let flags = Flags {
                    ignorecase,
                    multiline: true,
                    unicode: true,
                };
                let re = PyRegex::compile_in(p, flags, &Budget::verdict()).expect(p);
                if p.starts_with("^x") || p.starts_with("^subject") {
                    // The line-start path is the one under test here.
                    assert!(
                        matches!(&*re.inner, Compiled::Simple(s) if s.line_anchored()),
                        "{p:?}"
                    );
                }
                for t in texts {
                    let want = re.search(t).unwrap();
                    let got = re
                        .search_lines_in(t, &line_starts_of(t), &Budget::verdict())
                        .unwrap();
                    assert_eq!(got, want, "{p:?} ignorecase={ignorecase} in {t:?}");
                }
            }
        }
    }

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
            let simple = matches!(*re.inner, Compiled::Simple(_));
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

    #[test]
    fn sets() {
        let m = charset::CharModel::new(FLAG_I);
        let s = m.lit_set('K' as u32, false);
        assert_eq!(s.0, vec![(0x6b, 0x6b)]);
        let m = charset::CharModel::new(FLAG_I | FLAG_U);
        assert_eq!(m.lower(0x212A), 0x6b);
        let s = m.lit_set('s' as u32, false);
        assert!(s.contains(0x17f));
    }

    /// Lowering must not change what `\b`, `$` and `.` see.
    #[test]
    fn lowering_keeps_word_and_newline() {
        for flags in [FLAG_I, FLAG_I | FLAG_U] {
            let m = charset::CharModel::new(flags);
            let word = m.base(charset::Base::Word);
            for &(c, l) in m.pairs() {
                assert_eq!(word.contains(c), word.contains(l), "{c:x}");
                assert!(c != 10 && l != 10);
                assert!(char::from_u32(l).is_some());
            }
        }
    }

    /// Every step counts: a budget of n steps stops a search that needs
    /// more, whatever the kind of work.
    #[test]
    fn budget_stops_every_kind_of_work() {
        let text = "viagra ".repeat(2000);
        for p in [
            "\\bviagra.*cialis",
            "(?=.*zzz)q",
            "(a|b)*c",
            "^x-spam-flag: yes",
        ] {
            let re = PyRegex::compile(
                p,
                Flags {
                    ignorecase: true,
                    multiline: true,
                    unicode: true,
                },
            )
            .unwrap();
            let b = Budget::new(100);
            assert_eq!(re.search_in(&text, &b), Err(MatchError::Budget), "{p}");
            assert_eq!(b.left(), 0, "{p}");
            let b = Budget::new(u64::MAX);
            assert_eq!(re.search_in(&text, &b), Ok(false), "{p}");
            assert!(b.spent() > 100, "{p}: {}", b.spent());
        }
    }
}
