//! Injection (SPEC §5.1): the child's environment, and the files written for it.
//!
//! The environment is built explicitly, entry by entry, as the `NAME=value\0` strings
//! `execve` takes, each in a zeroizing buffer: sesame never calls `setenv` on itself, so
//! its own environment block never gains a secret, and nothing is inherited by accident.

use crate::env::Environment;
use crate::error::Error;
use crate::manifest::Manifest;
use crate::resolve::{Outcome, environment_prefix};
use crate::secret::Secret;
use crate::stage::{self, Staged};
use crate::validate::{Report, Verdict};
use crate::walk::{self, Guard, Missing, Trust, WalkError};
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{SFlag, fstatat};
use nix::unistd::{AccessFlags, faccessat};
use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use zeroize::Zeroizing;

/// The child's environment as `NAME=value\0` entries, zeroed when dropped.
#[derive(Default)]
pub struct ChildEnv {
    entries: Vec<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for ChildEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChildEnv({} entries, [redacted])", self.entries.len())
    }
}

impl ChildEnv {
    fn push(&mut self, name: &[u8], value: &[u8]) {
        // Exactly sized, so the NUL does not reallocate and strand a copy.
        let mut e = Zeroizing::new(Vec::with_capacity(name.len() + value.len() + 2));
        e.extend_from_slice(name);
        e.push(b'=');
        e.extend_from_slice(value);
        e.push(0);
        self.entries.push(e);
    }

    /// The value of `name` in the child's environment (used to search its `PATH`).
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.entries.iter().find_map(|e| {
            let rest = e.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
            Some(OsStr::from_bytes(&rest[..rest.len() - 1]))
        })
    }

    /// Sets `name` (replacing an earlier entry), e.g. `HOME` after a user change.
    pub fn set(&mut self, name: &str, value: &str) {
        self.entries
            .retain(|e| !e.starts_with(format!("{name}=").as_bytes()));
        self.push(name.as_bytes(), value.as_bytes());
    }

    /// The entries as C strings, for `execve`.
    pub fn as_cstrs(&self) -> Vec<&CStr> {
        self.entries
            .iter()
            .filter_map(|e| CStr::from_bytes_with_nul(e).ok())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Whether `name` matches a `keep_env` entry (`LC_*` matches by prefix). Compared as
/// bytes, so a name that is not UTF-8 is kept by the prefix it has (`"*"` keeps
/// everything, as documented) and by nothing else.
fn kept(name: &[u8], keep: &[String]) -> bool {
    keep.iter().any(|k| match k.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix.as_bytes()),
        None => name == k.as_bytes(),
    })
}

