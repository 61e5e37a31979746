//! What the user typed (SPEC §1), and nothing more. Turning these raw values into
//! settings (with `SESAME_*` variables and manifest defaults) is `settings`' job, so this
//! module never looks at the environment.
//!
//! The command line is described once, by the tables [`OPTIONS`] and [`SUBCOMMANDS`]:
//! the parser and `--help` read them here, and `xtask` builds a `clap::Command` from
//! them for the shell completions and the man page. clap itself is not in this binary:
//! it cost 212 KB of the static binary and ~230,000 instructions a start (a third of
//! all sesame did for one secret) for what a loop over the arguments does in ~1,500.

use crate::settings::DEFAULT_MANIFEST;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The parsed command line.
#[derive(Debug, Default)]
pub struct Cli {
    pub options: Options,
    pub action: Option<Action>,
    /// The command to run and its arguments, passed through verbatim.
    pub command: Vec<OsString>,
}

/// Options shared by every form of the command line (SPEC §1).
#[derive(Debug, Default)]
pub struct Options {
    pub manifest: Option<PathBuf>,
    pub secrets_dir: Option<PathBuf>,
    pub environment: Option<String>,
    /// Taken as typed, hyphens included, so that `--user -1` reaches the strict parser
    /// and fails as a bad user (exit 77) rather than as an unknown option.
    pub user: Option<String>,
    /// `--init` and `--no-init` override each other: the last one given wins.
    pub init: bool,
    pub no_init: bool,
    pub signal_group: bool,
    pub watch: bool,
    /// `--file-env NAMES` as typed; `settings` splits and checks the list.
    pub file_env: Option<String>,
    pub strict: bool,
    pub log_format: Option<LogFormat>,
    pub log_level: Option<LogLevel>,
}

/// The subcommands. Any other first word is the command to run.
#[derive(Debug)]
pub enum Action {
    Check(CheckArgs),
    Generate(GenerateArgs),
    Schema,
}

/// Options of `sesame generate` (SPEC §8).
#[derive(Debug)]
pub struct GenerateArgs {
    pub out: Option<PathBuf>,
    pub force: bool,
    pub format: GenerateFormat,
}

impl Default for GenerateArgs {
    fn default() -> Self {
        GenerateArgs {
            out: None,
            force: false,
            format: GenerateFormat::Files,
        }
    }
}

/// Options of `sesame check` (SPEC §7).
#[derive(Debug)]
pub struct CheckArgs {
    pub format: ReportFormat,
    pub quiet: bool,
    pub explain: Option<String>,
}

impl Default for CheckArgs {
    fn default() -> Self {
        CheckArgs {
            format: ReportFormat::Text,
            quiet: false,
            explain: None,
        }
    }
}

/// An enum whose variants are spelt on the command line: `NAMES` (in the variants'
/// order) feeds the option table, `--help` and the error for a value not in it.
macro_rules! value_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        pub enum $name { $($variant),+ }
        impl $name {
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            pub fn from_name(s: &str) -> Option<Self> {
                [$(($text, $name::$variant)),+]
                    .into_iter()
                    .find_map(|(t, v)| (t == s).then_some(v))
            }
        }
    };
}

value_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum GenerateFormat { Files = "files", Env = "env" }
}
value_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ReportFormat { Text = "text", Json = "json" }
}
value_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum LogFormat { Text = "text", Json = "json" }
}
value_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub enum LogLevel { Error = "error", Warn = "warn", Info = "info", Debug = "debug" }
}

// ---------------------------------------------------------------------------------------
// The description of the command line.

/// The one-line summary (`-h`, the man page's NAME).
pub const ABOUT: &str = "Resolve, validate and inject secrets, then run COMMAND";

/// The longer description (`--help`, the man page's DESCRIPTION).
pub const LONG_ABOUT: &str = "\
Resolve, validate and inject secrets, then run COMMAND.

sesame reads a manifest of required and optional secrets, finds each one in a secret file \
(`/run/secrets`, Docker/Kubernetes mounts, `X_FILE` variables) or in the environment, \
reports every problem at once without printing any value, and then runs COMMAND with the \
secrets in its environment.

Every option also has a `SESAME_*` variable (see the README); the command line wins, then \
the variable, then the manifest, then the default.";

/// Printed after the top-level help.
pub const AFTER_HELP: &str = "Exit codes: the command's own; 64 usage; 70 internal error; \
77 privilege change refused; 78 manifest invalid or a secret missing or invalid; \
126 not executable; 127 not found.";

/// What `help` says about itself.
pub const HELP_ABOUT: &str = "Print this message or the help of the given subcommand(s)";

/// The form of the command line without a subcommand.
pub const RUN_USAGE: &str = "[OPTIONS] [--] COMMAND [ARG]...";

/// The subcommands, which change what sesame does instead of running a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subcommand {
    Check,
    Generate,
    Schema,
}

/// A subcommand as `--help` and the completions show it.
#[derive(Debug)]
pub struct SubcommandSpec {
    pub which: Subcommand,
    pub name: &'static str,
    pub about: &'static str,
}

