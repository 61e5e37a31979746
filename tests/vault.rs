//! The `vault` source against a test double of Vault's HTTP API
//! (tests/fixtures/vault/vault_double.py, Python stdlib only: no Vault or OpenBao
//! server can be installed here). The double implements, from Vault's API documents,
//! KV v2 (data, metadata, versions, deleted versions), KV v1, token lookup-self,
//! Kubernetes and AppRole login, policies (403), missing paths (404), a sealed Vault
//! (503), injected 429/5xx faults, TLS with a CA made by the `openssl` CLI, and the
//! X-Vault-Namespace header. Each test starts its own double; every request it gets is
//! logged (never a token), so tests can count them.
//!
//! Every planted value, token, JWT and secret id is checked absent from what sesame
//! prints, at debug level (the harness does it on every run).
#![cfg(feature = "vault")]

mod common;
use common::Case;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// A running double; stopped when dropped.
struct Double {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Double {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Double {
    /// Starts the double with `config` (plus its log file) in the case's directory.
    fn start(c: &Case, mut config: Value) -> Double {
        let log = c.path().join("vault-requests.jsonl");
        config["log"] = json!(log);
        let https = config.get("tls").is_some();
        let cfg = c.file("vault-double.json", config.to_string().as_bytes());
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/vault/vault_double.py"
        );
        let mut child = Command::new("python3")
            .args([script, cfg.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the Vault test double (.ci/run installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line).expect("the double started");
        let scheme = if https { "https" } else { "http" };
        Double {
            url: format!("{scheme}://127.0.0.1:{}", v["port"]),
            child,
            log,
        }
    }

    /// The requests the double got, in order.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// How many requests went to this API path (`secret/data/app/db`).
    fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r["path"] == path).count()
    }

