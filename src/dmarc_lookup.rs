//! DMARC policies from DNS, looked up as Mailman 2.1.39's
//! `Utils.IsDMARCProhibited` / `_DMARCProhibited` do with dnspython 1.x
//! (what Debian's Mailman uses): the TXT record at `_dmarc.<From domain>`,
//! then, when that gives nothing, at `_dmarc.<organizational domain>`
//! (from the public suffix list, preferring its `sp=`).
//!
//! This is the I/O side of [`crate::dmarc`]: [`lookup`] asks a DNS server
//! (a blocking UDP socket, TCP when the answer is truncated) and reads the
//! public suffix list file, and returns what it found; the decision applies
//! the list's flags to it (`decide::spam`). Where Mailman
//! would conclude "prohibited" from a DNS failure (SERVFAIL, a timeout),
//! the gate cannot know that Mailman's own later query fails too: every
//! failure here is *undecided*.
//!
//! Mailman's reading of an answer, kept here: only the first record of the
//! TXT RRset counts (dnspython 1.x's `items[0]`; the record itself is read
//! by `dmarc::one_record`) and CNAMEs in the answer are followed by their
//! lower-cased owner names. Where the first record depends on the order the
//! server lists them in and the records disagree, the result is undecided.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, PacketFlag, Question, CLASS, QCLASS, QTYPE, RCODE, TYPE};

use crate::dmarc::{one_record, DmarcSettings, Found, Level, SuffixList};

/// `IsDMARCProhibited`'s lookups for `email` (any case).
pub fn lookup(settings: &DmarcSettings, email: &str) -> Result<Found, String> {
    let email = email.to_ascii_lowercase();
    let Some(at) = email.rfind('@').filter(|&at| at >= 1) else {
        return Ok(Found::NoRecord);
    };
    let f_dom = &email[at + 1..];
    let dns = Dns::new(settings)?;
    if let Level::Found(f) = level(&dns, &format!("_dmarc.{f_dom}"), false)? {
        return Ok(f);
    }
    let o_dom = organizational_domain(settings, f_dom)?;
    if o_dom != f_dom {
        if let Level::Found(f) = level(&dns, &format!("_dmarc.{o_dom}"), true)? {
            return Ok(f);
        }
    }
    Ok(Found::NoRecord)
}

/// Mailman's `get_org_dom` with the list Mailman would have downloaded.
fn organizational_domain(settings: &DmarcSettings, domain: &str) -> Result<String, String> {
    let list = match settings.org_domain_data_url.as_deref() {
        None | Some("") => None,
        Some(url) => match url.strip_prefix("file://") {
            // urllib2 reads a file: URL itself; a missing file is an empty
            // list for Mailman too.
            Some(path) => suffix_list(Path::new(path)).ok(),
            None => Some(suffix_list(&settings.public_suffix_list).map_err(|e| {
                format!(
                    "the public suffix list Mailman downloads from {url} is needed and the local copy {} cannot be read: {e}",
                    settings.public_suffix_list.display()
                )
            })?),
        },
    };
    Ok(match list {
        Some(l) => l.org_domain(domain),
        None => SuffixList::default().org_domain(domain),
    })
}

/// Read and parse a public suffix list file, once per process and path.
pub fn suffix_list(path: &Path) -> std::io::Result<Arc<SuffixList>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<SuffixList>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(path).cloned()) {
        return Ok(hit);
    }
    let list = Arc::new(SuffixList::parse(&std::fs::read(path)?));
    if let Ok(mut c) = cache.lock() {
        c.insert(path.to_owned(), list.clone());
    }
    Ok(list)
}

/// A DNS server and the limits for asking it.
struct Dns {
    server: SocketAddr,
    timeout: Duration,
    deadline: Instant,
}

impl Dns {
    fn new(settings: &DmarcSettings) -> Result<Dns, String> {
        let server = match settings.dns_server {
            Some(s) => s,
            None => resolv_conf_server(Path::new("/etc/resolv.conf"))
                .ok_or("no nameserver in /etc/resolv.conf")?,
        };
        let secs = settings.timeout.min(settings.resolver_timeout).max(0.001);
        let lifetime = settings.resolver_lifetime.max(secs);
        Ok(Dns {
            server,
            timeout: Duration::from_secs_f64(secs),
            deadline: Instant::now() + Duration::from_secs_f64(lifetime),
        })
    }

