//! Walking a path as root without being led astray by someone who can write part of it.
//!
//! sesame reads secrets and writes `inject.file`s with more rights than the program it
//! starts (root, for a `--user`). A path walked by name lets whoever can write one of
//! its directories decide where it ends: a link planted there (`db_password ->
//! /root/only`, or a directory swapped for a link while `--watch` runs) makes root read
//! or replace a file of the attacker's choosing. So paths are walked here one component
//! at a time, each opened relative to the descriptor of the directory before it with
//! `O_NOFOLLOW`, and checked on that descriptor (`fstat`), never again by name:
//!
//! - A directory is *closed* when its owner is trusted (root, or the user sesame runs
//!   as) and neither its group nor others may write it: everything in it was put there
//!   by a trusted owner. It is *sticky* when others may write it but the sticky bit is
//!   set (`/tmp`, Kubernetes' secret volumes, mode 1777): others may add entries, but
//!   not rename or remove anyone else's, so an entry owned by a trusted owner is as
//!   good as one in a closed directory, and any other entry is refused. Any other
//!   directory (owned by someone else, or writable without the sticky bit) is *open*:
//!   sesame goes through nothing in it.
//! - A symbolic link is followed only when its entry is trusted by that rule (so the
//!   link itself was made by root or sesame's user, as Kubernetes' `..data` links and
//!   Debian's `/var/run -> /run` are), and its target is walked by the same rules,
//!   from `/` for an absolute target. At most [`MAX_LINKS`] links per path.
//! - A regular file in a sticky directory must also have one link only: a hard link to
//!   a root-only file, made by someone else, would look root-owned.
//!
//! The walk never resolves a link by handing a path to the kernel, so no `..`,
//! `/proc/self/fd` trick or swapped directory reaches past a check: every step is
//! relative to a descriptor already checked.

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat, readlinkat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstat, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, unlinkat};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// The most symbolic links one path may go through (the kernel's own limit is 40).
pub const MAX_LINKS: usize = 40;

/// Whose directories and links sesame trusts: root's, and those of the user it runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trust {
    euid: u32,
}

impl Trust {
    /// Trusts root and sesame's effective user.
    pub fn current() -> Trust {
        Trust {
            euid: nix::unistd::geteuid().as_raw(),
        }
    }

    fn owner(&self, uid: u32) -> bool {
        uid == 0 || uid == self.euid
    }

    /// What `dir` may be trusted with.
    fn guard(&self, dir: &FileStat) -> Guard {
        let mode = dir.st_mode & 0o7777;
        if !self.owner(dir.st_uid) {
            Guard::Open(format!("is owned by uid {}", dir.st_uid))
        } else if mode & 0o022 == 0 {
            Guard::Closed
        } else if mode & 0o1000 != 0 {
            Guard::Sticky
        } else {
            Guard::Open(format!(
                "can be written by {} (mode {mode:04o})",
                if mode & 0o002 != 0 {
                    "others"
                } else {
                    "its group"
                }
            ))
        }
    }
}

/// What a directory can be trusted with (see the module's documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Only trusted owners can change it.
    Closed,
    /// Others may add entries but not touch a trusted owner's.
    Sticky,
    /// Someone else can change it; the text says who.
    Open(String),
}

/// Why a walk stopped.
#[derive(Clone, Debug)]
pub enum WalkError {
    /// A component does not exist (or is not a directory where one was needed).
    NotFound,
    /// A directory or link on the way could have been put there by someone else.
    Untrusted { path: PathBuf, why: String },
    /// More than [`MAX_LINKS`] links.
    TooManyLinks,
    /// The kernel refused a step; `path` is where.
    Os { path: PathBuf, errno: Errno },
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::NotFound => f.write_str("no such file"),
            WalkError::Untrusted { path, why } => write!(
                f,
                "{} {why}; sesame does not go through what someone other than root \
                 (or its own user) can change",
                crate::shown::path(&path)
            ),
            WalkError::TooManyLinks => f.write_str("too many levels of symbolic links"),
            WalkError::Os { path, errno } => {
                write!(
                    f,
                    "{}: {}",
                    crate::shown::path(&path),
                    errno.desc().to_lowercase()
                )
            }
        }
    }
}

