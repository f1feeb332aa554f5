//! CPython 2.7's CJK codecs (`Modules/cjkcodecs`): Shift_JIS, CP932,
//! EUC-JP, GB2312, GBK, GB18030, Big5, EUC-KR, CP949 and ISO-2022-JP.
//!
//! encoding_rs decodes and encodes each step; where Python's codecs differ
//! (other tables, fewer extensions, another count of bytes an invalid
//! sequence swallows) the generated tables in `cjk_diff.rs` say what Python
//! does instead. A decoding step reads one byte, then more while Python's
//! decoder asks for more (up to four).

use encoding_rs::{DecoderResult, EncoderResult, Encoding};

use super::cjk_diff::DIFFS;
use super::codec::{DecodeError, EncodeError, Errors, Out};

/// A multibyte codec: Python's differences from its encoding_rs base.
#[derive(Debug)]
pub struct Multi {
    pub name: &'static str,
    /// Runs of (first unit key, count, first outcome), sorted by key; see
    /// [`unit_key`] and [`Unit`]. A character grows by one along a run.
    decode: &'static [(u64, u16, u32)],
    /// Runs of (first code point, count, first bytes as [`unit_key`] packs
    /// them; 0 = cannot encode); bytes grow by one along a run.
    encode: &'static [(u32, u16, u64)],
    /// Bytes below 0x80 decode to ASCII (no difference there).
    ascii_plain: bool,
}

impl PartialEq for Multi {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for Multi {}

/// What one decoding step makes of the bytes it has read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    Char(u32),
    /// Python's decoder needs another byte.
    More,
    /// An invalid sequence: Python skips this many bytes.
    Err(usize),
}

impl Unit {
    pub fn pack(self) -> u32 {
        match self {
            Unit::Char(c) => c,
            Unit::More => u32::MAX,
            Unit::Err(n) => 0xffff_ff00 | n as u32,
        }
    }
    fn unpack(v: u32) -> Unit {
        match v {
            u32::MAX => Unit::More,
            v if v >= 0xffff_ff00 => Unit::Err((v & 0xff) as usize),
            c => Unit::Char(c),
        }
    }
}

/// One to four bytes as a sortable key: the length, then the bytes.
pub fn unit_key(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |k, &x| (k << 8) | x as u64) | ((b.len() as u64) << 32)
}

fn bases() -> &'static [(&'static str, &'static Encoding)] {
    static BASES: [(&str, &Encoding); 9] = [
        ("shift_jis", encoding_rs::SHIFT_JIS),
        ("cp932", encoding_rs::SHIFT_JIS),
        ("euc_jp", encoding_rs::EUC_JP),
        ("gb2312", encoding_rs::GBK),
        ("gbk", encoding_rs::GBK),
        ("gb18030", encoding_rs::GB18030),
        ("big5", encoding_rs::BIG5),
        ("euc_kr", encoding_rs::EUC_KR),
        ("cp949", encoding_rs::EUC_KR),
    ];
    &BASES
}

/// The codec for a Python module name.
pub(crate) fn multi(module: &str) -> Option<&'static Multi> {
    static ALL: std::sync::LazyLock<Vec<Multi>> = std::sync::LazyLock::new(|| {
        bases()
            .iter()
            .map(|&(name, _)| {
                let (decode, encode) = DIFFS
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, d, e)| (*d, *e))
                    .unwrap_or((&[], &[]));
                Multi {
                    name,
                    decode,
                    encode,
                    ascii_plain: decode
                        .first()
                        .is_none_or(|&(k, _, _)| k >= unit_key(&[0x80])),
                }
            })
            .collect()
    });
    ALL.iter().find(|m| m.name == module)
}

