//! The manifest's Vault keys (docs/vault.md): a secret's `vault: {path, key, mount,
//! version, kv_version}` and the top-level `vault:` settings (address, namespace,
//! authentication, TLS verification). Parsed in every build, so that one manifest
//! serves every flavour and the schema describes the keys; a build without the cargo
//! feature `vault` refuses them with a clear message (exit 78).

use super::{Entry, KeyPath, Reader, Source};
use crate::yaml::Node;
use std::fmt;
use std::path::PathBuf;

/// Whether this sesame can fetch from Vault (built with the cargo feature `vault`).
pub const VAULT_BUILT_IN: bool = cfg!(feature = "vault");

/// Why a manifest that needs Vault is refused by a build without the feature.
pub(super) const WITHOUT_VAULT: &str = "this sesame was built without the vault feature (use a build with --features vault; see docs/vault.md)";

/// The keys of a secret's `vault:` and of the top-level `vault:`, for messages.
const LOCATION_KEYS: &str = "path, key, mount, version, kv_version";
const SETTINGS_KEYS: &str = "address, namespace, auth, auth_mount, role, token_file, jwt_file, role_id_file, secret_id_file, allow_skip_verify";

/// Where a secret lives in Vault: one key of a KV secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VaultLocation {
    /// The secrets engine's mount (default `secret`).
    pub mount: String,
    /// The secret's path inside the mount.
    pub path: String,
    /// The key of the secret's data (default: the secret's name).
    pub key: String,
    /// KV v2 only: a version (default the latest).
    pub version: Option<u64>,
    /// 1 or 2 (default 2).
    pub kv_version: u8,
}

impl fmt::Display for VaultLocation {
    /// `vault secret/app/jwt#JWT_PRIVATE_KEY`, as `vault kv get` names the secret
    /// (names, never values); a pinned version is shown as `@3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vault {}/{}", self.mount, self.path)?;
        if let Some(v) = self.version {
            write!(f, "@{v}")?;
        }
        write!(f, "#{}", self.key)
    }
}

/// How sesame authenticates to Vault.
#[cfg_attr(
    test,
    derive(schemars::JsonSchema),
    schemars(rename_all = "snake_case")
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaultAuth {
    /// `VAULT_TOKEN`.
    Token,
    /// A token file (`token_file`, default `~/.vault-token`), as Vault Agent's sink writes.
    TokenFile,
    /// Kubernetes auth: the service account's JWT and a role.
    Kubernetes,
    /// AppRole: role_id and secret_id read from files.
    Approle,
}

impl VaultAuth {
    pub fn name(self) -> &'static str {
        match self {
            VaultAuth::Token => "token",
            VaultAuth::TokenFile => "token_file",
            VaultAuth::Kubernetes => "kubernetes",
            VaultAuth::Approle => "approle",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            VaultAuth::Token,
            VaultAuth::TokenFile,
            VaultAuth::Kubernetes,
            VaultAuth::Approle,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }
}

/// The top-level `vault:` settings, checked. Variables win over them (`VAULT_ADDR`
/// over `address`, `VAULT_NAMESPACE` over `namespace`, `VAULT_ROLE` over `role`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VaultSettings {
    pub address: Option<String>,
    pub namespace: Option<String>,
    /// `None`: the first method that is configured, in the order of [`VaultAuth`].
    pub auth: Option<VaultAuth>,
    /// The auth method's mount (default `kubernetes` / `approle`).
    pub auth_mount: Option<String>,
    pub role: Option<String>,
    pub token_file: Option<PathBuf>,
    pub jwt_file: Option<PathBuf>,
    pub role_id_file: Option<PathBuf>,
    pub secret_id_file: Option<PathBuf>,
    /// `VAULT_SKIP_VERIFY` is refused unless this is true.
    pub allow_skip_verify: bool,
}

/// A secret's `vault:` as written.
#[cfg_attr(test, derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
#[derive(Default)]
pub(super) struct RawVaultLocation {
    /// The secret's path inside the mount, as in `vault kv get -mount=secret <path>`.
    path: String,
    /// The key of the secret's data (default: the secret's name).
    key: Option<String>,
    /// The KV secrets engine's mount (default secret).
    mount: Option<String>,
    /// KV v2: read this version instead of the latest.
    #[cfg_attr(test, schemars(range(min = 1)))]
    version: Option<u64>,
    /// The KV engine's version, 1 or 2 (default 2).
    #[cfg_attr(test, schemars(range(min = 1, max = 2)))]
    kv_version: Option<u8>,
}

