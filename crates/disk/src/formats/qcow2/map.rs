//! From a guest offset to where its bytes are: the L1 table (read once at
//! open), L2 tables (through a bounded cache), and the runs of clusters or
//! subclusters of one kind that a single L2 table describes.

use std::sync::Arc;

use crate::cache::TableCache;
use crate::error::DiskError;
use crate::io::ReadAt;

use super::compressed::{self, Descriptor};
use super::header::{check_table, Header, FORMAT};

/// Bits 9..=55 of an L1 or standard L2 entry: a host offset.
const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
/// L2 entry bit 62: the cluster is compressed.
const COMPRESSED: u64 = 1 << 62;
/// L2 entry bit 0 (version 3, without extended L2): the cluster reads as
/// zeros.
const ZERO: u64 = 1;
/// Subclusters in a cluster with extended L2 entries.
const SUBCLUSTERS: u64 = 32;
/// Bytes of L2 tables kept in memory per image...
const L2_CACHE_BYTES: u64 = 32 << 20;
/// ...and at most this many tables: the cache finds its least recently
/// used table by a scan, so 512-byte clusters (64 Ki tables in 32 MiB)
/// would make every miss slow. 2048 tables still cover at least 64 MiB of
/// the guest, far more than a sequential read needs.
const L2_CACHE_TABLES: u64 = 2048;

/// What one cluster or subcluster of the guest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    /// Stored uncompressed at `host` (the start of the unit).
    Data { host: u64 },
    /// Part of a compressed cluster.
    Compressed(Descriptor),
    /// Reads as zeros.
    Zero,
    /// Not stored here: read from the backing file, or zeros.
    Unallocated,
}

/// How neighbouring units join into one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Join {
    /// Same allocation (data, compressed or not, is one kind): for
    /// `extent_at`.
    Allocation,
    /// What one read can serve: data stored contiguously in the file, or
    /// zeros, or unallocated; a compressed cluster stands alone.
    Read,
}

/// A run of units of one kind starting at a guest offset.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    /// The first unit (for data, the host offset of `unit_start`).
    pub unit: Unit,
    /// Guest offset where that unit begins (for a compressed unit, where
    /// its whole cluster begins).
    pub unit_start: u64,
    /// Guest offset one past the run's end.
    pub end: u64,
}

/// The mapping of an image's guest clusters.
pub(super) struct Map {
    path: std::path::PathBuf,
    file_len: u64,
    cluster_bits: u32,
    /// log2 of the bytes of a unit: a cluster, or a subcluster.
    unit_bits: u32,
    /// log2 of the guest bytes one L2 table maps.
    table_span_bits: u32,
    extended_l2: bool,
    version: u32,
    size: u64,
    /// The active L1 table, as many entries as the virtual size needs.
    l1: Vec<u64>,
    l2_cache: TableCache<Vec<u64>>,
}

impl std::fmt::Debug for Map {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Map")
            .field("cluster_bits", &self.cluster_bits)
            .field("extended_l2", &self.extended_l2)
            .field("l1_entries", &self.l1.len())
            .finish_non_exhaustive()
    }
}

impl Map {
    /// Reads the L1 table the header names and checks each entry.
    pub fn open(src: &ReadAt, header: &Header) -> Result<Map, DiskError> {
        let cluster_bits = header.cluster_bits;
        let cluster_size = header.cluster_size();
        let entry_bits = if header.extended_l2 { 4 } else { 3 };
        // The header bounded l1_entries by 4 Mi and by the file, so this
        // read is at most 32 MiB.
        let bytes = src.read_vec(header.l1_table_offset, header.l1_entries * 8)?;
        let l1 = be64_words(&bytes);
        for (i, &entry) in l1.iter().enumerate() {
            let l2_offset = entry & OFFSET_MASK;
            if l2_offset != 0 {
                check_table(
                    src.path(),
                    &format!("L1 entry {i}"),
                    header.l1_table_offset + i as u64 * 8,
                    l2_offset,
                    cluster_size,
                    cluster_size,
                    src.len(),
                )?;
            }
        }
        Ok(Map {
            path: src.path().to_owned(),
            file_len: src.len(),
            cluster_bits,
            unit_bits: if header.extended_l2 {
                cluster_bits - 5
            } else {
                cluster_bits
            },
            table_span_bits: cluster_bits + cluster_bits - entry_bits,
            extended_l2: header.extended_l2,
            version: header.version,
            size: header.size,
            l1,
            l2_cache: TableCache::new(L2_CACHE_BYTES.min(L2_CACHE_TABLES * cluster_size) as usize),
        })
    }

