//! Value format checkers (SPEC §4.2).
//!
//! A secret may declare a [`Format`]; [`Format::check`] verifies the value and, on success,
//! returns the [`Facts`] that later rules need: the decoded length of a binary encoding
//! (rule `decoded_bytes`) and the modulus size of an RSA key (rule `min_key_bits`).
//!
//! Error strings are short lower-case reasons. They never contain the value or any part of
//! it, because they end up in logs: only fixed text and numbers (positions, line numbers,
//! counts). A PEM label and an algorithm OID are parts of the value too, so they are
//! classified (private key, public key, other; RSA or not) and never shown; library error
//! texts are replaced by fixed ones, since they may quote what they met.
//!
//! The readers of key material come from RustCrypto: pem-rfc7468 (strict RFC 7468 PEM,
//! constant-time base64: these are private keys), and der, pkcs1, pkcs8 and spki for the
//! RSA key structures. base64 (`base64` crate) and JSON (`serde_json`) come from libraries
//! too, and URLs from the `url` crate (the WHATWG URL standard). The UUID and number checks
//! are character-class tests, not parsers. Decoded secret bytes live in
//! [`Zeroizing`] buffers, so they are wiped when dropped.

use std::fmt;

use base64::Engine as _;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_PAD_INDIFFERENT};
use der::Decode as _;
use zeroize::Zeroizing;

/// A value format a secret may be declared to have (manifest key `format`).
#[cfg_attr(
    test,
    derive(schemars::JsonSchema),
    schemars(rename_all = "kebab-case")
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Standard-alphabet base64, canonically padded.
    Base64,
    /// URL-safe-alphabet base64, padding optional.
    Base64url,
    /// Hexadecimal, even length, either case.
    Hex,
    /// One or more well-formed PEM blocks of any label.
    Pem,
    /// An unencrypted RSA private key: PEM `RSA PRIVATE KEY` (PKCS#1) or `PRIVATE KEY` (PKCS#8).
    RsaPrivateKey,
    /// An RSA public key: PEM `RSA PUBLIC KEY` (PKCS#1) or `PUBLIC KEY` (SPKI).
    RsaPublicKey,
    /// An absolute URL with a scheme and a host.
    Url,
    /// A UUID in the canonical hyphenated 8-4-4-4-12 form, either case.
    Uuid,
    /// Any JSON document.
    Json,
    /// A base-10 integer that fits in an `i64`, with an optional sign.
    Integer,
    /// A TCP/UDP port number, 1–65535.
    Port,
    /// `true`/`false`/`yes`/`no`/`1`/`0`, in lower case, Capitalised or UPPER case.
    Bool,
}

/// What a successful [`Format::check`] learned about the value.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Number of decoded bytes (base64, base64url, hex).
    pub decoded_len: Option<usize>,
    /// RSA modulus size in bits (rsa-private-key, rsa-public-key).
    pub key_bits: Option<u32>,
}

impl Format {
    /// Every format, in declaration order.
    pub const ALL: [Format; 12] = [
        Format::Base64,
        Format::Base64url,
        Format::Hex,
        Format::Pem,
        Format::RsaPrivateKey,
        Format::RsaPublicKey,
        Format::Url,
        Format::Uuid,
        Format::Json,
        Format::Integer,
        Format::Port,
        Format::Bool,
    ];

    /// The manifest name of the format (`base64`, `rsa-private-key`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Base64 => "base64",
            Format::Base64url => "base64url",
            Format::Hex => "hex",
            Format::Pem => "pem",
            Format::RsaPrivateKey => "rsa-private-key",
            Format::RsaPublicKey => "rsa-public-key",
            Format::Url => "url",
            Format::Uuid => "uuid",
            Format::Json => "json",
            Format::Integer => "integer",
            Format::Port => "port",
            Format::Bool => "bool",
        }
    }

    /// The format a manifest names (`None` for a name that is not one).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Every name, for messages.
    pub const NAMES: &str = "base64, base64url, hex, pem, rsa-private-key, rsa-public-key, url, uuid, json, integer, port or bool";

    /// True for base64, base64url and hex: the formats the `decoded_bytes` rule applies to.
    pub fn is_binary_encoding(self) -> bool {
        matches!(self, Format::Base64 | Format::Base64url | Format::Hex)
    }

    /// True for the RSA key formats: the ones the `min_key_bits` rule applies to.
    pub fn is_rsa(self) -> bool {
        matches!(self, Format::RsaPrivateKey | Format::RsaPublicKey)
    }

    /// True for the PEM-based formats (whose default trim is `none`).
    pub fn is_pem(self) -> bool {
        matches!(
            self,
            Format::Pem | Format::RsaPrivateKey | Format::RsaPublicKey
        )
    }

    /// Checks `value`; on success says what it learned (decoded length, RSA modulus bits).
    ///
    /// The value is checked as given: trimming is the caller's business.
    pub fn check(self, value: &str) -> Result<Facts, String> {
        let decoded = |len| Facts {
            decoded_len: Some(len),
            key_bits: None,
        };
        let key = |bits| Facts {
            decoded_len: None,
            key_bits: Some(bits),
        };
        match self {
            Format::Base64 => base64_len(value, &STANDARD, "base64").map(decoded),
            Format::Base64url => {
                base64_len(value, &URL_SAFE_PAD_INDIFFERENT, "base64url").map(decoded)
            }
            Format::Hex => hex_len(value).map(decoded),
            Format::Pem => parse_pem(value).map(|_| Facts::default()),
            Format::RsaPrivateKey => rsa_key_bits(value, true).map(key),
            Format::RsaPublicKey => rsa_key_bits(value, false).map(key),
            Format::Url => check_url(value).map(|()| Facts::default()),
            Format::Uuid => check_uuid(value).map(|()| Facts::default()),
            Format::Json => check_json(value).map(|()| Facts::default()),
            Format::Integer => check_integer(value).map(|()| Facts::default()),
            Format::Port => check_port(value).map(|()| Facts::default()),
            Format::Bool => check_bool(value).map(|()| Facts::default()),
        }
    }
}

impl fmt::Display for Format {
    /// Writes the manifest name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------------------
// Binary encodings

/// Decodes base64 `input` with `engine` into a buffer that is zeroized on drop.
///
/// The buffer is allocated at its final capacity up front, so decoding never reallocates
/// and leaves no stray copy of the secret behind.
fn decode_base64(
    input: &[u8],
    engine: &GeneralPurpose,
) -> Result<Zeroizing<Vec<u8>>, base64::DecodeError> {
    let mut out = Zeroizing::new(Vec::with_capacity(input.len() / 4 * 3 + 3));
    engine.decode_vec(input, &mut out)?;
    Ok(out)
}

/// Checks base64 with `engine` and returns the decoded length; `what` names the format.
///
/// The `base64` crate's own error text quotes the offending byte, so it is translated here.
fn base64_len(value: &str, engine: &GeneralPurpose, what: &str) -> Result<usize, String> {
    use base64::DecodeError as E;
    let reason = match decode_base64(value.as_bytes(), engine) {
        Ok(bytes) => return Ok(bytes.len()),
        Err(E::InvalidByte(at, _)) => format!("invalid character at position {}", at + 1),
        Err(E::InvalidLength(_)) => "invalid length".to_owned(),
        Err(E::InvalidLastSymbol { offset, .. }) => {
            format!("non-canonical last character at position {}", offset + 1)
        }
        Err(E::InvalidPadding) => "invalid padding".to_owned(),
    };
    Err(format!("not valid {what}: {reason}"))
}

/// Checks hex and returns the decoded length. Nothing is decoded, so nothing is copied.
fn hex_len(value: &str) -> Result<usize, String> {
    if let Some(at) = value.bytes().position(|b| !b.is_ascii_hexdigit()) {
        // Every byte before `at` is an ASCII hex digit, so bytes and characters agree.
        return Err(format!(
            "not valid hex: invalid character at position {}",
            at + 1
        ));
    }
    if !value.len().is_multiple_of(2) {
        return Err("not valid hex: odd length".to_owned());
    }
    Ok(value.len() / 2)
}

// ---------------------------------------------------------------------------------------
// PEM

/// What a PEM label says, as far as the RSA formats care.
///
/// The label itself is never kept: it is part of the value (a mistyped key file may carry
/// anything there), so no message may repeat it. Only this classification leaves
/// [`decode_block`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    /// `RSA PRIVATE KEY`: PKCS#1 RSAPrivateKey.
    RsaPrivate,
    /// `PRIVATE KEY`: PKCS#8 PrivateKeyInfo / OneAsymmetricKey.
    Private,
    /// `ENCRYPTED PRIVATE KEY`: PKCS#8 EncryptedPrivateKeyInfo.
    EncryptedPrivate,
    /// `RSA PUBLIC KEY`: PKCS#1 RSAPublicKey.
    RsaPublic,
    /// `PUBLIC KEY`: SubjectPublicKeyInfo.
    Public,
    /// Anything else (`CERTIFICATE`, `EC PRIVATE KEY`, ...).
    Other,
}

