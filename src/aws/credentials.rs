//! AWS credentials by the standard chain, in the standard order: environment, web
//! identity (EKS IRSA), container credentials (ECS task roles, EKS Pod Identity), EC2
//! IMDSv2. Nothing here logs or formats a credential: the secret parts are
//! [`Secret`]s, and messages name variables, files and endpoints only.

use super::{Http, Service};
use crate::env::Environment;
use crate::secret::Secret;
use crate::walk::Confined;
use serde::Deserialize;
use std::fmt;
use std::time::{Duration, SystemTime};

pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials([redacted])")
    }
}

/// The first provider of the chain that is configured, and its name (for debug logs).
/// A provider that is configured but fails stops the chain: its error is the answer.
/// Token files are read under `confined` when given (root reading for a `--user`).
pub fn from_chain(
    env: &Environment,
    http: &Http,
    region: &str,
    confined: Option<&Confined>,
) -> Result<(Credentials, &'static str), String> {
    if let Some(c) = from_environment(env)? {
        return Ok((c, "environment"));
    }
    if let Some(c) = web_identity(env, http, region, confined)? {
        return Ok((c, "web identity"));
    }
    if let Some(c) = container(env, http, confined)? {
        return Ok((c, "container"));
    }
    match imds(env, http) {
        Ok(c) => Ok((c, "IMDS")),
        Err(why) => Err(format!(
            "no AWS credentials: none in the environment (AWS_ACCESS_KEY_ID), no web identity \
             (AWS_WEB_IDENTITY_TOKEN_FILE), no container credentials \
             (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI), and EC2 instance metadata: {why}"
        )),
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, for the
/// form-encoded STS request body.
fn uri_encode(s: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(s, RESERVED).to_string()
}

fn var(env: &Environment, name: &str) -> Option<String> {
    env.get_nonempty(name)
        .map(|v| v.to_string_lossy().into_owned())
}

fn from_environment(env: &Environment) -> Result<Option<Credentials>, String> {
    match (
        var(env, "AWS_ACCESS_KEY_ID"),
        var(env, "AWS_SECRET_ACCESS_KEY"),
    ) {
        (None, None) => Ok(None),
        (Some(id), Some(secret)) => Ok(Some(Credentials {
            access_key_id: id,
            secret_access_key: Secret::new(secret),
            session_token: var(env, "AWS_SESSION_TOKEN").map(Secret::new),
        })),
        (Some(_), None) => Err("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into()),
        (None, Some(_)) => Err("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into()),
    }
}

/// Reads a small token file (capped, without blocking on FIFOs, walked under
/// `confined` as secret files are), trimmed.
fn read_token(path: &str, what: &str, confined: Option<&Confined>) -> Result<Secret, String> {
    let (bytes, _, _) =
        crate::read::read_capped_open(std::path::Path::new(path), 64 << 10, confined)
            .map_err(|e| format!("{what} {}: {e}", crate::shown::path(path)))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| format!("{what} {}: not valid UTF-8", crate::shown::path(path)))?;
    Ok(Secret::new(text.trim().to_owned()))
}

/// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`: STS `AssumeRoleWithWebIdentity`
/// (an unsigned call: the token is the proof).
fn web_identity(
    env: &Environment,
    http: &Http,
    region: &str,
    confined: Option<&Confined>,
) -> Result<Option<Credentials>, String> {
    let (Some(file), Some(role)) = (
        var(env, "AWS_WEB_IDENTITY_TOKEN_FILE"),
        var(env, "AWS_ROLE_ARN"),
    ) else {
        return Ok(None);
    };
    let token = read_token(&file, "AWS_WEB_IDENTITY_TOKEN_FILE", confined)?;
    let session = var(env, "AWS_ROLE_SESSION_NAME").unwrap_or_else(|| {
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!("sesame-{t}")
    });
    let endpoint = super::endpoint(env, Service::Sts, region);
    let body = zeroize::Zeroizing::new(format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName={}&WebIdentityToken={}",
        uri_encode(&role),
        uri_encode(&session),
        uri_encode(token.expose()),
    ));
    let what = format!("STS AssumeRoleWithWebIdentity at {endpoint}");
    let reply = http
        .call(
            "POST",
            &endpoint,
            &[("content-type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
            None,
        )
        .map_err(|e| format!("{what}: {e}"))?;
    if reply.status != 200 {
        return Err(format!("{what}: {}", reply.error_summary()));
    }
    let text =
        std::str::from_utf8(&reply.body).map_err(|_| format!("{what}: answer is not UTF-8"))?;
    let field =
        |tag: &str| xml_text(text, tag).ok_or_else(|| format!("{what}: no {tag} in the answer"));
    Ok(Some(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: Secret::new(field("SecretAccessKey")?),
        session_token: Some(Secret::new(field("SessionToken")?)),
    }))
}

/// The text of the first `<tag>…</tag>` (STS answers in XML; credentials are plain
/// base64-ish text, so no entity decoding is needed beyond the basic five).
fn xml_text(doc: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = doc.find(&open)? + open.len();
    let end = start + doc[start..].find(&format!("</{tag}>"))?;
    Some(
        doc[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// The JSON the container endpoint and IMDS answer with.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JsonCredentials {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
}

impl From<JsonCredentials> for Credentials {
    fn from(j: JsonCredentials) -> Self {
        Credentials {
            access_key_id: j.access_key_id,
            secret_access_key: Secret::new(j.secret_access_key),
            session_token: j.token.map(Secret::new),
        }
    }
}

/// Whether a `FULL_URI` host may be used over plain HTTP: loopback, or the ECS and EKS
/// Pod Identity agents' link-local addresses (what the AWS SDKs allow).
fn allowed_http_host(url: &str) -> bool {
    let host = super::host_of(url);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    host == "localhost"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback())
        || host == "[::1]"
        || host == "169.254.170.2"
        || host == "169.254.170.23"
        || host == "[fd00:ec2::23]"
}

/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS) or `_FULL_URI` (EKS Pod Identity),
/// with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `_TOKEN`.
fn container(
    env: &Environment,
    http: &Http,
    confined: Option<&Confined>,
) -> Result<Option<Credentials>, String> {
    let url = if let Some(rel) = var(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        format!("http://169.254.170.2{rel}")
    } else if let Some(full) = var(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        if !(full.starts_with("https://")
            || full.starts_with("http://") && allowed_http_host(&full))
        {
            return Err(format!(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI {}: plain http is only allowed to loopback or the ECS/EKS agent addresses",
                crate::http::without_query(&full)
            ));
        }
        full
    } else {
        return Ok(None);
    };
    let token = match var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        Some(f) => Some(read_token(
            &f,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            confined,
        )?),
        None => var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN").map(Secret::new),
    };
    let what = format!(
        "container credentials at {}",
        crate::http::without_query(&url)
    );
    let mut headers = vec![("accept", "application/json")];
    if let Some(t) = &token {
        headers.push(("authorization", t.expose()));
    }
    let reply = http
        .call_local("GET", &url, &headers, b"")
        .map_err(|e| format!("{what}: {e}"))?;
    if reply.status != 200 {
        return Err(format!("{what}: HTTP {}", reply.status));
    }
    let json: JsonCredentials = super::parse_json(&reply.body)
        .ok_or_else(|| format!("{what}: the answer is not credentials JSON"))?;
    Ok(Some(json.into()))
}

/// EC2 instance metadata, IMDSv2 only (a session token first), with short timeouts.
fn imds(env: &Environment, http: &Http) -> Result<Credentials, String> {
    if var(env, "AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err("disabled (AWS_EC2_METADATA_DISABLED)".into());
    }
    let base = var(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .unwrap_or_else(|| "http://169.254.169.254".into());
    let base = base.trim_end_matches('/');
    let short = Some(Duration::from_secs(1));
    let token = http
        .call_short(
            "PUT",
            &format!("{base}/latest/api/token"),
            &[("x-aws-ec2-metadata-token-ttl-seconds", "300")],
            short,
        )
        .map_err(|e| format!("{base}: {e}"))?;
    if token.status != 200 {
        return Err(format!("{base}: token request: HTTP {}", token.status));
    }
    let token = Secret::new(String::from_utf8_lossy(&token.body).trim().to_owned());
    let h = [("x-aws-ec2-metadata-token", token.expose())];
    let path = format!("{base}/latest/meta-data/iam/security-credentials/");
    let role = http
        .call_short("GET", &path, &h, short)
        .map_err(|e| format!("{base}: {e}"))?;
    if role.status != 200 {
        return Err(format!("{base}: no instance role (HTTP {})", role.status));
    }
    let role = String::from_utf8_lossy(&role.body)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let creds = http
        .call_short("GET", &format!("{path}{role}"), &h, short)
        .map_err(|e| format!("{base}: {e}"))?;
    if creds.status != 200 {
        return Err(format!("{base}: role credentials: HTTP {}", creds.status));
    }
    let json: JsonCredentials = super::parse_json(&creds.body)
        .ok_or_else(|| format!("{base}: the answer is not credentials JSON"))?;
    Ok(json.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_fields() {
        let doc = "<R><Credentials><AccessKeyId>AK</AccessKeyId><SecretAccessKey>a&amp;b</SecretAccessKey></Credentials></R>";
        assert_eq!(xml_text(doc, "AccessKeyId").as_deref(), Some("AK"));
        assert_eq!(xml_text(doc, "SecretAccessKey").as_deref(), Some("a&b"));
        assert_eq!(xml_text(doc, "SessionToken"), None);
    }

    #[test]
    fn full_uri_hosts() {
        assert!(allowed_http_host("http://127.0.0.1:8080/creds"));
        assert!(allowed_http_host("http://169.254.170.23/v1/credentials"));
        assert!(allowed_http_host("http://localhost/x"));
        assert!(!allowed_http_host("http://example.com/creds"));
        assert!(!allowed_http_host("http://127.0.0.1.evil.example/creds"));
    }

    #[test]
    fn credentials_never_show() {
        let c = Credentials {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: Secret::new("very-secret".into()),
            session_token: None,
        };
        assert_eq!(format!("{c:?}"), "Credentials([redacted])");
    }
}
