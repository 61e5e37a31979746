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
    fn ordinary_paths_are_shown_as_they_are_and_borrowed() {
        for p in ["/run/secrets/db_password", "/tmp/ünïcödé/ключ", "C:\\x"] {
            assert_eq!(path(p).to_string(), p);
            assert!(matches!(path(p).to_cow(), Cow::Borrowed(_)));
        }
    }
}
