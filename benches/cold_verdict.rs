//! Cold verdicts: the first verdict in a new process, as each SMTP
//! connection pays it (Exim forks a process per connection), on a
//! 100,000-member list; next to the old approach, a process per check that
//! starts Python and unpickles `config.pck` (`benches/seed_baseline.py`).
//!
//! ```text
//! cargo bench --bench cold_verdict
//! ```
//!
//! The bench re-executes itself (`COLD_VERDICT_CHILD` set) once per run.
//! The child reads the message into memory, then times from just before
//! `Gate::open` (reading the configuration file, `Gate::new`) through
//! `Gate::check` of one member's post to the answer, and prints that
//! duration and its peak RSS (`VmHWM`). Process start is not in it; the
//! parent also times each child from spawn to exit, for context.
//!
//! Modes:
//! * `config.pck`: parse the list's 16 MiB `config.pck`;
//! * `snapshot`: `snapshot_dir` set, the snapshot written beforehand by
//!   `mailman_gate::export::export`;
//! * two stages of the first, each in a new process too: reading and
//!   parsing `config.pck` only, and that plus building the list's policy;
//!   the bench prints the whole check's time over the parse's.
//!
//! The list's files are in the page cache (the parent made them, and
//! every mode runs once untimed first): "cold" is a new process, not a
//! cold disk.
//!
//! Baseline: `seed_baseline.py CONFIG_PCK SENDER` under
//! `PYENV_VERSION=2.7.18 python2.7` (and the same interpreter without the
//! pyenv shim) and `python3`, whole process, spawn to exit.
//!
//! Environment: `COLD_BENCH_RUNS` (default 40) runs per mode,
//! `COLD_BENCH_BASELINE_RUNS` (default 10) runs per interpreter.

#[path = "post.rs"]
mod post;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use mailman_gate::address::Kind;
use mailman_gate::gate::Gate;
use mailman_gate::pickle::{parse, Limits, Pickle};
use mailman_gate::policy::ListPolicy;

const CHILD: &str = "COLD_VERDICT_CHILD";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// In the child: one cold verdict; prints `ns action vmhwm_kib`.
///
/// `COLD_VERDICT_STAGE` stops early, to show where a cold check from
/// `config.pck` spends its time: `parse` (read and parse `config.pck`),
/// `policy` (and build the list's policy from it).
fn child() {
    let conf = PathBuf::from(std::env::var_os("COLD_VERDICT_CONF").expect("conf"));
    let sender = std::env::var("COLD_VERDICT_SENDER").expect("sender");
    let raw = std::fs::read(std::env::var_os("COLD_VERDICT_MSG").expect("msg")).expect("msg");
    let stage = std::env::var("COLD_VERDICT_STAGE").unwrap_or_default();
    let pck = std::env::var_os("COLD_VERDICT_PCK").map(PathBuf::from);
    let t = Instant::now();
    // What each stage built is dropped after the clock stops, as the
    // gate is in the full check.
    let mut kept: (Option<Pickle>, Option<ListPolicy>, Option<Gate>) = (None, None, None);
    let action = match (stage.as_str(), pck) {
        ("parse" | "policy", Some(pck)) => {
            let data = std::fs::read(&pck).expect("read config.pck");
            let p = parse(data, &Limits::default()).expect("parse");
            if stage == "policy" {
                let policy = ListPolicy::from_pickle("biglist", &p).expect("policy");
                assert!(policy.member(&sender.to_lowercase()).is_some());
                kept.1 = Some(policy);
            }
            kept.0 = Some(p);
            "accept"
        }
        _ => {
            let gate = Gate::open(Some(&conf)).expect("config");
            let v = gate
                .check_with_trace("biglist", Kind::Post, Some(&sender), &raw, false)
                .expect("check");
            kept.2 = Some(gate);
            v.action.as_str()
        }
    };
    let ns = t.elapsed().as_nanos();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{ns} {action} {}", vm_hwm_kib()).unwrap();
    drop(kept);
}

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2])
}

struct Runs {
    inner_us: Vec<f64>,
    whole_ms: Vec<f64>,
    hwm_kib: Vec<f64>,
}

/// Runs `n` children per mode, the modes interleaved so that they share
/// the machine's load; one untimed round first (page cache, loader caches).
fn run_children(
    modes: &[(&Path, &str)],
    pck: &Path,
    sender: &str,
    msg: &Path,
    n: usize,
) -> Vec<Runs> {
    let exe = std::env::current_exe().expect("current_exe");
    let mut all: Vec<Runs> = modes
        .iter()
        .map(|_| Runs {
            inner_us: Vec::new(),
            whole_ms: Vec::new(),
            hwm_kib: Vec::new(),
        })
        .collect();
    for i in 0..=n {
        for (&(conf, stage), runs) in modes.iter().zip(all.iter_mut()) {
            let t = Instant::now();
            let out = Command::new(&exe)
                .env(CHILD, "1")
                .env("COLD_VERDICT_CONF", conf)
                .env("COLD_VERDICT_SENDER", sender)
                .env("COLD_VERDICT_MSG", msg)
                .env("COLD_VERDICT_STAGE", stage)
                .env("COLD_VERDICT_PCK", pck)
                .stderr(Stdio::inherit())
                .output()
                .expect("spawn child");
            let whole = t.elapsed().as_secs_f64() * 1000.0;
            assert!(out.status.success(), "child failed");
            let text = String::from_utf8_lossy(&out.stdout);
            let f: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(f.get(1), Some(&"accept"), "child answered {text:?}");
            if i == 0 {
                continue;
            }
            runs.inner_us.push(f[0].parse::<f64>().unwrap() / 1000.0);
            runs.whole_ms.push(whole);
            runs.hwm_kib.push(f[2].parse().unwrap());
        }
    }
    all
}