pub const SUBCOMMANDS: &[SubcommandSpec] = &[
    SubcommandSpec {
        which: Subcommand::Check,
        name: "check",
        about: "Resolve and validate, then print a report instead of launching (exit 0 or 78)",
    },
    SubcommandSpec {
        which: Subcommand::Generate,
        name: "generate",
        about: "Create missing secrets from their `generate:` rules, with the system's CSPRNG",
    },
    SubcommandSpec {
        which: Subcommand::Schema,
        name: "schema",
        about: "Print the manifest's JSON Schema",
    },
];

/// Where an option is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere: before and after a subcommand's name.
    Global,
    /// Only without a subcommand (before the command, or alone).
    Top,
    /// Only after this subcommand's name.
    Only(Subcommand),
}

impl Scope {
    fn admits(self, sub: Option<Subcommand>) -> bool {
        match self {
            Scope::Global => true,
            Scope::Top => sub.is_none(),
            Scope::Only(s) => sub == Some(s),
        }
    }
}

/// What an option takes; the `&str` is the value's name in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Nothing: a flag.
    None,
    /// A path to a file (kept as an `OsString`; must not be empty).
    File(&'static str),
    /// A path to a directory (kept as an `OsString`; must not be empty).
    Dir(&'static str),
    /// Any UTF-8 text, empty included.
    Text(&'static str),
    /// One of these words.
    OneOf(&'static str, &'static [&'static str]),
}

impl Value {
    /// The value's name (`PATH`), or `None` for a flag.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Value::None => None,
            Value::File(n) | Value::Dir(n) | Value::Text(n) | Value::OneOf(n, _) => Some(n),
        }
    }
}

/// What the parser does with an option: one variant an option, so that the parser's
/// `match` is exhaustive over the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Manifest,
    SecretsDir,
    Environment,
    User,
    Init,
    NoInit,
    SignalGroup,
    Watch,
    FileEnv,
    Strict,
    LogFormat,
    LogLevel,
    Help,
    Version,
    CheckFormat,
    Quiet,
    Explain,
    Out,
    Force,
    GenerateFormat,
}

/// One option: everything the parser, `--help`, the completions and the man page need.
#[derive(Debug)]
pub struct Opt {
    pub key: Key,
    pub long: &'static str,
    pub short: Option<char>,
    pub value: Value,
    /// Whether the value may start with `-` (`--user -1`); otherwise `-m --strict` is a
    /// missing value rather than a manifest called `--strict`.
    pub hyphen_values: bool,
    pub help: &'static str,
    /// The variable that sets the same thing (with its value, for flags).
    pub env: Option<&'static str>,
    /// What applies when neither the option nor the variable is given.
    pub default: Option<&'static str>,
    pub scope: Scope,
}

impl Opt {
    const fn new(key: Key, long: &'static str, value: Value, help: &'static str) -> Self {
        Opt {
            key,
            long,
            short: None,
            value,
            hyphen_values: false,
            help,
            env: None,
            default: None,
            scope: Scope::Global,
        }
    }
    const fn short(self, c: char) -> Self {
        Opt {
            short: Some(c),
            ..self
        }
    }
    const fn env(self, var: &'static str) -> Self {
        Opt {
            env: Some(var),
            ..self
        }
    }
    const fn default(self, d: &'static str) -> Self {
        Opt {
            default: Some(d),
            ..self
        }
    }
    const fn scope(self, scope: Scope) -> Self {
        Opt { scope, ..self }
    }
    const fn hyphen_values(self) -> Self {
        Opt {
            hyphen_values: true,
            ..self
        }
    }

    /// The help text with the variable and the default: `The manifest [env:
    /// SESAME_MANIFEST] [default: /etc/sesame/manifest.yaml]`. The accepted values
    /// are not included (clap adds its own in the man page).
    pub fn describe(&self) -> String {
        let mut s = self.help.to_owned();
        if let Some(e) = self.env {
            s.push_str(&format!(" [env: {e}]"));
        }
        if let Some(d) = self.default {
            s.push_str(&format!(" [default: {d}]"));
        }
        s
    }

    /// `-m, --manifest <PATH>` or `    --init`.
    fn flags(&self) -> String {
        let short = self.short.map_or("    ".into(), |c| format!("-{c}, "));
        match self.value.name() {
            Some(v) => format!("{short}--{} <{v}>", self.long),
            None => format!("{short}--{}", self.long),
        }
    }

    fn takes_value(&self) -> bool {
        self.value != Value::None
    }
}

const CHECK: Scope = Scope::Only(Subcommand::Check);
const GENERATE: Scope = Scope::Only(Subcommand::Generate);

/// Every option, in the order `--help` lists them.
pub const OPTIONS: &[Opt] = &[
    Opt::new(Key::Manifest, "manifest", Value::File("PATH"), "The manifest")
        .short('m')
        .env("SESAME_MANIFEST")
        .default(DEFAULT_MANIFEST),
    Opt::new(
        Key::SecretsDir,
        "secrets-dir",
        Value::Dir("DIR"),
        "Where secret files live",
    )
    .short('d')
    .env("SESAME_SECRETS_DIR")
    .default("manifest `secrets_dir`, else /run/secrets"),
    Opt::new(
        Key::Environment,
        "environment",
        Value::Text("NAME"),
        "Deployment environment: selects `required_in` and prefixed sources",
    )
    .short('e')
    .env("SESAME_ENVIRONMENT"),
    Opt::new(
        Key::User,
        "user",
        Value::Text("USER[:GROUP]"),
        "Drop privileges to USER[:GROUP] before launching",
    )
    .short('u')
    .env("SESAME_USER")
    .hyphen_values(),
    Opt::new(
        Key::Init,
        "init",
        Value::None,
        "Supervise the command as an init (signal forwarding, zombie reaping)",
    )
    .env("SESAME_INIT=always"),
    Opt::new(
        Key::NoInit,
        "no-init",
        Value::None,
        "Replace sesame with the command even when sesame is PID 1",
    )
    .env("SESAME_INIT=never"),
    Opt::new(
        Key::SignalGroup,
        "signal-group",
        Value::None,
        "Init mode: forward signals to the child's whole process group",
    )
    .env("SESAME_SIGNAL_GROUP=1"),
    Opt::new(
        Key::Watch,
        "watch",
        Value::None,
        "Init mode: follow secret rotation",
    )
    .env("SESAME_WATCH=1"),
    Opt::new(
        Key::FileEnv,
        "file-env",
        Value::Text("NAMES"),
        "Expand X_FILE into X for these comma-separated names or globs only (e.g. POSTGRES_*,REDIS_PASSWORD)",
    )
    .env("SESAME_FILE_ENV"),
    Opt::new(
        Key::Strict,
        "strict",
        Value::None,
        "Treat every warning as an error",
    )
    .env("SESAME_STRICT=1"),
    Opt::new(
        Key::LogFormat,
        "log-format",
        Value::OneOf("FORMAT", LogFormat::NAMES),
        "Format of sesame's own log lines on stderr",
    )
    .env("SESAME_LOG_FORMAT")
    .default("text"),
    Opt::new(
        Key::LogLevel,
        "log-level",
        Value::OneOf("LEVEL", LogLevel::NAMES),
        "Level of sesame's own log lines",
    )
    .env("SESAME_LOG")
    .default("info"),
    Opt::new(
        Key::CheckFormat,
        "format",
        Value::OneOf("FORMAT", ReportFormat::NAMES),
        "Report format",
    )
    .default("text")
    .scope(CHECK),
    Opt::new(
        Key::Quiet,
        "quiet",
        Value::None,
        "Print nothing; only the exit code tells (for HEALTHCHECK)",
    )
    .short('q')
    .scope(CHECK),
    Opt::new(
        Key::Explain,
        "explain",
        Value::Text("NAME"),
        "Show every place sesame looked for one secret, in order, and what it found there",
    )
    .scope(CHECK),
    Opt::new(
        Key::Out,
        "out",
        Value::Dir("DIR"),
        "Directory to write to [default: the secrets directory]",
    )
    .scope(GENERATE),
    Opt::new(
        Key::Force,
        "force",
        Value::None,
        "Generate every secret with a rule, and overwrite existing files",
    )
    .scope(GENERATE),
    Opt::new(
        Key::GenerateFormat,
        "format",
        Value::OneOf("FORMAT", GenerateFormat::NAMES),
        "`files`: one file a secret (mode 0600, directory 0700); `env`: print NAME=value lines for a .env file",
    )
    .default("files")
    .scope(GENERATE),
    Opt::new(Key::Help, "help", Value::None, "Print help").short('h'),
    Opt::new(Key::Version, "version", Value::None, "Print version")
        .short('V')
        .scope(Scope::Top),
];

/// `sesame --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The usage lines after `Usage: `: the command form, then one line a subcommand with
/// its own options (`sesame check [OPTIONS] [--format text|json] [--quiet] ...`).
pub fn usage() -> String {
    let mut lines = vec![format!("sesame {RUN_USAGE}")];
    for sub in SUBCOMMANDS {
        lines.push(subcommand_usage(sub));
    }
    lines.join("\n       ")
}

fn subcommand_usage(sub: &SubcommandSpec) -> String {
    let mut line = format!("sesame {}", sub.name);
    let own = OPTIONS.iter().filter(|o| o.scope == Scope::Only(sub.which));
    for (i, o) in own.enumerate() {
        if i == 0 {
            line.push_str(" [OPTIONS]");
        }
        match o.value {
            Value::None => line.push_str(&format!(" [--{}]", o.long)),
            Value::OneOf(_, names) => {
                line.push_str(&format!(" [--{} {}]", o.long, names.join("|")))
            }
            v => line.push_str(&format!(" [--{} {}]", o.long, v.name().unwrap_or_default())),
        }
    }
    line
}

/// The help text: `long` is `--help` (every option on its own paragraph), otherwise
/// `-h` (one line an option). A subcommand's help is the same either way.
pub fn help(sub: Option<Subcommand>, long: bool) -> String {
    let spec = sub.and_then(|s| SUBCOMMANDS.iter().find(|x| x.which == s));
    let long = long && spec.is_none();
    let mut out = String::new();
    match spec {
        Some(spec) => {
            out.push_str(spec.about);
            out.push_str(&format!("\n\nUsage: {}\n", subcommand_usage(spec)));
        }
        None => {
            out.push_str(if long { LONG_ABOUT } else { ABOUT });
            out.push_str(&format!("\n\nUsage: {}\n\nCommands:\n", usage()));
            let names = SUBCOMMANDS.iter().map(|s| (s.name, s.about));
            for (name, about) in names.chain([("help", HELP_ABOUT)]) {
                out.push_str(&format!("  {name:<10}{about}\n"));
            }
        }
    }
    out.push_str("\nOptions:\n");
    // A subcommand's own options first, then the global ones, then (without a
    // subcommand) `--version`.
    let own = |o: &&Opt| matches!(o.scope, Scope::Only(_)) && o.scope.admits(sub);
    let global = |o: &&Opt| o.scope == Scope::Global;
    let top = |o: &&Opt| o.scope == Scope::Top && o.scope.admits(sub);
    let shown: Vec<&Opt> = (OPTIONS.iter().filter(own))
        .chain(OPTIONS.iter().filter(global))
        .chain(OPTIONS.iter().filter(top))
        .collect();
    let width = shown.iter().map(|o| o.flags().len()).max().unwrap_or(0) + 2;
    for o in shown {
        let mut text = o.describe();
        if o.key == Key::Help && spec.is_none() {
            text.push_str(if long {
                " (see a summary with '-h')"
            } else {
                " (see more with '--help')"
            });
        }
        let values = match o.value {
            Value::OneOf(_, names) => format!("[possible values: {}]", names.join(", ")),
            _ => String::new(),
        };
        if long {
            out.push_str(&format!("  {}\n          {text}\n", o.flags()));
            if !values.is_empty() {
                out.push_str(&format!("\n          {values}\n"));
            }
            out.push('\n');
        } else {
            let sep = if values.is_empty() { "" } else { " " };
            out.push_str(&format!("  {:<width$}{text}{sep}{values}\n", o.flags()));
        }
    }
    if spec.is_none() {
        if !long {
            out.push('\n');
        }
        out.push_str(AFTER_HELP);
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------
// The parser.

/// Why parsing did not produce a [`Cli`]: help or the version was asked for (printed on
/// stdout, exit 0), or the command line is wrong (one line on stderr, exit 64).
#[derive(Debug, PartialEq, Eq)]
pub enum CliError {
    Help(String),
    Version,
    Usage {
        message: String,
        /// The form whose `--help` the hint names.
        sub: Option<Subcommand>,
    },
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Help(_) | CliError::Version => crate::error::exit::OK,
            CliError::Usage { .. } => crate::error::exit::USAGE,
        }
    }

    /// Prints the help or version on stdout, or the error on stderr. A closed stdout
    /// (`sesame --help | head -1`) is not an error worth reporting.
    pub fn print(&self) {
        let _ = match self {
            CliError::Help(text) => std::io::stdout().lock().write_all(text.as_bytes()),
            CliError::Version => writeln!(std::io::stdout().lock(), "sesame {VERSION}"),
            CliError::Usage { .. } => writeln!(std::io::stderr().lock(), "sesame: error: {self}"),
        };
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Help(_) => f.write_str("help requested"),
            CliError::Version => write!(f, "sesame {VERSION}"),
            CliError::Usage { message, sub } => {
                let name = sub
                    .and_then(|s| SUBCOMMANDS.iter().find(|x| x.which == s))
                    .map_or(String::new(), |s| format!(" {}", s.name));
                write!(f, "{message} (see 'sesame{name} --help')")
            }
        }
    }
}

