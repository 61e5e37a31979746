//! End-to-end tests in the machine's real Docker engine: sesame as a Dockerfile
//! `ENTRYPOINT`, a compose service, a Swarm service, a `HEALTHCHECK`, PID 1 under
//! `docker stop`, a privilege drop, and a Kubernetes secret volume.
//!
//! Nothing is pulled: every image is built `FROM scratch` with the host-built static
//! sesame (`SESAME_STATIC_BIN`, which `scripts/test` sets; otherwise this test builds it)
//! and Debian's static busybox (`SESAME_BUSYBOX`, default `/bin/busybox`) for a shell.
//!
//! `SESAME_DOCKER_TESTS`: `required` makes an unusable engine a failure (CI sets it when
//! the docker CLI exists); `off` skips these tests; unset, they run whenever `docker
//! info` answers and are skipped (with a note on stderr) when it does not.
//!
//! Every test plants random secret values and checks that none appears in `docker
//! logs`, `docker inspect` or sesame's output. Failure messages never quote a planted
//! value: logs shown in them have each one replaced by `[planted #N]`. Everything a
//! test creates is named `sesame-e2e-<pid>-...` and removed by a guard even when the
//! test fails; leftovers of runs whose process is gone are swept at start-up.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------
// Running commands

/// What one command did.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }
    fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` with `stdin`, killing it after `timeout` (a hung engine must not hang
/// the test run).
fn run_cmd(mut cmd: Command, stdin: Option<&[u8]>, timeout: Duration) -> Out {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let shown = format!("{cmd:?}");
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Out {
                code: None,
                stdout: String::new(),
                stderr: format!("cannot run {shown}: {e}"),
            };
        }
    };
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
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
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let mut stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    if status.is_none() {
        let _ = write!(stderr, "\n[killed after {timeout:?}: {shown}]");
    }
    Out {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
    }
}

const CMD_TIMEOUT: Duration = Duration::from_secs(180);

fn docker_cmd(args: &[&str]) -> Command {
    let mut c = Command::new("docker");
    c.args(args);
    c
}

/// `docker ARGS...`, whatever its outcome.
fn docker(args: &[&str]) -> Out {
    run_cmd(docker_cmd(args), None, CMD_TIMEOUT)
}

/// `docker ARGS...`, which must succeed; returns its stdout, trimmed.
fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.ok(),
        "docker {} failed ({:?}):\n{}",
        args.join(" "),
        out.code,
        out.both()
    );
    out.stdout.trim().to_owned()
}

/// Polls `f` every 200 ms until it returns `Some`, or fails after `limit` saying what
/// it waited for (and what `f` last saw, through `last`).
fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut(&mut String) -> Option<T>) -> T {
    let start = Instant::now();
    let mut last = String::new();
    loop {
        if let Some(v) = f(&mut last) {
            return v;
        }
        if start.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}; last seen:\n{last}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Generous, for a loaded 2-core machine: these bound waits, they are not expectations.
const WAIT: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------
// The engine and the images every test shares

/// The engine, and the images built once per run.
struct Engine {
    /// `sesame-e2e-<pid>`: every name this run creates starts with it.
    prefix: String,
    /// The sesame image itself (Dockerfile.prebuilt): `/sesame` and nothing else.
    sesame_image: String,
    /// busybox, `/etc/passwd` with user `app` (1000), and `report`: no sesame.
    os_image: String,
    /// That, plus sesame as the ENTRYPOINT.
    base_image: String,
    busybox: PathBuf,
    /// `docker compose` or `docker-compose`.
    compose: Option<Vec<String>>,
    bash_image: OnceLock<String>,
    before_image: OnceLock<String>,
    after_image: OnceLock<String>,
}

fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The engine, or `None` when these tests are to be skipped (the caller returns).
fn engine() -> Option<&'static Engine> {
    static ENGINE: OnceLock<Result<Option<Engine>, String>> = OnceLock::new();
    match ENGINE.get_or_init(setup) {
        Ok(Some(e)) => Some(e),
        Ok(None) => None,
        Err(e) => panic!("{e}"),
    }
}

#[derive(PartialEq)]
enum Mode {
    Required,
    Auto,
    Off,
}

fn mode() -> Result<Mode, String> {
    match std::env::var("SESAME_DOCKER_TESTS").as_deref() {
        Err(_) | Ok("") | Ok("auto") => Ok(Mode::Auto),
        Ok("required" | "1" | "yes") => Ok(Mode::Required),
        Ok("off" | "0" | "no" | "skip") => Ok(Mode::Off),
        Ok(other) => Err(format!(
            "SESAME_DOCKER_TESTS={other:?}: expected required, auto or off"
        )),
    }
}

fn setup() -> Result<Option<Engine>, String> {
    let mode = mode()?;
    if mode == Mode::Off {
        eprintln!("docker tests skipped: SESAME_DOCKER_TESTS=off");
        return Ok(None);
    }
    let info = run_cmd(
        docker_cmd(&["info", "--format", "{{.ServerVersion}}"]),
        None,
        Duration::from_secs(60),
    );
    if !info.ok() || info.stdout.trim().is_empty() {
        if mode == Mode::Auto {
            eprintln!(
                "docker tests skipped: no Docker engine answers `docker info` \
                 (set SESAME_DOCKER_TESTS=required to make that a failure)"
            );
            return Ok(None);
        }
        return Err(format!(
            "SESAME_DOCKER_TESTS=required, but the Docker engine is unusable: \
             `docker info` said:\n{}",
            info.both()
        ));
    }
    // From here on the engine answers: anything missing is a failure, not a skip.
    let pid = std::process::id();
    let prefix = format!("sesame-e2e-{pid}");
    sweep_leftovers();

    let busybox = PathBuf::from(
        std::env::var_os("SESAME_BUSYBOX").unwrap_or_else(|| OsString::from("/bin/busybox")),
    );
    check_static(
        &busybox,
        "busybox (install Debian's busybox-static, or set SESAME_BUSYBOX)",
    )?;
    let sesame = static_sesame()?;
    check_static(&sesame, "the sesame binary (SESAME_STATIC_BIN)")?;

    let compose = [vec!["docker", "compose"], vec!["docker-compose"]]
        .into_iter()
        .find(|c| {
            let mut cmd = Command::new(c[0]);
            cmd.args(&c[1..]).arg("version");
            run_cmd(cmd, None, Duration::from_secs(60)).ok()
        })
        .map(|c| c.into_iter().map(String::from).collect());

    // Everything this process built or started goes when it exits, pass or fail.
    extern "C" fn at_exit() {
        remove_run_leftovers(std::process::id());
    }
    // SAFETY: registers a plain function with no arguments; libc calls it at exit.
    unsafe { nix::libc::atexit(at_exit) };

    // The image users get, built the registry-free way the docs describe.
    let sesame_image = format!("{prefix}:sesame");
    let ctx = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::copy(&sesame, ctx.path().join("sesame")).map_err(|e| e.to_string())?;
    std::fs::copy(
        repo_dir().join("Dockerfile.prebuilt"),
        ctx.path().join("Dockerfile"),
    )
    .map_err(|e| e.to_string())?;
    build(&sesame_image, ctx.path(), &[])?;

    // The stand-in for busybox:1.36 or debian:bookworm-slim: a shell, two users and
    // `report`. The examples' Dockerfiles are built FROM it.
    let os_image = format!("{prefix}:os");
    let ctx = tempfile::tempdir().map_err(|e| e.to_string())?;
    let p = ctx.path();
    std::fs::copy(&busybox, p.join("busybox")).map_err(|e| e.to_string())?;
    let files: [(&str, &str); 4] = [
        (
            "passwd",
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n\
             nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        ),
        ("group", "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"),
        ("report", REPORT_SCRIPT),
        (
            "Dockerfile",
            "FROM scratch\n\
             COPY busybox /bin/busybox\n\
             RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
             RUN [\"/bin/sh\", \"-c\", \"mkdir -p /tmp /root /home/app /usr/local/bin \
             && chmod 1777 /tmp && chown 1000:1000 /home/app\"]\n\
             COPY passwd group /etc/\n\
             COPY report /usr/local/bin/report\n\
             ENV PATH=/usr/local/bin:/bin\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(p.join(name), text).map_err(|e| e.to_string())?;
    }
    std::fs::set_permissions(p.join("report"), std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    build(&os_image, p, &[])?;

    // The tests' own image: that, plus sesame as the entrypoint.
    let base_image = format!("{prefix}:base");
    let ctx = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!(
            "FROM {sesame_image} AS sesame\n\
             FROM {os_image}\n\
             COPY --from=sesame /sesame /sesame\n\
             ENTRYPOINT [\"/sesame\", \"--\"]\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    build(&base_image, ctx.path(), &[])?;

    Ok(Some(Engine {
        prefix,
        sesame_image,
        os_image,
        base_image,
        busybox,
        compose,
        bash_image: OnceLock::new(),
        before_image: OnceLock::new(),
        after_image: OnceLock::new(),
    }))
}

/// Prints, for each variable named, whether it is set, its length and its SHA-256;
/// never its value. Then `report: done`.
const REPORT_SCRIPT: &str = r#"#!/bin/sh
echo "report: uid=$(id -u) gid=$(id -g) home=${HOME-}"
for name in "$@"; do
    if eval "[ -n \"\${$name+set}\" ]"; then
        eval "value=\${$name}"
        sum=$(printf %s "$value" | sha256sum | cut -d' ' -f1)
        echo "report: $name len=${#value} sha256=$sum"
    else
        echo "report: $name unset"
    fi
done
echo "report: done"
"#;

/// One image build or removal at a time, and no build cache: with the legacy builder
/// (all there is without buildx), a build that reuses a cached layer fails with "layer
/// does not exist" when another test removes the image that layer came from.
static BUILDS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn build_lock() -> std::sync::MutexGuard<'static, ()> {
    BUILDS.lock().unwrap_or_else(|p| p.into_inner())
}

/// `docker build` of `dir` (its `Dockerfile`, or `-f` among `extra`) tagged `tag`.
fn build(tag: &str, dir: &Path, extra: &[&str]) -> Result<(), String> {
    let mut args = vec!["build", "-q", "--no-cache", "-t", tag];
    args.extend_from_slice(extra);
    let dir = dir.to_str().unwrap();
    args.push(dir);
    let _one_at_a_time = build_lock();
    let out = run_cmd(docker_cmd(&args), None, Duration::from_secs(300));
    if out.ok() {
        Ok(())
    } else {
        Err(format!("docker build -t {tag} failed:\n{}", out.both()))
    }
}

/// The static sesame: `SESAME_STATIC_BIN`, or built here with cargo (into the same
/// target directory, under the target triple, so the host build is not disturbed).
fn static_sesame() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("SESAME_STATIC_BIN") {
        return Ok(PathBuf::from(p));
    }
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        // target/debug/deps/docker-<hash>
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .ancestors()
            .nth(3)
            .ok_or("cannot find the target directory")?
            .to_path_buf(),
    };
    eprintln!("docker tests: building the static sesame (SESAME_STATIC_BIN avoids this)");
    let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    cmd.args(["build", "--release", "--target", &triple])
        .current_dir(repo_dir())
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    let out = run_cmd(cmd, None, Duration::from_secs(1200));
    if !out.ok() {
        return Err(format!(
            "building the static sesame failed:\n{}",
            out.both()
        ));
    }
    Ok(target_dir.join(triple).join("release/sesame"))
}

/// A binary that will run in a `FROM scratch` image: an ELF without an interpreter.
fn check_static(path: &Path, what: &str) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{what}: {}: {e}", path.display()))?;
    let bad = || format!("{what}: {} is not a 64-bit ELF executable", path.display());
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 {
        return Err(bad());
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        let p_type = u32::from_le_bytes(bytes.get(o..o + 4).ok_or_else(bad)?.try_into().unwrap());
        if p_type == 3 {
            return Err(format!(
                "{what}: {} is dynamically linked (it has an ELF interpreter); \
                 a FROM scratch image needs a static binary",
                path.display()
            ));
        }
    }
    Ok(())
}

/// The pid in a name `sesame-e2e-<pid>...`, if it is one of ours.
fn owner_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix("sesame-e2e-")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn alive(pid: i32) -> bool {
    use nix::errno::Errno;
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => true,
        Err(_) => false,
    }
}

/// Removes what runs of this test left behind when their process is gone (killed,
/// or a machine reset before their clean-up ran).
fn sweep_leftovers() {
    let mut dead = std::collections::BTreeSet::new();
    for args in [
        &["ps", "-a", "--format", "{{.Names}}"][..],
        &["images", "--format", "{{.Repository}}"],
        &["service", "ls", "--format", "{{.Name}}"],
        &["secret", "ls", "--format", "{{.Name}}"],
        &["network", "ls", "--format", "{{.Name}}"],
    ] {
        for name in docker(args).stdout.lines() {
            if let Some(pid) = owner_pid(name.trim())
                && !alive(pid)
            {
                dead.insert(pid);
            }
        }
    }
    for pid in dead {
        remove_run_leftovers(pid as u32);
    }
}

/// Removes every service, container, secret, network and image named for run `pid`.
fn remove_run_leftovers(pid: u32) {
    let prefix = format!("sesame-e2e-{pid}");
    let names = |args: &[&str]| -> Vec<String> {
        docker(args)
            .stdout
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|n| {
                n == &prefix
                    || n.starts_with(&format!("{prefix}-"))
                    || n.starts_with(&format!("{prefix}:"))
                    || n.starts_with(&format!("{prefix}_"))
            })
            .collect()
    };
    for s in names(&["service", "ls", "--format", "{{.Name}}"]) {
        docker(&["service", "rm", &s]);
    }
    for c in names(&["ps", "-a", "--format", "{{.Names}}"]) {
        docker(&["rm", "-f", "-v", &c]);
    }
    for s in names(&["secret", "ls", "--format", "{{.Name}}"]) {
        docker(&["secret", "rm", &s]);
    }
    for n in names(&["network", "ls", "--format", "{{.Name}}"]) {
        docker(&["network", "rm", &n]);
    }
    for i in names(&["images", "--format", "{{.Repository}}:{{.Tag}}"]) {
        docker(&["rmi", "-f", &i]);
    }
}

impl Engine {
    /// A static bash and its libraries on top of the base image, for the bash
    /// `file_env` entrypoint that sesame replaces.
    fn bash_image(&self) -> &str {
        self.bash_image.get_or_init(|| {
            let tag = format!("{}:bash", self.prefix);
            let ctx = tempfile::tempdir().unwrap();
            let root = ctx.path().join("rootfs");
            let bash = std::fs::canonicalize("/bin/bash").expect("bash on the host");
            let mut files = vec![(PathBuf::from("/bin/bash"), bash.clone())];
            let ldd = run_cmd(
                {
                    let mut c = Command::new("ldd");
                    c.arg(&bash);
                    c
                },
                None,
                Duration::from_secs(30),
            );
            assert!(ldd.ok(), "ldd /bin/bash: {}", ldd.both());
            for line in ldd.stdout.lines() {
                // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
                // "/lib64/ld-linux-x86-64.so.2 (0x...)"
                let path = line
                    .split("=>")
                    .last()
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                if path.starts_with('/') {
                    files.push((PathBuf::from(path), PathBuf::from(path)));
                }
            }
            for (dest, src) in files {
                let d = root.join(dest.strip_prefix("/").unwrap());
                std::fs::create_dir_all(d.parent().unwrap()).unwrap();
                std::fs::copy(&src, &d).unwrap();
            }
            std::fs::write(
                ctx.path().join("Dockerfile"),
                format!("FROM {}\nCOPY rootfs/ /\n", self.os_image),
            )
            .unwrap();
            build(&tag, ctx.path(), &[]).unwrap();
            let out = docker_ok(&[
                "run",
                "--rm",
                "--entrypoint",
                "/bin/bash",
                &tag,
                "-c",
                "echo ${BASH_VERSINFO[0]}",
            ]);
            assert!(out.parse::<u32>().is_ok(), "bash in the image: {out}");
            tag
        })
    }

    /// examples/migrate-from-file-env/before: the bash `file_env` entrypoint.
    fn before_image(&self) -> &str {
        self.before_image.get_or_init(|| {
            let tag = format!("{}:before", self.prefix);
            let dir = repo_dir().join("examples/migrate-from-file-env");
            let base = format!("BASE={}", self.bash_image());
            build(
                &tag,
                &dir,
                &[
                    "-f",
                    dir.join("before/Dockerfile").to_str().unwrap(),
                    "--build-arg",
                    &base,
                ],
            )
            .unwrap();
            tag
        })
    }

    /// examples/migrate-from-file-env/after: sesame and a manifest (with HEALTHCHECK).
    fn after_image(&self) -> &str {
        self.after_image.get_or_init(|| {
            let tag = format!("{}:after", self.prefix);
            let dir = repo_dir().join("examples/migrate-from-file-env");
            let base = format!("BASE={}", self.os_image);
            let sesame = format!("SESAME={}", self.sesame_image);
            build(
                &tag,
                &dir,
                &[
                    "-f",
                    dir.join("after/Dockerfile").to_str().unwrap(),
                    "--build-arg",
                    &base,
                    "--build-arg",
                    &sesame,
                ],
            )
            .unwrap();
            tag
        })
    }

    /// Builds examples/compose's app image (used by the compose and Swarm tests).
    fn example_app_image(&self, tag: &str) {
        let base = format!("BASE={}", self.os_image);
        let sesame = format!("SESAME={}", self.sesame_image);
        build(
            tag,
            &repo_dir().join("examples/compose"),
            &["--build-arg", &base, "--build-arg", &sesame],
        )
        .unwrap();
    }

    /// The SHA-256 of `value`, by the same busybox the images use.
    fn sha256(&self, value: &str) -> String {
        let mut c = Command::new(&self.busybox);
        c.arg("sha256sum");
        let out = run_cmd(c, Some(value.as_bytes()), Duration::from_secs(30));
        assert!(out.ok(), "busybox sha256sum: {}", out.stderr);
        out.stdout.split_whitespace().next().unwrap().to_owned()
    }
}

// ---------------------------------------------------------------------------------
// One test's resources and planted values

enum Res {
    Container(String),
    Image(String),
    Secret(String),
    Stack(String),
    Compose {
        cmd: Vec<String>,
        file: PathBuf,
        project: String,
    },
    /// This test initialised Swarm mode: leave it, and remove the bridge it created.
    SwarmInit {
        remove_gwbridge: bool,
    },
}

/// One test: a unique name stem, the values planted, and everything to remove.
struct T {
    e: &'static Engine,
    name: String,
    planted: Vec<String>,
    res: Vec<Res>,
    /// Temporary directories: dropped after `res` is cleaned up (compose needs its file).
    dirs: Vec<tempfile::TempDir>,
    _lock: Option<nix::fcntl::Flock<std::fs::File>>,
}

/// Runs `image` (sesame as the entrypoint, then `args`) to its end as a restricted pod
/// would: uid and gid 10001, read-only root, no capabilities, `no-new-privileges`, with
/// the `-v` volumes given. Returns the exit code and the logs.
fn run_pod(t: &mut T, image: &str, volumes: &[&str], n: &str, args: &[&str]) -> (i32, String) {
    let c = format!("{}-{n}", t.name);
    let mut a = vec![
        "--user",
        "10001:10001",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
    ];
    for v in volumes {
        a.extend_from_slice(&["-v", v]);
    }
    a.extend_from_slice(&["--entrypoint", "/sesame", image]);
    a.extend_from_slice(args);
    t.run_detached(&c, &a);
    let code = t.wait_exit(&c);
    let logs = t.logs(&c);
    t.inspect(&[&c]);
    (code, logs)
}

impl T {
    fn new(e: &'static Engine, short: &str) -> T {
        T {
            e,
            name: format!("{}-{short}", e.prefix),
            planted: Vec::new(),
            res: Vec::new(),
            dirs: Vec::new(),
            _lock: None,
        }
    }

    /// A fresh random value of `len` characters from `alphabet`, planted.
    fn plant_from(&mut self, len: usize, alphabet: &[u8]) -> String {
        let mut bytes = vec![0u8; len];
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut bytes)
            .unwrap();
        let v: String = bytes
            .iter()
            .map(|b| alphabet[*b as usize % alphabet.len()] as char)
            .collect();
        self.planted.push(v.clone());
        v
    }

    fn plant(&mut self, len: usize) -> String {
        self.plant_from(
            len,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        )
    }

    /// 32 random bytes as hex (what the examples' API_KEY must be), planted.
    fn plant_hex32(&mut self) -> String {
        self.plant_from(64, b"0123456789abcdef")
    }

    /// `text` with every planted value replaced: safe to put in a failure message.
    fn redact(&self, text: &str) -> String {
        let mut t = text.to_owned();
        for (i, v) in self.planted.iter().enumerate() {
            t = t.replace(v.as_str(), &format!("[planted #{i}]"));
        }
        t
    }

    /// Fails, without quoting it, if a planted value appears in `text`.
    fn assert_clean(&self, what: &str, text: &str) {
        for (i, v) in self.planted.iter().enumerate() {
            assert!(
                !text.contains(v.as_str()),
                "planted value #{i} appeared in {what}:\n{}",
                self.redact(text)
            );
        }
    }

    /// `docker ARGS...`, which must succeed and print no planted value.
    fn docker(&self, args: &[&str]) -> String {
        let out = docker(args);
        self.assert_clean(&format!("the output of docker {}", args[0]), &out.both());
        assert!(
            out.ok(),
            "docker {} failed ({:?}):\n{}",
            args.join(" "),
            out.code,
            self.redact(&out.both())
        );
        out.stdout.trim().to_owned()
    }

    /// A compose command in `file`'s project, with `env` for its substitutions.
    fn compose(&self, file: &Path, project: &str, env: &[(&str, &str)], args: &[&str]) -> Out {
        let c = self.e.compose.as_ref().expect(
            "the engine answers but neither `docker compose` nor `docker-compose` is installed",
        );
        let mut cmd = Command::new(&c[0]);
        cmd.args(&c[1..])
            .args(["-f", file.to_str().unwrap(), "-p", project])
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run_cmd(cmd, None, Duration::from_secs(300));
        self.assert_clean("compose's output", &out.both());
        out
    }

    /// `docker logs` (stdout and stderr), checked for planted values.
    fn logs(&self, container: &str) -> String {
        let out = docker(&["logs", container]);
        let text = out.both();
        self.assert_clean(&format!("docker logs {container}"), &text);
        text
    }

    /// `docker inspect`, checked for planted values.
    fn inspect(&self, args: &[&str]) -> String {
        let mut a = vec!["inspect"];
        a.extend_from_slice(args);
        let out = docker(&a);
        self.assert_clean(&format!("docker inspect {}", args.join(" ")), &out.both());
        out.stdout
    }

    fn inspect_field(&self, container: &str, format: &str) -> String {
        self.inspect(&["-f", format, container]).trim().to_owned()
    }

    /// Waits until the container's logs contain `needle`; fails early if it exits.
    fn wait_logs(&self, container: &str, needle: &str) -> String {
        wait_for(
            &format!("{needle:?} in docker logs {container}"),
            WAIT,
            |last| {
                let logs = self.logs(container);
                if logs.contains(needle) {
                    return Some(logs);
                }
                *last = self.redact(&logs);
                let state = self.inspect_field(container, "{{.State.Status}} {{.State.ExitCode}}");
                if state.starts_with("exited") || state.starts_with("dead") {
                    panic!(
                        "{container} exited ({state}) before printing {needle:?}; logs:\n{}",
                        self.redact(&logs)
                    );
                }
                None
            },
        )
    }

    /// `docker wait`: the container's exit code.
    fn wait_exit(&self, container: &str) -> i32 {
        let out = run_cmd(docker_cmd(&["wait", container]), None, WAIT);
        assert!(out.ok(), "docker wait {container}: {}", out.both());
        out.stdout.trim().parse().unwrap()
    }

    /// `docker run -d --name NAME ARGS...`; the container is removed at the end.
    fn run_detached(&mut self, name: &str, args: &[&str]) -> String {
        let mut a = vec!["run", "-d", "--name", name];
        a.extend_from_slice(args);
        self.res.push(Res::Container(name.to_owned()));
        self.docker(&a);
        name.to_owned()
    }

    /// A directory under /tmp that containers can bind-mount (world-searchable),
    /// removed after everything else.
    fn dir(&mut self) -> PathBuf {
        let d = tempfile::Builder::new()
            .prefix(&format!("{}-", self.name))
            .tempdir()
            .unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let p = d.path().to_owned();
        self.dirs.push(d);
        p
    }

    /// A bind-mountable secrets directory holding `files`, and a manifest: returns the
    /// directory and the two `-v` arguments that mount them where sesame looks by default.
    fn secrets_and_manifest(
        &mut self,
        files: &[(&str, &str)],
        manifest: &str,
    ) -> (PathBuf, String, String) {
        let dir = self.dir();
        let secrets = dir.join("secrets");
        std::fs::create_dir(&secrets).unwrap();
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o755)).unwrap();
        for (name, value) in files {
            std::fs::write(secrets.join(name), value).unwrap();
        }
        let path = dir.join("manifest.yaml");
        std::fs::write(&path, manifest).unwrap();
        let vol = format!("{}:/run/secrets:ro", secrets.display());
        let man = format!("{}:/etc/sesame/manifest.yaml:ro", path.display());
        (secrets, vol, man)
    }

    /// The `report:` line for `var` (see REPORT_SCRIPT) must show `value`.
    fn assert_reported(&self, logs: &str, var: &str, value: &str) {
        let want = format!(
            "report: {var} len={} sha256={}",
            value.len(),
            self.e.sha256(value)
        );
        assert!(
            logs.lines().any(|l| l.trim_end() == want),
            "the program did not get the planted {var}; its logs:\n{}",
            self.redact(logs)
        );
    }
}

impl Drop for T {
    fn drop(&mut self) {
        for r in self.res.drain(..).rev() {
            match r {
                Res::Container(c) => {
                    docker(&["rm", "-f", "-v", &c]);
                }
                Res::Image(i) => {
                    // A container left on it would leave the image behind, untagged.
                    let ancestor = format!("ancestor={i}");
                    for c in docker(&["ps", "-aq", "--filter", &ancestor])
                        .stdout
                        .split_whitespace()
                    {
                        docker(&["rm", "-f", "-v", c]);
                    }
                    let _one_at_a_time = build_lock();
                    docker(&["rmi", "-f", &i]);
                }
                Res::Secret(s) => {
                    // In use until the stack's tasks are gone.
                    let start = Instant::now();
                    while !docker(&["secret", "rm", &s]).ok()
                        && start.elapsed() < Duration::from_secs(30)
                    {
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
                Res::Stack(s) => {
                    docker(&["stack", "rm", &s]);
                    let label = format!("label=com.docker.stack.namespace={s}");
                    let start = Instant::now();
                    while start.elapsed() < Duration::from_secs(60) {
                        let left = docker(&["ps", "-aq", "--filter", &label]).stdout;
                        let nets = docker(&["network", "ls", "-q", "--filter", &label]).stdout;
                        if left.trim().is_empty() && nets.trim().is_empty() {
                            break;
                        }
                        for c in left.split_whitespace() {
                            docker(&["rm", "-f", "-v", c]);
                        }
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
                Res::Compose { cmd, file, project } => {
                    let mut c = Command::new(&cmd[0]);
                    c.args(&cmd[1..])
                        .args(["-f", file.to_str().unwrap(), "-p", &project])
                        .args(["down", "-v", "--remove-orphans"]);
                    run_cmd(c, None, CMD_TIMEOUT);
                }
                Res::SwarmInit { remove_gwbridge } => {
                    docker(&["swarm", "leave", "--force"]);
                    if remove_gwbridge {
                        docker(&["network", "rm", "docker_gwbridge"]);
                    }
                }
            }
        }
    }
}

macro_rules! engine_or_skip {
    () => {
        match engine() {
            Some(e) => e,
            None => return,
        }
    };
}

// ---------------------------------------------------------------------------------
// The tests

/// examples/compose as shipped: file-based `secrets:` at /run/secrets, sesame as the
/// image's ENTRYPOINT and compose's `command:` as the program.
#[test]
fn compose_file_secrets_reach_the_service_and_inspect_shows_no_value() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "compose");
    let db_password = t.plant(29);
    let api_key = t.plant_hex32();

    let dir = t.dir();
    let src = repo_dir().join("examples/compose");
    for f in ["Dockerfile", "compose.yaml", "manifest.yaml", "app.sh"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::fs::create_dir(dir.join("secrets")).unwrap();
    std::fs::write(dir.join("secrets/db_password"), format!("{db_password}\n")).unwrap();
    std::fs::write(dir.join("secrets/api_key"), &api_key).unwrap();

    let file = dir.join("compose.yaml");
    let project = t.name.clone();
    let app_image = format!("{}:compose-app", e.prefix);
    let env = [
        ("SESAME_IMAGE", e.sesame_image.as_str()),
        ("BASE_IMAGE", e.os_image.as_str()),
        ("APP_IMAGE", app_image.as_str()),
    ];
    t.res.push(Res::Image(app_image.clone()));
    t.res.push(Res::Compose {
        cmd: e.compose.clone().unwrap_or_default(),
        file: file.clone(),
        project: project.clone(),
    });
    // `up --build`, in two steps so the build takes its turn with the others.
    let built = {
        let _one_at_a_time = build_lock();
        t.compose(&file, &project, &env, &["build", "--no-cache"])
    };
    assert!(
        built.ok(),
        "compose build failed:\n{}",
        t.redact(&built.both())
    );
    let up = t.compose(&file, &project, &env, &["up", "-d"]);
    assert!(up.ok(), "compose up failed:\n{}", t.redact(&up.both()));
    let ps = t.compose(&file, &project, &env, &["ps", "-q", "app"]);
    let cid = ps.stdout.trim().to_owned();
    assert!(!cid.is_empty(), "no app container:\n{}", ps.both());

    let logs = t.wait_logs(&cid, "app: ready");
    for needle in [
        "sesame: info: 2 secrets ready (2 file); absent: SMTP_PASSWORD",
        "app: DB_PASSWORD is set (29 characters)",
        "app: API_KEY is set (64 characters)",
        "app: SMTP_PASSWORD is not set",
    ] {
        assert!(
            logs.contains(needle),
            "logs lack {needle:?}:\n{}",
            t.redact(&logs)
        );
    }
    // The same resolution, in the running container, as an operator would check it.
    let check = t.docker(&["exec", &cid, "/sesame", "check"]);
    for needle in ["file /run/secrets/db_password", "file /run/secrets/api_key"] {
        assert!(check.contains(needle), "check lacks {needle:?}:\n{check}");
    }
    // File-based secrets are bind mounts; neither they nor the values are in inspect.
    let inspect = t.inspect(&[&cid]);
    assert!(inspect.contains("/run/secrets/db_password"), "{inspect}");
    t.logs(&cid);
}

/// examples/swarm as shipped: `docker secret create`, `docker stack deploy` with the
/// local image, secrets mounted at /run/secrets by Swarm.
#[test]
fn swarm_stack_gets_docker_secrets() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "swarm");
    let db_password = t.plant(33);
    let api_key = t.plant_hex32();

    // One Swarm test at a time on this engine, across processes too: a concurrent run
    // must not leave the swarm under this one.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/tmp/sesame-e2e-swarm.lock")
        .unwrap();
    t._lock = Some(
        nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .unwrap(),
    );
    let state = docker_ok(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
    if state != "active" {
        let had_gwbridge = docker(&["network", "inspect", "docker_gwbridge"]).ok();
        t.res.push(Res::SwarmInit {
            remove_gwbridge: !had_gwbridge,
        });
        t.docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    }

    let db_secret = format!("{}-db_password", t.name);
    let api_secret = format!("{}-api_key", t.name);
    for (name, value) in [(&db_secret, &db_password), (&api_secret, &api_key)] {
        t.res.push(Res::Secret(name.clone()));
        let out = run_cmd(
            docker_cmd(&["secret", "create", name, "-"]),
            Some(value.as_bytes()),
            CMD_TIMEOUT,
        );
        assert!(out.ok(), "docker secret create: {}", t.redact(&out.both()));
    }
    let app_image = format!("{}:swarm-app", e.prefix);
    t.res.push(Res::Image(app_image.clone()));
    e.example_app_image(&app_image);

    let stack = t.name.clone();
    t.res.push(Res::Stack(stack.clone()));
    let file = repo_dir().join("examples/swarm/stack.yml");
    let mut cmd = docker_cmd(&["stack", "deploy", "--resolve-image", "never", "-c"]);
    cmd.arg(&file).arg(&stack);
    cmd.env("APP_IMAGE", &app_image)
        .env("DB_PASSWORD_SECRET", &db_secret)
        .env("API_KEY_SECRET", &api_secret);
    let out = run_cmd(cmd, None, CMD_TIMEOUT);
    t.assert_clean("docker stack deploy", &out.both());
    assert!(out.ok(), "docker stack deploy: {}", out.both());

    let label = format!("label=com.docker.stack.namespace={stack}");
    let cid = wait_for("the stack's task container", WAIT, |last| {
        let out = docker(&["ps", "-aq", "--filter", &label]);
        *last = docker(&["service", "ps", "--no-trunc", &format!("{stack}_app")]).both();
        out.stdout.split_whitespace().next().map(str::to_owned)
    });
    let logs = t.wait_logs(&cid, "app: ready");
    for needle in [
        "sesame: info: 2 secrets ready (2 file); absent: SMTP_PASSWORD",
        "app: DB_PASSWORD is set (33 characters)",
        "app: API_KEY is set (64 characters)",
    ] {
        assert!(
            logs.contains(needle),
            "logs lack {needle:?}:\n{}",
            t.redact(&logs)
        );
    }
    // The stack asked for mode 0400; Swarm's default would be 0444.
    let mode = t.docker(&[
        "exec",
        &cid,
        "stat",
        "-c",
        "%a %u",
        "/run/secrets/db_password",
    ]);
    assert_eq!(mode, "400 0");
    t.inspect(&[&cid]);
    t.docker(&["service", "inspect", &format!("{stack}_app")]);
    t.docker(&["secret", "inspect", &db_secret, &api_secret]);
    t.logs(&cid);
}

/// A missing required secret: exit 78, every place sesame looked, no value, and the
/// program never starts.
#[test]
fn missing_secret_exits_78_naming_the_secret_and_where_sesame_looked() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "missing");
    let api_key = t.plant(40);
    let (_, vol, man) = t.secrets_and_manifest(
        &[("api_key", &api_key)],
        "version: 1\nsecrets:\n  DB_PASSWORD:\n    file: db_password\n  API_KEY:\n    min_length: 64\n",
    );
    let c = format!("{}-c", t.name);
    t.run_detached(
        &c,
        &[
            "-v",
            &vol,
            "-v",
            &man,
            &e.base_image,
            "report",
            "DB_PASSWORD",
        ],
    );
    assert_eq!(t.wait_exit(&c), 78);
    let logs = t.logs(&c);
    for needle in [
        "sesame: error: DB_PASSWORD: missing (looked for $DB_PASSWORD_FILE, \
         /run/secrets/db_password, $DB_PASSWORD)",
        "sesame: error: API_KEY: too short: 40 characters, needs at least 64",
    ] {
        assert!(
            logs.contains(needle),
            "logs lack {needle:?}:\n{}",
            t.redact(&logs)
        );
    }
    assert!(
        !logs.contains("report:"),
        "the program ran:\n{}",
        t.redact(&logs)
    );
    assert_eq!(t.inspect_field(&c, "{{.State.ExitCode}}"), "78");
    t.inspect(&[&c]);
}

/// `docker stop` sends SIGTERM to PID 1 and SIGKILLs 10 s later. sesame as PID 1
/// forwards it to the program; a bash `file_env` entrypoint `exec`s the program into
/// PID 1, where a program without a SIGTERM handler ignores it (the kernel does not
/// apply default actions to a namespace's init), so Docker waits out its timeout.
#[test]
fn docker_stop_reaches_the_program_through_sesame_as_pid_1() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "stop");
    let db_password = t.plant(24);
    let api_key = t.plant_hex32();
    let dir = t.dir();
    std::fs::write(dir.join("db_password"), &db_password).unwrap();
    std::fs::write(dir.join("api_key"), &api_key).unwrap();
    let vol = format!("{}:/run/secrets:ro", dir.display());
    let after = e.after_image();
    let before = e.before_image();

    // A program that waits for SIGTERM and exits 42 on it, and one with no handler.
    let trapper = "trap 'exit 42' TERM; echo waiting; while :; do sleep 3600 & wait $!; done";
    let mut results = Vec::new();
    for (label, image, env, program) in [
        (
            "sesame, sleep (no handler)",
            after,
            &[][..],
            &["sleep", "3600"][..],
        ),
        (
            "sesame, sh trapping TERM",
            after,
            &[],
            &["sh", "-c", trapper],
        ),
        (
            "bash file_env, sleep (no handler)",
            before,
            &[
                "-e",
                "DB_PASSWORD_FILE=/run/secrets/db_password",
                "-e",
                "API_KEY_FILE=/run/secrets/api_key",
            ][..],
            &["sleep", "3600"][..],
        ),
        (
            "bash file_env, sh trapping TERM",
            before,
            &[
                "-e",
                "DB_PASSWORD_FILE=/run/secrets/db_password",
                "-e",
                "API_KEY_FILE=/run/secrets/api_key",
            ],
            &["sh", "-c", trapper],
        ),
    ] {
        let c = format!("{}-{}", t.name, results.len());
        let mut args = vec!["-v", vol.as_str()];
        args.extend_from_slice(env);
        args.push(image);
        args.extend_from_slice(program);
        t.run_detached(&c, &args);
        // Ready: the program is running (sleep 3600 is its last step either way).
        wait_for(&format!("{label}: the program running"), WAIT, |last| {
            let top = docker(&["top", &c]).both();
            t.assert_clean("docker top", &top);
            *last = top.clone();
            top.contains("sleep 3600").then_some(())
        });
        let start = Instant::now();
        t.docker(&["stop", &c]);
        let elapsed = start.elapsed();
        let code: i32 = t.inspect_field(&c, "{{.State.ExitCode}}").parse().unwrap();
        let logs = t.logs(&c);
        t.inspect(&[&c]);
        eprintln!(
            "docker stop, {label}: {:.2} s, exit {code}",
            elapsed.as_secs_f64()
        );
        results.push((label, elapsed, code, logs));
    }
    let show = |i: usize| {
        let (label, elapsed, code, logs) = &results[i];
        format!(
            "{label}: {elapsed:?}, exit {code}; logs:\n{}",
            t.redact(logs)
        )
    };
    // sesame: the program gets SIGTERM at once; its code (128+15 for a signal) is
    // sesame's. Well under Docker's 10 s, on any machine.
    assert_eq!(results[0].2, 143, "{}", show(0));
    assert!(results[0].1 < Duration::from_secs(5), "{}", show(0));
    assert_eq!(results[1].2, 42, "{}", show(1));
    assert!(results[1].1 < Duration::from_secs(5), "{}", show(1));
    // bash `exec`s sleep into PID 1, which ignores SIGTERM: Docker had to SIGKILL it.
    assert_eq!(results[2].2, 137, "{}", show(2));
    // With a handler of its own the program can stop itself even as PID 1.
    assert_eq!(results[3].2, 42, "{}", show(3));
}

/// `HEALTHCHECK ["/sesame","check","--quiet"]` (examples/migrate-from-file-env/after):
/// healthy with its secrets, unhealthy once a required secret file disappears from
/// the bind mount.
#[test]
fn healthcheck_turns_unhealthy_when_a_secret_file_disappears() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "health");
    let db_password = t.plant(20);
    let api_key = t.plant_hex32();
    let dir = t.dir();
    std::fs::write(dir.join("db_password"), &db_password).unwrap();
    std::fs::write(dir.join("api_key"), &api_key).unwrap();
    let vol = format!("{}:/run/secrets:ro", dir.display());
    let image = e.after_image();
    let c = format!("{}-c", t.name);
    t.run_detached(
        &c,
        &[
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            "--health-timeout",
            "20s",
            "-v",
            &vol,
            image,
            "sleep",
            "3600",
        ],
    );
    let health = |t: &T, last: &mut String, want: &str| {
        let s = t.inspect_field(&c, "{{.State.Status}} {{.State.Health.Status}}");
        *last = s.clone();
        if s.starts_with("exited") {
            panic!(
                "the container exited: {s}; logs:\n{}",
                t.redact(&t.logs(&c))
            );
        }
        (s == format!("running {want}")).then_some(())
    };
    wait_for("healthy", WAIT, |last| health(&t, last, "healthy"));
    std::fs::remove_file(dir.join("db_password")).unwrap();
    wait_for("unhealthy", WAIT, |last| health(&t, last, "unhealthy"));
    // The health log holds the check's output: --quiet prints nothing, and no value.
    let log = t.inspect_field(&c, "{{json .State.Health.Log}}");
    assert!(log.contains("\"ExitCode\":78"), "{log}");
    t.inspect(&[&c]);
    t.logs(&c);
}

/// `--user`: sesame reads a 0400 root-owned secret as root, then drops to `app`, which
/// could not read the file itself but gets the value.
#[test]
fn user_drop_still_delivers_a_root_only_secret() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "user");
    let api_key = t.plant(36);
    let (secrets, vol, man) = t.secrets_and_manifest(
        &[("api_key", &api_key)],
        "version: 1\nsecrets:\n  API_KEY: {file: api_key}\n",
    );
    std::fs::set_permissions(
        secrets.join("api_key"),
        std::fs::Permissions::from_mode(0o400),
    )
    .unwrap();
    nix::unistd::chown(&secrets.join("api_key"), Some(0.into()), Some(0.into())).unwrap();
    let c = format!("{}-c", t.name);
    let program = "report API_KEY; \
        if cat /run/secrets/api_key >/dev/null 2>&1; then echo 'report: file readable'; \
        else echo 'report: file unreadable'; fi";
    t.run_detached(
        &c,
        &[
            "-v",
            &vol,
            "-v",
            &man,
            "--entrypoint",
            "/sesame",
            &e.base_image,
            "--user",
            "app",
            "--",
            "sh",
            "-c",
            program,
        ],
    );
    let code = t.wait_exit(&c);
    let logs = t.logs(&c);
    assert_eq!(code, 0, "{}", t.redact(&logs));
    assert!(
        logs.contains("report: uid=1000 gid=1000 home=/home/app"),
        "not running as app:\n{}",
        t.redact(&logs)
    );
    assert!(
        logs.contains("report: file unreadable"),
        "{}",
        t.redact(&logs)
    );
    t.assert_reported(&logs, "API_KEY", &api_key);
    t.inspect(&[&c]);
}

/// The two ways a program that is there "is not found" in a `FROM scratch` image: a
/// dynamically linked binary whose loader the image lacks, and an entrypoint script
/// saved with CRLF line endings (`#!/bin/sh\r`). The kernel says ENOENT for both;
/// sesame exits 127 (as tini does) naming the missing interpreter, not "command not
/// found" for a file that is plainly there.
#[test]
fn a_dynamic_binary_or_a_crlf_script_is_127_naming_what_is_missing() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "interp");
    let (_, _, man) = t.secrets_and_manifest(&[], "version: 1\nsecrets: {}\n");
    let dir = t.dir();
    // The host's /bin/true: a glibc binary, whose loader the busybox image lacks.
    std::fs::copy("/bin/true", dir.join("dyn")).unwrap();
    std::fs::write(dir.join("crlf.sh"), "#!/bin/sh\r\necho ran\r\n").unwrap();
    for f in ["dyn", "crlf.sh"] {
        std::fs::set_permissions(dir.join(f), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for (n, (program, says)) in [
        ("dyn", "it is dynamically linked and its loader"),
        (
            "crlf.sh",
            "its #! interpreter /bin/sh\\r does not exist: the script has Windows (CRLF)",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let c = format!("{}-{n}", t.name);
        let vol = format!(
            "{}:/usr/local/bin/{program}:ro",
            dir.join(program).display()
        );
        t.run_detached(&c, &["-v", &man, "-v", &vol, &e.base_image, program]);
        assert_eq!(t.wait_exit(&c), 127, "{program}: {}", t.logs(&c));
        let logs = t.logs(&c);
        assert!(
            logs.contains(&format!("sesame: error: {program}: {says}")),
            "{program}: {logs}"
        );
        assert!(!logs.lines().any(|l| l.trim() == "ran"), "{logs}");
    }
}

/// `--watch` in a container (issue 8): the secrets directory is a bind mount updated
/// from the host, editor-style (a new file renamed over the old one); sesame, PID 1,
/// restarts the program, which then reports the new value.
#[test]
fn watch_restarts_the_program_when_the_host_rotates_a_bind_mounted_secret() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "watch");
    let first = t.plant(24);
    let second = t.plant(24);
    let (secrets, vol, man) = t.secrets_and_manifest(
        &[("api_key", &first)],
        "version: 1\nrestart_grace: 5s\nsecrets:\n  API_KEY: {file: api_key}\n",
    );
    let c = format!("{}-c", t.name);
    // The program reports its value (by hash), then waits for SIGTERM.
    let program = "report API_KEY; trap 'exit 0' TERM; while :; do sleep 0.1; done";
    t.run_detached(
        &c,
        &[
            "-v",
            &vol,
            "-v",
            &man,
            "--entrypoint",
            "/sesame",
            &e.base_image,
            "--watch",
            "--",
            "sh",
            "-c",
            program,
        ],
    );
    let logs = t.wait_logs(&c, "report: done");
    t.assert_reported(&logs, "API_KEY", &first);
    let tmp = secrets.join(".api_key.new");
    std::fs::write(&tmp, &second).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::rename(&tmp, secrets.join("api_key")).unwrap();
    t.wait_logs(&c, "API_KEY changed; restarting the command");
    let logs = wait_for("the restarted program's report", WAIT, |last| {
        let l = t.logs(&c);
        *last = t.redact(&l);
        (l.matches("report: done").count() >= 2).then_some(l)
    });
    let after = &logs[logs.rfind("report: uid=").unwrap()..];
    t.assert_reported(after, "API_KEY", &second);
    t.docker(&["stop", "-t", "10", &c]);
    assert_eq!(t.inspect_field(&c, "{{.State.ExitCode}}"), "0");
    t.inspect(&[&c]);
}

