//! Reading a file that may not be what it claims to be.
//!
//! Secret paths come from mounts, variables and manifests written in a hurry, so the
//! file at the end may be a FIFO (opening it for reading would block until a writer
//! comes), a device (`/dev/zero` never ends), a directory, a socket, a symlink loop, or
//! a file that grows while it is read. This module opens without blocking, checks the
//! type with `fstat` on the open descriptor (not the path, which could be swapped in
//! between), and reads at most `max` bytes into a buffer that is zeroed when dropped
//! and never reallocated behind its own back (a grown `Vec` would leave a copy of the
//! old bytes in freed memory).

use crate::walk::{Confined, WalkError};
use nix::errno::Errno;
use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use zeroize::Zeroizing;

/// Why a file could not be read. `NotFound` lets a source fall through to the next
/// one; every other variant is an error the user must see.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing at that path (or a component is not a directory, or a dangling link).
    NotFound,
    /// Something other than a regular file; the text says what it is.
    NotRegular(&'static str),
    /// Larger than the limit (by `fstat`, or it grew while being read).
    TooLarge { max: u64 },
    /// The kernel said no; says who owns the file and who sesame is, since that is the
    /// first thing an operator needs to fix it.
    PermissionDenied {
        owner: Option<(u32, u32)>,
        mode: Option<u32>,
        uid: u32,
    },
    /// A directory or link on the way could have been changed by someone other than
    /// root (reading for a `--user`: [`crate::walk`]); the text names it.
    Untrusted(String),
    /// Any other failure, e.g. a symlink loop or an I/O error.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file"),
            ReadError::NotRegular(what) => write!(f, "not a regular file ({what})"),
            ReadError::TooLarge { max } => write!(f, "larger than the limit of {max} bytes"),
            ReadError::PermissionDenied { owner, mode, uid } => {
                f.write_str("permission denied (")?;
                if let Some((u, g)) = owner {
                    write!(f, "owned by {u}:{g}, ")?;
                }
                if let Some(m) = mode {
                    write!(f, "mode {m:04o}, ")?;
                }
                write!(f, "sesame runs as uid {uid})")
            }
            ReadError::Untrusted(why) => f.write_str(why),
            ReadError::Io(e) if e.raw_os_error() == Some(Errno::ELOOP as i32) => {
                f.write_str("too many levels of symbolic links")
            }
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// What kind of non-regular file `meta` describes, in words.
fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

/// Opens `path` (following symlinks), checks that it is a regular file of at most `max`
/// bytes, and reads it whole. Returns the bytes and the file's metadata.
pub fn read_capped(path: &Path, max: u64) -> Result<(Zeroizing<Vec<u8>>, Metadata), ReadError> {
    read_capped_open(path, max, None).map(|(bytes, meta, _)| (bytes, meta))
}

/// [`read_capped`], and the file still open, for a caller that closes many files at
/// once ([`CloseBatch`]). With `confined`, the path is walked by [`crate::walk`]'s
/// rules (for a root that reads on behalf of a `--user`): a link or directory on the
/// way that someone else could have changed is an error, not followed.
pub fn read_capped_open(
    path: &Path,
    max: u64,
    confined: Option<&Confined>,
) -> Result<(Zeroizing<Vec<u8>>, Metadata, File), ReadError> {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    // O_NOCTTY: a terminal device must not become sesame's controlling terminal.
    let file = match confined {
        None => std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc_flags())
            .open(path)
            .map_err(|e| open_error(path, e))?,
        Some(confined) => confined.open_file(path).map_err(|e| match e {
            WalkError::NotFound => ReadError::NotFound,
            WalkError::TooManyLinks => ReadError::Io(Errno::ELOOP.into()),
            WalkError::Os { errno, .. } => open_error(path, errno.into()),
            e @ WalkError::Untrusted { .. } => ReadError::Untrusted(e.to_string()),
        })?,
    };
    read_opened(file, max)
}

/// The rest of [`read_capped_open`], for a file the caller opened (and checked) itself:
/// reading that same descriptor, never the path again, is what keeps the check true of
/// what is read.
pub fn read_opened(
    mut file: File,
    max: u64,
) -> Result<(Zeroizing<Vec<u8>>, Metadata, File), ReadError> {
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular(kind(&meta)));
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge { max });
    }
    let bytes = read_bounded(&mut file, meta.len(), max)?;
    Ok((bytes, meta, file))
}

/// Files that have been read, closed together: one `close_range` for each run of
/// consecutive descriptors instead of one `close` a file. A system call costs about a
/// microsecond in a virtual machine, and a manifest may name thousands of files. At most
/// [`CloseBatch::MAX`] wait; the rest are closed when the batch is dropped (and every one
/// was opened close-on-exec, so none reaches the command in any case).
#[derive(Debug, Default)]
pub struct CloseBatch {
    fds: std::cell::RefCell<Vec<std::os::fd::RawFd>>,
}

impl CloseBatch {
    /// Far below any descriptor limit a container starts with (1024 at the least).
    pub const MAX: usize = 256;