    fn forget(&self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A case aimed at `d` with `token` in VAULT_TOKEN, at debug level.
fn case_with_token(token: &str) -> Case {
    let mut c = Case::new();
    c.env("SESAME_LOG", "debug");
    if !token.is_empty() {
        c.secret_env("VAULT_TOKEN", token);
    }
    c
}

/// The double's usual setup: one token allowed to read `secret/data/app/*` and
/// `kv/app/*`, and the given KV v2 secrets (path -> list of versions' data).
fn config(token: &str, kv2: Value) -> Value {
    json!({
        "tokens": {token: {"policies": ["secret/data/app/*", "secret/metadata/app/*", "kv/app/*"]}},
        "mounts": {"secret": {"kv": 2, "secrets": kv2}},
    })
}

/// Runs the child `sh -c 'printf %s "$VAR" > out_VAR'` for each name and reads them.
fn values_seen_by_child(c: &Case, names: &[&str]) -> Vec<String> {
    let script: String = names
        .iter()
        .map(|n| format!("printf %s \"${n}\" > out_{n}; "))
        .collect();
    c.run(&["--", "sh", "-c", &script]).code(0);
    names
        .iter()
        .map(|n| std::fs::read_to_string(c.path().join(format!("out_{n}"))).unwrap())
        .collect()
}

/// The child's whole environment, as `env` prints it.
fn child_environment(c: &Case) -> String {
    c.run(&["--", "sh", "-c", "env > child_env"]).code(0);
    std::fs::read_to_string(c.path().join("child_env")).unwrap()
}

fn port_with_nothing() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn kv2_keys_of_one_path_cost_one_request_and_reach_the_program() {
    let token = "hvs.static-token-planted-Qx81";
    let private = "-----BEGIN-planted-private-Lk39z";
    let public = "planted-public-key-Wd72m";
    let password = "planted-db-password-Hy61b";
    let mut c = case_with_token(token);
    c.plant(private).plant(public).plant(password);
    let d = Double::start(
        &c,
        config(
            token,
            json!({
                "app/jwt-keys": [{"data": {"JWT_PRIVATE_KEY": private, "JWT_PUBLIC_KEY": public}}],
                "app/db": [{"data": {"password": password, "port": 5432}}],
            }),
        ),
    );
    c.env("VAULT_ADDR", &d.url);
    c.manifest(
        "version: 1\nsecrets:\n  JWT_PRIVATE_KEY: {vault: {path: app/jwt-keys}}\n  JWT_PUBLIC_KEY: {vault: {path: app/jwt-keys}}\n  DB_PASSWORD: {vault: {path: app/db, key: password}}\n  DB_PORT: {vault: {path: app/db, key: port}, format: port}\n",
    );
    c.run(&["check"])
        .code(0)
        .stdout_has("vault secret/app/jwt-keys#JWT_PRIVATE_KEY")
        .stdout_has("vault secret/app/db#password");
    assert_eq!(
        d.count("secret/data/app/jwt-keys"),
        1,
        "one read for two keys"
    );
    assert_eq!(d.count("secret/data/app/db"), 1);
    let seen = values_seen_by_child(
        &c,
        &[
            "JWT_PRIVATE_KEY",
            "JWT_PUBLIC_KEY",
            "DB_PASSWORD",
            "DB_PORT",
        ],
    );
    assert!(seen[0] == private && seen[1] == public && seen[2] == password);
    assert_eq!(seen[3], "5432", "a number as its JSON text");
}

#[test]
fn kv1_mounts_and_pinned_kv2_versions() {
    let token = "hvs.static-token-planted-Vv20";
    let (old, new, legacy) = (
        "planted-version-one-Aa11",
        "planted-version-two-Bb22",
        "planted-kv1-value-Cc33",
    );
    let mut c = case_with_token(token);
    c.plant(old).plant(new).plant(legacy);
    let mut cfg = config(
        token,
        json!({"app/rotating": [{"data": {"K": old}}, {"data": {"K": new}}, {"data": {"K": "gone"}, "deleted": true}]}),
    );
    cfg["mounts"]["kv"] = json!({"kv": 1, "secrets": {"app/legacy": {"token": legacy}}});
    let d = Double::start(&c, cfg);
    c.env("VAULT_ADDR", &d.url);
    c.manifest(
        "version: 1\nsecrets:\n  PINNED: {vault: {path: app/rotating, key: K, version: 1}}\n  SECOND: {vault: {path: app/rotating, key: K, version: 2}}\n  LEGACY: {vault: {path: app/legacy, key: token, mount: kv, kv_version: 1}}\n",
    );
    let seen = values_seen_by_child(&c, &["PINNED", "SECOND", "LEGACY"]);
    assert!(seen[0] == old, "version 1");
    assert!(seen[1] == new, "version 2");
    assert!(seen[2] == legacy, "KV v1");
    let reads = d.requests();
    assert!(
        reads
            .iter()
            .any(|r| r["path"] == "secret/data/app/rotating" && r["query"] == "version=1")
    );
    assert!(reads.iter().any(|r| r["path"] == "kv/app/legacy"));

    // The latest version is deleted: missing, saying so.
    c.manifest("version: 1\nsecrets:\n  LATEST: {vault: {path: app/rotating, key: K}}\n");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("LATEST: missing (looked for $LATEST_FILE")
        .stderr_has("vault secret/app/rotating#K)");
    c.run(&["check", "--explain", "LATEST"])
        .stdout_has("the version is deleted in Vault (secret/app/rotating)");
}

#[test]
fn a_file_or_variable_overrides_vault_and_nothing_is_fetched() {
    let mut c = case_with_token("hvs.unused-token-planted-Ee55");
    // Nothing listens there: a fetch would fail.
    c.env(
        "VAULT_ADDR",
        format!("http://127.0.0.1:{}", port_with_nothing()),
    );
    c.secret_env("DB", "local-override-value-Ff66");
    c.secret_file("api", "file-override-value-Gg77\n");
    c.manifest("version: 1\nsecrets:\n  DB: {vault: {path: app/db}}\n  API: {file: api, vault: {path: app/api}}\n");
    c.run(&["check"])
        .code(0)
        .stdout_has("env DB")
        .stdout_has("file ");
}

#[test]
fn missing_paths_and_keys_are_missing_with_the_trail_and_a_default_applies() {
    let token = "hvs.static-token-planted-Mm10";
    let mut c = case_with_token(token);
    let d = Double::start(
        &c,
        config(token, json!({"app/db": [{"data": {"user": "app"}}]})),
    );
    c.env("VAULT_ADDR", &d.url);
    c.manifest(
        "version: 1\nsecrets:\n  A: {vault: {path: app/nope}}\n  B: {vault: {path: app/db}}\n  C: {vault: {path: app/nope2}, required: false, default: fallback-value}\n",
    );
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("A: missing (looked for $A_FILE")
        .stderr_has("vault secret/app/nope#A)")
        .stderr_has("vault secret/app/db#B)")
        .stderr_has("2 problems with secrets");
    c.run(&["check", "--explain", "B"])
        .stdout_has("no key \"B\" in the secret's data");
    c.run(&["check", "--explain", "A"])
        .stdout_has("no such secret in Vault (secret/app/nope)");
    c.run(&["check", "--explain", "C"]).stdout_has("default");
}

#[test]
fn policy_denials_are_named_for_each_secret_with_its_path() {
    let token = "hvs.static-token-planted-Pp20";
    let mut c = case_with_token(token);
    let mut cfg = config(
        token,
        json!({"app/db": [{"data": {"A": "planted-allowed-Qq21"}}]}),
    );
    cfg["mounts"]["secret"]["secrets"]["other/x"] = json!([{"data": {"B": "planted-denied-Rr22"}}]);
    cfg["mounts"]["secret"]["secrets"]["other/y"] = json!([{"data": {"C": "planted-denied-Ss23"}}]);
    c.plant("planted-allowed-Qq21")
        .plant("planted-denied-Rr22")
        .plant("planted-denied-Ss23");
    let d = Double::start(&c, cfg);
    c.env("VAULT_ADDR", &d.url);
    c.manifest(
        "version: 1\nsecrets:\n  A: {vault: {path: app/db}}\n  B: {vault: {path: other/x}}\n  C: {vault: {path: other/y}}\n",
    );
    c.run(&["--", "true"])
        .code(78)
        .stderr_has(&format!(
            "B: vault secret/other/x#B: Vault at {}: permission denied (HTTP 403): the token's policies do not allow reading it (VAULT_TOKEN)",
            d.url
        ))
        .stderr_has("C: vault secret/other/y#C: Vault at")
        .stderr_has("2 problems with secrets")
        .stderr_lacks("A: ");
}

#[test]
fn an_invalid_token_is_told_apart_from_a_policy_denial() {
    let mut c = case_with_token("hvs.revoked-token-planted-Tt30");
    let d = Double::start(
        &c,
        config(
            "hvs.some-other-token",
            json!({"app/db": [{"data": {"A": "x"}}]}),
        ),
    );
    c.env("VAULT_ADDR", &d.url);
    c.manifest("version: 1\nsecrets:\n  A: {vault: {path: app/db}}\n");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("A: vault secret/app/db#A: Vault at")
        .stderr_has("the token (VAULT_TOKEN) is not valid");
    assert_eq!(
        d.count("auth/token/lookup-self"),
        1,
        "one look-up explains every 403"
    );
}

#[test]
fn a_sealed_vault_is_an_error_for_every_secret_after_the_retries() {
    let token = "hvs.static-token-planted-Uu40";
    let mut c = case_with_token(token);
    let mut cfg = config(token, json!({"app/db": [{"data": {"A": "x", "B": "y"}}]}));
    cfg["sealed"] = json!(true);
    let d = Double::start(&c, cfg);
    c.env("VAULT_ADDR", &d.url);
    c.manifest(
        "version: 1\nsecrets:\n  A: {vault: {path: app/db}}\n  B: {vault: {path: app/db}}\n",
    );
    c.run(&["--", "true"])
        .code(78)
        .stderr_has(&format!(
            "A: vault secret/app/db#A: Vault at {}: Vault is sealed (HTTP 503)",
            d.url
        ))
        .stderr_has("B: vault secret/app/db#B: Vault at")
        .stderr_has("2 problems with secrets");
    assert_eq!(
        d.count("secret/data/app/db"),
        4,
        "the first attempt and three retries"
    );
}

#[test]
fn throttling_and_server_errors_are_retried_then_the_read_succeeds() {
    let token = "hvs.static-token-planted-Ww50";
    let value = "planted-after-retries-Xx51";
    let mut c = case_with_token(token);
    c.plant(value);
    let mut cfg = config(token, json!({"app/flaky": [{"data": {"A": value}}]}));
    cfg["faults"] = json!({"secret/data/app/flaky": [429, 500]});
    let d = Double::start(&c, cfg);
    c.env("VAULT_ADDR", &d.url);
    c.manifest("version: 1\nsecrets:\n  A: {vault: {path: app/flaky}}\n");
    c.run(&["check"]).code(0);
    assert_eq!(d.count("secret/data/app/flaky"), 3, "429, 500, then 200");
}

#[test]
fn a_vault_that_never_answers_fails_within_remote_timeout() {
    let port = common::silent_server();
    let mut c = case_with_token("hvs.static-token-planted-Yy60");
    c.env("VAULT_ADDR", format!("http://127.0.0.1:{port}"));
    c.manifest("version: 1\nremote_timeout: 2s\nsecrets:\n  A: {vault: {path: app/db}}\n");
    let r = c.run(&["--", "true"]);
    r.code(78)
        .stderr_has(&format!(
            "A: vault secret/app/db#A: Vault at http://127.0.0.1:{port}:"
        ))
        .stderr_has("remote_timeout (2s)");
    assert!(r.elapsed < Duration::from_secs(4), "took {:?}", r.elapsed);
}

#[test]
fn token_files_as_vault_agent_and_vault_login_write_them() {
    let token = "hvs.sink-token-planted-Zz70";
    let value = "planted-through-sink-Ab71";
    let mut c = case_with_token("");
    c.plant(token).plant(value);
    let d = Double::start(
        &c,
        config(token, json!({"app/db": [{"data": {"A": value}}]})),
    );
    c.env("VAULT_ADDR", &d.url);
    // Vault Agent's file sink, configured in the manifest (with a trailing newline).
    let sink = c.file("agent/sink-token", format!("{token}\n").as_bytes());
    c.manifest(&format!(
        "version: 1\nvault: {{token_file: {}}}\nsecrets:\n  A: {{vault: {{path: app/db}}}}\n",
        sink.display()
    ));
    c.run(&["check"])
        .code(0)
        .stderr_has("authenticated with token file");
    // `vault login`'s ~/.vault-token, found through HOME.
    let home = c.path().join("home");
    c.file("home/.vault-token", token.as_bytes());
    c.env("HOME", &home);
    c.manifest("version: 1\nsecrets:\n  A: {vault: {path: app/db}}\n");
    c.run(&["check"]).code(0).stderr_has(".vault-token");
    // A configured sink that is not there yet is the error (no other identity).
    c.manifest("version: 1\nvault: {token_file: /nonexistent/sink}\nsecrets:\n  A: {vault: {path: app/db}}\n");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("A: vault secret/app/db#A: Vault at")
        .stderr_has("/nonexistent/sink: no such file");
}

/// The double's Kubernetes auth: role `app` with this JWT.
fn kubernetes_config(token: &str, jwt: &str, kv2: Value) -> Value {
    let mut cfg = config(token, kv2);
    cfg["kubernetes"] = json!({"roles": {"app": {"jwt": jwt, "policies": ["secret/data/app/*"]}}});
    cfg
}

const JWT: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXBwIn0.planted-signature-Kk90";

#[test]
fn kubernetes_login_with_the_service_account_jwt_and_the_token_stays_in_sesame() {
    let value = "planted-through-kubernetes-Cd80";
    let mut c = case_with_token("");
    c.plant(value).plant(JWT);
    let d = Double::start(
        &c,
        kubernetes_config(
            "hvs.unused",
            JWT,
            json!({"app/db": [{"data": {"A": value}}]}),
        ),
    );
    let jwt_file = c.file("sa/token", JWT.as_bytes());
    c.env("VAULT_ADDR", &d.url).env("VAULT_ROLE", "app");
    c.manifest(&format!(
        "version: 1\nvault: {{jwt_file: {}}}\nsecrets:\n  A: {{vault: {{path: app/db}}}}\n",
        jwt_file.display()
    ));
    let seen = values_seen_by_child(&c, &["A"]);
    assert!(seen[0] == value);
    let reqs = d.requests();
    assert!(
        reqs.iter()
            .any(|r| r["path"] == "auth/kubernetes/login" && r["method"] == "POST")
    );
    assert!(
        reqs.iter()
            .any(|r| r["path"] == "secret/data/app/db" && r["token"] == "kubernetes"),
        "read with the token the login gave"
    );
    let env = child_environment(&c);
    assert!(
        !env.contains("hvs."),
        "no Vault token in the program's environment"
    );
    assert!(!env.contains("VAULT_TOKEN"));

    // A wrong JWT: the login is refused, named, for each secret.
    let wrong = c.file("sa/wrong", b"eyJ.wrong-jwt-planted-Ef81");
    c.plant("eyJ.wrong-jwt-planted-Ef81");
    c.manifest(&format!(
        "version: 1\nvault: {{jwt_file: {}, role: app}}\nsecrets:\n  A: {{vault: {{path: app/db}}}}\n",
        wrong.display()
    ));
    c.run(&["--", "true"]).code(78).stderr_has(
        "kubernetes login at auth/kubernetes as role app: refused: permission denied (HTTP 403)",
    );
}

#[test]
fn kubernetes_auth_reads_the_standard_service_account_path() {
    if !common::is_root() {
        return;
    }
    let value = "planted-standard-path-Gh82";
    let mut c = case_with_token("");
    c.plant(value).plant(JWT);
    let d = Double::start(
        &c,
        kubernetes_config(
            "hvs.unused",
            JWT,
            json!({"app/db": [{"data": {"A": value}}]}),
        ),
    );
    let jwt_file = c.file("sa-token", JWT.as_bytes());
    c.env("VAULT_ADDR", &d.url).env("VAULT_ROLE", "app");
    c.manifest("version: 1\nsecrets:\n  A: {vault: {path: app/db}}\n");
    // The JWT where Kubernetes mounts it, in a private mount namespace.
    let setup = format!(
        "mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp {} /run/secrets/kubernetes.io/serviceaccount/token && exec \"$0\" \"$@\"",
        jwt_file.display()
    );
    c.wrapper(&[
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &setup,
    ]);
    c.run(&["check"])
        .code(0)
        .stderr_has("kubernetes login at auth/kubernetes as role app");
    assert_eq!(d.count("auth/kubernetes/login"), 1);
}

#[test]
fn approle_login_with_role_id_and_secret_id_from_files() {
    let (role_id, secret_id) = ("planted-role-id-Ij83", "planted-secret-id-Kl84");
    let value = "planted-through-approle-Mn85";
    let mut c = case_with_token("");
    c.plant(role_id).plant(secret_id).plant(value);
    let mut cfg = config("hvs.unused", json!({"app/db": [{"data": {"A": value}}]}));
    cfg["approle"] = json!({"mount": "ci-approle", "roles": [{"role_id": role_id, "secret_id": secret_id, "policies": ["secret/data/app/*"]}]});
    let d = Double::start(&c, cfg);
    let rid = c.file("approle/role_id", format!("{role_id}\n").as_bytes());
    let sid = c.file("approle/secret_id", secret_id.as_bytes());
    c.env("VAULT_ADDR", &d.url);
    c.manifest(&format!(
        "version: 1\nvault: {{auth: approle, auth_mount: ci-approle, role_id_file: {}, secret_id_file: {}}}\nsecrets:\n  A: {{vault: {{path: app/db}}}}\n",
        rid.display(),
        sid.display()
    ));
    let seen = values_seen_by_child(&c, &["A"]);
    assert!(seen[0] == value);
    assert!(
        d.requests()
            .iter()
            .any(|r| r["path"] == "secret/data/app/db" && r["token"] == "approle")
    );
    // A wrong secret_id.
    std::fs::write(&sid, "planted-wrong-secret-id-Op86").unwrap();
    c.plant("planted-wrong-secret-id-Op86");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("approle login at auth/ci-approle: refused: HTTP 400");
}

#[test]
fn vault_token_comes_first_unless_the_manifest_names_the_method() {
    let token = "hvs.static-token-planted-Qr87";
    let value = "planted-order-value-St88";
    let mut c = case_with_token(token);
    c.plant(value).plant(JWT);
    let d = Double::start(
        &c,
        kubernetes_config(token, JWT, json!({"app/db": [{"data": {"A": value}}]})),
    );
    let jwt_file = c.file("sa/token", JWT.as_bytes());
    c.env("VAULT_ADDR", &d.url);
    c.manifest(&format!(
        "version: 1\nvault: {{jwt_file: {}, role: app}}\nsecrets:\n  A: {{vault: {{path: app/db}}}}\n",
        jwt_file.display()
    ));
    c.run(&["check"])
        .code(0)
        .stderr_has("authenticated with VAULT_TOKEN");
    assert_eq!(d.count("auth/kubernetes/login"), 0, "VAULT_TOKEN first");
    d.forget();
    c.manifest(&format!(
        "version: 1\nvault: {{auth: kubernetes, jwt_file: {}, role: app}}\nsecrets:\n  A: {{vault: {{path: app/db}}}}\n",
        jwt_file.display()
    ));
    c.run(&["check"])
        .code(0)
        .stderr_has("authenticated with kubernetes login");
    assert_eq!(d.count("auth/kubernetes/login"), 1, "the manifest's choice");
    // Nothing configured at all.
    let mut bare = case_with_token("");
    bare.env("VAULT_ADDR", &d.url);
    bare.manifest("version: 1\nsecrets:\n  A: {vault: {path: app/db}}\n");
    bare.run(&["--", "true"])
        .code(78)
        .stderr_has("A: vault secret/app/db#A: Vault at")
        .stderr_has("no Vault credentials: set VAULT_TOKEN");
}

/// A CA and a certificate for 127.0.0.1 signed by it, made once with the openssl CLI.
fn test_ca() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sesame-vault-ca-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("capath")).unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl (the CLI) makes the test CA");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        run(&[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=sesame test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]].concat());
        run(&[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat());
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(&["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"]);
        std::fs::copy(dir.join("ca.pem"), dir.join("capath/ca.pem")).unwrap();
        dir
    })
}

