//! Cross-check of the pickle reader against CPython's unpickler.
//!
//! Every fixture, the edge cases of `tests/pickle/edge.json`, and synthetic
//! lists of 10, 1,000 and 100,000 members (both memo styles, both dialects,
//! protocols 0-2 for the smaller ones), is loaded by `python3` through
//! `tools/pickle_canon.py` and by [`parse`]; both render the same canonical
//! JSON (see `Pickle::to_canonical_json`) and must agree byte for byte.
//!
//! Without `python3` the test prints a note and passes, unless `CI=true`.

use mailman_gate::pickle::{parse, Limits};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have_python() -> bool {
    let ok = Command::new("python3")
        .arg("-c")
        .arg("import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python3 (3.8+) is required for the pickle cross-check when CI=true");
        }
        eprintln!("note: python3 not found; skipping the CPython cross-check");
    }
    ok
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn py(tool: &str) -> Command {
    let mut c = Command::new("python3");
    c.arg(root().join("tools").join(tool));
    c
}

/// One job: the commands making a set of pickle files, then their
/// CPython renderings.
struct Job {
    make: Vec<Command>,
    files: Vec<PathBuf>,
}

fn compare(path: &Path) -> String {
    let data = std::fs::read(path).unwrap();
    let want = std::fs::read_to_string(format!("{}.canon.json", path.display())).unwrap();
    let t = Instant::now();
    let p = parse(data, &Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let got = p.to_canonical_json();
    let ms = t.elapsed().as_millis();
    if got != want {
        let at = got
            .bytes()
            .zip(want.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        let lo = at.saturating_sub(200);
        let ctx = |s: &str| s.get(lo..(at + 200).min(s.len())).unwrap_or("").to_owned();
        panic!(
            "{}: canonical JSON differs at byte {at} (ours {} bytes, CPython {} bytes)\n ours: …{}…\n   py: …{}…",
            path.display(),
            got.len(),
            want.len(),
            ctx(&got),
            ctx(&want)
        );
    }
    format!(
        "{} ({} bytes, {ms} ms)",
        path.file_name().unwrap().to_string_lossy(),
        want.len()
    )
}

#[test]
fn matches_cpython() {
    if !have_python() {
        return;
    }
    let start = Instant::now();
    let dir =
        std::env::temp_dir().join(format!("mailman-gate-pickle-xcheck-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let mut jobs: Vec<Job> = Vec::new();
    // Synthetic lists; the biggest first so that they overlap the rest.
    for &n in &[100_000usize, 1_000, 10] {
        let bounces = (n / 2).min(500);
        let protocols: &[u8] = if n >= 100_000 { &[1] } else { &[0, 1, 2] };
        for memo in ["py27", "py26"] {
            for &proto in protocols {
                let f = dir.join(format!("synth-{n}-{memo}-p{proto}.pck"));
                let mut make = Vec::new();
                let mut c = py("py2pickle.py");
                c.args([
                    "synth",
                    "--members",
                    &n.to_string(),
                    "--bounces",
                    &bounces.to_string(),
                ])
                .args(["--memo", memo, "--protocol", &proto.to_string(), "-o"])
                .arg(&f);
                make.push(c);
                let mut files = vec![f.clone()];
                if proto == 1 {
                    let f3 = dir.join(format!("synth-{n}-{memo}-py3.pck"));
                    let mut c = py("pickle_py3dialect.py");
                    c.arg(&f).arg(&f3);
                    make.push(c);
                    files.push(f3);
                }
                jobs.push(Job { make, files });
            }
        }
    }
    // Edge cases (tests/pickle/edge.json): escapes, surrogates, longs,
    // floats, sharing, odd keys, old- and new-style instances, batching.
    let edge = root().join("tests/pickle/edge.json");
    for memo in ["py27", "py26"] {
        for proto in 0..=2u8 {
            let f = dir.join(format!("edge-{memo}-p{proto}.pck"));
            let mut c = py("py2pickle.py");
            c.arg("build")
                .arg(&edge)
                .args(["--memo", memo, "--protocol", &proto.to_string(), "-o"])
                .arg(&f);
            let mut make = vec![c];
            let mut files = vec![f.clone()];
            if proto == 1 {
                let f3 = dir.join(format!("edge-{memo}-py3.pck"));
                let mut c = py("pickle_py3dialect.py");
                c.arg(&f).arg(&f3);
                make.push(c);
                files.push(f3);
            }
            jobs.push(Job { make, files });
        }
    }
    // The real Mailman files, and their Python 3 dialect.
    let lists = root().join("tests/fixtures/lists");
    for name in ["test", "other", "foo_example.com"] {
        for file in ["config.pck", "config.pck.last"] {
            let src = lists.join(name).join(file);
            if !src.exists() {
                continue;
            }
            let copy = dir.join(format!("{name}-{file}"));
            std::fs::copy(&src, &copy).unwrap();
            let f3 = dir.join(format!("{name}-{file}-py3"));
            let mut c = py("pickle_py3dialect.py");
            c.arg(&copy).arg(&f3);
            jobs.push(Job {
                make: vec![c],
                files: vec![copy, f3],
            });
        }
    }

    let total = jobs.len();
    let queue = Arc::new(Mutex::new(jobs.into_iter()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let queue = Arc::clone(&queue);
            let results = Arc::clone(&results);
            std::thread::spawn(move || loop {
                let job = queue.lock().unwrap().next();
                let Some(mut job) = job else { break };
                for c in &mut job.make {
                    run(c);
                }
                let mut c = py("pickle_canon.py");
                c.args(&job.files);
                run(&mut c);
                for f in &job.files {
                    let line = compare(f);
                    results.lock().unwrap().push(line);
                }
            })
        })
        .collect();
    let mut failed = Vec::new();
    for w in workers {
        if let Err(e) = w.join() {
            failed.push(e);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(e) = failed.into_iter().next() {
        std::panic::resume_unwind(e);
    }
    let results = results.lock().unwrap();
    for r in results.iter() {
        eprintln!("agrees with CPython: {r}");
    }
    assert!(
        results.len() >= total,
        "every job must have produced its files"
    );
    eprintln!(
        "{} files cross-checked in {:.1} s",
        results.len(),
        start.elapsed().as_secs_f64()
    );
}
