//! `--user USER[:GROUP]` (SPEC §5.3): the gosu matrix, secrets only root can read fed
//! to an unprivileged program, every bad spec failing closed with exit 77 before the
//! command runs, and an unprivileged supervisor in init mode.
//!
//! The matrix runs in a private mount namespace with its own /etc/passwd and /etc/group
//! bind-mounted over the real ones, so it can have users with supplementary groups
//! without touching the machine's files. Every case plants secrets; the harness checks
//! that none appears in sesame's output. All of this needs root; without it each test
//! says so and passes.

mod common;
use common::{Case, children_of, namespace_init, send_signal, status_line, wait_for_file};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

fn root_or_skip() -> bool {
    let root = common::is_root();
    if !root {
        eprintln!("skipped: --user needs root");
    }
    root
}

const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:The App:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
";

/// A case whose sesame sees [`PASSWD`] and [`common::TEST_GROUP`] as the system's files.
fn matrix_case() -> Case {
    let mut c = Case::with_secrets();
    let passwd = c.file("etc/passwd", PASSWD.as_bytes());
    let group = c.file("etc/group", common::TEST_GROUP.as_bytes());
    let script = c.file("with_etc.sh", common::WITH_ETC.as_bytes());
    let (script, passwd, group) = (
        script.to_str().unwrap().to_owned(),
        passwd.to_str().unwrap().to_owned(),
        group.to_str().unwrap().to_owned(),
    );
    c.wrapper(&["unshare", "--mount", "sh", &script, &passwd, &group]);
    c.env("HOME", "/root");
    c
}

/// What the command reports about itself: uid, gid, every group (sorted), HOME, and
/// its effective capabilities.
const WHOAMI: &str = "echo \"$(id -u) $(id -g) [$(id -G | tr ' ' '\\n' | sort -n | tr '\\n' ' ' \
                      | sed 's/ $//')] $HOME $(grep CapEff /proc/self/status | cut -f2)\"";

#[test]
fn the_gosu_matrix_names_ids_user_group_supplementary_groups_and_home() {
    if !root_or_skip() {
        return;
    }
    let c = matrix_case();
    let none = "0000000000000000";
    let cases: &[(&str, String)] = &[
        ("app", format!("1000 1000 [29 44 1000] /home/app {none}")),
        ("1000", format!("1000 1000 [29 44 1000] /home/app {none}")),
        ("app:staff", format!("1000 50 [50] /home/app {none}")),
        ("app:50", format!("1000 50 [50] /home/app {none}")),
        ("1000:1000", format!("1000 1000 [1000] /home/app {none}")),
        ("app:4242", format!("1000 4242 [4242] /home/app {none}")),
        (
            "nobody",
            format!("65534 65534 [44 65534] /nonexistent {none}"),
        ),
        (
            "nobody:nogroup",
            format!("65534 65534 [65534] /nonexistent {none}"),
        ),
        ("65534:0", format!("65534 0 [0] /nonexistent {none}")),
        ("daemon", format!("1 1 [1] /usr/sbin {none}")),
        ("4321", format!("4321 4321 [4321] / {none}")),
        ("4321:staff", format!("4321 50 [50] / {none}")),
    ];
    for (spec, expected) in cases {
        let r = c.run(&["--user", spec, "--", "sh", "-c", WHOAMI]);
        r.code(0);
        assert_eq!(
            r.stdout.trim(),
            expected,
            "--user {spec}; stderr:\n{}",
            r.stderr
        );
    }
    // root stays root but loses the groups root had (gosu does the same).
    let r = c.run(&["--user", "root", "--", "sh", "-c", WHOAMI]);
    r.code(0);
    assert!(r.stdout.starts_with("0 0 [0] /root "), "{}", r.stdout);
}

#[test]
fn a_numeric_uid_without_a_passwd_entry_gets_its_own_gid_and_a_warning() {
    if !root_or_skip() {
        return;
    }
    let c = matrix_case();
    let r = c.run(&["--user", "4321", "--", "sh", "-c", WHOAMI]);
    r.code(0)
        .stderr_has("sesame: warn: --user 4321: uid 4321 has no entry in /etc/passwd");
    assert!(r.stdout.starts_with("4321 4321 [4321] / "), "{}", r.stdout);
    // With the group given there is nothing to guess: no warning.
    c.run(&["--user", "4321:4321", "--", "true"])
        .code(0)
        .stderr_lacks("warn");
}

