//! Init mode (SPEC §5.2): sesame as PID 1 (in a PID namespace made by `unshare`) or as
//! a subreaper with `--init`, forwarding signals, reaping zombies and passing the
//! child's status through; and the signal state the command inherits in both modes.
//!
//! Every case plants secrets (a file and a variable) and the harness checks that none
//! appears in sesame's output. Tests that need root (unshare) say so and skip without.
//! Readiness is polled for (the child writes a file once its traps are installed);
//! nothing relies on a fixed sleep except the one test that proves an absence.

mod common;
use common::{Case, namespace_init, poll, send_signal, wait_for_file};
use std::time::Duration;

const PID1: [&str; 4] = ["unshare", "--pid", "--fork", "--mount-proc"];

fn root_or_skip() -> bool {
    let root = common::is_root();
    if !root {
        eprintln!("skipped: needs root (unshare)");
    }
    root
}

/// A case whose sesame runs as PID 1 of a new PID namespace.
fn pid1_case() -> Case {
    let mut c = Case::with_secrets();
    c.wrapper(&PID1).timeout(Duration::from_secs(60));
    c
}

/// SIGNAL numbers used below (Linux x86/arm numbering).
mod sig {
    pub const INT: i32 = 2;
    pub const USR1: i32 = 10;
    pub const USR2: i32 = 12;
    pub const PIPE: i32 = 13;
    pub const TERM: i32 = 15;
    pub const CHLD: i32 = 17;
    pub const TTIN: i32 = 21;
    pub const TTOU: i32 = 22;
}

fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// A `SigIgn:`/`SigBlk:` line as a number.
fn mask(hex: &str) -> u64 {
    u64::from_str_radix(hex.trim(), 16).unwrap()
}

/// The value of `Key:` in a child's printed /proc/self/status lines.
fn field(stdout: &str, key: &str) -> u64 {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in:\n{stdout}"));
    mask(line)
}

// --- exec or supervise ---------------------------------------------------------------

#[test]
fn exec_mode_passes_every_exit_code_0_to_255_through() {
    let c = Case::with_secrets();
    for code in 0..=255 {
        let r = c.run(&["--no-init", "--", "sh", "-c", &format!("exit {code}")]);
        assert_eq!(r.code, Some(code), "exit {code}; stderr:\n{}", r.stderr);
    }
}

#[test]
fn auto_mode_execs_when_not_pid1_so_the_command_has_sesames_pid() {
    let c = Case::with_secrets();
    let running = c.spawn(&["--", "sh", "-c", "echo $$"]);
    let pid = running.pid();
    let r = c.finish(running);
    r.code(0);
    assert_eq!(
        r.stdout.trim(),
        pid.to_string(),
        "the command replaced sesame"
    );
}

#[test]
fn auto_mode_as_pid1_supervises_the_command_as_pid_2_in_its_own_group() {
    if !root_or_skip() {
        return;
    }
    let c = pid1_case();
    // /proc/self/stat: pid (comm) state ppid pgrp ...
    let r = c.run(&[
        "--",
        "sh",
        "-c",
        "cut -d' ' -f1,4,5 /proc/self/stat; echo $$",
    ]);
    r.code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    // `cut` runs as a child of sh (pid 2), in sh's group (2), and sh is pid 2.
    assert_eq!(lines[1], "2", "the command is PID 2: {lines:?}");
    let f: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(
        (f[1], f[2]),
        ("2", "2"),
        "parent and group of cut: {lines:?}"
    );
}

#[test]
fn no_init_as_pid1_execs_so_the_command_is_pid_1() {
    if !root_or_skip() {
        return;
    }
    let c = pid1_case();
    let r = c.run(&["--no-init", "--", "sh", "-c", "echo $$"]);
    r.code(0);
    assert_eq!(r.stdout.trim(), "1");
    let mut c = pid1_case();
    c.env("SESAME_INIT", "never");
    c.run(&["--", "sh", "-c", "echo $$"])
        .code(0)
        .stdout_has("1");
}

