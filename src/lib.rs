//! sesame: resolve, validate and inject secrets, then run the real program.
//!
//! The data flows one way, one module a stage:
//!
//! ```text
//! cli + settings ─▶ manifest ─▶ plan ─▶ resolve ─▶ validate ─▶ inject ─▶ launch (exec)
//!                                          │           │                 └▶ init (supervise,
//!                                          │           └▶ check (report)       + watch)
//!                                          └▶ generate (create what does not resolve)
//! ```
//!
//! `plan` is built once from the settings and the manifest (which secrets, where, how
//! judged); the start and every `--watch` reload use the same one.
//!
//! `read` opens files that may be FIFOs, devices or worse; `walk` walks a path for root
//! one component at a time, refusing what someone else could have changed; `secret` is
//! the value type that cannot be printed; `formats` and `strength` are validation's
//! checkers; `user` reads `/etc/passwd` and drops privileges; `error` maps every failure
//! to its exit code; `log` writes sesame's own lines to stderr.

#[cfg(feature = "aws")]
pub mod aws;
pub mod check;
pub mod cli;
pub mod env;
pub mod error;
pub mod file_env;
pub mod formats;
pub mod generate;
/// The HTTP and TLS client the remote sources share (features `aws`, `vault`).
#[cfg(any(feature = "aws", feature = "vault"))]
pub mod http;
pub mod init;
pub mod inject;
pub mod json_field;
pub mod launch;
pub mod log;
pub mod manifest;
pub mod plan;
pub mod read;
pub mod resolve;
pub mod secret;
pub mod settings;
pub mod shown;
pub mod stage;
pub mod strength;
pub mod user;
pub mod validate;
#[cfg(feature = "vault")]
pub mod vault;
pub mod walk;
pub mod watch;
pub mod wipe_alloc;
pub mod yaml;

use cli::{Action, Cli};
use env::Environment;
use error::{Error, exit};
use manifest::Manifest;
use plan::Plan;
use resolve::Outcome;
use settings::{InitMode, Settings};
use validate::{Report, Severity};

/// Every `(first, later)` pair of indices of `items` whose `key` is the same (and not
/// `None`), in the order of `later`. Found by sorting, not hashing: n log n comparisons
/// that stop at the first differing byte, and no table of keys (some are secret values).
/// Duplicate manifest keys, inject targets and secret values are all found this way.
pub(crate) fn repeats<'a, T, K: Ord>(
    items: &'a [T],
    key: impl Fn(&'a T) -> Option<K>,
) -> Vec<(usize, usize)> {
    let mut keyed: Vec<(K, usize)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| Some((key(item)?, i)))
        .collect();
    keyed.sort_unstable();
    let mut pairs: Vec<(usize, usize)> = keyed
        .chunk_by(|a, b| a.0 == b.0)
        .flat_map(|group| group[1..].iter().map(|&(_, later)| (group[0].1, later)))
        .collect();
    pairs.sort_unstable_by_key(|&(_, later)| later);
    pairs
}

/// Runs sesame with the process's arguments and environment; returns the exit code
/// (when it returns at all: a successful launch replaces the process).
pub fn run() -> i32 {
    install_panic_hook();
    // As PID 1, signals are held from the first moment (`init::hold_signals`): the
    // kernel drops those PID 1 has no handler for, and a `docker stop` that came while
    // sesame parsed its command line would be lost. Released below unless sesame will
    // supervise.
    let pid1 = init::is_pid1();
    if pid1 {
        init::hold_signals();
    }
    // A closed stderr (or stdout for `check`) must not kill sesame with SIGPIPE before
    // the command starts; the command gets the inherited disposition back before exec.
    init::ignore_sigpipe();
    // While sesame holds secrets, no other process of the same uid may ptrace it or
    // read its memory, and it leaves no core dump. `execve` resets this for the child.
    let _ = nix::sys::prctl::set_dumpable(false);
    if let Err(e) = refuse_setuid() {
        say(&format!("sesame: error: {e}"));
        return e.exit_code();
    }

    let cli = match Cli::parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version on stdout (exit 0); a usage error on stderr (exit 64).
            e.print();
            return e.exit_code();
        }
    };
    let env = Environment::capture();
    let settings = match Settings::new(&cli.options, &env) {
        Ok(s) => s,
        Err(e) => {
            say(&format!("sesame: error: {e}"));
            return e.exit_code();
        }
    };
    let quiet = matches!(&cli.action, Some(Action::Check(c)) if c.quiet);
    log::init(settings.log_format, (!quiet).then_some(settings.log_level));
    // Only a launch that will supervise keeps them held: signals sent while sesame
    // resolves then wait for the command instead of vanishing.
    if pid1 && !(cli.action.is_none() && settings.init != InitMode::Never) {
        init::release_signals();
    }

    match main_job(&cli, &settings, env) {
        Ok(code) => code,
        Err(e) => {
            // One log line a problem (a manifest error may list several).
            for line in e.to_string().lines() {
                tracing::error!("{line}");
            }
            e.exit_code()
        }
    }
}

