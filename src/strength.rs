//! Secret strength heuristics (SPEC §4.3).
//!
//! [`entropy_bits`] is the estimate the `min_entropy_bits` rule compares against, and
//! [`is_weak`] is the built-in weak/placeholder test behind the "weak value" warning.
//! Both only look at the value; any copy they make of it is zeroized when dropped.

use zeroize::Zeroizing;

/// Shannon-entropy estimate: length × H, where H is the empirical entropy of the value's
/// characters (Unicode scalar values) in bits per character. Empty → 0.0.
///
/// Computed as Σ cᵢ·log₂(n/cᵢ) over the count cᵢ of each distinct character, which equals
/// n·H for a value of n characters.
pub fn entropy_bits(value: &str) -> f64 {
    let mut chars: Zeroizing<Vec<char>> = Zeroizing::new(value.chars().collect());
    chars.sort_unstable();
    let n = chars.len() as f64;
    chars
        .chunk_by(|a, b| a == b)
        .map(|run| {
            let count = run.len() as f64;
            count * (n / count).log2()
        })
        .sum()
}

/// Built-in weak or placeholder values, lower case ASCII, compared after trimming.
const WEAK_VALUES: &[&str] = &[
    "password",
    "password1",
    "password123",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "pass",
    "changeme",
    "change-me",
    "change_me",
    "changeit",
    "secret",
    "mysecret",
    "supersecret",
    "admin",
    "administrator",
    "root",
    "toor",
    "guest",
    "1234",
    "12345",
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty",
    "abc123",
    "letmein",
    "welcome",
    "default",
    "test",
    "example",
    "sample",
    "dummy",
    "placeholder",
    "todo",
    "fixme",
    "tbd",
    "xxx",
    "null",
    "none",
    "undefined",
];

/// The longest of [`WEAK_VALUES`].
const MAX_WEAK_LEN: usize = 13;

/// Substrings that mark a value as a leftover from a template, compared in lower case.
/// Each starts with `change` (`is_weak` relies on it).
const WEAK_SUBSTRINGS: &[&str] = &[
    "change_in_production",
    "changeinproduction",
    "change-in-production",
];

