//! Issue 14, as an attacker tries it: root (with `--user`) must neither write nor read
//! through a link or directory an unprivileged user controls; `inject.file`s are written
//! all or none and `check` says what the launch would refuse; `/etc/passwd` cannot hang
//! sesame; a closed stderr does not kill it; after `--user` no setuid binary gives root
//! back. The "victim" files stand for root-only files elsewhere on the machine: every
//! test checks that they are unchanged (writes) and that no byte of them is printed
//! (reads, planted in the harness).
//!
//! Each test needs root (it makes files owned by `nobody`, 65534, and runs `--user`);
//! without it, it says so and passes.

mod common;
use common::Case;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Stdio};

const NOBODY: u32 = 65534;

fn root_or_skip() -> bool {
    let root = common::is_root();
    if !root {
        eprintln!("skipped: needs root");
    }
    root
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `chown -h`: the link itself, as if `nobody` had made it.
fn lchown(p: &Path, uid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
}

/// A root-only file standing for `/etc/shadow` and the like.
fn victim(c: &mut Case, contents: &str) -> std::path::PathBuf {
    let v = c.file("victim", contents.as_bytes());
    chmod(&v, 0o600);
    c.plant(contents);
    v
}

fn inject_manifest(c: &mut Case, targets: &[&Path]) {
    let mut m = String::from("version: 1\nsecrets:\n");
    for (i, t) in targets.iter().enumerate() {
        m.push_str(&format!(
            "  S{i}:\n    inject: {{env: false, file: {}}}\n",
            t.display()
        ));
    }
    c.manifest(&m);
}

fn plant_values(c: &mut Case, n: usize) {
    for i in 0..n {
        c.secret_env(&format!("S{i}"), &format!("value-of-secret-{i}-4f1c9a"));
    }
}

// ---------------------------------------------------------------------------------------
// inject.file writes (issue 14 item 1)
// ---------------------------------------------------------------------------------------

#[test]
fn inject_file_into_a_directory_the_user_owns_is_refused_and_its_link_not_followed() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let v = victim(&mut c, "ROOT-ONLY-victim-a1b2c3d4");
    let app = c.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::os::unix::fs::chown(&app, Some(NOBODY), Some(NOBODY)).unwrap();
    // What nobody plants in its own directory: the target is a link to the victim.
    symlink(&v, app.join("db")).unwrap();
    lchown(&app.join("db"), NOBODY);
    inject_manifest(&mut c, &[&app.join("db")]);
    plant_values(&mut c, 1);
    let r = c.run(&["--user", "nobody", "--", "sh", "-c", "echo COMMAND-RAN"]);
    r.code(78)
        .stderr_has("S0: cannot write inject.file")
        .stderr_has("is owned by uid 65534");
    assert!(!r.stdout.contains("COMMAND-RAN"));
    let meta = std::fs::metadata(&v).unwrap();
    assert_eq!(
        std::fs::read_to_string(&v).unwrap(),
        "ROOT-ONLY-victim-a1b2c3d4"
    );
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&meta),
        0,
        "victim not chowned"
    );
}

#[test]
fn a_link_as_the_final_component_is_replaced_not_written_through() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let v = victim(&mut c, "ROOT-ONLY-victim-e5f6a7b8");
    let target = c.path().join("db");
    symlink(&v, &target).unwrap();
    inject_manifest(&mut c, &[&target]);
    plant_values(&mut c, 1);
    c.run(&["--user", "nobody", "--", "true"]).code(0);
    assert_eq!(
        std::fs::read_to_string(&v).unwrap(),
        "ROOT-ONLY-victim-e5f6a7b8"
    );
    let meta = std::fs::symlink_metadata(&target).unwrap();
    assert!(meta.is_file(), "the link itself was replaced by the file");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "value-of-secret-0-4f1c9a"
    );
}

