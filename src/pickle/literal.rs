//! Python literal decoders the machine's text opcodes need: decimal and
//! little-endian integers, Python 2's UTF-8 with surrogates,
//! and `raw-unicode-escape` (`string-escape` is
//! [`crate::py::escape`], shared with `mm_cfg.py`'s reader).

use std::fmt::Write as _;

pub(super) fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

pub(super) fn parse_u64(t: &[u8]) -> Option<u64> {
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
pub(super) fn parse_decimal(t: &[u8]) -> Option<Result<i64, String>> {
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
pub(super) fn long_from_le(b: &[u8]) -> Result<i64, String> {
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
pub(super) fn decode_utf8_surrogates(mut s: &[u8]) -> Result<String, usize> {
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
pub(super) fn decode_raw_unicode_escape(raw: &[u8]) -> Result<String, String> {
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
