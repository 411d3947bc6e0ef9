//! Following backing (parent) files: qcow2 backing files, VMDK parents,
//! VHD and VHDX differencing disks.
//!
//! A backing file is followed only when it is found where the image says,
//! by a plain relative name in the image's own folder (or where the user
//! pointed explicitly): an image never makes imsprep read an arbitrary
//! file of the host. Chains are bounded in depth and a file met twice is a
//! loop.

use std::path::{Component, Path, PathBuf};

use crate::disk::{check_range, Disk, DiskInfo};
use crate::error::DiskError;
use crate::extent::{Allocation, Extent};
use crate::kind::{open_layer, sniff, Kind, OpenOptions};

/// Most layers a chain may have below the top image.
pub const MAX_CHAIN_DEPTH: usize = 16;

/// How backing files are found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackingPolicy {
    /// The top image's backing file, given by the user: used instead of the
    /// name the image records (which may be an absolute path of another
    /// machine).
    pub explicit: Option<PathBuf>,
}

/// Where an open is in a chain: how deep, and which files are above.
#[derive(Debug, Clone)]
pub(crate) struct Chain<'a> {
    pub options: &'a OpenOptions,
    /// Layers above this one.
    pub depth: usize,
    /// Canonical paths of the layers above, to tell a loop.
    pub seen: Vec<PathBuf>,
}

impl<'a> Chain<'a> {
    /// The chain of a top image.
    pub fn top(options: &'a OpenOptions) -> Self {
        Chain {
            options,
            depth: 0,
            seen: Vec::new(),
        }
    }

    /// Opens the backing file `name` that the image at `child` records,
    /// with the format `kind` when the image says which (sniffed from the
    /// content otherwise).
    pub fn open_backing(
        &self,
        child: &Path,
        name: &str,
        kind: Option<Kind>,
    ) -> Result<Backing, DiskError> {
        let refuse = |problem: String| DiskError::Backing {
            path: child.to_owned(),
            name: name.to_owned(),
            problem,
        };
        let path = match (&self.options.backing.explicit, self.depth) {
            (Some(explicit), 0) => explicit.clone(),
            _ => same_folder(child, name).map_err(refuse)?,
        };
        if self.depth + 1 > MAX_CHAIN_DEPTH {
            return Err(refuse(format!(
                "the chain is deeper than {MAX_CHAIN_DEPTH} layers"
            )));
        }
        let canonical = std::fs::canonicalize(&path)
            .map_err(|e| refuse(format!("{} cannot be opened: {e}", path.display())))?;
        let mut seen = self.seen.clone();
        if let Ok(me) = std::fs::canonicalize(child) {
            if !seen.contains(&me) {
                seen.push(me);
            }
        }
        if seen.contains(&canonical) {
            return Err(refuse(format!(
                "{} is already a layer above it: the chain loops",
                path.display()
            )));
        }
        seen.push(canonical);
        let below = Chain {
            options: self.options,
            depth: self.depth + 1,
            seen,
        };
        let kind = match kind {
            Some(kind) => kind,
            None => sniff(&path)?,
        };
        let disk = open_layer(&path, kind, &below)?;
        Ok(Backing { disk })
    }
}

/// The path of `name` in the folder of `child`, when it is a plain relative
/// name there (`base.qcow2` or `./base.qcow2`).
pub(crate) fn same_folder(child: &Path, name: &str) -> Result<PathBuf, String> {
    if name.is_empty() {
        return Err("the name is empty".to_string());
    }
    let relative = Path::new(name);
    let mut components = relative.components().filter(|c| *c != Component::CurDir);
    let plain = matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(_)), None)
    );
    if !plain {
        return Err(format!(
            "only a file in the same folder as the image is followed; give it with --backing-file \
             if {name:?} is the right file"
        ));
    }
    let folder = child.parent().unwrap_or(Path::new(""));
    Ok(folder.join(relative))
}

/// A backing disk as a layer below another: reads past its end are zeros
/// (a parent may be smaller than its child).
#[derive(Debug)]
pub struct Backing {
    disk: Box<dyn Disk>,
}

impl Backing {
    /// The backing disk.
    pub fn disk(&self) -> &dyn Disk {
        &*self.disk
    }

    /// The paths of this layer and every layer below it, nearest first.
    pub fn chain_paths(&self) -> Vec<PathBuf> {
        let info = self.disk.info();
        let mut paths = vec![info.path.clone()];
        paths.extend(info.backing.iter().cloned());
        paths
    }

    /// Fills `buf` with the backing disk's bytes at `offset`, zeros past its
    /// end. `child` is the disk reading through it, for range checks.
    pub fn read_at(&self, child: &DiskInfo, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        check_range(child, offset, buf.len())?;
        let size = self.disk.size();
        let inside = size.saturating_sub(offset).min(buf.len() as u64) as usize;
        let (head, tail) = buf.split_at_mut(inside);
        if !head.is_empty() {
            self.disk.read_at(offset, head)?;
        }
        tail.fill(0);
        Ok(())
    }

    /// The allocation of the backing disk at `offset`, clipped to `end`;
    /// unallocated past its end.
    pub fn extent_at(&self, offset: u64, end: u64) -> Result<Extent, DiskError> {
        if offset >= self.disk.size() {
            return Ok(Extent {
                start: offset,
                end,
                allocation: Allocation::Unallocated,
            });
        }
        let e = self.disk.extent_at(offset)?;
        Ok(Extent {
            start: offset,
            end: e.end.min(end),
            allocation: e.allocation,
        })
    }

    /// Whether any layer changed since it was opened.
    pub fn check_unchanged(&self) -> Result<(), DiskError> {
        self.disk.check_unchanged()
    }
}

#[cfg(test)]
mod tests {
    use super::same_folder;
    use std::path::Path;

    #[test]
    fn only_plain_names_in_the_same_folder_are_followed() {
        let child = Path::new("/images/top.qcow2");
        assert_eq!(
            same_folder(child, "base.qcow2").unwrap(),
            Path::new("/images/base.qcow2")
        );
        assert_eq!(
            same_folder(child, "./base.qcow2").unwrap(),
            Path::new("/images/base.qcow2")
        );
        for bad in ["/etc/shadow", "../base.qcow2", "sub/base.qcow2", "", "."] {
            assert!(same_folder(child, bad).is_err(), "{bad:?} was followed");
        }
    }
}
