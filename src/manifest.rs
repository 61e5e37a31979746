//! The manifest (SPEC §2): read once, checked once, then trusted.
//!
//! [`yaml`] reads the text into a tree (refusing duplicate keys); `Reader` turns the
//! tree into private `Raw*` structs that mirror the file, reporting every unknown key
//! and wrong type at once with its line and column; `RawManifest::validate` turns those
//! into the public [`Manifest`], one secret at a time, reporting every contradiction at
//! once with the key and the secret's place. After this module no other code re-checks the manifest: a
//! [`SecretSpec`] is always coherent.
//!
//! Only `true`/`false` are booleans (`required: no` must not mean something surprising),
//! and numbers are never quoted (`"0640"` is a mode, `0640` an error).

use crate::error::Error;
use crate::formats::Format;
use crate::read::{ReadError, read_capped};
use crate::repeats;
use crate::secret::Secret;
use crate::yaml::{self, Entry, Node, Value};
use nix::sys::signal::Signal;
use regex_lite::{Regex, RegexBuilder};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

mod vault;
use vault::{RawVaultLocation, RawVaultSettings, WITHOUT_VAULT};
pub use vault::{VAULT_BUILT_IN, VaultAuth, VaultLocation, VaultSettings};

/// The manifest's JSON Schema, generated from the types by the unit test
/// `schema_file_matches_the_types` and committed, so the binary carries no generator.
pub const SCHEMA: &str = include_str!("../schema/manifest.schema.json");

/// Larger manifests are refused before parsing (10,000 secrets fit in well under 2 MiB).
pub const MAX_MANIFEST_SIZE: u64 = 8 << 20;
/// Default `max_file_size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 20;
// ---- the bounds of every number (SPEC §2: a manifest error names the key and the
// bound; schema/manifest.schema.json says the same) --------------------------------

/// The largest `max_file_size`: 64 MiB. Values are held in memory (and zeroed); one
/// larger than this is not a secret.
pub const MAX_FILE_SIZE_LIMIT: u64 = 64 << 20;
/// The largest `min_length`/`max_length` (characters): no value is longer than the
/// largest file.
pub const MAX_LENGTH_LIMIT: u64 = MAX_FILE_SIZE_LIMIT;
/// The largest `decoded_bytes`: its hex encoding fills the largest file.
pub const MAX_DECODED_BYTES: u64 = MAX_FILE_SIZE_LIMIT / 2;
/// The longest `generate.length`: a generated value fits the default `max_file_size`.
pub const MAX_GENERATE_LENGTH: u64 = DEFAULT_MAX_FILE_SIZE;
/// The largest `min_key_bits` (RSA keys of more than 16384 bits are not in use).
pub const MAX_KEY_BITS: u64 = 16_384;
/// The largest `min_entropy_bits` (a 64 KiB random base64 value has about 393,000).
pub const MAX_ENTROPY_BITS: f64 = 65_536.0;
/// The largest `max_age_days`: a hundred years.
pub const MAX_AGE_DAYS: u64 = 36_500;
/// The longest `restart_grace` and `remote_timeout`: a day. Deadlines are computed by
/// adding them to the clock, which must not overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(86_400);
/// The largest `inject.mode`: no setuid, setgid or sticky bit on a file of secrets.
pub const MAX_INJECT_MODE: u32 = 0o777;

/// Default `keep_env` for `clear_env: true`.
pub const DEFAULT_KEEP_ENV: &[&str] = &["PATH", "HOME", "HOSTNAME", "TERM", "LANG", "LC_*", "TZ"];

/// Variables a secret may not be injected as: each lets whoever sets it run code in the
/// child or change which code it runs: the dynamic loader and C library (`LD_*`,
/// `GCONV_PATH`, `GLIBC_TUNABLES`), the shells' startup hooks and exported functions
/// (`BASH_ENV`, `BASH_FUNC_*`), the interpreters' module paths and option variables
/// (Python, Perl, Ruby, Node.js, the JVM, .NET, PHP, Lua, Erlang, Tcl), and tools that run
/// a command named by a variable (git, less, OpenSSL's engines). `SESAME_*` would
/// redirect sesame itself. The list is documented in the README (hardening).
const DANGEROUS_NAMES: &[&str] = &[
    // The shells, and what every program inherits.
    "PATH",
    "HOME",
    "IFS",
    "ENV",
    "BASH_ENV",
    "BASHOPTS",
    "SHELLOPTS",
    "PROMPT_COMMAND",
    "PS1",
    "PS2",
    "PS4",
    "CDPATH",
    "ZDOTDIR",
    // The C library: glibc's own list of variables too dangerous to pass to a setuid
    // program (`unsecvars.h`; its `LD_*` are the prefix below): code to load, files to
    // read as configuration (resolver aliases and options, time zones) or to write
    // (`MALLOC_TRACE`), and where temporary files go.
    "GCONV_PATH",
    "GETCONF_DIR",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LOCALDOMAIN",
    "LOCPATH",
    "MALLOC_TRACE",
    "NIS_PATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "RES_OPTIONS",
    "TMPDIR",
    "TZDIR",
    // Python.
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "PYTHONINSPECT",
    "PYTHONBREAKPOINT",
    "PYTHONWARNINGS",
    "PYTHONEXECUTABLE",
    "PYTHONPLATLIBDIR",
    "PYTHONPYCACHEPREFIX",
    // Perl.
    "PERL5LIB",
    "PERL5OPT",
    "PERLLIB",
    "PERL5DB",
    "PERL5SHELL",
    // Ruby.
    "RUBYOPT",
    "RUBYLIB",
    "GEM_HOME",
    "GEM_PATH",
    "BUNDLE_GEMFILE",
    // Node.js.
    "NODE_OPTIONS",
    "NODE_PATH",
    "NODE_REPL_EXTERNAL_MODULE",
    // The JVM.
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "JAVA_OPTS",
    "CLASSPATH",
    // .NET.
    "DOTNET_STARTUP_HOOKS",
    "DOTNET_ADDITIONAL_DEPS",
    // PHP, Tcl, R, Erlang.
    "PHPRC",
    "PHP_INI_SCAN_DIR",
    "TCLLIBPATH",
    "R_PROFILE",
    "R_PROFILE_USER",
    "ERL_LIBS",
    "ERL_FLAGS",
    "ERL_AFLAGS",
    "ERL_ZFLAGS",
    // Tools that run a command or load code named by a variable.
    "OPENSSL_CONF",
    "OPENSSL_ENGINES",
    "SSLKEYLOGFILE",
    "LESSOPEN",
    "LESSCLOSE",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EXEC_PATH",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_PROXY_COMMAND",
    "GIT_EXTERNAL_DIFF",
    "GIT_EDITOR",
    "GIT_PAGER",
];
/// Prefixes of refused names: the loaders' `LD_*`/`DYLD_*`, bash's exported functions
/// (`BASH_FUNC_name%%`), Lua's versioned `LUA_INIT_5_4`..., .NET's profiler hooks,
/// git's numbered `GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`, and sesame's own settings.
const DANGEROUS_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "BASH_FUNC_",
    "LUA_INIT",
    "LUA_PATH",
    "LUA_CPATH",
    "CORECLR_",
    "COMPlus_",
    "GIT_CONFIG_KEY_",
    "GIT_CONFIG_VALUE_",
    "SESAME_",
];

/// Whether injecting a variable called `name` would let the child be hijacked. The one
/// check for `inject.env` (manifest time) and for `--file-env`'s names (resolve time).
pub fn is_dangerous_name(name: &str) -> bool {
    DANGEROUS_NAMES.contains(&name) || DANGEROUS_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether `name` is a valid secret or variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_valid_name(name: &str) -> bool {
    // Bytes, not chars: every allowed character is ASCII, so any other byte fails.
    let b = name.as_bytes();
    matches!(b.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Words that YAML 1.1 readers (PyYAML, Go's yaml.v2, Ruby's Psych, many editors'
/// linters) read as booleans or null. sesame reads YAML 1.2, where only `true` and
/// `false` are booleans, so `inject: {env: off}` would name a variable `off` here and
/// mean "none" to every other tool reading the manifest: these words are refused as the
/// names of secrets and variables, quoted or not.
const YAML11_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
];

/// [`YAML11_WORDS`] as the JSON Schema says it (a lookahead before the name pattern).
#[cfg(test)]
const NAME_PATTERN: &str = "^(?!(?:[yY]|[yY]es|YES|[nN]|[nN]o|NO|[tT]rue|TRUE|[fF]alse|FALSE|[oO]n|ON|[oO]ff|OFF|[nN]ull|NULL)$)[A-Za-z_][A-Za-z0-9_]*$";

/// Why `name` cannot be the manifest's name of a `what` ("secret", "variable"), if it
/// cannot. A value may sit where a name goes (`env: MyP@ssw0rd`): the message quotes
/// the name only when it looks like one ([`crate::shown::name`]).
fn name_problem(name: &str, what: &str) -> Option<String> {
    if !is_valid_name(name) {
        Some(format!(
            "{} is not a valid {what} name (letters, digits and _, not starting with a digit)",
            crate::shown::quoted_name(name)
        ))
    } else if YAML11_WORDS.contains(&name) {
        Some(format!(
            "{name:?} is refused as a {what} name: YAML 1.1 tools read it as a boolean or null (for no variable, write inject: {{env: false}})"
        ))
    } else {
        None
    }
}

/// Where a secret may be found, in the order the manifest's `sources` gives.
#[cfg_attr(
    test,
    derive(schemars::JsonSchema),
    schemars(rename_all = "snake_case")
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    FileEnv,
    File,
    Env,
    /// AWS Secrets Manager or SSM Parameter Store (feature `aws`; docs/aws.md): only
    /// for secrets that name an `aws_secretsmanager` or `aws_ssm` location.
    Aws,
    /// HashiCorp Vault's KV engine (feature `vault`; docs/vault.md): only for secrets
    /// that name a `vault` location.
    Vault,
}

impl Source {
    /// The name the manifest uses for this source.
    pub fn name(self) -> &'static str {
        match self {
            Source::FileEnv => "file_env",
            Source::File => "file",
            Source::Env => "env",
            Source::Aws => "aws",
            Source::Vault => "vault",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Source::FileEnv,
            Source::File,
            Source::Env,
            Source::Aws,
            Source::Vault,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// The default `sources`. `aws` and `vault` only apply to secrets that name a location
/// there.
pub const DEFAULT_SOURCES: &[Source] = &[
    Source::FileEnv,
    Source::File,
    Source::Env,
    Source::Aws,
    Source::Vault,
];

/// Default `remote_timeout`: the total time sesame may spend fetching remote secrets.
pub const DEFAULT_REMOTE_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether this sesame can fetch from AWS (built with the cargo feature `aws`).
pub const AWS_BUILT_IN: bool = cfg!(feature = "aws");

/// Where a secret lives in AWS (`aws_secretsmanager:` or `aws_ssm:`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AwsLocation {
    /// A Secrets Manager secret (name or ARN), or one field of its JSON SecretString.
    SecretsManager { id: String, key: Option<String> },
    /// An SSM parameter (a SecureString is decrypted).
    Ssm { name: String },
}

impl fmt::Display for AwsLocation {
    /// `aws-sm prod/db#password`, `aws-ssm /prod/db_password` (names, never values).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsLocation::SecretsManager { id, key: None } => write!(f, "aws-sm {id}"),
            AwsLocation::SecretsManager { id, key: Some(k) } => write!(f, "aws-sm {id}#{k}"),
            AwsLocation::Ssm { name } => write!(f, "aws-ssm {name}"),
        }
    }
}

/// How trailing characters are removed from a value read from a file.
#[cfg_attr(
    test,
    derive(schemars::JsonSchema),
    schemars(rename_all = "snake_case")
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// Drop all trailing `\n` and `\r\n`. The shell's `$(<file)` drops the `\n` but
    /// keeps the `\r`; sesame drops it too, since a trailing `\r\n` is a line ending
    /// saved on Windows, not part of the value (`none` keeps it).
    Newline,
    /// Drop all leading and trailing whitespace.
    Whitespace,
    /// Keep the bytes as they are.
    None,
}

