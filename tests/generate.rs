//! `sesame generate` (SPEC §8) and `sesame schema`.

mod common;
use common::Case;
use std::os::unix::fs::PermissionsExt;

const M: &str = "version: 1\nsecrets:\n  SESSION_KEY:\n    format: base64\n    decoded_bytes: 32\n    generate: {length: 44, charset: base64}\n  API_TOKEN:\n    min_length: 40\n    pattern: '[A-Za-z0-9]*[0-9][A-Za-z0-9]*'\n    generate: {length: 40, charset: alphanumeric}\n  HEX:\n    file: nested/hex_key\n    format: hex\n    generate: {length: 64, charset: hex}\n  NO_RULE: {required: false}\n";

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn generated_files_have_mode_0600_in_a_0700_directory_and_pass_validation() {
    let mut c = Case::new();
    c.manifest(M);
    let out = c.path().join("new-env");
    let r = c.run(&["generate", "--out", out.to_str().unwrap()]);
    r.code(0);
    for f in ["session_key", "api_token", "nested/hex_key"] {
        let p = out.join(f);
        assert!(
            r.stdout.contains(p.to_str().unwrap()),
            "{f} not listed:\n{}",
            r.stdout
        );
        assert_eq!(mode(&p), 0o600, "{f}");
        assert!(std::fs::read_to_string(&p).unwrap().trim_end().len() >= 40);
    }
    assert_eq!(mode(&out), 0o700);
    assert!(!out.join("no_rule").exists());
    // What was generated passes the secrets' own rules.
    let r = c.run_raw(&[
        "-m".into(),
        c.manifest_path().into(),
        "-d".into(),
        out.clone().into(),
        "check".into(),
    ]);
    r.code(0);
    // Nothing was printed from the values.
    for f in ["session_key", "api_token", "nested/hex_key"] {
        let v = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!r.stdout.contains(v.trim_end()) && !r.stderr.contains(v.trim_end()));
    }
}

/// What `generate` writes is what the secret then reads: a secret with `trim: none`
/// keeps every byte of its file, so its file must not end in a newline the value does
/// not have (a hex key of 41 characters, one over `max_length`, is no key at all).
#[test]
fn a_generated_file_reads_back_as_the_value_under_every_trim() {
    let mut c = Case::new();
    c.manifest(
        "version: 1\nsecrets:\n  NONE:\n    trim: none\n    format: hex\n    max_length: 40\n    generate: {length: 40, charset: hex}\n  NEWLINE:\n    max_length: 40\n    generate: {length: 40, charset: alphanumeric}\n  SPACE:\n    trim: whitespace\n    max_length: 40\n    generate: {length: 40, charset: base64url}\n",
    );
    let out = c.path().join("gen");
    c.run(&["generate", "--out", out.to_str().unwrap()]).code(0);
    let none = std::fs::read(out.join("none")).unwrap();
    assert_eq!(
        none.len(),
        40,
        "trim: none: the file holds the value and nothing else"
    );
    for f in ["newline", "space"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap().len(),
            41,
            "{f}: a text line"
        );
    }
    c.run_raw(&[
        "-m".into(),
        c.manifest_path().into(),
        "-d".into(),
        out.clone().into(),
        "check".into(),
    ])
    .code(0);
}

#[test]
fn existing_files_are_kept_without_force_and_replaced_with_it() {
    let mut c = Case::new();
    c.manifest(M);
    let out = c.path().join("out");
    c.run(&["generate", "--out", out.to_str().unwrap()]).code(0);
    let before = std::fs::read(out.join("api_token")).unwrap();
    let r = c.run(&["generate", "--out", out.to_str().unwrap()]);
    r.code(0)
        .stderr_has("exists; not overwritten (use --force)");
    assert_eq!(std::fs::read(out.join("api_token")).unwrap(), before);
    std::fs::set_permissions(
        out.join("api_token"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    c.run(&["generate", "--out", out.to_str().unwrap(), "--force"])
        .code(0);
    assert_ne!(std::fs::read(out.join("api_token")).unwrap(), before);
    assert_eq!(mode(&out.join("api_token")), 0o600);
}

#[test]
fn secrets_that_already_resolve_are_not_generated() {
    let mut c = Case::new();
    c.manifest(M);
    c.secret_env("API_TOKEN", "already-provided-token-1234567890abcdefghij");
    let r = c.run(&["generate"]);
    r.code(0).stderr_has("API_TOKEN: already resolves");
    assert!(c.secrets_dir().join("session_key").exists());
    assert!(!c.secrets_dir().join("api_token").exists());
}

#[test]
fn env_format_prints_dotenv_lines_that_sesame_then_accepts() {
    let mut c = Case::new();
    c.manifest(M);
    c.child_prints_secrets();
    let r = c.run(&["generate", "--format", "env"]);
    r.code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "one line a generated secret");
    for l in &lines {
        let (k, v) = l.split_once('=').unwrap();
        assert!(["SESSION_KEY", "API_TOKEN", "HEX"].contains(&k));
        c.env(k, v);
    }
    assert!(
        std::fs::read_dir(c.secrets_dir()).unwrap().next().is_none(),
        "env format writes no file"
    );
    c.run(&["check", "--quiet"]).code(0);
}

#[test]
fn an_unsatisfiable_rule_is_a_clear_error() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  PIN:\n    pattern: '[0-9]+'\n    generate: {length: 12, charset: alphanumeric}\n");
    let r = c.run(&["generate"]);
    r.code(78).stderr_has("PIN: generate: no value drawn in 200 tries satisfies the secret's rules (does not match pattern");
    assert!(!c.secrets_dir().join("pin").exists());
}

