//! The file allocation table: entries (12-bit packed, 16-bit, 32-bit
//! masked to 28 bits) and the cluster chains they link, every walk bounded.

use std::sync::Arc;

use imsprep_disk::TableCache;

use crate::{FsError, FsKind, Volume};

use super::boot::Geometry;

/// Bytes of the FAT read and cached at once.
const CHUNK: u64 = 64 * 1024;
/// Bytes of FAT chunks kept.
const CHUNK_CACHE_BYTES: usize = 16 << 20;
/// A chain is kept as at most this many contiguous runs (32 MiB): a file
/// in more fragments than that is refused rather than held.
pub(super) const MAX_RUNS: usize = 1 << 22;

/// Where a FAT entry leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// The next cluster of the chain.
    Next(u32),
    /// End of chain.
    End,
}

/// A run of consecutive clusters in a chain.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    /// Index in the chain of the run's first cluster.
    pub index: u32,
    /// The run's first cluster number.
    pub cluster: u32,
    /// Clusters in the run.
    pub count: u32,
}

/// The first clusters of a chain, as runs.
#[derive(Debug)]
pub(super) struct Chain {
    /// The runs, in chain order.
    pub runs: Vec<Run>,
    /// Clusters the runs hold.
    pub len: u32,
}

impl Chain {
    /// The cluster at chain index `index` and how many clusters follow it
    /// contiguously (itself included), if the chain holds it.
    pub(super) fn locate(&self, index: u32) -> Option<(u32, u32)> {
        let at = self.runs.partition_point(|r| r.index + r.count <= index);
        let run = self.runs.get(at)?;
        let inside = index.checked_sub(run.index)?;
        (inside < run.count).then(|| (run.cluster + inside, run.count - inside))
    }
}

/// The FAT of one volume, read through a bounded cache of chunks.
#[derive(Debug)]
pub(super) struct Table {
    vol: Volume,
    fs: &'static str,
    kind: FsKind,
    offset: u64,
    bytes: u64,
    last_cluster: u32,
    chunks: TableCache<Vec<u8>>,
}

/// The chunk a walk holds, so following a chain does not go through the
/// cache's lock once per cluster.
#[derive(Default)]
struct Cursor {
    chunk: Option<(u64, Arc<Vec<u8>>)>,
}

impl Table {
    /// The FAT `geo` describes, on `vol`.
    pub(super) fn new(vol: Volume, geo: &Geometry) -> Table {
        Table {
            vol,
            fs: geo.kind.name(),
            kind: geo.kind,
            offset: geo.fat_offset,
            bytes: geo.fat_bytes,
            last_cluster: geo.last_cluster(),
            chunks: TableCache::new(CHUNK_CACHE_BYTES),
        }
    }

    fn error(&self, structure: String, problem: String) -> FsError {
        FsError::malformed(self.vol.name(), self.fs, structure, problem)
    }

    /// The byte at `pos` of the FAT.
    fn byte(&self, cursor: &mut Cursor, pos: u64) -> Result<u8, FsError> {
        let index = pos / CHUNK;
        if !matches!(&cursor.chunk, Some((at, _)) if *at == index) {
            let chunk = self.chunks.get_or_load(index, || {
                let start = index * CHUNK;
                let len = CHUNK.min(self.bytes.saturating_sub(start));
                let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
                self.vol.read_at(self.offset + start, &mut buf)?;
                let bytes = buf.len() + 64;
                Ok::<_, FsError>((buf, bytes))
            })?;
            cursor.chunk = Some((index, chunk));
        }
        let inside = usize::try_from(pos % CHUNK).unwrap_or(usize::MAX);
        let byte = match &cursor.chunk {
            Some((_, chunk)) => chunk.get(inside).copied(),
            None => None,
        };
        byte.ok_or_else(|| {
            self.error(
                format!("FAT byte {pos}"),
                format!("past the {}-byte FAT", self.bytes),
            )
        })
    }

    /// The raw entry of `cluster` (FAT32: all 32 bits).
    fn raw_entry(&self, cursor: &mut Cursor, cluster: u32) -> Result<u32, FsError> {
        let n = u64::from(cluster);
        Ok(match self.kind {
            FsKind::Fat12 => {
                let pos = n + n / 2;
                let pair =
                    u16::from_le_bytes([self.byte(cursor, pos)?, self.byte(cursor, pos + 1)?]);
                // Even clusters take the low 12 bits, odd ones the high.
                u32::from(if n % 2 == 0 { pair & 0x0FFF } else { pair >> 4 })
            }
            FsKind::Fat16 => u32::from(u16::from_le_bytes([
                self.byte(cursor, 2 * n)?,
                self.byte(cursor, 2 * n + 1)?,
            ])),
            _ => {
                let mut b = [0u8; 4];
                for (i, slot) in b.iter_mut().enumerate() {
                    *slot = self.byte(cursor, 4 * n + i as u64)?;
                }
                u32::from_le_bytes(b)
            }
        })
    }

    /// Whether FAT[1] says the volume was cleanly unmounted (FAT16 bit 15,
    /// FAT32 bit 27 set); FAT12 has no such bit.
    pub(super) fn clean_shutdown(&self) -> Result<bool, FsError> {
        let raw = self.raw_entry(&mut Cursor::default(), 1)?;
        Ok(match self.kind {
            FsKind::Fat16 => raw & 0x8000 != 0,
            FsKind::Fat32 => raw & 0x0800_0000 != 0,
            _ => true,
        })
    }

