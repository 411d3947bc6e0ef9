//! The VDI header: a 64-byte text pre-header, then the signature, the
//! version and the version 1 header (little-endian).

use std::path::Path;

use crate::error::DiskError;
use crate::formats::bytes::{le32, le64};
use crate::io::ReadAt;

use super::{FORMAT, SECTOR};

/// Where the signature is, after the text pre-header.
const SIGNATURE_AT: usize = 0x40;
const SIGNATURE: u32 = 0xBEDA_107F;
/// Where the version 1 header starts (its first field is its own size).
const HEADER_AT: usize = 0x48;
/// The smallest version 1 header: it holds every field read here.
const MIN_HEADER_LEN: u32 = 0x180;

/// Block sizes read: VirtualBox and QEMU write 1 MiB; any power of two from
/// one sector to 256 MiB is accepted.
const MIN_BLOCK: u32 = 512;
const MAX_BLOCK: u32 = 256 << 20;

/// How a VDI image stores its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ImageType {
    /// Blocks allocated on first write.
    Dynamic,
    /// Every block allocated when the image was made.
    Static,
}

/// The header fields this reader uses, checked against the file.
#[derive(Debug, Clone)]
pub(super) struct Header {
    pub image_type: ImageType,
    /// Where the block map starts.
    pub map_offset: u64,
    /// Where block 0 of the data area is.
    pub data_offset: u64,
    /// Virtual size in bytes (whole sectors).
    pub disk_size: u64,
    /// Bytes per block (a power of two).
    pub block_size: u64,
    /// Entries in the block map.
    pub blocks: u64,
    /// Blocks stored in the data area; map entries are below it.
    pub blocks_allocated: u64,
}

/// Reads and checks the header of `src`.
pub(super) fn read(src: &ReadAt) -> Result<Header, DiskError> {
    let path = src.path();
    let need = HEADER_AT as u64 + u64::from(MIN_HEADER_LEN);
    if src.len() < need {
        return Err(DiskError::malformed(
            path,
            FORMAT,
            "header",
            0,
            format!(
                "the file holds {} bytes; a VDI header takes {need}",
                src.len()
            ),
        ));
    }
    let buf = src.read_vec(0, need)?;
    parse(&buf, path, src.len())
}

fn parse(buf: &[u8], path: &Path, file_len: u64) -> Result<Header, DiskError> {
    let bad = |field: &str, at: usize, problem: String| {
        DiskError::malformed(
            path,
            FORMAT,
            format!("header field {field}"),
            at as u64,
            problem,
        )
    };
    let signature = le32(buf, SIGNATURE_AT);
    if signature != SIGNATURE {
        return Err(bad(
            "signature",
            SIGNATURE_AT,
            format!("expected {SIGNATURE:#010x}; found {signature:#010x}"),
        ));
    }
    let version = le32(buf, 0x44);
    if version >> 16 != 1 {
        return Err(DiskError::unsupported(
            path,
            FORMAT,
            format!("version {}.{} header", version >> 16, version & 0xFFFF),
            Some(
                "VirtualBox writes a current (1.1) image with `VBoxManage clonemedium <image> \
                 <new.vdi>`"
                    .to_string(),
            ),
        ));
    }
    let header_len = le32(buf, HEADER_AT);
    let map_offset = u64::from(le32(buf, 0x154));
    let data_offset = u64::from(le32(buf, 0x158));
    let header_end = HEADER_AT as u64 + u64::from(header_len);
    if header_len < MIN_HEADER_LEN || header_end > map_offset {
        return Err(bad(
            "header size",
            HEADER_AT,
            format!(
                "expected at least {MIN_HEADER_LEN} bytes, ending before the block map at \
                 {map_offset}; found {header_len}"
            ),
        ));
    }
    let image_type = match le32(buf, 0x4C) {
        1 => ImageType::Dynamic,
        2 => ImageType::Static,
        kind @ (3 | 4) => {
            return Err(differencing(
                path,
                if kind == 3 {
                    "undo image"
                } else {
                    "differencing image"
                },
            ))
        }
        other => {
            return Err(bad(
                "image type",
                0x4C,
                format!("expected 1 (dynamic) or 2 (static); found {other}"),
            ))
        }
    };
    let parent_link = buf.get(0x1A8..0x1B8).unwrap_or_default();
    if parent_link.iter().any(|&b| b != 0) {
        return Err(differencing(
            path,
            "image with a parent (non-zero link UUID)",
        ));
    }
    let block_size = le32(buf, 0x178);
    if !block_size.is_power_of_two() || !(MIN_BLOCK..=MAX_BLOCK).contains(&block_size) {
        return Err(bad(
            "block size",
            0x178,
            format!(
                "expected a power of two from {MIN_BLOCK} to {MAX_BLOCK} bytes; found {block_size}"
            ),
        ));
    }
    let block_size = u64::from(block_size);
    let block_extra = le32(buf, 0x17C);
    if block_extra != 0 {
        return Err(DiskError::unsupported(
            path,
            FORMAT,
            format!("{block_extra} bytes of extra data per block"),
            Some("`VBoxManage clonemedium <image> <new.vdi>` writes blocks without it".into()),
        ));
    }
    let blocks = u64::from(le32(buf, 0x180));
    // QEMU reads whole sectors of the recorded size; so does this reader.
    let disk_size = le64(buf, 0x170) / SECTOR * SECTOR;
    if disk_size > blocks * block_size {
        return Err(bad(
            "disk size",
            0x170,
            format!(
                "expected at most the {blocks} blocks of {block_size} bytes the block map \
                 covers; found {disk_size}"
            ),
        ));
    }
    if map_offset > file_len {
        return Err(bad(
            "offset of the block map",
            0x154,
            format!("expected an offset inside the {file_len}-byte file; found {map_offset}"),
        ));
    }
    let map_end = map_offset + blocks * 4;
    if map_end > file_len {
        return Err(bad(
            "blocks in image",
            0x180,
            format!(
                "a block map of {blocks} 4-byte entries at {map_offset} ends at {map_end}, past \
                 the {file_len}-byte file"
            ),
        ));
    }
    if data_offset < map_end || data_offset > file_len {
        return Err(bad(
            "offset of the data",
            0x158,
            format!(
                "expected an offset after the block map (which ends at {map_end}) inside the \
                 {file_len}-byte file; found {data_offset}"
            ),
        ));
    }
    let blocks_allocated = u64::from(le32(buf, 0x184));
    let data_end = data_offset + blocks_allocated * block_size;
    if blocks_allocated > blocks || data_end > file_len {
        return Err(bad(
            "blocks allocated",
            0x184,
            format!(
                "expected at most the {blocks} blocks of the disk, stored inside the \
                 {file_len}-byte file; found {blocks_allocated} blocks, ending at {data_end}"
            ),
        ));
    }
    Ok(Header {
        image_type,
        map_offset,
        data_offset,
        disk_size,
        block_size,
        blocks,
        blocks_allocated,
    })
}

fn differencing(path: &Path, what: &str) -> DiskError {
    DiskError::unsupported(
        path,
        FORMAT,
        what,
        Some(
            "merge the snapshot chain into one image with `VBoxManage clonemedium <this image> \
             <merged.vdi>` (or convert it with VirtualBox's tools), then read that"
                .to_string(),
        ),
    )
}
