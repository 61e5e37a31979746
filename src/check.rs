//! `sesame check` (SPEC §7): the same resolution and validation as a launch, printed as
//! a report instead of acted on. Used by people at a terminal, and by `HEALTHCHECK`
//! with `--quiet`, where only the exit code speaks.

use crate::cli::{CheckArgs, ReportFormat};
use crate::error::{Error, exit};
use crate::resolve::{Context, Found, Origin, Outcome, file_names};
use crate::validate::{Report, Severity, Verdict};
use serde_json::json;
use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Prints the report as asked and returns the exit code.
pub fn print(args: &CheckArgs, report: &Report, ctx: &Context) -> Result<i32, Error> {
    let code = if report.errors == 0 {
        exit::OK
    } else {
        exit::CONFIG
    };
    if args.quiet {
        return Ok(code);
    }
    let text = match (&args.explain, args.format) {
        (Some(name), format) => {
            let v = report
                .verdicts
                .iter()
                .find(|v| v.name() == name)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--explain {}: no such secret in the manifest",
                        crate::shown::text(name)
                    ))
                })?;
            explain(v, format)
        }
        (None, ReportFormat::Text) => table(report, &unused_files(report, ctx), use_colour(ctx)),
        (None, ReportFormat::Json) => as_json(report, &unused_files(report, ctx)),
    };
    let mut out = std::io::stdout().lock();
    // A closed stdout (`sesame check | head -0`) is not sesame's problem to report.
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    Ok(code)
}

/// `check --format json` when there is no report to print: the manifest could not be
/// read or is invalid (exit 78). A program reading the JSON still gets one object, with
/// `ok: false`, no secrets, and each manifest problem as one string of `manifest`; the
/// same lines go to stderr as for every format.
pub fn print_manifest_error(args: &CheckArgs, error: &Error) {
    if args.quiet
        || args.explain.is_some()
        || args.format != ReportFormat::Json
        || !matches!(error, Error::Manifest(_))
    {
        return;
    }
    let text = error.to_string();
    let problems: Vec<&str> = text.lines().collect();
    let doc = json!({
        "ok": false,
        "errors": problems.len(),
        "warnings": 0,
        "manifest": problems,
        "secrets": [],
        "unused": [],
    });
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(format!("{doc}\n").as_bytes())
        .and_then(|_| out.flush());
}

/// Colour only for a person at a terminal, and never when `NO_COLOR` is set and not
/// empty (no-color.org).
fn use_colour(ctx: &Context) -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && ctx.env.get_nonempty("NO_COLOR").is_none()
}

/// The status word, padded to `width`, in its colour when `colour` is on. Padding
/// comes first so the escape codes do not upset the alignment.
fn paint(status: &str, width: usize, colour: bool) -> String {
    let padded = format!("{status:width$}");
    let code = match status {
        "ok" => "32",                  // green
        "warning" | "absent" => "33",  // yellow
        "missing" | "invalid" => "31", // red
        "unused" => "2",               // dim
        _ => return padded,
    };
    if colour {
        format!("\x1b[{code}m{status}\x1b[0m{}", &padded[status.len()..])
    } else {
        padded
    }
}

fn source<'v>(v: &'v Verdict) -> Cow<'v, str> {
    match &v.resolved.outcome {
        // The common case without `format!` (a thousand rows cost a thousand).
        Outcome::Found(Found {
            origin: Origin::File { path },
            ..
        }) => ["file ", &crate::shown::path(path).to_cow()]
            .concat()
            .into(),
        Outcome::Found(f) => f.origin.to_string().into(),
        _ => "-".into(),
    }
}

fn reasons<'v>(v: &'v Verdict) -> Cow<'v, str> {
    match &v.findings[..] {
        [] => "".into(),
        [one] => one.message.as_str().into(),
        many => many
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
            .into(),
    }
}

/// Appends `text` and the spaces that make it `width` characters wide.
fn pad(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    let n = text.chars().count();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
}

