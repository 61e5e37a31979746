//! What the user typed (SPEC §1), and nothing more: the command line as clap's derive
//! describes it. Turning these raw values into settings (with the `SESAME_*` variables
//! and the manifest's defaults) is `settings`' job, so this module never looks at the
//! environment, and it imports nothing of sesame's but `file_env`'s example.
//!
//! The same [`Cli::command`] parses, prints `--help`, and (in `xtask`) generates the
//! shell completions and the man page, so they cannot disagree.
//!
//! The variables are not clap's `env`: clap reads the process environment with its own
//! vocabulary (`y`, `t`, any case for booleans), its errors name the option rather than
//! the variable that was wrong, and three variables do not map onto one option
//! (`SESAME_INIT` is two flags; an empty `SESAME_USER` is not "unset"; `SESAME_MANIFEST`
//! makes the manifest "named"). `settings` reads them all from the one snapshot of the
//! environment sesame later scrubs; the help texts below name them.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

/// Resolve, validate and inject secrets, then run COMMAND.
///
/// sesame reads a manifest of required and optional secrets, finds each one in a secret
/// file (`/run/secrets`, Docker/Kubernetes mounts, `X_FILE` variables) or in the
/// environment, reports every problem at once without printing any value, and then
/// runs COMMAND with the secrets in its environment.
///
/// Every option also has a `SESAME_*` variable (see the README); the command line wins,
/// then the variable, then the manifest, then the default.
#[derive(Debug, Parser)]
#[command(
    name = "sesame",
    version,
    override_usage = USAGE,
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub options: Options,

    #[command(subcommand)]
    pub action: Option<Action>,

    /// The command to run and its arguments, passed through verbatim (not even UTF-8
    /// is required). Everything from the first word that is neither an option, an
    /// option's value nor a subcommand name, or everything after `--`.
    #[arg(
        value_name = "COMMAND",
        num_args = 1..,
        trailing_var_arg = true,
        value_parser = clap::value_parser!(OsString),
        value_hint = clap::ValueHint::CommandWithArguments,
        hide = true
    )]
    pub command: Vec<OsString>,
}

/// The usage lines of `--help` and of every usage error.
pub const USAGE: &str = "sesame [OPTIONS] [--] COMMAND [ARG]...
       sesame check [OPTIONS] [--format text|json] [--quiet] [--explain NAME]
       sesame generate [OPTIONS] [--out DIR] [--force] [--format files|env]
       sesame schema";

/// Printed after the top-level help.
pub const AFTER_HELP: &str = "Exit codes: the command's own; 64 usage; 70 internal error; \
77 privilege change refused; 78 manifest invalid or a secret missing or invalid; \
126 not executable; 127 not found.";

/// Options shared by every form of the command line (SPEC §1), accepted before and
/// after a subcommand's name.
#[derive(Debug, Default, Args)]
pub struct Options {
    /// The manifest [env: SESAME_MANIFEST] [default: /etc/sesame/manifest.yaml]
    #[arg(short, long, value_name = "PATH", global = true, value_hint = clap::ValueHint::FilePath)]
    pub manifest: Option<PathBuf>,

    /// Where secret files live [env: SESAME_SECRETS_DIR] [default: manifest `secrets_dir`, else /run/secrets]
    #[arg(short = 'd', long, value_name = "DIR", global = true, value_hint = clap::ValueHint::DirPath)]
    pub secrets_dir: Option<PathBuf>,

    /// Deployment environment: selects `required_in` and prefixed sources [env: SESAME_ENVIRONMENT]
    #[arg(short, long, value_name = "NAME", global = true)]
    pub environment: Option<String>,

