//! Reading a hosted sparse extent: its grain directory (kept in memory, it
//! is small), its grain tables (through the shared [`TableCache`]), and its
//! grains, plain or zlib-compressed.
//!
//! A grain table entry (GTE) is the sector of the grain in the file: 0 is a
//! grain never written (read from the parent of a delta disk, else zeros),
//! 1 a grain of zeros (when the header allows zeroed grains), anything
//! else a grain stored after the metadata (`overHead`) and inside the file.

use std::io::Read;
use std::sync::Arc;

use flate2::read::ZlibDecoder;

use super::header::{malformed, Header, SECTOR};
use crate::cache::TableCache;
use crate::error::DiskError;
use crate::formats::bytes::{le32, le64};
use crate::io::ReadAt;

/// Most bytes of grain directories held for one image, whatever its
/// extents: a 2 TiB disk of 64 KiB grains needs 256 KiB.
pub(super) const MAX_GD_BYTES_TOTAL: u64 = 64 << 20;

/// Size of the marker before a grain in a stream-optimized extent: the
/// grain's first sector (u64) and the compressed size (u32).
const GRAIN_MARKER_BYTES: u64 = 12;

/// Grain tables of every sparse extent of one image, keyed by extent number
/// and grain directory index.
pub(super) type GtCache = TableCache<Vec<u32>>;

/// Where one grain's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grain {
    /// Never written: the parent's bytes, or zeros.
    Unallocated,
    /// A grain of zeros.
    Zero,
    /// Stored as it is at this byte offset of the file.
    Stored(u64),
    /// Stored compressed at this byte offset of the file (a marker first
    /// when the extent has markers).
    Compressed(u64),
}

/// One sparse extent file.
#[derive(Debug)]
pub(super) struct SparseExtent {
    src: ReadAt,
    header: Header,
    /// Sectors of the grain tables, one per `header.gtes_per_gt` grains.
    gd: Vec<u32>,
    cache: Arc<GtCache>,
    /// High bits of this extent's keys in `cache`.
    cache_key: u64,
}

impl SparseExtent {
    /// Opens the sparse extent `src` whose header is `header`; `number`
    /// tells its grain tables apart from other extents' in `cache`, and
    /// `gd_budget` is what is left of [`MAX_GD_BYTES_TOTAL`].
    pub fn open(
        src: ReadAt,
        header: Header,
        number: u64,
        cache: Arc<GtCache>,
        gd_budget: &mut u64,
    ) -> Result<SparseExtent, DiskError> {
        let entries = header.gd_entries();
        let bytes = entries.saturating_mul(4);
        if bytes > *gd_budget {
            return Err(malformed(
                &src,
                "header field capacity",
                12,
                format!(
                    "{} sectors in grains of {} sectors need a {bytes}-byte grain directory; \
                     at most {MAX_GD_BYTES_TOTAL} bytes of them are read per image",
                    header.capacity, header.grain_sectors
                ),
            ));
        }
        *gd_budget -= bytes;
        let gd_start = header.gd_offset.checked_mul(SECTOR);
        let inside = gd_start
            .and_then(|s| s.checked_add(bytes))
            .is_some_and(|end| header.gd_offset >= 1 && end <= src.len());
        if !inside {
            return Err(malformed(
                &src,
                "header field gdOffset",
                56,
                format!(
                    "the {bytes}-byte grain directory at sector {} must lie after the header \
                     inside the {}-byte file",
                    header.gd_offset,
                    src.len()
                ),
            ));
        }
        let raw = src.read_vec(gd_start.unwrap_or_default(), bytes)?;
        let gd = raw.chunks_exact(4).map(|c| le32(c, 0)).collect();
        Ok(SparseExtent {
            src,
            header,
            gd,
            cache,
            cache_key: number << 32,
        })
    }

    /// Virtual size of the extent in bytes.
    pub fn capacity_bytes(&self) -> u64 {
        self.header.capacity * SECTOR
    }

    /// Bytes per grain.
    pub fn grain_bytes(&self) -> u64 {
        self.header.grain_bytes()
    }

