//! One module per command; each takes its parsed arguments and returns what
//! it found, leaving printing of errors and exit codes to `main`.

mod bitmap;
mod cat;
mod completions;
mod convert;
mod endpoint;
mod findings;
mod fs;
mod guard;
mod guest_print;
mod inspect;
mod lint;
mod ls;
mod map;
mod prepare;
mod reg;
mod request;
mod scan_image;
mod target;
mod verify;
mod verify_bitmap;
mod verify_manifest;

use crate::args::Command;
use crate::exit::Outcome;
use crate::progress::Session;

/// Runs one command.
pub fn run(command: Command, session: &Session) -> anyhow::Result<Outcome> {
    match command {
        Command::Inspect(args) => inspect::run(args, session),
        Command::Map(args) => map::run(args, session),
        Command::Bitmap(args) => bitmap::run(args, session),
        Command::Convert(args) => convert::run(args, session),
        Command::Verify(args) => verify::run(args, session),
        Command::Request(args) => request::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Prepare(args) => prepare::run(args, session),
        Command::Completions(args) => completions::run(args),
        Command::Fs(args) => fs::run(args),
        Command::Ls(args) => ls::run(args),
        Command::Cat(args) => cat::run(args),
        Command::Reg(args) => reg::run(args),
    }
}
