//! Per-format header parsing: facts for [`FormatDetail`], the virtual size
//! and references to other files. Each parser reads only bounded amounts
//! at offsets it validated against the file size.

mod misc;
mod qcow2;
mod vhd;
mod vhdx;
mod vmdk;
mod zvhd2;

use crate::detect::Detection;
use crate::report::{ExternalReference, Format, FormatDetail};
use crate::{DiskRead, ProbeError};

/// What a format parser learnt.
#[derive(Debug)]
pub(crate) struct Described {
    pub detail: FormatDetail,
    pub virtual_size: Option<u64>,
    pub references: Vec<ExternalReference>,
    pub anomalies: Vec<String>,
}

impl Described {
    fn new(detail: FormatDetail, virtual_size: Option<u64>) -> Self {
        Described {
            detail,
            virtual_size,
            references: Vec::new(),
            anomalies: Vec::new(),
        }
    }
}

/// Parse the header of the detected format. `file_name` is the last path
/// component, used to tell a VMDK extent that names the file itself.
pub(crate) fn describe(
    disk: &dyn DiskRead,
    head: &[u8],
    det: &Detection,
    file_name: &str,
) -> Result<Described, ProbeError> {
    let size = disk.size();
    Ok(match det.format {
        Format::Raw => Described::new(FormatDetail::None, Some(size)),
        Format::Qcow2 => qcow2::describe(disk, head)?,
        Format::Vmdk => vmdk::describe(disk, head, file_name)?,
        Format::Vhd => vhd::describe(disk, det)?,
        Format::Vhdx => vhdx::describe(disk, head)?,
        Format::Vdi => misc::vdi(head),
        Format::Qed => misc::qed(disk, head)?,
        Format::Zvhd2 => zvhd2::describe(disk, head, det)?,
        Format::Zvhd => misc::zvhd(det),
        Format::Iso9660 => misc::iso(head, size),
        Format::Luks => misc::luks(head),
        Format::Gzip => misc::gzip(head),
        Format::Tar => misc::tar(head),
        Format::Xz | Format::Zstd | Format::Bzip2 | Format::Zip => {
            Described::new(FormatDetail::None, None)
        }
    })
}
