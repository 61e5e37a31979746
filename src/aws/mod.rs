//! The `aws` source (feature `aws`; docs/aws.md): AWS Secrets Manager and SSM
//! Parameter Store, fetched with a small blocking client.
//!
//! `resolve` calls [`fetch_all`] once with every location that reached the `aws`
//! source. It finds the region and the credentials, then runs the requests on a few
//! threads sharing one connection pool: one `BatchGetSecretValue` per twenty Secrets
//! Manager ids (a secret read for several keys is fetched once; `GetSecretValue` one
//! by one where the batch call is not allowed) and one `GetParameters` per ten SSM
//! names. Every request is bounded by connect and request timeouts, retried
//! with jittered backoff on throttling, 5xx and transport errors, and all of it by the
//! manifest's `remote_timeout`. Errors name the store and the endpoint, never a value
//! or a credential.

mod credentials;
mod sigv4;

use crate::env::Environment;
use crate::http::Http;
use crate::http::{MAX_THREADS, REQUEST_TIMEOUT, Reply, without_query};
use crate::json_field::{self, PickError};
use crate::manifest::AwsLocation;
use crate::secret::{Fetched, Secret};
use credentials::Credentials;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};
use zeroize::Zeroizing;

/// SSM `GetParameters` takes at most ten names.
const SSM_BATCH: usize = 10;
/// Secrets Manager `BatchGetSecretValue` takes at most twenty ids.
const SM_BATCH: usize = 20;
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Service {
    SecretsManager,
    Ssm,
    Sts,
}

impl Service {
    fn signing_name(self) -> &'static str {
        match self {
            Service::SecretsManager => "secretsmanager",
            Service::Ssm => "ssm",
            Service::Sts => "sts",
        }
    }

    fn shown(self) -> &'static str {
        match self {
            Service::SecretsManager => "Secrets Manager",
            Service::Ssm => "SSM Parameter Store",
            Service::Sts => "STS",
        }
    }

    fn endpoint_var(self) -> &'static str {
        match self {
            Service::SecretsManager => "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            Service::Ssm => "AWS_ENDPOINT_URL_SSM",
            Service::Sts => "AWS_ENDPOINT_URL_STS",
        }
    }
}

/// The service's endpoint: its own variable, then `AWS_ENDPOINT_URL`, then AWS's.
fn endpoint(env: &Environment, service: Service, region: &str) -> String {
    let given = [service.endpoint_var(), "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|v| env.get_nonempty(v))
        .map(|v| v.to_string_lossy().into_owned());
    match given {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("https://{}.{region}.amazonaws.com", service.signing_name()),
    }
}

/// The authority of a URL as the Host header carries it (default port dropped).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if url.starts_with("https://") {
        host.strip_suffix(":443").unwrap_or(host)
    } else {
        host.strip_suffix(":80").unwrap_or(host)
    }
}

/// A JSON answer. Parsed as text, as everything else in sesame is: one instantiation
/// of serde_json's parser instead of two (a few KB of the binary).
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_str(std::str::from_utf8(body).ok()?).ok()
}

impl Reply {
    /// The AWS error code of a failed call: JSON `__type` (after any `#`), or XML `<Code>`.
    fn error_code(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct JsonError {
            #[serde(rename = "__type")]
            kind: Option<String>,
        }
        if let Some(JsonError { kind: Some(k) }) = parse_json(&self.body) {
            return Some(k.rsplit('#').next().unwrap_or(&k).to_owned());
        }
        let text = std::str::from_utf8(&self.body).ok()?;
        let start = text.find("<Code>")? + 6;
        let end = start + text[start..].find("</Code>")?;
        Some(text[start..end].trim().to_owned())
    }

    /// `HTTP 400 AccessDeniedException`: status and code only (an AWS message can
    /// quote request details; the code is enough to act on).
    fn error_summary(&self) -> String {
        match self.error_code() {
            Some(code)
                if code.len() <= 100
                    && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') =>
            {
                format!("HTTP {} {code}", self.status)
            }
            _ => format!("HTTP {}", self.status),
        }
    }

    fn is_retryable(&self) -> bool {
        self.status == 429
            || self.status >= 500
            || self.error_code().is_some_and(|c| {
                c.contains("Throttl")
                    || c == "RequestLimitExceeded"
                    || c == "TooManyRequestsException"
            })
    }
}