#[test]
fn schema_is_json_and_describes_the_manifest() {
    let c = Case::new();
    let r = c.run_raw(&["schema".into()]);
    r.code(0);
    let schema: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["properties"]["secrets"].is_object());
    assert_eq!(
        schema["required"],
        serde_json::json!(["version", "secrets"])
    );
}

/// Validates every manifest we ship against the schema with an independent validator
/// (Python's `jsonschema`), so the schema and the parser cannot drift apart silently.
#[test]
fn shipped_manifests_validate_against_the_schema_with_python_jsonschema() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import jsonschema, yaml"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install python3-jsonschema and python3-yaml"
        );
        eprintln!("skipped: python3 with jsonschema and yaml is not available");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let script = r#"
import glob, json, sys, yaml, jsonschema
root = sys.argv[1]
schema = json.load(open(root + "/schema/manifest.schema.json"))
# A sesame manifest is `version: 1` (an integer); compose and stack files have `secrets:` too.
files = [root + "/manifest.example.yaml"] + [f for f in glob.glob(root + "/examples/**/*.y*ml", recursive=True) if isinstance(yaml.safe_load(open(f)), dict) and yaml.safe_load(open(f)).get("version") == 1 and "secrets" in yaml.safe_load(open(f))]
# What sesame refuses, the schema refuses: an unknown key, booleans that are not
# true/false, YAML 1.1 boolean words as names, numbers above their bounds.
for bad in [
    "version: 1\nsecrets:\n  A:\n    min_lenght: 3\n",
    "version: 1\nscrub:\nsecrets: {}\n",
    "version: 1\nsecrets:\n  A: {required: ~}\n",
    "version: 1\nsecrets:\n  A: {inject: {env: \"False\"}}\n",
    "version: 1\nsecrets:\n  A: {inject: {env: ~}}\n",
    "version: 1\nsecrets:\n  \"off\": {}\n",
    "version: 1\nmax_file_size: 67108865\nsecrets: {}\n",
    "version: 1\nrestart_grace: 86401\nsecrets: {}\n",
    "version: 1\nsecrets:\n  A: {min_length: 67108865}\n",
    "version: 1\nsecrets:\n  A: {generate: {length: 1048577, charset: hex}}\n",
    "version: 1\nsecrets:\n  A: {inject: {file: /x, mode: \"4755\"}}\n",
]:
    try:
        jsonschema.validate(yaml.safe_load(bad), schema)
        sys.exit("schema accepted " + repr(bad))
    except jsonschema.ValidationError:
        pass
for f in files:
    jsonschema.validate(yaml.safe_load(open(f)), schema)
    print("valid:", f)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, root])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.matches("valid:").count() >= 2, "{stdout}");
}