impl Trim {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "newline" => Some(Trim::Newline),
            "whitespace" => Some(Trim::Whitespace),
            "none" => Some(Trim::None),
            _ => None,
        }
    }
}

/// What `--watch` does when a secret's value changes.
#[cfg_attr(
    test,
    derive(schemars::JsonSchema),
    schemars(rename_all = "snake_case")
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnChange {
    Restart,
    Signal,
    None,
}

impl OnChange {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "restart" => Some(OnChange::Restart),
            "signal" => Some(OnChange::Signal),
            "none" => Some(OnChange::None),
            _ => None,
        }
    }
}

/// Whether a secret must be present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    Required,
    Optional,
    /// Required only when `--environment` names one of these.
    In(Vec<String>),
}

/// The validation rules of one secret (SPEC §4.1).
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<Pattern>,
    pub format: Option<Format>,
    pub decoded_bytes: Option<usize>,
    pub min_key_bits: Option<u32>,
    pub min_entropy_bits: Option<f64>,
    pub forbid: Vec<String>,
}

/// A `pattern:`, compiled as `^(?:pattern)$` so that it must match the whole value.
/// Secrets with the same pattern share one compiled expression (and its match cache).
#[derive(Clone, Debug)]
pub struct Pattern {
    /// The pattern as the manifest writes it (for messages).
    pub source: String,
    pub regex: Arc<Regex>,
    /// The longest value (in bytes) matched against it; a longer one fails the rule
    /// unmatched. See [`PATTERN_BOUNDS`].
    pub max_len: usize,
}

/// How large a compiled `pattern:` may be, and the longest value matched against a
/// pattern of each size. regex-lite matches in time proportional to the compiled size
/// times the value's length (its PikeVM never backtracks), so each pair bounds that
/// product (to 2^30: about a second, measured with the worst patterns that fit, such as
/// `(?:.*a){N}`). A pattern is compiled with the smallest limit it fits; one that fits
/// none is a manifest error.
pub const PATTERN_BOUNDS: [(usize, usize); 3] = [
    (4 << 10, 256 << 10),
    (16 << 10, 64 << 10),
    (64 << 10, 16 << 10),
];

/// `generate:` — how `sesame generate` makes a value.
#[cfg_attr(test, derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generate {
    #[cfg_attr(test, schemars(range(min = 1, max = MAX_GENERATE_LENGTH)))]
    pub length: usize,
    pub charset: Charset,
}

#[cfg_attr(test, derive(schemars::JsonSchema), schemars(rename_all = "lowercase"))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Charset {
    #[default]
    Alphanumeric,
    Base64,
    Base64url,
    Hex,
}

impl Charset {
    /// The name the manifest uses.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Alphanumeric => "alphanumeric",
            Charset::Base64 => "base64",
            Charset::Base64url => "base64url",
            Charset::Hex => "hex",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Charset::Alphanumeric,
            Charset::Base64,
            Charset::Base64url,
            Charset::Hex,
        ]
        .into_iter()
        .find(|c| c.name() == name)
    }
}

/// One secret, fully checked.
#[derive(Clone, Debug)]
pub struct SecretSpec {
    pub name: String,
    pub description: Option<String>,
    pub requirement: Requirement,
    /// Lookup order for this secret (the manifest's `sources`).
    pub sources: Vec<Source>,
    /// Relative path inside the secrets directory; `None` means `NAME`, then lowercase.
    pub file: Option<PathBuf>,
    /// The field of a JSON object file that holds the value (`file` and `file_env`).
    pub key: Option<String>,
    /// The variable read by the `env` source; `<env>_FILE` is the `file_env` variable.
    pub env: String,
    /// The variable the child gets, if any.
    pub inject_env: Option<String>,
    /// Where the value is also written for the child, and with which mode.
    pub inject_file: Option<(PathBuf, u32)>,
    pub default: Option<Secret>,
    pub trim: Trim,
    pub rules: Rules,
    pub max_age_days: Option<u32>,
    pub generate: Option<Generate>,
    /// Where the `aws` source looks (then `sources` includes `aws`). Boxed, as is
    /// `vault`: most secrets have neither, and a spec is kept for each of thousands.
    pub aws: Option<Box<AwsLocation>>,
    /// Where the `vault` source looks (then `sources` includes `vault`).
    pub vault: Option<Box<VaultLocation>>,
}

impl SecretSpec {
    /// Whether the secret must be present in `environment`.
    pub fn is_required(&self, environment: Option<&str>) -> bool {
        match &self.requirement {
            Requirement::Required => true,
            Requirement::Optional => false,
            Requirement::In(envs) => environment.is_some_and(|e| envs.iter().any(|x| x == e)),
        }
    }

    /// A secret made for `--file-env`: `X_FILE` read into `X`, no rules (SPEC §3.5).
    pub fn from_file_env(name: &str) -> Self {
        SecretSpec {
            name: name.to_owned(),
            description: None,
            requirement: Requirement::Required,
            sources: vec![Source::FileEnv],
            file: None,
            key: None,
            env: name.to_owned(),
            inject_env: Some(name.to_owned()),
            inject_file: None,
            default: None,
            trim: Trim::Newline,
            rules: Rules::default(),
            max_age_days: None,
            generate: None,
            aws: None,
            vault: None,
        }
    }
}

/// The whole manifest, fully checked.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// Where it was read from; `None` for the empty manifest of `--file-env` alone.
    pub path: Option<PathBuf>,
    pub secrets_dir: Option<PathBuf>,
    pub scrub: bool,
    pub max_file_size: u64,
    pub max_mode: Option<u32>,
    pub environments: Option<Vec<String>>,
    pub clear_env: bool,
    pub keep_env: Vec<String>,
    /// With `--user`: set `no_new_privs` after the drop, so that no setuid binary or
    /// file capability gives the command root (or anything) back.
    pub no_new_privs: bool,
    pub on_change: OnChange,
    pub on_change_signal: Signal,
    pub restart_grace: Duration,
    /// Total time for fetching remote secrets (feature `aws`).
    pub remote_timeout: Duration,
    /// How to reach Vault (feature `vault`).
    pub vault: VaultSettings,
    pub secrets: Vec<SecretSpec>,
}

impl Default for Manifest {
    /// The manifest sesame runs with under `--file-env` when there is no file.
    fn default() -> Self {
        Manifest {
            path: None,
            secrets_dir: None,
            scrub: true,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_mode: None,
            environments: None,
            clear_env: false,
            keep_env: DEFAULT_KEEP_ENV.iter().map(|s| s.to_string()).collect(),
            no_new_privs: true,
            on_change: OnChange::Restart,
            on_change_signal: Signal::SIGHUP,
            restart_grace: Duration::from_secs(10),
            remote_timeout: DEFAULT_REMOTE_TIMEOUT,
            vault: VaultSettings::default(),
            secrets: Vec::new(),
        }
    }
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> Result<Self, Error> {
        Self::load_read(path, read_capped(path, MAX_MANIFEST_SIZE).map(|(b, _)| b))
    }

    /// Reads and checks the manifest from `file`, already opened (and checked) from
    /// `path`, which is only used in messages.
    pub fn load_opened(path: &Path, file: std::fs::File) -> Result<Self, Error> {
        Self::load_read(
            path,
            crate::read::read_opened(file, MAX_MANIFEST_SIZE).map(|(b, _, _)| b),
        )
    }

    fn load_read(
        path: &Path,
        read: Result<zeroize::Zeroizing<Vec<u8>>, ReadError>,
    ) -> Result<Self, Error> {
        let shown = crate::shown::path(path);
        let bytes = read.map_err(|e| match e {
            ReadError::NotFound => Error::Manifest(format!("manifest {shown}: no such file")),
            e => Error::Manifest(format!("manifest {shown}: {e}")),
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            Error::Manifest(format!(
                "manifest {shown}: not valid UTF-8 (byte {})",
                e.valid_up_to()
            ))
        })?;
        Self::parse(text, Some(path))
    }