impl Http {
    /// A request with retries (transport errors, throttling, 5xx), jittered
    /// exponential backoff, all within the deadline. `sign` signs each attempt anew.
    fn call_with(
        &self,
        agent: &ureq::Agent,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        sign: Option<(&Credentials, &str, Service)>,
    ) -> Result<Reply, String> {
        let what = format!("aws: {method} {}", without_query(url));
        let attempt = || {
            let mut all: Vec<(&str, String)> =
                headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
            if let Some((creds, region, service)) = sign {
                let host = host_of(url);
                let mut signed: Vec<(&str, &str)> = headers.to_vec();
                signed.push(("host", host));
                let req = sigv4::Request {
                    method,
                    url,
                    headers: &signed,
                    body,
                };
                all.extend(sigv4::sign(
                    &req,
                    creds,
                    region,
                    service.signing_name(),
                    SystemTime::now(),
                )?);
            }
            self.once(agent, method, url, &all, body, REQUEST_TIMEOUT)
        };
        self.retrying(&what, attempt, Reply::is_retryable, Reply::error_summary)
    }

    /// An AWS endpoint, through the proxy if one is configured.
    fn call(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        sign: Option<(&Credentials, &str, Service)>,
    ) -> Result<Reply, String> {
        self.call_with(&self.agent, method, url, headers, body, sign)
    }

    /// A link-local or loopback credentials endpoint, never through a proxy.
    fn call_local(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, String> {
        self.call_with(&self.local, method, url, headers, body, None)
    }

    /// One quick attempt (instance metadata: absent off EC2, so no retries).
    fn call_short(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        limit: Option<Duration>,
    ) -> Result<Reply, String> {
        let all: Vec<(&str, String)> = headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self.once(
            &self.local,
            method,
            url,
            &all,
            b"",
            limit.unwrap_or(REQUEST_TIMEOUT),
        )
    }
}

/// Fetches every location (in order); called once by `resolve` with all of them.
///
/// With `trust` (root reading for a `--user`), the files it reads (the web identity
/// and container authorization tokens, the CA bundle) are walked by [`crate::walk`]'s
/// rules, as secret files are.
pub fn fetch_all(
    locations: &[&AwsLocation],
    env: &Environment,
    timeout: Duration,
    trust: Option<crate::walk::Trust>,
) -> Vec<Fetched> {
    let everyone = |why: String| -> Vec<Fetched> {
        locations
            .iter()
            .map(|l| Fetched::Failed(format!("{l}: {why}")))
            .collect()
    };
    let Some(region) = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| env.get_nonempty(v))
        .map(|v| v.to_string_lossy().into_owned())
    else {
        return everyone("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)".into());
    };
    let http = Http::new(timeout, trust);
    let confined = trust.map(crate::walk::Confined::new);
    let creds = match credentials::from_chain(env, &http, &region, confined.as_ref()) {
        Ok((c, provider)) => {
            tracing::debug!("aws: credentials from {provider}");
            c
        }
        Err(why) => return everyone(why),
    };
    let sm_endpoint = endpoint(env, Service::SecretsManager, &region);
    let ssm_endpoint = endpoint(env, Service::Ssm, &region);

