//! How sesame gets a Vault token (docs/vault.md): the manifest's `vault.auth`, or the
//! first method that is configured, in this order:
//!
//! 1. `VAULT_TOKEN`;
//! 2. a token file: `vault.token_file`, or `~/.vault-token` when it exists (what
//!    `vault login` and Vault Agent's file sink write);
//! 3. Kubernetes auth: the service account's JWT (`vault.jwt_file`, default the
//!    standard mount) and a role (`VAULT_ROLE`, else `vault.role`), posted to
//!    `auth/<auth_mount or kubernetes>/login`;
//! 4. AppRole: `vault.role_id_file` (and `vault.secret_id_file`), posted to
//!    `auth/<auth_mount or approle>/login`.
//!
//! When the chosen method fails, that failure is the error: sesame does not fall
//! through to another identity. Tokens, JWTs and secret ids are read into zeroizing
//! buffers and never formatted.

use super::{Client, Files, parse_json};
use crate::env::Environment;
use crate::manifest::{VaultAuth, VaultSettings};
use crate::secret::Secret;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Kubernetes mounts the service account's token here.
const SERVICE_ACCOUNT_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// Token, JWT and id files larger than this are refused.
const MAX_CREDENTIAL_FILE: u64 = 64 << 10;

/// A token, and how it was obtained (for messages: never the token).
pub struct Token {
    pub secret: Secret,
    pub how: String,
}

/// The token sesame reads with.
pub fn token(
    client: &Client,
    env: &Environment,
    settings: &VaultSettings,
    files: &Files,
) -> Result<Token, String> {
    let method = match settings.auth {
        Some(m) => m,
        None => detect(env, settings).ok_or(
            "no Vault credentials: set VAULT_TOKEN, write a token file (~/.vault-token or vault.token_file), \
             or configure kubernetes (VAULT_ROLE or vault.role, with the service account token) or approle (vault.role_id_file)",
        )?,
    };
    match method {
        VaultAuth::Token => {
            let raw = env
                .get_nonempty("VAULT_TOKEN")
                .ok_or("vault.auth is token, but VAULT_TOKEN is not set")?;
            let token = checked_token(Zeroizing::new(raw.as_encoded_bytes().to_vec()))
                .map_err(|why| format!("VAULT_TOKEN: {why}"))?;
            Ok(Token {
                secret: token,
                how: "VAULT_TOKEN".into(),
            })
        }
        VaultAuth::TokenFile => {
            let path = token_file(env, settings)
                .ok_or("vault.auth is token_file, but there is no vault.token_file and no HOME")?;
            let bytes = read_credential(files, &path)?;
            let token = checked_token(bytes)
                .map_err(|why| format!("token file {}: {why}", crate::shown::path(&path)))?;
            Ok(Token {
                secret: token,
                how: format!("token file {}", crate::shown::path(&path)),
            })
        }
        VaultAuth::Kubernetes => {
            let role = role(env, settings)
                .ok_or("kubernetes auth needs a role: set VAULT_ROLE or vault.role")?;
            // Named in messages: only a plain name (not quoted when it is not one).
            if !role
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-@".contains(&b))
            {
                return Err("the kubernetes role (VAULT_ROLE or vault.role) is not a role name: letters, digits and _.-@ only".into());
            }
            let jwt_path = jwt_file(settings);
            let jwt = read_credential(files, &jwt_path)?;
            let jwt = std::str::from_utf8(&jwt)
                .map_err(|_| format!("{}: not a JWT (not UTF-8)", crate::shown::path(&jwt_path)))?
                .trim();
            let mount = settings.auth_mount.as_deref().unwrap_or("kubernetes");
            #[derive(serde::Serialize)]
            struct Login<'a> {
                role: &'a str,
                jwt: &'a str,
            }
            let body = Zeroizing::new(
                serde_json::to_string(&Login { role: &role, jwt }).map_err(|e| e.to_string())?,
            );
            let how = format!("kubernetes login at auth/{mount} as role {role}");
            login(client, mount, &body, how)
        }
        VaultAuth::Approle => {
            let role_id_path = settings
                .role_id_file
                .as_deref()
                .ok_or("approle auth needs vault.role_id_file")?;
            let role_id = read_credential(files, role_id_path)?;
            let secret_id = match &settings.secret_id_file {
                Some(p) => Some(read_credential(files, p)?),
                None => None,
            };
            let role_id = text(&role_id, role_id_path)?;
            let secret_id = match (&secret_id, &settings.secret_id_file) {
                (Some(s), Some(p)) => Some(text(s, p)?),
                _ => None,
            };
            let mount = settings.auth_mount.as_deref().unwrap_or("approle");
            #[derive(serde::Serialize)]
            struct Login<'a> {
                role_id: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                secret_id: Option<&'a str>,
            }
            let body = Zeroizing::new(
                serde_json::to_string(&Login { role_id, secret_id }).map_err(|e| e.to_string())?,
            );
            login(
                client,
                mount,
                &body,
                format!("approle login at auth/{mount}"),
            )
        }
    }
}