    /// Drop privileges to USER[:GROUP] before launching [env: SESAME_USER]
    // Hyphen values are taken, so that `--user -1` reaches the strict parser and fails
    // as a bad user (exit 77) rather than as an unknown option.
    #[arg(
        short,
        long,
        value_name = "USER[:GROUP]",
        global = true,
        allow_hyphen_values = true
    )]
    pub user: Option<String>,

    /// Supervise the command as an init (signal forwarding, zombie reaping) [env: SESAME_INIT=always]
    // `--init` and `--no-init` override each other (and themselves): the last one wins.
    #[arg(long, global = true, overrides_with_all = ["init", "no_init"])]
    pub init: bool,

    /// Replace sesame with the command even when sesame is PID 1 [env: SESAME_INIT=never]
    #[arg(long, global = true, overrides_with_all = ["init", "no_init"])]
    pub no_init: bool,

    /// Init mode: forward signals to the child's whole process group [env: SESAME_SIGNAL_GROUP=1]
    // A flag given twice is harmless; an option with a value given twice is an error
    // (which one was meant is a guess).
    #[arg(long, global = true, overrides_with = "signal_group")]
    pub signal_group: bool,

    /// Init mode: follow secret rotation [env: SESAME_WATCH=1]
    #[arg(long, global = true, overrides_with = "watch")]
    pub watch: bool,

    /// Expand NAME_FILE into NAME for these names (comma-separated; `*` matches any run of characters), e.g. 'POSTGRES_*,REDIS_PASSWORD' [env: SESAME_FILE_ENV]
    // As typed: `settings` splits and checks the list (`file_env::parse_names`), the same
    // way for the option and for SESAME_FILE_ENV.
    #[arg(long, value_name = "NAMES", global = true)]
    pub file_env: Option<String>,

    /// Treat every warning as an error [env: SESAME_STRICT=1]
    #[arg(long, global = true, overrides_with = "strict")]
    pub strict: bool,

    /// Format of sesame's own log lines on stderr [env: SESAME_LOG_FORMAT] [default: text]
    #[arg(long, value_name = "FORMAT", global = true)]
    pub log_format: Option<LogFormat>,

    /// Level of sesame's own log lines [env: SESAME_LOG] [default: info]
    #[arg(long, value_name = "LEVEL", global = true)]
    pub log_level: Option<LogLevel>,
}

/// The subcommands. Any other first word is the command to run.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Resolve and validate, then print a report instead of launching (exit 0 or 78)
    #[command(
        override_usage = "sesame check [OPTIONS] [--format text|json] [--quiet] [--explain NAME]"
    )]
    Check(CheckArgs),
    /// Create missing secrets from their `generate:` rules, with the system's CSPRNG
    #[command(
        override_usage = "sesame generate [OPTIONS] [--out DIR] [--force] [--format files|env]"
    )]
    Generate(GenerateArgs),
    /// Print the manifest's JSON Schema
    Schema,
}

/// Options of `sesame generate` (SPEC §8).
#[derive(Debug, Default, Args)]
pub struct GenerateArgs {
    /// Directory to write to [default: the secrets directory]
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub out: Option<PathBuf>,
    /// Generate every secret with a rule, and overwrite existing files
    #[arg(long, overrides_with = "force")]
    pub force: bool,
    /// `files`: one file a secret (mode 0600, directory 0700); `env`: print NAME=value lines for a .env file
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = GenerateFormat::Files)]
    pub format: GenerateFormat,
}

/// Options of `sesame check` (SPEC §7).
#[derive(Debug, Default, Args)]
pub struct CheckArgs {
    /// Report format
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Print nothing; only the exit code tells (for HEALTHCHECK)
    #[arg(short, long, overrides_with = "quiet")]
    pub quiet: bool,
    /// Show every place sesame looked for one secret, in order, and what it found there
    #[arg(long, value_name = "NAME")]
    pub explain: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    #[default]
    Files,
    Env,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
}

/// Why parsing did not produce a [`Cli`]: help or the version was asked for (stdout,
/// exit 0), or the command line is wrong (stderr, exit 64).
#[derive(Debug)]
pub struct CliError(clap::Error);

impl CliError {
    /// 0 for help and version, 64 (SPEC §9: usage) for every error; clap's own 2 is not
    /// one of sesame's codes.
    pub fn exit_code(&self) -> i32 {
        if self.0.use_stderr() { 64 } else { 0 }
    }

    /// Help and version on stdout; an error on stderr, its first line starting with
    /// `sesame: error:` like every other error sesame prints, followed by clap's tip and
    /// usage. A closed stdout (`sesame --help | head -1`) is not worth reporting.
    pub fn print(&self) {
        use std::io::Write;
        if !self.0.use_stderr() {
            let _ = self.0.print();
            return;
        }
        let text = self.to_string();
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.kind()
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.render().to_string();
        match text.strip_prefix("error: ") {
            Some(rest) => write!(f, "sesame: error: {rest}"),
            None => f.write_str(&text),
        }
    }
}

