//! Launch (SPEC §5.2): replace sesame with the command.
//!
//! The program is searched on the *child's* `PATH` (the one the manifest may have
//! shaped), with `execvp`'s rules: each candidate is tried with `execve`; a missing one
//! moves on, a permission error is remembered and the search goes on, and the verdict
//! is 127 (nothing found) or 126 (found, but it would not run).

use crate::error::{Error, exit};
use crate::inject::ChildEnv;
use nix::errno::Errno;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The `PATH` used when the child's environment has none: Docker's (and runc's) default.
/// glibc's execvp(3) would search only `/bin:/usr/bin`, as tini does; gosu searches
/// nothing. A container's programs are found where the image's own PATH would find them.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A command ready to start: argv as C strings and the environment it gets.
pub struct Command {
    pub argv: Vec<CString>,
    pub env: ChildEnv,
}

impl Command {
    /// Converts `argv`; an argument with a NUL byte cannot be passed to `execve`.
    pub fn new(argv: &[OsString], env: ChildEnv) -> Result<Self, Error> {
        let argv = argv
            .iter()
            .map(|a| CString::new(a.clone().into_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| Error::Usage("an argument of the command contains a NUL byte".into()))?;
        if argv.is_empty() {
            return Err(Error::Usage(
                "no command given (usage: sesame [OPTIONS] [--] COMMAND [ARG]...)".into(),
            ));
        }
        Ok(Command { argv, env })
    }

    /// The command's name, for messages.
    pub fn name(&self) -> String {
        crate::shown::path(OsStr::from_bytes(self.argv[0].as_bytes())).to_string()
    }

    /// Whether the name is a path (it has a slash), not one to search on `PATH`.
    fn has_slash(&self) -> bool {
        self.argv[0].as_bytes().contains(&b'/')
    }

    /// Where the program may be, in order: the name itself if it has a slash, else each
    /// `PATH` entry joined with it (an empty entry means the current directory).
    fn candidates(&self) -> Vec<PathBuf> {
        let name = OsStr::from_bytes(self.argv[0].as_bytes());
        if self.has_slash() {
            return vec![PathBuf::from(name)];
        }
        if name.is_empty() {
            return Vec::new();
        }
        let path = self.env.get("PATH").unwrap_or(OsStr::new(DEFAULT_PATH));
        path.as_bytes()
            .split(|&b| b == b':')
            .map(|dir| {
                let dir = if dir.is_empty() {
                    Path::new(".")
                } else {
                    Path::new(OsStr::from_bytes(dir))
                };
                dir.join(name)
            })
            .collect()
    }

    /// Replaces this process with the command. Returns only on failure.
    pub fn exec(&self) -> Error {
        let envp = self.env.as_cstrs();
        let mut denied: Option<(Errno, PathBuf)> = None;
        let mut no_interpreter: Option<PathBuf> = None;
        for candidate in self.candidates() {
            let Ok(path) = CString::new(candidate.clone().into_os_string().into_vec()) else {
                continue;
            };
            let err = match nix::unistd::execve(&path, &self.argv, &envp) {
                Err(e) => e,
                Ok(never) => match never {},
            };
            match err {
                // A name with a slash is the one candidate: say why it cannot be
                // followed (a link loop, a file used as a directory, a name too long)
                // rather than "command not found". Still 127, as dash and busybox sh
                // exit: there is no file there to run (tini exits 1, bash 126).
                Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP if self.has_slash() => {
                    return Error::Launch {
                        command: self.name(),
                        reason: err.desc().to_lowercase(),
                        code: exit::NOT_FOUND,
                    };
                }
                // The file is there, so ENOENT was about its interpreter (a `#!` line
                // naming a missing program, `#!/bin/sh\r` from CRLF line endings, a
                // dynamic binary without its loader). Keep searching, as execvp does,
                // but if nothing runs, say that rather than "command not found".
                Errno::ENOENT if candidate.is_file() => {
                    no_interpreter.get_or_insert(candidate);
                }
                // Not here: try the next PATH entry.
                Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP => {}
                // There but not runnable by us: remember, keep looking (execvp does the same).
                Errno::EACCES | Errno::EPERM | Errno::EISDIR => {
                    denied.get_or_insert((err, candidate));
                }
                other => return self.failure(other, &candidate),
            }
        }
        match (denied, no_interpreter) {
            (Some((e, path)), _) => self.failure(e, &path),
            // 127, as tini and the shells exit for it.
            (None, Some(path)) => Error::Launch {
                command: self.name(),
                reason: missing_interpreter(&path),
                code: exit::NOT_FOUND,
            },
            (None, None) => Error::Launch {
                command: self.name(),
                reason: "command not found".into(),
                code: exit::NOT_FOUND,
            },
        }
    }

    fn failure(&self, e: Errno, path: &Path) -> Error {
        let reason = match e {
            // The kernel answers EACCES for a directory too; say which it was.
            Errno::EACCES | Errno::EISDIR if path.is_dir() => "is a directory".to_owned(),
            Errno::EACCES => "permission denied (not executable?)".to_owned(),
            Errno::E2BIG => {
                "argument list too long (the kernel limits one variable or argument to 128 KiB: \
                             deliver a large secret with inject.file instead)"
                    .to_owned()
            }
            Errno::EISDIR => "is a directory".to_owned(),
            Errno::ENOEXEC => {
                "exec format error (a script without #! line, or a binary for another machine)"
                    .to_owned()
            }
            e => e.desc().to_lowercase(),
        };
        let code = if e == Errno::ENOENT {
            exit::NOT_FOUND
        } else {
            exit::NOT_EXECUTABLE
        };
        Error::Launch {
            command: self.name(),
            reason,
            code,
        }
    }
}

/// Why a file that exists gave ENOENT: the interpreter its `#!` line names, or the
/// loader of a dynamically linked ELF binary, is missing. Reads the file's first line;
/// when it cannot tell, says so in general terms.
fn missing_interpreter(path: &Path) -> String {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // The kernel reads a `#!` line from the first 256 bytes (BINPRM_BUF_SIZE).
    let mut head = Vec::with_capacity(256);
    // Non-blocking: the name was a regular file a moment ago, but a FIFO put there
    // since must not hang the error path.
    let read = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .and_then(|f| f.take(256).read_to_end(&mut head));
    let generic = "its interpreter is missing (a #! line naming a program that is not there, \
                   or a dynamically linked binary without its loader)"
        .to_owned();
    if read.is_err() {
        return generic;
    }
    if let Some(line) = head.strip_prefix(b"#!") {
        let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = line.trim_ascii_start();
        let end = line
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(line.len());
        let interp = &line[..end];
        // Quoted only when it looks like the path the kernel looked for (it reads at
        // most 256 bytes of the line): whatever else follows `#!` is not shown, in
        // case the file is not the script it was meant to be.
        if !interp.starts_with(b"/") || interp.len() > 255 {
            return generic;
        }
        let shown = crate::shown::path(OsStr::from_bytes(interp));
        return if interp.ends_with(b"\r") {
            format!(
                "its #! interpreter {shown} does not exist: the script has Windows (CRLF) \
                 line endings; convert it to LF (dos2unix, or `sed -i 's/\\r$//'`)"
            )
        } else {
            format!("its #! interpreter {shown} does not exist")
        };
    }
    // An ELF file the kernel found but could not start: a dynamic binary whose loader
    // (its `PT_INTERP`) is not in this image. Which loader is not read out of the file:
    // that would be an ELF parser, for a message.
    if head.starts_with(b"\x7fELF") {
        return "it is dynamically linked and its loader (the ELF interpreter, such as \
                /lib64/ld-linux-x86-64.so.2) does not exist in this image; use a static \
                binary in a FROM scratch image"
            .to_owned();
    }
    generic
}

/// C strings for a slice of `CStr`s — kept for `init`, which execs in the child.
pub fn cstrs(v: &[CString]) -> Vec<&CStr> {
    v.iter().map(CString::as_c_str).collect()
}