#[test]
fn init_mode_passes_sampled_exit_codes_through_as_pid1_and_as_subreaper() {
    let codes = [0, 1, 2, 42, 126, 127, 128, 255];
    let c = Case::with_secrets();
    for code in codes {
        let r = c.run(&["--init", "--", "sh", "-c", &format!("exit {code}")]);
        assert_eq!(
            r.code,
            Some(code),
            "--init, exit {code}; stderr:\n{}",
            r.stderr
        );
    }
    if !root_or_skip() {
        return;
    }
    let c = pid1_case();
    for code in codes {
        let r = c.run(&["--", "sh", "-c", &format!("exit {code}")]);
        assert_eq!(
            r.code,
            Some(code),
            "PID 1, exit {code}; stderr:\n{}",
            r.stderr
        );
    }
}

#[test]
fn init_mode_command_not_found_is_127_and_not_executable_is_126() {
    let c = Case::with_secrets();
    c.run(&["--init", "--", "no-such-program-xyz"])
        .code(127)
        .stderr_has("sesame: error: no-such-program-xyz: command not found");
    let script = c.file("noexec.sh", b"#!/bin/sh\necho hi\n");
    c.run(&["--init", "--", script.to_str().unwrap()])
        .code(126)
        .stderr_has("permission denied");
}

#[test]
fn a_child_killed_by_term_hup_or_kill_gives_143_129_137() {
    if !root_or_skip() {
        return;
    }
    let c = pid1_case();
    for (name, code) in [("TERM", 143), ("HUP", 129), ("KILL", 137)] {
        let r = c.run(&["--", "sh", "-c", &format!("kill -{name} $$")]);
        assert_eq!(r.code, Some(code), "kill -{name}; stderr:\n{}", r.stderr);
    }
    let c = Case::with_secrets();
    let r = c.run(&["--init", "--", "sh", "-c", "kill -TERM $$"]);
    r.code(143);
}

// --- signals to sesame ---------------------------------------------------------------

/// A child that writes `ready` and then sleeps (exec'd, so the signal reaches `sleep`).
const SLEEPER: &str = "touch ready; exec sleep 1000";

#[test]
fn term_int_usr1_usr2_sent_to_pid1_sesame_end_a_sleeping_child_with_128_plus_n() {
    if !root_or_skip() {
        return;
    }
    for (signal, code) in [
        (sig::TERM, 143),
        (sig::INT, 130),
        (sig::USR1, 138),
        (sig::USR2, 140),
    ] {
        let c = pid1_case();
        let running = c.spawn(&["--", "sh", "-c", SLEEPER]);
        let sesame = namespace_init(running.pid());
        wait_for_file(&c.path().join("ready"));
        send_signal(sesame, signal);
        let r = c.finish(running);
        assert_eq!(r.code, Some(code), "signal {signal}; stderr:\n{}", r.stderr);
    }
}

#[test]
fn term_int_usr1_usr2_sent_to_init_mode_sesame_not_pid1_end_the_child_the_same_way() {
    for (signal, code) in [
        (sig::TERM, 143),
        (sig::INT, 130),
        (sig::USR1, 138),
        (sig::USR2, 140),
    ] {
        let c = Case::with_secrets();
        let running = c.spawn(&["--init", "--", "sh", "-c", SLEEPER]);
        wait_for_file(&c.path().join("ready"));
        send_signal(running.pid(), signal);
        let r = c.finish(running);
        assert_eq!(r.code, Some(code), "signal {signal}; stderr:\n{}", r.stderr);
    }
}

#[test]
fn a_child_that_traps_sigterm_picks_its_own_exit_code() {
    if !root_or_skip() {
        return;
    }
    let c = pid1_case();
    let running = c.spawn(&[
        "--",
        "sh",
        "-c",
        "trap 'exit 7' TERM; touch ready; while :; do sleep 0.05; done",
    ]);
    let sesame = namespace_init(running.pid());
    wait_for_file(&c.path().join("ready"));
    send_signal(sesame, sig::TERM);
    c.finish(running).code(7);
}