    /// Parses and checks manifest text; `path` is only used in messages.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<Self, Error> {
        let shown = path.map_or_else(
            || "<manifest>".to_owned(),
            |p| crate::shown::path(p).to_string(),
        );
        let text = Normalized(yaml::normalize(text));
        let text: &str = &text;
        let report = |mut problems: Problems| {
            // In the order of the file (those without a place first), and only the first
            // MAX_PROBLEMS: a line and column cost a scan of the text up to them.
            problems.sort_by_key(|(at, _)| *at);
            let more = problems.len().saturating_sub(MAX_PROBLEMS);
            let mut lines: Vec<String> = problems
                .into_iter()
                .take(MAX_PROBLEMS)
                .map(|(at, msg)| {
                    // A key may hold any character: one problem stays one line.
                    let msg = crate::shown::text(&msg);
                    match at {
                        Some(at) => format!("manifest {shown}:{}: {msg}", yaml::mark(text, at)),
                        None => format!("manifest {shown}: {msg}"),
                    }
                })
                .collect();
            if more > 0 {
                lines.push(format!("manifest {shown}: ... and {more} more problems"));
            }
            Error::Manifest(lines.join("\n"))
        };
        let root = yaml::parse(text).map_err(|e| {
            let message = crate::shown::text(&e.message);
            Error::Manifest(format!("manifest {shown}:{}: {message}", e.mark))
        })?;
        let mut reader = Reader::new();
        let (raw, secrets) = reader.manifest(root).map_err(&report)?;
        raw.validate(path, secrets, &mut reader).map_err(&report)
    }
}

/// The manifest's text with its line breaks made `\n`: a copy when it had a `\r`, and
/// that copy holds the `default:` values, so it is zeroed when dropped (the file's
/// bytes, read by [`Manifest::load`], are zeroed too).
struct Normalized<'t>(Cow<'t, str>);

impl Drop for Normalized<'_> {
    fn drop(&mut self) {
        if let Cow::Owned(s) = &mut self.0 {
            zeroize::Zeroize::zeroize(s);
        }
    }
}

impl std::ops::Deref for Normalized<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

// ---- what the file says -----------------------------------------------------------

#[cfg_attr(test, derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
struct RawManifest {
    /// Must be 1.
    version: u32,
    /// Where secret files live (default /run/secrets; --secrets-dir wins).
    secrets_dir: Option<String>,
    /// Lookup order for every secret (default [file_env, file, env, aws]; aws only
    /// applies to secrets with aws_secretsmanager or aws_ssm).
    sources: Option<Vec<Source>>,
    /// Remove consumed source variables and SESAME_* from the child (default true).
    #[cfg_attr(
        test,
        schemars(with = "Flag"),
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    scrub: Option<bool>,
    /// Larger secret files are an error (default 1MiB).
    max_file_size: Option<Size>,
    /// Warn when a secret file's mode allows more than this.
    max_mode: Option<Mode>,
    /// The names --environment may take.
    environments: Option<Vec<String>>,
    /// The child gets only keep_env and the secrets (default false).
    #[cfg_attr(
        test,
        schemars(with = "Flag"),
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    clear_env: Option<bool>,
    /// Variables kept with clear_env; a trailing * matches a prefix.
    keep_env: Option<Vec<String>>,
    /// With --user: forbid the command to gain privileges through setuid binaries or
    /// file capabilities (PR_SET_NO_NEW_PRIVS; default true).
    no_new_privs: Option<bool>,
    /// What --watch does when a value changes (default restart).
    on_change: Option<OnChange>,
    /// Signal for on_change: signal (default SIGHUP).
    on_change_signal: Option<String>,
    /// Time between SIGTERM and SIGKILL for on_change: restart (default 10s).
    restart_grace: Option<Seconds>,
    /// Total time for fetching remote (AWS) secrets, retries included (default 30s).
    remote_timeout: Option<Seconds>,
    /// How to reach and log in to Vault (feature vault; docs/vault.md).
    vault: Option<RawVaultSettings>,
    /// The secrets, by name.
    // Read one at a time while they are checked (`RawManifest::validate`), so the field
    // is only there for the schema.
    #[cfg(test)]
    #[allow(dead_code)] // read by the JsonSchema derive only
    secrets: Secrets,
}

#[cfg_attr(test, derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
#[derive(Default)]
struct RawSecret {
    /// What the secret is for (shown to people, never used).
    description: Option<String>,
    /// Whether the secret must be present (default true).
    #[cfg_attr(
        test,
        schemars(with = "Flag"),
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    required: Option<bool>,
    /// Instead of required: required only in these environments.
    required_in: Option<Vec<String>>,
    /// File name in secrets_dir (default: NAME, then lowercase name).
    file: Option<String>,
    /// The file holds a JSON object: take this field of it (file and file_env sources).
    key: Option<String>,
    /// Variable to read (default: NAME); NAME_FILE is the indirection.
    #[cfg_attr(test, schemars(pattern(NAME_PATTERN)))]
    env: Option<String>,
    /// How the child receives the value.
    inject: Option<RawInject>,
    /// Value of an optional secret when no source has it.
    // A value: zeroed when dropped, from the moment it is read.
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    default: Option<Secret>,
    /// Trailing characters removed from file values (default newline; none for PEM formats).
    trim: Option<Trim>,
    /// Minimum length in characters.
    #[cfg_attr(test, schemars(range(max = MAX_LENGTH_LIMIT)))]
    min_length: Option<usize>,
    /// Maximum length in characters.
    #[cfg_attr(test, schemars(range(max = MAX_LENGTH_LIMIT)))]
    max_length: Option<usize>,
    /// Regular expression the whole value must match.
    pattern: Option<String>,
    /// The value's format.
    format: Option<Format>,
    /// base64/base64url/hex: exact decoded length in bytes.
    #[cfg_attr(test, schemars(range(max = MAX_DECODED_BYTES)))]
    decoded_bytes: Option<usize>,
    /// rsa-private-key/rsa-public-key: minimum modulus size.
    #[cfg_attr(test, schemars(range(max = MAX_KEY_BITS)))]
    min_key_bits: Option<u32>,
    /// Minimum of length × Shannon entropy per character.
    #[cfg_attr(test, schemars(range(min = 0, max = MAX_ENTROPY_BITS)))]
    min_entropy_bits: Option<f64>,
    /// Values that are refused.
    forbid: Option<Vec<String>>,
    /// Warn when the secret's file is older than this (mtime).
    #[cfg_attr(test, schemars(range(max = MAX_AGE_DAYS)))]
    max_age_days: Option<u32>,
    /// How sesame generate makes a value.
    generate: Option<Generate>,
    /// Where the secret lives in AWS Secrets Manager (source aws; feature aws).
    aws_secretsmanager: Option<RawAwsSecretsManager>,
    /// Where the secret lives in SSM Parameter Store (source aws; feature aws).
    aws_ssm: Option<RawAwsSsm>,
    /// Where the secret lives in Vault's KV engine (source vault; feature vault).
    vault: Option<RawVaultLocation>,
}

#[cfg_attr(test, derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
#[derive(Default)]
struct RawAwsSecretsManager {
    /// The secret's name or ARN.
    id: String,
    /// A field of the JSON SecretString (default: the whole SecretString; a
    /// SecretBinary arrives base64-encoded).
    key: Option<String>,
}

#[cfg_attr(test, derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
#[derive(Default)]
struct RawAwsSsm {
    /// The parameter's name (a SecureString is decrypted).
    name: String,
}

#[cfg_attr(test, derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
#[derive(Default)]
struct RawInject {
    /// Variable the child gets (default: NAME); false for none.
    #[cfg_attr(
        test,
        schemars(with = "InjectEnv"),
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    env: Option<InjectEnv>,
    /// Also write the value to this absolute path for the child.
    file: Option<String>,
    /// Mode of inject.file (default "0400").
    #[cfg_attr(
        test,
        schemars(with = "InjectMode"),
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    mode: Option<Mode>,
}

/// The `secrets:` mapping, for the schema: names to [`RawSecret`]s.
#[cfg(test)]
struct Secrets;

/// A boolean key, for the schema: `true` or `false`, never null or empty.
#[cfg(test)]
struct Flag;

/// `inject.mode`, for the schema: a [`Mode`] without the setuid, setgid or sticky bit.
#[cfg(test)]
struct InjectMode;

/// `inject.env`: a variable name, or `false` for none.
enum InjectEnv {
    Name(String),
    Default,
    Off,
}

/// A size: plain bytes, or a number with `B`, `KiB` or `MiB`.
struct Size(u64);

/// A file mode written as an octal string, e.g. `"0640"`.
struct Mode(u32);

/// A duration: seconds as a number, or a number with `ms`, `s`, `m` or `h`.
struct Seconds(Duration);

// ---- from the tree to the raw structs -----------------------------------------------

/// Problems found while reading or checking: where (when known) and a message that
/// starts with the key's path.
type Problems = Vec<(Option<usize>, String)>;

/// More problems than this are counted, not listed.
const MAX_PROBLEMS: usize = 100;

/// Reads the YAML tree into the `Raw*` structs. Every unknown key, missing key and wrong
/// type is collected, so that one run reports them all; the values of keys are never
/// quoted in messages (a `default:` may be a secret).
///
/// The tree is consumed: its strings move into the structs rather than being copied,
/// and a key's path (`secrets.A.inject`) is a slice of names, joined only for a message.
struct Reader<'d> {
    problems: Problems,
    /// The text the tree borrows from.
    text: std::marker::PhantomData<&'d str>,
}

