//! Differential tests: sesame against the real tini (init mode, PID 1 under
//! `unshare --pid --fork --mount-proc`, or a subreaper with `tini -s`) and the real gosu
//! (`--user`). Each case runs both tools on the same command and asserts that they
//! agree, or that they differ exactly as docs/init.md ("Differences from tini and
//! gosu, measured") says they do, and why.
//!
//! Needs root, `tini` and `gosu` (Debian packages `tini`, `gosu`). Without them the
//! tests skip with a message, unless CI=true, where a missing tool is a failure.

mod common;
use common::{Run, children_of, poll, run_with_timeout, sesame_bin};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PID1: [&str; 4] = ["unshare", "--pid", "--fork", "--mount-proc"];
const PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
const TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the comparison can run: root, tini and gosu. Under CI=true it must.
fn ready_or_skip() -> bool {
    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let missing: Vec<&str> = [
        (!common::is_root()).then_some("root"),
        (!have("tini")).then_some("tini"),
        (!have("gosu")).then_some("gosu"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "differential tests need {} (apt-get install tini gosu)",
        missing.join(", ")
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    eprintln!("skipped: {msg}");
    false
}

/// A directory with an empty manifest (sesame needs one) and the test's scripts.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let d = tempfile::Builder::new()
            .prefix("sesame-diff")
            .tempdir()
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(d.path().join("m.yaml"), "version: 1\nsecrets: {}\n").unwrap();
        Dir(d)
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn file(&self, name: &str, body: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }
    fn s(&self, name: &str) -> String {
        self.path().join(name).to_str().unwrap().to_owned()
    }

    /// A command with a clean environment (PATH, the manifest, `extra`) in this dir.
    fn command(&self, argv: &[String], extra: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .env_clear()
            .env("PATH", PATH)
            .env("SESAME_MANIFEST", self.path().join("m.yaml"))
            .env("SESAME_LOG", "warn")
            .current_dir(self.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, argv: &[String], extra: &[(&str, &str)]) -> Run {
        run_with_timeout(self.command(argv, extra), None, TIMEOUT)
    }
}

fn argv(prefix: &[&str], cmd: &[&str]) -> Vec<String> {
    prefix.iter().chain(cmd).map(|s| s.to_string()).collect()
}

fn sesame() -> String {
    sesame_bin().to_str().unwrap().to_owned()
}

/// tini as PID 1 and sesame as PID 1 (auto mode supervises there).
fn init_prefixes() -> [(&'static str, Vec<String>); 2] {
    [
        ("tini", argv(&PID1, &["tini", "--"])),
        ("sesame", argv(&PID1, &[&sesame(), "--"])),
    ]
}

/// tini -s and sesame --init, neither PID 1 (subreapers).
fn subreaper_prefixes() -> [(&'static str, Vec<String>); 2] {
    [
        ("tini", argv(&["tini", "-s", "--"], &[])),
        ("sesame", argv(&[&sesame(), "--init", "--"], &[])),
    ]
}

fn with(prefix: &[String], cmd: &[&str]) -> Vec<String> {
    prefix
        .iter()
        .cloned()
        .chain(cmd.iter().map(|s| s.to_string()))
        .collect()
}

// --- init: exit codes ------------------------------------------------------------------

#[test]
fn exit_codes_and_deaths_by_signal_are_the_same_as_under_tini() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let scripts = [
        "exit 0",
        "exit 1",
        "exit 7",
        "exit 255",
        "kill -TERM $$",
        "kill -KILL $$",
        "kill -INT $$",
        "kill -HUP $$",
        "kill -USR1 $$",
        "kill -SEGV $$",
        "kill -ABRT $$",
        "kill -PIPE $$",
        // The command exits while a grandchild still runs: both exit at once.
        "sleep 1000 & exit 5",
    ];
    for script in scripts {
        let codes: Vec<Option<i32>> = init_prefixes()
            .iter()
            .map(|(_, p)| d.run(&with(p, &["sh", "-c", script]), &[]).code)
            .collect();
        assert_eq!(codes[0], codes[1], "{script:?}: [tini, sesame]");
        assert!(codes[1].is_some());
    }
}

#[test]
fn exec_failures_give_tinis_126_and_127_but_a_script_without_shebang_is_not_run_by_sh() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    d.file("no-exec-bit", "echo hi\n", 0o644);
    d.file("no-shebang.sh", "echo ran-by-sh\n", 0o755);
    std::fs::create_dir(d.path().join("a-dir")).unwrap();
    let same = [
        ("nosuch-command-here", 127),
        ("/nonexistent/dir/prog", 127),
        ("./no-exec-bit", 126),
        ("./a-dir", 126),
    ];
    for (cmd, code) in same {
        for (tool, p) in init_prefixes() {
            let r = d.run(&with(&p, &[cmd]), &[]);
            assert_eq!(r.code, Some(code), "{tool} {cmd}: {}", r.stderr);
        }
    }
    // Documented difference: tini uses execvp(3), whose ENOEXEC fallback runs the file
    // with /bin/sh; sesame (like runc, Docker without an init, and gosu) refuses it.
    let [(_, tini), (_, ses)] = init_prefixes();
    let r = d.run(&with(&tini, &["./no-shebang.sh"]), &[]);
    assert_eq!(r.code, Some(0), "tini: {}", r.stderr);
    assert!(r.stdout.contains("ran-by-sh"));
    let r = d.run(&with(&ses, &["./no-shebang.sh"]), &[]);
    assert_eq!(r.code, Some(126), "sesame: {}", r.stderr);
    assert!(!r.stdout.contains("ran-by-sh"));
    assert!(r.stderr.contains("exec format error"), "{}", r.stderr);
}

/// Without `--`, tini's getopt(3) reads options anywhere on the line: it takes a
/// command's own `-s` as its own (and runs the command without it) and refuses a `-c`
/// (exit 1). sesame stops reading options at the command's name, as gosu does.
#[test]
fn options_after_the_command_name_are_the_commands_without_a_double_dash() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let r = d.run(&argv(&["tini", "-s", "ls", "-s", "m.yaml"], &[]), &[]);
    assert_eq!(r.code, Some(0), "tini: {}", r.stderr);
    assert_eq!(r.stdout.trim(), "m.yaml", "tini ran ls without -s");
    let r = d.run(&argv(&["tini", "-s", "sh", "-c", "echo ran"], &[]), &[]);
    assert_eq!(r.code, Some(1), "tini: {}", r.stderr);
    assert!(!r.stdout.contains("ran"));
    for prefix in [&["gosu", "root"][..], &[&sesame(), "--init"], &[&sesame()]] {
        let r = d.run(&argv(prefix, &["ls", "-s", "m.yaml"]), &[]);
        assert_eq!(r.code, Some(0), "{prefix:?}: {}", r.stderr);
        assert!(
            r.stdout.trim().ends_with(" m.yaml"),
            "{prefix:?}: {}",
            r.stdout
        );
        let r = d.run(&argv(prefix, &["sh", "-c", "echo ran"]), &[]);
        assert_eq!(r.stdout, "ran\n", "{prefix:?}: {}", r.stderr);
    }
}

/// A path that cannot be followed (a symbolic-link loop, a file used as a directory, a
/// component too long): tini exits 1 (its fallback for an errno other than ENOENT and
/// EACCES); sesame exits 127, as dash and busybox sh do, the file not being there to
/// run. Both name the real reason; sesame used to say "command not found" for all three.
#[test]
fn a_path_that_cannot_be_followed_is_127_with_its_reason_where_tini_exits_1() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    std::os::unix::fs::symlink("loop-b", d.path().join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", d.path().join("loop-b")).unwrap();
    let long = format!("./{}", "n".repeat(300));
    let cases = [
        ("./loop-a", "symbolic links"),
        ("./m.yaml/prog", "not a directory"),
        (long.as_str(), "file name too long"),
    ];
    let [(_, tini), (_, ses)] = init_prefixes();
    for (cmd, reason) in cases {
        let r = d.run(&with(&tini, &[cmd]), &[]);
        assert_eq!(r.code, Some(1), "tini {cmd}: {}", r.stderr);
        let r = d.run(&with(&ses, &[cmd]), &[]);
        assert_eq!(r.code, Some(127), "sesame {cmd}: {}", r.stderr);
        assert!(
            r.stderr.to_lowercase().contains(reason) && !r.stderr.contains("command not found"),
            "sesame {cmd}: {}",
            r.stderr
        );
    }
    // Searched on PATH, a name is simply not found, whatever one entry said.
    let r = d.run(
        &with(&ses, &["nosuch-command-here"]),
        &[("PATH", &format!("{}/m.yaml:/bin", d.s("")))],
    );
    assert_eq!(r.code, Some(127), "{}", r.stderr);
    assert!(r.stderr.contains("command not found"), "{}", r.stderr);
}

/// A file that is there but whose interpreter is not: a script with CRLF line endings
/// (`#!/bin/sh\r`), a `#!` naming a missing program, a dynamically linked binary
/// whose loader the image lacks (a glibc build in a `FROM scratch` image). The kernel
/// says ENOENT for all three: tini exits 127 with "No such file or directory", and so
/// does sesame, but naming the missing interpreter instead of "command not found".
#[test]
fn a_missing_interpreter_is_127_as_under_tini_and_named() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    d.file("crlf.sh", "#!/bin/sh\r\necho ran\r\n", 0o755);
    d.file("gone.sh", "#!/nonexistent/interp -x\necho ran\n", 0o755);
    // /bin/true with its PT_INTERP renamed to a loader that does not exist.
    let elf = std::fs::read("/bin/true").unwrap();
    let loader = b"/lib64/ld-linux-x86-64.so.2";
    let at = elf
        .windows(loader.len())
        .position(|w| w == loader)
        .expect("/bin/true names the x86-64 loader");
    let mut patched = elf.clone();
    patched[at + loader.len() - 1] = b'X';
    let p = d.path().join("no-loader");
    std::fs::write(&p, &patched).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cases = [
        ("./crlf.sh", &["/bin/sh\\r", "CRLF"][..]),
        ("./gone.sh", &["/nonexistent/interp"]),
        ("./no-loader", &["dynamically linked", "loader", "static"]),
    ];
    let [(_, tini), (_, ses)] = init_prefixes();
    for (cmd, says) in cases {
        let r = d.run(&with(&tini, &[cmd]), &[]);
        assert_eq!(r.code, Some(127), "tini {cmd}: {}", r.stderr);
        let r = d.run(&with(&ses, &[cmd]), &[]);
        assert_eq!(r.code, Some(127), "sesame {cmd}: {}", r.stderr);
        assert!(!r.stdout.contains("ran"), "{}", r.stdout);
        assert!(
            !r.stderr.contains("command not found"),
            "sesame {cmd}: {}",
            r.stderr
        );
        for s in says {
            assert!(
                r.stderr.contains(s),
                "sesame {cmd}: {s:?} not in {}",
                r.stderr
            );
        }
    }
    // The same when found on PATH.
    let r = d.run(
        &with(&ses, &["crlf.sh"]),
        &[("PATH", &format!("{}:/bin", d.path().display()))],
    );
    assert_eq!(r.code, Some(127), "{}", r.stderr);
    assert!(r.stderr.contains("CRLF"), "{}", r.stderr);
}

