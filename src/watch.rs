//! Rotation (SPEC §6): with `--watch` in init mode, sesame follows the files its secrets
//! came from and, when they change, resolves and validates everything again.
//!
//! Directories are watched, not files: Kubernetes rotates a secret volume by renaming a
//! new `..data` symlink over the old one, and editors rename a new file over the old;
//! neither touches the inode a file watch would hold. Events are debounced: the first
//! one opens a one-second window, and everything within it is handled once, when it
//! closes.
//!
//! The supervisor keeps no plaintext of file values between reloads, only a keyed
//! 64-bit SipHash of each value (`RandomState`'s random keys stay in this process), which
//! is enough to tell "changed" from "unchanged" and useless to anyone without the keys.

use crate::launch::Command;
use crate::manifest::OnChange;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::signal::Signal;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long after the first event sesame waits before reloading.
pub const DEBOUNCE: Duration = Duration::from_secs(1);

/// A fingerprint of every secret's value: name → keyed hash, `None` when absent.
pub type Fingerprints = BTreeMap<String, Option<u64>>;

/// What a reload found.
pub enum Reload {
    /// The new set has errors (already logged): keep the running command as it is.
    Invalid,
    /// The new set is valid: its fingerprints, and the command to start with it.
    Valid(Fingerprints, Command),
}

/// What the supervisor should do after a reload.
pub enum Action {
    /// Stop the command (SIGTERM, then SIGKILL after `grace`) and start this one.
    Restart { cmd: Command, grace: Duration },
    /// Send this signal to the command.
    Signal(Signal),
}

/// The watcher: inotify on the secrets' directories, the debounce window, and the
/// reload to run when it closes.
pub struct Watch<'a> {
    inotify: Inotify,
    due: Option<Instant>,
    current: Fingerprints,
    on_change: OnChange,
    signal: Signal,
    grace: Duration,
    reload: Box<dyn FnMut() -> Reload + 'a>,
}

/// The keyed hash used for fingerprints; one per process, so keys never leave it.
pub fn hasher() -> &'static RandomState {
    static KEYS: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
    KEYS.get_or_init(RandomState::new)
}

/// The fingerprints of every secret in a report.
pub fn fingerprints(report: &crate::validate::Report) -> Fingerprints {
    report
        .verdicts
        .iter()
        .map(|v| {
            let hash = match &v.resolved.outcome {
                crate::resolve::Outcome::Found(f) => Some(hasher().hash_one(f.value.expose())),
                _ => None,
            };
            (v.name().to_owned(), hash)
        })
        .collect()
}

impl<'a> Watch<'a> {
    /// Watches `dirs` (those that exist; others are logged and skipped).
    pub fn new(
        dirs: &[PathBuf],
        current: Fingerprints,
        on_change: OnChange,
        signal: Signal,
        grace: Duration,
        reload: Box<dyn FnMut() -> Reload + 'a>,
    ) -> nix::Result<Self> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        let flags = AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MODIFY
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_ATTRIB;
        for dir in dirs {
            match inotify.add_watch(dir, flags) {
                Ok(_) => tracing::debug!("watching {}", crate::shown::path(dir)),
                Err(e) => tracing::warn!("--watch: cannot watch {}: {e}", crate::shown::path(dir)),
            }
        }
        Ok(Watch {
            inotify,
            due: None,
            current,
            on_change,
            signal,
            grace,
            reload,
        })
    }

    /// How long the supervisor may sleep before calling [`Watch::poll`] again.
    pub fn tick(&self) -> Duration {
        Duration::from_millis(100)
    }

    /// Drains pending events, and when a debounce window has closed, reloads and says
    /// what to do. Called from the supervisor's loop.
    pub fn poll(&mut self, now: Instant) -> Option<Action> {
        // Non-blocking: `EAGAIN` just means no event.
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            self.due.get_or_insert(now + DEBOUNCE);
        }
        if self.due.is_none_or(|due| now < due) {
            return None;
        }
        self.due = None;
        let (fresh, cmd) = match (self.reload)() {
            Reload::Invalid => {
                tracing::warn!(
                    "--watch: the new secrets are invalid; the command keeps running with the old ones"
                );
                return None;
            }
            Reload::Valid(f, cmd) => (f, cmd),
        };
        let changed: Vec<&str> = fresh
            .iter()
            .filter(|(name, hash)| self.current.get(*name) != Some(hash))
            .map(|(name, _)| name.as_str())
            .collect();
        if changed.is_empty() {
            tracing::debug!("--watch: files changed, values did not");
            return None;
        }
        let names = changed.join(", ");
        let action = match self.on_change {
            OnChange::Restart => {
                tracing::info!(
                    changed = names.as_str(),
                    "--watch: {names} changed; restarting the command"
                );
                Some(Action::Restart {
                    cmd,
                    grace: self.grace,
                })
            }
            OnChange::Signal => {
                tracing::info!(
                    changed = names.as_str(),
                    "--watch: {names} changed; sending {}",
                    self.signal
                );
                Some(Action::Signal(self.signal))
            }
            OnChange::None => {
                tracing::info!(
                    changed = names.as_str(),
                    "--watch: {names} changed (on_change: none)"
                );
                None
            }
        };
        self.current = fresh;
        action
    }
}