#[test]
fn the_dropped_user_has_every_credential_changed_and_cannot_regain_root() {
    if !root_or_skip() {
        return;
    }
    let c = matrix_case();
    let r = c.run(&[
        "--user",
        "app",
        "--",
        "sh",
        "-c",
        "grep -E '^(Uid|Gid|Groups|CapPrm|CapEff)' /proc/self/status; \
         setpriv --reuid=0 true 2>/dev/null && echo REGAINED-ROOT; exit 0",
    ]);
    r.code(0);
    for (line, want) in [
        ("Uid:", "1000\t1000\t1000\t1000"),
        ("Gid:", "1000\t1000\t1000\t1000"),
        ("Groups:", "29 44"),
        ("CapPrm:", "0000000000000000"),
        ("CapEff:", "0000000000000000"),
    ] {
        let got = r
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(line))
            .unwrap_or_else(|| panic!("no {line} in {}", r.stdout));
        assert_eq!(got.trim(), want, "{line}");
    }
    assert!(!r.stdout.contains("REGAINED-ROOT"));
}

#[test]
fn a_0400_root_only_secret_reaches_a_program_running_as_nobody() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let file = c.path().join("run/app/db_password");
    c.manifest(&format!(
        "version: 1\nsecrets:\n  DB_PASSWORD:\n    inject:\n      file: {}\n",
        file.display()
    ));
    let secret = c.secret_file("db_password", "root-only-Pa55word-1c9e44\n");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o400)).unwrap();
    std::os::unix::fs::chown(&secret, Some(0), Some(0)).unwrap();
    c.child_prints_secrets();
    let r = c.run(&[
        "--user",
        "nobody",
        "--",
        "sh",
        "-c",
        &format!(
            "id -u; printf '%s\\n' \"$DB_PASSWORD\"; cat {}; echo; \
             cat {} 2>/dev/null || echo 'nobody cannot read the source file'",
            file.display(),
            secret.display()
        ),
    ]);
    r.code(0);
    r.stdout_is_secretly(
        "65534\nroot-only-Pa55word-1c9e44\nroot-only-Pa55word-1c9e44\n\
         nobody cannot read the source file\n",
    );
    // The inject.file is the user's, with its mode; the directories made for it stay
    // root's (0711: the user reaches its file by name, but cannot list or swap them).
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (65534, 65534, 0o400)
    );
    for dir in ["run", "run/app"] {
        let meta = std::fs::metadata(c.path().join(dir)).unwrap();
        assert_eq!((meta.uid(), meta.mode() & 0o7777), (0, 0o711), "{dir}");
    }
}

#[test]
fn every_bad_user_spec_fails_closed_with_77_and_the_command_never_runs() {
    if !root_or_skip() {
        return;
    }
    let c = matrix_case();
    let bad = [
        ("-1", "is not a user name or a numeric id"),
        ("+8", "is not a user name or a numeric id"),
        (" 7", "is not a user name or a numeric id"),
        ("7 ", "is not a user name or a numeric id"),
        ("0x10", "unknown user"),
        ("ghost", "unknown user \"ghost\""),
        ("audio", "unknown user \"audio\""),
        ("nobody:ghosts", "unknown group \"ghosts\""),
        ("app:-1", "is not a group name or a numeric id"),
        ("nobody:", "empty group"),
        (":nogroup", "empty user"),
        (":", "empty"),
        ("a:b:c", "more than one ':'"),
        ("", "the user is empty"),
        ("4294967295", "(uid_t)-1"),
        ("4294967296", "out of range"),
        ("app:4294967295", "(uid_t)-1"),
    ];
    for (spec, why) in bad {
        let r = c.run(&[
            &format!("--user={spec}"),
            "--",
            "sh",
            "-c",
            "echo COMMAND-RAN",
        ]);
        r.code(77)
            .stderr_has(&format!("sesame: error: --user {spec}: "))
            .stderr_has(why);
        assert!(
            !r.stdout.contains("COMMAND-RAN"),
            "--user {spec:?} ran the command"
        );
    }
    // `--user -1` and `-u +8` as two words reach the same parser (not clap's "unexpected
    // argument", which would be a usage error).
    for args in [["--user", "-1"], ["-u", "+8"]] {
        let r = c.run(&[args[0], args[1], "--", "sh", "-c", "echo COMMAND-RAN"]);
        r.code(77).stderr_has("is not a user name or a numeric id");
        assert!(!r.stdout.contains("COMMAND-RAN"));
    }
    // The same through SESAME_USER, including set but empty (a failed substitution),
    // which must not mean "stay root".
    for spec in ["ghost", "-1", ""] {
        let mut c = matrix_case();
        c.env("SESAME_USER", spec);
        let r = c.run(&["--", "sh", "-c", "echo COMMAND-RAN"]);
        r.code(77);
        assert!(
            !r.stdout.contains("COMMAND-RAN"),
            "SESAME_USER={spec:?} ran the command"
        );
    }
}

