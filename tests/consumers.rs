//! Real programs that nobody here wrote, authenticating with the secrets sesame
//! injects: `redis-cli` (which reads `REDISCLI_AUTH`) against a real `redis-server`
//! started with `--requirepass`.
//!
//! Without redis installed these tests are skipped, except in CI (`CI=true`), where a
//! missing server is a failure: `.ci/run` installs it.

mod common;
use common::Case;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts redis-server on a free loopback port with `password` required.
fn start_redis(password: &str) -> Option<Redis> {
    if Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        assert!(
            std::env::var("CI").is_err(),
            "redis-server must be installed in CI"
        );
        eprintln!("skipped: redis-server is not installed");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    // The password goes through a config file, so it is not on any command line.
    let conf = dir.path().join("redis.conf");
    std::fs::write(&conf, format!("port {port}\nbind 127.0.0.1\nrequirepass {password}\nsave \"\"\nappendonly no\ndir {}\n", dir.path().display())).unwrap();
    let child = Command::new("redis-server")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Redis {
        child,
        port,
        _dir: dir,
    })
}

const MANIFEST: &str = "version: 1\nsecrets:\n  REDIS_PASSWORD:\n    min_length: 20\n    inject: {env: REDISCLI_AUTH}\n";

#[test]
fn redis_cli_authenticates_with_the_injected_password() {
    let password = "redis-pw-7Hq2Lm9Xw4Rt8Zk3";
    let Some(redis) = start_redis(password) else {
        return;
    };
    let mut c = Case::new();
    c.manifest(MANIFEST);
    c.secret_file("redis_password", &format!("{password}\n"));
    let port = redis.port.to_string();
    let r = c.run(&[
        "--",
        "redis-cli",
        "--no-auth-warning",
        "-p",
        &port,
        "SET",
        "greeting",
        "hello",
    ]);
    r.code(0);
    assert_eq!(r.stdout.trim(), "OK", "redis-cli should be authenticated");
    let r = c.run(&[
        "--",
        "redis-cli",
        "--no-auth-warning",
        "-p",
        &port,
        "GET",
        "greeting",
    ]);
    assert_eq!(r.stdout.trim(), "hello");
}

#[test]
fn redis_cli_is_refused_with_a_wrong_injected_password() {
    let Some(redis) = start_redis("the-right-password-123456") else {
        return;
    };
    let mut c = Case::new();
    c.manifest(MANIFEST);
    c.plant("the-right-password-123456");
    c.secret_file("REDIS_PASSWORD", "a-wrong-password-6543210\n");
    let port = redis.port.to_string();
    let r = c.run(&["--", "redis-cli", "--no-auth-warning", "-p", &port, "PING"]);
    assert!(
        r.stdout.contains("WRONGPASS")
            || r.stdout.contains("NOAUTH")
            || r.stderr.contains("WRONGPASS"),
        "redis must refuse the wrong password; stdout: {}",
        r.stdout
    );
    assert!(!r.stdout.contains("PONG"));
}

#[test]
fn redis_cli_never_runs_when_the_password_is_too_short() {
    let Some(redis) = start_redis("short-password-but-valid") else {
        return;
    };
    let mut c = Case::new();
    c.manifest(MANIFEST);
    c.secret_file("REDIS_PASSWORD", "tooshort\n");
    let port = redis.port.to_string();
    let r = c.run(&["--", "redis-cli", "-p", &port, "SET", "ran", "yes"]);
    r.code(78)
        .stderr_has("REDIS_PASSWORD: too short: 8 characters, needs at least 20");
    assert!(r.stdout.is_empty());
}
