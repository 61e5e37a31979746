//! The `vault` source (feature `vault`; docs/vault.md): HashiCorp Vault's KV secrets
//! engine, version 2 or 1, over its HTTP API.
//!
//! `resolve` calls [`fetch_all`] once with every location that reached the `vault`
//! source. It finds the address and whom to trust, obtains a token ([`auth`]), then
//! reads each distinct path once (several keys of one secret cost one request) on a
//! few threads sharing one connection pool, within the manifest's `remote_timeout`,
//! retrying 429 and 5xx with backoff (src/http.rs). Errors name the location, Vault's
//! address and what went wrong, never a value, a token or anything Vault said: Vault's
//! own error texts are not repeated, the status is enough to act on.
//!
//! The token lives in zeroizing memory inside [`fetch_all`] and is gone when it
//! returns, before sesame launches anything; the child never gets it (a `VAULT_TOKEN`
//! sesame could have used is scrubbed, docs/vault.md).

mod auth;

use crate::env::Environment;
use crate::http::{Certificates, Http, MAX_THREADS, REQUEST_TIMEOUT, Reply, pem_certificates};
use crate::manifest::{VaultLocation, VaultSettings};
use crate::secret::{Fetched, Secret};
use crate::walk::{Confined, Trust};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use zeroize::{Zeroize, Zeroizing};

/// CA files larger than this are refused.
const MAX_CA_FILE: u64 = 8 << 20;
/// At most this many files of `VAULT_CAPATH` are read.
const MAX_CA_FILES: usize = 1000;

/// Vault's address and namespace, and the HTTP client: every request goes through
/// [`Client::call`].
struct Client {
    http: Http,
    /// `https://vault.example:8200`, without a trailing `/`.
    addr: String,
    namespace: Option<String>,
}

impl Client {
    /// A request to `/v1/<route>` with retries on 429 and 5xx; the token, if any, in
    /// `X-Vault-Token`.
    fn call(
        &self,
        method: &str,
        route: &str,
        token: Option<&Secret>,
        body: &[u8],
    ) -> Result<Reply, String> {
        let url = format!("{}/v1/{route}", self.addr);
        let what = format!("vault: {method} {}", crate::http::without_query(&url));
        let attempt = || {
            let mut headers: Vec<(&str, String)> = vec![("x-vault-request", "true".into())];
            if let Some(ns) = &self.namespace {
                headers.push(("x-vault-namespace", ns.clone()));
            }
            if !body.is_empty() {
                headers.push(("content-type", "application/json".into()));
            }
            if let Some(t) = token {
                headers.push(("x-vault-token", t.expose().to_owned()));
            }
            let r = self.http.once(
                &self.http.agent,
                method,
                &url,
                &headers,
                body,
                REQUEST_TIMEOUT,
            );
            // The token's copy in the header list.
            headers.iter_mut().for_each(|(_, v)| v.zeroize());
            r
        };
        self.http.retrying(&what, attempt, is_retryable, summary)
    }

    /// `Vault at https://…`, for messages.
    fn shown(&self) -> String {
        format!("Vault at {}", self.addr)
    }
}

/// Throttling, and Vault's 5xx (sealed, standby, unavailable) are worth another try.
fn is_retryable(r: &Reply) -> bool {
    r.status == 429 || r.status >= 500
}

/// A failed answer in a few words: the status, and whether Vault said it is sealed.
/// Nothing else of the body is repeated.
fn summary(r: &Reply) -> String {
    #[derive(Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<String>,
    }
    let sealed = r.status == 503
        && parse_json::<Errors>(&r.body)
            .is_some_and(|e| e.errors.iter().any(|m| m.contains("sealed")));
    match r.status {
        _ if sealed => "Vault is sealed (HTTP 503)".into(),
        403 => "permission denied (HTTP 403)".into(),
        429 => "rate limited (HTTP 429)".into(),
        s @ 300..=399 => format!(
            "HTTP {s}: a redirect, not followed (point VAULT_ADDR at the active node or its load balancer)"
        ),
        s => format!("HTTP {s}"),
    }
}

