//! The manifest parser and checker: any text gets a manifest or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = sesame::manifest::Manifest::parse(text, None);
});
