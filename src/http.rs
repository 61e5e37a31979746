//! The blocking HTTP client the remote sources (`aws`, `vault`) share: ureq over
//! rustls, one connection pool, one deadline (the manifest's `remote_timeout`) that
//! every attempt stays within, capped answers zeroed when dropped, and one retry loop
//! with jittered exponential backoff. Each source decides what to send, what is worth
//! retrying, and how a failure is named (never with a value or a credential).

use crate::walk::{Confined, Trust};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// At most this many requests in flight (and idle connections kept a host).
pub const MAX_THREADS: usize = 8;
/// Attempts per request (the first and up to three retries).
pub const ATTEMPTS: u32 = 4;
/// Per attempt, within what is left of `remote_timeout`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Answers larger than this are refused (a secret is at most 64 KiB; ten SSM values
/// with their metadata, or a KV secret with many keys, stay far below).
pub const MAX_ANSWER: u64 = 4 << 20;

/// One HTTP answer; the body is zeroed when dropped.
pub struct Reply {
    pub status: u16,
    pub body: Zeroizing<Vec<u8>>,
}

/// The HTTP client: one connection pool for the stores (proxy variables honoured), one
/// without proxy for link-local credential endpoints, and the deadline every request
/// stays within.
pub struct Http {
    pub agent: ureq::Agent,
    pub local: ureq::Agent,
    deadline: Instant,
    timeout: Duration,
}

/// Which certificates a server must be signed by.
pub enum Certificates {
    /// The system's CA bundle, or the bundled Mozilla roots. With a trust (reading as
    /// root for a `--user`), the bundle's path is walked by [`crate::walk`]'s rules: a
    /// bundle the user could rewrite would let them choose whom sesame believes.
    System(Option<Trust>),
    /// Exactly these (`VAULT_CACERT`, `VAULT_CAPATH`).
    Only(Vec<ureq::tls::Certificate<'static>>),
    /// No verification at all (`VAULT_SKIP_VERIFY`, when the manifest allows it).
    Nothing,
}

impl Http {
    /// A client that trusts the system's roots (read under `trust`, as
    /// [`Certificates::System`] says).
    pub fn new(timeout: Duration, trust: Option<Trust>) -> Self {
        Self::with_trust(timeout, Certificates::System(trust))
    }

    pub fn with_trust(timeout: Duration, trust: Certificates) -> Self {
        let tls = ureq::tls::TlsConfig::builder();
        let tls = match trust {
            Certificates::System(trust) => tls.root_certs(root_certs(trust)),
            Certificates::Only(certs) => {
                tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
            }
            Certificates::Nothing => tls.disable_verification(true),
        }
        .build();
        let base = |proxy: bool| {
            let b = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .tls_config(tls.clone())
                .max_redirects(0)
                .user_agent(concat!("sesame/", env!("CARGO_PKG_VERSION")))
                .timeout_connect(Some(CONNECT_TIMEOUT))
                .max_idle_connections_per_host(MAX_THREADS);
            let b = if proxy { b } else { b.proxy(None) };
            ureq::Agent::new_with_config(b.build())
        };
        Http {
            agent: base(true),
            local: base(false),
            // Checked: the manifest bounds remote_timeout; never panic on the clock.
            deadline: Instant::now()
                .checked_add(timeout)
                .unwrap_or_else(|| Instant::now() + crate::manifest::MAX_DURATION),
            timeout,
        }
    }

    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    pub fn past_deadline(&self) -> String {
        format!(
            "no answer within remote_timeout ({}s)",
            self.timeout.as_secs_f64()
        )
    }

    /// One attempt, bounded by `limit` and the deadline.
    pub fn once(
        &self,
        agent: &ureq::Agent,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        limit: Duration,
    ) -> Result<Reply, String> {
        let left = self.remaining().ok_or_else(|| self.past_deadline())?;
        let limit = limit.min(left);
        let mut req = ureq::http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        // The body is sent from the caller's buffer (a token may be in it): no copy.
        let req = req.body(body).map_err(|e| e.to_string())?;
        let req = agent
            .configure_request(req)
            .timeout_global(Some(limit))
            .timeout_connect(Some(CONNECT_TIMEOUT.min(limit)))
            .build();
        let mut resp = agent.run(req).map_err(|e| match e {
            ureq::Error::Timeout(_) => format!("timed out after {:.1}s", limit.as_secs_f64()),
            e => e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            body: Zeroizing::new(body),
        })
    }

