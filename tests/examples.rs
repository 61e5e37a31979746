//! The manifests we ship must stay valid: the reference and every example.

mod common;
use common::Case;

#[test]
fn manifest_example_yaml_is_a_valid_manifest() {
    let c = Case::new();
    let m = format!("{}/manifest.example.yaml", env!("CARGO_MANIFEST_DIR"));
    let r = c.run_raw(&[
        "-m".into(),
        m.into(),
        "-e".into(),
        "staging".into(),
        "check".into(),
        "--format".into(),
        "json".into(),
    ]);
    // Valid manifest: the report is produced (secrets are missing here, hence 78).
    assert!(r.stdout.starts_with('{'), "{}", r.stderr);
    assert!(!r.stderr.contains("manifest"), "{}", r.stderr);
}

#[test]
fn the_demo_passes_its_own_check() {
    let c = Case::new();
    let dir = format!("{}/examples/demo", env!("CARGO_MANIFEST_DIR"));
    let r = c.run_raw(&[
        "-m".into(),
        format!("{dir}/manifest.yaml").into(),
        "-d".into(),
        format!("{dir}/secrets").into(),
        "check".into(),
    ]);
    r.code(0);
}
