//! Value format checkers (SPEC §4.2).
//!
//! A secret may declare a [`Format`]; [`Format::check`] verifies the value and, on success,
//! returns the [`Facts`] that later rules need: the decoded length of a binary encoding
//! (rule `decoded_bytes`) and the modulus size of an RSA key (rule `min_key_bits`).
//!
//! Error strings are short lower-case reasons. They never contain the value or any part of
//! it, because they end up in logs: only fixed text, numbers (positions, line numbers,
//! counts), the label of a well-formed PEM block, or an algorithm OID.
//!
//! Only base64 (`base64` crate) and JSON (`serde_json`) come from libraries. The rest is
//! small and hand-written: the URL check avoids the `url` crate (which pulls in IDNA/ICU
//! tables), and the PEM and DER readers are strict parsers that never panic, index only
//! through checked accessors and reject indefinite or non-minimal lengths. Decoded secret
//! bytes live in [`Zeroizing`] buffers, so they are wiped when dropped.

use std::fmt;

use base64::Engine as _;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_PAD_INDIFFERENT};
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

/// One decoded PEM block.
struct PemBlock<'a> {
    /// The label of the BEGIN and END lines (`RSA PRIVATE KEY`, ...).
    label: &'a str,
    /// An RFC 1421 `Proc-Type: 4,ENCRYPTED` header was present (legacy OpenSSL encryption).
    encrypted: bool,
    /// The decoded body.
    der: Zeroizing<Vec<u8>>,
}

/// Parses one or more PEM blocks separated and surrounded only by whitespace.
///
/// Each block is a `-----BEGIN LABEL-----` line, optional RFC 1421 headers (`Name: value`
/// lines ended by a blank line), a non-empty body of standard padded base64 wrapped at any
/// width, and an `-----END LABEL-----` line with the same label. Lines may end in LF or
/// CRLF and may carry leading or trailing spaces; blank lines inside a body are refused.
fn parse_pem(text: &str) -> Result<Vec<PemBlock<'_>>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0; // index of the next line to read; after `i += 1` it is the 1-based number
    while let Some(line) = lines.get(i) {
        i += 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let n = blocks.len() + 1;
        let label = line
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .filter(|label| is_pem_label(label))
            .ok_or_else(|| format!("not a PEM block: line {i} is not a BEGIN line"))?;
        let no_end = || format!("PEM block {n} has no END line");

        // Optional RFC 1421 headers: base64 never contains ':', so a colon marks them.
        let mut encrypted = false;
        if lines.get(i).is_some_and(|l| l.contains(':')) {
            loop {
                let header = lines.get(i).ok_or_else(no_end)?.trim();
                i += 1;
                if header.is_empty() {
                    break;
                }
                if header.starts_with("-----") {
                    return Err(format!(
                        "PEM block {n}: headers are not followed by a blank line"
                    ));
                }
                if header.starts_with("Proc-Type:") && header.contains("ENCRYPTED") {
                    encrypted = true;
                }
            }
        }

        // Capacity fixed up front: pushing never reallocates and strands a copy.
        let mut body = Zeroizing::new(String::with_capacity(text.len()));
        loop {
            let line = lines.get(i).ok_or_else(no_end)?.trim();
            i += 1;
            if let Some(rest) = line.strip_prefix("-----END ") {
                if rest.strip_suffix("-----") != Some(label) {
                    return Err(format!(
                        "PEM block {n}: END line does not match the BEGIN label"
                    ));
                }
                break;
            }
            if line.is_empty() {
                return Err(format!("PEM block {n}: blank line {i} inside the body"));
            }
            body.push_str(line);
        }
        if body.is_empty() {
            return Err(format!("PEM block {n} has an empty body"));
        }
        let der = decode_base64(body.as_bytes(), &STANDARD)
            .map_err(|_| format!("PEM block {n}: body is not valid base64"))?;
        blocks.push(PemBlock {
            label,
            encrypted,
            der,
        });
    }
    if blocks.is_empty() {
        return Err("not a PEM block: no BEGIN line".to_owned());
    }
    Ok(blocks)
}

