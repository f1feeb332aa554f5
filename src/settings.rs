//! The site-wide Mailman settings the decision reads (from `mm_cfg.py`,
//! or `mailman-gate.conf` over it: see [`crate::site`]). Plain data: where
//! the lists live and how the MTA answers are the site's, not these.

use crate::message::NormalForm;

/// One of Mailman's `SENDER_HEADERS`; `Envelope` is Python's `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderHeader {
    Envelope,
    Header(String),
}

/// Mailman's settings as its handlers read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailmanSettings {
    /// SENDER_HEADERS, for `msg.get_senders()`.
    pub sender_headers: Vec<SenderHeader>,
    /// USE_ENVELOPE_SENDER, for `msg.get_sender()`.
    pub use_envelope_sender: bool,
    /// KNOWN_SPAMMERS: (header name, regex) pairs.
    pub known_spammers: Vec<(String, String)>,
    /// DEFAULT_MAIL_COMMANDS_MAX_LINES, for the administrivia test.
    pub mail_commands_max_lines: usize,
    /// ARCHIVE_HTML_SANITIZER.
    pub archive_html_sanitizer: i64,
    /// NORMALIZE_FORM for header_filter_rules.
    pub normalize_form: NormalForm,
}

impl Default for MailmanSettings {
    /// Mailman 2.1.39's `Defaults.py`.
    fn default() -> Self {
        MailmanSettings {
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
        }
    }
}
