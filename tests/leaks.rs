//! Leak proofs (issue 6): whatever the manifest, the values, the faults, the log level
//! and format, nothing sesame prints contains a planted value or any 8-byte piece of
//! one. And a panic while holding values prints none of them and exits 70.

mod common;
use common::Case;
use proptest::prelude::*;
use std::fmt;

/// A planted value. Its `Debug` (what proptest prints for a failing case) is redacted,
/// so a failure report never shows it either.
#[derive(Clone)]
struct Planted(String);

impl fmt::Debug for Planted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Planted({} bytes)", self.0.len())
    }
}

/// Where a value is offered to sesame, and what goes wrong with it.
#[derive(Clone, Debug)]
enum Delivery {
    File,
    Env,
    FileEnv,
    /// Invalid UTF-8 appended to the file: the value must still not appear.
    BrokenFile,
    /// Both `X` and `X_FILE` set: exclusive, an error naming both variables.
    Both,
}

#[derive(Clone, Debug)]
struct SecretCase {
    value: Planted,
    delivery: Delivery,
    rules: &'static str,
}

fn value() -> impl Strategy<Value = Planted> {
    prop_oneof![
        // Printable ASCII.
        "[ -~]{8,40}",
        // Any Unicode without NUL or control characters.
        "[^\\x00-\\x1f]{8,24}",
        // Multi-line.
        "[a-z0-9]{4,10}\n[A-Z0-9]{4,10}\n[a-z]{4,8}",
        // Heavy on regex and shell metacharacters.
        "[\\[\\]().*+?^$|\\\\{}'\"`;&<>=a-z]{8,32}",
    ]
    .prop_map(Planted)
}

fn rules() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "{}",
        "{min_length: 64}",
        "{max_length: 9}",
        "{pattern: '[0-9]+'}",
        "{format: base64}",
        "{format: json}",
        "{format: url}",
        "{format: rsa-private-key}",
        "{format: uuid}",
        "{format: port}",
        "{min_entropy_bits: 300}",
        "{required: false}",
    ])
}

fn delivery() -> impl Strategy<Value = Delivery> {
    prop_oneof![
        Just(Delivery::File),
        Just(Delivery::Env),
        Just(Delivery::FileEnv),
        Just(Delivery::BrokenFile),
        Just(Delivery::Both),
    ]
}

fn secret_case() -> impl Strategy<Value = SecretCase> {
    (value(), delivery(), rules()).prop_map(|(value, delivery, rules)| SecretCase {
        value,
        delivery,
        rules,
    })
}

