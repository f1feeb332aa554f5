//! Where the milter listens: a UNIX socket, a TCP socket, or the socket
//! systemd hands over (socket activation, `LISTEN_FDS`).
//!
//! Socket specifications as Postfix and Sendmail write them:
//! `unix:/path` (also `local:/path` or a bare `/path`), `inet:PORT@HOST`,
//! and also `inet:HOST:PORT`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use indymilter::EitherListener;
use tokio::net::{TcpListener, UnixListener};

pub type Listener = EitherListener<TcpListener, UnixListener>;

/// A bound, listening socket, before the runtime takes it.
#[derive(Debug)]
pub enum Bound {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

impl Bound {
    /// The socket for the milter (inside the tokio runtime).
    pub fn into_listener(self) -> io::Result<Listener> {
        Ok(match self {
            Bound::Tcp(l) => {
                l.set_nonblocking(true)?;
                EitherListener::Tcp(TcpListener::from_std(l)?)
            }
            Bound::Unix(l) => {
                l.set_nonblocking(true)?;
                EitherListener::Unix(UnixListener::from_std(l)?)
            }
        })
    }
}

/// A socket to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Inet(SocketAddr),
}

impl Endpoint {
    pub fn parse(spec: &str) -> Result<Endpoint, String> {
        let bad = || format!("bad socket {spec:?}: want unix:/path or inet:PORT@HOST");
        if let Some(p) = spec
            .strip_prefix("unix:")
            .or_else(|| spec.strip_prefix("local:"))
            .or_else(|| spec.starts_with('/').then_some(spec))
        {
            if !p.starts_with('/') {
                return Err(bad());
            }
            return Ok(Endpoint::Unix(PathBuf::from(p)));
        }
        let rest = spec
            .strip_prefix("inet:")
            .or_else(|| spec.strip_prefix("inet6:"))
            .ok_or_else(bad)?;
        let (port, host) = match rest.split_once('@') {
            Some((port, host)) => (port, host.trim_matches(|c| c == '[' || c == ']')),
            None => {
                let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
                (port, host.trim_matches(|c| c == '[' || c == ']'))
            }
        };
        let port: u16 = port.parse().map_err(|_| bad())?;
        let host: IpAddr = if host == "localhost" {
            IpAddr::from([127, 0, 0, 1])
        } else {
            host.parse().map_err(|_| bad())?
        };
        Ok(Endpoint::Inet(SocketAddr::new(host, port)))
    }

    /// Bind. A UNIX socket left by an earlier run is replaced unless a
    /// server still answers on it; the new one gets `mode`.
    pub fn bind(&self, mode: u32) -> io::Result<Bound> {
        match self {
            Endpoint::Inet(a) => Ok(Bound::Tcp(std::net::TcpListener::bind(a)?)),
            Endpoint::Unix(p) => {
                remove_stale(p)?;
                let l = std::os::unix::net::UnixListener::bind(p)?;
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))?;
                Ok(Bound::Unix(l))
            }
        }
    }
}

fn remove_stale(p: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(p).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{} is in use by another server", p.display()),
                ));
            }
            std::fs::remove_file(p)
        }
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", p.display()),
        )),
    }
}

/// The first socket systemd passed (`LISTEN_PID` is this process,
/// `LISTEN_FDS` ≥ 1), if any. Call before any thread is started (it
/// clears those variables).
pub fn from_systemd() -> io::Result<Option<Bound>> {
    let pid_ok = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        .is_some_and(|p| p == std::process::id());
    let fds: usize = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if !pid_ok || fds == 0 {
        return Ok(None);
    }
    // Not for the children of this process.
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_FDNAMES");
    const FIRST: RawFd = 3;
    // SAFETY: fcntl and getsockname on a descriptor number; storage is a
    // zeroed sockaddr_storage of the size passed.
    let family = unsafe {
        libc::fcntl(FIRST, libc::F_SETFD, libc::FD_CLOEXEC);
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if libc::getsockname(FIRST, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) != 0 {
            return Err(io::Error::last_os_error());
        }
        ss.ss_family as libc::c_int
    };
    // SAFETY: systemd passed us descriptor 3, a listening socket, and
    // nothing else owns it.
    let l = match family {
        libc::AF_UNIX => {
            Bound::Unix(unsafe { std::os::unix::net::UnixListener::from_raw_fd(FIRST) })
        }
        libc::AF_INET | libc::AF_INET6 => {
            Bound::Tcp(unsafe { std::net::TcpListener::from_raw_fd(FIRST) })
        }
        f => {
            return Err(io::Error::other(format!(
                "socket from systemd has address family {f}"
            )))
        }
    };
    Ok(Some(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_specs() {
        assert_eq!(
            Endpoint::parse("unix:/run/x.sock"),
            Ok(Endpoint::Unix("/run/x.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("/run/x.sock"),
            Ok(Endpoint::Unix("/run/x.sock".into()))
        );
        assert_eq!(
            Endpoint::parse("inet:8891@127.0.0.1"),
            Ok(Endpoint::Inet("127.0.0.1:8891".parse().unwrap()))
        );
        assert_eq!(
            Endpoint::parse("inet:127.0.0.1:8891"),
            Ok(Endpoint::Inet("127.0.0.1:8891".parse().unwrap()))
        );
        assert_eq!(
            Endpoint::parse("inet6:8891@[::1]"),
            Ok(Endpoint::Inet("[::1]:8891".parse().unwrap()))
        );
        assert!(Endpoint::parse("unix:relative").is_err());
        assert!(Endpoint::parse("inet:x@127.0.0.1").is_err());
        assert!(Endpoint::parse("tcp:1").is_err());
    }
}
