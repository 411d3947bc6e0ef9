//! qcow2 images, versions 2 and 3, as QEMU's `docs/interop/qcow2.rst`
//! describes them.
//!
//! Read: clusters of 512 B to 2 MiB; the header extensions that matter for
//! reading (backing format, feature names, external data file name); the
//! active L1 table and its L2 tables, standard and extended (128-bit
//! entries, 32 subclusters with allocated/zero bitmaps); data, zero and
//! unallocated clusters; compressed clusters in deflate (zlib) or zstd,
//! each decompressed to exactly one cluster; backing files, followed only
//! by the rules of [`crate::Backing`], so unallocated ranges read from the
//! parent and report its allocation.
//!
//! Not read, because reading the guest's bytes does not need them:
//! refcounts (`refcount_order` 0..=6 is accepted, the tables are never
//! touched), internal snapshots (only the active layer is read; the
//! snapshot table is checked for sanity only), bitmaps, and the dirty bit
//! (lazy refcounts).
//!
//! Refused as unsupported, each with a way out: encryption (AES, LUKS), an
//! external data file, incompatible feature bits this reader does not know
//! (named from the image's feature name table when it has one), an image
//! marked corrupt, a compression type other than zlib or zstd, and a
//! backing file whose recorded format is not one this crate reads (read as
//! RAW, a QED or LUKS parent would give wrong bytes without an error).
//!
//! Limits, QEMU's own so that no image QEMU opens is refused for its size:
//! the L1 table is at most 32 MiB (4 Mi entries), of which only the
//! entries the virtual size needs are read, and the virtual size at most
//! 2^61 bytes. Every table offset is checked to be cluster aligned, past the
//! header cluster and inside the file before it is read; an L2 entry whose
//! cluster starts past the end of the file, or whose compressed data lies
//! in the header cluster or past the end of the file, is malformed (a data
//! cluster cut short by the end of the file reads as zeros past it, as in
//! QEMU). L2
//! tables are read through a 32 MiB [`crate::TableCache`], so memory stays
//! bounded whatever the virtual size.
//!
//! Why not a crate: `imago` has a qcow2 driver, but its interface is async
//! (with sync wrappers) over its own storage layer, and it opens backing
//! files itself through an "implicit open gate"; fitting it here would mean
//! bridging our positioned [`crate::ReadAt`] slices (an OVA member is one),
//! the backing-chain rules of [`crate::Backing`] and the bounded table
//! cache into it. `qcow2-core` reads neither compressed clusters nor
//! backing files, and `qcow` walks tables through `Read + Seek` (a
//! `&mut` reader, so one lock for all threads). The read path needed is a
//! few hundred lines of checked table walking, written here.

mod compressed;
mod header;
mod map;

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::backing::{Backing, Chain};
use crate::cache::TableCache;
use crate::disk::{check_range, Disk, DiskInfo};
use crate::error::DiskError;
use crate::extent::{Allocation, Extent};
use crate::io::ReadAt;
use crate::kind::Kind;

use header::{Compression, Header, FORMAT};
use map::{Join, Map, Unit};

/// Bytes of decompressed clusters kept per image, and at most this many
/// clusters (the cache's eviction scans its entries).
const DECOMPRESSED_CACHE_BYTES: u64 = 8 << 20;
/// See [`DECOMPRESSED_CACHE_BYTES`].
const DECOMPRESSED_CACHE_CLUSTERS: u64 = 256;

thread_local! {
    /// The compressed bytes of the cluster being decompressed, reused.
    static COMPRESSED_INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Opens a qcow2 image.
pub(crate) fn open(src: ReadAt, chain: &Chain<'_>) -> Result<Box<dyn Disk>, DiskError> {
    Ok(Box::new(Qcow2Disk::open(src, chain)?))
}

/// An open qcow2 image.
struct Qcow2Disk {
    src: ReadAt,
    info: DiskInfo,
    map: Map,
    cluster_bits: u32,
    compression: Compression,
    backing: Option<Backing>,
    /// Recently decompressed clusters by host offset (with the length of
    /// their compressed data), so that small reads inside one compressed
    /// cluster do not each decompress it again.
    decompressed: TableCache<(u64, Vec<u8>)>,
    /// The file's length and modification time when opened.
    stamp: (u64, Option<SystemTime>),
}

impl std::fmt::Debug for Qcow2Disk {
    /// The image and its mapping, without the cached clusters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qcow2Disk")
            .field("info", &self.info)
            .field("map", &self.map)
            .field("compression", &self.compression)
            .field("backing", &self.backing)
            .finish_non_exhaustive()
    }
}

