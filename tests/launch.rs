//! Launching: secrets reach the real program by exec, and failures exit with the
//! documented codes before the program ever starts.

mod common;
use common::Case;

const M: &str = "version: 1\nsecrets:\n  DB_PASSWORD:\n    min_length: 8\n  API_KEY: {}\n";

#[test]
fn secrets_from_file_and_env_reach_the_program() {
    let mut c = Case::new();
    c.manifest(M);
    c.secret_file("db_password", "s3cret-db-Pa55word\n");
    c.secret_env("API_KEY", "api-key-from-the-environment");
    c.child_prints_secrets();
    let r = c.run(&[
        "--",
        "sh",
        "-c",
        "printf '%s|%s' \"$DB_PASSWORD\" \"$API_KEY\"",
    ]);
    r.code(0)
        .stderr_has("sesame: info: 2 secrets ready (1 file, 1 env)");
    r.stdout_is_secretly("s3cret-db-Pa55word|api-key-from-the-environment");
}

#[test]
fn missing_required_secret_exits_78_and_names_every_place_looked() {
    let mut c = Case::new();
    c.manifest(M);
    c.secret_file("db_password", "another-long-password\n");
    let r = c.run(&["--", "sh", "-c", "echo started; touch started"]);
    r.code(78).stderr_has(&format!(
        "sesame: error: API_KEY: missing (looked for $API_KEY_FILE, {0}/API_KEY, {0}/api_key, $API_KEY)",
        c.secrets_dir().display()
    ));
    assert!(!r.stdout.contains("started"), "the command must not run");
    assert!(!c.path().join("started").exists());
}

#[test]
fn command_not_found_is_127_and_not_executable_is_126() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets: {}\n");
    c.run(&["--", "no-such-program-xyz"])
        .code(127)
        .stderr_has("sesame: error: no-such-program-xyz: command not found");
    let script = c.file("noexec.sh", b"#!/bin/sh\necho hi\n");
    c.run(&["--", script.to_str().unwrap()])
        .code(126)
        .stderr_has("permission denied");
    c.run(&["--", "/"]).code(126);
}

#[test]
fn the_programs_exit_code_is_sesames() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets: {}\n");
    c.run(&["sh", "-c", "exit 42"]).code(42);
}