fn tls_double(c: &mut Case, token: &str, value: &str) -> Double {
    let ca = test_ca();
    let mut cfg = config(token, json!({"app/db": [{"data": {"A": value}}]}));
    cfg["tls"] = json!({"cert": ca.join("server.pem"), "key": ca.join("server.key")});
    c.plant(value);
    let d = Double::start(c, cfg);
    c.env("VAULT_ADDR", &d.url);
    c.manifest("version: 1\nsecrets:\n  A: {vault: {path: app/db}}\n");
    d
}

#[test]
fn tls_is_verified_against_vault_cacert_or_vault_capath() {
    let token = "hvs.static-token-planted-Uv89";
    let mut c = case_with_token(token);
    let d = tls_double(&mut c, token, "planted-over-tls-Wx90");
    assert!(d.url.starts_with("https://"));
    // The system's roots do not know the test CA.
    c.env("SSL_CERT_FILE", "/nonexistent");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has(&format!("A: vault secret/app/db#A: Vault at {}:", d.url));
    c.env("VAULT_CACERT", test_ca().join("ca.pem"));
    c.run(&["check"]).code(0);
    c.env("VAULT_CACERT", "");
    c.env("VAULT_CAPATH", test_ca().join("capath"));
    c.run(&["check"]).code(0);
}

