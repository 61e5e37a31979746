//! `key:` (issue 16): a secret file that holds a JSON object feeds several secrets, one
//! field each, through the same reader the `aws` source uses for its own `key`. Every
//! failure names the file and the key, never a byte of the content.

mod common;
use common::Case;

/// A secret manager's secret as Vault Agent or the CSI driver writes it: one JSON object.
const DB_JSON: &str = r#"{"username": "app_user_7d1e", "password": "json-Pa55-planted-91c4e0b7a2d3", "port": 5432, "tls": true}"#;

/// A child that exits 0 only when each `VAR=expected` pair holds, comparing with files
/// it reads (so no value is in sesame's argv or output).
fn expect(c: &Case, pairs: &[(&str, &str)]) -> String {
    let mut script = String::new();
    for (i, (var, value)) in pairs.iter().enumerate() {
        let f = format!("expect{i}");
        c.file(&f, value.as_bytes());
        script.push_str(&format!("[ \"${var}\" = \"$(cat {f})\" ] || exit 3; "));
    }
    script.push_str("exit 0");
    script
}

fn db_case(manifest: &str) -> Case {
    let mut c = Case::new();
    c.manifest(manifest);
    c.secret_file("db.json", &format!("{DB_JSON}\n"));
    c.plant("app_user_7d1e")
        .plant("json-Pa55-planted-91c4e0b7a2d3");
    c
}

#[test]
fn one_json_file_feeds_several_variables_one_field_each() {
    let c = db_case(
        "version: 1\nsecrets:\n  DB_USER: {file: db.json, key: username}\n  \
         DB_PASSWORD: {file: db.json, key: password, min_length: 20}\n  \
         DB_PORT: {file: db.json, key: port, format: port}\n  DB_TLS: {file: db.json, key: tls, format: bool}\n",
    );
    let script = expect(
        &c,
        &[
            ("DB_USER", "app_user_7d1e"),
            ("DB_PASSWORD", "json-Pa55-planted-91c4e0b7a2d3"),
            ("DB_PORT", "5432"),
            ("DB_TLS", "true"),
        ],
    );
    c.run(&["--", "sh", "-c", &script]).code(0);
}

#[test]
fn file_env_reads_a_field_of_the_json_file_the_variable_names() {
    let mut c = db_case("version: 1\nsecrets:\n  DB_PASSWORD: {key: password}\n");
    let path = c.secrets_dir().join("db.json");
    c.env("DB_PASSWORD_FILE", path);
    let script = expect(&c, &[("DB_PASSWORD", "json-Pa55-planted-91c4e0b7a2d3")]);
    c.run(&["--", "sh", "-c", &script]).code(0);
}

#[test]
fn explain_names_the_key_and_the_file() {
    let c = db_case("version: 1\nsecrets:\n  DB_PASSWORD: {file: db.json, key: password}\n");
    c.run(&["check", "--explain", "DB_PASSWORD"])
        .code(0)
        .stdout_has("db.json")
        .stdout_has("used (key \"password\")");
}

/// Each way a key cannot be picked is an error (78), not a fall-through to `env`, and
/// names the file and the key; nothing of the content appears.
#[test]
fn every_way_a_key_cannot_be_picked_is_an_error_naming_file_and_key() {
    let cases: &[(&str, &str)] = &[
        (
            "plain-text-planted-3e8a1f0c\n",
            "not JSON, so key \"password\" cannot be picked from it",
        ),
        (
            "[\"list-planted-5b2c9d7e\"]",
            "JSON, but not an object, so key \"password\"",
        ),
        (
            "{\"user\": \"other-planted-8f1a2b3c\"}",
            "key \"password\": no such key in the JSON object",
        ),
        (
            "{\"password\": null}",
            "key \"password\": the key's value is not a string, number or boolean",
        ),
        (
            "{\"password\": {\"inner\": \"nested-planted-4d6e8f0a\"}}",
            "key \"password\": the key's value is not a string",
        ),
        (
            "{\"password\": \"twice-planted-1a2b3c4d\", \"password\": \"twice-planted-5e6f7a8b\"}",
            "key \"password\": the key appears more than once",
        ),
        (
            "{\"password\": \"nul-\\u0000-planted-9c8b7a6d\"}",
            "contains a NUL byte",
        ),
    ];
    for (content, message) in cases {
        let mut c = Case::new();
        c.manifest("version: 1\nsecrets:\n  DB_PASSWORD: {file: db.json, key: password}\n");
        c.secret_file("db.json", content);
        for piece in [
            "plain-text-planted-3e8a1f0c",
            "list-planted-5b2c9d7e",
            "other-planted-8f1a2b3c",
            "nested-planted-4d6e8f0a",
            "twice-planted-1a2b3c4d",
            "twice-planted-5e6f7a8b",
            "planted-9c8b7a6d",
        ] {
            c.plant(piece);
        }
        c.secret_env("DB_PASSWORD", "env-fallback-planted-2f4e6a8c");
        c.run(&["--", "true"])
            .code(78)
            .stderr_has("DB_PASSWORD: ")
            .stderr_has("/db.json: ")
            .stderr_has(message);
    }
}

#[test]
fn manifest_refuses_key_where_it_cannot_apply() {
    let mut c = Case::new();
    c.manifest(
        "version: 1\nsecrets:\n  A: {file: a.json, key: password, trim: none}\n  \
         B: {file: b.json, key: password, generate: {length: 20, charset: hex}}\n  C: {key: \"\"}\n",
    );
    c.run(&["check"])
        .code(78)
        .stderr_has("secrets.A.trim: does not apply with key")
        .stderr_has("secrets.B.generate: cannot write one field of a JSON file")
        .stderr_has("secrets.C.key: must not be empty");
    let mut c = Case::new();
    c.manifest("version: 1\nsources: [env]\nsecrets:\n  A: {key: password}\n");
    c.run(&["check"]).code(78).stderr_has(
        "secrets.A.key: applies to the file and file_env sources, and sources lists neither",
    );
}

/// The `env` source after a file source takes its variable as it is: `key` is about
/// files (a local override needs no JSON).
#[test]
fn a_variable_is_used_as_it_is_when_no_file_has_the_secret() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  DB_PASSWORD: {file: db.json, key: password}\n");
    c.secret_env("DB_PASSWORD", "plain-env-planted-6a5b4c3d");
    let script = expect(&c, &[("DB_PASSWORD", "plain-env-planted-6a5b4c3d")]);
    c.run(&["--", "sh", "-c", &script]).code(0);
}