    /// The run starting at guest offset `pos` (`pos < limit <= size`),
    /// ending at `limit`, at the end of the L2 table that maps `pos`, or
    /// where the next unit does not `join`, whichever comes first.
    pub fn run_at(&self, src: &ReadAt, pos: u64, limit: u64, join: Join) -> Result<Run, DiskError> {
        let l1_index = pos >> self.table_span_bits;
        let table_start = l1_index << self.table_span_bits;
        let table_end = (table_start + (1u64 << self.table_span_bits))
            .min(limit)
            .min(self.size);
        let entry = self.l1.get(l1_index as usize).copied().ok_or_else(|| {
            DiskError::malformed(
                &self.path,
                FORMAT,
                "L1 table",
                0,
                format!(
                    "offset {pos} needs entry {l1_index}; the table has {}",
                    self.l1.len()
                ),
            )
        })?;
        let l2_offset = entry & OFFSET_MASK;
        if l2_offset == 0 {
            // The L1 table is in memory: the following entries that map no
            // table join the run at no cost.
            let limit = limit.min(self.size);
            let mut end = table_end;
            let mut next = l1_index + 1;
            while end < limit
                && self
                    .l1
                    .get(next as usize)
                    .is_some_and(|e| e & OFFSET_MASK == 0)
            {
                end = (end + (1u64 << self.table_span_bits)).min(limit);
                next += 1;
            }
            return Ok(Run {
                unit: Unit::Unallocated,
                unit_start: pos,
                end,
            });
        }
        let table = self.l2_table(src, l2_offset)?;
        let unit_size = 1u64 << self.unit_bits;
        let first_index = (pos - table_start) >> self.unit_bits;
        let unit_start = table_start + (first_index << self.unit_bits);
        let first = self.unit(&table, l2_offset, first_index)?;
        let (unit_start, mut end) = match first {
            Unit::Compressed(_) => {
                let cluster_start = (pos >> self.cluster_bits) << self.cluster_bits;
                (cluster_start, cluster_start + (1u64 << self.cluster_bits))
            }
            _ => (unit_start, unit_start + unit_size),
        };
        // At most one table's units (4 Mi subclusters with 2 MiB clusters).
        while end < table_end {
            let index = (end - table_start) >> self.unit_bits;
            // A damaged entry further on ends the run; it is reported when
            // that offset itself is asked for.
            let Ok(next) = self.unit(&table, l2_offset, index) else {
                break;
            };
            let joins = match (join, first, next) {
                (Join::Allocation, a, b) => allocation_kind(a) == allocation_kind(b),
                (Join::Read, Unit::Data { host: a }, Unit::Data { host: b }) => {
                    Some(b) == a.checked_add(end - unit_start)
                }
                (Join::Read, Unit::Zero, Unit::Zero) => true,
                (Join::Read, Unit::Unallocated, Unit::Unallocated) => true,
                (Join::Read, _, _) => false,
            };
            if !joins {
                break;
            }
            end += unit_size;
        }
        Ok(Run {
            unit: first,
            unit_start,
            end: end.min(table_end),
        })
    }

    /// The L2 table at `l2_offset` (checked against the file at open).
    fn l2_table(&self, src: &ReadAt, l2_offset: u64) -> Result<Arc<Vec<u64>>, DiskError> {
        self.l2_cache.get_or_load(l2_offset, || {
            let cluster_size = 1u64 << self.cluster_bits;
            let bytes = src.read_vec(l2_offset, cluster_size)?;
            Ok((be64_words(&bytes), cluster_size as usize))
        })
    }