#[test]
fn a_child_that_ignores_sigterm_keeps_running_because_sesame_never_escalates() {
    if !root_or_skip() {
        return;
    }
    let c = pid1_case();
    let mut running = c.spawn(&[
        "--",
        "sh",
        "-c",
        "trap '' TERM; touch ready; while [ ! -e stop ]; do sleep 0.05; done; \
         touch survived; exit 5",
    ]);
    let sesame = namespace_init(running.pid());
    wait_for_file(&c.path().join("ready"));
    send_signal(sesame, sig::TERM);
    send_signal(sesame, sig::TERM);
    // Proving an absence needs a wait: nothing kills the child within 2 s.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        running.is_running(),
        "sesame ended although the child ignores TERM"
    );
    std::fs::write(c.path().join("stop"), b"").unwrap();
    c.finish(running).code(5);
    assert!(c.path().join("survived").exists());
}

/// A Python child that logs every signal it receives (one number a line, in order) and
/// exits once it has seen `want` of the forwardable ones.
const SIGNAL_LOGGER: &str = r#"
import os, signal, sys, time
log, want = sys.argv[1], int(sys.argv[2])
got = []
def handler(n, frame):
    got.append(n)
    with open(log, "a") as f:
        f.write(f"{n}\n")
for n in range(1, 32):
    if n in (signal.SIGKILL, signal.SIGSTOP):
        continue
    signal.signal(n, handler)
open("ready", "w").close()
while len([n for n in got if n not in (17, 21, 22)]) < want:
    time.sleep(0.02)
"#;

/// Every signal from 1 to 31 that SPEC §5.2 forwards: all catchable ones but SIGCHLD,
/// SIGTTIN and SIGTTOU, and not the synchronous ones sesame does not block.
const FORWARDED: [i32; 19] = [
    1, 2, 3, 10, 12, 13, 14, 15, 16, 18, 20, 23, 24, 25, 26, 27, 28, 29, 30,
];

fn log_lines(path: &std::path::Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}

#[test]
fn every_forwardable_signal_1_to_31_reaches_the_child_once_and_in_order() {
    if !root_or_skip() {
        return;
    }
    let c = pid1_case();
    let script = c.file("logger.py", SIGNAL_LOGGER.as_bytes());
    let log = c.path().join("signals.log");
    let want = FORWARDED.len().to_string();
    let running = c.spawn(&[
        "--",
        "python3",
        script.to_str().unwrap(),
        log.to_str().unwrap(),
        &want,
    ]);
    let sesame = namespace_init(running.pid());
    wait_for_file(&c.path().join("ready"));
    // The three that are not forwarded go first: had any been forwarded, it would be
    // in the log before the others.
    for s in [sig::CHLD, sig::TTIN, sig::TTOU] {
        send_signal(sesame, s);
    }
    for (i, &s) in FORWARDED.iter().enumerate() {
        send_signal(sesame, s);
        poll(
            Duration::from_secs(30),
            &format!("signal {s} to reach the child"),
            || (log_lines(&log).len() > i).then_some(()),
        );
    }
    c.finish(running).code(0);
    assert_eq!(
        log_lines(&log),
        FORWARDED,
        "what the child received, in order"
    );
}

// --- zombies -------------------------------------------------------------------------

/// A Python child that makes 100 orphans (double fork), checks that they were handed to
/// the reaper (`PPid` is sesame's pid as the child sees it), lets them exit, and reports
/// how many are left, zombies included, once they are gone or after 60 s.
const ORPHANS: &str = r#"
import os, sys, time
N = 100
me, reaper = os.getpid(), os.getppid()
for i in range(N):
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            while not os.path.exists("release"):
                time.sleep(0.05)
            os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)

