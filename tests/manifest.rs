//! Manifest errors (SPEC §2): each exits 78 before anything runs, naming the file,
//! the place and the key.

mod common;
use common::Case;

/// Runs `check` on `yaml` and returns stderr, asserting exit 78.
fn manifest_error(yaml: &str) -> String {
    let mut c = Case::new();
    c.manifest(yaml);
    let r = c.run(&["--", "sh", "-c", "touch ran"]);
    r.code(78).stderr_has("sesame: error: manifest ");
    assert!(!c.path().join("ran").exists(), "the command must not run");
    r.stderr.clone()
}

fn has(stderr: &str, needles: &[&str]) {
    for n in needles {
        assert!(stderr.contains(n), "missing {n:?} in:\n{stderr}");
    }
}

#[test]
fn unknown_key_names_key_line_and_column() {
    let e = manifest_error("version: 1\nsecrets:\n  A:\n    min_lenght: 3\n");
    has(&e, &["manifest.yaml:4:5", "min_lenght", "unknown field"]);
}

#[test]
fn unknown_top_level_key() {
    has(
        &manifest_error("version: 1\nsecret_dir: /x\nsecrets: {}\n"),
        &["manifest.yaml:2:1", "secret_dir"],
    );
}

#[test]
fn wrong_or_missing_version() {
    has(
        &manifest_error("version: 2\nsecrets: {}\n"),
        &["version: 2 is not supported"],
    );
    has(&manifest_error("secrets: {}\n"), &["version"]);
}

#[test]
fn duplicate_keys_are_errors_not_last_wins() {
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    required: false\n    required: true\n"),
        &["manifest.yaml:5:5", "duplicate", "required"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  A: {}\n  A: {}\n"),
        &["manifest.yaml:4:3", "duplicate"],
    );
}

#[test]
fn bad_secret_name() {
    has(
        &manifest_error("version: 1\nsecrets:\n  1BAD: {}\n"),
        &["secrets.1BAD.name", "not a valid secret name"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  BAD-NAME: {}\n"),
        &["secrets.BAD-NAME.name"],
    );
}

#[test]
fn bad_regular_expression() {
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    pattern: '([a-z'\n"),
        &[
            "secrets.A.pattern",
            "not a valid regular expression",
            "manifest.yaml:3",
        ],
    );
}

#[test]
fn default_on_a_required_secret() {
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    default: x\n"),
        &["secrets.A.default", "only an optional secret"],
    );
}

