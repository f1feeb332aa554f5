//! Code point sets and how a pattern sees characters: sre's `getlower`,
//! categories and the `IGNORECASE` fix-ups of `sre_compile`.

use super::parse::{Cat, Node, SetItem, FLAG_I, FLAG_L, FLAG_U};
use super::tables;

pub(super) const MAX_CHAR: u32 = 0x10FFFF;

/// Sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(super) struct CharSet(pub(super) Vec<(u32, u32)>);

impl CharSet {
    pub(super) fn from_ranges(mut r: Vec<(u32, u32)>) -> CharSet {
        r.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(r.len());
        for (lo, hi) in r {
            if let Some(last) = out.last_mut() {
                if lo <= last.1.saturating_add(1) {
                    last.1 = last.1.max(hi);
                    continue;
                }
            }
            out.push((lo, hi));
        }
        out.shrink_to_fit();
        CharSet(out)
    }
    pub(super) fn single(c: u32) -> CharSet {
        CharSet(vec![(c, c)])
    }
    pub(super) fn complement(&self) -> CharSet {
        let mut out = Vec::new();
        let mut next = 0u32;
        for &(lo, hi) in &self.0 {
            if lo > next {
                out.push((next, lo - 1));
            }
            next = hi.saturating_add(1);
        }
        if next <= MAX_CHAR && self.0.last().is_none_or(|l| l.1 < MAX_CHAR) {
            out.push((next, MAX_CHAR));
        }
        CharSet(out)
    }
    pub(super) fn single_char(&self) -> Option<u32> {
        match self.0.as_slice() {
            [(lo, hi)] if lo == hi => Some(*lo),
            _ => None,
        }
    }
    pub(super) fn contains(&self, c: u32) -> bool {
        // Most sets are one or two ranges.
        if let [(lo, hi)] = self.0.as_slice() {
            return *lo <= c && c <= *hi;
        }
        contains(&self.0, c)
    }
}

fn contains(ranges: &[(u32, u32)], c: u32) -> bool {
    let i = ranges.partition_point(|&(_, hi)| hi < c);
    ranges.get(i).is_some_and(|&(lo, _)| lo <= c)
}

/// Lowercase equivalents sre adds under IGNORECASE|UNICODE
/// (`sre_compile._equivalences`).
const EQUIVALENCES: &[&[u32]] = &[
    &[0x69, 0x131],
    &[0x73, 0x17f],
    &[0xb5, 0x3bc],
    &[0x345, 0x3b9, 0x1fbe],
    &[0x3b2, 0x3d0],
    &[0x3b5, 0x3f5],
    &[0x3b8, 0x3d1],
    &[0x3ba, 0x3f0],
    &[0x3c0, 0x3d6],
    &[0x3c1, 0x3f1],
    &[0x3c2, 0x3c3],
    &[0x3c6, 0x3d5],
    &[0x1e61, 0x1e9b],
];

/// The character categories sre tests (`\d \s \w`), in the model's
/// flavour (ASCII or Unicode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Base {
    Digit,
    Space,
    Word,
}

/// How a pattern sees characters: sre's `getlower` and categories.
#[derive(Debug, Clone, Copy)]
pub(super) struct CharModel {
    pub(super) unicode: bool,
    pub(super) ignorecase: bool,
    /// `_ignorecase_fixes` in effect (IGNORECASE|UNICODE without LOCALE).
    fixes: bool,
}

