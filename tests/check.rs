//! `sesame check` (SPEC §7) and sesame's own log lines (SPEC §10): reports for people,
//! JSON for machines, silence for HEALTHCHECK, and no value in any of them.

mod common;
use common::Case;

fn case() -> Case {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  DB_PASSWORD:\n    min_length: 12\n  API_KEY:\n    min_length: 40\n  SMTP:\n    required: false\n  MISSING: {}\n");
    c.secret_file("db_password", "db-password-value-1234\n");
    c.secret_env("API_KEY", "api-key-that-is-too-short");
    c.secret_file("leftover_token", "an-unused-secret-file\n");
    c
}

#[test]
fn text_report_has_a_row_per_secret_unused_files_and_counts() {
    let c = case();
    let r = c.run(&["check"]);
    r.code(78);
    let rows: Vec<&str> = r.stdout.lines().collect();
    assert!(
        rows[0].starts_with("NAME") && rows[0].contains("STATUS") && rows[0].contains("SOURCE")
    );
    let row = |name: &str| {
        *rows
            .iter()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no row {name}"))
    };
    assert!(row("DB_PASSWORD ").contains(" ok ") && row("DB_PASSWORD").contains("file "));
    assert!(
        row("API_KEY").contains("invalid")
            && row("API_KEY").contains("env API_KEY")
            && row("API_KEY").contains("too short: 25 characters")
    );
    assert!(row("SMTP").contains("absent"));
    assert!(row("MISSING").contains("missing"));
    assert!(r.stdout.contains("unused") && r.stdout.contains("leftover_token"));
    assert!(
        rows.last().unwrap().contains(
            "4 secrets: 1 ok, 1 invalid, 1 absent, 1 missing; 2 errors, 1 warning; 1 unused file"
        ),
        "{}",
        r.stdout
    );
    // Columns are aligned: every row's STATUS starts at the same offset.
    let col = rows[0].find("STATUS").unwrap();
    for r in &rows[1..rows.len() - 1] {
        assert_eq!(&r[col - 2..col], "  ", "misaligned row {r:?}");
    }
}

/// A manifest that cannot be used still gives `--format json` one object (before, stdout
/// was empty and a program parsing it failed on nothing): `ok: false`, each manifest
/// problem a string of `manifest`, no secrets; stderr as ever, exit 78.
#[test]
fn json_report_of_an_invalid_or_missing_manifest_is_still_one_object() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {min_length: x, bogus: 1}\n");
    let r = c.run(&["check", "--format", "json"]);
    r.code(78).stderr_has("secrets.A.bogus: unknown field");
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["errors"], 2);
    assert_eq!(doc["secrets"], serde_json::json!([]));
    let problems = doc["manifest"].as_array().unwrap();
    assert!(
        problems[0]
            .as_str()
            .unwrap()
            .contains("secrets.A.min_length")
    );
    assert!(problems[1].as_str().unwrap().contains("secrets.A.bogus"));

    let gone = Case::new();
    let _ = std::fs::remove_file(gone.manifest_path());
    let r = gone.run(&["check", "--format", "json"]);
    r.code(78);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert!(
        doc["manifest"][0]
            .as_str()
            .unwrap()
            .ends_with("no such file")
    );
    // Text and --quiet print nothing on stdout, as before.
    assert_eq!(c.run(&["check"]).code(78).stdout, "");
    let quiet = c.run(&["check", "--format", "json", "--quiet"]);
    assert_eq!(quiet.code(78).stdout, "");
}

#[test]
fn json_report_is_machine_readable() {
    let c = case();
    let r = c.run(&["check", "--format", "json"]);
    r.code(78);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["errors"], 2);
    let secrets = doc["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 4);
    assert_eq!(secrets[0]["name"], "DB_PASSWORD");
    assert_eq!(secrets[0]["status"], "ok");
    assert_eq!(secrets[1]["status"], "invalid");
    assert_eq!(secrets[1]["source"], "env API_KEY");
    assert!(
        doc["unused"][0]
            .as_str()
            .unwrap()
            .ends_with("leftover_token")
    );
}