impl Cli {
    /// Parses sesame's arguments (`args[0]` is the program name). Options are read up
    /// to `--`, or up to the first word that is neither an option, an option's value,
    /// nor a subcommand name: that word and everything after it are the command,
    /// passed through verbatim.
    pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Self, CliError> {
        Parser::default().run(args.into_iter().skip(1))
    }

    /// The command to launch, if one was given.
    pub fn command(&self) -> Option<&[OsString]> {
        (!self.command.is_empty()).then_some(&self.command[..])
    }
}

#[derive(Default)]
struct Parser {
    cli: Cli,
    sub: Option<Subcommand>,
    check: CheckArgs,
    generate: GenerateArgs,
    /// The options with a value seen so far (a bit a [`Key`]): giving one twice is an
    /// error, as it was with clap, since which one was meant is a guess.
    seen: u32,
}

impl Parser {
    fn run(mut self, mut args: impl Iterator<Item = OsString>) -> Result<Cli, CliError> {
        while let Some(arg) = args.next() {
            let bytes = arg.as_bytes();
            if bytes == b"--" {
                if self.sub.is_none() {
                    self.cli.command = args.collect();
                } else if let Some(extra) = args.next() {
                    return Err(self.unexpected(&extra));
                }
                break;
            } else if let Some(long) = bytes.strip_prefix(b"--") {
                let (name, inline) = match long.iter().position(|&b| b == b'=') {
                    Some(at) => (&long[..at], Some(OsStr::from_bytes(&long[at + 1..]))),
                    None => (long, None),
                };
                let opt = OPTIONS
                    .iter()
                    .find(|o| o.long.as_bytes() == name && o.scope.admits(self.sub))
                    .ok_or_else(|| self.unknown(&format!("--{}", String::from_utf8_lossy(name))))?;
                let value = match (inline, opt.takes_value()) {
                    (Some(v), true) => Some(v.to_owned()),
                    (None, true) => Some(self.next_value(opt, &mut args)?),
                    (Some(_), false) => {
                        return Err(self.usage(format!("--{} takes no value", opt.long)));
                    }
                    (None, false) => None,
                };
                self.apply(opt, value, true)?;
            } else if bytes.len() > 1 && bytes[0] == b'-' {
                // A cluster of short options (`-qm x`); one that takes a value takes the
                // rest of the word (`-mfile`, `-m=file`) or, if none is left, the next.
                let mut i = 1;
                while i < bytes.len() {
                    let c = bytes[i];
                    let opt = OPTIONS
                        .iter()
                        .find(|o| {
                            o.short.is_some_and(|s| s as u32 == c as u32)
                                && o.scope.admits(self.sub)
                        })
                        .ok_or_else(|| {
                            let ch = String::from_utf8_lossy(&bytes[i..]);
                            self.unknown(&format!("-{}", ch.chars().next().unwrap_or('?')))
                        })?;
                    if !opt.takes_value() {
                        self.apply(opt, None, false)?;
                        i += 1;
                        continue;
                    }
                    let rest = &bytes[i + 1..];
                    let value = if rest.is_empty() {
                        self.next_value(opt, &mut args)?
                    } else {
                        OsStr::from_bytes(rest.strip_prefix(b"=").unwrap_or(rest)).to_owned()
                    };
                    self.apply(opt, Some(value), false)?;
                    break;
                }
            } else if self.sub.is_some() {
                return Err(self.unexpected(&arg));
            } else if let Some(spec) = SUBCOMMANDS.iter().find(|s| s.name.as_bytes() == bytes) {
                self.sub = Some(spec.which);
            } else if bytes == b"help" {
                return Err(help_subcommand(args));
            } else {
                self.cli.command = std::iter::once(arg).chain(args).collect();
                break;
            }
        }
        self.cli.action = match self.sub {
            None => None,
            Some(Subcommand::Check) => Some(Action::Check(self.check)),
            Some(Subcommand::Generate) => Some(Action::Generate(self.generate)),
            Some(Subcommand::Schema) => Some(Action::Schema),
        };
        Ok(self.cli)
    }