/// An open, checked directory.
#[derive(Clone, Debug)]
pub struct Dir {
    /// An `O_PATH` descriptor: enough for every `*at` call, whatever the mode. Shared,
    /// so that a walk can be copied without a system call ([`Confined`]).
    pub fd: Rc<OwnedFd>,
    /// The path it was reached by, links resolved (for messages).
    pub path: PathBuf,
    pub guard: Guard,
}

/// A directory the walk created, to be removed again when what it was made for fails.
#[derive(Debug)]
pub struct Created {
    parent: Rc<OwnedFd>,
    name: OsString,
}

impl Created {
    /// Removes the directory if it is still empty (another file may have gone into it).
    pub fn remove(self) {
        let _ = unlinkat(
            &self.parent,
            self.name.as_os_str(),
            UnlinkatFlags::RemoveDir,
        );
    }
}

/// Whether missing directories are an error or made.
#[derive(Clone, Copy, Debug)]
pub enum Missing {
    NotFound,
    /// Create them with this mode, owned by sesame's user.
    Create(u32),
}

/// Opens the directory `path`, creating what is missing when asked. Every directory
/// passed through, and the one reached, obeys the rules of the module; the one reached
/// may be open (the caller decides what it may do there: [`Dir::guard`]).
pub fn open_dir(
    path: &Path,
    trust: &Trust,
    missing: Missing,
) -> Result<(Dir, Vec<Created>), WalkError> {
    let mut created = Vec::new();
    let mut walk = Walk::start(path, trust)?;
    while let Some(name) = walk.next_name() {
        walk.enter(&name, missing, &mut created)?;
    }
    Ok((walk.into_dir(), created))
}

/// Opens the file `path` for reading (`O_NONBLOCK`, `O_NOCTTY`, close-on-exec), after
/// a walk by the rules of the module. The caller checks what kind of file it is.
pub fn open_file(path: &Path, trust: &Trust) -> Result<File, WalkError> {
    Walk::start(path, trust)?.open_file()
}

/// Opens the file `path` for reading (as [`open_file`]) when it is reached by the rules
/// of the module and only a trusted owner can change it (owned by one, not writable by
/// group or others). For what decides what root does, such as the manifest under
/// `--user`: whoever can rewrite it chooses the files root reads and writes. The caller
/// reads the descriptor returned, not the path again: a name checked and then opened
/// anew could meanwhile be another file (one that did not exist at the check, made in
/// a sticky directory such as `/tmp`).
pub fn open_unchangeable(path: &Path, trust: &Trust) -> Result<File, WalkError> {
    let file = open_file(path, trust)?;
    let st = fstat(&file).map_err(|errno| WalkError::Os {
        path: path.to_path_buf(),
        errno,
    })?;
    let mode = st.st_mode & 0o7777;
    let why = if !trust.owner(st.st_uid) {
        format!("is owned by uid {}", st.st_uid)
    } else if mode & 0o022 != 0 {
        format!("can be written by its group or others (mode {mode:04o})")
    } else {
        return Ok(file);
    };
    Err(WalkError::Untrusted {
        path: path.to_path_buf(),
        why,
    })
}

/// How a walk to a directory ended: every directory from `/` to it, or why not.
type Walked = Result<Vec<Dir>, WalkError>;

/// Reading many files for a `--user`: the trust, and the directories already walked,
/// so that a thousand secrets in one secrets directory cost one walk to it, not a
/// thousand. A directory's check holds for as long as sesame runs: only its trusted
/// owner could change what the check looked at.
#[derive(Debug)]
pub struct Confined {
    trust: Trust,
    /// The last few parent directories asked for, as given, and how their walk ended.
    walked: RefCell<Vec<(PathBuf, Walked)>>,
}

impl Confined {
    /// How many directories are remembered: the secrets directory, the environment's,
    /// and a few of `X_FILE`s.
    const KEEP: usize = 8;

