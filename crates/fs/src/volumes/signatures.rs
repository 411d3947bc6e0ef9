//! Signatures of volumes that hold no readable file system: encrypted
//! volumes and MD RAID members. Each is named with why it is not read.

use crate::bytes::{le32, slice};
use crate::error::FsError;
use crate::volume::Volume;

/// The MD RAID superblock magic.
const MD_MAGIC: u32 = 0xA92B_4EFC;

/// What `volume` is, when it is a volume that is listed but never read,
/// with the reason.
pub fn unreadable(volume: &Volume) -> Result<Option<(String, String)>, FsError> {
    let mut head = [0u8; 512];
    if volume.len() < 8192 {
        return Ok(None);
    }
    volume.read_at(0, &mut head)?;
    if slice(&head, 0, 6) == b"LUKS\xba\xbe" {
        let version = u16::from_be_bytes([head[6], head[7]]);
        return Ok(Some((
            format!("LUKS{version} encrypted volume"),
            "its contents are encrypted; no key is ever asked for".to_owned(),
        )));
    }
    if slice(&head, 3, 8) == b"-FVE-FS-" {
        return Ok(Some((
            "BitLocker encrypted volume".to_owned(),
            "its contents are encrypted; no key is ever asked for".to_owned(),
        )));
    }
    // mdadm 1.1 at 0, 1.2 at 4 KiB, 1.0 at 8 KiB before the end (4 KiB
    // aligned), 0.90 in the last 64 KiB-aligned 64 KiB.
    let len = volume.len();
    let mut places = vec![(0u64, "1.1"), (4096, "1.2")];
    places.push(((len - 8192) & !4095, "1.0"));
    if len >= 128 << 10 {
        places.push(((len & !0xFFFF) - 0x10000, "0.90"));
    }
    for (offset, version) in places {
        let mut block = [0u8; 8];
        volume.read_at(offset, &mut block)?;
        let magic = le32(&block, 0);
        let major = le32(&block, 4);
        let fits = (version == "0.90" && major == 0) || (version != "0.90" && major == 1);
        if magic == MD_MAGIC && fits {
            return Ok(Some((
                format!("MD RAID member (metadata {version})"),
                "a RAID member is read only through its assembled array, which needs the other members".to_owned(),
            )));
        }
    }
    Ok(None)
}
