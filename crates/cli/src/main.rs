//! `imsprep`: prepare and check disk images for Huawei Cloud IMS fast import.
//!
//! This binary only orchestrates: it parses the command line, runs the
//! libraries, draws progress and prints reports. The logic lives in the
//! `imsprep-*` library crates.

mod args;
mod commands;
mod exit;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = args::Cli::parse();
    let session = progress::Session::start(cli.quiet);
    let result = commands::run(cli.command, &session);
    exit::finish(result, &session)
}

/// Rust ignores SIGPIPE, which turns `imsprep inspect x | head` into a panic
/// in `println!`; a command-line tool should end quietly instead, as other
/// Unix tools do when their reader goes away.
fn restore_sigpipe() {
    // SAFETY: runs first in `main`, before any other thread exists, and
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
