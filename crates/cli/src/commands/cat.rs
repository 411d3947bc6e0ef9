//! `imsprep cat`: a file of the guest (or of one file system) to standard
//! output, read in 1 MiB chunks so any size streams in bounded memory.

use std::io::Write;

use anyhow::Context;
use imsprep_fs::{FileKind, FsError};

use crate::args::CatArgs;
use crate::exit::{Outcome, UsageError};

/// Bytes read and written at a time.
const CHUNK: usize = 1 << 20;

/// Writes the file at `args.path` to stdout.
pub fn run(args: CatArgs) -> anyhow::Result<Outcome> {
    let guest = super::fs::open_view(&args.image, args.filesystem.as_deref(), "cat")?;
    if !args.path.starts_with('/') {
        return Err(UsageError(format!("{}: the path must be absolute", args.path)).into());
    }
    let path = args.path.as_bytes();
    let context = || format!("{}: {}", args.image.display(), args.path);
    let md = guest.metadata(path).with_context(context)?;
    if md.kind != FileKind::File {
        let (_, device, _) = guest.locate(path).with_context(context)?;
        return Err(anyhow::Error::new(FsError::WrongKind {
            volume: device,
            fs: "guest",
            path: path.to_vec(),
            expected: "regular file",
            found: md.kind,
        }))
        .with_context(|| args.image.display().to_string());
    }
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    loop {
        let got = guest
            .read_at(path, offset, &mut buf)
            .with_context(context)?;
        if got == 0 {
            break;
        }
        out.write_all(buf.get(..got).unwrap_or_default())
            .context("writing to standard output")?;
        offset += got as u64;
    }
    out.flush().context("writing to standard output")?;
    Ok(Outcome::Clean)
}
