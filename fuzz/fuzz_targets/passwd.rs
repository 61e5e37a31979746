//! The /etc/passwd and /etc/group parsers: any file contents, any user spec. Never a
//! panic, and a name only resolves when the file really has an entry of that name.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sesame::user::{Ident, UserSpec, resolve};

fn has_entry(file: &str, name: &str) -> bool {
    file.lines().any(|l| l.split(':').next() == Some(name))
}

fuzz_target!(|data: &str| {
    // First line: the --user spec; then passwd, and group after a form feed.
    let (spec, files) = data.split_once('\n').unwrap_or((data, ""));
    let (passwd, group) = files.split_once('\x0c').unwrap_or((files, ""));
    let Ok(spec) = spec.parse::<UserSpec>() else { return };
    if resolve(&spec, passwd, group).is_ok() {
        if let Ident::Name(n) = &spec.user {
            assert!(has_entry(passwd, n), "resolved a user that /etc/passwd does not have");
        }
        if let Some(Ident::Name(g)) = &spec.group {
            assert!(has_entry(group, g), "resolved a group that /etc/group does not have");
        }
    }
});
