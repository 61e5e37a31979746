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
fn a_usage_error_is_one_line_on_stderr_with_exit_64_and_nothing_runs() {
    let c = case();
    for (args, line) in [
        (
            &["--bogus", "--", "sh", "-c", "echo RAN"][..],
            "sesame: error: unknown option '--bogus' (see 'sesame --help')\n",
        ),
        (
            &["--log-level", "loud", "--", "sh", "-c", "echo RAN"],
            "sesame: error: --log-level \"loud\": expected error, warn, info or debug (see 'sesame --help')\n",
        ),
        (
            &["check", "--format"],
            "sesame: error: --format needs a value: FORMAT (see 'sesame check --help')\n",
        ),
    ] {
        let r = c.run_raw(&words(args));
        r.code(64);
        assert_eq!(r.stderr, line, "{args:?}");
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
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