/// The top-level `vault:` as written.
#[cfg_attr(test, derive(schemars::JsonSchema), schemars(deny_unknown_fields))]
#[derive(Default)]
pub(super) struct RawVaultSettings {
    /// Vault's address (VAULT_ADDR wins).
    address: Option<String>,
    /// Vault Enterprise namespace (VAULT_NAMESPACE wins).
    namespace: Option<String>,
    /// The one auth method to use (default: VAULT_TOKEN, then the token file, then
    /// kubernetes, then approle, the first that is configured).
    auth: Option<VaultAuth>,
    /// The auth method's mount (default kubernetes or approle).
    auth_mount: Option<String>,
    /// Kubernetes auth: the Vault role (VAULT_ROLE wins).
    role: Option<String>,
    /// A token file, as Vault Agent's sink writes it (default ~/.vault-token).
    token_file: Option<String>,
    /// Kubernetes auth: the service account token (default
    /// /var/run/secrets/kubernetes.io/serviceaccount/token).
    jwt_file: Option<String>,
    /// AppRole: the file holding the role_id.
    role_id_file: Option<String>,
    /// AppRole: the file holding the secret_id.
    secret_id_file: Option<String>,
    /// Let VAULT_SKIP_VERIFY turn off TLS verification (default false: refused).
    allow_skip_verify: Option<bool>,
}

impl<'d> Reader<'d> {
    pub(super) fn vault_location(
        &mut self,
        node: Node<'d>,
        p: KeyPath,
    ) -> Option<RawVaultLocation> {
        let mut l = RawVaultLocation::default();
        let mut path = None;
        let (at, keys) = self.fields(node, p, |r, Entry { key, key_at, value }| match &*key {
            "path" => path = r.string(value, p, "path"),
            "key" => l.key = r.string(value, p, "key"),
            "mount" => l.mount = r.string(value, p, "mount"),
            "version" => l.version = r.number(value, p, "version"),
            "kv_version" => l.kv_version = r.number(value, p, "kv_version"),
            k => r.unknown(key_at, p, k, LOCATION_KEYS),
        })?;
        l.path = self.required(path, at, &keys, p, "path");
        Some(l)
    }

    pub(super) fn vault_settings(
        &mut self,
        node: Node<'d>,
        p: KeyPath,
    ) -> Option<RawVaultSettings> {
        let mut s = RawVaultSettings::default();
        self.fields(node, p, |r, Entry { key, key_at, value }| {
            let k = &*key;
            match k {
                "address" => s.address = r.string(value, p, k),
                "namespace" => s.namespace = r.string(value, p, k),
                "auth" => {
                    s.auth = r.choice(
                        value,
                        p,
                        k,
                        VaultAuth::from_name,
                        "token, token_file, kubernetes or approle",
                    )
                }
                "auth_mount" => s.auth_mount = r.string(value, p, k),
                "role" => s.role = r.string(value, p, k),
                "token_file" => s.token_file = r.string(value, p, k),
                "jwt_file" => s.jwt_file = r.string(value, p, k),
                "role_id_file" => s.role_id_file = r.string(value, p, k),
                "secret_id_file" => s.secret_id_file = r.string(value, p, k),
                "allow_skip_verify" => s.allow_skip_verify = r.boolean(value, p, k),
                _ => r.unknown(key_at, p, k, SETTINGS_KEYS),
            }
        })?;
        Some(s)
    }
}

/// A mount or path: segments of `[A-Za-z0-9_.~@+=,:-]`, separated by single `/`, no
/// `.` or `..` segment. Nothing needs escaping in a URL, and nothing can reach
/// another route (`../sys/...`) or add a query.
fn is_vault_path(p: &str) -> bool {
    !p.is_empty()
        && p.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.~@+=,:-".contains(&b))
        })
}

