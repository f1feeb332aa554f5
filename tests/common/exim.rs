//! What the Exim end-to-end tests share: whether a real Exim can run here,
//! the shipped recipe with its paths substituted, and one `exim -bh`
//! session.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const EXIM: &str = "/usr/sbin/exim4";

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the environment can run these tests; panics under CI=true.
pub fn available() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut missing = Vec::new();
    if !Path::new(EXIM).exists() {
        missing.push("exim4 (apt-get install exim4-daemon-heavy)".to_owned());
    }
    if Command::new("swaks").arg("--version").output().is_err() {
        missing.push("swaks".to_owned());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root".to_owned());
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("Exim end-to-end tests need: {}", missing.join(", "));
    assert!(!ci, "{msg}");
    eprintln!("skipped: {msg}");
    false
}

pub fn run(cmd: &mut Command) -> std::process::Output {
    let o = cmd.output().expect("command runs");
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

pub fn copy_dir(from: &Path, to: &Path) {
    run(Command::new("cp").arg("-a").arg(from).arg(to));
}

/// Recipe text with the path macros (and only those) and the
/// `mailman_domains` list set for a test tree: Mailman's home
/// `env_dir/mailman`, the wrapper `env_dir/record.sh`, Exim's user as
/// Mailman's. `lib: None` keeps `MAILMAN_GATE_LIB` as shipped.
pub fn set_macros(text: &str, env_dir: &Path, lib: Option<&Path>, gate_conf: &Path) -> String {
    let mut subst = vec![
        ("MAILMAN_GATE_CONFIG", gate_conf.display().to_string()),
        (
            "MAILMAN_HOME",
            env_dir.join("mailman").display().to_string(),
        ),
        (
            "MAILMAN_WRAP",
            env_dir.join("record.sh").display().to_string(),
        ),
        ("MAILMAN_USER", "Debian-exim".to_owned()),
        ("MAILMAN_GROUP", "Debian-exim".to_owned()),
    ];
    if let Some(lib) = lib {
        subst.push(("MAILMAN_GATE_LIB", lib.display().to_string()));
    }
    let mut out = String::new();
    let mut seen = 0;
    for line in text.lines() {
        let mut line = line.to_owned();
        for (m, v) in &subst {
            if line.starts_with(&format!("{m} ")) && line.contains('=') {
                line = format!("{m} = {v}");
                seen += 1;
            }
        }
        if line.starts_with("domainlist mailman_domains") {
            line = "domainlist mailman_domains = example.com : lists.example".into();
            seen += 1;
        }
        out.push_str(&line);
        out.push('\n');
    }
    assert_eq!(
        seen,
        subst.len() + 1,
        "every path macro of the recipe was substituted"
    );
    out
}

/// The shipped exim.conf with the paths (and only the paths) replaced.
pub fn recipe(env_dir: &Path, lib: &Path, gate_conf: &Path) -> String {
    let text = std::fs::read_to_string(root().join("examples/exim/exim.conf")).unwrap();
    let out = set_macros(&text, env_dir, Some(lib), gate_conf);
    // Where this test keeps Exim's files, and test-only settings.
    format!(
        "primary_hostname = mx.test.example\n\
         spool_directory = {d}/spool\n\
         log_file_path = {d}/log/%slog\n\
         tls_advertise_hosts =\n\
         deliver_drop_privilege = true\n\
         {out}",
        d = env_dir.display()
    )
}

/// Run one `exim -bh 127.0.0.1` session; returns (SMTP replies, log lines).
pub fn bh(conf: &Path, m: &Msg) -> (Vec<String>, Vec<String>) {
    let mut cmd = Command::new(EXIM);
    cmd.arg("-C").arg(conf).args(["-bh", "127.0.0.1"]);
    bh_with(cmd, m)
}

/// Run one SMTP session through `cmd` (an `exim -bh HOST` command line,
/// perhaps wrapped); returns (SMTP replies, log lines).
pub fn bh_with(mut cmd: Command, m: &Msg) -> (Vec<String>, Vec<String>) {
    let mut s = format!("EHLO client.example\r\nMAIL FROM:<{}>\r\n", m.from);
    for t in m.to {
        s.push_str(&format!("RCPT TO:<{t}>\r\n"));
    }
    s.push_str("DATA\r\n");
    s.push_str(&m.headers.replace('\n', "\r\n"));
    s.push_str("\r\n");
    s.push_str(&m.body.replace('\n', "\r\n"));
    s.push_str(".\r\nQUIT\r\n");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let replies = out
        .lines()
        .filter(|l| l.len() >= 3 && l.as_bytes()[..3].iter().all(u8::is_ascii_digit))
        .map(str::to_owned)
        .collect();
    let logs = err
        .lines()
        .chain(out.lines())
        .filter(|l| l.starts_with("LOG: "))
        .map(str::to_owned)
        .collect();
    (replies, logs)
}

/// One SMTP envelope and message.
pub struct Msg<'a> {
    pub from: &'a str,
    pub to: &'a [&'a str],
    pub headers: String,
    pub body: &'a str,
}

pub fn msg<'a>(from: &'a str, to: &'a [&'a str], header_from: &str, subject: &str) -> Msg<'a> {
    Msg {
        from,
        to,
        headers: format!(
            "From: {header_from}\nTo: {}\nSubject: {subject}\nMessage-ID: <{}.{subject}@client.example>\n",
            to[0],
            std::process::id()
        )
        .replace(' ', " "),
        body: "Hello list.\n",
    }
}