#[test]
fn asking_to_change_user_when_not_root_exits_77_with_a_clear_message() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::with_secrets();
    c.wrapper(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]);
    // Without --user the same unprivileged sesame runs the command (the secrets are
    // readable by anyone in this test).
    c.run(&["--", "sh", "-c", "echo COMMAND-RAN"])
        .code(0)
        .stdout_has("COMMAND-RAN");
    // Being root is checked before the spec is even parsed: the fix is the same.
    for spec in ["nobody", "65534", "ghost", "-1"] {
        let r = c.run(&[
            &format!("--user={spec}"),
            "--",
            "sh",
            "-c",
            "echo COMMAND-RAN",
        ]);
        r.code(77).stderr_has(&format!(
            "sesame: error: --user {spec}: cannot change user: sesame runs as uid 65534, not root"
        ));
        assert!(!r.stdout.contains("COMMAND-RAN"));
    }
}

#[test]
fn in_init_mode_with_user_both_the_supervisor_and_the_child_are_unprivileged() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::with_secrets();
    c.wrapper(&["unshare", "--pid", "--fork", "--mount-proc"])
        .timeout(Duration::from_secs(60));
    let w = c.path().join("w");
    std::fs::create_dir(&w).unwrap();
    std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o777)).unwrap();
    let running = c.spawn(&[
        "--user",
        "nobody",
        "--",
        "sh",
        "-c",
        "touch w/ready; exec sleep 1000",
    ]);
    let sesame = namespace_init(running.pid());
    wait_for_file(&w.join("ready"));
    let child = children_of(sesame)[0];
    for (who, pid) in [("supervisor", sesame), ("child", child)] {
        for key in ["Uid", "Gid"] {
            assert_eq!(
                status_line(pid, key).unwrap(),
                "65534\t65534\t65534\t65534",
                "{who} {key}"
            );
        }
        assert_eq!(
            status_line(pid, "CapEff").unwrap(),
            "0000000000000000",
            "{who}"
        );
        assert_eq!(
            status_line(pid, "CapPrm").unwrap(),
            "0000000000000000",
            "{who}"
        );
    }
    // An unprivileged PID 1 still forwards (same uid as its child) and passes the code.
    send_signal(sesame, 15);
    c.finish(running).code(143);
}

#[test]
fn a_setuid_copy_of_sesame_refuses_to_run() {
    if !root_or_skip() {
        return;
    }
    let c = Case::with_secrets();
    let copy = c.path().join("sesame-suid");
    std::fs::copy(common::sesame_bin(), &copy).unwrap();
    std::fs::set_permissions(&copy, PermissionsExt::from_mode(0o4755)).unwrap();
    std::fs::set_permissions(c.manifest_path(), PermissionsExt::from_mode(0o644)).unwrap();
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy)
        .arg("-m")
        .arg(c.manifest_path())
        .args(["--", "touch"])
        .arg(c.path().join("ran"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let r = common::run_with_timeout(cmd, None, Duration::from_secs(20));
    c.assert_no_leak(&r);
    if std::process::Command::new("findmnt")
        .args(["-n", "-o", "OPTIONS", "-T"])
        .arg(c.path())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("nosuid"))
    {
        eprintln!("skipped: the temporary directory is mounted nosuid");
        return;
    }
    r.code(77)
        .stderr_has("installed setuid or setgid; refusing to run");
    assert!(!c.path().join("ran").exists());
}
