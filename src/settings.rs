//! From what the user typed to what sesame will do: the command line first, then the
//! `SESAME_*` variables, then (for the secrets directory) the manifest, then defaults
//! (SPEC §1). Malformed variables are usage errors, as malformed options are.

use crate::cli::{LogFormat, LogLevel, Options};
use crate::env::Environment;
use crate::error::Error;
use crate::file_env;
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
    /// `--file-env NAMES`: the names or globs whose `X_FILE` is expanded (split on
    /// `,`, trimmed, empty items dropped); empty when the option is not given.
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
            environment: match (&cli.environment, var("SESAME_ENVIRONMENT")?) {
                (Some(e), _) => Some(checked_environment(e, "--environment")?),
                (None, Some(e)) => Some(checked_environment(&e, "SESAME_ENVIRONMENT")?),
                (None, None) => None,
            },
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
                (Some(raw), _) => file_env::parse_names(raw, "--file-env").map_err(Error::Usage)?,
                (None, Some(raw)) => {
                    file_env::parse_names(&raw, "SESAME_FILE_ENV").map_err(Error::Usage)?
                }
                (None, None) => Vec::new(),
            },
            strict: flag(cli.strict, "SESAME_STRICT")?,
            log_format,
            log_level,
        })
    }
}

/// An environment's name becomes a directory under the secrets directory and a
/// variable prefix, so it is held to the rule the manifest's `environments:` has:
/// letters, digits, `_` and `-`. Anything else (`../..`, `/etc`, a newline) would make
/// the `file` source read outside the secrets directory, or forge a line in the log.
fn checked_environment(e: &str, from: &str) -> Result<String, Error> {
    if !e.is_empty()
        && e.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    {
        Ok(e.to_owned())
    } else {
        Err(Error::Usage(format!(
            "{from}: not a valid environment name (letters, digits, _ and - only)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;

    fn settings(opts: &Options, vars: &[(&str, &str)]) -> Result<Settings, Error> {
        let env = Environment::from_pairs(vars.iter().map(|(k, v)| (k.into(), v.into())));
        Settings::new(opts, &env)
    }

    #[test]
    fn the_command_line_wins_then_the_variable_then_the_default() {
        let none = Options::default();
        let s = settings(&none, &[]).unwrap();
        assert_eq!(s.manifest, PathBuf::from(DEFAULT_MANIFEST));
        assert!(!s.manifest_named);
        assert_eq!(
            (s.log_format, s.log_level),
            (LogFormat::Text, LogLevel::Info)
        );
        let vars = [
            ("SESAME_MANIFEST", "/v.yaml"),
            ("SESAME_LOG", "debug"),
            ("SESAME_LOG_FORMAT", "json"),
            ("SESAME_INIT", "always"),
        ];
        let s = settings(&none, &vars).unwrap();
        assert_eq!(s.manifest, PathBuf::from("/v.yaml"));
        assert!(s.manifest_named);
        assert_eq!(
            (s.log_format, s.log_level),
            (LogFormat::Json, LogLevel::Debug)
        );
        assert_eq!(s.init, InitMode::Always);
        let typed = Options {
            manifest: Some("/c.yaml".into()),
            log_level: Some(LogLevel::Warn),
            no_init: true,
            ..Options::default()
        };
        let s = settings(&typed, &vars).unwrap();
        assert_eq!(s.manifest, PathBuf::from("/c.yaml"));
        assert_eq!(s.log_level, LogLevel::Warn);
        assert_eq!(s.init, InitMode::Never);
    }

    #[test]
    fn boolean_variables_take_the_usual_words_and_empty_is_unset() {
        let none = Options::default();
        for (value, on) in [
            ("1", true),
            ("true", true),
            ("yes", true),
            ("on", true),
            ("0", false),
            ("false", false),
            ("no", false),
            ("off", false),
            ("", false),
        ] {
            let s = settings(&none, &[("SESAME_STRICT", value), ("SESAME_WATCH", value)]);
            let s = s.unwrap();
            assert_eq!((s.strict, s.watch), (on, on), "{value:?}");
        }
        for value in ["2", "Y", "enabled"] {
            let err = settings(&none, &[("SESAME_SIGNAL_GROUP", value)]).unwrap_err();
            assert_eq!(err.exit_code(), 64);
            assert!(err.to_string().starts_with("SESAME_SIGNAL_GROUP="), "{err}");
        }
    }

    #[test]
    fn file_env_names_come_from_the_option_or_the_variable() {
        let s = settings(&Options::default(), &[]).unwrap();
        assert!(s.file_env.is_empty());
        let s = settings(&Options::default(), &[("SESAME_FILE_ENV", " A_*, B ,")]).unwrap();
        assert_eq!(s.file_env, ["A_*", "B"]);
        let typed = Options {
            file_env: Some("C".into()),
            ..Options::default()
        };
        let s = settings(&typed, &[("SESAME_FILE_ENV", "A")]).unwrap();
        assert_eq!(s.file_env, ["C"]);
        for bad in [",", "A B", "9X", "A=B", "1"] {
            let err = settings(&Options::default(), &[("SESAME_FILE_ENV", bad)]).unwrap_err();
            assert_eq!(err.exit_code(), 64, "{bad:?}");
            assert!(
                err.to_string().contains("'POSTGRES_*,REDIS_PASSWORD'"),
                "{err}"
            );
        }
        for bad in ["", " , ", "A-B"] {
            let typed = Options {
                file_env: Some(bad.into()),
                ..Options::default()
            };
            let err = settings(&typed, &[]).unwrap_err();
            assert!(err.to_string().starts_with("--file-env"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_help_shows_the_real_default_manifest() {
        let help = Cli::command().render_help().to_string();
        assert!(
            help.contains(&format!("[default: {DEFAULT_MANIFEST}]")),
            "{help}"
        );
    }
}