    /// Decodes unit `index` of the L2 table at `l2_offset`.
    fn unit(&self, table: &[u64], l2_offset: u64, index: u64) -> Result<Unit, DiskError> {
        let (entry_index, subcluster) = if self.extended_l2 {
            (index / SUBCLUSTERS, index % SUBCLUSTERS)
        } else {
            (index, 0)
        };
        let words = if self.extended_l2 { 2 } else { 1 };
        let word = |i: u64| table.get((entry_index * words + i) as usize).copied();
        let at = l2_offset + entry_index * words * 8;
        let bad = |problem: String| {
            DiskError::malformed(
                &self.path,
                FORMAT,
                format!("L2 entry {entry_index}"),
                at,
                problem,
            )
        };
        let entry = word(0).ok_or_else(|| bad("past the end of its table".to_string()))?;
        let cluster_size = 1u64 << self.cluster_bits;

        if entry & COMPRESSED != 0 {
            let d = compressed::descriptor(entry, self.cluster_bits);
            if d.host < cluster_size {
                return Err(bad(format!(
                    "the compressed cluster's data at {} lies inside the header cluster",
                    d.host
                )));
            }
            // The last sector may be cut short at the end of the file.
            let file_end = self.file_len.div_ceil(512) * 512;
            if d.host >= self.file_len || d.host + d.len > file_end {
                return Err(bad(format!(
                    "the compressed cluster's {} bytes at {} run past the end of the {}-byte file",
                    d.len, d.host, self.file_len
                )));
            }
            return Ok(Unit::Compressed(d));
        }

        let host = entry & OFFSET_MASK;
        if host % cluster_size != 0 {
            return Err(bad(format!(
                "expected a cluster offset that is a multiple of {cluster_size}; found {host}"
            )));
        }
        let stored = |host: u64| {
            if host >= self.file_len {
                Err(bad(format!(
                    "the cluster at {host} lies past the end of the {}-byte file",
                    self.file_len
                )))
            } else {
                Ok(Unit::Data { host })
            }
        };

        if !self.extended_l2 {
            if entry & ZERO != 0 {
                if self.version < 3 {
                    return Err(bad(
                        "the zero flag (bit 0) is set in a version 2 image, which has none"
                            .to_string(),
                    ));
                }
                return Ok(Unit::Zero);
            }
            return if host == 0 {
                Ok(Unit::Unallocated)
            } else {
                stored(host)
            };
        }

        // Extended L2: bits 0..32 of the second word say which subclusters
        // are allocated, bits 32..64 which read as zeros.
        let bitmap = word(1).ok_or_else(|| bad("past the end of its table".to_string()))?;
        let allocated = bitmap as u32;
        let zeros = (bitmap >> 32) as u32;
        let bit = 1u32 << subcluster;
        if host == 0 {
            if allocated != 0 {
                return Err(bad(format!(
                    "subclusters are marked allocated ({allocated:#010x}) in an unallocated cluster"
                )));
            }
        } else if allocated & zeros != 0 {
            return Err(bad(format!(
                "subclusters {:#010x} are marked both allocated and zero",
                allocated & zeros
            )));
        }
        if allocated & bit != 0 {
            stored(host + (subcluster << self.unit_bits))
        } else if zeros & bit != 0 {
            Ok(Unit::Zero)
        } else {
            Ok(Unit::Unallocated)
        }
    }
}

/// Units of the same allocation: data (compressed or not), zero,
/// unallocated.
fn allocation_kind(unit: Unit) -> u8 {
    match unit {
        Unit::Data { .. } | Unit::Compressed(_) => 0,
        Unit::Zero => 1,
        Unit::Unallocated => 2,
    }
}

/// Big-endian 64-bit words of `bytes` (a trailing partial word dropped).
fn be64_words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| <[u8; 8]>::try_from(c).map_or(0, u64::from_be_bytes))
        .collect()
}