/// True when `label` follows RFC 7468: printable ASCII, no leading, trailing or doubled
/// space or hyphen. (Empty is allowed by the RFC.)
fn is_pem_label(label: &str) -> bool {
    let b = label.as_bytes();
    let sep = |c: &u8| *c == b' ' || *c == b'-';
    b.iter().all(|c| (0x20..=0x7e).contains(c))
        && !b.first().is_some_and(sep)
        && !b.last().is_some_and(sep)
        && !b.windows(2).any(|w| w.iter().all(sep))
}

/// A PEM label quoted for an error message; absurdly long ones are not repeated.
fn quoted_label(label: &str) -> String {
    if label.len() <= 64 {
        format!("\"{label}\"")
    } else {
        "a label too long to show".to_owned()
    }
}

// ---------------------------------------------------------------------------------------
// RSA keys

/// Checks an RSA key in PEM and returns its modulus size in bits.
///
/// Exactly one PEM block is expected. `private` selects the labels accepted:
/// `RSA PRIVATE KEY` (PKCS#1) or `PRIVATE KEY` (PKCS#8), else `RSA PUBLIC KEY` (PKCS#1) or
/// `PUBLIC KEY` (SPKI). The wrapped forms must name rsaEncryption (1.2.840.113549.1.1.1).
fn rsa_key_bits(value: &str, private: bool) -> Result<u32, String> {
    let blocks = parse_pem(value)?;
    let [block] = blocks.as_slice() else {
        return Err(format!(
            "expected exactly one PEM block, found {}",
            blocks.len()
        ));
    };
    if block.label == "ENCRYPTED PRIVATE KEY" && private {
        return Err("private key is encrypted (ENCRYPTED PRIVATE KEY)".to_owned());
    }
    if block.encrypted {
        return Err("key is encrypted (Proc-Type: 4,ENCRYPTED)".to_owned());
    }
    let der = block.der.as_slice();
    let modulus = match (block.label, private) {
        ("RSA PRIVATE KEY", true) => pkcs1_private_modulus(der)?,
        ("PRIVATE KEY", true) => pkcs8_modulus(der)?,
        ("RSA PUBLIC KEY", false) => pkcs1_public_modulus(der)?,
        ("PUBLIC KEY", false) => spki_modulus(der)?,
        (other, true) => {
            return Err(format!(
                "PEM label is {}, expected RSA PRIVATE KEY or PRIVATE KEY",
                quoted_label(other)
            ));
        }
        (other, false) => {
            return Err(format!(
                "PEM label is {}, expected RSA PUBLIC KEY or PUBLIC KEY",
                quoted_label(other)
            ));
        }
    };
    Ok(modulus_bits(modulus)?)
}

/// DER tags used by the key structures.
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
/// PKCS#8 v2 (RFC 5958) optional fields: `[0] attributes`, `[1] publicKey`.
const PKCS8_ATTRIBUTES: u8 = 0xa0;
const PKCS8_PUBLIC_KEY: u8 = 0x81;