    /// The word after an option that takes a value.
    fn next_value(
        &self,
        opt: &Opt,
        args: &mut impl Iterator<Item = OsString>,
    ) -> Result<OsString, CliError> {
        let missing = || {
            if opt.key == Key::FileEnv {
                // It was a flag once: say what it takes now.
                return self.usage(format!(
                    "--file-env needs the names to expand, e.g. --file-env {}",
                    crate::file_env::EXAMPLE
                ));
            }
            let v = opt.value.name().unwrap_or_default();
            self.usage(format!("--{} needs a value: {v}", opt.long))
        };
        let value = args.next().ok_or_else(missing)?;
        let b = value.as_bytes();
        if !opt.hyphen_values && b.len() > 1 && b[0] == b'-' {
            return Err(missing());
        }
        Ok(value)
    }

    /// Records one option; `long_form` tells `--help` (everything) from `-h` (a summary).
    fn apply(
        &mut self,
        opt: &Opt,
        value: Option<OsString>,
        long_form: bool,
    ) -> Result<(), CliError> {
        if opt.takes_value() {
            let bit = 1u32 << opt.key as u32;
            if self.seen & bit != 0 {
                return Err(self.usage(format!("--{} is given more than once", opt.long)));
            }
            self.seen |= bit;
        }
        let value = value.unwrap_or_default();
        let sub = self.sub;
        let e = |message| CliError::Usage { message, sub };
        let o = &mut self.cli.options;
        match opt.key {
            Key::Manifest => o.manifest = Some(path(opt, value).map_err(e)?),
            Key::SecretsDir => o.secrets_dir = Some(path(opt, value).map_err(e)?),
            Key::Environment => o.environment = Some(text(opt, value).map_err(e)?),
            Key::User => o.user = Some(text(opt, value).map_err(e)?),
            Key::Init => (o.init, o.no_init) = (true, false),
            Key::NoInit => (o.init, o.no_init) = (false, true),
            Key::SignalGroup => o.signal_group = true,
            Key::Watch => o.watch = true,
            Key::FileEnv => o.file_env = Some(text(opt, value).map_err(e)?),
            Key::Strict => o.strict = true,
            Key::LogFormat => {
                o.log_format = Some(choice(opt, value, LogFormat::from_name).map_err(e)?)
            }
            Key::LogLevel => {
                o.log_level = Some(choice(opt, value, LogLevel::from_name).map_err(e)?)
            }
            Key::Help => return Err(CliError::Help(help(sub, long_form))),
            Key::Version => return Err(CliError::Version),
            Key::CheckFormat => {
                self.check.format = choice(opt, value, ReportFormat::from_name).map_err(e)?
            }
            Key::Quiet => self.check.quiet = true,
            Key::Explain => self.check.explain = Some(text(opt, value).map_err(e)?),
            Key::Out => self.generate.out = Some(path(opt, value).map_err(e)?),
            Key::Force => self.generate.force = true,
            Key::GenerateFormat => {
                self.generate.format = choice(opt, value, GenerateFormat::from_name).map_err(e)?
            }
        }
        Ok(())
    }