    /// The response to a TXT query for `name`, as raw bytes.
    fn query_txt(&self, name: &str) -> Result<Vec<u8>, String> {
        let id = random_id();
        let mut q = Packet::new_query(id);
        q.set_flags(PacketFlag::RECURSION_DESIRED);
        let qname = Name::new(name).map_err(|e| format!("{name}: {e}"))?;
        q.questions.push(Question::new(
            qname,
            QTYPE::TYPE(TYPE::TXT),
            QCLASS::CLASS(CLASS::IN),
            false,
        ));
        let bytes = q.build_bytes_vec().map_err(|e| format!("{name}: {e}"))?;
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("DMARC_RESOLVER_LIFETIME spent".into());
        }
        let timeout = self.timeout.min(left);
        let reply = self.udp(&bytes, id, name, timeout)?;
        let truncated = Packet::parse(&reply)
            .map(|p| p.has_flags(PacketFlag::TRUNCATION))
            .unwrap_or(false);
        if truncated {
            return self.tcp(&bytes, id, timeout);
        }
        Ok(reply)
    }

    fn udp(&self, query: &[u8], id: u16, name: &str, timeout: Duration) -> Result<Vec<u8>, String> {
        let bind: SocketAddr = if self.server.is_ipv4() {
            "0.0.0.0:0".parse().expect("address")
        } else {
            "[::]:0".parse().expect("address")
        };
        let io = |e: std::io::Error| format!("DNS server {}: {e}", self.server);
        let sock = UdpSocket::bind(bind).map_err(io)?;
        sock.connect(self.server).map_err(io)?;
        sock.send(query).map_err(io)?;
        let until = Instant::now() + timeout;
        let mut buf = vec![0u8; 65535];
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "no answer from DNS server {} within {:.1} s",
                    self.server,
                    timeout.as_secs_f64()
                ));
            }
            sock.set_read_timeout(Some(left)).map_err(io)?;
            match sock.recv(&mut buf) {
                Ok(n) => {
                    // Not ours (a late answer to another query): keep waiting.
                    if answers(&buf[..n], id, name) {
                        return Ok(buf[..n].to_vec());
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(io(e)),
            }
        }
    }

    fn tcp(&self, query: &[u8], id: u16, timeout: Duration) -> Result<Vec<u8>, String> {
        let io = |e: std::io::Error| format!("DNS server {} (TCP): {e}", self.server);
        let mut s = TcpStream::connect_timeout(&self.server, timeout).map_err(io)?;
        s.set_read_timeout(Some(timeout)).map_err(io)?;
        s.set_write_timeout(Some(timeout)).map_err(io)?;
        let mut msg = (query.len() as u16).to_be_bytes().to_vec();
        msg.extend_from_slice(query);
        s.write_all(&msg).map_err(io)?;
        let mut len = [0u8; 2];
        s.read_exact(&mut len).map_err(io)?;
        let mut reply = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut reply).map_err(io)?;
        if reply.len() < 2 || u16::from_be_bytes([reply[0], reply[1]]) != id {
            return Err(format!("DNS server {} (TCP): not our answer", self.server));
        }
        Ok(reply)
    }
}

/// The reply is to our query: same id, a response, same question.
fn answers(reply: &[u8], id: u16, name: &str) -> bool {
    let Ok(p) = Packet::parse(reply) else {
        return false;
    };
    p.id() == id
        && p.questions.len() == 1
        && p.questions[0]
            .qname
            .to_string()
            .eq_ignore_ascii_case(name.trim_end_matches('.'))
}

fn random_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() as u16
}

/// The first `nameserver` line of resolv.conf.
pub fn resolv_conf_server(path: &Path) -> Option<SocketAddr> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        if w.next()? != "nameserver" {
            return None;
        }
        let addr = w.next()?.split('%').next()?;
        addr.parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

/// A name this lookup asks for as Mailman writes it: letters, digits,
/// `-`, `_`, non-empty labels. Others (escapes, spaces, 8-bit) would be
/// spelled differently by dnspython's text form and are not guessed at.
fn plain_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// One `_DMARCProhibited(dmarc_domain, org)`.
fn level(dns: &Dns, dmarc_domain: &str, org: bool) -> Result<Level, String> {
    if !plain_name(dmarc_domain) {
        return Err(format!(
            "the DMARC name {dmarc_domain:?} is not a plain DNS name"
        ));
    }
    let reply = dns.query_txt(dmarc_domain)?;
    read_answer(&reply, dmarc_domain, org)
}

/// The records of an answer as dnspython groups them: one RRset per
/// (name, type), in order of first appearance, each with its distinct
/// records in wire order.
struct RrSet {
    /// The owner name as the first record spells it, lower-cased, with the
    /// root dot (`name.to_text().lower()`).
    name: String,
    kind: RrKind,
}

enum RrKind {
    /// Targets as written (`target.to_text()`: case kept).
    Cname(Vec<String>),
    /// Each record's strings joined.
    Txt(Vec<Vec<u8>>),
    Other,
}

