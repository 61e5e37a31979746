//! The plan: what sesame will look for, where, and how it will judge what it finds,
//! derived once from the settings and the manifest. The start, every `--watch`
//! reload and the list of watched directories all read this one value, so they cannot
//! drift apart (a reload that looked in a different directory, or forgot `--strict`,
//! would accept what the start refused).
//!
//! Below `settings` and `manifest`, above `resolve` and `validate`; `lib` builds it and
//! hands it on.

use crate::env::Environment;
use crate::error::Error;
use crate::file_env;
use crate::manifest::{Manifest, SecretSpec};
use crate::resolve::{self, Context, Outcome};
use crate::settings::{self, Settings};
use crate::validate::{self, Report};
use crate::walk;
use std::borrow::Cow;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

#[derive(Debug)]
pub struct Plan<'m> {
    /// The manifest's secrets, plus the `X_FILE` variables `--file-env` expands.
    /// Borrowed when there are no extras: cloning every spec costs memory at N=1000.
    pub specs: Cow<'m, [SecretSpec]>,
    /// The command line's, else the manifest's `secrets_dir`, else `/run/secrets`.
    pub secrets_dir: PathBuf,
    pub environment: Option<&'m str>,
    pub max_file_size: u64,
    pub remote_timeout: Duration,
    /// `--strict`: every warning is an error.
    pub strict: bool,
    pub max_mode: Option<u32>,
    /// With `--user`, whose directories and links the secret files' paths may pass
    /// through (root's and sesame's own); `None` without.
    pub trust: Option<walk::Trust>,
    /// How to reach Vault (the manifest's `vault:`).
    pub vault: &'m crate::manifest::VaultSettings,
}

impl<'m> Plan<'m> {
    /// The plan for these settings and this manifest. Refuses an `--environment` the
    /// manifest's `environments:` does not list (a typo would otherwise make every
    /// `required_in` secret optional).
    pub fn new(
        settings: &'m Settings,
        manifest: &'m Manifest,
        env: &Environment,
    ) -> Result<Self, Error> {
        if let (Some(e), Some(known)) = (&settings.environment, &manifest.environments)
            && !known.contains(e)
        {
            return Err(Error::Manifest(format!(
                "environment {e:?} is not one of the manifest's environments ({})",
                known.join(", ")
            )));
        }
        let extra = file_env::specs(&settings.file_env, manifest, env);
        let specs = if extra.is_empty() {
            Cow::Borrowed(&manifest.secrets[..])
        } else {
            Cow::Owned(manifest.secrets.iter().cloned().chain(extra).collect())
        };
        Ok(Plan {
            specs,
            secrets_dir: settings
                .secrets_dir
                .clone()
                .or_else(|| manifest.secrets_dir.clone())
                .unwrap_or_else(|| PathBuf::from(settings::DEFAULT_SECRETS_DIR)),
            environment: settings.environment.as_deref(),
            max_file_size: manifest.max_file_size,
            remote_timeout: manifest.remote_timeout,
            strict: settings.strict,
            max_mode: manifest.max_mode,
            trust: settings.user.is_some().then(walk::Trust::current),
            vault: &manifest.vault,
        })
    }

    /// What resolution needs: where to look, in which environment, with what limits.
    /// A new one each time: it collects the secret files read, to close them together.
    pub fn context<'a>(&'a self, env: &'a Environment) -> Context<'a> {
        Context {
            secrets_dir: self.secrets_dir.clone(),
            environment: self.environment,
            env,
            max_file_size: self.max_file_size,
            remote_timeout: self.remote_timeout,
            closes: Default::default(),
            confined: self.trust.map(walk::Confined::new),
            vault: self.vault,
        }
    }

    /// What validation needs, as of now (for `max_age_days`).
    pub fn validate_options(&self) -> validate::Options<'m> {
        validate::Options {
            environment: self.environment,
            strict: self.strict,
            max_mode: self.max_mode,
            now: SystemTime::now(),
        }
    }

    /// Resolves and validates every secret again, as at start (`--watch`). The files
    /// read are closed before this returns.
    pub fn recheck(&self, env: &Environment) -> Report<'_> {
        let ctx = self.context(env);
        validate::validate(
            resolve::resolve_all(&self.specs, &ctx),
            &self.validate_options(),
        )
    }

    /// The directories `--watch` follows: the secrets directory (and the environment's
    /// subdirectory) and the directory of every file a value came from.
    pub fn watched_dirs(&self, report: &Report) -> Vec<PathBuf> {
        let mut dirs = vec![self.secrets_dir.clone()];
        if let Some(e) = self.environment {
            dirs.push(self.secrets_dir.join(e));
        }
        for v in &report.verdicts {
            if let Outcome::Found(f) = &v.resolved.outcome
                && let Some(dir) = f.origin.path().and_then(|p| p.parent())
            {
                dirs.push(dir.to_path_buf());
            }
        }
        dirs.sort();
        dirs.dedup();
        dirs.retain(|d| d.is_dir());
        dirs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Options;

    fn settings(opts: Options, vars: &[(&str, &str)]) -> Settings {
        let env = Environment::from_pairs(vars.iter().map(|(k, v)| (k.into(), v.into())));
        Settings::new(&opts, &env).unwrap()
    }

    #[test]
    fn the_secrets_dir_is_the_command_line_s_then_the_manifest_s_then_the_default() {
        let mut manifest = Manifest::default();
        let s = settings(Options::default(), &[]);
        fn dir(s: &Settings, m: &Manifest) -> PathBuf {
            Plan::new(s, m, &Environment::from_pairs([]))
                .unwrap()
                .secrets_dir
        }
        assert_eq!(dir(&s, &manifest), PathBuf::from("/run/secrets"));
        manifest.secrets_dir = Some("/m".into());
        assert_eq!(dir(&s, &manifest), PathBuf::from("/m"));
        let s = settings(Options::default(), &[("SESAME_SECRETS_DIR", "/v")]);
        assert_eq!(dir(&s, &manifest), PathBuf::from("/v"));
        let opts = Options {
            secrets_dir: Some("/c".into()),
            ..Options::default()
        };
        let s = settings(opts, &[("SESAME_SECRETS_DIR", "/v")]);
        assert_eq!(dir(&s, &manifest), PathBuf::from("/c"));
    }

    #[test]
    fn an_environment_the_manifest_does_not_list_is_refused() {
        let env = Environment::from_pairs([]);
        let manifest = Manifest {
            environments: Some(vec!["prod".into()]),
            ..Manifest::default()
        };
        let s = settings(Options::default(), &[("SESAME_ENVIRONMENT", "prd")]);
        let err = Plan::new(&s, &manifest, &env).unwrap_err();
        assert!(err.to_string().contains("\"prd\" is not one of"), "{err}");
        let s = settings(Options::default(), &[("SESAME_ENVIRONMENT", "prod")]);
        let plan = Plan::new(&s, &manifest, &env).unwrap();
        assert_eq!(plan.environment, Some("prod"));
        assert_eq!(plan.validate_options().environment, Some("prod"));
    }

    #[test]
    fn strict_reaches_validation() {
        let env = Environment::from_pairs([]);
        let manifest = Manifest::default();
        let s = settings(Options::default(), &[("SESAME_STRICT", "yes")]);
        assert!(
            Plan::new(&s, &manifest, &env)
                .unwrap()
                .validate_options()
                .strict
        );
    }
}
