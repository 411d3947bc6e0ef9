//! Opening a file as the virtual disk its content says it holds.

use std::path::Path;

use imsprep_disk::{open_as, Disk, DiskError, Kind, OpenOptions};
use imsprep_zvhd2::Zvhd2Disk;

use crate::report::Format;

/// The disk-model backend that reads `format`, when there is one.
pub fn disk_kind(format: Format) -> Option<Kind> {
    Some(match format {
        Format::Raw => Kind::Raw,
        Format::Qcow2 => Kind::Qcow2,
        Format::Vmdk => Kind::Vmdk,
        Format::Vhd => Kind::Vhd,
        Format::Vhdx => Kind::Vhdx,
        Format::Vdi => Kind::Vdi,
        Format::Tar => Kind::Ova,
        _ => return None,
    })
}

/// Opens `path`, whose content is `format` (as [`crate::inspect`] told),
/// as its virtual disk: RAW files and block devices as they are, ZVHD2
/// through its reader, every other disk format through its backend.
pub fn open_disk(
    path: &Path,
    format: Format,
    options: &OpenOptions,
) -> Result<Box<dyn Disk>, DiskError> {
    if format == Format::Zvhd2 {
        return Ok(Box::new(Zvhd2Disk::open(path)?));
    }
    match disk_kind(format) {
        Some(kind) => open_as(path, kind, options),
        None => Err(DiskError::unsupported(
            path,
            "image",
            format!("reading {format} as a disk"),
            None,
        )),
    }
}