/// Every 8-byte window of every planted value (whole values are checked by the harness).
fn windows(values: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for v in values {
        let b = v.as_bytes();
        if b.len() >= 8 {
            out.extend(b.windows(8).map(<[u8]>::to_vec));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn nothing_sesame_prints_contains_a_planted_value_or_a_piece_of_one(
        secrets in prop::collection::vec(secret_case(), 1..6),
        forbid_first in any::<bool>(),
    ) {
        let mut c = Case::new();
        let mut yaml = String::from("version: 1\nsecrets:\n");
        for (i, s) in secrets.iter().enumerate() {
            let name = format!("S{i}");
            c.plant(&s.value.0);
            let mut rules = s.rules.to_owned();
            if i == 0 && forbid_first && rules == "{}" {
                // The manifest itself holds the value: it must not be echoed back either.
                rules = format!("{{forbid: [{}]}}", serde_json::to_string(&s.value.0).unwrap());
            }
            yaml += &format!("  {name}: {rules}\n");
            let file = c.path().join(format!("elsewhere-{i}"));
            match s.delivery {
                Delivery::File => std::fs::write(c.secrets_dir().join(&name), &s.value.0).unwrap(),
                Delivery::Env => { c.env(&name, &s.value.0); }
                Delivery::FileEnv => {
                    std::fs::write(&file, &s.value.0).unwrap();
                    c.env(&format!("{name}_FILE"), file.as_os_str());
                }
                Delivery::BrokenFile => {
                    let mut bytes = s.value.0.clone().into_bytes();
                    bytes.extend_from_slice(&[0xff, 0xfe]);
                    std::fs::write(c.secrets_dir().join(&name), bytes).unwrap();
                }
                Delivery::Both => {
                    std::fs::write(&file, &s.value.0).unwrap();
                    c.env(&format!("{name}_FILE"), file.as_os_str()).env(&name, &s.value.0);
                }
            }
        }
        c.manifest(&yaml);
        let values: Vec<&str> = secrets.iter().map(|s| s.value.0.as_str()).collect();
        let pieces = windows(&values);
        for level in ["error", "warn", "info", "debug"] {
            for format in ["text", "json"] {
                for args in [
                    vec!["--log-level", level, "--log-format", format, "--", "true"],
                    vec!["--log-level", level, "--log-format", format, "check"],
                    vec!["--log-level", level, "check", "--format", format],
                    vec!["--log-level", level, "check", "--explain", "S0"],
                ] {
                    let r = c.run(&args);
                    prop_assert!(matches!(r.code, Some(0 | 78)), "exit {:?}: {}", r.code, r.stderr);
                    for (i, p) in pieces.iter().enumerate() {
                        prop_assert!(!contains(r.stdout.as_bytes(), p) && !contains(r.stderr.as_bytes(), p),
                            "an 8-byte piece (#{i}) of a planted value appeared in sesame's output for {args:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn a_panic_while_holding_secrets_prints_no_value_and_exits_70() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {}\n");
    c.secret_file("A", "value-held-during-a-panic\n");
    c.env("SESAME_TEST_PANIC", "1");
    let r = c.run(&["--", "true"]);
    r.code(70)
        .stderr_has("sesame: error: internal error at src/")
        .stderr_has("(a bug; please report it)");
    assert!(
        !r.stderr.contains("forced panic"),
        "the panic payload is not printed"
    );
}

/// Reads `path` as uid 65534 (another unprivileged process of the same user as sesame).
fn read_as_nobody(path: &str) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "head",
            "-c",
            "4096",
            path,
        ])
        .output()
        .unwrap()
}

#[test]
fn while_it_holds_secrets_the_supervisor_cannot_be_read_by_another_process_of_its_user() {
    if !common::is_root() {
        eprintln!("skipped: needs root for setpriv");
        return;
    }
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {}\n");
    use std::os::unix::fs::PermissionsExt;
    let p = c.secret_file("A", "value-in-a-nondumpable-process\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(c.manifest_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(c.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    c.env("SESAME_FROM_ENV", "x");
    c.wrapper(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]);
    let running = c.spawn(&["--init", "--", "sh", "-c", "touch ready; exec sleep 30"]);
    common::wait_for_file(&c.path().join("ready"));
    let sesame = running.pid();
    let child = common::poll(std::time::Duration::from_secs(10), "the child", || {
        common::children_of(sesame).first().copied()
    });
    for what in ["environ", "mem"] {
        let out = read_as_nobody(&format!("/proc/{sesame}/{what}"));
        assert!(
            !out.status.success(),
            "another uid-65534 process read the supervisor's {what}"
        );
    }
    // The contrast that proves the check can fail: the program itself (dumpable again
    // after execve) is readable by its own user.
    let out = read_as_nobody(&format!("/proc/{child}/environ"));
    assert!(
        out.status.success(),
        "the command's own environ should be readable by its user"
    );
    common::send_signal(sesame, nix::sys::signal::Signal::SIGTERM as i32);
    let r = c.finish(running);
    assert_eq!(r.code, Some(143));
}

// ---- paths in messages (issue 14, item 3) -----------------------------------------

/// The ways sesame reports on secrets: launch in both log formats, `check` as a table
/// and as JSON, and `--explain`.
const REPORTS: [&[&str]; 5] = [
    &["--", "true"],
    &["--log-format", "json", "--", "true"],
    &["check"],
    &["check", "--format", "json"],
    &["check", "--explain", "DB_PASSWORD"],
];

/// A newline, an escape sequence, a bidi override or a byte that is not UTF-8 in a path
/// (here from `X_FILE` and from the secrets directory) is shown escaped in every output:
/// no forged log line, nothing for the terminal to obey, no U+FFFD.
#[test]
fn control_characters_and_bad_bytes_in_paths_are_escaped_in_every_output() {
    use std::os::unix::ffi::OsStrExt;
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  DB_PASSWORD: {}\n  OTHER: {}\n");
    let evil = b"evil\nsesame: info: forged\x1b[2J\xe2\x80\xae\xff";
    let dir = c.path().join(std::ffi::OsStr::from_bytes(evil));
    std::fs::create_dir(&dir).unwrap();
    // A NUL makes the file unusable, so its path is in the error.
    std::fs::write(dir.join("s"), b"a\0b").unwrap();
    c.env("DB_PASSWORD_FILE", dir.join("s").as_os_str());
    for args in REPORTS {
        // The secrets directory (`-d`) is the evil one too: OTHER is looked for there.
        let mut full: Vec<std::ffi::OsString> = vec![
            "-m".into(),
            c.manifest_path().into(),
            "-d".into(),
            dir.clone().into(),
        ];
        full.extend(args.iter().map(std::ffi::OsString::from));
        let r = c.run_raw(&full);
        r.code(78);
        let mut all = format!("{}{}", r.stdout, r.stderr);
        if args.contains(&"json") {
            // JSON doubles the escapes' backslashes.
            all = all.replace("\\\\", "\\");
        }
        assert!(
            !all.lines()
                .any(|l| l.contains("forged") && !l.contains("evil")),
            "a line was forged ({args:?}):\n{all}"
        );
        assert!(
            !all.contains('\x1b'),
            "an escape sequence ({args:?}):\n{all}"
        );
        assert!(!all.contains('\u{202e}'), "a bidi override ({args:?})");
        assert!(!all.contains('\u{fffd}'), "a byte became U+FFFD ({args:?})");
        assert!(
            all.contains("evil\\nsesame: info: forged\\u{1b}[2J\\u{202e}\\xff"),
            "{args:?}:\n{all}"
        );
    }
}

/// Someone put the value itself into `X_FILE`: it names no file, so it is not shown,
/// in any output (not even when it starts with `/`). A mistyped path in an existing
/// directory still is.
#[test]
fn an_x_file_holding_a_value_is_not_shown_but_a_mistyped_path_is() {
    for value in [
        "hunter2-Sup3r/s3cret+Value==",
        "/hunter2-rooted-planted-value",
        "s3cr3t planted value with spaces",
        "/no-such-dir-planted/s3cr3t+x==",
    ] {
        let mut c = Case::new();
        c.manifest("version: 1\nsecrets:\n  DB_PASSWORD: {}\n");
        c.secret_env("DB_PASSWORD_FILE", value);
        for args in REPORTS {
            let r = c.run(args);
            r.code(78);
            let all = format!("{}{}", r.stdout, r.stderr);
            assert!(
                all.contains("$DB_PASSWORD_FILE does not name an existing file"),
                "{args:?}:\n{all}"
            );
        }
    }
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  DB_PASSWORD: {}\n");
    let typo = c.secrets_dir().join("db_pasword");
    c.env("DB_PASSWORD_FILE", typo.as_os_str());
    c.run(&["--", "true"]).code(78).stderr_has(&format!(
        "$DB_PASSWORD_FILE names {}: no such file",
        typo.display()
    ));
}

/// A value typed where a key or a name goes (`{default:hunter2}` without the blank
/// after the colon is a key; `env: MyP@ss` a variable name) is described by its place,
/// never shown: unknown and duplicate keys, secret, variable and environment names,
/// `keep_env`, `on_change_signal`, `required_in` and `--file-env`.
#[test]
fn a_value_written_where_a_key_or_a_name_goes_is_never_shown() {
    let v = "hunter2-Xq7-Zk9";
    let manifests = [
        format!("version: 1\nsecrets:\n  A: {{required: false, default:{v}}}\n"),
        format!("version: 1\nsecrets:\n  A:\n    required: false\n    default {v}: 1\n"),
        format!("version: 1\nsecrets:\n  A: {{default:{v}, default:{v}}}\n"),
        format!("version: 1\nsecrets:\n  \"pw {v}\": {{}}\n"),
        format!("version: 1\nsecrets:\n  A: {{env: \"{v}!\"}}\n"),
        format!("version: 1\nsecrets:\n  A: {{inject: {{env: \"{v}!\"}}}}\n"),
        format!("version: 1\nkeep_env: [\"{v}!\"]\nsecrets:\n  A: {{}}\n"),
        format!("version: 1\nenvironments: [\"{v}!\"]\nsecrets:\n  A: {{}}\n"),
        format!("version: 1\non_change_signal: \"{v}!\"\nsecrets:\n  A: {{}}\n"),
        format!("version: 1\nenvironments: [prod]\nsecrets:\n  A: {{required_in: [\"{v}!\"]}}\n"),
        format!("version: 1\n{v}!: 1\nsecrets:\n  A: {{}}\n"),
    ];
    for m in &manifests {
        let mut c = Case::new();
        c.manifest(m).plant(v);
        for args in [
            &["--", "true"][..],
            &["check"],
            &["check", "--format", "json"],
            &["--log-format", "json", "--", "true"],
        ] {
            let r = c.run(args);
            r.code(78).stderr_has("[not shown]");
            c.assert_no_leak(&r);
        }
    }
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {required: false}\n")
        .plant(v);
    let r = c.run(&["--file-env", &format!("{v}!"), "--", "true"]);
    r.code(64).stderr_has("[not shown]");
    c.assert_no_leak(&r);
}
