//! Resolution (SPEC §3): for each secret, try its sources in order and keep the first
//! that has it, recording every place looked at so that a missing secret can say where
//! sesame looked and `check --explain` can show the whole trail.
//!
//! Nothing here decides whether sesame may start: a read error or an absence is an
//! [`Outcome`], and `validate` turns outcomes into verdicts once every secret is done.

use crate::env::Environment;
use crate::json_field::{self, PickError};
use crate::manifest::{AwsLocation, SecretSpec, Source, Trim, VaultLocation, VaultSettings};
use crate::read::{CloseBatch, ReadError, read_capped_open};
use crate::secret::{Fetched, Secret};
use crate::shown;
use std::borrow::Cow;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Where a value came from, for reports and the start-up summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Read from the file named by the variable (`$X_FILE`).
    FileEnv { var: String, path: PathBuf },
    /// Read from a file in the secrets directory.
    File { path: PathBuf },
    /// Taken from a variable.
    Env { var: String },
    /// Fetched from AWS Secrets Manager or SSM Parameter Store (boxed, as in the spec:
    /// the common origins stay small).
    Aws(Box<AwsLocation>),
    /// Fetched from Vault's KV engine.
    Vault(Box<VaultLocation>),
    /// The manifest's `default:`.
    Default,
}

impl Origin {
    /// The short source kind used in the summary line: `file_env`, `file`, `env`, `default`.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::FileEnv { .. } => "file_env",
            Origin::File { .. } => "file",
            Origin::Env { .. } => "env",
            Origin::Aws(_) => "aws",
            Origin::Vault(_) => "vault",
            Origin::Default => "default",
        }
    }

    /// The file the value was read from, if any (what `max_age_days`, `max_mode` and
    /// `--watch` look at).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Origin::FileEnv { path, .. } | Origin::File { path } => Some(path),
            _ => None,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::FileEnv { var, path } => write!(f, "file {} (${var})", shown::path(path)),
            Origin::File { path } => write!(f, "file {}", shown::path(path)),
            Origin::Env { var } => write!(f, "env {var}"),
            Origin::Aws(loc) => loc.fmt(f),
            Origin::Vault(loc) => loc.fmt(f),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug)]
pub struct Found {
    pub value: Secret,
    pub origin: Origin,
    /// Facts about the file it was read from (mode and age are checked by `validate`).
    pub file: Option<FileFacts>,
}

/// What validation needs to know about a secret file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileFacts {
    /// Permission bits (`st_mode & 0o7777`) of the file, symlinks followed.
    pub mode: u32,
    pub modified: Option<std::time::SystemTime>,
}

impl From<&Metadata> for FileFacts {
    fn from(m: &Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileFacts {
            mode: m.mode() & 0o7777,
            modified: m.modified().ok(),
        }
    }
}

/// What resolution concluded for one secret.
#[derive(Debug)]
pub enum Outcome {
    Found(Found),
    /// No source had it (and there is no default).
    Absent,
    /// A source had it but could not deliver it; the text names the place and reason.
    Failed(String),
}

/// One place sesame looked, and what it found there (never the value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Look {
    /// `$DB_PASSWORD_FILE`, `/run/secrets/db_password`, `$DB_PASSWORD`, `default`.
    pub place: String,
    /// `used`, `not set`, `no such file`, or why it could not be used.
    pub found: Cow<'static, str>,
}

/// The result for one secret: its spec, the outcome, and the trail.
#[derive(Debug)]
pub struct Resolved<'m> {
    pub spec: &'m SecretSpec,
    pub outcome: Outcome,
    pub looks: Vec<Look>,
}

impl Resolved<'_> {
    /// The places looked at, for the "missing (looked for …)" message.
    pub fn places(&self) -> String {
        self.looks
            .iter()
            .map(|l| l.place.as_str())
            .filter(|p| *p != "default")
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Everything resolution needs besides the manifest.
pub struct Context<'a> {
    pub secrets_dir: PathBuf,
    pub environment: Option<&'a str>,
    pub env: &'a Environment,
    pub max_file_size: u64,
    /// Total time for fetching remote secrets (the manifest's `remote_timeout`).
    pub remote_timeout: std::time::Duration,
    /// The secret files read so far, closed together.
    pub closes: CloseBatch,
    /// Set when sesame reads for a less privileged program (`--user`): every path is
    /// then walked by [`crate::walk`]'s rules, so a link or directory someone else could
    /// have planted on the way is an error instead of a way to root-only files.
    pub confined: Option<crate::walk::Confined>,
    /// How to reach Vault (the manifest's `vault:`).
    pub vault: &'a VaultSettings,
}

