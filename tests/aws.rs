//! The `aws` source against a real AWS API emulator: moto in server mode, with IAM
//! authentication on, so every request sesame signs is verified. Secrets and parameters
//! are created through moto's API (boto3, tests/fixtures/aws/moto_helper.py), then the
//! real binary fetches them. Every planted value and credential is checked absent from
//! what sesame prints, at debug level.
//!
//! moto comes from the virtualenv `.ci/run` makes (`.venv-moto`, or `SESAME_MOTO_VENV`).
//! Without it these tests are skipped, unless `CI=true`: then they fail.
#![cfg(feature = "aws")]

mod common;
use common::Case;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Moto {
    port: u16,
    /// Kept so its stdin stays open: moto stops when the test process is gone.
    _server: std::sync::Mutex<Child>,
    admin: (String, String),
    nobody: (String, String),
    role_arn: String,
}

fn venv() -> PathBuf {
    std::env::var_os("SESAME_MOTO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.venv-moto")))
}

fn helper() -> &'static str {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/aws/moto_helper.py"
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The shared moto server (IAM authentication on), started once; `None` (skip) when
/// moto is not installed.
fn moto() -> Option<&'static Moto> {
    static MOTO: OnceLock<Option<Moto>> = OnceLock::new();
    MOTO.get_or_init(|| start("serve")).as_ref()
}

/// A second one without authentication, for what moto cannot do with it on.
fn moto_without_auth() -> Option<&'static Moto> {
    static MOTO: OnceLock<Option<Moto>> = OnceLock::new();
    MOTO.get_or_init(|| start("serve-noauth")).as_ref()
}