impl CharModel {
    pub(super) fn new(flags: u32) -> CharModel {
        let unicode = flags & FLAG_U != 0 && flags & FLAG_L == 0;
        let ignorecase = flags & FLAG_I != 0;
        CharModel {
            unicode,
            ignorecase,
            fixes: ignorecase && unicode,
        }
    }
    /// The model as three bits (unicode, ignorecase, fixes), for a
    /// prepared program.
    pub(super) fn bits(&self) -> u8 {
        self.unicode as u8 | (self.ignorecase as u8) << 1 | (self.fixes as u8) << 2
    }
    /// The model [`CharModel::bits`] describes; None for bits no model has.
    pub(super) fn from_bits(bits: u8) -> Option<CharModel> {
        let m = CharModel {
            unicode: bits & 1 != 0,
            ignorecase: bits & 2 != 0,
            fixes: bits & 4 != 0,
        };
        (bits < 8 && m.fixes == (m.ignorecase && m.unicode)).then_some(m)
    }
    pub(super) fn pairs(&self) -> &'static [(u32, u32)] {
        if self.unicode {
            tables::UNI_LOWER
        } else {
            // The table starts with A-Z, which is all ASCII lowering is.
            &tables::UNI_LOWER[..26]
        }
    }
    /// sre's `state->lower(c)`.
    #[inline]
    pub(super) fn lower(&self, c: u32) -> u32 {
        if c < 128 {
            return (c as u8).to_ascii_lowercase() as u32;
        }
        if !self.unicode {
            return c;
        }
        let pairs = tables::UNI_LOWER;
        match pairs.binary_search_by_key(&c, |&(k, _)| k) {
            Ok(i) => pairs[i].1,
            Err(_) => c,
        }
    }
    /// Whether `c` is in the category, as `SRE_CATEGORY` tests it.
    #[inline]
    pub(super) fn is(&self, base: Base, c: u32) -> bool {
        if c < 128 {
            let b = c as u8;
            return match base {
                Base::Digit => b.is_ascii_digit(),
                // Unicode spaces include the separators 0x1C-0x1F.
                Base::Space => matches!(b, 9..=13 | 32) || (self.unicode && matches!(b, 28..=31)),
                Base::Word => b.is_ascii_alphanumeric() || b == b'_',
            };
        }
        if !self.unicode {
            return false;
        }
        let table = match base {
            Base::Digit => tables::UNI_DIGIT,
            Base::Space => tables::UNI_SPACE,
            Base::Word => tables::UNI_WORD,
        };
        contains(table, c)
    }
    pub(super) fn base(&self, b: Base) -> CharSet {
        let ranges: Vec<(u32, u32)> = match (self.unicode, b) {
            (true, Base::Digit) => tables::UNI_DIGIT.to_vec(),
            (true, Base::Space) => tables::UNI_SPACE.to_vec(),
            (true, Base::Word) => tables::UNI_WORD.to_vec(),
            (false, Base::Digit) => vec![(0x30, 0x39)],
            (false, Base::Space) => vec![(0x09, 0x0d), (0x20, 0x20)],
            (false, Base::Word) => vec![(0x30, 0x39), (0x41, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)],
        };
        CharSet::from_ranges(ranges)
    }
    /// Adds `fixes[i]` for every `i` among `added`.
    fn add_fixes(&self, added: &[(u32, u32)], out: &mut Vec<(u32, u32)>) {
        if !self.fixes {
            return;
        }
        for eq in EQUIVALENCES {
            if eq.iter().any(|&c| contains_unsorted(added, c)) {
                out.extend(eq.iter().map(|&c| (c, c)));
            }
        }
    }
    /// `{lower(c) for c in [lo, hi]}`, appended to `out`.
    fn lower_image(&self, lo: u32, hi: u32, out: &mut Vec<(u32, u32)>) {
        let pairs = self.pairs();
        let start = pairs.partition_point(|&(k, _)| k < lo);
        let end = pairs.partition_point(|&(k, _)| k <= hi);
        // The range minus the chars that lower to another, plus their images.
        let mut next = lo;
        for &(c, l) in &pairs[start..end] {
            if c > next {
                out.push((next, c - 1));
            }
            next = c + 1;
            out.push((l, l));
        }
        if next <= hi {
            out.push((next, hi));
        }
    }
    /// The chars a single-character node accepts, as sre tests them:
    /// under IGNORECASE, the set of accepted *lowered* chars.
    pub(super) fn lit_set(&self, c: u32, negate: bool) -> CharSet {
        let s = if self.ignorecase {
            let l = self.lower(c);
            let mut r = vec![(l, l)];
            self.add_fixes(&[(l, l)], &mut r);
            CharSet::from_ranges(r)
        } else {
            CharSet::single(c)
        };
        if negate {
            s.complement()
        } else {
            s
        }
    }

    /// The explicit chars of a class (literals and ranges, lowered and
    /// fixed up as `_optimize_charset` does), its categories and whether it
    /// is negated.  `work` counts the ranges produced.
    pub(super) fn class(&self, items: &[SetItem]) -> Class {
        let mut negate = false;
        let mut r: Vec<(u32, u32)> = Vec::new();
        let mut cats: Vec<Cat> = Vec::new();
        for it in items {
            match *it {
                SetItem::Negate => negate = true,
                SetItem::Lit(c) => {
                    if self.ignorecase {
                        let i = self.lower(c);
                        if i > 0xFFFF {
                            r.push((c, c));
                        } else {
                            r.push((i, i));
                            self.add_fixes(&[(i, i)], &mut r);
                        }
                    } else {
                        r.push((c, c));
                    }
                }
                SetItem::Range(lo, hi) => {
                    if self.ignorecase {
                        if lo <= 0xFFFF {
                            let from = r.len();
                            self.lower_image(lo, hi.min(0xFFFF), &mut r);
                            let img: Vec<(u32, u32)> = r[from..].to_vec();
                            self.add_fixes(&img, &mut r);
                        }
                        if hi > 0xFFFF {
                            r.push((lo, hi));
                            if self.unicode {
                                let (a, b) = (lo.max(0x10000), hi.min(0x11FFF));
                                if a <= b {
                                    self.lower_image(a, b, &mut r);
                                }
                            }
                        }
                    } else {
                        r.push((lo, hi));
                    }
                }
                SetItem::Cat(cat) => {
                    if !cats.contains(&cat) {
                        cats.push(cat)
                    }
                }
            }
        }
        Class::new(self, negate, CharSet::from_ranges(r), cats)
    }

    /// The class a single-character node tests.
    pub(super) fn node_class(&self, n: &Node) -> Option<Class> {
        match n {
            Node::Lit(c) => Some(Class::new(self, false, self.lit_set(*c, false), Vec::new())),
            Node::NotLit(c) => Some(Class::new(self, true, self.lit_set(*c, false), Vec::new())),
            Node::In(items) => Some(self.class(items)),
            _ => None,
        }
    }
}

