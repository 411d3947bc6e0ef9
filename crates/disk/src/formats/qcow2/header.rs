//! The qcow2 header, its extensions and the checks made before any table
//! is read.

use std::path::Path;

use crate::error::DiskError;
use crate::formats::bytes::{be32, be64};
use crate::io::ReadAt;

/// The format's name in messages.
pub(super) const FORMAT: &str = "qcow2";

/// `QFI\xfb`.
const MAGIC: u32 = 0x5146_49fb;
/// Bytes of a version 2 header (and of the fields version 3 shares).
const V2_HEADER_LEN: u64 = 72;
/// Bytes of a version 3 header up to and including `header_length`.
const V3_HEADER_LEN: u64 = 104;
/// Offset of the `compression_type` byte, present when `header_length`
/// goes past it.
const COMPRESSION_TYPE_AT: usize = 104;

/// Smallest and largest `cluster_bits`: 512 B (the spec's minimum) to
/// 2 MiB (QEMU's implementation limit; it opens nothing larger).
pub(super) const MIN_CLUSTER_BITS: u32 = 9;
/// See [`MIN_CLUSTER_BITS`].
pub(super) const MAX_CLUSTER_BITS: u32 = 21;
/// Extended L2 entries need clusters of at least 16 KiB (the spec).
const MIN_EXTENDED_L2_CLUSTER_BITS: u32 = 14;

/// The largest L1 table read: QEMU's own limit (`QCOW_MAX_L1_SIZE`,
/// 32 MiB, 4 Mi entries), so no image QEMU can open is refused.
pub(super) const MAX_L1_BYTES: u64 = 32 << 20;
/// The largest virtual size accepted: 2^61 bytes (2 EiB), what a 32 MiB L1
/// table addresses with 2 MiB clusters, the most any qcow2 QEMU opens can
/// hold. Smaller clusters are further bounded by the L1 limit above.
pub(super) const MAX_VIRTUAL_SIZE: u64 = 1 << 61;
/// Internal snapshots QEMU allows (`QCOW_MAX_SNAPSHOTS`).
const MAX_SNAPSHOTS: u32 = 65_536;
/// Longest backing file name (the spec).
const MAX_BACKING_NAME: u64 = 1023;
/// Largest `refcount_order` (64-bit refcounts).
const MAX_REFCOUNT_ORDER: u32 = 6;

/// Header extension types.
const EXT_END: u32 = 0;
const EXT_BACKING_FORMAT: u32 = 0xe279_2aca;
const EXT_FEATURE_NAMES: u32 = 0x6803_f857;
const EXT_DATA_FILE: u32 = 0x4441_5441;
/// Bytes of one feature name table entry: type, bit, 46 bytes of name.
const FEATURE_NAME_ENTRY: usize = 48;

/// Incompatible feature bits this reader knows.
const INCOMPAT_DIRTY: u64 = 1 << 0;
const INCOMPAT_CORRUPT: u64 = 1 << 1;
const INCOMPAT_DATA_FILE: u64 = 1 << 2;
const INCOMPAT_COMPRESSION: u64 = 1 << 3;
const INCOMPAT_EXTENDED_L2: u64 = 1 << 4;
const INCOMPAT_KNOWN: u64 = INCOMPAT_DIRTY
    | INCOMPAT_CORRUPT
    | INCOMPAT_DATA_FILE
    | INCOMPAT_COMPRESSION
    | INCOMPAT_EXTENDED_L2;

/// How compressed clusters are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compression {
    /// Raw deflate (no zlib wrapper), the default.
    Zlib,
    /// A zstd frame.
    Zstd,
}

/// The backing file an image names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BackingName {
    /// The name exactly as recorded.
    pub name: String,
    /// The format from the backing-format extension, when present.
    pub format: Option<String>,
}

