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
use crate::validate::Report;
use std::ffi::{CStr, OsStr};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
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

/// Whether `name` matches a `keep_env` entry (`LC_*` matches by prefix).
fn kept(name: &str, keep: &[String]) -> bool {
    keep.iter().any(|k| match k.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == k,
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
    let injected = sorted(
        report
            .verdicts
            .iter()
            .filter(|v| matches!(v.resolved.outcome, Outcome::Found(_)))
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
    let mut out = ChildEnv::default();
    for (name, value) in env.iter() {
        let n = name.to_str();
        let drop = match n {
            Some(n) => {
                has(&injected, n)
                    || is_source(n)
                    || (manifest.scrub && n.starts_with("SESAME_"))
                    || (manifest.clear_env && !kept(n, &manifest.keep_env))
            }
            None => manifest.clear_env,
        };
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

/// Writes every `inject.file`, atomically, owned by `owner` when given.
pub fn write_files(report: &Report, owner: Option<(u32, u32)>) -> Result<(), Error> {
    for v in &report.verdicts {
        if let (Outcome::Found(found), Some((path, mode))) =
            (&v.resolved.outcome, &v.resolved.spec.inject_file)
        {
            write_atomically(path, &found.value, *mode, owner).map_err(|e| {
                Error::Inject(format!(
                    "{}: cannot write inject.file {}: {e}",
                    v.name(),
                    path.display()
                ))
            })?;
        }
    }
    Ok(())
}

/// Writes `value` to a temporary file beside `path`, sets its mode and owner, then
/// renames it over `path`: a reader sees the old file or the new one, never half.
fn write_atomically(
    path: &Path,
    value: &Secret,
    mode: u32,
    owner: Option<(u32, u32)>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    // Every directory sesame creates is 0700 and the `--user`'s, not only the last one:
    // a root-owned 0700 `run/` above `run/app/` would lock the user out of its file.
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    for d in missing.into_iter().rev() {
        std::fs::DirBuilder::new().mode(0o700).create(d)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(d, Some(uid), Some(gid))?;
        }
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.sesame-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&tmp)?;
        f.write_all(value.expose().as_bytes())?;
        // Set explicitly: the umask may have narrowed the mode given at creation.
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_env_matches_names_and_prefixes() {
        let keep = vec!["PATH".to_owned(), "LC_*".to_owned()];
        assert!(kept("PATH", &keep));
        assert!(kept("LC_ALL", &keep));
        assert!(!kept("PATHX", &keep));
        assert!(!kept("LANG", &keep));
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
