//! Warm start with the real Exim daemon: the library loaded and the lists'
//! snapshots opened in the daemon before it forks, by
//! `smtp_accept_max_per_host = ${dlfunc{..}{mailman_gate_daemon}{..}}` and
//! by `LD_PRELOAD` + `MAILMAN_GATE_PRELOAD`. And the library's own
//! unwinder: a panic inside it is caught inside Exim.
//!
//! The proof that a connection used the daemon's cache: after the daemon
//! is up, the snapshots are made unreadable for Exim's user (which cannot
//! read `config.pck` either). A connection that had to open them itself
//! would get an error and accept (fail-open); one that inherited the cache
//! refuses the non-member's post with Mailman's 550. A daemon without warm
//! start is the control.
//!
//! Needs root, exim4 and swaks (skipped otherwise, a failure under CI=true).
//! Daemons listen on 127.0.0.1, ports 25500-25549.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::exim::{available, built_cdylib, recipe, root, run, tree, Tree, EXIM};

struct Env {
    dir: PathBuf,
    lib: PathBuf,
    gate_conf: PathBuf,
    snapshots: PathBuf,
}

fn setup(tag: &str) -> Env {
    let lists = [
        "tests/fixtures/lists/test",
        "tests/fixtures/lists/other",
        "tests/exim/lists/strict",
    ]
    .map(|l| root().join(l));
    let Tree { dir, lib } = tree(&format!("warm-{tag}"), &lists);
    let snapshots = dir.join("snapshots");
    let gate_conf = dir.join("mailman-gate.conf");
    std::fs::write(
        &gate_conf,
        format!(
            "lists_dir = {}\nsnapshot_dir = {}\n",
            dir.join("mailman/lists").display(),
            snapshots.display()
        ),
    )
    .unwrap();
    run(Command::new(env!("CARGO_BIN_EXE_mailman-gate"))
        .args(["export", "--config"])
        .arg(&gate_conf));
    assert!(snapshots.join("strict.cdb").is_file());
    run(Command::new("chmod").args(["-R", "a+rX"]).arg(&dir));
    // Exim's user can stat config.pck but not read it.
    for l in std::fs::read_dir(dir.join("mailman/lists")).unwrap() {
        for f in ["config.pck", "config.pck.last"] {
            let f = l.as_ref().unwrap().path().join(f);
            if f.exists() {
                run(Command::new("chmod").arg("0600").arg(&f));
            }
        }
    }
    Env {
        dir,
        lib,
        gate_conf,
        snapshots,
    }
}

/// The shipped recipe, with `extra` main options after its macros (before
/// its first `begin`).
fn exim_conf(e: &Env, name: &str, extra: &str) -> PathBuf {
    let conf = e.dir.join(name);
    let base = recipe(&e.dir, &e.lib, &e.gate_conf);
    let at = base.find("\nbegin ").expect("a begin line") + 1;
    std::fs::write(&conf, format!("{}{extra}{}", &base[..at], &base[at..])).unwrap();
    run(Command::new(EXIM).arg("-C").arg(&conf).arg("-bV"));
    conf
}

/// A daemon on 127.0.0.1:`port`, stopped on drop.
struct Daemon(i32);

impl Daemon {
    fn start(e: &Env, conf: &Path, port: u16, env: &[(&str, &str)]) -> Daemon {
        let pidfile = e.dir.join(format!("exim-{port}.pid"));
        let _ = std::fs::remove_file(&pidfile);
        let mut cmd = Command::new(EXIM);
        cmd.arg("-C")
            .arg(conf)
            .args(["-bd", "-oX", &format!("127.0.0.1.{port}"), "-oP"])
            .arg(&pidfile);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd);
        let pid = common::exim::daemon_pid(&pidfile);
        Daemon(pid)
    }

    fn maps(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/maps", self.0)).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: signalling the daemon this test started.
        unsafe { libc::kill(self.0, libc::SIGTERM) };
    }
}