/// A JSON answer (parsed as text: one instantiation of serde_json's parser).
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_str(std::str::from_utf8(body).ok()?).ok()
}

/// Fetches every location (in order); called once by `resolve` with all of them.
pub fn fetch_all(
    locations: &[&VaultLocation],
    env: &Environment,
    settings: &VaultSettings,
    timeout: Duration,
    trust: Option<Trust>,
) -> Vec<Fetched> {
    let files = Files::new(trust);
    let everyone = |why: &str| -> Vec<Fetched> {
        locations
            .iter()
            .map(|l| Fetched::Failed(format!("{l}: {why}")))
            .collect()
    };
    let client = match client(env, settings, timeout, &files) {
        Ok(c) => c,
        Err(why) => return everyone(&why),
    };
    let token = match auth::token(&client, env, settings, &files) {
        Ok(t) => t,
        Err(why) => return everyone(&format!("{}: {why}", client.shown())),
    };
    tracing::debug!("vault: authenticated with {}", token.how);

    // One request a distinct secret (mount, path, version, engine).
    let mut reads: Vec<Read> = Vec::new();
    for l in locations {
        let r = Read::of(l);
        if !reads.contains(&r) {
            reads.push(r);
        }
    }
    let answers: Mutex<HashMap<Read, Result<KvData, Failure>>> = Mutex::default();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..reads.len().min(MAX_THREADS) {
            s.spawn(|| {
                while let Some(r) = reads.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let got = read(&client, &token.secret, r);
                    answers
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(r.clone(), got);
                }
            });
        }
    });
    tracing::debug!(
        "vault: {} read{} in {} ms",
        reads.len(),
        if reads.len() == 1 { "" } else { "s" },
        started.elapsed().as_millis()
    );
    let answers = answers.into_inner().unwrap_or_else(|e| e.into_inner());
    // A 403 is either the policy or the token itself: one look-up tells them apart.
    let denied = if answers.values().any(|a| matches!(a, Err(Failure::Denied))) {
        Some(denial(&client, &token))
    } else {
        None
    };
    locations
        .iter()
        .map(|l| match answers.get(&Read::of(l)) {
            Some(Ok(data)) => data.pick(l),
            Some(Err(Failure::NotFound(why))) => Fetched::NotFound(why.clone()),
            Some(Err(Failure::Denied)) => Fetched::Failed(format!(
                "{l}: {}: {}",
                client.shown(),
                denied.as_deref().unwrap_or("permission denied (HTTP 403)")
            )),
            Some(Err(Failure::Other(why))) => {
                Fetched::Failed(format!("{l}: {}: {why}", client.shown()))
            }
            None => Fetched::Failed(format!("{l}: not fetched")),
        })
        .collect()
}

/// Why a 403 happened: the token is refused altogether, or its policies do not allow
/// the read.
fn denial(client: &Client, token: &auth::Token) -> String {
    match client.call("GET", "auth/token/lookup-self", Some(&token.secret), b"") {
        Ok(r) if r.status == 403 => format!(
            "permission denied (HTTP 403): the token ({}) is not valid: expired, revoked, or for another Vault or namespace",
            token.how
        ),
        _ => format!(
            "permission denied (HTTP 403): the token's policies do not allow reading it ({})",
            token.how
        ),
    }
}