/// Builds the child's environment from sesame's and the resolved secrets.
/// `file_env` are the names `--file-env` selected (`file_env::selected`): their
/// `X_FILE` is removed whether or not it named a file, as `file_env` unsets it, and
/// no other variable of theirs is touched.
pub fn child_environment(
    manifest: &Manifest,
    env: &Environment,
    report: &Report,
    environment: Option<&str>,
    file_env: &[&str],
) -> ChildEnv {
    // Sorted name lists, searched for each of sesame's variables (no copies, no hashing).
    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_unstable();
        v
    }
    // Every name a secret is injected as, whether or not the secret has a value: an
    // absent optional secret must not leave its name to an inherited variable, which
    // the program would take for the secret without any of its rules checked.
    let injected = sorted(
        report
            .verdicts
            .iter()
            .filter_map(|v| v.resolved.spec.inject_env.as_deref())
            .collect(),
    );
    // The variables a manifest secret was or could have been read from, which scrub
    // removes: `X`, `<ENVIRONMENT>_X` and `X_FILE`. (`--file-env` secrets are not
    // among them: they lose only their `X_FILE`, below.)
    let sources = sorted(if manifest.scrub {
        manifest
            .secrets
            .iter()
            .map(|spec| spec.env.as_str())
            .collect()
    } else {
        Vec::new()
    });
    let file_env = sorted(file_env.to_vec());
    let has = |list: &[&str], name: &str| list.binary_search(&name).is_ok();
    let prefix = environment_prefix(environment);
    let is_source = |n: &str| {
        has(&sources, n)
            || n.strip_suffix("_FILE")
                .is_some_and(|x| has(&sources, x) || has(&file_env, x))
            || prefix
                .as_deref()
                .and_then(|p| n.strip_prefix(p))
                .is_some_and(|x| has(&sources, x))
    };
    // A manifest that reads from Vault hands sesame the token, not the program: with
    // scrub, `VAULT_TOKEN` goes (docs/vault.md).
    let vault_token = manifest.scrub && manifest.secrets.iter().any(|s| s.vault.is_some());
    let mut out = ChildEnv::default();
    for (name, value) in env.iter() {
        // `SESAME_*` by bytes: a name that is not UTF-8 after the prefix is one too.
        let sesame = manifest.scrub && name.as_bytes().starts_with(b"SESAME_");
        let drop = sesame
            || (manifest.clear_env && !kept(name.as_bytes(), &manifest.keep_env))
            || name.to_str().is_some_and(|n| {
                has(&injected, n) || is_source(n) || (vault_token && n == "VAULT_TOKEN")
            });
        if !drop {
            out.push(name.as_bytes(), value.as_bytes());
        }
    }
    for v in &report.verdicts {
        if let (Outcome::Found(found), Some(var)) =
            (&v.resolved.outcome, &v.resolved.spec.inject_env)
        {
            out.push(var.as_bytes(), found.value.expose().as_bytes());
        }
    }
    out
}

/// Writes every `inject.file`, or none: each one is first written in full to a
/// temporary file beside its target (mode, owner, `fsync`), and only when all of them
/// are ready are they renamed into place. A failure before that removes the temporary
/// files and the directories made for them, and reports every target that failed, one
/// line each. Every `--watch` rewrite goes through here too.
///
/// Paths are walked by [`crate::walk`]'s rules, as root must: a link on the way is
/// followed only where nobody but root (or sesame's own user) could have made it, and
/// the directory the file goes into must be one that only they can write. Missing
/// directories are created owned by sesame's user (root), not the `--user`'s: mode
/// 0711 with `--user` (it can reach its own file by name, but neither list nor change
/// the directory), 0700 without.
pub fn write_files(report: &Report, owner: Option<(u32, u32)>) -> Result<(), Error> {
    let trust = Trust::current();
    let dir_mode = if owner.is_some() { 0o711 } else { 0o700 };
    let mut staged: Vec<Staged> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for (name, path, value, mode) in targets(report) {
        match stage(name, path, value, mode, owner, &trust, dir_mode) {
            Ok(s) => staged.push(s),
            Err(e) => problems.push(failed(name, path, &e)),
        }
    }
    for (first, later) in stage::same_files(&staged) {
        let (a, b) = (&staged[first], &staged[later]);
        problems.push(failed(
            &b.secret,
            &b.path,
            &same_file_as(&a.secret, &a.path),
        ));
    }
    if !problems.is_empty() {
        stage::abandon_all(staged);
        return Err(Error::Inject(problems.join("\n")));
    }
    stage::commit_all(staged)
        .map(drop)
        .map_err(|(secret, path, why)| Error::Inject(failed(&secret, &path, &why)))
}

/// Why a second `inject.file` cannot be written: it is the first one's file under
/// another path.
fn same_file_as(secret: &str, path: &Path) -> String {
    format!(
        "it is the same file as {secret}'s inject.file {}; each secret needs a file of its own",
        crate::shown::path(path)
    )
}