    /// Where grain `index` (counted from the extent's start) is stored.
    pub fn grain(&self, index: u64) -> Result<Grain, DiskError> {
        let per_gt = u64::from(self.header.gtes_per_gt);
        let gd_index = index / per_gt;
        let Some(&gt_sector) = usize::try_from(gd_index).ok().and_then(|i| self.gd.get(i)) else {
            // Past the capacity: callers never ask, but nothing is there.
            return Ok(Grain::Unallocated);
        };
        if gt_sector == 0 {
            return Ok(Grain::Unallocated);
        }
        let table = self.grain_table(gd_index, gt_sector)?;
        let slot = (index % per_gt) as usize;
        let gte = u64::from(table.get(slot).copied().unwrap_or_default());
        self.check_gte(gd_index, gt_sector, slot, gte)
    }

    /// Grain `index`, and how many grains from it to the end of its grain
    /// table are stored the same way (all in the file, all zeros, or all
    /// unwritten), found with one table lookup.
    pub fn run_from(&self, index: u64) -> Result<(Grain, u64), DiskError> {
        let per_gt = u64::from(self.header.gtes_per_gt);
        let gd_index = index / per_gt;
        let first_slot = index % per_gt;
        let left_in_table = per_gt - first_slot;
        let gt_sector = usize::try_from(gd_index)
            .ok()
            .and_then(|i| self.gd.get(i))
            .copied()
            .unwrap_or_default();
        if gt_sector == 0 {
            return Ok((Grain::Unallocated, left_in_table));
        }
        let table = self.grain_table(gd_index, gt_sector)?;
        let entry = |slot: u64| {
            let gte = table.get(slot as usize).copied().unwrap_or_default();
            self.check_gte(gd_index, gt_sector, slot as usize, u64::from(gte))
        };
        let first = entry(first_slot)?;
        let mut count = 1;
        for slot in first_slot + 1..per_gt {
            // A bad entry ends the run; reading that grain names it.
            match entry(slot) {
                Ok(grain) if same_kind(grain, first) => count += 1,
                _ => break,
            }
        }
        Ok((first, count))
    }

    /// The grain table at `gt_sector`, entry `gd_index` of the directory.
    fn grain_table(&self, gd_index: u64, gt_sector: u32) -> Result<Arc<Vec<u32>>, DiskError> {
        self.cache.get_or_load(self.cache_key | gd_index, || {
            let bytes = u64::from(self.header.gtes_per_gt) * 4;
            let start = u64::from(gt_sector) * SECTOR;
            if start.saturating_add(bytes) > self.src.len() {
                return Err(malformed(
                    &self.src,
                    &format!("grain directory entry {gd_index}"),
                    self.header.gd_offset * SECTOR + gd_index * 4,
                    format!(
                        "the grain table at sector {gt_sector} ends past the end of the \
                             {}-byte file",
                        self.src.len()
                    ),
                ));
            }
            let raw = self.src.read_vec(start, bytes)?;
            let table: Vec<u32> = raw.chunks_exact(4).map(|c| le32(c, 0)).collect();
            Ok((table, bytes as usize))
        })
    }

    /// What a grain table entry means, after checking it points at a grain
    /// inside the file and past the metadata.
    fn check_gte(
        &self,
        gd_index: u64,
        gt_sector: u32,
        slot: usize,
        gte: u64,
    ) -> Result<Grain, DiskError> {
        match gte {
            0 => return Ok(Grain::Unallocated),
            1 if self.header.zero_grain => return Ok(Grain::Zero),
            _ => {}
        }
        let at = u64::from(gt_sector) * SECTOR + slot as u64 * 4;
        let structure = format!("grain table entry {slot} of grain table {gd_index}");
        let first_grain = self.header.overhead.max(1);
        if gte < first_grain {
            return Err(malformed(
                &self.src,
                &structure,
                at,
                format!(
                    "grain at sector {gte} lies in the header and metadata (grains start at \
                     sector {first_grain})"
                ),
            ));
        }
        let offset = gte * SECTOR;
        let need = if self.header.compressed {
            GRAIN_MARKER_BYTES.min(self.grain_bytes())
        } else {
            self.grain_bytes()
        };
        if offset.saturating_add(need) > self.src.len() {
            return Err(malformed(
                &self.src,
                &structure,
                at,
                format!(
                    "grain at sector {gte} ends past the end of the {}-byte file",
                    self.src.len()
                ),
            ));
        }
        Ok(if self.header.compressed {
            Grain::Compressed(offset)
        } else {
            Grain::Stored(offset)
        })
    }