    // The requests: one a Secrets Manager id, one per ten SSM names.
    let mut sm_ids: Vec<&str> = Vec::new();
    let mut ssm_names: Vec<&str> = Vec::new();
    for l in locations {
        match l {
            AwsLocation::SecretsManager { id, .. } if !sm_ids.contains(&id.as_str()) => {
                sm_ids.push(id)
            }
            AwsLocation::Ssm { name } if !ssm_names.contains(&name.as_str()) => {
                ssm_names.push(name)
            }
            _ => {}
        }
    }
    enum Job<'a> {
        Secrets(&'a [&'a str]),
        Parameters(&'a [&'a str]),
    }
    let jobs: Vec<Job> = sm_ids
        .chunks(SM_BATCH)
        .map(Job::Secrets)
        .chain(ssm_names.chunks(SSM_BATCH).map(Job::Parameters))
        .collect();
    let secrets: Mutex<HashMap<String, Result<SecretValue, Fetched>>> = Mutex::default();
    let params: Mutex<HashMap<String, Fetched>> = Mutex::default();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs.len().min(MAX_THREADS) {
            s.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match job {
                        Job::Secrets(ids) => {
                            let r =
                                batch_get_secret_value(&http, &creds, &region, &sm_endpoint, ids);
                            secrets.lock().unwrap_or_else(|e| e.into_inner()).extend(r);
                        }
                        Job::Parameters(names) => {
                            let r = get_parameters(&http, &creds, &region, &ssm_endpoint, names);
                            params.lock().unwrap_or_else(|e| e.into_inner()).extend(r);
                        }
                    }
                }
            });
        }
    });
    tracing::debug!(
        "aws: {} request{} in {} ms",
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" },
        started.elapsed().as_millis()
    );
    let secrets = secrets.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut params = params.into_inner().unwrap_or_else(|e| e.into_inner());
    locations
        .iter()
        .map(|l| match l {
            AwsLocation::SecretsManager { id, key } => match secrets.get(id.as_str()) {
                Some(Ok(v)) => v.pick(key.as_deref(), l),
                Some(Err(f)) => f.clone_for(l),
                None => Fetched::Failed(format!("{l}: not fetched")),
            },
            AwsLocation::Ssm { name } => params
                .remove(name.as_str())
                .unwrap_or_else(|| Fetched::Failed(format!("{l}: not fetched"))),
        })
        .collect()
}

impl Fetched {
    /// The same outcome for another location of the same secret (a value is never
    /// copied: only failures and absences are shared).
    fn clone_for(&self, l: &AwsLocation) -> Fetched {
        match self {
            Fetched::NotFound(w) => Fetched::NotFound(w.clone()),
            Fetched::Failed(w) => Fetched::Failed(format!("{l}: {w}")),
            Fetched::Value(_) => Fetched::Failed(format!("{l}: internal error")),
        }
    }
}

/// A Secrets Manager answer: the SecretString, or the SecretBinary (base64 as sent).
struct SecretValue {
    string: Option<Secret>,
    binary: Option<Secret>,
}

impl SecretValue {
    /// The value for `key` (a field of the JSON SecretString) or the whole secret.
    fn pick(&self, key: Option<&str>, l: &AwsLocation) -> Fetched {
        match (key, &self.string, &self.binary) {
            (None, Some(s), _) => checked(s.expose(), l),
            (None, None, Some(b)) => checked(b.expose(), l),
            (Some(_), None, Some(_)) => Fetched::Failed(format!(
                "{l}: the secret is binary; a key needs a JSON SecretString"
            )),
            (Some(k), Some(s), _) => match json_field::pick(s.expose(), k) {
                Ok(v) => checked(&v, l),
                Err(PickError::NoKey) => {
                    Fetched::NotFound(format!("no key {k:?} in the secret's JSON"))
                }
                Err(why @ (PickError::NotJson | PickError::NotObject)) => Fetched::Failed(format!(
                    "{l}: the SecretString is {why}, so key {k:?} cannot be picked from it"
                )),
                Err(why) => Fetched::Failed(format!("{l}: key {k:?}: {why}")),
            },
            (_, None, None) => Fetched::Failed(format!(
                "{l}: the answer has no SecretString or SecretBinary"
            )),
        }
    }
}

/// A value as sesame keeps it: UTF-8 without NUL.
fn checked(v: &str, l: &AwsLocation) -> Fetched {
    match Secret::from_bytes(Zeroizing::new(v.as_bytes().to_vec())) {
        Ok(s) => Fetched::Value(s),
        Err(why) => Fetched::Failed(format!("{l}: {why}")),
    }
}

/// The JSON of one secret's value, in `GetSecretValue` and `BatchGetSecretValue`.
#[derive(Deserialize)]
struct SecretValueJson {
    #[serde(rename = "Name")]
    name: Option<String>,
    #[serde(rename = "ARN")]
    arn: Option<String>,
    #[serde(rename = "SecretString")]
    string: Option<String>,
    #[serde(rename = "SecretBinary")]
    binary: Option<String>,
}

impl From<SecretValueJson> for SecretValue {
    fn from(j: SecretValueJson) -> Self {
        SecretValue {
            string: j.string.map(Secret::new),
            binary: j.binary.map(Secret::new),
        }
    }
}