/// The kubelet's secret volume layout (`..<timestamp>` directory, `..data` link to it,
/// one link a key), and a ConfigMap for the manifest, as examples/kubernetes uses them:
/// non-root, read-only root filesystem, no capabilities; then an atomic `..data` swap.
#[test]
fn kubernetes_secret_volume_layout_works_as_the_deployment_mounts_it() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "k8s");
    let dir = t.dir();

    // What the kubelet writes for a volume: files in a timestamped directory, made
    // visible all at once by pointing `..data` at it.
    fn project(vol: &Path, stamp: &str, files: &[(&str, &str)], mode: u32, gid: u32) {
        let ts = vol.join(stamp);
        std::fs::create_dir_all(&ts).unwrap();
        std::fs::set_permissions(&ts, std::fs::Permissions::from_mode(0o755)).unwrap();
        for (name, value) in files {
            let f = ts.join(name);
            std::fs::write(&f, value).unwrap();
            nix::unistd::chown(&f, Some(0.into()), Some(gid.into())).unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            let link = vol.join(name);
            if link.symlink_metadata().is_err() {
                symlink(format!("..data/{name}"), link).unwrap();
            }
        }
        let tmp = vol.join("..data_tmp");
        symlink(stamp, &tmp).unwrap();
        std::fs::rename(&tmp, vol.join("..data")).unwrap();
    }
    let secrets = dir.join("secrets");
    let config = dir.join("config");
    for d in [&secrets, &config] {
        std::fs::create_dir(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o1777)).unwrap();
    }
    let manifest =
        std::fs::read_to_string(repo_dir().join("examples/kubernetes/manifest.yaml")).unwrap();
    project(
        &config,
        "..2026_11_23_13_04_05.100000001",
        &[("manifest.yaml", &manifest)],
        0o644,
        0,
    );
    let (db1, api1) = (t.plant(18), t.plant_hex32());
    // defaultMode 0440 and fsGroup 10001, as in deployment.yaml.
    project(
        &secrets,
        "..2026_11_23_13_04_05.123456789",
        &[("db_password", &db1), ("api_key", &api1)],
        0o440,
        10001,
    );

    let vol = format!("{}:/var/run/secrets/app:ro", secrets.display());
    let cfg = format!("{}:/etc/sesame:ro", config.display());
    let pod = |t: &mut T, n: &str, args: &[&str]| run_pod(t, &e.base_image, &[&vol, &cfg], n, args);

    let (code, check) = pod(&mut t, "check", &["check"]);
    assert_eq!(code, 0, "{}", t.redact(&check));
    for needle in [
        "file /var/run/secrets/app/db_password",
        "file /var/run/secrets/app/api_key",
    ] {
        assert!(check.contains(needle), "check lacks {needle:?}:\n{check}");
    }
    assert!(
        !check.contains("unused"),
        "kubelet's own entries listed:\n{check}"
    );

    let report = ["--", "report", "DB_PASSWORD", "API_KEY"];
    let (code, logs) = pod(&mut t, "run1", &report);
    assert_eq!(code, 0, "{}", t.redact(&logs));
    assert!(
        logs.contains("report: uid=10001 gid=10001"),
        "{}",
        t.redact(&logs)
    );
    t.assert_reported(&logs, "DB_PASSWORD", &db1);
    t.assert_reported(&logs, "API_KEY", &api1);

    // A rotation: new files in a new directory, then `..data` swapped atomically.
    let (db2, api2) = (t.plant(22), t.plant_hex32());
    project(
        &secrets,
        "..2026_11_23_14_00_00.987654321",
        &[("db_password", &db2), ("api_key", &api2)],
        0o440,
        10001,
    );
    let (code, logs) = pod(&mut t, "run2", &report);
    assert_eq!(code, 0, "{}", t.redact(&logs));
    t.assert_reported(&logs, "DB_PASSWORD", &db2);
    t.assert_reported(&logs, "API_KEY", &api2);
}

