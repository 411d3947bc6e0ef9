//! VMware virtual disks (VMDK), after VMware's "Virtual Disk Format 5.0"
//! and what QEMU's `block/vmdk.c` accepts.
//!
//! Read:
//! - a hosted sparse extent file (magic `KDMV`, versions 1 to 3) on its
//!   own: `monolithicSparse` and `streamOptimized` (zlib-compressed grains
//!   behind markers, the grain directory found through the footer when the
//!   header says it is at the end), with the text descriptor embedded in
//!   it for the type and the parent;
//! - a text descriptor file naming extents in the same folder:
//!   `monolithicFlat`, `twoGbMaxExtentFlat`, `vmfs` (flat extents, read as
//!   they are, their holes told as a RAW file's), `twoGbMaxExtentSparse`
//!   (sparse extent files), and `ZERO` extents; `RDONLY` extents are read
//!   like `RW` ones (QEMU skips them, which shortens the disk);
//! - delta disks: a `parentFileNameHint` is followed as a backing file (a
//!   plain name in the same folder, through `Chain::open_backing`), and
//!   grains the delta never wrote read from the parent;
//! - a disk inside an OVA, through `open_in_ova`.
//!
//! Refused, each with its own message: `NOACCESS` extents, ESX extents
//! (`vmfsSparse`/COWD, `seSparse`, `vsanSparse`, raw device mappings),
//! device-backed types (`fullDevice`, `partitionedDevice`), an unknown
//! `createType`, encrypted disks (`encryption.*` keys), compression other
//! than deflate, and in an OVA a descriptor naming other files or a parent.
//! Extent files are only read by a plain name in the descriptor's folder
//! (the same rule as backing files), so a descriptor never makes imsprep
//! read another file of the host.
//!
//! Bounds: the descriptor is at most 1 MiB with at most 4096 extents;
//! grains are powers of two up to 32 MiB; grain tables hold at most 512
//! entries and are cached (2 MiB for all extents); grain directories are
//! read whole, at most 64 MiB per image; a compressed grain may not expand
//! past its grain. The parent's CID is not compared with `parentCID`.
//!
//! No VMDK crate on crates.io reads all of this through positioned reads
//! with these checks, so the format is read here; zlib streams are
//! inflated by `flate2`.

mod descriptor;
mod header;
mod sparse;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use self::descriptor::{Access, Descriptor, ExtentLine, ExtentType};
use self::header::{malformed, COWD_MAGIC, MAX_DESCRIPTOR_BYTES, SECTOR, SPARSE_MAGIC};
use self::sparse::{Grain, GtCache, SparseExtent, MAX_GD_BYTES_TOTAL};
use crate::backing::{same_folder, Backing, Chain};
use crate::disk::{check_range, Disk, DiskInfo};
use crate::error::DiskError;
use crate::extent::{Allocation, Extent};
use crate::io::ReadAt;
use crate::kind::Kind;
use crate::raw::RawDisk;

/// Bytes of grain tables kept in memory for one image: 1024 tables of 512
/// entries, which map 32 GiB of 64 KiB grains. Grain tables are small (2
/// KiB), and the cache looks through its entries to evict one, so it is
/// kept to about a thousand; a pass over the disk needs only the table at
/// its position.
const GT_CACHE_BYTES: usize = 2 << 20;

/// `createType`s read, and how their extents are stored.
const READ_TYPES: &[&str] = &[
    "monolithicSparse",
    "monolithicFlat",
    "twoGbMaxExtentSparse",
    "twoGbMaxExtentFlat",
    "streamOptimized",
    "vmfs",
];

/// `createType`s of real VMDKs that are not read, and why.
const REFUSED_TYPES: &[(&str, &str)] = &[
    ("vmfsSparse", "ESX delta disks (vmfsSparse)"),
    ("seSparse", "ESX space-efficient sparse disks (seSparse)"),
    ("vsanSparse", "vSAN sparse disks (vsanSparse)"),
    ("vmfsRaw", "raw device disks (vmfsRaw)"),
    ("vmfsRawDeviceMap", "raw device mappings (vmfsRawDeviceMap)"),
    (
        "vmfsPassthroughRawDeviceMap",
        "raw device mappings (vmfsPassthroughRawDeviceMap)",
    ),
    (
        "fullDevice",
        "disks backed by a physical device (fullDevice)",
    ),
    (
        "partitionedDevice",
        "disks backed by physical partitions (partitionedDevice)",
    ),
];