#[test]
fn quiet_prints_nothing_and_the_exit_code_tells() {
    let c = case();
    let r = c.run(&["check", "--quiet"]);
    r.code(78);
    assert!(
        r.stdout.is_empty() && r.stderr.is_empty(),
        "stdout {:?} stderr {:?}",
        r.stdout,
        r.stderr
    );
    let mut ok = Case::new();
    ok.manifest("version: 1\nsecrets:\n  A: {}\n");
    ok.secret_file("A", "healthy-secret-value\n");
    let r = ok.run(&["check", "--quiet"]);
    r.code(0);
    assert!(r.stdout.is_empty() && r.stderr.is_empty());
}

#[test]
fn explain_shows_every_place_in_order() {
    let c = case();
    let r = c.run(&["check", "--explain", "DB_PASSWORD"]);
    let d = c.secrets_dir().display().to_string();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "DB_PASSWORD: ok");
    assert!(lines[1].contains("1. $DB_PASSWORD_FILE") && lines[1].ends_with("not set"));
    assert!(
        lines[2].contains(&format!("2. {d}/DB_PASSWORD")) && lines[2].ends_with("no such file")
    );
    assert!(lines[3].contains(&format!("3. {d}/db_password")) && lines[3].ends_with("used"));
    let r = c.run(&["check", "--explain", "MISSING"]);
    r.stdout_has("4. $MISSING").stdout_has("error: missing");
    c.run(&["check", "--explain", "NOPE"])
        .code(64)
        .stderr_has("no such secret");
}

#[test]
fn check_is_a_subcommand_but_double_dash_check_is_a_program() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets: {}\n");
    c.run(&["--", "check"])
        .code(127)
        .stderr_has("check: command not found");
}

#[test]
fn json_logs_one_object_a_line_with_level_message_and_fields() {
    let c = case();
    let r = c.run(&["--log-format", "json", "--", "true"]);
    r.code(78);
    for line in r.stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
    }
    assert!(r.stderr.contains(r#""secret":"API_KEY""#), "{}", r.stderr);
}

#[test]
fn log_levels_filter_and_debug_names_each_source() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {}\n  B:\n    required: false\n");
    c.secret_file("A", "a-secret-for-logging\n");
    let r = c.run(&["--log-level", "debug", "--", "true"]);
    r.code(0).stderr_has(&format!(
        "sesame: debug: A: from file {}/A",
        c.secrets_dir().display()
    ));
    let r = c.run(&["--log-level", "error", "--", "true"]);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let mut c2 = Case::new();
    c2.env("SESAME_LOG", "loud");
    c2.run(&["--", "true"])
        .code(64)
        .stderr_has("SESAME_LOG=\"loud\"");
}

#[test]
fn nothing_planted_leaks_at_any_level_or_format_even_when_everything_fails() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A:\n    pattern: '[0-9]+'\n    format: base64\n    min_entropy_bits: 400\n  B:\n    format: json\n  C:\n    format: rsa-private-key\n  D: {}\n  E: {}\n");
    c.secret_file("A", "Zm9vYmFyYmF6cXV4MTIz-not-digits\n");
    c.secret_file("B", "{\"password\": \"json-inner-secret-value\"\n");
    c.plant("json-inner-secret-value");
    c.secret_file("C", "-----BEGIN RSA PRIVATE KEY-----\nbm90LWEta2V5LXNlY3JldC1ieXRlcw==\n-----END RSA PRIVATE KEY-----\n");
    c.plant("bm90LWEta2V5LXNlY3JldC1ieXRlcw==");
    c.secret_env("D", "duplicated-secret-value");
    c.secret_env("E", "duplicated-secret-value");
    for level in ["error", "warn", "info", "debug"] {
        for format in ["text", "json"] {
            c.run(&["--log-level", level, "--log-format", format, "--", "true"])
                .code(78);
            c.run(&["--log-level", level, "--log-format", format, "check"])
                .code(78);
            c.run(&["--log-level", level, "check", "--format", "json"])
                .code(78);
            c.run(&["check", "--explain", "B"]);
        }
    }
}

