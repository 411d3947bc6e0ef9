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
    let cli = args::Cli::parse();
    let session = progress::Session::start(cli.quiet);
    let result = commands::run(cli.command, &session);
    exit::finish(result, &session)
}
