//! The message body from Exim's spool `-D` file.
//!
//! The file starts with one line, `<message-id>-D\n`; the body follows as
//! received (dot-stuffing removed, line ends `\n`). Its offset differs
//! between Exim versions (19 before 4.97, 26 after), so it is found by
//! reading from the start, never by a fixed offset. The file is complete
//! and flushed by the time the DATA ACL and `local_scan()` run.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

/// At most this many bytes of the -D file are read; a longer body is cut
/// (every Mailman size limit is far below it).
pub const MAX_SPOOL_BYTES: u64 = 64 << 20;

/// Whether `id` looks like an Exim message id (so it can go in a path).
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn valid_message_id(id: &str) -> bool {
    (16..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Where the -D file of `id` may be: `input/` and, with
/// `split_spool_directory`, `input/<6th character>/`.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn candidates(spool_dir: &Path, id: &str) -> Vec<PathBuf> {
    let input = spool_dir.join("input");
    // Joined by hand, not `format!`: less code for a new process to fault in.
    let mut file = String::with_capacity(id.len() + 2);
    file.push_str(id);
    file.push_str("-D");
    let mut v = Vec::with_capacity(2);
    v.push(input.join(&file));
    if let Some(c) = id.get(5..6) {
        v.push(input.join(c).join(&file));
    }
    v
}

/// The body from the spool directory of a message being received.
pub fn body_from_spool(spool_dir: &Path, id: &str) -> io::Result<Vec<u8>> {
    let mut f = open_body(spool_dir, id)?;
    let mut data = Vec::new();
    append_body(&mut f, id, &mut data)?;
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
    let mut last = None;
    for p in candidates(spool_dir, id) {
        match File::open(&p) {
            Ok(f) => return Ok(f),
            Err(e) => last = Some(io::Error::new(e.kind(), format!("{}: {e}", p.display()))),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no -D file")))
}

/// Append the body in the -D file `f` of message `id` to `out`: the file
/// is read once, into room reserved for its size (so that a body is
/// copied once, after what `out` holds), then its id line taken out. On
/// an error `out` may hold part of the file.
#[cfg_attr(target_os = "linux", link_section = ".text.hot.mailman_gate")]
pub fn append_body(f: &mut File, id: &str, out: &mut Vec<u8>) -> io::Result<()> {
    let start = out.len();
    let size = f.metadata()?.len().min(MAX_SPOOL_BYTES) as usize;
    // One byte more than the file: a read that fills it all says the file
    // grew (then the rest is read too, up to the limit).
    let room = size + 1;
    out.try_reserve_exact(room)
        .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e.to_string()))?;
    out.resize(start + room, 0);
    let mut got = 0;
    while got < room {
        match f.read(&mut out[start + got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                out.truncate(start + got);
                return Err(e);
            }
        }
    }
    out.truncate(start + got);
    if got == room {
        f.take(MAX_SPOOL_BYTES - got as u64).read_to_end(out)?;
    }
    strip_id_line_at(out, start, Some(id))
}

/// The body from the -D file open on `fd` (as `local_scan()` gets it),
/// read with `pread` from offset 0 so the descriptor's position is left
/// as Exim set it.
pub fn body_from_fd(fd: RawFd, id: Option<&str>) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut off: u64 = 0;
    while off < MAX_SPOOL_BYTES {
        // SAFETY: pread into a buffer we own, on a descriptor Exim owns.
        let n = unsafe {
            libc::pread(
                fd,
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                off as libc::off_t,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n as usize]);
        off += n as u64;
    }
    strip_id_line(data, id)
}

/// Drop the `<id>-D` line, checking it names `id` when given.
pub fn strip_id_line(mut data: Vec<u8>, id: Option<&str>) -> io::Result<Vec<u8>> {
    strip_id_line_at(&mut data, 0, id)?;
    Ok(data)
}

/// [`strip_id_line`] on the -D file's bytes, which start at `start` in
/// `data`.
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
        assert_eq!(
            body_from_fd(f.as_raw_fd(), Some(ID)).unwrap(),
            body.as_bytes()
        );
        assert!(body_from_spool(&dir, "../../etc/passwd").is_err());
        assert!(body_from_spool(&dir, "1xVZND-00037b-ZZ").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
