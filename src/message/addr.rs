//! RFC 2822 address-list parsing with the exact behaviour of Python 2.7's
//! `email._parseaddr.AddrlistClass` (used by `email.utils.getaddresses` and
//! `parseaddr`). Works on characters; with the crate's Latin-1 mapping of
//! raw header bytes, one character is one byte, as in Python 2.

/// A set of ASCII characters as a bit mask, built at compile time.
type Set = u128;

const fn set(chars: &str) -> Set {
    let b = chars.as_bytes();
    let mut m = 0u128;
    let mut i = 0;
    while i < b.len() {
        m |= 1u128 << b[i];
        i += 1;
    }
    m
}

const SPECIALS: Set = set("()<>@,:;.\"[]");
const LWS: Set = set(" \t");
const FWS: Set = set(" \t\r\n");
const ATOMENDS: Set = set("()<>@,:;.\"[] \t\r\n");
const PHRASEENDS: Set = set("()<>@,:;\"[] \t\r\n");
const DOT_AT: Set = set(".@");
const QUOTE_ENDS: Set = set("\"\r");
const LITERAL_ENDS: Set = set("]\r");
const COMMENT_ENDS: Set = set(")\r");
/// Nested comments deeper than this are read as plain text, to bound the
/// recursion on hostile input.
const MAX_COMMENT_DEPTH: usize = 200;
/// Groups nested deeper than this are not opened (Python itself fails with
/// a recursion error long before such depths).
const MAX_GROUP_DEPTH: usize = 200;

struct Addrlist {
    f: Vec<char>,
    pos: usize,
    comments: Vec<String>,
    depth: usize,
}

