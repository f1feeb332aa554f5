//! `mailman-gate`: ask by hand what the library answers inside the MTA.
//!
//! Exit codes: 0 answered, 1 (`test-sender` only) rejected or discarded,
//! 2 usage error, 3 list state or configuration unreadable.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use mailman_gate::decide::Verdict;
use mailman_gate::gate::Gate;
use mailman_gate::policy::ListPolicy;
use mailman_gate::route::Kind;
use mailman_gate::site::Site;
use mailman_gate::store::{Layout, Source};

const USAGE: &str = "usage:
  mailman-gate route [--lists DIR] [--layout standard|cpanel] [--config FILE] LOCAL_PART DOMAIN [--json]
  mailman-gate dump [--lists DIR] [--layout L] [--config FILE] LIST [--json] [--members]
  mailman-gate check [--lists DIR] [--layout L] [--config FILE] --list NAME --sender ADDR
                     [--kind post|owner|request|...] [--message FILE|-] [--json]
  mailman-gate explain (the same arguments as check)
  mailman-gate test-sender LIST ENVELOPE FROM REPLYTO
  mailman-gate export [--lists DIR] [--config FILE] [--snapshots DIR] [--list NAME] [--force]";

/// A failure with its exit code.
struct Fail(u8, String);

fn usage(msg: impl Into<String>) -> Fail {
    Fail(2, format!("{}\n{USAGE}", msg.into()))
}

/// Options shared by every command, plus the positional arguments.
#[derive(Default)]
struct Args {
    lists: Option<PathBuf>,
    layout: Option<Layout>,
    config: Option<PathBuf>,
    snapshots: Option<PathBuf>,
    force: bool,
    json: bool,
    members: bool,
    list: Option<String>,
    sender: Option<String>,
    message: Option<String>,
    kind: Option<Kind>,
    positional: Vec<String>,
}

fn parse_args(argv: &[String]) -> Result<Args, Fail> {
    let mut a = Args::default();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| usage(format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--lists" => a.lists = Some(PathBuf::from(value("--lists")?)),
            "--layout" => {
                let v = value("--layout")?;
                a.layout =
                    Some(Layout::parse(&v).ok_or_else(|| usage(format!("unknown layout {v:?}")))?);
            }
            "--config" => a.config = Some(PathBuf::from(value("--config")?)),
            "--snapshots" => a.snapshots = Some(PathBuf::from(value("--snapshots")?)),
            "--force" => a.force = true,
            "--list" => a.list = Some(value("--list")?),
            "--sender" => a.sender = Some(value("--sender")?),
            "--message" => a.message = Some(value("--message")?),
            "--kind" => {
                let v = value("--kind")?;
                a.kind = Some(Kind::parse(&v).ok_or_else(|| usage(format!("unknown kind {v:?}")))?);
            }
            "--json" => a.json = true,
            "--members" => a.members = true,
            "-h" | "--help" => return Err(Fail(2, USAGE.into())),
            s if s.starts_with("--") => return Err(usage(format!("unknown option {s}"))),
            s => a.positional.push(s.to_owned()),
        }
    }
    Ok(a)
}

/// The gate for these arguments: the config file, then --lists/--layout.
fn gate(a: &Args) -> Result<Gate, Fail> {
    let mut site = Site::load(a.config.as_deref()).map_err(|e| Fail(3, e.to_string()))?;
    if let Some(layout) = a.layout {
        if a.lists.is_none() && a.config.is_none() {
            site.lists_dir = PathBuf::from(layout.default_lists_dir());
        }
        site.layout = layout;
    }
    if let Some(dir) = &a.lists {
        site.lists_dir = dir.clone();
    }
    if let Some(dir) = &a.snapshots {
        site.snapshot_dir = Some(dir.clone());
        site.snapshot_dir_defaulted = false;
    }
    Ok(Gate::new(site))
}

/// A JSON string literal (non-ASCII escaped, as Python's `json.dumps`).
fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    mailman_gate::pickle::json_str(s, &mut out);
    out
}

fn js_opt(s: Option<&str>) -> String {
    s.map(js).unwrap_or_else(|| "null".into())
}

fn js_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| js(s)).collect();
    format!("[{}]", inner.join(", "))
}

