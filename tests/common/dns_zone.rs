//! A small authoritative-style DNS server for tests: answers TXT queries on
//! 127.0.0.1 (UDP and TCP) from a zone file, so that the gate's DMARC
//! lookups and Mailman's (dnspython, for the oracle) ask the same data.
//!
//! Zone file lines: `NAME TYPE DATA`, `#` comments.
//! - `TXT "s1" "s2"...`: one TXT record of those character strings (repeat
//!   the line for more records, kept in file order);
//! - `CNAME target.`: the answer carries the CNAME and the target's TXT
//!   records, as a recursive server's would;
//! - `SERVFAIL`, `REFUSED`: that rcode;
//! - `TIMEOUT`: no answer at all.
//!
//! A name not in the file is NXDOMAIN. An answer over 512 bytes by UDP is
//! sent truncated (TC), in full over TCP.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use simple_dns::rdata::{RData, CNAME, TXT};
use simple_dns::{CharacterString, Name, Packet, PacketFlag, ResourceRecord, CLASS, RCODE};

#[derive(Debug, Clone)]
enum Entry {
    Txt(Vec<Vec<u8>>),
    Cname(String),
    Rcode(RCODE),
    Timeout,
}

/// The zone: (owner name as written, entry), in file order.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    entries: Vec<(String, Entry)>,
}

fn strings(data: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    let mut chars = data.bytes();
    while let Some(c) = chars.next() {
        match (c, cur.as_mut()) {
            (b'"', None) => cur = Some(Vec::new()),
            (b'"', Some(_)) => out.push(cur.take().unwrap_or_default()),
            (b'\\', Some(s)) => s.extend(chars.next()),
            (c, Some(s)) => s.push(c),
            _ => {}
        }
    }
    out
}

impl Zone {
    pub fn parse(text: &str) -> Zone {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let rest = rest.trim_start();
            let (kind, data) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let name = name.trim_end_matches('.').to_owned();
            let data = data.trim();
            let entry = match kind {
                "TXT" => Entry::Txt(strings(data)),
                "CNAME" => Entry::Cname(data.trim_end_matches('.').to_owned()),
                "SERVFAIL" => Entry::Rcode(RCODE::ServerFailure),
                "REFUSED" => Entry::Rcode(RCODE::Refused),
                "TIMEOUT" => Entry::Timeout,
                other => panic!("zone: unknown type {other:?} in {line:?}"),
            };
            entries.push((name, entry));
        }
        Zone { entries }
    }

    fn at(&self, name: &str) -> Vec<&(String, Entry)> {
        self.entries
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .collect()
    }

    /// The reply to `query`, or None for no reply. By UDP, an answer over
    /// 512 bytes is replaced by its question with TC set.
    fn reply(&self, query: &[u8], udp: bool) -> Option<Vec<u8>> {
        let q = Packet::parse(query).ok()?;
        let question = q.questions.first()?.clone();
        let qname = question.qname.to_string();
        let mut r = Packet::new_reply(q.id());
        r.set_flags(PacketFlag::RECURSION_AVAILABLE);
        if q.has_flags(PacketFlag::RECURSION_DESIRED) {
            r.set_flags(PacketFlag::RECURSION_DESIRED);
        }
        r.questions.push(question);
        let mut name = qname.clone();
        let mut found = false;
        for _ in 0..8 {
            let here = self.at(&name);
            if here.is_empty() {
                break;
            }
            found = true;
            let mut next = None;
            for (owner, entry) in here {
                match entry {
                    Entry::Timeout => return None,
                    Entry::Rcode(code) => {
                        *r.rcode_mut() = *code;
                        return r.build_bytes_vec().ok();
                    }
                    Entry::Txt(strings) => {
                        let mut txt = TXT::new();
                        for s in strings {
                            txt.add_char_string(CharacterString::new(s).ok()?.into_owned());
                        }
                        r.answers.push(ResourceRecord::new(
                            Name::new_unchecked(owner).into_owned(),
                            CLASS::IN,
                            300,
                            RData::TXT(txt.into_owned()),
                        ));
                    }
                    Entry::Cname(target) => {
                        r.answers.push(ResourceRecord::new(
                            Name::new_unchecked(owner).into_owned(),
                            CLASS::IN,
                            300,
                            RData::CNAME(CNAME(Name::new_unchecked(target).into_owned())),
                        ));
                        next = Some(target.clone());
                    }
                }
            }
            match next {
                Some(t) => name = t,
                None => break,
            }
        }
        if !found {
            *r.rcode_mut() = RCODE::NameError;
        }
        let bytes = r.build_bytes_vec().ok()?;
        if udp && bytes.len() > 512 {
            r.answers.clear();
            r.set_flags(PacketFlag::TRUNCATION);
            return r.build_bytes_vec().ok();
        }
        Some(bytes)
    }
}

/// A running server; stopped when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl DnsServer {
    pub fn start(zone: Zone, port: u16) -> DnsServer {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let udp = UdpSocket::bind(addr).unwrap_or_else(|e| panic!("bind UDP {addr}: {e}"));
        let tcp = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind TCP {addr}: {e}"));
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        tcp.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let zone = Arc::new(zone);
        let (z, s) = (zone.clone(), stop.clone());
        let udp_thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !s.load(Ordering::Relaxed) {
                let Ok((n, peer)) = udp.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(reply) = z.reply(&buf[..n], true) {
                    let _ = udp.send_to(&reply, peer);
                }
            }
        });
        let (z, s) = (zone, stop.clone());
        let tcp_thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok((mut conn, _)) = tcp.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut len = [0u8; 2];
                if conn.read_exact(&mut len).is_err() {
                    continue;
                }
                let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                if conn.read_exact(&mut q).is_err() {
                    continue;
                }
                if let Some(reply) = z.reply(&q, false) {
                    let mut msg = (reply.len() as u16).to_be_bytes().to_vec();
                    msg.extend(reply);
                    let _ = conn.write_all(&msg);
                }
            }
        });
        DnsServer {
            addr,
            stop,
            threads: vec![udp_thread, tcp_thread],
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