/// Whether `c` is one of the (ASCII) characters of `set`.
fn is_in(c: char, set: Set) -> bool {
    // Two 64-bit halves: a variable shift of a u128 costs a dozen
    // instructions and this runs for every char of every address.
    let c = c as u32;
    let half = match c {
        0..64 => set as u64,
        64..128 => (set >> 64) as u64,
        _ => return false,
    };
    half >> (c & 63) & 1 != 0
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl Addrlist {
    fn cur(&self) -> char {
        self.f[self.pos]
    }
    fn more(&self) -> bool {
        self.pos < self.f.len()
    }

    fn gotonext(&mut self) {
        while self.more() {
            let c = self.cur();
            if is_in(c, FWS) {
                self.pos += 1;
            } else if c == '(' {
                let c = self.getcomment(0);
                self.comments.push(c);
            } else {
                break;
            }
        }
    }

    fn getaddrlist(&mut self) -> Vec<(String, String)> {
        let mut result = Vec::new();
        while self.more() {
            let before = self.pos;
            let ad = self.getaddress();
            if ad.is_empty() {
                result.push((String::new(), String::new()));
            } else {
                result.extend(ad);
            }
            if self.pos == before {
                // Cannot happen for the algorithm as written; guards the loop.
                self.pos += 1;
            }
        }
        result
    }

    fn getaddress(&mut self) -> Vec<(String, String)> {
        self.comments.clear();
        self.gotonext();
        let oldpos = self.pos;
        let oldcl = self.comments.clone();
        let plist = self.getphraselist();
        self.gotonext();
        let mut ret = Vec::new();
        if !self.more() {
            if let Some(p) = plist.first() {
                ret.push((self.comments.join(" "), p.clone()));
            }
        } else if is_in(self.cur(), DOT_AT) {
            self.pos = oldpos;
            self.comments = oldcl;
            let spec = self.getaddrspec();
            ret.push((self.comments.join(" "), spec));
        } else if self.cur() == ':' && self.depth < MAX_GROUP_DEPTH {
            self.depth += 1;
            self.pos += 1;
            while self.more() {
                self.gotonext();
                if self.more() && self.cur() == ';' {
                    self.pos += 1;
                    break;
                }
                let sub = self.getaddress();
                ret.extend(sub);
            }
            self.depth -= 1;
        } else if self.cur() == '<' {
            let route = self.getrouteaddr();
            if !self.comments.is_empty() {
                ret.push((
                    format!("{} ({})", plist.join(" "), self.comments.join(" ")),
                    route,
                ));
            } else {
                ret.push((plist.join(" "), route));
            }
        } else if let Some(p) = plist.first() {
            ret.push((self.comments.join(" "), p.clone()));
        } else if is_in(self.cur(), SPECIALS) {
            self.pos += 1;
        }
        self.gotonext();
        if self.more() && self.cur() == ',' {
            self.pos += 1;
        }
        ret
    }

    fn getrouteaddr(&mut self) -> String {
        let mut expectroute = false;
        self.pos += 1;
        self.gotonext();
        let mut adlist = String::new();
        while self.more() {
            if expectroute {
                self.getdomain();
                expectroute = false;
            } else if self.cur() == '>' {
                self.pos += 1;
                break;
            } else if self.cur() == '@' {
                self.pos += 1;
                expectroute = true;
            } else if self.cur() == ':' {
                self.pos += 1;
            } else {
                adlist = self.getaddrspec();
                self.pos += 1;
                break;
            }
            self.gotonext();
        }
        adlist
    }

    fn getaddrspec(&mut self) -> String {
        let mut aslist = String::with_capacity(32);
        self.gotonext();
        while self.more() {
            let c = self.cur();
            if c == '.' {
                aslist.push('.');
                self.pos += 1;
            } else if c == '"' {
                let q = self.getdelimited('"', QUOTE_ENDS, false, 0);
                aslist.push('"');
                aslist.push_str(&quote(&q));
                aslist.push('"');
            } else if is_in(c, ATOMENDS) {
                break;
            } else {
                aslist.push_str(&self.getatom(ATOMENDS));
            }
            self.gotonext();
        }
        if !self.more() || self.cur() != '@' {
            return aslist;
        }
        aslist.push('@');
        self.pos += 1;
        self.gotonext();
        let domain = self.getdomain();
        if domain.is_empty() {
            return String::new();
        }
        aslist + &domain
    }

    fn getdomain(&mut self) -> String {
        let mut sd = String::with_capacity(24);
        while self.more() {
            let c = self.cur();
            if is_in(c, LWS) {
                self.pos += 1;
            } else if c == '(' {
                let cm = self.getcomment(0);
                self.comments.push(cm);
            } else if c == '[' {
                let d = self.getdelimited('[', LITERAL_ENDS, false, 0);
                sd.push('[');
                sd.push_str(&d);
                sd.push(']');
            } else if c == '.' {
                self.pos += 1;
                sd.push('.');
            } else if c == '@' {
                return String::new();
            } else if is_in(c, ATOMENDS) {
                break;
            } else {
                sd.push_str(&self.getatom(ATOMENDS));
            }
        }
        sd
    }

    fn getdelimited(&mut self, begin: char, ends: Set, comments: bool, depth: usize) -> String {
        if !self.more() || self.cur() != begin {
            return String::new();
        }
        let mut s = String::new();
        let mut quote = false;
        self.pos += 1;
        while self.more() {
            let c = self.cur();
            if quote {
                s.push(c);
                quote = false;
            } else if is_in(c, ends) {
                self.pos += 1;
                break;
            } else if comments && c == '(' && depth < MAX_COMMENT_DEPTH {
                let inner = self.getcomment(depth + 1);
                s.push_str(&inner);
                continue;
            } else if c == '\\' {
                quote = true;
            } else {
                s.push(c);
            }
            self.pos += 1;
        }
        s
    }

    fn getcomment(&mut self, depth: usize) -> String {
        self.getdelimited('(', COMMENT_ENDS, true, depth)
    }

    fn getatom(&mut self, ends: Set) -> String {
        let start = self.pos;
        while self.more() && !is_in(self.cur(), ends) {
            self.pos += 1;
        }
        self.f[start..self.pos].iter().collect()
    }

    fn getphraselist(&mut self) -> Vec<String> {
        let mut plist = Vec::new();
        while self.more() {
            let c = self.cur();
            if is_in(c, FWS) {
                self.pos += 1;
            } else if c == '"' {
                plist.push(self.getdelimited('"', QUOTE_ENDS, false, 0));
            } else if c == '(' {
                let cm = self.getcomment(0);
                self.comments.push(cm);
            } else if is_in(c, PHRASEENDS) {
                break;
            } else {
                plist.push(self.getatom(PHRASEENDS));
            }
        }
        plist
    }
}

/// `_AddressList(field).addresslist`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
pub(crate) fn address_list(field: &str) -> Vec<(String, String)> {
    if field.is_empty() {
        return Vec::new();
    }
    if let Some(simple) = simple_list(field) {
        return simple;
    }
    parse_list(field)
}

/// Characters of an atom in the forms [`simple_list`] reads.
fn atom_byte(c: u8) -> bool {
    c.is_ascii() && c != b'\\' && !is_in(c as char, ATOMENDS)
}

/// `local@domain` of atoms and dots, no whitespace or comment: the parser
/// returns it as it is.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn simple_addr_spec(s: &str) -> bool {
    let Some(at) = memchr::memchr(b'@', s.as_bytes()) else {
        return false;
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    !local.is_empty()
        && !domain.is_empty()
        && local
            .bytes()
            .chain(domain.bytes())
            .all(|c| c == b'.' || atom_byte(c))
}

/// The common shapes of address lists, read without the general parser
/// (which works on a copy as characters and builds each token): ASCII,
/// comma-separated `local@domain` or `words <local@domain>` with plain
/// words (no quote, comment, group or route). Any other shape: None, and
/// the general parser reads it. The answers are the parser's (a test
/// compares the two on generated lists).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn simple_list(field: &str) -> Option<Vec<(String, String)>> {
    if !field.is_ascii() {
        return None;
    }
    // Byte searches and loops of this module's own (not `str::split`):
    // less code for a connection forked from a warm daemon to fault in.
    let fws = |c: u8| is_in(c as char, FWS);
    let mut out = Vec::with_capacity(1);
    let mut rest = Some(field);
    while let Some(text) = rest {
        let (piece, more) = match memchr::memchr(b',', text.as_bytes()) {
            Some(i) => (&text[..i], Some(&text[i + 1..])),
            None => (text, None),
        };
        rest = more;
        let piece = trim_bytes(piece, fws);
        if piece.is_empty() {
            return None;
        }
        match memchr::memchr(b'<', piece.as_bytes()) {
            None if simple_addr_spec(piece) => out.push((String::new(), piece.to_owned())),
            None => return None,
            Some(i) => {
                let (phrase, route) = (&piece[..i], &piece[i + 1..]);
                let spec = route.strip_suffix('>')?;
                if !simple_addr_spec(spec) {
                    return None;
                }
                let mut name = String::with_capacity(phrase.len());
                let mut words = phrase;
                loop {
                    words = trim_bytes(words, fws);
                    if words.is_empty() {
                        break;
                    }
                    let end = words.bytes().position(fws).unwrap_or(words.len());
                    let word = &words[..end];
                    words = &words[end..];
                    if !word
                        .bytes()
                        .all(|c| c == b'.' || (atom_byte(c) && !is_in(c as char, PHRASEENDS)))
                    {
                        return None;
                    }
                    if !name.is_empty() {
                        name.push(' ');
                    }
                    name.push_str(word);
                }
                out.push((name, spec.to_owned()));
            }
        }
    }
    Some(out)
}

