//! The man pages in `man/` are rendered by clap_mangen from the command
//! line's own definition (`src/bin/mailman-gate/cli.rs`, included here):
//! this test fails when they differ, and rewrites them with
//! `REGENERATE_MAN=1 cargo test --test man_pages`.
//! `man/mailman-gate.conf.5` is written by hand and only checked to name
//! every setting the configuration parser knows.

#[allow(dead_code)]
#[path = "../src/bin/mailman-gate/cli.rs"]
mod cli;

use std::path::PathBuf;

use clap::CommandFactory;

fn man_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man")
}

/// (file name, roff text) for the command and each subcommand.
fn pages() -> Vec<(String, Vec<u8>)> {
    let cmd = cli::Cli::command();
    let mut out = Vec::new();
    let mut render = |name: String, c: clap::Command| {
        let mut buf = Vec::new();
        clap_mangen::Man::new(c).render(&mut buf).unwrap();
        out.push((format!("{name}.1"), buf));
    };
    render("mailman-gate".into(), cmd.clone());
    for sub in cmd.get_subcommands() {
        let name = format!("mailman-gate-{}", sub.get_name());
        // clap names are 'static: a handful of short strings, once.
        let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
        render(name, sub.clone().name(static_name));
    }
    out
}

#[test]
fn man_pages_match_the_cli() {
    let regenerate = std::env::var("REGENERATE_MAN").is_ok_and(|v| v == "1");
    let pages = pages();
    assert!(pages.len() >= 8, "the command and its subcommands");
    for (name, text) in &pages {
        let path = man_dir().join(name);
        if regenerate {
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            &committed == text,
            "{} is out of date: REGENERATE_MAN=1 cargo test --test man_pages",
            path.display()
        );
    }
}

#[test]
fn config_page_names_every_setting() {
    let page = std::fs::read_to_string(man_dir().join("mailman-gate.conf.5")).unwrap();
    let src =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/site.rs"))
            .unwrap();
    let mut n = 0;
    for line in src.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix('"') {
            if let Some((key, tail)) = rest.split_once('"') {
                if tail.trim_start().starts_with("=>") && (key.contains('_') || key == "layout") {
                    n += 1;
                    assert!(
                        page.contains(&format!(".B {key}")),
                        "mailman-gate.conf.5 lacks {key}"
                    );
                }
            }
        }
    }
    assert!(n >= 10, "settings found in site.rs: {n}");
}