    /// Whose directories and links it trusts.
    pub fn trust(&self) -> Trust {
        self.trust
    }

    pub fn new(trust: Trust) -> Confined {
        Confined {
            trust,
            walked: RefCell::new(Vec::new()),
        }
    }

    /// [`open_file`], reusing the walk to `path`'s directory when it was done before.
    pub fn open_file(&self, path: &Path) -> Result<File, WalkError> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return open_file(path, &self.trust);
        };
        let mut walked = self.walked.borrow_mut();
        let known = walked.iter().position(|(p, _)| p == parent);
        let stack = match known {
            Some(i) => walked[i].1.clone(),
            None => {
                let stack = Walk::start(parent, &self.trust).and_then(Walk::into_dirs);
                if walked.len() == Self::KEEP {
                    drop(walked.remove(0));
                }
                walked.push((parent.to_path_buf(), stack.clone()));
                stack
            }
        }?;
        drop(walked);
        let walk = Walk {
            trust: &self.trust,
            stack,
            todo: VecDeque::from([name.to_owned()]),
            links: 0,
        };
        walk.open_file()
    }
}

/// The state of one walk: the directories entered (for `..`), the names still to go,
/// and how many links were followed.
struct Walk<'t> {
    trust: &'t Trust,
    stack: Vec<Dir>,
    todo: VecDeque<OsString>,
    links: usize,
}

impl<'t> Walk<'t> {
    fn start(path: &Path, trust: &'t Trust) -> Result<Self, WalkError> {
        let absolute;
        let path = if path.is_absolute() {
            path
        } else {
            let cwd = std::env::current_dir().map_err(|e| WalkError::Os {
                path: PathBuf::from("."),
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            })?;
            absolute = cwd.join(path);
            &absolute
        };
        let mut walk = Walk {
            trust,
            stack: Vec::new(),
            todo: VecDeque::new(),
            links: 0,
        };
        walk.restart_at_root()?;
        walk.push_front(path);
        Ok(walk)
    }

    fn restart_at_root(&mut self) -> Result<(), WalkError> {
        let root = PathBuf::from("/");
        let fd = openat(
            nix::fcntl::AT_FDCWD,
            "/",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| WalkError::Os {
            path: root.clone(),
            errno,
        })?;
        let st = fstat(&fd).map_err(|errno| WalkError::Os {
            path: root.clone(),
            errno,
        })?;
        self.stack.clear();
        self.stack.push(Dir {
            fd: Rc::new(fd),
            path: root,
            guard: self.trust.guard(&st),
        });
        Ok(())
    }

