//! The RAW bitmap file (`.mf`) in imsprep's own documented layout.
//!
//! Huawei's `CreateMF` tool writes a bitmap whose layout is not published;
//! this one is imsprep's, described byte by byte in `docs/bitmap.md`.
//! Whether IMS accepts it is unverified.
//!
//! ```text
//! offset size field
//!      0    8 magic            89 'I' 'M' 'S' 'P' 'M' 'F' 0A
//!      8    2 version          1
//!     10    2 header_size      64
//!     12    4 flags            bit 0: image_crc32 is present; others zero
//!     16    8 granularity      block size, power of two, 4 KiB..32 MiB
//!     24    8 image_size       bytes
//!     32    8 block_count      ceil(image_size / granularity)
//!     40    8 data_block_count number of set bits
//!     48    4 image_crc32      CRC-32 of the image, or 0
//!     52    4 payload_crc32    CRC-32 of the payload
//!     56    4 reserved         zero
//!     60    4 header_crc32     CRC-32 of bytes 0..60
//!     64    … payload          ceil(block_count / 8) bytes of bits
//! ```

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use bitvec::prelude::BitVec;
use byteorder::{ByteOrder, LittleEndian as LE};
use thiserror::Error;

use crate::granularity::{validate_granularity, GranularityError};
use crate::map::{block_count, AllocationMap};

/// First eight bytes of every bitmap file.
///
/// The high-bit first byte and the final line feed make transfers that
/// strip the eighth bit or rewrite line ends show up as a bad magic.
pub const MAGIC: [u8; 8] = *b"\x89IMSPMF\n";
/// The layout version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 64;
/// Flag: the header's `image_crc32` field holds the image's CRC-32.
pub const FLAG_IMAGE_CRC32: u32 = 1;

/// A bitmap file's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    /// The blocks, with granularity and image size.
    pub map: AllocationMap,
    /// CRC-32 of the image the bitmap was made from, if recorded.
    pub image_crc32: Option<u32>,
}

/// A bitmap file that could not be written or is not valid.
///
/// Every variant about the contents names the header field (and its byte
/// offset) or the payload position that is wrong.
#[derive(Debug, Error)]
pub enum BitmapError {
    /// Reading, writing or renaming the file failed.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The bitmap file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The system's error.
        #[source]
        source: io::Error,
    },
    /// The target exists and overwriting was not asked for.
    #[error("{path} already exists; pass the overwrite option to replace it")]
    Exists {
        /// The bitmap file.
        path: PathBuf,
    },
    /// The file is shorter than the header.
    #[error("{path}: {len} bytes is too short for the {HEADER_LEN}-byte bitmap header")]
    TooShort {
        /// The bitmap file.
        path: PathBuf,
        /// Its length.
        len: u64,
    },
    /// The first eight bytes are not [`MAGIC`].
    #[error("{path}: field magic (offset 0) is {found:02x?}, expected {MAGIC:02x?}: not an imsprep bitmap file")]
    BadMagic {
        /// The bitmap file.
        path: PathBuf,
        /// The bytes found.
        found: [u8; 8],
    },
    /// The version is not one this crate reads.
    #[error("{path}: field version (offset 8) is {found}, this imsprep reads version {VERSION}")]
    UnsupportedVersion {
        /// The bitmap file.
        path: PathBuf,
        /// The version found.
        found: u16,
    },
    /// The header's own checksum does not match it.
    #[error("{path}: field header_crc32 (offset 60) is {stored:#010x}, but the header's CRC-32 is {computed:#010x}: the header is damaged")]
    HeaderChecksum {
        /// The bitmap file.
        path: PathBuf,
        /// CRC-32 recorded in the file.
        stored: u32,
        /// CRC-32 of the header bytes.
        computed: u32,
    },
    /// A header field holds a value the layout does not allow.
    #[error("{path}: field {field} (offset {offset}) is {value}, expected {expected}")]
    Field {
        /// The bitmap file.
        path: PathBuf,
        /// Field name as in the layout table.
        field: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// The value found.
        value: u64,
        /// What the layout requires.
        expected: String,
    },
    /// The file is not exactly header plus payload long.
    #[error("{path}: file is {found} bytes, expected {expected} (64-byte header + {payload} payload bytes for block_count {blocks})")]
    Length {
        /// The bitmap file.
        path: PathBuf,
        /// Length the header implies.
        expected: u64,
        /// Actual length.
        found: u64,
        /// Payload bytes the header implies.
        payload: u64,
        /// The header's block count.
        blocks: u64,
    },
    /// The payload's checksum does not match it.
    #[error("{path}: field payload_crc32 (offset 52) is {stored:#010x}, but the payload's CRC-32 is {computed:#010x}: the bits are damaged")]
    PayloadChecksum {
        /// The bitmap file.
        path: PathBuf,
        /// CRC-32 recorded in the header.
        stored: u32,
        /// CRC-32 of the payload bytes.
        computed: u32,
    },
    /// Bits past the last block are set.
    #[error("{path}: payload bits past block_count {blocks} are set (last payload byte {last_byte:#04x}); they must be zero")]
    TrailingBits {
        /// The bitmap file.
        path: PathBuf,
        /// The header's block count.
        blocks: u64,
        /// The last payload byte.
        last_byte: u8,
    },
    /// The header's data-block count is not the number of set bits.
    #[error("{path}: field data_block_count (offset 40) is {stored}, but the payload has {counted} set bits")]
    DataBlockCount {
        /// The bitmap file.
        path: PathBuf,
        /// Count recorded in the header.
        stored: u64,
        /// Set bits in the payload.
        counted: u64,
    },
}