/// Writes one line to stderr, ignoring failure: a closed stderr must neither kill nor
/// panic sesame (`eprintln!` panics when the write fails).
fn say(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all([line, "\n"].concat().as_bytes());
}

/// A setuid or setgid sesame would let any user read root-only secrets and pick
/// `--user`: refuse to run at all when the real and effective ids differ (gosu does
/// the same).
fn refuse_setuid() -> Result<(), Error> {
    use nix::unistd::{getegid, geteuid, getgid, getuid};
    if getuid() != geteuid() || getgid() != getegid() {
        return Err(Error::Privilege(
            "sesame is installed setuid or setgid; refusing to run (remove the bit: chmod u-s,g-s)"
                .into(),
        ));
    }
    Ok(())
}

/// Prints a panic as an internal error without its payload (which could quote data)
/// and exits 70, as SPEC §9 says a bug should.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        say(&format!(
            "sesame: error: internal error{at} (a bug; please report it)"
        ));
        std::process::exit(exit::INTERNAL);
    }));
}

fn load_manifest(settings: &Settings) -> Result<Manifest, Error> {
    if !settings.file_env.is_empty() && !settings.manifest_named && !settings.manifest.exists() {
        return Ok(Manifest::default());
    }
    // With --user, the manifest decides which files root reads for the user and where
    // root writes: the user must not be able to change it, nor anything on its path.
    // What is read is the file that was checked (its descriptor), and a manifest the
    // walk does not find is not looked for again by name: in a sticky directory such as
    // /tmp the user could create it in between.
    if settings.user.is_some() {
        return match walk::open_unchangeable(&settings.manifest, &walk::Trust::current()) {
            Ok(file) => Manifest::load_opened(&settings.manifest, file),
            Err(e) => Err(Error::Manifest(format!(
                "manifest {}: {e}",
                crate::shown::path(&settings.manifest)
            ))),
        };
    }
    Manifest::load(&settings.manifest)
}

/// Everything after argument parsing: manifest, resolution, validation, then either
/// the report of `check` or the launch.
/// It owns the environment snapshot so that `launch` can zero it once the child's
/// environment is built (it holds the values of secrets taken from variables).
fn main_job(cli: &Cli, settings: &Settings, env: Environment) -> Result<i32, Error> {
    if let Some(Action::Schema) = &cli.action {
        use std::io::Write;
        // A closed stdout is the reader's choice, not an error (and never a panic).
        let _ = std::io::stdout().write_all(manifest::SCHEMA.as_bytes());
        return Ok(exit::OK);
    }
    let command = match (&cli.action, cli.command_line()) {
        (Some(_), _) => None,
        (None, Some(argv)) => Some(argv),
        (None, None) => {
            return Err(Error::Usage(
                "no command given (usage: sesame [OPTIONS] [--] COMMAND [ARG]...; see --help)"
                    .into(),
            ));
        }
    };
    // `check --format json` prints an object even when there is no report to print.
    let for_check = |e: &Error| {
        if let Some(Action::Check(args)) = &cli.action {
            check::print_manifest_error(args, e);
        }
    };
    let manifest = load_manifest(settings).inspect_err(for_check)?;
    let plan = Plan::new(settings, &manifest, &env).inspect_err(for_check)?;
    let ctx = plan.context(&env);
    let resolved = resolve::resolve_all(&plan.specs, &ctx);
    #[cfg(debug_assertions)]
    fault_injection::panic_if_asked(&env, &resolved);
    if let Some(Action::Generate(args)) = &cli.action {
        return generate::run(args, &resolved, &ctx.secrets_dir);
    }
    let mut report = validate::validate(resolved, &plan.validate_options());

    if let Some(Action::Check(args)) = &cli.action {
        // What the launch would refuse besides the secrets, all of it, writing nothing:
        // the `--user` (exit 77, as the launch) and every `inject.file` it could not write.
        let user = settings
            .user
            .as_deref()
            .map(user_identity)
            .and_then(Result::err);
        // The launch stops at the secrets (78) before it looks at the user: so does
        // check's exit code, which says how the launch would end.
        let secrets_failed = report.errors > 0;
        for (i, problem) in inject::file_problems(&report) {
            report.add_error(i, problem);
        }
        let code = check::print(args, &report, &ctx)?;
        return Ok(match user {
            Some(e) => {
                tracing::error!("{e}");
                if secrets_failed { code } else { e.exit_code() }
            }
            None => code,
        });
    }
    log_findings(&report);
    if report.errors > 0 {
        return Err(Error::Secrets {
            errors: report.errors,
        });
    }
    log_summary(&report);
    // Closes the secret files still open (a supervisor must not hold them).
    drop(ctx);
    let ready = launch(
        settings,
        &manifest,
        &plan,
        env,
        report,
        command.unwrap_or_default(),
    )?;
    // From here on the values live in `cmd` only: the manifest's `default:` values go
    // (zeroed) before a supervisor runs for the command's lifetime, and the plan with
    // them (its specs are the manifest's, or copies of them with --file-env).
    drop(plan);
    drop(manifest);
    start(settings, ready)
}

