//! The typed list policy: every `config.pck` attribute that decides a post,
//! with Mailman 2.1.39's default when the attribute is missing.
//!
//! Member passwords (`passwords`) are never read: nothing here copies them
//! out of the parsed pickle.

use crate::pickle::{Node, Pickle, Val};
use std::collections::HashMap;

/// Bits of `user_options` (Mailman's `Defaults.py`).
pub mod option_bits {
    pub const DISABLE_DELIVERY: u32 = 1;
    pub const DONT_RECEIVE_OWN_POSTS: u32 = 2;
    pub const ACKNOWLEDGE_POSTS: u32 = 4;
    pub const DISABLE_MIME: u32 = 8;
    pub const CONCEAL_SUBSCRIPTION: u32 = 16;
    pub const SUPPRESS_PASSWORD_REMINDER: u32 = 32;
    pub const RECEIVE_NONMATCHING_TOPICS: u32 = 64;
    pub const MODERATE: u32 = 128;
    pub const DONT_RECEIVE_DUPLICATES: u32 = 256;
}

pub use crate::py::{bytes_to_text, PyStr};

mod members;
use members::KeyTable;
pub use members::{Member, MemberSource, MemberTable, Members};

/// One `header_filter_rules` entry: (patterns, action, empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderFilterRule {
    /// One regex per line; `str` or `unicode` as saved.
    pub patterns: PyStr,
    /// 0 defer, 2 reject, 3 discard, 6 accept, 7 hold (`mm_cfg` constants).
    pub action: i64,
}

/// Everything about one list that decides what happens to a post.
#[derive(Debug, Clone)]
pub struct ListPolicy {
    /// The internal name (the directory name under `lists/`).
    pub internal_name: String,
    pub real_name: String,
    pub host_name: String,
    pub preferred_language: String,
    /// `available_languages`.
    pub available_languages: Vec<String>,
    /// Members' own languages (`language`): lower-cased address → language,
    /// only where it differs from `member_language_default` (Mailman
    /// records one for every member, nearly always the list's language).
    pub member_languages: std::collections::BTreeMap<String, String>,
    /// The language of a member missing from `member_languages`: the
    /// list's `preferred_language` when the policy was read.
    pub member_language_default: String,
    pub data_version: i64,
    /// Lower-cased address → member. Regular members win over digest ones.
    pub members: Members,
    pub regular_count: usize,
    pub digest_count: usize,

    // Moderation of members and non-members.
    pub default_member_moderation: bool,
    pub member_moderation_action: i64,
    pub member_moderation_notice: PyStr,
    pub accept_these_nonmembers: Vec<String>,
    pub hold_these_nonmembers: Vec<String>,
    pub reject_these_nonmembers: Vec<String>,
    pub discard_these_nonmembers: Vec<String>,
    pub generic_nonmember_action: i64,
    pub nonmember_rejection_notice: PyStr,
    pub forward_auto_discards: bool,
    pub equivalent_domains: String,
    pub member_verbosity_threshold: i64,
    pub member_verbosity_interval: i64,
    pub emergency: bool,
    pub dmarc_moderation_action: i64,
    pub dmarc_quarantine_moderation_action: bool,
    pub dmarc_none_moderation_action: bool,
    pub dmarc_moderation_notice: PyStr,
    pub dmarc_moderation_addresses: Vec<String>,

    // Hold criteria and filters.
    pub administrivia: bool,
    pub max_num_recipients: i64,
    pub require_explicit_destination: bool,
    pub acceptable_aliases: String,
    pub bounce_matching_headers: String,
    pub max_message_size: i64,
    pub gateway_to_news: bool,
    pub news_moderation: i64,
    pub header_filter_rules: Vec<HeaderFilterRule>,
    pub filter_content: bool,
    pub filter_mime_types: Vec<String>,
    pub pass_mime_types: Vec<String>,
    pub filter_filename_extensions: Vec<String>,
    pub pass_filename_extensions: Vec<String>,
    pub filter_action: i64,
    pub collapse_alternatives: bool,
    pub convert_html_to_plaintext: bool,
    pub scrub_nondigest: bool,

    // Passwords as stored (SHA1 hex, or a legacy MD5 / crypt for `password`).
    pub password: Option<Vec<u8>>,
    pub mod_password: Option<Vec<u8>>,
    pub post_password: Option<Vec<u8>>,