/// Where a key is: the names of the mappings above it (`["secrets", "A"]`).
type KeyPath<'p> = &'p [&'p str];

/// The keys of each mapping, for "unknown field" messages.
const MANIFEST_KEYS: &str = "version, secrets_dir, sources, scrub, max_file_size, max_mode, environments, clear_env, keep_env, no_new_privs, on_change, on_change_signal, restart_grace, remote_timeout, vault, secrets";
const SECRET_KEYS: &str = "description, required, required_in, file, key, env, inject, default, trim, min_length, max_length, pattern, format, decoded_bytes, min_key_bits, min_entropy_bits, forbid, max_age_days, generate, aws_secretsmanager, aws_ssm, vault";

impl<'d> Reader<'d> {
    fn new() -> Self {
        Reader {
            problems: Vec::new(),
            text: std::marker::PhantomData,
        }
    }

    /// Records a problem at byte `at` about the key `parent.key`.
    /// Every component of the key's path goes through [`crate::shown::name`]: a key may
    /// be a value written where a key goes (`{default:hunter2}`).
    fn bad(&mut self, at: usize, parent: KeyPath, key: &str, msg: impl fmt::Display) {
        let mut path = String::new();
        for k in parent.iter().chain([&key]) {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&crate::shown::name(k));
        }
        self.problems.push((Some(at), format!("{path}: {msg}")));
    }

    /// The top-level settings, and the `secrets:` entries still unread: they are read
    /// one at a time while they are checked, so that a thousand raw secrets and a
    /// thousand checked ones are never in memory together.
    fn manifest(&mut self, root: Node<'d>) -> Result<(RawManifest, Vec<Entry<'d>>), Problems> {
        let at = root.at;
        let kind = root.kind();
        let Some(entries) = self.mapping(root, &[], "") else {
            return Err(vec![(
                Some(at),
                format!("expected a mapping of settings, found {kind}"),
            )]);
        };
        let (mut version, mut secrets) = (None, None);
        let (mut has_version, mut has_secrets) = (false, false);
        let mut m = RawManifest {
            version: 0,
            secrets_dir: None,
            sources: None,
            scrub: None,
            max_file_size: None,
            max_mode: None,
            environments: None,
            clear_env: None,
            keep_env: None,
            no_new_privs: None,
            on_change: None,
            on_change_signal: None,
            restart_grace: None,
            remote_timeout: None,
            vault: None,
            #[cfg(test)]
            secrets: Secrets,
        };
        let top: KeyPath = &[];
        for Entry { key, key_at, value } in entries {
            let (v, k) = (value, &*key);
            match k {
                "version" => (has_version, version) = (true, self.number(v, top, k)),
                "secrets_dir" => m.secrets_dir = self.string(v, top, k),
                "sources" => {
                    m.sources = self.list(v, top, k, |r, n| {
                        r.choice(
                            n,
                            top,
                            k,
                            Source::from_name,
                            "file_env, file, env, aws or vault",
                        )
                    })
                }
                "scrub" => m.scrub = self.boolean(v, top, k),
                "max_file_size" => {
                    m.max_file_size = self
                        .bounded(v, top, k, parse_size, SIZE, MAX_FILE_SIZE_LIMIT, "64MiB")
                        .map(Size)
                }
                "max_mode" => m.max_mode = self.mode(v, top, k),
                "environments" => m.environments = self.strings(v, top, k),
                "clear_env" => m.clear_env = self.boolean(v, top, k),
                "keep_env" => m.keep_env = self.strings(v, top, k),
                "no_new_privs" => m.no_new_privs = self.boolean(v, top, k),
                "on_change" => {
                    m.on_change =
                        self.choice(v, top, k, OnChange::from_name, "restart, signal or none")
                }
                "on_change_signal" => m.on_change_signal = self.string(v, top, k),
                "restart_grace" => {
                    m.restart_grace = self
                        .bounded(v, top, k, parse_duration, DURATION, MAX_DURATION, "24h")
                        .map(Seconds)
                }
                "remote_timeout" => {
                    m.remote_timeout = self
                        .bounded(v, top, k, parse_duration, DURATION, MAX_DURATION, "24h")
                        .map(Seconds)
                }
                "vault" => m.vault = self.vault_settings(v, &[k]),
                "secrets" => (has_secrets, secrets) = (true, self.secrets(v)),
                _ => self.unknown(key_at, top, k, MANIFEST_KEYS),
            }
        }
        match version {
            Some(v) => m.version = v,
            None if !has_version => self
                .problems
                .push((None, "version: missing (write version: 1)".into())),
            None => {}
        }
        if secrets.is_none() && !has_secrets {
            self.problems.push((
                None,
                "secrets: missing (a manifest lists its secrets; secrets: {} for none)".into(),
            ));
        }
        Ok((m, secrets.unwrap_or_default()))
    }

    fn secrets(&mut self, node: Node<'d>) -> Option<Vec<Entry<'d>>> {
        let entries = match node.value {
            Value::Map(entries) => entries,
            Value::Null => Vec::new(),
            _ => {
                let msg = format!(
                    "expected a mapping from names to settings, found {}",
                    node.kind()
                );
                self.bad(node.at, &[], "secrets", msg);
                return None;
            }
        };
        Some(entries)
    }

    fn secret(&mut self, node: Node<'d>, p: KeyPath) -> RawSecret {
        let mut s = RawSecret::default();
        let (parent, name) = (&p[..p.len() - 1], p[p.len() - 1]);
        let Some(entries) = self.mapping(node, parent, name) else {
            return s;
        };
        for Entry { key, key_at, value } in entries {
            let (v, k) = (value, &*key);
            match k {
                "description" => s.description = self.string(v, p, k),
                "required" => s.required = self.boolean(v, p, k),
                "required_in" => s.required_in = self.strings(v, p, k),
                "file" => s.file = self.string(v, p, k),
                "key" => s.key = self.string(v, p, k),
                "env" => s.env = self.string(v, p, k),
                "inject" => s.inject = self.inject(v, &[p, &[k]].concat()),
                "default" => s.default = self.string(v, p, k).map(Secret::new),
                "trim" => {
                    s.trim = self.choice(v, p, k, Trim::from_name, "newline, whitespace or none")
                }
                "min_length" => s.min_length = self.count(v, p, k, MAX_LENGTH_LIMIT),
                "max_length" => s.max_length = self.count(v, p, k, MAX_LENGTH_LIMIT),
                "pattern" => s.pattern = self.string(v, p, k),
                "format" => s.format = self.choice(v, p, k, Format::from_name, Format::NAMES),
                "decoded_bytes" => s.decoded_bytes = self.count(v, p, k, MAX_DECODED_BYTES),
                "min_key_bits" => s.min_key_bits = self.count(v, p, k, MAX_KEY_BITS),
                "min_entropy_bits" => s.min_entropy_bits = self.number(v, p, k),
                "forbid" => s.forbid = self.strings(v, p, k),
                "max_age_days" => s.max_age_days = self.count(v, p, k, MAX_AGE_DAYS),
                "generate" => s.generate = self.generate(v, &[p, &[k]].concat()),
                "aws_secretsmanager" => {
                    s.aws_secretsmanager = self.aws_secretsmanager(v, &[p, &[k]].concat())
                }
                "aws_ssm" => s.aws_ssm = self.aws_ssm(v, &[p, &[k]].concat()),
                "vault" => s.vault = self.vault_location(v, &[p, &[k]].concat()),
                _ => self.unknown(key_at, p, k, SECRET_KEYS),
            }
        }
        s
    }

    /// The entries of a mapping at `parent.key`, or `None` (for nothing, or for
    /// anything else, which is a problem).
    fn mapping(&mut self, node: Node<'d>, parent: KeyPath, key: &str) -> Option<Vec<Entry<'d>>> {
        match node.value {
            Value::Map(entries) => Some(entries),
            Value::Null => None,
            _ => {
                let msg = format!("expected a mapping, found {}", node.kind());
                self.bad(node.at, parent, key, msg);
                None
            }
        }
    }

    /// A sub-mapping at `p` (its last name is its key), with a closure for each entry;
    /// returns whether it was a mapping, and the keys it had.
    fn fields(
        &mut self,
        node: Node<'d>,
        p: KeyPath,
        mut each: impl FnMut(&mut Self, Entry<'d>),
    ) -> Option<(usize, Vec<Cow<'d, str>>)> {
        let at = node.at;
        let entries = self.mapping(node, &p[..p.len() - 1], p[p.len() - 1])?;
        let keys = entries.iter().map(|e| e.key.clone()).collect();
        for e in entries {
            each(self, e);
        }
        Some((at, keys))
    }

    fn inject(&mut self, node: Node<'d>, p: KeyPath) -> Option<RawInject> {
        let mut inj = RawInject::default();
        self.fields(node, p, |r, Entry { key, key_at, value }| {
            let k = &*key;
            match k {
                "env" => {
                    inj.env = match &value.value {
                        Value::Scalar { text, plain: true } if text == "false" => {
                            Some(InjectEnv::Off)
                        }
                        Value::Scalar { text, plain: true } if text == "true" => {
                            Some(InjectEnv::Default)
                        }
                        // Empty is not "none": the key was written, so say what it means.
                        Value::Null => {
                            r.bad(
                                value.at,
                                p,
                                k,
                                "is empty: write a variable name, or false for none",
                            );
                            None
                        }
                        _ => r.string(value, p, k).map(InjectEnv::Name),
                    }
                }
                "file" => inj.file = r.string(value, p, k),
                "mode" => inj.mode = r.mode(value, p, k),
                _ => r.unknown(key_at, p, k, "env, file, mode"),
            }
        })?;
        Some(inj)
    }

    fn generate(&mut self, node: Node<'d>, p: KeyPath) -> Option<Generate> {
        let (mut length, mut charset) = (None, None);
        let (at, keys) = self.fields(node, p, |r, Entry { key, key_at, value }| {
            let k = &*key;
            match k {
                "length" => length = r.count(value, p, k, MAX_GENERATE_LENGTH),
                "charset" => {
                    charset = r.choice(
                        value,
                        p,
                        k,
                        Charset::from_name,
                        "alphanumeric, base64, base64url or hex",
                    )
                }
                _ => r.unknown(key_at, p, k, "length, charset"),
            }
        })?;
        Some(Generate {
            length: self.required(length, at, &keys, p, "length"),
            charset: self.required(charset, at, &keys, p, "charset"),
        })
    }

    fn aws_secretsmanager(&mut self, node: Node<'d>, p: KeyPath) -> Option<RawAwsSecretsManager> {
        let (mut id, mut key_name) = (None, None);
        let (at, keys) = self.fields(node, p, |r, Entry { key, key_at, value }| match &*key {
            "id" => id = r.string(value, p, "id"),
            "key" => key_name = r.string(value, p, "key"),
            k => r.unknown(key_at, p, k, "id, key"),
        })?;
        Some(RawAwsSecretsManager {
            id: self.required(id, at, &keys, p, "id"),
            key: key_name,
        })
    }

    fn aws_ssm(&mut self, node: Node<'d>, p: KeyPath) -> Option<RawAwsSsm> {
        let mut name = None;
        let (at, keys) = self.fields(node, p, |r, Entry { key, key_at, value }| match &*key {
            "name" => name = r.string(value, p, "name"),
            k => r.unknown(key_at, p, k, "name"),
        })?;
        Some(RawAwsSsm {
            name: self.required(name, at, &keys, p, "name"),
        })
    }

    /// A key the mapping must have: reports it missing (unless it was there with a bad
    /// value, which is reported already) and stands in a placeholder.
    fn required<T: Default>(
        &mut self,
        value: Option<T>,
        at: usize,
        keys: &[Cow<'d, str>],
        p: KeyPath,
        key: &str,
    ) -> T {
        if value.is_none() && !keys.iter().any(|k| k == key) {
            self.bad(at, p, key, "missing");
        }
        value.unwrap_or_default()
    }

    fn unknown(&mut self, at: usize, parent: KeyPath, key: &str, known: &str) {
        let msg = format!("unknown field (expected one of: {known})");
        self.bad(at, parent, key, msg);
    }

    /// The text of a scalar (quoted or not); `None` for nothing.
    fn string(&mut self, node: Node<'d>, parent: KeyPath, key: &str) -> Option<String> {
        match node.value {
            Value::Scalar { text, .. } => Some(text.into_owned()),
            Value::Null => None,
            _ => {
                let msg = format!("expected a string, found {}", node.kind());
                self.bad(node.at, parent, key, msg);
                None
            }
        }
    }

    /// `true` or `false`, unquoted: YAML 1.2's booleans, the JSON ones. `True`, `no`,
    /// `off`, `~` and an empty value are refused, not read as false: YAML 1.1 tools read
    /// some of them as booleans and some as strings, and a key that was written means
    /// something.
    fn boolean(&mut self, node: Node<'d>, parent: KeyPath, key: &str) -> Option<bool> {
        match &node.value {
            Value::Scalar { text, plain: true } if text == "true" => Some(true),
            Value::Scalar { text, plain: true } if text == "false" => Some(false),
            _ => {
                self.bad(node.at, parent, key, "expected a boolean, true or false");
                None
            }
        }
    }

    /// An unquoted number of type `T` (a count, bits, days...).
    fn number<T: std::str::FromStr>(
        &mut self,
        node: Node<'d>,
        parent: KeyPath,
        key: &str,
    ) -> Option<T> {
        match &node.value {
            Value::Scalar { text, plain: true } => {
                let n = text.parse().ok();
                if n.is_none() {
                    let what = if std::any::type_name::<T>() == "f64" {
                        "a number"
                    } else {
                        "a whole number, 0 or more"
                    };
                    self.bad(node.at, parent, key, format_args!("expected {what}"));
                }
                n
            }
            Value::Null => None,
            _ => {
                self.bad(node.at, parent, key, "expected a number (without quotes)");
                None
            }
        }
    }

    /// An unquoted whole number from 0 to `max`, as any integer type it fits. A larger
    /// one, however many digits it has, is reported with the bound.
    fn count<T: TryFrom<u64>>(
        &mut self,
        node: Node<'d>,
        parent: KeyPath,
        key: &str,
        max: u64,
    ) -> Option<T> {
        let why = match &node.value {
            Value::Null => return None,
            Value::Scalar { text, plain: true }
                if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) =>
            {
                match text.parse::<u64>() {
                    Ok(n) if n <= max => return T::try_from(n).ok(),
                    _ => format!("must be at most {max}"),
                }
            }
            Value::Scalar { plain: true, .. } => "expected a whole number, 0 or more".into(),
            _ => "expected a number (without quotes)".into(),
        };
        self.bad(node.at, parent, key, why);
        None
    }

    /// A scalar that `parse` understands and that is at most `max` (`shown` in the
    /// message).
    #[allow(clippy::too_many_arguments)]
    fn bounded<T: PartialOrd>(
        &mut self,
        node: Node<'d>,
        parent: KeyPath,
        key: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
        max: T,
        shown: &str,
    ) -> Option<T> {
        let at = node.at;
        let v = self.parsed(node, parent, key, parse, expected)?;
        if v > max {
            self.bad(at, parent, key, format_args!("must be at most {shown}"));
            return None;
        }
        Some(v)
    }

    /// A list of strings; a single value is not a list.
    fn strings(&mut self, node: Node<'d>, parent: KeyPath, key: &str) -> Option<Vec<String>> {
        self.list(node, parent, key, |r, n| r.string(n, parent, key))
    }

    fn list<T>(
        &mut self,
        node: Node<'d>,
        parent: KeyPath,
        key: &str,
        mut item: impl FnMut(&mut Self, Node<'d>) -> Option<T>,
    ) -> Option<Vec<T>> {
        match node.value {
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for n in items {
                    if matches!(n.value, Value::Null) {
                        self.bad(n.at, parent, key, "a list item is empty");
                    } else if let Some(v) = item(self, n) {
                        out.push(v);
                    }
                }
                Some(out)
            }
            Value::Null => None,
            _ => {
                let msg = format!("expected a list, found {}", node.kind());
                self.bad(node.at, parent, key, msg);
                None
            }
        }
    }

    /// A scalar that `parse` understands; `expected` says what it should look like.
    fn parsed<T>(
        &mut self,
        node: Node<'d>,
        parent: KeyPath,
        key: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Option<T> {
        let at = node.at;
        let text = self.string(node, parent, key)?;
        let v = parse(&text);
        if v.is_none() {
            self.bad(at, parent, key, expected);
        }
        v
    }

    /// One of a fixed set of names (`names` lists them for the message).
    fn choice<T>(
        &mut self,
        node: Node<'d>,
        parent: KeyPath,
        key: &str,
        parse: impl Fn(&str) -> Option<T>,
        names: &str,
    ) -> Option<T> {
        self.parsed(node, parent, key, parse, &format!("expected {names}"))
    }

    fn mode(&mut self, node: Node<'d>, parent: KeyPath, key: &str) -> Option<Mode> {
        let at = node.at;
        let quoted = matches!(node.value, Value::Scalar { plain: false, .. });
        let text = self.string(node, parent, key)?;
        let octal =
            !text.is_empty() && text.len() <= 4 && text.bytes().all(|b| (b'0'..=b'7').contains(&b));
        if !quoted {
            // YAML reads 0640 as the decimal number 640: refuse rather than guess.
            self.bad(
                at,
                parent,
                key,
                "write modes as quoted octal strings, such as \"0640\"",
            );
            None
        } else if !octal {
            self.bad(at, parent, key, "not an octal mode such as \"0640\"");
            None
        } else {
            u32::from_str_radix(&text, 8).ok().map(Mode)
        }
    }
}

const SIZE: &str = "not a size (use bytes, or a number with KiB or MiB)";
const DURATION: &str = "not a duration (use seconds, or a number with ms, s, m or h)";

/// Splits `"512 KiB"` into `(512, "KiB")`: leading digits, then a unit (may be empty).
/// Too many digits saturate (to `u64::MAX`), so that the caller's bound reports them.
fn number_and_unit(v: &str) -> Option<(u64, &str)> {
    let v = v.trim();
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(digits);
    if num.is_empty() {
        return None;
    }
    Some((num.parse().unwrap_or(u64::MAX), unit.trim()))
}

/// A size in bytes (saturating: the caller bounds it).
fn parse_size(v: &str) -> Option<u64> {
    let (num, unit) = number_and_unit(v)?;
    let mult: u64 = match unit {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        _ => return None,
    };
    Some(num.saturating_mul(mult))
}

/// A duration (saturating: the caller bounds it).
fn parse_duration(v: &str) -> Option<Duration> {
    let (n, unit) = number_and_unit(v)?;
    Some(match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return None,
    })
}

/// A signal name such as `SIGHUP` or `HUP`.
fn parse_signal(v: &str) -> Option<Signal> {
    let upper = v.trim().to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse().ok()
}

/// Compiles a `pattern:` within [`PATTERN_BOUNDS`], or says why it cannot be.
fn compile_pattern(source: &str) -> Result<Pattern, String> {
    let anchored = format!("^(?:{source})$");
    let mut last = String::new();
    for (size, max_len) in PATTERN_BOUNDS {
        match RegexBuilder::new(&anchored).size_limit(size).build() {
            Ok(re) => {
                return Ok(Pattern {
                    source: source.to_owned(),
                    regex: Arc::new(re),
                    max_len,
                });
            }
            Err(e) => last = e.to_string(),
        }
    }
    let (largest, _) = PATTERN_BOUNDS[PATTERN_BOUNDS.len() - 1];
    if last.contains("size limit") {
        Err(format!(
            "too complex: it compiles to more than {} KiB (simplify nested or large counted repetitions)",
            largest >> 10
        ))
    } else {
        let why = last.lines().last().unwrap_or("invalid").trim();
        Err(format!("not a valid regular expression ({why})"))
    }
}

/// Whether `p` is a plain relative path that stays inside the directory it is joined to.
fn is_contained(p: &Path) -> bool {
    !p.as_os_str().is_empty()
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// JSON Schema for the hand-written deserializers above (tests only).
#[cfg(test)]
mod schema_impls {
    use super::*;
    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
    use std::borrow::Cow;

    impl JsonSchema for Secrets {
        fn schema_name() -> Cow<'static, str> {
            "Secrets".into()
        }
        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let secret = generator.subschema_for::<Option<RawSecret>>();
            json_schema!({
                "description": "The secrets, by name. A name is [A-Za-z_][A-Za-z0-9_]*, and not a word YAML 1.1 reads as a boolean or null (yes, no, on, off, y, n, true, false, null in any usual case).",
                "type": "object",
                "propertyNames": {"pattern": NAME_PATTERN},
                "additionalProperties": secret,
            })
        }
    }

    impl JsonSchema for InjectEnv {
        fn schema_name() -> Cow<'static, str> {
            "InjectEnv".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "The variable the child gets (default: the secret's name), or false for none.",
                "oneOf": [{"type": "string", "pattern": NAME_PATTERN}, {"type": "boolean"}],
            })
        }
    }

    impl JsonSchema for Flag {
        fn schema_name() -> Cow<'static, str> {
            "Flag".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "true or false (YAML 1.2; not True, yes, on, nor empty).",
                "type": "boolean",
            })
        }
    }

    impl JsonSchema for InjectMode {
        fn schema_name() -> Cow<'static, str> {
            "InjectMode".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "A file mode as a quoted octal string, at most \"0777\" (no setuid, setgid or sticky bit).",
                "type": "string",
                "pattern": "^0?[0-7]{1,3}$",
            })
        }
    }

    impl JsonSchema for Size {
        fn schema_name() -> Cow<'static, str> {
            "Size".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "Bytes, or a number with B, KiB or MiB; at most 64MiB.",
                "oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_FILE_SIZE_LIMIT}, {"type": "string", "pattern": "^\\s*[0-9]+\\s*(B|KiB|MiB)?\\s*$"}],
            })
        }
    }

    impl JsonSchema for Mode {
        fn schema_name() -> Cow<'static, str> {
            "Mode".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "A file mode as a quoted octal string, such as \"0640\".",
                "type": "string",
                "pattern": "^[0-7]{1,4}$",
            })
        }
    }

    impl JsonSchema for Seconds {
        fn schema_name() -> Cow<'static, str> {
            "Duration".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "Seconds, or a number with ms, s, m or h; at most 24h.",
                "oneOf": [{"type": "integer", "minimum": 0, "maximum": MAX_DURATION.as_secs()}, {"type": "string", "pattern": "^\\s*[0-9]+\\s*(ms|s|m|h)?\\s*$"}],
            })
        }
    }
}