/// Injects the secrets and starts the command (SPEC §5.1–5.3), in this order:
/// resolve the `--user` identity, write `inject.file`s owned by it, build the child's
/// environment (with the identity's `HOME`), drop privileges, then either replace
/// sesame with the command (exec) or supervise it (init). The secrets were read while
/// sesame was still root, so a file only root can read can feed an unprivileged program.
///
/// With `--watch` it supervises and never returns; otherwise it returns the command,
/// the identity to become and whether to supervise, for [`start`], once the caller has
/// let go of the manifest.
fn launch(
    settings: &Settings,
    manifest: &Manifest,
    plan: &Plan,
    env: Environment,
    report: Report,
    argv: &[std::ffi::OsString],
) -> Result<Ready, Error> {
    let identity = settings.user.as_deref().map(user_identity).transpose()?;
    let supervise = match settings.init {
        InitMode::Always => true,
        InitMode::Never => false,
        InitMode::Auto => init::is_pid1(),
    };
    if settings.watch && !supervise {
        return Err(Error::Usage(
            "--watch needs init mode (--init, or sesame as PID 1): in exec mode nothing is left to watch".into(),
        ));
    }
    let cmd = command_for(settings, manifest, &env, &report, argv, identity.as_ref())?;
    if settings.watch {
        // The supervisor stays as it is (root, with --user) so that it can read
        // root-only secrets again when they rotate; the child drops after the fork.
        let dirs = plan.watched_dirs(&report);
        let current = watch::fingerprints(&report);
        drop(report);
        let reload = Box::new(|| reload(settings, manifest, plan, &env, argv, identity.as_ref()));
        let watcher = watch::Watch::new(
            &dirs,
            current,
            manifest.on_change,
            manifest.on_change_signal,
            manifest.restart_grace,
            reload,
        )
        .map_err(|e| Error::Internal(format!("inotify: {e}")))?;
        let opts = init::Options {
            signal_group: settings.signal_group,
            child_user: identity.clone(),
            no_new_privs: manifest.no_new_privs,
        };
        init::supervise(cmd, opts, Some(watcher))
    }
    drop(report);
    drop(env);
    Ok(Ready {
        cmd,
        identity,
        supervise,
        no_new_privs: manifest.no_new_privs,
    })
}

/// What [`start`] needs, and nothing of the manifest: the command (which holds the
/// values), whom to become, and how.
struct Ready {
    cmd: launch::Command,
    identity: Option<user::Identity>,
    supervise: bool,
    no_new_privs: bool,
}

/// Drops privileges, then supervises the command (init) or becomes it (exec).
fn start(settings: &Settings, ready: Ready) -> Result<i32, Error> {
    let Ready {
        cmd,
        identity,
        supervise,
        no_new_privs,
    } = ready;
    if let Some(id) = &identity {
        user::become_user(id).map_err(|e| Error::Privilege(e.to_string()))?;
        if no_new_privs {
            user::forbid_new_privileges().map_err(|e| Error::Privilege(e.to_string()))?;
        }
    }
    if supervise {
        init::supervise(
            cmd,
            init::Options {
                signal_group: settings.signal_group,
                child_user: None,
                no_new_privs: false,
            },
            None,
        )
    }
    init::restore_inherited_dispositions();
    Err(cmd.exec())
}