    pub owner: Vec<String>,
    pub moderator: Vec<String>,
    /// A per-list `pipeline` attribute: handler names that replace
    /// Mailman's global pipeline for this list.
    pub pipeline: Option<Vec<String>>,
}

/// Why a pickle gave no list policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAListDict {
    /// The pickle's top-level value is not a dict: not a list's state.
    NotADict,
    /// The policy would copy more than its budget ([`policy_budget`]): a
    /// list this reader will not afford (the same values referenced again
    /// and again), which may still be good for Mailman.
    OverBudget { budget: usize },
}

impl std::fmt::Display for NotAListDict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotAListDict::NotADict => f.write_str("the pickle's top-level value is not a dict"),
            NotAListDict::OverBudget { budget } => write!(
                f,
                "the list's settings would take more than the {budget} bytes allowed"
            ),
        }
    }
}

/// All a list's read may hold at once: the input, its parse and the
/// policy built from it (the parse is dropped after). With the process
/// itself, the compiled patterns (`decide::patterns::CACHE_BYTES`) and a
/// message, about 200 MB at most whatever the `config.pck`.
pub const READ_BUDGET: usize = 176 << 20;

/// What the policy built from a pickle may hold: its strings and tables
/// are copies of the pickle's (a list of short addresses costs about 2.5
/// times its bytes, with each `String`), so 4 x the input with a floor,
/// and never past [`READ_BUDGET`] with the input and the parse. Only a
/// pickle that references the same values again and again, or a huge
/// one, comes near it.
pub fn policy_budget(input: usize, parse: usize) -> usize {
    let left = READ_BUDGET.saturating_sub(input.saturating_add(parse));
    input.saturating_mul(4).saturating_add(8 << 20).min(left)
}

/// Per-string overhead charged on top of its bytes (the `String` and the
/// allocator's rounding).
const STRING_COST: usize = 40;

const DEFAULT_BOUNCE_MATCHING_HEADERS: &str = "
# Lines that *start* with a '#' are comments.
to: friend@public.com
message-id: relay.comanche.denmark.eu
from: list@listme.com
from: .*@uplinkpro.com
";