def reapers_children():
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            s = open(f"/proc/{d}/stat").read()
        except OSError:
            continue
        f = s[s.rfind(")") + 2:].split()
        if int(f[1]) == reaper:
            out.append(f[0])
    return out

orphans = len(reapers_children())
open("release", "w").close()
deadline = time.time() + 60
while True:
    left = reapers_children()
    if not left or time.time() > deadline:
        break
    time.sleep(0.05)
print(f"orphans={orphans} left={len(left)} zombies={left.count('Z')}")
"#;

#[test]
fn a_hundred_orphaned_grandchildren_leave_zero_zombies_under_pid1_sesame() {
    if !root_or_skip() {
        return;
    }
    let mut c = pid1_case();
    c.timeout(Duration::from_secs(120));
    let script = c.file("orphans.py", ORPHANS.as_bytes());
    let r = c.run(&["--", "python3", script.to_str().unwrap()]);
    r.code(0);
    assert_eq!(r.stdout.trim(), "orphans=100 left=0 zombies=0");
}

#[test]
fn a_hundred_orphans_are_reaped_by_sesame_as_subreaper_when_not_pid1() {
    let mut c = Case::with_secrets();
    c.timeout(Duration::from_secs(120));
    let script = c.file("orphans.py", ORPHANS.as_bytes());
    let r = c.run(&["--init", "--", "python3", script.to_str().unwrap()]);
    r.code(0);
    assert_eq!(r.stdout.trim(), "orphans=100 left=0 zombies=0");
}

#[test]
fn the_double_fork_race_in_a_loop_never_hangs() {
    if !root_or_skip() {
        return;
    }
    let mut c = pid1_case();
    c.timeout(Duration::from_secs(180));
    let r = c.run(&[
        "--",
        "bash",
        "-c",
        "for i in $(seq 300); do ( sleep 0.01 & kill -9 $BASHPID ); done; echo finished",
    ]);
    r.code(0).stdout_has("finished");
}

// --- what the child inherits ---------------------------------------------------------

/// A Python parent that sets up signal state, then `exec`s the rest of its arguments
/// (sesame, or the baseline command); execve keeps both the mask and SIG_IGN. Python's
/// own start-up ignores SIGPIPE and SIGXFSZ, so those are reset first.
fn python_parent(setup: &str) -> Vec<String> {
    let code = format!(
        "import os, signal, sys\n\
         signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n\
         signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n\
         {setup}\n\
         os.execvp(sys.argv[1], sys.argv[1:])\n"
    );
    vec!["python3".into(), "-c".into(), code]
}

/// The command that shows a process's blocked and ignored signals. It runs directly,
/// not through `sh`: dash clears its blocked mask and resets SIGCHLD at start-up.
const SHOW_SIGNALS: [&str; 4] = ["/usr/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"];

/// (SigBlk, SigIgn) of [`SHOW_SIGNALS`] run without sesame, under the same parent
/// chain: what the command would see if sesame were not there. (The test harness itself
/// may hand its children some ignored signals, e.g. glibc's reserved 32 and 33.)
fn baseline(wrapper: &[String]) -> (u64, u64) {
    let argv: Vec<&str> = wrapper
        .iter()
        .map(String::as_str)
        .chain(SHOW_SIGNALS)
        .collect();
    let out = std::process::Command::new(argv[0])
        .args(&argv[1..])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    (field(&text, "SigBlk"), field(&text, "SigIgn"))
}

/// (SigBlk, SigIgn) of [`SHOW_SIGNALS`] run by sesame in `mode` under `wrapper`.
fn through_sesame(wrapper: &[String], mode: &[&str]) -> (u64, u64) {
    let mut c = Case::with_secrets();
    let w: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    c.wrapper(&w).timeout(Duration::from_secs(60));
    let mut args = mode.to_vec();
    args.push("--");
    args.extend(SHOW_SIGNALS);
    let r = c.run(&args);
    r.code(0);
    (field(&r.stdout, "SigBlk"), field(&r.stdout, "SigIgn"))
}