fn start(mode: &str) -> Option<Moto> {
    let python = venv().join("bin/python");
    let installed = python.exists()
        && Command::new(&python)
            .args(["-c", "import moto.server, boto3"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but moto is not installed in {} (see .ci/run)",
            venv().display()
        );
        eprintln!("moto not installed in {}: skipping", venv().display());
        return None;
    }
    let port = free_port();
    let mut server = Command::new(&python)
        .args([helper(), mode, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).expect("moto helper started");
    let key = |who: &str| {
        (
            v[who]["id"].as_str().unwrap().to_owned(),
            v[who]["secret"].as_str().unwrap().to_owned(),
        )
    };
    Some(Moto {
        port,
        admin: key("admin"),
        nobody: key("nobody"),
        role_arn: v["role_arn"].as_str().unwrap().to_owned(),
        _server: std::sync::Mutex::new(server),
    })
}

impl Moto {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates secrets (`(name, string)`), binary secrets and parameters as admin.
    fn plant(
        &self,
        secrets: &[(String, String)],
        binary: &[(String, String)],
        params: &[(String, String)],
    ) {
        let spec = serde_json::json!({
            "keys": {"id": self.admin.0, "secret": self.admin.1},
            "secrets": secrets.iter().map(|(n, v)| serde_json::json!({"name": n, "string": v}))
                .chain(binary.iter().map(|(n, b)| serde_json::json!({"name": n, "binary_b64": b})))
                .collect::<Vec<_>>(),
            "params": params.iter().map(|(n, v)| serde_json::json!({"name": n, "value": v})).collect::<Vec<_>>(),
        });
        let mut p = Command::new(venv().join("bin/python"))
            .args([helper(), "plant", &self.port.to_string()])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        p.stdin
            .take()
            .unwrap()
            .write_all(spec.to_string().as_bytes())
            .unwrap();
        assert!(p.wait().unwrap().success(), "planting in moto failed");
    }

    /// A case pointed at moto with the admin's keys in the environment (planted).
    fn case(&self) -> Case {
        let mut c = Case::new();
        c.env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", self.url())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("SESAME_LOG", "debug")
            .env("AWS_ACCESS_KEY_ID", &self.admin.0)
            .secret_env("AWS_SECRET_ACCESS_KEY", &self.admin.1.clone());
        c
    }
}

macro_rules! moto_or_skip {
    () => {
        match moto() {
            Some(m) => m,
            None => return,
        }
    };
}

/// A name unique to this test, so tests can share one moto.
fn unique(test: &str) -> String {
    format!("{test}-{}", std::process::id())
}

/// Runs the child `sh -c 'printf %s "$VAR" > out/VAR'` for each name and reads them.
fn values_seen_by_child(c: &Case, names: &[&str]) -> Vec<String> {
    let script: String = names
        .iter()
        .map(|n| format!("printf %s \"${n}\" > out_{n}; "))
        .collect();
    let r = c.run(&["--", "sh", "-c", &script]);
    r.code(0);
    names
        .iter()
        .map(|n| std::fs::read_to_string(c.path().join(format!("out_{n}"))).unwrap())
        .collect()
}

#[test]
fn by_id_json_key_binary_and_secure_string() {
    let m = moto_or_skip!();
    let p = unique("kinds");
    let password = format!("pw-{p}-Zq9x7Lw2");
    let whole = format!("{{\"password\":\"{password}\",\"port\":5432}}");
    let token = format!("tok-{p}-Hh3kPq8s");
    let plain = format!("plain-{p}-Mm4nBv6c");
    let binary_b64 = "AAECA2JpbmFyeS12YWx1ZS1wbGFudGVk"; // 00 01 02 03 "binary-value-planted"
    m.plant(
        &[
            (format!("{p}/db"), whole.clone()),
            (format!("{p}/plain"), plain.clone()),
        ],
        &[(format!("{p}/bin"), binary_b64.into())],
        &[(format!("/{p}/token"), token.clone())],
    );
    let mut c = m.case();
    c.plant(&password)
        .plant(&token)
        .plant(&plain)
        .plant(binary_b64);
    c.manifest(&format!(
        "version: 1\nsecrets:\n  DB: {{aws_secretsmanager: {{id: {p}/db, key: password}}}}\n  PORT: {{aws_secretsmanager: {{id: {p}/db, key: port}}}}\n  PLAIN: {{aws_secretsmanager: {{id: {p}/plain}}}}\n  BIN: {{aws_secretsmanager: {{id: {p}/bin}}, format: base64}}\n  TOKEN: {{aws_ssm: {{name: /{p}/token}}}}\n"
    ));
    let r = c.run(&["check"]);
    r.code(0)
        .stdout_has(&format!("aws-sm {p}/db#password"))
        .stdout_has(&format!("aws-ssm /{p}/token"));
    let seen = values_seen_by_child(&c, &["DB", "PORT", "PLAIN", "BIN", "TOKEN"]);
    assert!(seen[0] == password, "the JSON key's value");
    assert_eq!(seen[1], "5432");
    assert!(seen[2] == plain, "the whole SecretString");
    assert!(seen[3] == binary_b64, "SecretBinary arrives base64");
    assert!(seen[4] == token, "the SecureString, decrypted");
}

#[test]
fn a_local_source_overrides_aws_and_nothing_is_fetched() {
    let m = moto_or_skip!();
    let mut c = m.case();
    // The endpoint is unusable: a fetch would fail.
    c.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    c.secret_env("DB", "local-override-value-123");
    c.manifest("version: 1\nsecrets:\n  DB: {aws_secretsmanager: {id: prod/db}}\n");
    c.run(&["check"]).code(0).stdout_has("env DB");
}

#[test]
fn batch_of_100_secrets_and_100_parameters() {
    let m = moto_or_skip!();
    let p = unique("batch");
    let secrets: Vec<(String, String)> = (0..100)
        .map(|i| (format!("{p}/s{i}"), format!("sv-{p}-{i}-Kx81pQ")))
        .collect();
    let params: Vec<(String, String)> = (0..100)
        .map(|i| (format!("/{p}/p{i}"), format!("pv-{p}-{i}-Rt62wE")))
        .collect();
    m.plant(&secrets, &[], &params);
    let mut manifest = String::from("version: 1\nsecrets:\n");
    for i in 0..100 {
        manifest.push_str(&format!(
            "  S{i}: {{aws_secretsmanager: {{id: {p}/s{i}}}}}\n"
        ));
        manifest.push_str(&format!("  P{i}: {{aws_ssm: {{name: /{p}/p{i}}}}}\n"));
    }
    let mut c = m.case();
    for (_, v) in secrets.iter().chain(&params) {
        c.plant(v);
    }
    c.manifest(&manifest);
    let start = Instant::now();
    let r = c.run(&["check"]);
    let took = start.elapsed();
    r.code(0).stdout_has("200 secrets: 200 ok");
    eprintln!("timing: 100 Secrets Manager secrets + 100 SSM parameters: {took:?}");

    // One of each, for the comparison in docs/aws.md.
    let mut c1 = m.case();
    c1.manifest(&format!(
        "version: 1\nsecrets:\n  S0: {{aws_secretsmanager: {{id: {p}/s0}}}}\n"
    ));
    let start = Instant::now();
    c1.run(&["check"]).code(0);
    eprintln!("timing: 1 Secrets Manager secret: {:?}", start.elapsed());
    let mut c100 = m.case();
    let mut manifest = String::from("version: 1\nsecrets:\n");
    for i in 0..100 {
        manifest.push_str(&format!(
            "  S{i}: {{aws_secretsmanager: {{id: {p}/s{i}}}}}\n"
        ));
    }
    c100.manifest(&manifest);
    let start = Instant::now();
    c100.run(&["check"]).code(0);
    eprintln!("timing: 100 Secrets Manager secrets: {:?}", start.elapsed());
    let mut p100 = m.case();
    let mut manifest = String::from("version: 1\nsecrets:\n");
    for i in 0..100 {
        manifest.push_str(&format!("  P{i}: {{aws_ssm: {{name: /{p}/p{i}}}}}\n"));
    }
    p100.manifest(&manifest);
    let start = Instant::now();
    p100.run(&["check"]).code(0);
    eprintln!("timing: 100 SSM parameters: {:?}", start.elapsed());
}

#[test]
fn missing_ids_are_missing_and_a_default_still_applies() {
    let m = moto_or_skip!();
    let p = unique("missing");
    m.plant(
        &[(format!("{p}/db"), "{\"user\":\"app\"}".into())],
        &[],
        &[],
    );
    let mut c = m.case();
    c.manifest(&format!(
        "version: 1\nsecrets:\n  A: {{aws_secretsmanager: {{id: {p}/nope}}}}\n  B: {{aws_ssm: {{name: /{p}/nope}}}}\n  C: {{aws_secretsmanager: {{id: {p}/db, key: password}}}}\n  D: {{aws_ssm: {{name: /{p}/nope2}}, required: false, default: fallback}}\n"
    ));
    let r = c.run(&["--", "true"]);
    r.code(78)
        .stderr_has("A: missing (looked for $A_FILE")
        .stderr_has(&format!("aws-sm {p}/nope)"))
        .stderr_has(&format!("aws-ssm /{p}/nope)"))
        .stderr_has(&format!("aws-sm {p}/db#password)"))
        .stderr_has("3 problems with secrets");
    let r = c.run(&["check", "--explain", "C"]);
    r.stdout_has("no key \"password\" in the secret's JSON");
}

#[test]
fn access_denied_names_store_and_endpoint() {
    let m = moto_or_skip!();
    let mut c = m.case();
    c.env("AWS_ACCESS_KEY_ID", &m.nobody.0)
        .secret_env("AWS_SECRET_ACCESS_KEY", &m.nobody.1.clone());
    c.manifest("version: 1\nsecrets:\n  A: {aws_secretsmanager: {id: any/thing}}\n  B: {aws_ssm: {name: /any/thing}}\n");
    let r = c.run(&["--", "true"]);
    r.code(78)
        .stderr_has(&format!(
            "A: aws-sm any/thing: Secrets Manager at {}: HTTP 4",
            m.url()
        ))
        .stderr_has(&format!(
            "B: aws-ssm /any/thing: SSM Parameter Store at {}: HTTP 4",
            m.url()
        ))
        .stderr_has("AccessDenied");
}

#[test]
fn a_wrong_secret_key_fails_the_signature_check() {
    let m = moto_or_skip!();
    let mut c = m.case();
    c.secret_env("AWS_SECRET_ACCESS_KEY", "not-the-right-secret-key-000");
    c.manifest("version: 1\nsecrets:\n  A: {aws_ssm: {name: /any/thing}}\n");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("SignatureDoesNotMatch");
}

#[test]
fn a_stopped_store_fails_fast_naming_the_endpoint() {
    let m = moto_or_skip!();
    let port = free_port(); // nothing listens there any more
    let mut c = m.case();
    c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
    c.manifest("version: 1\nremote_timeout: 5s\nsecrets:\n  A: {aws_secretsmanager: {id: x}}\n  B: {aws_ssm: {name: /y}}\n");
    let r = c.run(&["--", "true"]);
    r.code(78)
        .stderr_has(&format!(
            "A: aws-sm x: Secrets Manager at http://127.0.0.1:{port}:"
        ))
        .stderr_has(&format!(
            "B: aws-ssm /y: SSM Parameter Store at http://127.0.0.1:{port}:"
        ));
    assert!(r.elapsed < Duration::from_secs(6), "took {:?}", r.elapsed);
}

#[test]
fn a_store_that_never_answers_fails_within_remote_timeout() {
    let m = moto_or_skip!();
    let port = common::silent_server();
    let mut c = m.case();
    c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
    c.manifest("version: 1\nremote_timeout: 2s\nsecrets:\n  A: {aws_secretsmanager: {id: x}}\n");
    let r = c.run(&["--", "true"]);
    r.code(78)
        .stderr_has(&format!("Secrets Manager at http://127.0.0.1:{port}"))
        .stderr_has("remote_timeout (2s)");
    assert!(r.elapsed < Duration::from_secs(4), "took {:?}", r.elapsed);
}

#[test]
fn web_identity_through_moto_sts() {
    // moto answers an unsigned call (as AssumeRoleWithWebIdentity is) with a 500 when
    // its authentication is on, so this one runs without it.
    let Some(m) = moto_without_auth() else {
        return;
    };
    let p = unique("webid");
    let value = format!("webid-{p}-Qa7sLk2");
    m.plant(&[], &[], &[(format!("/{p}/v"), value.clone())]);
    let mut c = m.case();
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXBwIn0.c2lnbmF0dXJlLXBsYW50ZWQ";
    let token_file = c.file("token", jwt.as_bytes());
    c.plant(jwt).plant(&value);
    c.env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("AWS_ROLE_ARN", &m.role_arn);
    c.manifest(&format!(
        "version: 1\nsecrets:\n  V: {{aws_ssm: {{name: /{p}/v}}}}\n"
    ));
    let r = c.run(&["check"]);
    r.code(0).stderr_has("credentials from web identity");
    assert!(values_seen_by_child(&c, &["V"])[0] == value);
}

/// A container credentials endpoint (ECS / EKS Pod Identity) that answers with the
/// admin's keys when the request carries `token`; returns its URL and what it saw.
fn credentials_endpoint(m: &Moto, token: &str) -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/v1/credentials",
        listener.local_addr().unwrap().port()
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let (id, secret, token) = (m.admin.0.clone(), m.admin.1.clone(), token.to_owned());
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let mut s = s.unwrap();
            let req = common::read_http_request(&mut s).map_or(String::new(), |(head, _)| head);
            let authorized = req
                .lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("authorization: {token}")));
            let _ = tx.send(req.lines().next().unwrap_or("").to_owned());
            let (status, body) = if authorized {
                (
                    "200 OK",
                    // No Token: moto would refuse a session token it did not issue.
                    serde_json::json!({"AccessKeyId": id, "SecretAccessKey": secret, "Expiration": "2099-01-01T00:00:00Z"}).to_string(),
                )
            } else {
                ("401 Unauthorized", String::new())
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, rx)
}