impl Label {
    fn of(label: &str) -> Label {
        match label {
            "RSA PRIVATE KEY" => Label::RsaPrivate,
            "PRIVATE KEY" => Label::Private,
            "ENCRYPTED PRIVATE KEY" => Label::EncryptedPrivate,
            "RSA PUBLIC KEY" => Label::RsaPublic,
            "PUBLIC KEY" => Label::Public,
            _ => Label::Other,
        }
    }
}

/// One decoded PEM block.
struct PemBlock {
    /// The kind of label of the BEGIN and END lines.
    label: Label,
    /// An RFC 1421 `Proc-Type: 4,ENCRYPTED` header was present (legacy OpenSSL encryption).
    encrypted: bool,
    /// The decoded body, wiped on drop.
    der: Zeroizing<Vec<u8>>,
}

/// Parses one or more PEM blocks separated and surrounded only by blank lines.
///
/// pem-rfc7468 decodes one block a call and wants it alone, so the blocks are found here:
/// a block runs from a line starting `-----BEGIN ` to the next line starting `-----END `,
/// and any other non-blank line outside a block is refused (RFC 7468 would allow
/// explanatory text around blocks; a secret file has no use for it). Each block is then
/// read by [`decode_block`].
fn parse_pem(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut begin = None; // byte offset of the open block's BEGIN line
    let mut end = 0; // byte offset just past the line being looked at
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let start = end;
        end += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        match begin {
            None if content.trim().is_empty() => {}
            None if content.starts_with("-----BEGIN ") => begin = Some(start),
            None => {
                return Err(format!(
                    "not a PEM block: line {} is not a BEGIN line",
                    index + 1
                ));
            }
            Some(at) if content.starts_with("-----END ") => {
                // Both offsets sit at line starts, after a '\n': always char boundaries.
                let block = text.get(at..end).unwrap_or_default();
                blocks.push(decode_block(block, blocks.len() + 1)?);
                begin = None;
            }
            Some(_) => {}
        }
    }
    if begin.is_some() {
        return Err(format!("PEM block {} has no END line", blocks.len() + 1));
    }
    if blocks.is_empty() {
        return Err("not a PEM block: no BEGIN line".to_owned());
    }
    Ok(blocks)
}

/// Decodes PEM block number `n` (its text from BEGIN line to END line) with pem-rfc7468.
///
/// pem-rfc7468 follows RFC 7468's strict grammar and decodes base64 in constant time
/// (these are private keys): BEGIN and END lines with the same label (capitals, digits,
/// single spaces; no hyphen), a body of padded base64 in lines of one width of at least
/// 4 characters (the last may be shorter), LF or CRLF line ends. The one thing RFC 7468
/// refuses that sesame accepts is the RFC 1421 header section of legacy OpenSSL-encrypted
/// keys (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`, then a blank line): it is noted and set
/// aside, and the rest is decoded as a block without headers.
fn decode_block(block: &str, n: usize) -> Result<PemBlock, String> {
    let begin_line = block.split_inclusive('\n').next().unwrap_or_default();
    let after_begin = block.get(begin_line.len()..).unwrap_or_default();

    // Headers: base64 never contains ':', so a colon on the first body line marks them.
    let mut encrypted = false;
    let mut without_headers = None;
    if after_begin
        .lines()
        .next()
        .is_some_and(|line| line.contains(':'))
    {
        let mut body_at = None;
        let mut at = begin_line.len();
        for line in after_begin.split_inclusive('\n') {
            at += line.len();
            let line = line.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                body_at = Some(at);
                break;
            }
            encrypted |= line.starts_with("Proc-Type:") && line.contains("ENCRYPTED");
        }
        let body = body_at
            .and_then(|at| block.get(at..))
            .ok_or_else(|| format!("PEM block {n}: headers are not followed by a blank line"))?;
        // Capacity fixed up front: pushing never reallocates and strands a copy.
        let mut joined = Zeroizing::new(String::with_capacity(block.len()));
        joined.push_str(begin_line);
        joined.push_str(body);
        without_headers = Some(joined);
    }
    let input = without_headers.as_deref().map_or(block, String::as_str);
    let body = input.get(begin_line.len()..).unwrap_or_default();
    if body.starts_with("-----END ") {
        return Err(format!("PEM block {n} has an empty body"));
    }

    let mut decoder =
        pem_rfc7468::Decoder::new_detect_wrap(input.as_bytes()).map_err(|e| pem_error(n, e))?;
    let label = Label::of(decoder.type_label());
    let mut der = Zeroizing::new(vec![0; decoder.remaining_len()]);
    let len = decoder.decode(&mut der).map_err(|e| pem_error(n, e))?.len();
    if !decoder.is_finished() || len != der.len() {
        return Err(pem_error(n, pem_rfc7468::Error::Length));
    }
    Ok(PemBlock {
        label,
        encrypted,
        der,
    })
}

/// The message for a pem-rfc7468 error in block `n`: fixed text, never the crate's own
/// (which is fixed today, but a label or a byte quoted by a later version would leak).
fn pem_error(n: usize, error: pem_rfc7468::Error) -> String {
    use pem_rfc7468::Error as E;
    let why = match error {
        E::Base64(_) | E::Length | E::EncapsulatedText => {
            "body is not base64 in lines of one width (only the last may be shorter)"
        }
        E::Label => "the BEGIN line's label is not an RFC 7468 label",
        E::PreEncapsulationBoundary => "malformed BEGIN line",
        E::PostEncapsulationBoundary => "END line does not match the BEGIN line",
        E::HeaderDisallowed => "unexpected header lines",
        _ => "not well-formed RFC 7468 PEM",
    };
    format!("PEM block {n}: {why}")
}

// ---------------------------------------------------------------------------------------
// RSA keys

/// Checks an RSA key in PEM and returns its modulus size in bits.
///
/// Exactly one PEM block is expected. `private` selects the labels accepted:
/// `RSA PRIVATE KEY` (PKCS#1) or `PRIVATE KEY` (PKCS#8), else `RSA PUBLIC KEY` (PKCS#1) or
/// `PUBLIC KEY` (SPKI). The DER is read by RustCrypto's pkcs1, pkcs8 and spki crates
/// (strict DER: definite, minimal lengths; no trailing data); the wrapped forms must name
/// rsaEncryption.
fn rsa_key_bits(value: &str, private: bool) -> Result<u32, String> {
    let blocks = parse_pem(value)?;
    let [block] = blocks.as_slice() else {
        return Err(format!(
            "expected exactly one PEM block, found {}",
            blocks.len()
        ));
    };
    if block.encrypted {
        return Err("key is encrypted (Proc-Type: 4,ENCRYPTED)".to_owned());
    }
    let der = block.der.as_slice();
    let modulus = match (block.label, private) {
        (Label::RsaPrivate, true) => pkcs1_private_modulus(der)?,
        (Label::Private, true) => pkcs8_modulus(der)?,
        (Label::RsaPublic, false) => pkcs1_public_modulus(der)?,
        (Label::Public, false) => spki_modulus(der)?,
        (Label::EncryptedPrivate, true) => {
            return Err("private key is encrypted (ENCRYPTED PRIVATE KEY)".to_owned());
        }
        (Label::RsaPublic | Label::Public, true) => {
            return Err(
                "a public key, expected a private key (RSA PRIVATE KEY or PRIVATE KEY)".to_owned(),
            );
        }
        (Label::RsaPrivate | Label::Private | Label::EncryptedPrivate, false) => {
            return Err(
                "a private key, expected a public key (RSA PUBLIC KEY or PUBLIC KEY)".to_owned(),
            );
        }
        (Label::Other, true) => {
            return Err("PEM label is not RSA PRIVATE KEY or PRIVATE KEY".to_owned());
        }
        (Label::Other, false) => {
            return Err("PEM label is not RSA PUBLIC KEY or PUBLIC KEY".to_owned());
        }
    };
    modulus_bits(modulus)
}