impl Qcow2Disk {
    fn open(src: ReadAt, chain: &Chain<'_>) -> Result<Qcow2Disk, DiskError> {
        let header = header::parse(&src)?;
        let map = Map::open(&src, &header)?;
        let backing = match &header.backing {
            Some(b) => {
                let kind = backing_kind(src.path(), b.format.as_deref())?;
                Some(chain.open_backing(src.path(), &b.name, kind)?)
            }
            None => None,
        };
        let stamp = stamp(&src)?;
        let info = DiskInfo {
            format: FORMAT,
            variant: variant(&header),
            path: src.path().to_owned(),
            size: header.size,
            backing: backing
                .as_ref()
                .map(Backing::chain_paths)
                .unwrap_or_default(),
        };
        let cluster_size = header.cluster_size();
        Ok(Qcow2Disk {
            src,
            info,
            map,
            cluster_bits: header.cluster_bits,
            compression: header.compression,
            backing,
            decompressed: TableCache::new(
                DECOMPRESSED_CACHE_BYTES.min(DECOMPRESSED_CACHE_CLUSTERS * cluster_size) as usize,
            ),
            stamp,
        })
    }

    /// Fills `out` from the compressed cluster `d`, starting `skip` bytes
    /// into the cluster.
    fn read_compressed(
        &self,
        d: compressed::Descriptor,
        skip: u64,
        out: &mut [u8],
    ) -> Result<(), DiskError> {
        // A whole cluster (what a conversion reads) is decompressed in
        // place: no copy, no allocation, and no cache entry that a
        // front-to-back pass would never ask for again.
        if skip == 0 && out.len() as u64 == 1u64 << self.cluster_bits {
            return self.decompress_into(d, out);
        }
        let cached = self.decompressed.get_or_load(d.host, || {
            let cluster = self.decompress(d)?;
            let bytes = cluster.len();
            Ok::<_, DiskError>(((d.len, cluster), bytes))
        })?;
        // Two entries naming the same data with different lengths (only a
        // damaged image has them) are each decompressed as they say.
        let cluster = if cached.0 == d.len {
            cached
        } else {
            Arc::new((d.len, self.decompress(d)?))
        };
        let cluster = &cluster.1;
        let piece = usize::try_from(skip)
            .ok()
            .and_then(|skip| cluster.get(skip..skip.checked_add(out.len())?));
        match piece {
            Some(piece) => {
                out.copy_from_slice(piece);
                Ok(())
            }
            None => Err(DiskError::malformed(
                self.src.path(),
                FORMAT,
                "compressed cluster",
                d.host,
                format!(
                    "a read of {} bytes at {skip} lies outside the cluster",
                    out.len()
                ),
            )),
        }
    }

    /// The cluster the compressed data `d` holds.
    fn decompress(&self, d: compressed::Descriptor) -> Result<Vec<u8>, DiskError> {
        let mut cluster = vec![0u8; 1usize << self.cluster_bits];
        self.decompress_into(d, &mut cluster)?;
        Ok(cluster)
    }

    /// Fills `cluster` (one cluster long) from the compressed data `d`.
    fn decompress_into(
        &self,
        d: compressed::Descriptor,
        cluster: &mut [u8],
    ) -> Result<(), DiskError> {
        // The descriptor's last sector may be cut short by the end of the
        // file (checked when the entry was decoded). The length is bounded
        // by the cluster size (the descriptor's sector count has
        // cluster_bits - 8 bits), so the per-thread buffer stays small.
        let len = d.len.min(self.src.len().saturating_sub(d.host));
        COMPRESSED_INPUT.with(|cell| {
            let mut input = cell.borrow_mut();
            input.resize(len as usize, 0);
            self.src.read_exact_at(d.host, &mut input)?;
            compressed::decompress(self.compression, &input, cluster).map_err(|problem| {
                DiskError::malformed(
                    self.src.path(),
                    FORMAT,
                    format!("compressed cluster ({:?})", self.compression),
                    d.host,
                    problem,
                )
            })
        })
    }

