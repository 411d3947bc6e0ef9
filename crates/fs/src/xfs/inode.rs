//! The on-disk inode (`xfs_dinode`): its core (mode, owner, size, link
//! count, times, fork formats) and a copy of its data fork.

use super::checksum::verify_crc;
use super::superblock::Superblock;
use crate::bytes::{be16, be32, be64, u8_at};
use crate::FsError;

/// `IN`.
const MAGIC: u16 = 0x494e;
/// Core sizes: v1/v2 inodes, v3 inodes.
const CORE_V2: usize = 100;
const CORE_V3: usize = 176;
/// Byte offset of `di_crc` in a v3 inode.
const CRC_OFFSET: usize = 100;
/// `di_flags`: the file's data lives on the realtime device.
const DIFLAG_REALTIME: u16 = 0x1;
/// `di_flags2`: timestamps are 64-bit nanosecond counts.
const DIFLAG2_BIGTIME: u64 = 1 << 3;
/// `di_flags2`: extent counters are 64-bit.
const DIFLAG2_NREXT64: u64 = 1 << 4;
/// The bigtime epoch is 1901-12-13, 2^31 seconds before 1970.
const BIGTIME_EPOCH_OFFSET: i64 = 1 << 31;

/// How a fork stores its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ForkFormat {
    /// Device number (device files, FIFOs, sockets): no data.
    Device,
    /// The data itself, inside the inode.
    Local,
    /// An array of extent records inside the inode.
    Extents,
    /// The root of a B+tree of extent records inside the inode.
    Btree,
}

/// The inode fields the reader uses.
#[derive(Debug, Clone)]
pub(super) struct Inode {
    pub ino: u64,
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    pub mtime: (i64, u32),
    pub format: ForkFormat,
    pub extent_count: u64,
    pub realtime: bool,
    /// A copy of the data fork's bytes.
    pub fork: Vec<u8>,
}

/// `S_IFMT` and its kinds.
pub(super) const S_IFMT: u16 = 0o170000;
pub(super) const S_IFDIR: u16 = 0o040000;
pub(super) const S_IFREG: u16 = 0o100000;
pub(super) const S_IFLNK: u16 = 0o120000;

impl Inode {
    /// Parses the `inode_size` bytes of inode `ino` read at `offset`.
    pub fn parse(sb: &Superblock, ino: u64, offset: u64, buf: &[u8]) -> Result<Inode, FsError> {
        let what = |field: &str| format!("inode {ino} {field}");
        let err = |field: &str, problem: String| super::corrupt(what(field), offset, problem);
        if be16(buf, 0) != MAGIC {
            return Err(err(
                "di_magic",
                format!("expected \"IN\"; found {:#06x}", be16(buf, 0)),
            ));
        }
        let version = u8_at(buf, 4);
        let expected_version = if sb.is_v5() { 3..=3 } else { 1..=2 };
        if !expected_version.contains(&version) {
            return Err(err(
                "di_version",
                format!(
                    "expected {expected_version:?} on a v{} file system; found {version}",
                    sb.version
                ),
            ));
        }
        if version == 3 {
            verify_crc(buf, CRC_OFFSET).map_err(|p| err("di_crc", p))?;
            if be64(buf, 152) != ino {
                return Err(err(
                    "di_ino",
                    format!("expected {ino} (the inode read); found {}", be64(buf, 152)),
                ));
            }
        }
        let core = if version == 3 { CORE_V3 } else { CORE_V2 };
        let fork_offset = usize::from(u8_at(buf, 82)) * 8;
        let fork_len = if fork_offset == 0 {
            buf.len().saturating_sub(core)
        } else {
            fork_offset
        };
        let fork = buf
            .get(core..core + fork_len)
            .ok_or_else(|| {
                err(
                    "di_forkoff",
                    format!(
                        "a data fork of {fork_len} bytes does not fit the {}-byte inode",
                        buf.len()
                    ),
                )
            })?
            .to_vec();
        let mode = be16(buf, 2);
        let format = match u8_at(buf, 5) {
            0 => ForkFormat::Device,
            1 => ForkFormat::Local,
            2 => ForkFormat::Extents,
            3 => ForkFormat::Btree,
            other => {
                return Err(err(
                    "di_format",
                    format!("expected device, local, extents or btree (0..=3); found {other}"),
                ))
            }
        };
        let kind = mode & S_IFMT;
        let format_fits = match kind {
            S_IFDIR | S_IFLNK => format != ForkFormat::Device,
            S_IFREG => matches!(format, ForkFormat::Extents | ForkFormat::Btree),
            _ => true,
        };
        if !format_fits {
            return Err(err(
                "di_format",
                format!("format {format:?} does not fit mode {mode:#o}"),
            ));
        }
        let flags2 = if version == 3 { be64(buf, 120) } else { 0 };
        let extent_count = if flags2 & DIFLAG2_NREXT64 != 0 {
            be64(buf, 24)
        } else {
            u64::from(be32(buf, 76))
        };
        let time = |at: usize| -> (i64, u32) {
            if flags2 & DIFLAG2_BIGTIME != 0 {
                let ns = be64(buf, at);
                (
                    (ns / 1_000_000_000) as i64 - BIGTIME_EPOCH_OFFSET,
                    (ns % 1_000_000_000) as u32,
                )
            } else {
                (i64::from(be32(buf, at) as i32), be32(buf, at + 4))
            }
        };
        let size = be64(buf, 56);
        if size > i64::MAX as u64 {
            return Err(err(
                "di_size",
                format!("expected at most 2^63-1; found {size}"),
            ));
        }
        Ok(Inode {
            ino,
            mode,
            uid: be32(buf, 8),
            gid: be32(buf, 12),
            nlink: if version == 1 {
                u32::from(be16(buf, 6))
            } else {
                be32(buf, 16)
            },
            size,
            mtime: time(40),
            format,
            extent_count,
            realtime: be16(buf, 90) & DIFLAG_REALTIME != 0,
            fork,
        })
    }

    /// The file type bits of the mode.
    pub fn kind(&self) -> u16 {
        self.mode & S_IFMT
    }
}
