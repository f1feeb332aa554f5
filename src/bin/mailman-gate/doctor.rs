//! `mailman-gate doctor`: what an administrator runs after installing. Each
//! check prints `ok`, `warn` or `FAIL` with how to fix it; the exit status
//! is 0 only when nothing failed.
//!
//! The checks ask Exim itself (`exim -bV`, `-bP`, `-be`) about the
//! configuration it would use, and try the lists' files as Exim's user
//! (`setpriv` to that user with its groups, then `mailman-gate dump`), so
//! that what is reported is what the receiving process will meet.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use mailman_gate::site::Site;

use crate::cli;

pub struct Options {
    pub site: cli::Site,
    pub exim: PathBuf,
    pub exim_config: Option<PathBuf>,
    pub exim_user: String,
    pub max_snapshot_lag: u64,
}

const DEBIAN_UE4CC: &str = "/etc/exim4/update-exim4.conf.conf";

/// Findings, printed as they come.
#[derive(Default)]
struct Report {
    failed: usize,
    warned: usize,
}

impl Report {
    fn ok(&mut self, what: &str) {
        println!("ok    {what}");
    }
    fn warn(&mut self, what: &str, fix: &str) {
        self.warned += 1;
        println!("warn  {what}");
        for l in fix.lines() {
            println!("      {l}");
        }
    }
    fn fail(&mut self, what: &str, fix: &str) {
        self.failed += 1;
        println!("FAIL  {what}");
        for l in fix.lines() {
            println!("      fix: {l}");
        }
    }
}

struct Exim<'a> {
    o: &'a Options,
}

impl Exim<'_> {
    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.o.exim);
        if let Some(conf) = &self.o.exim_config {
            c.arg("-C").arg(conf);
        }
        c
    }

    /// Standard output of a successful run, else None.
    fn out(&self, args: &[&str]) -> Option<String> {
        let o = self.cmd().args(args).output().ok()?;
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
    }

    /// A macro's value as Exim sees it, if defined.
    fn macro_value(&self, name: &str) -> Option<String> {
        let out = self.out(&["-bP", "macro", name])?;
        let v = out.trim().strip_prefix(name)?.trim_start();
        Some(v.strip_prefix('=')?.trim().to_owned())
    }

    /// A named list's value (`-bP +name`), if defined.
    fn named_list(&self, name: &str) -> Option<String> {
        let out = self.out(&["-bP", &format!("+{name}")])?;
        let (_, v) = out.trim().split_once('=')?;
        Some(v.trim().to_owned())
    }

    /// `${if match_domain{d}{+list}}` in Exim.
    fn domain_in(&self, domain: &str, list: &str) -> bool {
        self.out(&[
            "-be",
            &format!("${{if match_domain{{{domain}}}{{+{list}}}{{yes}}{{no}}}}"),
        ])
        .is_some_and(|v| v.trim() == "yes")
    }
}

fn debian_split() -> Option<bool> {
    let text = std::fs::read_to_string(DEBIAN_UE4CC).ok()?;
    let mut split = false;
    for l in text.lines() {
        if let Some(v) = l.trim().strip_prefix("dc_use_split_config=") {
            split = v.trim_matches(['\'', '"']).eq_ignore_ascii_case("true");
        }
    }
    Some(split)
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).ok()?.modified().ok()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

