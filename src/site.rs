//! Site settings: what Mailman keeps in `mm_cfg.py`, where the lists are,
//! and what the MTA should answer for each verdict.
//!
//! One file, default `/etc/mailman-gate.conf`; Debian's defaults when it is
//! absent. Format: `key = value` lines, `#` starts a comment line, keys may
//! repeat where noted. Unknown keys and bad values are errors, so a typo
//! never silently changes a verdict.
//!
//! ```text
//! lists_dir = /var/lib/mailman/lists      # LIST_DATA_DIR
//! snapshot_dir = /var/lib/mailman-gate     # compiled snapshots (optional)
//! layout = standard                       # or cpanel
//! listname_characters = [-+_.=a-z0-9]     # ACCEPTABLE_LISTNAME_CHARACTERS
//! sender_headers = from envelope reply-to sender   # SENDER_HEADERS
//! use_envelope_sender = no                # USE_ENVELOPE_SENDER
//! known_spammer = X-Spam-Status: ^Yes     # KNOWN_SPAMMERS entry (repeatable)
//! mail_commands_max_lines = 25            # DEFAULT_MAIL_COMMANDS_MAX_LINES
//! archive_html_sanitizer = 1              # ARCHIVE_HTML_SANITIZER
//! normalize_form = NFKC                   # NORMALIZE_FORM
//! on_hold = accept                        # accept | defer | reject
//! on_unknown_list = reject                # reject | accept
//! separate_submissions = yes              # one Mailman recipient per message
//! ```

use std::path::{Path, PathBuf};

use crate::message::NormalForm;
use crate::store::{Layout, NameRule, Store, DEFAULT_LISTNAME_CHARACTERS};

/// Default location of the configuration file.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/mailman-gate.conf";

/// One of Mailman's `SENDER_HEADERS`; `Envelope` is Python's `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderHeader {
    Envelope,
    Header(String),
}

/// What the MTA answers for a held post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnHold {
    /// Accept and let Mailman hold it (the sender gets Mailman's notice).
    Accept,
    /// 451: try later.
    Defer,
    /// 550 with the hold reason.
    Reject,
}

/// Everything site-wide.
#[derive(Debug, Clone)]
pub struct Site {
    pub lists_dir: PathBuf,
    /// Compiled snapshots (`mailman-gate export`), if used.
    pub snapshot_dir: Option<PathBuf>,
    pub layout: Layout,
    pub listname_characters: String,
    pub sender_headers: Vec<SenderHeader>,
    pub use_envelope_sender: bool,
    /// (header name, regex) pairs.
    pub known_spammers: Vec<(String, String)>,
    pub mail_commands_max_lines: usize,
    pub archive_html_sanitizer: i64,
    /// NORMALIZE_FORM for header_filter_rules.
    pub normalize_form: NormalForm,
    pub on_hold: OnHold,
    pub reject_unknown_list: bool,
    pub separate_submissions: bool,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            lists_dir: PathBuf::from(crate::store::DEBIAN_LISTS_DIR),
            snapshot_dir: None,
            layout: Layout::Standard,
            listname_characters: DEFAULT_LISTNAME_CHARACTERS.to_owned(),
            sender_headers: vec![
                SenderHeader::Header("from".into()),
                SenderHeader::Envelope,
                SenderHeader::Header("reply-to".into()),
                SenderHeader::Header("sender".into()),
            ],
            use_envelope_sender: false,
            known_spammers: Vec::new(),
            mail_commands_max_lines: 25,
            archive_html_sanitizer: 1,
            normalize_form: NormalForm::Nfkc,
            on_hold: OnHold::Accept,
            reject_unknown_list: true,
            separate_submissions: true,
        }
    }
}

/// A configuration file problem, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path, self.reason)
        } else {
            write!(f, "{}:{}: {}", self.path, self.line, self.reason)
        }
    }
}

impl std::error::Error for ConfigError {}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Some(true),
        "no" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

impl Site {
    /// Read `path`; a missing file at the default path gives the defaults.
    pub fn load(path: Option<&Path>) -> Result<Site, ConfigError> {
        let (path, explicit) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG_PATH), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Site::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(Site::default()),
            Err(e) => Err(ConfigError {
                path: path.display().to_string(),
                line: 0,
                reason: e.to_string(),
            }),
        }
    }

    /// Parse configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Site, ConfigError> {
        let mut site = Site::default();
        let mut lists_dir_set = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| ConfigError {
                path: origin.to_owned(),
                line: i + 1,
                reason,
            };
            let Some((key, value)) = line.split_once('=') else {
                return Err(err("expected `key = value`".into()));
            };
            let (key, value) = (key.trim(), value.trim());
            let bad = |what: &str| err(format!("{key}: expected {what}, got {value:?}"));
            match key {
                "lists_dir" => {
                    site.lists_dir = PathBuf::from(value);
                    lists_dir_set = true;
                }
                "snapshot_dir" => site.snapshot_dir = Some(PathBuf::from(value)),
                "layout" => {
                    site.layout = Layout::parse(value).ok_or_else(|| bad("standard or cpanel"))?
                }
                "listname_characters" => site.listname_characters = value.to_owned(),
                "sender_headers" => {
                    site.sender_headers = value
                        .split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|s| !s.is_empty())
                        .map(|s| match s.to_ascii_lowercase().as_str() {
                            "envelope" | "none" => SenderHeader::Envelope,
                            h => SenderHeader::Header(h.to_owned()),
                        })
                        .collect()
                }
                "use_envelope_sender" => {
                    site.use_envelope_sender = parse_bool(value).ok_or_else(|| bad("yes or no"))?
                }
                "known_spammer" => {
                    let (h, re) = value
                        .split_once(':')
                        .ok_or_else(|| bad("`Header: regex`"))?;
                    site.known_spammers
                        .push((h.trim().to_owned(), re.trim_start().to_owned()));
                }
                "mail_commands_max_lines" => {
                    site.mail_commands_max_lines = value.parse().map_err(|_| bad("a number"))?
                }
                "archive_html_sanitizer" => {
                    site.archive_html_sanitizer = value.parse().map_err(|_| bad("a number"))?
                }
                "normalize_form" => {
                    site.normalize_form =
                        NormalForm::parse(value).ok_or_else(|| bad("NFC, NFKC, NFD or NFKD"))?
                }
                "on_hold" => {
                    site.on_hold = match value {
                        "accept" => OnHold::Accept,
                        "defer" => OnHold::Defer,
                        "reject" => OnHold::Reject,
                        _ => return Err(bad("accept, defer or reject")),
                    }
                }
                "on_unknown_list" => {
                    site.reject_unknown_list = match value {
                        "reject" => true,
                        "accept" => false,
                        _ => return Err(bad("reject or accept")),
                    }
                }
                "separate_submissions" => {
                    site.separate_submissions = parse_bool(value).ok_or_else(|| bad("yes or no"))?
                }
                _ => return Err(err(format!("unknown setting {key:?}"))),
            }
        }
        if !lists_dir_set {
            site.lists_dir = PathBuf::from(site.layout.default_lists_dir());
        }
        Ok(site)
    }

    /// A store over this site's lists.
    pub fn store(&self) -> Store {
        Store::new(
            self.lists_dir.clone(),
            self.layout,
            NameRule::new(&self.listname_characters),
        )
        .with_snapshots(self.snapshot_dir.clone())
    }
}
