//! `mailman-gate-milter`: the milter server for Postfix and Sendmail.
//! Arguments and configuration here; the work is in `mailman_gate::milter`.

use std::path::PathBuf;
use std::process::ExitCode;

use mailman_gate::gate::Gate;
use mailman_gate::milter::listen::{self, Endpoint};
use mailman_gate::milter::{log, serve, Settings, Shared};

const USAGE: &str = "\
usage: mailman-gate-milter [--config FILE] [--socket SPEC] [--socket-mode MODE]
                           [--mailman-domain DOMAIN]... [--max-message-size BYTES]
                           [--max-buffered BYTES] [--max-connections N] [--threads N]
  --config FILE            mailman-gate configuration (default /etc/mailman-gate.conf)
  --socket SPEC            unix:/path or inet:PORT@HOST (default: the socket systemd
                           passes; else unix:/run/mailman-gate/milter.sock)
  --socket-mode MODE       permissions of a UNIX socket it creates (default 0660)
  --mailman-domain DOMAIN  a domain whose local parts are Mailman lists (repeat, or
                           separate with commas): unknown lists there get 550 at RCPT
  --max-message-size BYTES larger messages are accepted without a verdict (default 32M)
  --max-buffered BYTES     all messages being received at once (default 256M)
  --max-connections N      MTA connections at once (default 100)
  --threads N              worker threads (default: one per core)
Sizes take a K, M or G suffix.";

const DEFAULT_SOCKET: &str = "unix:/run/mailman-gate/milter.sock";

struct Args {
    config: Option<PathBuf>,
    socket: Option<String>,
    socket_mode: u32,
    settings: Settings,
    threads: Option<usize>,
}

fn size(v: &str) -> Result<usize, String> {
    let (num, mul) = match v.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&v[..v.len() - 1], 1usize << 10),
        Some('M') => (&v[..v.len() - 1], 1 << 20),
        Some('G') => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("bad size {v:?}"))
}

fn parse(argv: &[String]) -> Result<Option<Args>, String> {
    let mut a = Args {
        config: None,
        socket: None,
        socket_mode: 0o660,
        settings: Settings::default(),
        threads: None,
    };
    let mut it = argv.iter();
    while let Some(opt) = it.next() {
        let (name, inline) = match opt.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (opt.as_str(), None),
        };
        if matches!(name, "-h" | "--help") {
            return Ok(None);
        }
        if name == "--version" {
            println!("mailman-gate-milter {}", env!("CARGO_PKG_VERSION"));
            std::process::exit(0);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name {
            "--config" => a.config = Some(PathBuf::from(value()?)),
            "--socket" => a.socket = Some(value()?),
            "--socket-mode" => {
                let v = value()?;
                a.socket_mode = u32::from_str_radix(&v, 8)
                    .ok()
                    .filter(|m| *m <= 0o777)
                    .ok_or_else(|| format!("bad mode {v:?}"))?;
            }
            "--mailman-domain" => {
                let v = value()?;
                a.settings.mailman_domains.extend(
                    v.split(',')
                        .map(|d| d.trim().to_ascii_lowercase())
                        .filter(|d| !d.is_empty()),
                );
            }
            "--max-message-size" => a.settings.max_message_size = size(&value()?)?,
            "--max-buffered" => a.settings.max_buffered = size(&value()?)?,
            "--max-connections" => {
                a.settings.max_connections = size(&value()?)?;
            }
            "--threads" => a.threads = Some(size(&value()?)?),
            _ => return Err(format!("unknown argument {opt:?}")),
        }
    }
    Ok(Some(a))
}

fn main() -> ExitCode {
    // A bug caught by a callback's panic boundary: one log line, not a
    // multi-line report (the answer is "continue" and logged there too).
    std::panic::set_hook(Box::new(|info| {
        log(&format!("panic: {}", info.to_string().replace('\n', " ")));
    }));
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mailman-gate-milter: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // A bad configuration stops the start: the MTA's
    // milter_default_action (accept) covers the mail meanwhile, and a
    // typo never silently changes a verdict.
    let gate = match Gate::open(args.config.as_deref()) {
        Ok(g) => g,
        Err(e) => {
            log(&format!("configuration: {e}"));
            return ExitCode::from(3);
        }
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        log("running as root: run it as its own user (see the systemd unit)");
    }
    // Before any thread exists: it clears systemd's variables.
    let bound = match listen::from_systemd() {
        Ok(Some(b)) => Ok((b, None)),
        Ok(None) => {
            let spec = args.socket.as_deref().unwrap_or(DEFAULT_SOCKET);
            Endpoint::parse(spec).and_then(|ep| {
                ep.bind(args.socket_mode)
                    .map(|b| (b, Some(ep)))
                    .map_err(|e| format!("cannot listen on {spec}: {e}"))
            })
        }
        Err(e) => Err(format!("socket from systemd: {e}")),
    };
    let (bound, endpoint) = match bound {
        Ok(b) => b,
        Err(e) => {
            log(&e);
            return ExitCode::from(1);
        }
    };

    // One thread: tokio's single-threaded scheduler (no cross-thread
    // wake-ups); more: its work-stealing one.
    let mut rt = if args.threads == Some(1) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    rt.enable_all();
    if let Some(n) = args.threads.filter(|&n| n > 1) {
        rt.worker_threads(n);
    }
    let rt = match rt.build() {
        Ok(rt) => rt,
        Err(e) => {
            log(&format!("cannot start: {e}"));
            return ExitCode::from(1);
        }
    };
    let shared = Shared::new(gate, args.settings);
    let where_ = match &endpoint {
        Some(Endpoint::Unix(p)) => p.display().to_string(),
        Some(Endpoint::Inet(a)) => a.to_string(),
        None => "socket from systemd".into(),
    };
    let result = rt.block_on(async move {
        let listener = bound.into_listener()?;
        // The handlers are in place before "ready": a SIGTERM that comes
        // at once still stops the milter cleanly.
        let stop = shutdown();
        log(&format!("{} ready ({where_})", env!("CARGO_PKG_VERSION")));
        serve(listener, shared, stop).await
    });
    if let Some(Endpoint::Unix(p)) = &endpoint {
        let _ = std::fs::remove_file(p);
    }
    match result {
        Ok(()) => {
            log("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            log(&format!("stopped: {e}"));
            ExitCode::from(1)
        }
    }
}

/// SIGTERM (systemd) or SIGINT. The handlers are installed when this is
/// called (inside the runtime), not when the future is first polled:
/// the accept loop may serve connections before it polls it.
fn shutdown() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = signals else {
            std::future::pending::<()>().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
}