/// The first method that is configured (docs/vault.md gives the order).
fn detect(env: &Environment, settings: &VaultSettings) -> Option<VaultAuth> {
    if env.get_nonempty("VAULT_TOKEN").is_some() {
        return Some(VaultAuth::Token);
    }
    // A configured token file is used even when missing (and then is the error): Vault
    // Agent may not have written it yet, and another identity would be a surprise.
    if settings.token_file.is_some() || token_file(env, settings).is_some_and(|p| p.is_file()) {
        return Some(VaultAuth::TokenFile);
    }
    if role(env, settings).is_some() && jwt_file(settings).exists() {
        return Some(VaultAuth::Kubernetes);
    }
    if settings.role_id_file.is_some() {
        return Some(VaultAuth::Approle);
    }
    None
}

fn token_file(env: &Environment, settings: &VaultSettings) -> Option<PathBuf> {
    settings.token_file.clone().or_else(|| {
        env.get_nonempty("HOME")
            .map(|h| Path::new(h).join(".vault-token"))
    })
}

fn jwt_file(settings: &VaultSettings) -> PathBuf {
    settings
        .jwt_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(SERVICE_ACCOUNT_TOKEN))
}

fn role(env: &Environment, settings: &VaultSettings) -> Option<String> {
    env.get_nonempty("VAULT_ROLE")
        .map(|v| v.to_string_lossy().into_owned())
        .or_else(|| settings.role.clone())
}

/// A credential file, read as secret files are (no FIFO hangs, capped, walked with
/// `--user`), never quoted.
fn read_credential(files: &Files, path: &Path) -> Result<Zeroizing<Vec<u8>>, String> {
    files.read(path, MAX_CREDENTIAL_FILE)
}

/// A credential file's text, surrounding whitespace dropped.
fn text<'b>(b: &'b [u8], p: &Path) -> Result<&'b str, String> {
    std::str::from_utf8(b)
        .map(str::trim)
        .map_err(|_| format!("{}: not UTF-8", crate::shown::path(p)))
}

/// A token as it goes into a header: surrounding whitespace dropped, printable ASCII.
fn checked_token(bytes: Zeroizing<Vec<u8>>) -> Result<Secret, &'static str> {
    let t = bytes.trim_ascii();
    if t.is_empty() {
        return Err("empty");
    }
    if !t.iter().all(|b| b.is_ascii_graphic()) {
        return Err("not a token (only printable characters without spaces)");
    }
    crate::secret::Secret::from_bytes(Zeroizing::new(t.to_vec()))
}

/// Posts a login and takes `auth.client_token` from the answer.
fn login(client: &Client, mount: &str, body: &str, how: String) -> Result<Token, String> {
    let reply = client
        .call(
            "POST",
            &format!("auth/{mount}/login"),
            None,
            body.as_bytes(),
        )
        .map_err(|e| format!("{how}: {e}"))?;
    if reply.status != 200 {
        return Err(format!("{how}: refused: {}", super::summary(&reply)));
    }
    #[derive(Deserialize)]
    struct Answer {
        auth: Option<Auth>,
    }
    #[derive(Deserialize)]
    struct Auth {
        client_token: String,
    }
    let token = parse_json::<Answer>(&reply.body)
        .and_then(|a| a.auth)
        .map(|a| Zeroizing::new(a.client_token.into_bytes()))
        .ok_or_else(|| format!("{how}: the answer has no auth.client_token"))?;
    let secret =
        checked_token(token).map_err(|why| format!("{how}: the token Vault gave is {why}"))?;
    Ok(Token { secret, how })
}
