//! AWS Signature Version 4 for the few requests sesame makes (a JSON POST, or a form
//! POST to STS), by AWS's own `aws-sigv4` crate: the signer every AWS SDK for Rust uses,
//! so canonicalisation, header folding and the signing-key chain are not ours to get
//! wrong. Checked against AWS's published test vectors (aws-sig-v4-test-suite) and a
//! botocore-computed signature in the tests below.
//!
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>

use super::credentials::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use std::time::SystemTime;

/// What is signed: method, URL (scheme, host and path; no query), headers (name, value)
/// and body. The `host` header must be among the headers: it is signed as given, so it
/// is exactly what the HTTP client sends.
pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The headers to add to the request: `x-amz-date`, `x-amz-security-token` (with a
/// session token) and `authorization`.
///
/// The error is fixed text: the crate's own may describe the request it could not read.
pub fn sign(
    req: &Request,
    creds: &Credentials,
    region: &str,
    service: &str,
    now: SystemTime,
) -> Result<Vec<(&'static str, String)>, String> {
    const FAILED: &str = "could not sign the request (SigV4)";
    // aws-credential-types keeps each part in a `Zeroizing<String>`.
    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id.as_str(),
        creds.secret_access_key.expose(),
        creds.session_token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "sesame",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| FAILED.to_owned())?
        .into();
    let request = SignableRequest::new(
        req.method,
        req.url,
        req.headers.iter().copied(),
        SignableBody::Bytes(req.body),
    )
    .map_err(|_| FAILED.to_owned())?;
    let (instructions, _signature) = aws_sigv4::http_request::sign(request, &params)
        .map_err(|_| FAILED.to_owned())?
        .into_parts();
    let (headers, _query) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|h| (h.name(), h.value().to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::time::Duration;

    /// 2015-08-30T12:36:00Z, the time of the aws-sig-v4-test-suite vectors.
    fn vector_time() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn vector_creds(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
            session_token: token.map(|t| Secret::new(t.into())),
        }
    }

    fn signed(
        req: &Request,
        token: Option<&str>,
        region: &str,
        service: &str,
    ) -> Vec<(&'static str, String)> {
        sign(req, &vector_creds(token), region, service, vector_time()).unwrap()
    }

    fn get<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    /// aws-sig-v4-test-suite/get-vanilla.
    #[test]
    fn get_vanilla() {
        let req = Request {
            method: "GET",
            url: "https://example.amazonaws.com/",
            headers: &[("host", "example.amazonaws.com")],
            body: b"",
        };
        let headers = signed(&req, None, "us-east-1", "service");
        assert_eq!(get(&headers, "x-amz-date"), "20150830T123600Z");
        assert_eq!(
            get(&headers, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert!(headers.iter().all(|(n, _)| *n != "x-amz-security-token"));
    }

    /// aws-sig-v4-test-suite/post-vanilla.
    #[test]
    fn post_vanilla() {
        let req = Request {
            method: "POST",
            url: "https://example.amazonaws.com/",
            headers: &[("host", "example.amazonaws.com")],
            body: b"",
        };
        let headers = signed(&req, None, "us-east-1", "service");
        assert_eq!(
            get(&headers, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    /// What sesame sends: a JSON POST with a session token. The expected value was
    /// computed by botocore's `SigV4Auth` for the same request, credentials and time.
    #[test]
    fn json_post_with_session_token_matches_botocore() {
        let req = Request {
            method: "POST",
            url: "https://secretsmanager.eu-west-1.amazonaws.com/",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "secretsmanager.GetSecretValue"),
                ("host", "secretsmanager.eu-west-1.amazonaws.com"),
            ],
            body: br#"{"SecretId":"prod/db"}"#,
        };
        let headers = signed(
            &req,
            Some("session-token-example"),
            "eu-west-1",
            "secretsmanager",
        );
        assert_eq!(
            get(&headers, "x-amz-security-token"),
            "session-token-example"
        );
        assert_eq!(get(&headers, "x-amz-date"), "20150830T123600Z");
        assert_eq!(
            get(&headers, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/secretsmanager/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=12270b553adbeb6e2ab60e7cc461965eb4531b42aaf5d2e3e54f53e058300d9f"
        );
    }

    /// A `host` with a port (moto, a VPC endpoint on another port) is signed as given,
    /// and a URL the signer cannot read is an error, not a panic.
    #[test]
    fn host_with_port_and_bad_urls() {
        let with_port = Request {
            method: "POST",
            url: "http://127.0.0.1:5000/",
            headers: &[("host", "127.0.0.1:5000")],
            body: b"{}",
        };
        let headers = signed(&with_port, None, "us-east-1", "ssm");
        assert!(get(&headers, "authorization").contains("SignedHeaders=host;x-amz-date,"));
        for url in ["", "not a url", "http://", "/path-only"] {
            let req = Request {
                method: "POST",
                url,
                headers: &[("host", "example.com")],
                body: b"",
            };
            if let Err(e) = sign(&req, &vector_creds(None), "us-east-1", "ssm", vector_time()) {
                assert_eq!(e, "could not sign the request (SigV4)");
            }
        }
    }
}