/// `s` without the ASCII bytes `trim` tells at either end.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
fn trim_bytes(s: &str, trim: impl Fn(u8) -> bool) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !trim(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !trim(c)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// [`address_list`] by the general parser.
fn parse_list(field: &str) -> Vec<(String, String)> {
    let mut a = Addrlist {
        f: field.chars().collect(),
        pos: 0,
        comments: Vec::new(),
        depth: 0,
    };
    a.getaddrlist()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_shapes() {
        assert_eq!(
            simple_list("Alice  Smith <alice@example.com>, b.c@d.e"),
            Some(vec![
                ("Alice Smith".into(), "alice@example.com".into()),
                (String::new(), "b.c@d.e".into())
            ])
        );
        for other in [
            "\"A\" <a@b>",
            "a@b (c)",
            "g: a@b;",
            "<@r:a@b>",
            "a@b,,c@d",
            "é <a@b>",
        ] {
            assert_eq!(simple_list(other), None, "{other}");
        }
    }

    /// The shortcut answers exactly as the general parser wherever it
    /// answers: every list of up to 5 characters from an alphabet of
    /// the characters that matter, and random longer ones.
    #[test]
    fn simple_lists_read_as_the_parser_reads_them() {
        const ALPHABET: &[u8] = b"a.@ <>,\"(\t:;[\\\r";
        let mut read = 0;
        let mut check = |s: &str| {
            if let Some(fast) = simple_list(s) {
                read += 1;
                assert_eq!(fast, parse_list(s), "{s:?}");
            }
        };
        let mut buf = Vec::new();
        fn all(buf: &mut Vec<u8>, left: usize, check: &mut dyn FnMut(&str)) {
            check(std::str::from_utf8(buf).unwrap());
            if left == 0 {
                return;
            }
            for &c in ALPHABET {
                buf.push(c);
                all(buf, left - 1, check);
                buf.pop();
            }
        }
        all(&mut buf, 5, &mut check);
        // Longer ones from tokens, so that many have a simple shape.
        const TOKENS: [&str; 14] = [
            "al", "b.c", "x", "@", "@d.e", " ", "  ", "<", ">", ", ", "\t", "(", "\"", ".",
        ];
        let mut r = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1_000_000 {
            let mut s = String::new();
            r = r
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = 2 + (r >> 40) as usize % 10;
            for _ in 0..len {
                r = r
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(TOKENS[(r >> 33) as usize % TOKENS.len()]);
            }
            check(&s);
        }
        assert!(read > 5_000, "only {read} lists took the shortcut");
    }
}
