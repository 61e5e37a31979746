//! Validation (SPEC §4): every resolved secret against its rules, plus the checks that
//! need all of them at once (duplicate values). The result is a [`Report`] with one
//! [`Verdict`] a secret, which both the launch path and `check` read.
//!
//! Messages name the secret, the rule and the numbers involved, never the value or a
//! piece of it: a failed `pattern` says which pattern, not which character.

use crate::manifest::{Requirement, Rules};
use crate::resolve::{FileFacts, Outcome, Resolved};
use crate::strength;
use std::time::SystemTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Error,
}

/// A secret's overall state, as `check` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Missing,
    Invalid,
    Absent,
    Warning,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::Invalid => "invalid",
            Status::Absent => "absent",
            Status::Warning => "warning",
        }
    }
}

/// One thing wrong (or worth a look) with one secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
}

/// Everything known about one secret after validation.
#[derive(Debug)]
pub struct Verdict<'m> {
    pub resolved: Resolved<'m>,
    pub status: Status,
    pub findings: Vec<Finding>,
}

impl Verdict<'_> {
    pub fn name(&self) -> &str {
        &self.resolved.spec.name
    }
}

/// The verdicts of all secrets, in manifest order, with counts.
#[derive(Debug)]
pub struct Report<'m> {
    pub verdicts: Vec<Verdict<'m>>,
    pub errors: usize,
    pub warnings: usize,
}

/// What validation needs besides the secrets.
pub struct Options<'a> {
    pub environment: Option<&'a str>,
    pub strict: bool,
    pub max_mode: Option<u32>,
    pub now: SystemTime,
}

/// Validates every secret, then the set, and counts.
pub fn validate<'m>(resolved: Vec<Resolved<'m>>, opts: &Options) -> Report<'m> {
    let mut verdicts: Vec<Verdict> = resolved.into_iter().map(|r| judge(r, opts)).collect();
    flag_duplicates(&mut verdicts);
    let (mut errors, mut warnings) = (0, 0);
    for v in &mut verdicts {
        if opts.strict {
            for f in &mut v.findings {
                if f.severity == Severity::Warning {
                    f.severity = Severity::Error;
                    f.message.push_str(" (--strict)");
                }
            }
        }
        errors += v
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        warnings += v
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
        v.status = status(v);
    }
    Report {
        verdicts,
        errors,
        warnings,
    }
}

impl Report<'_> {
    /// Adds an error found after validation (`check`'s look at the `inject.file`s) to
    /// the secret at `index`, and counts it.
    pub fn add_error(&mut self, index: usize, message: String) {
        let v = &mut self.verdicts[index];
        v.findings.push(Finding {
            severity: Severity::Error,
            message,
        });
        v.status = status(v);
        self.errors += 1;
    }
}

fn status(v: &Verdict) -> Status {
    let has = |s| v.findings.iter().any(|f| f.severity == s);
    match v.resolved.outcome {
        Outcome::Absent if v.status == Status::Missing => Status::Missing,
        Outcome::Absent => Status::Absent,
        _ if has(Severity::Error) => Status::Invalid,
        _ if has(Severity::Warning) => Status::Warning,
        _ => Status::Ok,
    }
}

/// The findings for one secret on its own.
fn judge<'m>(resolved: Resolved<'m>, opts: &Options) -> Verdict<'m> {
    let spec = resolved.spec;
    let mut findings = Vec::new();
    let mut status = Status::Ok;
    let mut error = |m: String| Finding {
        severity: Severity::Error,
        message: m,
    };
    match &resolved.outcome {
        Outcome::Absent if spec.is_required(opts.environment) => {
            status = Status::Missing;
            let why = match (&spec.requirement, opts.environment) {
                (Requirement::In(_), Some(e)) => format!(" (required in {e})"),
                _ => String::new(),
            };
            findings.push(error(format!(
                "missing{why} (looked for {})",
                resolved.places()
            )));
        }
        Outcome::Absent => findings.push(Finding {
            severity: Severity::Warning,
            message: format!(
                "optional secret is absent (looked for {})",
                resolved.places()
            ),
        }),
        Outcome::Failed(why) => findings.push(error(why.clone())),
        Outcome::Found(found) => {
            let value = found.value.expose();
            findings.extend(check_rules(value, &spec.rules).into_iter().map(&mut error));
            if strength::is_weak(value) {
                findings.push(Finding {
                    severity: Severity::Warning,
                    message: "looks like a weak or placeholder value".into(),
                });
            }
            if let Some(facts) = &found.file {
                findings.extend(file_warnings(facts, spec.max_age_days, opts));
            }
        }
    }
    Verdict {
        resolved,
        status,
        findings,
    }
}