fn default_pass_mime_types() -> Vec<String> {
    [
        "multipart",
        "message/rfc822",
        "application/pgp-signature",
        "text/plain",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn default_filter_extensions() -> Vec<String> {
    ["exe", "bat", "cmd", "com", "pif", "scr", "vbs", "cpl"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

impl ListPolicy {
    /// A list with every attribute at Mailman 2.1.39's default.
    pub fn with_defaults(internal_name: &str) -> ListPolicy {
        let mut real_name = internal_name.to_owned();
        if let Some(first) = real_name.get(0..1) {
            real_name = first.to_uppercase() + &real_name[1..];
        }
        ListPolicy {
            internal_name: internal_name.to_owned(),
            real_name,
            host_name: String::new(),
            preferred_language: "en".into(),
            available_languages: Vec::new(),
            member_languages: Default::default(),
            member_language_default: "en".into(),
            data_version: 0,
            members: Members::Parsed(HashMap::new()),
            regular_count: 0,
            digest_count: 0,
            default_member_moderation: false,
            member_moderation_action: 0,
            member_moderation_notice: PyStr::default(),
            accept_these_nonmembers: Vec::new(),
            hold_these_nonmembers: Vec::new(),
            reject_these_nonmembers: Vec::new(),
            discard_these_nonmembers: Vec::new(),
            generic_nonmember_action: 1,
            nonmember_rejection_notice: PyStr::default(),
            forward_auto_discards: true,
            equivalent_domains: String::new(),
            member_verbosity_threshold: 0,
            member_verbosity_interval: 300,
            emergency: false,
            dmarc_moderation_action: 0,
            dmarc_quarantine_moderation_action: true,
            dmarc_none_moderation_action: false,
            dmarc_moderation_notice: PyStr::default(),
            dmarc_moderation_addresses: Vec::new(),
            administrivia: true,
            max_num_recipients: 10,
            require_explicit_destination: true,
            acceptable_aliases: "\n".into(),
            bounce_matching_headers: DEFAULT_BOUNCE_MATCHING_HEADERS.into(),
            max_message_size: 40,
            gateway_to_news: false,
            news_moderation: 0,
            header_filter_rules: Vec::new(),
            filter_content: false,
            filter_mime_types: Vec::new(),
            pass_mime_types: default_pass_mime_types(),
            filter_filename_extensions: default_filter_extensions(),
            pass_filename_extensions: Vec::new(),
            filter_action: 0,
            collapse_alternatives: true,
            convert_html_to_plaintext: true,
            scrub_nondigest: false,
            password: None,
            mod_password: None,
            post_password: None,
            owner: Vec::new(),
            moderator: Vec::new(),
            pipeline: None,
        }
    }

    /// Read the policy of list `internal_name` from its parsed `config.pck`.
    pub fn from_pickle(internal_name: &str, pickle: &Pickle) -> Result<ListPolicy, NotAListDict> {
        let root = pickle.root();
        if !matches!(root.node(), Node::Dict(_)) {
            return Err(NotAListDict::NotADict);
        }
        let mut p = ListPolicy::with_defaults(internal_name);
        let budget = policy_budget(pickle.input_len(), pickle.memory_charged());
        let a = Attrs::new(root, budget);

        a.display_text("real_name", &mut p.real_name);
        a.text("host_name", &mut p.host_name);
        a.text("preferred_language", &mut p.preferred_language);
        a.strings("available_languages", &mut p.available_languages);
        p.member_language_default = p.preferred_language.clone();
        if let Some(d) = a.get("language") {
            let list_lang = p.preferred_language.clone();
            // Nearly every member has the list's language: compare before
            // copying anything.
            p.member_languages = d
                .items()
                .filter(|&(_, v)| !is_matching_text(v, &list_lang))
                .take_while(|&(k, v)| a.charge(text_cost(k) + text_cost(v)))
                .filter_map(|(k, v)| Some((matching_text(k)?, matching_text(v)?)))
                .filter(|(_, l)| *l != list_lang)
                .collect();
        }
        a.int("data_version", &mut p.data_version);

        a.flag(
            "default_member_moderation",
            &mut p.default_member_moderation,
        );
        a.int("member_moderation_action", &mut p.member_moderation_action);
        a.pystr("member_moderation_notice", &mut p.member_moderation_notice);
        a.strings("accept_these_nonmembers", &mut p.accept_these_nonmembers);
        a.strings("hold_these_nonmembers", &mut p.hold_these_nonmembers);
        a.strings("reject_these_nonmembers", &mut p.reject_these_nonmembers);
        a.strings("discard_these_nonmembers", &mut p.discard_these_nonmembers);
        a.int("generic_nonmember_action", &mut p.generic_nonmember_action);
        a.pystr(
            "nonmember_rejection_notice",
            &mut p.nonmember_rejection_notice,
        );
        a.flag("forward_auto_discards", &mut p.forward_auto_discards);
        a.text("equivalent_domains", &mut p.equivalent_domains);
        a.int(
            "member_verbosity_threshold",
            &mut p.member_verbosity_threshold,
        );
        a.int(
            "member_verbosity_interval",
            &mut p.member_verbosity_interval,
        );
        a.flag("emergency", &mut p.emergency);
        a.int("dmarc_moderation_action", &mut p.dmarc_moderation_action);
        a.flag(
            "dmarc_quarantine_moderation_action",
            &mut p.dmarc_quarantine_moderation_action,
        );
        a.flag(
            "dmarc_none_moderation_action",
            &mut p.dmarc_none_moderation_action,
        );
        a.pystr("dmarc_moderation_notice", &mut p.dmarc_moderation_notice);
        a.strings(
            "dmarc_moderation_addresses",
            &mut p.dmarc_moderation_addresses,
        );

        a.flag("administrivia", &mut p.administrivia);
        a.int("max_num_recipients", &mut p.max_num_recipients);
        a.flag(
            "require_explicit_destination",
            &mut p.require_explicit_destination,
        );
        a.text("acceptable_aliases", &mut p.acceptable_aliases);
        a.text("bounce_matching_headers", &mut p.bounce_matching_headers);
        a.int("max_message_size", &mut p.max_message_size);
        a.flag("gateway_to_news", &mut p.gateway_to_news);
        a.int("news_moderation", &mut p.news_moderation);
        if let Some(rules) = a.get("header_filter_rules") {
            p.header_filter_rules = rules
                .elements()
                .take_while(|&r| a.charge(r.elements().next().map_or(0, text_cost) + RULE_COST))
                .filter_map(header_filter_rule)
                .collect();
        }
        a.flag("filter_content", &mut p.filter_content);
        a.strings("filter_mime_types", &mut p.filter_mime_types);
        a.strings("pass_mime_types", &mut p.pass_mime_types);
        a.strings(
            "filter_filename_extensions",
            &mut p.filter_filename_extensions,
        );
        a.strings("pass_filename_extensions", &mut p.pass_filename_extensions);
        a.int("filter_action", &mut p.filter_action);
        a.flag("collapse_alternatives", &mut p.collapse_alternatives);
        a.flag(
            "convert_html_to_plaintext",
            &mut p.convert_html_to_plaintext,
        );
        a.flag("scrub_nondigest", &mut p.scrub_nondigest);

        p.password = a.password("password");
        p.mod_password = a.password("mod_password");
        p.post_password = a.password("post_password");
        a.strings("owner", &mut p.owner);
        a.strings("moderator", &mut p.moderator);
        if let Some(v) = a.get("pipeline") {
            p.pipeline = Some(
                v.elements()
                    .take_while(|&e| a.charge(text_cost(e)))
                    .filter_map(matching_text)
                    .collect(),
            );
        }

        read_members(&mut p, &a);
        if a.left.get() == 0 {
            return Err(NotAListDict::OverBudget { budget });
        }
        Ok(p)
    }

    /// Look up a lower-cased address among regular and digest members.
    pub fn member(&self, lower_address: &str) -> Option<Member> {
        self.members.get(lower_address)
    }

    /// [`ListPolicy::member`], or why the member table cannot tell.
    pub fn try_member(&self, lower_address: &str) -> Result<Option<Member>, String> {
        self.members.try_get(lower_address)
    }

    /// `<internal_name>-owner@<host_name>`, Mailman's `%(listowner)s`.
    pub fn owner_address(&self) -> String {
        format!("{}-owner@{}", self.internal_name, self.host_name)
    }

    /// `getMemberLanguage(address)`: the member's own language when the list
    /// offers it, else the list's.
    #[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate_verdict")]
    pub fn member_language(&self, address: &str) -> &str {
        // Lowered copy only when it differs (the sender comes lowered).
        let address: std::borrow::Cow<'_, str> = if address.is_ascii() {
            crate::address::ascii_lowercase(address)
        } else {
            address.to_lowercase().into()
        };
        let own = match self.member_languages.get(address.as_ref()) {
            Some(l) => Some(l.as_str()),
            None if self.member(&address).is_some() => Some(self.member_language_default.as_str()),
            None => None,
        };
        match own {
            Some(l)
                if self.available_languages.iter().any(|a| a == l)
                    && crate::i18n::charset(l).is_some() =>
            {
                l
            }
            _ => &self.preferred_language,
        }
    }

    /// `<internal_name>@<host_name>`.
    pub fn posting_address(&self) -> String {
        format!("{}@{}", self.internal_name, self.host_name)
    }
}

/// Fill the members map: both dicts, keyed by the lower-cased address, with
/// `user_options` bits. A value is `0` or the case-preserved address; any
/// value works, only the key matters for the decision.
fn read_members(p: &mut ListPolicy, budget: &Attrs<'_>) {
    let dicts = [("digest_members", true), ("members", false)].map(|(a, d)| (budget.get(a), d));
    let user_options = budget.get("user_options");
    let option_of = |v: Val<'_>| v.as_int().unwrap_or(0) as u32;
    // Mailman adds a member to `members` and `user_options` together, so
    // the two dicts are often pickled in the same key order: then the
    // options are read side by side, with no join table (whose random
    // accesses cost more than the rest of this function).
    let side_by_side: Option<Vec<u32>> = user_options.and_then(|opts| {
        let members = dicts.iter().filter_map(|(d, _)| d.as_ref());
        if members.clone().map(|d| d.len()).sum::<usize>() != opts.len() {
            return None;
        }
        let mut values = Vec::with_capacity(opts.len());
        let mut it = opts.items();
        for (key, _) in members.flat_map(|d| d.items()) {
            let (k, v) = it.next()?;
            if key.as_bytes()? != k.as_bytes()? {
                return None;
            }
            values.push(option_of(v));
        }
        Some(values)
    });
    // Otherwise the options are kept by address, copied in pickle order
    // like the members, and found when a member is looked up.
    let mut options = None;
    if let Some(opts) = user_options {
        if !budget.charge(opts.len().saturating_mul(4)) {
            return;
        }
    }
    if let (None, Some(d)) = (&side_by_side, user_options) {
        // Keys as text (Latin-1 may double them) and an entry each.
        let (bytes, raw) = d.items().fold((0usize, 0usize), |(b, r), (k, _)| {
            let n = k.as_bytes().map_or(0, <[u8]>::len);
            (b.saturating_add(text_cost(k)), r.saturating_add(n))
        });
        if !budget.charge(bytes) {
            return;
        }
        // Sized once (Latin-1 keys may still grow it).
        let mut t = KeyTable::with_capacity(d.len(), raw);
        for (k, v) in d.items() {
            if let Some(k) = k.as_bytes() {
                push_latin1(&mut t, k, option_of(v));
            }
        }
        options = Some(t);
    }
    // Raw key bytes, and what they take as text (a non-ASCII key's
    // Latin-1 text may double it).
    let (count, bytes, text) = dicts
        .iter()
        .filter_map(|(d, _)| d.as_ref())
        .flat_map(|d| d.items())
        .fold((0usize, 0usize, 0usize), |(n, b, t), (k, _)| {
            let raw = k.as_bytes().unwrap_or(&[]);
            let as_text = if raw.is_ascii() {
                raw.len()
            } else {
                raw.len() * 2
            };
            (n + 1, b + raw.len(), t + as_text)
        });
    // The table: all keys in one string, an entry of 16 bytes each and
    // its index, built at lookup.
    if !budget.charge(count.saturating_mul(24).saturating_add(text)) {
        return;
    }
    let mut table = MemberTable::with_capacity(count, bytes);
    let mut position = 0;
    for (dict, digest) in dicts {
        let Some(dict) = dict else { continue };
        for (key, _) in dict.items() {
            let at = position;
            position += 1;
            let Some(raw) = key.as_bytes() else { continue };
            let opts = match &side_by_side {
                Some(values) => values.get(at).copied().unwrap_or(0),
                None => 0,
            };
            // Keys are stored lower-cased by Mailman and looked up as they
            // are: a hand-edited upper-case key never matches, as in Mailman.
            if digest {
                p.digest_count += 1;
            } else {
                p.regular_count += 1;
            }
            let member = Member {
                digest,
                options: opts,
            };
            push_latin1(&mut table.members, raw, member);
        }
    }
    if let Some(options) = options {
        table.set_options(options);
    }
    p.members = Members::Table(table);
}

/// Adds a `str` key as its Latin-1 text.
fn push_latin1<V: Copy>(t: &mut KeyTable<V>, raw: &[u8], value: V) {
    match std::str::from_utf8(raw) {
        // ASCII is its own Latin-1 text: no copy.
        Ok(ascii) if raw.is_ascii() => t.push(ascii, value),
        _ => t.push(&crate::message::latin1(raw), value),
    }
}

fn header_filter_rule(v: Val<'_>) -> Option<HeaderFilterRule> {
    let mut parts = v.elements();
    let patterns = to_pystr(parts.next()?)?;
    let action = parts.next()?.as_int()?;
    Some(HeaderFilterRule { patterns, action })
}

fn to_pystr(v: Val<'_>) -> Option<PyStr> {
    match v.node() {
        Node::Text(_) => Some(PyStr::Text(v.as_str_lossy()?.into_owned())),
        Node::Bytes(_) => Some(PyStr::Bytes(v.as_bytes()?.to_vec())),
        _ => None,
    }
}

/// A string as the matching steps compare it: a `str`'s bytes one char
/// each (the message view maps header bytes the same way), a `unicode` as
/// its text.
fn matching_text(v: Val<'_>) -> Option<String> {
    match v.node() {
        Node::Bytes(_) => v.as_bytes().map(crate::message::latin1),
        Node::Text(_) => v.as_str_lossy().map(|s| s.into_owned()),
        _ => None,
    }
}

/// `matching_text(v) == Some(text)`, without copying.
fn is_matching_text(v: Val<'_>, text: &str) -> bool {
    match v.node() {
        Node::Bytes(_) => match v.as_bytes() {
            Some(b) if b.is_ascii() => b == text.as_bytes(),
            Some(b) => crate::message::latin1(b) == text,
            None => false,
        },
        Node::Text(_) => v.as_str_lossy().is_some_and(|t| t == text),
        _ => false,
    }
}

/// What copying a string value costs the policy budget (its bytes, twice
/// for a non-ASCII `str` that Latin-1 may double, and the string's
/// overhead).
fn text_cost(v: Val<'_>) -> usize {
    let n = match v.node() {
        Node::Bytes(_) => v
            .as_bytes()
            .map_or(0, |b| if b.is_ascii() { b.len() } else { b.len() * 2 }),
        Node::Text(_) => v.as_bytes().map_or(0, <[u8]>::len),
        _ => 0,
    };
    n + STRING_COST
}

/// Typed access to the root dict; a value of the wrong type keeps the
/// default. Copies are charged against `left`, the budget still unspent;
/// once it is spent (0) nothing more is copied and the policy is refused.
struct Attrs<'a> {
    /// The root dict's keys, each with its last value (Python's dict:
    /// a later duplicate key replaces the earlier one), found in one pass
    /// however many entries repeat a key.
    /// Seeded per process: a made-up file cannot be built to collide.
    index: hashbrown::HashMap<&'a [u8], Val<'a>, foldhash::fast::RandomState>,
    left: std::cell::Cell<usize>,
}

/// What a header filter rule costs besides its text: its place in the
/// rules' vector, which grows by doubling.
const RULE_COST: usize = 2 * std::mem::size_of::<HeaderFilterRule>();

/// What one distinct key of the root dict costs in [`Attrs::index`]
/// (the entry and the table's spare room).
const INDEX_ENTRY_COST: usize = 64;

impl<'a> Attrs<'a> {
    /// The index of `root`'s keys, charged against `budget`; a budget
    /// spent here leaves the index partial and the policy refused.
    fn new(root: Val<'a>, budget: usize) -> Attrs<'a> {
        let mut a = Attrs {
            index: Default::default(),
            left: std::cell::Cell::new(budget),
        };
        for (k, v) in root.items() {
            let Some(key) = k.as_bytes() else { continue };
            if let Some(slot) = a.index.get_mut(key) {
                *slot = v;
            } else if a.charge(INDEX_ENTRY_COST) {
                a.index.insert(key, v);
            } else {
                break;
            }
        }
        a
    }

    /// The value of the root dict's key `name` (the last one given).
    fn get(&self, name: &str) -> Option<Val<'a>> {
        self.index.get(name.as_bytes()).copied()
    }

    /// Charge `bytes`; false (and the budget spent) when they do not fit.
    fn charge(&self, bytes: usize) -> bool {
        match self.left.get().checked_sub(bytes) {
            Some(left) if self.left.get() > 0 => {
                self.left.set(left.max(1));
                true
            }
            _ => {
                self.left.set(0);
                false
            }
        }
    }

    fn flag(&self, name: &str, out: &mut bool) {
        if let Some(v) = self.get(name) {
            *out = v.truthy();
        }
    }
    fn int(&self, name: &str, out: &mut i64) {
        if let Some(n) = self.get(name).and_then(|v| v.as_int()) {
            *out = n;
        }
    }
    fn text(&self, name: &str, out: &mut String) {
        if let Some(s) = self.get(name).and_then(matching_text) {
            *out = s;
        }
    }
    /// For texts shown to people: a `str` read as UTF-8 when it is valid.
    fn display_text(&self, name: &str, out: &mut String) {
        if let Some(s) = self.get(name).and_then(to_pystr) {
            *out = s.to_text();
        }
    }
    fn pystr(&self, name: &str, out: &mut PyStr) {
        if let Some(s) = self.get(name).and_then(to_pystr) {
            *out = s;
        }
    }
    fn strings(&self, name: &str, out: &mut Vec<String>) {
        if let Some(v) = self.get(name) {
            if matches!(v.node(), Node::List(_) | Node::Tuple(_)) {
                *out = v
                    .elements()
                    .take_while(|&e| self.charge(text_cost(e)))
                    .filter_map(matching_text)
                    .collect();
            }
        }
    }
    fn password(&self, name: &str) -> Option<Vec<u8>> {
        self.get(name)
            .and_then(|v| v.as_bytes())
            .filter(|b| !b.is_empty())
            .map(|b| b.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_root_key_keeps_its_last_value() {
        // max_message_size given 200 000 times (1, 2, 3, 1, 2, 3, ...,
        // then 7), a unicode key among str ones: Python's dict keeps the
        // last value of each key.
        let mut d = b"}(".to_vec();
        for i in 0..200_000 {
            d.extend_from_slice(b"U\x10max_message_sizeK");
            d.push(1 + (i % 3) as u8);
        }
        d.extend_from_slice(b"X\x10\x00\x00\x00max_message_sizeK\x07");
        d.extend_from_slice(b"U\x0dadministrivia\x88U\x0dadministrivia\x89u.");
        let p = crate::pickle::parse(d, &crate::pickle::Limits::default()).unwrap();
        let policy = ListPolicy::from_pickle("x", &p).unwrap();
        assert_eq!(policy.max_message_size, 7);
        assert!(!policy.administrivia);
    }

    #[test]
    fn one_string_referenced_many_times_is_over_budget() {
        // accept_these_nonmembers: 100 000 references to one 10 KB
        // string, a 210 KB pickle whose copies would take a gigabyte.
        let mut d = b"}(U\x17accept_these_nonmembersT".to_vec();
        d.extend_from_slice(&10240u32.to_le_bytes());
        d.extend(std::iter::repeat_n(b'x', 10240));
        d.extend_from_slice(b"q\x010](");
        d.extend(std::iter::repeat_n(*b"h\x01", 100_000).flatten());
        d.extend_from_slice(b"eu.");
        let p = crate::pickle::parse(d, &crate::pickle::Limits::default()).unwrap();
        let e = ListPolicy::from_pickle("x", &p).unwrap_err();
        assert!(matches!(e, NotAListDict::OverBudget { .. }), "{e}");
        // A few hundred references are fine.
        let mut d = b"}(U\x17accept_these_nonmembersT".to_vec();
        d.extend_from_slice(&10240u32.to_le_bytes());
        d.extend(std::iter::repeat_n(b'x', 10240));
        d.extend_from_slice(b"q\x010](");
        d.extend(std::iter::repeat_n(*b"h\x01", 300).flatten());
        d.extend_from_slice(b"eu.");
        let p = crate::pickle::parse(d, &crate::pickle::Limits::default()).unwrap();
        let policy = ListPolicy::from_pickle("x", &p).unwrap();
        assert_eq!(policy.accept_these_nonmembers.len(), 300);
    }
    use crate::pickle::{parse, Limits};

    /// A protocol-0 pickle of a dict of dicts: `(name, [(key, int)])`.
    fn list_pickle(dicts: &[(&str, &[(&str, i64)])]) -> Pickle {
        let mut s = String::from("}");
        for (name, entries) in dicts {
            s += &format!("S'{name}'\n}}");
            for (k, v) in *entries {
                s += &format!("S'{k}'\nI{v}\ns");
            }
            s += "s";
        }
        s += ".";
        parse(s.into_bytes(), &Limits::default()).unwrap()
    }

    fn members_of(dicts: &[(&str, &[(&str, i64)])]) -> Vec<(String, Member)> {
        let p = ListPolicy::from_pickle("l", &list_pickle(dicts)).unwrap();
        p.members.entries()
    }

    #[test]
    fn user_options_join_in_any_key_order() {
        let m = |digest, options| Member { digest, options };
        let want = vec![
            ("a@x".to_owned(), m(false, 128)),
            ("b@x".to_owned(), m(true, 2)),
            ("c@x".to_owned(), m(false, 0)),
        ];
        let members: &[(&str, i64)] = &[("a@x", 0), ("c@x", 0)];
        let digest: &[(&str, i64)] = &[("b@x", 0)];
        // Side by side (same order as digest_members then members) ...
        let aligned: &[(&str, i64)] = &[("b@x", 2), ("a@x", 128), ("c@x", 0)];
        // ... and through the join table.
        let shuffled: &[(&str, i64)] = &[("c@x", 0), ("a@x", 128), ("b@x", 2)];
        let missing: &[(&str, i64)] = &[("a@x", 128), ("b@x", 2)];
        for opts in [aligned, shuffled, missing] {
            let got = members_of(&[
                ("digest_members", digest),
                ("members", members),
                ("user_options", opts),
            ]);
            assert_eq!(got, want, "user_options {opts:?}");
        }
        // A repeated key: the last value wins either way, as in a Python dict.
        let twice: &[(&str, i64)] = &[("a@x", 0), ("a@x", 0)];
        for opts in [&[("a@x", 1), ("a@x", 128)][..], &[("a@x", 128)][..]] {
            let got = members_of(&[("members", twice), ("user_options", opts)]);
            assert_eq!(got, vec![("a@x".to_owned(), m(false, 128))], "{opts:?}");
        }
    }
}
