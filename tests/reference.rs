//! docs/reference.md is tied to the code so that it cannot drift (issue 16). Each test
//! reads what the code says, from the real binary's `--help` and `sesame schema` or from
//! the sources, and requires the reference to describe it:
//!
//! - every long option of `sesame --help` and of each subcommand's `--help`;
//! - every subcommand;
//! - every `SESAME_*` variable named anywhere in `src/`;
//! - every key of the manifest's JSON Schema, nested keys included (`inject.env`,
//!   `generate.length`, `aws_secretsmanager.id`...), each with a row of its own, and
//!   every value of the schema's enumerations (formats, sources, charsets...) and every
//!   numeric bound the schema gives a key, in that key's row;
//! - every exit code of `src/error.rs`.
//!
//! And the documentation links only inside the repository, to files that exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reference() -> String {
    std::fs::read_to_string(root().join("docs/reference.md")).unwrap()
}

fn sesame(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success(), "sesame {args:?}: {:?}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

/// Fails with every item of `items` that `described` says the reference lacks.
fn all_described(what: &str, items: &BTreeSet<String>, described: impl Fn(&str) -> bool) {
    assert!(!items.is_empty(), "found no {what} to check");
    let missing: Vec<&String> = items.iter().filter(|i| !described(i)).collect();
    assert!(
        missing.is_empty(),
        "docs/reference.md does not describe these {what}: {missing:?}"
    );
}

/// The subcommands `--help` lists under `Commands:` (without `help` itself).
fn subcommands(help: &str) -> BTreeSet<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

/// The long options of a `--help` text: `--name` on the lines that describe options
/// (they start, after indentation, with `-`).
fn long_options(help: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in help.lines().filter(|l| l.trim_start().starts_with('-')) {
        for word in line.split(|c: char| c.is_whitespace() || c == ',' || c == '=') {
            if let Some(name) = word.strip_prefix("--") {
                let name: String = name
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if !name.is_empty() {
                    out.insert(format!("--{name}"));
                }
            }
        }
    }
    out
}

#[test]
fn every_option_of_every_help_is_in_the_reference() {
    let help = sesame(&["--help"]);
    let subs = subcommands(&help);
    all_described("subcommands", &subs, |s| {
        reference().contains(&format!("`sesame {s}"))
    });
    let mut options = long_options(&help);
    for s in &subs {
        options.extend(long_options(&sesame(&[s, "--help"])));
    }
    let text = reference();
    // As written in an option table: "`--name" (followed by a space, a backtick or `=`).
    all_described("options", &options, |o| {
        [" ", "`", "="]
            .iter()
            .any(|end| text.contains(&format!("`{o}{end}")))
    });
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_sesame_variable_the_code_reads_is_in_the_reference() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut vars = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("SESAME_") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            // `SESAME_` alone is the prefix that scrub removes, not a variable.
            if name.len() > "SESAME_".len() && !name.ends_with('_') {
                vars.insert(name);
            }
        }
    }
    let text = reference();
    all_described("variables", &vars, |v| {
        ["`", "="]
            .iter()
            .any(|end| text.contains(&format!("`{v}{end}")))
    });
}

/// Follows a `$ref` (`#/$defs/Name`) to its definition.
fn resolve<'a>(
    schema: &'a serde_json::Value,
    node: &'a serde_json::Value,
) -> &'a serde_json::Value {
    match node.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => {
            let name = r.trim_start_matches("#/$defs/");
            resolve(schema, &schema["$defs"][name])
        }
        None => node,
    }
}

