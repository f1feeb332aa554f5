//! The bit-parallel matcher for simple patterns.

use super::charset::{CharModel, CharSet};
/// Budget units per step: a step of the matcher costs about 10 ns, a
/// char of the bit-parallel loop about 2 ns, a byte `memchr` skips well
/// under 0.5 ns (`cargo bench --bench bounds`).
pub(super) const UNITS_PER_STEP: u64 = 20;
pub(super) const CHAR_UNITS: u64 = 4;
pub(super) const SKIP_UNITS: u64 = 1;
/// Each skip to the next line, whatever its length.
pub(super) const SKIP_CALL_UNITS: u64 = 10;
/// A byte passed over by the loop over the `skip` flags (about 1 ns).
pub(super) const TABLE_SKIP_UNITS: u64 = 2;
/// Waiting states whose chars a run works out (each costs a char per
/// group of chars with one mask).
const MAX_WAITS: u32 = 8;

use super::parse::{has_groupref, At, Node, Parsed, FLAG_M, FLAG_S, MAXREPEAT};

/// A pattern made only of single-character items, `*` and `+` on them, a
/// leading `^`/`\\A` and a trailing `$`/`\\Z`, with no group references.
/// Typical list settings (`^.*@example\\.com$`, `to: friend@public.com`)
/// are of this kind. Matched bit-parallel (one bit per item, all start
/// positions at once): linear in the subject, no program to build.
#[derive(Debug)]
pub(super) struct Simple {
    /// Items that take exactly one char.
    one: u64,
    /// Items that take any number of chars (`x*`).
    many: u64,
    /// Bit of the state past the last item: a match.
    accept: u64,
    /// Per item, the chars it takes (as sre compares them: lowered under
    /// IGNORECASE), and the same as masks for ASCII chars.
    sets: Vec<CharSet>,
    /// Masks of the Latin-1 chars (byte-string subjects are all Latin-1);
    /// under IGNORECASE an ASCII capital has its small letter's mask, so
    /// that an ASCII char of the subject needs no folding.
    ascii: Box<[u64; 256]>,
    /// The states at a position where a match may begin and none is under
    /// way: past the `x*` items at the head.
    entry: u64,
    /// Per ASCII char, whether it leads from state `entry` back to
    /// `entry` at the next position: a search in that state can pass over
    /// it without changing its answer. A first char that cannot begin a
    /// match, or any char but a newline under a leading `.*`, is one. All
    /// false when a match may not begin at every position.
    skip: [bool; 128],
    /// Whether `skip` holds any char.
    passes_over: bool,
    /// The ASCII chars grouped by mask: each distinct mask of `ascii[..128]`
    /// and the chars that have it (a 128-bit set). A state's chars that
    /// lead back to it are found per group, not per char.
    classes: Vec<(u64, [u64; 2])>,
    start: Option<At>,
    end: Option<At>,
    multiline: bool,
    fold: Option<CharModel>,
}