impl Cli {
    /// sesame's command line as clap describes it: the parser's, and xtask's for the
    /// completions and the man page.
    pub fn command() -> clap::Command {
        <Cli as CommandFactory>::command()
    }

    /// Parses sesame's arguments (`args[0]` is the program name). Options are read up
    /// to `--`, or up to the first word that is neither an option, an option's value,
    /// nor a subcommand name: that word and everything after it are the command,
    /// passed through verbatim.
    ///
    /// clap's errors quote the words they are about as they are; when one holds a
    /// control character (a newline would start a forged line of the log, an escape
    /// sequence drive the terminal) the error is made again from the words escaped
    /// ([`crate::shown`]).
    pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Self, CliError> {
        let args: Vec<OsString> = args.into_iter().collect();
        let mut cmd = Self::command();
        let parsed = cmd
            .try_get_matches_from_mut(&args)
            .and_then(|mut m| Cli::from_arg_matches_mut(&mut m));
        parsed.map_err(|e| {
            let needs_escape =
                |a: &OsString| matches!(crate::shown::path(a).to_cow(), std::borrow::Cow::Owned(_));
            let e = if e.kind() != ErrorKind::DisplayHelp
                && e.kind() != ErrorKind::DisplayVersion
                && args.iter().any(needs_escape)
            {
                let escaped = args
                    .iter()
                    .map(|a| OsString::from(crate::shown::path(a).to_string()));
                let mut again = Self::command();
                match again.try_get_matches_from_mut(escaped) {
                    Err(e2) => e2,
                    Ok(_) => cmd.error(e.kind(), "an argument holds a control character"),
                }
            } else {
                e
            };
            CliError(explain_missing_file_env(e, &mut cmd).format(&mut cmd))
        })
    }

    /// The command to launch, if one was given.
    pub fn command_line(&self) -> Option<&[OsString]> {
        (!self.command.is_empty()).then_some(&self.command[..])
    }
}

/// clap's "a value is required for '--file-env <NAMES>'" says that something is
/// missing but not what: replace it with what to write (the words `file_env` uses for
/// an empty list). `--file-env` was a flag once, so `--file-env -- app` is likely.
fn explain_missing_file_env(e: clap::Error, cmd: &mut clap::Command) -> clap::Error {
    let is_file_env = matches!(
        e.get(ContextKind::InvalidArg),
        Some(ContextValue::String(a)) if a.starts_with("--file-env")
    );
    let empty =
        matches!(e.get(ContextKind::InvalidValue), Some(ContextValue::String(v)) if v.is_empty());
    if e.kind() == ErrorKind::InvalidValue && is_file_env && empty {
        return cmd.error(ErrorKind::InvalidValue, file_env_hint());
    }
    e
}