// ---- from raw to checked ------------------------------------------------------------

/// Why a manifest that needs AWS is refused by a default build.
const WITHOUT_AWS: &str = "this sesame was built without the aws feature (use a build with --features aws; see docs/aws.md)";

impl RawManifest {
    /// Checks the settings, and reads and checks each of the `secrets` entries in turn.
    /// Mistakes of form (unknown keys, wrong types: `reader`'s problems) are reported
    /// alone when there are any, since contradictions between misread values mean little.
    fn validate<'d>(
        self,
        path: Option<&Path>,
        entries: Vec<Entry<'d>>,
        reader: &mut Reader<'d>,
    ) -> Result<Manifest, Problems> {
        let mut problems: Problems = Vec::new();
        let mut top = |msg: String| problems.push((None, msg));

        if self.version != 1 {
            top(format!(
                "version: {} is not supported (this sesame reads version 1)",
                self.version
            ));
        }
        if !AWS_BUILT_IN
            && let Some(s) = &self.sources
            && s.contains(&Source::Aws)
        {
            top(format!("sources: aws: {WITHOUT_AWS}"));
        }
        if !VAULT_BUILT_IN
            && let Some(s) = &self.sources
            && s.contains(&Source::Vault)
        {
            top(format!("sources: vault: {WITHOUT_VAULT}"));
        }
        let vault = self.vault.map(|v| v.check(&mut top)).unwrap_or_default();
        let sources = self.sources.unwrap_or_else(|| DEFAULT_SOURCES.to_vec());
        if sources.is_empty() {
            top("sources: must name at least one of file_env, file, env, aws, vault".into());
        }
        let mut seen = HashSet::new();
        for s in &sources {
            if !seen.insert(*s) {
                top(format!("sources: {} is listed twice", s.name()));
            }
        }
        if let Some(envs) = &self.environments {
            let mut seen = HashSet::new();
            for e in envs {
                if e.is_empty()
                    || !e
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    top(format!(
                        "environments: {} is not a valid environment name",
                        crate::shown::quoted_name(e)
                    ));
                } else if !seen.insert(e) {
                    top(format!("environments: {e:?} is listed twice"));
                }
            }
        }
        let keep_env = self
            .keep_env
            .unwrap_or_else(|| DEFAULT_KEEP_ENV.iter().map(|s| s.to_string()).collect());
        for k in &keep_env {
            let name = k.strip_suffix('*').unwrap_or(k);
            if !(is_valid_name(name) || name.is_empty() && k == "*") {
                top(format!(
                    "keep_env: {} is not a variable name (a trailing * is allowed)",
                    crate::shown::quoted_name(k)
                ));
            }
        }
        let on_change_signal = match self.on_change_signal.as_deref() {
            None => Signal::SIGHUP,
            Some(s) => parse_signal(s).unwrap_or_else(|| {
                top(format!(
                    "on_change_signal: {} is not a signal name",
                    crate::shown::quoted_name(s)
                ));
                Signal::SIGHUP
            }),
        };
        let secrets_dir = self.secrets_dir.map(PathBuf::from);
        if let Some(d) = &secrets_dir
            && d.as_os_str().is_empty()
        {
            top("secrets_dir: must not be empty".into());
        }
        let remote_timeout = self.remote_timeout.map_or(DEFAULT_REMOTE_TIMEOUT, |s| s.0);
        if remote_timeout.is_zero() {
            top("remote_timeout: must be more than 0".into());
        }
        let max_file_size = self.max_file_size.map_or(DEFAULT_MAX_FILE_SIZE, |s| s.0);
        if max_file_size == 0 {
            top("max_file_size: must be more than 0".into());
        }

        let ctx = SecretContext {
            sources: &sources,
            environments: self.environments.as_deref(),
            patterns: RefCell::default(),
        };
        let mut secrets = Vec::with_capacity(entries.len());
        // Where each valid secret's name is, for the messages below.
        let mut places = Vec::with_capacity(entries.len());
        for Entry { key, key_at, value } in entries {
            let misread = reader.problems.len();
            let raw = reader.secret(value, &["secrets", &key]);
            if reader.problems.len() > misread {
                continue;
            }
            let (name, at) = (&*key, key_at);
            let shown = crate::shown::name(name);
            let mut here =
                |msg: String| problems.push((Some(at), format!("secrets.{shown}.{msg}")));
            if let Some(spec) = raw.validate(name, &ctx, &mut here) {
                secrets.push(spec);
                places.push(at);
            }
        }
        if !reader.problems.is_empty() {
            return Err(std::mem::take(&mut reader.problems));
        }
        // Two secrets may not inject one variable, nor write one file.
        for (first, later) in repeats(&secrets, |s| s.inject_env.as_deref()) {
            let (s, f) = (&secrets[later], &secrets[first]);
            let var = s.inject_env.as_deref().unwrap_or_default();
            let msg = format!(
                "secrets.{}.inject.env: {var} is already injected by {}",
                s.name, f.name
            );
            problems.push((Some(places[later]), msg));
        }
        let writes = repeats(&secrets, |s| {
            s.inject_file.as_ref().map(|(f, _)| f.as_path())
        });
        for (first, later) in writes {
            let (s, f) = (&secrets[later], &secrets[first]);
            let file = s.inject_file.as_ref().map(|(p, _)| crate::shown::path(p));
            let msg = format!(
                "secrets.{}.inject.file: {} is already written by {}",
                s.name,
                file.map(|d| d.to_string()).unwrap_or_default(),
                f.name
            );
            problems.push((Some(places[later]), msg));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Manifest {
            path: path.map(Path::to_path_buf),
            secrets_dir,
            scrub: self.scrub.unwrap_or(true),
            max_file_size,
            max_mode: self.max_mode.map(|m| m.0),
            environments: self.environments,
            clear_env: self.clear_env.unwrap_or(false),
            keep_env,
            no_new_privs: self.no_new_privs.unwrap_or(true),
            on_change: self.on_change.unwrap_or(OnChange::Restart),
            on_change_signal,
            restart_grace: self.restart_grace.map_or(Duration::from_secs(10), |s| s.0),
            remote_timeout,
            vault,
            secrets,
        })
    }
}