/// Built-in weak/placeholder test: true when the value, compared case-insensitively after
/// trimming whitespace,
/// - equals a built-in weak value (`password`, `changeme`, `secret`, `admin`, `123456`, ...),
/// - contains `change_in_production`, `changeinproduction` or `change-in-production`,
/// - looks like a template placeholder: `your…here` (e.g. `your-api-key-here`,
///   `your_secret_here`), `<…>`, `${…}` or `{{…}}`,
/// - or is one character repeated (`xxxxxxxx`, `00000000`).
///
/// Case is folded for ASCII letters only (every built-in word is ASCII), which needs no
/// Unicode tables and makes no copy of the value. An empty (or all-whitespace) value is
/// not reported here: emptiness is a length matter.
pub fn is_weak(value: &str) -> bool {
    let v = value.trim();
    let b = v.as_bytes();
    let Some(first) = v.chars().next() else {
        return false;
    };
    // Compared byte by byte with an early exit (the slice method compares every byte);
    // every word and substring below is lower case.
    let at = |i: usize, word: &str| {
        b.len() >= i + word.len()
            && b[i..]
                .iter()
                .zip(word.as_bytes())
                .all(|(x, y)| x.to_ascii_lowercase() == *y)
    };
    // This runs on every value, so the cheap tests go first: no built-in weak value is
    // longer than 13 bytes, and every substring starts with "change".
    let marker = || {
        (0..b.len()).any(|i| {
            b[i] | 0x20 == b'c' && at(i, "change") && WEAK_SUBSTRINGS.iter().any(|s| at(i, s))
        })
    };
    (b.len() <= MAX_WEAK_LEN && WEAK_VALUES.iter().any(|w| w.len() == b.len() && at(0, w)))
        || marker()
        || (at(0, "your") && at(b.len().saturating_sub(4), "here") && b.len() > "yourhere".len())
        || (v.starts_with('<') && v.ends_with('>') && b.len() > 2)
        || (v.starts_with("${") && v.ends_with('}'))
        || (v.starts_with("{{") && v.ends_with("}}") && b.len() > 3)
        || (v.chars().nth(1).is_some() && v.chars().all(|c| c == first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortcuts_of_is_weak_hold() {
        assert_eq!(
            WEAK_VALUES.iter().map(|w| w.len()).max(),
            Some(MAX_WEAK_LEN)
        );
        assert!(WEAK_SUBSTRINGS.iter().all(|s| s.starts_with("change")));
        assert!(is_weak("xxCHANGE-IN-PRODUCTIONxx"));
        assert!(is_weak("ADMINISTRATOR"));
        assert!(!is_weak("change-in-product"));
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn entropy_of_trivial_values() {
        assert_eq!(entropy_bits(""), 0.0);
        assert_eq!(entropy_bits("a"), 0.0);
        assert_eq!(entropy_bits("aaaaaaaa"), 0.0);
    }

    #[test]
    fn entropy_of_uniform_values() {
        // n distinct characters each once: n × log2(n).
        assert!(close(entropy_bits("ab"), 2.0));
        assert!(close(entropy_bits("abcd"), 8.0));
        assert!(close(entropy_bits("0123456789abcdef"), 64.0));
        // Two symbols, equally often: 1 bit per character.
        assert!(close(entropy_bits("abababab"), 8.0));
    }

    #[test]
    fn entropy_of_skewed_value() {
        // "aaab": H = -(3/4 log2 3/4 + 1/4 log2 1/4) ≈ 0.811278 bits/char, × 4.
        let h = -(0.75f64 * 0.75f64.log2() + 0.25 * 0.25f64.log2());
        assert!(close(entropy_bits("aaab"), 4.0 * h));
        // Order does not matter.
        assert!(close(entropy_bits("abaa"), entropy_bits("aaab")));
    }

    #[test]
    fn entropy_counts_unicode_scalars_not_bytes() {
        // Two distinct characters of two bytes each: 2 bits, not 4 × log2(4).
        assert!(close(entropy_bits("éü"), 2.0));
        assert!(close(entropy_bits("ééüü"), 4.0));
    }

    #[test]
    fn entropy_is_case_sensitive() {
        assert!(close(entropy_bits("aA"), 2.0));
    }

    #[test]
    fn weak_builtin_values() {
        for v in [
            "password",
            "Password",
            "PASSWORD",
            "  changeme\n",
            "change-me",
            "secret",
            "admin",
            "root",
            "123456",
            "12345678",
            "123456789",
            "qwerty",
            "letmein",
            "default",
            "test",
            "example",
            "placeholder",
            "todo",
            "xxx",
            "P@ssw0rd",
            "password1",
        ] {
            assert!(is_weak(v), "{v:?} should be weak");
        }
    }

    #[test]
    fn every_listed_value_is_weak_and_lower_case() {
        assert!(WEAK_VALUES.len() >= 35);
        for v in WEAK_VALUES {
            assert_eq!(*v, v.to_lowercase());
            assert!(is_weak(v));
            assert!(is_weak(&v.to_uppercase()));
            assert!(is_weak(&format!(" {v}\t\n")));
        }
    }

    #[test]
    fn weak_substrings() {
        assert!(is_weak("jwt-secret-CHANGE_IN_PRODUCTION"));
        assert!(is_weak("abcChangeInProductionxyz"));
        assert!(is_weak("please-change-in-production-42"));
        assert!(is_weak("ñ-Change_In_Production-é"));
    }

    #[test]
    fn weak_placeholders() {
        for v in [
            "your-api-key-here",
            "your_secret_here",
            "YOUR-TOKEN-HERE",
            "YourPasswordHere",
            "<your token>",
            "<secret>",
            "${JWT_SECRET}",
            "${}",
            "{{ secret }}",
            "xxxxxxxxxxxx",
            "00000000",
            "**********",
        ] {
            assert!(is_weak(v), "{v:?} should be weak");
        }
    }

    #[test]
    fn strong_or_ordinary_values_are_not_weak() {
        for v in [
            "",
            "   ",
            "x",
            "<>",
            "Zm9vYmFyYmF6cXV4",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "correct horse battery staple",
            "passwordless-login-token-7Qz",
            "my-test-secret-b3f9",
            "yourhere",
            "here-your",
            "admin123xyz",
            "{{incomplete",
            "$HOME",
            "ab",
            "pässwörd",
            "yoür",
        ] {
            assert!(!is_weak(v), "{v:?} should not be weak");
        }
    }
}