/// What encoding_rs makes of one step's bytes (the generator of
/// `cjk_diff.rs` compares Python against exactly this).
#[doc(hidden)]
pub fn base_unit(module: &str, b: &[u8]) -> Unit {
    let base = bases()
        .iter()
        .find(|(n, _)| *n == module)
        .map(|(_, e)| *e)
        .expect("a multibyte codec");
    // Python's GB18030 reads all four bytes of a four-byte form before
    // judging them.
    if base == encoding_rs::GB18030
        && b.len() == 3
        && (0x81..=0xfe).contains(&b[0])
        && (0x30..=0x39).contains(&b[1])
    {
        return Unit::More;
    }
    let mut d = base.new_decoder_without_bom_handling();
    let mut s = String::with_capacity(16);
    let (res, read) = d.decode_to_string_without_replacement(b, &mut s, false);
    match res {
        DecoderResult::InputEmpty if s.is_empty() => Unit::More,
        DecoderResult::InputEmpty if read == b.len() => {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => Unit::Char(c as u32),
                _ => Unit::Err(b.len()),
            }
        }
        _ => Unit::Err(b.len()),
    }
}

/// What encoding_rs encodes a character to (`None`: unmappable).
#[doc(hidden)]
pub fn base_encode(module: &str, c: char) -> Option<Vec<u8>> {
    let base = bases()
        .iter()
        .find(|(n, _)| *n == module)
        .map(|(_, e)| *e)
        .expect("a multibyte codec");
    let mut e = base.new_encoder();
    let mut out = Vec::with_capacity(8);
    let s = c.to_string();
    let (res, _) = e.encode_from_utf8_to_vec_without_replacement(&s, &mut out, true);
    match res {
        EncoderResult::InputEmpty => Some(out),
        _ => None,
    }
}

/// The run of `table` holding `key`, and the offset into it.
fn in_run<K: Copy + Into<u64>, V: Copy>(table: &[(K, u16, V)], key: K) -> Option<(V, u64)> {
    let i = table.partition_point(|&(k, _, _)| k.into() <= key.into());
    let &(k, n, v) = table.get(i.checked_sub(1)?)?;
    let off = key.into() - k.into();
    (off < n as u64).then_some((v, off))
}

fn unit(m: &Multi, b: &[u8]) -> Unit {
    match in_run(m.decode, unit_key(b)) {
        Some((v, off)) => match Unit::unpack(v) {
            Unit::Char(c) => Unit::Char(c + off as u32),
            other => other,
        },
        None => base_unit(m.name, b),
    }
}

/// EUC-KR's KS X 1001:1998 make-up sequence: 0xA4D4, then an initial,
/// medial and final jamo each as 0xA4xx (0xA4D4 again for no final).
fn euc_kr_makeup(b: &[u8]) -> Option<u32> {
    if b[2] != 0xa4 || b[4] != 0xa4 || b[6] != 0xa4 {
        return None;
    }
    let table = |t: &[u8; 30], c: u8| {
        (0xa1..=0xbe)
            .contains(&c)
            .then(|| t[(c - 0xa1) as usize])
            .filter(|&x| x != 255)
    };
    let cho = table(&super::names::EUC_KR_CHOSEONG, b[3])? as u32;
    let jung = (0xbf..=0xd3)
        .contains(&b[5])
        .then(|| (b[5] - 0xbf) as u32)?;
    let jong = if b[7] == 0xd4 {
        0
    } else {
        table(&super::names::EUC_KR_JONGSEONG, b[7])? as u32
    };
    Some(0xac00 + cho * 588 + jung * 28 + jong)
}

/// `unicode(b, codec, errors)` for a multibyte codec.
pub(crate) fn decode(m: &Multi, b: &[u8], out: &mut Out) -> Result<(), DecodeError> {
    let n = b.len();
    let mut i = 0;
    while i < n {
        if b[i] < 0x80 && m.ascii_plain {
            out.text.push(b[i] as char);
            i += 1;
            continue;
        }
        if m.name == "euc_kr" && b[i] == 0xa4 && b.get(i + 1) == Some(&0xd4) {
            if n - i < 8 {
                out.bad(i, n)?;
                return Ok(());
            }
            match euc_kr_makeup(&b[i..i + 8]) {
                Some(c) => {
                    out.push_cp(c);
                    i += 8;
                }
                None => {
                    out.bad(i, i + 1)?;
                    i += 1;
                }
            }
            continue;
        }
        let mut len = 1;
        loop {
            if i + len > n {
                // Incomplete multibyte sequence: the rest of the input.
                out.bad(i, n)?;
                return Ok(());
            }
            match unit(m, &b[i..i + len]) {
                Unit::Char(c) => {
                    out.push_cp(c);
                    i += len;
                    break;
                }
                Unit::Err(skip) => {
                    out.bad(i, i + skip)?;
                    i += skip.max(1);
                    break;
                }
                Unit::More if len < 4 => len += 1,
                Unit::More => {
                    out.bad(i, i + len)?;
                    i += len;
                    break;
                }
            }
        }
    }
    Ok(())
}

