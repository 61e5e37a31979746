//! From what the user typed to what sesame will do: the command line first, then the
//! `SESAME_*` variables, then (for the secrets directory) the manifest, then defaults
//! (SPEC §1). Malformed variables are usage errors, as malformed options are.

use crate::cli::{self, LogFormat, LogLevel, Options};
use crate::env::Environment;
use crate::error::Error;
use std::path::PathBuf;

pub const DEFAULT_MANIFEST: &str = "/etc/sesame/manifest.yaml";
pub const DEFAULT_SECRETS_DIR: &str = "/run/secrets";

/// When sesame supervises the command instead of replacing itself with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitMode {
    /// Init when sesame is PID 1.
    Auto,
    Always,
    Never,
}

/// The merged settings. The manifest's own values are applied where they are used.
#[derive(Debug)]
pub struct Settings {
    /// The manifest to read, and whether the user named it (a named manifest must exist
    /// even with `--file-env`).
    pub manifest: PathBuf,
    pub manifest_named: bool,
    pub secrets_dir: Option<PathBuf>,
    pub environment: Option<String>,
    pub user: Option<String>,
    pub init: InitMode,
    pub signal_group: bool,
    pub watch: bool,
    /// The names and globs whose `X_FILE` variables `--file-env` expands; empty when
    /// neither `--file-env` nor `SESAME_FILE_ENV` was given.
    pub file_env: Vec<String>,
    pub strict: bool,
    pub log_format: LogFormat,
    pub log_level: LogLevel,
}

impl Settings {
    pub fn new(cli: &Options, env: &Environment) -> Result<Self, Error> {
        let var = |name: &str| -> Result<Option<String>, Error> {
            match env.get(name) {
                None => Ok(None),
                Some(v) if v.is_empty() => Ok(None),
                Some(v) => v
                    .to_str()
                    .map(|s| Some(s.to_owned()))
                    .ok_or_else(|| Error::Usage(format!("{name} is not valid UTF-8"))),
            }
        };
        let flag = |cli: bool, name: &str| -> Result<bool, Error> {
            if cli {
                return Ok(true);
            }
            match var(name)?.as_deref() {
                None | Some("0" | "false" | "no" | "off") => Ok(false),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some(other) => Err(Error::Usage(format!(
                    "{name}={other:?}: expected 1, true, yes, on or 0, false, no, off"
                ))),
            }
        };
        let (manifest, manifest_named) = match (&cli.manifest, var("SESAME_MANIFEST")?) {
            (Some(p), _) => (p.clone(), true),
            (None, Some(p)) => (PathBuf::from(p), true),
            (None, None) => (PathBuf::from(DEFAULT_MANIFEST), false),
        };
        let init = if cli.init {
            InitMode::Always
        } else if cli.no_init {
            InitMode::Never
        } else {
            match var("SESAME_INIT")?.as_deref() {
                None | Some("auto") => InitMode::Auto,
                Some("always" | "1") => InitMode::Always,
                Some("never" | "0") => InitMode::Never,
                Some(other) => {
                    return Err(Error::Usage(format!(
                        "SESAME_INIT={other:?}: expected auto, always or never"
                    )));
                }
            }
        };
        let log_format = match (cli.log_format, var("SESAME_LOG_FORMAT")?.as_deref()) {
            (Some(f), _) => f,
            (None, None | Some("text")) => LogFormat::Text,
            (None, Some("json")) => LogFormat::Json,
            (None, Some(other)) => {
                return Err(Error::Usage(format!(
                    "SESAME_LOG_FORMAT={other:?}: expected text or json"
                )));
            }
        };
        let log_level = match (cli.log_level, var("SESAME_LOG")?.as_deref()) {
            (Some(l), _) => l,
            (None, None | Some("info")) => LogLevel::Info,
            (None, Some("error")) => LogLevel::Error,
            (None, Some("warn")) => LogLevel::Warn,
            (None, Some("debug")) => LogLevel::Debug,
            (None, Some(other)) => {
                return Err(Error::Usage(format!(
                    "SESAME_LOG={other:?}: expected error, warn, info or debug"
                )));
            }
        };
        Ok(Settings {
            manifest,
            manifest_named,
            secrets_dir: cli
                .secrets_dir
                .clone()
                .or(var("SESAME_SECRETS_DIR")?.map(PathBuf::from)),
            environment: cli.environment.clone().or(var("SESAME_ENVIRONMENT")?),
            // Unlike the other variables, an empty SESAME_USER is not "unset": it is
            // what a failed substitution (`SESAME_USER=${APP_USER}`) leaves, and reading
            // it as "no user" would run the command as root. It is a bad spec (exit 77).
            user: match (&cli.user, env.get("SESAME_USER")) {
                (Some(u), _) => Some(u.clone()),
                (None, Some(v)) if v.is_empty() => Some(String::new()),
                (None, Some(_)) => var("SESAME_USER")?,
                (None, None) => None,
            },
            init,
            signal_group: flag(cli.signal_group, "SESAME_SIGNAL_GROUP")?,
            watch: flag(cli.watch, "SESAME_WATCH")?,
            file_env: match (&cli.file_env, var("SESAME_FILE_ENV")?) {
                (Some(names), _) => names.0.clone(),
                (None, Some(list)) => {
                    cli::parse_file_env(&list)
                        .map_err(|e| Error::Usage(format!("SESAME_FILE_ENV: {e}")))?
                        .0
                }
                (None, None) => Vec::new(),
            },
            strict: flag(cli.strict, "SESAME_STRICT")?,
            log_format,
            log_level,
        })
    }
}
