//! The Kubernetes recipes of examples/ (issue 16): `vault-agent/`, `csi/` and
//! `external-secrets/`. No cluster runs here, so each test recreates on disk what that
//! tool writes for the recipe's own configuration (the file names are read from the
//! shipped YAML, so a renamed file breaks the test), runs the real sesame against it
//! with the shipped manifest, as the pod's uid when the tests run as root, and then
//! rotates the files the way the tool does while sesame runs with `--init --watch`.
//!
//! - Vault Agent (consul-template's `AtomicWrite`): a temporary file in the same
//!   directory, then renamed over the old one.
//! - The Secrets Store CSI driver and the kubelet's secret volumes (the same atomic
//!   writer): files in a `..TIMESTAMP` directory, `..data` linking to it, each name a
//!   link through `..data`; an update writes a new directory and renames a new `..data`
//!   link over the old one.
//!
//! Values are written to a file by the command, never printed, and the harness checks
//! that none appears in anything sesame printed.

mod common;
use common::{Case, Running, poll, send_signal};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The uid and gid the recipes' pods run as.
const POD_UID: u32 = 10001;

fn example(recipe: &str, file: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(recipe)
        .join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The values of `key:` on the lines of `text` that have it (`key: value` or
/// `- key: value`), quotes removed: enough to read names out of the shipped YAML.
fn values_of(text: &str, key: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            l.strip_prefix(key)?.strip_prefix(':')
        })
        .map(|v| v.trim().trim_matches('"').to_owned())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The files the shipped manifest reads (its `file:` keys).
fn manifest_files(recipe: &str) -> Vec<String> {
    values_of(&example(recipe, "manifest.yaml"), "file")
}

/// A case with the recipe's manifest; as root, sesame runs as the pod's uid (the
/// case directory is writable for the command's record of its starts).
fn recipe_case(recipe: &str) -> Case {
    let mut c = Case::new();
    c.manifest(&example(recipe, "manifest.yaml"));
    c.timeout(Duration::from_secs(60));
    if common::is_root() {
        let id = POD_UID.to_string();
        c.wrapper(&["setpriv", "--reuid", &id, "--regid", &id, "--clear-groups"]);
        c.env("POD_UID", &id);
        std::fs::set_permissions(c.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    c
}

/// Sets a file's owner (as root only) and mode.
fn own(path: &Path, uid: u32, gid: u32, mode: u32) {
    if common::is_root() {
        nix::unistd::chown(path, Some(uid.into()), Some(gid.into())).unwrap();
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The kubelet's atomic writer (also the CSI driver's): generation `n` of the volume.
fn kubelet_write(dir: &Path, n: u32, files: &[(&str, String)], mode: u32, gid: u32) {
    let stamp = format!("..2026_11_23_13_04_{n:02}.{:09}", 123_456_780 + n);
    let ts = dir.join(&stamp);
    std::fs::create_dir(&ts).unwrap();
    std::fs::set_permissions(&ts, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, value) in files {
        let f = ts.join(name);
        std::fs::write(&f, value).unwrap();
        own(&f, 0, gid, mode);
        let link = dir.join(name);
        if link.symlink_metadata().is_err() {
            symlink(format!("..data/{name}"), link).unwrap();
        }
    }
    let old = std::fs::read_link(dir.join("..data")).ok();
    symlink(&stamp, dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    if let Some(old) = old {
        std::fs::remove_dir_all(dir.join(old)).unwrap();
    }
}

/// Vault Agent's render of one template: a temporary file (named by `ioutil.TempFile`:
/// digits) in the same directory, synced, given the template's perms, renamed over.
fn vault_render(dir: &Path, name: &str, contents: &str, mode: u32) {
    let tmp = dir.join(format!("{}", 4_000_000_000u32 + std::process::id()));
    std::fs::write(&tmp, contents).unwrap();
    own(&tmp, POD_UID, POD_UID, mode);
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

/// The command: records `PID DB_USER DB_PASSWORD API_KEY` for each start in `starts`
/// (a file: sesame's own output must stay free of values), exits 0 on SIGTERM; with
/// `POD_UID` set, first checks that it runs as that uid.
const APP: &str = "[ -z \"$POD_UID\" ] || [ \"$(id -u)\" = \"$POD_UID\" ] || exit 3; \
                   echo \"$$ $DB_USER $DB_PASSWORD $API_KEY\" >> starts; \
                   trap 'exit 0' TERM; while :; do sleep 0.05; done";

fn starts(c: &Case) -> Vec<Vec<String>> {
    std::fs::read_to_string(c.path().join("starts"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

fn wait_starts(c: &Case, n: usize) -> Vec<Vec<String>> {
    poll(
        Duration::from_secs(30),
        &format!("{n} start(s) of the command"),
        || {
            let s = starts(c);
            (s.len() >= n).then_some(s)
        },
    )
}

/// Asserts (without printing them) that a start saw exactly these three values.
fn assert_start(start: &[String], want: [&str; 3], what: &str) {
    assert_eq!(
        start.len(),
        4,
        "{what}: a start records a pid and three values"
    );
    for (i, w) in want.iter().enumerate() {
        assert!(
            start[i + 1] == *w,
            "{what}: value #{i} is not the expected one"
        );
    }
}

/// `check` is clean: every secret resolves from the tool's files, none is unused.
fn assert_check_clean(c: &Case) {
    let r = c.run(&["check"]);
    r.code(0);
    assert!(
        !r.stdout.contains("unused"),
        "the tool's own entries were listed:\n{}",
        r.stdout
    );
}

fn stop(c: &Case, running: Running) -> common::Run {
    send_signal(running.pid(), nix::sys::signal::Signal::SIGTERM as i32);
    c.finish(running)
}

/// Three planted values: a user, a password and 32 bytes of hex, unique to `tag`.
fn values(c: &mut Case, tag: &str) -> [String; 3] {
    let v = [
        format!("user{tag}x7f3a9c"),
        format!("Pa55word{tag}planted0b1d2f4e6a8c"),
        format!("{:0>64}", format!("{tag}e41b07d293c5a7e1f0d2b4c6a8e0f1d3")),
    ];
    for s in &v {
        c.plant(s);
    }
    v
}

fn db_json(v: &[String; 3]) -> String {
    format!("{{\"username\":\"{}\",\"password\":\"{}\"}}", v[0], v[1])
}

#[test]
fn vault_agent_files_as_the_annotations_render_them_feed_the_app_and_rotate() {
    let mut c = recipe_case("vault-agent");
    const PREFIX: &str = "vault.hashicorp.com/agent-inject-secret-";
    let mut annotated: Vec<String> = example("vault-agent", "deployment.yaml")
        .lines()
        .filter_map(|l| l.split_once(PREFIX))
        .filter_map(|(_, rest)| rest.split_once(':'))
        .map(|(name, _)| name.to_owned())
        .collect();
    annotated.sort();
    assert_eq!(
        annotated,
        ["api_key", "db.json"],
        "the files the deployment's annotations render"
    );
    assert_eq!(
        manifest_files("vault-agent"),
        annotated,
        "the manifest reads them"
    );

    // The init container's first render: the JSON template and the one-value template
    // (both without a trailing newline, as their `{{- -}}` trims make them).
    let dir = c.secrets_dir();
    let v1 = values(&mut c, "1");
    vault_render(&dir, "db.json", &db_json(&v1), 0o400);
    vault_render(&dir, "api_key", &v1[2], 0o400);
    assert_check_clean(&c);

    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", APP]);
    assert_start(
        &wait_starts(&c, 1)[0],
        [&v1[0], &v1[1], &v1[2]],
        "first start",
    );

    // The secret changes in Vault: the sidecar re-renders db.json.
    let v2 = values(&mut c, "2");
    vault_render(&dir, "db.json", &db_json(&v2), 0o400);
    assert_start(
        &wait_starts(&c, 2)[1],
        [&v2[0], &v2[1], &v1[2]],
        "after the rotation",
    );

    // A bad render (the field was removed in Vault) keeps the app running, and the
    // error names the file and the key.
    vault_render(
        &dir,
        "db.json",
        &format!("{{\"username\":\"{}\"}}", v2[0]),
        0o400,
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(starts(&c).len(), 2, "no restart with an invalid set");
    let r = stop(&c, running);
    r.code(0)
        .stderr_has("--watch: DB_PASSWORD, DB_USER changed; restarting the command")
        .stderr_has("db.json: key \"password\": no such key in the JSON object")
        .stderr_has("the new secrets are invalid; the command keeps running with the old ones");
}

#[test]
fn csi_volume_with_object_aliases_feeds_the_app_and_a_rotation_swaps_it() {
    let mut c = recipe_case("csi");
    let aliases = values_of(&example("csi", "secretproviderclass.yaml"), "objectAlias");
    assert_eq!(
        aliases,
        ["api_key", "db.json"],
        "the SecretProviderClass's files"
    );
    assert_eq!(manifest_files("csi"), aliases, "the manifest reads them");

    // The AWS provider's default file permission is 0644; the driver's files are root's.
    let dir = c.secrets_dir();
    let v1 = values(&mut c, "3");
    kubelet_write(
        &dir,
        1,
        &[("db.json", db_json(&v1)), ("api_key", v1[2].clone())],
        0o644,
        0,
    );
    assert_check_clean(&c);

    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", APP]);
    assert_start(
        &wait_starts(&c, 1)[0],
        [&v1[0], &v1[1], &v1[2]],
        "first start",
    );

    // Rotation (the driver's poll found new versions): a new directory, `..data` swapped.
    let v2 = values(&mut c, "4");
    kubelet_write(
        &dir,
        2,
        &[("db.json", db_json(&v2)), ("api_key", v2[2].clone())],
        0o644,
        0,
    );
    assert_start(
        &wait_starts(&c, 2)[1],
        [&v2[0], &v2[1], &v2[2]],
        "after the rotation",
    );
    stop(&c, running)
        .code(0)
        .stderr_has("--watch: API_KEY, DB_PASSWORD, DB_USER changed; restarting the command");
}

#[test]
fn external_secrets_target_secret_as_a_volume_feeds_the_app_and_an_update_swaps_it() {
    let mut c = recipe_case("external-secrets");
    let keys = values_of(
        &example("external-secrets", "externalsecret.yaml"),
        "secretKey",
    );
    assert_eq!(
        keys,
        ["api_key", "db_password", "db_user"],
        "the Secret's keys"
    );
    assert_eq!(
        manifest_files("external-secrets"),
        keys,
        "the manifest reads them"
    );

    // defaultMode 0440 and fsGroup 10001, as deployment.yaml mounts it.
    let dir = c.secrets_dir();
    let v1 = values(&mut c, "5");
    let files = |v: &[String; 3]| {
        [
            ("db_user", v[0].clone()),
            ("db_password", v[1].clone()),
            ("api_key", v[2].clone()),
        ]
    };
    kubelet_write(&dir, 1, &files(&v1), 0o440, POD_UID);
    assert_check_clean(&c);

    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", APP]);
    assert_start(
        &wait_starts(&c, 1)[0],
        [&v1[0], &v1[1], &v1[2]],
        "first start",
    );

    // The operator updated the Secret; the kubelet rewrites the volume.
    let v2 = values(&mut c, "6");
    kubelet_write(&dir, 2, &files(&v2), 0o440, POD_UID);
    assert_start(
        &wait_starts(&c, 2)[1],
        [&v2[0], &v2[1], &v2[2]],
        "after the update",
    );
    stop(&c, running).code(0);
}