#[test]
fn two_secrets_injecting_the_same_variable() {
    has(
        &manifest_error(
            "version: 1\nsecrets:\n  A:\n    inject: {env: X}\n  B:\n    inject: {env: X}\n",
        ),
        &["secrets.B.inject.env: X is already injected by A"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  A: {}\n  B:\n    inject: {env: A}\n"),
        &["already injected by A"],
    );
}

#[test]
fn every_hijacking_variable_is_refused() {
    for var in [
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "DYLD_INSERT_LIBRARIES",
        "PATH",
        "IFS",
        "BASH_ENV",
        "ENV",
        "PROMPT_COMMAND",
        "SHELLOPTS",
        "PS4",
        "SESAME_MANIFEST",
    ] {
        let e = manifest_error(&format!(
            "version: 1\nsecrets:\n  A:\n    inject: {{env: {var}}}\n"
        ));
        has(
            &e,
            &["secrets.A.inject.env", &format!("refusing to inject {var}")],
        );
    }
}

#[test]
fn contradictions_are_all_reported_together() {
    let e = manifest_error(
        "version: 1\nsecrets:\n  A:\n    min_length: 10\n    max_length: 5\n  B:\n    decoded_bytes: 32\n  C:\n    min_key_bits: 2048\n    format: pem\n  D:\n    required: true\n    required_in: [production]\n",
    );
    has(
        &e,
        &[
            "secrets.A.min_length: 10 is more than max_length 5",
            "secrets.B.decoded_bytes",
            "secrets.C.min_key_bits",
            "secrets.D.required_in: cannot be combined with required",
        ],
    );
    assert!(
        e.lines()
            .filter(|l| l.starts_with("sesame: error: manifest"))
            .count()
            >= 4,
        "{e}"
    );
}

#[test]
fn wrong_types_and_values() {
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    required: yes\n"),
        &["manifest.yaml:4", "required", "boolean"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    min_length: many\n"),
        &["manifest.yaml:4", "min_length"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    format: base65\n"),
        &["manifest.yaml:4", "format"],
    );
    has(
        &manifest_error("version: 1\nsources: [file, consul]\nsecrets: {}\n"),
        &["sources"],
    );
    has(
        &manifest_error("version: 1\nsources: [file, file]\nsecrets: {}\n"),
        &["sources: file is listed twice"],
    );
    has(
        &manifest_error("version: 1\nmax_file_size: 1GB\nsecrets: {}\n"),
        &["max_file_size", "not a size"],
    );
    has(
        &manifest_error("version: 1\nmax_mode: 0644\nsecrets: {}\n"),
        &["max_mode", "quoted octal"],
    );
    has(
        &manifest_error("version: 1\nmax_mode: \"0999\"\nsecrets: {}\n"),
        &["max_mode", "not an octal mode"],
    );
    has(
        &manifest_error("version: 1\non_change_signal: SIGNOPE\nsecrets: {}\n"),
        &["on_change_signal"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    trim: both\n"),
        &["trim"],
    );
}

#[test]
fn file_and_inject_paths_must_stay_where_they_belong() {
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    file: ../../etc/shadow\n"),
        &["secrets.A.file", "relative path"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    inject: {file: relative/path}\n"),
        &["secrets.A.inject.file", "absolute"],
    );
}

#[test]
fn required_in_must_name_a_declared_environment() {
    has(
        &manifest_error(
            "version: 1\nenvironments: [staging, production]\nsecrets:\n  A:\n    required_in: [prod]\n",
        ),
        &["secrets.A.required_in", "\"prod\""],
    );
}

#[test]
fn unknown_environment_on_the_command_line_is_refused() {
    let mut c = Case::new();
    c.manifest("version: 1\nenvironments: [staging, production]\nsecrets: {}\n");
    c.run(&["-e", "prod", "--", "true"]).code(78).stderr_has(
        "environment \"prod\" is not one of the manifest's environments (staging, production)",
    );
}

#[test]
fn malformed_and_truncated_yaml() {
    has(
        &manifest_error("version: 1\nsecrets: [\n"),
        &["manifest.yaml:"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  A: {min_length: 3\n"),
        &["manifest.yaml:"],
    );
    has(&manifest_error(""), &["manifest"]);
}

#[test]
fn manifest_that_is_missing_a_directory_or_a_fifo() {
    let c = Case::new();
    let r = c.run_raw(&[
        "-m".into(),
        c.path().join("nope.yaml").into(),
        "--".into(),
        "true".into(),
    ]);
    r.code(78).stderr_has("nope.yaml: no such file");
    let r = c.run_raw(&["-m".into(), c.path().into(), "--".into(), "true".into()]);
    r.code(78).stderr_has("not a regular file (a directory)");
    let fifo = c.path().join("fifo.yaml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let r = c.run_raw(&["-m".into(), fifo.into(), "--".into(), "true".into()]);
    r.code(78).stderr_has("not a regular file (a FIFO)");
}

#[test]
fn a_default_value_in_a_broken_manifest_is_never_quoted() {
    let mut c = Case::new();
    c.plant("default-value-that-is-private");
    c.manifest("version: 1\nsecrets:\n  A:\n    required: false\n    default: default-value-that-is-private\n    bogus: 1\n");
    c.run(&["--", "true"]).code(78).stderr_has("bogus");
}

/// A default build (without the cargo feature `aws`) refuses a manifest that needs AWS,
/// clearly and before anything runs.
#[cfg(not(feature = "aws"))]
#[test]
fn aws_locations_need_the_aws_build() {
    let e = manifest_error(
        "version: 1\nsecrets:\n  DB: {aws_secretsmanager: {id: prod/db, key: password}}\n  P: {aws_ssm: {name: /prod/p}}\n",
    );
    has(
        &e,
        &[
            "secrets.DB.aws_secretsmanager: this sesame was built without the aws feature",
            "secrets.P.aws_ssm: this sesame was built without the aws feature",
        ],
    );
    let e = manifest_error("version: 1\nsources: [env, aws]\nsecrets: {}\n");
    has(
        &e,
        &["sources: aws: this sesame was built without the aws feature"],
    );
}

/// A build without the cargo feature `vault` refuses a manifest that needs Vault:
/// a secret's `vault:`, the top-level `vault:`, or `vault` in `sources` (exit 78).
#[cfg(not(feature = "vault"))]
#[test]
fn vault_locations_need_the_vault_build() {
    let e = manifest_error(
        "version: 1\nvault: {role: app}\nsources: [env, vault]\nsecrets:\n  JWT_PRIVATE_KEY: {vault: {path: app/jwt-keys}}\n",
    );
    has(
        &e,
        &[
            "secrets.JWT_PRIVATE_KEY.vault: this sesame was built without the vault feature (use a build with --features vault; see docs/vault.md)",
            "sources: vault: this sesame was built without the vault feature",
            "manifest.yaml: vault: this sesame was built without the vault feature",
        ],
    );
}

#[test]
fn aws_locations_are_exclusive_and_checked() {
    let e = manifest_error(
        "version: 1\nsecrets:\n  A: {aws_secretsmanager: {id: x}, aws_ssm: {name: y}}\n  B: {aws_ssm: {name: y, with_decryption: true}}\n",
    );
    has(&e, &["with_decryption"]);
    let e = manifest_error(
        "version: 1\nsecrets:\n  A: {aws_secretsmanager: {id: x}, aws_ssm: {name: y}}\n",
    );
    has(
        &e,
        &["secrets.A.aws_ssm: cannot be combined with aws_secretsmanager"],
    );
}

/// A `default:` that starts with `*` reads as an alias, and an alias name sits where a
/// value sits: the message says what is wrong and where, never the name.
#[test]
fn an_unquoted_default_that_starts_with_a_star_is_never_quoted() {
    for yaml in [
        "version: 1\nsecrets:\n  A:\n    required: false\n    default: *s3cr3t-Default-value\n",
        "version: 1\nsecrets:\n  A:\n    required: false\n    default: &s3cr3t-Default-value [1, *s3cr3t-Default-value]\n",
        "version: 1\nsecrets:\n  A:\n    required: false\n    default: s3cr3t-Default-value: x\n",
        "version: 1\nsecrets:\n  A:\n    required: false\n    default: !s3cr3t-Default-value x\n",
    ] {
        let mut c = Case::new();
        c.plant("s3cr3t-Default-value");
        c.manifest(yaml);
        let r = c.run(&["--", "true"]);
        r.code(78)
            .stderr_has("manifest.yaml:5:")
            .stderr_lacks("s3cr3t")
            .stderr_lacks("Default");
    }
    let e = manifest_error(
        "version: 1\nsecrets:\n  A:\n    required: false\n    default: *s3cr3t-Default-value\n",
    );
    has(
        &e,
        &[
            "manifest.yaml:5:14: an alias (*) names no anchor before it (quote a value that starts with *)",
        ],
    );
}

/// Aliases are bounded by the bytes they copy: a 2 MiB scalar copied nine times (a
/// 2 MiB manifest that would become 18 MiB of values) is a manifest error, before the
/// copies are made.
#[test]
fn aliases_of_a_large_scalar_are_refused_by_the_bytes_they_copy() {
    let big = "v".repeat(2 << 20);
    let mut c = Case::new();
    c.manifest(&format!(
        "version: 1\nsecrets:\n  A:\n    forbid: [&v {big}, {}]\n",
        ["*v"; 8].join(", ")
    ));
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("manifest.yaml:4:")
        .stderr_has("anchors and aliases copy more than 16 MiB");
    // A few copies are fine.
    c.manifest(&format!(
        "version: 1\nsecrets:\n  A:\n    required: false\n    forbid: [&v {big}, *v, *v]\n"
    ));
    c.run(&["--", "true"]).code(0);
}

/// YAML gives a `|` block whose last line ends the file without a line break no line
/// break: the child gets exactly the three characters written.
#[test]
fn a_block_default_at_the_end_of_the_file_gains_no_line_break() {
    for (yaml, expected) in [
        (
            "version: 1\nsecrets:\n  A:\n    required: false\n    default: |\n      abc",
            "3",
        ),
        (
            "version: 1\nsecrets:\n  A:\n    required: false\n    default: |\n      abc\n",
            "4",
        ),
        (
            "version: 1\nsecrets:\n  A:\n    required: false\n    default: >+\n      abc",
            "3",
        ),
    ] {
        let mut c = Case::new();
        c.manifest(yaml);
        let r = c.run(&["--", "sh", "-c", "printf %s \"$A\" | wc -c"]);
        r.code(0);
        assert_eq!(r.stdout.trim(), expected, "{yaml:?}");
    }
}

/// A manifest saved with Windows line breaks reads as the same manifest, with the same
/// lines and columns in its messages.
#[test]
fn crlf_manifests_read_with_their_lines_and_columns() {
    let mut c = Case::new();
    c.manifest("version: 1\r\nsecrets:\r\n  A:\r\n    required: false\r\n    default: |\r\n      x\r\n      y\r\n");
    c.run(&["--", "sh", "-c", "printf %s \"$A\" | od -c | head -1"])
        .code(0)
        .stdout_has("x  \\n   y  \\n");
    has(
        &manifest_error("version: 1\r\nsecrets:\r\n  A:\r\n    min_lenght: 3\r\n"),
        &["manifest.yaml:4:5", "min_lenght", "unknown field"],
    );
}

// ---- every number bounded (issue 14, item 4) -------------------------------------

/// Each number above its bound, however many digits it has, is a manifest error that
/// names the key and the bound, reported all at once, for launch, `check` and
/// `generate` alike (today `generate.length: 18446744073709551615` panicked, a huge
/// `max_file_size` wrapped and `restart_grace` overflowed the supervisor's clock).
#[test]
fn every_number_above_its_bound_is_a_manifest_error_naming_the_key_and_the_bound() {
    let yaml = "version: 1
max_file_size: 18446744073709551615
restart_grace: 18446744073709551615
remote_timeout: 99999999999999999999999h
secrets:
  A:
    required: false
    min_length: 99999999999999999999999
    max_length: 67108865
    format: hex
    decoded_bytes: 18446744073709551615
    max_age_days: 4294967296
    min_entropy_bits: 1e308
    generate: {length: 18446744073709551615, charset: hex}
  B:
    format: rsa-private-key
    min_key_bits: 4294967295
    inject: {file: /tmp/sesame-never-written, mode: \"4755\"}
";
    let expected = [
        "max_file_size: must be at most 64MiB",
        "restart_grace: must be at most 24h",
        "remote_timeout: must be at most 24h",
        "secrets.A.min_length: must be at most 67108864",
        "secrets.A.max_length: must be at most 67108864",
        "secrets.A.decoded_bytes: must be at most 33554432",
        "secrets.A.max_age_days: must be at most 36500",
        "secrets.A.generate.length: must be at most 1048576",
    ];
    for args in [
        &["--", "true"][..],
        &["check"],
        &["check", "--format", "json"],
        &["generate"],
    ] {
        let mut c = Case::new();
        c.manifest(yaml);
        let r = c.run(args);
        r.code(78);
        has(&r.stderr, &expected);
    }
    // Checked once the shape is right (mistakes of form are reported alone).
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    min_entropy_bits: 1e308\n"),
        &["secrets.A.min_entropy_bits: must be a number of bits from 0 to at most 65536"],
    );
    has(
        &manifest_error(
            "version: 1\nsecrets:\n  B:\n    format: rsa-private-key\n    min_key_bits: 16385\n",
        ),
        &["secrets.B.min_key_bits: must be at most 16384"],
    );
    let e = manifest_error(
        "version: 1\nsecrets:\n  B:\n    inject: {file: /tmp/sesame-never-written, mode: \"4755\"}\n",
    );
    has(&e, &["secrets.B.inject.mode: must be at most \"0777\""]);
}

/// The bounds themselves are accepted: they are maxima, not off by one.
#[test]
fn numbers_at_their_bounds_are_accepted() {
    let mut c = Case::new();
    c.manifest(
        "version: 1
max_file_size: 64MiB
restart_grace: 24h
remote_timeout: 86400
secrets:
  A:
    required: false
    min_length: 0
    max_length: 67108864
    max_age_days: 36500
    min_entropy_bits: 65536
  B:
    required: false
    format: hex
    decoded_bytes: 33554432
    generate: {length: 1048576, charset: alphanumeric}
    inject: {file: /tmp/sesame-never-written, mode: \"0777\"}
",
    );
    c.run(&["check"]).code(0);
}

// ---- booleans and names (issue 14, item 8) -----------------------------------------

/// Only `true` and `false` are booleans. `False`, `no`, `off`, `~`, `null`, an empty
/// value and a quoted "false" are refused for every boolean key and for `inject.env`
/// (today `inject.env: False` injected a variable named `False`).
#[test]
fn only_true_and_false_are_booleans_for_every_boolean_key() {
    for word in [
        "False",
        "FALSE",
        "no",
        "No",
        "off",
        "OFF",
        "True",
        "yes",
        "on",
        "y",
        "n",
        "~",
        "null",
        "",
        "\"false\"",
        "'true'",
    ] {
        for (yaml, key) in [
            (
                format!("version: 1\nsecrets:\n  A:\n    inject:\n      env: {word}\n"),
                "secrets.A.inject.env",
            ),
            (
                format!("version: 1\nsecrets:\n  A:\n    required: {word}\n"),
                "secrets.A.required",
            ),
            (
                format!("version: 1\nscrub: {word}\nsecrets: {{}}\n"),
                "scrub",
            ),
            (
                format!("version: 1\nclear_env: {word}\nsecrets: {{}}\n"),
                "clear_env",
            ),
        ] {
            if key.ends_with("inject.env") && word.contains(['"', '\'']) {
                continue; // a quoted "false" there is a name: refused below as a name
            }
            let e = manifest_error(&yaml);
            assert!(e.contains(key), "{word:?} for {key}: {e}");
        }
    }
    // `false` is "no variable"; `true` the default name.
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {required: false, default: x1, inject: {env: false}}\n  B: {required: false, default: x2, inject: {env: true}}\n");
    c.child_prints_secrets();
    let r = c.run(&["--", "sh", "-c", "echo \"${A-unset}:$B\""]);
    r.code(0);
    assert_eq!(r.stdout.trim(), "unset:x2");
}

/// A word that YAML 1.1 tools read as a boolean or null is no name for a secret or a
/// variable, quoted or not: `inject: {env: "off"}` would mean "none" to them.
#[test]
fn yaml_1_1_boolean_words_are_refused_as_names() {
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    inject: {env: \"False\"}\n"),
        &["secrets.A.inject.env: \"False\" is refused as a variable name"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  A:\n    env: \"off\"\n"),
        &["secrets.A.env: \"off\" is refused as a variable name"],
    );
    has(
        &manifest_error("version: 1\nsecrets:\n  NO: {}\n"),
        &["secrets.NO.name: \"NO\" is refused as a secret name"],
    );
}

// ---- defaults are values (issue 14, item 9) -----------------------------------------

/// A `default:` no variable can hold (a NUL) is refused at manifest time, naming the
/// key and not the value (today the variable was silently dropped).
#[test]
fn a_default_with_a_nul_is_refused_without_showing_it() {
    let mut c = Case::new();
    c.plant("hunter2-default-planted");
    c.manifest(
        "version: 1\nsecrets:\n  A:\n    required: false\n    default: \"hunter2-default-planted\\0tail\"\n",
    );
    let r = c.run(&["--", "true"]);
    r.code(78)
        .stderr_has("secrets.A.default: contains a NUL character")
        .stderr_lacks("tail");
}

// ---- hijack names (issue 14, item 10) -----------------------------------------------

/// The interpreters' code-loading variables, bash's exported functions and the C
/// library's loaders are refused as `inject.env`, and the same names through
/// `--file-env` (one check for both).
#[test]
fn interpreter_and_loader_hijack_names_are_refused_for_inject_env_and_file_env() {
    let names = [
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "PYTHONHOME",
        "PERL5LIB",
        "PERL5OPT",
        "PERLLIB",
        "RUBYOPT",
        "RUBYLIB",
        "NODE_OPTIONS",
        "NODE_PATH",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "GCONV_PATH",
        "GLIBC_TUNABLES",
        "LOCPATH",
        "BASH_FUNC_ls",
        "LUA_INIT_5_4",
        "DOTNET_STARTUP_HOOKS",
        "CORECLR_PROFILER_PATH",
        "OPENSSL_CONF",
        "GIT_SSH_COMMAND",
        "HOME",
        "HOSTALIASES",
        "RESOLV_HOST_CONF",
        "MALLOC_TRACE",
        "TZDIR",
        "TMPDIR",
        "NODE_REPL_EXTERNAL_MODULE",
        "PERL5SHELL",
        "SSLKEYLOGFILE",
    ];
    for name in names {
        let e = manifest_error(&format!(
            "version: 1\nsecrets:\n  A:\n    inject: {{env: {name}}}\n"
        ));
        has(&e, &[&format!("refusing to inject {name}")]);
    }
    for (name, selected) in names.iter().flat_map(|n| [(n, *n), (n, "*")]) {
        let mut c = Case::new();
        let f = c.file("x", b"/tmp/evil\n");
        c.env(&format!("{name}_FILE"), f.as_os_str());
        let r = c.run(&["--file-env", selected, "--", "sh", "-c", "touch ran"]);
        r.code(78)
            .stderr_has(&format!("refusing to inject {name} from ${name}_FILE"));
        assert!(!c.path().join("ran").exists(), "{name}: the command ran");
    }
}

/// A key may hold any character (YAML's escapes): its problem stays one escaped line.
#[test]
fn a_key_with_control_characters_is_reported_on_one_line_without_the_key() {
    let e =
        manifest_error("version: 1\nsecrets:\n  A:\n    \"x\\nsesame: info: forged\\e[2J\": 1\n");
    assert!(!e.contains('\x1b'), "{e}");
    assert!(
        !e.lines().any(|l| l.starts_with("sesame: info")),
        "a forged line:\n{e}"
    );
    has(&e, &["secrets.A.[not shown]: unknown field"]);
}
