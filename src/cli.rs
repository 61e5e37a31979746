//! What the user typed: the clap definition of SPEC §1, and nothing more. Turning these
//! raw values into settings (with `SESAME_*` variables and manifest defaults) is
//! `settings`' job, so this module never looks at the environment.

use clap::{Args, Parser, Subcommand, ValueEnum};
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
    override_usage = "sesame [OPTIONS] [--] COMMAND [ARG]...\n       sesame check [OPTIONS] [--format text|json] [--quiet] [--explain NAME]\n       sesame generate [OPTIONS] [--out DIR] [--force] [--format files|env]\n       sesame schema",
    after_help = "Exit codes: the command's own; 64 usage; 70 internal error; 77 privilege change refused; \
                  78 manifest invalid or a secret missing or invalid; 126 not executable; 127 not found."
)]
pub struct Cli {
    #[command(flatten)]
    pub options: Options,

    #[command(subcommand)]
    pub action: Option<Action>,

    /// The command to run and its arguments, passed through verbatim.
    #[arg(value_name = "COMMAND", hide = true)]
    pub command: Vec<OsString>,
}

/// Options shared by every form of the command line (SPEC §1).
#[derive(Debug, Default, Args)]
pub struct Options {
    /// The manifest [env: SESAME_MANIFEST] [default: /etc/sesame/manifest.yaml]
    #[arg(short, long, value_name = "PATH", global = true)]
    pub manifest: Option<PathBuf>,

    /// Where secret files live [env: SESAME_SECRETS_DIR] [default: manifest `secrets_dir`, else /run/secrets]
    #[arg(short = 'd', long, value_name = "DIR", global = true)]
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
    #[arg(long, global = true, overrides_with = "no_init")]
    pub init: bool,

    /// Replace sesame with the command even when sesame is PID 1 [env: SESAME_INIT=never]
    #[arg(long, global = true, overrides_with = "init")]
    pub no_init: bool,

    /// Init mode: forward signals to the child's whole process group [env: SESAME_SIGNAL_GROUP=1]
    #[arg(long, global = true)]
    pub signal_group: bool,

    /// Init mode: follow secret rotation [env: SESAME_WATCH=1]
    #[arg(long, global = true)]
    pub watch: bool,

    /// Also expand every X_FILE variable the manifest does not cover [env: SESAME_FILE_ENV=1]
    #[arg(long, global = true)]
    pub file_env: bool,

    /// Treat every warning as an error [env: SESAME_STRICT=1]
    #[arg(long, global = true)]
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
    Check(CheckArgs),
    /// Create missing secrets from their `generate:` rules, with the system's CSPRNG
    Generate(GenerateArgs),
    /// Print the manifest's JSON Schema
    Schema,
}

/// Options of `sesame generate` (SPEC §8).
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write to [default: the secrets directory]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Generate every secret with a rule, and overwrite existing files
    #[arg(long)]
    pub force: bool,
    /// `files`: one file a secret (mode 0600, directory 0700); `env`: print NAME=value lines for a .env file
    #[arg(long, value_enum, default_value = "files")]
    pub format: GenerateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    Files,
    Env,
}

/// Options of `sesame check` (SPEC §7).
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Print nothing; only the exit code tells (for HEALTHCHECK)
    #[arg(short, long)]
    pub quiet: bool,
    /// Show every place sesame looked for one secret, in order, and what it found there
    #[arg(long, value_name = "NAME")]
    pub explain: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl Cli {
    /// Parses sesame's arguments. The command to run is split off first, so clap never
    /// sees it: everything after `--`, or from the first word that is neither an option
    /// (or an option's value) nor a subcommand name, is passed through verbatim.
    pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Self, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let mut args: Vec<OsString> = args.into_iter().collect();
        // Built once, for the split and the parse (`try_parse_from` would build it again).
        let mut cmd = <Cli as CommandFactory>::command();
        let split = command_start(&cmd, &args);
        let command = split
            .map(|(at, skip)| args.split_off(at).split_off(skip))
            .unwrap_or_default();
        let mut matches = cmd.try_get_matches_from_mut(args)?;
        let mut cli = Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut cmd))?;
        cli.command = command;
        Ok(cli)
    }

    /// The command to launch, if one was given.
    pub fn command(&self) -> Option<&[OsString]> {
        (!self.command.is_empty()).then_some(&self.command[..])
    }
}

/// Where the command starts in `args` (with `args[0]` the program name): its index, and
/// how many separator words (`--`) to drop there. `None` when there is no command, or
/// when a subcommand name comes first (then clap parses everything).
fn command_start(cmd: &clap::Command, args: &[OsString]) -> Option<(usize, usize)> {
    let takes_value = |arg: &clap::Arg| arg.get_action().takes_values();
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "--" {
            return Some((i, 1));
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = long
                .split_once('=')
                .map_or((long, false), |(n, _)| (n, true));
            let needs = cmd
                .get_arguments()
                .any(|x| x.get_long() == Some(name) && takes_value(x));
            i += if needs && !inline { 2 } else { 1 };
        } else if let Some(shorts) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-m x`, `-mx`: a short option that takes a value ends the cluster.
            let first = shorts.chars().next().unwrap_or('-');
            let needs = cmd
                .get_arguments()
                .any(|x| x.get_short() == Some(first) && takes_value(x));
            i += if needs && shorts.chars().count() == 1 {
                2
            } else {
                1
            };
        } else if cmd.get_subcommands().any(|s| s.get_name() == a) || a == "help" {
            return None;
        } else {
            return Some((i, 0));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::parse_args(
            std::iter::once("sesame")
                .chain(args.iter().copied())
                .map(OsString::from),
        )
        .unwrap()
    }

    fn command(args: &[&str]) -> Vec<String> {
        parse(args)
            .command()
            .unwrap()
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn double_dash_makes_a_subcommand_name_a_command() {
        assert_eq!(command(&["--", "check", "-x"]), ["check", "-x"]);
    }

    #[test]
    fn first_bare_word_starts_the_command_and_keeps_its_hyphens() {
        assert_eq!(
            command(&["-m", "m.yaml", "app", "-m", "--strict", "--"]),
            ["app", "-m", "--strict", "--"]
        );
        let cli = parse(&["-m", "m.yaml", "app", "-m", "x"]);
        assert_eq!(cli.options.manifest.as_deref(), Some("m.yaml".as_ref()));
        assert!(!cli.options.strict);
    }

    #[test]
    fn option_values_and_inline_values_are_not_the_command() {
        assert_eq!(command(&["-m", "check", "run", "x"]), ["run", "x"]);
        assert_eq!(
            command(&["--manifest=m.yaml", "--log-level", "debug", "app"]),
            ["app"]
        );
        assert_eq!(command(&["-mcheck", "app"]), ["app"]);
        assert!(parse(&["--strict"]).command().is_none());
    }

    #[test]
    fn options_are_accepted_after_check() {
        let cli = parse(&["check", "--format", "json", "-m", "x.yaml", "--strict"]);
        assert!(matches!(cli.action, Some(Action::Check(ref c)) if c.format == ReportFormat::Json));
        assert!(cli.options.strict);
        assert!(cli.command().is_none());
    }

    #[test]
    fn unknown_option_is_a_usage_error() {
        let err =
            Cli::parse_args(["sesame", "--bogus", "--", "true"].map(OsString::from)).unwrap_err();
        assert_eq!(err.exit_code(), 2); // mapped to 64 by `run`
    }
}