fn cmd_route(a: &Args) -> Result<(), Fail> {
    let [local, domain] = a.positional.as_slice() else {
        return Err(usage("route needs LOCAL_PART and DOMAIN"));
    };
    let g = gate(a)?;
    let r = g.route(local, domain).map_err(|e| Fail(3, e.to_string()))?;
    if a.json {
        println!(
            "{{\"list\": {}, \"kind\": {}, \"domain\": {}}}",
            js_opt(r.as_ref().map(|r| r.list.as_str())),
            js_opt(r.as_ref().map(|r| r.kind.as_str())),
            js_opt(r.as_ref().map(|r| r.domain.as_str())),
        );
    } else {
        match r {
            Some(r) => println!(
                "{local}@{domain}: list {} ({}), domain {}",
                r.list,
                r.kind.as_str(),
                r.domain
            ),
            None => println!("{local}@{domain}: not a list address"),
        }
    }
    Ok(())
}

/// The fields `dump` shows, as (name, JSON value, text value).
fn policy_fields(p: &ListPolicy) -> Vec<(&'static str, String, String)> {
    let mut f: Vec<(&'static str, String, String)> = Vec::new();
    let mut s = |name: &'static str, v: &str| f.push((name, js(v), v.to_owned()));
    s("internal_name", &p.internal_name);
    s("real_name", &p.real_name);
    s("host_name", &p.host_name);
    s("preferred_language", &p.preferred_language);
    s(
        "member_moderation_notice",
        &p.member_moderation_notice.to_text(),
    );
    s(
        "nonmember_rejection_notice",
        &p.nonmember_rejection_notice.to_text(),
    );
    s("equivalent_domains", &p.equivalent_domains);
    s(
        "dmarc_moderation_notice",
        &p.dmarc_moderation_notice.to_text(),
    );
    s("acceptable_aliases", &p.acceptable_aliases);
    s("bounce_matching_headers", &p.bounce_matching_headers);
    let mut n = |name: &'static str, v: i64| f.push((name, v.to_string(), v.to_string()));
    n("data_version", p.data_version);
    n("regular_members", p.regular_count as i64);
    n("digest_members", p.digest_count as i64);
    n("member_moderation_action", p.member_moderation_action);
    n("generic_nonmember_action", p.generic_nonmember_action);
    n("member_verbosity_threshold", p.member_verbosity_threshold);
    n("member_verbosity_interval", p.member_verbosity_interval);
    n("dmarc_moderation_action", p.dmarc_moderation_action);
    n("max_num_recipients", p.max_num_recipients);
    n("max_message_size", p.max_message_size);
    n("news_moderation", p.news_moderation);
    n("filter_action", p.filter_action);
    let mut b = |name: &'static str, v: bool| f.push((name, v.to_string(), v.to_string()));
    b("default_member_moderation", p.default_member_moderation);
    b("forward_auto_discards", p.forward_auto_discards);
    b("emergency", p.emergency);
    b(
        "dmarc_quarantine_moderation_action",
        p.dmarc_quarantine_moderation_action,
    );
    b(
        "dmarc_none_moderation_action",
        p.dmarc_none_moderation_action,
    );
    b("administrivia", p.administrivia);
    b(
        "require_explicit_destination",
        p.require_explicit_destination,
    );
    b("gateway_to_news", p.gateway_to_news);
    b("filter_content", p.filter_content);
    b("collapse_alternatives", p.collapse_alternatives);
    b("convert_html_to_plaintext", p.convert_html_to_plaintext);
    b("scrub_nondigest", p.scrub_nondigest);
    b("has_password", p.password.is_some());
    b("has_mod_password", p.mod_password.is_some());
    b("has_post_password", p.post_password.is_some());
    let mut l = |name: &'static str, v: &[String]| f.push((name, js_list(v), v.join(", ")));
    l("accept_these_nonmembers", &p.accept_these_nonmembers);
    l("hold_these_nonmembers", &p.hold_these_nonmembers);
    l("reject_these_nonmembers", &p.reject_these_nonmembers);
    l("discard_these_nonmembers", &p.discard_these_nonmembers);
    l("dmarc_moderation_addresses", &p.dmarc_moderation_addresses);
    l("filter_mime_types", &p.filter_mime_types);
    l("pass_mime_types", &p.pass_mime_types);
    l("filter_filename_extensions", &p.filter_filename_extensions);
    l("pass_filename_extensions", &p.pass_filename_extensions);
    l("owner", &p.owner);
    l("pipeline", p.pipeline.as_deref().unwrap_or(&[]));
    l("moderator", &p.moderator);
    let rules: Vec<String> = p
        .header_filter_rules
        .iter()
        .map(|r| format!("[{}, {}]", js(&r.patterns.to_text()), r.action))
        .collect();
    f.push((
        "header_filter_rules",
        format!("[{}]", rules.join(", ")),
        rules.join(", "),
    ));
    f
}

fn cmd_dump(a: &Args) -> Result<(), Fail> {
    let [list] = a.positional.as_slice() else {
        return Err(usage("dump needs LIST"));
    };
    let g = gate(a)?;
    let loaded = g.store.load(list).map_err(|e| Fail(3, e.to_string()))?;
    let p = &loaded.policy;
    let source = match &loaded.source {
        Source::ConfigPck => "config.pck".to_owned(),
        Source::ConfigPckLast { why } => format!("config.pck.last ({why})"),
        Source::Snapshot { stale: false } => "snapshot".to_owned(),
        Source::Snapshot { stale: true } => {
            "snapshot (stale: config.pck has changed but cannot be read)".to_owned()
        }
    };
    let members = if a.members {
        p.members.entries()
    } else {
        Vec::new()
    };
    if a.json {
        let mut parts: Vec<String> = vec![format!("\"source\": {}", js(&source))];
        parts.extend(
            policy_fields(p)
                .into_iter()
                .map(|(k, j, _)| format!("{}: {}", js(k), j)),
        );
        if a.members {
            let m: Vec<String> = members
                .iter()
                .map(|(addr, m)| {
                    format!(
                        "{{\"address\": {}, \"digest\": {}, \"options\": {}}}",
                        js(addr),
                        m.digest,
                        m.options
                    )
                })
                .collect();
            parts.push(format!("\"members\": [{}]", m.join(", ")));
        }
        println!("{{{}}}", parts.join(", "));
    } else {
        println!("source: {source}");
        for (k, _, t) in policy_fields(p) {
            println!("{k}: {t}");
        }
        if a.members {
            for (addr, m) in members {
                let kind = if m.digest { "digest" } else { "regular" };
                let moderated = if m.is_moderated() { " moderated" } else { "" };
                println!("member: {addr} {kind}{moderated} options={}", m.options);
            }
        }
    }
    Ok(())
}

/// Run `check`/`explain`: the verdict for the given list, sender and message.
fn verdict_for(a: &Args) -> Result<(Gate, String, Verdict), Fail> {
    if !a.positional.is_empty() {
        return Err(usage(format!("unexpected argument {:?}", a.positional[0])));
    }
    let list = a.list.clone().ok_or_else(|| usage("--list is required"))?;
    let sender = a
        .sender
        .clone()
        .ok_or_else(|| usage("--sender is required (\"\" for the null sender)"))?;
    let raw = match a.message.as_deref() {
        None => format!("From: {sender}\n\n").into_bytes(),
        Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| Fail(2, format!("stdin: {e}")))?;
            buf
        }
        Some(path) => std::fs::read(path).map_err(|e| Fail(2, format!("{path}: {e}")))?,
    };
    let g = gate(a)?;
    let v = g
        .check(&list, a.kind.unwrap_or(Kind::Post), Some(&sender), &raw)
        .map_err(|e| Fail(3, e.to_string()))?;
    Ok((g, list, v))
}

