//! How sesame shows, in a message, text it did not write itself: paths (from `X_FILE`,
//! `--secrets-dir`, the manifest, the command line) and command names. A newline in a
//! path must not start a forged log line, an escape sequence must not drive the
//! terminal that shows the log, and a byte that is not UTF-8 must not become U+FFFD
//! (two different paths would look alike). So every path in every message goes
//! through [`path`] (and other outside text, such as a manifest's keys, through
//! [`text`]):
//!
//! - control characters (C0, DEL, C1) as `\n`, `\r`, `\t` or `\u{1b}`;
//! - the characters that reorder or break lines in a terminal or an editor (the bidi
//!   embeddings, overrides and isolates, the line and paragraph separators) as `\u{…}`;
//! - bytes that are not UTF-8 as `\xNN`;
//! - everything else as it is (a backslash too: the form stays readable, and a path
//!   that spells `\n` cannot make a line either way).

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt::{self, Write};

/// A path (or any OS string) as a message shows it: see the module docs.
pub struct Shown<'a>(&'a [u8]);

/// `p` for a message, escaped (see the module docs).
pub fn path<P: AsRef<OsStr> + ?Sized>(p: &P) -> Shown<'_> {
    Shown(p.as_ref().as_encoded_bytes())
}

/// Other text from outside (a manifest's key, a YAML error) for a message, escaped
/// the same way.
pub fn text(s: &str) -> Shown<'_> {
    Shown(s.as_bytes())
}

/// What a name that does not look like one is shown as.
pub const NOT_SHOWN: &str = "[not shown]";

/// Whether `s` looks like a name (a manifest key, a secret, variable or environment
/// name, a `keep_env` glob): 1 to 64 ASCII letters, digits, `_`, `-` or `*`.
fn is_name_shaped(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'*'))
}

/// A name from outside (a manifest's key, a secret's or variable's name, an environment)
/// for a message: itself when it looks like a name, else [`NOT_SHOWN`]. What sits where
/// a name goes may be a value put there by mistake: `{default:hunter2}` (no blank after
/// the colon) is a key, `env: MyP@ssw0rd` a variable name, and neither may be printed.
/// A name that is wrong but looks like one (`1abc`, `Required`) is still shown.
pub fn name(s: &str) -> Cow<'_, str> {
    if is_name_shaped(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Borrowed(NOT_SHOWN)
    }
}

/// [`name`], in double quotes when shown.
pub fn quoted_name(s: &str) -> Cow<'_, str> {
    if is_name_shaped(s) {
        Cow::Owned(format!("\"{s}\""))
    } else {
        Cow::Borrowed(NOT_SHOWN)
    }
}

/// Whether `c` must be escaped in a message.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            let valid = chunk.valid();
            let mut start = 0;
            for (i, c) in valid.char_indices() {
                if needs_escape(c) {
                    f.write_str(&valid[start..i])?;
                    match c {
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        c => write!(f, "\\u{{{:x}}}", c as u32)?,
                    }
                    start = i + c.len_utf8();
                }
            }
            f.write_str(&valid[start..])?;
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        fmt::Display::fmt(self, f)?;
        f.write_char('"')
    }
}

impl Shown<'_> {
    /// The escaped text, borrowed when nothing needed escaping (the common case).
    pub fn to_cow(&self) -> Cow<'_, str> {
        match std::str::from_utf8(self.0) {
            Ok(s) if !s.chars().any(needs_escape) => Cow::Borrowed(s),
            _ => Cow::Owned(self.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn control_characters_bidi_and_bad_bytes_are_escaped() {
        let raw = OsStr::from_bytes(
            b"/run/a\nsesame: info: forged\x1b[2J\r\t\x7f\xc2\x85\xe2\x80\xae\xff.txt",
        );
        assert_eq!(
            path(raw).to_string(),
            "/run/a\\nsesame: info: forged\\u{1b}[2J\\r\\t\\u{7f}\\u{85}\\u{202e}\\xff.txt"
        );
    }

    #[test]
    fn names_are_shown_only_when_they_look_like_names() {
        for n in ["DB_PASSWORD", "bogus0", "LC_*", "staging-eu", "1abc"] {
            assert_eq!(name(n), n);
            assert_eq!(quoted_name(n), format!("\"{n}\""));
        }
        for n in [
            "default:hunter2",
            "default hunter2",
            "MyP@ssw0rd",
            "",
            &"x".repeat(65),
        ] {
            assert_eq!(name(n), NOT_SHOWN);
            assert_eq!(quoted_name(n), NOT_SHOWN);
        }
    }

    #[test]
    fn ordinary_paths_are_shown_as_they_are_and_borrowed() {
        for p in ["/run/secrets/db_password", "/tmp/ünïcödé/ключ", "C:\\x"] {
            assert_eq!(path(p).to_string(), p);
            assert!(matches!(path(p).to_cow(), Cow::Borrowed(_)));
        }
    }
}