/// How far resolution got with one secret before a remote fetch.
enum Step<'m> {
    Done(Resolved<'m>),
    /// Reached a remote source (`aws` or `vault`, at index `at` of its sources).
    Remote {
        spec: &'m SecretSpec,
        looks: Vec<Look>,
        at: usize,
    },
}

/// A secret's location in the remote store its source `at` names.
fn remote_place(spec: &SecretSpec, at: usize) -> Option<(Origin, String)> {
    let origin = match spec.sources.get(at)? {
        Source::Aws => Origin::Aws(spec.aws.clone()?),
        Source::Vault => Origin::Vault(spec.vault.clone()?),
        _ => return None,
    };
    let place = origin.to_string();
    Some((origin, place))
}

/// Resolves every secret of the manifest (and the `--file-env` extras, if given).
///
/// Local sources are tried first; the secrets that reach a remote source (`aws`,
/// `vault`) are then fetched together, each store batched and concurrent, the stores
/// at the same time, and those a store does not have go on with the sources after it
/// (another round when that is the other store).
pub fn resolve_all<'m>(secrets: &'m [SecretSpec], ctx: &Context) -> Vec<Resolved<'m>> {
    let mut steps: Vec<Step<'m>> = secrets.iter().map(|spec| resolve(spec, ctx)).collect();
    // Each round moves every waiting secret past one remote source: at most one round
    // a remote source.
    while steps.iter().any(|s| matches!(s, Step::Remote { .. })) {
        let waiting = |source: Source| -> Vec<usize> {
            (0..steps.len())
                .filter(|&i| matches!(&steps[i], Step::Remote { spec, at, .. } if spec.sources[*at] == source))
                .collect()
        };
        let (aws, vault) = (waiting(Source::Aws), waiting(Source::Vault));
        if aws.is_empty() && vault.is_empty() {
            break;
        }
        let aws_locations: Vec<&AwsLocation> = aws
            .iter()
            .filter_map(|&i| match &steps[i] {
                Step::Remote { spec, .. } => spec.aws.as_deref(),
                Step::Done(_) => None,
            })
            .collect();
        let vault_locations: Vec<&VaultLocation> = vault
            .iter()
            .filter_map(|&i| match &steps[i] {
                Step::Remote { spec, .. } => spec.vault.as_deref(),
                Step::Done(_) => None,
            })
            .collect();
        let (from_aws, from_vault) = fetch_remote(&aws_locations, &vault_locations, ctx);
        let mut answers: Vec<Option<Fetched>> = steps.iter().map(|_| None).collect();
        for (i, got) in aws
            .into_iter()
            .zip(from_aws)
            .chain(vault.into_iter().zip(from_vault))
        {
            answers[i] = Some(got);
        }
        steps = steps
            .into_iter()
            .zip(answers)
            .map(|(step, got)| match (step, got) {
                (Step::Remote { spec, looks, at }, Some(got)) => {
                    after_fetch(spec, ctx, looks, at, got)
                }
                (step, _) => step,
            })
            .collect();
    }
    steps
        .into_iter()
        .map(|step| match step {
            Step::Done(r) => r,
            Step::Remote { spec, looks, .. } => Resolved {
                spec,
                outcome: Outcome::Failed("no answer from the remote store".into()),
                looks,
            },
        })
        .collect()
}