/// A standard descriptor the caller closed: tini refuses to start with stdin closed
/// (`tcsetpgrp failed: Bad file descriptor`, exit 1) and gives the command a closed
/// stderr; sesame opens /dev/null on each closed one before anything else (so no file
/// it opens can become fd 0, 1 or 2), and the command inherits those.
#[test]
fn closed_standard_descriptors_are_dev_null_for_the_command_where_tini_fails_or_passes_them_closed()
{
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let [(_, tini), (_, ses)] = subreaper_prefixes();
    let gosu = argv(&["gosu", "root"], &[]);
    let probe = |out: &str| {
        let script =
            format!("for fd in 0 1 2; do readlink /proc/self/fd/$fd || echo closed; done >{out}");
        vec!["sh".to_owned(), "-c".to_owned(), script]
    };
    let mut n = 0;
    let mut run = |prefix: &[String], closed: i32| {
        n += 1;
        let out = d.s(&format!("fds-{n}"));
        let argv: Vec<String> = prefix.iter().cloned().chain(probe(&out)).collect();
        let mut cmd = d.command(&argv, &[]);
        // SAFETY: close(2) is async-signal-safe.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(move || {
                nix::libc::close(closed);
                Ok(())
            });
        }
        let r = run_with_timeout(cmd, None, TIMEOUT);
        let fds = std::fs::read_to_string(&out).unwrap_or_default();
        (r, fds.lines().map(str::to_owned).collect::<Vec<_>>())
    };
    // stdin closed.
    let (r, fds) = run(&tini, 0);
    assert_eq!(r.code, Some(1), "tini: {}", r.stderr);
    assert!(r.stderr.contains("tcsetpgrp failed"), "{}", r.stderr);
    assert!(fds.is_empty(), "tini ran the command: {fds:?}");
    let (r, fds) = run(&gosu, 0);
    assert_eq!(r.code, Some(0), "gosu: {}", r.stderr);
    assert_eq!(fds[0], "closed", "gosu: {fds:?}");
    let (r, fds) = run(&ses, 0);
    assert_eq!(r.code, Some(0), "sesame: {}", r.stderr);
    assert_eq!(fds[0], "/dev/null", "sesame: {fds:?}");
    // stderr closed.
    let (r, fds) = run(&tini, 2);
    assert_eq!(r.code, Some(0));
    assert_eq!(fds[2], "closed", "tini: {fds:?}");
    let (r, fds) = run(&ses, 2);
    assert_eq!(r.code, Some(0));
    assert_eq!(fds[2], "/dev/null", "sesame: {fds:?}");
}