#[test]
fn a_fifo_a_device_or_a_socket_at_an_inject_file_target_is_refused_not_replaced() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let fifo = c.path().join("fifo");
    let device = c.path().join("null");
    let socket = c.path().join("sock");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
            && Command::new("mknod")
                .args([device.as_os_str(), "c".as_ref(), "1".as_ref(), "3".as_ref()])
                .status()
                .unwrap()
                .success()
    );
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    inject_manifest(&mut c, &[&fifo, &device, &socket]);
    plant_values(&mut c, 3);
    let r = c.run(&["check"]);
    r.code(78)
        .stdout_has("is a FIFO, not a regular file")
        .stdout_has("is a device, not a regular file")
        .stdout_has("is a socket, not a regular file");
    c.run(&["--user", "nobody", "--", "true"])
        .code(78)
        .stderr_has("is a FIFO, not a regular file")
        .stderr_has("is a device, not a regular file")
        .stderr_has("is a socket, not a regular file");
    use std::os::unix::fs::FileTypeExt;
    let kind = |p: &Path| std::fs::symlink_metadata(p).unwrap().file_type();
    assert!(kind(&fifo).is_fifo(), "the FIFO is still there");
    assert!(kind(&device).is_char_device(), "the device is still there");
    assert!(kind(&socket).is_socket(), "the socket is still there");
}

#[test]
fn a_parent_directory_swapped_for_a_users_link_is_refused() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    // The case directory is sticky and world-writable, like /tmp: nobody made `run`
    // there, a link to a directory of its choosing.
    chmod(c.path(), 0o1777);
    let elsewhere = c.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, c.path().join("run")).unwrap();
    lchown(&c.path().join("run"), NOBODY);
    let target = c.path().join("run/app/db");
    inject_manifest(&mut c, &[&target]);
    plant_values(&mut c, 1);
    c.run(&["--user", "nobody", "--", "true"])
        .code(78)
        .stderr_has("is owned by uid 65534 in");
    assert!(
        !elsewhere.join("app").exists(),
        "nothing was created through the link"
    );
}

#[test]
fn inject_file_directly_in_a_sticky_world_writable_directory_is_refused() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let shared = c.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o1777);
    inject_manifest(&mut c, &[&shared.join("db")]);
    plant_values(&mut c, 1);
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("can be written by others (sticky");
    assert!(!shared.join("db").exists());
}

#[test]
fn inject_files_are_written_all_or_none_and_every_bad_one_is_reported() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let good = c.file("good/db", b"OLD");
    let open1 = c.path().join("open1");
    let open2 = c.path().join("open2");
    for d in [&open1, &open2] {
        std::fs::create_dir(d).unwrap();
        chmod(d, 0o777);
    }
    let fresh = c.path().join("made/by/sesame/db");
    inject_manifest(
        &mut c,
        &[&good, &fresh, &open1.join("db"), &open2.join("db")],
    );
    plant_values(&mut c, 4);
    let r = c.run(&["--", "sh", "-c", "echo COMMAND-RAN"]);
    r.code(78)
        .stderr_has("S2: cannot write inject.file")
        .stderr_has("S3: cannot write inject.file")
        .stderr_lacks("S0:")
        .stderr_lacks("S1:");
    assert!(!r.stdout.contains("COMMAND-RAN"));
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "OLD",
        "not replaced"
    );
    assert!(
        !c.path().join("made").exists(),
        "directories made for it removed"
    );
    let left: Vec<_> = std::fs::read_dir(good.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["db"], "no temporary file left behind");
}

/// Two `inject.file`s that are one file under two paths (through a link root made, as
/// Debian's `/var/run -> /run`) are refused: the second rename would silently give the
/// first secret's file the second secret's value. Nothing is written.
#[test]
fn two_inject_files_that_are_one_file_through_a_link_are_refused() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let real = c.path().join("run");
    std::fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&real, c.path().join("var-run")).unwrap();
    let first = real.join("app/x");
    let second = c.path().join("var-run/app/x");
    inject_manifest(&mut c, &[&first, &second]);
    plant_values(&mut c, 2);
    let r = c.run(&["--", "sh", "-c", "echo COMMAND-RAN"]);
    r.code(78)
        .stderr_has("S1: cannot write inject.file")
        .stderr_has("is the same file as S0's inject.file");
    assert!(!r.stdout.contains("COMMAND-RAN"));
    assert!(!real.join("app").exists(), "nothing written, nothing made");
    // `check` says so too, once the directory exists.
    std::fs::create_dir(real.join("app")).unwrap();
    c.run(&["check"])
        .code(78)
        .stdout_has("is the same file as S0's inject.file");
}