/// What `write_files` would refuse, without writing anything: for `check`. Each problem
/// is the index of the secret's verdict and the message.
pub fn file_problems(report: &Report) -> Vec<(usize, String)> {
    let trust = Trust::current();
    let mut out = Vec::new();
    for (i, v) in report.verdicts.iter().enumerate() {
        if let (Outcome::Found(_), Some((path, _))) =
            (&v.resolved.outcome, &v.resolved.spec.inject_file)
            && let Err(e) = probe(path, &trust)
        {
            out.push((
                i,
                [
                    "inject.file ",
                    &crate::shown::path(&path).to_string(),
                    ": ",
                    &e,
                ]
                .concat(),
            ));
        }
    }
    // Two targets that are one file under two paths (see `stage::same_files`), where
    // their directories exist already; a launch finds the rest once it has made them.
    let verdicts = &report.verdicts;
    for (first, later) in crate::repeats(verdicts, existing_target) {
        let (a, b) = (&verdicts[first], &verdicts[later]);
        if let (Some((pa, _)), Some((pb, _))) =
            (&a.resolved.spec.inject_file, &b.resolved.spec.inject_file)
        {
            out.push((
                later,
                format!(
                    "inject.file {}: {}",
                    crate::shown::path(pb),
                    same_file_as(a.name(), pa)
                ),
            ));
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out
}

/// Which file a found secret's `inject.file` is, where its directory exists already:
/// the directory's device and inode, and the name in it.
fn existing_target<'v>(v: &'v Verdict<'_>) -> Option<(u64, u64, &'v OsStr)> {
    let (Outcome::Found(_), Some((path, _))) = (&v.resolved.outcome, &v.resolved.spec.inject_file)
    else {
        return None;
    };
    let (dir, name) = split(path).ok()?;
    let st = nix::sys::stat::stat(dir).ok()?;
    Some((st.st_dev, st.st_ino, name))
}

/// The `inject.file`s to write: secret name, path, value, mode.
fn targets<'r>(report: &'r Report) -> impl Iterator<Item = (&'r str, &'r Path, &'r Secret, u32)> {
    report.verdicts.iter().filter_map(|v| {
        match (&v.resolved.outcome, &v.resolved.spec.inject_file) {
            (Outcome::Found(found), Some((path, mode))) => {
                Some((v.name(), path.as_path(), &found.value, *mode))
            }
            _ => None,
        }
    })
}

fn failed(secret: &str, path: &Path, why: &str) -> String {
    format!(
        "{secret}: cannot write inject.file {}: {why}",
        crate::shown::path(&path)
    )
}

/// The parent directory and file name of an `inject.file` (the manifest made sure it
/// is absolute and has a name).
fn split(path: &Path) -> Result<(&Path, &OsStr), String> {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => Ok((dir, name)),
        _ => Err("not a file path".into()),
    }
}

/// Why a directory reached may not hold an `inject.file`: it must be closed (see
/// [`crate::walk`]); in a sticky one others could still make the name a link or a
/// directory first, or watch it.
fn closed(dir: &walk::Dir) -> Result<(), String> {
    match &dir.guard {
        Guard::Closed => Ok(()),
        Guard::Sticky => Err(format!(
            "{} can be written by others (sticky, like /tmp); an inject.file goes into a \
             directory only root (or sesame's own user) can write",
            crate::shown::path(&dir.path)
        )),
        Guard::Open(why) => Err(format!(
            "{} {why}; an inject.file goes into a directory only root (or sesame's own \
             user) can write",
            crate::shown::path(&dir.path)
        )),
    }
}

/// What may stand at the name: nothing, a regular file, or a link (the rename replaces
/// the link itself, never what it points to). Not a directory (a rename cannot replace
/// one), nor a FIFO, device or socket: `inject.file: /dev/null` or a pipe another
/// program reads is a mistake, and renaming over it would silently swap a device node
/// for a file of secrets owned by the `--user`.
fn replaceable(dir: &walk::Dir, name: &OsStr) -> Result<(), String> {
    match fstatat(&dir.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => {
            let kind = st.st_mode & SFlag::S_IFMT.bits();
            let what = if kind == SFlag::S_IFREG.bits() || kind == SFlag::S_IFLNK.bits() {
                return Ok(());
            } else if kind == SFlag::S_IFDIR.bits() {
                return Err("is a directory".into());
            } else if kind == SFlag::S_IFIFO.bits() {
                "a FIFO"
            } else if kind == SFlag::S_IFSOCK.bits() {
                "a socket"
            } else {
                "a device"
            };
            Err(format!(
                "is {what}, not a regular file; sesame replaces only regular files"
            ))
        }
        Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e.desc().to_lowercase()),
    }
}

