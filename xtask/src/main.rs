//! `cargo run -p xtask -- dist [DIR]`: writes shell completions (bash, zsh, fish) and
//! the man page for sesame into DIR (default `target/dist`), from the same clap
//! definition the binary parses with.

use clap::CommandFactory;
use clap_complete::Shell;
use std::path::{Path, PathBuf};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dist") => {
            let out = args
                .get(1)
                .map_or_else(|| PathBuf::from("target/dist"), PathBuf::from);
            if let Err(e) = dist(&out) {
                eprintln!("xtask: {e}");
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
fn dist(out: &Path) -> std::io::Result<()> {
    let completions = out.join("completions");
    let man = out.join("man");
    std::fs::create_dir_all(&completions)?;
    std::fs::create_dir_all(&man)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut cmd = <sesame::cli::Cli as CommandFactory>::command();
        clap_complete::generate_to(shell, &mut cmd, "sesame", &completions)?;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(<sesame::cli::Cli as CommandFactory>::command()).render(&mut page)?;
    std::fs::write(man.join("sesame.1"), page)
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
}