/// The content bytes of OID 1.2.840.113549.1.1.1 (rsaEncryption).
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A strict reader of DER TLVs over a byte slice.
///
/// Only low-tag-number tags and definite, minimally encoded lengths of up to four bytes
/// are accepted; every access is bounds-checked, so no input can make it panic.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// Parses `bytes` as exactly one TLV with tag `tag` and returns a reader over its contents.
    fn only(bytes: &'a [u8], tag: u8) -> Result<Der<'a>, &'static str> {
        let mut outer = Der(bytes);
        let inner = outer.read(tag)?;
        outer.finish()?;
        Ok(Der(inner))
    }

    /// Reads the next TLV, returning its tag and contents.
    fn read_any(&mut self) -> Result<(u8, &'a [u8]), &'static str> {
        const TRUNCATED: &str = "malformed key DER: truncated";
        let (&tag, rest) = self.0.split_first().ok_or(TRUNCATED)?;
        if tag & 0x1f == 0x1f {
            return Err("malformed key DER: unsupported tag");
        }
        let (&first, rest) = rest.split_first().ok_or(TRUNCATED)?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err("malformed key DER: unsupported length");
            }
            let (bytes, rest) = rest.split_at_checked(count).ok_or(TRUNCATED)?;
            let len = bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
            if bytes.first() == Some(&0) || len < 0x80 {
                return Err("malformed key DER: non-minimal length");
            }
            let len = usize::try_from(len).map_err(|_| TRUNCATED)?;
            (len, rest)
        };
        let (content, rest) = rest.split_at_checked(len).ok_or(TRUNCATED)?;
        self.0 = rest;
        Ok((tag, content))
    }

    /// Reads the next TLV, which must have tag `tag`, and returns its contents.
    fn read(&mut self, tag: u8) -> Result<&'a [u8], &'static str> {
        match self.read_any()? {
            (t, content) if t == tag => Ok(content),
            _ => Err("malformed key DER: unexpected field"),
        }
    }

    /// Reads a minimally encoded INTEGER and returns its content bytes.
    fn integer(&mut self) -> Result<&'a [u8], &'static str> {
        let content = self.read(INTEGER)?;
        match content {
            [] => Err("malformed key DER: empty INTEGER"),
            [0x00, next, ..] if *next < 0x80 => Err("malformed key DER: non-minimal INTEGER"),
            [0xff, next, ..] if *next >= 0x80 => Err("malformed key DER: non-minimal INTEGER"),
            _ => Ok(content),
        }
    }

    /// Succeeds when nothing is left to read.
    fn finish(self) -> Result<(), &'static str> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err("malformed key DER: unexpected trailing data")
        }
    }
}

/// The modulus of a PKCS#1 RSAPrivateKey (RFC 8017 A.1.2):
/// `SEQUENCE { version, n, e, d, p, q, dP, dQ, qInv, otherPrimeInfos OPTIONAL }`.
fn pkcs1_private_modulus(der: &[u8]) -> Result<&[u8], &'static str> {
    let mut key = Der::only(der, SEQUENCE)?;
    let version = key.integer()?;
    if version != [0] && version != [1] {
        return Err("unsupported RSA private key version");
    }
    let modulus = key.integer()?;
    for _ in 0..7 {
        key.integer()?;
    }
    if version == [1] && !key.0.is_empty() {
        key.read(SEQUENCE)?; // otherPrimeInfos of a multi-prime key
    }
    key.finish()?;
    Ok(modulus)
}

/// The modulus of a PKCS#1 RSAPublicKey (RFC 8017 A.1.1): `SEQUENCE { n, e }`.
fn pkcs1_public_modulus(der: &[u8]) -> Result<&[u8], &'static str> {
    let mut key = Der::only(der, SEQUENCE)?;
    let modulus = key.integer()?;
    key.integer()?;
    key.finish()?;
    Ok(modulus)
}

/// The modulus inside a PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5208, RFC 5958):
/// `SEQUENCE { version, AlgorithmIdentifier, OCTET STRING { RSAPrivateKey }, [0], [1] }`.
fn pkcs8_modulus(der: &[u8]) -> Result<&[u8], String> {
    let mut info = Der::only(der, SEQUENCE)?;
    let version = info.integer()?;
    if version != [0] && version != [1] {
        return Err("unsupported PKCS#8 version".to_owned());
    }
    expect_rsa_algorithm(&mut info)?;
    let private_key = info.read(OCTET_STRING)?;
    while !info.0.is_empty() {
        let (tag, _) = info.read_any()?;
        if tag != PKCS8_ATTRIBUTES && tag != PKCS8_PUBLIC_KEY {
            return Err("malformed key DER: unexpected field".to_owned());
        }
    }
    Ok(pkcs1_private_modulus(private_key)?)
}

