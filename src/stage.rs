//! Files written all or none: `inject.file` (and every `--watch` rewrite) and
//! `generate --out`. Each value goes in full to a new temporary file beside its name,
//! with its mode and owner, synced; only when every one is ready are they renamed over
//! their names. A rename replaces whatever stands at the name (a link included) and
//! never writes through it, and a failure before the renames leaves nothing behind: no
//! file cut short by a full disk, no set half rotated.
//!
//! Where the directory comes from (walked by [`crate::walk`]'s rules as root) and what
//! may stand at the name are the callers' to decide; this module only stages, checks
//! that no two names are one file, and commits.

use crate::walk::Created;
use nix::errno::Errno;
use nix::fcntl::{OFlag, openat, renameat};
use nix::sys::stat::{Mode, fchmod, fstat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, unlinkat};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One file on its way: the directory it goes into, its name there, and (once
/// [`Staged::write`] has run) the temporary file that holds its content.
pub struct Staged {
    /// The secret it holds, for messages.
    pub secret: String,
    /// The path as the manifest or the command line gave it, for messages.
    pub path: PathBuf,
    dir: Rc<OwnedFd>,
    name: OsString,
    tmp: Option<OsString>,
    /// Directories made on the way, removed again if the file is abandoned.
    created: Vec<Created>,
}

impl Staged {
    pub fn new(
        secret: &str,
        path: &Path,
        dir: Rc<OwnedFd>,
        name: &OsStr,
        created: Vec<Created>,
    ) -> Self {
        Staged {
            secret: secret.to_owned(),
            path: path.to_path_buf(),
            dir,
            name: name.to_owned(),
            tmp: None,
            created,
        }
    }

    /// Writes `parts` to a new temporary file beside the name (`O_EXCL`, never through
    /// a link), then sets `mode` and `owner` on the open file (the umask may have
    /// narrowed the mode it was created with) and syncs it to disk.
    pub fn write(
        &mut self,
        parts: &[&[u8]],
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> Result<(), String> {
        let (tmp, fd) = create_temporary(&self.dir, &self.name)?;
        self.tmp = Some(tmp);
        let mut f = File::from(fd);
        let set_up = (|| -> nix::Result<()> {
            if let Some((uid, gid)) = owner {
                fchown(&f, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))?;
            }
            fchmod(&f, Mode::from_bits_truncate(mode))
        })();
        set_up.map_err(|e| e.desc().to_lowercase())?;
        parts
            .iter()
            .try_for_each(|part| f.write_all(part))
            .and_then(|()| f.sync_all())
            .map_err(|e| match e.raw_os_error() {
                Some(n) => Errno::from_raw(n).desc().to_lowercase(),
                None => e.to_string(),
            })
    }

    /// Renames the temporary file over the name.
    fn commit(&self) -> Result<(), String> {
        let Some(tmp) = &self.tmp else {
            return Err("nothing was written".into());
        };
        renameat(
            &*self.dir,
            tmp.as_os_str(),
            &*self.dir,
            self.name.as_os_str(),
        )
        .map_err(|e| e.desc().to_lowercase())
    }

    /// Removes the temporary file and the directories made for it.
    pub fn abandon(self) {
        if let Some(tmp) = &self.tmp {
            let _ = unlinkat(&*self.dir, tmp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        }
        for c in self.created.into_iter().rev() {
            c.remove();
        }
    }
}

/// Pairs `(first, later)` of staged files that are one file under two paths
/// (`/run/app/x` and `/var/run/app/x`, where `/var/run` links to `/run`): only the opened
/// directories can tell, and the later rename would silently replace the first value.
pub fn same_files(staged: &[Staged]) -> Vec<(usize, usize)> {
    crate::repeats(staged, |s| {
        let st = fstat(&*s.dir).ok()?;
        Some((st.st_dev, st.st_ino, s.name.as_os_str()))
    })
}

/// Renames every file into place, in order, and returns their paths. At the first
/// rename that fails, the rest are abandoned and that one's secret, path and reason
/// returned. (A rename within one directory fails only in ways no check before it could
/// foresee, such as a read-only remount.)
pub fn commit_all(staged: Vec<Staged>) -> Result<Vec<PathBuf>, (String, PathBuf, String)> {
    let mut done = Vec::with_capacity(staged.len());
    let mut staged = staged.into_iter();
    while let Some(s) = staged.next() {
        if let Err(why) = s.commit() {
            staged.rev().for_each(Staged::abandon);
            let failed = (s.secret.clone(), s.path.clone(), why);
            s.abandon();
            return Err(failed);
        }
        done.push(s.path);
    }
    Ok(done)
}

/// Abandons every staged file, the last made first.
pub fn abandon_all(staged: Vec<Staged>) {
    staged.into_iter().rev().for_each(Staged::abandon);
}

/// Creates `.NAME.sesame-RANDOM` in `dir`, new (`O_EXCL`), never through a link, 0600.
fn create_temporary(dir: &OwnedFd, name: &OsStr) -> Result<(OsString, OwnedFd), String> {
    for _ in 0..8 {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| e.to_string())?;
        let mut tmp = OsString::from(".");
        tmp.push(name);
        tmp.push(format!(".sesame-{:016x}", u64::from_ne_bytes(random)));
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        match openat(dir, tmp.as_os_str(), flags, Mode::from_bits_truncate(0o600)) {
            Ok(fd) => return Ok((tmp, fd)),
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(e.desc().to_lowercase()),
        }
    }
    Err("cannot create a temporary file".into())
}