    /// Where the FAT entry of `cluster` leads; a free, reserved, bad or
    /// out-of-range value inside a chain is an error for the chain
    /// `structure` names.
    fn next(&self, cursor: &mut Cursor, cluster: u32, structure: &str) -> Result<Link, FsError> {
        let raw = self.raw_entry(cursor, cluster)?;
        let (value, bad) = match self.kind {
            FsKind::Fat12 => (raw, 0xFF7),
            FsKind::Fat16 => (raw, 0xFFF7),
            // The top four bits of a FAT32 entry are reserved.
            _ => (raw & 0x0FFF_FFFF, 0x0FFF_FFF7),
        };
        let problem = match value {
            v if v > bad => return Ok(Link::End),
            v if v >= 2 && v <= self.last_cluster => return Ok(Link::Next(v)),
            0 => "is 0 (free)".to_owned(),
            1 => "is 1 (reserved)".to_owned(),
            v if v == bad => format!("is {v:#x} (bad cluster)"),
            v => format!(
                "links to cluster {v}, past the last cluster {}",
                self.last_cluster
            ),
        };
        Err(self.error(
            structure.to_owned(),
            format!("the FAT entry of cluster {cluster} {problem}"),
        ))
    }

    /// Walks the chain from `first`: keeps the first `keep` clusters as
    /// runs and follows the rest to its end, at most `max_links` clusters
    /// in all (never more than the volume has). `owner` names what the
    /// chain belongs to, for errors.
    pub(super) fn chain(
        &self,
        first: u32,
        keep: u32,
        max_links: u32,
        owner: &str,
    ) -> Result<Chain, FsError> {
        let structure = || format!("cluster chain of {owner}");
        if first < 2 || first > self.last_cluster {
            return Err(self.error(
                structure(),
                format!(
                    "starts at cluster {first}; expected 2 to {}",
                    self.last_cluster
                ),
            ));
        }
        let limit = max_links.min(self.last_cluster - 1);
        let mut cursor = Cursor::default();
        let mut runs: Vec<Run> = Vec::new();
        let mut cluster = first;
        let mut links = 1u32;
        loop {
            if links <= keep {
                match runs.last_mut() {
                    Some(run) if run.cluster + run.count == cluster => run.count += 1,
                    _ => {
                        if runs.len() >= MAX_RUNS {
                            return Err(FsError::limit(
                                self.vol.name(),
                                self.fs,
                                format!("fragments of {owner}"),
                                runs.len() as u64 + 1,
                                MAX_RUNS as u64,
                            ));
                        }
                        runs.push(Run {
                            index: links - 1,
                            cluster,
                            count: 1,
                        });
                    }
                }
            }
            match self.next(&mut cursor, cluster, &structure())? {
                Link::End => break,
                Link::Next(next) => cluster = next,
            }
            if links >= limit {
                return Err(self.too_long(first, limit, &structure()));
            }
            links += 1;
        }
        Ok(Chain {
            runs,
            len: links.min(keep),
        })
    }

    /// The error for a chain from `first` that goes past `limit` links:
    /// the cycle it holds when it loops, else its length.
    fn too_long(&self, first: u32, limit: u32, structure: &str) -> FsError {
        match self.find_cycle(first, structure) {
            Ok(Some((entered, from))) => self.error(
                structure.to_owned(),
                format!("loops: cluster {from} links back to cluster {entered}"),
            ),
            Ok(None) => self.error(
                structure.to_owned(),
                format!(
                    "holds more than {limit} clusters, the most it may (a directory is at \
                     most 2 MiB)"
                ),
            ),
            Err(e) => e,
        }
    }

    /// The first cluster entered twice and the cluster linking back to it,
    /// if the chain from `first` loops (Brent's algorithm: constant memory,
    /// steps bounded by the chain's length and loop).
    fn find_cycle(&self, first: u32, structure: &str) -> Result<Option<(u32, u32)>, FsError> {
        let mut cursor = Cursor::default();
        let mut step = |c: u32| -> Result<Option<u32>, FsError> {
            Ok(match self.next(&mut cursor, c, structure)? {
                Link::Next(n) => Some(n),
                Link::End => None,
            })
        };
        // The loop's length.
        let (mut power, mut length) = (1u64, 1u64);
        let mut tortoise = first;
        let Some(mut hare) = step(first)? else {
            return Ok(None);
        };
        while tortoise != hare {
            if power == length {
                tortoise = hare;
                power *= 2;
                length = 0;
            }
            let Some(next) = step(hare)? else {
                return Ok(None);
            };
            hare = next;
            length += 1;
        }
        // The loop's start: a pointer `length` ahead meets one from the
        // start there.
        let (mut slow, mut fast) = (first, first);
        for _ in 0..length {
            fast = step(fast)?.unwrap_or(fast);
        }
        while slow != fast {
            slow = step(slow)?.unwrap_or(slow);
            fast = step(fast)?.unwrap_or(fast);
        }
        // The loop's last cluster is `length - 1` past its start.
        let mut from = slow;
        for _ in 1..length {
            from = step(from)?.unwrap_or(from);
        }
        Ok(Some((slow, from)))
    }
}