    fn usage(&self, message: String) -> CliError {
        CliError::Usage {
            message,
            sub: self.sub,
        }
    }

    /// An option not accepted here; if a subcommand has it, say which.
    fn unknown(&self, word: &str) -> CliError {
        let mut message = format!("unknown option '{word}'");
        if let Some(s) = self.sub {
            message.push_str(&format!(" for '{}'", name_of(s)));
        }
        let elsewhere: Vec<&str> = OPTIONS
            .iter()
            .filter(|o| {
                word.strip_prefix("--") == Some(o.long)
                    || o.short.is_some_and(|c| word == format!("-{c}"))
            })
            .filter_map(|o| match o.scope {
                Scope::Only(s) => Some(name_of(s)),
                _ => None,
            })
            .collect();
        if !elsewhere.is_empty() {
            message.push_str(&format!(": it goes after {}", one_of(&elsewhere)));
        }
        self.usage(message)
    }

    /// A word after a subcommand, which takes no arguments of its own.
    fn unexpected(&self, word: &OsStr) -> CliError {
        let sub = self.sub.map_or("", name_of);
        self.usage(format!(
            "unexpected argument '{}' for '{sub}'",
            word.to_string_lossy()
        ))
    }
}

/// A path, taken as the bytes it is (file names need not be UTF-8), but not empty.
fn path(opt: &Opt, value: OsString) -> Result<PathBuf, String> {
    if value.is_empty() {
        let v = opt.value.name().unwrap_or_default();
        return Err(format!(
            "--{} needs a value: {v}, not an empty one",
            opt.long
        ));
    }
    Ok(PathBuf::from(value))
}