#[test]
fn the_command_sees_the_signal_state_it_would_have_without_sesame_in_every_mode() {
    // Rust's runtime ignores SIGPIPE inside sesame and init mode blocks nearly every
    // signal: neither may reach the command. With nothing set up by the parent, the
    // command sees what a direct child of that parent sees.
    let expected = baseline(&[]);
    assert_eq!(
        expected.0, 0,
        "the harness starts children with an empty mask"
    );
    assert_eq!(expected.1 & bit(sig::PIPE), 0);
    for mode in [&["--no-init"][..], &["--init"]] {
        assert_eq!(through_sesame(&[], mode), expected, "{mode:?}");
    }
    if root_or_skip() {
        let wrapper: Vec<String> = PID1.iter().map(|s| s.to_string()).collect();
        assert_eq!(through_sesame(&wrapper, &[]), baseline(&wrapper), "PID 1");
    }
}

#[test]
fn inherited_sig_ign_survives_into_the_command_in_every_mode() {
    let mut wrapper = python_parent(
        "signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n\
         signal.signal(signal.SIGPIPE, signal.SIG_IGN)",
    );
    let expected = baseline(&wrapper);
    assert_eq!(
        expected.1 & (bit(sig::USR1) | bit(sig::PIPE)),
        bit(sig::USR1) | bit(sig::PIPE)
    );
    for mode in [&["--no-init"][..], &["--init"]] {
        assert_eq!(through_sesame(&wrapper, mode), expected, "{mode:?}");
    }
    if root_or_skip() {
        wrapper.extend(PID1.iter().map(|s| s.to_string()));
        assert_eq!(through_sesame(&wrapper, &[]), baseline(&wrapper), "PID 1");
    }
}

#[test]
fn the_inherited_signal_mask_is_restored_and_sesames_own_is_not_leaked() {
    let mut wrapper = python_parent("signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})");
    let expected = baseline(&wrapper);
    assert_eq!(expected.0, bit(sig::USR2));
    for mode in [&["--no-init"][..], &["--init"]] {
        assert_eq!(through_sesame(&wrapper, mode), expected, "{mode:?}");
    }
    if root_or_skip() {
        wrapper.extend(PID1.iter().map(|s| s.to_string()));
        assert_eq!(through_sesame(&wrapper, &[]), baseline(&wrapper), "PID 1");
    }
}

#[test]
fn an_inherited_sigchld_ignore_does_not_lose_the_exit_code_and_is_given_back() {
    // With SIGCHLD ignored the kernel reaps children itself and wait(2) reports ECHILD:
    // the supervisor must undo that for itself, and give it back to the command.
    let wrapper = python_parent("signal.signal(signal.SIGCHLD, signal.SIG_IGN)");
    let mut c = Case::with_secrets();
    let w: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    c.wrapper(&w);
    c.run(&["--init", "--", "sh", "-c", "exit 42"]).code(42);
    let expected = baseline(&wrapper);
    assert_eq!(expected.1 & bit(sig::CHLD), bit(sig::CHLD));
    assert_eq!(through_sesame(&wrapper, &["--init"]), expected);
}

#[test]
fn a_sigpipe_in_the_command_kills_it_by_default() {
    // The visible effect of not leaking Rust's SIGPIPE ignore: `yes` dies of SIGPIPE
    // (128+13) instead of getting EPIPE and reporting a write error.
    let c = Case::with_secrets();
    for mode in ["--no-init", "--init"] {
        let r = c.run(&[
            mode,
            "--",
            "bash",
            "-c",
            "yes 2>err | head -n1 >/dev/null; echo ${PIPESTATUS[0]}; cat err",
        ]);
        r.code(0);
        assert_eq!(
            r.stdout.trim(),
            "141",
            "{mode}: yes was not killed by SIGPIPE"
        );
    }
}

// --- --signal-group ------------------------------------------------------------------

