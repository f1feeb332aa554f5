//! The message body from Exim's spool `-D` file.
//!
//! The file starts with one line, `<message-id>-D\n`; the body follows as
//! received (dot-stuffing removed, line ends `\n`). Its offset differs
//! between Exim versions (19 before 4.97, 26 after), so it is found by
//! reading from the start, never by a fixed offset. The file is complete
//! and flushed by the time the DATA ACL and `local_scan()` run.

use std::fs::File;
use std::io;
use std::os::fd::RawFd;
use std::path::Path;

/// At most this many bytes of the -D file are read; a longer body is cut
/// (every Mailman size limit is far below it).
pub const MAX_SPOOL_BYTES: u64 = 64 << 20;

/// Whether `id` looks like an Exim message id (so it can go in a path).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn valid_message_id(id: &str) -> bool {
    (16..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Room for a -D file's path built on the stack; a longer spool
/// directory goes through std's path code.
const PATH_ROOM: usize = 512;

/// `O_NOATIME` where there is one: reading the -D file Exim has just
/// written would otherwise update its access time, a journalled inode
/// write in every DATA call (relatime updates an atime older than the
/// mtime). Exim's user owns its spool files, which `O_NOATIME` requires.
#[cfg(any(target_os = "linux", target_os = "android"))]
const NOATIME: libc::c_int = libc::O_NOATIME;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const NOATIME: libc::c_int = 0;

/// `open(2)` of `<spool_dir>/input/[<sub>/]<id>-D`, the path built on the
/// stack: no allocation and none of std's path and `open` code, which a
/// connection forked from a warm daemon would have to fault in.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn open_candidate(spool_dir: &Path, sub: Option<&str>, id: &str) -> io::Result<File> {
    use std::os::unix::ffi::OsStrExt;
    let dir = spool_dir.as_os_str().as_bytes();
    let (sub, slash): (&[u8], &[u8]) = match sub {
        Some(s) => (s.as_bytes(), b"/"),
        None => (b"", b""),
    };
    let parts: [&[u8]; 6] = [dir, b"/input/", sub, slash, id.as_bytes(), b"-D"];
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len >= PATH_ROOM || memchr::memchr(0, dir).is_some() {
        let mut p = spool_dir.join("input");
        if !sub.is_empty() {
            p.push(std::ffi::OsStr::from_bytes(sub));
        }
        p.push(format!("{id}-D"));
        return File::open(&p)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())));
    }
    let mut path = [0u8; PATH_ROOM];
    let mut at = 0;
    for part in parts {
        path[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    let mut flags = libc::O_RDONLY | libc::O_CLOEXEC | NOATIME;
    loop {
        // SAFETY: `path` holds the path and a NUL after it (`at` <
        // PATH_ROOM, the rest zeroes); the descriptor is new.
        let fd = unsafe { libc::open(path.as_ptr().cast(), flags) };
        if fd >= 0 {
            // SAFETY: `fd` is open and owned by nothing else.
            return Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) });
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EPERM) && flags & NOATIME != 0 {
            // Not the file's owner (Exim's user is): open it plainly.
            flags &= !NOATIME;
            continue;
        }
        if e.kind() != io::ErrorKind::Interrupted {
            let shown = String::from_utf8_lossy(&path[..at]);
            return Err(io::Error::new(e.kind(), format!("{shown}: {e}")));
        }
    }
}

/// The body from the spool directory of a message being received.
pub fn body_from_spool(spool_dir: &Path, id: &str) -> io::Result<Vec<u8>> {
    let f = open_body(spool_dir, id)?;
    let mut data = Vec::new();
    append_body(&f, id, &mut data)?;
    Ok(data)
}

/// The -D file of message `id` in the spool directory, opened.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn open_body(spool_dir: &Path, id: &str) -> io::Result<File> {
    if !valid_message_id(id) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "bad message id",
        ));
    }
    // `input/`, then with `split_spool_directory` `input/<6th character>/`.
    match open_candidate(spool_dir, None, id) {
        Ok(f) => Ok(f),
        Err(first) => match id.get(5..6) {
            Some(c) => open_candidate(spool_dir, Some(c), id),
            None => Err(first),
        },
    }
}

/// Append the body in the -D file `f` of message `id` to `out` (see
/// [`append_body_at`]).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn append_body(f: &File, id: &str, out: &mut Vec<u8>) -> io::Result<()> {
    append_body_at(std::os::fd::AsRawFd::as_raw_fd(f), Some(id), out)
}