/// How to get a VMDK this reader reads.
const CONVERT_FIX: &str = "convert it on the host that made it (e.g. `vmkfstools -i SRC -d thin \
                           DST` on ESX, or `qemu-img convert -O vmdk -o \
                           subformat=streamOptimized`)";

/// Opens a VMDK: a sparse extent file or a descriptor file.
pub(crate) fn open(src: ReadAt, chain: &Chain<'_>) -> Result<Box<dyn Disk>, DiskError> {
    Ok(Box::new(VmdkDisk::open(src, chain, None)?))
}

/// Opens the VMDK stored as `member` of an OVA, in place: `src` is its
/// bytes inside the archive. Only a disk that is one sparse extent file can
/// be read this way (the normal case, `streamOptimized`).
pub(crate) fn open_in_ova(
    src: ReadAt,
    chain: &Chain<'_>,
    member: &str,
) -> Result<Box<dyn Disk>, DiskError> {
    Ok(Box::new(VmdkDisk::open(src, chain, Some(member))?))
}

/// A VMDK disk: its extents laid end to end, and its parent for a delta.
#[derive(Debug)]
pub struct VmdkDisk {
    info: DiskInfo,
    parts: Vec<Part>,
    parent: Option<Backing>,
    stamps: Vec<FileStamp>,
}

/// One extent, at `start..start + len` of the virtual disk.
#[derive(Debug)]
struct Part {
    start: u64,
    len: u64,
    storage: Storage,
}

/// How one extent is stored.
#[derive(Debug)]
enum Storage {
    /// Bytes as they are, from `offset` of `file` (read as a RAW file, so
    /// that its holes are known too).
    Flat { file: RawDisk, offset: u64 },
    /// Zeros stored nowhere.
    Zero,
    /// A sparse extent file.
    Sparse(SparseExtent),
}

/// A file's length and modification time when it was opened, to tell a
/// change after a long read.
#[derive(Debug)]
struct FileStamp {
    file: Arc<File>,
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    fn of(src: &ReadAt) -> FileStamp {
        let meta = src.file().metadata().ok();
        FileStamp {
            file: Arc::clone(src.file()),
            path: src.path().to_owned(),
            len: meta.as_ref().map_or(0, |m| m.len()),
            modified: meta.and_then(|m| m.modified().ok()),
        }
    }

    fn check(&self) -> Result<(), DiskError> {
        let meta = self
            .file
            .metadata()
            .map_err(|e| DiskError::io(&self.path, "reading metadata", e))?;
        let changed = |detail: String| DiskError::Changed {
            path: self.path.clone(),
            detail,
        };
        if meta.len() != self.len {
            return Err(changed(format!(
                "its size went from {} to {} bytes",
                self.len,
                meta.len()
            )));
        }
        if meta.modified().ok() != self.modified {
            return Err(changed("its modification time moved".to_string()));
        }
        Ok(())
    }
}

/// What an open gathers before it becomes a [`VmdkDisk`].
struct Layout {
    variant: String,
    parts: Vec<Part>,
    size: u64,
    parent_hint: Option<String>,
    stamps: Vec<FileStamp>,
}

