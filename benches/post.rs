//! The realistic post every benchmark sends: `benches/post.eml` (~1.6 KB,
//! 17 headers with three `Received:` lines and a folded `DKIM-Signature`,
//! a few paragraphs of text), with its placeholders filled in. Included
//! by the Rust benches and examples with `#[path]`; the C and Python
//! benches read the same file.

// Not every includer uses every helper.
#![allow(dead_code)]

/// The template, placeholders `{{SENDER}}`, `{{LIST}}` and `{{N}}`.
pub const TEMPLATE: &str = include_str!("post.eml");

/// The post from `sender` to the list address `list_addr`, message number
/// `n`, with LF line ends.
pub fn post(sender: &str, list_addr: &str, n: u64) -> String {
    TEMPLATE
        .replace("{{SENDER}}", sender)
        .replace("{{LIST}}", list_addr)
        .replace("{{N}}", &n.to_string())
}

/// `raw` with the header line `line` (no line end) added after the last
/// header, for the cases that need one more header.
pub fn with_header(raw: &str, line: &str) -> String {
    let end = raw.find("\n\n").expect("a header/body separator") + 1;
    format!("{}{line}\n{}", &raw[..end], &raw[end..])
}
