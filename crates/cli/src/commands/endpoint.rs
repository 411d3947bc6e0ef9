//! What a path argument names: a file or block device read at random, or
//! a stream read once front to back (`-`, a FIFO, a character device).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use crate::exit::UsageError;

/// Where a command's input comes from or its output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `-`: standard input or output.
    Stdio,
    /// A FIFO or character device given by path: a stream like `-`.
    NamedStream,
    /// A regular file, a block device, or a path that does not exist yet.
    Path,
}

impl Endpoint {
    /// What `path` names.
    pub fn of(path: &Path) -> Endpoint {
        if path.as_os_str() == "-" {
            return Endpoint::Stdio;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if let Ok(meta) = std::fs::metadata(path) {
                let t = meta.file_type();
                if t.is_fifo() || t.is_char_device() || t.is_socket() {
                    return Endpoint::NamedStream;
                }
            }
        }
        Endpoint::Path
    }

    /// Whether it is read or written front to back only.
    pub fn is_stream(self) -> bool {
        self != Endpoint::Path
    }
}

/// Whether `path` is a block device (`/dev/sdb`, an LVM volume).
pub fn is_block_device(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(path).is_ok_and(|m| m.file_type().is_block_device())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Refuses a stream where `command` needs a file it can read at random
/// and has no way to copy it first (an image given next to a request read
/// from standard input).
pub fn needs_file(path: &Path, command: &str) -> anyhow::Result<()> {
    if Endpoint::of(path).is_stream() {
        return Err(UsageError(format!(
            "{command} reads {} at random and cannot take a stream here; save it to a file first",
            shown(path)
        ))
        .into());
    }
    Ok(())
}

/// An input ready to be read at random: the path given, or for a stream
/// (`-`, a FIFO) a sparse temporary copy of it, removed when this is
/// dropped.
pub struct Input {
    path: PathBuf,
    shown: String,
    _spool: Option<tempfile::TempPath>,
}

impl Input {
    /// The file to read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The input as the user named it, for messages and reports.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Whether the input came from a stream.
    pub fn is_spooled(&self) -> bool {
        self._spool.is_some()
    }
}

/// Opens `path` for a command that reads at random (`inspect`, `map`,
/// `bitmap`, `verify`, `prepare`): a file or device as it is, a stream
/// copied first into a sparse temporary file (zero pages are skipped, so a
/// mostly empty disk costs little space), which goes when the command ends.
pub fn open_input(path: &Path, command: &str, cancel: &AtomicBool) -> anyhow::Result<Input> {
    let shown = shown(path);
    if !Endpoint::of(path).is_stream() {
        return Ok(Input {
            path: path.to_owned(),
            shown,
            _spool: None,
        });
    }
    let dir = std::env::temp_dir();
    eprintln!(
        "imsprep: {command} reads its input at random: reading {shown} into a temporary file in {} first",
        dir.display()
    );
    let mut tmp = tempfile::Builder::new()
        .prefix(".imsprep-stdin.")
        .tempfile_in(&dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let mut reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("opening {shown}"))?)
    };
    let len = spool(&mut reader, tmp.as_file_mut(), cancel)
        .with_context(|| format!("copying {shown} to {}", tmp.path().display()))?;
    tmp.as_file()
        .set_len(len)
        .with_context(|| format!("sizing {}", tmp.path().display()))?;
    Ok(Input {
        path: tmp.path().to_owned(),
        shown,
        _spool: Some(tmp.into_temp_path()),
    })
}

/// Copies `reader` into `file` without writing its zero pages; returns the
/// bytes read.
fn spool(
    reader: &mut dyn Read,
    file: &mut std::fs::File,
    cancel: &AtomicBool,
) -> anyhow::Result<u64> {
    use std::os::unix::fs::FileExt;
    const PAGE: usize = 4096;
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = 0u64;
    loop {
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            anyhow::bail!("interrupted");
        }
        let mut filled = 0;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        if filled == 0 {
            return Ok(pos);
        }
        for (i, page) in buf[..filled].chunks(PAGE).enumerate() {
            if !imsprep_scan::is_zero(page) {
                file.write_all_at(page, pos + (i * PAGE) as u64)?;
            }
        }
        pos += filled as u64;
    }
}

/// A path for messages: `-` is standard input.
pub fn shown(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

/// Parses a size given on the command line: bytes, or a number with a
/// binary suffix K, M, G or T (optionally followed by `iB` or `B`).
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let bad = || {
        UsageError(format!(
            "--size {text:?} is not a size (e.g. 10737418240, 10G)"
        ))
    };
    let trimmed = text.trim();
    let end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, suffix) = trimmed.split_at(end);
    let number: u64 = digits.parse().map_err(|_| bad())?;
    let shift = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad().into()),
    };
    Ok(number.checked_mul(1u64 << shift).ok_or_else(bad)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("1TiB").unwrap(), 1 << 40);
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn a_dash_is_standard_io_and_files_are_paths() {
        assert_eq!(Endpoint::of(Path::new("-")), Endpoint::Stdio);
        assert_eq!(Endpoint::of(Path::new("/nonexistent/x")), Endpoint::Path);
        assert_eq!(Endpoint::of(Path::new("/dev/null")), Endpoint::NamedStream);
    }
}