fn cmd_check(a: &Args) -> Result<(), Fail> {
    let (_, list, v) = verdict_for(a)?;
    if a.json {
        println!(
            "{{\"list\": {}, \"action\": {}, \"step\": {}, \"reason\": {}, \"undecided\": {}}}",
            js(&list),
            js(v.action.as_str()),
            js_opt(v.step.map(|s| s.as_str())),
            js_opt(v.reason.as_deref()),
            js_opt(v.undecided.as_deref())
        );
    } else {
        print!("{}", v.action.as_str());
        if let Some(step) = v.step {
            print!(" by {}", step.as_str());
        }
        println!();
        if let Some(r) = &v.reason {
            println!("{r}");
        }
        if let Some(why) = &v.undecided {
            println!("undecided: {why}");
        }
    }
    Ok(())
}

fn cmd_explain(a: &Args) -> Result<(), Fail> {
    let (g, list, v) = verdict_for(a)?;
    println!(
        "list {list} in {} ({} layout)",
        g.site.lists_dir.display(),
        g.site.layout.as_str()
    );
    for line in &v.trace {
        println!("  {line}");
    }
    print!("verdict: {}", v.action.as_str());
    if let Some(step) = v.step {
        print!(" by {}", step.as_str());
    }
    println!();
    if let Some(r) = &v.reason {
        for line in r.lines() {
            println!("  | {line}");
        }
    }
    if let Some(why) = &v.undecided {
        println!("undecided (the post goes on to Mailman): {why}");
    }
    for c in &v.caveats {
        println!("caveat: {c}");
    }
    Ok(())
}

