//! Every format checker (base64, hex, PEM, RSA DER, URL, UUID, JSON, ...) on any value:
//! a verdict, never a panic, and no error message that quotes the value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sesame::formats::Format;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(value) = std::str::from_utf8(rest) else { return };
    let format = Format::ALL[selector as usize % Format::ALL.len()];
    if let Err(why) = format.check(value) {
        // A value must never appear in its own error message. (Only values with a
        // character no message uses are checked: the fuzzer otherwise learns to write
        // the message itself, e.g. " valid JSON (line 1, column 2".)
        if value.len() >= 12 && value.contains(['~', '#', '%', '!']) {
            assert!(!why.contains(value), "the error message quotes the value");
        }
    }
    let _ = sesame::strength::entropy_bits(value);
    let _ = sesame::strength::is_weak(value);
});