/// Why an `inject.file` cannot be written when a component of its directory is a file.
const NOT_A_DIRECTORY: &str = "a directory on the way is not a directory";

/// [`stage`]'s checks without writing: the directories that exist are walked; where
/// one is missing, the deepest existing one must be one sesame may create in, and
/// writable.
fn probe(path: &Path, trust: &Trust) -> Result<(), String> {
    let (dir, name) = split(path)?;
    let mut existing = dir;
    // The component below `existing` that the walk did not find as a directory.
    let mut below: Option<&OsStr> = None;
    loop {
        match walk::open_dir(existing, trust, Missing::NotFound) {
            Ok((d, _)) => {
                if existing == dir {
                    closed(&d)?;
                    replaceable(&d, name)?;
                } else if let Guard::Open(why) = &d.guard {
                    return Err(format!("{} {why}", crate::shown::path(&d.path)));
                }
                // Not found may mean a file where a directory must be made
                // (`/etc/hostname/x`): the launch cannot go through it, so neither may
                // the check.
                if let Some(next) = below
                    && let Ok(st) = fstatat(&d.fd, next, AtFlags::AT_SYMLINK_NOFOLLOW)
                    && !matches!(st.st_mode & libc::S_IFMT, libc::S_IFDIR | libc::S_IFLNK)
                {
                    return Err(NOT_A_DIRECTORY.to_owned());
                }
                return match faccessat(&d.fd, ".", AccessFlags::W_OK, AtFlags::empty()) {
                    Ok(()) => Ok(()),
                    Err(e) => Err(format!(
                        "{}: {}",
                        crate::shown::path(&d.path),
                        e.desc().to_lowercase()
                    )),
                };
            }
            Err(WalkError::NotFound) => match existing.parent() {
                Some(up) => {
                    below = existing.file_name();
                    existing = up;
                }
                None => return Err("no such directory".into()),
            },
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Walks to the target's directory (creating what is missing), checks it, and writes
/// the value to a new temporary file there with its mode and owner, synced to disk.
fn stage(
    secret: &str,
    path: &Path,
    value: &Secret,
    mode: u32,
    owner: Option<(u32, u32)>,
    trust: &Trust,
    dir_mode: u32,
) -> Result<Staged, String> {
    let (dir, name) = split(path)?;
    let (dir, created) =
        walk::open_dir(dir, trust, Missing::Create(dir_mode)).map_err(|e| match e {
            WalkError::NotFound => NOT_A_DIRECTORY.to_owned(),
            e => e.to_string(),
        })?;
    let mut staged = Staged::new(secret, path, std::rc::Rc::clone(&dir.fd), name, created);
    let written = closed(&dir)
        .and_then(|()| replaceable(&dir, name))
        .and_then(|()| staged.write(&[value.expose().as_bytes()], mode, owner));
    match written {
        Ok(()) => Ok(staged),
        Err(e) => {
            staged.abandon();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_env_matches_names_and_prefixes() {
        let keep = vec!["PATH".to_owned(), "LC_*".to_owned()];
        assert!(kept(b"PATH", &keep));
        assert!(kept(b"LC_ALL", &keep));
        assert!(kept(b"LC_\xff", &keep));
        assert!(!kept(b"PATHX", &keep));
        assert!(!kept(b"LANG", &keep));
        assert!(!kept(b"\xffPATH", &keep));
        assert!(kept(b"\xff", &["*".to_owned()]));
    }

    #[test]
    fn child_env_set_replaces_and_get_reads() {
        let mut e = ChildEnv::default();
        e.push(b"HOME", b"/root");
        e.push(b"PATH", b"/bin");
        e.set("HOME", "/home/app");
        assert_eq!(e.get("HOME"), Some(OsStr::new("/home/app")));
        assert_eq!(e.get("PATH"), Some(OsStr::new("/bin")));
        assert_eq!(e.get("PAT"), None);
        assert_eq!(e.len(), 2);
        assert!(format!("{e:?}").contains("redacted"));
    }
}
