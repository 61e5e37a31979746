//! What sesame's own start-up leaves behind for the program it execs: nothing of its
//! own. Signal dispositions pass through as they were inherited (Rust's usual start-up
//! would have set SIGPIPE to "ignored" for the program), and closed standard
//! descriptors are opened on /dev/null, so no secret file is ever opened as fd 0-2.

use std::path::PathBuf;
use std::process::Command;

fn sesame() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sesame"))
}

fn manifest(dir: &tempfile::TempDir) -> PathBuf {
    let m = dir.path().join("manifest.yaml");
    std::fs::write(&m, "version: 1\nsecrets: {}\n").unwrap();
    m
}

/// Runs `script` with `sh -c` behind sesame, started by `sh -c "PREFIX; exec sesame …"`.
fn behind_sesame(prefix: &str, script: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "{prefix}; exec \"$0\" -m \"$1\" --log-level error -- /bin/sh -c \"$2\""
        ))
        .arg(sesame())
        .arg(manifest(&dir))
        .arg(script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The SigIgn mask of the program, from /proc.
const SIG_IGN_MASK: &str = "sed -n 's/^SigIgn:[[:space:]]*//p' /proc/self/status";
const SIGPIPE_BIT: u64 = 1 << (13 - 1);

#[test]
fn sigpipe_is_not_ignored_for_the_program_unless_it_was_for_sesame() {
    let mask =
        |prefix| u64::from_str_radix(behind_sesame(prefix, SIG_IGN_MASK).trim(), 16).unwrap();
    assert_eq!(mask("trap - PIPE") & SIGPIPE_BIT, 0);
    assert_eq!(mask("trap '' PIPE") & SIGPIPE_BIT, SIGPIPE_BIT);
}

#[test]
fn closed_standard_descriptors_are_dev_null_for_the_program() {
    let out = behind_sesame("exec 0<&- 2>&-", "readlink /proc/self/fd/0 /proc/self/fd/2");
    assert_eq!(out, "/dev/null\n/dev/null\n");
}
