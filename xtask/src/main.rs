//! `cargo run -p xtask -- dist [DIR]`: writes shell completions (bash, zsh, fish) and
//! the man page for sesame into DIR (default `target/dist`). They are generated from
//! the same option table the binary parses with (`sesame::cli::OPTIONS`), turned into a
//! `clap::Command` here: clap is a dependency of this tool only, not of sesame.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, Command, ValueHint};
use clap_complete::Shell;
use sesame::cli::{self, Key, Opt, Scope, Value};
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
        clap_complete::generate_to(shell, &mut command(), "sesame", &completions)?;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command()).render(&mut page)?;
    std::fs::write(man.join("sesame.1"), page)
}

/// sesame's command line as clap describes it, from `sesame::cli`'s tables. Only for
/// generating documents: nothing parses with it.
fn command() -> Command {
    let mut cmd = Command::new("sesame")
        .version(cli::VERSION)
        .about(cli::ABOUT)
        .long_about(cli::LONG_ABOUT)
        .override_usage(cli::usage())
        .after_help(cli::AFTER_HELP)
        .disable_help_flag(true)
        .disable_version_flag(true)
        // The command to run: everything after `--` or the first bare word.
        .arg(
            Arg::new("command")
                .value_name("COMMAND")
                .num_args(1..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .value_hint(ValueHint::CommandWithArguments)
                .hide(true),
        );
    // Each option where sesame's parser accepts it. (Not clap's `global`, which would
    // also put the options on `help`.)
    for o in cli::OPTIONS
        .iter()
        .filter(|o| !matches!(o.scope, Scope::Only(_)))
    {
        cmd = cmd.arg(arg(o));
    }
    for sub in cli::SUBCOMMANDS {
        let mut s = Command::new(sub.name).about(sub.about);
        let own = |o: &&Opt| o.scope == Scope::Only(sub.which);
        let global = |o: &&Opt| o.scope == Scope::Global;
        for o in cli::OPTIONS
            .iter()
            .filter(own)
            .chain(cli::OPTIONS.iter().filter(global))
        {
            s = s.arg(arg(o));
        }
        cmd = cmd.subcommand(s);
    }
    // sesame's `help [SUBCOMMAND]`, described here: with the help flag our own, clap's
    // generated `help` subcommand did not appear in the completions.
    let names: Vec<&str> = cli::SUBCOMMANDS.iter().map(|s| s.name).collect();
    cmd.disable_help_subcommand(true).subcommand(
        Command::new("help").about(cli::HELP_ABOUT).arg(
            Arg::new("subcommand")
                .value_name("SUBCOMMAND")
                .value_parser(PossibleValuesParser::new(names)),
        ),
    )
}

fn arg(o: &Opt) -> Arg {
    let mut a = Arg::new(o.long).long(o.long).help(o.describe());
    if let Some(c) = o.short {
        a = a.short(c);
    }
    if let Some(name) = o.value.name() {
        a = a.value_name(name).allow_hyphen_values(o.hyphen_values);
    }
    match o.value {
        Value::None => a.action(match o.key {
            Key::Help => ArgAction::Help,
            Key::Version => ArgAction::Version,
            _ => ArgAction::SetTrue,
        }),
        Value::File(_) => a.value_hint(ValueHint::FilePath),
        Value::Dir(_) => a.value_hint(ValueHint::DirPath),
        Value::Text(_) => a,
        Value::OneOf(_, names) => a.value_parser(PossibleValuesParser::new(names)),
    }
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
    fn the_clap_command_is_well_formed_and_has_every_option() {
        let cmd = command();
        cmd.clone().debug_assert();
        let mut cmd = cmd;
        cmd.build();
        for o in cli::OPTIONS {
            let holder = match o.scope {
                Scope::Only(which) => {
                    let name = cli::SUBCOMMANDS
                        .iter()
                        .find(|s| s.which == which)
                        .unwrap()
                        .name;
                    cmd.find_subcommand(name).unwrap()
                }
                _ => &cmd,
            };
            let a = holder
                .get_arguments()
                .find(|a| a.get_long() == Some(o.long));
            assert!(a.is_some_and(|a| a.get_short() == o.short), "{}", o.long);
        }
    }
}