#[test]
fn check_reports_every_bad_inject_file_and_the_unknown_user_without_writing() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let open = c.path().join("open");
    std::fs::create_dir(&open).unwrap();
    chmod(&open, 0o777);
    let fine = c.path().join("fine/db");
    inject_manifest(&mut c, &[&open.join("a"), &fine, &open.join("b")]);
    plant_values(&mut c, 3);
    let r = c.run(&["check"]);
    r.code(78)
        .stdout_has("inject.file")
        .stdout_has("can be written by others");
    let bad_rows = r
        .stdout
        .lines()
        .filter(|l| l.contains("invalid") && l.contains("inject.file"))
        .count();
    assert_eq!(bad_rows, 2, "{}", r.stdout);
    assert!(
        !fine.exists() && !c.path().join("fine").exists(),
        "check writes nothing"
    );
    // The launch refuses an unknown --user with 77; so does check, with the table too.
    let r = c.run(&["--user", "ghost-user-x", "check"]);
    r.code(77)
        .stderr_has("unknown user")
        .stdout_has("inject.file");
    let r = c.run(&["--user", "ghost-user-x", "check", "--format", "json"]);
    r.code(77).stdout_has("\"inject.file ");
}

// ---------------------------------------------------------------------------------------
// Reading as root for --user (issue 14 item 2)
// ---------------------------------------------------------------------------------------

/// A case with DB_PASSWORD read from the secrets directory, which is made `mode`.
fn reading_case(mode: u32) -> (Case, std::path::PathBuf) {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  DB_PASSWORD: {}\n");
    let v = victim(&mut c, "ROOT-ONLY-shadow-9d8c7b6a");
    chmod(&c.secrets_dir(), mode);
    (c, v)
}

#[test]
fn a_link_planted_in_a_world_writable_secrets_dir_is_refused_for_user() {
    if !root_or_skip() {
        return;
    }
    let (c, v) = reading_case(0o777);
    let link = c.secrets_dir().join("db_password");
    symlink(&v, &link).unwrap();
    lchown(&link, NOBODY);
    let r = c.run(&[
        "--user",
        "nobody",
        "--",
        "sh",
        "-c",
        "echo COMMAND-RAN \"$DB_PASSWORD\"",
    ]);
    r.code(78)
        .stderr_has("can be written by others (mode 0777)");
    assert!(!r.stdout.contains("COMMAND-RAN"));
}

#[test]
fn a_users_link_in_a_sticky_secrets_dir_is_refused_and_roots_own_link_is_followed() {
    if !root_or_skip() {
        return;
    }
    let (mut c, v) = reading_case(0o1777);
    let link = c.secrets_dir().join("db_password");
    symlink(&v, &link).unwrap();
    lchown(&link, NOBODY);
    c.run(&["--user", "nobody", "--", "true"])
        .code(78)
        .stderr_has("is owned by uid 65534 in");
    // Kubernetes' layout: a sticky 1777 volume whose root-owned links stay inside it.
    std::fs::remove_file(&link).unwrap();
    let data = c.secrets_dir().join("..2026_12_01");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("db_password"), "kubelet-wrote-this-7e6d5c\n").unwrap();
    c.plant("kubelet-wrote-this-7e6d5c");
    symlink("..2026_12_01", c.secrets_dir().join("..data")).unwrap();
    symlink("..data/db_password", &link).unwrap();
    c.child_prints_secrets();
    let r = c.run(&[
        "--user",
        "nobody",
        "--",
        "sh",
        "-c",
        "printf '%s' \"$DB_PASSWORD\"",
    ]);
    r.code(0).stdout_is_secretly("kubelet-wrote-this-7e6d5c");
}

#[test]
fn a_user_owned_directory_on_an_x_file_path_is_refused_for_user() {
    if !root_or_skip() {
        return;
    }
    let (mut c, v) = reading_case(0o755);
    let home = c.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::os::unix::fs::chown(&home, Some(NOBODY), Some(NOBODY)).unwrap();
    symlink(&v, home.join("db")).unwrap();
    lchown(&home.join("db"), NOBODY);
    c.env("DB_PASSWORD_FILE", home.join("db").as_os_str());
    let r = c.run(&["--user", "nobody", "--", "sh", "-c", "echo COMMAND-RAN"]);
    r.code(78).stderr_has("is owned by uid 65534");
    assert!(!r.stdout.contains("COMMAND-RAN"));
    // The same path without --user: sesame reads with no more rights than the command.
    c.child_prints_secrets();
    c.run(&["--", "true"]).code(0);
}

// ---------------------------------------------------------------------------------------
// /etc/passwd (issue 14 item 6)
// ---------------------------------------------------------------------------------------

