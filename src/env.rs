//! A snapshot of sesame's own environment, taken once at start.
//!
//! Resolution reads from it and injection builds the child's environment from it, so
//! both see the same variables, in the order the kernel gave them.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// sesame's environment, in its original order, with lookup by name.
#[derive(Debug, Default)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
    /// Indices into `vars`, sorted by name: lookups are binary searches, which needs no
    /// copy of each name and no hashing (a container may pass thousands of variables).
    sorted: Vec<u32>,
}

/// Values may be secrets (the `env` source reads them from here), so they are zeroed
/// when the snapshot is dropped, like every other buffer that held a value.
impl Drop for Environment {
    fn drop(&mut self) {
        use std::os::unix::ffi::OsStringExt;
        use zeroize::Zeroize;
        for (_, value) in &mut self.vars {
            // `into_vec` hands over the same allocation, so this zeroes the bytes in place.
            std::mem::take(value).into_vec().zeroize();
        }
    }
}

impl Environment {
    /// The process's environment as it is now.
    pub fn capture() -> Self {
        Self::from_pairs(std::env::vars_os())
    }

    /// An environment made of these pairs (later duplicates are ignored, as `getenv` does).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        let vars: Vec<(OsString, OsString)> = pairs.into_iter().collect();
        let mut sorted: Vec<u32> = (0..vars.len() as u32).collect();
        // Ties in their original order, so of two equal names the dedup keeps the first.
        sorted.sort_unstable_by(|&a, &b| {
            let name = |i: u32| vars[i as usize].0.as_encoded_bytes();
            name(a).cmp(name(b)).then(a.cmp(&b))
        });
        sorted.dedup_by(|later, first| vars[*later as usize].0 == vars[*first as usize].0);
        Environment { vars, sorted }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        let name = name.as_bytes();
        self.sorted
            .binary_search_by(|&i| self.vars[i as usize].0.as_bytes().cmp(name))
            .ok()
            .map(|at| self.vars[self.sorted[at] as usize].1.as_os_str())
    }

    /// The value of `name`, if set and not empty (what the sources count as "has it").
    pub fn get_nonempty(&self, name: &str) -> Option<&OsStr> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Every variable name that is valid UTF-8, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().filter_map(|(k, _)| k.to_str())
    }

    /// Every variable, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_the_first_of_duplicates_and_keeps_the_order() {
        let env = Environment::from_pairs(
            [("B", "1"), ("A", "2"), ("B", "3"), ("C", ""), ("AB", "4")]
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        );
        assert_eq!(env.get("B"), Some(OsStr::new("1")));
        assert_eq!(env.get("A"), Some(OsStr::new("2")));
        assert_eq!(env.get("AB"), Some(OsStr::new("4")));
        assert_eq!(env.get("C"), Some(OsStr::new("")));
        assert_eq!(env.get_nonempty("C"), None);
        assert_eq!(env.get("D"), None);
        let names: Vec<_> = env.names().collect();
        assert_eq!(names, ["B", "A", "B", "C", "AB"]);
    }
}
