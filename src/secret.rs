//! The secret value type. It exists so that "never print a secret" holds by
//! construction: `Debug` and `Display` print `[redacted]`, there is no accessor that
//! returns an owned copy, and the bytes are zeroed when the value is dropped.

use std::fmt;
use zeroize::Zeroizing;

/// A secret's value: valid UTF-8 without NUL (checked when it is made), zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value that resolution already checked for UTF-8 and NUL.
    pub fn new(value: String) -> Self {
        Secret(Zeroizing::new(value))
    }

    /// Checks that bytes are UTF-8 without NUL and makes them a secret
    /// without copying; on failure the bytes are zeroed with their wrapper. Every
    /// source (files, variables, remote stores) makes its values here.
    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Result<Secret, &'static str> {
        if bytes.contains(&0) {
            return Err("contains a NUL byte");
        }
        let mut bytes = bytes;
        let owned = std::mem::take(&mut *bytes);
        match String::from_utf8(owned) {
            Ok(s) => Ok(Secret::new(s)),
            Err(e) => {
                // Put the bytes back so the zeroizing wrapper clears them.
                *bytes = e.into_bytes();
                Err("not valid UTF-8")
            }
        }
    }

    /// The value, for validation and injection only. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What a remote store (`aws`, `vault`) said about one location: the one type the
/// stores and `resolve` share, kept here so that neither imports the other.
#[derive(Debug)]
pub enum Fetched {
    Value(Secret),
    /// The store answered that there is no such secret (or key): try the next source.
    NotFound(String),
    /// The store could not be asked, or refused; the text names store and endpoint.
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_must_be_utf8_without_nul() {
        assert!(Secret::from_bytes(Zeroizing::new(b"ok".to_vec())).is_ok());
        assert_eq!(
            Secret::from_bytes(Zeroizing::new(b"a\0b".to_vec())).unwrap_err(),
            "contains a NUL byte"
        );
        assert_eq!(
            Secret::from_bytes(Zeroizing::new(vec![0xff, 0xfe])).unwrap_err(),
            "not valid UTF-8"
        );
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("hunter2-very-secret".into());
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&s)), "Some([redacted])");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }
}