/// Checks a value against its rules; one message a failed rule.
pub fn check_rules(value: &str, rules: &Rules) -> Vec<String> {
    let mut out = Vec::new();
    let chars = value.chars().count();
    if let Some(min) = rules.min_length
        && chars < min
    {
        out.push(format!(
            "too short: {chars} characters, needs at least {min}"
        ));
    }
    if let Some(max) = rules.max_length
        && chars > max
    {
        out.push(format!(
            "too long: {chars} characters, allows at most {max}"
        ));
    }
    if let Some(p) = &rules.pattern {
        // Matching costs the pattern's size times the value's length: a value longer
        // than the pattern's bound fails unmatched (manifest::PATTERN_BOUNDS).
        if value.len() > p.max_len {
            out.push(format!(
                "too long to match against pattern {:?}: {} bytes, a pattern this complex is matched against at most {}",
                p.source,
                value.len(),
                p.max_len
            ));
        } else if !p.regex.is_match(value) {
            out.push(format!("does not match pattern {:?}", p.source));
        }
    }
    if let Some(format) = rules.format {
        match format.check(value) {
            Err(why) => out.push(format!("format {}: {why}", format.name())),
            Ok(facts) => {
                if let (Some(want), Some(got)) = (rules.decoded_bytes, facts.decoded_len)
                    && want != got
                {
                    out.push(format!("decodes to {got} bytes, needs exactly {want}"));
                }
                if let (Some(min), Some(bits)) = (rules.min_key_bits, facts.key_bits)
                    && bits < min
                {
                    out.push(format!("RSA key has {bits} bits, needs at least {min}"));
                }
            }
        }
    }
    if let Some(min) = rules.min_entropy_bits {
        let bits = strength::entropy_bits(value);
        if bits < min {
            out.push(format!(
                "too predictable: estimated {bits:.0} bits of entropy, needs at least {min}"
            ));
        }
    }
    if rules.forbid.iter().any(|f| f == value) {
        out.push("is one of the values the manifest forbids".into());
    }
    out
}

/// Warnings about the file a value came from: its age and its mode.
fn file_warnings(facts: &FileFacts, max_age_days: Option<u32>, opts: &Options) -> Vec<Finding> {
    let mut out = Vec::new();
    let warn = |m: String| Finding {
        severity: Severity::Warning,
        message: m,
    };
    if let Some(days) = max_age_days
        && let Some(modified) = facts.modified
        && let Ok(age) = opts.now.duration_since(modified)
    {
        let age_days = age.as_secs() / 86_400;
        if age_days > u64::from(days) {
            out.push(warn(format!(
                "file is {age_days} days old, max_age_days is {days}: rotate it"
            )));
        }
    }
    if let Some(max) = opts.max_mode {
        let mode = facts.mode;
        if mode & !max != 0 {
            out.push(warn(format!(
                "file mode {mode:04o} allows more than max_mode {max:04o}"
            )));
        }
    }
    out
}

/// Two secrets with the same (non-empty) value: a warning on each, naming the other.
fn flag_duplicates(verdicts: &mut [Verdict]) {
    let pairs = crate::repeats(verdicts, |v| match &v.resolved.outcome {
        Outcome::Found(f) if !f.value.expose().is_empty() => Some(f.value.expose()),
        _ => None,
    });
    for (a, b) in pairs {
        let (na, nb) = (verdicts[a].name().to_owned(), verdicts[b].name().to_owned());
        for (i, other) in [(a, nb), (b, na)] {
            verdicts[i].findings.push(Finding {
                severity: Severity::Warning,
                message: format!("has the same value as {other}"),
            });
        }
    }
}
