//! Resolution (SPEC §3): every source, in order, with the files that are not what they
//! seem, and what the child finally receives (SPEC §5.1).

mod common;
use common::{Case, is_root};
use std::os::unix::fs::symlink;

const ONE: &str = "version: 1\nsecrets:\n  DB_PASSWORD: {}\n";

/// Runs `env` as the child and returns its output as (name, value) lines.
fn child_env(c: &mut Case, extra: &[&str]) -> (common::Run, Vec<String>) {
    c.child_prints_secrets();
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["--", "env"]);
    let r = c.run(&args);
    let lines = r.stdout.lines().map(str::to_owned).collect();
    (r, lines)
}

fn words(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(Into::into).collect()
}

fn has_var(lines: &[String], entry: &str) -> bool {
    lines.iter().any(|l| l == entry)
}

fn has_name(lines: &[String], name: &str) -> bool {
    lines.iter().any(|l| l.split('=').next() == Some(name))
}

#[test]
fn file_env_variable_wins_and_is_scrubbed() {
    let mut c = Case::new();
    c.manifest(ONE);
    let f = c.file("elsewhere/pw", b"from-the-file-env-path\n");
    c.plant("from-the-file-env-path");
    c.secret_file("DB_PASSWORD", "from-the-secrets-dir\n");
    c.env("DB_PASSWORD_FILE", f.as_os_str());
    let (r, env) = child_env(&mut c, &[]);
    r.code(0);
    assert!(
        has_var(&env, "DB_PASSWORD=from-the-file-env-path"),
        "the _FILE source must win"
    );
    assert!(
        !has_name(&env, "DB_PASSWORD_FILE"),
        "consumed _FILE variable must be scrubbed"
    );
}

#[test]
fn both_variable_and_file_variable_set_is_an_error() {
    let mut c = Case::new();
    c.manifest(ONE);
    let f = c.file("pw", b"value-in-file-1234\n");
    c.plant("value-in-file-1234");
    c.env("DB_PASSWORD_FILE", f.as_os_str())
        .secret_env("DB_PASSWORD", "value-in-env-5678");
    c.run(&["--", "true"]).code(78).stderr_has(
        "DB_PASSWORD: both DB_PASSWORD and DB_PASSWORD_FILE are set; they are exclusive",
    );
}

#[test]
fn file_variable_naming_a_missing_file_is_an_error_not_a_fall_through() {
    let mut c = Case::new();
    c.manifest(ONE);
    c.secret_file("DB_PASSWORD", "would-have-been-found\n");
    // In an existing directory, so it is shown (one that is not may be a value, and is
    // not: tests/leaks.rs).
    let missing = c.path().join("pw");
    c.env("DB_PASSWORD_FILE", missing.as_os_str());
    c.run(&["--", "true"]).code(78).stderr_has(&format!(
        "DB_PASSWORD: $DB_PASSWORD_FILE names {}: no such file",
        missing.display()
    ));
}

#[test]
fn secrets_dir_tries_name_then_lowercase_and_the_file_key() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A_KEY: {}\n  B_KEY:\n    file: custom/b.txt\n");
    c.secret_file("a_key", "lowercase-file-value\n");
    c.secret_file("custom/b.txt", "custom-file-value\n");
    let (r, env) = child_env(&mut c, &[]);
    r.code(0);
    assert!(has_var(&env, "A_KEY=lowercase-file-value"));
    assert!(has_var(&env, "B_KEY=custom-file-value"));
}

#[test]
fn kubernetes_secret_volume_layout_is_followed() {
    let mut c = Case::new();
    c.manifest(ONE);
    let d = c.secrets_dir();
    let ts = d.join("..2026_11_23_12_00_00.000000001");
    std::fs::create_dir(&ts).unwrap();
    std::fs::write(ts.join("db_password"), "k8s-mounted-password\n").unwrap();
    c.plant("k8s-mounted-password");
    symlink("..2026_11_23_12_00_00.000000001", d.join("..data")).unwrap();
    symlink("..data/db_password", d.join("db_password")).unwrap();
    let (r, env) = child_env(&mut c, &[]);
    r.code(0);
    assert!(has_var(&env, "DB_PASSWORD=k8s-mounted-password"));
    // `check` does not list Kubernetes' own `..` entries as unused.
    let r = c.run(&["check"]);
    r.code(0);
    assert!(!r.stdout.contains("unused"), "{}", r.stdout);
}