fn contains_unsorted(ranges: &[(u32, u32)], c: u32) -> bool {
    ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
}

/// A set as sre's `IN` tests it: explicit chars, categories, negation.
/// Categories stay symbolic (the Unicode tables are not copied into each
/// set), so a class costs memory in proportion to its source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Class {
    negate: bool,
    chars: CharSet,
    cats: Vec<Cat>,
    unicode: bool,
    /// Membership of the ASCII chars, precomputed.
    ascii: [u64; 2],
}

impl Class {
    pub(super) fn new(model: &CharModel, negate: bool, chars: CharSet, cats: Vec<Cat>) -> Class {
        let mut c = Class {
            negate,
            chars,
            cats,
            unicode: model.unicode,
            ascii: [0; 2],
        };
        // The ASCII bitmap from the ranges and categories directly.
        let mut ascii = [0u64; 2];
        for &(lo, hi) in &c.chars.0 {
            for b in lo..=hi.min(127) {
                ascii[(b / 64) as usize] |= 1 << (b % 64);
            }
        }
        for cat in &c.cats {
            let (base, neg) = cat_base(*cat);
            for b in 0..128u32 {
                if model.is(base, b) != neg {
                    ascii[(b / 64) as usize] |= 1 << (b % 64);
                }
            }
        }
        if c.negate {
            ascii = [!ascii[0], !ascii[1]];
        }
        c.ascii = ascii;
        c
    }
    /// The parts a prepared program stores: the ASCII bitmap is derived.
    pub(super) fn parts(&self) -> (bool, &CharSet, &[Cat], bool) {
        (self.negate, &self.chars, &self.cats, self.unicode)
    }
    /// A class from [`Class::parts`].
    pub(super) fn from_parts(negate: bool, chars: CharSet, cats: Vec<Cat>, unicode: bool) -> Class {
        let model = CharModel {
            unicode,
            ignorecase: false,
            fixes: false,
        };
        Class::new(&model, negate, chars, cats)
    }
    fn slow_contains(&self, model: &CharModel, c: u32) -> bool {
        let hit = self.chars.contains(c)
            || self.cats.iter().any(|cat| {
                let (base, neg) = cat_base(*cat);
                model.is(base, c) != neg
            });
        hit != self.negate
    }
    #[inline]
    pub(super) fn contains(&self, c: u32) -> bool {
        if c < 128 {
            return self.ascii[(c / 64) as usize] & (1 << (c % 64)) != 0;
        }
        let model = CharModel {
            unicode: self.unicode,
            ignorecase: false,
            fixes: false,
        };
        self.slow_contains(&model, c)
    }
    /// Heap bytes held.
    pub(super) fn heap_bytes(&self) -> usize {
        self.chars.0.capacity() * 8 + self.cats.capacity()
    }
    /// The set as explicit ranges (categories expanded), for the
    /// bit-parallel matcher.
    pub(super) fn to_charset(&self, model: &CharModel) -> CharSet {
        let mut r = self.chars.0.clone();
        for cat in &self.cats {
            let (base, neg) = cat_base(*cat);
            let s = model.base(base);
            r.extend(if neg { s.complement().0 } else { s.0 });
        }
        let s = CharSet::from_ranges(r);
        if self.negate {
            s.complement()
        } else {
            s
        }
    }
}

pub(super) fn cat_base(cat: Cat) -> (Base, bool) {
    match cat {
        Cat::Digit => (Base::Digit, false),
        Cat::NotDigit => (Base::Digit, true),
        Cat::Space => (Base::Space, false),
        Cat::NotSpace => (Base::Space, true),
        Cat::Word => (Base::Word, false),
        Cat::NotWord => (Base::Word, true),
    }
}