/// Writes the `inject.file`s (owned by the `--user`) and builds the command with the
/// child's environment (and the identity's `HOME`).
fn command_for(
    settings: &Settings,
    manifest: &Manifest,
    env: &Environment,
    report: &Report,
    argv: &[std::ffi::OsString],
    identity: Option<&user::Identity>,
) -> Result<launch::Command, Error> {
    inject::write_files(report, identity.map(|id| (id.uid, id.gid)))?;
    let file_env = file_env::selected(&settings.file_env, manifest, env);
    let mut child_env = inject::child_environment(
        manifest,
        env,
        report,
        settings.environment.as_deref(),
        &file_env,
    );
    if let Some(id) = identity {
        child_env.set("HOME", &id.home);
    }
    launch::Command::new(argv, child_env)
}

/// `--watch`: resolve and validate everything again, with the plan of the start.
fn reload(
    settings: &Settings,
    manifest: &Manifest,
    plan: &Plan,
    env: &Environment,
    argv: &[std::ffi::OsString],
    identity: Option<&user::Identity>,
) -> watch::Reload {
    let report = plan.recheck(env);
    log_findings(&report);
    if report.errors > 0 {
        return watch::Reload::Invalid;
    }
    match command_for(settings, manifest, env, &report, argv, identity) {
        Ok(cmd) => watch::Reload::Valid(watch::fingerprints(&report), cmd),
        Err(e) => {
            tracing::error!("{e}");
            watch::Reload::Invalid
        }
    }
}

/// The identity `--user SPEC` names, or why sesame must not start (exit 77). Being
/// root is checked first: without it no spec could work, and saying so is the fix.
fn user_identity(raw: &str) -> Result<user::Identity, Error> {
    // Shown escaped: a newline in the spec must not start a line of the log.
    let spec = crate::shown::text(raw);
    let euid = nix::unistd::geteuid().as_raw();
    if euid != 0 {
        return Err(Error::Privilege(format!(
            "--user {spec}: {}",
            user::DropError::NotRoot { euid }
        )));
    }
    let parsed: user::UserSpec = raw
        .parse()
        .map_err(|e| Error::Privilege(format!("--user {spec}: {e}")))?;
    let (identity, warnings) = user::resolve_system(&parsed)
        .map_err(|e| Error::Privilege(format!("--user {spec}: {e}")))?;
    for w in warnings {
        tracing::warn!("--user {spec}: {w}");
    }
    Ok(identity)
}

/// Debug builds only: a way for the tests to prove that a panic while sesame holds
/// secrets prints no value and exits 70. The release binary contains none of this.
#[cfg(debug_assertions)]
mod fault_injection {
    use crate::env::Environment;
    use crate::resolve::{Outcome, Resolved};

    /// With `SESAME_TEST_PANIC=1`, panics with a message that quotes a resolved value,
    /// the worst case for the panic hook to handle.
    pub fn panic_if_asked(env: &Environment, resolved: &[Resolved]) {
        if env.get("SESAME_TEST_PANIC").is_some_and(|v| v == "1") {
            let value = resolved.iter().find_map(|r| match &r.outcome {
                Outcome::Found(f) => Some(f.value.expose().to_owned()),
                _ => None,
            });
            panic!("forced panic holding {value:?}");
        }
    }
}

/// One line a problem: errors first, so they are not lost under warnings.
fn log_findings(report: &Report) {
    for severity in [Severity::Error, Severity::Warning] {
        for v in &report.verdicts {
            for f in v.findings.iter().filter(|f| f.severity == severity) {
                match severity {
                    Severity::Error => {
                        tracing::error!(secret = v.name(), "{}: {}", v.name(), f.message)
                    }
                    Severity::Warning => {
                        tracing::warn!(secret = v.name(), "{}: {}", v.name(), f.message)
                    }
                }
            }
        }
    }
}

/// The start-up summary (SPEC §10), and at debug level one line a secret.
fn log_summary(report: &Report) {
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    let mut absent = Vec::new();
    for v in &report.verdicts {
        match &v.resolved.outcome {
            Outcome::Found(f) => {
                tracing::debug!(
                    secret = v.name(),
                    source = f.origin.kind(),
                    "{}: from {}",
                    v.name(),
                    f.origin
                );
                match kinds.iter_mut().find(|(k, _)| *k == f.origin.kind()) {
                    Some((_, n)) => *n += 1,
                    None => kinds.push((f.origin.kind(), 1)),
                }
            }
            _ => absent.push(v.name()),
        }
    }
    let ready: usize = kinds.iter().map(|(_, n)| n).sum();
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let mut line = format!("{ready} secret{} ready", if ready == 1 { "" } else { "s" });
    if !kinds.is_empty() {
        line.push_str(&format!(" ({})", kinds.join(", ")));
    }
    if !absent.is_empty() {
        line.push_str(&format!("; absent: {}", absent.join(", ")));
    }
    tracing::info!(ready, "{line}");
}