    /// Runs `attempt` until it gives an answer that is not `retryable`, at most
    /// [`ATTEMPTS`] times, with jittered exponential backoff, within the deadline.
    /// Transport errors are retried too. `what` (the source and the request, without a
    /// query) and `summary` (a failed answer in a few words) are for the debug log and
    /// the final error.
    pub fn retrying(
        &self,
        what: &str,
        mut attempt: impl FnMut() -> Result<Reply, String>,
        retryable: impl Fn(&Reply) -> bool,
        summary: impl Fn(&Reply) -> String,
    ) -> Result<Reply, String> {
        let mut last = String::new();
        for n in 0..ATTEMPTS {
            if n > 0 {
                let backoff = jittered_backoff(n);
                match self.remaining() {
                    Some(left) if left > backoff => std::thread::sleep(backoff),
                    _ => break,
                }
            }
            match attempt() {
                Ok(reply) if retryable(&reply) => {
                    last = summary(&reply);
                    tracing::debug!("{what}: {last}, retrying");
                }
                Ok(reply) => return Ok(reply),
                Err(e) => {
                    tracing::debug!("{what}: {e}, retrying");
                    last = e;
                }
            }
            if self.remaining().is_none() {
                break;
            }
        }
        if self.remaining().is_none() {
            Err(format!("{} (last: {last})", self.past_deadline()))
        } else {
            Err(last)
        }
    }
}

/// Full jitter: a random time up to 100 ms × 2^attempt (at most 2 s).
pub fn jittered_backoff(attempt: u32) -> Duration {
    let cap = (100u64 << attempt.min(5)).min(2000);
    let mut b = [0u8; 8];
    let r = getrandom::fill(&mut b).map_or(cap / 2, |_| u64::from_le_bytes(b) % (cap + 1));
    Duration::from_millis(r.max(10))
}

/// The certificates of a PEM file (others items, such as keys, are skipped).
pub fn pem_certificates(pem: &[u8]) -> Vec<ureq::tls::Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}

/// The system's CA bundle when there is one (`SSL_CERT_FILE`, or the usual paths),
/// Mozilla's roots bundled in the binary otherwise (`FROM scratch` images). With
/// `trust`, a bundle reached through what someone else could change is skipped, and
/// said so.
fn root_certs(trust: Option<Trust>) -> ureq::tls::RootCerts {
    let confined = trust.map(Confined::new);
    let candidates = std::env::var_os("SSL_CERT_FILE")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(
            [
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/ssl/ca-bundle.pem",
                "/etc/ssl/cert.pem",
            ]
            .iter()
            .map(std::path::PathBuf::from),
        );
    for path in candidates {
        let pem = match crate::read::read_capped_open(&path, 8 << 20, confined.as_ref()) {
            Ok((pem, _, _)) => pem,
            Err(e @ crate::read::ReadError::Untrusted(_)) => {
                tracing::warn!("http: CA bundle {} skipped: {e}", crate::shown::path(&path));
                continue;
            }
            Err(_) => continue,
        };
        let certs = pem_certificates(&pem);
        if !certs.is_empty() {
            tracing::debug!(
                "http: {} CA certificates from {}",
                certs.len(),
                crate::shown::path(&path)
            );
            return ureq::tls::RootCerts::new_with_certs(&certs);
        }
    }
    tracing::debug!("http: no system CA bundle, using the bundled Mozilla roots");
    ureq::tls::RootCerts::WebPki
}

/// A URL for messages: without its query, which could carry a token.
pub fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded() {
        for a in 1..10 {
            assert!(jittered_backoff(a) <= Duration::from_secs(2));
        }
    }

    #[test]
    fn messages_drop_the_query() {
        assert_eq!(without_query("http://h/a?token=x"), "http://h/a");
    }
}