/// `c.encode(codec)` for a multibyte codec; `None` where Python raises.
pub(crate) fn encode_char(m: &Multi, c: char) -> Option<Vec<u8>> {
    let cp = c as u32;
    match in_run(m.encode, cp) {
        Some((0, _)) => None,
        Some((u64::MAX, _)) => euc_kr_makeup_encode(cp),
        Some((packed, off)) => {
            let packed = packed + off;
            let len = (packed >> 32) as usize;
            Some((0..len).rev().map(|j| (packed >> (8 * j)) as u8).collect())
        }
        // Above the BMP only GB18030 encodes (as encoding_rs does).
        None if cp >= 0x10000 && m.name != "gb18030" => None,
        None => base_encode(m.name, c),
    }
}

/// A Hangul syllable KS X 1001 lacks, as EUC-KR's make-up sequence.
fn euc_kr_makeup_encode(cp: u32) -> Option<Vec<u8>> {
    let s = cp.checked_sub(0xac00).filter(|&s| s < 11172)?;
    let (cho, jung, jong) = (s / 588, (s % 588) / 28, s % 28);
    let find = |t: &[u8; 30], x: u32| {
        t.iter()
            .position(|&v| v as u32 == x)
            .map(|i| 0xa1 + i as u8)
    };
    let cho = find(&super::names::EUC_KR_CHOSEONG, cho)?;
    let jong = if jong == 0 {
        0xd4
    } else {
        find(&super::names::EUC_KR_JONGSEONG, jong)?
    };
    Some(vec![
        0xa4,
        0xd4,
        0xa4,
        cho,
        0xa4,
        0xbf + jung as u8,
        0xa4,
        jong,
    ])
}

fn euc_jp() -> &'static Multi {
    multi("euc_jp").expect("euc_jp")
}