    /// Fills `out` with the stored bytes at `host`: one positioned read.
    /// Bytes past the end of the file read as zeros, as QEMU reads them
    /// (the cluster itself starts inside the file, checked when decoded).
    fn read_stored(&self, host: u64, out: &mut [u8]) -> Result<(), DiskError> {
        let inside = self.src.len().saturating_sub(host).min(out.len() as u64) as usize;
        let (head, tail) = out.split_at_mut(inside);
        if !head.is_empty() {
            self.src.read_exact_at(host, head)?;
        }
        tail.fill(0);
        Ok(())
    }
}

impl Disk for Qcow2Disk {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        check_range(&self.info, offset, buf.len())?;
        let end = offset + buf.len() as u64;
        let mut rest = buf;
        let mut pos = offset;
        // Each run covers at least one byte, so the loop ends.
        while !rest.is_empty() {
            let run = self.map.run_at(&self.src, pos, end, Join::Read)?;
            let len = (run.end - pos).min(rest.len() as u64) as usize;
            let (piece, after) = std::mem::take(&mut rest).split_at_mut(len);
            let into_unit = pos - run.unit_start;
            match run.unit {
                Unit::Data { host } => self.read_stored(host + into_unit, piece)?,
                Unit::Compressed(d) => self.read_compressed(d, into_unit, piece)?,
                Unit::Zero => piece.fill(0),
                Unit::Unallocated => match &self.backing {
                    Some(backing) => backing.read_at(&self.info, pos, piece)?,
                    None => piece.fill(0),
                },
            }
            pos += len as u64;
            rest = after;
        }
        Ok(())
    }

    fn extent_at(&self, offset: u64) -> Result<Extent, DiskError> {
        let size = self.info.size;
        if offset >= size {
            return Err(DiskError::OutOfRange {
                path: self.info.path.clone(),
                offset,
                len: 1,
                size,
            });
        }
        let run = self.map.run_at(&self.src, offset, size, Join::Allocation)?;
        let allocation = match run.unit {
            Unit::Data { .. } | Unit::Compressed(_) => Allocation::Data,
            Unit::Zero => Allocation::Zero,
            Unit::Unallocated => match &self.backing {
                Some(backing) => return backing.extent_at(offset, run.end),
                None => Allocation::Unallocated,
            },
        };
        Ok(Extent {
            start: offset,
            end: run.end,
            allocation,
        })
    }

    fn check_unchanged(&self) -> Result<(), DiskError> {
        let now = stamp(&self.src)?;
        if now != self.stamp {
            return Err(DiskError::Changed {
                path: self.info.path.clone(),
                detail: if now.0 != self.stamp.0 {
                    format!("its size went from {} to {} bytes", self.stamp.0, now.0)
                } else {
                    "its modification time moved".to_string()
                },
            });
        }
        match &self.backing {
            Some(backing) => backing.check_unchanged(),
            None => Ok(()),
        }
    }
}

/// The file's length and modification time.
fn stamp(src: &ReadAt) -> Result<(u64, Option<SystemTime>), DiskError> {
    let meta = src
        .file()
        .metadata()
        .map_err(|e| DiskError::io(src.path(), "reading metadata", e))?;
    Ok((meta.len(), meta.modified().ok()))
}

/// `v2` or `v3`, with the features that change how it is read.
fn variant(header: &Header) -> String {
    let mut variant = format!("v{}", header.version);
    if header.extended_l2 {
        variant.push_str(", extended L2");
    }
    if header.compression == Compression::Zstd {
        variant.push_str(", zstd");
    }
    variant
}

/// The format of a backing file from its backing-format extension, in
/// QEMU's driver names. Without the extension the format is told from the
/// file's content; a format named but not read here is refused rather
/// than guessed, since a QED or LUKS file read as RAW would give wrong
/// bytes without any error.
fn backing_kind(path: &Path, format: Option<&str>) -> Result<Option<Kind>, DiskError> {
    let Some(format) = format else {
        return Ok(None);
    };
    let kind = match format {
        "qcow2" => Kind::Qcow2,
        "raw" | "file" | "host_device" => Kind::Raw,
        "vmdk" => Kind::Vmdk,
        "vpc" => Kind::Vhd,
        "vhdx" => Kind::Vhdx,
        "vdi" => Kind::Vdi,
        other => {
            return Err(DiskError::unsupported(
                path,
                FORMAT,
                format!("a backing file of format {other:?}"),
                Some(
                    "flatten the chain with qemu-img convert -O qcow2 IMAGE flat.qcow2".to_string(),
                ),
            ))
        }
    };
    Ok(Some(kind))
}