#[test]
fn environment_prefers_prefixed_variable_and_subdirectory() {
    let mut c = Case::new();
    c.manifest("version: 1\nenvironments: [staging, production]\nsecrets:\n  A: {}\n  B: {}\n");
    c.secret_env("A", "plain-a-value")
        .secret_env("PRODUCTION_A", "production-a-value");
    c.secret_file("B", "plain-b-value\n");
    c.secret_file("production/B", "production-b-value\n");
    let (r, env) = child_env(&mut c, &["-e", "production"]);
    r.code(0);
    assert!(has_var(&env, "A=production-a-value"));
    assert!(has_var(&env, "B=production-b-value"));
    assert!(
        !has_name(&env, "PRODUCTION_A"),
        "prefixed source variable is scrubbed"
    );
    let (r, env) = child_env(&mut c, &["-e", "staging"]);
    r.code(0);
    assert!(has_var(&env, "A=plain-a-value") && has_var(&env, "B=plain-b-value"));
}

#[test]
fn required_in_depends_on_the_environment() {
    let mut c = Case::new();
    c.manifest("version: 1\nenvironments: [development, production]\nsecrets:\n  SMTP:\n    required_in: [production]\n");
    c.run(&["-e", "development", "--", "true"])
        .code(0)
        .stderr_has("absent: SMTP");
    c.run(&["-e", "production", "--", "true"])
        .code(78)
        .stderr_has("SMTP: missing (required in production)");
    c.env("SESAME_ENVIRONMENT", "production");
    c.run(&["--", "true"]).code(78);
}

#[test]
fn sources_order_is_respected() {
    let mut c = Case::new();
    c.manifest("version: 1\nsources: [env, file]\nsecrets:\n  A: {}\n");
    c.secret_file("A", "file-value-aaaa\n");
    c.secret_env("A", "env-value-bbbb");
    let (r, env) = child_env(&mut c, &[]);
    r.code(0);
    assert!(has_var(&env, "A=env-value-bbbb"));
}

#[test]
fn strange_files_are_clear_errors_and_never_hang() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  FIFO: {}\n  DIR: {}\n  ZERO: {}\n  URANDOM: {}\n  LOOP: {}\n  SOCK: {}\n  BIG: {}\n  BIN: {}\n  NUL: {}\n");
    let d = c.secrets_dir();
    nix::unistd::mkfifo(&d.join("FIFO"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    std::fs::create_dir(d.join("DIR")).unwrap();
    symlink("/dev/zero", d.join("ZERO")).unwrap();
    symlink("/dev/urandom", d.join("URANDOM")).unwrap();
    symlink("LOOP", d.join("LOOP")).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(d.join("SOCK")).unwrap();
    let big = std::fs::File::create(d.join("BIG")).unwrap();
    big.set_len(3 << 30).unwrap(); // sparse 3 GiB
    std::fs::write(d.join("BIN"), [0xff, 0xfe, 0x41, 0x42]).unwrap();
    std::fs::write(d.join("NUL"), b"abc\0def").unwrap();
    let r = c.run(&["--", "true"]);
    r.code(78);
    let dir = d.display();
    for line in [
        format!("FIFO: {dir}/FIFO: not a regular file (a FIFO)"),
        format!("DIR: {dir}/DIR: not a regular file (a directory)"),
        format!("ZERO: {dir}/ZERO: not a regular file (a character device)"),
        format!("URANDOM: {dir}/URANDOM: not a regular file (a character device)"),
        format!("LOOP: {dir}/LOOP: too many levels of symbolic links"),
        format!("SOCK: {dir}/SOCK: not a regular file (a socket)"),
        format!("BIG: {dir}/BIG: larger than the limit of 1048576 bytes"),
        format!("BIN: {dir}/BIN: not valid UTF-8"),
        format!("NUL: {dir}/NUL: contains a NUL byte"),
    ] {
        r.stderr_has(&line);
    }
    assert!(r.elapsed.as_secs() < 10);
}

#[test]
fn dangling_symlink_is_absent_and_falls_through() {
    let mut c = Case::new();
    c.manifest(ONE);
    symlink("/nonexistent/target", c.secrets_dir().join("DB_PASSWORD")).unwrap();
    c.secret_env("DB_PASSWORD", "from-env-after-dangling");
    c.run(&["--", "true"])
        .code(0)
        .stderr_has("1 secret ready (1 env)");
}

#[test]
fn max_file_size_is_configurable() {
    let mut c = Case::new();
    c.manifest("version: 1\nmax_file_size: 16\nsecrets:\n  A: {}\n");
    c.secret_file("A", "this-is-longer-than-sixteen-bytes");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("larger than the limit of 16 bytes");
}

#[test]
fn trim_newline_also_drops_a_trailing_crlf_none_keeps_it_whitespace_strips() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  CRLF: {}\n  KEEP:\n    trim: none\n  WS:\n    trim: whitespace\n  EMPTY:\n    required: false\n");
    c.secret_file("CRLF", "crlf-value\r\n\r\n");
    c.secret_file("KEEP", "keep-value\n");
    c.secret_file("WS", "  \tspaced-value \n");
    c.secret_file("EMPTY", "\n\n\n");
    c.child_prints_secrets();
    let r = c.run(&[
        "--",
        "sh",
        "-c",
        "printf '[%s][%s][%s][%s]' \"$CRLF\" \"$KEEP\" \"$WS\" \"${EMPTY-unset}\"",
    ]);
    r.code(0);
    r.stdout_is_secretly("[crlf-value][keep-value\n][spaced-value][]");
}