// --- init: signals ---------------------------------------------------------------------

/// Logs every signal it catches, one number a line; exits 0 on SIGTERM.
const SIGNAL_LOGGER: &str = r#"
import os, signal, sys, time
log = sys.argv[1]
def h(s, f):
    with open(log, "a") as fh:
        fh.write(f"{s}\n")
    if s == signal.SIGTERM:
        os._exit(0)
for s in range(1, 65):
    if s in (9, 19, 32, 33):
        continue
    try:
        signal.signal(s, h)
    except (OSError, ValueError):
        pass
open(log + ".ready", "w").close()
while True:
    time.sleep(0.05)
"#;

/// The process that receives the signals: the namespace's PID 1 (the child of
/// `unshare`), or the tool itself.
fn supervisor(running_pid: i32, pid1: bool) -> i32 {
    if !pid1 {
        return running_pid;
    }
    poll(TIMEOUT, "the namespace's PID 1", || {
        children_of(running_pid).first().copied()
    })
}

fn lines(path: &Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Sends `signals` one at a time to the supervisor started by `prefix`, waiting for
/// each to be logged (or not: a signal not forwarded times out after 1 s, which is
/// not an assertion on time, only how long to look). Returns the log and the code.
fn forwarded(
    d: &Dir,
    tool: &str,
    prefix: &[String],
    pid1: bool,
    signals: &[i32],
) -> (Vec<i32>, Option<i32>) {
    let logger = d.file("logger.py", SIGNAL_LOGGER, 0o644);
    let log = d.path().join(format!("log.{tool}.{pid1}"));
    let ready = PathBuf::from(format!("{}.ready", log.display()));
    let cmd = with(
        prefix,
        &["python3", logger.to_str().unwrap(), log.to_str().unwrap()],
    );
    let running = common::Running::start_command(d.command(&cmd, &[]), TIMEOUT);
    let target = supervisor(running.pid(), pid1);
    common::wait_for_file(&ready);
    for &s in signals {
        let before = lines(&log).len();
        // Raw kill: real-time signals have no nix `Signal`.
        assert_eq!(unsafe { nix::libc::kill(target, s) }, 0, "kill {s}");
        for _ in 0..100 {
            if lines(&log).len() > before {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let r = running.finish();
    (lines(&log), r.code)
}

#[test]
fn the_same_signals_are_forwarded_as_by_tini_real_time_included_as_pid1_and_subreaper() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    // HUP INT QUIT USR1 USR2 ALRM WINCH TSTP CONT, SIGRTMIN (34), 35, 40, SIGRTMAX (64),
    // TTIN and TTOU (neither forwards them), then TERM, which ends the logger.
    let signals = [1, 2, 3, 10, 12, 14, 28, 20, 18, 34, 35, 40, 64, 21, 22, 15];
    for pid1 in [true, false] {
        let prefixes = if pid1 {
            init_prefixes()
        } else {
            subreaper_prefixes()
        };
        let results: Vec<_> = prefixes
            .iter()
            .map(|(tool, p)| forwarded(&d, tool, p, pid1, &signals))
            .collect();
        assert_eq!(results[0], results[1], "pid1={pid1}: [tini, sesame]");
        let expected: Vec<i32> = signals
            .iter()
            .copied()
            .filter(|s| *s != 21 && *s != 22)
            .collect();
        assert_eq!(results[1], (expected, Some(0)), "pid1={pid1}");
    }
}

/// A child that starts a grandchild in its own process group; on SIGTERM it waits a
/// little for the grandchild to report one too, and exits 3.
const GROUP_SCRIPT: &str = "python3 -c 'import signal,sys,time\n\
def h(n,f):\n    open(\"grandchild-got-term\",\"w\").close(); sys.exit(0)\n\
signal.signal(signal.SIGTERM,h)\nopen(\"grandchild-ready\",\"w\").close()\ntime.sleep(100)' & \
while [ ! -e grandchild-ready ]; do sleep 0.02; done; \
trap 'i=0; while [ ! -e grandchild-got-term ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i+1)); done; exit 3' TERM; \
touch ready; wait";

#[test]
fn signal_group_reaches_the_grandchildren_exactly_like_tini_g() {
    if !ready_or_skip() {
        return;
    }
    for group in [true, false] {
        let mut got = Vec::new();
        for tool in ["tini", "sesame"] {
            let d = Dir::new();
            let mut p = match tool {
                "tini" => argv(&PID1, &["tini"]),
                _ => argv(&PID1, &[&sesame()]),
            };
            if group {
                p.push(
                    if tool == "tini" {
                        "-g"
                    } else {
                        "--signal-group"
                    }
                    .into(),
                );
            }
            p.push("--".into());
            let running = common::Running::start_command(
                d.command(&with(&p, &["sh", "-c", GROUP_SCRIPT]), &[]),
                TIMEOUT,
            );
            let init = supervisor(running.pid(), true);
            common::wait_for_file(&d.path().join("ready"));
            common::send_signal(init, 15);
            let r = running.finish();
            got.push((r.code, d.path().join("grandchild-got-term").exists()));
        }
        assert_eq!(got[0], got[1], "group={group}: [tini, sesame]");
        assert_eq!(got[1], (Some(3), group), "group={group}");
    }
}

#[test]
fn orphaned_grandchildren_are_reaped_as_by_tini_as_pid1_and_as_subreaper() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    // Twenty orphans re-parented to the supervisor ($PPID of the shell); then count
    // the zombies whose parent is the supervisor until there are none (or 5 s pass).
    let script = "for i in $(seq 20); do (sh -c 'exit 0' &) ; done; \
        n=0; while :; do z=0; for s in /proc/[0-9]*/status; do \
        grep -q '^State:.*Z' $s 2>/dev/null && grep -q \"^PPid:.$PPID\\$\" $s 2>/dev/null && z=$((z+1)); \
        done; [ $z -eq 0 ] || [ $n -ge 250 ] && break; n=$((n+1)); sleep 0.02; done; echo zombies $z";
    for (pid1, prefixes) in [(true, init_prefixes()), (false, subreaper_prefixes())] {
        let out: Vec<String> = prefixes
            .iter()
            .map(|(_, p)| d.run(&with(p, &["sh", "-c", script]), &[]).stdout)
            .collect();
        assert_eq!(out[0], out[1], "pid1={pid1}: [tini, sesame]");
        assert_eq!(out[1].trim(), "zombies 0", "pid1={pid1}");
    }
}

/// Ignores HUP and USR1 and blocks USR2 (and keeps nothing else from python), then
/// execs the rest of its arguments.
const SIGNAL_STATE_PARENT: &str = "import os, signal, sys\n\
signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n\
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n\
signal.signal(signal.SIGHUP, signal.SIG_IGN)\n\
signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n\
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])\n\
os.execvp(sys.argv[1], sys.argv[1:])\n";

#[test]
fn the_inherited_signal_mask_and_ignored_signals_reach_the_command_as_under_tini() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let show = ["/usr/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"];
    for (pid1, prefixes) in [(true, init_prefixes()), (false, subreaper_prefixes())] {
        let out: Vec<String> = prefixes
            .iter()
            .map(|(tool, p)| {
                let mut a = argv(&["python3", "-c", SIGNAL_STATE_PARENT], &[]);
                a.extend(with(p, &show));
                let r = d.run(&a, &[]);
                assert_eq!(r.code, Some(0), "{tool}: {}", r.stderr);
                r.stdout
            })
            .collect();
        assert_eq!(out[0], out[1], "pid1={pid1}: [tini, sesame]");
        // HUP (1) and USR1 (10) ignored, USR2 (12) blocked; nothing else among the
        // standard signals (the harness may pass on glibc's reserved 32 and 33).
        let field = |key: &str| {
            let hex = out[1].lines().find_map(|l| l.strip_prefix(key)).unwrap();
            u64::from_str_radix(hex.trim(), 16).unwrap() & 0x7fff_ffff
        };
        assert_eq!(field("SigBlk:"), 1 << 11, "{}", out[1]);
        assert_eq!(field("SigIgn:"), 1 | (1 << 9), "{}", out[1]);
    }
}

#[test]
fn on_a_terminal_the_command_is_in_the_foreground_and_ctrl_c_arrives_once_as_under_tini() {
    if !ready_or_skip() {
        return;
    }
    for (pid1, prefixes) in [(true, init_prefixes()), (false, subreaper_prefixes())] {
        terminal_case(pid1, prefixes);
    }
}

fn terminal_case(pid1: bool, prefixes: [(&'static str, Vec<String>); 2]) {
    let mut out = Vec::new();
    for (tool, p) in prefixes {
        let d = Dir::new();
        let driver = d.file("pty_driver.py", common::PTY_DRIVER, 0o644);
        let counter = d.file("int_counter.py", common::INT_COUNTER, 0o644);
        let mut a = argv(&["python3", driver.to_str().unwrap(), &d.s("ready")], &[]);
        a.extend(with(&p, &["python3", counter.to_str().unwrap()]));
        let r = d.run(&a, &[]);
        assert_eq!(r.code, Some(0), "{tool}: {}", r.stderr);
        let text = r.stdout.replace('\r', "");
        let facts: Vec<&str> = text
            .lines()
            // The terminal echoes Ctrl-C as "^C" before whatever comes next.
            .map(|l| l.trim_start_matches("^C"))
            .filter(|l| {
                l.starts_with("foreground") || l.starts_with("sigint") || l.starts_with("status")
            })
            .collect();
        out.push(facts.join("\n"));
    }
    assert_eq!(out[0], out[1], "pid1={pid1}: [tini, sesame]");
    assert_eq!(out[1], "foreground True\nsigint 1\nstatus 0", "pid1={pid1}");
}

// --- gosu --------------------------------------------------------------------------------

const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:The App:/home/app-missing:/nonexistent/shell
nohome:x:1001:1001::/does/not/exist:
emptyhome:x:1002:1002:::/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
";

/// What the command reports: ids, groups, HOME, USER, LOGNAME, a kept variable, the
/// open descriptors.
const WHOAMI: &str = "echo cwd=$(pwd) umask=$(umask) uid=$(id -u) gid=$(id -g) groups=$(id -G) HOME=${HOME-unset} \
    USER=${USER-unset} LOGNAME=${LOGNAME-unset} KEEP=$KEEP fds=$(ls /proc/$$/fd | sort -n | tr '\\n' ' ')";

/// `gosu SPEC` and `sesame --user SPEC --`, with the test's passwd and group files.
fn user_prefixes(d: &Dir, spec: &str) -> [Vec<String>; 2] {
    user_prefixes_with(d, spec, PASSWD, common::TEST_GROUP)
}

/// [`user_prefixes`] with other passwd and group files.
fn user_prefixes_with(d: &Dir, spec: &str, passwd: &str, group: &str) -> [Vec<String>; 2] {
    let passwd = d.file("etc/passwd", passwd, 0o644);
    let group = d.file("etc/group", group, 0o644);
    let script = d.file("with_etc.sh", common::WITH_ETC, 0o755);
    let etc = argv(
        &["unshare", "--mount", "sh"],
        &[
            script.to_str().unwrap(),
            passwd.to_str().unwrap(),
            group.to_str().unwrap(),
        ],
    );
    [
        with(&etc, &["gosu", spec]),
        with(&etc, &[&sesame(), "--user", spec, "--"]),
    ]
}

const ENV: [(&str, &str); 3] = [("KEEP", "kept"), ("HOME", "/root"), ("USER", "root")];

#[test]
fn uid_gid_groups_home_environment_and_descriptors_match_gosu() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    for spec in [
        "root",
        "0",
        "daemon",
        "1",
        "app",
        "nohome",
        "nobody",
        "app:staff",
        "app:50",
        "nobody:audio",
        "1000:1001",
        "4321:4322",
        "daemon:nogroup",
    ] {
        let out: Vec<String> = user_prefixes(&d, spec)
            .iter()
            .map(|p| {
                let r = d.run(&with(p, &["sh", "-c", WHOAMI]), &ENV);
                assert_eq!(r.code, Some(0), "{spec}: {}", r.stderr);
                r.stdout
            })
            .collect();
        assert_eq!(out[0], out[1], "--user {spec}: [gosu, sesame]");
    }
    // An empty home field: gosu sets HOME to the empty string, sesame to `/`, as
    // login(1) does (an empty HOME makes `cd`, `~` and dotfile lookups relative).
    for spec in ["emptyhome", "1002"] {
        let [gosu, ses] = user_prefixes(&d, spec);
        let g = d.run(&with(&gosu, &["sh", "-c", WHOAMI]), &ENV).stdout;
        let s = d.run(&with(&ses, &["sh", "-c", WHOAMI]), &ENV).stdout;
        assert!(g.contains(" HOME= USER="), "gosu {spec}: {g}");
        assert!(s.contains(" HOME=/ USER="), "sesame {spec}: {s}");
        assert_eq!(g.replace(" HOME= ", " HOME=/ "), s, "--user {spec}");
    }
    // Neither sets USER or LOGNAME: the inherited USER stays (even when wrong).
    let r = d.run(
        &with(&user_prefixes(&d, "app")[1], &["sh", "-c", WHOAMI]),
        &ENV,
    );
    assert!(r.stdout.contains("USER=root LOGNAME=unset"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("groups=1000 29 44 HOME=/home/app-missing"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_numeric_uid_without_an_entry_gets_its_own_gid_where_gosu_gives_gid_0() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let [gosu, ses] = user_prefixes(&d, "4321");
    let r = d.run(&with(&gosu, &["sh", "-c", WHOAMI]), &ENV);
    assert!(
        r.stdout.contains(" uid=4321 gid=0 groups=0 HOME=/ "),
        "gosu: {}",
        r.stdout
    );
    let r = d.run(&with(&ses, &["sh", "-c", WHOAMI]), &ENV);
    assert!(
        r.stdout.contains(" uid=4321 gid=4321 groups=4321 HOME=/ "),
        "sesame: {}",
        r.stdout
    );
    assert!(r.stderr.contains("no entry in /etc/passwd"), "{}", r.stderr);
}

/// passwd lines that are not `name:x:uid:gid:gecos:home:shell`: gosu (moby/sys/user)
/// reads them, a missing field as empty or 0, so a truncated line gets root's group and
/// a NIS `+name::::::` line runs the command as root. sesame skips them: a name on one
/// is an unknown user (77, saying the line is malformed), a uid has no entry.
#[test]
fn malformed_passwd_lines_that_gosu_fills_with_zeros_are_skipped() {
    if !ready_or_skip() {
        return;
    }
    let passwd =
        format!("{PASSWD}short:x:4401\nextra:x:4402:4402::/home/extra:/bin/sh:more\n+nis::::::\n");
    let run = |spec: &str| {
        let d = Dir::new();
        let [gosu, ses] = user_prefixes_with(&d, spec, &passwd, common::TEST_GROUP);
        let g = d.run(&with(&gosu, &["sh", "-c", WHOAMI]), &ENV);
        let s = d.run(&with(&ses, &["sh", "-c", WHOAMI]), &ENV);
        (g, s)
    };
    for (spec, gosu_ran_as) in [
        ("short", " uid=4401 gid=0 groups=0 HOME= "),
        ("extra", " uid=4402 gid=4402 groups=4402 HOME=/home/extra "),
        ("+nis", " uid=0 gid=0 groups=0 HOME= "),
    ] {
        let (g, s) = run(spec);
        assert_eq!(g.code, Some(0), "gosu {spec}: {}", g.stderr);
        assert!(g.stdout.contains(gosu_ran_as), "gosu {spec}: {}", g.stdout);
        assert_eq!(s.code, Some(77), "sesame {spec}: {}{}", s.stdout, s.stderr);
        assert!(s.stdout.is_empty(), "sesame {spec} ran: {}", s.stdout);
    }
    let (_, s) = run("short");
    assert!(s.stderr.contains("malformed"), "{}", s.stderr);
    // By number: no entry, so the uid's own gid and HOME=/, with a warning.
    let (g, s) = run("4401");
    assert!(g.stdout.contains(" uid=4401 gid=0 "), "gosu: {}", g.stdout);
    assert!(
        s.stdout.contains(" uid=4401 gid=4401 groups=4401 HOME=/ "),
        "sesame: {}{}",
        s.stdout,
        s.stderr
    );
}

#[test]
fn failures_exit_1_under_gosu_and_77_or_126_127_under_sesame() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let cases = [
        ("nosuchuser", "true", 77),
        ("app:nosuchgroup", "true", 77),
        ("app", "nosuch-command-here", 127),
        ("app", "/etc/passwd", 126),
    ];
    for (spec, cmd, code) in cases {
        let [gosu, ses] = user_prefixes(&d, spec);
        let r = d.run(&with(&gosu, &[cmd]), &[]);
        assert_eq!(r.code, Some(1), "gosu {spec} {cmd}: {}", r.stderr);
        let r = d.run(&with(&ses, &[cmd]), &[]);
        assert_eq!(r.code, Some(code), "sesame {spec} {cmd}: {}", r.stderr);
    }
    // No command at all: gosu and tini print their usage and exit 1; sesame exits 64,
    // its usage code, in both modes.
    let r = d.run(&argv(&["gosu", "app"], &[]), &[]);
    assert_eq!(r.code, Some(1), "gosu: {}", r.stderr);
    for prefix in [&["tini", "--"][..], &["tini", "-s", "--"]] {
        let r = d.run(&argv(prefix, &[]), &[]);
        assert_eq!(r.code, Some(1), "{prefix:?}: {}", r.stderr);
    }
    for args in [&["--user", "app", "--"][..], &["--init", "--"], &["--"]] {
        let r = d.run(&argv(&[&sesame()], args), &[]);
        assert_eq!(r.code, Some(64), "sesame {args:?}: {}", r.stderr);
        assert!(r.stderr.contains("no command given"), "{}", r.stderr);
    }
    // Not root: both refuse (gosu 1, sesame 77) and the command never runs, even to
    // "become" the user they already are.
    let nobody = [
        "setpriv",
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--clear-groups",
    ];
    for user in ["daemon", "nobody"] {
        let r = d.run(&argv(&nobody, &["gosu", user, "echo", "ran"]), &[]);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (Some(1), ""),
            "gosu: {}",
            r.stderr
        );
        let r = d.run(
            &argv(&nobody, &[&sesame(), "--user", user, "--", "echo", "ran"]),
            &[],
        );
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (Some(77), ""),
            "sesame: {}",
            r.stderr
        );
    }
}

#[test]
fn path_is_searched_after_the_drop_and_a_root_only_program_is_skipped_unlike_gosu() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    d.file("rootbin/prog", "#!/bin/sh\necho root-only\n", 0o700);
    d.file("userbin/prog", "#!/bin/sh\necho user-one\n", 0o755);
    let both = format!("{}:{}:{PATH}", d.s("rootbin"), d.s("userbin"));
    let only_root = format!("{}:{PATH}", d.s("rootbin"));
    let [gosu, ses] = user_prefixes(&d, "nobody");
    // Only a root-only program on PATH: both look it up as the user and cannot run it.
    let r = d.run(&with(&gosu, &["prog"]), &[("PATH", &only_root)]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(1), ""),
        "gosu: {}",
        r.stderr
    );
    let r = d.run(&with(&ses, &["prog"]), &[("PATH", &only_root)]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(126), ""),
        "sesame: {}",
        r.stderr
    );
    // A runnable one later on PATH: gosu (Go's LookPath) stops at the first file with
    // an x bit and fails; sesame follows execvp(3) and the shell and runs the next.
    let r = d.run(&with(&gosu, &["prog"]), &[("PATH", &both)]);
    assert_eq!(r.code, Some(1), "gosu: {}", r.stderr);
    let r = d.run(&with(&ses, &["prog"]), &[("PATH", &both)]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (Some(0), "user-one"),
        "sesame: {}",
        r.stderr
    );
}

