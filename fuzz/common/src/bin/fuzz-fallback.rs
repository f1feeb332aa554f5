//! Stable-toolchain fuzz driver: runs each target on its corpus, then on
//! deterministic mutations of it (bit flips, byte sets, truncations,
//! deletions, duplications, interesting values, splices of two inputs)
//! for a bounded time. No coverage feedback: a fallback for machines
//! without nightly; `cargo fuzz` is the real thing.
//!
//! usage: fuzz-fallback SECONDS_PER_TARGET [TARGET...] [--seed N]
//!        fuzz-fallback replay TARGET FILE...
//!        fuzz-fallback seed-snapshots   (rewrites corpus/snapshot/*.snap)
//!
//! Corpora: fuzz/corpus/<target>/. A panicking input is written to
//! fuzz/artifacts/<target>/fallback-crash-<n> and the exit status is 1.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mailman_gate_fuzz_common::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: [&[u8]; 12] = [
    b"\0",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\xff\xff\xff\x7f",
    b"\0\0\0\x80",
    b"\n\n",
    b"\r\n",
    b"=?utf-8?b?",
    b"@",
    b"(",
    b"\xc3(",
];

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut d = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = d.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                d[i] = rng.next() as u8;
            }
            2 => d.truncate(rng.below(len + 1)),
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                d.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(256)).min(len);
                let chunk = d[a..b].to_vec();
                let at = rng.below(len + 1);
                for _ in 0..1 + rng.below(8) {
                    d.splice(at..at, chunk.iter().copied());
                }
            }
            5 => {
                let v = INTERESTING[rng.below(INTERESTING.len())];
                let at = rng.below(len + 1);
                if rng.below(2) == 0 || at + v.len() > len {
                    d.splice(at..at, v.iter().copied());
                } else {
                    d[at..at + v.len()].copy_from_slice(v);
                }
            }
            6 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                d.truncate(cut);
                d.extend_from_slice(&other[from..]);
            }
            _ if len > 0 => {
                // A little-endian or ASCII number somewhere.
                let i = rng.below(len);
                d[i] = [b'0', b'9', b'-', 0, 0xff, 1][rng.below(6)];
            }
            _ => d.push(rng.next() as u8),
        }
    }
    d
}

fn load_corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut c: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if c.is_empty() {
        c.push(Vec::new());
    }
    c
}

/// Run one input; Err(message) on a panic.
fn run_one(f: fn(&[u8]), data: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| f(data))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

fn save_crash(target: &str, n: usize, data: &[u8]) -> PathBuf {
    let dir = fuzz_dir().join("artifacts").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("fallback-crash-{n}"));
    std::fs::write(&p, data).unwrap();
    p
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("seed-snapshots") {
        // Snapshots of the fixture lists, for the snapshot corpus.
        let dir = fuzz_dir().join("corpus/snapshot");
        std::fs::create_dir_all(&dir).unwrap();
        let store = mailman_gate::store::Store::new(
            mailman_gate_fuzz_common::fixture_lists(),
            mailman_gate::store::Layout::Standard,
            Default::default(),
        );
        for list in ["test", "other", "foo_example.com"] {
            let l = store.load(list).unwrap();
            let p = dir.join(format!("{list}.snap"));
            mailman_gate::snapshot::write_snapshot(&l.policy, l.pck_id, &p).unwrap();
        }
        return;
    }
    if args.first().map(String::as_str) == Some("replay") {
        let target = args.get(1).expect("replay TARGET FILE...");
        let (_, f) = TARGETS
            .iter()
            .find(|(n, _)| n == target)
            .expect("known target");
        let mut failed = false;
        for file in &args[2..] {
            let data = std::fs::read(file).unwrap();
            if let Err(m) = run_one(*f, &data) {
                println!("{file}: panic: {m}");
                failed = true;
            }
        }
        std::process::exit(failed as i32);
    }
    let secs: f64 = args
        .first()
        .and_then(|s| s.parse().ok())
        .expect("usage: fuzz-fallback SECONDS_PER_TARGET [TARGET...] [--seed N]");
    let mut seed = 0x6d61_696c_6d61_6e21u64;
    let mut names = Vec::new();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        if a == "--seed" {
            seed = it.next().and_then(|s| s.parse().ok()).expect("--seed N");
        } else {
            names.push(a.clone());
        }
    }
    // Quiet panics: they are reported below with their input.
    std::panic::set_hook(Box::new(|_| {}));
    let mut crashes = 0;
    for (name, f) in TARGETS {
        if !names.is_empty() && !names.iter().any(|n| n == name) {
            continue;
        }
        let corpus = load_corpus(name);
        let mut rng = Rng(seed ^ name.len() as u64 * 0x9e37_79b9);
        let started = Instant::now();
        let mut execs = 0u64;
        let mut slowest = Duration::ZERO;
        let mut found = 0;
        let mut check = |data: &[u8], execs: &mut u64, found: &mut usize| {
            let t = Instant::now();
            let r = run_one(f, data);
            slowest = slowest.max(t.elapsed());
            *execs += 1;
            if let Err(m) = r {
                let p = save_crash(name, crashes + *found, data);
                println!("{name}: panic: {m} (input {})", p.display());
                *found += 1;
            }
        };
        for c in &corpus {
            check(c, &mut execs, &mut found);
        }
        let budget = Duration::from_secs_f64(secs);
        while started.elapsed() < budget && found < 10 {
            let base = &corpus[rng.below(corpus.len())];
            let m = mutate(&mut rng, base, &corpus);
            check(&m, &mut execs, &mut found);
        }
        crashes += found;
        println!(
            "{name}: {execs} execs in {:.1}s ({} corpus inputs), slowest input {:.1} ms, {found} crashes",
            started.elapsed().as_secs_f64(),
            corpus.len(),
            slowest.as_secs_f64() * 1e3
        );
    }
    std::process::exit((crashes > 0) as i32);
}
