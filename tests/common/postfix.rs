//! A real Postfix for the milter tests, beside the installed Exim:
//! Debian's package unpacked (never installed) into a private root, run
//! with a private configuration directory, listening on 127.0.0.1 only,
//! delivering every message to a recording pipe (one file per recipient).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where the unpacked package lives: `$POSTFIX_ROOT`, else
/// `target/postfix-root` (what `.ci/run` makes).
pub fn postfix_root() -> PathBuf {
    std::env::var_os("POSTFIX_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/postfix-root"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Unpack Debian's postfix package into `dest` (`apt-get download` and
/// `dpkg-deb -x`; nothing is installed).
fn unpack(dest: &Path) -> Result<(), String> {
    let tmp = std::env::temp_dir().join(format!("mailman-gate-pfdeb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let o = Command::new("apt-get")
        .args(["download", "-qq", "postfix"])
        .current_dir(&tmp)
        .output()
        .map_err(|e| format!("apt-get: {e}"))?;
    let deb = std::fs::read_dir(&tmp)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"));
    let Some(deb) = deb else {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!(
            "apt-get download postfix: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    };
    let part = dest.with_extension("part");
    let _ = std::fs::remove_dir_all(&part);
    let ok = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&part)
        .status()
        .is_ok_and(|s| s.success());
    let _ = std::fs::remove_dir_all(&tmp);
    if !ok {
        return Err("dpkg-deb -x failed".into());
    }
    std::fs::rename(&part, dest).map_err(|e| e.to_string())
}

/// Users Postfix needs (`postfix`, group `postdrop`), made if absent.
fn users() -> Result<(), String> {
    let has = |db: &str, name: &str| {
        Command::new("getent")
            .args([db, name])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has("group", "postdrop") {
        run_ok(Command::new("groupadd").args(["--system", "postdrop"]))?;
    }
    if !has("passwd", "postfix") {
        run_ok(Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "postfix",
        ]))?;
    }
    Ok(())
}

fn run_ok(cmd: &mut Command) -> Result<(), String> {
    let o = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

/// Whether a real Postfix can run here (unpacking it if need be); panics
/// under CI=true when it cannot.
pub fn available() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut missing = Vec::new();
    if !is_root() {
        missing.push("root".to_owned());
    }
    if Command::new("swaks").arg("--version").output().is_err() {
        missing.push("swaks".to_owned());
    }
    if missing.is_empty() {
        let r = postfix_root();
        if !r.join("usr/sbin/postfix").exists() {
            if let Err(e) = unpack(&r) {
                missing.push(format!(
                    "Debian's postfix package unpacked in {} ({e}; `.ci/run` does it)",
                    r.display()
                ));
            }
        }
        if let Err(e) = users() {
            missing.push(format!("the postfix user and postdrop group ({e})"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("Postfix end-to-end tests need: {}", missing.join(", "));
    assert!(!ci, "{msg}");
    eprintln!("skipped: {msg}");
    false
}

/// One smtpd listener: its port and the milter it asks.
pub struct Listener {
    pub port: u16,
    /// `unix:/path` or `inet:...`; None: no milter.
    pub milter: Option<String>,
}

/// A running Postfix instance; stopped when dropped.
pub struct Postfix {
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub out: PathBuf,
    pub log: PathBuf,
}

impl Postfix {
    /// Configure and start an instance in `dir` (made world-searchable).
    /// `main_extra`: more `main.cf` lines.
    pub fn start(dir: &Path, listeners: &[Listener], main_extra: &str) -> Postfix {
        let r = postfix_root();
        let conf = dir.join("conf");
        let out = dir.join("out");
        for d in ["conf", "queue", "data", "log", "out"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        // Postfix's users must reach the recorder and the milter socket.
        let mut p = dir.to_path_buf();
        loop {
            chmod(&p, 0o755);
            if !p.pop() || p == std::env::temp_dir() || p.as_os_str().is_empty() {
                break;
            }
        }
        chown(&dir.join("data"), "postfix");
        chown(&out, "nobody");
        let record = dir.join("record.sh");
        std::fs::write(
            &record,
            "#!/bin/sh\n# One file per recipient: OUT/<recipient>.<pid>.\n\
             out=\"$(dirname \"$0\")/out\"\nt=\"$out/.$$.tmp\"\n\
             cat > \"$t\" && mv \"$t\" \"$out/$1.$$\"\n",
        )
        .unwrap();
        chmod(&record, 0o755);
        let d = dir.display();
        let rd = r.display();
        let main = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {d}/queue\n\
             data_directory = {d}/data\n\
             meta_directory = {rd}/etc/postfix\n\
             command_directory = {rd}/usr/sbin\n\
             daemon_directory = {rd}/usr/lib/postfix/sbin\n\
             shlib_directory = {rd}/usr/lib/postfix\n\
             sendmail_path = {rd}/usr/sbin/sendmail\n\
             newaliases_path = {rd}/usr/bin/newaliases\n\
             mailq_path = {rd}/usr/bin/mailq\n\
             manpage_directory = {rd}/usr/share/man\n\
             html_directory = no\n\
             readme_directory = no\n\
             import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH\n\
             export_environment = TZ MAIL_CONFIG LANG LD_LIBRARY_PATH\n\
             maillog_file_prefixes = {d}/log\n\
             maillog_file = {d}/log/maillog\n\
             myhostname = mx.test.example\n\
             mydomain = test.example\n\
             mydestination =\n\
             inet_interfaces = loopback-only\n\
             inet_protocols = ipv4\n\
             mynetworks = 127.0.0.0/8\n\
             alias_maps =\n\
             alias_database =\n\
             smtpd_banner = $myhostname ESMTP\n\
             default_transport = record\n\
             relay_transport = record\n\
             local_transport = record\n\
             virtual_transport = record\n\
             record_destination_recipient_limit = 1\n\
             message_size_limit = 80000000\n\
             milter_default_action = accept\n\
             milter_protocol = 6\n\
             {main_extra}"
        );
        std::fs::write(conf.join("main.cf"), main).unwrap();
        let mut master = String::new();
        for l in listeners {
            master.push_str(&format!("127.0.0.1:{} inet n - n - - smtpd\n", l.port));
            if let Some(m) = &l.milter {
                master.push_str(&format!("  -o smtpd_milters={m}\n"));
            }
        }
        master.push_str(&format!(
            "cleanup   unix  n - n - 0 cleanup\n\
             qmgr      unix  n - n 300 1 qmgr\n\
             rewrite   unix  - - n - - trivial-rewrite\n\
             bounce    unix  - - n - 0 bounce\n\
             defer     unix  - - n - 0 bounce\n\
             trace     unix  - - n - 0 bounce\n\
             verify    unix  - - n - 1 verify\n\
             flush     unix  n - n 1000? 0 flush\n\
             proxymap  unix  - - n - - proxymap\n\
             showq     unix  n - n - - showq\n\
             error     unix  - - n - - error\n\
             retry     unix  - - n - - error\n\
             discard   unix  - - n - - discard\n\
             anvil     unix  - - n - 1 anvil\n\
             scache    unix  - - n - 1 scache\n\
             postlog   unix-dgram n - n - 1 postlogd\n\
             record    unix  - n n - - pipe\n  flags=R user=nobody argv={} ${{recipient}}\n",
            record.display()
        ));
        std::fs::write(conf.join("master.cf"), master).unwrap();
        let pf = Postfix {
            dir: dir.to_path_buf(),
            conf,
            out,
            log: dir.join("log/maillog"),
        };
        let o = pf.command("start").output().unwrap();
        assert!(
            o.status.success(),
            "postfix start: {}{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(&pf.log).unwrap_or_default()
        );
        for l in listeners {
            wait_port(l.port);
        }
        pf
    }

    /// `postfix -c CONF VERB` with the private libraries.
    pub fn command(&self, verb: &str) -> Command {
        let r = postfix_root();
        let mut c = Command::new(r.join("usr/sbin/postfix"));
        c.env("LD_LIBRARY_PATH", r.join("usr/lib/postfix"))
            .arg("-c")
            .arg(&self.conf)
            .arg(verb)
            .stdin(Stdio::null());
        c
    }

    /// Recorded deliveries: (recipient, message text), `.tmp` files aside.
    pub fn delivered(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = std::fs::read_dir(&self.out)
            .unwrap()
            .flatten()
            .filter_map(|f| {
                let name = f.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    return None;
                }
                let rcpt = name.rsplit_once('.')?.0.to_owned();
                let text = std::fs::read(f.path()).ok()?;
                Some((rcpt, String::from_utf8_lossy(&text).into_owned()))
            })
            .collect();
        v.sort();
        v
    }

    pub fn maillog(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = self.command("stop").output();
    }
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
}

fn chown(p: &Path, user: &str) {
    let ok = Command::new("chown")
        .arg(user)
        .arg(p)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chown {user} {}", p.display());
}

/// Wait until something accepts connections on 127.0.0.1:port.
pub fn wait_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing listens on 127.0.0.1:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The milter as a child process; SIGTERM when dropped.
pub struct Milter {
    pub child: Option<Child>,
    pub log: PathBuf,
    pub socket: PathBuf,
}

impl Milter {
    /// Start `mailman-gate-milter` on a UNIX socket with `args`; its
    /// standard error goes to `log`.
    pub fn start(bin: &Path, socket: &Path, log: &Path, args: &[&str]) -> Milter {
        let err = std::fs::File::create(log).unwrap();
        let child = Command::new(bin)
            .arg("--socket")
            .arg(format!("unix:{}", socket.display()))
            // Postfix's smtpd (user postfix) connects to it.
            .args(["--socket-mode", "0666"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !socket.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "milter did not start: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Milter {
            child: Some(child),
            log: log.to_path_buf(),
            socket: socket.to_path_buf(),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then wait (at most 10 s); the exit status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        // SAFETY: signalling the child this helper started.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Milter {
    fn drop(&mut self) {
        self.stop();
    }
}

/// swaks against 127.0.0.1:port; returns the transcript.
pub fn swaks(port: u16, args: &[&str]) -> String {
    let o = Command::new("swaks")
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args(["--helo", "client.example", "--timeout", "60"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Server replies of a swaks transcript (`<-` and `<**` lines, without
/// the marker).
pub fn replies(t: &str) -> Vec<String> {
    t.lines()
        .filter_map(|l| l.strip_prefix("<-  ").or_else(|| l.strip_prefix("<** ")))
        .map(str::to_owned)
        .collect()
}

/// The replies to the RCPT commands, in order.
pub fn rcpt_replies(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = t.lines().peekable();
    while let Some(l) = lines.next() {
        if l.starts_with(" -> RCPT TO:") {
            let mut r = String::new();
            for l in lines.by_ref() {
                if let Some(x) = l.strip_prefix("<-  ").or_else(|| l.strip_prefix("<** ")) {
                    r.push_str(x);
                    if x.as_bytes().get(3) != Some(&b'-') {
                        break;
                    }
                    r.push('\n');
                }
            }
            out.push(r);
        }
    }
    out
}

/// The reply to the end of the message (after 354), lines joined by `\n`;
/// empty when DATA was never reached.
pub fn data_reply(t: &str) -> String {
    let r = replies(t);
    let Some(p) = r.iter().position(|x| x.starts_with("354")) else {
        return String::new();
    };
    r[p + 1..]
        .iter()
        .take_while(|x| !x.starts_with("221"))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reply text without codes, lines joined by spaces.
pub fn reply_text(reply: &str) -> String {
    reply
        .lines()
        .map(|l| {
            let t = l.get(4..).unwrap_or("");
            // Drop an enhanced status code.
            match t.split_once(' ') {
                Some((x, rest)) if x.split('.').count() == 3 && x.starts_with(['2', '4', '5']) => {
                    rest
                }
                _ => t,
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
