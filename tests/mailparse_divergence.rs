//! Why the message module parses addresses itself: on inputs real posts
//! carry, mailparse's answer differs from Python 2.7's
//! `email.utils.getaddresses`, which is what Mailman's verdict follows.
//! Each expected value below is what Python 2.7 returns (the same inputs
//! are in tests/message/cases.json, generated with Python itself).

use mailman_gate::message::getaddresses;

fn mailparse_addrs(header: &str) -> Result<Vec<String>, String> {
    let (h, _) = mailparse::parse_header(header.as_bytes()).map_err(|e| e.to_string())?;
    let list = mailparse::addrparse_header(&h).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for a in list.iter() {
        match a {
            mailparse::MailAddr::Single(s) => out.push(s.addr.clone()),
            mailparse::MailAddr::Group(g) => out.extend(g.addrs.iter().map(|s| s.addr.clone())),
        }
    }
    Ok(out)
}

fn python(value: &str) -> Vec<String> {
    getaddresses(&[value]).into_iter().map(|(_, a)| a).collect()
}

#[test]
fn mailparse_and_python_disagree_where_verdicts_depend_on_it() {
    // (header value, what Python 2.7 gives)
    let cases: &[(&str, &[&str])] = &[
        // A display name without angle brackets: Python glues the words.
        (
            "John Smith john@example.com",
            &["JohnSmithjohn@example.com"],
        ),
        // The null address: Python gives an empty address, not an error.
        ("<>", &[""]),
        // A quoted local part is valid; Python keeps it.
        ("\"john doe\"@example.com", &["\"john doe\"@example.com"]),
        // An empty list item is one empty address (it counts towards
        // max_num_recipients); mailparse yields ",b@example.com".
        (
            "a@example.com,,b@example.com",
            &["a@example.com", "", "b@example.com"],
        ),
    ];
    for (value, want) in cases {
        let ours = python(value);
        assert_eq!(&ours, want, "our parser on {value:?}");
        let theirs = mailparse_addrs(&format!("From: {value}"));
        assert_ne!(
            theirs.as_ref().ok(),
            Some(&ours),
            "mailparse agrees on {value:?}: {theirs:?}"
        );
    }
}
