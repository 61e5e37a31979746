//! `sesame generate` (SPEC §8): the answer to "how do I create the secrets for a new
//! environment". For each secret with a `generate:` rule that does not resolve (every
//! one with `--force`), draw a value from the kernel's CSPRNG, check it against the
//! secret's own rules, and write it where sesame will look for it.
//!
//! `length` is always the value's length in characters. For `alphanumeric` each
//! character is drawn uniformly (rejection sampling, no modulo bias). For the encodings
//! (`hex`, `base64`, `base64url`) random *bytes* are drawn and encoded, so the value is
//! always a valid encoding: as many bytes as fit in `length` characters, or exactly
//! `decoded_bytes` when the secret declares it.

use crate::cli::{GenerateArgs, GenerateFormat};
use crate::error::Error;
use crate::manifest::{Charset, Generate, SecretSpec, Trim};
use crate::resolve::{Outcome, Resolved};
use crate::secret::Secret;
use crate::stage::{self, Staged};
use crate::validate::check_rules;
use base64::Engine;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use zeroize::Zeroizing;

/// How often a value is drawn again when it fails the secret's rules (a `pattern`
/// that wants a digit, say) before the rule is declared unsatisfiable.
const ATTEMPTS: usize = 200;
/// The most characters drawn for one secret over all its attempts: 200 tries of a
/// 32 MiB `decoded_bytes` value that a `max_length` can never accept would take many
/// minutes. At least one value is always drawn.
const DRAWN_BUDGET: usize = 64 << 20;

/// Runs `generate` over the resolved secrets; `out` defaults to the secrets directory.
pub fn run(args: &GenerateArgs, resolved: &[Resolved], secrets_dir: &Path) -> Result<i32, Error> {
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| secrets_dir.to_path_buf());
    let mut problems = Vec::new();
    let mut made: Vec<(&SecretSpec, Secret)> = Vec::new();
    for r in resolved {
        let Some(rule) = &r.spec.generate else {
            continue;
        };
        match &r.outcome {
            Outcome::Absent => {}
            _ if args.force => {}
            Outcome::Found(_) => {
                tracing::info!(secret = %r.spec.name, "{}: already resolves; not generated (use --force)", r.spec.name);
                continue;
            }
            // Neither there nor absent (a directory at its file, an `X_FILE` naming
            // nothing): saying "already resolves" and exiting 0 hid the error until
            // the launch, and a file written now would not be the one sesame reads.
            Outcome::Failed(why) => {
                problems.push(format!(
                    "{}: not generated: {why} (fix that, or use --force)",
                    r.spec.name
                ));
                continue;
            }
        }
        match draw_valid(r.spec, rule) {
            Ok(v) => made.push((r.spec, v)),
            Err(why) => problems.push(format!("{}: {why}", r.spec.name)),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Generate(problems.join("\n")));
    }
    match args.format {
        GenerateFormat::Env => {
            // The one place sesame prints values: the user asked for a `.env` file.
            let mut out = std::io::stdout().lock();
            for (spec, value) in &made {
                let line = Zeroizing::new(format!("{}={}\n", spec.name, value.expose()));
                out.write_all(line.as_bytes())
                    .map_err(|e| Error::Generate(format!("stdout: {e}")))?;
            }
        }
        GenerateFormat::Files => {
            // All or none: every file is written in full beside its name first, and
            // only when all are ready are they renamed into place. A file cut short (a
            // full disk) would otherwise stay, and a second `generate` would take it
            // for a secret that exists; `--force` would leave half the set rotated.
            let mut staged: Vec<Staged> = Vec::new();
            for (spec, value) in &made {
                let path = out_dir.join(file_name(spec));
                // A text line ends in a newline, but only where the secret's `trim`
                // drops it again: with `trim: none` it would become part of the value.
                let newline = spec.trim != Trim::None;
                match stage(&spec.name, &path, value, newline, args.force) {
                    Ok(Some(s)) => staged.push(s),
                    Ok(None) => tracing::warn!(
                        secret = %spec.name,
                        "{}: {} exists; not overwritten (use --force)",
                        spec.name,
                        crate::shown::path(&path)
                    ),
                    Err(e) => problems.push(cannot_write(&spec.name, &path, &e)),
                }
            }
            // Two secrets whose files are one file under two paths (a link in the
            // directory): the second rename would replace the first value unseen.
            for (first, later) in stage::same_files(&staged) {
                let (a, b) = (&staged[first], &staged[later]);
                let why = format!(
                    "it is the same file as {}'s {}; each secret needs a file of its own",
                    a.secret,
                    crate::shown::path(&a.path)
                );
                problems.push(cannot_write(&b.secret, &b.path, &why));
            }
            if !problems.is_empty() {
                stage::abandon_all(staged);
                return Err(Error::Generate(problems.join("\n")));
            }
            let wrote = stage::commit_all(staged).map_err(|(secret, path, why)| {
                Error::Generate(cannot_write(&secret, &path, &why))
            })?;
            // A closed stdout must not panic sesame (println! would).
            let mut out = std::io::stdout().lock();
            for p in &wrote {
                let _ = writeln!(out, "{}", crate::shown::path(p));
            }
        }
    }
    Ok(crate::error::exit::OK)
}

