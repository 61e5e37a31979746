//! A snapshot of sesame's own environment, taken once at start.
//!
//! Resolution reads from it and injection builds the child's environment from it, so
//! both see the same variables, in the order the kernel gave them.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};

/// sesame's environment, in its original order, with lookup by name.
#[derive(Debug, Default)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
    index: HashMap<String, usize>,
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
        let mut env = Environment::default();
        for (k, v) in pairs {
            if let Some(name) = k.to_str()
                && env.index.contains_key(name)
            {
                continue;
            }
            if let Some(name) = k.to_str() {
                env.index.insert(name.to_owned(), env.vars.len());
            }
            env.vars.push((k, v));
        }
        env
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.index.get(name).map(|&i| self.vars[i].1.as_os_str())
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