/// Asks both stores at once (Vault on a thread of its own) when both have something to
/// answer; one store alone needs no extra thread, and a build with one remote feature
/// (or none) has no code for it.
fn fetch_remote(
    aws: &[&AwsLocation],
    vault: &[&VaultLocation],
    ctx: &Context,
) -> (Vec<Fetched>, Vec<Fetched>) {
    // The other thread gets what it needs: `Context` holds the open files (not Sync).
    let (env, settings, timeout) = (ctx.env, ctx.vault, ctx.remote_timeout);
    let trust = ctx.confined.as_ref().map(|c| c.trust());
    #[cfg(all(feature = "aws", feature = "vault"))]
    if !aws.is_empty() && !vault.is_empty() {
        return std::thread::scope(|s| {
            let other = s.spawn(|| fetch_vault(vault, env, settings, timeout, trust));
            let from_aws = fetch_aws(aws, ctx);
            let from_vault = other.join().unwrap_or_else(|_| {
                vault
                    .iter()
                    .map(|l| Fetched::Failed(format!("{l}: internal error")))
                    .collect()
            });
            (from_aws, from_vault)
        });
    }
    (
        fetch_aws(aws, ctx),
        fetch_vault(vault, env, settings, timeout, trust),
    )
}

/// What a remote store's answer makes of a secret: found, failed, or on to the
/// sources after it.
fn after_fetch<'m>(
    spec: &'m SecretSpec,
    ctx: &Context,
    mut looks: Vec<Look>,
    at: usize,
    got: Fetched,
) -> Step<'m> {
    let Some((origin, place)) = remote_place(spec, at) else {
        return resolve_from(spec, ctx, looks, at + 1);
    };
    let (outcome, found) = match got {
        Fetched::Value(value) => (
            Some(Outcome::Found(Found {
                value,
                origin,
                file: None,
            })),
            Cow::Borrowed("used"),
        ),
        Fetched::NotFound(why) => (None, Cow::Owned(why)),
        Fetched::Failed(why) => (Some(Outcome::Failed(why.clone())), Cow::Owned(why)),
    };
    looks.push(Look { place, found });
    match outcome {
        Some(outcome) => Step::Done(Resolved {
            spec,
            outcome,
            looks,
        }),
        None => resolve_from(spec, ctx, looks, at + 1),
    }
}

/// Fetches every AWS location at once (feature `aws`).
#[cfg(feature = "aws")]
fn fetch_aws(locations: &[&AwsLocation], ctx: &Context) -> Vec<Fetched> {
    if locations.is_empty() {
        return Vec::new();
    }
    let trust = ctx.confined.as_ref().map(|c| c.trust());
    crate::aws::fetch_all(locations, ctx.env, ctx.remote_timeout, trust)
}

/// Fetches every Vault location at once (feature `vault`).
#[cfg(feature = "vault")]
fn fetch_vault(
    locations: &[&VaultLocation],
    env: &Environment,
    settings: &VaultSettings,
    timeout: std::time::Duration,
    trust: Option<crate::walk::Trust>,
) -> Vec<Fetched> {
    if locations.is_empty() {
        return Vec::new();
    }
    crate::vault::fetch_all(locations, env, settings, timeout, trust)
}

/// Without the feature the manifest refuses AWS locations, so nothing gets here.
#[cfg(not(feature = "aws"))]
fn fetch_aws(locations: &[&AwsLocation], _ctx: &Context) -> Vec<Fetched> {
    without_feature(locations, "aws")
}

/// Without the feature the manifest refuses Vault locations, so nothing gets here.
#[cfg(not(feature = "vault"))]
fn fetch_vault(
    locations: &[&VaultLocation],
    _: &Environment,
    _: &VaultSettings,
    _: std::time::Duration,
    _: Option<crate::walk::Trust>,
) -> Vec<Fetched> {
    without_feature(locations, "vault")
}

#[cfg(not(all(feature = "aws", feature = "vault")))]
fn without_feature(locations: &[&impl std::fmt::Display], feature: &str) -> Vec<Fetched> {
    locations
        .iter()
        .map(|l| {
            Fetched::Failed(format!(
                "{l}: this sesame was built without the {feature} feature"
            ))
        })
        .collect()
}

fn resolve<'m>(spec: &'m SecretSpec, ctx: &Context) -> Step<'m> {
    let looks = Vec::new();
    // The manifest refuses these names; `--file-env` names come from the environment,
    // so they are refused here, before their file is even read.
    if let Some(var) = spec
        .inject_env
        .as_deref()
        .filter(|v| crate::manifest::is_dangerous_name(v))
    {
        let why = format!(
            "refusing to inject {var} from ${var}_FILE: it would let the value take over the program"
        );
        return Step::Done(Resolved {
            spec,
            outcome: Outcome::Failed(why),
            looks,
        });
    }
    resolve_from(spec, ctx, looks, 0)
}

