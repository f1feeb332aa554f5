//! Site settings, in three parts for three readers: what Mailman keeps in
//! `mm_cfg.py` that the decision reads ([`MailmanSettings`]), where the
//! lists are ([`ListsLocation`], for the store) and what the MTA should
//! answer for each verdict ([`AnswerPolicy`], for [`crate::answer`]).
//!
//! Mailman's own settings are read from its `mm_cfg.py` (the
//! `mailman_config` setting; Debian's `/etc/mailman/mm_cfg.py` by default,
//! see [`crate::mmcfg`]); `mailman-gate.conf` overrides any of them and
//! holds the gate's own. [`Site::origins`] tells where each value came from.
//!
//! One file, default `/etc/mailman-gate.conf`; Debian's defaults when it is
//! absent. Format: `key = value` lines, `#` starts a comment line, keys may
//! repeat where noted. Unknown keys and bad values are errors, so a typo
//! never silently changes a verdict.
//!
//! ```text
//! lists_dir = /var/lib/mailman/lists      # LIST_DATA_DIR
//! snapshot_dir = /var/lib/mailman-gate/snapshots  # or `none`; see below
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
//! mailman_config = /etc/mailman/mm_cfg.py # or none
//! server_language = en                    # DEFAULT_SERVER_LANGUAGE
//! dmarc_lookup = yes                      # look up DMARC policies in DNS
//! dns_server = 127.0.0.1:53               # default: /etc/resolv.conf
//! dmarc_timeout = 2                       # seconds for each DNS query
//! dmarc_resolver_timeout = 3              # DMARC_RESOLVER_TIMEOUT
//! dmarc_resolver_lifetime = 5             # DMARC_RESOLVER_LIFETIME
//! dmarc_organizational_domain_data_url = https://...  # or none
//! public_suffix_list = /usr/share/publicsuffix/public_suffix_list.dat
//! mailman_dir = /usr/lib/mailman          # Mailman's installation (PREFIX)
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::os::unix::ffi::OsStrExt;

pub use crate::answer::{AnswerPolicy, OnHold};
pub use crate::dmarc::{DmarcSettings, DEBIAN_PUBLIC_SUFFIX_LIST};
use crate::message::NormalForm;
use crate::mmcfg::PyValue;
pub use crate::settings::{MailmanSettings, SenderHeader};
use crate::store::{Layout, NameRule, Store, DEFAULT_LISTNAME_CHARACTERS};

/// Default location of the configuration file.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/mailman-gate.conf";

/// Where snapshots are kept when the lists are where the layout puts them
/// by default and `snapshot_dir` is not set. When the directory is missing
/// (or a snapshot stale), lists are read from `config.pck` as without it.
pub const DEFAULT_SNAPSHOT_DIR: &str = "/var/lib/mailman-gate/snapshots";

/// Mailman's site configuration on Debian.
pub const DEBIAN_MAILMAN_CONFIG: &str = "/etc/mailman/mm_cfg.py";
/// Mailman's site configuration on cPanel.
pub const CPANEL_MAILMAN_CONFIG: &str = "/usr/local/cpanel/3rdparty/mailman/Mailman/mm_cfg.py";

/// The settings that are Mailman's: (key here, name in `mm_cfg.py`).
pub const MAILMAN_SETTINGS: [(&str, &str); 12] = [
    ("lists_dir", "LIST_DATA_DIR"),
    ("listname_characters", "ACCEPTABLE_LISTNAME_CHARACTERS"),
    ("sender_headers", "SENDER_HEADERS"),
    ("use_envelope_sender", "USE_ENVELOPE_SENDER"),
    ("known_spammer", "KNOWN_SPAMMERS"),
    ("mail_commands_max_lines", "DEFAULT_MAIL_COMMANDS_MAX_LINES"),
    ("archive_html_sanitizer", "ARCHIVE_HTML_SANITIZER"),
    ("normalize_form", "NORMALIZE_FORM"),
    ("server_language", "DEFAULT_SERVER_LANGUAGE"),
    ("dmarc_resolver_timeout", "DMARC_RESOLVER_TIMEOUT"),
    ("dmarc_resolver_lifetime", "DMARC_RESOLVER_LIFETIME"),
    (
        "dmarc_organizational_domain_data_url",
        "DMARC_ORGANIZATIONAL_DOMAIN_DATA_URL",
    ),
];

