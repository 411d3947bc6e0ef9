//! Splitting the byte-string paths of [`crate::FileSystem`].

use crate::error::FsError;

/// Paths longer than this are refused.
pub const MAX_PATH_LEN: usize = 64 * 1024;

/// The components of the absolute `path`: empty and `.` components
/// skipped; `..`, a NUL byte, a relative or too long path refused.
/// `volume` names the volume in the error.
pub fn components<'a>(volume: &str, path: &'a [u8]) -> Result<Vec<&'a [u8]>, FsError> {
    let invalid = |problem: &str| FsError::InvalidPath {
        volume: volume.to_owned(),
        path: path.iter().copied().take(4096).collect(),
        problem: problem.to_owned(),
    };
    if path.len() > MAX_PATH_LEN {
        return Err(invalid("longer than 64 KiB"));
    }
    if path.first() != Some(&b'/') {
        return Err(invalid("not absolute (it must start with '/')"));
    }
    if path.contains(&0) {
        return Err(invalid("holds a NUL byte"));
    }
    let mut out = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(invalid("holds '..'; resolve it above the file system")),
            name => out.push(name),
        }
    }
    Ok(out)
}

/// `/` followed by the first `n` of `parts` joined by `/`: the path up to
/// a component, for messages.
pub fn prefix(parts: &[&[u8]], n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts.iter().take(n) {
        out.push(b'/');
        out.extend_from_slice(part);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_refuses() {
        let parts = components("v", b"//usr/./lib//x/").unwrap();
        assert_eq!(parts, vec![&b"usr"[..], b"lib", b"x"]);
        assert!(components("v", b"/").unwrap().is_empty());
        assert!(components("v", b"usr").is_err());
        assert!(components("v", b"/a/../b").is_err());
        assert!(components("v", b"/a\0b").is_err());
        assert_eq!(prefix(&parts, 2), b"/usr/lib");
        assert_eq!(prefix(&parts, 0), b"/");
    }
}