#[test]
fn vault_skip_verify_is_refused_unless_the_manifest_allows_it() {
    let token = "hvs.static-token-planted-Yz91";
    let mut c = case_with_token(token);
    let _d = tls_double(&mut c, token, "planted-skip-verify-Ab92");
    c.env("VAULT_SKIP_VERIFY", "true");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("VAULT_SKIP_VERIFY is set, but the manifest does not allow it");
    c.manifest(
        "version: 1\nvault: {allow_skip_verify: true}\nsecrets:\n  A: {vault: {path: app/db}}\n",
    );
    c.run(&["check"])
        .code(0)
        .stderr_has("VAULT_SKIP_VERIFY: Vault's certificate is not verified");
}

#[test]
fn the_namespace_goes_in_the_x_vault_namespace_header() {
    let token = "hvs.static-token-planted-Cd93";
    let value = "planted-in-namespace-Ef94";
    let mut c = case_with_token(token);
    c.plant(value);
    let mut cfg = config(token, json!({"app/db": [{"data": {"A": value}}]}));
    cfg["namespace"] = json!("team-a/prod");
    let d = Double::start(&c, cfg);
    c.env("VAULT_ADDR", &d.url);
    c.manifest("version: 1\nsecrets:\n  A: {vault: {path: app/db}}\n");
    // Without the namespace the token is unknown to that Vault.
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("the token (VAULT_TOKEN) is not valid");
    d.forget();
    c.env("VAULT_NAMESPACE", "team-a/prod");
    c.run(&["check"]).code(0);
    assert!(d.requests().iter().all(|r| r["namespace"] == "team-a/prod"));
    // The manifest's namespace, when the variable is not set.
    c.env("VAULT_NAMESPACE", "");
    c.manifest(
        "version: 1\nvault: {namespace: team-a/prod}\nsecrets:\n  A: {vault: {path: app/db}}\n",
    );
    c.run(&["check"]).code(0);
}

