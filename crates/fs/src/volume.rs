//! A volume: the bytes of a partition, a whole disk or a logical volume,
//! read through the disk model.

use std::fmt;
use std::sync::Arc;

use imsprep_disk::Disk;

use crate::error::FsError;

/// A volume is made of at most this many pieces (an LVM logical volume
/// with many segments or stripes). Bounds the map's memory and a read's
/// search.
pub const MAX_PIECES: usize = 1 << 20;

/// A contiguous run of a volume stored contiguously on the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Offset of the run in the volume.
    pub volume_offset: u64,
    /// Offset of the run on the disk.
    pub disk_offset: u64,
    /// Bytes in the run.
    pub len: u64,
}

/// A read-only volume: a list of runs of one disk, seen as one contiguous
/// byte range `[0, len)`. A partition or a whole disk is one run; a linear
/// or striped logical volume is several.
///
/// Cloning is cheap (the disk and the map are shared); reads take `&self`
/// and are positioned, so one volume is read from many threads at once.
#[derive(Clone)]
pub struct Volume {
    disk: Arc<dyn Disk>,
    name: Arc<str>,
    pieces: Arc<[Piece]>,
    len: u64,
}

impl fmt::Debug for Volume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Volume")
            .field("name", &self.name)
            .field("len", &self.len)
            .field("pieces", &self.pieces.len())
            .finish()
    }
}

impl Volume {
    /// The bytes `[start, start + len)` of `disk`, called `name` (e.g.
    /// `/dev/vda2`). An error when the range does not lie inside the disk.
    pub fn new(
        disk: Arc<dyn Disk>,
        name: impl Into<String>,
        start: u64,
        len: u64,
    ) -> Result<Volume, FsError> {
        let piece = Piece {
            volume_offset: 0,
            disk_offset: start,
            len,
        };
        Volume::mapped(disk, name, vec![piece])
    }

    /// The whole of `disk`, called `name` (e.g. `/dev/vda`).
    pub fn whole(disk: Arc<dyn Disk>, name: impl Into<String>) -> Volume {
        let len = disk.size();
        Volume {
            disk,
            name: Arc::from(name.into()),
            pieces: Arc::from(vec![Piece {
                volume_offset: 0,
                disk_offset: 0,
                len,
            }]),
            len,
        }
    }

    /// A volume made of `pieces` of `disk`, in volume order. Each piece
    /// must start where the previous one ended (the first at 0), hold at
    /// least one byte and lie inside the disk; at most [`MAX_PIECES`].
    pub fn mapped(
        disk: Arc<dyn Disk>,
        name: impl Into<String>,
        pieces: Vec<Piece>,
    ) -> Result<Volume, FsError> {
        let name: String = name.into();
        if pieces.len() > MAX_PIECES {
            return Err(FsError::limit(
                &name,
                "volume",
                "pieces of the volume map",
                pieces.len() as u64,
                MAX_PIECES as u64,
            ));
        }
        let mut len = 0u64;
        for (i, p) in pieces.iter().enumerate() {
            let disk_end = p.disk_offset.checked_add(p.len);
            let problem = if p.volume_offset != len {
                Some(format!(
                    "starts at volume offset {}; expected {len}, where the previous piece ends",
                    p.volume_offset
                ))
            } else if p.len == 0 {
                Some("holds no bytes".to_owned())
            } else if disk_end.is_none_or(|end| end > disk.size()) {
                Some(format!(
                    "disk bytes {}+{} end past the {}-byte disk",
                    p.disk_offset,
                    p.len,
                    disk.size()
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(FsError::malformed(
                    &name,
                    "volume",
                    format!("map piece {i}"),
                    problem,
                ));
            }
            len = len.checked_add(p.len).ok_or_else(|| {
                FsError::malformed(
                    &name,
                    "volume",
                    format!("map piece {i}"),
                    "length overflows",
                )
            })?;
        }
        Ok(Volume {
            disk,
            name: Arc::from(name),
            pieces: Arc::from(pieces),
            len,
        })
    }

    /// How the guest calls the volume, e.g. `/dev/vda2`, `/dev/vg/root`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Size of the volume in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the volume holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The disk the volume lies on.
    pub fn disk(&self) -> &Arc<dyn Disk> {
        &self.disk
    }

    /// Where the volume lies on the disk, in volume order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The same bytes under another name (a logical volume is both
    /// `/dev/vg/lv` and `/dev/mapper/vg-lv`).
    pub fn renamed(&self, name: impl Into<String>) -> Volume {
        Volume {
            name: Arc::from(name.into()),
            ..self.clone()
        }
    }

    /// Fills `buf` with the volume's bytes at `offset`. A read that ends
    /// past [`Volume::len`] is [`FsError::OutOfRange`], and nothing is read.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), FsError> {
        match offset.checked_add(buf.len() as u64) {
            Some(end) if end <= self.len => {}
            _ => {
                return Err(FsError::OutOfRange {
                    volume: self.name.to_string(),
                    offset,
                    len: buf.len() as u64,
                    size: self.len,
                })
            }
        }
        // The first piece holding `offset`: pieces are sorted and
        // contiguous, so a binary search on their start finds it.
        let mut index = self
            .pieces
            .partition_point(|p| p.volume_offset.saturating_add(p.len) <= offset);
        let mut pos = offset;
        let mut rest = buf;
        while !rest.is_empty() {
            let piece = self.pieces.get(index).ok_or_else(|| FsError::OutOfRange {
                volume: self.name.to_string(),
                offset,
                len: rest.len() as u64,
                size: self.len,
            })?;
            let inside = pos - piece.volume_offset;
            let here = (piece.len - inside).min(rest.len() as u64) as usize;
            let (now, later) = rest.split_at_mut(here);
            self.disk
                .read_at(piece.disk_offset + inside, now)
                .map_err(|source| FsError::Io {
                    volume: self.name.to_string(),
                    source,
                })?;
            rest = later;
            pos += here as u64;
            index += 1;
        }
        Ok(())
    }
}