struct SecretContext<'a> {
    sources: &'a [Source],
    environments: Option<&'a [String]>,
    /// The patterns compiled so far: each distinct pattern is compiled once.
    patterns: RefCell<HashMap<String, Pattern>>,
}

impl RawSecret {
    /// Checks one secret; reports each problem through `bad` (which prefixes the key
    /// path) and returns the spec only when there was none.
    fn validate(
        mut self,
        name: &str,
        ctx: &SecretContext,
        bad: &mut dyn FnMut(String),
    ) -> Option<SecretSpec> {
        let before = std::cell::Cell::new(0usize);
        let mut bad = |m: String| {
            before.set(before.get() + 1);
            bad(m)
        };
        let rules = self.rules(&ctx.patterns, &mut bad);
        let aws = self.aws_location(ctx.sources, &mut bad);
        let vault = self
            .vault
            .take()
            .map(|v| v.check(name, ctx.sources, &mut bad));
        // The `aws` and `vault` sources only apply to a secret that says where it lives
        // there.
        let sources: Vec<Source> = ctx
            .sources
            .iter()
            .copied()
            .filter(|s| *s != Source::Aws || aws.is_some())
            .filter(|s| *s != Source::Vault || vault.is_some())
            .collect();
        if let Some(why) = name_problem(name, "secret") {
            bad(format!("name: {why}"));
        }
        let requirement = match (self.required, self.required_in) {
            (Some(_), Some(_)) => {
                bad("required_in: cannot be combined with required".into());
                Requirement::Required
            }
            (None, Some(envs)) => {
                if let Some(known) = ctx.environments {
                    for e in envs.iter().filter(|e| !known.contains(e)) {
                        bad(format!(
                            "required_in: {} is not one of the manifest's environments",
                            crate::shown::quoted_name(e)
                        ));
                    }
                }
                Requirement::In(envs)
            }
            (Some(false), None) => Requirement::Optional,
            (Some(true) | None, None) => Requirement::Required,
        };
        if self.default.is_some() && requirement != Requirement::Optional {
            bad("default: only an optional secret (required: false) can have a default".into());
        }
        // A default is injected like any value: refuse at manifest time what no variable
        // can hold (a NUL ends a C string; the variable would be dropped or cut).
        if self
            .default
            .as_ref()
            .is_some_and(|d| d.expose().contains('\0'))
        {
            bad("default: contains a NUL character, which no variable can hold (the value is not shown)".into());
        }
        let file = self.file.map(PathBuf::from);
        if let Some(f) = &file
            && !is_contained(f)
        {
            bad("file: must be a relative path inside the secrets directory (no .. and not absolute)".into());
        }
        if let Some(k) = &self.key {
            if k.is_empty() {
                bad("key: must not be empty".into());
            }
            if !sources
                .iter()
                .any(|s| matches!(s, Source::File | Source::FileEnv))
            {
                bad(
                    "key: applies to the file and file_env sources, and sources lists neither"
                        .into(),
                );
            }
            if self.trim.is_some() {
                bad("trim: does not apply with key (the field is used exactly as the JSON string holds it)".into());
            }
            if self.generate.is_some() {
                bad(
                    "generate: cannot write one field of a JSON file (remove key or generate)"
                        .into(),
                );
            }
        }
        let env = self.env.unwrap_or_else(|| name.to_owned());
        if let Some(why) = name_problem(&env, "variable") {
            bad(format!("env: {why}"));
        }
        let (inject_env, inject_file) = match self.inject {
            None => (Some(name.to_owned()), None),
            Some(inj) => {
                let var = match inj.env {
                    None | Some(InjectEnv::Default) => Some(name.to_owned()),
                    Some(InjectEnv::Off) => None,
                    Some(InjectEnv::Name(v)) => Some(v),
                };
                let file = inj.file.map(PathBuf::from);
                if let Some(f) = &file
                    && (!f.is_absolute() || f.components().any(|c| c == Component::ParentDir))
                {
                    bad("inject.file: must be an absolute path without ..".into());
                }
                if inj.mode.is_some() && file.is_none() {
                    bad("inject.mode: only applies with inject.file".into());
                }
                if inj.mode.as_ref().is_some_and(|m| m.0 > MAX_INJECT_MODE) {
                    bad(
                        "inject.mode: must be at most \"0777\" (no setuid, setgid or sticky bit)"
                            .into(),
                    );
                }
                (var, file.map(|f| (f, inj.mode.map_or(0o400, |m| m.0))))
            }
        };
        if let Some(var) = &inject_env {
            if let Some(why) = name_problem(var, "variable") {
                bad(format!("inject.env: {why}"));
            } else if is_dangerous_name(var) {
                bad(format!(
                    "inject.env: refusing to inject {var}: it would let the value take over the program"
                ));
            }
        }
        let trim = self.trim.unwrap_or(match rules.format {
            Some(f) if f.is_pem() => Trim::None,
            _ => Trim::Newline,
        });
        if let Some(g) = &self.generate
            && g.length == 0
        {
            bad("generate.length: must be more than 0".into());
        }

        (before.get() == 0).then(|| SecretSpec {
            name: name.to_owned(),
            description: self.description,
            requirement,
            sources,
            file,
            key: self.key,
            env,
            inject_env,
            inject_file,
            default: self.default,
            trim,
            rules,
            max_age_days: self.max_age_days,
            generate: self.generate,
            aws: aws.map(Box::new),
            vault: vault.map(Box::new),
        })
    }