/// `test-sender LIST ENVELOPE FROM REPLYTO`: 0 if the post would be
/// accepted or held, 1 if rejected or discarded.
fn cmd_test_sender(a: &Args) -> Result<ExitCode, Fail> {
    let [list, envelope, from, reply_to] = a.positional.as_slice() else {
        return Err(usage("test-sender needs LIST ENVELOPE FROM REPLYTO"));
    };
    let g = gate(a)?;
    let mut raw = String::new();
    if !from.is_empty() {
        raw.push_str(&format!("From: {from}\n"));
    }
    if !reply_to.is_empty() {
        raw.push_str(&format!("Reply-To: {reply_to}\n"));
    }
    raw.push_str(&format!("To: {list}\n\n"));
    let v = g
        .check(list, Kind::Post, Some(envelope), raw.as_bytes())
        .map_err(|e| Fail(3, e.to_string()))?;
    use mailman_gate::decide::Action;
    Ok(match v.action {
        Action::Accept | Action::Hold => ExitCode::SUCCESS,
        Action::Reject | Action::Discard => ExitCode::from(1),
    })
}

/// `export`: refresh every stale snapshot; exit 3 if any list failed.
fn cmd_export(a: &Args) -> Result<ExitCode, Fail> {
    if !a.positional.is_empty() {
        return Err(usage(format!("unexpected argument {:?}", a.positional[0])));
    }
    let g = gate(a)?;
    if g.store.snapshot_dir().is_none() {
        return Err(usage(
            "export needs --snapshots DIR or snapshot_dir in the configuration",
        ));
    }
    let r = mailman_gate::export::export(&g.store, a.list.as_deref(), a.force);
    for (name, why) in &r.failed {
        eprintln!("mailman-gate: export {name}: {why}");
    }
    println!(
        "written {}, fresh {}, removed {}, failed {}",
        r.written.len(),
        r.fresh.len(),
        r.removed.len(),
        r.failed.len()
    );
    Ok(if r.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`mailman-gate dump ... | head`), as
    // command-line tools do, instead of panicking in println!.
    // SAFETY: restoring the default disposition of SIGPIPE at start-up,
    // before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = parse_args(rest).and_then(|a| match cmd.as_str() {
        "route" => cmd_route(&a).map(|_| ExitCode::SUCCESS),
        "dump" => cmd_dump(&a).map(|_| ExitCode::SUCCESS),
        "check" => cmd_check(&a).map(|_| ExitCode::SUCCESS),
        "explain" => cmd_explain(&a).map(|_| ExitCode::SUCCESS),
        "test-sender" => cmd_test_sender(&a),
        "export" => cmd_export(&a),
        other => Err(usage(format!("unknown command {other:?}"))),
    });
    match result {
        Ok(code) => code,
        Err(Fail(code, msg)) => {
            eprintln!("mailman-gate: {}", msg.lines().next().unwrap_or(""));
            if code == 2 && msg.contains('\n') {
                eprintln!("{}", msg.split_once('\n').map(|x| x.1).unwrap_or(""));
            }
            ExitCode::from(code)
        }
    }
}