/// JIS X 0208 as Python's `jisx0208_decoder` reads two 7-bit bytes (the
/// table EUC-JP uses with the high bits set).
fn jisx0208(c1: u8, c2: u8) -> Option<u32> {
    if !(0x21..=0x7e).contains(&c1) || !(0x21..=0x7e).contains(&c2) {
        return None;
    }
    if (c1, c2) == (0x21, 0x40) {
        return Some(0xff3c);
    }
    match unit(euc_jp(), &[c1 | 0x80, c2 | 0x80]) {
        Unit::Char(c) => Some(c),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum G0 {
    Ascii,
    Roman,
    Jis0208,
}

/// Python's `iso2022_jp` decoder: G0 is ASCII, JIS X 0201 Roman or JIS X
/// 0208 (1978 or 1983), switched by escape sequences; SO and SI pass
/// through; an escape sequence of another kind passes through as it is.
pub(crate) fn decode_iso2022_jp(b: &[u8], out: &mut Out) -> Result<(), DecodeError> {
    let n = b.len();
    let mut i = 0;
    let mut g0 = G0::Ascii;
    let mut esc_through = false;
    while i < n {
        let c = b[i];
        if esc_through {
            out.text.push(c as char);
            i += 1;
            if c.is_ascii_uppercase() || c == b'@' {
                esc_through = false;
            }
            continue;
        }
        match c {
            0x1b => {
                if i + 1 >= n {
                    out.bad(i, n)?;
                    return Ok(());
                }
                if !matches!(b[i + 1], b'(' | b')' | b'$' | b'.' | b'&') {
                    out.text.push('\x1b');
                    esc_through = true;
                    i += 1;
                    continue;
                }
                // Find the end of the escape sequence (a letter or '@').
                let mut k = 1;
                let mut esclen = 0;
                while k < 16 {
                    if i + k >= n {
                        out.bad(i, n)?;
                        return Ok(());
                    }
                    let x = b[i + k];
                    if x.is_ascii_uppercase() || x == b'@' {
                        esclen = k + 1;
                        break;
                    }
                    if i + k + 1 < n && x == b'&' && b[i + k + 1] == b'@' {
                        k += 2;
                    }
                    k += 1;
                }
                if esclen == 0 {
                    out.bad(i, i + 1)?;
                    i += 1;
                    continue;
                }
                let e = &b[i..i + esclen];
                let next = match esclen {
                    3 if e[1] == b'$' && matches!(e[2], b'B' | b'@') => Some(G0::Jis0208),
                    3 if e[1] == b'(' && e[2] == b'B' => Some(G0::Ascii),
                    3 if e[1] == b'(' && e[2] == b'J' => Some(G0::Roman),
                    4 if e[1] == b'$' && e[2] == b'(' && matches!(e[3], b'B' | b'@') => {
                        Some(G0::Jis0208)
                    }
                    6 if e[3] == 0x1b && e[4] == b'$' && e[5] == b'B' => Some(G0::Jis0208),
                    _ => None,
                };
                match next {
                    Some(g) => {
                        g0 = g;
                        i += esclen;
                    }
                    None => {
                        out.bad(i, i + esclen)?;
                        i += esclen;
                    }
                }
            }
            b'\n' => {
                out.text.push('\n');
                i += 1;
            }
            c if c < 0x20 => {
                out.text.push(c as char);
                i += 1;
            }
            c if c >= 0x80 => {
                out.bad(i, i + 1)?;
                i += 1;
            }
            c => match g0 {
                G0::Ascii => {
                    out.text.push(c as char);
                    i += 1;
                }
                G0::Roman => {
                    out.push_cp(match c {
                        0x5c => 0xa5,
                        0x7e => 0x203e,
                        c => c as u32,
                    });
                    i += 1;
                }
                G0::Jis0208 => {
                    if i + 2 > n {
                        out.bad(i, n)?;
                        return Ok(());
                    }
                    match jisx0208(c, b[i + 1]) {
                        Some(u) => out.push_cp(u),
                        None => out.bad(i, i + 2)?,
                    }
                    i += 2;
                }
            },
        }
    }
    Ok(())
}

/// `text.encode('iso-2022-jp', errors)`: ASCII, then JIS X 0208, then JIS
/// X 0201 Roman for what JIS X 0208 lacks; back to ASCII at the end.
pub(crate) fn encode_iso2022_jp(text: &str, errors: Errors) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(text.len() + 8);
    let mut g0 = G0::Ascii;
    let switch = |out: &mut Vec<u8>, g: G0, g0: &mut G0| {
        if *g0 != g {
            out.extend_from_slice(match g {
                G0::Ascii => b"\x1b(B",
                G0::Roman => b"\x1b(J",
                G0::Jis0208 => b"\x1b$B",
            });
            *g0 = g;
        }
    };
    for (i, c) in text.chars().enumerate() {
        if c.is_ascii() {
            switch(&mut out, G0::Ascii, &mut g0);
            out.push(c as u8);
            continue;
        }
        let jis = if c == '\u{ff3c}' {
            Some(vec![0x21, 0x40])
        } else {
            encode_char(euc_jp(), c)
                .filter(|e| e.len() == 2 && e[0] >= 0xa1 && e[1] >= 0xa1)
                .map(|e| vec![e[0] & 0x7f, e[1] & 0x7f])
        };
        if let Some(j) = jis {
            switch(&mut out, G0::Jis0208, &mut g0);
            out.extend_from_slice(&j);
        } else if c == '\u{a5}' || c == '\u{203e}' {
            switch(&mut out, G0::Roman, &mut g0);
            out.push(if c == '\u{a5}' { 0x5c } else { 0x7e });
        } else {
            match errors {
                Errors::Strict => {
                    return Err(EncodeError {
                        start: i,
                        end: i + 1,
                    })
                }
                Errors::Replace => {
                    switch(&mut out, G0::Ascii, &mut g0);
                    out.push(b'?');
                }
            }
        }
    }
    switch(&mut out, G0::Ascii, &mut g0);
    Ok(out)
}