/// What the reader needs from a checked header.
#[derive(Debug, Clone)]
pub(super) struct Header {
    /// 2 or 3.
    pub version: u32,
    /// log2 of the cluster size, 9..=21.
    pub cluster_bits: u32,
    /// Virtual size in bytes, at most [`MAX_VIRTUAL_SIZE`].
    pub size: u64,
    /// Offset of the active L1 table (cluster aligned, inside the file).
    pub l1_table_offset: u64,
    /// L1 entries the virtual size needs (no more are read; the table may
    /// hold more, e.g. for a snapshot's VM state).
    pub l1_entries: u64,
    /// 128-bit L2 entries with 32 subclusters each.
    pub extended_l2: bool,
    /// How compressed clusters are stored.
    pub compression: Compression,
    /// The backing file, when the image has one.
    pub backing: Option<BackingName>,
}

impl Header {
    /// Bytes of a cluster.
    pub fn cluster_size(&self) -> u64 {
        1 << self.cluster_bits
    }
}

/// What the header extensions say.
#[derive(Debug, Default)]
struct Extensions {
    backing_format: Option<String>,
    data_file: Option<String>,
    /// (type, bit, name) from the feature name table.
    feature_names: Vec<(u8, u8, String)>,
}

/// Reads and checks the header of `src`.
pub(super) fn parse(src: &ReadAt) -> Result<Header, DiskError> {
    let path = src.path();
    let file_len = src.len();
    let bad = |field: &str, offset: u64, problem: String| {
        DiskError::malformed(path, FORMAT, field.to_string(), offset, problem)
    };
    if file_len < V2_HEADER_LEN {
        return Err(bad(
            "header",
            0,
            format!("expected at least {V2_HEADER_LEN} bytes; the file has {file_len}"),
        ));
    }
    let mut fixed = [0u8; V2_HEADER_LEN as usize];
    src.read_exact_at(0, &mut fixed)?;
    let magic = be32(&fixed, 0);
    if magic != MAGIC {
        return Err(bad(
            "magic",
            0,
            format!("expected \"QFI\\xfb\"; found {magic:#010x}"),
        ));
    }
    let version = be32(&fixed, 4);
    if version != 2 && version != 3 {
        return Err(bad(
            "header field version",
            4,
            format!("expected 2 or 3; found {version}"),
        ));
    }
    let cluster_bits = be32(&fixed, 20);
    if !(MIN_CLUSTER_BITS..=MAX_CLUSTER_BITS).contains(&cluster_bits) {
        return Err(bad(
            "header field cluster_bits",
            20,
            format!(
                "expected {MIN_CLUSTER_BITS}..={MAX_CLUSTER_BITS} (512 B to 2 MiB clusters); \
                 found {cluster_bits}"
            ),
        ));
    }
    let cluster_size = 1u64 << cluster_bits;
    // The first cluster holds the header, its extensions and usually the
    // backing file name; it is at most 2 MiB.
    let head = src.read_vec(0, cluster_size.min(file_len))?;

    let (header_length, incompatible, refcount_order) = if version == 2 {
        (V2_HEADER_LEN, 0, 4)
    } else {
        let header_length = u64::from(be32(&head, 100));
        if header_length < V3_HEADER_LEN || header_length > head.len() as u64 {
            return Err(bad(
                "header field header_length",
                100,
                format!(
                    "expected {V3_HEADER_LEN}..={} (inside the first cluster and the file); \
                     found {header_length}",
                    head.len()
                ),
            ));
        }
        (header_length, be64(&head, 72), be32(&head, 96))
    };
    if refcount_order > MAX_REFCOUNT_ORDER {
        return Err(bad(
            "header field refcount_order",
            96,
            format!("expected 0..={MAX_REFCOUNT_ORDER}; found {refcount_order}"),
        ));
    }

    let backing_file_offset = be64(&head, 8);
    let extensions_end = if backing_file_offset != 0 {
        backing_file_offset.min(head.len() as u64)
    } else {
        head.len() as u64
    };
    let extensions = read_extensions(path, &head, header_length, extensions_end)?;

    check_incompatible(path, incompatible, &extensions)?;
    match be32(&head, 32) {
        0 => {}
        1 => return Err(encrypted(path, "AES")),
        2 => return Err(encrypted(path, "LUKS")),
        other => {
            return Err(bad(
                "header field crypt_method",
                32,
                format!("expected 0 (none), 1 (AES) or 2 (LUKS); found {other}"),
            ))
        }
    }
    let compression = compression(path, &head, header_length, incompatible)?;
    let extended_l2 = incompatible & INCOMPAT_EXTENDED_L2 != 0;
    if extended_l2 && cluster_bits < MIN_EXTENDED_L2_CLUSTER_BITS {
        return Err(bad(
            "header field cluster_bits",
            20,
            format!(
                "expected at least {MIN_EXTENDED_L2_CLUSTER_BITS} with extended L2 entries \
                 (incompatible feature bit 4); found {cluster_bits}"
            ),
        ));
    }

    let size = be64(&head, 24);
    if size > MAX_VIRTUAL_SIZE {
        return Err(bad(
            "header field size",
            24,
            format!("expected at most {MAX_VIRTUAL_SIZE} bytes (2^61); found {size}"),
        ));
    }
    // Guest bytes one L2 table maps: cluster_size / entry_size clusters.
    let entry_bits = if extended_l2 { 4 } else { 3 };
    let table_span_bits = cluster_bits + (cluster_bits - entry_bits);
    let l1_entries = size.div_ceil(1u64 << table_span_bits);
    let l1_size = u64::from(be32(&head, 36));
    let l1_table_offset = be64(&head, 40);
    if l1_size < l1_entries {
        return Err(bad(
            "header field l1_size",
            36,
            format!(
                "expected at least {l1_entries} entries to map the {size}-byte disk; \
                 found {l1_size}"
            ),
        ));
    }
    if l1_size * 8 > MAX_L1_BYTES {
        return Err(bad(
            "header field l1_size",
            36,
            format!(
                "expected at most {} entries ({MAX_L1_BYTES} bytes); found {l1_size}",
                MAX_L1_BYTES / 8
            ),
        ));
    }
    if l1_size > 0 {
        check_table(
            path,
            "header field l1_table_offset",
            40,
            l1_table_offset,
            l1_size * 8,
            cluster_size,
            file_len,
        )?;
    }

    let nb_snapshots = be32(&head, 60);
    if nb_snapshots > MAX_SNAPSHOTS {
        return Err(bad(
            "header field nb_snapshots",
            60,
            format!("expected at most {MAX_SNAPSHOTS}; found {nb_snapshots}"),
        ));
    }
    if nb_snapshots > 0 {
        // Only the active layer is read; the snapshot table is checked for
        // sanity, not parsed.
        check_table(
            path,
            "header field snapshots_offset",
            64,
            be64(&head, 64),
            1,
            cluster_size,
            file_len,
        )?;
    }

    let backing = backing_name(path, src, &head, cluster_size)?.map(|name| BackingName {
        name,
        format: extensions.backing_format.clone(),
    });

    Ok(Header {
        version,
        cluster_bits,
        size,
        l1_table_offset,
        l1_entries,
        extended_l2,
        compression,
        backing,
    })
}