/// The address, the trust and the namespace: variables first, then the manifest.
fn client(
    env: &Environment,
    settings: &VaultSettings,
    timeout: Duration,
    files: &Files,
) -> Result<Client, String> {
    let var = |name: &str| {
        env.get_nonempty(name)
            .map(|v| v.to_string_lossy().into_owned())
    };
    let addr = var("VAULT_ADDR")
        .or_else(|| settings.address.clone())
        .ok_or("no Vault address: set VAULT_ADDR (or vault.address in the manifest)")?;
    let addr = addr.trim_end_matches('/').to_owned();
    let rest = addr
        .strip_prefix("https://")
        .or_else(|| addr.strip_prefix("http://"))
        .ok_or("VAULT_ADDR must start with https:// (or http://)")?;
    // Not quoted: a mistyped address may hold credentials (`https://user:pass@…`).
    if rest.is_empty()
        || !rest.bytes().all(|b| b.is_ascii_graphic())
        || rest.contains(['?', '#', '@'])
    {
        return Err(
            "VAULT_ADDR is not an address such as https://vault.example:8200 (no user, query or fragment)"
                .into(),
        );
    }
    if addr.starts_with("http://") && !is_loopback(rest) {
        tracing::warn!(
            "vault: {addr} is plain http: the token and the secrets cross the network unencrypted"
        );
    }
    let namespace = var("VAULT_NAMESPACE").or_else(|| settings.namespace.clone());
    if let Some(ns) = &namespace
        && !ns.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err("VAULT_NAMESPACE: not a namespace (printable characters only)".into());
    }
    let trust = certificates(env, settings, files)?;
    Ok(Client {
        http: Http::with_trust(timeout, trust),
        addr,
        namespace,
    })
}

/// `127.0.0.1:8200`, `localhost`, `[::1]:8200`: where plain http does not leave the host.
fn is_loopback(authority: &str) -> bool {
    let host = authority.split('/').next().unwrap_or(authority);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whom to trust: `VAULT_CACERT` (a PEM file), else `VAULT_CAPATH` (a directory of
/// them), else the system's roots; `VAULT_SKIP_VERIFY` only when the manifest allows it.
fn certificates(
    env: &Environment,
    settings: &VaultSettings,
    files: &Files,
) -> Result<Certificates, String> {
    let skip = env
        .get_nonempty("VAULT_SKIP_VERIFY")
        .map(|v| v.to_string_lossy().into_owned())
        .is_some_and(|v| !matches!(v.as_str(), "0" | "f" | "F" | "false" | "FALSE" | "False"));
    if skip {
        if !settings.allow_skip_verify {
            return Err("VAULT_SKIP_VERIFY is set, but the manifest does not allow it (vault: {allow_skip_verify: true}); trust Vault's CA with VAULT_CACERT instead".into());
        }
        tracing::warn!(
            "vault: VAULT_SKIP_VERIFY: Vault's certificate is not verified; anyone on the way can read the token and the secrets"
        );
        return Ok(Certificates::Nothing);
    }
    if let Some(file) = env.get_nonempty("VAULT_CACERT") {
        let path = std::path::Path::new(file);
        let pem = files
            .read(path, MAX_CA_FILE)
            .map_err(|e| format!("VAULT_CACERT {e}"))?;
        let certs = pem_certificates(&pem);
        if certs.is_empty() {
            return Err(format!(
                "VAULT_CACERT {}: no PEM certificate in it",
                crate::shown::path(path)
            ));
        }
        return Ok(Certificates::Only(certs));
    }
    if let Some(dir) = env.get_nonempty("VAULT_CAPATH") {
        let dir = std::path::Path::new(dir);
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("VAULT_CAPATH {}: {e}", crate::shown::path(dir)))?;
        let mut certs = Vec::new();
        for entry in entries.flatten().take(MAX_CA_FILES) {
            if let Ok(pem) = files.read(&entry.path(), MAX_CA_FILE) {
                certs.extend(pem_certificates(&pem));
            }
        }
        if certs.is_empty() {
            return Err(format!(
                "VAULT_CAPATH {}: no PEM certificate in it",
                crate::shown::path(dir)
            ));
        }
        return Ok(Certificates::Only(certs));
    }
    Ok(Certificates::System(files.0.as_ref().map(Confined::trust)))
}

/// The files sesame reads for Vault (CA certificates, tokens, JWTs, AppRole ids), read
/// as secret files are: without hanging on a FIFO, capped, and with `--user` walked by
/// [`crate::walk`]'s rules (root reading for a less privileged program does not follow
/// a link or directory someone else could have planted).
struct Files(Option<Confined>);

impl Files {
    fn new(trust: Option<Trust>) -> Self {
        Files(trust.map(Confined::new))
    }

    /// The file's bytes, or why not (naming the path, escaped).
    fn read(&self, path: &std::path::Path, max: u64) -> Result<Zeroizing<Vec<u8>>, String> {
        crate::read::read_capped_open(path, max, self.0.as_ref())
            .map(|(bytes, _, _)| bytes)
            .map_err(|e| format!("{}: {e}", crate::shown::path(path)))
    }
}

/// One read: a KV secret at a version.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Read {
    mount: String,
    path: String,
    version: Option<u64>,
    kv_version: u8,
}

