//! Parse time of a 100,000-member `config.pck`, next to CPython's.
//!
//! ```text
//! cargo bench --bench parse_pickle
//! ```
//!
//! Environment:
//! * `PICKLE_BENCH_FILE`: the pickle to time (default: generated with
//!   `tools/py2pickle.py synth --members 100000 --bounces 500`);
//! * `PICKLE_BENCH_ITERS`: runs per reader (default 15).
//!
//! The readers run interleaved, in rounds of three runs each.
//!
//! Prints min/median milliseconds for this reader (parse of bytes already
//! in memory, and read + parse), Python 3's `pickle.load(f,
//! encoding='bytes')` and, when `PYENV_VERSION=2.7.18 python2.7` runs,
//! Python 2.7's `cPickle.load(f)`.

use mailman_gate::pickle::{parse, Limits};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const PY3: &str = r#"
import pickle, sys, time, types
path, n = sys.argv[1], int(sys.argv[2])
def stub(module, name):
    parts = module.split('.')
    for i in range(1, len(parts) + 1):
        m = '.'.join(parts[:i])
        if m not in sys.modules:
            sys.modules[m] = types.ModuleType(m)
    cls = type(name, (), {'__module__': module, '__init__': lambda self, *a: None})
    setattr(sys.modules[module], name, cls)
stub('Mailman.Bouncer', '_BounceInfo')
ts = []
for _ in range(n):
    t = time.perf_counter()
    with open(path, 'rb') as f:
        d = pickle.load(f, encoding='bytes')
    ts.append((time.perf_counter() - t) * 1000)
    del d
print(' '.join('%.3f' % x for x in ts))
"#;

const PY2: &str = r#"
import cPickle, sys, time, types
path, n = sys.argv[1], int(sys.argv[2])
mod = types.ModuleType('Mailman.Bouncer')
class _BounceInfo:
    pass
_BounceInfo.__module__ = 'Mailman.Bouncer'
mod._BounceInfo = _BounceInfo
sys.modules['Mailman'] = types.ModuleType('Mailman')
sys.modules['Mailman.Bouncer'] = mod
ts = []
for _ in range(n):
    t = time.time()
    f = open(path, 'rb')
    d = cPickle.load(f)
    f.close()
    ts.append((time.time() - t) * 1000)
    del d
print(' '.join('%.3f' % x for x in ts))
"#;

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2])
}

fn python_times(mut cmd: Command, script: &str, path: &Path, n: usize) -> Option<Vec<f64>> {
    let out = cmd
        .arg("-c")
        .arg(script)
        .arg(path)
        .arg(n.to_string())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("  ({})", String::from_utf8_lossy(&out.stderr).trim());
        return None;
    }
    let v: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    (!v.is_empty()).then_some(v)
}

fn main() {
    let iters: usize = std::env::var("PICKLE_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15)
        .max(1);
    let mut generated = None;
    let path = match std::env::var_os("PICKLE_BENCH_FILE") {
        Some(p) => PathBuf::from(p),
        None => {
            let dir =
                std::env::temp_dir().join(format!("mailman-gate-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let f = dir.join("config.pck");
            let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/py2pickle.py");
            let st = Command::new("python3")
                .arg(tool)
                .args(["synth", "--members", "100000", "--bounces", "500", "-o"])
                .arg(&f)
                .status()
                .expect(
                    "python3 is needed to generate the benchmark file (or set PICKLE_BENCH_FILE)",
                );
            assert!(st.success(), "py2pickle.py synth failed");
            generated = Some(dir);
            f
        }
    };
    let data = std::fs::read(&path).expect("read the pickle");
    println!(
        "file: {} ({} bytes), {iters} runs each",
        path.display(),
        data.len()
    );

    // Rounds interleave the readers so that they share the machine's load
    // (other builds, other benches); each round runs every reader
    // `per_round` times, CPython in one process per round.
    let per_round = 3.min(iters);
    let rounds = iters.div_ceil(per_round);
    let limits = Limits::default();
    let mut parse_ms = Vec::with_capacity(iters);
    let mut read_ms = Vec::with_capacity(iters);
    let mut py3_ms: Option<Vec<f64>> = Some(Vec::new());
    let mut py2_ms: Option<Vec<f64>> = Some(Vec::new());
    let mut nodes = 0;
    for _ in 0..rounds {
        for _ in 0..per_round {
            let input = data.clone();
            let t = Instant::now();
            let p = parse(input, &limits).expect("parse");
            parse_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            nodes = p.nodes().len();
            drop(p);
        }
        for _ in 0..per_round {
            let t = Instant::now();
            let p = parse(std::fs::read(&path).expect("read"), &limits).expect("parse");
            read_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            drop(p);
        }
        if let Some(v) = py3_ms.as_mut() {
            match python_times(Command::new("python3"), PY3, &path, per_round) {
                Some(t) => v.extend(t),
                None => py3_ms = None,
            }
        }
        if let Some(v) = py2_ms.as_mut() {
            let mut py2 = Command::new("python2.7");
            py2.env("PYENV_VERSION", "2.7.18");
            match python_times(py2, PY2, &path, per_round) {
                Some(t) => v.extend(t),
                None => py2_ms = None,
            }
        }
    }
    let (ours_min, ours_med) = stats(parse_ms);
    println!("mailman-gate parse (bytes in memory): min {ours_min:8.2} ms  median {ours_med:8.2} ms  ({nodes} nodes)");
    let (r_min, r_med) = stats(read_ms);
    println!("mailman-gate read + parse:            min {r_min:8.2} ms  median {r_med:8.2} ms");

    match py3_ms {
        Some(v) => {
            let (mn, md) = stats(v);
            println!(
                "python3 pickle.load(encoding=bytes):  min {mn:8.2} ms  median {md:8.2} ms  (ours {:.1}x faster by min, {:.1}x by median)",
                mn / r_min,
                md / r_med
            );
        }
        None => println!("python3: not available"),
    }
    match py2_ms {
        Some(v) => {
            let (mn, md) = stats(v);
            println!(
                "python2.7 cPickle.load:               min {mn:8.2} ms  median {md:8.2} ms  (ours {:.1}x faster by min, {:.1}x by median)",
                mn / r_min,
                md / r_med
            );
        }
        None => println!("python2.7 (PYENV_VERSION=2.7.18): not available"),
    }
    if let Some(dir) = generated {
        let _ = std::fs::remove_dir_all(dir);
    }
}