/// `--file-env needs the names to expand, e.g. --file-env 'POSTGRES_*,REDIS_PASSWORD'`.
pub fn file_env_hint() -> String {
    format!(
        "--file-env needs the names to expand, e.g. --file-env {}",
        crate::file_env::EXAMPLE
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn try_parse(args: &[&str]) -> Result<Cli, CliError> {
        Cli::parse_args(
            std::iter::once("sesame")
                .chain(args.iter().copied())
                .map(OsString::from),
        )
    }

    fn parse(args: &[&str]) -> Cli {
        match try_parse(args) {
            Ok(cli) => cli,
            Err(e) => panic!("{args:?}: {e}"),
        }
    }

    /// The usage error's text; panics on success or on help.
    fn usage_error(args: &[&str]) -> String {
        match try_parse(args) {
            Err(e) if e.exit_code() == 64 => {
                let text = e.to_string();
                assert!(text.starts_with("sesame: error: "), "{text}");
                text
            }
            Err(e) => panic!("{args:?}: expected a usage error, got {:?}", e.kind()),
            Ok(cli) => panic!("{args:?}: expected a usage error, got {cli:?}"),
        }
    }

    fn help_text(args: &[&str]) -> String {
        match try_parse(args) {
            Err(e) if e.kind() == ErrorKind::DisplayHelp => {
                assert_eq!(e.exit_code(), 0);
                e.0.render().to_string()
            }
            other => panic!("{args:?}: expected help, got {other:?}"),
        }
    }

    fn command(args: &[&str]) -> Vec<String> {
        parse(args)
            .command_line()
            .unwrap_or_else(|| panic!("{args:?}: no command"))
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_clap_command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn double_dash_makes_a_subcommand_name_a_command() {
        assert_eq!(command(&["--", "check", "-x"]), ["check", "-x"]);
        assert_eq!(command(&["--", "help"]), ["help"]);
        assert_eq!(command(&["--", "--", "-m"]), ["--", "-m"]);
        assert_eq!(command(&["-m", "x", "--", "schema"]), ["schema"]);
    }

    #[test]
    fn first_bare_word_starts_the_command_and_keeps_its_hyphens() {
        assert_eq!(
            command(&["-m", "m.yaml", "app", "-m", "--strict", "--"]),
            ["app", "-m", "--strict", "--"]
        );
        assert_eq!(
            command(&["app", "check", "--help"]),
            ["app", "check", "--help"]
        );
        let cli = parse(&["-m", "m.yaml", "app", "-m", "x"]);
        assert_eq!(cli.options.manifest.as_deref(), Some("m.yaml".as_ref()));
        assert!(!cli.options.strict);
        assert!(cli.action.is_none());
        // A lone `-` is a word, not an option.
        assert_eq!(command(&["-", "x"]), ["-", "x"]);
    }

    #[test]
    fn option_values_and_inline_values_are_not_the_command() {
        assert_eq!(command(&["-m", "check", "run", "x"]), ["run", "x"]);
        assert_eq!(
            command(&["--manifest=m.yaml", "--log-level", "debug", "app"]),
            ["app"]
        );
        assert_eq!(command(&["-mcheck", "app"]), ["app"]);
        assert!(parse(&["--strict"]).command_line().is_none());
    }

    #[test]
    fn options_are_accepted_before_and_after_check() {
        let cli = parse(&["check", "--format", "json", "-m", "x.yaml", "--strict"]);
        assert!(matches!(cli.action, Some(Action::Check(ref c)) if c.format == ReportFormat::Json));
        assert!(cli.options.strict);
        assert_eq!(cli.options.manifest.as_deref(), Some("x.yaml".as_ref()));
        assert!(cli.command_line().is_none());
        let cli = parse(&["-e", "prod", "check", "-q"]);
        assert_eq!(cli.options.environment.as_deref(), Some("prod"));
        assert!(matches!(cli.action, Some(Action::Check(ref c)) if c.quiet));
    }

    #[test]
    fn unknown_options_are_usage_errors_with_a_suggestion() {
        let err = usage_error(&["--bogus", "--", "true"]);
        assert!(err.contains("unexpected argument '--bogus'"), "{err}");
        let err = usage_error(&["--stritc", "--", "true"]);
        assert!(err.contains("--strict"), "{err}");
        usage_error(&["check", "-qx"]);
        // Not a prefix match: `--ver` is not `--version`.
        usage_error(&["--ver"]);
    }

    #[test]
    fn every_value_form_is_read() {
        for args in [
            ["--manifest=a b", "x"].as_slice(),
            &["--manifest", "a b", "x"],
            &["-ma b", "x"],
            &["-m", "a b", "x"],
            &["-m=a b", "x"],
        ] {
            let cli = parse(args);
            assert_eq!(
                cli.options.manifest.as_deref(),
                Some("a b".as_ref()),
                "{args:?}"
            );
            assert_eq!(cli.command, ["x"], "{args:?}");
        }
        let cli = parse(&["--environment=a=b", "x"]);
        assert_eq!(cli.options.environment.as_deref(), Some("a=b"));
    }

    #[test]
    fn a_short_cluster_sets_each_flag_and_the_last_may_take_a_value() {
        let cli = parse(&["check", "-qm", "x.yaml"]);
        assert!(matches!(cli.action, Some(Action::Check(ref c)) if c.quiet));
        assert_eq!(cli.options.manifest.as_deref(), Some("x.yaml".as_ref()));
        let cli = parse(&["check", "-qmx.yaml"]);
        assert_eq!(cli.options.manifest.as_deref(), Some("x.yaml".as_ref()));
    }

    #[test]
    fn user_takes_hyphen_values_and_other_options_do_not() {
        for args in [
            ["--user", "-1"].as_slice(),
            &["-u", "-1"],
            &["--user=-1"],
            &["-u-1"],
        ] {
            let cli = parse(&[args, &["--", "true"]].concat());
            assert_eq!(cli.options.user.as_deref(), Some("-1"), "{args:?}");
            assert_eq!(cli.command, ["true"]);
        }
        let err = usage_error(&["-m", "--strict", "app"]);
        assert!(
            err.contains("a value is required for '--manifest <PATH>'"),
            "{err}"
        );
        usage_error(&["--environment", "-x", "app"]);
        usage_error(&["check", "--explain", "-q"]);
        let cli = parse(&["-m", "-", "app"]);
        assert_eq!(cli.options.manifest.as_deref(), Some("-".as_ref()));
    }

    #[test]
    fn a_missing_value_at_the_end_is_a_usage_error() {
        for args in [
            ["-m"].as_slice(),
            &["--secrets-dir"],
            &["--user"],
            &["check", "--explain"],
            &["generate", "--format"],
        ] {
            let err = usage_error(args);
            assert!(err.contains("a value is required"), "{args:?}: {err}");
        }
    }

    #[test]
    fn empty_paths_are_refused_and_empty_text_is_kept() {
        usage_error(&["--manifest=", "x"]);
        usage_error(&["-d", "", "x"]);
        usage_error(&["generate", "--out="]);
        // An empty user reaches the user parser (exit 77), like SESAME_USER="".
        let cli = parse(&["--user=", "--", "x"]);
        assert_eq!(cli.options.user.as_deref(), Some(""));
    }

    #[test]
    fn init_and_no_init_override_each_other_the_last_one_wins() {
        let o = parse(&["--init", "--no-init", "x"]).options;
        assert!(!o.init && o.no_init);
        let o = parse(&["--no-init", "--init", "x"]).options;
        assert!(o.init && !o.no_init);
        let o = parse(&["--init", "--no-init", "--init", "x"]).options;
        assert!(o.init && !o.no_init);
    }

    #[test]
    fn value_enums_take_their_names_only_and_a_bad_one_lists_them() {
        let o = parse(&["--log-format", "json", "--log-level=warn", "x"]).options;
        assert_eq!(o.log_format, Some(LogFormat::Json));
        assert_eq!(o.log_level, Some(LogLevel::Warn));
        let err = usage_error(&["--log-level", "loud", "x"]);
        assert!(
            err.contains("invalid value 'loud' for '--log-level <LEVEL>'")
                && err.contains("[possible values: error, warn, info, debug]"),
            "{err}"
        );
        usage_error(&["--log-format=JSON", "x"]);
        let err = usage_error(&["check", "--format", "yaml"]);
        assert!(err.contains("[possible values: text, json]"), "{err}");
        let err = usage_error(&["generate", "--format", "json"]);
        assert!(err.contains("[possible values: files, env]"), "{err}");
    }

    #[test]
    fn check_and_generate_each_have_their_own_format_and_defaults() {
        let cli = parse(&["generate", "--format", "env", "--out", "d", "--force"]);
        let Some(Action::Generate(g)) = cli.action else {
            panic!("not generate")
        };
        assert_eq!(g.format, GenerateFormat::Env);
        assert_eq!(g.out.as_deref(), Some("d".as_ref()));
        assert!(g.force);
        let Some(Action::Check(c)) = parse(&["check"]).action else {
            panic!("not check")
        };
        assert_eq!(
            (c.format, c.quiet, c.explain),
            (ReportFormat::Text, false, None)
        );
        let Some(Action::Generate(g)) = parse(&["generate"]).action else {
            panic!("not generate")
        };
        assert_eq!(
            (g.format, g.force, g.out),
            (GenerateFormat::Files, false, None)
        );
        assert!(matches!(parse(&["schema"]).action, Some(Action::Schema)));
    }

    #[test]
    fn subcommand_options_are_refused_elsewhere() {
        usage_error(&["--quiet", "check"]);
        usage_error(&["--format", "json", "x"]);
        usage_error(&["check", "--out", "d"]);
        usage_error(&["schema", "--force"]);
    }

    #[test]
    fn a_subcommand_takes_no_words() {
        let err = usage_error(&["check", "extra"]);
        assert!(err.contains("unexpected argument 'extra'"), "{err}");
        usage_error(&["check", "--", "x"]);
        usage_error(&["check", "generate"]);
        usage_error(&["schema", "x"]);
    }

    #[test]
    fn flags_take_no_inline_value() {
        usage_error(&["--strict=1", "x"]);
    }

    #[test]
    fn an_option_with_a_value_given_twice_is_refused_a_flag_twice_is_not() {
        let err = usage_error(&["-m", "a", "--manifest=b", "x"]);
        assert!(err.contains("cannot be used multiple times"), "{err}");
        usage_error(&["check", "--explain", "A", "--explain", "B"]);
        let cli = parse(&[
            "--strict", "--strict", "--watch", "--watch", "check", "-q", "--quiet",
        ]);
        assert!(cli.options.strict && cli.options.watch);
    }

    #[test]
    fn help_and_version_at_every_level() {
        let long = help_text(&["--help"]);
        let short = help_text(&["-h"]);
        assert!(long.contains("sesame reads a manifest"));
        assert!(!short.contains("sesame reads a manifest"));
        for text in [&long, &short] {
            assert!(text.contains(&format!("Usage: {USAGE}\n")), "{text}");
            assert!(text.contains("-V, --version"));
            assert!(text.contains("-m, --manifest <PATH>"));
            assert!(text.trim_end().ends_with(AFTER_HELP));
            for sub in ["check", "generate", "schema", "help"] {
                assert!(text.contains(&format!("\n  {sub} ")), "{sub}");
            }
        }
        assert!(long.contains("[possible values: error, warn, info, debug]"));
        assert_eq!(help_text(&["help"]), long);
        let check = help_text(&["check", "--help"]);
        assert!(check.contains("--explain <NAME>") && check.contains("-q, --quiet"));
        assert!(check.contains(
            "Usage: sesame check [OPTIONS] [--format text|json] [--quiet] [--explain NAME]\n"
        ));
        assert!(!check.contains("--version") && !check.contains("--force"));
        assert_eq!(help_text(&["help", "check"]), check);
        let generate = help_text(&["generate", "-h"]);
        assert!(generate.contains("[possible values: files, env]"));
        assert!(!generate.contains("--quiet"));
        let v = try_parse(&["-V"]).unwrap_err();
        assert_eq!((v.kind(), v.exit_code()), (ErrorKind::DisplayVersion, 0));
        usage_error(&["check", "-V"]);
        usage_error(&["help", "bogus"]);
    }

    #[test]
    fn file_env_takes_its_list_as_typed_and_a_missing_one_says_what_to_write() {
        let list = |args: &[&str]| parse(args).options.file_env;
        assert_eq!(
            list(&["--file-env", "POSTGRES_*, REDIS_PASSWORD", "--", "x"]).as_deref(),
            Some("POSTGRES_*, REDIS_PASSWORD")
        );
        assert_eq!(list(&["check", "--file-env=*"]).as_deref(), Some("*"));
        assert_eq!(list(&["x"]), None);
        for args in [["--file-env"].as_slice(), &["--file-env", "--", "true"]] {
            let err = usage_error(args);
            assert!(err.contains(&file_env_hint()), "{args:?}: {err}");
        }
    }

    #[test]
    fn non_utf8_command_words_and_paths_pass_through_verbatim() {
        let bad = || OsString::from_vec(b"caf\xe9".to_vec());
        let args = [
            OsString::from("sesame"),
            "-m".into(),
            bad(),
            "--secrets-dir".into(),
            bad(),
            bad(),
            "-m".into(),
            bad(),
        ];
        let cli = Cli::parse_args(args).unwrap();
        assert_eq!(cli.options.manifest, Some(PathBuf::from(bad())));
        assert_eq!(cli.options.secrets_dir, Some(PathBuf::from(bad())));
        assert_eq!(cli.command, [bad(), "-m".into(), bad()]);
        // Text values must be UTF-8: a usage error, not a panic or a lossy copy.
        let args = [OsString::from("sesame"), "-e".into(), bad(), "x".into()];
        assert_eq!(Cli::parse_args(args).unwrap_err().exit_code(), 64);
        let mut opt = b"--".to_vec();
        opt.extend_from_slice(b"caf\xe9");
        let args = [OsString::from("sesame"), OsString::from_vec(opt)];
        assert_eq!(Cli::parse_args(args).unwrap_err().exit_code(), 64);
    }

    #[test]
    fn nothing_at_all_is_no_command_and_no_action() {
        let cli = parse(&[]);
        assert!(cli.action.is_none() && cli.command_line().is_none());
        let cli = parse(&["--"]);
        assert!(cli.action.is_none() && cli.command_line().is_none());
    }
}
