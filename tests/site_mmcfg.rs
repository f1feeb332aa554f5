//! Site settings read from Mailman's mm_cfg.py, overridden by
//! mailman-gate.conf, with where each came from.

use std::path::PathBuf;

use mailman_gate::message::NormalForm;
use mailman_gate::site::{Origin, SenderHeader, Site};

fn temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mmgate-site-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mm_cfg.py");
    std::fs::write(&path, text).unwrap();
    path
}

const MM_CFG: &str = "\
from Defaults import *
add_virtualhost('lists.example.org', 'lists.example.org')
LIST_DATA_DIR = '/srv/mailman/lists'
USE_ENVELOPE_SENDER = Yes
SENDER_HEADERS = ('From', None)
KNOWN_SPAMMERS = [('X-Spam-Flag', '^YES')]
KNOWN_SPAMMERS.append(('X-Caf\\xe9', 'b\\xe9'))
NORMALIZE_FORM = 'NFC'
DEFAULT_SERVER_LANGUAGE = 'de'
DMARC_RESOLVER_TIMEOUT = seconds(1)
DMARC_ORGANIZATIONAL_DOMAIN_DATA_URL = None
";

#[test]
fn mm_cfg_values_and_origins() {
    let path = temp("values", MM_CFG);
    let conf = format!(
        "mailman_config = {}\narchive_html_sanitizer = 0\nnormalize_form = NFKD\n",
        path.display()
    );
    let site = Site::parse(&conf, "gate.conf").expect("parses");
    assert_eq!(site.lists.lists_dir, PathBuf::from("/srv/mailman/lists"));
    assert!(site.mailman.use_envelope_sender);
    assert_eq!(
        site.mailman.sender_headers,
        vec![SenderHeader::Header("from".into()), SenderHeader::Envelope]
    );
    // A str's bytes one char each, as header values are compared.
    assert_eq!(
        site.mailman.known_spammers,
        vec![
            ("X-Spam-Flag".to_owned(), "^YES".to_owned()),
            ("X-Caf\u{e9}".to_owned(), "b\u{e9}".to_owned())
        ]
    );
    assert_eq!(site.server_language, "de");
    assert_eq!(site.dmarc.resolver_timeout, 1.0);
    assert_eq!(site.dmarc.org_domain_data_url, None);
    // The configuration file wins over mm_cfg.py.
    assert_eq!(site.mailman.normalize_form, NormalForm::Nfkd);
    assert_eq!(site.mailman.archive_html_sanitizer, 0);
    let origins: std::collections::HashMap<_, _> = site.origins().into_iter().collect();
    assert_eq!(
        origins["known_spammer"],
        Origin::MmCfg {
            path: path.clone(),
            line: 7
        }
    );
    assert_eq!(
        origins["normalize_form"],
        Origin::Conf {
            path: "gate.conf".into(),
            line: 3
        }
    );
    assert_eq!(origins["on_hold"], Origin::Default);
    assert_eq!(
        origins["lists_dir"].to_string(),
        format!("{}:3", path.display())
    );
    assert_eq!(site.mailman_config, Some(path));
}

#[test]
fn unreadable_setting_names_its_line_until_the_conf_sets_it() {
    let path = temp(
        "error",
        "from Defaults import *\nimport os\nLIST_DATA_DIR = os.path.join('/srv', 'lists')\n",
    );
    let conf = format!("mailman_config = {}\n", path.display());
    let e = Site::parse(&conf, "gate.conf").expect_err("refused");
    assert_eq!(e.path, path.display().to_string());
    assert_eq!(e.line, 3);
    assert!(e.reason.contains("LIST_DATA_DIR"), "{e}");
    assert!(e.reason.contains("lists_dir"), "{e}");
    let conf = format!("{conf}lists_dir = /srv/lists\n");
    let site = Site::parse(&conf, "gate.conf").expect("the conf settles it");
    assert_eq!(site.lists.lists_dir, PathBuf::from("/srv/lists"));
}

#[test]
fn mm_cfg_location() {
    // An explicit file that is missing is an error; `none` reads nothing.
    let e = Site::parse("mailman_config = /nonexistent/mm_cfg.py\n", "c").expect_err("missing");
    assert_eq!(e.path, "/nonexistent/mm_cfg.py");
    let site = Site::parse("mailman_config = none\n", "c").expect("none");
    assert_eq!(site.mailman_config, None);
    // A bad value in mm_cfg.py names the line.
    let path = temp("bad", "NORMALIZE_FORM = 'NFX'\n");
    let e = Site::parse(&format!("mailman_config = {}\n", path.display()), "c").expect_err("bad");
    assert_eq!(e.line, 1);
    // The conf's known_spammer lines replace mm_cfg.py's list.
    let path = temp("spam", "KNOWN_SPAMMERS = [('A', 'a'), ('B', 'b')]\n");
    let site = Site::parse(
        &format!(
            "mailman_config = {}\nknown_spammer = C: c\n",
            path.display()
        ),
        "c",
    )
    .expect("parses");
    assert_eq!(
        site.mailman.known_spammers,
        vec![("C".to_owned(), "c".to_owned())]
    );
}
