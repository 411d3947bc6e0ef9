//! Symbolic link targets: inside the inode (local) or in blocks of their
//! own, which on v5 begin with an `XSLM` header.

use super::checksum::verify_crc;
use super::inode::{ForkFormat, Inode};
use super::Xfs;
use crate::bytes::be32;
use crate::FsError;

/// `XSLM`.
const MAGIC: u32 = 0x5853_4c4d;
/// v5 remote symlink block header size, and its CRC offset.
const HEADER: usize = 56;
const CRC_OFFSET: usize = 12;
/// The longest target Linux allows (`MAXPATHLEN`).
const MAX_TARGET: u64 = 1024;

impl Xfs {
    /// The target of symlink `inode`.
    pub(super) fn symlink_target(&self, inode: &Inode) -> Result<Vec<u8>, FsError> {
        let what = format!("inode {} symlink", inode.ino);
        if inode.size == 0 || inode.size > MAX_TARGET {
            return Err(super::corrupt(
                &what,
                0,
                format!(
                    "expected a target of 1..={MAX_TARGET} bytes; di_size is {}",
                    inode.size
                ),
            ));
        }
        let len = inode.size as usize;
        if inode.format == ForkFormat::Local {
            return inode.fork.get(..len).map(<[u8]>::to_vec).ok_or_else(|| {
                super::corrupt(
                    &what,
                    0,
                    format!(
                        "a {len}-byte target does not fit the {}-byte fork",
                        inode.fork.len()
                    ),
                )
            });
        }
        let maps = self.inode_mappings(inode)?;
        if !self.sb.is_v5() {
            let mut target = vec![0u8; len];
            self.read_range(&maps, 0, &mut target)?;
            return Ok(target);
        }
        let block_size = self.sb.block_size as usize;
        let mut block = vec![0u8; block_size];
        let mut target = Vec::with_capacity(len);
        let mut file_block = 0u64;
        while target.len() < len {
            let disk = self
                .read_range(&maps, file_block << self.sb.block_log, &mut block)?
                .ok_or_else(|| {
                    super::corrupt(
                        &what,
                        0,
                        format!("block {file_block} of the target is a hole"),
                    )
                })?;
            if be32(&block, 0) != MAGIC {
                return Err(super::corrupt(
                    &what,
                    disk,
                    format!("expected magic XSLM; found {:#010x}", be32(&block, 0)),
                ));
            }
            verify_crc(&block, CRC_OFFSET).map_err(|p| super::corrupt(&what, disk, p))?;
            self.check_owner(&block, 40, 16, 32, inode.ino, disk, &what)?;
            let offset = be32(&block, 4) as usize;
            let bytes = be32(&block, 8) as usize;
            if offset != target.len()
                || bytes == 0
                || bytes > block_size - HEADER
                || offset + bytes > len
            {
                return Err(super::corrupt(
                    &what,
                    disk,
                    format!(
                        "header says {bytes} bytes at target offset {offset}; expected the next bytes of a {len}-byte target"
                    ),
                ));
            }
            target.extend_from_slice(block.get(HEADER..HEADER + bytes).unwrap_or_default());
            file_block += 1;
        }
        Ok(target)
    }
}