/// A child shell that starts a Python grandchild (which records a SIGTERM and exits),
/// waits for it to be ready, then waits. On SIGTERM the shell gives the grandchild up
/// to 3 s to show it got one too, then exits 3: so a missing signal is a missing file,
/// never a race with the kernel killing the namespace when PID 1 exits.
fn group_script(c: &Case) -> String {
    c.file(
        "grandchild.py",
        b"import signal, sys, time\n\
          def h(n, f):\n\
          \x20   open('grandchild-got-term', 'w').close()\n\
          \x20   sys.exit(0)\n\
          signal.signal(signal.SIGTERM, h)\n\
          open('grandchild-ready', 'w').close()\n\
          time.sleep(1000)\n",
    );
    "python3 grandchild.py & \
     while [ ! -e grandchild-ready ]; do sleep 0.02; done; \
     trap 'i=0; while [ ! -e grandchild-got-term ] && [ $i -lt 150 ]; do \
           sleep 0.02; i=$((i+1)); done; exit 3' TERM; \
     touch ready; wait"
        .to_owned()
}

#[test]
fn with_signal_group_a_signal_reaches_the_grandchildren() {
    if !root_or_skip() {
        return;
    }
    let c = pid1_case();
    let script = group_script(&c);
    let running = c.spawn(&["--signal-group", "--", "sh", "-c", &script]);
    let sesame = namespace_init(running.pid());
    wait_for_file(&c.path().join("ready"));
    send_signal(sesame, sig::TERM);
    c.finish(running).code(3);
    assert!(
        c.path().join("grandchild-got-term").exists(),
        "the grandchild did not receive SIGTERM"
    );
}

#[test]
fn without_signal_group_only_the_child_is_signalled() {
    if !root_or_skip() {
        return;
    }
    let c = pid1_case();
    let script = group_script(&c);
    let running = c.spawn(&["--", "sh", "-c", &script]);
    let sesame = namespace_init(running.pid());
    wait_for_file(&c.path().join("ready"));
    send_signal(sesame, sig::TERM);
    c.finish(running).code(3);
    assert!(!c.path().join("grandchild-got-term").exists());
}

// --- the terminal --------------------------------------------------------------------

/// Runs sesame from a shell without job control on the terminal, then checks from the
/// same process group whether the terminal is theirs again.
const THEN_CHECK_FOREGROUND: &str = "\"$@\"; code=$?; \
    python3 -c 'import os; print(\"foreground-after\", os.tcgetpgrp(0) == os.getpgrp())'; \
    exit $code";

#[test]
fn on_a_terminal_ctrl_c_reaches_the_child_exactly_once_and_the_terminal_is_given_back() {
    let mut c = Case::with_secrets();
    c.timeout(Duration::from_secs(90));
    let driver = c.file("pty_driver.py", common::PTY_DRIVER.as_bytes());
    let counter = c.file("int_counter.py", common::INT_COUNTER.as_bytes());
    let ready = c.path().join("ready");
    c.wrapper(&[
        "python3",
        driver.to_str().unwrap(),
        ready.to_str().unwrap(),
        "/bin/sh",
        "-c",
        THEN_CHECK_FOREGROUND,
        "sh",
    ]);
    let r = c.run(&["--init", "--", "python3", counter.to_str().unwrap()]);
    r.code(0);
    let terminal = r.stdout.replace('\r', "");
    assert!(terminal.contains("foreground True"), "{terminal}");
    assert!(terminal.contains("sigint 1\n"), "{terminal}");
    assert!(terminal.contains("foreground-after True"), "{terminal}");
    assert!(terminal.contains("status 0"), "{terminal}");
}

// --- secrets in the supervisor -------------------------------------------------------