#[test]
fn user_specs_gosu_reads_leniently_are_refused_and_ids_past_2_to_the_31_are_accepted() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let id = "echo $(id -u):$(id -g)";
    // gosu runs these (":staff" even stays uid 0 with an empty user); sesame refuses
    // each with 77 before anything runs.
    for (spec, gosu_ran_as) in [
        (":staff", "0:50"),
        ("nobody:", "65534:65534"),
        ("+8", "8:0"),
        ("nobody:65534:", "65534:65534"),
    ] {
        let [gosu, ses] = user_prefixes(&d, spec);
        let r = d.run(&with(&gosu, &["sh", "-c", id]), &[]);
        assert_eq!(
            (r.code, r.stdout.trim()),
            (Some(0), gosu_ran_as),
            "gosu {spec:?}: {}",
            r.stderr
        );
        let r = d.run(&with(&ses, &["sh", "-c", id]), &[]);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (Some(77), ""),
            "sesame {spec:?}: {}",
            r.stderr
        );
    }
    // The kernel's uid_t is 32 bits; gosu (moby/sys/user) stops at 2^31-1.
    let [gosu, ses] = user_prefixes(&d, "2147483648:2147483649");
    let r = d.run(&with(&gosu, &["sh", "-c", id]), &[]);
    assert_eq!(r.code, Some(1), "gosu: {}", r.stderr);
    let r = d.run(&with(&ses, &["sh", "-c", id]), &[]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (Some(0), "2147483648:2147483649"),
        "sesame: {}",
        r.stderr
    );
}