/// The bitmap file name IMS expects next to a RAW image: the image's name
/// with its extension replaced by `mf` (`image01.raw` → `image01.mf`), or
/// `.mf` appended when it has none.
pub fn bitmap_path_for(image: &Path) -> PathBuf {
    image.with_extension("mf")
}

/// The header and payload of `bitmap`, as written to a file.
pub fn encode(bitmap: &Bitmap) -> Vec<u8> {
    let map = &bitmap.map;
    let payload = map.as_bytes();
    let mut out = vec![0u8; HEADER_LEN];
    out[..8].copy_from_slice(&MAGIC);
    LE::write_u16(&mut out[8..10], VERSION);
    LE::write_u16(&mut out[10..12], HEADER_LEN as u16);
    let flags = if bitmap.image_crc32.is_some() {
        FLAG_IMAGE_CRC32
    } else {
        0
    };
    LE::write_u32(&mut out[12..16], flags);
    LE::write_u64(&mut out[16..24], map.granularity());
    LE::write_u64(&mut out[24..32], map.image_size());
    LE::write_u64(&mut out[32..40], map.block_count());
    LE::write_u64(&mut out[40..48], map.data_block_count());
    LE::write_u32(&mut out[48..52], bitmap.image_crc32.unwrap_or(0));
    LE::write_u32(&mut out[52..56], crc32fast::hash(payload));
    let header_crc = crc32fast::hash(&out[..60]);
    LE::write_u32(&mut out[60..64], header_crc);
    out.extend_from_slice(payload);
    out
}

/// Writes `bitmap` to `path` atomically.
///
/// The bytes go to a temporary file in the same folder, which is synced and
/// then renamed over `path`, so a reader never sees half a bitmap and a
/// failure leaves nothing behind. Without `overwrite` an existing `path` is
/// an error ([`BitmapError::Exists`]).
pub fn write_bitmap(path: &Path, bitmap: &Bitmap, overwrite: bool) -> Result<(), BitmapError> {
    let io = |action| {
        move |source| BitmapError::Io {
            path: path.to_owned(),
            action,
            source,
        }
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".imsprep-mf-")
        .suffix(".tmp")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(io("create a temporary file"))?;
    temp.write_all(&encode(bitmap))
        .map_err(io("write the temporary file"))?;
    temp.as_file()
        .sync_all()
        .map_err(io("sync the temporary file"))?;
    let persisted = if overwrite {
        temp.persist(path)
    } else {
        temp.persist_noclobber(path)
    };
    match persisted {
        Ok(_) => Ok(()),
        Err(e) if !overwrite && e.error.kind() == io::ErrorKind::AlreadyExists => {
            Err(BitmapError::Exists {
                path: path.to_owned(),
            })
        }
        Err(e) => Err(io("rename the temporary file into place")(e.error)),
    }
}

/// Reads and fully validates the bitmap file at `path`.
///
/// Checks, in order: length of at least a header, magic, version, header
/// checksum, flags, header size, reserved bytes, granularity, block count
/// against image size and granularity, exact file length (before the payload
/// is allocated), payload checksum, zero bits past the last block, and the
/// data-block count against the set bits.
pub fn read_bitmap(path: &Path) -> Result<Bitmap, BitmapError> {
    let io = |action| {
        move |source| BitmapError::Io {
            path: path.to_owned(),
            action,
            source,
        }
    };
    let mut file = File::open(path).map_err(io("open"))?;
    let file_len = file.metadata().map_err(io("read metadata"))?.len();
    if file_len < HEADER_LEN as u64 {
        return Err(BitmapError::TooShort {
            path: path.to_owned(),
            len: file_len,
        });
    }
    let mut header = [0u8; HEADER_LEN];
    file.read_exact(&mut header)
        .map_err(io("read the header"))?;
    let header = parse_header(path, &header)?;

    let payload_len = header.blocks.div_ceil(8);
    let expected = payload_len.saturating_add(HEADER_LEN as u64);
    if file_len != expected {
        return Err(BitmapError::Length {
            path: path.to_owned(),
            expected,
            found: file_len,
            payload: payload_len,
            blocks: header.blocks,
        });
    }
    // Bounded by the file's length, checked just above.
    let mut payload = vec![0u8; payload_len as usize];
    file.read_exact(&mut payload)
        .map_err(io("read the payload"))?;
    decode_payload(path, &header, payload)
}