/// Every readable mapping of `pid`'s memory, concatenated.
fn memory_of(pid: i32) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut all = Vec::new();
    for line in maps.lines() {
        let mut f = line.split_whitespace();
        let (range, perms) = (f.next().unwrap(), f.next().unwrap());
        if !perms.starts_with('r') || line.ends_with("[vvar]") || line.ends_with("[vsyscall]") {
            continue;
        }
        let (a, b) = range.split_once('-').unwrap();
        let (a, b) = (
            u64::from_str_radix(a, 16).unwrap(),
            u64::from_str_radix(b, 16).unwrap(),
        );
        let mut buf = vec![0; (b - a) as usize];
        if mem.seek(SeekFrom::Start(a)).is_ok() && mem.read_exact(&mut buf).is_ok() {
            all.extend_from_slice(&buf);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn the_supervisor_keeps_no_secret_in_its_memory_or_its_environ_once_the_child_runs() {
    if !root_or_skip() {
        return;
    }
    let c = Case::with_secrets();
    // Each value whole, and its tail: malloc overwrites the head of a freed chunk, so a
    // copy freed without zeroing shows up as its tail.
    let values = [
        common::FILE_SECRET,
        &common::FILE_SECRET[16..],
        common::ENV_SECRET,
        &common::ENV_SECRET[16..],
    ];
    let running = c.spawn(&["--init", "--", "sh", "-c", SLEEPER]);
    let sesame = running.pid();
    wait_for_file(&c.path().join("ready"));
    // The supervisor zeroes right after the fork; wait until it sits in its loop.
    poll(
        Duration::from_secs(30),
        "the supervisor to wait for signals",
        || {
            let wchan = std::fs::read_to_string(format!("/proc/{sesame}/wchan")).ok()?;
            wchan.starts_with("do_sigtimedwait").then_some(())
        },
    );
    let environ = std::fs::read(format!("/proc/{sesame}/environ")).unwrap();
    assert!(contains(&environ, "API_KEY="), "the names stay");
    let memory = memory_of(sesame);
    assert!(
        memory.len() > 100_000,
        "read {} bytes of memory",
        memory.len()
    );
    for (i, v) in values.iter().enumerate() {
        assert!(
            !contains(&environ, v),
            "secret #{i} is in /proc/PID/environ"
        );
        assert!(
            !contains(&memory, v),
            "secret #{i} is in the supervisor's memory"
        );
    }
    // The child has them, as it should (it is the one they are for).
    let child = common::children_of(sesame)[0];
    let child_env = std::fs::read(format!("/proc/{child}/environ")).unwrap();
    assert!(contains(&child_env, common::ENV_SECRET));
    send_signal(sesame, sig::TERM);
    c.finish(running).code(143);
}

/// A `default:` is a value too: once the child runs, the supervisor holds neither the
/// default nor the CRLF-normalised copy of the manifest that contained it.
#[test]
fn the_supervisor_keeps_no_default_value_nor_the_manifest_text_once_the_child_runs() {
    if !root_or_skip() {
        return;
    }
    // Longer than a small allocation: a CRLF manifest normalised through an
    // intermediate copy once left the whole value in freed memory at this length.
    // No run of it may occur in the binary or libc (an alphabet would: base64's
    // table is in .rodata), so it is random letters.
    const DEFAULT: &str = "default-planted-wjBTde6LgzPdJpcfDCerfMDd6NhqSSPdNPBdqcM8iuCjLhNvM6VmgPNSnzgM\
        -XeNdRpHVLD3wFPFzvr4mW3rfNvKHxYEuQehJCk2xjHCcUe2MN46wxWyQHP5F\
        -e7ftGWUedYWvTNV6EuXAUybFykRhHdp3uiZrBB9HfkEBMti6D9MtXCyVAqjf";
    let mut c = Case::new();
    c.plant(DEFAULT);
    // A container's handful of variables: with none, later allocations happen to reuse
    // (and overwrite) the freed blocks this test looks for.
    for i in 0..10 {
        c.env(&format!("CONTAINER_VAR_{i}"), "x".repeat(40));
    }
    c.manifest(&format!(
        "version: 1\r\nsecrets:\r\n  LEVEL:\r\n    required: false\r\n    default: {DEFAULT}\r\n"
    ));
    // A command with a short argv: a long one (a script) can happen to reuse and
    // overwrite the freed blocks this test looks for, and hide them.
    let running = c.spawn(&["--init", "--", "sleep", "60"]);
    let sesame = running.pid();
    poll(
        Duration::from_secs(30),
        "the supervisor to wait for signals",
        || {
            let wchan = std::fs::read_to_string(format!("/proc/{sesame}/wchan")).ok()?;
            wchan.starts_with("do_sigtimedwait").then_some(())
        },
    );
    let memory = memory_of(sesame);
    assert!(memory.len() > 100_000);
    // Every 12-byte window: a freed buffer keeps all but its first bytes (the
    // allocator's own bookkeeping overwrites those), a stack slot only a piece.
    let pieces: std::collections::HashMap<&[u8], usize> = DEFAULT
        .as_bytes()
        .windows(12)
        .enumerate()
        .map(|(start, w)| (w, start))
        .collect();
    if let Some(start) = memory.windows(12).find_map(|w| pieces.get(w)) {
        panic!(
            "bytes {start}..{} of the default are in the supervisor's memory",
            start + 12
        );
    }
    let child = common::children_of(sesame)[0];
    let child_env = std::fs::read(format!("/proc/{child}/environ")).unwrap();
    assert!(contains(&child_env, DEFAULT), "the child has it");
    send_signal(sesame, sig::TERM);
    c.finish(running).code(143);
}

/// As PID 1 the kernel drops every signal sesame has no handler for, and none is
/// blocked until the child is spawned: a `docker stop` while sesame was still resolving
/// (a large manifest here; a slow Vault or AWS in life, up to `remote_timeout`) was
/// lost, and the command started and ran as if nothing had been asked (exit 5 here).
/// Now signals are held from the start, as tini holds them, and the command receives the
/// SIGTERM.
#[test]
fn a_sigterm_to_pid_1_before_the_command_starts_reaches_the_command() {
    if !root_or_skip() {
        return;
    }
    let mut c = Case::new();
    let mut manifest = String::from("version: 1\nsecrets:\n");
    for i in 0..100_000 {
        manifest.push_str(&format!("  S{i}: {{required: false}}\n"));
    }
    c.manifest(&manifest);
    c.wrapper(&PID1).timeout(Duration::from_secs(60));
    let running = c.spawn(&[
        "--log-level",
        "error",
        "--",
        "sh",
        "-c",
        "trap 'exit 7' TERM; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; exit 5",
    ]);
    let sesame = namespace_init(running.pid());
    // sesame blocks signals in its first lines; between the exec and those lines no
    // program can hold a signal (tini cannot either), so wait for the mask to be set.
    poll(Duration::from_secs(30), "sesame to block signals", || {
        let status = std::fs::read_to_string(format!("/proc/{sesame}/status")).ok()?;
        let blocked = status.lines().find_map(|l| l.strip_prefix("SigBlk:"))?;
        (u64::from_str_radix(blocked.trim(), 16).ok()? != 0).then_some(())
    });
    // Whether the signal arrives while sesame still resolves (100,000 secrets take a
    // second or more) is a race this test almost always wins; the assertion below holds
    // either way on the fixed code (a command already running gets it forwarded), and
    // fails on the old code whenever the race is won (exit 5). Not asserted, so a loaded
    // machine cannot make the test fail for the wrong reason.
    let early = common::children_of(sesame).is_empty();
    send_signal(sesame, sig::TERM);
    if !early {
        eprintln!("note: the command had started before the signal; only forwarding was tested");
    }
    // The command gets it as soon as it starts: usually before its trap is set (143),
    // else through the trap (7); never not at all (5, its own end).
    let r = c.finish(running);
    assert!(
        matches!(r.code, Some(143 | 7)),
        "the command received the SIGTERM: {:?}",
        r.code
    );
}
