//! The LVM2 physical volume label, its header and the metadata area's
//! circular buffer.

use crate::bytes::{le32, le64, slice};
use crate::error::FsError;
use crate::volume::Volume;

use super::FS;

/// Metadata text larger than this is refused (LVM's default area is
/// 1 MiB; a VG's text is a few KiB).
pub const MAX_METADATA_TEXT: u64 = 4 << 20;
/// The mda header's magic.
const MDA_MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
/// Size of the mda header; the circular buffer starts after it.
const MDA_HEADER_LEN: u64 = 512;
/// At most this many data or metadata areas are listed.
const MAX_AREAS: usize = 8;

/// What the label of a physical volume says.
#[derive(Debug, Clone)]
pub struct PvLabel {
    /// The PV's uuid, 32 characters without dashes.
    pub uuid: String,
    /// The metadata text of the most recent commit, from the first
    /// metadata area that has one.
    pub metadata: Option<Vec<u8>>,
}

/// The PV label of `volume`, when one of its first 4 sectors holds
/// `LABELONE`.
pub fn read_label(volume: &Volume) -> Result<Option<PvLabel>, FsError> {
    let name = volume.name();
    let mut head = [0u8; 2048];
    if volume.len() < head.len() as u64 {
        return Ok(None);
    }
    volume.read_at(0, &mut head)?;
    for sector in 0..4usize {
        let s = slice(&head, sector * 512, 512);
        if slice(s, 0, 8) != b"LABELONE" || slice(s, 24, 8) != b"LVM2 001" {
            continue;
        }
        let bad = |field: &str, problem: String| {
            FsError::malformed(
                name,
                FS,
                format!("label in sector {sector}, {field}"),
                problem,
            )
        };
        if le64(s, 8) != sector as u64 {
            return Err(bad(
                "sector_xl",
                format!("says {}; expected {sector}", le64(s, 8)),
            ));
        }
        let offset = le32(s, 20) as usize;
        if !(32..=512 - 40).contains(&offset) {
            return Err(bad(
                "offset_xl",
                format!("{offset}; expected 32..=472 within the sector"),
            ));
        }
        let pvh = slice(s, offset, 512 - offset);
        let uuid = String::from_utf8_lossy(slice(pvh, 0, 32)).into_owned();
        // Data areas, then metadata areas, each list ending in a zero
        // pair; both must fit in the sector.
        let mut pos = 40usize;
        let mut lists: [Vec<(u64, u64)>; 2] = [Vec::new(), Vec::new()];
        for list in lists.iter_mut() {
            loop {
                if pos + 16 > pvh.len() {
                    return Err(bad("area lists", "run past the label sector".to_owned()));
                }
                let (off, size) = (le64(pvh, pos), le64(pvh, pos + 8));
                pos += 16;
                if off == 0 {
                    break;
                }
                if list.len() >= MAX_AREAS {
                    return Err(bad("area lists", format!("more than {MAX_AREAS} areas")));
                }
                list.push((off, size));
            }
        }
        let mut metadata = None;
        for &(off, size) in &lists[1] {
            if let Some(text) = read_mda(volume, off, size)? {
                metadata = Some(text);
                break;
            }
        }
        return Ok(Some(PvLabel { uuid, metadata }));
    }
    Ok(None)
}

/// The current metadata text of the metadata area at `start` (`size`
/// bytes, header included) of `volume`.
fn read_mda(volume: &Volume, start: u64, size: u64) -> Result<Option<Vec<u8>>, FsError> {
    let name = volume.name();
    let bad = |field: &str, problem: String| {
        FsError::malformed(
            name,
            FS,
            format!("metadata area at byte {start}, {field}"),
            problem,
        )
    };
    if size <= MDA_HEADER_LEN || start.checked_add(size).is_none_or(|end| end > volume.len()) {
        return Err(bad(
            "size",
            format!(
                "{size} bytes; expected more than the 512-byte header, inside the {}-byte volume",
                volume.len()
            ),
        ));
    }
    let mut header = [0u8; MDA_HEADER_LEN as usize];
    volume.read_at(start, &mut header)?;
    if slice(&header, 4, 16) != MDA_MAGIC {
        return Err(bad("magic", "not the LVM2 metadata area magic".to_owned()));
    }
    if le64(&header, 24) != start {
        return Err(bad(
            "start",
            format!("says {}; the label places it at {start}", le64(&header, 24)),
        ));
    }
    // The first raw location is the committed metadata.
    let text_offset = le64(&header, 40);
    let text_size = le64(&header, 48);
    if text_offset == 0 || text_size == 0 {
        return Ok(None);
    }
    if text_size > MAX_METADATA_TEXT {
        return Err(FsError::limit(
            name,
            FS,
            format!("metadata text at byte {start}"),
            text_size,
            MAX_METADATA_TEXT,
        ));
    }
    let buffer = size - MDA_HEADER_LEN;
    if text_offset < MDA_HEADER_LEN || text_offset >= size || text_size > buffer {
        return Err(bad(
            "raw location",
            format!("text at {text_offset}+{text_size}; expected inside the {size}-byte area, after its header"),
        ));
    }
    let mut text = vec![0u8; text_size as usize];
    // The text wraps to the start of the buffer when it reaches the end.
    let first = (size - text_offset).min(text_size);
    let (a, b) = text.split_at_mut(first as usize);
    volume.read_at(start + text_offset, a)?;
    if !b.is_empty() {
        volume.read_at(start + MDA_HEADER_LEN, b)?;
    }
    // The text ends at its first NUL, if any.
    if let Some(end) = text.iter().position(|&c| c == 0) {
        text.truncate(end);
    }
    Ok(Some(text))
}