#[test]
fn a_fifo_or_a_device_as_etc_passwd_fails_closed_without_hanging() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::with_secrets();
    let fifo = c.path().join("passwd-fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    for (what, source) in [
        ("a FIFO", fifo.to_str().unwrap()),
        ("a character device", "/dev/zero"),
    ] {
        let script = format!("mount --bind {source} /etc/passwd && exec \"$@\"");
        c.wrapper(&["unshare", "--mount", "sh", "-c", &script, "sh"]);
        c.timeout(std::time::Duration::from_secs(10));
        c.run(&["--user", "nobody", "--", "true"])
            .code(77)
            .stderr_has("cannot read /etc/passwd")
            .stderr_has(what);
    }
}

/// sesame runs the command as root only when asked for as root: another name with uid 0
/// in the image's `/etc/passwd` (`toor`, an `app` line edited to uid 0) is refused,
/// so `--user app` never means root. `--user root` and `--user 0` still work.
#[test]
fn a_name_other_than_root_with_uid_0_is_refused() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::with_secrets();
    let passwd = c.file(
        "passwd",
        b"root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:0:1000::/app:/bin/sh\n",
    );
    let script = format!(
        "mount --bind {} /etc/passwd && exec \"$@\"",
        passwd.display()
    );
    c.wrapper(&["unshare", "--mount", "sh", "-c", &script, "sh"]);
    for user in ["toor", "app", "app:1000"] {
        c.run(&["--user", user, "--", "id", "-u"])
            .code(77)
            .stderr_has("has uid 0 in /etc/passwd");
    }
    for user in ["root", "0"] {
        let r = c.run(&["--user", user, "--", "id", "-u"]);
        r.code(0);
        assert_eq!(r.stdout.trim(), "0");
    }
}

/// A user listed in 100,000 groups of `/etc/group`: refused at once (more than the
/// kernel's 65536 supplementary groups), not after minutes of looking for duplicates;
/// 60,000 groups are set, quickly.
#[test]
fn a_user_in_100000_groups_is_refused_quickly_and_60000_are_set() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::with_secrets();
    for (n, code) in [(100_000, 77), (60_000, 0)] {
        let mut group = String::from("root:x:0:\n");
        for i in 0..n {
            group.push_str(&format!("g{i}:x:{}:nobody\n", 10_000 + i));
        }
        let file = c.file(&format!("group-{n}"), group.as_bytes());
        let script = format!("mount --bind {} /etc/group && exec \"$@\"", file.display());
        c.wrapper(&["unshare", "--mount", "sh", "-c", &script, "sh"]);
        c.timeout(std::time::Duration::from_secs(15));
        let r = c.run(&["--user", "nobody", "--", "sh", "-c", "id -G | wc -w"]);
        r.code(code);
        if code == 77 {
            r.stderr_has("more than 65536 groups");
        } else {
            assert_eq!(r.stdout.trim(), "60000");
        }
    }
}

// ---------------------------------------------------------------------------------------
// SIGPIPE (issue 14 item 7)
// ---------------------------------------------------------------------------------------

/// Runs sesame with stderr a pipe nobody reads (its read end closed), stdout captured.
fn with_closed_stderr(c: &Case, pre: &[&str], args: &[&str]) -> std::process::Output {
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let mut argv: Vec<String> = pre.iter().map(|s| s.to_string()).collect();
    argv.push(common::sesame_bin().to_str().unwrap().to_owned());
    argv.extend(
        [
            "-m",
            c.manifest_path().to_str().unwrap(),
            "-d",
            c.secrets_dir().to_str().unwrap(),
        ]
        .map(String::from),
    );
    argv.extend(args.iter().map(|s| s.to_string()));
    Command::new(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(write))
        .output()
        .unwrap()
}