/// The modulus of a PKCS#1 RSAPrivateKey (RFC 8017 A.1.2), two-prime or multi-prime.
fn pkcs1_private_modulus(der: &[u8]) -> Result<&[u8], String> {
    let key = pkcs1::RsaPrivateKeyRef::from_der(der).map_err(der_error)?;
    Ok(key.modulus.as_bytes())
}

/// The modulus of a PKCS#1 RSAPublicKey (RFC 8017 A.1.1).
fn pkcs1_public_modulus(der: &[u8]) -> Result<&[u8], String> {
    let key = pkcs1::RsaPublicKeyRef::from_der(der).map_err(der_error)?;
    Ok(key.modulus.as_bytes())
}

/// The modulus inside a PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5208, RFC 5958).
fn pkcs8_modulus(der: &[u8]) -> Result<&[u8], String> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(der_error)?;
    expect_rsa_algorithm(&info.algorithm)?;
    pkcs1_private_modulus(info.private_key.as_bytes())
}

/// The modulus inside a SubjectPublicKeyInfo (RFC 5280).
fn spki_modulus(der: &[u8]) -> Result<&[u8], String> {
    let info = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(der_error)?;
    expect_rsa_algorithm(&info.algorithm)?;
    let key = info
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| "malformed key DER: public key BIT STRING is not whole bytes".to_owned())?;
    pkcs1_public_modulus(key)
}

/// Requires rsaEncryption (1.2.840.113549.1.1.1) with NULL or absent parameters.
///
/// Another algorithm's OID is not shown, by name or number: it is read from the value.
fn expect_rsa_algorithm(algorithm: &spki::AlgorithmIdentifierRef<'_>) -> Result<(), String> {
    if algorithm.oid != pkcs1::ALGORITHM_OID {
        return Err("not an RSA key (its algorithm is not rsaEncryption)".to_owned());
    }
    if algorithm.parameters.is_some_and(|p| !p.is_null()) {
        return Err("malformed key DER: rsaEncryption parameters are not NULL".to_owned());
    }
    Ok(())
}

/// The message for a DER error: fixed text by kind. der's own text names tags and OIDs
/// it met, which are bytes of the value.
fn der_error(error: der::Error) -> String {
    use der::ErrorKind as K;
    let why = match error.kind() {
        K::Incomplete { .. } => "truncated",
        K::TrailingData { .. } => "unexpected trailing data",
        K::Length { .. } | K::Overlength | K::Overflow | K::IndefiniteLength => "invalid length",
        K::Noncanonical { .. } => "not canonical DER",
        K::TagUnexpected { .. } | K::TagUnknown { .. } | K::TagNumberInvalid => "unexpected field",
        K::NestingDepth => "nested too deeply",
        K::Value { .. } => "invalid value",
        _ => "malformed",
    };
    format!("malformed key DER: {why}")
}

/// Size in bits of a modulus given as big-endian unsigned bytes (leading zeros ignored).
fn modulus_bits(modulus: &[u8]) -> Result<u32, String> {
    let magnitude = modulus
        .iter()
        .position(|&b| b != 0)
        .and_then(|first| modulus.get(first..))
        .unwrap_or_default();
    let Some(&top) = magnitude.first() else {
        return Err("malformed key: zero modulus".to_owned());
    };
    let bits = (magnitude.len() as u64 - 1) * 8 + u64::from(8 - top.leading_zeros());
    u32::try_from(bits).map_err(|_| "malformed key: modulus too large".to_owned())
}

// ---------------------------------------------------------------------------------------
// Text formats

/// Checks an absolute URL with a host: `scheme://[userinfo@]host[:port][/path][?query][#fragment]`.
///
/// The `url` crate parses it as the WHATWG URL standard does (what browsers and most
/// libraries accept: a password with a raw `@`, IPv6 literals, ports up to 65535). One
/// difference, by choice: the build leaves out IDNA's Unicode processing (its ICU4X
/// tables cost more than the size budget allows), so an `http(s)`, `ws(s)` or `ftp` host
/// written in Unicode is refused and its ASCII form (`xn--bcher-kva.example`) accepted. Three things that standard forgives are refused, because
/// the program that reads the secret may not forgive them: whitespace or a control
/// character anywhere (the standard silently drops a tab or a newline inside), a scheme not
/// followed by `//` (`http:host`, `http:\\host`), and a URL without a host
/// (`file:///etc/passwd`, `mailto:`). The crate's messages are fixed texts, never a part of
/// the input.
fn check_url(value: &str) -> Result<(), String> {
    if let Some(at) = value
        .chars()
        .position(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "not a valid URL: whitespace or control character at position {}",
            at + 1
        ));
    }
    let invalid = |why: &dyn fmt::Display| Err(format!("not a valid URL: {why}"));
    let url = match url::Url::parse(value) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => return invalid(&"expected scheme://host"),
        Err(e) => return invalid(&e),
    };
    // The scheme is ASCII and starts the value (no blank before it), so its length is the
    // same in the value as in the parsed URL.
    if !value
        .get(url.scheme().len()..)
        .is_some_and(|rest| rest.starts_with("://"))
    {
        return invalid(&"expected scheme://host");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return invalid(&"empty host");
    }
    Ok(())
}

/// Checks the canonical hyphenated UUID form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
fn check_uuid(value: &str) -> Result<(), String> {
    let b = value.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(())
    } else {
        Err("not a UUID (expected 8-4-4-4-12 hex digits)".to_owned())
    }
}

/// Checks for one JSON document. Only serde_json's line and column are reported.
fn check_json(value: &str) -> Result<(), String> {
    serde_json::from_str::<serde::de::IgnoredAny>(value)
        .map(|_| ())
        .map_err(|e| format!("not valid JSON (line {}, column {})", e.line(), e.column()))
}

/// Checks an optional `+`/`-` followed by ASCII digits, within `i64`.
fn check_integer(value: &str) -> Result<(), String> {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not an integer".to_owned());
    }
    value
        .parse::<i64>()
        .map(|_| ())
        .map_err(|_| "integer out of range (64-bit signed)".to_owned())
}

/// Checks ASCII digits (leading zeros allowed) with a value of 1 to 65535.
fn check_port(value: &str) -> Result<(), String> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a port number".to_owned());
    }
    match value.parse::<u16>() {
        Ok(port) if port >= 1 => Ok(()),
        _ => Err("port out of range (1-65535)".to_owned()),
    }
}