/// The file a generated secret is written to: its `file:`, else its lowercase name
/// (the Docker secrets convention; sesame's lookup finds either).
fn file_name(spec: &SecretSpec) -> PathBuf {
    spec.file
        .clone()
        .unwrap_or_else(|| PathBuf::from(spec.name.to_lowercase()))
}

/// Draws values until one passes the secret's rules.
fn draw_valid(spec: &SecretSpec, rule: &Generate) -> Result<Secret, String> {
    let mut last = Vec::new();
    let (mut tries, mut drawn) = (0, 0usize);
    while tries < ATTEMPTS && (tries == 0 || drawn < DRAWN_BUDGET) {
        let value = draw(rule, spec.rules.decoded_bytes)?;
        tries += 1;
        drawn = drawn.saturating_add(value.expose().len());
        last = check_rules(value.expose(), &spec.rules);
        if last.is_empty() {
            return Ok(value);
        }
    }
    Err(format!(
        "generate: no value drawn in {tries} {} satisfies the secret's rules ({}); adjust generate or the rules",
        if tries == 1 { "try" } else { "tries" },
        last.join("; ")
    ))
}

/// Fills `buf` from the kernel's CSPRNG.
fn random(buf: &mut [u8]) -> Result<(), String> {
    getrandom::fill(buf).map_err(|e| format!("the system's random number generator failed: {e}"))
}

/// One value for `rule`.
pub fn draw(rule: &Generate, decoded_bytes: Option<usize>) -> Result<Secret, String> {
    let n = rule.length;
    let text = match rule.charset {
        Charset::Alphanumeric => {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            let mut s = Zeroizing::new(String::with_capacity(n));
            let mut pool = Zeroizing::new([0u8; 64]);
            while s.len() < n {
                random(&mut pool[..])?;
                // 62 × 4 = 248: bytes ≥ 248 are dropped so every character is equally likely.
                for &b in pool.iter().filter(|&&b| b < 248) {
                    if s.len() < n {
                        s.push(ALPHABET[(b % 62) as usize] as char);
                    }
                }
            }
            std::mem::take(&mut *s)
        }
        Charset::Hex | Charset::Base64 | Charset::Base64url => {
            let bytes_for = |chars: usize| match rule.charset {
                Charset::Hex => chars / 2,
                // Padded base64: 4 characters for every 3 bytes or part of 3.
                Charset::Base64 => chars / 4 * 3,
                // Unpadded base64url: ceil(4n/3) characters for n bytes.
                _ => chars * 3 / 4,
            };
            let count = decoded_bytes.unwrap_or_else(|| bytes_for(n));
            if count == 0 {
                return Err(format!(
                    "generate: length {n} is too short for {}",
                    rule.charset.name()
                ));
            }
            let mut raw = Zeroizing::new(vec![0u8; count]);
            random(&mut raw)?;
            match rule.charset {
                Charset::Hex => {
                    const DIGITS: &[u8; 16] = b"0123456789abcdef";
                    let mut s = String::with_capacity(raw.len() * 2);
                    for &b in raw.iter() {
                        s.push(DIGITS[usize::from(b >> 4)] as char);
                        s.push(DIGITS[usize::from(b & 15)] as char);
                    }
                    s
                }
                Charset::Base64 => base64::engine::general_purpose::STANDARD.encode(&raw[..]),
                _ => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw[..]),
            }
        }
    };
    Ok(Secret::new(text))
}

