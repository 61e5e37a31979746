//! Leak proofs (issue 6): whatever the manifest, the values, the faults, the log level
//! and format, nothing sesame prints contains a planted value or any 8-byte piece of
//! one. And a panic while holding values prints none of them and exits 70.

mod common;
use common::Case;
use proptest::prelude::*;
use std::fmt;

/// A planted value. Its `Debug` (what proptest prints for a failing case) is redacted,
/// so a failure report never shows it either.
#[derive(Clone)]
struct Planted(String);

impl fmt::Debug for Planted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Planted({} bytes)", self.0.len())
    }
}

/// Where a value is offered to sesame, and what goes wrong with it.
#[derive(Clone, Debug)]
enum Delivery {
    File,
    Env,
    FileEnv,
    /// Invalid UTF-8 appended to the file: the value must still not appear.
    BrokenFile,
    /// Both `X` and `X_FILE` set: exclusive, an error naming both variables.
    Both,
}

#[derive(Clone, Debug)]
struct SecretCase {
    value: Planted,
    delivery: Delivery,
    rules: &'static str,
}

fn value() -> impl Strategy<Value = Planted> {
    prop_oneof![
        // Printable ASCII.
        "[ -~]{8,40}",
        // Any Unicode without NUL or control characters.
        "[^\\x00-\\x1f]{8,24}",
        // Multi-line.
        "[a-z0-9]{4,10}\n[A-Z0-9]{4,10}\n[a-z]{4,8}",
        // Heavy on regex and shell metacharacters.
        "[\\[\\]().*+?^$|\\\\{}'\"`;&<>=a-z]{8,32}",
    ]
    .prop_map(Planted)
}

fn rules() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "{}",
        "{min_length: 64}",
        "{max_length: 9}",
        "{pattern: '[0-9]+'}",
        "{format: base64}",
        "{format: json}",
        "{format: url}",
        "{format: rsa-private-key}",
        "{format: uuid}",
        "{format: port}",
        "{min_entropy_bits: 300}",
        "{required: false}",
    ])
}

fn delivery() -> impl Strategy<Value = Delivery> {
    prop_oneof![
        Just(Delivery::File),
        Just(Delivery::Env),
        Just(Delivery::FileEnv),
        Just(Delivery::BrokenFile),
        Just(Delivery::Both),
    ]
}

fn secret_case() -> impl Strategy<Value = SecretCase> {
    (value(), delivery(), rules()).prop_map(|(value, delivery, rules)| SecretCase {
        value,
        delivery,
        rules,
    })
}

/// Every 8-byte window of every planted value (whole values are checked by the harness).
fn windows(values: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for v in values {
        let b = v.as_bytes();
        if b.len() >= 8 {
            out.extend(b.windows(8).map(<[u8]>::to_vec));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn nothing_sesame_prints_contains_a_planted_value_or_a_piece_of_one(
        secrets in prop::collection::vec(secret_case(), 1..6),
        forbid_first in any::<bool>(),
    ) {
        let mut c = Case::new();
        let mut yaml = String::from("version: 1\nsecrets:\n");
        for (i, s) in secrets.iter().enumerate() {
            let name = format!("S{i}");
            c.plant(&s.value.0);
            let mut rules = s.rules.to_owned();
            if i == 0 && forbid_first && rules == "{}" {
                // The manifest itself holds the value: it must not be echoed back either.
                rules = format!("{{forbid: [{}]}}", serde_json::to_string(&s.value.0).unwrap());
            }
            yaml += &format!("  {name}: {rules}\n");
            let file = c.path().join(format!("elsewhere-{i}"));
            match s.delivery {
                Delivery::File => std::fs::write(c.secrets_dir().join(&name), &s.value.0).unwrap(),
                Delivery::Env => { c.env(&name, &s.value.0); }
                Delivery::FileEnv => {
                    std::fs::write(&file, &s.value.0).unwrap();
                    c.env(&format!("{name}_FILE"), file.as_os_str());
                }
                Delivery::BrokenFile => {
                    let mut bytes = s.value.0.clone().into_bytes();
                    bytes.extend_from_slice(&[0xff, 0xfe]);
                    std::fs::write(c.secrets_dir().join(&name), bytes).unwrap();
                }
                Delivery::Both => {
                    std::fs::write(&file, &s.value.0).unwrap();
                    c.env(&format!("{name}_FILE"), file.as_os_str()).env(&name, &s.value.0);
                }
            }
        }
        c.manifest(&yaml);
        let values: Vec<&str> = secrets.iter().map(|s| s.value.0.as_str()).collect();
        let pieces = windows(&values);
        for level in ["error", "warn", "info", "debug"] {
            for format in ["text", "json"] {
                for args in [
                    vec!["--log-level", level, "--log-format", format, "--", "true"],
                    vec!["--log-level", level, "--log-format", format, "check"],
                    vec!["--log-level", level, "check", "--format", format],
                    vec!["--log-level", level, "check", "--explain", "S0"],
                ] {
                    let r = c.run(&args);
                    prop_assert!(matches!(r.code, Some(0 | 78)), "exit {:?}: {}", r.code, r.stderr);
                    for (i, p) in pieces.iter().enumerate() {
                        prop_assert!(!contains(r.stdout.as_bytes(), p) && !contains(r.stderr.as_bytes(), p),
                            "an 8-byte piece (#{i}) of a planted value appeared in sesame's output for {args:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn a_panic_while_holding_secrets_prints_no_value_and_exits_70() {
    let mut c = Case::new();
    c.manifest("version: 1\nsecrets:\n  A: {}\n");
    c.secret_file("A", "value-held-during-a-panic\n");
    c.env("SESAME_TEST_PANIC", "1");
    let r = c.run(&["--", "true"]);
    r.code(70)
        .stderr_has("sesame: error: internal error at src/")
        .stderr_has("(a bug; please report it)");
    assert!(
        !r.stderr.contains("forced panic"),
        "the panic payload is not printed"
    );
}