impl Read {
    fn of(l: &VaultLocation) -> Self {
        Read {
            mount: l.mount.clone(),
            path: l.path.clone(),
            version: l.version,
            kv_version: l.kv_version,
        }
    }

    /// The API route: `secret/data/app/db?version=3` (v2), `kv/app/db` (v1). The
    /// manifest allows only characters that need no escaping.
    fn route(&self) -> String {
        match (self.kv_version, self.version) {
            (1, _) => format!("{}/{}", self.mount, self.path),
            (_, None) => format!("{}/data/{}", self.mount, self.path),
            (_, Some(v)) => format!("{}/data/{}?version={v}", self.mount, self.path),
        }
    }
}

/// Why a read gave no data.
enum Failure {
    /// Vault has no such secret (or version): the next source is tried.
    NotFound(String),
    /// HTTP 403, explained once for all by [`denial`].
    Denied,
    Other(String),
}

/// Reads one secret's data.
fn read(client: &Client, token: &Secret, r: &Read) -> Result<KvData, Failure> {
    let reply = client
        .call("GET", &r.route(), Some(token), b"")
        .map_err(Failure::Other)?;
    let at = format!("{}/{}", r.mount, r.path);
    match reply.status {
        200 => {}
        404 => {
            // KV v2 answers 404 for a deleted or destroyed version, with its metadata.
            let why = match parse_json::<V2>(&reply.body).and_then(|v| v.data?.metadata) {
                Some(m) if m.destroyed => "the version is destroyed",
                Some(m) if !m.deletion_time.is_empty() => "the version is deleted",
                _ => "no such secret",
            };
            return Err(Failure::NotFound(format!("{why} in Vault ({at})")));
        }
        403 => return Err(Failure::Denied),
        _ => return Err(Failure::Other(summary(&reply))),
    }
    let data = if r.kv_version == 1 {
        parse_json::<V1>(&reply.body).map(|v| v.data)
    } else {
        parse_json::<V2>(&reply.body).map(|v| v.data.and_then(|d| d.data))
    };
    match data {
        Some(Some(d)) => Ok(d),
        Some(None) => Err(Failure::NotFound(format!(
            "the version is deleted in Vault ({at})"
        ))),
        None => Err(Failure::Other(format!(
            "the answer is not KV version {} JSON (is {} a KV v{} mount?)",
            r.kv_version, r.mount, r.kv_version
        ))),
    }
}

/// A KV v1 answer: `{"data": {...}}`.
#[derive(Deserialize)]
struct V1 {
    data: Option<KvData>,
}

/// A KV v2 answer: `{"data": {"data": {...}, "metadata": {...}}}`.
#[derive(Deserialize)]
struct V2 {
    data: Option<V2Data>,
}

#[derive(Deserialize)]
struct V2Data {
    data: Option<KvData>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    deletion_time: String,
    #[serde(default)]
    destroyed: bool,
}

/// A secret's data: its keys, and each value as text (zeroed when dropped) or the
/// kind of JSON it is when it cannot be a value.
struct KvData(Vec<(String, Field)>);

