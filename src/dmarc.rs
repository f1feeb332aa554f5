//! DMARC as Mailman 2.1.39's `Utils.IsDMARCProhibited` /
//! `_DMARCProhibited` read it: the lookup's settings, what a lookup found
//! ([`Found`], handed to the decision as a [`DmarcAnswer`]), and the pure
//! readings: a TXT record's policy (`one_record`) and the organizational
//! domain by the public suffix list ([`SuffixList`]). No I/O: the DNS
//! client and the reading of the suffix list file are
//! [`crate::dmarc_lookup`]'s; the decision applies the list's flags to the
//! answer (`decide::spam`).
//!
//! Mailman's reading of a record, kept here: it must start with
//! `v=DMARC1;` exactly, and a policy is the first `p=word` (`sp=word` at
//! the organizational domain when present).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Debian's copy of the public suffix list (package `publicsuffix`).
pub const DEBIAN_PUBLIC_SUFFIX_LIST: &str = "/usr/share/publicsuffix/public_suffix_list.dat";

/// How the gate looks up DMARC policies as Mailman's `IsDMARCProhibited`.
#[derive(Debug, Clone, PartialEq)]
pub struct DmarcSettings {
    /// Look them up at all (else a list that needs one gets no verdict
    /// from DNS: the post is undecided when only DNS could tell).
    pub lookup: bool,
    /// The DNS server asked; None: the first `nameserver` of
    /// `/etc/resolv.conf`.
    pub dns_server: Option<SocketAddr>,
    /// The gate's own limit for one query, in seconds (an SMTP client is
    /// waiting): no answer by then is undecided.
    pub timeout: f64,
    /// Mailman's `DMARC_RESOLVER_TIMEOUT` (seconds).
    pub resolver_timeout: f64,
    /// Mailman's `DMARC_RESOLVER_LIFETIME` (seconds).
    pub resolver_lifetime: f64,
    /// Mailman's `DMARC_ORGANIZATIONAL_DOMAIN_DATA_URL`: where Mailman
    /// downloads the public suffix list; None or empty: it has none.
    pub org_domain_data_url: Option<String>,
    /// The local copy read for an `http(s)` URL (a `file://` URL is read
    /// itself).
    pub public_suffix_list: PathBuf,
}

impl Default for DmarcSettings {
    fn default() -> Self {
        DmarcSettings {
            lookup: true,
            dns_server: None,
            timeout: 2.0,
            resolver_timeout: 3.0,
            resolver_lifetime: 5.0,
            org_domain_data_url: Some(
                "https://publicsuffix.org/list/public_suffix_list.dat".into(),
            ),
            public_suffix_list: PathBuf::from(DEBIAN_PUBLIC_SUFFIX_LIST),
        }
    }
}

/// What DNS says about a From address's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No DMARC record at either level: Mailman's `False`.
    NoRecord,
    /// A DMARC record whose policy word (lower-cased; None when it has no
    /// `p=`) the list's flags decide on.
    Policy {
        /// The `_dmarc` name the record is at.
        at: String,
        policy: Option<String>,
        record: String,
    },
    /// Mailman's `_DMARCProhibited` returns False without reading a policy
    /// (the RRset it wants is not in the answer): not prohibited.
    NotProhibited(String),
}

/// The answer for one From address, handed to the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcAnswer {
    /// The address the decision asked about.
    pub email: String,
    /// What DNS says, or why the gate cannot tell.
    pub result: Result<Found, String>,
}

/// What one `_DMARCProhibited` call concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Level {
    /// `'continue'`: nothing here, try the next level.
    Continue,
    Found(Found),
}

/// The public suffix list as Mailman's `get_suffixes` reads it: reversed
/// rules → whether the rule is an exception (`!`).
#[derive(Debug, Default)]
pub struct SuffixList {
    rules: HashMap<Vec<u8>, bool>,
}

impl SuffixList {
    /// Parse the list (`get_suffixes`).
    pub fn parse(text: &[u8]) -> SuffixList {
        let mut rules = HashMap::new();
        for raw in text.split_inclusive(|&b| b == b'\n') {
            if raw.trim_ascii().is_empty() || raw.starts_with(b" ") || raw.starts_with(b"//") {
                continue;
            }
            let line = raw.trim_ascii();
            let line = match line.iter().position(|&b| b == b' ') {
                Some(p) => &line[..p],
                None => line,
            };
            if line.is_empty() {
                continue;
            }
            let lower = line.to_ascii_lowercase();
            let mut parts: Vec<&[u8]> = lower.split(|&b| b == b'.').collect();
            let exception = parts[0].starts_with(b"!");
            if exception {
                parts[0] = &parts[0][1..];
            }
            parts.reverse();
            rules.insert(parts.join(&b'.'), exception);
        }
        SuffixList { rules }
    }