fn baseline(mut cmd: Command, pck: &Path, sender: &str, n: usize) -> Option<Vec<f64>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/seed_baseline.py");
    cmd.arg(script).arg(pck).arg(sender);
    let mut v = Vec::new();
    for i in 0..=n {
        let t = Instant::now();
        let out = cmd.output().ok()?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if !out.status.success() || out.stdout != b"member\n" {
            eprintln!(
                "  ({:?}: {})",
                cmd.get_program(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        if i > 0 {
            v.push(ms);
        }
    }
    Some(v)
}

fn main() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let runs = env_usize("COLD_BENCH_RUNS", 40);
    let base_runs = env_usize("COLD_BENCH_BASELINE_RUNS", 10);
    let dir = std::env::temp_dir().join(format!("mailman-gate-cold-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lists = dir.join("lists");
    std::fs::create_dir_all(lists.join("biglist")).expect("temp dir");
    let pck = lists.join("biglist/config.pck");
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/py2pickle.py");
    let st = Command::new("python3")
        .arg(tool)
        .args(["synth", "--members", "100000", "-o"])
        .arg(&pck)
        .stdout(Stdio::null())
        .status()
        .expect("python3 is needed to generate the benchmark list");
    assert!(st.success(), "py2pickle.py synth failed");

    let snapshots = dir.join("snapshots");
    let conf_pck = dir.join("gate-pck.conf");
    let conf_snap = dir.join("gate-snapshot.conf");
    std::fs::write(&conf_pck, format!("lists_dir = {}\n", lists.display())).unwrap();
    std::fs::write(
        &conf_snap,
        format!(
            "lists_dir = {}\nsnapshot_dir = {}\n",
            lists.display(),
            snapshots.display()
        ),
    )
    .unwrap();
    let g = Gate::open(Some(&conf_snap)).expect("config");
    let rep = mailman_gate::export::export(&g.store, None, true);
    assert!(rep.failed.is_empty(), "export: {:?}", rep.failed);
    let loaded = g.store.load_from_config("biglist").expect("load");
    let entries = loaded.policy.members.entries();
    let member = entries[entries.len() / 2].0.clone();
    drop((loaded, g));
    let msg = dir.join("post.eml");
    std::fs::write(&msg, post::post(&member, "biglist@lists.example.org", 1)).unwrap();
    let pck_len = std::fs::metadata(&pck).unwrap().len();
    let snap_len = std::fs::metadata(snapshots.join("biglist.cdb"))
        .unwrap()
        .len();
    println!(
        "list: {} members; config.pck {:.1} MiB, snapshot {:.1} MiB; {runs} runs per mode, \
         {base_runs} per baseline interpreter\n",
        entries.len(),
        pck_len as f64 / 1048576.0,
        snap_len as f64 / 1048576.0
    );
    println!(
        "{:<44} {:>10} {:>10} {:>13} {:>13} {:>9}",
        "cold verdict, new process",
        "min µs",
        "median µs",
        "proc min ms",
        "proc med ms",
        "VmHWM MiB"
    );
    let modes = [
        ("from config.pck (parse)", conf_pck.as_path(), ""),
        ("from snapshot (snapshot_dir)", conf_snap.as_path(), ""),
        (
            "  config.pck: read + parse only",
            conf_pck.as_path(),
            "parse",
        ),
        (
            "  config.pck: read + parse + policy",
            conf_pck.as_path(),
            "policy",
        ),
    ];
    let args: Vec<(&Path, &str)> = modes.iter().map(|&(_, c, s)| (c, s)).collect();
    let mut medians = Vec::new();
    for ((name, _, _), r) in modes
        .iter()
        .zip(run_children(&args, &pck, &member, &msg, runs))
    {
        let (imin, imed) = stats(r.inner_us);
        let (wmin, wmed) = stats(r.whole_ms);
        let (_, hwm) = stats(r.hwm_kib);
        println!(
            "{name:<44} {imin:>10.1} {imed:>10.1} {wmin:>13.2} {wmed:>13.2} {:>9.1}",
            hwm / 1024.0
        );
        medians.push((imed, wmed, imin));
    }
    let (cold, parse_only) = (medians[0], medians[2]);
    println!(
        "\ncold check from config.pck / its read + parse: {:.2}x by median, {:.2}x by min",
        cold.0 / parse_only.0,
        cold.2 / parse_only.2
    );
    let (snap_inner_us, snap_whole_ms, _) = medians[1];

    println!(
        "\n{:<44} {:>10} {:>10}",
        "baseline: process per check (seed_baseline.py)", "min ms", "median ms"
    );
    let mut py2 = Command::new("python2.7");
    py2.env("PYENV_VERSION", "2.7.18");
    let py2_direct = Command::new("pyenv")
        .args(["which", "python2.7"])
        .env("PYENV_VERSION", "2.7.18")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let mut interpreters: Vec<(String, Command)> =
        vec![("PYENV_VERSION=2.7.18 python2.7 (shim)".into(), py2)];
    if let Some(p) = py2_direct {
        interpreters.push((format!("{p} (no shim)"), Command::new(p)));
    }
    interpreters.push(("python3".into(), Command::new("python3")));
    for (name, cmd) in interpreters {
        match baseline(cmd, &pck, &member, base_runs) {
            Some(v) => {
                let (mn, md) = stats(v);
                println!(
                    "{name:<44} {mn:>10.1} {md:>10.1}   median {:>7.0}x our cold verdict, \
                     {:>5.1}x our whole process (snapshot)",
                    md * 1000.0 / snap_inner_us,
                    md / snap_whole_ms
                );
            }
            None => println!("{name:<44} not available"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