enum Field {
    Text(Zeroizing<String>),
    Other(&'static str),
}

impl KvData {
    /// The value of the location's key: a string as is, a number or boolean as its
    /// JSON text.
    fn pick(&self, l: &VaultLocation) -> Fetched {
        match self.0.iter().find(|(k, _)| *k == l.key) {
            None => Fetched::NotFound(format!("no key {:?} in the secret's data", l.key)),
            Some((_, Field::Other(kind))) => Fetched::Failed(format!(
                "{l}: the key's value is {kind}, not a string, number or boolean"
            )),
            Some((_, Field::Text(v))) => {
                match Secret::from_bytes(Zeroizing::new(v.as_bytes().to_vec())) {
                    Ok(s) => Fetched::Value(s),
                    Err(why) => Fetched::Failed(format!("{l}: {why}")),
                }
            }
        }
    }
}

impl<'de> Deserialize<'de> for KvData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KvData;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KvData, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    out.push((k, map.next_value::<Field>()?));
                }
                Ok(KvData(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(Field::Text(Zeroizing::new(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Field, E> {
                Ok(Field::Text(Zeroizing::new(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Field, E> {
                Ok(Field::Text(Zeroizing::new(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field, E> {
                Ok(Field::Text(Zeroizing::new(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field, E> {
                Ok(Field::Text(Zeroizing::new(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Field, E> {
                Ok(Field::Text(Zeroizing::new(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Field, E> {
                Ok(Field::Other("null"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other("an object"))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other("a list"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(key: &str) -> VaultLocation {
        VaultLocation {
            mount: "secret".into(),
            path: "app".into(),
            key: key.into(),
            version: None,
            kv_version: 2,
        }
    }

    #[test]
    fn kv_data_gives_strings_numbers_and_booleans_only() {
        let v2: V2 = parse_json(
            br#"{"data":{"data":{"s":"x\"y","n":5432,"b":true,"o":{"a":1},"l":[1],"z":null},"metadata":{"version":3}}}"#,
        )
        .unwrap();
        let data = v2.data.unwrap().data.unwrap();
        let value = |k: &str| match data.pick(&loc(k)) {
            Fetched::Value(v) => Ok(v.expose().to_owned()),
            Fetched::NotFound(w) => Err(format!("not found: {w}")),
            Fetched::Failed(w) => Err(w),
        };
        assert_eq!(value("s").unwrap(), "x\"y");
        assert_eq!(value("n").unwrap(), "5432");
        assert_eq!(value("b").unwrap(), "true");
        assert!(value("o").unwrap_err().contains("an object"));
        assert!(value("l").unwrap_err().contains("a list"));
        assert!(value("z").unwrap_err().contains("null"));
        assert!(value("absent").unwrap_err().starts_with("not found"));
    }

    #[test]
    fn routes() {
        let mut r = Read::of(&loc("k"));
        assert_eq!(r.route(), "secret/data/app");
        r.version = Some(2);
        assert_eq!(r.route(), "secret/data/app?version=2");
        r.kv_version = 1;
        r.version = None;
        assert_eq!(r.route(), "secret/app");
    }

    #[test]
    fn loopback_addresses() {
        for ok in ["127.0.0.1:8200", "localhost", "[::1]:8200", "127.0.0.1"] {
            assert!(is_loopback(ok), "{ok}");
        }
        for no in ["vault.example:8200", "10.0.0.1", "[2001:db8::1]:8200"] {
            assert!(!is_loopback(no), "{no}");
        }
    }

    #[test]
    fn summaries_say_sealed_but_never_repeat_vault_text() {
        let r = Reply {
            status: 503,
            body: Zeroizing::new(br#"{"errors":["Vault is sealed"]}"#.to_vec()),
        };
        assert_eq!(summary(&r), "Vault is sealed (HTTP 503)");
        let r = Reply {
            status: 400,
            body: Zeroizing::new(br#"{"errors":["planted-text"]}"#.to_vec()),
        };
        assert_eq!(summary(&r), "HTTP 400");
    }
}