    /// Mailman's `get_org_dom`: the domain cut to one label more than its
    /// longest matching rule (an exception rule: to the rule's length);
    /// two labels when no rule matches.
    pub fn org_domain(&self, domain: &str) -> String {
        let lower = domain.to_ascii_lowercase();
        let mut d: Vec<&str> = lower.split('.').collect();
        d.reverse();
        let get_dom = |l: usize| {
            let mut dom: Vec<&str> = d[..(l + 1).min(d.len())].to_vec();
            dom.reverse();
            dom.join(".")
        };
        let mut longest = 0;
        let mut any = false;
        for (k, &exception) in &self.rules {
            let ks: Vec<&[u8]> = k.split(|&b| b == b'.').collect();
            if d.len() < ks.len() {
                continue;
            }
            let hit = ks
                .iter()
                .zip(&d)
                .all(|(k, l)| *k == b"*" || *k == l.as_bytes());
            if !hit {
                continue;
            }
            if exception {
                return get_dom(ks.len() - 1);
            }
            any = true;
            longest = longest.max(ks.len());
        }
        if !any {
            return get_dom(1);
        }
        get_dom(longest)
    }
}

/// `_DMARCProhibited` on the first TXT record of the RRset at `name`.
pub(crate) fn one_record(record: &[u8], name: &str, org: bool) -> Level {
    if !record.starts_with(b"v=DMARC1;") {
        return Level::Continue;
    }
    let policy = if org {
        tag_word(record, b"sp=").or_else(|| tag_word(record, b"p="))
    } else {
        tag_word(record, b"p=")
    };
    Level::Found(Found::Policy {
        at: name.trim_end_matches('.').to_owned(),
        policy: policy.map(|w| String::from_utf8_lossy(&w).to_ascii_lowercase()),
        record: String::from_utf8_lossy(record).into_owned(),
    })
}

/// `re.search(r'\b<tag>(\w*)\b', record, re.IGNORECASE).group(1)`: the
/// first occurrence of the tag at a word start followed by at least one
/// word character (an empty word has no `\b` after it).
fn tag_word(record: &[u8], tag: &[u8]) -> Option<Vec<u8>> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    (0..record.len()).find_map(|i| {
        let at_start = i == 0 || !word(record[i - 1]);
        let rest = &record[i..];
        if !at_start || rest.len() < tag.len() || !rest[..tag.len()].eq_ignore_ascii_case(tag) {
            return None;
        }
        let value: Vec<u8> = rest[tag.len()..]
            .iter()
            .copied()
            .take_while(|&b| word(b))
            .collect();
        (!value.is_empty()).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_as_python_re() {
        // (record, tag, the word Python's re finds)
        let cases = [
            ("v=DMARC1; p=reject", "p=", Some("reject")),
            ("v=DMARC1; sp=none; p=Quarantine", "p=", Some("Quarantine")),
            ("v=DMARC1; P=REJECT", "p=", Some("REJECT")),
            ("v=DMARC1; p=; p=none", "p=", Some("none")),
            ("v=DMARC1; p =reject", "p=", None),
            ("v=DMARC1;p=reject", "p=", Some("reject")),
            ("v=DMARC1; sp=reject", "sp=", Some("reject")),
        ];
        for (record, tag, want) in cases {
            let found = tag_word(record.as_bytes(), tag.as_bytes());
            assert_eq!(found.as_deref(), want.map(str::as_bytes), "{record}");
        }
    }

    #[test]
    fn org_domain_as_mailman() {
        let l = SuffixList::parse(
            b"// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\n  indented.example\nbar.com extra words\n",
        );
        assert_eq!(l.org_domain("mail.example.com"), "example.com");
        assert_eq!(l.org_domain("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(l.org_domain("a.b.c.ck"), "b.c.ck");
        assert_eq!(l.org_domain("a.www.ck"), "www.ck");
        assert_eq!(l.org_domain("x.foo.bar.com"), "foo.bar.com");
        assert_eq!(l.org_domain("example.com"), "example.com");
        assert_eq!(l.org_domain("Sub.Example.ORG"), "example.org");
        assert_eq!(
            SuffixList::default().org_domain("a.b.example.co.uk"),
            "co.uk"
        );
    }
}