fn text(opt: &Opt, value: OsString) -> Result<String, String> {
    value
        .into_string()
        .map_err(|_| format!("--{}: the value is not valid UTF-8", opt.long))
}

/// One of a value enum's names; the error lists them all.
fn choice<T>(opt: &Opt, value: OsString, from_name: fn(&str) -> Option<T>) -> Result<T, String> {
    let names = match opt.value {
        Value::OneOf(_, names) => names,
        _ => &[],
    };
    value.to_str().and_then(from_name).ok_or_else(|| {
        format!(
            "--{} {:?}: expected {}",
            opt.long,
            value.to_string_lossy(),
            one_of(names)
        )
    })
}

fn name_of(sub: Subcommand) -> &'static str {
    SUBCOMMANDS
        .iter()
        .find(|s| s.which == sub)
        .map_or("", |s| s.name)
}

/// `sesame help [SUBCOMMAND]`: the long help, or a subcommand's.
fn help_subcommand(mut args: impl Iterator<Item = OsString>) -> CliError {
    let Some(word) = args.next() else {
        return CliError::Help(help(None, true));
    };
    // `help help` is the top-level help, as `help` is.
    let target = match SUBCOMMANDS
        .iter()
        .find(|s| s.name.as_bytes() == word.as_bytes())
    {
        Some(s) => Some(Some(s.which)),
        None => (word == "help").then_some(None),
    };
    match (target, args.next()) {
        (Some(sub), None) => CliError::Help(help(sub, true)),
        (Some(_), Some(extra)) => CliError::Usage {
            message: format!(
                "unexpected argument '{}' for 'help'",
                extra.to_string_lossy()
            ),
            sub: None,
        },
        (None, _) => {
            let names: Vec<&str> = SUBCOMMANDS.iter().map(|s| s.name).collect();
            CliError::Usage {
                message: format!(
                    "help: no such subcommand '{}' (expected {})",
                    word.to_string_lossy(),
                    one_of(&names)
                ),
                sub: None,
            }
        }
    }
}