/// Every key of the configuration file.
pub const KEYS: [&str; 23] = [
    "lists_dir",
    "snapshot_dir",
    "layout",
    "listname_characters",
    "sender_headers",
    "use_envelope_sender",
    "known_spammer",
    "mail_commands_max_lines",
    "archive_html_sanitizer",
    "normalize_form",
    "on_hold",
    "on_unknown_list",
    "separate_submissions",
    "mailman_config",
    "server_language",
    "dmarc_lookup",
    "dns_server",
    "dmarc_timeout",
    "dmarc_resolver_timeout",
    "dmarc_resolver_lifetime",
    "dmarc_organizational_domain_data_url",
    "public_suffix_list",
    "mailman_dir",
];

/// Where a setting's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Mailman's or the gate's default.
    Default,
    /// A line of Mailman's `mm_cfg.py`.
    MmCfg { path: PathBuf, line: usize },
    /// A line of the configuration file.
    Conf { path: String, line: usize },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::MmCfg { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Conf { path, line } => write!(f, "{path}:{line}"),
        }
    }
}

/// Where the lists are and how they are laid out: what the store needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListsLocation {
    pub lists_dir: PathBuf,
    /// Compiled snapshots (`mailman-gate export`), if used.
    pub snapshot_dir: Option<PathBuf>,
    /// `snapshot_dir` is [`DEFAULT_SNAPSHOT_DIR`] because the file did not
    /// set it: it then serves only the layout's default lists directory
    /// (see [`ListsLocation::store`]).
    pub snapshot_dir_defaulted: bool,
    pub layout: Layout,
    pub listname_characters: String,
}

impl Default for ListsLocation {
    fn default() -> Self {
        ListsLocation {
            lists_dir: PathBuf::from(crate::store::DEBIAN_LISTS_DIR),
            snapshot_dir: None,
            snapshot_dir_defaulted: false,
            layout: Layout::Standard,
            listname_characters: DEFAULT_LISTNAME_CHARACTERS.to_owned(),
        }
    }
}

impl ListsLocation {
    /// A store over these lists. A defaulted snapshot directory is
    /// dropped if the lists directory was changed afterwards (e.g. a
    /// command line `--lists`).
    pub fn store(&self) -> Store {
        let snapshots = match &self.snapshot_dir {
            Some(_)
                if self.snapshot_dir_defaulted
                    && self.lists_dir != Path::new(self.layout.default_lists_dir()) =>
            {
                None
            }
            other => other.clone(),
        };
        Store::new(
            self.lists_dir.clone(),
            self.layout,
            NameRule::new(&self.listname_characters),
        )
        .with_snapshots(snapshots)
    }
}

/// Everything site-wide: the configuration file over `mm_cfg.py`.
#[derive(Debug, Clone)]
pub struct Site {
    /// The Mailman settings the decision reads.
    pub mailman: MailmanSettings,
    /// Where the lists are.
    pub lists: ListsLocation,
    /// How the MTA answers.
    pub answers: AnswerPolicy,
    /// DEFAULT_SERVER_LANGUAGE.
    pub server_language: String,
    /// The `mm_cfg.py` that was read, if any.
    pub mailman_config: Option<PathBuf>,
    pub dmarc: DmarcSettings,
    /// Where each setting that is not at its default came from, by key
    /// (see [`Site::origins`]).
    pub origins: BTreeMap<&'static str, Origin>,
    /// Mailman's installation (its `PREFIX`): the catalogs are read from
    /// `<mailman_dir>/messages` (see [`crate::catalogs::Catalogs`]).
    pub mailman_dir: PathBuf,
}

/// Debian's Mailman 2.1 installation.
pub const DEBIAN_MAILMAN_DIR: &str = "/usr/lib/mailman";
/// cPanel's.
pub const CPANEL_MAILMAN_DIR: &str = "/usr/local/cpanel/3rdparty/mailman";