/// Up to twenty ids in one call. Ids the answer does not account for (say, a partial
/// ARN), and all of them when the call itself is refused (an IAM policy that allows
/// `GetSecretValue` only), are fetched one by one.
fn batch_get_secret_value(
    http: &Http,
    creds: &Credentials,
    region: &str,
    endpoint: &str,
    ids: &[&str],
) -> Vec<(String, Result<SecretValue, Fetched>)> {
    let store = format!("{} at {endpoint}", Service::SecretsManager.shown());
    let one_by_one = |ids: &[&str]| -> Vec<(String, Result<SecretValue, Fetched>)> {
        ids.iter()
            .map(|id| {
                (
                    id.to_string(),
                    get_secret_value(http, creds, region, endpoint, id),
                )
            })
            .collect()
    };
    if ids.len() == 1 {
        return one_by_one(ids);
    }
    let body = serde_json::json!({ "SecretIdList": ids }).to_string();
    let reply = match http.call(
        "POST",
        endpoint,
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "secretsmanager.BatchGetSecretValue"),
        ],
        body.as_bytes(),
        Some((creds, region, Service::SecretsManager)),
    ) {
        Ok(r) if r.status == 200 => r,
        Ok(r) if (400..500).contains(&r.status) => {
            tracing::debug!(
                "aws: BatchGetSecretValue at {endpoint}: {}; one by one instead",
                r.error_summary()
            );
            return one_by_one(ids);
        }
        Ok(r) => {
            let why = format!("{store}: {}", r.error_summary());
            return ids
                .iter()
                .map(|id| (id.to_string(), Err(Fetched::Failed(why.clone()))))
                .collect();
        }
        Err(e) => {
            let why = format!("{store}: {e}");
            return ids
                .iter()
                .map(|id| (id.to_string(), Err(Fetched::Failed(why.clone()))))
                .collect();
        }
    };
    #[derive(Deserialize)]
    struct BatchError {
        #[serde(rename = "SecretId")]
        id: String,
        #[serde(rename = "ErrorCode")]
        code: Option<String>,
    }
    #[derive(Deserialize)]
    struct Out {
        #[serde(rename = "SecretValues", default)]
        values: Vec<SecretValueJson>,
        #[serde(rename = "Errors", default)]
        errors: Vec<BatchError>,
    }
    let Some(out) = parse_json::<Out>(&reply.body) else {
        return one_by_one(ids);
    };
    let mut values = out.values;
    let mut result = Vec::with_capacity(ids.len());
    let mut unaccounted = Vec::new();
    for id in ids {
        let pos = values
            .iter()
            .position(|v| v.name.as_deref() == Some(id) || v.arn.as_deref() == Some(id));
        if let Some(pos) = pos {
            result.push((id.to_string(), Ok(values.swap_remove(pos).into())));
        } else if let Some(e) = out.errors.iter().find(|e| e.id == *id) {
            let f = match e.code.as_deref() {
                Some("ResourceNotFoundException") => {
                    Fetched::NotFound(format!("not found in {}", Service::SecretsManager.shown()))
                }
                Some(code) if code.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    Fetched::Failed(format!("{store}: {code}"))
                }
                _ => Fetched::Failed(format!("{store}: an error")),
            };
            result.push((id.to_string(), Err(f)));
        } else {
            unaccounted.push(*id);
        }
    }
    result.extend(one_by_one(&unaccounted));
    result
}

fn get_secret_value(
    http: &Http,
    creds: &Credentials,
    region: &str,
    endpoint: &str,
    id: &str,
) -> Result<SecretValue, Fetched> {
    let store = format!("{} at {endpoint}", Service::SecretsManager.shown());
    let body = serde_json::json!({ "SecretId": id }).to_string();
    let reply = http
        .call(
            "POST",
            endpoint,
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "secretsmanager.GetSecretValue"),
            ],
            body.as_bytes(),
            Some((creds, region, Service::SecretsManager)),
        )
        .map_err(|e| Fetched::Failed(format!("{store}: {e}")))?;
    if reply.status != 200 {
        return Err(match reply.error_code().as_deref() {
            Some("ResourceNotFoundException") => {
                Fetched::NotFound(format!("not found in {}", Service::SecretsManager.shown()))
            }
            _ => Fetched::Failed(format!("{store}: {}", reply.error_summary())),
        });
    }
    let out: SecretValueJson = parse_json(&reply.body).ok_or_else(|| {
        Fetched::Failed(format!("{store}: the answer is not GetSecretValue JSON"))
    })?;
    Ok(out.into())
}