#[test]
fn permission_denied_says_owner_mode_and_uid() {
    if !is_root() {
        eprintln!("skipped: needs root to create a file another uid cannot read");
        return;
    }
    let mut c = Case::new();
    c.manifest(ONE);
    let p = c.secret_file("DB_PASSWORD", "root-only-secret-value\n");
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o400)).unwrap();
    std::fs::set_permissions(
        c.manifest_path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    c.wrapper(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]);
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("permission denied (owned by 0:0, mode 0400, sesame runs as uid 65534)");
}

#[test]
fn scrub_removes_sources_and_sesame_variables_and_keeps_the_rest() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  DB:\n    env: DATABASE_PASS\n    inject: {env: PGPASSWORD}\n  HIDDEN:\n    inject: {env: false}\n");
    c.secret_env("DATABASE_PASS", "database-pass-value")
        .secret_env("HIDDEN", "hidden-value-zzz");
    c.env("SESAME_LOG", "warn").env("UNRELATED", "kept");
    let (r, env) = child_env(&mut c, &[]);
    r.code(0);
    assert!(has_var(&env, "PGPASSWORD=database-pass-value"));
    assert!(
        !has_name(&env, "DATABASE_PASS"),
        "source variable with another name is scrubbed"
    );
    assert!(
        !has_name(&env, "HIDDEN"),
        "inject.env: false means the child gets no variable"
    );
    assert!(!has_name(&env, "SESAME_LOG"));
    assert!(has_var(&env, "UNRELATED=kept"));

    c.manifest("version: 1\nscrub: false\nsecrets:\n  DB:\n    env: DATABASE_PASS\n    inject: {env: PGPASSWORD}\n");
    let (r, env) = child_env(&mut c, &[]);
    r.code(0);
    assert!(
        has_var(&env, "DATABASE_PASS=database-pass-value"),
        "scrub: false keeps sources"
    );
}

/// An optional secret that is absent does not leave its `inject.env` name to whatever
/// sesame inherited: the program would take an unvalidated `PGPASSWORD` for the secret
/// the manifest says is absent (docs/reference.md: every variable a secret is injected
/// as is removed), with `scrub: false` too.
#[test]
fn an_absent_optional_secret_does_not_pass_on_an_inherited_value_under_its_injected_name() {
    for scrub in ["true", "false"] {
        let mut c = Case::new();
        c.manifest(&format!(
            "version: 1\nscrub: {scrub}\nsecrets:\n  DB_PASSWORD:\n    required: false\n    min_length: 40\n    inject: {{env: PGPASSWORD}}\n  GONE:\n    required_in: [production]\n    inject: {{env: APP_GONE}}\n"
        ));
        c.env("PGPASSWORD", "inherited-unvalidated")
            .env("APP_GONE", "inherited-too");
        let (r, env) = child_env(&mut c, &[]);
        r.code(0)
            .stderr_has("DB_PASSWORD: optional secret is absent");
        assert!(!has_name(&env, "PGPASSWORD"), "scrub: {scrub}");
        assert!(!has_name(&env, "APP_GONE"), "scrub: {scrub}");
    }
}