pub fn run(o: &Options) -> ExitCode {
    let mut r = Report::default();
    let exim = Exim { o };

    // 1. Exim and ${dlfunc}.
    let Some(bv) = exim.out(&["-bV"]) else {
        r.fail(
            &format!("cannot run {} -bV", o.exim.display()),
            "apt-get install exim4-daemon-heavy (or give --exim / --exim-config)",
        );
        return finish(&r);
    };
    let version = bv.lines().next().unwrap_or("").to_owned();
    if bv.contains("Expand_dlfunc") {
        r.ok(&format!("{version}: has ${{dlfunc}}"));
    } else {
        r.fail(
            &format!("{version}: no ${{dlfunc}} (Expand_dlfunc)"),
            "apt-get install exim4-daemon-heavy (exim4-daemon-light has no ${dlfunc})",
        );
    }

    // 2. The configuration Exim uses, and the gate in it.
    let conf_file = o.exim_config.clone().or_else(|| {
        exim.out(&["-bP", "configure_file"])
            .map(|s| PathBuf::from(s.trim()))
    });
    let conf_name = conf_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "?".into());
    let split = debian_split();
    match split {
        Some(true) => r.ok(&format!(
            "Debian split configuration (dc_use_split_config='true' in {DEBIAN_UE4CC})"
        )),
        Some(false) => r.ok(&format!(
            "Debian non-split configuration (dc_use_split_config='false' in {DEBIAN_UE4CC})"
        )),
        None => r.ok(&format!(
            "not Debian's generated configuration: {conf_name}"
        )),
    }
    let enable_hint = match split {
        Some(true) => "cp /usr/share/mailman-gate/exim4/conf.d/main/04_mailman-gate_macros /etc/exim4/conf.d/main/\n\
             then: update-exim4.conf && systemctl reload exim4",
        Some(false) => "cat /usr/share/mailman-gate/exim4/exim4.conf.localmacros >> /etc/exim4/exim4.conf.localmacros\n\
             then: update-exim4.conf && systemctl reload exim4",
        None => "define CHECK_RCPT_LOCAL_ACL_FILE/CHECK_DATA_LOCAL_ACL_FILE or add the blocks of examples/exim/exim.conf",
    };
    let rcpt_file = exim.macro_value("CHECK_RCPT_LOCAL_ACL_FILE");
    let data_file = exim.macro_value("CHECK_DATA_LOCAL_ACL_FILE");
    let has = |f: &Option<String>, needle: &str| {
        f.as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .is_some_and(|t| t.contains(needle))
    };
    let conf_text = conf_file
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let inline = conf_text.contains("{mailman_gate_rcpt}");
    if inline || has(&rcpt_file, "{mailman_gate_rcpt}") {
        r.ok(&format!("the RCPT check is in {conf_name}"));
    } else {
        r.fail(
            &format!("the gate is not in the configuration Exim uses ({conf_name})"),
            enable_hint,
        );
    }
    if inline && conf_text.contains("{mailman_gate_data}") || has(&data_file, "{mailman_gate_data}")
    {
        r.ok("the DATA check is there too");
    } else if exim.macro_value("MAILMAN_GATE_LOCAL_SCAN").is_some() {
        r.ok("the DATA verdict comes from local_scan()");
    } else {
        r.fail(
            "no DATA check: Mailman's rejections would not be refused",
            "set CHECK_DATA_LOCAL_ACL_FILE = /etc/exim4/mailman-gate/data.acl (in /etc/exim4/mailman-gate/macros)",
        );
    }
    if exim.out(&["-bP", "router", "mailman_router"]).is_some() {
        r.ok("Mailman router: mailman_router");
    } else {
        let how = match split {
            Some(true) => "cp /usr/share/mailman-gate/exim4/conf.d/router/450_mailman-gate_mailman /etc/exim4/conf.d/router/\n\
                 cp /usr/share/mailman-gate/exim4/conf.d/transport/30_mailman-gate_mailman /etc/exim4/conf.d/transport/",
            Some(false) => "/usr/share/mailman-gate/exim4/add-to-template (edits exim4.conf.template)",
            None => "add the router and transport of examples/exim/exim.conf",
        };
        r.warn(
            "no router named mailman_router (fine if Mailman is delivered by another router)",
            how,
        );
    }
    if let (Some(conf), Some(true)) = (&conf_file, split) {
        let newest_source = ["/etc/exim4/conf.d", DEBIAN_UE4CC]
            .iter()
            .filter_map(|p| mtime(Path::new(p)))
            .max();
        if let (Some(gen), Some(src)) = (mtime(conf), newest_source) {
            if src > gen {
                r.warn(
                    &format!("{} is older than /etc/exim4/conf.d", conf.display()),
                    "update-exim4.conf && systemctl reload exim4",
                );
            }
        }
    }

    // 3. The library Exim would load.
    let lib = exim.macro_value("MAILMAN_GATE_LIB");
    match &lib {
        None => r.fail(
            "MAILMAN_GATE_LIB is not defined in Exim's configuration",
            enable_hint,
        ),
        Some(lib) if !Path::new(lib).is_file() => r.fail(
            &format!("MAILMAN_GATE_LIB = {lib}: no such file"),
            "apt-get install --reinstall mailman-gate (or install the library there, by rename)",
        ),
        Some(lib) => {
            let v = exim
                .out(&[
                    "-be",
                    &format!("${{dlfunc{{{lib}}}{{mailman_gate_version}}}}"),
                ])
                .map(|s| s.trim().to_owned());
            let mine = env!("CARGO_PKG_VERSION");
            match v {
                Some(v) if v.contains(mine) => r.ok(&format!("library {lib}: {v}")),
                Some(v) => r.warn(
                    &format!("library {lib} is {v}, this command is {mine}"),
                    "install the library and the command from the same version",
                ),
                None => r.fail(
                    &format!("Exim cannot load {lib}"),
                    "check it with: exim4 -be '${dlfunc{LIB}{mailman_gate_version}}'",
                ),
            }
        }
    }

    // 4. The configuration file.
    let config_path = o
        .site
        .config
        .clone()
        .or_else(|| {
            exim.macro_value("MAILMAN_GATE_CONFIG")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from(mailman_gate::site::DEFAULT_CONFIG_PATH));
    let site = match Site::load(Some(&config_path)) {
        Ok(s) => {
            r.ok(&format!("configuration {}", config_path.display()));
            s
        }
        Err(e) if !config_path.exists() && o.site.config.is_none() => {
            r.warn(
                &format!("{e}: Debian's defaults apply"),
                "create it to set lists_dir, snapshot_dir, on_hold, ...",
            );
            Site::default()
        }
        Err(e) => {
            r.fail(
                &e.to_string(),
                "fix that line (man mailman-gate.conf); the library accepts every post while it is wrong",
            );
            return finish(&r);
        }
    };
    let mut site = site;
    if let Some(d) = &o.site.lists {
        site.lists.lists_dir = d.clone();
    }
    if let Some(d) = &o.site.snapshots {
        site.lists.snapshot_dir = Some(d.clone());
        site.lists.snapshot_dir_defaulted = false;
    }

    // 5. Each list, read as Exim's user.
    let lists = list_names(&site.lists.lists_dir);
    match &lists {
        Err(e) => r.fail(
            &format!("lists directory {}: {e}", site.lists.lists_dir.display()),
            "set lists_dir in the configuration file",
        ),
        Ok(l) if l.is_empty() => r.warn(
            &format!("no lists in {}", site.lists.lists_dir.display()),
            "nothing to check yet",
        ),
        Ok(_) => {}
    }
    let lists = lists.unwrap_or_default();
    let mut host_names: Vec<String> = Vec::new();
    if !is_root() {
        r.fail(
            "not root: cannot try the lists as Exim's user",
            "run mailman-gate doctor as root",
        );
    } else {
        for name in &lists {
            match dump_as(&o.exim_user, &config_path, &site, name) {
                Ok(source) => {
                    host_names.extend(source.1);
                    if source.0.starts_with("config.pck.last") {
                        r.warn(
                            &format!("list {name}: {} reads {}", o.exim_user, source.0),
                            "config.pck is unreadable or corrupt: Mailman will rewrite it on the next change",
                        );
                    } else {
                        r.ok(&format!("list {name}: {} reads its {}", o.exim_user, source.0));
                    }
                }
                Err(why) if why.contains("Permission denied") => r.fail(
                    &format!("list {name}: {} cannot read it: {why}", o.exim_user),
                    &format!(
                        "grant read access (README, \"Let Exim read the lists\"):\n\
                         setfacl -m u:{u}:r {d}/{name}/config.pck {d}/{name}/config.pck.last\n\
                         setfacl -d -m u:{u}:r,o::--- {d}/{name}; setfacl -m u:{u}:rx {d} {d}/{name}\n\
                         or use snapshots (snapshot_dir, mailman-gate export); \
                         after adduser, restart Exim (it keeps the groups it started with)",
                        u = o.exim_user,
                        d = site.lists.lists_dir.display()
                    ),
                ),
                Err(why) => r.fail(
                    &format!("list {name}: {why}"),
                    "repair the list with Mailman's tools (the gate accepts its posts until then)",
                ),
            }
        }
    }

    // 6. Snapshot freshness.
    if let Some(snaps) = &site.lists.snapshot_dir {
        for name in &lists {
            let pck = site.lists.lists_dir.join(name).join("config.pck");
            let snap = snaps.join(format!("{name}.cdb"));
            match (mtime(&pck), mtime(&snap)) {
                // Without a snapshot the gate reads config.pck (checked above).
                (_, None) => r.warn(
                    &format!("list {name}: no snapshot {}", snap.display()),
                    "mailman-gate export; systemctl enable --now mailman-gate-export.timer mailman-gate-export.path",
                ),
                (Some(p), Some(s)) if p > s => {
                    let lag = p.duration_since(s).map(|d| d.as_secs()).unwrap_or(0);
                    let what = format!("list {name}: snapshot {lag} s older than config.pck");
                    let fix = "systemctl enable --now mailman-gate-export.timer mailman-gate-export.path";
                    if lag > o.max_snapshot_lag {
                        r.fail(&what, fix);
                    } else {
                        r.warn(&what, fix);
                    }
                }
                _ => r.ok(&format!("list {name}: snapshot is current")),
            }
        }
    }

    // 7. Mailman domains and Exim's local domains.
    match exim.named_list("mailman_domains") {
        None => r.fail(
            "no domainlist mailman_domains in Exim's configuration",
            "set it in /etc/exim4/mailman-gate/macros",
        ),
        Some(v) if v.is_empty() => r.fail(
            "domainlist mailman_domains is empty",
            "list your Mailman domains in /etc/exim4/mailman-gate/macros",
        ),
        Some(v) => {
            for d in v.split(':').map(str::trim).filter(|d| !d.is_empty()) {
                if d.starts_with('+') || d.contains(';') || d.contains('*') {
                    continue;
                }
                if exim.domain_in(d, "local_domains") {
                    r.ok(&format!("Mailman domain {d} is a local domain"));
                } else {
                    r.fail(
                        &format!("Mailman domain {d} is not in local_domains"),
                        "add it to dc_other_hostnames in /etc/exim4/update-exim4.conf.conf, then update-exim4.conf",
                    );
                }
            }
        }
    }
    host_names.sort();
    host_names.dedup();
    for h in host_names.iter().filter(|h| !h.is_empty()) {
        if !exim.domain_in(h, "mailman_domains") {
            r.warn(
                &format!("a list's host_name {h} is not in mailman_domains"),
                "its posts are not checked unless its domain is listed there",
            );
        }
    }

    // 8. Who bypasses the gate.
    let relay = exim.named_list("relay_from_hosts");
    let relay = relay.as_deref().map(|v| v.trim_start_matches([':', ' ']));
    if let Some(relay) = relay.filter(|v| !v.is_empty()) {
        r.warn(
            &format!("relay_from_hosts = {relay}: accepted before the gate"),
            "test from another address, e.g. exim4 -bh 192.0.2.1 (loopback tests prove nothing)",
        );
    }
    if let Some(auth) = exim.out(&["-bP", "authenticators"]) {
        let servers = server_authenticators(&auth);
        if !servers.is_empty() {
            r.warn(
                &format!(
                    "authenticated clients ({}) are accepted before the gate",
                    servers.join(", ")
                ),
                "Mailman still moderates their posts",
            );
        }
    }
    finish(&r)
}