/// `env` sorted, without the lines `drop` names (by prefix).
fn sorted_env(r: &Run, drop: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = r
        .stdout
        .lines()
        .filter(|l| !drop.iter().any(|d| l.starts_with(d)))
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

#[test]
fn the_environment_passes_through_as_under_tini_and_gosu_except_sesames_own_variables() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let env = [
        ("KEEP", "kept"),
        ("TINI_SUBREAPER", ""),
        ("LANG", "C.UTF-8"),
    ];
    let [(_, tini), (_, ses)] = subreaper_prefixes();
    let t = d.run(&with(&tini, &["env"]), &env);
    let s = d.run(&with(&ses, &["env"]), &env);
    assert_eq!((t.code, s.code), (Some(0), Some(0)), "{}", s.stderr);
    // tini passes its caller's SESAME_* on; sesame removes its own (README: the scrub).
    assert!(t.stdout.contains("SESAME_MANIFEST="), "{}", t.stdout);
    assert!(!s.stdout.contains("SESAME_"), "{}", s.stdout);
    assert_eq!(sorted_env(&t, &["SESAME_"]), sorted_env(&s, &[]));
    assert!(s.stdout.contains("KEEP=kept") && s.stdout.contains("TINI_SUBREAPER="));

    let [gosu, ses] = user_prefixes(&d, "app");
    let g = d.run(&with(&gosu, &["env"]), &env);
    let s = d.run(&with(&ses, &["env"]), &env);
    assert_eq!((g.code, s.code), (Some(0), Some(0)), "{}", s.stderr);
    assert_eq!(sorted_env(&g, &["SESAME_"]), sorted_env(&s, &[]));
    assert!(s.stdout.contains("HOME=/home/app-missing"), "{}", s.stdout);
}

