//! `--file-env NAMES` (SPEC §3.5): the drop-in for the `file_env VAR [DEFAULT]` calls
//! of docker-library entrypoint scripts. Only the names the user lists (or that match
//! a listed glob) have their `X_FILE` expanded into `X`; every other `*_FILE` variable
//! is left alone, because many are not secrets but paths that programs read
//! themselves (`SSL_CERT_FILE`, `AWS_WEB_IDENTITY_TOKEN_FILE`, `ENV_FILE`, Grafana's
//! `GF_*__FILE`), and expanding those breaks the programs.
//!
//! This module parses the list and selects the variables; reading the files is the
//! `file_env` source of `resolve`, and removing `X_FILE` from the child's environment
//! is `inject`'s job.

use crate::env::Environment;
use crate::manifest::{Manifest, SecretSpec, is_valid_name};

/// The example every usage error about the list shows.
pub const EXAMPLE: &str = "'POSTGRES_*,REDIS_PASSWORD'";

/// Splits `NAMES` (the value of `--file-env` or `SESAME_FILE_ENV`) into its items:
/// comma-separated, each trimmed, empty items dropped. Every item is a variable name
/// in which `*` may stand for any run of characters. `what` names where the list came
/// from (`--file-env`, `SESAME_FILE_ENV`) for the error, which says what to write.
pub fn parse_names(raw: &str, what: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(format!(
            "{what} needs the names to expand, e.g. {what}{}{EXAMPLE}",
            if what.starts_with('-') { " " } else { "=" }
        ));
    }
    // What `--file-env` (a flag) and `SESAME_FILE_ENV=1` meant before it took names:
    // read as a name, `1` is refused below, but `true` or `on` would silently expand
    // nothing. Saying so is the fix for an old compose file.
    if let [old] = &names[..]
        && ["1", "true", "yes", "on", "0", "false", "no", "off"].contains(&old.as_str())
    {
        return Err(format!(
            "{what} {old:?}: {what} takes the names whose X_FILE to expand (it no longer \
             expands every *_FILE variable), e.g. {EXAMPLE}; '*' alone expands them all"
        ));
    }
    for name in &names {
        if !is_pattern(name) {
            return Err(format!(
                "{what}: {} is not a variable name or glob (letters, digits, _ and *, \
                 not starting with a digit; comma-separated, e.g. {EXAMPLE})",
                crate::shown::quoted_name(name)
            ));
        }
    }
    Ok(names)
}

/// `[A-Za-z_*][A-Za-z0-9_*]*`: a variable name in which `*` may stand for anything.
fn is_pattern(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b'*')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'*')
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters (none
/// included) and every other character matches itself. Greedy with one backtrack
/// point, so at most `pattern.len() × name.len()` steps: names come from the
/// environment and are bounded by it.
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    // The last `*` seen, and where in `name` its run currently ends.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            // Let the `*` take one more character and try again after it.
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Every `X` whose `X_FILE` is set (even to the empty string), that matches one of
/// `names`, and that the manifest does not cover (neither reads it nor injects it:
/// the manifest's rules win). In the environment's order.
///
/// These are the `X_FILE` variables `--file-env` removes from the child's
/// environment, as `file_env` unsets them; those set and not empty are also expanded
/// ([`specs`]).
pub fn selected<'e>(names: &[String], manifest: &Manifest, env: &'e Environment) -> Vec<&'e str> {
    if names.is_empty() {
        return Vec::new();
    }
    // Sorted and searched, not scanned: a manifest may have a thousand secrets and the
    // environment a thousand `X_FILE`s.
    let mut covered: Vec<&str> = manifest
        .secrets
        .iter()
        .flat_map(|s| std::iter::once(s.env.as_str()).chain(s.inject_env.as_deref()))
        .collect();
    covered.sort_unstable();
    let covered = |x: &str| covered.binary_search(&x).is_ok();
    let mut out: Vec<&str> = env
        .names()
        .filter_map(|var| var.strip_suffix("_FILE"))
        .filter(|x| is_valid_name(x) && names.iter().any(|p| matches(p, x)) && !covered(x))
        .collect();
    // A variable given twice is one variable (the environment keeps the first).
    let mut seen = std::collections::HashSet::new();
    out.retain(|x| seen.insert(*x));
    out
}