impl RawVaultLocation {
    /// Checks a secret's `vault:` (the secret is `name`); reports through `bad`.
    pub(super) fn check(
        self,
        name: &str,
        sources: &[Source],
        bad: &mut dyn FnMut(String),
    ) -> VaultLocation {
        const SHAPE: &str = "letters, digits and _.~@+=,:- in segments separated by single /, no leading or trailing /, no . or .. segment";
        if !is_vault_path(&self.path) {
            bad(format!("vault.path: must be a Vault path ({SHAPE})"));
        }
        let mount = self.mount.unwrap_or_else(|| "secret".to_owned());
        if !is_vault_path(&mount) {
            bad(format!("vault.mount: must be a Vault path ({SHAPE})"));
        }
        let key = self.key.unwrap_or_else(|| name.to_owned());
        if key.is_empty() {
            bad("vault.key: must not be empty".into());
        }
        let kv_version = self.kv_version.unwrap_or(2);
        if kv_version != 1 && kv_version != 2 {
            bad("vault.kv_version: must be 1 or 2".into());
        }
        match self.version {
            Some(_) if kv_version == 1 => {
                bad("vault.version: KV version 1 keeps no versions (kv_version: 2 does)".into())
            }
            Some(0) => bad("vault.version: versions start at 1".into()),
            _ => {}
        }
        if !VAULT_BUILT_IN {
            bad(format!("vault: {WITHOUT_VAULT}"));
        } else if !sources.contains(&Source::Vault) {
            bad("vault: the manifest's sources do not include vault".into());
        }
        VaultLocation {
            mount,
            path: self.path,
            key,
            version: self.version,
            kv_version,
        }
    }
}

impl RawVaultSettings {
    /// Checks the top-level `vault:`; reports through `bad`.
    pub(super) fn check(self, bad: &mut dyn FnMut(String)) -> VaultSettings {
        if !VAULT_BUILT_IN {
            bad(format!("vault: {WITHOUT_VAULT}"));
        }
        if let Some(a) = &self.address
            && !(a.starts_with("https://") || a.starts_with("http://"))
        {
            bad("vault.address: must start with https:// (or http://)".into());
        }
        if let Some(m) = &self.auth_mount
            && !is_vault_path(m)
        {
            bad("vault.auth_mount: must be a Vault path (such as kubernetes or approle)".into());
        }
        let file = |key: &str, v: Option<String>, bad: &mut dyn FnMut(String)| {
            let p = v.map(PathBuf::from);
            if let Some(p) = &p
                && !p.is_absolute()
            {
                bad(format!("vault.{key}: must be an absolute path"));
            }
            p
        };
        let token_file = file("token_file", self.token_file, bad);
        let jwt_file = file("jwt_file", self.jwt_file, bad);
        let role_id_file = file("role_id_file", self.role_id_file, bad);
        let secret_id_file = file("secret_id_file", self.secret_id_file, bad);
        if self.auth == Some(VaultAuth::Approle) && role_id_file.is_none() {
            bad("vault.role_id_file: auth: approle needs it".into());
        }
        VaultSettings {
            address: self.address,
            namespace: self.namespace,
            auth: self.auth,
            auth_mount: self.auth_mount,
            role: self.role,
            token_file,
            jwt_file,
            role_id_file,
            secret_id_file,
            allow_skip_verify: self.allow_skip_verify.unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_paths_cannot_escape_or_need_escaping() {
        for ok in ["app/jwt-keys", "secret", "a.b/c_d/e@1", "team=x/y,z"] {
            assert!(is_vault_path(ok), "{ok}");
        }
        for bad in [
            "", "/app", "app/", "a//b", "../sys", "a/../b", "a/./b", "a?x=1", "a#b", "a b", "a%2e",
            "é",
        ] {
            assert!(!is_vault_path(bad), "{bad}");
        }
    }

    /// The key lists of "unknown field" messages are the schema's.
    #[test]
    fn unknown_field_messages_list_the_schemas_vault_keys() {
        let schema: serde_json::Value = serde_json::from_str(crate::manifest::SCHEMA).unwrap();
        let keys = |def: &str| {
            let mut k: Vec<String> = schema["$defs"][def]["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            k.sort();
            k
        };
        let listed = |list: &str| {
            let mut k: Vec<String> = list.split(", ").map(str::to_owned).collect();
            k.sort();
            k
        };
        assert_eq!(keys("RawVaultLocation"), listed(LOCATION_KEYS));
        assert_eq!(keys("RawVaultSettings"), listed(SETTINGS_KEYS));
    }

    #[test]
    fn locations_show_mount_path_version_and_key() {
        let mut l = VaultLocation {
            mount: "secret".into(),
            path: "app/jwt".into(),
            key: "K".into(),
            version: None,
            kv_version: 2,
        };
        assert_eq!(l.to_string(), "vault secret/app/jwt#K");
        l.version = Some(3);
        assert_eq!(l.to_string(), "vault secret/app/jwt@3#K");
    }
}
