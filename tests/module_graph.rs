//! The crate's module graph, read from the `crate::` paths of `src/`: it
//! has no cycle, the decision reaches none of the disk, the site's
//! locations, the routing or the edges, and the SMTP answer none of the
//! gate, the store or the site's locations, not even through another
//! module.
//!
//! `cargo test --release --test module_graph -- --nocapture` prints the
//! graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules `decide` must not depend on, directly or through others.
const DECIDE_MAY_NOT_REACH: [&str; 10] = [
    "store", "site", "snapshot", "export", "gate", "answer", "capi", "exim", "ffi", "milter",
];

/// Modules `answer` must not depend on: it maps a verdict or a routing
/// result to an SMTP answer, and is tested without a gate, a store or the
/// site's locations.
const ANSWER_MAY_NOT_REACH: [&str; 9] = [
    "store", "site", "snapshot", "export", "gate", "capi", "exim", "ffi", "milter",
];

/// The modules that do I/O themselves: files, sockets, the environment,
/// child processes. Kept equal to what [`IO_MARKS`] finds in the code;
/// the decision may reach none of them.
const DOES_IO: [&str; 9] = [
    "catalogs",
    "cdb",
    "dmarc_lookup",
    "exim",
    "export",
    "milter",
    "site",
    "snapshot",
    "store",
];

/// What in a module's code means it does I/O.
const IO_MARKS: [&str; 11] = [
    "std::fs",
    "fs::",
    "FileExt",
    "TcpStream",
    "UdpSocket",
    "TcpListener",
    "UnixListener",
    "std::env::var",
    "Command::new",
    "tokio::net",
    "std::io::stdin",
];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments and without its `#[cfg(test)]`
/// module (test code is not part of what the library depends on).
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|n| n.trim_start().starts_with("mod "))
        {
            break;
        }
        let without = match t.find("//") {
            Some(i) => &t[..i],
            None => t,
        };
        out.push_str(without);
        out.push('\n');
    }
    out
}

/// The top-level modules named by `crate::` paths in `code`, including
/// the groups of `use crate::{a, b::c};`.
fn uses(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group, at brace depth 0.
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        let name = ident(&group[j..]);
                        if !name.is_empty() {
                            found.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// The top-level module of each file under `src/` (not the crate root
/// nor the binaries) with the file's code.
fn module_code() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        // The crate root re-exports; the binaries are users of the crate.
        if module == "lib" || module == "bin" {
            continue;
        }
        out.push((module, code(&std::fs::read_to_string(&f).unwrap())));
    }
    out
}

fn graph() -> Graph {
    let mut g = Graph::new();
    for (module, code) in module_code() {
        let deps = uses(&code);
        let entry = g.entry(module.clone()).or_default();
        entry.extend(deps.into_iter().filter(|d| *d != module));
    }
    g
}

/// The modules whose own code does I/O.
fn io_modules() -> BTreeSet<String> {
    module_code()
        .into_iter()
        .filter(|(_, code)| IO_MARKS.iter().any(|m| code.contains(m)))
        .map(|(module, _)| module)
        .collect()
}

fn reach(g: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_owned()];
    while let Some(m) = todo.pop() {
        for d in g.get(&m).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    seen
}

/// A cycle, if any, as the list of modules along it.
fn cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        g: &Graph,
        m: &str,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(m) {
            Some(2) => return None,
            Some(1) => {
                let at = path.iter().position(|p| p == m).unwrap();
                let mut c = path[at..].to_vec();
                c.push(m.to_owned());
                return Some(c);
            }
            _ => {}
        }
        state.insert(m.to_owned(), 1);
        path.push(m.to_owned());
        for d in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(g, d, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(m.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in g.keys() {
        if let Some(c) = visit(g, m, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_parser_sees_paths_and_groups() {
    let c = code(
        "use crate::a::B;\nuse crate::{c, d::{E, F}, g};\n// crate::h\nx = crate::i::j();\n\
         #[cfg(test)]\nmod tests { use crate::k; }\n",
    );
    let want: BTreeSet<String> = ["a", "c", "d", "g", "i"].map(String::from).into();
    assert_eq!(uses(&c), want);
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("a".into());
    assert!(cycle(&g).is_some());
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    for (m, deps) in &g {
        let list: Vec<&str> = deps.iter().map(String::as_str).collect();
        println!("{m} -> {}", list.join(" "));
    }
    assert!(g.len() > 20, "modules found: {}", g.len());
    assert_eq!(cycle(&g), None, "a dependency cycle");
}

#[test]
fn decide_reaches_no_disk_location_route_or_edge() {
    let g = graph();
    let reached = reach(&g, "decide");
    println!("decide reaches: {reached:?}");
    assert!(
        reached.contains("message"),
        "the parser found decide's imports"
    );
    let bad: Vec<&str> = DECIDE_MAY_NOT_REACH
        .into_iter()
        .filter(|m| reached.contains(*m))
        .collect();
    assert!(bad.is_empty(), "decide reaches {bad:?}");
}

#[test]
fn answer_reaches_no_gate_store_location_or_edge() {
    let g = graph();
    let reached = reach(&g, "answer");
    println!("answer reaches: {reached:?}");
    assert!(
        reached.contains("decide"),
        "the parser found answer's imports"
    );
    let bad: Vec<&str> = ANSWER_MAY_NOT_REACH
        .into_iter()
        .filter(|m| reached.contains(*m))
        .collect();
    assert!(bad.is_empty(), "answer reaches {bad:?}");
}

#[test]
fn decide_reaches_no_module_that_does_io() {
    let io = io_modules();
    println!("modules that do I/O: {io:?}");
    let listed: BTreeSet<String> = DOES_IO.map(String::from).into();
    assert_eq!(io, listed, "DOES_IO is not what the code does");
    let reached = reach(&graph(), "decide");
    let bad: Vec<&String> = io.iter().filter(|m| reached.contains(*m)).collect();
    assert!(bad.is_empty(), "decide reaches {bad:?}, which do I/O");
}
