//! The milter front end, for Postfix and Sendmail: a long-running server
//! speaking the milter protocol (through `indymilter`, on tokio) that asks
//! the same [`Gate`] as the Exim front end and answers with the same
//! policy ([`crate::answer`]).
//!
//! - [`transaction`]: what is remembered per connection and transaction,
//!   the RCPT decision and the end-of-message decision.
//! - [`reply`]: SMTP answers as milter replies.
//! - [`budget`]: bounded memory for buffered messages.
//! - [`callbacks`]: the protocol callbacks on top of those.
//! - [`listen`]: the socket (UNIX, TCP, or handed over by systemd).
//!
//! One process serves every SMTP connection, so the list cache stays warm;
//! lists are revalidated by `stat` as in Exim.

pub mod budget;
pub mod callbacks;
pub mod listen;
pub mod reply;
pub mod transaction;

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::gate::Gate;
use budget::Budget;

/// The milter's own settings (the verdict policy is the gate's
/// configuration file).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Domains whose local parts are Mailman lists (lower case): an address
    /// there that is no list is refused under `on_unknown_list = reject`.
    pub mailman_domains: Vec<String>,
    /// A message larger than this (as Mailman would receive it) is not
    /// judged: accepted, logged.
    pub max_message_size: usize,
    /// All messages being received at once hold at most this much.
    pub max_buffered: usize,
    /// MTA connections served at once.
    pub max_connections: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mailman_domains: Vec::new(),
            max_message_size: 32 << 20,
            max_buffered: 256 << 20,
            max_connections: 100,
        }
    }
}

impl Settings {
    pub fn is_mailman_domain(&self, domain: &str) -> bool {
        self.mailman_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// What every connection shares.
pub struct Shared {
    pub gate: Gate,
    pub settings: Settings,
    pub budget: Arc<Budget>,
}

impl Shared {
    pub fn new(gate: Gate, settings: Settings) -> Arc<Shared> {
        let budget = Budget::new(settings.max_message_size, settings.max_buffered);
        Arc::new(Shared {
            gate,
            settings,
            budget,
        })
    }
}

/// One line on standard error (journald under systemd). Never fails.
pub fn log(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "mailman-gate-milter: {line}");
}

/// Serve MTA connections on `listener` until `shutdown` completes; then
/// finish the commands in progress and return.
pub async fn serve<L>(
    listener: L,
    shared: Arc<Shared>,
    shutdown: impl Future,
) -> std::io::Result<()>
where
    L: indymilter::Listener,
{
    let config = indymilter::Config {
        max_connections: shared.settings.max_connections,
        // The MTA's own milter timeouts are shorter; this only reaps
        // connections the MTA forgot.
        connection_timeout: Duration::from_secs(7210),
        ..Default::default()
    };
    indymilter::run(listener, callbacks::callbacks(shared), config, shutdown).await
}