fn swaks(port: u16, from: &str, to: &str) -> String {
    let o = Command::new("swaks")
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args(["--helo", "client.example", "--from", from, "--to", to])
        .args(["--header", &format!("From: {from}")])
        .args(["--header", "Subject: warm"])
        .args(["--body", "Hello list."])
        .args(["--timeout", "20"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn port(offset: u16) -> u16 {
    25500 + (std::process::id() % 10) as u16 * 5 + offset
}

/// Exim's user loses read access to every snapshot.
fn lock_snapshots(e: &Env) {
    for f in std::fs::read_dir(&e.snapshots).unwrap() {
        run(Command::new("chmod").arg("0600").arg(f.unwrap().path()));
    }
}

const NONMEMBER: &str = "out@elsewhere.example";
const STRICT: &str = "strict@example.com";

#[test]
fn the_daemon_expansion_warms_the_cache_its_children_inherit() {
    if !available() {
        return;
    }
    let e = setup("dlfunc");
    // The shipped line (conf.d/main/06_mailman-gate_warm), on the recipe's
    // own macros.
    let shipped =
        std::fs::read_to_string(root().join("examples/exim/conf.d/main/06_mailman-gate_warm"))
            .unwrap();
    let warm_line = shipped
        .lines()
        .find(|l| l.starts_with("smtp_accept_max_per_host = "))
        .expect("the warm start line")
        .to_owned()
        + "\n";
    assert!(warm_line.contains("{MAILMAN_GATE_LIB}{mailman_gate_daemon}{MAILMAN_GATE_CONFIG}"));
    let warm = exim_conf(&e, "exim-warm.conf", &warm_line);
    let plain = exim_conf(&e, "exim-plain.conf", "");
    let warm_d = Daemon::start(&e, &warm, port(0), &[]);
    let plain_d = Daemon::start(&e, &plain, port(1), &[]);
    let lib = e.lib.display().to_string();
    assert!(
        !warm_d.maps().contains(&lib),
        "nothing loaded before a call"
    );

    // Snapshots readable: both refuse the non-member's post.
    for p in [port(0), port(1)] {
        let t = swaks(p, NONMEMBER, STRICT);
        assert!(t.contains("<** 550"), "{p}: {t}");
    }
    assert!(
        warm_d.maps().contains(&lib),
        "the daemon loaded the library"
    );
    assert!(!plain_d.maps().contains(&lib), "only its children did");

    lock_snapshots(&e);
    // The warm daemon's children decide from the inherited cache.
    let t = swaks(port(0), NONMEMBER, STRICT);
    assert!(t.contains("<** 550"), "warm: {t}");
    let t = swaks(port(0), "alice@example.com", "test@example.com");
    assert!(t.contains("<-  250 OK id="), "warm, member: {t}");
    // The control cannot read anything: fail-open.
    let t = swaks(port(1), NONMEMBER, STRICT);
    assert!(t.contains("<-  250 OK id="), "control: {t}");
    let log = std::fs::read_to_string(e.dir.join("log/mainlog")).unwrap();
    assert!(log.contains("(accepting)"), "{log}");
    drop((warm_d, plain_d));
    let _ = std::fs::remove_dir_all(&e.dir);
}

#[test]
fn a_preloaded_library_warms_the_daemon_it_is_armed_for() {
    if !available() {
        return;
    }
    let e = setup("preload");
    let plain = exim_conf(&e, "exim-plain.conf", "");
    let lib = e.lib.display().to_string();
    let conf = e.gate_conf.display().to_string();
    let d = Daemon::start(
        &e,
        &plain,
        port(2),
        &[("LD_PRELOAD", &lib), ("MAILMAN_GATE_PRELOAD", &conf)],
    );
    assert!(d.maps().contains(&lib), "preloaded");
    lock_snapshots(&e);
    let t = swaks(port(2), NONMEMBER, STRICT);
    assert!(t.contains("<** 550"), "preloaded and warm: {t}");

    // Preloaded but not armed, or armed in a process that is no daemon:
    // nothing happens (exim -bV still works).
    let o = Command::new(EXIM)
        .arg("-C")
        .arg(&plain)
        .arg("-bV")
        .env("LD_PRELOAD", &lib)
        .env("MAILMAN_GATE_PRELOAD", &conf)
        .output()
        .unwrap();
    assert!(o.status.success());
    drop(d);
    let _ = std::fs::remove_dir_all(&e.dir);
}

#[test]
fn a_panic_inside_the_library_is_caught_inside_exim() {
    if !available() {
        return;
    }
    let lib = built_cdylib();
    let o = run(Command::new(EXIM).arg("-be").arg(format!(
        "${{dlfunc{{{}}}{{mailman_gate_selftest}}}}",
        lib.display()
    )));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "ok");
    // The unwinder is the library's own: no libgcc_s to load.
    if let Ok(o) = Command::new("readelf").arg("-d").arg(&lib).output() {
        let dynamic = String::from_utf8_lossy(&o.stdout);
        assert!(dynamic.contains("libc.so.6"), "{dynamic}");
        assert!(!dynamic.contains("libgcc_s"), "{dynamic}");
    }
}