/// Runs `sesame check` under a pseudo-terminal (Python's `pty`) and returns its output.
fn check_on_a_terminal(c: &Case, no_color: bool) -> String {
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", "import pty, sys; pty.spawn(sys.argv[1:])"])
        .arg(common::sesame_bin())
        .args([
            "-m",
            c.manifest_path().to_str().unwrap(),
            "-d",
            c.secrets_dir().to_str().unwrap(),
            "check",
        ])
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let c = case();
    let tty = check_on_a_terminal(&c, false);
    assert!(tty.contains("\x1b[32mok\x1b[0m"), "{tty:?}");
    assert!(tty.contains("\x1b[31mmissing\x1b[0m"), "{tty:?}");
    let plain = check_on_a_terminal(&c, true);
    assert!(
        plain.contains("DB_PASSWORD") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    let piped = c.run(&["check"]);
    assert!(!piped.stdout.contains('\x1b'));
    // Alignment holds with colour: the SOURCE column starts at the same offset.
    let lines: Vec<String> = tty
        .lines()
        .map(|l| {
            l.replace("\x1b[32m", "")
                .replace("\x1b[31m", "")
                .replace("\x1b[33m", "")
                .replace("\x1b[2m", "")
                .replace("\x1b[0m", "")
        })
        .collect();
    let col = lines[0].find("SOURCE").unwrap();
    assert!(
        lines
            .iter()
            .skip(1)
            .filter(|l| l.contains("file ") || l.contains("env "))
            .all(|l| &l[col - 2..col] == "  "),
        "{lines:#?}"
    );
}

/// tracing-subscriber's fallback for a line it cannot write is an `eprintln!` to the
/// same stderr, which would panic (exit 70); sesame drops the line and goes on.
#[test]
fn a_log_line_that_cannot_be_written_does_not_stop_sesame() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {}\n  B:\n    required: false\n");
    c.secret_file("A", "a-secret-behind-a-full-disk\n");
    c.wrapper(&["sh", "-c", "exec \"$0\" \"$@\" 2>/dev/full"]);
    for format in ["text", "json"] {
        c.run(&[
            "--log-level",
            "debug",
            "--log-format",
            format,
            "--",
            "sh",
            "-c",
            "exit 7",
        ])
        .code(7);
    }
}

/// `check` exits as the launch would, and refuses what the launch refuses. Before, an
/// `inject.file` below a regular file (`.../not-a-dir/x`) passed `check` (the probe went
/// up to the directory that exists) and failed the launch with 78; and a missing
/// secret with a refused `--user` was 77 in `check` but 78 in the launch, which stops
/// at the secrets before it looks at the user.
#[test]
fn check_and_launch_agree_on_an_inject_file_below_a_file_and_on_errors_with_a_bad_user() {
    let mut c = Case::new();
    let file = c.file("not-a-dir", b"x");
    c.manifest(&format!(
        "version: 1\nsecrets:\n  TOKEN:\n    inject: {{file: {}}}\n",
        file.join("sub/token").display()
    ));
    c.secret_file("TOKEN", "token-value-Qm3x9\n");
    let problem = "a directory on the way is not a directory";
    c.run(&["check"]).code(78).stdout_has(problem);
    c.run(&["--", "true"]).code(78).stderr_has(problem);

    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  ABSENT_ONE: {}\n");
    c.run(&["--user", "ghost-user-x", "check"]).code(78);
    c.run(&["--user", "ghost-user-x", "--", "true"]).code(78);
}
