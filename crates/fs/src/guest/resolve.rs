//! Resolving guest paths: component by component across mount points
//! (the longest mount-point prefix wins), following symbolic links inside
//! the guest as Linux does.
//!
//! An absolute link target starts again from the guest's root, a relative
//! one from the link's directory; `..` never goes above `/` (at `/` it
//! stays at `/`), so no link reaches outside the guest. At most
//! [`MAX_LINKS`] links are followed for one path (Linux's limit), which
//! is how a loop ends; paths (and the rest of a path after a link is
//! expanded) are at most [`MAX_PATH`] bytes and [`MAX_COMPONENTS`]
//! components. NTFS link targets (`C:\Users\x`, `..\lib`) are read
//! with `\` as the separator and a drive as the guest's root.

use std::sync::Arc;

use crate::error::FsError;
use crate::filesystem::{FileKind, FileSystem, FsKind, Metadata};

/// Symbolic links followed at most while resolving one path.
pub const MAX_LINKS: u32 = 40;
/// Bytes of a guest path (and of what is left to resolve) at most.
pub const MAX_PATH: usize = 4096;
/// Components of a resolved path at most.
pub const MAX_COMPONENTS: usize = 256;

/// A file system mounted somewhere in the guest's tree.
#[derive(Debug, Clone)]
pub struct Mounted {
    /// Components of the mount point (empty for `/`).
    pub at: Vec<Vec<u8>>,
    /// The device name, for messages.
    pub device: String,
    /// The file system.
    pub fs: Arc<dyn FileSystem>,
}

/// Where a resolved guest path lies.
#[derive(Debug, Clone)]
pub struct Located<'a> {
    /// The guest path after resolution, `/`-joined.
    pub guest_path: Vec<u8>,
    /// The mount holding it.
    pub mount: &'a Mounted,
    /// The path inside that file system.
    pub fs_path: Vec<u8>,
}