#[test]
fn container_credentials_from_a_local_endpoint() {
    let m = moto_or_skip!();
    let p = unique("container");
    let value = format!("container-{p}-Vb5nMx1");
    m.plant(&[(format!("{p}/v"), value.clone())], &[], &[]);
    let token = "container-auth-token-planted-7Yh";
    let (url, seen) = credentials_endpoint(m, token);
    let mut c = m.case();
    let token_file = c.file("auth-token", format!("{token}\n").as_bytes());
    c.plant(token).plant(&value);
    c.env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token_file);
    c.manifest(&format!(
        "version: 1\nsecrets:\n  V: {{aws_secretsmanager: {{id: {p}/v}}}}\n"
    ));
    // The environment has no keys: moto verifies a signature made with the endpoint's.
    let r = c.run(&["check"]);
    r.code(0).stderr_has("credentials from container");
    assert_eq!(seen.recv().unwrap(), "GET /v1/credentials HTTP/1.1");
    assert!(values_seen_by_child(&c, &["V"])[0] == value);

    // Without the token the endpoint refuses, and sesame says so.
    let mut c = m.case();
    c.env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url);
    c.manifest(&format!(
        "version: 1\nsecrets:\n  V: {{aws_secretsmanager: {{id: {p}/v}}}}\n"
    ));
    c.run(&["check"])
        .code(78)
        .stdout_has(&format!("container credentials at {url}: HTTP 401"));
}