/// The secrets `--file-env` adds: one for each [`selected`] `X` whose `X_FILE` is set
/// and not empty (an empty one names no file, as `file_env`'s `${X_FILE:-}` test says).
pub fn specs(names: &[String], manifest: &Manifest, env: &Environment) -> Vec<SecretSpec> {
    selected(names, manifest, env)
        .into_iter()
        .filter(|x| env.get_nonempty(&[x, "_FILE"].concat()).is_some())
        .map(SecretSpec::from_file_env)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn globs_match_any_run_of_characters() {
        for (p, n) in [
            ("POSTGRES_*", "POSTGRES_PASSWORD"),
            ("POSTGRES_*", "POSTGRES_"),
            ("*", "ANYTHING"),
            ("*_PASSWORD", "DB_PASSWORD"),
            ("A*B*C", "AxxBxxBxC"),
            ("REDIS_PASSWORD", "REDIS_PASSWORD"),
            ("**", "X"),
        ] {
            assert!(matches(p, n), "{p} should match {n}");
        }
        for (p, n) in [
            ("POSTGRES_*", "POSTGRES"),
            ("POSTGRES_*", "MYSQL_PASSWORD"),
            ("REDIS_PASSWORD", "REDIS_PASSWORD2"),
            ("REDIS_PASSWORD", "REDIS_PASSWOR"),
            ("*_PASSWORD", "DB_PASSWORD_HASH"),
            ("A*B*C", "AxxBxx"),
            // Case matters, as it does for variable names.
            ("postgres_*", "POSTGRES_USER"),
        ] {
            assert!(!matches(p, n), "{p} should not match {n}");
        }
    }

    #[test]
    fn the_list_is_comma_separated_trimmed_names_or_globs() {
        assert_eq!(
            parse_names(" POSTGRES_*, REDIS_PASSWORD ,,", "--file-env").unwrap(),
            ["POSTGRES_*", "REDIS_PASSWORD"]
        );
        assert_eq!(parse_names("*", "--file-env").unwrap(), ["*"]);
        let err = parse_names(" , ", "--file-env").unwrap_err();
        assert!(err.contains("--file-env needs the names to expand, e.g. --file-env 'POSTGRES_*"));
        let err = parse_names("", "SESAME_FILE_ENV").unwrap_err();
        assert!(err.contains("e.g. SESAME_FILE_ENV='POSTGRES_*"), "{err}");
        for bad in ["1X", "A-B", "A B", "A=B", "$A", "A?"] {
            let err = parse_names(bad, "--file-env").unwrap_err();
            assert!(
                err.contains("is not a variable name or glob"),
                "{bad}: {err}"
            );
        }
        for old in ["1", "true", "on", "0", "off"] {
            let err = parse_names(old, "SESAME_FILE_ENV").unwrap_err();
            assert!(err.contains("no longer"), "{old}: {err}");
        }
    }

    #[test]
    fn selection_takes_listed_names_with_a_file_variable_and_leaves_the_rest() {
        let env = Environment::from_pairs(
            [
                ("POSTGRES_PASSWORD_FILE", "/run/secrets/pg"),
                ("POSTGRES_USER_FILE", ""),
                ("SSL_CERT_FILE", "/etc/ssl/certs/ca.pem"),
                ("GF_SECURITY_ADMIN_PASSWORD__FILE", "/run/secrets/gf"),
                ("REDIS_PASSWORD", "not a file variable"),
                ("1X_FILE", "/x"),
                ("_FILE", "/x"),
            ]
            .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        );
        let m = Manifest::default();
        let names = vec!["POSTGRES_*".to_owned(), "REDIS_PASSWORD".to_owned()];
        assert_eq!(
            selected(&names, &m, &env),
            ["POSTGRES_PASSWORD", "POSTGRES_USER"]
        );
        let specs: Vec<String> = specs(&names, &m, &env)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(specs, ["POSTGRES_PASSWORD"]);
        // A name the manifest reads or injects keeps the manifest's rules.
        let mut covering = Manifest::default();
        covering
            .secrets
            .push(SecretSpec::from_file_env("POSTGRES_PASSWORD"));
        assert_eq!(selected(&names, &covering, &env), ["POSTGRES_USER"]);
        covering.secrets[0].env = "PGPASS".into();
        assert_eq!(selected(&names, &covering, &env), ["POSTGRES_USER"]);
        // Nothing given, nothing selected; `*` is every valid one.
        assert!(selected(&[], &m, &env).is_empty());
        assert_eq!(
            selected(&["*".to_owned()], &m, &env),
            [
                "POSTGRES_PASSWORD",
                "POSTGRES_USER",
                "SSL_CERT",
                "GF_SECURITY_ADMIN_PASSWORD_"
            ]
        );
    }
}