    /// `aws_secretsmanager` / `aws_ssm`, checked (one of them, not empty, and usable).
    fn aws_location(&self, sources: &[Source], bad: &mut dyn FnMut(String)) -> Option<AwsLocation> {
        let (key, location) = match (&self.aws_secretsmanager, &self.aws_ssm) {
            (None, None) => return None,
            (Some(_), Some(_)) => {
                bad("aws_ssm: cannot be combined with aws_secretsmanager".into());
                return None;
            }
            (Some(sm), None) => {
                if sm.id.is_empty() {
                    bad("aws_secretsmanager.id: must not be empty".into());
                }
                if sm.key.as_deref() == Some("") {
                    bad("aws_secretsmanager.key: must not be empty".into());
                }
                (
                    "aws_secretsmanager",
                    AwsLocation::SecretsManager {
                        id: sm.id.clone(),
                        key: sm.key.clone(),
                    },
                )
            }
            (None, Some(ssm)) => {
                if ssm.name.is_empty() {
                    bad("aws_ssm.name: must not be empty".into());
                }
                (
                    "aws_ssm",
                    AwsLocation::Ssm {
                        name: ssm.name.clone(),
                    },
                )
            }
        };
        if !AWS_BUILT_IN {
            bad(format!("{key}: {WITHOUT_AWS}"));
        } else if !sources.contains(&Source::Aws) {
            bad(format!("{key}: the manifest's sources do not include aws"));
        }
        Some(location)
    }