    /// Puts the components of `path` before the names still to walk.
    fn push_front(&mut self, path: &Path) {
        for c in path.components().rev() {
            match c {
                Component::Normal(n) => self.todo.push_front(n.to_owned()),
                Component::ParentDir => self.todo.push_front(OsString::from("..")),
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
    }

    /// The next name to look up; `..` is handled here (never above `/`).
    fn next_name(&mut self) -> Option<OsString> {
        while let Some(name) = self.todo.pop_front() {
            if name == ".." {
                if self.stack.len() > 1 {
                    self.stack.pop();
                }
                continue;
            }
            return Some(name);
        }
        None
    }

    fn dir(&self) -> &Dir {
        self.stack.last().expect("the walk starts at /")
    }

    fn into_dir(mut self) -> Dir {
        self.stack.pop().expect("the walk starts at /")
    }

    /// Walks the rest of the path as directories (nothing created): the whole stack.
    fn into_dirs(mut self) -> Result<Vec<Dir>, WalkError> {
        let mut none = Vec::new();
        while let Some(name) = self.next_name() {
            self.enter(&name, Missing::NotFound, &mut none)?;
        }
        Ok(self.stack)
    }

    /// Walks the rest of the path and opens its last component for reading.
    fn open_file(mut self) -> Result<File, WalkError> {
        let walk = &mut self;
        let mut none = Vec::new();
        while let Some(name) = walk.next_name() {
            if !walk.todo.is_empty() {
                walk.enter(&name, Missing::NotFound, &mut none)?;
                continue;
            }
            let dir = walk.dir();
            let flags = OFlag::O_RDONLY
                | OFlag::O_NONBLOCK
                | OFlag::O_NOCTTY
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC;
            match openat(&dir.fd, name.as_os_str(), flags, Mode::empty()) {
                // Anything in a closed directory was put there by a trusted owner: no
                // need to look at it here (the caller's `fstat` says what it is).
                Ok(fd) if dir.guard == Guard::Closed => return Ok(File::from(fd)),
                Ok(fd) => {
                    let path = dir.path.join(&name);
                    let st = fstat(&fd).map_err(|errno| WalkError::Os {
                        path: path.clone(),
                        errno,
                    })?;
                    walk.admit(&path, &st)?;
                    return Ok(File::from(fd));
                }
                // O_NOFOLLOW on a link: follow it if it may be followed.
                Err(Errno::ELOOP) => walk.follow(&name)?,
                Err(Errno::ENOENT | Errno::ENOTDIR) => return Err(WalkError::NotFound),
                Err(errno) => {
                    return Err(WalkError::Os {
                        path: dir.path.join(&name),
                        errno,
                    });
                }
            }
        }
        // The path named a directory (`/`, or one ending in `..`).
        Err(WalkError::Os {
            path: walk.dir().path.clone(),
            errno: Errno::EISDIR,
        })
    }

    /// Whether `path`, with status `st`, found in the current directory, may be used.
    fn admit(&self, path: &Path, st: &FileStat) -> Result<(), WalkError> {
        let dir = self.dir();
        match &dir.guard {
            Guard::Closed => Ok(()),
            Guard::Open(why) => Err(WalkError::Untrusted {
                path: dir.path.clone(),
                why: why.clone(),
            }),
            Guard::Sticky if !self.trust.owner(st.st_uid) => Err(WalkError::Untrusted {
                path: path.to_path_buf(),
                why: format!(
                    "is owned by uid {} in {}, which others can write",
                    st.st_uid,
                    crate::shown::path(&dir.path)
                ),
            }),
            Guard::Sticky if is(st, SFlag::S_IFREG) && st.st_nlink > 1 => {
                Err(WalkError::Untrusted {
                    path: path.to_path_buf(),
                    why: format!(
                        "has {} hard links in {}, which others can write",
                        st.st_nlink,
                        crate::shown::path(&dir.path)
                    ),
                })
            }
            Guard::Sticky => Ok(()),
        }
    }

    /// Enters the directory `name` of the current one (following a link, or creating it,
    /// as allowed).
    fn enter(
        &mut self,
        name: &OsStr,
        missing: Missing,
        created: &mut Vec<Created>,
    ) -> Result<(), WalkError> {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let path = self.dir().path.join(name);
        let os = |errno| WalkError::Os {
            path: path.clone(),
            errno,
        };
        match openat(&self.dir().fd, name, flags, Mode::empty()) {
            Ok(fd) => {
                let st = fstat(&fd).map_err(os)?;
                self.descend(fd, path, &st)
            }
            // A link (O_PATH|O_NOFOLLOW|O_DIRECTORY on a link says ENOTDIR), or a file.
            Err(Errno::ENOTDIR | Errno::ELOOP) => {
                let st = fstatat(
                    &self.dir().fd,
                    name,
                    nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                )
                .map_err(os)?;
                if is(&st, SFlag::S_IFLNK) {
                    self.follow(name)
                } else {
                    Err(WalkError::NotFound)
                }
            }
            Err(Errno::ENOENT) => match missing {
                Missing::NotFound => Err(WalkError::NotFound),
                Missing::Create(mode) => self.create(name, mode, created),
            },
            Err(errno) => Err(os(errno)),
        }
    }

    /// Makes the directory `name` (mode exactly `mode`, whatever the umask) and enters it.
    fn create(
        &mut self,
        name: &OsStr,
        mode: u32,
        created: &mut Vec<Created>,
    ) -> Result<(), WalkError> {
        let dir = self.dir();
        let path = dir.path.join(name);
        if let Guard::Open(why) = &dir.guard {
            return Err(WalkError::Untrusted {
                path: dir.path.clone(),
                why: why.clone(),
            });
        }
        let os = |errno| WalkError::Os {
            path: path.clone(),
            errno,
        };
        match mkdirat(&dir.fd, name, Mode::from_bits_truncate(0o700)) {
            Ok(()) => {}
            // Made by someone else in the meantime: enter it by the usual rules.
            Err(Errno::EEXIST) => {
                self.todo.push_front(name.to_owned());
                return Ok(());
            }
            Err(errno) => return Err(os(errno)),
        }
        created.push(Created {
            parent: Rc::clone(&dir.fd),
            name: name.to_owned(),
        });
        // Opened for reading (not O_PATH) so that fchmod works on it; as its maker
        // sesame can read it, since it is 0700 so far.
        let fd = openat(
            &dir.fd,
            name,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(os)?;
        fchmod(&fd, Mode::from_bits_truncate(mode)).map_err(os)?;
        let st = fstat(&fd).map_err(os)?;
        self.descend(fd, path, &st)
    }

    /// Enters the directory open as `fd` (`st` its status), below the current one, if
    /// the current one admits it; it then guards what lies below it in turn.
    fn descend(&mut self, fd: OwnedFd, path: PathBuf, st: &FileStat) -> Result<(), WalkError> {
        self.admit(&path, st)?;
        let guard = self.trust.guard(st);
        self.stack.push(Dir {
            fd: Rc::new(fd),
            path,
            guard,
        });
        Ok(())
    }

    /// Follows the link `name` of the current directory, if it may be followed: its
    /// target's components go before the names still to walk.
    fn follow(&mut self, name: &OsStr) -> Result<(), WalkError> {
        let dir = self.dir();
        let path = dir.path.join(name);
        let os = |errno| WalkError::Os {
            path: path.clone(),
            errno,
        };
        let st = fstatat(&dir.fd, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW).map_err(os)?;
        self.admit(&path, &st)?;
        let target = readlinkat(&dir.fd, name).map_err(os)?;
        self.links += 1;
        if self.links > MAX_LINKS {
            return Err(WalkError::TooManyLinks);
        }
        if target.is_empty() {
            return Err(WalkError::NotFound);
        }
        let target = PathBuf::from(target);
        if target.as_os_str().as_bytes().first() == Some(&b'/') {
            self.restart_at_root()?;
        }
        self.push_front(&target);
        Ok(())
    }
}

fn is(st: &FileStat, kind: SFlag) -> bool {
    st.st_mode & SFlag::S_IFMT.bits() == kind.bits()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o755);
        dir
    }

    #[test]
    fn trusted_links_are_followed_like_kubernetes_data_links() {
        let t = tree();
        let ts = t.path().join("..2024_01_01");
        std::fs::create_dir(&ts).unwrap();
        std::fs::write(ts.join("token"), b"x").unwrap();
        symlink("..2024_01_01", t.path().join("..data")).unwrap();
        symlink("..data/token", t.path().join("token")).unwrap();
        let f = open_file(&t.path().join("token"), &Trust::current()).unwrap();
        assert!(f.metadata().unwrap().is_file());
    }

    #[test]
    fn a_link_loop_stops() {
        let t = tree();
        symlink("b", t.path().join("a")).unwrap();
        symlink("a", t.path().join("b")).unwrap();
        assert!(matches!(
            open_file(&t.path().join("a"), &Trust::current()),
            Err(WalkError::TooManyLinks)
        ));
    }

    #[test]
    fn missing_and_dangling_are_not_found() {
        let t = tree();
        symlink("gone", t.path().join("dangling")).unwrap();
        let trust = Trust::current();
        for p in ["nope", "dangling", "nope/deeper"] {
            assert!(
                matches!(
                    open_file(&t.path().join(p), &trust),
                    Err(WalkError::NotFound)
                ),
                "{p}"
            );
        }
    }

    #[test]
    fn an_open_directory_is_refused_and_named() {
        let t = tree();
        let open = t.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::write(open.join("s"), b"x").unwrap();
        chmod(&open, 0o777);
        let e = open_file(&open.join("s"), &Trust::current()).unwrap_err();
        assert!(
            matches!(&e, WalkError::Untrusted { path, .. } if path == &open),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("can be written by others (mode 0777)")
        );
    }

    #[test]
    fn in_a_sticky_directory_only_trusted_single_link_entries_are_used() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root to make files owned by others");
            return;
        }
        let t = tree();
        let sticky = t.path().join("tmp");
        std::fs::create_dir(&sticky).unwrap();
        chmod(&sticky, 0o1777);
        let trust = Trust::current();
        let mine = sticky.join("mine");
        std::fs::write(&mine, b"x").unwrap();
        assert!(open_file(&mine, &trust).is_ok());
        // A second name for it: a hard link someone else could have made.
        std::fs::hard_link(&mine, t.path().join("other-name")).unwrap();
        let e = open_file(&mine, &trust).unwrap_err();
        assert!(e.to_string().contains("has 2 hard links"), "{e}");
        let theirs = sticky.join("theirs");
        std::fs::write(&theirs, b"x").unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let e = open_file(&theirs, &trust).unwrap_err();
        assert!(e.to_string().contains("is owned by uid 65534 in"), "{e}");
        // Not found is still "not found" there: nothing was read.
        assert!(matches!(
            open_file(&sticky.join("nope"), &trust),
            Err(WalkError::NotFound)
        ));
    }

    #[test]
    fn dot_dot_after_a_link_goes_up_from_the_links_target() {
        let t = tree();
        std::fs::create_dir_all(t.path().join("x/y")).unwrap();
        std::fs::write(t.path().join("x/s"), b"x").unwrap();
        symlink(t.path().join("x/y"), t.path().join("l")).unwrap();
        assert!(open_file(&t.path().join("l/../s"), &Trust::current()).is_ok());
    }

    #[test]
    fn confined_reads_reuse_a_walk_and_give_the_same_answers() {
        let t = tree();
        let closed = t.path().join("closed");
        let open = t.path().join("open");
        for d in [&closed, &open] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("a"), b"x").unwrap();
            std::fs::write(d.join("b"), b"x").unwrap();
        }
        chmod(&open, 0o777);
        symlink("a", closed.join("l")).unwrap();
        let c = Confined::new(Trust::current());
        for _ in 0..2 {
            for name in ["a", "b", "l"] {
                assert!(c.open_file(&closed.join(name)).is_ok(), "{name}");
            }
            assert!(matches!(
                c.open_file(&closed.join("nope")),
                Err(WalkError::NotFound)
            ));
            assert!(matches!(
                c.open_file(&t.path().join("missing/a")),
                Err(WalkError::NotFound)
            ));
            for name in ["a", "b"] {
                assert!(matches!(
                    c.open_file(&open.join(name)),
                    Err(WalkError::Untrusted { .. })
                ));
            }
        }
        // More directories than it keeps: still right.
        for i in 0..(Confined::KEEP + 2) {
            let d = t.path().join(format!("d{i}"));
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("s"), b"x").unwrap();
            assert!(c.open_file(&d.join("s")).is_ok());
        }
        assert!(c.open_file(&closed.join("a")).is_ok());
    }

    #[test]
    fn created_directories_get_their_mode_and_can_be_removed() {
        let t = tree();
        let want = t.path().join("a/b");
        let (dir, created) = open_dir(&want, &Trust::current(), Missing::Create(0o711)).unwrap();
        assert_eq!(dir.path, want);
        assert_eq!(created.len(), 2);
        let mode = std::fs::metadata(&want).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o711);
        for c in created.into_iter().rev() {
            c.remove();
        }
        assert!(!t.path().join("a").exists());
    }
}
