//! The harness every integration test uses: a temporary directory with a manifest and
//! a secrets directory, the real `sesame` binary run with a clean environment, and a
//! check on every byte sesame printed that no planted secret value appears in it.
//!
//! Failure messages never quote a planted value: they say which one (by index) leaked.

#![allow(dead_code)]

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test, built by cargo for this test run.
pub fn sesame_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sesame"))
}

/// The values [`Case::with_secrets`] plants. Long enough that freeing a copy does not
/// destroy it (malloc reuses a free chunk's first 16 bytes), so a memory scan can find
/// one that was freed without being zeroed.
pub const FILE_SECRET: &str = "db-Pa55word-planted-7f3a9c-0b1d2f4e6a8c9e7d5b3a1c0e2f4d6b8a";
pub const ENV_SECRET: &str = "api-key-planted-e41b07d2-93c5a7e1f0d2b4c6a8e0f1d3b5c7a9e2";

/// One scenario: a directory, a manifest, secrets, variables and arguments.
pub struct Case {
    pub dir: tempfile::TempDir,
    env: Vec<(String, OsString)>,
    wrapper: Vec<OsString>,
    planted: Vec<String>,
    child_prints_secrets: bool,
    timeout: Duration,
    stdin: Option<Vec<u8>>,
}

/// What one run of sesame did.
pub struct Run {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Default for Case {
    fn default() -> Self {
        Self::new()
    }
}

impl Case {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("sesame-test")
            .tempdir()
            .unwrap();
        std::fs::create_dir(dir.path().join("secrets")).unwrap();
        // World-searchable, so tests that drop to an unprivileged uid can reach files.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(
            dir.path().join("secrets"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        Case {
            dir,
            env: vec![(
                "PATH".into(),
                "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin".into(),
            )],
            wrapper: Vec::new(),
            planted: Vec::new(),
            child_prints_secrets: false,
            timeout: Duration::from_secs(20),
            stdin: None,
        }
    }

    /// A case with a manifest and two planted secrets, `DB_PASSWORD` from a file and
    /// `API_KEY` from a variable, both injected into the child's environment. The
    /// harness then proves that neither appears in anything sesame prints.
    pub fn with_secrets() -> Self {
        let mut c = Case::new();
        c.manifest("version: 1\nsecrets:\n  DB_PASSWORD:\n    min_length: 8\n  API_KEY: {}\n");
        c.secret_file("db_password", &format!("{FILE_SECRET}\n"));
        c.secret_env("API_KEY", ENV_SECRET);
        c
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn secrets_dir(&self) -> PathBuf {
        self.dir.path().join("secrets")
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.dir.path().join("manifest.yaml")
    }

    /// Writes the manifest (the runs below pass it with `-m`).
    pub fn manifest(&mut self, yaml: &str) -> &mut Self {
        std::fs::write(self.manifest_path(), yaml).unwrap();
        self
    }

    /// Writes `secrets/<name>` and plants its contents (trimmed of newlines).
    pub fn secret_file(&mut self, name: &str, contents: &str) -> PathBuf {
        let p = self.secrets_dir().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        self.plant(contents.trim_end_matches(['\n', '\r']));
        p
    }

    /// Writes a file anywhere under the case directory (not planted).
    pub fn file(&self, rel: &str, contents: &[u8]) -> PathBuf {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// Registers a value that must never appear in what sesame prints.
    pub fn plant(&mut self, value: &str) -> &mut Self {
        if value.len() >= 4 {
            self.planted.push(value.to_owned());
        }
        self
    }

    /// Sets a variable for sesame (its environment is otherwise only `PATH`).
    pub fn env(&mut self, k: &str, v: impl Into<OsString>) -> &mut Self {
        let v = v.into();
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.to_owned(), v));
        self
    }

    /// Sets a variable whose value is a secret (planted).
    pub fn secret_env(&mut self, k: &str, v: &str) -> &mut Self {
        self.plant(v);
        self.env(k, v)
    }

    /// Runs sesame under a wrapper command, e.g. `setpriv --reuid 65534 ...`.
    pub fn wrapper(&mut self, argv: &[&str]) -> &mut Self {
        self.wrapper = argv.iter().map(OsString::from).collect();
        self
    }

    /// The child is expected to print secrets on stdout; only stderr is checked then.
    pub fn child_prints_secrets(&mut self) -> &mut Self {
        self.child_prints_secrets = true;
        self
    }

    pub fn stdin(&mut self, bytes: &[u8]) -> &mut Self {
        self.stdin = Some(bytes.to_vec());
        self
    }

    pub fn timeout(&mut self, t: Duration) -> &mut Self {
        self.timeout = t;
        self
    }

    /// Runs `sesame -m manifest.yaml -d secrets ARGS...` (the manifest only if written).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_raw(&self.full_args(args))
    }

    /// Runs sesame with exactly these arguments.
    pub fn run_raw(&self, args: &[OsString]) -> Run {
        let stdin = self.stdin.clone();
        let running = Running::start(self.command(args), stdin, self.timeout);
        self.finish(running)
    }

