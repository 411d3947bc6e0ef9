//! What a path argument names: a file or block device read at random, or
//! a stream read once front to back (`-`, a FIFO, a character device).

use std::path::Path;

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
/// (a ZVHD2's index is at its end; a scan reports back into the file).
pub fn needs_file(path: &Path, command: &str) -> anyhow::Result<()> {
    if Endpoint::of(path).is_stream() {
        return Err(UsageError(format!(
            "{command} reads {} at random and cannot take a stream; save it to a file first \
             (`imsprep convert - OUT.zvhd2 --size SIZE` converts a RAW stream)",
            shown(path)
        ))
        .into());
    }
    Ok(())
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