    /// The rule keys, checked against each other.
    fn rules(
        &self,
        patterns: &RefCell<HashMap<String, Pattern>>,
        bad: &mut dyn FnMut(String),
    ) -> Rules {
        if let (Some(min), Some(max)) = (self.min_length, self.max_length)
            && min > max
        {
            bad(format!("min_length: {min} is more than max_length {max}"));
        }
        let pattern = self.pattern.as_ref().and_then(|p| {
            if let Some(known) = patterns.borrow().get(p) {
                return Some(known.clone());
            }
            match compile_pattern(p) {
                Ok(compiled) => {
                    patterns.borrow_mut().insert(p.clone(), compiled.clone());
                    Some(compiled)
                }
                Err(why) => {
                    bad(format!("pattern: {why}"));
                    None
                }
            }
        });
        let format = self.format;
        if self.decoded_bytes.is_some() && !format.is_some_and(Format::is_binary_encoding) {
            bad("decoded_bytes: needs format base64, base64url or hex".into());
        }
        if self.min_key_bits.is_some() && !format.is_some_and(Format::is_rsa) {
            bad("min_key_bits: needs format rsa-private-key or rsa-public-key".into());
        }
        if let Some(e) = self.min_entropy_bits
            && !(e.is_finite() && (0.0..=MAX_ENTROPY_BITS).contains(&e))
        {
            bad(format!(
                "min_entropy_bits: must be a number of bits from 0 to at most {MAX_ENTROPY_BITS}"
            ));
        }
        Rules {
            min_length: self.min_length,
            max_length: self.max_length,
            pattern,
            format,
            decoded_bytes: self.decoded_bytes,
            min_key_bits: self.min_key_bits,
            min_entropy_bits: self.min_entropy_bits,
            forbid: self.forbid.clone().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Manifest, String> {
        Manifest::parse(yaml, Some(Path::new("m.yaml"))).map_err(|e| e.to_string())
    }

    #[test]
    fn minimal_manifest_gets_the_documented_defaults() {
        let m = parse("version: 1\nsecrets:\n  DB_PASSWORD:\n").unwrap();
        assert!(m.scrub);
        assert_eq!(m.max_file_size, 1 << 20);
        let s = &m.secrets[0];
        assert_eq!(s.name, "DB_PASSWORD");
        assert_eq!(s.env, "DB_PASSWORD");
        assert_eq!(s.inject_env.as_deref(), Some("DB_PASSWORD"));
        assert_eq!(s.sources, [Source::FileEnv, Source::File, Source::Env]);
        assert_eq!(s.requirement, Requirement::Required);
        assert_eq!(s.trim, Trim::Newline);
    }

    #[test]
    fn secrets_keep_file_order() {
        let m = parse("version: 1\nsecrets:\n  ZED: {}\n  ALPHA: {}\n  MID: {}\n").unwrap();
        let names: Vec<_> = m.secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["ZED", "ALPHA", "MID"]);
    }

    #[test]
    fn duplicate_keys_are_refused_with_line_and_column() {
        let e = parse("version: 1\nsecrets:\n  A:\n    required: true\n    required: false\n")
            .unwrap_err();
        assert!(e.contains("m.yaml:5:5"), "{e}");
        assert!(e.contains("duplicate"), "{e}");
        assert!(!e.contains("DuplicateKeyPolicy"), "{e}");
    }

    #[test]
    fn type_errors_name_the_key_and_place() {
        let e = parse("version: 1\nsecrets:\n  A:\n    min_length: -3\n").unwrap_err();
        assert!(e.contains("m.yaml:4:") && e.contains("min_length"), "{e}");
        let e = parse("version: 1\nsecrets:\n  A:\n    required: yes\n").unwrap_err();
        assert!(e.contains("required") && e.contains("4:"), "{e}");
    }

    #[test]
    fn every_type_error_is_reported_at_its_key_in_block_and_flow_style() {
        let e = parse(
            "version: 1\nsecrets:\n  A:\n    min_length: -3\n  B: {file: x, min_length: -1}\n  C:\n    bogus: 1\n    inject: {mode: 0640}\n",
        )
        .unwrap_err();
        for needle in [
            "m.yaml:4:17: secrets.A.min_length: expected a whole number",
            "m.yaml:5:28: secrets.B.min_length: expected a whole number",
            "m.yaml:7:5: secrets.C.bogus: unknown field",
            "m.yaml:8:20: secrets.C.inject.mode: write modes as quoted octal",
        ] {
            assert!(e.contains(needle), "missing {needle:?} in {e}");
        }
    }

    #[test]
    fn thousands_of_problems_are_counted_after_the_first_hundred() {
        let mut yaml = String::from("version: 1\nsecrets:\n  A:\n");
        for i in 0..10_000 {
            yaml.push_str(&format!("    bogus{i}: 1\n"));
        }
        let e = parse(&yaml).unwrap_err();
        assert_eq!(e.lines().count(), 101, "{}", &e[..200]);
        assert!(e.starts_with("manifest m.yaml:4:5: secrets.A.bogus0: unknown field"));
        assert!(
            e.ends_with("manifest m.yaml: ... and 9900 more problems"),
            "{}",
            &e[e.len() - 200..]
        );
    }

    #[test]
    fn values_are_never_quoted_in_messages() {
        let e = parse(
            "version: 1\nsecrets:\n  A:\n    required: false\n    default: [hunter2]\n    min_length: hunter3\n",
        )
        .unwrap_err();
        assert!(e.contains("secrets.A.default: expected a string"), "{e}");
        assert!(!e.contains("hunter"), "{e}");
    }

    /// Inputs that once crashed the parser (fuzz/artifacts), kept as regressions.
    #[test]
    fn fuzz_regressions_parse_without_panicking() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/manifest");
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            if let Ok(text) = std::str::from_utf8(&bytes) {
                let _ = Manifest::parse(text, None);
            }
        }
    }

    #[test]
    fn sizes_modes_and_durations() {
        assert_eq!(parse_size("1MiB"), Some(1 << 20));
        assert_eq!(parse_size("512KiB"), Some(512 << 10));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1GB"), None);
        // Too many digits saturate, so that the bound (not "not a size") is reported.
        assert_eq!(parse_size("99999999999999999999999 MiB"), Some(u64::MAX));
        assert_eq!(
            parse_duration("99999999999999999999h"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        let m =
            parse("version: 1\nmax_mode: \"0640\"\nmax_file_size: 2KiB\nsecrets: {}\n").unwrap();
        assert_eq!(m.max_mode, Some(0o640));
        assert_eq!(m.max_file_size, 2048);
        let e = parse("version: 1\nmax_mode: 0640\nsecrets: {}\n").unwrap_err();
        assert!(e.contains("quoted octal"), "{e}");
    }

    #[test]
    fn a_pattern_is_compiled_with_the_smallest_bound_it_fits() {
        let small = compile_pattern("[a-f0-9]{64}").unwrap();
        assert_eq!(small.max_len, 256 << 10);
        let larger = compile_pattern("(?:.*a){100}").unwrap();
        assert_eq!(larger.max_len, 64 << 10);
        let largest = compile_pattern("(?:.*a){200}").unwrap();
        assert_eq!(largest.max_len, 16 << 10);
        let e = compile_pattern("(?:[a-z]{1,50}){1,50}").unwrap_err();
        assert!(e.starts_with("too complex"), "{e}");
        let e = compile_pattern("([a-z").unwrap_err();
        assert!(e.starts_with("not a valid regular expression"), "{e}");
    }

    #[test]
    fn every_contradiction_is_reported_at_once() {
        let e = parse(
            "version: 1\nsecrets:\n  A:\n    default: x\n    min_length: 9\n    max_length: 3\n  B:\n    inject: {env: LD_PRELOAD}\n  C:\n    decoded_bytes: 3\n",
        )
        .unwrap_err();
        for needle in [
            "secrets.A.default",
            "secrets.A.min_length",
            "secrets.B.inject.env",
            "secrets.C.decoded_bytes",
            "m.yaml:3:",
            "m.yaml:7:",
        ] {
            assert!(e.contains(needle), "missing {needle:?} in {e}");
        }
    }

    #[test]
    fn dangerous_names() {
        for n in [
            "LD_PRELOAD",
            "DYLD_INSERT_LIBRARIES",
            "PATH",
            "IFS",
            "BASH_ENV",
            "ENV",
            "PROMPT_COMMAND",
            "SHELLOPTS",
            "PS4",
            "SESAME_USER",
        ] {
            assert!(is_dangerous_name(n), "{n}");
        }
        assert!(!is_dangerous_name("PGPASSWORD"));
    }

    /// The committed schema is what the types say. To update it after changing the
    /// manifest types: `SESAME_BLESS=1 cargo test --lib schema_file`.
    #[test]
    fn schema_file_matches_the_types() {
        let mut schema = schemars::schema_for!(RawManifest);
        schema.insert("title".into(), "sesame manifest (version 1)".into());
        schema.insert(
            "$id".into(),
            "https://sesame.invalid/manifest.schema.json".into(),
        );
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/manifest.schema.json");
        if std::env::var_os("SESAME_BLESS").is_some() {
            std::fs::write(path, &text).unwrap();
            return;
        }
        assert!(
            SCHEMA == text,
            "schema/manifest.schema.json is out of date: run SESAME_BLESS=1 cargo test --lib schema_file"
        );
    }

    /// The key lists of "unknown field" messages are the schema's (both come from the
    /// fields of the raw structs, one by hand).
    #[test]
    fn unknown_field_messages_list_the_schemas_keys() {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            k.sort();
            k
        };
        let listed = |list: &str| {
            let mut k: Vec<String> = list.split(", ").map(str::to_owned).collect();
            k.sort();
            k
        };
        assert_eq!(keys(&schema), listed(MANIFEST_KEYS));
        assert_eq!(keys(&schema["$defs"]["RawSecret"]), listed(SECRET_KEYS));
    }

    #[test]
    fn aws_locations_parse_and_show_as_check_does() {
        let yaml = "version: 1\nsecrets:\n  A: {aws_secretsmanager: {id: prod/db, key: password}}\n  B: {aws_ssm: {name: /prod/db_password}}\n  C: {}\n";
        match (AWS_BUILT_IN, parse(yaml)) {
            (false, Ok(_)) => panic!("parsed without the aws feature"),
            (true, Err(e)) => panic!("{e}"),
            (true, Ok(m)) => {
                let shown: Vec<_> = m.secrets[..2]
                    .iter()
                    .map(|s| s.aws.as_ref().unwrap().to_string())
                    .collect();
                assert_eq!(
                    shown,
                    ["aws-sm prod/db#password", "aws-ssm /prod/db_password"]
                );
                // A secret with an AWS location only tries aws of the remote sources.
                assert_eq!(
                    m.secrets[0].sources,
                    [Source::FileEnv, Source::File, Source::Env, Source::Aws]
                );
                // A secret without a location never reaches the aws source.
                assert_eq!(
                    m.secrets[2].sources,
                    [Source::FileEnv, Source::File, Source::Env]
                );
                assert_eq!(m.remote_timeout, DEFAULT_REMOTE_TIMEOUT);
            }
            (false, Err(e)) => {
                for needle in [
                    "secrets.A.aws_secretsmanager: this sesame was built without the aws feature",
                    "secrets.B.aws_ssm: this sesame was built without the aws feature",
                ] {
                    assert!(e.contains(needle), "missing {needle:?} in {e}");
                }
                assert!(!e.contains("secrets.C"), "{e}");
            }
        }
    }

    #[test]
    fn aws_source_listed_without_the_feature_is_refused() {
        let r = parse("version: 1\nsources: [env, aws]\nremote_timeout: 5s\nsecrets: {}\n");
        if AWS_BUILT_IN {
            assert_eq!(r.unwrap().remote_timeout, Duration::from_secs(5));
        } else {
            let e = r.unwrap_err();
            assert!(
                e.contains("sources: aws: this sesame was built without the aws feature"),
                "{e}"
            );
        }
    }

    #[test]
    fn aws_location_mistakes() {
        let e = parse(
            "version: 1\nsources: [file, env]\nremote_timeout: 0\nsecrets:\n  A: {aws_secretsmanager: {id: x}, aws_ssm: {name: y}}\n  B: {aws_secretsmanager: {id: \"\", key: \"\"}}\n  C: {aws_ssm: {name: y}}\n",
        )
        .unwrap_err();
        for needle in [
            "secrets.A.aws_ssm: cannot be combined with aws_secretsmanager",
            "secrets.B.aws_secretsmanager.id: must not be empty",
            "secrets.B.aws_secretsmanager.key: must not be empty",
            "remote_timeout: must be more than 0",
        ] {
            assert!(e.contains(needle), "missing {needle:?} in {e}");
        }
        if AWS_BUILT_IN {
            assert!(
                e.contains("secrets.C.aws_ssm: the manifest's sources do not include aws"),
                "{e}"
            );
        }
        // Unknown keys inside the locations are errors, as everywhere.
        let e =
            parse("version: 1\nsecrets:\n  A: {aws_ssm: {name: y, decrypt: true}}\n").unwrap_err();
        assert!(e.contains("decrypt"), "{e}");
    }

    #[test]
    fn a_secret_problem_is_reported_at_the_secret_name() {
        // `A` appears first as a value and as another secret's key: neither is it.
        let text = "version: 1\nsecrets:\n  B:\n    env: A\n    file: A\n  \"A\": {default: x}\n";
        let e = parse(text).unwrap_err();
        assert!(
            e.starts_with("manifest m.yaml:6:3: secrets.A.default"),
            "{e}"
        );
    }

    #[test]
    fn two_secrets_injecting_one_variable() {
        let e = parse("version: 1\nsecrets:\n  A: {inject: {env: X}}\n  B: {inject: {env: X}}\n")
            .unwrap_err();
        assert!(
            e.contains("secrets.B.inject.env: X is already injected by A"),
            "{e}"
        );
    }
}
