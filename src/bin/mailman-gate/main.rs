//! `mailman-gate`: ask by hand what the library answers inside the MTA.
//!
//! Exit codes: 0 answered, 1 (`test-sender`) rejected or discarded or
//! (`doctor`) a problem found, 2 usage error, 3 list state or
//! configuration unreadable.

mod cli;
mod doctor;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mailman_gate::address::Kind;
use mailman_gate::decide::Verdict;
use mailman_gate::gate::Gate;
use mailman_gate::policy::ListPolicy;
use mailman_gate::site::Site;
use mailman_gate::store::Source;

use cli::{Cli, Command, Post};

/// A failure with its exit code.
struct Fail(u8, String);

/// The gate for these options: the config file, then --lists/--layout.
fn gate(a: &cli::Site) -> Result<Gate, Fail> {
    let mut site = Site::load(a.config.as_deref()).map_err(|e| Fail(3, e.to_string()))?;
    if let Some(layout) = a.layout {
        if a.lists.is_none() && a.config.is_none() {
            site.lists.lists_dir = PathBuf::from(layout.default_lists_dir());
        }
        site.lists.layout = layout;
    }
    if let Some(dir) = &a.lists {
        site.lists.lists_dir = dir.clone();
    }
    if let Some(dir) = &a.snapshots {
        site.lists.snapshot_dir = Some(dir.clone());
        site.lists.snapshot_dir_defaulted = false;
    }
    Ok(Gate::new(site))
}

/// A JSON string literal (non-ASCII escaped, as Python's `json.dumps`).
fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    mailman_gate::py::json_str(s, &mut out);
    out
}

fn js_opt(s: Option<&str>) -> String {
    s.map(js).unwrap_or_else(|| "null".into())
}

fn js_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| js(s)).collect();
    format!("[{}]", inner.join(", "))
}

fn cmd_route(site: &cli::Site, local: &str, domain: &str, json: bool) -> Result<(), Fail> {
    let g = gate(site)?;
    let r = g.route(local, domain).map_err(|e| Fail(3, e.to_string()))?;
    if json {
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

fn cmd_dump(site: &cli::Site, list: &str, json: bool, with_members: bool) -> Result<(), Fail> {
    let g = gate(site)?;
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
    let members = if with_members {
        p.members.entries()
    } else {
        Vec::new()
    };
    if json {
        let mut parts: Vec<String> = vec![format!("\"source\": {}", js(&source))];
        parts.extend(
            policy_fields(p)
                .into_iter()
                .map(|(k, j, _)| format!("{}: {}", js(k), j)),
        );
        if with_members {
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
        if with_members {
            for (addr, m) in members {
                let kind = if m.digest { "digest" } else { "regular" };
                let moderated = if m.is_moderated() { " moderated" } else { "" };
                println!("member: {addr} {kind}{moderated} options={}", m.options);
            }
        }
    }
    Ok(())
}

/// Run `check`/`explain`: the verdict for the given list, sender and
/// message; the trace of rules consulted is built only for `explain`
/// (`check` does the work the MTA does).
fn verdict_for(a: &Post, trace: bool) -> Result<(Gate, String, Verdict), Fail> {
    let list = a.list.clone();
    let sender = a.sender.clone();
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
    let g = gate(&a.site)?;
    let v = g
        .check_with_trace(&list, a.kind, Some(&sender), &raw, trace)
        .map_err(|e| Fail(3, e.to_string()))?;
    Ok((g, list, v))
}

fn cmd_check(a: &Post, json: bool) -> Result<(), Fail> {
    let (_, list, v) = verdict_for(a, false)?;
    if json {
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

fn cmd_explain(a: &Post) -> Result<(), Fail> {
    let (g, list, v) = verdict_for(a, true)?;
    println!(
        "list {list} in {} ({} layout)",
        g.site.lists.lists_dir.display(),
        g.site.lists.layout.as_str()
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
fn cmd_test_sender(
    site: &cli::Site,
    list: &str,
    envelope: &str,
    from: &str,
    reply_to: &str,
) -> Result<ExitCode, Fail> {
    let g = gate(site)?;
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
fn cmd_export(site: &cli::Site, list: Option<&str>, force: bool) -> Result<ExitCode, Fail> {
    let g = gate(site)?;
    if g.store.snapshot_dir().is_none() {
        return Err(Fail(
            2,
            "export needs --snapshots DIR or snapshot_dir in the configuration".into(),
        ));
    }
    let r = mailman_gate::export::export(&g.store, list, force);
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
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Route {
            site,
            local_part,
            domain,
            json,
        } => cmd_route(site, local_part, domain, *json).map(|_| ExitCode::SUCCESS),
        Command::Dump {
            site,
            list,
            json,
            members,
        } => cmd_dump(site, list, *json, *members).map(|_| ExitCode::SUCCESS),
        Command::Check { post, json } => cmd_check(post, *json).map(|_| ExitCode::SUCCESS),
        Command::Explain { post } => cmd_explain(post).map(|_| ExitCode::SUCCESS),
        Command::TestSender {
            site,
            list,
            envelope,
            from,
            reply_to,
        } => cmd_test_sender(site, list, envelope, from, reply_to),
        Command::Export { site, list, force } => cmd_export(site, list.as_deref(), *force),
        Command::Doctor {
            site,
            exim,
            exim_config,
            exim_user,
            max_snapshot_lag,
        } => Ok(doctor::run(&doctor::Options {
            site: site.clone(),
            exim: exim.clone(),
            exim_config: exim_config.clone(),
            exim_user: exim_user.clone(),
            max_snapshot_lag: *max_snapshot_lag,
        })),
    };
    match result {
        Ok(code) => code,
        Err(Fail(code, msg)) => {
            eprintln!("mailman-gate: {}", msg.lines().next().unwrap_or(""));
            ExitCode::from(code)
        }
    }
}