/// Append the body in the -D file open on `fd` to `out`: the file is read
/// with `pread` from its start (the descriptor's position is left as it
/// was: `local_scan()` gets Exim's own), into room reserved for its size
/// (so that a body is copied once, after what `out` holds), at most
/// [`MAX_SPOOL_BYTES`]; then its id line is taken out, checked against
/// `id` when given. On an error `out` may hold part of the file.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn append_body_at(fd: RawFd, id: Option<&str>, out: &mut Vec<u8>) -> io::Result<()> {
    let start = out.len();
    // `fstat(2)` itself: std's `metadata` probes `statx` first (more code
    // for a new process to fault in, for the one field read here).
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fstat` fills `st` on an open descriptor.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: filled by the successful `fstat`.
    let size = (unsafe { st.assume_init() }.st_size.max(0) as u64).min(MAX_SPOOL_BYTES) as usize;
    let limit = MAX_SPOOL_BYTES as usize;
    // One byte more than the file: a read that fills it all says the file
    // grew (then the room doubles, up to the limit).
    let mut room = (size + 1).min(limit);
    let mut got = 0;
    loop {
        if let Err(e) = out.try_reserve_exact(start + room - out.len()) {
            out.truncate(start + got);
            return Err(io::Error::new(io::ErrorKind::OutOfMemory, e.to_string()));
        }
        out.resize(start + room, 0);
        let ended = loop {
            let asked = room - got;
            let buf = &mut out[start + got..start + room];
            // SAFETY: pread into a buffer of `asked` bytes we own.
            let n = unsafe {
                libc::pread(
                    fd,
                    buf.as_mut_ptr() as *mut libc::c_void,
                    asked,
                    got as libc::off_t,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                out.truncate(start + got);
                return Err(e);
            }
            let n = n as usize;
            got += n;
            // The end of the file; a short read that reaches the size
            // `fstat` gave is it too (no second read to be told so).
            if n == 0 || (n < asked && got >= size) {
                break true;
            }
            if got == room {
                break false;
            }
        };
        if ended || room == limit {
            break;
        }
        room = room.saturating_mul(2).min(limit);
    }
    out.truncate(start + got);
    strip_id_line_at(out, start, id)
}

/// Drop the `<id>-D` line (checking it names `id` when given) of the -D
/// file's bytes, which start at `start` in `data`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
fn strip_id_line_at(data: &mut Vec<u8>, start: usize, id: Option<&str>) -> io::Result<()> {
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
    let nl = data[start..]
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| bad("no id line in -D file"))?;
    let line = &data[start..start + nl];
    if !line.ends_with(b"-D") {
        return Err(bad("-D file does not start with its id line"));
    }
    if let Some(id) = id {
        if &line[..line.len() - 2] != id.as_bytes() {
            return Err(bad("-D file belongs to another message"));
        }
    }
    data.drain(start..=start + nl);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1xVZND-00037b-1U";

    /// `data` without its id line.
    fn strip_id_line(mut data: Vec<u8>, id: Option<&str>) -> io::Result<Vec<u8>> {
        strip_id_line_at(&mut data, 0, id)?;
        Ok(data)
    }

    #[test]
    fn strips_the_id_line() {
        let d = format!("{ID}-D\nbody line\n.\n").into_bytes();
        assert_eq!(strip_id_line(d, Some(ID)).unwrap(), b"body line\n.\n");
        let d = format!("{ID}-D\n").into_bytes();
        assert_eq!(strip_id_line(d, Some(ID)).unwrap(), b"");
        let d = b"1xVZND-00037b-XX-D\nx\n".to_vec();
        assert!(strip_id_line(d, Some(ID)).is_err());
        assert!(strip_id_line(b"garbage".to_vec(), None).is_err());
    }

    #[test]
    fn reads_spool_and_fd_alike() {
        let dir = std::env::temp_dir().join(format!("mg-spool-{}", std::process::id()));
        // split spool: input/<6th char>/<id>-D
        let sub = dir.join("input").join("D");
        std::fs::create_dir_all(&sub).unwrap();
        let body = "hello\nworld\n".repeat(10000);
        std::fs::write(sub.join(format!("{ID}-D")), format!("{ID}-D\n{body}")).unwrap();
        assert_eq!(body_from_spool(&dir, ID).unwrap(), body.as_bytes());
        let f = File::open(sub.join(format!("{ID}-D"))).unwrap();
        use std::os::fd::AsRawFd;
        let mut from_fd = b"before".to_vec();
        append_body_at(f.as_raw_fd(), Some(ID), &mut from_fd).unwrap();
        assert_eq!(&from_fd[6..], body.as_bytes());
        assert_eq!(&from_fd[..6], b"before");
        // pread: the descriptor's position is where it was.
        assert_eq!(unsafe { libc::lseek(f.as_raw_fd(), 0, libc::SEEK_CUR) }, 0);
        assert!(body_from_spool(&dir, "../../etc/passwd").is_err());
        let missing = body_from_spool(&dir, "1xVZND-00037b-ZZ").unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(
            missing.to_string().contains("input/D/1xVZND-00037b-ZZ-D"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_body_past_the_limit_is_cut_at_it() {
        let dir = std::env::temp_dir().join(format!("mg-big-spool-{}", std::process::id()));
        let input = dir.join("input");
        std::fs::create_dir_all(&input).unwrap();
        let path = input.join(format!("{ID}-D"));
        let id_line = format!("{ID}-D\n");
        std::fs::write(&path, &id_line).unwrap();
        // Sparse: the file is longer than the limit without taking room.
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(MAX_SPOOL_BYTES + 4096)
            .unwrap();
        let body = body_from_spool(&dir, ID).unwrap();
        assert_eq!(body.len() as u64, MAX_SPOOL_BYTES - id_line.len() as u64);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_spool_directory_too_long_for_the_stack_buffer_is_read_too() {
        let mut dir = std::env::temp_dir().join(format!("mg-long-spool-{}", std::process::id()));
        while dir.as_os_str().len() < PATH_ROOM + 10 {
            dir.push("a-directory-name-of-some-length");
        }
        let input = dir.join("input");
        std::fs::create_dir_all(&input).unwrap();
        std::fs::write(
            input.join(format!("{ID}-D")),
            format!(
                "{ID}-D
body
"
            ),
        )
        .unwrap();
        assert_eq!(body_from_spool(&dir, ID).unwrap(), b"body\n");
        let top = std::env::temp_dir().join(format!("mg-long-spool-{}", std::process::id()));
        std::fs::remove_dir_all(top).unwrap();
    }
}