#[test]
fn capabilities_match_gosu_and_sesame_adds_no_new_privs() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let show = "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' /proc/self/status";
    for spec in ["root", "app", "nobody:staff"] {
        let [gosu, ses] = user_prefixes(&d, spec);
        let g = d.run(&with(&gosu, &["sh", "-c", show]), &[]);
        let s = d.run(&with(&ses, &["sh", "-c", show]), &[]);
        assert_eq!((g.code, s.code), (Some(0), Some(0)), "{spec}: {}", s.stderr);
        let caps = |r: &Run| sorted_env(r, &["NoNewPrivs"]);
        assert_eq!(caps(&g), caps(&s), "--user {spec}: [gosu, sesame]");
        // gosu leaves no_new_privs off; sesame sets it after the drop (docs/init.md).
        assert!(g.stdout.contains("NoNewPrivs:\t0"), "{}", g.stdout);
        assert!(s.stdout.contains("NoNewPrivs:\t1"), "{}", s.stdout);
    }
}

#[test]
fn crlf_files_and_trailing_spaces_give_the_same_groups_as_gosu_and_duplicates_are_merged() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    // CRLF line ends, a member list ending in a space, a space inside a member list,
    // a leading space before a group name, a comment, and two groups with one gid.
    let passwd = "root:x:0:0:root:/root:/bin/sh\r\napp:x:1000:1000::/home/app:/bin/sh\r\n";
    let group = "root:x:0:\r\napp:x:1000:\r\naudio:x:29:app\r\nvideo:x:44:root,app \n\
                 inner:x:45: app\n spaced:x:46:app\n#comment:x:47:app\n\
                 dup1:x:48:app\ndup2:x:48:app\n";
    let ids =
        "echo $(id -u) $(id -g) $(id -G | tr ' ' '\\n' | sort -n | uniq | tr '\\n' ' ') $HOME";
    for spec in ["app", "1000", "root", "app:spaced"] {
        let out: Vec<String> = user_prefixes_with(&d, spec, passwd, group)
            .iter()
            .map(|p| {
                let r = d.run(&with(p, &["sh", "-c", ids]), &[]);
                assert_eq!(r.code, Some(0), "{spec}: {}", r.stderr);
                r.stdout
            })
            .collect();
        assert_eq!(out[0], out[1], "--user {spec}: [gosu, sesame]");
    }
    let [gosu, ses] = user_prefixes_with(&d, "app", passwd, group);
    let groups = "grep '^Groups:' /proc/self/status";
    let g = d.run(&with(&gosu, &["sh", "-c", groups]), &[]).stdout;
    let s = d.run(&with(&ses, &["sh", "-c", groups]), &[]).stdout;
    // gosu passes gid 48 to setgroups twice; sesame once (the kernel keeps both copies).
    assert_eq!(g.trim(), "Groups:\t29 44 46 48 48", "gosu");
    assert_eq!(s.trim(), "Groups:\t29 44 46 48", "sesame");
}

