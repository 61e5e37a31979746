//! The bad-input corpus (issue 6): every case is an input, the exit code it must get, a
//! phrase the message must contain, and a bound on time. Nothing may panic (exit 70 or
//! a signal), hang, or print a planted value (the harness checks every byte).

mod common;
use common::Case;
use std::os::unix::fs::symlink;
use std::time::Duration;

/// What to put where before running.
type Setup = fn(&mut Case);

struct Bad {
    name: &'static str,
    setup: Setup,
    args: &'static [&'static str],
    code: i32,
    phrase: &'static str,
}

/// Every case must finish within this, on a loaded two-core machine.
const BOUND: Duration = Duration::from_secs(10);

fn manifest(c: &mut Case, yaml: &str) {
    c.manifest(yaml);
}

fn one_secret(c: &mut Case) {
    c.manifest("version: 1\nsecrets:\n  S: {}\n");
}

fn laughs() -> String {
    let mut y = String::from(
        "version: 1\na0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        y += &format!("a{i}: &a{i} [{refs}]\n");
    }
    y + "secrets: *a9\n"
}

const RUN: &[&str] = &["--", "true"];
const CHECK: &[&str] = &["check"];

fn cases() -> Vec<Bad> {
    vec![
        // ---- manifests that are not manifests ---------------------------------------
        Bad {
            name: "empty manifest",
            setup: |c| manifest(c, ""),
            args: RUN,
            code: 78,
            phrase: "manifest",
        },
        Bad {
            name: "only a comment",
            setup: |c| manifest(c, "# nothing\n"),
            args: RUN,
            code: 78,
            phrase: "manifest",
        },
        Bad {
            name: "a YAML list",
            setup: |c| manifest(c, "- version: 1\n"),
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:1",
        },
        Bad {
            name: "a scalar",
            setup: |c| manifest(c, "hello\n"),
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:1",
        },
        Bad {
            name: "truncated flow mapping",
            setup: |c| manifest(c, "version: 1\nsecrets: {A: {min_length: 3\n"),
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:",
        },
        Bad {
            name: "truncated flow sequence",
            setup: |c| manifest(c, "version: 1\nsources: [file, env\n"),
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:",
        },
        Bad {
            name: "tab indentation",
            setup: |c| manifest(c, "version: 1\nsecrets:\n\tA: {}\n"),
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:3",
        },
        Bad {
            name: "unterminated quote",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  A:\n    pattern: \"abc\n"),
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:",
        },
        Bad {
            name: "version as a string",
            setup: |c| manifest(c, "version: \"one\"\nsecrets: {}\n"),
            args: RUN,
            code: 78,
            phrase: "version",
        },
        Bad {
            name: "version as a float",
            setup: |c| manifest(c, "version: 1.5\nsecrets: {}\n"),
            args: RUN,
            code: 78,
            phrase: "version",
        },
        Bad {
            name: "secrets as a list",
            setup: |c| manifest(c, "version: 1\nsecrets: [A, B]\n"),
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:2",
        },
        Bad {
            name: "secret as a string",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  A: yes\n"),
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:3",
        },
        Bad {
            name: "min_length negative",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  A: {min_length: -1}\n"),
            args: RUN,
            code: 78,
            phrase: "min_length",
        },
        Bad {
            name: "min_length huge",
            setup: |c| {
                manifest(
                    c,
                    "version: 1\nsecrets:\n  A: {min_length: 99999999999999999999999}\n",
                )
            },
            args: RUN,
            code: 78,
            phrase: "min_length",
        },
        Bad {
            name: "forbid not a list",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  A: {forbid: changeme}\n"),
            args: RUN,
            code: 78,
            phrase: "forbid",
        },
        Bad {
            name: "duplicate top-level key",
            setup: |c| manifest(c, "version: 1\nversion: 1\nsecrets: {}\n"),
            args: RUN,
            code: 78,
            phrase: "duplicate",
        },
        Bad {
            name: "duplicate key in flow mapping",
            setup: |c| manifest(c, "version: 1\nsecrets: {A: {}, A: {}}\n"),
            args: RUN,
            code: 78,
            phrase: "duplicate",
        },
        Bad {
            name: "billion laughs",
            setup: |c| manifest(c, &laughs()),
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:",
        },
        Bad {
            name: "deep flow nesting",
            setup: |c| {
                manifest(
                    c,
                    &format!(
                        "version: 1\nsecrets: {}{}\n",
                        "[".repeat(100_000),
                        "]".repeat(100_000)
                    ),
                )
            },
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:2",
        },
        Bad {
            name: "deep block nesting",
            setup: |c| {
                manifest(
                    c,
                    &format!(
                        "version: 1\nsecrets:\n{}",
                        (1..3000)
                            .map(|i| format!("{}a:\n", " ".repeat(i * 2)))
                            .collect::<String>()
                    ),
                )
            },
            args: RUN,
            code: 78,
            phrase: "manifest.yaml:",
        },
        Bad {
            name: "50 MB manifest",
            setup: |c| {
                let f = std::fs::File::create(c.manifest_path()).unwrap();
                f.set_len(50 << 20).unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "larger than the limit of 8388608 bytes",
        },
        Bad {
            name: "manifest not UTF-8",
            setup: |c| {
                std::fs::write(c.manifest_path(), b"version: 1\nsecrets:\n  \xff\xfe: {}\n")
                    .unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "not valid UTF-8",
        },
        Bad {
            name: "manifest with NUL",
            setup: |c| {
                std::fs::write(c.manifest_path(), b"version: 1\0\nsecrets: {}\n").unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "manifest",
        },
        Bad {
            name: "manifest is a directory",
            setup: |c| std::fs::create_dir(c.manifest_path()).unwrap(),
            args: RUN,
            code: 78,
            phrase: "not a regular file (a directory)",
        },
        Bad {
            name: "manifest is a FIFO",
            setup: |c| {
                nix::unistd::mkfifo(&c.manifest_path(), nix::sys::stat::Mode::S_IRWXU).unwrap()
            },
            args: RUN,
            code: 78,
            phrase: "not a regular file (a FIFO)",
        },
        Bad {
            name: "manifest is /dev/zero",
            setup: |c| symlink("/dev/zero", c.manifest_path()).unwrap(),
            args: RUN,
            code: 78,
            phrase: "not a regular file (a character device)",
        },
        Bad {
            name: "manifest is a symlink loop",
            setup: |c| symlink("manifest.yaml", c.manifest_path()).unwrap(),
            args: RUN,
            code: 78,
            phrase: "too many levels of symbolic links",
        },
        // ---- names ---------------------------------------------------------------------
        Bad {
            name: "secret name with a dash",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  DB-PASS: {}\n"),
            args: RUN,
            code: 78,
            phrase: "not a valid secret name",
        },
        Bad {
            name: "secret name with unicode",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  PASSWÖRD: {}\n"),
            args: RUN,
            code: 78,
            phrase: "not a valid secret name",
        },
        Bad {
            name: "empty secret name",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  \"\": {}\n"),
            args: RUN,
            code: 78,
            phrase: "not a valid secret name",
        },
        Bad {
            name: "env name with a space",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  A: {env: \"MY VAR\"}\n"),
            args: RUN,
            code: 78,
            phrase: "not a valid variable name",
        },
        Bad {
            name: "inject as LD_AUDIT",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  A: {inject: {env: LD_AUDIT}}\n"),
            args: RUN,
            code: 78,
            phrase: "refusing to inject LD_AUDIT",
        },
        Bad {
            name: "inject as SESAME_USER",
            setup: |c| {
                manifest(
                    c,
                    "version: 1\nsecrets:\n  A: {inject: {env: SESAME_USER}}\n",
                )
            },
            args: RUN,
            code: 78,
            phrase: "refusing to inject SESAME_USER",
        },
        Bad {
            name: "inject.env with =",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  A: {inject: {env: \"A=B\"}}\n"),
            args: RUN,
            code: 78,
            phrase: "not a valid variable name",
        },
        Bad {
            name: "--file-env BASH_ENV_FILE",
            setup: |c| {
                let f = c.file("x", b"/tmp/x.sh\n");
                c.env("BASH_ENV_FILE", f.as_os_str());
            },
            args: &["--file-env", "BASH_*", "--", "true"],
            code: 78,
            phrase: "refusing to inject BASH_ENV",
        },
        Bad {
            name: "--file-env without names",
            setup: |_| {},
            args: &["--file-env", "--", "true"],
            code: 64,
            phrase: "--file-env needs the names to expand, e.g. --file-env 'POSTGRES_*,REDIS_PASSWORD'",
        },
        Bad {
            name: "--file-env with a bad name",
            setup: |_| {},
            args: &["--file-env", "POSTGRES_*,REDIS-PASSWORD", "--", "true"],
            code: 64,
            phrase: "\"REDIS-PASSWORD\" is not a variable name or glob",
        },
        Bad {
            name: "SESAME_FILE_ENV=1 (the old flag)",
            setup: |c| {
                c.env("SESAME_FILE_ENV", "1");
            },
            args: &["--", "true"],
            code: 64,
            phrase: "it no longer expands every *_FILE variable",
        },
        // ---- secret files --------------------------------------------------------------
        Bad {
            name: "secret is a FIFO",
            setup: |c| {
                one_secret(c);
                nix::unistd::mkfifo(&c.secrets_dir().join("S"), nix::sys::stat::Mode::S_IRWXU)
                    .unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "S: ",
        },
        Bad {
            name: "secret is a socket",
            setup: |c| {
                one_secret(c);
                let l = std::os::unix::net::UnixListener::bind(c.secrets_dir().join("S")).unwrap();
                std::mem::forget(l);
            },
            args: RUN,
            code: 78,
            phrase: "not a regular file (a socket)",
        },
        Bad {
            name: "secret is a directory",
            setup: |c| {
                one_secret(c);
                std::fs::create_dir(c.secrets_dir().join("S")).unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "not a regular file (a directory)",
        },
        Bad {
            name: "secret is /dev/zero via symlink",
            setup: |c| {
                one_secret(c);
                symlink("/dev/zero", c.secrets_dir().join("S")).unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "not a regular file (a character device)",
        },
        Bad {
            name: "secret is /dev/urandom via symlink",
            setup: |c| {
                one_secret(c);
                symlink("/dev/urandom", c.secrets_dir().join("S")).unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "not a regular file (a character device)",
        },
        Bad {
            name: "secret is a symlink loop",
            setup: |c| {
                one_secret(c);
                symlink("T", c.secrets_dir().join("S")).unwrap();
                symlink("S", c.secrets_dir().join("T")).unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "too many levels of symbolic links",
        },
        Bad {
            name: "secret is a dangling symlink",
            setup: |c| {
                one_secret(c);
                symlink("/nonexistent", c.secrets_dir().join("S")).unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "S: missing",
        },
        Bad {
            name: "secret is a sparse 8 GiB file",
            setup: |c| {
                one_secret(c);
                std::fs::File::create(c.secrets_dir().join("S"))
                    .unwrap()
                    .set_len(8 << 30)
                    .unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "larger than the limit of 1048576 bytes",
        },
        Bad {
            name: "secret not UTF-8",
            setup: |c| {
                one_secret(c);
                std::fs::write(c.secrets_dir().join("S"), b"\xc3\x28abc").unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "S: ",
        },
        Bad {
            name: "secret with NUL",
            setup: |c| {
                one_secret(c);
                std::fs::write(c.secrets_dir().join("S"), b"abc\0").unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "contains a NUL byte",
        },
        Bad {
            name: "secret empty, min_length",
            setup: |c| {
                manifest(c, "version: 1\nsecrets:\n  S: {min_length: 1}\n");
                std::fs::write(c.secrets_dir().join("S"), b"").unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "too short: 0 characters",
        },
        Bad {
            name: "secret only newlines, min_length",
            setup: |c| {
                manifest(c, "version: 1\nsecrets:\n  S: {min_length: 1}\n");
                std::fs::write(c.secrets_dir().join("S"), b"\n\r\n\n").unwrap();
            },
            args: RUN,
            code: 78,
            phrase: "too short: 0 characters",
        },
        Bad {
            name: "CRLF secret against a pattern",
            setup: |c| {
                manifest(
                    c,
                    "version: 1\nsecrets:\n  S: {pattern: '[a-z]+', trim: none}\n",
                );
                c.secret_file("S", "crlfvalue\r\n");
            },
            args: RUN,
            code: 78,
            phrase: "does not match pattern",
        },
        Bad {
            name: "_FILE names a directory",
            setup: |c| {
                one_secret(c);
                c.env("S_FILE", "/");
            },
            args: RUN,
            code: 78,
            phrase: "$S_FILE names /: not a regular file (a directory)",
        },
        Bad {
            name: "_FILE names /dev/zero",
            setup: |c| {
                one_secret(c);
                c.env("S_FILE", "/dev/zero");
            },
            args: RUN,
            code: 78,
            phrase: "not a regular file (a character device)",
        },
        Bad {
            name: "_FILE and plain variable both set",
            setup: |c| {
                one_secret(c);
                let f = c.file("f", b"x-value-in-file\n");
                c.plant("x-value-in-file");
                c.env("S_FILE", f.as_os_str());
                c.secret_env("S", "y-value-in-env");
            },
            args: RUN,
            code: 78,
            phrase: "they are exclusive",
        },
        Bad {
            name: "env value not UTF-8",
            setup: |c| {
                one_secret(c);
                c.env(
                    "S",
                    <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(vec![
                        0xff, 0x41,
                    ]),
                );
            },
            args: RUN,
            code: 78,
            phrase: "$S: not valid UTF-8",
        },
        // ---- values that are fine, though odd ------------------------------------------
        Bad {
            name: "env value with newlines and =",
            setup: |c| {
                one_secret(c);
                c.secret_env("S", "line1\nline2=x==");
            },
            args: &[
                "--",
                "sh",
                "-c",
                "[ \"$S\" = \"$(printf 'line1\\nline2=x==')\" ] || exit 9",
            ],
            code: 0,
            phrase: "1 secret ready",
        },
        // ---- commands --------------------------------------------------------------------
        Bad {
            name: "command is a directory",
            setup: |c| manifest(c, "version: 1\nsecrets: {}\n"),
            args: &["--", "/tmp"],
            code: 126,
            phrase: "/tmp: is a directory",
        },
        Bad {
            name: "script without a shebang",
            setup: |c| {
                manifest(c, "version: 1\nsecrets: {}\n");
                let p = c.file("noshebang", b"echo hi\n");
                std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                    .unwrap();
            },
            args: &["--", "./noshebang"],
            code: 126,
            phrase: "exec format error",
        },
        Bad {
            name: "command not found",
            setup: |c| manifest(c, "version: 1\nsecrets: {}\n"),
            args: &["--", "definitely-not-a-command"],
            code: 127,
            phrase: "command not found",
        },
        Bad {
            name: "empty command name",
            setup: |c| manifest(c, "version: 1\nsecrets: {}\n"),
            args: &["--", ""],
            code: 127,
            phrase: "command not found",
        },
        Bad {
            name: "no command at all",
            setup: |c| manifest(c, "version: 1\nsecrets: {}\n"),
            args: &["--"],
            code: 64,
            phrase: "no command given",
        },
        // ---- the command line ------------------------------------------------------------
        Bad {
            name: "unknown option",
            setup: |c| manifest(c, "version: 1\nsecrets: {}\n"),
            args: &["--frobnicate", "--", "true"],
            code: 64,
            phrase: "--frobnicate",
        },
        Bad {
            name: "bad log level",
            setup: |c| manifest(c, "version: 1\nsecrets: {}\n"),
            args: &["--log-level", "chatty", "--", "true"],
            code: 64,
            phrase: "chatty",
        },
        Bad {
            name: "bad SESAME_STRICT",
            setup: |c| {
                manifest(c, "version: 1\nsecrets: {}\n");
                c.env("SESAME_STRICT", "maybe");
            },
            args: RUN,
            code: 64,
            phrase: "SESAME_STRICT",
        },
        Bad {
            name: "bad SESAME_INIT",
            setup: |c| {
                manifest(c, "version: 1\nsecrets: {}\n");
                c.env("SESAME_INIT", "sometimes");
            },
            args: RUN,
            code: 64,
            phrase: "SESAME_INIT",
        },
        Bad {
            name: "check on a broken manifest",
            setup: |c| manifest(c, "version: 1\nsecrets:\n  A: {bogus: 1}\n"),
            args: CHECK,
            code: 78,
            phrase: "bogus",
        },
    ]
}

#[test]
fn bad_input_corpus_gets_clear_errors_and_right_codes_without_hanging() {
    let all = cases();
    assert!(all.len() >= 50, "the corpus has {} cases", all.len());
    let mut failures = Vec::new();
    for case in &all {
        let mut c = Case::new();
        (case.setup)(&mut c);
        c.timeout(BOUND);
        let r = c.run(case.args);
        if r.code != Some(case.code) || !r.stderr.contains(case.phrase) {
            failures.push(format!(
                "{}: code {:?} (want {}), stderr:\n{}",
                case.name, r.code, case.code, r.stderr
            ));
        }
        assert!(r.signal.is_none(), "{}: killed by a signal", case.name);
        assert!(
            !r.stderr.contains("internal error"),
            "{}: panicked",
            case.name
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn a_file_growing_while_read_is_either_read_whole_or_refused() {
    let mut c = Case::new();
    c.manifest("version: 1\nmax_file_size: 64KiB\nsecrets:\n  S: {}\n");
    let p = c.secrets_dir().join("S");
    std::fs::write(&p, b"start").unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (p, stop) = (p.clone(), stop.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = f.write_all(b"abcdefgh");
            }
        })
    };
    for _ in 0..20 {
        let r = c.run(&["--", "true"]);
        assert!(
            matches!(r.code, Some(0 | 78)),
            "code {:?}: {}",
            r.code,
            r.stderr
        );
        if r.code == Some(78) {
            r.stderr_has("larger than the limit of 65536 bytes");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
}

#[test]
fn a_secret_too_large_for_a_variable_is_reported_not_lost() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  BIG: {}\n");
    // 200 KiB is under max_file_size but over MAX_ARG_STRLEN (128 KiB) for one
    // `NAME=value` string: execve says E2BIG, and sesame says what to do about it.
    let mut value = String::new();
    while value.len() < 200 * 1024 {
        value.push_str(&format!("{:08x}", value.len().wrapping_mul(2654435761)));
    }
    c.secret_file("BIG", &value);
    c.run(&["--", "true"])
        .code(126)
        .stderr_has("argument list too long")
        .stderr_has("inject.file");
}

/// Runs sesame in a private mount namespace where /etc is a fresh tmpfs holding only
/// the `passwd` given (or no passwd at all), so the host's files are never touched.
fn with_private_etc(c: &mut Case, passwd: Option<&str>) {
    let script = match passwd {
        Some(text) => {
            let p = c.file("etc-passwd", text.as_bytes());
            format!(
                "mount -t tmpfs none /etc && cp {} /etc/passwd && exec \"$@\"",
                p.display()
            )
        }
        None => "mount -t tmpfs none /etc && exec \"$@\"".to_owned(),
    };
    let script = c.file("private-etc.sh", script.as_bytes());
    let script = script.to_str().unwrap().to_owned();
    c.wrapper(&["unshare", "--mount", "sh", &script]);
}

#[test]
fn bad_user_specs_and_broken_passwd_files_fail_closed_with_77() {
    if !common::is_root() {
        eprintln!("skipped: needs root for --user and mount namespaces");
        return;
    }
    let yaml = "version: 1\nsecrets:\n  S: {}\n";
    let specs: &[(&str, &str)] = &[
        ("4294967296", "4294967296"),
        ("99999999999999999999", "99999999999999999999"),
        ("-1", "-1"),
        ("+8", "+8"),
        (" 7", " 7"),
        ("7 ", "7 "),
        ("app:", "app:"),
        (":app", ":app"),
        ("a:b:c", "a:b:c"),
        ("ｕｓｅｒ", "ｕｓｅｒ"),
        ("no-such-user-xyz", "unknown user"),
        ("root:no-such-group-xyz", "unknown group"),
    ];
    for (spec, phrase) in specs {
        let mut c = Case::new();
        c.manifest(yaml);
        c.secret_file("S", "user-corpus-secret-value\n");
        let r = c.run(&["--user", spec, "--", "touch", "ran"]);
        assert_eq!(r.code, Some(77), "--user {spec:?}: {}", r.stderr);
        assert!(r.stderr.contains(phrase), "--user {spec:?}: {}", r.stderr);
        assert!(
            !c.path().join("ran").exists(),
            "--user {spec:?} ran the command"
        );
    }

    // No /etc/passwd at all: a name cannot be found (77), a numeric uid still works.
    let mut c = Case::new();
    c.manifest(yaml);
    c.secret_file("S", "user-corpus-secret-value\n");
    with_private_etc(&mut c, None);
    c.run(&["--user", "app", "--", "true"])
        .code(77)
        .stderr_has("/etc/passwd does not exist");
    c.run(&["--user", "4321", "--", "true"])
        .code(0)
        .stderr_has("uid 4321 has no entry in /etc/passwd");

    // A passwd full of malformed lines: they are skipped, the good entry is used.
    let mut c = Case::new();
    c.manifest(yaml);
    c.secret_file("S", "user-corpus-secret-value\n");
    with_private_etc(
        &mut c,
        Some(
            "garbage\n::::::\napp:x:notanumber:1:::\n\u{1F4A5}:x:1:1::/:/\napp:x:1000:1000::/home/app:/bin/sh\n",
        ),
    );
    c.run(&["--user", "app", "--", "sh", "-c", "[ \"$(id -u)\" = 1000 ]"])
        .code(0);
}