fn get_parameters(
    http: &Http,
    creds: &Credentials,
    region: &str,
    endpoint: &str,
    names: &[&str],
) -> Vec<(String, Fetched)> {
    let store = format!("{} at {endpoint}", Service::Ssm.shown());
    let location = |n: &str| AwsLocation::Ssm { name: n.to_owned() };
    let all_failed = |why: String| -> Vec<(String, Fetched)> {
        names
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    Fetched::Failed(format!("{}: {why}", location(n))),
                )
            })
            .collect()
    };
    let body = serde_json::json!({ "Names": names, "WithDecryption": true }).to_string();
    let reply = match http.call(
        "POST",
        endpoint,
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AmazonSSM.GetParameters"),
        ],
        body.as_bytes(),
        Some((creds, region, Service::Ssm)),
    ) {
        Ok(r) if r.status == 200 => r,
        Ok(r) => return all_failed(format!("{store}: {}", r.error_summary())),
        Err(e) => return all_failed(format!("{store}: {e}")),
    };
    #[derive(Deserialize)]
    struct Parameter {
        #[serde(rename = "Name")]
        name: String,
        #[serde(rename = "Value")]
        value: String,
    }
    #[derive(Deserialize)]
    struct Out {
        #[serde(rename = "Parameters", default)]
        parameters: Vec<Parameter>,
        #[serde(rename = "InvalidParameters", default)]
        invalid: Vec<String>,
    }
    let Some(out) = parse_json::<Out>(&reply.body) else {
        return all_failed(format!("{store}: the answer is not GetParameters JSON"));
    };
    let mut values: HashMap<String, Secret> = out
        .parameters
        .into_iter()
        .map(|p| (p.name, Secret::new(p.value)))
        .collect();
    names
        .iter()
        .map(|n| {
            let l = location(n);
            let f = match values.remove(*n) {
                Some(v) => checked(v.expose(), &l),
                None if out.invalid.iter().any(|i| i == n) => {
                    Fetched::NotFound(format!("not found in {}", Service::Ssm.shown()))
                }
                None => Fetched::Failed(format!("{l}: {store}: not in the answer")),
            };
            (n.to_string(), f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            host_of("https://ssm.eu-west-1.amazonaws.com"),
            "ssm.eu-west-1.amazonaws.com"
        );
        assert_eq!(host_of("http://127.0.0.1:5000/"), "127.0.0.1:5000");
        assert_eq!(host_of("https://x.example:443/a"), "x.example");
    }

    #[test]
    fn endpoints() {
        let env = Environment::from_pairs([]);
        assert_eq!(
            endpoint(&env, Service::SecretsManager, "eu-west-1"),
            "https://secretsmanager.eu-west-1.amazonaws.com"
        );
        let env = Environment::from_pairs([
            ("AWS_ENDPOINT_URL".into(), "http://localhost:4566/".into()),
            ("AWS_ENDPOINT_URL_SSM".into(), "http://ssm.local".into()),
        ]);
        assert_eq!(endpoint(&env, Service::Ssm, "x"), "http://ssm.local");
        assert_eq!(
            endpoint(&env, Service::SecretsManager, "x"),
            "http://localhost:4566"
        );
    }

    #[test]
    fn error_codes() {
        let r = Reply {
            status: 400,
            body: Zeroizing::new(
                br#"{"__type":"com.amazon#ResourceNotFoundException","message":"x"}"#.to_vec(),
            ),
        };
        assert_eq!(r.error_code().as_deref(), Some("ResourceNotFoundException"));
        assert!(!r.is_retryable());
        let r = Reply {
            status: 400,
            body: Zeroizing::new(br#"{"__type":"ThrottlingException"}"#.to_vec()),
        };
        assert!(r.is_retryable());
        let r = Reply {
            status: 403,
            body: Zeroizing::new(
                b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>".to_vec(),
            ),
        };
        assert_eq!(r.error_summary(), "HTTP 403 AccessDenied");
    }
}
