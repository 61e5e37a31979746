//! `USER[:GROUP]` parsing: strict, and a parsed spec prints back to what was parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sesame::user::UserSpec;

fuzz_target!(|text: &str| {
    if let Ok(spec) = text.parse::<UserSpec>() {
        assert!(!text.contains(char::is_whitespace), "whitespace accepted in {text:?}");
        assert!(!text.starts_with(['-', '+']), "sign accepted");
        let again: UserSpec = spec.to_string().parse().expect("a printed spec parses");
        assert_eq!(again, spec);
    }
});
