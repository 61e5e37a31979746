//! The one error type. Each variant knows its exit code (SPEC §9), so `run` is the only
//! place that decides how sesame ends. No variant carries a secret value: messages name
//! secrets, files and rules, never contents.

use std::fmt;

/// Exit codes from SPEC §9, named so that call sites read as intent.
pub mod exit {
    pub const OK: i32 = 0;
    pub const USAGE: i32 = 64;
    pub const INTERNAL: i32 = 70;
    pub const PRIVILEGE: i32 = 77;
    pub const CONFIG: i32 = 78;
    pub const NOT_EXECUTABLE: i32 = 126;
    pub const NOT_FOUND: i32 = 127;
}

/// Everything that stops sesame before (or instead of) running the command.
#[derive(Debug)]
pub enum Error {
    /// The command line or a `SESAME_*` variable is malformed.
    Usage(String),
    /// The manifest cannot be read or is invalid; the message names file, place and key.
    Manifest(String),
    /// Secrets are missing or invalid. Each problem was already logged, one line each, by
    /// the time this is returned; it only carries the count.
    Secrets { errors: usize },
    /// An `inject.file` could not be written.
    Inject(String),
    /// `generate` could not make or write a value.
    Generate(String),
    /// `--user` was refused or the privilege drop failed.
    Privilege(String),
    /// The command could not be started. `code` is 126 or 127.
    Launch {
        command: String,
        reason: String,
        code: i32,
    },
    /// Anything else that should not happen: a bug or a broken system.
    Internal(String),
}

impl Error {
    /// The process exit code that SPEC §9 gives this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Manifest(_) | Error::Secrets { .. } | Error::Inject(_) | Error::Generate(_) => {
                exit::CONFIG
            }
            Error::Privilege(_) => exit::PRIVILEGE,
            Error::Launch { code, .. } => *code,
            Error::Internal(_) => exit::INTERNAL,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m)
            | Error::Manifest(m)
            | Error::Privilege(m)
            | Error::Inject(m)
            | Error::Generate(m) => f.write_str(m),
            Error::Secrets { errors } => {
                let s = if *errors == 1 { "" } else { "s" };
                write!(
                    f,
                    "{errors} problem{s} with secrets; not starting the command"
                )
            }
            Error::Launch {
                command, reason, ..
            } => write!(f, "{command}: {reason}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