/// Writes `value` (and a newline when `newline`) to a new temporary file beside `path`,
/// mode 0600, synced, in a 0700 directory ([`crate::stage`]). Returns `None`, and writes
/// nothing, when something is at `path` and `force` is off; with `force`, only a regular
/// file there may be replaced (with `--force` a FIFO there is refused, not waited on), and
/// as root the new file gets its owner.
///
/// As root, `--out` is walked by [`crate::walk`]'s rules, as an `inject.file` is: a link
/// is followed only where root made it and the file's directory must be one only root
/// can write, so a link a user planted on the way (`--out /home/app/secrets`, with
/// `secrets -> /etc`) cannot make root create or, with `--force`, overwrite a file
/// elsewhere. Any other user writes with its own rights, by path. The rename replaces
/// the name; nothing is ever written through a link or into an existing file.
fn stage(
    secret: &str,
    path: &Path,
    value: &Secret,
    newline: bool,
    force: bool,
) -> Result<Option<Staged>, String> {
    use nix::fcntl::{AtFlags, OFlag, openat};
    use nix::sys::stat::{Mode, SFlag, fstatat};
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let name = path.file_name().ok_or("not a file path")?;
    let root = nix::unistd::geteuid().is_root();
    let (dir_fd, created) = if root {
        let trust = crate::walk::Trust::current();
        let (d, created) = crate::walk::open_dir(dir, &trust, crate::walk::Missing::Create(0o700))
            .map_err(|e| e.to_string())?;
        let refused = match &d.guard {
            crate::walk::Guard::Closed => None,
            crate::walk::Guard::Sticky => {
                Some("can be written by others (sticky, like /tmp)".into())
            }
            crate::walk::Guard::Open(why) => Some(why.clone()),
        };
        if let Some(why) = refused {
            return Err(format!(
                "{} {why}; as root, generate writes only into a directory only root can write",
                crate::shown::path(&d.path)
            ));
        }
        (d.fd, created)
    } else {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| e.to_string())?;
        let fd = openat(
            nix::fcntl::AT_FDCWD,
            dir,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| e.desc().to_lowercase())?;
        (Rc::new(fd), Vec::new())
    };
    // What is at the name now: nothing, a file to keep (no --force) or to replace.
    let owner = match fstatat(&*dir_fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(_) if !force => return Ok(None),
        Ok(st)
            if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) != SFlag::S_IFREG =>
        {
            return Err("is not a regular file".into());
        }
        Ok(st) => Some((st.st_uid, st.st_gid)),
        Err(nix::errno::Errno::ENOENT) => None,
        Err(e) => return Err(e.desc().to_lowercase()),
    };
    let mut staged = Staged::new(secret, path, dir_fd, name, created);
    let parts: &[&[u8]] = if newline {
        &[value.expose().as_bytes(), b"\n"]
    } else {
        &[value.expose().as_bytes()]
    };
    // `--force` replaces the value, not who may read it (a file chowned to the
    // program's user stays the program's).
    match staged.write(parts, 0o600, owner.filter(|_| root)) {
        Ok(()) => Ok(Some(staged)),
        Err(e) => {
            staged.abandon();
            Err(e)
        }
    }
}

/// One line of a failure to write a generated file.
fn cannot_write(secret: &str, path: &Path, why: &str) -> String {
    format!("{secret}: cannot write {}: {why}", crate::shown::path(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::Format;

    fn rule(length: usize, charset: Charset) -> Generate {
        Generate { length, charset }
    }

    #[test]
    fn alphanumeric_has_the_length_and_alphabet() {
        let v = draw(&rule(48, Charset::Alphanumeric), None).unwrap();
        assert_eq!(v.expose().len(), 48);
        assert!(v.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
        let w = draw(&rule(48, Charset::Alphanumeric), None).unwrap();
        assert_ne!(v, w, "two draws of 48 characters do not collide");
    }

    #[test]
    fn encodings_are_always_valid_for_their_format() {
        for (charset, format, len) in [
            (Charset::Hex, Format::Hex, 64),
            (Charset::Base64, Format::Base64, 44),
            (Charset::Base64url, Format::Base64url, 43),
        ] {
            let v = draw(&rule(len, charset), None).unwrap();
            assert!(v.expose().len() <= len, "{charset:?}");
            assert!(format.check(v.expose()).is_ok(), "{charset:?}");
            let v = draw(&rule(len, charset), Some(32)).unwrap();
            assert_eq!(format.check(v.expose()).unwrap().decoded_len, Some(32));
        }
    }

    #[test]
    fn too_short_for_an_encoding_is_an_error() {
        assert!(draw(&rule(1, Charset::Hex), None).is_err());
        assert!(draw(&rule(3, Charset::Base64), None).is_err());
    }
}