/// examples/csi as the pod runs it: the Secrets Store CSI driver's volume (the kubelet's
/// atomic-writer layout, files named by `objectAlias`, mode 0644 root) at
/// /mnt/secrets-store, the recipe's manifest from a ConfigMap, uid 10001, read-only root,
/// no capabilities; one JSON file (`db.json`) feeds two variables through `key:`.
#[test]
fn csi_recipe_volume_with_a_json_secret_works_as_the_pod_mounts_it() {
    let e = engine_or_skip!();
    let mut t = T::new(e, "csi");
    let dir = t.dir();
    // One generation of an atomic-writer volume: `..TIMESTAMP/`, `..data`, a link a file.
    fn write_volume(vol: &Path, files: &[(&str, &str)], mode: u32) {
        let stamp = "..2026_11_23_13_04_05.555555555";
        std::fs::create_dir_all(vol.join(stamp)).unwrap();
        std::fs::set_permissions(vol.join(stamp), std::fs::Permissions::from_mode(0o755)).unwrap();
        for (name, value) in files {
            let f = vol.join(stamp).join(name);
            std::fs::write(&f, value).unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            symlink(format!("..data/{name}"), vol.join(name)).unwrap();
        }
        symlink(stamp, vol.join("..data")).unwrap();
    }
    let (store, config) = (dir.join("store"), dir.join("config"));
    for d in [&store, &config] {
        std::fs::create_dir(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let manifest = std::fs::read_to_string(repo_dir().join("examples/csi/manifest.yaml")).unwrap();
    write_volume(&config, &[("manifest.yaml", &manifest)], 0o644);
    let (user, password, api) = (t.plant(12), t.plant(24), t.plant_hex32());
    let db_json = format!("{{\"username\":\"{user}\",\"password\":\"{password}\"}}");
    write_volume(&store, &[("db.json", &db_json), ("api_key", &api)], 0o644);

    let vol = format!("{}:/mnt/secrets-store:ro", store.display());
    let cfg = format!("{}:/etc/sesame:ro", config.display());
    let pod = |t: &mut T, n: &str, args: &[&str]| run_pod(t, &e.base_image, &[&vol, &cfg], n, args);
    let (code, check) = pod(&mut t, "check", &["check"]);
    assert_eq!(code, 0, "{}", t.redact(&check));
    assert!(
        check.contains("file /mnt/secrets-store/db.json") && !check.contains("unused"),
        "{}",
        t.redact(&check)
    );
    let (code, logs) = pod(
        &mut t,
        "run",
        &[
            "--init",
            "--",
            "report",
            "DB_USER",
            "DB_PASSWORD",
            "API_KEY",
        ],
    );
    assert_eq!(code, 0, "{}", t.redact(&logs));
    assert!(
        logs.contains("report: uid=10001 gid=10001"),
        "{}",
        t.redact(&logs)
    );
    t.assert_reported(&logs, "DB_USER", &user);
    t.assert_reported(&logs, "DB_PASSWORD", &password);
    t.assert_reported(&logs, "API_KEY", &api);
}

/// Dockerfile (builder stage) and Dockerfile.prebuilt (host binary) must produce the
/// same final image: FROM scratch, /sesame, the same ENTRYPOINT. No engine needed.
#[test]
fn both_dockerfiles_end_in_the_same_final_image() {
    let last_stage = |name: &str| -> Vec<String> {
        let text = std::fs::read_to_string(repo_dir().join(name)).unwrap();
        let lines: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect();
        let from = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
        lines[from..].to_vec()
    };
    let full = last_stage("Dockerfile");
    let prebuilt = last_stage("Dockerfile.prebuilt");
    assert_eq!(full[0], "FROM scratch");
    assert_eq!(prebuilt[0], "FROM scratch");
    assert_eq!(full[1], "COPY --from=build /sesame /sesame");
    assert_eq!(prebuilt[1], "COPY sesame /sesame");
    assert_eq!(full[2..], prebuilt[2..]);
}
