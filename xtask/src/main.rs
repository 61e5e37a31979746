//! `cargo run -p xtask -- dist [DIR]`: writes shell completions (bash, zsh, fish) and
//! the man page for sesame into DIR (default `target/dist`). They are generated from
//! the very `clap::Command` the binary parses with (`sesame::cli::Cli::command`), so
//! they cannot disagree with it.

use anyhow::Context;
use clap_complete::Shell;
use sesame::cli::Cli;
use std::path::{Path, PathBuf};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dist") => {
            let out = args
                .get(1)
                .map_or_else(|| PathBuf::from("target/dist"), PathBuf::from);
            if let Err(e) = dist(&out) {
                eprintln!("xtask: {e:#}");
                std::process::exit(1);
            }
            println!("wrote completions and man page to {}", out.display());
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- dist [DIR]");
            std::process::exit(64);
        }
    }
}

/// Writes `completions/{sesame.bash,_sesame,sesame.fish}` and `man/sesame.1` under `out`.
fn dist(out: &Path) -> anyhow::Result<()> {
    let completions = out.join("completions");
    let man = out.join("man");
    for dir in [&completions, &man] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut Cli::command(), "sesame", &completions)
            .with_context(|| format!("writing the {shell} completions"))?;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .context("rendering the man page")?;
    let path = man.join("sesame.1");
    std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dist_writes_completions_for_three_shells_and_a_man_page() {
        let dir = tempfile::tempdir().unwrap();
        dist(dir.path()).unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert!(read("completions/sesame.bash").contains("--secrets-dir"));
        assert!(read("completions/_sesame").contains("#compdef sesame"));
        assert!(read("completions/sesame.fish").contains("complete -c sesame"));
        let man = read("man/sesame.1");
        assert!(
            man.contains(".TH sesame") && man.contains("check") && man.contains("SESAME_MANIFEST")
        );
    }

    #[test]
    fn the_completions_know_the_subcommands_and_their_own_options() {
        let dir = tempfile::tempdir().unwrap();
        dist(dir.path()).unwrap();
        let bash = std::fs::read_to_string(dir.path().join("completions/sesame.bash")).unwrap();
        for word in [
            "check",
            "generate",
            "schema",
            "--explain",
            "--out",
            "--file-env",
        ] {
            assert!(bash.contains(word), "{word}");
        }
    }
}
