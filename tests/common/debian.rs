//! Debian's generated Exim configurations for the tests: a pristine copy of
//! exim4-config's files with mailman-gate enabled as the README says,
//! `update-exim4.conf` run on it, and Exim run on the result, all inside a
//! private mount namespace where the copy is `/etc/exim4`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use super::exim::{
    bh_with, built_cdylib, copy_dir, open_to_exim, root, run, set_macros, Msg, EXIM,
};

pub const OUTSIDE: &str = "192.0.2.1";

/// Where the package's files are.
pub struct Files {
    /// The library to put in the macros; `None`: the shipped path.
    pub lib: Option<PathBuf>,
    pub cli: PathBuf,
    /// What the package installs as `/etc/exim4/mailman-gate/`.
    pub gate_dir: PathBuf,
    /// What the package installs as `/usr/share/mailman-gate/exim4/`.
    pub share: PathBuf,
}

pub fn installed() -> bool {
    std::env::var("MAILMAN_GATE_INSTALLED").is_ok_and(|v| v == "1")
}

pub fn files() -> Files {
    if installed() {
        let f = Files {
            lib: None,
            cli: "/usr/bin/mailman-gate".into(),
            gate_dir: "/etc/exim4/mailman-gate".into(),
            share: "/usr/share/mailman-gate/exim4".into(),
        };
        for p in [
            Path::new("/usr/lib/exim4/libmailman_gate.so"),
            &f.cli,
            &f.gate_dir,
            &f.share,
        ] {
            assert!(
                p.exists(),
                "MAILMAN_GATE_INSTALLED=1 but {} is missing",
                p.display()
            );
        }
        f
    } else {
        Files {
            lib: Some(built_cdylib()),
            cli: env!("CARGO_BIN_EXE_mailman-gate").into(),
            gate_dir: root().join("examples/exim/mailman-gate"),
            share: root().join("examples/exim"),
        }
    }
}

/// exim4-config's conffiles under /etc/exim4, each checked against dpkg's
/// checksum: the files as Debian ships them.
pub fn pristine_exim4_config(dest: &Path) {
    let o = run(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}\\n", "exim4-config"]));
    let list = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut n = 0;
    for line in list.lines() {
        let mut it = line.split_whitespace();
        let (Some(path), Some(sum)) = (it.next(), it.next()) else {
            continue;
        };
        let Some(rel) = path.strip_prefix("/etc/exim4/") else {
            continue;
        };
        let o = run(Command::new("md5sum").arg(path));
        let got = String::from_utf8_lossy(&o.stdout);
        assert!(
            got.starts_with(sum),
            "{path} differs from Debian's (dpkg checksum): these tests need exim4-config's files as shipped"
        );
        let to = dest.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(path, &to).unwrap();
        n += 1;
    }
    assert!(n > 30, "exim4-config's conffiles: {n}");
}

/// `cmd` run inside a private mount namespace where `etc` is /etc/exim4.
pub fn in_ns(etc: &Path, prog: &str) -> Command {
    let mut c = Command::new("unshare");
    c.args([
        "--mount",
        "sh",
        "-c",
        "mount --bind \"$0\" /etc/exim4 && exec \"$@\"",
    ])
    .arg(etc)
    .arg(prog);
    c
}

pub struct Setup {
    pub dir: PathBuf,
    pub etc: PathBuf,
    pub conf: PathBuf,
    pub cli: PathBuf,
}

impl Setup {
    pub fn exim(&self) -> Command {
        let mut c = in_ns(&self.etc, EXIM);
        c.arg("-C").arg(&self.conf);
        c
    }

    pub fn bh(&self, host: &str, m: &Msg) -> (Vec<String>, Vec<String>) {
        let mut c = self.exim();
        c.args(["-bh", host]);
        bh_with(c, m)
    }