/// The modulus inside a SubjectPublicKeyInfo (RFC 5280):
/// `SEQUENCE { AlgorithmIdentifier, BIT STRING { RSAPublicKey } }`.
fn spki_modulus(der: &[u8]) -> Result<&[u8], String> {
    let mut info = Der::only(der, SEQUENCE)?;
    expect_rsa_algorithm(&mut info)?;
    let bits = info.read(BIT_STRING)?;
    info.finish()?;
    let [0, key @ ..] = bits else {
        return Err("malformed key DER: public key BIT STRING is not whole bytes".to_owned());
    };
    Ok(pkcs1_public_modulus(key)?)
}

/// Reads an AlgorithmIdentifier and requires rsaEncryption with NULL or absent parameters.
fn expect_rsa_algorithm(der: &mut Der<'_>) -> Result<(), String> {
    let mut algorithm = Der(der.read(SEQUENCE)?);
    let oid = algorithm.read(OID)?;
    if oid != RSA_ENCRYPTION {
        return Err(format!("not an RSA key (algorithm {})", describe_oid(oid)));
    }
    if !algorithm.0.is_empty() && !algorithm.read(NULL)?.is_empty() {
        return Err("malformed key DER: rsaEncryption parameters are not NULL".to_owned());
    }
    Ok(algorithm.finish()?)
}

/// Describes an algorithm OID for an error message: a name when well known, and the dotted
/// form. Long or malformed OIDs are not shown (they would only be decoded key bytes).
fn describe_oid(oid: &[u8]) -> String {
    let Some(dotted) = oid_to_dotted(oid).filter(|_| oid.len() <= 16) else {
        return "is an unrecognised OID".to_owned();
    };
    let name = match dotted.as_str() {
        "1.2.840.10045.2.1" => "EC ",
        "1.2.840.10040.4.1" => "DSA ",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS ",
        "1.3.101.110" => "X25519 ",
        "1.3.101.111" => "X448 ",
        "1.3.101.112" => "Ed25519 ",
        "1.3.101.113" => "Ed448 ",
        _ => "",
    };
    format!("{name}OID {dotted}")
}

/// Decodes DER OID content bytes to dotted-decimal form; `None` when malformed.
fn oid_to_dotted(oid: &[u8]) -> Option<String> {
    use std::fmt::Write as _;
    if oid.last().is_none_or(|b| b & 0x80 != 0) {
        return None;
    }
    let mut out = String::new();
    let mut arc: u64 = 0;
    let mut at_start = true; // at the first byte of an arc
    for &b in oid {
        if at_start && b == 0x80 {
            return None; // non-minimal arc encoding
        }
        arc = arc.checked_mul(128)? | u64::from(b & 0x7f);
        at_start = b & 0x80 == 0;
        if at_start {
            if out.is_empty() {
                let first = arc.min(80) / 40; // the first byte packs arcs 1 and 2
                let _ = write!(out, "{first}.{}", arc - first * 40);
            } else {
                let _ = write!(out, ".{arc}");
            }
            arc = 0;
        }
    }
    Some(out)
}

/// Size in bits of a positive modulus given as minimal DER INTEGER content: a leading zero
/// byte is not counted, the top byte counts only up to its highest set bit.
fn modulus_bits(content: &[u8]) -> Result<u32, &'static str> {
    if content.first().is_some_and(|b| b & 0x80 != 0) {
        return Err("malformed key: negative modulus");
    }
    let magnitude = content.strip_prefix(&[0]).unwrap_or(content);
    let Some(&top) = magnitude.first() else {
        return Err("malformed key: zero modulus");
    };
    let bits = (magnitude.len() as u64 - 1) * 8 + u64::from(8 - top.leading_zeros());
    u32::try_from(bits).map_err(|_| "malformed key: modulus too large")
}

// ---------------------------------------------------------------------------------------
// Text formats