/// The authenticators of `-bP authenticators` output with a server side
/// (a non-empty `server_condition` or `server_set_id`).
fn server_authenticators(all: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<&str> = None;
    for l in all.lines() {
        if let Some(name) = l.strip_suffix(" authenticator:") {
            current = Some(name);
            continue;
        }
        let l = l.trim();
        let server = ["server_condition =", "server_set_id ="]
            .iter()
            .any(|k| l.starts_with(k) && l.len() > k.len());
        if let (true, Some(name)) = (server, current) {
            if !found.iter().any(|f| f == name) {
                found.push(name.to_owned());
            }
        }
    }
    found
}

fn finish(r: &Report) -> ExitCode {
    println!("{} problem(s), {} warning(s)", r.failed, r.warned);
    if r.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The lists of the lists directory: its subdirectories with a
/// `config.pck` or `config.pck.last`.
fn list_names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if p.join("config.pck").exists() || p.join("config.pck.last").exists() {
            names.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// `mailman-gate dump LIST --json` run as `user` (with its groups): the
/// source it read from and the list's host_name, or why it failed.
fn dump_as(
    user: &str,
    config: &Path,
    site: &Site,
    list: &str,
) -> Result<(String, Option<String>), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut c = Command::new("setpriv");
    c.args(["--reuid", user, "--regid", user, "--init-groups", "--"])
        .arg(me)
        .arg("dump");
    if config.exists() {
        c.arg("--config").arg(config);
    }
    c.arg("--lists").arg(&site.lists.lists_dir);
    if let Some(s) = &site.lists.snapshot_dir {
        c.arg("--snapshots").arg(s);
    }
    c.arg(list).arg("--json");
    let o = c.output().map_err(|e| format!("setpriv: {e}"))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        return Err(err.trim().trim_start_matches("mailman-gate: ").to_owned());
    }
    let out = String::from_utf8_lossy(&o.stdout);
    let field = |k: &str| -> Option<String> {
        let key = format!("\"{k}\": \"");
        let start = out.find(&key)? + key.len();
        let end = out[start..].find('"')?;
        Some(out[start..start + end].to_owned())
    };
    Ok((
        field("source").unwrap_or_else(|| "?".into()),
        field("host_name"),
    ))
}