    pub fn mainlog(&self) -> String {
        std::fs::read_to_string(self.dir.join("log/mainlog")).unwrap_or_default()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A test tree and the configuration Debian generates from it.
pub fn setup(split: bool, name: &str) -> Setup {
    let f = files();
    let mode = if split { "split" } else { "nonsplit" };
    let dir = std::env::temp_dir().join(format!(
        "mailman-gate-debian-{mode}-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["spool", "log", "out", "mailman/lists", "etc"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    for src in ["tests/fixtures/lists", "tests/exim/lists"] {
        for l in std::fs::read_dir(root().join(src)).unwrap() {
            copy_dir(&l.unwrap().path(), &dir.join("mailman/lists"));
        }
    }
    std::fs::copy(root().join("tests/exim/record.sh"), dir.join("record.sh")).unwrap();
    let gate_conf = dir.join("mailman-gate.conf");
    std::fs::write(
        &gate_conf,
        format!("lists_dir = {}\n", dir.join("mailman/lists").display()),
    )
    .unwrap();
    if let Some(lib) = &f.lib {
        std::fs::copy(lib, dir.join("libmailman_gate.so")).unwrap();
    }
    let lib = f.lib.as_ref().map(|_| dir.join("libmailman_gate.so"));

    // /etc/exim4 as Debian ships it, and debconf's answers for an MX that
    // receives the Mailman domains.
    let etc = dir.join("etc/exim4");
    pristine_exim4_config(&etc);
    std::fs::write(
        etc.join("update-exim4.conf.conf"),
        format!(
            "dc_eximconfig_configtype='internet'\n\
             dc_other_hostnames='example.com:lists.example'\n\
             dc_local_interfaces='127.0.0.1'\n\
             dc_readhost=''\ndc_relay_domains=''\ndc_minimaldns='false'\n\
             dc_relay_nets=''\ndc_smarthost=''\nCFILEMODE='644'\n\
             dc_use_split_config='{split}'\n\
             dc_hide_mailname=''\ndc_mailname_in_oh='true'\n\
             dc_localdelivery='mail_spool'\n"
        ),
    )
    .unwrap();

    // Enabled as the README says: the package's files in
    // /etc/exim4/mailman-gate/, the macros edited by the admin.
    let gd = etc.join("mailman-gate");
    std::fs::create_dir_all(&gd).unwrap();
    for name in ["macros", "rcpt.acl", "data.acl", "router", "transport"] {
        std::fs::copy(f.gate_dir.join(name), gd.join(name)).unwrap();
    }
    let macros = std::fs::read_to_string(gd.join("macros")).unwrap();
    std::fs::write(
        gd.join("macros"),
        set_macros(&macros, &dir, lib.as_deref(), &gate_conf),
    )
    .unwrap();
    // This test's own places (Debian's SPOOLDIR macro, log files), no DNS
    // for the outside client, and queue_only: deliveries happen only when
    // the test asks (`exim -M`), so nothing reaches the system's mailboxes.
    let test_settings = format!(
        "SPOOLDIR = {d}/spool\nMAIN_HOST_LOOKUP = !*\nlog_file_path = {d}/log/%slog\n\
         queue_only = true\ndeliver_drop_privilege = true\n",
        d = dir.display()
    );
    if split {
        for part in [
            "main/04_mailman-gate_macros",
            "router/450_mailman-gate_mailman",
            "transport/30_mailman-gate_mailman",
        ] {
            std::fs::copy(
                f.share.join("conf.d").join(part),
                etc.join("conf.d").join(part),
            )
            .unwrap();
        }
        std::fs::write(etc.join("conf.d/main/000_localtest"), test_settings).unwrap();
    } else {
        let hook = std::fs::read_to_string(f.share.join("exim4.conf.localmacros")).unwrap();
        std::fs::write(
            etc.join("exim4.conf.localmacros"),
            format!("{test_settings}{hook}"),
        )
        .unwrap();
        run(Command::new("sh")
            .arg(f.share.join("add-to-template"))
            .arg(etc.join("exim4.conf.template")));
    }
    open_to_exim(&dir);

    let conf = dir.join("exim4.conf.generated");
    run(in_ns(&etc, "update-exim4.conf").arg("-o").arg(&conf));
    let s = Setup {
        dir,
        etc,
        conf,
        cli: f.cli,
    };
    let generated = std::fs::read_to_string(&s.conf).unwrap();
    assert!(
        generated.contains(".include_if_exists /etc/exim4/mailman-gate/macros"),
        "the generated configuration includes the gate"
    );
    assert!(generated.contains(".include_if_exists /etc/exim4/mailman-gate/router"));
    let o = s.exim().arg("-bV").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // What the gate added, as Exim sees it.
    let o = run(s.exim().args(["-bP", "macro", "CHECK_RCPT_LOCAL_ACL_FILE"]));
    assert!(String::from_utf8_lossy(&o.stdout).contains("/etc/exim4/mailman-gate/rcpt.acl"));
    let o = run(s.exim().args(["-bP", "router", "mailman_router"]));
    assert!(String::from_utf8_lossy(&o.stdout).contains("transport = mailman_transport"));
    s
}