/// Checks that a table of `len` bytes at `offset` is cluster aligned, past
/// the header cluster and inside the file.
pub(super) fn check_table(
    path: &Path,
    field: &str,
    field_offset: u64,
    offset: u64,
    len: u64,
    cluster_size: u64,
    file_len: u64,
) -> Result<(), DiskError> {
    let bad = |problem: String| DiskError::malformed(path, FORMAT, field, field_offset, problem);
    if offset % cluster_size != 0 {
        return Err(bad(format!(
            "expected a multiple of the {cluster_size}-byte cluster; found {offset}"
        )));
    }
    if offset < cluster_size {
        return Err(bad(format!(
            "expected an offset past the header cluster; found {offset}"
        )));
    }
    match offset.checked_add(len) {
        Some(end) if end <= file_len => Ok(()),
        _ => Err(bad(format!(
            "expected {len} bytes at {offset} inside the {file_len}-byte file; they run past its end"
        ))),
    }
}

/// Walks the header extensions between the fixed header and `end`.
fn read_extensions(
    path: &Path,
    head: &[u8],
    start: u64,
    end: u64,
) -> Result<Extensions, DiskError> {
    let mut found = Extensions::default();
    let end = end.min(head.len() as u64);
    let mut at = start;
    // Each extension takes at least 8 bytes, so the walk ends within the
    // (at most 2 MiB) header cluster.
    while at.saturating_add(8) <= end {
        let i = at as usize;
        let kind = be32(head, i);
        let len = u64::from(be32(head, i + 4));
        if kind == EXT_END {
            break;
        }
        let data_start = at + 8;
        let data_end = data_start + len;
        let data = match head.get(data_start as usize..data_end as usize) {
            Some(data) if data_end <= end => data,
            _ => {
                return Err(DiskError::malformed(
                    path,
                    FORMAT,
                    format!("header extension {kind:#010x}"),
                    at,
                    format!("its {len} bytes of data run past the end of the header area at {end}"),
                ))
            }
        };
        match kind {
            EXT_BACKING_FORMAT => found.backing_format = Some(text(data)),
            EXT_DATA_FILE => found.data_file = Some(text(data)),
            EXT_FEATURE_NAMES => {
                for entry in data.chunks_exact(FEATURE_NAME_ENTRY) {
                    let (kind, bit) = (entry.first(), entry.get(1));
                    if let (Some(&kind), Some(&bit)) = (kind, bit) {
                        let name = text(entry.get(2..).unwrap_or_default());
                        found.feature_names.push((kind, bit, name));
                    }
                }
            }
            _ => {}
        }
        // Extension data is padded to a multiple of 8 bytes.
        at = data_start + len.div_ceil(8) * 8;
    }
    Ok(found)
}