    /// Takes `file` to close later.
    pub fn defer(&self, file: File) {
        use std::os::fd::IntoRawFd;
        let mut fds = self.fds.borrow_mut();
        fds.push(file.into_raw_fd());
        if fds.len() >= Self::MAX {
            close_all(&mut fds);
        }
    }
}

impl Drop for CloseBatch {
    fn drop(&mut self) {
        close_all(self.fds.get_mut());
    }
}

fn close_all(fds: &mut Vec<std::os::fd::RawFd>) {
    fds.sort_unstable();
    for run in fds.chunk_by(|a, b| b - a == 1) {
        let (first, last) = (run[0], run[run.len() - 1]);
        // SAFETY: every descriptor of the run came from `into_raw_fd` of a file this
        // batch owns, and the run is consecutive, so the range holds only those; none is
        // used again. `close_range` needs Linux 5.9: on an older kernel each is closed.
        let closed = unsafe { libc::close_range(first as u32, last as u32, 0) } == 0;
        if !closed {
            for &fd in run {
                // SAFETY: as above; the range was not closed.
                unsafe { libc::close(fd) };
            }
        }
    }
    fds.clear();
}

fn libc_flags() -> i32 {
    (nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_NOCTTY).bits()
}

/// Reads to the end, at most `max` bytes, growing only by explicit copies into new
/// zeroizing buffers so no stale copy of the contents is left behind.
fn read_bounded(file: &mut File, expected: u64, max: u64) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    // One byte more than expected, so that a file that did not grow is read in one
    // buffer and its end is seen without a second allocation.
    // Saturating: `max` may be `u64::MAX` (the manifest bounds max_file_size, but this
    // reader is also given other limits).
    let mut cap = usize::try_from(expected.min(max).saturating_add(1)).unwrap_or(usize::MAX);
    let mut buf = Zeroizing::new(vec![0u8; cap]);
    let mut len = 0;
    loop {
        if len == cap {
            if len as u64 > max {
                return Err(ReadError::TooLarge { max });
            }
            cap = usize::try_from((cap as u64).saturating_mul(2).min(max.saturating_add(1)))
                .unwrap_or(usize::MAX);
            let mut bigger = Zeroizing::new(vec![0u8; cap]);
            bigger[..len].copy_from_slice(&buf[..len]);
            buf = bigger;
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                // A regular file that gave exactly the size `fstat` reported and left
                // the buffer short has ended: no second `read` to see 0. (One that
                // grew since is read on until its end, or the limit.)
                if len < cap && len as u64 == expected {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
    if len as u64 > max {
        return Err(ReadError::TooLarge { max });
    }
    buf.truncate(len);
    Ok(buf)
}

/// Turns a failed `open` into the error the user should see.
fn open_error(path: &Path, e: io::Error) -> ReadError {
    match Errno::from_raw(e.raw_os_error().unwrap_or(0)) {
        Errno::ENOENT | Errno::ENOTDIR => ReadError::NotFound,
        // A socket cannot be opened at all: the kernel answers ENXIO.
        Errno::ENXIO => match std::fs::metadata(path) {
            Ok(meta) => ReadError::NotRegular(kind(&meta)),
            Err(_) => ReadError::Io(e),
        },
        Errno::EACCES | Errno::EPERM => {
            let meta = std::fs::metadata(path).ok();
            ReadError::PermissionDenied {
                owner: meta.as_ref().map(|m| (m.uid(), m.gid())),
                mode: meta.as_ref().map(|m| m.mode() & 0o7777),
                uid: nix::unistd::geteuid().as_raw(),
            }
        }
        _ => ReadError::Io(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_small_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, b"abc\n").unwrap();
        let (bytes, meta) = read_capped(&p, 100).unwrap();
        assert_eq!(&bytes[..], b"abc\n");
        assert!(meta.is_file());
    }

    #[test]
    fn enforces_the_limit_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s");
        std::fs::write(&p, vec![b'x'; 10]).unwrap();
        assert!(read_capped(&p, 10).is_ok());
        assert!(matches!(
            read_capped(&p, 9),
            Err(ReadError::TooLarge { max: 9 })
        ));
    }

    #[test]
    fn missing_and_dangling_are_not_found() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_capped(&dir.path().join("nope"), 9),
            Err(ReadError::NotFound)
        ));
        let link = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("gone"), &link).unwrap();
        assert!(matches!(read_capped(&link, 9), Err(ReadError::NotFound)));
    }

    #[test]
    fn fifo_directory_and_device_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(matches!(
            read_capped(&fifo, 9),
            Err(ReadError::NotRegular("a FIFO"))
        ));
        assert!(matches!(
            read_capped(dir.path(), 9),
            Err(ReadError::NotRegular("a directory"))
        ));
        let zero = Path::new("/dev/zero");
        assert!(matches!(
            read_capped(zero, 9),
            Err(ReadError::NotRegular("a character device"))
        ));
    }
}