/// `SESAME_*` goes whatever follows the prefix, bytes that are not UTF-8 included.
#[test]
fn scrub_removes_a_sesame_variable_whose_name_is_not_utf8() {
    use std::os::unix::ffi::OsStringExt;
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {}\n");
    let out = std::process::Command::new(common::sesame_bin())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("SESAME_MANIFEST", c.manifest_path())
        .env("SESAME_SECRETS_DIR", c.secrets_dir())
        .env("A", "a-value-for-the-non-utf8-test")
        .env(std::ffi::OsString::from_vec(b"SESAME_\xffX".to_vec()), "1")
        .args(["--no-init", "--", "env", "-0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !out.stdout
            .split(|&b| b == 0)
            .any(|e| e.starts_with(b"SESAME_")),
        "a SESAME_ variable reached the command"
    );
}

/// `keep_env: ["*"]` keeps everything, as documented: a name that is not UTF-8 too.
/// With a list of names such a name matches none of them and goes.
#[test]
fn clear_env_judges_a_name_that_is_not_utf8_by_its_bytes() {
    use std::os::unix::ffi::OsStringExt;
    let c = Case::new();
    for (keep, survives) in [("\"*\"", true), ("PATH", false), ("\"LC_*\"", true)] {
        std::fs::write(
            c.manifest_path(),
            format!("version: 1\nclear_env: true\nkeep_env: [{keep}]\nsecrets: {{}}\n"),
        )
        .unwrap();
        let out = std::process::Command::new(common::sesame_bin())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env(std::ffi::OsString::from_vec(b"LC_\xffX".to_vec()), "1")
            .args(["-m".as_ref(), c.manifest_path().as_os_str()])
            .args(["-d".as_ref(), c.secrets_dir().as_os_str()])
            .args(["--no-init", "--", "/usr/bin/env", "-0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "keep_env: [{keep}]");
        let has = out.stdout.split(|&b| b == 0).any(|e| e == b"LC_\xffX=1");
        assert_eq!(has, survives, "keep_env: [{keep}]");
    }
}

#[test]
fn clear_env_keeps_only_keep_env_and_secrets() {
    let mut c = Case::new();
    c.manifest("version: 1\nclear_env: true\nkeep_env: [PATH, \"LC_*\"]\nsecrets:\n  A: {}\n");
    c.secret_env("A", "clear-env-secret");
    c.env("LC_ALL", "C")
        .env("LANG", "C.UTF-8")
        .env("OTHER", "x");
    let (r, env) = child_env(&mut c, &[]);
    r.code(0);
    let mut names: Vec<&str> = env.iter().filter_map(|l| l.split('=').next()).collect();
    names.sort();
    assert_eq!(names, ["A", "LC_ALL", "PATH"]);
}

#[test]
fn inject_file_is_written_with_its_mode_and_parent_0700() {
    let mut c = Case::new();
    let target = c.path().join("run/app/db_password");
    c.manifest(&format!(
        "version: 1\nsecrets:\n  DB:\n    inject: {{env: false, file: {}, mode: \"0440\"}}\n",
        target.display()
    ));
    c.secret_env("DB", "value-written-to-a-file");
    c.run(&["--", "true"]).code(0);
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(&target).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o440);
    assert_eq!(
        std::fs::metadata(target.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    assert!(std::fs::read_to_string(&target).unwrap() == "value-written-to-a-file");
    let leftovers: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn file_env_mode_expands_the_listed_names_only_without_a_manifest() {
    let mut c = Case::new();
    let f = c.file("pw", b"expanded-from-file\n");
    c.plant("expanded-from-file");
    c.env("MYSQL_PASSWORD_FILE", f.as_os_str());
    c.env("EMPTY_FILE", "");
    c.env("SSL_CERT_FILE", f.as_os_str());
    c.child_prints_secrets();
    let r = c.run_raw(&words(&["--file-env", "MYSQL_*", "--", "env"]));
    r.code(0);
    let env: Vec<String> = r.stdout.lines().map(str::to_owned).collect();
    assert!(has_var(&env, "MYSQL_PASSWORD=expanded-from-file"));
    assert!(!has_name(&env, "MYSQL_PASSWORD_FILE"));
    // Not listed: reaches the program exactly as it was.
    assert!(has_var(&env, &format!("SSL_CERT_FILE={}", f.display())));
    assert!(has_var(&env, "EMPTY_FILE="));
    assert!(!has_name(&env, "SSL_CERT"));
    // Both set: exclusive, as in the docker-library images.
    c.env("MYSQL_PASSWORD", "conflicting-value");
    c.plant("conflicting-value");
    let r = c.run_raw(&words(&["--file-env", "MYSQL_PASSWORD", "--", "true"]));
    r.code(78)
        .stderr_has("both MYSQL_PASSWORD and MYSQL_PASSWORD_FILE are set");
}

#[test]
fn file_env_mode_refuses_to_create_hijacking_variables() {
    let mut c = Case::new();
    let f = c.file("lib", b"/tmp/evil.so\n");
    c.env("LD_PRELOAD_FILE", f.as_os_str());
    let r = c.run_raw(&words(&["--file-env", "*", "--", "true"]));
    r.code(78).stderr_has("LD_PRELOAD");
}

#[test]
fn a_manifest_is_required_unless_file_env() {
    let c = Case::new();
    let r = c.run_raw(&["--".into(), "true".into()]);
    r.code(78)
        .stderr_has("/etc/sesame/manifest.yaml: no such file");
}

/// Secret files are closed in batches (read.rs `CloseBatch`), not one by one: none may
/// stay open in a supervisor, and none may reach the command.
#[test]
fn no_secret_file_stays_open_in_the_supervisor_or_the_command() {
    let mut c = Case::new();
    let mut yaml = String::from("version: 1\nsources: [file]\nsecrets:\n");
    for i in 0..300 {
        yaml.push_str(&format!("  S{i}: {{}}\n"));
        c.secret_file(&format!("S{i}"), &format!("value-{i}"));
    }
    c.manifest(&yaml);
    let secrets = c.secrets_dir();
    let dir = secrets.to_str().unwrap();
    // The supervisor's descriptors (its child's parent) and the command's own, by
    // where they point.
    let script = "ls -l /proc/$PPID/fd/ /proc/$$/fd/ 2>&1";
    let r = c.run(&["--init", "--", "sh", "-c", script]);
    r.code(0);
    assert!(r.stdout.contains("/proc/"), "{}", r.stdout);
    assert!(
        !r.stdout.contains(dir),
        "a secret file is still open:\n{}",
        r.stdout
    );
}

/// `--environment` names a directory under the secrets directory: a name with `/`,
/// `..` or a control character would make the `file` source read outside it (or forge
/// a log line), so it is a usage error (64), from the command line and the variable.
#[test]
fn an_environment_name_that_could_leave_the_secrets_directory_is_refused() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  DB_PASSWORD: {}\n");
    std::fs::create_dir_all(c.secrets_dir()).unwrap();
    // What sits outside the secrets directory, where the environment would lead.
    let outside = c.file("outside/db_password", b"outside-value-5e1d9c");
    c.plant("outside-value-5e1d9c");
    let outside_dir = outside.parent().unwrap().to_str().unwrap().to_owned();
    for e in [outside_dir.as_str(), "../outside", "a\nb", "", "x y"] {
        c.run(&["-e", e, "--", "true"])
            .code(64)
            .stderr_has("not a valid environment name");
    }
    let mut v = Case::new();
    v.manifest("version: 1\nsecrets:\n  DB_PASSWORD: {}\n")
        .env("SESAME_ENVIRONMENT", "../outside");
    v.run(&["check"])
        .code(64)
        .stderr_has("SESAME_ENVIRONMENT: not a valid environment name");
    // Letters, digits, `_` and `-` are fine.
    c.secret_file("staging-eu_1/db_password", "inside-value-77aa3e");
    c.run(&["-e", "staging-eu_1", "check"]).code(0);
}
