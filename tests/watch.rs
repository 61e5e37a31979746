//! Rotation (SPEC §6, issue 8): `--watch` follows the secret files and restarts or
//! signals the command when a value changes, keeps it running when the new set is
//! invalid, handles a burst once, and escalates to SIGKILL after `restart_grace`.
//!
//! The child records each start as a line `PID VALUE` in `starts` (a file, not stdout,
//! so the harness can keep checking that sesame itself prints no value), and each
//! SIGHUP as a line in `hups`.

mod common;
use common::{Case, Running, poll, send_signal};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

/// A child that logs its start (pid and value) and its SIGHUPs, exits 0 on SIGTERM
/// unless told to ignore it, and otherwise sleeps.
fn child_script(ignore_term: bool) -> String {
    let term = if ignore_term {
        "trap '' TERM"
    } else {
        "trap 'exit 0' TERM"
    };
    format!(
        "echo \"$$ $TOKEN\" >> starts; trap 'echo hup >> hups' HUP; {term}; \
         while :; do sleep 0.05; done"
    )
}

fn starts(c: &Case) -> Vec<(i32, String)> {
    std::fs::read_to_string(c.path().join("starts"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            l.split_once(' ')
                .map(|(p, v)| (p.parse().unwrap_or(0), v.to_owned()))
        })
        .collect()
}

fn lines(c: &Case, file: &str) -> usize {
    std::fs::read_to_string(c.path().join(file)).map_or(0, |s| s.lines().count())
}

/// Waits until the child has started `n` times; returns the starts.
fn wait_starts(c: &Case, n: usize) -> Vec<(i32, String)> {
    poll(
        Duration::from_secs(30),
        &format!("{n} start(s) of the command"),
        || {
            let s = starts(c);
            (s.len() >= n).then_some(s)
        },
    )
}

