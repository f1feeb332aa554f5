//! The command line's definition: parsing, `--help`, and the man pages
//! (`tests/man_pages.rs` renders them from this same file).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use mailman_gate::address::Kind;
use mailman_gate::store::Layout;

/// Ask by hand what mailman-gate answers inside the MTA: whether an address
/// is a Mailman 2.1 list, and what Mailman would do with a post, from the
/// lists' own files.
///
/// Exit status: 0 answered; 1 (test-sender) rejected or discarded, (doctor)
/// a problem found; 2 usage error; 3 list state or configuration unreadable
/// (a one-line reason on standard error).
#[derive(Parser, Debug)]
#[command(
    name = "mailman-gate",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

fn layout(s: &str) -> Result<Layout, String> {
    Layout::parse(s).ok_or_else(|| format!("unknown layout {s:?} (standard or cpanel)"))
}

fn kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s).ok_or_else(|| format!("unknown kind {s:?}"))
}

/// Where the lists are: the configuration file, then these overrides.
#[derive(Args, Debug, Default, Clone)]
pub struct Site {
    /// Mailman's lists directory (LIST_DATA_DIR); overrides lists_dir
    #[arg(long, value_name = "DIR")]
    pub lists: Option<PathBuf>,
    /// Lists directory layout: standard (lists/NAME) or cpanel (lists/NAME_DOMAIN)
    #[arg(long, value_name = "LAYOUT", value_parser = layout)]
    pub layout: Option<Layout>,
    /// Configuration file [default: /etc/mailman-gate.conf, Debian's defaults if absent]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Compiled snapshots directory; overrides snapshot_dir
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
}

/// The post to decide on.
#[derive(Args, Debug)]
pub struct Post {
    #[command(flatten)]
    pub site: Site,
    /// The list's name
    #[arg(long, value_name = "NAME")]
    pub list: String,
    /// The envelope sender ("" for the null sender)
    #[arg(long, value_name = "ADDR")]
    pub sender: String,
    /// Which address of the list: post, owner, request, admin, bounces, confirm, join, leave, subscribe, unsubscribe
    #[arg(long, value_name = "KIND", value_parser = kind, default_value = "post")]
    pub kind: Kind,
    /// The message (RFC 822) from a file, or - for standard input [default: only "From: ADDR"]
    #[arg(long, value_name = "FILE")]
    pub message: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Is LOCAL_PART@DOMAIN a Mailman address? Which list and kind.
    ///
    /// With --json: {"list": NAME|null, "kind": KIND|null, "domain": HOST_NAME|null},
    /// exit 0 also when the address is no list.
    Route {
        #[command(flatten)]
        site: Site,
        /// The local part (suffixes such as -request, -bounces+... are understood)
        local_part: String,
        /// The domain
        domain: String,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Print a list's typed policy (never a password).
    ///
    /// The member count, not the members, unless --members.
    Dump {
        #[command(flatten)]
        site: Site,
        /// The list's name
        list: String,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
        /// Also print the members with their options
        #[arg(long)]
        members: bool,
    },
    /// What Mailman would do with a post: accept, hold, reject or discard.
    ///
    /// With --json: {"list": NAME, "action": "accept"|"hold"|"reject"|"discard",
    /// "step": STEP|null, "reason": TEXT|null, "undecided": TEXT|null}.
    Check {
        #[command(flatten)]
        post: Post,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
    /// The same as check, with every rule consulted and the caveats.
    Explain {
        #[command(flatten)]
        post: Post,
    },
    /// Exit 0 if a post would be accepted or held, 1 if rejected or discarded.
    ///
    /// For sites that call a program from an Exim ${run}.
    TestSender {
        #[command(flatten)]
        site: Site,
        /// The list's name
        list: String,
        /// The envelope sender
        envelope: String,
        /// The From: address ("" for none)
        from: String,
        /// The Reply-To: address ("" for none)
        reply_to: String,
    },
    /// Refresh the compiled snapshots of every list (or one) whose config.pck changed.
    ///
    /// Exit 3 if any list failed.
    Export {
        #[command(flatten)]
        site: Site,
        /// Only this list
        #[arg(long, value_name = "NAME")]
        list: Option<String>,
        /// Rewrite even fresh snapshots
        #[arg(long)]
        force: bool,
    },
    /// Check an installation: Exim, its configuration, the library, the
    /// lists' permissions, snapshots, domains; say how to fix each problem.
    ///
    /// Exit 0 only when every check passes (warnings allowed), 1 otherwise.
    Doctor {
        #[command(flatten)]
        site: Site,
        /// The Exim binary
        #[arg(long, value_name = "FILE", default_value = "/usr/sbin/exim4")]
        exim: PathBuf,
        /// Exim's configuration file [default: the one Exim uses]
        #[arg(long, value_name = "FILE")]
        exim_config: Option<PathBuf>,
        /// The user Exim's receiving process runs as
        #[arg(long, value_name = "USER", default_value = "Debian-exim")]
        exim_user: String,
        /// Snapshots older than this many seconds behind config.pck are reported
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        max_snapshot_lag: u64,
    },
}