/// A string field: bytes up to the first NUL, invalid UTF-8 replaced.
fn text(bytes: &[u8]) -> String {
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..len).unwrap_or_default()).into_owned()
}

/// Refuses images whose incompatible features change how the data is read
/// in ways this reader does not follow. The dirty bit (lazy refcounts)
/// only concerns refcounts, which are not read.
fn check_incompatible(
    path: &Path,
    incompatible: u64,
    extensions: &Extensions,
) -> Result<(), DiskError> {
    let unknown = incompatible & !INCOMPAT_KNOWN;
    if unknown != 0 {
        let names: Vec<String> = (0..64)
            .filter(|bit| unknown & (1u64 << bit) != 0)
            .map(|bit| {
                let named = extensions
                    .feature_names
                    .iter()
                    .find(|(kind, b, _)| *kind == 0 && u32::from(*b) == bit);
                match named {
                    Some((_, _, name)) if !name.is_empty() => format!("{name:?} (bit {bit})"),
                    _ => format!("bit {bit}"),
                }
            })
            .collect();
        return Err(DiskError::unsupported(
            path,
            FORMAT,
            format!("incompatible feature {}", names.join(", ")),
            Some(
                "convert it with a qemu-img that knows the feature: \
                 qemu-img convert -O qcow2 IMAGE plain.qcow2"
                    .to_string(),
            ),
        ));
    }
    if incompatible & INCOMPAT_CORRUPT != 0 {
        return Err(DiskError::unsupported(
            path,
            FORMAT,
            "image marked corrupt (incompatible feature bit 1)",
            Some("repair it first with qemu-img check -r all IMAGE".to_string()),
        ));
    }
    if incompatible & INCOMPAT_DATA_FILE != 0 {
        let name = extensions
            .data_file
            .as_deref()
            .map(|n| format!(" {n:?}"))
            .unwrap_or_default();
        return Err(DiskError::unsupported(
            path,
            FORMAT,
            format!("external data file{name} (incompatible feature bit 2)"),
            Some(
                "bring the data into the image: qemu-img convert -O qcow2 IMAGE whole.qcow2"
                    .to_string(),
            ),
        ));
    }
    Ok(())
}