#[test]
fn vault_token_is_scrubbed_from_the_program_unless_scrub_is_off() {
    let token = "hvs.static-token-planted-Gh95";
    let mut c = case_with_token(token);
    c.plant("planted-scrub-value-Ij96");
    let d = Double::start(
        &c,
        config(
            token,
            json!({"app/db": [{"data": {"A": "planted-scrub-value-Ij96"}}]}),
        ),
    );
    c.env("VAULT_ADDR", &d.url);
    c.manifest("version: 1\nsecrets:\n  A: {vault: {path: app/db}}\n");
    let env = child_environment(&c);
    assert!(!env.contains("VAULT_TOKEN="), "scrubbed");
    assert!(env.contains("VAULT_ADDR="), "the address is not a secret");
    c.manifest("version: 1\nscrub: false\nsecrets:\n  A: {vault: {path: app/db}}\n");
    let env = child_environment(&c);
    assert!(env.contains("VAULT_TOKEN="), "scrub: false keeps it");
}

#[test]
fn values_from_vault_obey_every_rule_and_never_show() {
    let token = "hvs.static-token-planted-Kl97";
    let mut c = case_with_token(token);
    let short = "planted-short-Mn98";
    let with_nul = "planted-nul-\u{0}-Op99";
    c.plant(short)
        .plant("planted-nul-")
        .plant("-Op99")
        .plant("planted-weak-changeme-x");
    let d = Double::start(
        &c,
        config(
            token,
            json!({"app/db": [{"data": {"SHORT": short, "NUL": with_nul, "OBJ": {"planted-inner": "Qr00"}, "B64": "planted-not-base64!"}}]}),
        ),
    );
    c.plant("planted-not-base64!");
    c.env("VAULT_ADDR", &d.url);
    c.manifest(
        "version: 1\nsecrets:\n  SHORT: {vault: {path: app/db}, min_length: 64}\n  NUL: {vault: {path: app/db}}\n  OBJ: {vault: {path: app/db}}\n  B64: {vault: {path: app/db}, format: base64}\n",
    );
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("SHORT: too short: 18 characters, needs at least 64")
        .stderr_has("NUL: vault secret/app/db#NUL: contains a NUL byte")
        .stderr_has("OBJ: vault secret/app/db#OBJ: the key's value is an object, not a string, number or boolean")
        .stderr_has("B64: ")
        .stderr_has("4 problems with secrets")
        .stderr_lacks("Qr00");
}