/// Collects the keys of `node` (and of what it refers to, through `properties`,
/// `additionalProperties`, `items`, `oneOf`/`anyOf`/`allOf`), each as its path from the
/// manifest or from a secret: `version`, `min_length`, `inject.env`. Also collects the
/// enumerations' values.
fn walk(
    schema: &serde_json::Value,
    node: &serde_json::Value,
    prefix: &str,
    keys: &mut BTreeSet<String>,
    values: &mut BTreeSet<String>,
    maxima: &mut Vec<(String, u64)>,
    depth: usize,
) {
    assert!(depth < 32, "the schema nests too deeply (a $ref loop?)");
    let node = resolve(schema, node);
    if let Some(c) = node.get("const").and_then(|c| c.as_str()) {
        values.insert(c.to_owned());
    }
    if let Some(e) = node.get("enum").and_then(|e| e.as_array()) {
        values.extend(e.iter().filter_map(|v| v.as_str()).map(str::to_owned));
    }
    if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
        for (k, v) in props {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            keys.insert(path.clone());
            // A bound written on the key itself (a size or duration's is in its own
            // definition, and the reference writes it with its unit).
            let own = std::iter::once(v).chain(
                v.get("anyOf")
                    .and_then(|a| a.as_array())
                    .into_iter()
                    .flatten(),
            );
            for m in own.filter_map(|n| n.get("maximum").and_then(|m| m.as_f64())) {
                maxima.push((path.clone(), m as u64));
            }
            // A secret's keys are named from the secret, not from `secrets.NAME`.
            let next = if path == "secrets" {
                String::new()
            } else {
                path
            };
            walk(schema, v, &next, keys, values, maxima, depth + 1);
        }
    }
    for sub in ["additionalProperties", "items"] {
        if let Some(v) = node.get(sub).filter(|v| v.is_object()) {
            walk(schema, v, prefix, keys, values, maxima, depth + 1);
        }
    }
    for list in ["oneOf", "anyOf", "allOf"] {
        for v in node
            .get(list)
            .and_then(|l| l.as_array())
            .into_iter()
            .flatten()
        {
            walk(schema, v, prefix, keys, values, maxima, depth + 1);
        }
    }
}

#[test]
fn every_manifest_key_has_a_row_and_every_enumerated_value_is_named() {
    let schema: serde_json::Value = serde_json::from_str(&sesame(&["schema"])).unwrap();
    let (mut keys, mut values, mut maxima) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
    walk(&schema, &schema, "", &mut keys, &mut values, &mut maxima, 0);
    assert!(keys.contains("inject.env") && keys.contains("generate.length"));
    let text = reference();
    all_described("manifest keys", &keys, |k| {
        text.lines().any(|l| l.starts_with(&format!("| `{k}` |")))
    });
    all_described("values of the manifest's enumerations", &values, |v| {
        text.contains(&format!("`{v}`"))
    });
    // Each numeric bound the schema gives a key is written in that key's row.
    let bounds: BTreeSet<String> = maxima.iter().map(|(k, m)| format!("{k} {m}")).collect();
    all_described("bounds (key maximum)", &bounds, |b| {
        let (k, m) = b.split_once(' ').unwrap();
        text.lines()
            .any(|l| l.starts_with(&format!("| `{k}` |")) && l.contains(m))
    });
}

#[test]
fn every_exit_code_is_in_the_reference() {
    let error_rs = std::fs::read_to_string(root().join("src/error.rs")).unwrap();
    let codes: BTreeSet<String> = error_rs
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub const "))
        .filter_map(|l| l.split_once(": i32 = "))
        .map(|(_, v)| v.trim_end_matches(';').to_owned())
        .collect();
    let text = reference();
    all_described("exit codes", &codes, |c| {
        text.lines().any(|l| l.starts_with(&format!("| {c} |")))
    });
}

/// Every Markdown file of the repository (not `target/`, nor hidden directories).
fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if p.is_dir() {
            markdown_files(&p, out);
        } else if name.ends_with(".md") {
            out.push(p);
        }
    }
}

#[test]
fn docs_link_only_to_files_inside_the_repository() {
    let root = root().canonicalize().unwrap();
    let mut files = Vec::new();
    markdown_files(&root, &mut files);
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, _) in text.match_indices("](") {
            let target: String = text[i + 2..].chars().take_while(|c| *c != ')').collect();
            let path = target.split('#').next().unwrap_or_default();
            let shown = format!("{}: ({target})", f.strip_prefix(&root).unwrap().display());
            if target.contains("://") {
                bad.push(format!("{shown}: a link outside the repository"));
                continue;
            }
            if path.is_empty() {
                continue; // a link within the same file
            }
            match f.parent().unwrap().join(path).canonicalize() {
                Ok(p) if p.starts_with(&root) => {}
                Ok(_) => bad.push(format!("{shown}: leaves the repository")),
                Err(_) => bad.push(format!("{shown}: no such file")),
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}