/// Tries the sources from index `from` on, stopping at a remote one (fetched later,
/// together).
fn resolve_from<'m>(
    spec: &'m SecretSpec,
    ctx: &Context,
    mut looks: Vec<Look>,
    from: usize,
) -> Step<'m> {
    for (i, source) in spec.sources.iter().enumerate().skip(from) {
        let step = match source {
            Source::FileEnv => from_file_env(spec, ctx, &mut looks),
            Source::File => from_dir(spec, ctx, &mut looks),
            Source::Env => from_env(spec, ctx, &mut looks),
            Source::Aws | Source::Vault if remote_place(spec, i).is_some() => {
                return Step::Remote { spec, looks, at: i };
            }
            Source::Aws | Source::Vault => None,
        };
        if let Some(outcome) = step {
            return Step::Done(Resolved {
                spec,
                outcome,
                looks,
            });
        }
    }
    let outcome = match &spec.default {
        Some(d) => {
            looks.push(Look {
                place: "default".into(),
                found: "used".into(),
            });
            Outcome::Found(Found {
                value: d.clone(),
                origin: Origin::Default,
                file: None,
            })
        }
        None => Outcome::Absent,
    };
    Step::Done(Resolved {
        spec,
        outcome,
        looks,
    })
}

/// The `file_env` source: `$<env>_FILE` names a file. Exclusive with `$<env>`.
fn from_file_env(spec: &SecretSpec, ctx: &Context, looks: &mut Vec<Look>) -> Option<Outcome> {
    // Joined, not `format!`ted: formatting costs more than the rest of this path (it
    // runs a thousand times for a thousand secrets).
    let place = ["$", &spec.env, "_FILE"].concat();
    let var = &place[1..];
    let Some(path) = ctx.env.get_nonempty(var) else {
        looks.push(Look {
            place,
            found: "not set".into(),
        });
        return None;
    };
    if ctx.env.get_nonempty(&spec.env).is_some() {
        let why = format!("both {} and {var} are set; they are exclusive", spec.env);
        looks.push(Look {
            place,
            found: "set, but so is the plain variable".into(),
        });
        return Some(Outcome::Failed(why));
    }
    // A `_FILE` that names nothing is an error, not a fall-through: the operator asked
    // for that file.
    let path = Path::new(path);
    let (outcome, found) = match read_file(path, ctx, spec) {
        Ok((value, meta)) => {
            let found = ["used (", &shown::path(path).to_cow(), ")", &key_note(spec)].concat();
            let origin = Origin::FileEnv {
                var: var.to_owned(),
                path: path.to_path_buf(),
            };
            let file = Some(FileFacts::from(&meta));
            (
                Outcome::Found(Found {
                    value,
                    origin,
                    file,
                }),
                found,
            )
        }
        Err(why) => {
            let why = if looks_like_a_path(path) {
                format!("${var} names {}: {why}", shown::path(path))
            } else {
                format!(
                    "${var} does not name an existing file, nor one in an existing directory (its value is not shown: it may be a secret put there by mistake)"
                )
            };
            (Outcome::Failed(why.clone()), why)
        }
    };
    looks.push(Look {
        place,
        found: found.into(),
    });
    Some(outcome)
}

/// Whether an `X_FILE` value that could not be read may be shown in a message: only when
/// it is a path, not a value put into `X_FILE` by mistake. It is one when it names
/// something that exists, or when it is absolute and its directory (other than `/`)
/// exists: a mistyped `/run/secrets/db_pasword` is shown, `hunter2`, `s3cr3t/+x==` or
/// `/hunter2` are not. A relative path to nothing is not shown either.
fn looks_like_a_path(path: &Path) -> bool {
    const PATH_MAX: usize = 4096;
    if path.as_os_str().len() > PATH_MAX {
        return false;
    }
    path.symlink_metadata().is_ok()
        || path.is_absolute()
            && path
                .parent()
                .is_some_and(|d| d != Path::new("/") && d.is_dir())
}