impl VmdkDisk {
    fn open(src: ReadAt, chain: &Chain<'_>, member: Option<&str>) -> Result<VmdkDisk, DiskError> {
        let mut magic = [0u8; 4];
        let n = src.len().min(4) as usize;
        src.read_exact_at(0, magic.get_mut(..n).unwrap_or_default())?;
        let layout = if &magic == SPARSE_MAGIC {
            open_sparse_file(&src)?
        } else if &magic == COWD_MAGIC {
            return Err(DiskError::unsupported(
                src.path(),
                "vmdk",
                "ESX delta extents (vmfsSparse, magic COWD)",
                Some(CONVERT_FIX.to_string()),
            ));
        } else if let Some(member) = member {
            return Err(DiskError::unsupported(
                src.path(),
                "vmdk",
                format!("a descriptor file in an OVA ({member}) naming other files of the archive"),
                Some("extract the OVA and open the descriptor".to_string()),
            ));
        } else {
            open_descriptor_file(&src)?
        };

        let parent = match (&layout.parent_hint, member) {
            (None, _) => None,
            (Some(hint), Some(member)) => {
                return Err(DiskError::unsupported(
                    src.path(),
                    "vmdk",
                    format!("a delta disk in an OVA ({member} names the parent {hint:?})"),
                    None,
                ))
            }
            (Some(hint), None) => Some(chain.open_backing(src.path(), hint, Some(Kind::Vmdk))?),
        };
        let variant = match member {
            Some(member) => format!("{} in OVA ({member})", layout.variant),
            None => layout.variant,
        };
        Ok(VmdkDisk {
            info: DiskInfo {
                format: "vmdk",
                variant,
                path: src.path().to_owned(),
                size: layout.size,
                backing: parent
                    .as_ref()
                    .map(Backing::chain_paths)
                    .unwrap_or_default(),
            },
            parts: layout.parts,
            parent,
            stamps: layout.stamps,
        })
    }

    /// Fills `buf` from `within` of the sparse extent `extent`, which starts
    /// at `part_start` of the disk; stored grains next to each other in the
    /// file are read at once.
    fn read_sparse(
        &self,
        extent: &SparseExtent,
        part_start: u64,
        within: u64,
        buf: &mut [u8],
    ) -> Result<(), DiskError> {
        let grain_bytes = extent.grain_bytes();
        // A run of stored bytes: file offset, start in `buf`, length.
        let mut run: Option<(u64, usize, usize)> = None;
        let mut grain_buf = Vec::new();
        let mut pos = 0usize;
        while pos < buf.len() {
            let at = within + pos as u64;
            let index = at / grain_bytes;
            let in_grain = at % grain_bytes;
            let n = (grain_bytes - in_grain).min((buf.len() - pos) as u64) as usize;
            let grain = extent.grain(index)?;
            if let Grain::Stored(offset) = grain {
                let file_offset = offset + in_grain;
                match &mut run {
                    Some((start, _, len)) if *start + *len as u64 == file_offset => *len += n,
                    _ => {
                        self.flush_run(extent, run.take(), buf)?;
                        run = Some((file_offset, pos, n));
                    }
                }
                pos += n;
                continue;
            }
            self.flush_run(extent, run.take(), buf)?;
            let out = buf.get_mut(pos..pos + n).unwrap_or_default();
            match grain {
                Grain::Stored(_) => {}
                Grain::Zero => out.fill(0),
                Grain::Unallocated => match &self.parent {
                    Some(parent) => parent.read_at(&self.info, part_start + at, out)?,
                    None => out.fill(0),
                },
                Grain::Compressed(offset) => {
                    grain_buf.resize(grain_bytes as usize, 0);
                    let grain_start = index * grain_bytes;
                    let needed = (extent.capacity_bytes() - grain_start).min(grain_bytes);
                    extent.read_compressed(index, offset, needed as usize, &mut grain_buf)?;
                    let part_of_grain = grain_buf.iter().skip(in_grain as usize);
                    for (to, from) in out.iter_mut().zip(part_of_grain) {
                        *to = *from;
                    }
                }
            }
            pos += n;
        }
        self.flush_run(extent, run, buf)
    }

    fn flush_run(
        &self,
        extent: &SparseExtent,
        run: Option<(u64, usize, usize)>,
        buf: &mut [u8],
    ) -> Result<(), DiskError> {
        match run {
            Some((offset, start, len)) => {
                extent.read_stored(offset, buf.get_mut(start..start + len).unwrap_or_default())
            }
            None => Ok(()),
        }
    }