impl Default for Site {
    fn default() -> Self {
        Site {
            mailman: MailmanSettings::default(),
            lists: ListsLocation::default(),
            answers: AnswerPolicy::default(),
            server_language: "en".into(),
            mailman_config: None,
            dmarc: DmarcSettings::default(),
            origins: BTreeMap::new(),
            mailman_dir: PathBuf::from(DEBIAN_MAILMAN_DIR),
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

/// A `KNOWN_SPAMMERS` string as the matching steps compare it: a `str`'s
/// bytes one char each (as the message view maps header bytes), a
/// `unicode` as its text.
fn pattern_text(v: &PyValue) -> Option<String> {
    match v {
        PyValue::Bytes(b) => Some(crate::message::latin1(b)),
        PyValue::Text(t) => Some(t.clone()),
        _ => None,
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Some(true),
        "no" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

impl Site {
    /// Read `path`; a missing file at the default path gives the defaults
    /// (and Mailman's `mm_cfg.py` at its default path, if there is one).
    pub fn load(path: Option<&Path>) -> Result<Site, ConfigError> {
        let (path, explicit) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG_PATH), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Site::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                Site::parse("", &path.display().to_string())
            }
            Err(e) => Err(ConfigError {
                path: path.display().to_string(),
                line: 0,
                reason: e.to_string(),
            }),
        }
    }

    /// Where each setting came from: every key of the configuration file
    /// with Mailman's or the gate's default, a line of `mm_cfg.py`, or a
    /// line of the configuration file.
    pub fn origins(&self) -> Vec<(&'static str, Origin)> {
        KEYS.iter()
            .map(|k| (*k, self.origins.get(k).cloned().unwrap_or(Origin::Default)))
            .collect()
    }

    /// Parse configuration text; `origin` names it in errors. Mailman's
    /// `mm_cfg.py` (named by `mailman_config`, else the layout's default
    /// path, which may be absent) is read first; the text overrides it.
    pub fn parse(text: &str, origin: &str) -> Result<Site, ConfigError> {
        let mut entries: Vec<(&'static str, &str, usize)> = Vec::new();
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
            let key = key.trim();
            let Some(key) = KEYS.iter().copied().find(|k| *k == key) else {
                return Err(err(format!("unknown setting {key:?}")));
            };
            entries.push((key, value.trim(), i + 1));
        }
        let mut site = Site::default();
        let conf_sets = |key: &str| entries.iter().any(|e| e.0 == key);
        // The layout and mailman_config decide where mm_cfg.py is.
        for &(key, value, line) in &entries {
            if key == "layout" {
                site.apply(key, value, line, origin)?;
            }
        }
        let mm_path = match entries.iter().rev().find(|e| e.0 == "mailman_config") {
            Some((_, v, _)) if v.is_empty() || v.eq_ignore_ascii_case("none") => None,
            Some((_, v, _)) => Some((PathBuf::from(v), true)),
            None => Some((
                PathBuf::from(match site.lists.layout {
                    Layout::Standard => DEBIAN_MAILMAN_CONFIG,
                    Layout::Cpanel => CPANEL_MAILMAN_CONFIG,
                }),
                false,
            )),
        };
        if let Some((path, explicit)) = mm_path {
            let mm_err = |line: usize, reason: String| ConfigError {
                path: path.display().to_string(),
                line,
                reason,
            };
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let cfg = crate::mmcfg::read(&bytes).map_err(|e| mm_err(e.line, e.reason))?;
                    for (key, name) in MAILMAN_SETTINGS {
                        if conf_sets(key) {
                            continue;
                        }
                        if let Some(e) = cfg.errors.get(name) {
                            return Err(mm_err(
                                e.line,
                                format!("{}: not a plain value; set {key} in {origin}", e.reason),
                            ));
                        }
                        if let Some(setting) = cfg.settings.get(name) {
                            site.apply_mailman(key, &setting.value).map_err(|why| {
                                mm_err(
                                    setting.line,
                                    format!("{name}: {why}; set {key} in {origin}"),
                                )
                            })?;
                            site.origins.insert(
                                key,
                                Origin::MmCfg {
                                    path: path.clone(),
                                    line: setting.line,
                                },
                            );
                        }
                    }
                    site.mailman_config = Some(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {}
                Err(e) => return Err(mm_err(0, e.to_string())),
            }
        }
        let mut spammers_from_conf = false;
        for &(key, value, line) in &entries {
            if key == "known_spammer" && !spammers_from_conf {
                // The file's entries replace mm_cfg.py's list.
                site.mailman.known_spammers.clear();
                spammers_from_conf = true;
            }
            if key != "layout" {
                site.apply(key, value, line, origin)?;
            }
            site.origins.insert(
                key,
                Origin::Conf {
                    path: origin.to_owned(),
                    line,
                },
            );
        }
        if !site.origins.contains_key("lists_dir") {
            site.lists.lists_dir = PathBuf::from(site.lists.layout.default_lists_dir());
        }
        // Snapshots on by default for the stock lists directory only: a
        // configuration pointing elsewhere (a test tree, a second site)
        // must not share the system's snapshots.
        if !site.origins.contains_key("snapshot_dir")
            && site.lists.lists_dir == Path::new(site.lists.layout.default_lists_dir())
        {
            site.lists.snapshot_dir = Some(PathBuf::from(DEFAULT_SNAPSHOT_DIR));
            site.lists.snapshot_dir_defaulted = true;
        }
        if !site.origins.contains_key("mailman_dir") && site.lists.layout == Layout::Cpanel {
            site.mailman_dir = PathBuf::from(CPANEL_MAILMAN_DIR);
        }
        Ok(site)
    }

    /// One `mm_cfg.py` value, as Mailman uses it.
    fn apply_mailman(&mut self, key: &str, v: &PyValue) -> Result<(), String> {
        let text = || v.as_text().ok_or("expected a string");
        let seconds = || {
            v.as_f64()
                .filter(|s| *s >= 0.0)
                .ok_or("expected a number of seconds")
        };
        match key {
            "lists_dir" => {
                self.lists.lists_dir = match v {
                    PyValue::Bytes(b) => PathBuf::from(std::ffi::OsStr::from_bytes(b)),
                    other => PathBuf::from(other.as_text().ok_or("expected a string")?),
                }
            }
            "listname_characters" => self.lists.listname_characters = text()?,
            "sender_headers" => {
                let items = v.items().ok_or("expected a tuple or list")?;
                self.mailman.sender_headers = items
                    .iter()
                    .map(|h| match h {
                        PyValue::None => Ok(SenderHeader::Envelope),
                        other => other
                            .as_text()
                            .map(|t| SenderHeader::Header(t.to_ascii_lowercase()))
                            .ok_or("expected header names or None"),
                    })
                    .collect::<Result<_, _>>()?
            }
            "use_envelope_sender" => self.mailman.use_envelope_sender = v.truthy(),
            "known_spammer" => {
                let items = v
                    .items()
                    .ok_or("expected a list of (header, regex) pairs")?;
                self.mailman.known_spammers = items
                    .iter()
                    .map(|pair| match pair.items() {
                        Some([h, re]) => Some((pattern_text(h)?, pattern_text(re)?)),
                        _ => None,
                    })
                    .collect::<Option<_>>()
                    .ok_or("expected a list of (header, regex) pairs")?
            }
            "mail_commands_max_lines" => {
                self.mailman.mail_commands_max_lines = v
                    .as_int()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or("expected a number")?
            }
            "archive_html_sanitizer" => {
                self.mailman.archive_html_sanitizer = v.as_int().ok_or("expected a number")?
            }
            "normalize_form" => {
                self.mailman.normalize_form =
                    NormalForm::parse(&text()?).ok_or("expected NFC, NFKC, NFD or NFKD")?
            }
            "server_language" => self.server_language = text()?,
            "dmarc_resolver_timeout" => self.dmarc.resolver_timeout = seconds()?,
            "dmarc_resolver_lifetime" => self.dmarc.resolver_lifetime = seconds()?,
            "dmarc_organizational_domain_data_url" => {
                self.dmarc.org_domain_data_url = match v {
                    PyValue::None => None,
                    other => Some(text()?).filter(|u| !u.is_empty() && other.truthy()),
                }
            }
            _ => return Err(format!("{key} is not one of Mailman's settings")),
        }
        Ok(())
    }

    /// One `key = value` line of the configuration file.
    fn apply(
        &mut self,
        key: &str,
        value: &str,
        line: usize,
        origin: &str,
    ) -> Result<(), ConfigError> {
        let bad = |what: &str| ConfigError {
            path: origin.to_owned(),
            line,
            reason: format!("{key}: expected {what}, got {value:?}"),
        };
        let secs = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| bad("a number of seconds"))
        };
        match key {
            "lists_dir" => self.lists.lists_dir = PathBuf::from(value),
            "snapshot_dir" => {
                self.lists.snapshot_dir = (value != "none").then(|| PathBuf::from(value));
                self.lists.snapshot_dir_defaulted = false;
            }
            "mailman_dir" => self.mailman_dir = PathBuf::from(value),
            "layout" => {
                self.lists.layout = Layout::parse(value).ok_or_else(|| bad("standard or cpanel"))?
            }
            "listname_characters" => self.lists.listname_characters = value.to_owned(),
            "sender_headers" => {
                self.mailman.sender_headers = value
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(|s| match s.to_ascii_lowercase().as_str() {
                        "envelope" | "none" => SenderHeader::Envelope,
                        h => SenderHeader::Header(h.to_owned()),
                    })
                    .collect()
            }
            "use_envelope_sender" => {
                self.mailman.use_envelope_sender =
                    parse_bool(value).ok_or_else(|| bad("yes or no"))?
            }
            "known_spammer" => {
                let (h, re) = value
                    .split_once(':')
                    .ok_or_else(|| bad("`Header: regex`"))?;
                self.mailman
                    .known_spammers
                    .push((h.trim().to_owned(), re.trim_start().to_owned()));
            }
            "mail_commands_max_lines" => {
                self.mailman.mail_commands_max_lines = value.parse().map_err(|_| bad("a number"))?
            }
            "archive_html_sanitizer" => {
                self.mailman.archive_html_sanitizer = value.parse().map_err(|_| bad("a number"))?
            }
            "normalize_form" => {
                self.mailman.normalize_form =
                    NormalForm::parse(value).ok_or_else(|| bad("NFC, NFKC, NFD or NFKD"))?
            }
            "on_hold" => {
                self.answers.on_hold = match value {
                    "accept" => OnHold::Accept,
                    "defer" => OnHold::Defer,
                    "reject" => OnHold::Reject,
                    _ => return Err(bad("accept, defer or reject")),
                }
            }
            "on_unknown_list" => {
                self.answers.reject_unknown_list = match value {
                    "reject" => true,
                    "accept" => false,
                    _ => return Err(bad("reject or accept")),
                }
            }
            "separate_submissions" => {
                self.answers.separate_submissions =
                    parse_bool(value).ok_or_else(|| bad("yes or no"))?
            }
            // Read before everything else (see `parse`).
            "mailman_config" => {}
            "server_language" => self.server_language = value.to_owned(),
            "dmarc_lookup" => {
                self.dmarc.lookup = parse_bool(value).ok_or_else(|| bad("yes or no"))?
            }
            "dns_server" => {
                self.dmarc.dns_server = Some(
                    value
                        .parse::<SocketAddr>()
                        .or_else(|_| {
                            value
                                .parse::<std::net::IpAddr>()
                                .map(|ip| SocketAddr::new(ip, 53))
                        })
                        .map_err(|_| bad("an IP address, with an optional :port"))?,
                )
            }
            "dmarc_timeout" => {
                self.dmarc.timeout = secs()?;
                if self.dmarc.timeout == 0.0 {
                    return Err(bad("more than 0 seconds"));
                }
            }
            "dmarc_resolver_timeout" => self.dmarc.resolver_timeout = secs()?,
            "dmarc_resolver_lifetime" => self.dmarc.resolver_lifetime = secs()?,
            "dmarc_organizational_domain_data_url" => {
                self.dmarc.org_domain_data_url = Some(value.to_owned())
                    .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("none"))
            }
            "public_suffix_list" => self.dmarc.public_suffix_list = PathBuf::from(value),
            other => {
                return Err(ConfigError {
                    path: origin.to_owned(),
                    line,
                    reason: format!("unknown setting {other:?}"),
                })
            }
        }
        Ok(())
    }

    /// Mailman's and the gate's defaults with the lists in `lists_dir`
    /// (no configuration file, no `mm_cfg.py`).
    pub fn for_lists(lists_dir: impl Into<PathBuf>) -> Site {
        Site {
            lists: ListsLocation {
                lists_dir: lists_dir.into(),
                ..ListsLocation::default()
            },
            ..Site::default()
        }
    }

    /// A store over this site's lists (see [`ListsLocation::store`]).
    pub fn store(&self) -> Store {
        self.lists.store()
    }
}