fn alive(pid: i32) -> bool {
    // A zombie is gone for our purposes: sesame reaps it.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

fn stop(c: &Case, running: Running) -> common::Run {
    send_signal(running.pid(), libc_sigterm());
    c.finish(running)
}

fn libc_sigterm() -> i32 {
    nix::sys::signal::Signal::SIGTERM as i32
}

/// Writes `value` the way editors and `kubectl cp` do: a new file renamed over the old.
fn rename_over(path: &Path, value: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, value).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

/// The kubelet's atomic writer (pkg/volume/util/atomic_writer.go): the data lives in a
/// timestamped directory, `..data` links to it, each key links into `..data`. An
/// update writes a new directory, points `..data_tmp` at it, renames `..data_tmp` over
/// `..data`, then removes the old directory.
fn kubelet_write(dir: &Path, generation: u32, key: &str, value: &str) {
    let ts = format!("..2026_11_23_12_00_{generation:02}.{:09}", generation);
    std::fs::create_dir(dir.join(&ts)).unwrap();
    std::fs::write(dir.join(&ts).join(key), value).unwrap();
    symlink(&ts, dir.join("..data_tmp")).unwrap();
    let old = std::fs::read_link(dir.join("..data")).ok();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    if dir.join(key).symlink_metadata().is_err() {
        symlink(format!("..data/{key}"), dir.join(key)).unwrap();
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(dir.join(old)).unwrap();
    }
}

const MANIFEST: &str = "version: 1\nrestart_grace: 5s\nsecrets:\n  TOKEN:\n    min_length: 12\n";

fn case(manifest: &str) -> Case {
    let mut c = Case::new();
    c.manifest(manifest);
    c.timeout(Duration::from_secs(60));
    c
}

#[test]
fn kubelet_atomic_swap_restarts_the_command_with_the_new_value_and_the_old_one_is_gone() {
    let mut c = case(MANIFEST);
    c.plant("kubelet-first-value").plant("kubelet-second-value");
    kubelet_write(&c.secrets_dir(), 1, "token", "kubelet-first-value\n");
    let script = child_script(false);
    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", &script]);
    let first = wait_starts(&c, 1);
    assert!(
        first[0].1 == "kubelet-first-value",
        "the first start has the first value"
    );
    let changed_at = Instant::now();
    kubelet_write(&c.secrets_dir(), 2, "token", "kubelet-second-value\n");
    let second = wait_starts(&c, 2);
    let reaction = changed_at.elapsed();
    assert!(
        second[1].1 == "kubelet-second-value",
        "the restarted command has the new value"
    );
    assert_ne!(second[0].0, second[1].0);
    poll(
        Duration::from_secs(10),
        "the old command to be gone",
        || (!alive(second[0].0)).then_some(()),
    );
    eprintln!("reaction time from the swap to the new command: {reaction:?}");
    let r = stop(&c, running);
    r.code(0)
        .stderr_has("--watch: TOKEN changed; restarting the command");
}

#[test]
fn a_rename_over_edit_restarts_the_command() {
    let mut c = case(MANIFEST);
    let p = c.secret_file("TOKEN", "rename-first-value\n");
    c.plant("rename-second-value");
    let script = child_script(false);
    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", &script]);
    wait_starts(&c, 1);
    rename_over(&p, "rename-second-value\n");
    let s = wait_starts(&c, 2);
    assert!(s[1].1 == "rename-second-value");
    stop(&c, running).code(0);
}

#[test]
fn an_invalid_new_set_is_logged_and_the_command_keeps_running() {
    let mut c = case(MANIFEST);
    let p = c.secret_file("TOKEN", "valid-long-value\n");
    c.plant("q7z-w");
    let script = child_script(false);
    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", &script]);
    let first = wait_starts(&c, 1);
    rename_over(&p, "q7z-w\n");
    // The debounce window is one second; give the reload time to happen and be logged.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(starts(&c).len(), 1, "no restart with an invalid set");
    assert!(alive(first[0].0), "the command keeps running");
    let r = stop(&c, running);
    r.code(0)
        .stderr_has("sesame: error: TOKEN: too short: 5 characters, needs at least 12")
        .stderr_has("the new secrets are invalid; the command keeps running with the old ones");
}

#[test]
fn signal_mode_sends_sighup_and_a_burst_of_ten_changes_is_handled_once() {
    let mut c = case("version: 1\non_change: signal\nsecrets:\n  TOKEN:\n    min_length: 12\n");
    let p = c.secret_file("TOKEN", "signal-first-value\n");
    let script = child_script(false);
    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", &script]);
    wait_starts(&c, 1);
    let burst = Instant::now();
    for i in 0..10 {
        let v = format!("signal-burst-value-{i}");
        c.plant(&v);
        rename_over(&p, &format!("{v}\n"));
    }
    assert!(
        burst.elapsed() < Duration::from_millis(900),
        "the burst must fit in the debounce window"
    );
    poll(Duration::from_secs(15), "one SIGHUP", || {
        (lines(&c, "hups") >= 1).then_some(())
    });
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(
        lines(&c, "hups"),
        1,
        "ten changes within a second are one action"
    );
    assert_eq!(starts(&c).len(), 1, "signal mode does not restart");
    let r = stop(&c, running);
    r.code(0)
        .stderr_has("--watch: TOKEN changed; sending SIGHUP");
}

#[test]
fn a_restart_whose_command_ignores_sigterm_sends_sigkill_after_the_grace_period() {
    let mut c = case("version: 1\nrestart_grace: 1s\nsecrets:\n  TOKEN:\n    min_length: 12\n");
    let p = c.secret_file("TOKEN", "stubborn-first-value\n");
    c.plant("stubborn-second-value");
    let script = child_script(true);
    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", &script]);
    let first = wait_starts(&c, 1);
    let t = Instant::now();
    rename_over(&p, "stubborn-second-value\n");
    let s = wait_starts(&c, 2);
    assert!(
        t.elapsed() >= Duration::from_millis(1900),
        "debounce (1 s) + grace (1 s) before the new start"
    );
    assert!(!alive(first[0].0));
    assert!(s[1].1 == "stubborn-second-value");
    // The new command ignores SIGTERM too: kill it directly, and sesame exits 128+9.
    send_signal(s[1].0, nix::sys::signal::Signal::SIGKILL as i32);
    let r = c.finish(running);
    r.code(137)
        .stderr_has("did not stop within restart_grace; sending SIGKILL");
}

#[test]
fn unchanged_values_do_not_restart() {
    let mut c = case(MANIFEST);
    let p = c.secret_file("TOKEN", "same-value-again\n");
    let script = child_script(false);
    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", &script]);
    wait_starts(&c, 1);
    rename_over(&p, "same-value-again\n");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(starts(&c).len(), 1);
    stop(&c, running).code(0).stderr_lacks("changed;");
}

#[test]
fn watch_without_init_mode_is_a_usage_error() {
    let mut c = case(MANIFEST);
    c.secret_file("TOKEN", "no-init-value-xyz\n");
    c.run(&["--no-init", "--watch", "--", "true"])
        .code(64)
        .stderr_has("--watch needs init mode");
}

#[test]
fn with_user_a_root_only_secret_rotates_into_an_unprivileged_command() {
    if !common::is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut c = case(MANIFEST);
    let p = c.secret_file("TOKEN", "root-only-first-value\n");
    c.plant("root-only-second-value");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o400)).unwrap();
    // The command (as nobody) writes into the case directory: sticky, as /tmp is, so
    // that nobody cannot swap the root-owned secrets directory in it (sesame refuses to
    // read for --user through a directory others can write without the sticky bit).
    std::fs::set_permissions(c.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let script = format!(
        "[ \"$(id -u)\" = 65534 ] || exit 3; {}",
        child_script(false)
    );
    let running = c.spawn(&[
        "--init", "--watch", "--user", "nobody", "--", "sh", "-c", &script,
    ]);
    wait_starts(&c, 1);
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, "root-only-second-value\n").unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o400)).unwrap();
    std::fs::rename(&tmp, &p).unwrap();
    let s = wait_starts(&c, 2);
    assert!(
        s[1].1 == "root-only-second-value",
        "the unprivileged command got the rotated root-only value"
    );
    stop(&c, running).code(0);
}

