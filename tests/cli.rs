//! The command line as a user meets it through the real binary: where help, the version
//! and usage errors are printed and with which exit code, and that the command's
//! arguments reach it byte for byte. The parser's cases are unit tests in `src/cli.rs`.

mod common;

use common::Case;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fn words(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn case() -> Case {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets: {}\n");
    c
}

#[test]
fn help_and_version_go_to_stdout_and_exit_0() {
    let c = case();
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["check", "--help"],
        &["help", "generate"],
    ] {
        let r = c.run_raw(&words(args));
        r.code(0).stdout_has("Usage: sesame");
        assert!(r.stderr.is_empty(), "{args:?}: {}", r.stderr);
    }
    let r = c.run_raw(&words(&["--help"]));
    r.stdout_has("  -m, --manifest <PATH>\n")
        .stdout_has("[env: SESAME_MANIFEST]")
        .stdout_has("Exit codes: the command's own; 64 usage;");
    let r = c.run_raw(&words(&["--version"]));
    r.code(0);
    assert_eq!(r.stdout, format!("sesame {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_usage_error_goes_to_stderr_with_exit_64_and_nothing_runs() {
    let c = case();
    for (args, first_line, tip) in [
        (
            &["--bogus", "--", "sh", "-c", "echo RAN"][..],
            "sesame: error: unexpected argument '--bogus' found\n",
            "Usage: sesame [OPTIONS] [--] COMMAND [ARG]...\n",
        ),
        (
            &["--stritc", "--", "sh", "-c", "echo RAN"][..],
            "sesame: error: unexpected argument '--stritc' found\n",
            "tip: a similar argument exists: '--strict'",
        ),
        (
            &["--log-level", "loud", "--", "sh", "-c", "echo RAN"],
            "sesame: error: invalid value 'loud' for '--log-level <LEVEL>'\n",
            "[possible values: error, warn, info, debug]",
        ),
        (
            &["check", "--format"],
            "sesame: error: a value is required for '--format <FORMAT>' but none was supplied\n",
            "[possible values: text, json]",
        ),
        (
            &["--file-env", "--", "sh", "-c", "echo RAN"],
            "sesame: error: --file-env needs the names to expand, e.g. --file-env 'POSTGRES_*,REDIS_PASSWORD'\n",
            "Usage: sesame [OPTIONS] [--] COMMAND [ARG]...\n",
        ),
    ] {
        let r = c.run_raw(&words(args));
        r.code(64).stderr_has(tip);
        assert!(r.stderr.starts_with(first_line), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
}

#[test]
fn a_bad_sesame_variable_is_a_usage_error_that_names_the_variable() {
    for (var, value, phrase) in [
        (
            "SESAME_STRICT",
            "maybe",
            "SESAME_STRICT=\"maybe\": expected 1, true, yes, on",
        ),
        (
            "SESAME_FILE_ENV",
            "1",
            "SESAME_FILE_ENV \"1\": SESAME_FILE_ENV takes the names",
        ),
        (
            "SESAME_FILE_ENV",
            ",",
            "SESAME_FILE_ENV needs the names to expand",
        ),
        ("SESAME_LOG_FORMAT", "xml", "SESAME_LOG_FORMAT=\"xml\""),
    ] {
        let mut c = case();
        c.env(var, value);
        let r = c.run_raw(&words(&["--", "sh", "-c", "echo RAN"]));
        r.code(64).stderr_has(phrase);
        assert!(r.stdout.is_empty(), "{var}: {}", r.stdout);
    }
    // Empty means unset, and the boolean words are accepted.
    for value in ["", "yes", "off"] {
        let mut c = case();
        c.env("SESAME_STRICT", value);
        c.run(&["--", "true"]).code(0);
    }
}

#[test]
fn the_command_gets_its_arguments_byte_for_byte() {
    let c = case();
    let odd = OsString::from_vec(b"caf\xe9 --strict".to_vec());
    let mut args = words(&["-m"]);
    args.push(c.manifest_path().into());
    args.extend(words(&[
        "sh",
        "-c",
        "printf '%s|' \"$@\" | od -An -c",
        "sh",
        "-m",
        "--",
    ]));
    args.push(odd);
    let r = c.run_raw(&args);
    r.code(0);
    let shown: String = r.stdout.split_whitespace().collect();
    assert_eq!(shown, r"-m|--|caf351--strict|");
}

/// A word of the command line with a newline or an escape sequence, quoted by a usage
/// error (clap's, `--user`'s, `--explain`'s), is escaped: it cannot start a forged line
/// of the log or drive the terminal.
#[test]
fn control_characters_in_arguments_are_escaped_in_every_usage_error() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {required: false}\n");
    let forged = "x\nsesame: info: forged\u{1b}[2J";
    for args in [
        vec![format!("--{forged}")],
        vec!["--log-format".into(), forged.into()],
        vec!["check".into(), "--format".into(), forged.into()],
        vec!["--user".into(), forged.into(), "--".into(), "true".into()],
        vec!["check".into(), "--explain".into(), forged.into()],
    ] {
        let r = c.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(r.code != Some(0), "{args:?}");
        for out in [&r.stdout, &r.stderr] {
            assert!(
                !out.contains('\u{1b}')
                    && !out.lines().any(|l| l.starts_with("sesame: info: forged")),
                "{args:?}:\n{out}"
            );
        }
        assert!(
            r.stderr.contains("x\\nsesame: info: forged\\u{1b}[2J"),
            "{args:?}:\n{}",
            r.stderr
        );
    }
}