/// The `file` source: candidates in the secrets directory, environment subdirectory
/// first. An absent candidate falls through; any other failure stops the search.
fn from_dir(spec: &SecretSpec, ctx: &Context, looks: &mut Vec<Look>) -> Option<Outcome> {
    // Each path is built only when the ones before it were not there.
    for path in file_candidates(spec, ctx) {
        let place = shown::path(&path).to_cow().into_owned();
        let (outcome, found) = match read_file(&path, ctx, spec) {
            Err(FileError::Read(ReadError::NotFound)) => {
                looks.push(Look {
                    place,
                    found: "no such file".into(),
                });
                continue;
            }
            Ok((value, meta)) => {
                let file = Some(FileFacts::from(&meta));
                let origin = Origin::File { path };
                let found = Found {
                    value,
                    origin,
                    file,
                };
                let used = match &spec.key {
                    None => Cow::Borrowed("used"),
                    Some(_) => Cow::Owned(["used", &key_note(spec)].concat()),
                };
                (Outcome::Found(found), used)
            }
            Err(why) => {
                let why = format!("{place}: {why}");
                (Outcome::Failed(why.clone()), why.into())
            }
        };
        looks.push(Look { place, found });
        return Some(outcome);
    }
    None
}

/// The file paths the `file` source tries, in order (SPEC §3.1, §3.4): for each
/// directory (`<secrets_dir>/<environment>` first, if given, then `<secrets_dir>`),
/// the [`file_names`]. Lazy: a path is built when it is reached.
fn file_candidates<'a>(
    spec: &'a SecretSpec,
    ctx: &'a Context,
) -> impl Iterator<Item = PathBuf> + 'a {
    let environment_dir = ctx.environment.map(|e| Cow::Owned(ctx.secrets_dir.join(e)));
    let dirs = environment_dir
        .into_iter()
        .chain(std::iter::once(Cow::Borrowed(ctx.secrets_dir.as_path())));
    dirs.flat_map(move |dir: Cow<'a, Path>| file_names(spec).map(move |name| dir.join(name)))
}

/// The names the `file` source tries in a directory: the manifest's `file:`, or else
/// the secret's name and then its lower case (when that differs; built only when
/// reached).
pub fn file_names(spec: &SecretSpec) -> impl Iterator<Item = Cow<'_, Path>> {
    let first = Cow::Borrowed(spec.file.as_deref().unwrap_or(Path::new(&spec.name)));
    let lower = std::iter::once_with(move || {
        let differs = spec.file.is_none() && spec.name.bytes().any(|b| b.is_ascii_uppercase());
        differs.then(|| Cow::Owned(PathBuf::from(spec.name.to_ascii_lowercase())))
    });
    std::iter::once(first).chain(lower.flatten())
}

/// The `env` source: `$<ENVIRONMENT>_<env>` first, then `$<env>`.
fn from_env(spec: &SecretSpec, ctx: &Context, looks: &mut Vec<Look>) -> Option<Outcome> {
    for var in env_candidates(spec, ctx.environment) {
        let place = ["$", &var].concat();
        match ctx.env.get_nonempty(&var) {
            None => looks.push(Look {
                place,
                found: "not set".into(),
            }),
            Some(raw) => {
                let outcome =
                    match Secret::from_bytes(Zeroizing::new(raw.as_encoded_bytes().to_vec())) {
                        Ok(value) => Outcome::Found(Found {
                            value,
                            origin: Origin::Env { var: var.clone() },
                            file: None,
                        }),
                        Err(why) => Outcome::Failed(format!("${var}: {why}")),
                    };
                looks.push(Look {
                    place,
                    found: match &outcome {
                        Outcome::Found(_) => "used".into(),
                        Outcome::Failed(why) => why.clone().into(),
                        Outcome::Absent => unreachable!(),
                    },
                });
                return Some(outcome);
            }
        }
    }
    None
}

/// The variables the `env` source reads, in order.
pub fn env_candidates(spec: &SecretSpec, environment: Option<&str>) -> Vec<String> {
    let mut v = Vec::with_capacity(2);
    if let Some(prefix) = environment_prefix(environment) {
        v.push(prefix + &spec.env);
    }
    v.push(spec.env.clone());
    v
}

