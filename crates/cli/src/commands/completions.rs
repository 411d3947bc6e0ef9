//! `imsprep completions SHELL`: a completion script on stdout.

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs};
use crate::exit::Outcome;

/// Prints the completion script for the chosen shell.
pub fn run(args: CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "imsprep", &mut std::io::stdout());
    Ok(Outcome::Clean)
}