/// Read a reply to the TXT query for `dmarc_domain` as `_DMARCProhibited`
/// reads dnspython's answer.
fn read_answer(reply: &[u8], dmarc_domain: &str, org: bool) -> Result<Level, String> {
    let p = Packet::parse(reply).map_err(|e| format!("unreadable DNS answer: {e}"))?;
    match p.rcode() {
        RCODE::NoError => {}
        RCODE::NameError => return Ok(Level::Continue),
        other => {
            return Err(format!(
                "DNS server answered {other:?} for {dmarc_domain} (Mailman would treat its own failure as prohibited)"
            ))
        }
    }
    let mut sets: Vec<RrSet> = Vec::new();
    for rr in &p.answers {
        let name = format!("{}.", rr.name).to_ascii_lowercase();
        let (code, item): (u16, RrItem) = match &rr.rdata {
            RData::CNAME(c) => (5, RrItem::Cname(format!("{}.", c.0))),
            RData::TXT(t) => {
                let joined = match String::try_from(t.clone()) {
                    Ok(s) => s.into_bytes(),
                    Err(e) => e.into_bytes(),
                };
                (16, RrItem::Txt(joined))
            }
            _ => (0, RrItem::Other),
        };
        let found = sets.iter_mut().find(|s| {
            s.name == name
                && matches!(
                    (&s.kind, code),
                    (RrKind::Cname(_), 5) | (RrKind::Txt(_), 16) | (RrKind::Other, 0)
                )
        });
        let set = match found {
            Some(s) => s,
            None => {
                sets.push(RrSet {
                    name,
                    kind: match code {
                        5 => RrKind::Cname(Vec::new()),
                        16 => RrKind::Txt(Vec::new()),
                        _ => RrKind::Other,
                    },
                });
                sets.last_mut().expect("just pushed")
            }
        };
        match (&mut set.kind, item) {
            (RrKind::Cname(v), RrItem::Cname(t)) if !v.contains(&t) => v.push(t),
            (RrKind::Txt(v), RrItem::Txt(t)) if !v.contains(&t) => v.push(t),
            _ => {}
        }
    }
    // dnspython's Answer: the TXT RRset at the query name, following CNAMEs
    // (names compared without case); none is NoAnswer, i.e. 'continue'.
    let mut qname = format!("{dmarc_domain}.").to_ascii_lowercase();
    let mut has_answer = false;
    for _ in 0..16 {
        if sets
            .iter()
            .any(|s| s.name == qname && matches!(s.kind, RrKind::Txt(_)))
        {
            has_answer = true;
            break;
        }
        match sets.iter().find_map(|s| match &s.kind {
            RrKind::Cname(t) if s.name == qname => t.first().cloned(),
            _ => None,
        }) {
            Some(target) => qname = target.to_ascii_lowercase(),
            None => break,
        }
    }
    if !has_answer {
        return Ok(Level::Continue);
    }
    // Mailman's own walk: CNAMEs by lower-cased owner to their target as
    // written; TXT by lower-cased owner, first record only.
    let cnames: HashMap<&str, &str> = sets
        .iter()
        .filter_map(|s| match &s.kind {
            RrKind::Cname(t) => t.first().map(|t| (s.name.as_str(), t.as_str())),
            _ => None,
        })
        .collect();
    let start = format!("{dmarc_domain}.");
    let mut want: Vec<String> = vec![start.clone()];
    let mut expands = vec![start.clone()];
    let mut seen: HashSet<String> = HashSet::from([start]);
    while !expands.is_empty() {
        let item = expands.remove(0);
        if let Some(&target) = cnames.get(item.as_str()) {
            if seen.contains(target) {
                continue;
            }
            expands.push(target.to_owned());
            seen.insert(target.to_owned());
            if !want.iter().any(|w| w == target) {
                want.push(target.to_owned());
            }
            want.retain(|w| *w != item);
        }
    }
    if want.len() != 1 {
        return Err(format!(
            "the CNAMEs at {dmarc_domain} lead to {} names, which Mailman reads in no fixed order",
            want.len()
        ));
    }
    let name = &want[0];
    let Some(records) = sets.iter().find_map(|s| match &s.kind {
        RrKind::Txt(v) if s.name == *name => Some(v),
        _ => None,
    }) else {
        return Ok(Level::Found(Found::NotProhibited(format!(
            "the answer for {dmarc_domain} has no TXT records at {name}"
        ))));
    };
    // Mailman reads the first record of the RRset; servers may list them in
    // any order, so every record that could come first must agree.
    let outcomes: Vec<Level> = records.iter().map(|r| one_record(r, name, org)).collect();
    let key = |l: &Level| match l {
        Level::Found(Found::Policy { policy, .. }) => Some(policy.clone()),
        _ => None,
    };
    if outcomes.windows(2).any(|w| key(&w[0]) != key(&w[1])) {
        return Err(format!(
            "{name} has {} TXT records that Mailman would read differently, and it reads whichever its DNS server lists first",
            records.len()
        ));
    }
    Ok(outcomes.into_iter().next().unwrap_or(Level::Continue))
}

enum RrItem {
    Cname(String),
    Txt(Vec<u8>),
    Other,
}