/// Checks an absolute URL: `scheme://[userinfo@]host[:port][/path][?query][#fragment]`.
///
/// The scheme is `[A-Za-z][A-Za-z0-9+.-]*`. The host is non-empty: either a bracketed IPv6
/// literal (hex digits, `:` and `.`; no zone ID) or RFC 3986 reg-name characters (letters,
/// digits, `-._~%!$&'()*+,;=`) plus any non-ASCII character (internationalised names). A
/// port is one or more digits with a value of at most 65535. The userinfo ends at the last
/// `@` of the authority, so a password with a raw `@` is tolerated. Path, query and
/// fragment are not examined beyond the rule that no whitespace or control character may
/// appear anywhere.
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
    let invalid = |why: &str| Err(format!("not a valid URL: {why}"));
    let Some((scheme, rest)) = value.split_once("://") else {
        return invalid("expected scheme://host");
    };
    let mut scheme_chars = scheme.chars();
    if !scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return invalid("invalid scheme");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let Some((address, after)) = bracketed.split_once(']') else {
            return invalid("unclosed IPv6 host");
        };
        if !address.contains(':')
            || !address
                .chars()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'))
        {
            return invalid("invalid IPv6 host");
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return invalid("unexpected text after IPv6 host"),
            },
        };
        (address, port)
    } else {
        let (host, port) = match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
        let reg_name_char =
            |c: char| !c.is_ascii() || c.is_ascii_alphanumeric() || "-._~%!$&'()*+,;=".contains(c);
        if !host.chars().all(reg_name_char) {
            return invalid("invalid character in host");
        }
        (host, port)
    };
    if host.is_empty() {
        return invalid("empty host");
    }
    // (`u16::from_str` alone would also take a leading `+`.)
    if let Some(port) = port
        && (port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err())
    {
        return invalid("invalid port");
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
        ok(Format::Pem, &pem_wrapped("X", &[1, 2, 3], 1));
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
                "PEM block 1: END line does not match the BEGIN label",
            ),
            (
                format!("{good}{}", good.replace("END CERTIFICATE", "END X509 CRL")),
                "PEM block 2: END line does not match the BEGIN label",
            ),
            (
                "-----BEGIN X-----\n-----END X-----".into(),
                "PEM block 1 has an empty body",
            ),
            (
                "-----BEGIN X-----\nZm9v!\n-----END X-----".into(),
                "PEM block 1: body is not valid base64",
            ),
            (
                "-----BEGIN X-----\nZg\n-----END X-----".into(),
                "PEM block 1: body is not valid base64",
            ),
            (
                "-----BEGIN X-----\nZm9v\n\nZm9v\n-----END X-----".into(),
                "PEM block 1: blank line 3 inside the body",
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
                "not a PEM block: line 1 is not a BEGIN line",
            ),
            (
                "-----BEGIN X--Y-----\nZm9v\n-----END X--Y-----".into(),
                "not a PEM block: line 1 is not a BEGIN line",
            ),
            (
                "----BEGIN X-----\nZm9v\n----END X-----".into(),
                "not a PEM block: line 1 is not a BEGIN line",
            ),
            (
                "-----BEGIN X-----Zm9v-----END X-----".into(),
                "not a PEM block: line 1 is not a BEGIN line",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(err(Format::Pem, &text), want, "{text:?}");
        }
    }

    #[test]
    fn pem_labels_follow_rfc7468() {
        for label in ["", "A", "RSA PRIVATE KEY", "X509 CRL", "A-B C", "!~"] {
            assert!(is_pem_label(label), "{label:?}");
        }
        for label in [" A", "A ", "-A", "A-", "A  B", "A- B", "A\tB", "é"] {
            assert!(!is_pem_label(label), "{label:?}");
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
        let want_private = "expected RSA PRIVATE KEY or PRIVATE KEY";
        let want_public = "expected RSA PUBLIC KEY or PUBLIC KEY";
        assert_eq!(
            err(Format::RsaPrivateKey, EC_CERT),
            format!("PEM label is \"CERTIFICATE\", {want_private}")
        );
        assert_eq!(
            err(Format::RsaPrivateKey, EC_SEC1),
            format!("PEM label is \"EC PRIVATE KEY\", {want_private}")
        );
        assert_eq!(
            err(Format::RsaPrivateKey, spki),
            format!("PEM label is \"PUBLIC KEY\", {want_private}")
        );
        assert_eq!(
            err(Format::RsaPrivateKey, pkcs1_pub),
            format!("PEM label is \"RSA PUBLIC KEY\", {want_private}")
        );
        assert_eq!(
            err(Format::RsaPublicKey, pkcs1),
            format!("PEM label is \"RSA PRIVATE KEY\", {want_public}")
        );
        assert_eq!(
            err(Format::RsaPublicKey, pkcs8),
            format!("PEM label is \"PRIVATE KEY\", {want_public}")
        );
        let long = pem(&"A".repeat(100), b"x");
        assert!(err(Format::RsaPublicKey, &long).contains("a label too long to show"));
    }

    #[test]
    fn rsa_rejects_other_algorithms() {
        assert_eq!(
            err(Format::RsaPrivateKey, EC_PKCS8),
            "not an RSA key (algorithm EC OID 1.2.840.10045.2.1)"
        );
        assert_eq!(
            err(Format::RsaPublicKey, EC_SPKI),
            "not an RSA key (algorithm EC OID 1.2.840.10045.2.1)"
        );
        assert_eq!(
            err(Format::RsaPrivateKey, ED25519),
            "not an RSA key (algorithm Ed25519 OID 1.3.101.112)"
        );
    }

    #[test]
    fn rsa_rejects_encrypted_keys() {
        assert_eq!(
            err(Format::RsaPrivateKey, ENCRYPTED_PKCS8),
            "private key is encrypted (ENCRYPTED PRIVATE KEY)"
        );
        assert_eq!(
            err(Format::RsaPrivateKey, ENCRYPTED_PKCS1),
            "key is encrypted (Proc-Type: 4,ENCRYPTED)"
        );
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

    #[test]
    fn rsa_rejects_malformed_der() {
        let der = der_of(RSA_KEYS[1].1);
        // Truncated, extended and garbage bodies.
        let truncated = pem("RSA PRIVATE KEY", &der[..der.len() - 1]);
        assert_eq!(
            err(Format::RsaPrivateKey, &truncated),
            "malformed key DER: truncated"
        );
        let mut longer = der.clone();
        longer.push(0);
        assert_eq!(
            err(Format::RsaPrivateKey, &pem("RSA PRIVATE KEY", &longer)),
            "malformed key DER: unexpected trailing data"
        );
        assert!(
            err(Format::RsaPrivateKey, &pem("RSA PRIVATE KEY", b"junk"))
                .starts_with("malformed key")
        );
        // A public key body under a private label.
        let public = der_of(RSA_KEYS[1].3);
        assert_eq!(
            err(Format::RsaPrivateKey, &pem("RSA PRIVATE KEY", &public)),
            "unsupported RSA private key version"
        );
        // An SPKI body under the PKCS#1 public label and the reverse.
        let spki = der_of(RSA_KEYS[1].4);
        assert!(
            err(Format::RsaPublicKey, &pem("RSA PUBLIC KEY", &spki)).starts_with("malformed key")
        );
        assert!(
            err(Format::RsaPublicKey, &pem("PUBLIC KEY", &public)).starts_with("malformed key")
        );
    }

    /// Builds a PKCS#1 RSAPublicKey from raw INTEGER contents.
    fn rsa_public_der(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
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
        let mut body = tlv(INTEGER, modulus);
        body.extend(tlv(INTEGER, exponent));
        tlv(SEQUENCE, &body)
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
        assert_eq!(
            check(&[0x80]),
            Err("malformed key: negative modulus".into())
        );
        assert_eq!(check(&[]), Err("malformed key DER: empty INTEGER".into()));
        assert_eq!(
            check(&[0x00, 0x7f]),
            Err("malformed key DER: non-minimal INTEGER".into())
        );
        assert_eq!(
            check(&[0xff, 0x80]),
            Err("malformed key DER: non-minimal INTEGER".into())
        );
    }

    #[test]
    fn der_reader_is_strict() {
        let read = |bytes: &[u8]| Der(bytes).read_any().map(|(t, c)| (t, c.len()));
        assert_eq!(read(&[0x30, 0x00]), Ok((0x30, 0)));
        assert_eq!(
            read(&[0x04, 0x81, 0x80]).unwrap_err(),
            "malformed key DER: truncated"
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.resize(3 + 0x80, 0);
        assert_eq!(read(&long), Ok((0x04, 0x80)));
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x01],
            &[0x30, 0x80, 0x00, 0x00],             // indefinite length
            &[0x30, 0x81, 0x05, 0, 0, 0, 0, 0],    // short length in long form
            &[0x30, 0x82, 0x00, 0x90],             // leading zero length byte
            &[0x30, 0x85, 1, 0, 0, 0, 0],          // five length bytes
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], // huge length
            &[0x30, 0xff],                         // reserved length
            &[0x1f, 0x81, 0x00],                   // high tag number form
        ] {
            assert!(read(bad).is_err(), "{bad:02x?}");
        }
        assert!(Der(&[0x02, 0x01, 0x05]).read(0x30).is_err());
        assert!(Der::only(&[0x30, 0x00, 0x00], 0x30).is_err());
    }

    #[test]
    fn oid_decoding() {
        assert_eq!(
            oid_to_dotted(RSA_ENCRYPTION).unwrap(),
            "1.2.840.113549.1.1.1"
        );
        assert_eq!(oid_to_dotted(&[0x2b, 0x65, 0x70]).unwrap(), "1.3.101.112");
        assert_eq!(oid_to_dotted(&[0x88, 0x37, 0x03]).unwrap(), "2.999.3");
        assert_eq!(oid_to_dotted(&[0x00]).unwrap(), "0.0");
        assert_eq!(oid_to_dotted(&[]), None);
        assert_eq!(oid_to_dotted(&[0x2a, 0x86]), None); // unterminated arc
        assert_eq!(oid_to_dotted(&[0x2a, 0x80, 0x01]), None); // non-minimal arc
        assert_eq!(oid_to_dotted(&[0xff; 12]), None);
        let mut overflow = vec![0x2a];
        overflow.extend([0xff; 10]);
        overflow.push(0x7f);
        assert_eq!(oid_to_dotted(&overflow), None);
        assert_eq!(describe_oid(&[0x2a; 17]), "is an unrecognised OID");
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
            "https://bücher.example/straße",
            "s3://bucket-name",
            "git+ssh://git@github.com/x/y.git",
            "HTTP://EXAMPLE.COM:65535",
            "http://host?query",
            "http://host#frag",
            "http://127.0.0.1:1",
            "ws://host:0080",
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
            ("://host", "invalid scheme"),
            ("1http://host", "invalid scheme"),
            ("ht_tp://host", "invalid scheme"),
            ("http://", "empty host"),
            ("file:///etc/passwd", "empty host"),
            ("http://user@/path", "empty host"),
            ("http://:80", "empty host"),
            ("http://host:", "invalid port"),
            ("http://host:65536", "invalid port"),
            ("http://host:123456", "invalid port"),
            ("http://host:8a", "invalid port"),
            ("http://host:+80", "invalid port"),
            ("http://host:80:90", "invalid port"),
            ("http://[::1", "unclosed IPv6 host"),
            ("http://[]", "invalid IPv6 host"),
            ("http://[zz::1]", "invalid IPv6 host"),
            ("http://[1.2.3.4]", "invalid IPv6 host"),
            ("http://[::1]x", "unexpected text after IPv6 host"),
            ("http://ho<st", "invalid character in host"),
            ("http://ho\"st", "invalid character in host"),
            (
                "http://ho st",
                "whitespace or control character at position 10",
            ),
            (
                "http://host/a b",
                "whitespace or control character at position 14",
            ),
            (
                "http://host\n",
                "whitespace or control character at position 12",
            ),
            (
                "http://h\u{7f}",
                "whitespace or control character at position 9",
            ),
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