/// `docker stop` (SIGTERM to sesame) while a `--watch` restart is stopping the old
/// command: the stop request is forwarded to it and the restart is called off, so
/// sesame exits with the old command's status. Before, the signal went to the command
/// that was stopping anyway and a new one started, which never heard of the stop (the
/// container lived on until the runtime's SIGKILL). The same after the restart window:
/// a change while the command drains after a stop starts nothing.
#[test]
fn a_stop_signal_during_a_restart_calls_it_off_and_sesame_exits() {
    let mut c = case("version: 1\nrestart_grace: 20s\nsecrets:\n  TOKEN:\n    min_length: 12\n");
    let p = c.secret_file("TOKEN", "stopping-first-value\n");
    c.plant("stopping-second-value")
        .plant("stopping-third-value");
    // Takes 1.5 s to stop on SIGTERM, as a server draining its connections does; each
    // SIGTERM is recorded in `terms`.
    let script = "echo \"$$ $TOKEN\" >> starts; \
                  trap 'echo term >> terms; sleep 1.5; exit 0' TERM; \
                  while :; do sleep 0.05; done";
    let running = c.spawn(&["--init", "--watch", "--", "sh", "-c", script]);
    wait_starts(&c, 1);
    rename_over(&p, "stopping-second-value\n");
    // The restart has begun: the command got its SIGTERM and is stopping.
    poll(Duration::from_secs(15), "the restart's SIGTERM", || {
        (lines(&c, "terms") >= 1).then_some(())
    });
    let stop_at = Instant::now();
    send_signal(running.pid(), libc_sigterm());
    // A change while the old command drains must not start a new one either.
    rename_over(&p, "stopping-third-value\n");
    let r = c.finish(running);
    assert!(
        stop_at.elapsed() < Duration::from_secs(10),
        "sesame exits once the old command has stopped, not after restart_grace"
    );
    assert_eq!(starts(&c).len(), 1, "no new command after the stop signal");
    r.code(0)
        .stderr_has("SIGTERM during a --watch restart: the command is not started again");
}

/// sesame's own log line written to a stderr nobody reads raises SIGPIPE in sesame;
/// the supervisor, which takes every blocked signal, forwarded it to the command as if
/// someone had sent it, and a command with SIGPIPE's default action died of it (141)
/// when `--watch` logged a change. A signal sesame raised itself is not forwarded.
#[test]
fn a_sigpipe_from_sesames_own_log_line_is_not_forwarded_to_the_command() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let mut c = case("version: 1\non_change: signal\nsecrets:\n  TOKEN:\n    min_length: 12\n");
    let p = c.secret_file("TOKEN", "pipe-first-value\n");
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let mut child = Command::new(common::sesame_bin())
        .args(["-m", c.manifest_path().to_str().unwrap()])
        .args(["-d", c.secrets_dir().to_str().unwrap()])
        .args(["--init", "--watch", "--", "sh", "-c", &child_script(false)])
        .current_dir(c.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(write))
        .spawn()
        .unwrap();
    wait_starts(&c, 1);
    rename_over(&p, "pipe-second-value\n");
    // The debounce window is one second; the reload logs (SIGPIPE), then sends SIGHUP.
    // A command killed by a forwarded SIGPIPE never records it, and sesame exits.
    poll(Duration::from_secs(30), "the change's SIGHUP", || {
        (lines(&c, "hups") >= 1).then_some(())
    });
    let alive = child.try_wait().unwrap().is_none();
    assert_eq!(
        lines(&c, "hups"),
        1,
        "the command got the change's SIGHUP once"
    );
    send_signal(child.id() as i32, libc_sigterm());
    let status = child.wait().unwrap();
    assert!(
        alive,
        "sesame and its command still run after the change: {status:?}"
    );
    assert_eq!((status.code(), status.signal()), (Some(0), None));
}
