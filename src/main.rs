//! The `sesame` binary: everything lives in the library; this only turns its verdict
//! into the process's exit code.

fn main() {
    std::process::exit(sesame::run());
}
