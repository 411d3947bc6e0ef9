//! Reparse points: symbolic links and junctions become links whose target
//! is what the guest sees (`C:\Users\x` or a relative `..\lib`); every
//! other tag is named, never followed.

use crate::bytes::{le16, le32, slice};

/// Symbolic link (`mklink`, or `ln -s` through ntfs-3g).
pub const TAG_SYMLINK: u32 = 0xA000_000C;
/// Junction or volume mount point (`mklink /J`).
pub const TAG_MOUNT_POINT: u32 = 0xA000_0003;

/// What a reparse point's data says.
pub struct Reparse {
    /// The reparse tag.
    pub tag: u32,
    /// The link target (UTF-8) for symlinks and junctions; `None` for
    /// other tags or when the names do not lie inside the data.
    pub target: Option<Vec<u8>>,
}

/// Parses the value of a `$REPARSE_POINT` attribute.
pub fn parse(data: &[u8]) -> Reparse {
    let tag = le32(data, 0);
    // Symlinks carry 4 bytes of flags before the names; junctions do not.
    let buffer: usize = match tag {
        TAG_SYMLINK => 20,
        TAG_MOUNT_POINT => 16,
        _ => return Reparse { tag, target: None },
    };
    let name = |at: usize| {
        let off = usize::from(le16(data, at));
        let len = usize::from(le16(data, at + 2));
        let bytes = slice(data, buffer.saturating_add(off), len);
        (bytes.len() == len && len % 2 == 0).then(|| utf16(bytes))
    };
    let substitute = name(8);
    let print = name(12);
    let target = match (print, substitute) {
        (Some(p), _) if !p.is_empty() => Some(p),
        (_, Some(s)) => Some(strip_nt_prefix(s)),
        _ => None,
    };
    Reparse {
        tag,
        target: target.map(String::into_bytes),
    }
}

/// UTF-16LE bytes as UTF-8 (unpaired surrogates become U+FFFD).
pub fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| le16(c, 0)).collect();
    String::from_utf16_lossy(&units)
}

/// `\??\C:\x` is how the NT object manager names `C:\x`.
fn strip_nt_prefix(name: String) -> String {
    match name.strip_prefix(r"\??\") {
        Some(rest) => rest.to_owned(),
        None => name,
    }
}

/// The name of a reparse tag for a note.
pub fn tag_name(tag: u32) -> String {
    let known = match tag {
        0x8000_0017 => "WOF (compressed system file)",
        0x8000_0013 => "deduplication",
        0x9000_001A | 0x9000_101A | 0x9000_201A | 0x9000_301A => "cloud files (OneDrive)",
        0x8000_001B => "app execution alias",
        0x8000_0023 => "AF_UNIX socket",
        0x8000_0014 => "NFS",
        0x8000_0024 => "WSL symlink",
        _ => "",
    };
    if known.is_empty() {
        format!("NTFS reparse point with tag {tag:#010X} (not followed)")
    } else {
        format!("NTFS reparse point with tag {tag:#010X}, {known} (not followed)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn symlink_and_junction_targets() {
        let sub = utf16le(r"\??\C:\Users");
        let print = utf16le(r"C:\Users");
        let mut data = TAG_MOUNT_POINT.to_le_bytes().to_vec();
        data.extend_from_slice(&[0; 4]);
        for v in [0, sub.len(), sub.len() + 2, print.len()] {
            data.extend_from_slice(&(v as u16).to_le_bytes());
        }
        data.extend_from_slice(&sub);
        data.extend_from_slice(&[0, 0]);
        data.extend_from_slice(&print);
        let r = parse(&data);
        assert_eq!(r.target.as_deref(), Some(&br"C:\Users"[..]));
        // A name past the data gives no target, not a panic.
        data.truncate(20);
        assert!(parse(&data).target.is_none());
    }
}