    /// Reads `buf.len()` bytes of a stored (uncompressed) run at `offset`
    /// of the file.
    pub fn read_stored(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        self.src.read_exact_at(offset, buf)
    }

    /// Decompresses grain `index`, stored at `offset`, into `grain` (one
    /// grain long); `needed` bytes of it must be produced (the part of the
    /// grain inside the capacity).
    pub fn read_compressed(
        &self,
        index: u64,
        offset: u64,
        needed: usize,
        grain: &mut [u8],
    ) -> Result<(), DiskError> {
        let grain_bytes = self.grain_bytes();
        // Deflate never grows data by more than a few bytes per 16 KiB
        // block; twice the grain is what QEMU allows too.
        let max_compressed = grain_bytes * 2 + SECTOR;
        let (data_offset, data_len) = if self.header.markers {
            let mut marker = [0u8; GRAIN_MARKER_BYTES as usize];
            self.src.read_exact_at(offset, &mut marker)?;
            let lba = le64(&marker, 0);
            let size = u64::from(le32(&marker, 8));
            let structure = format!("grain marker of grain {index}");
            let expected_lba = index * self.header.grain_sectors;
            if lba != expected_lba {
                return Err(malformed(
                    &self.src,
                    &structure,
                    offset,
                    format!("expected lba {expected_lba}; found {lba}"),
                ));
            }
            if size == 0 || size > max_compressed {
                return Err(malformed(
                    &self.src,
                    &structure,
                    offset,
                    format!(
                        "expected a compressed size from 1 to {max_compressed} bytes; found {size}"
                    ),
                ));
            }
            let data_offset = offset + GRAIN_MARKER_BYTES;
            if data_offset.saturating_add(size) > self.src.len() {
                return Err(malformed(
                    &self.src,
                    &structure,
                    offset,
                    format!(
                        "{size} compressed bytes end past the end of the {}-byte file",
                        self.src.len()
                    ),
                ));
            }
            (data_offset, size)
        } else {
            // No marker says the size: read what may hold it, the zlib
            // stream ends by itself.
            (offset, max_compressed.min(self.src.len() - offset))
        };
        let compressed = self.src.read_vec(data_offset, data_len)?;
        let produced = inflate_into(&compressed, grain).map_err(|problem| {
            malformed(
                &self.src,
                &format!("compressed grain {index}"),
                offset,
                problem,
            )
        })?;
        if produced < needed {
            return Err(malformed(
                &self.src,
                &format!("compressed grain {index}"),
                offset,
                format!("decompressed to {produced} bytes; expected {needed}"),
            ));
        }
        grain.get_mut(produced..).unwrap_or_default().fill(0);
        Ok(())
    }
}

/// Whether two grains are stored the same way (their offsets aside).
fn same_kind(a: Grain, b: Grain) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}

/// Inflates the zlib stream `compressed` into `out`, refusing a stream that
/// expands past it; returns the bytes produced.
fn inflate_into(compressed: &[u8], out: &mut [u8]) -> Result<usize, String> {
    let mut decoder = ZlibDecoder::new(compressed);
    let mut filled = 0;
    while filled < out.len() {
        let dest = out.get_mut(filled..).unwrap_or_default();
        match decoder.read(dest) {
            Ok(0) => return Ok(filled),
            Ok(n) => filled += n,
            Err(e) => return Err(format!("the zlib stream is damaged: {e}")),
        }
    }
    let mut probe = [0u8; 1];
    match decoder.read(&mut probe) {
        Ok(0) => Ok(filled),
        Ok(_) => Err(format!(
            "the zlib stream expands past the {}-byte grain",
            out.len()
        )),
        Err(e) => Err(format!("the zlib stream is damaged: {e}")),
    }
}