/// The aligned text table, one row a secret, then unused files and a summary line.
fn table(report: &Report, unused: &[PathBuf], colour: bool) -> String {
    // Borrowed where it can be: a thousand secrets make a thousand rows.
    let mut rows: Vec<[Cow<str>; 4]> = Vec::with_capacity(report.verdicts.len() + 1);
    rows.push([
        "NAME".into(),
        "STATUS".into(),
        "SOURCE".into(),
        "REASON".into(),
    ]);
    for v in &report.verdicts {
        rows.push([
            v.name().into(),
            v.status.as_str().into(),
            source(v),
            reasons(v),
        ]);
    }
    for p in unused {
        rows.push([
            "-".into(),
            "unused".into(),
            format!("file {}", crate::shown::path(p)).into(),
            "no secret uses this file".into(),
        ]);
    }
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::with_capacity(rows.len() * (w0 + w1 + w2 + 16));
    for (i, r) in rows.iter().enumerate() {
        let start = out.len();
        pad(&mut out, &r[0], w0);
        out.push_str("  ");
        if i > 0 && colour {
            out.push_str(&paint(&r[1], w1, colour));
        } else {
            pad(&mut out, &r[1], w1);
        }
        out.push_str("  ");
        pad(&mut out, &r[2], w2);
        out.push_str("  ");
        out.push_str(&r[3]);
        let line_end = start + out[start..].trim_end().len();
        out.truncate(line_end);
        out.push('\n');
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for v in &report.verdicts {
        match counts.iter_mut().find(|(s, _)| *s == v.status.as_str()) {
            Some((_, n)) => *n += 1,
            None => counts.push((v.status.as_str(), 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let n = report.verdicts.len();
    out.push_str(&format!(
        "{n} secret{}: {}; {} error{}, {} warning{}{}\n",
        if n == 1 { "" } else { "s" },
        if counts.is_empty() {
            "none".into()
        } else {
            counts.join(", ")
        },
        report.errors,
        if report.errors == 1 { "" } else { "s" },
        report.warnings,
        if report.warnings == 1 { "" } else { "s" },
        if unused.is_empty() {
            String::new()
        } else {
            format!(
                "; {} unused file{}",
                unused.len(),
                if unused.len() == 1 { "" } else { "s" }
            )
        },
    ));
    out
}

fn as_json(report: &Report, unused: &[PathBuf]) -> String {
    let secrets: Vec<_> = report
        .verdicts
        .iter()
        .map(|v| {
            json!({
                "name": v.name(),
                "status": v.status.as_str(),
                "source": match &v.resolved.outcome { Outcome::Found(f) => Some(f.origin.to_string()), _ => None },
                "required": v.resolved.spec.requirement != crate::manifest::Requirement::Optional,
                "problems": v.findings.iter().map(|f| json!({
                    "severity": if f.severity == Severity::Error { "error" } else { "warning" },
                    "message": f.message,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "ok": report.errors == 0,
        "errors": report.errors,
        "warnings": report.warnings,
        "secrets": secrets,
        "unused": unused.iter().map(|p| crate::shown::path(p).to_string()).collect::<Vec<_>>(),
    });
    format!("{doc}\n")
}

/// Every place sesame looked for one secret, in order, and what it found.
fn explain(v: &Verdict, format: ReportFormat) -> String {
    if format == ReportFormat::Json {
        let looks: Vec<_> = v
            .resolved
            .looks
            .iter()
            .map(|l| json!({"place": l.place, "found": l.found}))
            .collect();
        let problems: Vec<_> = v.findings.iter().map(|f| f.message.clone()).collect();
        return format!(
            "{}\n",
            json!({"name": v.name(), "status": v.status.as_str(), "looked": looks, "problems": problems})
        );
    }
    let mut out = format!("{}: {}\n", v.name(), v.status.as_str());
    let w = v
        .resolved
        .looks
        .iter()
        .map(|l| l.place.chars().count())
        .max()
        .unwrap_or(0);
    for (i, l) in v.resolved.looks.iter().enumerate() {
        out.push_str(&format!("  {}. {:w$}  {}\n", i + 1, l.place, l.found));
    }
    if v.resolved.looks.is_empty() {
        out.push_str("  (no source was tried)\n");
    }
    for f in &v.findings {
        let level = if f.severity == Severity::Error {
            "error"
        } else {
            "warning"
        };
        out.push_str(&format!("  {level}: {}\n", f.message));
    }
    out
}

/// Files in the secrets directory that no secret reads (Kubernetes' `..` entries and
/// directories are skipped). Compared by name: each secret's candidates in that
/// directory, in a sorted list (a thousand secrets, a thousand files).
fn unused_files(report: &Report, ctx: &Context) -> Vec<PathBuf> {
    let mut used: Vec<Cow<OsStr>> = Vec::with_capacity(report.verdicts.len() * 2);
    for v in &report.verdicts {
        used.extend(file_names(v.resolved.spec).map(|name| match name {
            Cow::Borrowed(p) => Cow::Borrowed(p.as_os_str()),
            Cow::Owned(p) => Cow::Owned(p.into_os_string()),
        }));
        if let Outcome::Found(f) = &v.resolved.outcome
            && let Some(p) = f.origin.path()
            && p.parent() == Some(ctx.secrets_dir.as_path())
            && let Some(name) = p.file_name()
        {
            used.push(name.into());
        }
    }
    used.sort_unstable();
    let Ok(entries) = std::fs::read_dir(&ctx.secrets_dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            !name.as_encoded_bytes().starts_with(b"..")
                && used
                    .binary_search(&Cow::Borrowed(name.as_os_str()))
                    .is_err()
        })
        .map(|e| e.path())
        .filter(|p| !Path::is_dir(p))
        .collect();
    out.sort();
    out
}