/// Header fields that passed validation.
struct Header {
    granularity: u64,
    image_size: u64,
    blocks: u64,
    data_blocks: u64,
    image_crc32: Option<u32>,
    payload_crc32: u32,
}

fn parse_header(path: &Path, h: &[u8; HEADER_LEN]) -> Result<Header, BitmapError> {
    let field = |field, offset, value: u64, expected: String| BitmapError::Field {
        path: path.to_owned(),
        field,
        offset,
        value,
        expected,
    };
    let mut magic = [0u8; 8];
    magic.copy_from_slice(&h[..8]);
    if magic != MAGIC {
        return Err(BitmapError::BadMagic {
            path: path.to_owned(),
            found: magic,
        });
    }
    let version = LE::read_u16(&h[8..10]);
    if version != VERSION {
        return Err(BitmapError::UnsupportedVersion {
            path: path.to_owned(),
            found: version,
        });
    }
    let stored = LE::read_u32(&h[60..64]);
    let computed = crc32fast::hash(&h[..60]);
    if stored != computed {
        return Err(BitmapError::HeaderChecksum {
            path: path.to_owned(),
            stored,
            computed,
        });
    }
    let header_size = LE::read_u16(&h[10..12]);
    if usize::from(header_size) != HEADER_LEN {
        return Err(field(
            "header_size",
            10,
            header_size.into(),
            HEADER_LEN.to_string(),
        ));
    }
    let flags = LE::read_u32(&h[12..16]);
    if flags & !FLAG_IMAGE_CRC32 != 0 {
        return Err(field(
            "flags",
            12,
            flags.into(),
            "only bit 0 (image_crc32 present) may be set".into(),
        ));
    }
    let reserved = LE::read_u32(&h[56..60]);
    if reserved != 0 {
        return Err(field("reserved", 56, reserved.into(), "0".into()));
    }
    let granularity = LE::read_u64(&h[16..24]);
    validate_granularity(granularity).map_err(|e| {
        let expected = match e {
            GranularityError::NotPowerOfTwo { .. } => "a power of two",
            _ => "a power of two from 4096 (4 KiB) to 33554432 (32 MiB)",
        };
        field("granularity", 16, granularity, expected.into())
    })?;
    let image_size = LE::read_u64(&h[24..32]);
    let blocks = LE::read_u64(&h[32..40]);
    let expected_blocks = block_count(image_size, granularity);
    if blocks != expected_blocks {
        return Err(field(
            "block_count",
            32,
            blocks,
            format!("{expected_blocks} (image_size {image_size} / granularity {granularity}, rounded up)"),
        ));
    }
    let data_blocks = LE::read_u64(&h[40..48]);
    if data_blocks > blocks {
        return Err(field(
            "data_block_count",
            40,
            data_blocks,
            format!("at most block_count {blocks}"),
        ));
    }
    let image_crc = LE::read_u32(&h[48..52]);
    let image_crc32 = if flags & FLAG_IMAGE_CRC32 != 0 {
        Some(image_crc)
    } else if image_crc != 0 {
        return Err(field(
            "image_crc32",
            48,
            image_crc.into(),
            "0 when flags bit 0 is clear".into(),
        ));
    } else {
        None
    };
    Ok(Header {
        granularity,
        image_size,
        blocks,
        data_blocks,
        image_crc32,
        payload_crc32: LE::read_u32(&h[52..56]),
    })
}

fn decode_payload(path: &Path, header: &Header, payload: Vec<u8>) -> Result<Bitmap, BitmapError> {
    let computed = crc32fast::hash(&payload);
    if computed != header.payload_crc32 {
        return Err(BitmapError::PayloadChecksum {
            path: path.to_owned(),
            stored: header.payload_crc32,
            computed,
        });
    }
    let used_bits = header.blocks % 8;
    if let Some(&last_byte) = payload.last() {
        if used_bits != 0 && last_byte >> used_bits != 0 {
            return Err(BitmapError::TrailingBits {
                path: path.to_owned(),
                blocks: header.blocks,
                last_byte,
            });
        }
    }
    let counted: u64 = payload.iter().map(|b| u64::from(b.count_ones())).sum();
    if counted != header.data_blocks {
        return Err(BitmapError::DataBlockCount {
            path: path.to_owned(),
            stored: header.data_blocks,
            counted,
        });
    }
    let mut bits = BitVec::from_vec(payload);
    // The count fits: it was checked against the payload length read.
    bits.truncate(header.blocks as usize);
    let map =
        AllocationMap::from_bits(header.granularity, header.image_size, bits).map_err(|e| {
            BitmapError::Field {
                path: path.to_owned(),
                field: "block_count",
                offset: 32,
                value: header.blocks,
                expected: e.to_string(),
            }
        })?;
    Ok(Bitmap {
        map,
        image_crc32: header.image_crc32,
    })
}