impl Simple {
    pub(super) fn from_parsed(p: &Parsed, model: &CharModel) -> Option<Simple> {
        if has_groupref(&p.nodes) {
            return None;
        }
        fn flatten<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
            for n in nodes {
                match n {
                    Node::Group(_, body) => flatten(body, out),
                    other => out.push(other),
                }
            }
        }
        let mut flat: Vec<&Node> = Vec::new();
        flatten(&p.nodes, &mut flat);
        // At most 62 items plus the two anchors fit in the state word;
        // check before building any set.
        if flat.len() > 64 {
            return None;
        }
        // The shape first: no set is built for a pattern that is not simple.
        let single_kind =
            |n: &Node| matches!(n, Node::Any | Node::Lit(_) | Node::NotLit(_) | Node::In(_));
        let last = flat.len().saturating_sub(1);
        let shape_ok = flat.iter().enumerate().all(|(i, n)| match n {
            Node::At(At::Beginning | At::BeginningString) => i == 0,
            Node::At(At::End | At::EndString) => i == last,
            Node::Repeat { min, max, body, .. } => {
                *max == MAXREPEAT && *min <= 1 && single_kind(body)
            }
            other => single_kind(other),
        });
        if !shape_ok {
            return None;
        }
        let any = if p.flags & FLAG_S != 0 {
            CharSet(vec![(0, 0x10FFFF)])
        } else {
            CharSet(vec![(0, 9), (11, 0x10FFFF)])
        };
        let single = |n: &Node| -> Option<CharSet> {
            match n {
                Node::Any => Some(any.clone()),
                Node::Lit(_) | Node::NotLit(_) | Node::In(_) => {
                    model.node_class(n).map(|c| c.to_charset(model))
                }
                _ => None,
            }
        };
        let (mut start, mut end) = (None, None);
        let (mut sets, mut many) = (Vec::new(), 0u64);
        for (i, n) in flat.iter().enumerate() {
            match n {
                Node::At(a @ (At::Beginning | At::BeginningString)) if i == 0 => start = Some(*a),
                Node::At(a @ (At::End | At::EndString)) if i == last => end = Some(*a),
                Node::Repeat { min, max, body, .. } if *max == MAXREPEAT && *min <= 1 => {
                    let set = single(body)?;
                    if *min == 1 {
                        sets.push(set.clone());
                    }
                    many |= 1u64.checked_shl(sets.len() as u32)?;
                    sets.push(set);
                }
                other => sets.push(single(other)?),
            }
        }
        if sets.len() > 62 {
            return None;
        }
        Simple::from_parts(
            sets,
            many,
            start,
            end,
            p.flags & FLAG_M != 0,
            model.ignorecase.then_some(*model),
        )
    }

    /// What [`Simple::from_parts`] takes back: the item sets, the `x*`
    /// items, the anchors, multiline, the folding model.
    #[allow(clippy::type_complexity)]
    pub(super) fn parts(
        &self,
    ) -> (
        &[CharSet],
        u64,
        Option<At>,
        Option<At>,
        bool,
        Option<CharModel>,
    ) {
        (
            &self.sets,
            self.many,
            self.start,
            self.end,
            self.multiline,
            self.fold,
        )
    }

    /// The matcher of these items; None past 62 items or with `x*` bits
    /// beyond them (the masks are derived here, so that a prepared
    /// pattern needs only these parts).
    pub(super) fn from_parts(
        sets: Vec<CharSet>,
        many: u64,
        start: Option<At>,
        end: Option<At>,
        multiline: bool,
        fold: Option<CharModel>,
    ) -> Option<Simple> {
        if sets.len() > 62 {
            return None;
        }
        let all = (1u64 << sets.len()) - 1;
        if many & !all != 0
            || !matches!(start, None | Some(At::Beginning | At::BeginningString))
            || !matches!(end, None | Some(At::End | At::EndString))
        {
            return None;
        }
        let mut ascii = Box::new([0u64; 256]);
        for (i, set) in sets.iter().enumerate() {
            for &(lo, hi) in &set.0 {
                for c in lo..=hi.min(255) {
                    ascii[c as usize] |= 1 << i;
                }
            }
        }
        let mut simple = Simple {
            one: all & !many,
            many,
            accept: 1 << sets.len(),
            sets,
            ascii,
            entry: 0,
            skip: [false; 128],
            passes_over: false,
            classes: Vec::new(),
            start,
            end,
            multiline,
            fold,
        };
        if simple.fold.is_some() {
            // `run` looks up folded chars only: a capital is never one.
            for c in b'A'..=b'Z' {
                simple.ascii[c as usize] = simple.ascii[c.to_ascii_lowercase() as usize];
            }
        }
        for c in 0..128usize {
            let m = simple.ascii[c];
            let bit = |set: &mut [u64; 2]| set[c >> 6] |= 1 << (c & 63);
            match simple.classes.iter_mut().find(|(x, _)| *x == m) {
                Some((_, set)) => bit(set),
                None => {
                    let mut set = [0; 2];
                    bit(&mut set);
                    simple.classes.push((m, set));
                }
            }
        }
        simple.entry = simple.closure(1);
        // Only where every position may begin a match (no `^`) is the
        // state at each position the same function of the chars read; an
        // entry state that accepts (an empty match) is answered at once.
        if start.is_none() && simple.entry & simple.accept == 0 {
            for c in 0..128u8 {
                let next = simple.step(simple.entry, simple.ascii[c as usize]);
                simple.skip[c as usize] = next | simple.entry == simple.entry;
            }
            simple.passes_over = simple.skip.contains(&true);
        }
        Some(simple)
    }

    /// The states after reading a char of mask `m` in states `s`.
    fn step(&self, s: u64, m: u64) -> u64 {
        self.closure(((s & m & self.one) << 1) | (s & m & self.many))
    }

    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Simple>()
            + std::mem::size_of_val(&*self.ascii)
            + self.sets.iter().map(|s| s.0.capacity() * 8).sum::<usize>()
            + self.classes.capacity() * std::mem::size_of::<(u64, [u64; 2])>()
    }

    /// The states reachable from `s` without reading a char: past `x*`.
    fn closure(&self, mut s: u64) -> u64 {
        loop {
            let t = s | ((s & self.many) << 1);
            if t == s {
                return s;
            }
            s = t;
        }
    }

    fn mask(&self, c: u32) -> u64 {
        if c < 256 {
            return self.ascii[c as usize];
        }
        let mut m = 0;
        for (i, set) in self.sets.iter().enumerate() {
            if set.contains(c) {
                m |= 1 << i;
            }
        }
        m
    }

    /// Whether the pattern matches, spending from `units` (budget steps
    /// times [`UNITS_PER_STEP`]): a char read costs [`CHAR_UNITS`], a byte
    /// skipped to the next line [`SKIP_UNITS`], a byte passed over in the
    /// entry state or in a state that waits (see below) [`TABLE_SKIP_UNITS`].
    /// `None`: units spent.
    ///
    /// A state that a char led back to itself (`.*` before a literal, as
    /// in `^subject:.*viagra`) is a wait: the chars that keep it are
    /// worked out once (per group of chars with one mask) and passed over
    /// in a tight loop, to the next char that changes it. At most
    /// [`MAX_WAITS`] such sets per run, each charged a char per group.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub(super) fn run(&self, text: &str, anchored: bool, units: &mut u64) -> Option<bool> {
        let bytes = text.as_bytes();
        // Whether a match can still begin after the first position.
        let later_starts = !anchored && (self.start.is_none() || self.multiline);
        // A match may begin at every position: a search with no `^`.
        let every_start = !anchored && self.start.is_none();
        let passes_over = every_start && self.passes_over;
        // A multiline `^` in a search: a match may begin after a newline.
        let line_starts = !anchored && self.start == Some(At::Beginning) && self.multiline;
        let mut s = 0u64;
        let mut i = 0usize;
        // Whether the char before `i` is a newline (or `i` is 0).
        let mut line_start = true;
        // The state that waits (0: none) and the ASCII chars that keep it.
        let (mut wait_state, mut wait) = (0u64, [0u64; 2]);
        let mut waits = 0;
        loop {
            let may_start = every_start || i == 0 || (line_starts && line_start);
            if may_start {
                s |= self.entry;
            }
            if s & self.accept != 0 && self.end_ok(&text[i..]) {
                return Some(true);
            }
            if s == wait_state && s != 0 {
                let from = i;
                while let Some(&b) = bytes.get(i) {
                    if b >= 128 || wait[(b >> 6) as usize] >> (b & 63) & 1 == 0 {
                        break;
                    }
                    i += 1;
                }
                if i > from {
                    *units = units.checked_sub((i - from) as u64 * TABLE_SKIP_UNITS)?;
                    line_start = bytes[i - 1] == b'\n';
                    continue;
                }
            }
            if passes_over && s == self.entry {
                // Chars that lead back to this same state change nothing.
                let from = i;
                while let Some(&b) = bytes.get(i) {
                    if !self.skip.get(b as usize).copied().unwrap_or(false) {
                        break;
                    }
                    i += 1;
                }
                if i > from {
                    *units = units.checked_sub((i - from) as u64 * TABLE_SKIP_UNITS)?;
                    continue;
                }
            }
            let Some(&b) = bytes.get(i) else {
                return Some(false);
            };
            let (m, c) = if b < 128 {
                *units = units.checked_sub(CHAR_UNITS)?;
                i += 1;
                (self.ascii[b as usize], b as char)
            } else {
                let c = text[i..].chars().next()?;
                i += c.len_utf8();
                // Beyond Latin-1 each set is searched.
                let cost = if (c as u32) < 256 {
                    CHAR_UNITS
                } else {
                    CHAR_UNITS + 2 * self.sets.len() as u64
                };
                *units = units.checked_sub(cost)?;
                let folded = match &self.fold {
                    Some(model) => model.lower(c as u32),
                    None => c as u32,
                };
                (self.mask(folded), c)
            };
            let before = s;
            s = self.step(s, m);
            if s == before && s != wait_state && waits < MAX_WAITS {
                // Passing over a char must change nothing the loop's top
                // does: no accepting bit to test, and where a match may
                // begin at the next position, the entry bits already in.
                let starts_later = every_start || line_starts;
                if s != 0 && s & self.accept == 0 && (!starts_later || s & self.entry == self.entry)
                {
                    waits += 1;
                    *units = units.checked_sub(self.classes.len() as u64 * CHAR_UNITS)?;
                    wait_state = s;
                    wait = [0; 2];
                    for (mask, chars) in &self.classes {
                        if self.step(s, *mask) == s {
                            wait[0] |= chars[0];
                            wait[1] |= chars[1];
                        }
                    }
                }
            }
            if s == 0 && !later_starts {
                return Some(false);
            }
            line_start = c == '\n';
            if s == 0 && self.start.is_some() && c != '\n' {
                // Only a line start can begin a match (multiline `^`):
                // go straight to the next one.
                let Some(nl) = memchr::memchr(b'\n', &bytes[i..]) else {
                    *units = units
                        .checked_sub(SKIP_CALL_UNITS + (bytes.len() - i) as u64 * SKIP_UNITS)?;
                    return Some(false);
                };
                *units = units.checked_sub(SKIP_CALL_UNITS + nl as u64 * SKIP_UNITS)?;
                i += nl + 1;
                line_start = true;
            }
        }
    }

    /// Whether a match can begin only at a line start (a leading `^`
    /// under MULTILINE) and is never empty: then [`Simple::run_from_lines`]
    /// gives a search's answer.
    pub(super) fn line_anchored(&self) -> bool {
        self.start == Some(At::Beginning) && self.multiline && self.entry & self.accept == 0
    }

    /// A search of a [`Simple::line_anchored`] pattern in `text`, whose
    /// lines begin at `line_starts` (0 and each position after a `\n`,
    /// ascending): a match is tried from each line start whose first char
    /// the pattern may take, and the lines between are not read at all.
    /// Spends [`SKIP_CALL_UNITS`] per line start, and what each try reads.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub(super) fn run_from_lines(
        &self,
        text: &str,
        line_starts: &[usize],
        units: &mut u64,
    ) -> Option<bool> {
        let bytes = text.as_bytes();
        for &p in line_starts {
            // At the end only an empty match could begin.
            let Some(&b) = bytes.get(p) else { continue };
            *units = units.checked_sub(SKIP_CALL_UNITS)?;
            if b < 128 && self.step(self.entry, self.ascii[b as usize]) == 0 {
                continue;
            }
            if self.run(&text[p..], true, units)? {
                return Some(true);
            }
        }
        Some(false)
    }

    /// Whether the end anchor holds before `rest`.
    fn end_ok(&self, rest: &str) -> bool {
        let rest = rest.as_bytes();
        match self.end {
            None => true,
            Some(At::End) if self.multiline => matches!(rest.first(), None | Some(b'\n')),
            Some(At::End) => matches!(rest, [] | [b'\n']),
            Some(_) => rest.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::charset::CharModel;
    use super::super::parse::{parse, FLAG_I, FLAG_M, FLAG_U};
    use super::*;

    fn simple(pattern: &str, flags: u32) -> Simple {
        let parsed = parse(pattern, flags).unwrap();
        Simple::from_parsed(&parsed, &CharModel::new(parsed.flags)).expect(pattern)
    }

    fn skipped(s: &Simple) -> Vec<u8> {
        (0..=255u8)
            .filter(|&b| !s.skip.get(b as usize).copied().unwrap_or(false))
            .collect()
    }

    #[test]
    fn what_is_passed_over() {
        // A first literal under IGNORECASE: both of its ASCII cases stop
        // the pass, and every non-ASCII byte (the char may fold to it).
        let s = simple("friend@public.com", FLAG_I);
        let stops: Vec<u8> = skipped(&s).into_iter().filter(|b| b.is_ascii()).collect();
        assert_eq!(stops, b"Ff");
        assert!(skipped(&s).contains(&0xC5));
        // A leading `.*`: only the char after it, and not the newline
        // (which ends the `.*` but begins a new start).
        let s = simple(".*@uplinkpro.com", FLAG_I);
        let stops: Vec<u8> = skipped(&s).into_iter().filter(|b| b.is_ascii()).collect();
        assert_eq!(stops, b"@");
        // Not every position may begin a match, or the empty match.
        assert!(!simple("^x", FLAG_I | FLAG_M).passes_over);
        assert!(!simple("x*", 0).passes_over);
        assert!(!simple("$", 0).passes_over);
    }

    /// The pass changes no answer: the same searches without the table,
    /// over subjects mixing ASCII, newlines and case pairs beyond ASCII.
    #[test]
    fn passing_over_keeps_every_answer() {
        let alphabet = [
            'k', 'K', '\u{212a}', 'x', 's', '\u{17f}', '\n', '@', 'a', '\u{e9}',
        ];
        let patterns = [
            "kx", "sx", "\u{17f}x", ".*kx", ".*@a", "k+x$", ".x\\Z", "[ks]a*x",
        ];
        let mut r = 0x2545_f491_4f6c_dd1du64;
        for p in patterns {
            for flags in [0, FLAG_I, FLAG_I | FLAG_U, FLAG_M, FLAG_I | FLAG_M | FLAG_U] {
                let fast = simple(p, flags);
                let mut slow = simple(p, flags);
                slow.passes_over = false;
                for _ in 0..300 {
                    r ^= r << 13;
                    r ^= r >> 7;
                    r ^= r << 17;
                    let len = (r % 12) as usize;
                    let text: String = (0..len)
                        .map(|i| alphabet[((r >> (4 + 3 * i)) % alphabet.len() as u64) as usize])
                        .collect();
                    for anchored in [false, true] {
                        let (mut a, mut b) = (u64::MAX, u64::MAX);
                        let want = slow.run(&text, anchored, &mut b);
                        assert_eq!(
                            fast.run(&text, anchored, &mut a),
                            want,
                            "{p:?} {flags} {text:?}"
                        );
                        assert!(a >= b, "{p:?} {text:?}: the pass spent more");
                    }
                }
            }
        }
    }
}
