//! The /etc/passwd and /etc/group parsers: any file contents, any user spec.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sesame::user::{UserSpec, resolve};

fuzz_target!(|data: &str| {
    // First line: the --user spec; then passwd, and group after a form feed.
    let (spec, files) = data.split_once('\n').unwrap_or((data, ""));
    let (passwd, group) = files.split_once('\x0c').unwrap_or((files, ""));
    if let Ok(spec) = spec.parse::<UserSpec>() {
        if let Ok((id, _)) = resolve(&spec, passwd, group) {
            // A name that resolves never lands on root by accident.
            if id.uid == 0 {
                assert!(matches!(spec.user, sesame::user::Ident::Id(0)) || passwd.contains(":0:"));
            }
        }
    }
});
