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
        let mut full: Vec<OsString> = Vec::new();
        if self.manifest_path().symlink_metadata().is_ok() {
            full.push("-m".into());
            full.push(self.manifest_path().into());
        }
        full.push("-d".into());
        full.push(self.secrets_dir().into());
        full.extend(args.iter().map(OsString::from));
        self.run_raw(&full)
    }

    /// Runs sesame with exactly these arguments.
    pub fn run_raw(&self, args: &[OsString]) -> Run {
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
        let run = run_with_timeout(cmd, self.stdin.clone(), self.timeout);
        self.assert_no_leak(&run);
        run
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
pub fn run_with_timeout(mut cmd: Command, stdin: Option<Vec<u8>>, timeout: Duration) -> Run {
    use std::os::unix::process::ExitStatusExt;
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
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sesame did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    Run {
        code: status.code(),
        signal: status.signal(),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
        elapsed,
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