fn encrypted(path: &Path, method: &str) -> DiskError {
    DiskError::unsupported(
        path,
        FORMAT,
        format!("encryption ({method}, header field crypt_method)"),
        Some(
            "decrypt it with qemu-img convert (giving the key with --object secret) \
             into an unencrypted image"
                .to_string(),
        ),
    )
}

/// The compression type: byte 104 when the header reaches it, zlib
/// otherwise. As in QEMU, incompatible bit 3 must be set exactly when the
/// type is not zlib.
fn compression(
    path: &Path,
    head: &[u8],
    header_length: u64,
    incompatible: u64,
) -> Result<Compression, DiskError> {
    let bit_set = incompatible & INCOMPAT_COMPRESSION != 0;
    let value = if header_length > COMPRESSION_TYPE_AT as u64 {
        head.get(COMPRESSION_TYPE_AT).copied().unwrap_or(0)
    } else {
        0
    };
    let compression = match value {
        0 => Compression::Zlib,
        1 => Compression::Zstd,
        other => {
            return Err(DiskError::unsupported(
                path,
                FORMAT,
                format!("compression type {other} (header byte 104)"),
                Some(
                    "convert it with qemu-img: qemu-img convert -O qcow2 IMAGE plain.qcow2"
                        .to_string(),
                ),
            ))
        }
    };
    if bit_set != (compression != Compression::Zlib) {
        return Err(DiskError::malformed(
            path,
            FORMAT,
            "header field compression_type",
            COMPRESSION_TYPE_AT as u64,
            format!(
                "incompatible feature bit 3 is {} but the compression type is {compression:?}; \
                 the bit is set exactly when the type is not zlib",
                if bit_set { "set" } else { "clear" }
            ),
        ));
    }
    Ok(compression)
}

/// The backing file name, as QEMU bounds it: its offset inside the first
/// cluster, at most 1023 bytes, all of it inside that cluster and the
/// file. An empty name means no backing file.
fn backing_name(
    path: &Path,
    src: &ReadAt,
    head: &[u8],
    cluster_size: u64,
) -> Result<Option<String>, DiskError> {
    let offset = be64(head, 8);
    if offset == 0 {
        return Ok(None);
    }
    let len = u64::from(be32(head, 16));
    let bad = |field: &str, at: u64, problem: String| {
        DiskError::malformed(path, FORMAT, field.to_string(), at, problem)
    };
    if offset > cluster_size {
        return Err(bad(
            "header field backing_file_offset",
            8,
            format!(
                "expected an offset inside the {cluster_size}-byte first cluster; found {offset}"
            ),
        ));
    }
    if len > MAX_BACKING_NAME.min(cluster_size - offset) {
        return Err(bad(
            "header field backing_file_size",
            16,
            format!(
                "expected at most {} bytes (1023, inside the first cluster); found {len}",
                MAX_BACKING_NAME.min(cluster_size - offset)
            ),
        ));
    }
    if len == 0 {
        return Ok(None);
    }
    let bytes = src.read_vec(offset, len).map_err(|_| {
        bad(
            "backing file name",
            offset,
            format!("expected {len} bytes inside the {}-byte file", src.len()),
        )
    })?;
    String::from_utf8(bytes).map(Some).map_err(|_| {
        bad(
            "backing file name",
            offset,
            "expected UTF-8 text".to_string(),
        )
    })
}