    /// Starts `sesame -m manifest.yaml -d secrets ARGS...` (as [`Case::run`]) without
    /// waiting: the test signals it, then calls [`Case::finish`].
    pub fn spawn(&self, args: &[&str]) -> Running {
        let stdin = self.stdin.clone();
        Running::start(self.command(&self.full_args(args)), stdin, self.timeout)
    }

    /// Waits for a spawned sesame (at most the case's timeout) and checks its output
    /// for planted values, as every run does.
    pub fn finish(&self, running: Running) -> Run {
        let run = running.wait();
        self.assert_no_leak(&run);
        run
    }

    fn full_args(&self, args: &[&str]) -> Vec<OsString> {
        let mut full: Vec<OsString> = Vec::new();
        if self.manifest_path().symlink_metadata().is_ok() {
            full.push("-m".into());
            full.push(self.manifest_path().into());
        }
        full.push("-d".into());
        full.push(self.secrets_dir().into());
        full.extend(args.iter().map(OsString::from));
        full
    }

    /// The command that runs sesame (under the wrapper, if any) in the case directory
    /// with only the case's variables.
    fn command(&self, args: &[OsString]) -> Command {
        let (program, pre): (OsString, Vec<OsString>) = match self.wrapper.split_first() {
            Some((w, rest)) => (
                w.clone(),
                rest.iter().cloned().chain([sesame_bin().into()]).collect(),
            ),
            None => (sesame_bin().into(), Vec::new()),
        };
        let mut cmd = Command::new(program);
        cmd.args(pre)
            .args(args)
            .env_clear()
            .current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd
    }

    /// Fails (without quoting it) if any planted value appears in what sesame printed.
    pub fn assert_no_leak(&self, run: &Run) {
        for (i, v) in self.planted.iter().enumerate() {
            assert!(
                !run.stderr.contains(v.as_str()),
                "planted value #{i} appeared on stderr"
            );
            if !self.child_prints_secrets {
                assert!(
                    !run.stdout.contains(v.as_str()),
                    "planted value #{i} appeared on stdout"
                );
            }
        }
    }
}

/// Spawns `cmd`, feeds it `stdin`, and waits at most `timeout` (then kills it and fails).
pub fn run_with_timeout(cmd: Command, stdin: Option<Vec<u8>>, timeout: Duration) -> Run {
    Running::start(cmd, stdin, timeout).wait()
}

/// A process started by the harness that the test has not waited for yet. Dropping it
/// without [`Case::finish`] kills it, so a failing test leaves nothing running.
pub struct Running {
    child: Option<std::process::Child>,
    start: Instant,
    timeout: Duration,
    out: Option<std::thread::JoinHandle<Vec<u8>>>,
    err: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Running {
    fn start(mut cmd: Command, stdin: Option<Vec<u8>>, timeout: Duration) -> Running {
        let start = Instant::now();
        let mut child = cmd.spawn().expect("spawn sesame");
        if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = pipe.write_all(&bytes);
            });
        }
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = out.read_to_end(&mut v);
            v
        });
        let err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err.read_to_end(&mut v);
            v
        });
        Running {
            child: Some(child),
            start,
            timeout,
            out: Some(out),
            err: Some(err),
        }
    }

    /// Starts any command (a reference tool as well as sesame) without waiting.
    pub fn start_command(cmd: Command, timeout: Duration) -> Running {
        Running::start(cmd, None, timeout)
    }

    /// Waits for it (at most its timeout; then it is killed and the test fails).
    pub fn finish(self) -> Run {
        self.wait()
    }

    /// The pid of the process the harness started (sesame, or its wrapper).
    pub fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    /// Whether it is still running (not yet exited).
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().unwrap().try_wait().unwrap().is_none()
    }

    fn wait(mut self) -> Run {
        use std::os::unix::process::ExitStatusExt;
        let mut child = self.child.take().unwrap();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if self.start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sesame did not finish within {:?}", self.timeout);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = self.start.elapsed();
        let stdout = self.out.take().unwrap().join().unwrap();
        let stderr = self.err.take().unwrap().join().unwrap();
        Run {
            code: status.code(),
            signal: status.signal(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed,
        }
    }
}

impl Drop for Running {
    /// A test that failed before [`Case::finish`]: kill the whole tree (sesame, its
    /// command, a namespace's PID 1), so nothing it started outlives the test.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let mut tree = vec![child.id() as i32];
            let mut i = 0;
            while i < tree.len() {
                tree.extend(children_of(tree[i]));
                i += 1;
            }
            for pid in tree.into_iter().rev() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.wait();
        }
    }
}

impl Run {
    /// Asserts the exit code, showing sesame's stderr (which never holds a value) if not.
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "exit code; stderr was:\n{}",
            self.stderr
        );
        self
    }

    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}; it was:\n{}",
            self.stderr
        );
        self
    }

    pub fn stderr_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr has {needle:?}; it was:\n{}",
            self.stderr
        );
        self
    }

    /// For stdout that holds no secret (`check`, or a child printing non-secrets).
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}; it was:\n{}",
            self.stdout
        );
        self
    }

    /// Compares stdout with an expected secret-bearing text without printing either.
    pub fn stdout_is_secretly(&self, expected: &str) -> &Self {
        assert!(
            self.stdout == expected,
            "stdout differs from the expected (secret) text; stderr:\n{}",
            self.stderr
        );
        self
    }
}

