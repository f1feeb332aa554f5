//! A read-only memory map of a whole file, unmapped on drop.

use std::fs::File;
use std::io;
use std::os::unix::io::AsRawFd;

/// A read-only shared mapping of `len` bytes.
pub(crate) struct Mmap {
    ptr: *const u8,
    len: usize,
}

// The mapping is read-only and owned: sharing it between threads is sharing
// an immutable byte slice.
unsafe impl Send for Mmap {}
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Map the first `len` bytes of `file` (`len` > 0, at most its size).
    pub(crate) fn map(file: &File, len: usize) -> io::Result<Mmap> {
        if len == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot map an empty file",
            ));
        }
        // No MAP_POPULATE: a lookup touches a few pages of a large file,
        // and faulting in all of them would cost more than the lookup.
        let flags = libc::MAP_SHARED;
        // SAFETY: a fresh mapping chosen by the kernel; the descriptor is
        // valid for the call and the mapping outlives it.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                flags,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mmap {
            ptr: ptr as *const u8,
            len,
        })
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until drop.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: exactly the region returned by mmap, unmapped once.
        unsafe {
            libc::munmap(self.ptr as *mut libc::c_void, self.len);
        }
    }
}

impl std::fmt::Debug for Mmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mmap({} bytes)", self.len)
    }
}