    /// The allocation run of the sparse extent `extent` of `part` at
    /// `within` (bytes from the part's start), as far as one grain table
    /// tells, clipped to the part; the parent's where the delta has
    /// nothing.
    fn sparse_extent_at(
        &self,
        extent: &SparseExtent,
        part: &Part,
        within: u64,
    ) -> Result<Extent, DiskError> {
        let grain_bytes = extent.grain_bytes();
        let first = within / grain_bytes;
        let (grain, count) = extent.run_from(first)?;
        let allocation = match grain {
            Grain::Stored(_) | Grain::Compressed(_) => Allocation::Data,
            Grain::Zero => Allocation::Zero,
            Grain::Unallocated => Allocation::Unallocated,
        };
        let index = first + count;
        let start = part.start + within;
        let end = part.start + (index * grain_bytes).min(part.len);
        if allocation == Allocation::Unallocated {
            if let Some(parent) = &self.parent {
                return parent.extent_at(start, end);
            }
        }
        Ok(Extent {
            start,
            end,
            allocation,
        })
    }
}

impl Disk for VmdkDisk {
    fn info(&self) -> &DiskInfo {
        &self.info
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        check_range(&self.info, offset, buf.len())?;
        let mut index = self.parts.partition_point(|p| p.start + p.len <= offset);
        let mut done = 0usize;
        while done < buf.len() {
            let Some(part) = self.parts.get(index) else {
                // The parts cover the whole size, checked at open.
                return Err(self.no_part(offset + done as u64));
            };
            let at = offset + done as u64;
            let within = at - part.start;
            let n = (part.len - within).min((buf.len() - done) as u64) as usize;
            let out = buf.get_mut(done..done + n).unwrap_or_default();
            match &part.storage {
                Storage::Flat { file, offset } => file.read_at(offset + within, out)?,
                Storage::Zero => out.fill(0),
                Storage::Sparse(extent) => self.read_sparse(extent, part.start, within, out)?,
            }
            done += n;
            index += 1;
        }
        Ok(())
    }

    fn extent_at(&self, offset: u64) -> Result<Extent, DiskError> {
        check_range(&self.info, offset, 1)?;
        let index = self.parts.partition_point(|p| p.start + p.len <= offset);
        let Some(part) = self.parts.get(index) else {
            return Err(self.no_part(offset));
        };
        let within = offset - part.start;
        let part_end = part.start + part.len;
        let whole = |allocation| Extent {
            start: offset,
            end: part_end,
            allocation,
        };
        match &part.storage {
            Storage::Flat {
                file,
                offset: file_start,
            } => {
                // The file's own holes, mapped back to the disk; the run
                // ends past `file_start + within`, so past `offset`.
                let run = file.extent_at(file_start + within)?;
                Ok(Extent {
                    start: offset,
                    end: (part.start + (run.end - file_start)).min(part_end),
                    allocation: run.allocation,
                })
            }
            Storage::Zero => Ok(whole(Allocation::Zero)),
            Storage::Sparse(extent) => self.sparse_extent_at(extent, part, within),
        }
    }

    fn check_unchanged(&self) -> Result<(), DiskError> {
        for stamp in &self.stamps {
            stamp.check()?;
        }
        match &self.parent {
            Some(parent) => parent.check_unchanged(),
            None => Ok(()),
        }
    }
}

impl VmdkDisk {
    fn no_part(&self, offset: u64) -> DiskError {
        DiskError::malformed(
            &self.info.path,
            "vmdk",
            "extent list",
            0,
            format!("no extent holds disk offset {offset}"),
        )
    }
}