#[test]
fn no_address_is_an_error_for_every_vault_secret() {
    let mut c = case_with_token("hvs.static-token-planted-St01");
    c.manifest("version: 1\nsecrets:\n  A: {vault: {path: app/a}}\n  B: {vault: {path: app/b}}\n");
    c.run(&["--", "true"])
        .code(78)
        .stderr_has("A: vault secret/app/a#A: no Vault address: set VAULT_ADDR")
        .stderr_has("B: vault secret/app/b#B: no Vault address");
}

#[test]
fn manifest_checks_vault_locations() {
    let mut c = Case::new();
    c.manifest(
        "version: 1\nvault: {auth: ldap, token_file: relative/path}\nsecrets:\n  A: {vault: {path: ../sys/raw}}\n  B: {vault: {path: app/b, kv_version: 1, version: 2}}\n  C: {vault: {key: k}}\n  D: {vault: {path: app/d, colour: blue}}\n",
    );
    c.run(&["check"])
        .code(78)
        .stderr_has("vault.auth: expected token, token_file, kubernetes or approle")
        .stderr_has("secrets.C.vault.path: missing")
        .stderr_has("secrets.D.vault.colour: unknown field");
    c.manifest(
        "version: 1\nvault: {token_file: relative/path}\nsecrets:\n  A: {vault: {path: ../sys/raw}}\n  B: {vault: {path: app/b, kv_version: 1, version: 2}}\n  E: {vault: {path: app/e}}\nsources: [file, env]\n",
    );
    c.run(&["check"])
        .code(78)
        .stderr_has("vault.token_file: must be an absolute path")
        .stderr_has("secrets.A.vault.path: must be a Vault path")
        .stderr_has("secrets.B.vault.version: KV version 1 keeps no versions")
        .stderr_has("secrets.E.vault: the manifest's sources do not include vault");
}