#[test]
fn a_closed_stderr_does_not_kill_sesame_and_the_command_keeps_its_sigpipe() {
    use std::os::unix::process::ExitStatusExt;
    let mut c = Case::new();
    // An optional secret that is absent: a warning on stderr before the command starts.
    c.manifest("version: 1\nsecrets:\n  GONE: {required: false}\n  NEEDED: {}\n");
    // A missing required secret: errors on stderr, then exit 78 (not SIGPIPE, 141).
    let out = with_closed_stderr(&c, &[], &["--", "true"]);
    assert_eq!(
        (out.status.code(), out.status.signal()),
        (Some(78), None),
        "sesame was killed writing to a closed stderr"
    );
    c.manifest("version: 1\nsecrets:\n  GONE: {required: false}\n");
    // SIGPIPE is bit 13 of SigIgn (mask 0x1000): default for the command, as sesame was
    // started with; ignored when sesame was started with it ignored.
    let sigign = "grep SigIgn /proc/self/status";
    for (pre, want_ignored) in [
        (&[][..], false),
        (&["sh", "-c", "trap '' PIPE; exec \"$@\"", "sh"][..], true),
    ] {
        for mode in ["--no-init", "--init"] {
            let out = with_closed_stderr(&c, pre, &[mode, "--", "sh", "-c", sigign]);
            assert_eq!(out.status.code(), Some(0), "{mode}");
            let line = String::from_utf8_lossy(&out.stdout);
            let mask = u64::from_str_radix(line.trim().trim_start_matches("SigIgn:").trim(), 16)
                .unwrap_or_else(|_| panic!("no SigIgn in {line:?}"));
            assert_eq!(mask & 0x1000 != 0, want_ignored, "{mode}: {line}");
        }
    }
    // `check` with stdout closed too (`sesame check | true`).
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let status = Command::new(common::sesame_bin())
        .args(["-m", c.manifest_path().to_str().unwrap(), "check"])
        .env_clear()
        .stdout(Stdio::from(write))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!((status.code(), status.signal()), (Some(0), None));
}

// ---------------------------------------------------------------------------------------
// no_new_privs (issue 14 item 12)
// ---------------------------------------------------------------------------------------