/// `/` and `parts` joined by `/`.
pub fn join(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Splits a path into its components, in reverse order, onto a stack;
/// returns the bytes pushed (each component and its `/`).
fn push_reversed(stack: &mut Vec<Vec<u8>>, path: &[u8]) -> usize {
    let mut bytes = 0;
    for part in path.split(|&b| b == b'/').rev() {
        if !part.is_empty() && part != b"." {
            bytes += part.len() + 1;
            stack.push(part.to_vec());
        }
    }
    bytes
}

/// The mounts of one guest, longest match first when looked up.
#[derive(Debug, Clone, Default)]
pub struct MountTable {
    mounts: Vec<Mounted>,
}

impl MountTable {
    /// A table of `mounts`; a later mount on the same point hides an
    /// earlier one, as in the guest.
    pub fn new(mounts: Vec<Mounted>) -> MountTable {
        MountTable { mounts }
    }

    /// The mounts, in the order given.
    pub fn mounts(&self) -> &[Mounted] {
        &self.mounts
    }

    /// The mount holding `parts` and the path inside it.
    fn locate(&self, parts: &[Vec<u8>]) -> Option<(&Mounted, Vec<u8>)> {
        let mount = self
            .mounts
            .iter()
            .enumerate()
            .filter(|(_, m)| parts.starts_with(&m.at))
            // Longest prefix; among equal ones, the last mounted.
            .max_by_key(|(i, m)| (m.at.len(), *i))
            .map(|(_, m)| m)?;
        let rest = parts.get(mount.at.len()..).unwrap_or(&[]);
        Some((mount, join(rest)))
    }

    /// The mount whose mount point is exactly `parts` (the last one).
    pub fn mounted_at(&self, parts: &[Vec<u8>]) -> Option<&Mounted> {
        self.mounts.iter().rev().find(|m| m.at == parts)
    }

    fn no_root(path: &[u8]) -> FsError {
        FsError::InvalidPath {
            volume: "guest".to_owned(),
            path: path.to_vec(),
            problem: "no root file system was found in the guest".to_owned(),
        }
    }

    /// Resolves the guest path `path`; the last component is followed
    /// when it is a link and `follow_last` is set.
    pub fn resolve(&self, path: &[u8], follow_last: bool) -> Result<Located<'_>, FsError> {
        let invalid = |problem: &str| FsError::InvalidPath {
            volume: "guest".to_owned(),
            path: path.iter().copied().take(MAX_PATH).collect(),
            problem: problem.to_owned(),
        };
        if path.len() > MAX_PATH {
            return Err(invalid("longer than 4096 bytes"));
        }
        if path.first() != Some(&b'/') {
            return Err(invalid("not absolute (it must start with '/')"));
        }
        if path.contains(&0) {
            return Err(invalid("holds a NUL byte"));
        }
        if self.mounts.is_empty() {
            return Err(Self::no_root(path));
        }
        let mut pending: Vec<Vec<u8>> = Vec::new();
        // Bytes of what is left to resolve, kept within MAX_PATH as links
        // are expanded.
        let mut pending_bytes = push_reversed(&mut pending, path);
        let mut cur: Vec<Vec<u8>> = Vec::new();
        let mut links = 0u32;
        while let Some(part) = pending.pop() {
            pending_bytes = pending_bytes.saturating_sub(part.len() + 1);
            if part == b".." {
                cur.pop();
                continue;
            }
            cur.push(part);
            if cur.len() > MAX_COMPONENTS {
                return Err(invalid("resolves to more than 256 components"));
            }
            let last = pending.is_empty();
            if last && !follow_last {
                break;
            }
            let (mount, fs_path) = self.locate(&cur).ok_or_else(|| Self::no_root(path))?;
            let md = mount
                .fs
                .metadata(&fs_path)
                .map_err(|e| in_guest(e, &join(&cur)))?;
            match md.kind {
                FileKind::Symlink => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(FsError::LimitExceeded {
                            volume: mount.device.clone(),
                            fs: mount.fs.info().kind.name(),
                            what: format!(
                                "symbolic links followed resolving {} (a loop)",
                                crate::error::show(path)
                            ),
                            found: u64::from(links),
                            limit: u64::from(MAX_LINKS),
                        });
                    }
                    let target = mount
                        .fs
                        .read_link(&fs_path)
                        .map_err(|e| in_guest(e, &join(&cur)))?;
                    if target.is_empty() || target.len() > MAX_PATH || target.contains(&0) {
                        return Err(FsError::malformed(
                            &mount.device,
                            mount.fs.info().kind.name(),
                            format!("symbolic link {}", crate::error::show(&join(&cur))),
                            "the target is empty, longer than 4096 bytes or holds a NUL byte",
                        ));
                    }
                    let target = if mount.fs.info().kind == FsKind::Ntfs {
                        windows_target(&target)
                    } else {
                        target
                    };
                    cur.pop();
                    if target.first() == Some(&b'/') {
                        cur.clear();
                    }
                    pending_bytes += push_reversed(&mut pending, &target);
                    if pending_bytes > MAX_PATH {
                        return Err(invalid(
                            "grows past 4096 bytes as its symbolic links are expanded",
                        ));
                    }
                }
                FileKind::Dir => {}
                _ if last => {}
                _ => {
                    return Err(FsError::NotADirectory {
                        volume: mount.device.clone(),
                        fs: mount.fs.info().kind.name(),
                        path: join(&cur),
                    })
                }
            }
        }
        let (mount, fs_path) = self.locate(&cur).ok_or_else(|| Self::no_root(path))?;
        Ok(Located {
            guest_path: join(&cur),
            mount,
            fs_path,
        })
    }

    /// `lstat` (or `stat` with `follow`) of a guest path.
    pub fn metadata(&self, path: &[u8], follow: bool) -> Result<Metadata, FsError> {
        let at = self.resolve(path, follow)?;
        at.mount
            .fs
            .metadata(&at.fs_path)
            .map_err(|e| in_guest(e, &at.guest_path))
    }
}

/// An NTFS link target as a guest path: backslashes become `/`, and
/// a drive (`C:\Users`) is taken as the root of the guest's tree, the
/// only drive this view has.
fn windows_target(target: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = target
        .iter()
        .map(|&b| if b == b'\\' { b'/' } else { b })
        .collect();
    if let [letter, b':', ..] = out.as_slice() {
        if letter.is_ascii_alphabetic() {
            out.drain(..2);
            if out.first() != Some(&b'/') {
                out.insert(0, b'/');
            }
        }
    }
    out
}

/// An error of a file system re-worded with the guest path (the volume
/// and the file system are already named).
pub fn in_guest(e: FsError, guest_path: &[u8]) -> FsError {
    match e {
        FsError::NotFound { volume, fs, .. } => FsError::NotFound {
            volume,
            fs,
            path: guest_path.to_vec(),
        },
        FsError::WrongKind {
            volume,
            fs,
            expected,
            found,
            ..
        } => FsError::WrongKind {
            volume,
            fs,
            path: guest_path.to_vec(),
            expected,
            found,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::windows_target;

    #[test]
    fn windows_targets_become_guest_paths() {
        assert_eq!(windows_target(b"C:\\Users\\x"), b"/Users/x");
        assert_eq!(windows_target(b"..\\lib"), b"../lib");
        assert_eq!(windows_target(b"D:"), b"/");
        assert_eq!(windows_target(b"rel/x"), b"rel/x");
    }
}