/// Checks a boolean word: true/false/yes/no/1/0 in lower case, Capitalised or UPPER case
/// (the YAML 1.2 core-schema convention; mixed case such as `tRUE` is refused).
fn check_bool(value: &str) -> Result<(), String> {
    const WORDS: [&str; 14] = [
        "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
        "1", "0",
    ];
    if WORDS.contains(&value) {
        Ok(())
    } else {
        Err("not a boolean (true/false/yes/no/1/0)".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test-only fixture keys (see tests/fixtures/keys/README.md).
    macro_rules! key {
        ($name:literal) => {
            include_str!(concat!("../tests/fixtures/keys/", $name))
        };
    }

    /// (bits, PKCS#1 private, PKCS#8 private, PKCS#1 public, SPKI public)
    const RSA_KEYS: [(u32, &str, &str, &str, &str); 4] = [
        (
            1024,
            key!("rsa1024.pkcs1.pem"),
            key!("rsa1024.pkcs8.pem"),
            key!("rsa1024.pkcs1-pub.pem"),
            key!("rsa1024.spki.pem"),
        ),
        (
            2048,
            key!("rsa2048.pkcs1.pem"),
            key!("rsa2048.pkcs8.pem"),
            key!("rsa2048.pkcs1-pub.pem"),
            key!("rsa2048.spki.pem"),
        ),
        (
            3072,
            key!("rsa3072.pkcs1.pem"),
            key!("rsa3072.pkcs8.pem"),
            key!("rsa3072.pkcs1-pub.pem"),
            key!("rsa3072.spki.pem"),
        ),
        (
            4096,
            key!("rsa4096.pkcs1.pem"),
            key!("rsa4096.pkcs8.pem"),
            key!("rsa4096.pkcs1-pub.pem"),
            key!("rsa4096.spki.pem"),
        ),
    ];
    const RSA_1025: &str = key!("rsa1025.pkcs8.pem");
    const EC_PKCS8: &str = key!("ec-p256.pkcs8.pem");
    const EC_SPKI: &str = key!("ec-p256.spki.pem");
    const EC_SEC1: &str = key!("ec-p256.sec1.pem");
    const EC_CERT: &str = key!("ec-p256.cert.pem");
    const ED25519: &str = key!("ed25519.pkcs8.pem");
    const ENCRYPTED_PKCS8: &str = key!("rsa2048.encrypted-pkcs8.pem");
    const ENCRYPTED_PKCS1: &str = key!("rsa2048.encrypted-pkcs1.pem");

    fn ok(format: Format, value: &str) -> Facts {
        match format.check(value) {
            Ok(facts) => facts,
            Err(e) => panic!("{format} rejected {value:?}: {e}"),
        }
    }

    fn err(format: Format, value: &str) -> String {
        match format.check(value) {
            Ok(facts) => panic!("{format} accepted {value:?}: {facts:?}"),
            Err(e) => e,
        }
    }

    fn decoded(len: usize) -> Facts {
        Facts {
            decoded_len: Some(len),
            key_bits: None,
        }
    }

    fn bits(bits: u32) -> Facts {
        Facts {
            decoded_len: None,
            key_bits: Some(bits),
        }
    }

    /// PEM-encodes `der` under `label`, wrapping the body at `width` characters.
    fn pem_wrapped(label: &str, der: &[u8], width: usize) -> String {
        let body = STANDARD.encode(der);
        let mut out = format!("-----BEGIN {label}-----\n");
        for chunk in body.as_bytes().chunks(width) {
            out.push_str(std::str::from_utf8(chunk).unwrap());
            out.push('\n');
        }
        out.push_str(&format!("-----END {label}-----\n"));
        out
    }

    fn pem(label: &str, der: &[u8]) -> String {
        pem_wrapped(label, der, 64)
    }

    /// The DER inside a single-block fixture.
    fn der_of(pem_text: &str) -> Vec<u8> {
        let blocks = parse_pem(pem_text).unwrap();
        blocks[0].der.to_vec()
    }

    // --- names and predicates -----------------------------------------------------------

    #[test]
    fn serde_names_match_name() {
        let expected = [
            "base64",
            "base64url",
            "hex",
            "pem",
            "rsa-private-key",
            "rsa-public-key",
            "url",
            "uuid",
            "json",
            "integer",
            "port",
            "bool",
        ];
        for (format, name) in Format::ALL.into_iter().zip(expected) {
            assert_eq!(format.name(), name);
            assert_eq!(format.to_string(), name);
            assert_eq!(Format::from_name(name), Some(format));
            assert!(Format::NAMES.contains(name));
        }
        for bad in ["base-64", "Base64", "rsa_private_key", "base64-url", ""] {
            assert_eq!(Format::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn predicates() {
        for format in Format::ALL {
            let name = format.name();
            assert_eq!(
                format.is_binary_encoding(),
                ["base64", "base64url", "hex"].contains(&name)
            );
            assert_eq!(format.is_rsa(), name.starts_with("rsa-"));
            assert_eq!(format.is_pem(), name == "pem" || name.starts_with("rsa-"));
        }
    }

    // --- binary encodings -------------------------------------------------------------

    #[test]
    fn base64_accepts_canonical_padded() {
        assert_eq!(ok(Format::Base64, ""), decoded(0));
        assert_eq!(ok(Format::Base64, "Zg=="), decoded(1));
        assert_eq!(ok(Format::Base64, "Zm8="), decoded(2));
        assert_eq!(ok(Format::Base64, "Zm9v"), decoded(3));
        assert_eq!(ok(Format::Base64, "aGVsbG8gd29ybGQ="), decoded(11));
        assert_eq!(ok(Format::Base64, "+/+/"), decoded(3));
        let key = STANDARD.encode([0xa5u8; 64]);
        assert_eq!(ok(Format::Base64, &key), decoded(64));
    }

    #[test]
    fn base64_rejects_bad_input() {
        assert_eq!(
            err(Format::Base64, "Zg"),
            "not valid base64: invalid padding"
        );
        assert_eq!(
            err(Format::Base64, "Zm8"),
            "not valid base64: invalid padding"
        );
        assert_eq!(
            err(Format::Base64, "Zh=="),
            "not valid base64: non-canonical last character at position 2"
        );
        assert_eq!(
            err(Format::Base64, "Zm9v!A=="),
            "not valid base64: invalid character at position 5"
        );
        assert!(err(Format::Base64, "-_-_").contains("invalid character at position 1"));
        assert!(err(Format::Base64, "Zm 9v").starts_with("not valid base64"));
        assert!(err(Format::Base64, "Zg==Zg==").starts_with("not valid base64"));
        assert!(err(Format::Base64, "Z").starts_with("not valid base64"));
        assert!(err(Format::Base64, "Zm9v\n").starts_with("not valid base64"));
    }

    #[test]
    fn base64url_padding_optional() {
        assert_eq!(ok(Format::Base64url, ""), decoded(0));
        assert_eq!(ok(Format::Base64url, "Zg"), decoded(1));
        assert_eq!(ok(Format::Base64url, "Zg=="), decoded(1));
        assert_eq!(ok(Format::Base64url, "Zg="), decoded(1)); // partial padding too
        assert_eq!(ok(Format::Base64url, "Zm8"), decoded(2));
        assert_eq!(ok(Format::Base64url, "-_-_"), decoded(3));
        assert_eq!(ok(Format::Base64url, "-_8"), decoded(2));
        let token = URL_SAFE_PAD_INDIFFERENT.encode([0xfbu8; 32]);
        assert_eq!(
            ok(Format::Base64url, token.trim_end_matches('=')),
            decoded(32)
        );
    }

    #[test]
    fn base64url_rejects_bad_input() {
        assert!(err(Format::Base64url, "+/+/").starts_with("not valid base64url: invalid char"));
        assert!(err(Format::Base64url, "Z").starts_with("not valid base64url"));
        assert!(err(Format::Base64url, "Zh").contains("non-canonical"));
        assert!(err(Format::Base64url, "Z===").starts_with("not valid base64url"));
        assert!(err(Format::Base64url, "Zg===").starts_with("not valid base64url"));
    }

    #[test]
    fn hex_accepts_either_case() {
        assert_eq!(ok(Format::Hex, ""), decoded(0));
        assert_eq!(ok(Format::Hex, "00ff"), decoded(2));
        assert_eq!(ok(Format::Hex, "DEADbeef"), decoded(4));
        assert_eq!(ok(Format::Hex, &"ab".repeat(32)), decoded(32));
    }

    #[test]
    fn hex_rejects_bad_input() {
        assert_eq!(err(Format::Hex, "abc"), "not valid hex: odd length");
        assert_eq!(
            err(Format::Hex, "0x00"),
            "not valid hex: invalid character at position 2"
        );
        assert_eq!(
            err(Format::Hex, "zz"),
            "not valid hex: invalid character at position 1"
        );
        assert!(err(Format::Hex, "ab cd").contains("position 3"));
        assert!(err(Format::Hex, "abé0").contains("position 3"));
    }

    // --- PEM --------------------------------------------------------------------------

    #[test]
    fn pem_accepts_fixtures() {
        for (_, a, b, c, d) in RSA_KEYS {
            for text in [a, b, c, d] {
                assert_eq!(ok(Format::Pem, text), Facts::default());
            }
        }
        for text in [EC_PKCS8, EC_SPKI, EC_SEC1, EC_CERT, ED25519] {
            ok(Format::Pem, text);
        }
        // RFC 1421 headers are well-formed PEM.
        ok(Format::Pem, ENCRYPTED_PKCS1);
        ok(Format::Pem, ENCRYPTED_PKCS8);
    }

    #[test]
    fn pem_accepts_several_blocks_crlf_and_any_width() {
        let bundle = format!("\n\n{EC_CERT}\n  \n{EC_SPKI}{EC_PKCS8}\n\n");
        ok(Format::Pem, &bundle);
        ok(Format::Pem, &EC_CERT.replace('\n', "\r\n"));
        ok(Format::Pem, EC_CERT.trim_end());
        ok(
            Format::Pem,
            &pem_wrapped("CERTIFICATE", &der_of(EC_CERT), 76),
        );
        ok(Format::Pem, &pem_wrapped("X", &[1, 2, 3, 4, 5, 6], 4));
        // RFC 7468 via pem-rfc7468: lines of at least 4 characters, all of one width.
        for width in 1..4 {
            let text = pem_wrapped("X", &[1, 2, 3, 4, 5, 6], width);
            assert!(err(Format::Pem, &text).starts_with("PEM block 1: body is not base64"));
        }
        // A body line longer than the first, and one shorter in the middle.
        let good = pem("CERTIFICATE", &der_of(EC_CERT));
        let mut lines: Vec<&str> = good.lines().collect();
        let (second, third) = (lines[2], lines[3]);
        let joined = format!("{second}{third}");
        lines[2] = &joined;
        lines.remove(3);
        assert!(err(Format::Pem, &lines.join("\n")).starts_with("PEM block 1: body is not base64"));
        let mut lines: Vec<&str> = good.lines().collect();
        lines[2] = &second[..10];
        assert!(err(Format::Pem, &lines.join("\n")).starts_with("PEM block 1: body is not base64"));
        ok(Format::Pem, &pem("TRUSTED CERTIFICATE", b"any bytes"));
        ok(Format::Pem, &pem("X509 CRL", b"any bytes"));
    }

    #[test]
    fn pem_rejects_malformed() {
        let der = der_of(EC_CERT);
        let good = pem("CERTIFICATE", &der);
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "not a PEM block: no BEGIN line"),
            ("  \n\n".into(), "not a PEM block: no BEGIN line"),
            (
                "hello".into(),
                "not a PEM block: line 1 is not a BEGIN line",
            ),
            (
                format!("junk\n{good}"),
                "not a PEM block: line 1 is not a BEGIN line",
            ),
            (
                format!("{good}junk"),
                "not a PEM block: line 12 is not a BEGIN line",
            ),
            (
                good.replace("-----END CERTIFICATE-----\n", ""),
                "PEM block 1 has no END line",
            ),
            (
                good.replace("END CERTIFICATE", "END CERTIFICATES"),
                "PEM block 1: END line does not match the BEGIN line",
            ),
            (
                format!("{good}{}", good.replace("END CERTIFICATE", "END X509 CRL")),
                "PEM block 2: END line does not match the BEGIN line",
            ),
            (
                "-----BEGIN X-----\n-----END X-----".into(),
                "PEM block 1 has an empty body",
            ),
            (
                "-----BEGIN X-----\nZm9v!\n-----END X-----".into(),
                "PEM block 1: body is not base64 in lines of one width (only the last may be shorter)",
            ),
            (
                "-----BEGIN X-----\nZg\n-----END X-----".into(),
                "PEM block 1: body is not base64 in lines of one width (only the last may be shorter)",
            ),
            (
                "-----BEGIN X-----\nZm9v\n\nZm9v\n-----END X-----".into(),
                "PEM block 1: body is not base64 in lines of one width (only the last may be shorter)",
            ),
            (
                "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\nZm9v\n-----END X-----".into(),
                "PEM block 1: headers are not followed by a blank line",
            ),
            (
                "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n".into(),
                "PEM block 1 has no END line",
            ),
            (
                "-----BEGIN  X-----\nZm9v\n-----END  X-----".into(),
                "PEM block 1: the BEGIN line's label is not an RFC 7468 label",
            ),
            (
                "-----BEGIN X--Y-----\nZm9v\n-----END X--Y-----".into(),
                "PEM block 1: the BEGIN line's label is not an RFC 7468 label",
            ),
            (
                "----BEGIN X-----\nZm9v\n----END X-----".into(),
                "not a PEM block: line 1 is not a BEGIN line",
            ),
            (
                "-----BEGIN X-----Zm9v-----END X-----".into(),
                "PEM block 1 has no END line",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(err(Format::Pem, &text), want, "{text:?}");
        }
    }

    #[test]
    fn pem_labels_follow_rfc7468() {
        for label in ["", "A", "RSA PRIVATE KEY", "X509 CRL", "!~"] {
            ok(Format::Pem, &pem(label, b"any bytes"));
        }
        // pem-rfc7468 is stricter than the RFC's grammar: no hyphen in a label.
        for label in [" A", "-A", "A-", "A  B", "A- B", "A-B C", "é"] {
            let text = pem(label, b"any bytes");
            assert!(
                err(Format::Pem, &text).starts_with("PEM block 1: "),
                "{label:?}"
            );
        }
    }

    // --- RSA keys -----------------------------------------------------------------------

    #[test]
    fn rsa_keys_report_modulus_bits() {
        for (n, pkcs1, pkcs8, pkcs1_pub, spki) in RSA_KEYS {
            assert_eq!(ok(Format::RsaPrivateKey, pkcs1), bits(n));
            assert_eq!(ok(Format::RsaPrivateKey, pkcs8), bits(n));
            assert_eq!(ok(Format::RsaPublicKey, pkcs1_pub), bits(n));
            assert_eq!(ok(Format::RsaPublicKey, spki), bits(n));
            // CRLF, other wrap widths and a missing final newline are all fine.
            assert_eq!(
                ok(Format::RsaPrivateKey, &pkcs8.replace('\n', "\r\n")),
                bits(n)
            );
            assert_eq!(ok(Format::RsaPrivateKey, pkcs1.trim_end()), bits(n));
            let rewrapped = pem_wrapped("PUBLIC KEY", &der_of(spki), 76);
            assert_eq!(ok(Format::RsaPublicKey, &rewrapped), bits(n));
        }
        assert_eq!(ok(Format::RsaPrivateKey, RSA_1025), bits(1025));
    }

    #[test]
    fn rsa_wrong_label() {
        let (_, pkcs1, pkcs8, pkcs1_pub, spki) = RSA_KEYS[0];
        let other_private = "PEM label is not RSA PRIVATE KEY or PRIVATE KEY";
        let other_public = "PEM label is not RSA PUBLIC KEY or PUBLIC KEY";
        let want_private = "a public key, expected a private key (RSA PRIVATE KEY or PRIVATE KEY)";
        let want_public = "a private key, expected a public key (RSA PUBLIC KEY or PUBLIC KEY)";
        assert_eq!(err(Format::RsaPrivateKey, EC_CERT), other_private);
        assert_eq!(err(Format::RsaPrivateKey, EC_SEC1), other_private);
        assert_eq!(err(Format::RsaPublicKey, EC_CERT), other_public);
        assert_eq!(err(Format::RsaPrivateKey, spki), want_private);
        assert_eq!(err(Format::RsaPrivateKey, pkcs1_pub), want_private);
        assert_eq!(err(Format::RsaPublicKey, pkcs1), want_public);
        assert_eq!(err(Format::RsaPublicKey, pkcs8), want_public);
        assert_eq!(err(Format::RsaPublicKey, ENCRYPTED_PKCS8), want_public);
    }

    #[test]
    fn rsa_rejects_other_algorithms() {
        let not_rsa = "not an RSA key (its algorithm is not rsaEncryption)";
        assert_eq!(err(Format::RsaPrivateKey, EC_PKCS8), not_rsa);
        assert_eq!(err(Format::RsaPublicKey, EC_SPKI), not_rsa);
        assert_eq!(err(Format::RsaPrivateKey, ED25519), not_rsa);
    }

    #[test]
    fn rsa_rejects_encrypted_keys_that_pem_accepts() {
        assert_eq!(
            err(Format::RsaPrivateKey, ENCRYPTED_PKCS8),
            "private key is encrypted (ENCRYPTED PRIVATE KEY)"
        );
        assert_eq!(
            err(Format::RsaPrivateKey, ENCRYPTED_PKCS1),
            "key is encrypted (Proc-Type: 4,ENCRYPTED)"
        );
        // Both are well-formed PEM: RFC 1421 headers are set aside, the body still checked.
        ok(Format::Pem, ENCRYPTED_PKCS8);
        ok(Format::Pem, ENCRYPTED_PKCS1);
        let broken = ENCRYPTED_PKCS1.replacen("\n\n", "\n\n!", 1);
        assert!(err(Format::Pem, &broken).starts_with("PEM block 1: body is not base64"));
    }

    #[test]
    fn rsa_needs_exactly_one_block() {
        let (_, pkcs1, _, _, spki) = RSA_KEYS[1];
        assert_eq!(
            err(Format::RsaPrivateKey, &format!("{pkcs1}{EC_CERT}")),
            "expected exactly one PEM block, found 2"
        );
        assert_eq!(
            err(Format::RsaPublicKey, &format!("{spki}\n{spki}")),
            "expected exactly one PEM block, found 2"
        );
        assert_eq!(
            err(Format::RsaPublicKey, ""),
            "not a PEM block: no BEGIN line"
        );
    }

    /// The DER of RSA_KEYS[1] (2048 bits): PKCS#1 private, PKCS#8, PKCS#1 public, SPKI.
    fn rsa2048_ders() -> [Vec<u8>; 4] {
        let (_, a, b, c, d) = RSA_KEYS[1];
        [der_of(a), der_of(b), der_of(c), der_of(d)]
    }

    #[test]
    fn pkcs1_and_pkcs8_bodies_must_match_their_labels() {
        let [pkcs1, pkcs8, pkcs1_pub, spki] = rsa2048_ders();
        let private = Format::RsaPrivateKey;
        let public = Format::RsaPublicKey;
        assert_eq!(ok(private, &pem("RSA PRIVATE KEY", &pkcs1)), bits(2048));
        assert_eq!(ok(private, &pem("PRIVATE KEY", &pkcs8)), bits(2048));
        assert_eq!(ok(public, &pem("RSA PUBLIC KEY", &pkcs1_pub)), bits(2048));
        assert_eq!(ok(public, &pem("PUBLIC KEY", &spki)), bits(2048));
        for (format, label, der) in [
            (private, "RSA PRIVATE KEY", &pkcs8),
            (private, "RSA PRIVATE KEY", &pkcs1_pub),
            (private, "PRIVATE KEY", &pkcs1),
            (private, "PRIVATE KEY", &spki),
            (public, "RSA PUBLIC KEY", &spki),
            (public, "RSA PUBLIC KEY", &pkcs1),
            (public, "PUBLIC KEY", &pkcs1_pub),
            (public, "PUBLIC KEY", &pkcs8),
        ] {
            let e = err(format, &pem(label, der));
            assert!(e.starts_with("malformed key DER: "), "{label}: {e}");
        }
    }

    #[test]
    fn rsa_rejects_truncated_and_garbage_der() {
        let [pkcs1, pkcs8, pkcs1_pub, spki] = rsa2048_ders();
        for (format, label, der) in [
            (Format::RsaPrivateKey, "RSA PRIVATE KEY", &pkcs1),
            (Format::RsaPrivateKey, "PRIVATE KEY", &pkcs8),
            (Format::RsaPublicKey, "RSA PUBLIC KEY", &pkcs1_pub),
            (Format::RsaPublicKey, "PUBLIC KEY", &spki),
        ] {
            for len in [1, 2, 3, 4, 10, 40, der.len() / 2, der.len() - 1] {
                let text = pem(label, &der[..len]);
                assert_eq!(
                    err(format, &text),
                    "malformed key DER: truncated",
                    "{label} cut to {len}"
                );
            }
            let mut longer = der.clone();
            longer.push(0);
            assert_eq!(
                err(format, &pem(label, &longer)),
                "malformed key DER: unexpected trailing data"
            );
            for garbage in [&b"junk"[..], &[0; 64], &[0xff; 64], &[0x30, 0x00]] {
                let e = err(format, &pem(label, garbage));
                assert!(e.starts_with("malformed key DER: "), "{label}: {e}");
            }
        }
    }

    /// A DER TLV with a short or long-form length (up to 0xffff bytes).
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len < 0x100 {
            out.extend([0x81, len as u8]);
        } else {
            out.extend([0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    /// Builds a PKCS#1 RSAPublicKey from raw INTEGER contents.
    fn rsa_public_der(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
        tlv(0x30, &[tlv(0x02, modulus), tlv(0x02, exponent)].concat())
    }

    #[test]
    fn rsa_modulus_bits_are_exact() {
        let check = |modulus: &[u8]| {
            Format::RsaPublicKey.check(&pem("RSA PUBLIC KEY", &rsa_public_der(modulus, &[1, 0, 1])))
        };
        let mut m2048 = vec![0x00, 0x80];
        m2048.resize(257, 0x11);
        assert_eq!(check(&m2048), Ok(bits(2048)));
        let mut m2047 = vec![0x40];
        m2047.resize(256, 0x11);
        assert_eq!(check(&m2047), Ok(bits(2047)));
        assert_eq!(check(&[0x01]), Ok(bits(1)));
        assert_eq!(check(&[0x7f]), Ok(bits(7)));
        assert_eq!(check(&[0x00, 0xff]), Ok(bits(8)));
        assert_eq!(check(&[0x00]), Err("malformed key: zero modulus".into()));
        for bad in [&[0x80][..], &[], &[0x00, 0x7f], &[0xff, 0x80]] {
            let e = check(bad).unwrap_err();
            assert!(e.starts_with("malformed key DER: "), "{bad:02x?}: {e}");
        }
    }

    #[test]
    fn der_is_strict() {
        let n = tlv(0x02, &[0x00, 0xc1, 0x23]);
        let e = tlv(0x02, &[1, 0, 1]);
        let ints = [n.clone(), e.clone()].concat();
        let check = |der: &[u8]| Format::RsaPublicKey.check(&pem("RSA PUBLIC KEY", der));
        assert_eq!(check(&tlv(0x30, &ints)), Ok(bits(16)));
        let len = ints.len() as u8;
        for bad in [
            [&[0x30, 0x80][..], &ints, &[0, 0]].concat(), // indefinite length
            [&[0x30, 0x81, len][..], &ints].concat(),     // long form for a short length
            [&[0x30, 0x82, 0x00, len][..], &ints].concat(), // leading zero length byte
            [&[0x30, 0x85, 0, 0, 0, 0, len][..], &ints].concat(), // five length bytes
            [&[0x31, len][..], &ints].concat(),           // SET, not SEQUENCE
            [&[0x3f, 0x81, 0x10, len][..], &ints].concat(), // high tag number form
            tlv(0x30, &[e.clone(), tlv(0x04, &[1])].concat()), // OCTET STRING, not INTEGER
            tlv(0x30, &n),                                // exponent missing
        ] {
            let e = check(&bad).unwrap_err();
            assert!(e.starts_with("malformed key DER: "), "{bad:02x?}: {e}");
        }
    }

    /// OID 1.3.6.1.4.1.424242.77777, an algorithm no key has and no message could name.
    const PLANTED_OID: &[u8] = &[
        0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x99, 0xf2, 0x32, 0x84, 0xdf, 0x51,
    ];

    #[test]
    fn labels_and_oids_never_reach_messages() {
        let [pkcs1, _, pkcs1_pub, spki] = rsa2048_ders();
        // A distinctive label, around bodies that decode and bodies that do not.
        let label = "ZQXJV PLANTED LABEL";
        let texts = [
            pem(label, &spki),
            pem(label, &pkcs1),
            pem(label, b"junk"),
            format!("-----BEGIN {label}-----\nZm9v!\n-----END {label}-----\n"),
            format!("-----BEGIN {label}-----\nZm9v\n-----END ZQXJV OTHER-----\n"),
            format!("-----BEGIN {label}-----\nProc-Type: 4,ENCRYPTED\nZm9v\n-----END {label}-----"),
            format!("-----BEGIN {label}-----\n-----END {label}-----\n"),
            format!("-----BEGIN {label}--\nZm9v\n-----END {label}-----\n"),
            format!("{}{}", pem(label, &spki), pem(label, &spki)),
        ];
        for text in &texts {
            for format in Format::ALL {
                if let Err(e) = format.check(text) {
                    for needle in ["ZQXJV", "PLANTED", "LABEL", "OTHER"] {
                        assert!(!e.contains(needle), "{format}: {e:?} names the label");
                    }
                }
            }
        }
        // A distinctive algorithm OID, around an RSA key, in PKCS#8 and in SPKI.
        let algorithm = tlv(0x30, &[PLANTED_OID, &[0x05, 0x00]].concat());
        let pkcs8 = tlv(
            0x30,
            &[&[0x02, 0x01, 0x00][..], &algorithm, &tlv(0x04, &pkcs1)].concat(),
        );
        let spki = tlv(
            0x30,
            &[
                algorithm.clone(),
                tlv(0x03, &[&[0][..], &pkcs1_pub].concat()),
            ]
            .concat(),
        );
        for (format, label, der) in [
            (Format::RsaPrivateKey, "PRIVATE KEY", &pkcs8),
            (Format::RsaPublicKey, "PUBLIC KEY", &spki),
        ] {
            let e = err(format, &pem(label, der));
            assert_eq!(e, "not an RSA key (its algorithm is not rsaEncryption)");
            for needle in ["424242", "77777", "1.3.6", "2b06", "99f2"] {
                assert!(!e.contains(needle), "{e:?}");
            }
        }
    }

    // --- text formats -------------------------------------------------------------------

    #[test]
    fn url_accepts_absolute_urls() {
        for url in [
            "https://example.com",
            "http://a",
            "https://example.com/",
            "http://user:pass@host:8080/path?q=1&r=2#frag",
            "postgres://app:s3cr%40t@db.internal:5432/app?sslmode=require",
            "postgres://app:p@ss@db:5432/app",
            "redis://[::1]:6379/0",
            "amqp://guest@[2001:db8::1]/vhost",
            "http://[::ffff:192.0.2.1]",
            // A Unicode host in its ASCII (xn--) form; Unicode in the path is encoded.
            "https://xn--bcher-kva.example/straße",
            // A host of a scheme the standard does not know is opaque: no IDNA.
            "postgres://app:pw@bücher.example/app",
            "s3://bucket-name",
            "git+ssh://git@github.com/x/y.git",
            "HTTP://EXAMPLE.COM:65535",
            "http://host?query",
            "http://host#frag",
            "http://127.0.0.1:1",
            "ws://host:0080",
            // The WHATWG standard reads an empty port as none.
            "http://host:",
        ] {
            assert_eq!(ok(Format::Url, url), Facts::default());
        }
    }

    #[test]
    fn url_rejects_bad_input() {
        let cases = [
            ("example.com", "expected scheme://host"),
            ("https//example.com", "expected scheme://host"),
            ("mailto:a@example.com", "expected scheme://host"),
            ("http:host", "expected scheme://host"),
            ("http:\\\\host", "expected scheme://host"),
            ("://host", "expected scheme://host"),
            ("1http://host", "expected scheme://host"),
            ("ht_tp://host", "expected scheme://host"),
            ("http://", "empty host"),
            ("file:///etc/passwd", "empty host"),
            ("http://user@/path", "empty host"),
            ("http://:80", "empty host"),
            ("postgres://:5432/app", "empty host"),
            ("http://host:65536", "invalid port number"),
            ("http://host:123456", "invalid port number"),
            ("http://host:8a", "invalid port number"),
            ("http://host:+80", "invalid port number"),
            ("http://host:80:90", "invalid port number"),
            ("postgres://db:99999/app", "invalid port number"),
            ("http://[::1", "invalid IPv6 address"),
            ("http://[]", "invalid IPv6 address"),
            ("http://[zz::1]", "invalid IPv6 address"),
            ("http://[1.2.3.4]", "invalid IPv6 address"),
            ("http://[::1]x", "invalid IPv6 address"),
            ("http://999.1.1.1", "invalid IPv4 address"),
            ("http://ho<st", "invalid international domain name"),
            // Unicode host names of http(s), ws(s) and ftp need IDNA's Unicode tables,
            // which this build leaves out (see the module's doc).
            (
                "https://bücher.example/",
                "invalid international domain name",
            ),
            ("postgres://ho<st/app", "invalid domain character"),
            ("", "expected scheme://host"),
        ];
        for (url, why) in cases {
            assert_eq!(
                err(Format::Url, url),
                format!("not a valid URL: {why}"),
                "{url:?}"
            );
        }
    }

    #[test]
    fn uuid_canonical_form_only() {
        for good in [
            "123e4567-e89b-12d3-a456-426614174000",
            "123E4567-E89B-12D3-A456-426614174000",
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
        ] {
            assert_eq!(ok(Format::Uuid, good), Facts::default());
        }
        for bad in [
            "",
            "123e4567e89b12d3a456426614174000",
            "{123e4567-e89b-12d3-a456-426614174000}",
            "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
            "123e4567-e89b-12d3-a456-42661417400",
            "123e4567-e89b-12d3-a456-4266141740000",
            "123e4567-e89b-12d3a-456-426614174000",
            "123e4567-e89b-12d3-a456-42661417400g",
            "123e4567-e89b-12d3-a456-42661417400é",
        ] {
            assert_eq!(
                err(Format::Uuid, bad),
                "not a UUID (expected 8-4-4-4-12 hex digits)"
            );
        }
    }

    #[test]
    fn json_documents() {
        for good in [
            "{}",
            "[]",
            "1",
            "-1.5e3",
            "\"text\"",
            "null",
            "true",
            " {\"a\": [1, 2, {\"b\": null}]}\n",
        ] {
            assert_eq!(ok(Format::Json, good), Facts::default());
        }
        assert_eq!(err(Format::Json, ""), "not valid JSON (line 1, column 0)");
        assert_eq!(err(Format::Json, "{"), "not valid JSON (line 1, column 1)");
        assert_eq!(
            err(Format::Json, "{'a':1}"),
            "not valid JSON (line 1, column 2)"
        );
        assert_eq!(
            err(Format::Json, "[1,]"),
            "not valid JSON (line 1, column 4)"
        );
        assert_eq!(
            err(Format::Json, "{}\n{}"),
            "not valid JSON (line 2, column 1)"
        );
        assert!(err(Format::Json, "{\"a\": tru}").starts_with("not valid JSON (line 1"));
        // Deep nesting hits serde_json's recursion limit instead of overflowing the stack.
        assert!(err(Format::Json, &"[".repeat(100_000)).starts_with("not valid JSON"));
    }

    #[test]
    fn integers() {
        for good in [
            "0",
            "-1",
            "+42",
            "007",
            "9223372036854775807",
            "-9223372036854775808",
        ] {
            assert_eq!(ok(Format::Integer, good), Facts::default());
        }
        for bad in [
            "", "+", "-", "1.0", "1e3", " 1", "1 ", "0x10", "--1", "1_000", "١٢",
        ] {
            assert_eq!(err(Format::Integer, bad), "not an integer", "{bad:?}");
        }
        for big in [
            "9223372036854775808",
            "-9223372036854775809",
            &"9".repeat(100),
        ] {
            assert_eq!(
                err(Format::Integer, big),
                "integer out of range (64-bit signed)"
            );
        }
    }

    #[test]
    fn ports() {
        for good in ["1", "80", "443", "08080", "65535"] {
            assert_eq!(ok(Format::Port, good), Facts::default());
        }
        for bad in ["", "-1", "+80", "80a", " 80", "8.0", "http"] {
            assert_eq!(err(Format::Port, bad), "not a port number", "{bad:?}");
        }
        for out in ["0", "00", "65536", "99999", "99999999999999999999999"] {
            assert_eq!(
                err(Format::Port, out),
                "port out of range (1-65535)",
                "{out:?}"
            );
        }
    }

    #[test]
    fn bools() {
        for good in [
            "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No",
            "NO", "1", "0",
        ] {
            assert_eq!(ok(Format::Bool, good), Facts::default());
        }
        for bad in [
            "", "tRUE", "yEs", "y", "n", "on", "off", "2", " true", "true\n", "t",
        ] {
            assert_eq!(
                err(Format::Bool, bad),
                "not a boolean (true/false/yes/no/1/0)",
                "{bad:?}"
            );
        }
    }

    // --- error hygiene and robustness ---------------------------------------------------

    /// Asserts that `error` contains no 4-character run of `secret`.
    fn assert_no_leak(format: Format, input: &str, secret: &str, error: &str) {
        let chars: Vec<char> = secret.chars().collect();
        assert!(
            chars.len() < 4 || !error.contains(secret),
            "{format}: error {error:?} contains the secret part of {input:?}"
        );
        for window in chars.windows(4) {
            let window: String = window.iter().collect();
            assert!(
                !error.contains(&window),
                "{format}: error {error:?} contains {window:?} from {input:?}"
            );
        }
    }

    #[test]
    fn errors_never_contain_the_value() {
        // (input, the part of it that must not show up in any error)
        let pem_body = |label: &str, body: &str| {
            format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
        };
        let cases: Vec<(String, &str)> = vec![
            ("Kq9!xZ7wPm@#".into(), "Kq9!xZ7wPm@#"),
            ("Kq9xZ7wPmTbQ".into(), "Kq9xZ7wPmTbQ"),
            ("Kq9xZ7wPmTb".into(), "Kq9xZ7wPmTb"),
            ("Kq9xZ7wPmTc=".into(), "Kq9xZ7wPmTc="),
            ("Kq9x Z7wPm".into(), "Kq9x Z7wPm"),
            ("Kq9xZ7wPm\u{0}".into(), "Kq9xZ7wPm"),
            ("ébKq9xZ7wé".into(), "ébKq9xZ7wé"),
            ("{\"Kq9xZ7wPm\": }".into(), "Kq9xZ7wPm"),
            ("{\"a\": \"Kq9x\u{1}Z7wPm\"}".into(), "Kq9x\u{1}Z7wPm"),
            ("[\"\\uZq9x\"]".into(), "Zq9x"),
            ("Kq9xZ7wPm://host".into(), "Kq9xZ7wPm"),
            ("htp:/Kq9xZ7wPm".into(), "htp:/Kq9xZ7wPm"),
            ("http://Kq9x Z7wPm".into(), "Kq9x Z7wPm"),
            ("http://user:Kq9xZ7wPm@".into(), "Kq9xZ7wPm"),
            ("http://host:Kq9x".into(), "Kq9x"),
            ("http://[Kq9x]".into(), "Kq9x"),
            ("99999Kq9x".into(), "99999Kq9x"),
            ("99999999999999999999999".into(), "99999999999999999999999"),
            ("Kq9xZ7wP-e89b-12d3-a456-426614174000".into(), "Kq9xZ7wP"),
            (pem_body("FOO", "Kq9x!Z7wPm"), "Kq9x!Z7wPm"),
            (
                pem_body("RSA PRIVATE KEY", "S3E5eFo3d1BtVGI="),
                "S3E5eFo3d1BtVGI=",
            ),
            (
                pem_body("PRIVATE KEY", "S3E5eFo3d1BtVGI="),
                "S3E5eFo3d1BtVGI=",
            ),
            (
                pem_body("PUBLIC KEY", "S3E5eFo3d1BtVGI="),
                "S3E5eFo3d1BtVGI=",
            ),
            (pem_body("RSA PUBLIC KEY", "Kq9xZ7wPm"), "Kq9xZ7wPm"),
            (
                "-----BEGIN Kq9x Z7wPm-----\nZm9v\n-----END Kq9x Z7wPn-----".into(),
                "Kq9x Z7wPm",
            ),
            ("-----BEGIN Kq9x!Z7wPm".into(), "Kq9x!Z7wPm"),
            ("Kq9xZ7wPm\n-----BEGIN X-----".into(), "Kq9xZ7wPm"),
        ];
        for (input, secret) in &cases {
            for format in Format::ALL {
                if let Err(error) = format.check(input) {
                    assert_no_leak(format, input, secret, &error);
                }
            }
        }
    }

    /// A tiny xorshift64 generator, for reproducible pseudo-random test input.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn garbage_never_panics_or_leaks() {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        const PIECES: &[&str] = &[
            "-----BEGIN ",
            "-----END ",
            "-----",
            "RSA PRIVATE KEY",
            "PUBLIC KEY",
            "\n",
            "\r\n",
            "://",
            "@",
            ":",
            "[",
            "]",
            "/",
            "=",
            "-",
            "+",
            "{",
            "}",
            "\"",
            ",",
            "Proc-Type: 4,ENCRYPTED",
            "MII",
            "Zg==",
            "true",
            "é",
            " ",
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for round in 0..3000 {
            let len = rng.below(200);
            let input = match round % 3 {
                // Arbitrary bytes, made UTF-8.
                0 => {
                    let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    String::from_utf8_lossy(&bytes).into_owned()
                }
                // Structure-shaped fragments.
                1 => (0..len / 4)
                    .map(|_| PIECES[rng.below(PIECES.len())])
                    .collect(),
                // Random alphanumerics: no error may repeat 8 of them in a row.
                _ => (0..len.max(8))
                    .map(|_| ALPHABET[rng.below(ALPHABET.len())] as char)
                    .collect(),
            };
            for format in Format::ALL {
                let result = format.check(&input);
                if round % 3 == 2
                    && let Err(error) = result
                {
                    let chars: Vec<char> = input.chars().collect();
                    for window in chars.windows(8) {
                        let window: String = window.iter().collect();
                        assert!(
                            !error.contains(&window),
                            "{format}: {error:?} leaks {input:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn mutated_keys_never_panic() {
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        let sources = [
            ("RSA PRIVATE KEY", der_of(RSA_KEYS[0].1)),
            ("PRIVATE KEY", der_of(RSA_KEYS[0].2)),
            ("RSA PUBLIC KEY", der_of(RSA_KEYS[0].3)),
            ("PUBLIC KEY", der_of(RSA_KEYS[0].4)),
            ("PRIVATE KEY", der_of(EC_PKCS8)),
        ];
        let mut accepted = 0;
        for round in 0..2000 {
            let (label, der) = &sources[round % sources.len()];
            let mut der = der.clone();
            match rng.below(3) {
                0 => der.truncate(rng.below(der.len() + 1)),
                1 => {
                    for _ in 0..=rng.below(4) {
                        let at = rng.below(der.len());
                        der[at] = rng.next() as u8;
                    }
                }
                _ => {
                    // Mutate the first few bytes, where tags and lengths live.
                    let at = rng.below(der.len().min(40));
                    der[at] ^= 1 << rng.below(8);
                }
            }
            let text = pem(label, &der);
            for format in [Format::RsaPrivateKey, Format::RsaPublicKey, Format::Pem] {
                if let Ok(facts) = format.check(&text)
                    && format.is_rsa()
                {
                    accepted += 1;
                    assert!(facts.key_bits.is_some_and(|b| b > 0));
                }
            }
        }
        // Most mutations break the key; some land in integer bytes and still parse.
        assert!(accepted > 0);
    }
}