/// A sparse extent file opened as the whole disk; its embedded descriptor
/// (if any) gives the type and the parent.
fn open_sparse_file(src: &ReadAt) -> Result<Layout, DiskError> {
    let header = header::read(src)?;
    let descriptor = if header.descriptor_sectors > 0 {
        let at = header.descriptor_offset * SECTOR;
        let bytes = src.read_vec(at, header.descriptor_sectors * SECTOR)?;
        let text = descriptor_text(&bytes);
        descriptor::parse(&text).map_err(|e| {
            malformed(
                src,
                &format!("embedded descriptor line {}", e.line),
                at,
                e.problem,
            )
        })?
    } else {
        Descriptor::default()
    };
    check_descriptor(src, &descriptor)?;
    let claimed: u64 = descriptor
        .extents
        .iter()
        .map(|e| e.sectors)
        .fold(0, u64::saturating_add);
    if !descriptor.extents.is_empty() && claimed != header.capacity {
        return Err(malformed(
            src,
            "embedded descriptor extent lines",
            header.descriptor_offset * SECTOR,
            format!(
                "the extents add up to {claimed} sectors; the header's capacity is {}",
                header.capacity
            ),
        ));
    }
    let size = header.capacity * SECTOR;
    let variant = descriptor.create_type.clone().unwrap_or_else(|| {
        if header.compressed {
            "streamOptimized".to_string()
        } else {
            "monolithicSparse".to_string()
        }
    });
    let mut budget = MAX_GD_BYTES_TOTAL;
    let cache = Arc::new(GtCache::new(GT_CACHE_BYTES));
    let extent = SparseExtent::open(src.clone(), header, 0, cache, &mut budget)?;
    let parts = if size == 0 {
        Vec::new()
    } else {
        vec![Part {
            start: 0,
            len: size,
            storage: Storage::Sparse(extent),
        }]
    };
    Ok(Layout {
        variant,
        parts,
        size,
        parent_hint: descriptor.parent_hint,
        stamps: vec![FileStamp::of(src)],
    })
}

/// A descriptor file naming its extents.
fn open_descriptor_file(src: &ReadAt) -> Result<Layout, DiskError> {
    if src.len() > MAX_DESCRIPTOR_BYTES {
        return Err(malformed(
            src,
            "descriptor",
            0,
            format!(
                "a VMDK that is not a sparse extent (magic KDMV) is a text descriptor of at most \
                 {MAX_DESCRIPTOR_BYTES} bytes; this file holds {} bytes",
                src.len()
            ),
        ));
    }
    let bytes = src.read_vec(0, src.len())?;
    let descriptor = descriptor::parse(&descriptor_text(&bytes))
        .map_err(|e| malformed(src, &format!("descriptor line {}", e.line), 0, e.problem))?;
    let Some(create_type) = descriptor.create_type.clone() else {
        return Err(malformed(
            src,
            "descriptor",
            0,
            "no createType line: expected a sparse extent (magic KDMV) or a text descriptor",
        ));
    };
    check_descriptor(src, &descriptor)?;
    if descriptor.extents.is_empty() {
        return Err(malformed(src, "descriptor", 0, "it names no extent"));
    }

    let cache = Arc::new(GtCache::new(GT_CACHE_BYTES));
    let mut budget = MAX_GD_BYTES_TOTAL;
    let mut parts = Vec::with_capacity(descriptor.extents.len());
    let mut stamps = vec![FileStamp::of(src)];
    let mut start = 0u64;
    for (number, line) in (1u64..).zip(&descriptor.extents) {
        let len = line.sectors.checked_mul(SECTOR).ok_or_else(|| {
            line_error(
                src,
                line,
                format!("{} sectors overflow a 64-bit size", line.sectors),
            )
        })?;
        let storage = match &line.kind {
            ExtentType::Zero => Storage::Zero,
            ExtentType::Flat => {
                let file = open_extent_file(src, line, &mut stamps)?;
                let offset = line.offset.checked_mul(SECTOR);
                let fits = offset
                    .and_then(|o| o.checked_add(len))
                    .is_some_and(|end| end <= file.len());
                if !fits {
                    return Err(line_error(
                        src,
                        line,
                        format!(
                            "the flat extent holds {} bytes; the line claims {} sectors from \
                             sector {}",
                            file.len(),
                            line.sectors,
                            line.offset
                        ),
                    ));
                }
                let duplicate = file
                    .file()
                    .try_clone()
                    .map_err(|e| DiskError::io(file.path(), "opening", e))?;
                Storage::Flat {
                    file: RawDisk::from_file(duplicate, file.path())?,
                    offset: offset.unwrap_or_default(),
                }
            }
            ExtentType::Sparse => {
                let file = open_extent_file(src, line, &mut stamps)?;
                let header = header::read(&file)?;
                if line.sectors > header.capacity {
                    return Err(line_error(
                        src,
                        line,
                        format!(
                            "the line claims {} sectors; the sparse extent holds {}",
                            line.sectors, header.capacity
                        ),
                    ));
                }
                Storage::Sparse(SparseExtent::open(
                    file,
                    header,
                    number,
                    Arc::clone(&cache),
                    &mut budget,
                )?)
            }
            ExtentType::Other(kind) => {
                return Err(DiskError::unsupported(
                    src.path(),
                    "vmdk",
                    format!("{kind} extents (descriptor line {})", line.line),
                    Some(CONVERT_FIX.to_string()),
                ))
            }
        };
        if len > 0 {
            parts.push(Part {
                start,
                len,
                storage,
            });
        }
        start = start.checked_add(len).ok_or_else(|| {
            line_error(
                src,
                line,
                "the extents add up to more than 2^64 bytes".to_string(),
            )
        })?;
    }
    Ok(Layout {
        variant: create_type,
        parts,
        size: start,
        parent_hint: descriptor.parent_hint,
        stamps,
    })
}