#[test]
fn generate_force_refuses_a_fifo_at_the_name_without_hanging() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A:\n    generate: {length: 16, charset: hex}\n");
    let out = c.path().join("out");
    std::fs::create_dir(&out).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(out.join("a"))
            .status()
            .unwrap()
            .success()
    );
    c.timeout(std::time::Duration::from_secs(10));
    c.run(&["generate", "--out", out.to_str().unwrap(), "--force"])
        .code(78)
        .stderr_has("is not a regular file");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(out.join("a"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn generate_as_root_does_not_write_through_a_link_a_user_planted_on_the_out_path() {
    if !common::is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A:\n    generate: {length: 16, charset: hex}\n");
    // A root-only directory holding a file with the secret's name.
    let victim_dir = c.path().join("root-only");
    std::fs::create_dir(&victim_dir).unwrap();
    std::fs::write(victim_dir.join("a"), "ROOT-ONLY-victim-77c1").unwrap();
    // The user's own directory, where it makes `secrets` a link to the victim's.
    let home = c.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::os::unix::fs::chown(&home, Some(65534), Some(65534)).unwrap();
    std::os::unix::fs::symlink(&victim_dir, home.join("secrets")).unwrap();
    std::os::unix::fs::lchown(home.join("secrets"), Some(65534), Some(65534)).unwrap();
    let out = home.join("secrets");
    for force in [false, true] {
        let mut args = vec!["generate", "--out", out.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        std::fs::remove_file(victim_dir.join("a")).ok();
        if force {
            std::fs::write(victim_dir.join("a"), "ROOT-ONLY-victim-77c1").unwrap();
        }
        c.run(&args).code(78).stderr_has("is owned by uid 65534");
        if force {
            assert_eq!(
                std::fs::read_to_string(victim_dir.join("a")).unwrap(),
                "ROOT-ONLY-victim-77c1"
            );
        } else {
            assert!(
                !victim_dir.join("a").exists(),
                "nothing created through the link"
            );
        }
    }
    // A directory only root can write is fine, and made when missing.
    c.run(&[
        "generate",
        "--out",
        c.path().join("fine/x").to_str().unwrap(),
    ])
    .code(0);
    assert!(c.path().join("fine/x/a").is_file());
}

/// 200 draws of a 32 MiB value that `max_length` can never accept took many minutes:
/// drawing stops once 64 MiB of characters were drawn for one secret (at least one
/// value is always tried).
#[test]
fn generate_gives_up_in_bounded_time_when_a_large_value_can_never_pass() {
    let mut c = Case::new();
    c.manifest(
        "version: 1\nsecrets:\n  A:\n    format: hex\n    decoded_bytes: 33554432\n    max_length: 10\n    generate: {length: 64, charset: hex}\n",
    );
    c.timeout(std::time::Duration::from_secs(60));
    c.run(&["generate", "--format", "env"])
        .code(78)
        .stderr_has("no value drawn in 1 try satisfies");
}

/// All or none, and never a file cut short: on a disk too small for one of two values
/// (a 64 KiB tmpfs in a private mount namespace), `generate --force` leaves both old
/// files as they were and no temporary file behind; without `--force`, nothing is
/// created. A file cut short once stayed, and the next `generate` took it for a secret
/// that exists.
#[test]
fn generate_writes_every_file_or_none_when_the_disk_is_full() {
    if !common::is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut c = Case::new();
    c.manifest(
        "version: 1\nsecrets:\n  SMALL:\n    generate: {length: 40, charset: alphanumeric}\n  BIG:\n    generate: {length: 200000, charset: alphanumeric}\n",
    );
    let tiny = c.path().join("tiny");
    std::fs::create_dir(&tiny).unwrap();
    let out = tiny.join("s");
    for force in [true, false] {
        // The tmpfs exists only in the namespace: the script records what is left.
        let script = format!(
            "mount -t tmpfs -o size=64k,mode=0755 tmpfs {t} && mkdir -m 0700 {o} && \
             if [ -n \"$FORCE\" ]; then printf old-small > {o}/small; printf old-big > {o}/big; fi; \
             \"$@\"; rc=$?; ls -A {o} > {l}; cat {o}/small {o}/big > {v} 2>/dev/null; exit $rc",
            t = tiny.display(),
            o = out.display(),
            l = c.path().join("left").display(),
            v = c.path().join("values").display(),
        );
        c.wrapper(&["unshare", "--mount", "sh", "-c", &script, "sh"]);
        c.env("FORCE", if force { "1" } else { "" });
        let mut args = vec!["generate", "--out", out.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        c.run(&args)
            .code(78)
            .stderr_has("BIG: cannot write")
            .stderr_has("no space left on device");
        let left = std::fs::read_to_string(c.path().join("left")).unwrap();
        let values = std::fs::read_to_string(c.path().join("values")).unwrap();
        if force {
            assert_eq!(left, "big\nsmall\n", "force: nothing but the old files");
            // Not assert_eq: a failure must not print generated values.
            assert!(
                values == "old-smallold-big",
                "force: the old values are kept"
            );
        } else {
            assert_eq!(left, "", "no force: nothing created");
        }
    }
}

/// Two secrets whose files are one file under two paths (a link in the directory) are
/// refused, not written one over the other: both would then read the second value.
#[test]
fn generate_refuses_two_secrets_that_would_share_one_file() {
    let mut c = Case::new();
    c.manifest(
        "version: 1\nsecrets:\n  A:\n    file: x\n    generate: {length: 20, charset: hex}\n  B:\n    file: sub/x\n    generate: {length: 20, charset: hex}\n",
    );
    let out = c.path().join("gen");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(".", out.join("sub")).unwrap();
    c.run(&["generate", "--out", out.to_str().unwrap()])
        .code(78)
        .stderr_has("B: cannot write")
        .stderr_has("is the same file as A's");
    assert!(!out.join("x").exists(), "nothing written");
}

/// A secret that neither resolves nor is absent (a directory where its file goes, an
/// `X_FILE` naming nothing) is an error for `generate`, not "already resolves" and exit
/// 0 with nothing written; the others are still reported in the same run.
#[test]
fn generate_reports_a_secret_whose_source_fails_instead_of_saying_it_resolves() {
    let mut c = Case::new();
    c.manifest(
        "version: 1\nsecrets:\n  DIR:\n    generate: {length: 20, charset: hex}\n  GONE:\n    generate: {length: 20, charset: hex}\n  NEW:\n    generate: {length: 20, charset: hex}\n",
    );
    std::fs::create_dir(c.secrets_dir().join("dir")).unwrap();
    c.env("GONE_FILE", c.path().join("nothing-here").as_os_str());
    let r = c.run(&["generate"]);
    r.code(78)
        .stderr_has("DIR: not generated: ")
        .stderr_has("GONE: not generated: ")
        .stderr_lacks("already resolves");
    assert!(!c.secrets_dir().join("new").exists(), "all or none");
}