/// Whether the tests run as root (needed for --user, setpriv and unshare tests).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Polls `what` every 10 ms until it returns `Some`, for at most `timeout`; panics with
/// `waiting_for` in the message when it never does. Tests wait for readiness this way
/// instead of sleeping for a fixed time, so a loaded machine only makes them slower.
pub fn poll<T>(timeout: Duration, waiting_for: &str, mut what: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = what() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {waiting_for}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `path` exists.
pub fn wait_for_file(path: &Path) {
    poll(
        Duration::from_secs(30),
        &format!("{} to exist", path.display()),
        || path.exists().then_some(()),
    );
}

/// The pids whose parent is `pid` (from /proc/*/stat; the kernel here may lack
/// /proc/PID/task/TID/children).
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut kids = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return kids;
    };
    for entry in dir.flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some(stat) = proc_stat(p)
            && stat.ppid == pid
        {
            kids.push(p);
        }
    }
    kids
}

/// The fields of /proc/PID/stat a test looks at.
pub struct Stat {
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
}

pub fn proc_stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain anything; fields follow ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let mut f = rest.split(' ');
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    Some(Stat { state, ppid, pgrp })
}

/// A line of /proc/PID/status, without its key, e.g. `status_line(pid, "Uid")`.
pub fn status_line(pid: i32, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_owned())
}

/// The host pid of the PID 1 of a namespace started by `unshare --pid --fork` (its one
/// child), once it has exec'd sesame.
pub fn namespace_init(unshare_pid: i32) -> i32 {
    poll(
        Duration::from_secs(30),
        "unshare to start the namespace's PID 1",
        || {
            let kids = children_of(unshare_pid);
            let pid = *kids.first()?;
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
            (exe == sesame_bin()).then_some(pid)
        },
    )
}

/// Sends signal `sig` (a number, real-time ones included) to `pid`.
pub fn send_signal(pid: i32, sig: i32) {
    let sig = nix::sys::signal::Signal::try_from(sig).expect("a standard signal");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig)
        .unwrap_or_else(|e| panic!("kill({pid}, {sig}): {e}"));
}

// --- the terminal ----------------------------------------------------------------------

/// A Python driver: runs argv[2:] (looked up on `PATH`) on a new pseudo-terminal as its
/// session leader (so the program has a controlling terminal and is its foreground
/// group), waits for the `ready` file (argv[1]), types Ctrl-C, then prints what the
/// terminal showed and the exit status. Used by the init and differential tests.
pub const PTY_DRIVER: &str = r#"
import os, pty, select, sys, time
ready, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b""
def drain(t):
    global out
    r, _, _ = select.select([fd], [], [], t)
    if not r:
        return True
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        return False
    out += chunk
    return bool(chunk)
deadline = time.time() + 60
while not os.path.exists(ready) and time.time() < deadline:
    drain(0.02)
os.write(fd, b"\x03")
while drain(0.1):
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print("status", os.waitstatus_to_exitcode(status))
"#;

/// The command on the terminal: counts SIGINTs, says whether it is in the foreground,
/// writes `ready`, and after the first SIGINT waits a second for a duplicate.
pub const INT_COUNTER: &str = r#"
import os, signal, time
got = []
signal.signal(signal.SIGINT, lambda n, f: got.append(n))
print("foreground", os.tcgetpgrp(0) == os.getpgrp(), flush=True)
open("ready", "w").close()
deadline = time.time() + 60
while not got and time.time() < deadline:
    time.sleep(0.02)
time.sleep(1)
print("sigint", len(got), flush=True)
"#;

// --- /etc/passwd and /etc/group in a private mount namespace ---------------------------

/// The `/etc/group` the `--user` tests (tests/user.rs, tests/differential.rs) mount over
/// the system's: `app` and `nobody` with supplementary groups, and unused ones.
pub const TEST_GROUP: &str = "\
root:x:0:
daemon:x:1:
app:x:1000:
audio:x:29:app
video:x:44:app,nobody
staff:x:50:
nogroup:x:65534:
";

/// Mounts $1 over /etc/passwd and $2 over /etc/group, then runs the rest (inside
/// `unshare --mount`: the system's files are never touched).
pub const WITH_ETC: &str = "set -e\nmount --bind \"$1\" /etc/passwd\nmount --bind \"$2\" /etc/group\n\
                            shift 2\nexec \"$@\"\n";

// --- stand-in HTTP servers (the aws and vault tests) -----------------------------------

/// Reads one HTTP/1.1 request from `s`: its head as text (request line and headers) and
/// `content-length` bytes of body. `None` when the connection closes before the head
/// ends.
pub fn read_http_request(s: &mut std::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let n = s.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < end + 4 + len {
        let n = s.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[end + 4..].iter().take(len).copied().collect();
    Some((head, body))
}

/// A server on 127.0.0.1 that accepts every connection and never answers (a store that
/// hangs); returns its port.
pub fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    port
}