/// The descriptor's text: up to the first NUL (an embedded descriptor is
/// padded with them).
fn descriptor_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned()
}

/// Refuses what the descriptor says that is not read: its type, access and
/// encryption.
fn check_descriptor(src: &ReadAt, descriptor: &Descriptor) -> Result<(), DiskError> {
    if descriptor.encrypted {
        return Err(DiskError::unsupported(
            src.path(),
            "vmdk",
            "encrypted disks",
            Some("decrypt it in the hypervisor that encrypted it, then export it".to_string()),
        ));
    }
    if let Some(create_type) = &descriptor.create_type {
        if let Some((_, what)) = REFUSED_TYPES.iter().find(|(t, _)| t == create_type) {
            return Err(DiskError::unsupported(
                src.path(),
                "vmdk",
                *what,
                Some(CONVERT_FIX.to_string()),
            ));
        }
        if !READ_TYPES.contains(&create_type.as_str()) {
            return Err(DiskError::unsupported(
                src.path(),
                "vmdk",
                format!("createType {create_type:?}"),
                Some(CONVERT_FIX.to_string()),
            ));
        }
    }
    if let Some(line) = descriptor
        .extents
        .iter()
        .find(|e| e.access == Access::Denied)
    {
        return Err(DiskError::unsupported(
            src.path(),
            "vmdk",
            format!("NOACCESS extents (descriptor line {})", line.line),
            None,
        ));
    }
    Ok(())
}

/// Opens the file an extent line names, in the descriptor's folder only.
fn open_extent_file(
    src: &ReadAt,
    line: &ExtentLine,
    stamps: &mut Vec<FileStamp>,
) -> Result<ReadAt, DiskError> {
    let name = line.file.as_deref().unwrap_or_default();
    let path = same_folder(src.path(), name).map_err(|_| {
        line_error(
            src,
            line,
            format!(
                "extent file {name:?}: only a plain file name in the descriptor's own folder is \
                 read"
            ),
        )
    })?;
    let file = ReadAt::open(&path).map_err(|e| {
        line_error(
            src,
            line,
            format!("extent file {name:?} cannot be opened: {e}"),
        )
    })?;
    if !stamps.iter().any(|s| s.path == path) {
        stamps.push(FileStamp::of(&file));
    }
    Ok(file)
}

/// A [`DiskError::Malformed`] about one extent line of a descriptor file.
fn line_error(src: &ReadAt, line: &ExtentLine, problem: String) -> DiskError {
    malformed(
        src,
        &format!("descriptor extent line {}", line.line),
        0,
        problem,
    )
}
