//! The `sesame` binary: everything lives in the library; this only turns its verdict
//! into the process's exit code.
//!
//! `no_main`: sesame starts from C's `main`, not from Rust's runtime start-up, which
//! would set SIGPIPE to "ignored" and forget what it was (a disposition the exec'd
//! program inherits, so a `yes | head`-style pipeline behind sesame would behave
//! differently than without it; sesame ignores SIGPIPE itself, but remembers and gives
//! back what it was given: `init::ignore_sigpipe`)
//! and parse /proc/self/maps for a stack guard sesame does not need. The one part of
//! that start-up worth keeping is done here: file descriptors 0, 1 and 2 are opened on
//! /dev/null when closed, so a secret file can never be opened as "stderr".
// (Not under `cargo test`, whose harness brings its own `main`.)
#![cfg_attr(not(test), no_main)]

/// Every heap block is zeroed before it is freed (`sesame::wipe_alloc` says why).
#[global_allocator]
static ALLOCATOR: sesame::wipe_alloc::WipeOnFree = sesame::wipe_alloc::WipeOnFree;

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    sanitize_stdio();
    std::process::exit(sesame::run())
}

#[cfg(not(test))]
/// Opens /dev/null on any of the standard descriptors that is closed, as Rust's own
/// start-up does.
fn sanitize_stdio() {
    use nix::libc;
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd for the duration of the call.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for pfd in fds {
        if pfd.revents & libc::POLLNVAL != 0 {
            // SAFETY: a constant C string; the descriptor is deliberately leaked so that
            // it keeps the closed slot (open returns the lowest free descriptor).
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}