/// The final reply code and text of the DATA phase (the reply after 354),
/// or of the last RCPT when DATA was never reached.
pub fn data_reply(replies: &[String]) -> String {
    let pos = replies.iter().position(|r| r.starts_with("354"));
    let tail: Vec<&String> = match pos {
        Some(p) => replies[p + 1..].iter().collect(),
        None => replies.iter().collect(),
    };
    // Everything up to the 221 closing line.
    tail.into_iter()
        .take_while(|r| !r.starts_with("221"))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The reply text of `data_reply` without codes, lines joined by spaces.
pub fn text(reply: &str) -> String {
    reply
        .lines()
        .map(|l| l.get(4..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn rcpt_replies(replies: &[String], n: usize) -> Vec<String> {
    // EHLO's multi-line reply, MAIL, then n RCPT replies.
    let after_ehlo = replies
        .iter()
        .position(|r| r.starts_with("250 ") && r.contains("Hello") || r.starts_with("250 HELP"))
        .expect("EHLO reply");
    replies[after_ehlo + 2..after_ehlo + 2 + n].to_vec()
}

pub fn show(r: &[String], l: &[String]) -> String {
    format!("replies:\n{}\nlog:\n{}", r.join("\n"), l.join("\n"))
}

/// The cdylib of this test's build profile, brought up to date; its path.
pub fn built_cdylib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut b = Command::new(cargo);
    b.current_dir(root()).args(["build", "--quiet", "--lib"]);
    if target.file_name().is_some_and(|n| n == "release") {
        b.arg("--release");
    }
    assert!(b.status().unwrap().success());
    target.join("libmailman_gate.so")
}

/// The posts every Exim recipe is driven through with a daemon and swaks:
/// (to, from, subject, accepted at SMTP, reaches Mailman).
pub const DAEMON_CASES: [(&str, &str, &str, bool, bool); 7] = [
    (
        "test@example.com",
        "alice@example.com",
        "d-member",
        true,
        true,
    ),
    (
        "strict@example.com",
        "out@elsewhere.example",
        "d-nonmember",
        false,
        false,
    ),
    (
        "strict@example.com",
        "bob@example.com",
        "d-moderated",
        false,
        false,
    ),
    (
        "test@example.com",
        "out@elsewhere.example",
        "d-held",
        true,
        true,
    ),
    (
        "test@example.com",
        "discard@foo.org",
        "d-discard",
        true,
        false,
    ),
    (
        "strict-request@example.com",
        "out@elsewhere.example",
        "d-request",
        true,
        true,
    ),
    (
        "nosuchlist@example.com",
        "alice@example.com",
        "d-unknown",
        false,
        false,
    ),
];

/// The pid an Exim daemon started with `-oP pidfile` writes, waiting up
/// to 10 s for the file.
pub fn daemon_pid(pidfile: &Path) -> i32 {
    let start = std::time::Instant::now();
    while !pidfile.exists() && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::fs::read_to_string(pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A test's temp tree for Exim: `spool`, `log` and `out` owned by Exim's
/// user, copies of `lists` (list directories) in `mailman/lists`, the built
/// library as `lib`, the recorder `record.sh`; everything readable by all.
pub struct Tree {
    pub dir: PathBuf,
    pub lib: PathBuf,
}

/// Makes the tree `mailman-gate-<name>-<pid>` in the temp directory,
/// replacing one left by an earlier run of the same process id.
pub fn tree<P: AsRef<Path>>(name: &str, lists: &[P]) -> Tree {
    let built = built_cdylib();
    let dir = std::env::temp_dir().join(format!("mailman-gate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["spool", "log", "out", "mailman/lists"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let lib = dir.join("libmailman_gate.so");
    std::fs::copy(&built, &lib).unwrap();
    for l in lists {
        copy_dir(l.as_ref(), &dir.join("mailman/lists"));
    }
    std::fs::copy(root().join("tests/exim/record.sh"), dir.join("record.sh")).unwrap();
    open_to_exim(&dir);
    Tree { dir, lib }
}

/// `dir` readable by all, its `spool`, `log` and `out` owned by Exim's
/// user.
pub fn open_to_exim(dir: &Path) {
    run(Command::new("chmod").args(["-R", "a+rX"]).arg(dir));
    run(Command::new("chown")
        .args(["-R", "Debian-exim:Debian-exim"])
        .arg(dir.join("spool"))
        .arg(dir.join("log"))
        .arg(dir.join("out")));
}

/// A session of two recipients where the gate took the first and deferred
/// the second for a separate submission (451), and the message was
/// accepted for the first. `what` names the case in a failure.
pub fn assert_second_deferred(r: &[String], l: &[String], what: &str) {
    let rc = rcpt_replies(r, 2);
    assert!(rc[0].starts_with("250"), "{what}: {}", show(r, l));
    assert!(
        rc[1].starts_with("451 Please make each Mailman delivery in a separate submission"),
        "{what}: {}",
        show(r, l)
    );
    assert!(
        data_reply(r).starts_with("250 OK id="),
        "{what}: {}",
        show(r, l)
    );
}