#[test]
fn an_all_digit_spec_is_an_id_in_both_even_where_a_name_is_made_of_digits() {
    if !ready_or_skip() {
        return;
    }
    let d = Dir::new();
    let passwd = "root:x:0:0:root:/root:/bin/sh\n1234:x:2000:2000::/h1234:/bin/sh\n\
                  app:x:1234:1234::/happ:/bin/sh\n";
    let group = "root:x:0:\n77:x:3000:\nstaff:x:77:\n";
    let ids = "echo $(id -u) $(id -g) $HOME";
    for (spec, expected) in [
        ("1234", "1234 1234 /happ"),
        ("app:77", "1234 77 /happ"),
        ("1234:77", "1234 77 /happ"),
    ] {
        let out: Vec<String> = user_prefixes_with(&d, spec, passwd, group)
            .iter()
            .map(|p| d.run(&with(p, &["sh", "-c", ids]), &[]).stdout)
            .collect();
        assert_eq!(out[0], out[1], "--user {spec}: [gosu, sesame]");
        assert_eq!(out[1].trim(), expected, "--user {spec}");
    }
}

#[test]
fn without_path_sesame_searches_dockers_default_where_tini_searches_bin_and_usr_bin() {
    if !ready_or_skip() {
        return;
    }
    // nologin lives in /usr/sbin (Debian): on Docker's default PATH, not on glibc
    // execvp's fallback "/bin:/usr/bin".
    let here = |p: &str| Path::new(p).exists();
    if !here("/usr/sbin/nologin") || here("/usr/bin/nologin") || here("/bin/nologin") {
        eprintln!("skipped: needs nologin in /usr/sbin only");
        return;
    }
    let d = Dir::new();
    // The first program itself is found on this process's PATH.
    let which = |tool: &str| {
        PATH.split(':')
            .map(|dir| Path::new(dir).join(tool))
            .find(|p| p.exists())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let no_path = |argv: &[String]| {
        let mut argv = argv.to_vec();
        if !argv[0].contains('/') {
            argv[0] = which(&argv[0]);
        }
        let mut cmd = d.command(&argv, &[]);
        cmd.env_remove("PATH");
        run_with_timeout(cmd, None, TIMEOUT)
    };
    let [(_, tini), (_, ses)] = subreaper_prefixes();
    let r = no_path(&with(&tini, &["nologin"]));
    assert_eq!(r.code, Some(127), "tini: {}", r.stderr);
    // Found and run: nologin itself exits 1 with its message.
    let r = no_path(&with(&ses, &["nologin"]));
    assert_eq!(r.code, Some(1), "sesame: {}", r.stderr);
    assert!(r.stdout.contains("not available"), "{}", r.stdout);
    // gosu searches nothing without PATH; sesame searches the same default.
    let r = no_path(&argv(&["gosu", "nobody", "nologin"], &[]));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(1), ""),
        "gosu: {}",
        r.stderr
    );
    let r = no_path(&argv(
        &[&sesame(), "--user", "nobody", "--", "nologin"],
        &[],
    ));
    assert_eq!(r.code, Some(1), "sesame --user: {}", r.stderr);
    assert!(r.stdout.contains("not available"), "{}", r.stdout);
}