#[test]
fn after_user_a_setuid_binary_cannot_give_root_back_unless_the_manifest_allows_it() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::with_secrets();
    // A setuid-root `id`: `id -u` prints the effective uid it runs with.
    let id = c.path().join("suid-id");
    std::fs::copy(
        Command::new("sh")
            .args(["-c", "command -v id"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap(),
        &id,
    )
    .unwrap();
    chmod(&id, 0o4755);
    let script = format!(
        "grep NoNewPrivs /proc/self/status | tr -d ' \\t'; {} -u",
        id.display()
    );
    for init in ["--no-init", "--init"] {
        let r = c.run(&["--user", "nobody", init, "--", "sh", "-c", &script]);
        r.code(0);
        assert_eq!(r.stdout, "NoNewPrivs:1\n65534\n", "{init}");
    }
    // --watch drops in the child, after the fork: the same there.
    let r = c.run(&[
        "--user", "nobody", "--init", "--watch", "--", "sh", "-c", &script,
    ]);
    r.code(0);
    assert_eq!(r.stdout, "NoNewPrivs:1\n65534\n", "--watch");
    // The opt-out, for images whose program needs a setuid helper.
    c.manifest(
        "version: 1\nno_new_privs: false\nsecrets:\n  DB_PASSWORD:\n    min_length: 8\n  API_KEY: {}\n",
    );
    let r = c.run(&["--user", "nobody", "--", "sh", "-c", &script]);
    r.code(0);
    assert_eq!(r.stdout, "NoNewPrivs:0\n0\n");
}

#[test]
fn a_watch_rewrite_goes_through_the_same_checks_and_writes_all_or_none() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let v = victim(&mut c, "ROOT-ONLY-victim-c0ffee42");
    let good = c.path().join("run/good/a");
    let later_open = c.path().join("run/open/b");
    c.manifest(&format!(
        "version: 1\nsecrets:\n  A:\n    inject: {{env: false, file: {}}}\n  B:\n    inject: {{env: false, file: {}}}\n",
        good.display(),
        later_open.display()
    ));
    c.secret_file("A", "first-value-of-a-5a5a\n");
    c.secret_file("B", "first-value-of-b-6b6b\n");
    c.plant("second-value-of-a-7c7c");
    let log = c.path().join("stderr.log");
    let mut sesame = Command::new(common::sesame_bin())
        .args(["-m", c.manifest_path().to_str().unwrap()])
        .args(["-d", c.secrets_dir().to_str().unwrap()])
        .args(["--init", "--watch", "--user", "nobody", "--", "sleep", "60"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    common::wait_for_file(&later_open);
    // While it runs, b's directory becomes writable by others and b a link to the
    // victim (what a user who could write that directory would do).
    let open_dir = later_open.parent().unwrap();
    chmod(open_dir, 0o777);
    std::fs::remove_file(&later_open).unwrap();
    symlink(&v, &later_open).unwrap();
    lchown(&later_open, NOBODY);
    let a = c.secrets_dir().join("A");
    std::fs::write(a.with_extension("tmp"), "second-value-of-a-7c7c\n").unwrap();
    std::fs::rename(a.with_extension("tmp"), &a).unwrap();
    common::poll(
        std::time::Duration::from_secs(30),
        "the refused rewrite in sesame's log",
        || {
            std::fs::read_to_string(&log)
                .ok()
                .filter(|s| s.contains("B: cannot write inject.file"))
        },
    );
    common::send_signal(sesame.id() as i32, nix::sys::signal::Signal::SIGTERM as i32);
    let _ = sesame.wait();
    let printed = std::fs::read_to_string(&log).unwrap();
    for secret in [
        "ROOT-ONLY-victim-c0ffee42",
        "first-value-of-a-5a5a",
        "second-value-of-a-7c7c",
    ] {
        assert!(!printed.contains(secret), "a value was printed");
    }
    assert_eq!(
        std::fs::read_to_string(&v).unwrap(),
        "ROOT-ONLY-victim-c0ffee42"
    );
    assert!(
        std::fs::read_to_string(&good).unwrap() == "first-value-of-a-5a5a",
        "a was not rewritten either: all or none"
    );
}

#[test]
fn with_user_a_manifest_the_user_could_change_is_refused() {
    if !root_or_skip() {
        return;
    }
    let c = Case::with_secrets();
    // Whoever can rewrite the manifest picks what root reads (secrets_dir: /root) and
    // where it writes (inject.file: /etc/passwd).
    std::os::unix::fs::chown(c.manifest_path(), Some(NOBODY), Some(NOBODY)).unwrap();
    c.run(&["--user", "nobody", "--", "sh", "-c", "echo COMMAND-RAN"])
        .code(78)
        .stderr_has("manifest.yaml is owned by uid 65534");
    std::os::unix::fs::chown(c.manifest_path(), Some(0), Some(0)).unwrap();
    chmod(&c.manifest_path(), 0o666);
    c.run(&["--user", "nobody", "--", "true"])
        .code(78)
        .stderr_has("can be written by its group or others (mode 0666)");
    chmod(&c.manifest_path(), 0o644);
    c.run(&["--user", "nobody", "--", "true"]).code(0);
    // Without --user sesame reads as the command's own user: nothing to refuse.
    chmod(&c.manifest_path(), 0o666);
    c.run(&["--", "true"]).code(0);
}

/// The manifest is read from the file the walk checked, not looked up again by name.
/// Before, a manifest missing from a sticky directory (`/tmp`) passed the check (nothing
/// to refuse) and was then opened by name: `nobody`, creating it in between, chose what
/// root read and wrote (about one run in ten won this race).
#[test]
fn with_user_a_manifest_made_by_the_user_during_the_check_is_never_read() {
    if !root_or_skip() {
        return;
    }
    let c = Case::new();
    let sticky = c.path().join("sticky");
    std::fs::create_dir(&sticky).unwrap();
    chmod(&sticky, 0o1777);
    let manifest = sticky.join("m.yaml");
    // nobody's manifest, created and removed as fast as nobody can.
    let racer = format!(
        "import os\n\
         while True:\n\
         \x20   try:\n\
         \x20       fd = os.open({manifest:?}, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)\n\
         \x20       os.write(fd, b'version: 1\\nsecrets:\\n  A: {{required: false}}\\n')\n\
         \x20       os.close(fd)\n\
         \x20   except FileExistsError:\n\
         \x20       pass\n\
         \x20   try:\n\
         \x20       os.unlink({manifest:?})\n\
         \x20   except FileNotFoundError:\n\
         \x20       pass\n"
    );
    // The system's python3: one under /root (pyenv) is not nobody's to run.
    let mut attacker = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .args(["python3", "-c", &racer])
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .spawn()
        .expect("setpriv python3");
    let m = manifest.to_str().unwrap();
    let mut codes = std::collections::BTreeMap::new();
    for _ in 0..300 {
        let r = c.run_raw(&[
            "-m".into(),
            m.into(),
            "-d".into(),
            c.secrets_dir().into(),
            "--user".into(),
            "nobody".into(),
            "--".into(),
            "true".into(),
        ]);
        *codes.entry(r.code).or_insert(0) += 1;
    }
    assert!(
        attacker.try_wait().unwrap().is_none(),
        "the attacker ran all along"
    );
    let _ = attacker.kill();
    let _ = attacker.wait();
    assert_eq!(
        codes.keys().copied().collect::<Vec<_>>(),
        [Some(78)],
        "every run refuses (78), none runs the command with nobody's manifest: {codes:?}"
    );
}