/// `a, b or c`.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
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
        try_parse(args).unwrap()
    }

    /// The usage error's message (with its `--help` hint); panics on success.
    fn usage_error(args: &[&str]) -> String {
        match try_parse(args) {
            Err(e @ CliError::Usage { .. }) => {
                assert_eq!(e.exit_code(), 64);
                e.to_string()
            }
            other => panic!("{args:?}: expected a usage error, got {other:?}"),
        }
    }

    fn help_text(args: &[&str]) -> String {
        match try_parse(args) {
            Err(e @ CliError::Help(_)) => {
                assert_eq!(e.exit_code(), 0);
                let CliError::Help(text) = e else {
                    unreachable!()
                };
                text
            }
            other => panic!("{args:?}: expected help, got {other:?}"),
        }
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
        assert_eq!(command(&["--", "help"]), ["help"]);
        assert_eq!(command(&["--", "--", "-m"]), ["--", "-m"]);
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
        assert!(cli.action.is_none());
        // A lone `-` is a word, not an option (as for clap).
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
        assert!(parse(&["--strict"]).command().is_none());
    }

    #[test]
    fn options_are_accepted_after_check() {
        let cli = parse(&["check", "--format", "json", "-m", "x.yaml", "--strict"]);
        assert!(matches!(cli.action, Some(Action::Check(ref c)) if c.format == ReportFormat::Json));
        assert!(cli.options.strict);
        assert_eq!(cli.options.manifest.as_deref(), Some("x.yaml".as_ref()));
        assert!(cli.command().is_none());
    }

    #[test]
    fn unknown_option_is_a_usage_error() {
        let err = usage_error(&["--bogus", "--", "true"]);
        assert_eq!(err, "unknown option '--bogus' (see 'sesame --help')");
        let err = usage_error(&["check", "-qx"]);
        assert_eq!(
            err,
            "unknown option '-x' for 'check' (see 'sesame check --help')"
        );
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
        // A value may contain `=`; only the first one splits.
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
        // `-h` in a cluster asks for help as soon as it is read.
        help_text(&["-hq"]);
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
        assert!(err.starts_with("--manifest needs a value: PATH"), "{err}");
        usage_error(&["--environment", "-x", "app"]);
        usage_error(&["check", "--explain", "-q"]);
        // `-` is a value, not an option.
        let cli = parse(&["-m", "-", "app"]);
        assert_eq!(cli.options.manifest.as_deref(), Some("-".as_ref()));
    }

    #[test]
    fn a_missing_value_at_the_end_is_a_usage_error() {
        for (args, needle) in [
            (["-m"].as_slice(), "--manifest needs a value: PATH"),
            (&["--secrets-dir"], "--secrets-dir needs a value: DIR"),
            (&["--user"], "--user needs a value: USER[:GROUP]"),
            (&["check", "--explain"], "--explain needs a value: NAME"),
            (&["generate", "--format"], "--format needs a value: FORMAT"),
        ] {
            let err = usage_error(args);
            assert!(err.starts_with(needle), "{args:?}: {err}");
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
        assert_eq!(
            err,
            "--log-level \"loud\": expected error, warn, info or debug (see 'sesame --help')"
        );
        // Case matters, as it did with clap.
        usage_error(&["--log-format=JSON", "x"]);
        let err = usage_error(&["check", "--format", "yaml"]);
        assert!(err.contains("expected text or json"), "{err}");
        let err = usage_error(&["generate", "--format", "json"]);
        assert!(err.contains("expected files or env"), "{err}");
    }

    #[test]
    fn check_and_generate_each_have_their_own_format() {
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
    fn subcommand_options_are_refused_elsewhere_with_where_they_go() {
        let err = usage_error(&["--quiet", "check"]);
        assert!(err.contains("'--quiet': it goes after check"), "{err}");
        let err = usage_error(&["--format", "json", "x"]);
        assert!(err.contains("it goes after check or generate"), "{err}");
        let err = usage_error(&["--format=json", "x"]);
        assert!(
            err.starts_with("unknown option '--format': it goes after"),
            "{err}"
        );
        let err = usage_error(&["check", "--out", "d"]);
        assert!(err.contains("it goes after generate"), "{err}");
        usage_error(&["schema", "--force"]);
    }

    #[test]
    fn a_subcommand_takes_no_words_but_a_trailing_double_dash_is_harmless() {
        let err = usage_error(&["check", "extra"]);
        assert_eq!(
            err,
            "unexpected argument 'extra' for 'check' (see 'sesame check --help')"
        );
        usage_error(&["check", "--", "x"]);
        usage_error(&["check", "generate"]);
        usage_error(&["schema", "x"]);
        assert!(matches!(
            parse(&["check", "--"]).action,
            Some(Action::Check(_))
        ));
    }

    #[test]
    fn flags_take_no_inline_value() {
        let err = usage_error(&["--strict=1", "x"]);
        assert!(err.starts_with("--strict takes no value"), "{err}");
        usage_error(&["--help=x"]);
    }

    #[test]
    fn an_option_with_a_value_given_twice_is_refused_a_flag_twice_is_not() {
        let err = usage_error(&["-m", "a", "--manifest=b", "x"]);
        assert!(
            err.starts_with("--manifest is given more than once"),
            "{err}"
        );
        usage_error(&["check", "--explain", "A", "--explain", "B"]);
        let cli = parse(&["--strict", "--strict", "check", "-q", "--quiet"]);
        assert!(cli.options.strict);
    }

    #[test]
    fn help_and_version_at_every_level() {
        let long = help_text(&["--help"]);
        let short = help_text(&["-h"]);
        assert!(long.starts_with(LONG_ABOUT) && short.starts_with(&format!("{ABOUT}\n\n")));
        // `-h` is the summary: one line an option, without the long description.
        assert!(short.contains("\n  -m, --manifest <PATH>      The manifest [env:"));
        assert!(long.contains("\n  -m, --manifest <PATH>\n          The manifest [env:"));
        assert_eq!(help_text(&["help"]), long);
        assert_eq!(help_text(&["help", "help"]), long);
        assert_eq!(help_text(&["-m", "x", "--help", "--bogus"]), long);
        for text in [&long, &short] {
            assert!(text.contains(&format!("Usage: {}\n", usage())));
            assert!(text.contains("  -V, --version"));
            assert!(text.trim_end().ends_with(AFTER_HELP));
        }
        let check = help_text(&["check", "--help"]);
        assert!(check.starts_with(SUBCOMMANDS[0].about));
        assert!(check.contains(
            "Usage: sesame check [OPTIONS] [--format text|json] [--quiet] [--explain NAME]\n"
        ));
        assert!(!check.contains("--version") && !check.contains("--force"));
        assert_eq!(help_text(&["check", "-h"]), check);
        assert_eq!(help_text(&["help", "check"]), check);
        let generate = help_text(&["generate", "-h"]);
        assert!(generate.contains("[--out DIR] [--force] [--format files|env]\n"));
        assert!(generate.contains("[possible values: files, env]"));
        assert!(!generate.contains("--quiet"));
        assert_eq!(try_parse(&["-V"]).unwrap_err(), CliError::Version);
        assert_eq!(try_parse(&["--version"]).unwrap_err().exit_code(), 0);
        usage_error(&["check", "-V"]);
        usage_error(&["help", "bogus"]);
        usage_error(&["help", "check", "extra"]);
    }

    #[test]
    fn help_lists_every_option_with_its_variable_and_default() {
        let long = help_text(&["--help"]);
        let short = help_text(&["-h"]);
        for o in OPTIONS
            .iter()
            .filter(|o| o.scope != CHECK && o.scope != GENERATE)
        {
            assert!(
                long.contains(&format!("  {}\n          {}", o.flags(), o.describe())),
                "{}",
                o.long
            );
            assert!(short.contains(&o.flags()), "{}", o.long);
            if let Some(e) = o.env {
                assert!(short.contains(&format!("[env: {e}]")), "{}", o.long);
            }
        }
        assert!(long.contains("[default: /etc/sesame/manifest.yaml]"));
        assert!(long.contains("[possible values: error, warn, info, debug]"));
        for s in SUBCOMMANDS {
            assert!(short.contains(&format!("  {:<10}{}\n", s.name, s.about)));
        }
    }

    #[test]
    fn the_option_table_is_consistent() {
        for (i, a) in OPTIONS.iter().enumerate() {
            // Every default of a value enum is one of its values.
            if let (Value::OneOf(_, names), Some(d)) = (a.value, a.default) {
                assert!(names.contains(&d), "{}: default {d}", a.long);
            }
            // No two options a form of the command line could confuse.
            for b in &OPTIONS[i + 1..] {
                let overlap = [
                    None,
                    Some(Subcommand::Check),
                    Some(Subcommand::Generate),
                    Some(Subcommand::Schema),
                ]
                .into_iter()
                .any(|s| a.scope.admits(s) && b.scope.admits(s));
                if overlap {
                    assert_ne!(a.long, b.long);
                    assert!(a.short.is_none() || a.short != b.short, "{}", a.long);
                }
            }
            // The `seen` bitmask has room for every key.
            assert!((a.key as u32) < 32);
        }
    }

    #[test]
    fn the_documented_defaults_are_the_real_ones() {
        let default = |key| {
            OPTIONS
                .iter()
                .find(|o| o.key == key)
                .unwrap()
                .default
                .unwrap()
        };
        let check = CheckArgs::default();
        assert_eq!(
            ReportFormat::from_name(default(Key::CheckFormat)),
            Some(check.format)
        );
        let generate = GenerateArgs::default();
        assert_eq!(
            GenerateFormat::from_name(default(Key::GenerateFormat)),
            Some(generate.format)
        );
        let env = crate::env::Environment::from_pairs([]);
        let settings = crate::settings::Settings::new(&Options::default(), &env).unwrap();
        assert_eq!(
            LogFormat::from_name(default(Key::LogFormat)),
            Some(settings.log_format)
        );
        assert_eq!(
            LogLevel::from_name(default(Key::LogLevel)),
            Some(settings.log_level)
        );
        assert_eq!(settings.manifest.to_str(), Some(default(Key::Manifest)));
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
        assert!(matches!(
            Cli::parse_args(args),
            Err(CliError::Usage { message, .. }) if message.contains("not valid UTF-8")
        ));
        let mut opt = b"--".to_vec();
        opt.extend_from_slice(b"caf\xe9");
        let args = [OsString::from("sesame"), OsString::from_vec(opt)];
        assert!(matches!(Cli::parse_args(args), Err(CliError::Usage { .. })));
    }

    #[test]
    fn nothing_at_all_is_no_command_and_no_action() {
        let cli = parse(&[]);
        assert!(cli.action.is_none() && cli.command().is_none());
        let cli = parse(&["--"]);
        assert!(cli.action.is_none() && cli.command().is_none());
    }
}
