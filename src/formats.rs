//! TEMPORARY stub; replaced by the formats branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Base64,
    Base64url,
    Hex,
    Pem,
    RsaPrivateKey,
    RsaPublicKey,
    Url,
    Uuid,
    Json,
    Integer,
    Port,
    Bool,
}
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub decoded_len: Option<usize>,
    pub key_bits: Option<u32>,
}
impl Format {
    pub fn name(self) -> &'static str {
        "x"
    }
    pub fn is_binary_encoding(self) -> bool {
        matches!(self, Format::Base64 | Format::Base64url | Format::Hex)
    }
    pub fn is_rsa(self) -> bool {
        matches!(self, Format::RsaPrivateKey | Format::RsaPublicKey)
    }
    pub fn is_pem(self) -> bool {
        matches!(
            self,
            Format::Pem | Format::RsaPrivateKey | Format::RsaPublicKey
        )
    }
    pub fn check(self, _value: &str) -> Result<Facts, String> {
        Ok(Facts::default())
    }
}