/// A stand-in for SSM's `GetParameters` (sesame's side of AWS is tested against moto in
/// tests/aws.rs): names under `/found/` have a value, the others are unknown.
#[cfg(feature = "aws")]
fn fake_ssm(value: &'static str) -> String {
    use std::io::Write;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let Some((_, body)) = common::read_http_request(&mut s) else {
                continue;
            };
            let req: Value = serde_json::from_slice(&body).unwrap();
            let names: Vec<String> = req["Names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect();
            let (found, unknown): (Vec<_>, Vec<_>) =
                names.into_iter().partition(|n| n.starts_with("/found/"));
            let answer = json!({
                "Parameters": found.iter().map(|n| json!({"Name": n, "Value": value})).collect::<Vec<_>>(),
                "InvalidParameters": unknown,
            })
            .to_string();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[cfg(feature = "aws")]
#[test]
fn aws_and_vault_in_one_manifest_and_a_secret_aws_lacks_goes_on_to_vault() {
    const AWS_VALUE: &str = "planted-from-aws-Ab02";
    let token = "hvs.static-token-planted-Cd03";
    let vault_value = "planted-from-vault-Ef04";
    let mut c = case_with_token(token);
    c.plant(AWS_VALUE).plant(vault_value);
    let d = Double::start(
        &c,
        config(
            token,
            json!({"app/db": [{"data": {"B": vault_value, "C": vault_value}}]}),
        ),
    );
    c.env("VAULT_ADDR", &d.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", fake_ssm(AWS_VALUE))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .secret_env("AWS_SECRET_ACCESS_KEY", "planted-aws-secret-key-Gh05");
    c.manifest(
        "version: 1\nsecrets:\n  A: {aws_ssm: {name: /found/a}}\n  B: {vault: {path: app/db}}\n  C: {aws_ssm: {name: /missing/c}, vault: {path: app/db}}\n",
    );
    c.run(&["check"])
        .code(0)
        .stdout_has("aws-ssm /found/a")
        .stdout_has("vault secret/app/db#B")
        .stdout_has("vault secret/app/db#C");
    c.run(&["check", "--explain", "C"])
        .stdout_has("aws-ssm /missing/c")
        .stdout_has("vault secret/app/db#C");
    let seen = values_seen_by_child(&c, &["A", "B", "C"]);
    assert!(seen[0] == AWS_VALUE && seen[1] == vault_value && seen[2] == vault_value);
}

#[test]
fn with_user_credential_files_are_not_read_through_a_directory_someone_else_owns() {
    if !common::is_root() {
        return;
    }
    use std::os::unix::fs::chown;
    let token = "hvs.sink-token-planted-Ij06";
    let mut c = case_with_token("");
    c.plant(token);
    let d = Double::start(
        &c,
        config(
            token,
            json!({"app/db": [{"data": {"A": "planted-user-Kl07"}}]}),
        ),
    );
    c.plant("planted-user-Kl07");
    c.env("VAULT_ADDR", &d.url);
    // A directory the unprivileged user owns could have a link swapped in.
    let sink = c.file("theirs/token", token.as_bytes());
    chown(c.path().join("theirs"), Some(65534), Some(65534)).unwrap();
    c.manifest(&format!(
        "version: 1\nvault: {{token_file: {}}}\nsecrets:\n  A: {{vault: {{path: app/db}}}}\n",
        sink.display()
    ));
    c.run(&["--user", "65534:65534", "--", "true"])
        .code(78)
        .stderr_has(&format!(
            "A: vault secret/app/db#A: Vault at {}: {}",
            d.url,
            sink.display()
        ));
    assert_eq!(
        d.count("secret/data/app/db"),
        0,
        "nothing read without a token"
    );
    // Root's own directory is fine.
    chown(c.path().join("theirs"), Some(0), Some(0)).unwrap();
    c.run(&["--user", "65534:65534", "--", "true"]).code(0);
}