#[test]
fn no_region_or_no_credentials_are_clear_errors() {
    let m = moto_or_skip!();
    let mut c = m.case();
    c.env("AWS_REGION", "");
    c.manifest("version: 1\nsecrets:\n  A: {aws_ssm: {name: /x}}\n");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("A: aws-ssm /x: no AWS region: set AWS_REGION");
    let mut c = m.case();
    c.env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "");
    c.manifest("version: 1\nsecrets:\n  A: {aws_ssm: {name: /x}}\n");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("A: aws-ssm /x: no AWS credentials")
        .stderr_has("disabled (AWS_EC2_METADATA_DISABLED)");
}

/// A stand-in AWS endpoint: answers the `n`th request (from 0) with `answer(n)`, and
/// counts requests. Signatures are not checked here (moto does that elsewhere).
fn scripted_endpoint(
    answer: impl Fn(usize) -> (u16, String) + Send + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::Ordering;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let mut s = s.unwrap();
            if common::read_http_request(&mut s).is_none() {
                continue;
            }
            let (status, body) = answer(counted.fetch_add(1, Ordering::SeqCst));
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, count)
}

#[test]
fn throttling_is_retried_and_then_succeeds() {
    let m = moto_or_skip!();
    let value = "after-throttling-value-Jk3mQ9";
    let (url, count) = scripted_endpoint(move |n| match n {
        0 => (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
        ),
        1 => (503, r#"{"__type":"ServiceUnavailable"}"#.into()),
        _ => (
            200,
            format!(
                r#"{{"Parameters":[{{"Name":"/p","Type":"SecureString","Value":"{value}"}}],"InvalidParameters":[]}}"#
            ),
        ),
    });
    let mut c = m.case();
    c.plant(value).env("AWS_ENDPOINT_URL_SSM", &url);
    c.manifest("version: 1\nsecrets:\n  P: {aws_ssm: {name: /p}}\n");
    c.run(&["check"]).code(0).stdout_has("aws-ssm /p");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn retries_are_bounded() {
    let m = moto_or_skip!();
    let (url, count) = scripted_endpoint(|_| (500, r#"{"__type":"InternalServiceError"}"#.into()));
    let mut c = m.case();
    c.env("AWS_ENDPOINT_URL_SSM", &url);
    c.manifest("version: 1\nsecrets:\n  P: {aws_ssm: {name: /p}}\n");
    c.run(&["--", "true"]).code(78).stderr_has(&format!(
        "P: aws-ssm /p: SSM Parameter Store at {url}: HTTP 500 InternalServiceError"
    ));
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        4,
        "one attempt and three retries"
    );
}

/// An EC2 instance metadata service (IMDSv2) on loopback, as
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` lets sesame be pointed at: a session token from
/// `PUT /latest/api/token`, then the role and its credentials only with that token.
fn imds_endpoint(m: &Moto) -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (tx, rx) = std::sync::mpsc::channel();
    let (id, secret) = m.admin.clone();
    std::thread::spawn(move || {
        const TOKEN: &str = "imds-session-token-planted-Pq4";
        for s in listener.incoming() {
            let mut s = s.unwrap();
            let req = common::read_http_request(&mut s).map_or(String::new(), |(head, _)| head);
            let first = req.lines().next().unwrap_or("").to_owned();
            let _ = tx.send(first.clone());
            let has_token = req
                .lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("x-aws-ec2-metadata-token: {TOKEN}")));
            let (status, body) = match first.split(' ').take(2).collect::<Vec<_>>()[..] {
                ["PUT", "/latest/api/token"] => ("200 OK", TOKEN.to_owned()),
                ["GET", "/latest/meta-data/iam/security-credentials/"] if has_token => {
                    ("200 OK", "app-role\n".to_owned())
                }
                ["GET", "/latest/meta-data/iam/security-credentials/app-role"] if has_token => (
                    "200 OK",
                    serde_json::json!({"Code": "Success", "AccessKeyId": id, "SecretAccessKey": secret}).to_string(),
                ),
                _ => ("401 Unauthorized", String::new()),
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, rx)
}

#[test]
fn imds_v2_credentials_from_a_local_endpoint() {
    let m = moto_or_skip!();
    let p = unique("imds");
    let value = format!("imds-{p}-Wq2zXc8");
    m.plant(&[], &[], &[(format!("/{p}/v"), value.clone())]);
    let (url, seen) = imds_endpoint(m);
    let mut c = m.case();
    c.plant(&value).plant("imds-session-token-planted-Pq4");
    c.env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_EC2_METADATA_DISABLED", "")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &url);
    c.manifest(&format!(
        "version: 1\nsecrets:\n  V: {{aws_ssm: {{name: /{p}/v}}}}\n"
    ));
    c.run(&["check"])
        .code(0)
        .stderr_has("credentials from IMDS");
    let requests: Vec<String> = seen.try_iter().collect();
    assert_eq!(
        requests,
        [
            "PUT /latest/api/token HTTP/1.1",
            "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1",
            "GET /latest/meta-data/iam/security-credentials/app-role HTTP/1.1",
        ]
    );
    assert!(values_seen_by_child(&c, &["V"])[0] == value);
}

/// Root reading for a `--user` walks the files the AWS source reads as it walks secret
/// files: a web identity token and a CA bundle (`SSL_CERT_FILE`) in a directory the
/// user owns are refused, not read (the user could link them to a root-only file, or
/// choose whom sesame trusts). Before, both were opened by name. No AWS is needed:
/// the token is refused before any request.
#[test]
fn with_user_token_and_ca_files_in_a_users_directory_are_refused() {
    if !common::is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let mut c = Case::new();
    let theirs = c.path().join("nobodys");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.bm9ib2R5cy10b2tlbi1wbGFudGVk";
    let token = theirs.join("token");
    std::fs::write(&token, jwt).unwrap();
    let bundle = theirs.join("ca.pem");
    std::fs::write(&bundle, "not a bundle\n").unwrap();
    for p in [&token, &bundle] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    c.plant(jwt);
    c.env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/app")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token)
        .env("SSL_CERT_FILE", &bundle);
    c.manifest("version: 1\nsecrets:\n  A: {aws_ssm: {name: /x}}\n");
    c.run(&["--user", "nobody", "--", "true"])
        .code(78)
        .stderr_has("AWS_WEB_IDENTITY_TOKEN_FILE ")
        .stderr_has("nobodys is owned by uid 65534")
        .stderr_has("http: CA bundle ")
        .stderr_lacks("127.0.0.1:9");
}