/// What `--environment` puts before a variable's name for the `env` source:
/// `production` → `PRODUCTION_`, `eu-west` → `EU_WEST_`.
pub fn environment_prefix(environment: Option<&str>) -> Option<String> {
    environment.map(|e| format!("{}_", e.to_ascii_uppercase().replace('-', "_")))
}

/// ` (key NAME)` for a secret that takes one field of a JSON file, for `--explain`.
fn key_note(spec: &SecretSpec) -> String {
    spec.key
        .as_ref()
        .map_or_else(String::new, |k| format!(" (key {k:?})"))
}

/// Why a file could not become a value.
enum FileError {
    Read(ReadError),
    Content(&'static str),
    /// The manifest's `key` could not be picked from the file (the key is named; the
    /// file is named by the caller; nothing of the content is).
    Key(String, PickError),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Read(e) => e.fmt(f),
            FileError::Content(why) => f.write_str(why),
            FileError::Key(k, why @ (PickError::NotJson | PickError::NotObject)) => {
                write!(f, "{why}, so key {k:?} cannot be picked from it")
            }
            FileError::Key(k, why) => write!(f, "key {k:?}: {why}"),
        }
    }
}

/// Reads a secret file (SPEC §3.2): safely, capped, trimmed, UTF-8 without NUL; with
/// the manifest's `key`, the file is a JSON object and the value is that field of it.
fn read_file(
    path: &Path,
    ctx: &Context,
    spec: &SecretSpec,
) -> Result<(Secret, Metadata), FileError> {
    let (value, meta) = read_text(path, ctx, spec.trim)?;
    let Some(key) = &spec.key else {
        return Ok((value, meta));
    };
    let mut field =
        json_field::pick(value.expose(), key).map_err(|why| FileError::Key(key.clone(), why))?;
    // A JSON string may spell a NUL (`\u0000`): the same rule as for the file itself.
    let bytes = Zeroizing::new(std::mem::take(&mut *field).into_bytes());
    let value = Secret::from_bytes(bytes).map_err(FileError::Content)?;
    Ok((value, meta))
}

/// A file's text: read safely, capped, trimmed, UTF-8 without NUL.
fn read_text(path: &Path, ctx: &Context, trim: Trim) -> Result<(Secret, Metadata), FileError> {
    let (mut bytes, meta, file) = read_capped_open(path, ctx.max_file_size, ctx.confined.as_ref())
        .map_err(FileError::Read)?;
    ctx.closes.defer(file);
    let keep = trimmed_len(&bytes, trim);
    let start = if trim == Trim::Whitespace {
        bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(keep)
    } else {
        0
    };
    if start > 0 {
        bytes.copy_within(start..keep, 0);
    }
    bytes.truncate(keep - start);
    let value = Secret::from_bytes(bytes).map_err(FileError::Content)?;
    Ok((value, meta))
}

/// Where the value ends once trailing characters are trimmed.
fn trimmed_len(bytes: &[u8], trim: Trim) -> usize {
    match trim {
        Trim::None => bytes.len(),
        // Every trailing `\n`, as `$(<file)` drops them, and also the `\r` of a
        // trailing `\r\n`, which `$(<file)` keeps: a file saved on Windows would
        // otherwise give a password that ends in an invisible `\r`. A lone `\r` stays.
        Trim::Newline => {
            let mut end = bytes.len();
            while end > 0 && bytes[end - 1] == b'\n' {
                end -= 1;
                if end > 0 && bytes[end - 1] == b'\r' {
                    end -= 1;
                }
            }
            end
        }
        Trim::Whitespace => bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newline_trim_drops_trailing_lf_and_crlf_but_not_a_lone_cr() {
        assert_eq!(trimmed_len(b"abc\n\n\r\n", Trim::Newline), 3);
        assert_eq!(trimmed_len(b"abc\r", Trim::Newline), 4);
        assert_eq!(trimmed_len(b"abc \n", Trim::Newline), 4);
        assert_eq!(trimmed_len(b"\n\n", Trim::Newline), 0);
        assert_eq!(trimmed_len(b"abc \t\n", Trim::Whitespace), 3);
        assert_eq!(trimmed_len(b"abc\n", Trim::None), 4);
    }
}
