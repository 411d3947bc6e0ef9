//! Small headers: VDI, QED, ZVHD, ISO 9660, LUKS, gzip, tar.

use super::Described;
use crate::bytes::{be16, c_string, field, guid_mixed, has, le16, le32, le64, read_in_bounds};
use crate::detect::Detection;
use crate::report::{
    ExternalReference, Format, FormatDetail, GzipInfo, IsoInfo, LuksInfo, QedInfo, ReferenceKind,
    TarInfo, VdiInfo, ZvhdInfo,
};
use crate::{DiskRead, ProbeError};

pub(super) fn vdi(head: &[u8]) -> Described {
    let version = le32(head, 0x44).unwrap_or(0);
    let image_type = le32(head, 0x4c).unwrap_or(0);
    let virtual_size = le64(head, 0x170).unwrap_or(0);
    let mut d = Described::new(
        FormatDetail::Vdi(VdiInfo {
            version,
            image_type,
            virtual_size,
        }),
        Some(virtual_size),
    );
    if !(1..=4).contains(&image_type) {
        d.anomalies.push(format!(
            "vdi.image_type: {image_type}, expected 1 (dynamic) to 4 (differencing)"
        ));
    }
    if image_type == 4 {
        d.references.push(ExternalReference {
            kind: ReferenceKind::VdiParent,
            target: guid_mixed(field(head, 0x1b8, 16).unwrap_or_default()),
        });
    }
    d
}

const QED_F_BACKING_FILE: u64 = 1;
const MAX_QED_NAME: u32 = 1023;

pub(super) fn qed(disk: &dyn DiskRead, head: &[u8]) -> Result<Described, ProbeError> {
    let cluster_size = le32(head, 4).unwrap_or(0);
    let features = le64(head, 16).unwrap_or(0);
    let virtual_size = le64(head, 48).unwrap_or(0);
    let name_off = le32(head, 56).unwrap_or(0);
    let name_len = le32(head, 60).unwrap_or(0);
    let mut anomalies = Vec::new();
    let mut references = Vec::new();
    let mut backing_file = None;
    if features & QED_F_BACKING_FILE != 0 {
        if name_len == 0 || name_len > MAX_QED_NAME {
            anomalies.push(format!(
                "qed.backing_filename_size: {name_len}, expected 1..={MAX_QED_NAME}"
            ));
        } else {
            match read_in_bounds(disk, u64::from(name_off), name_len as usize)? {
                Some(b) => backing_file = Some(String::from_utf8_lossy(&b).into_owned()),
                None => anomalies.push(format!(
                    "qed.backing_filename_offset: {name_off} (+{name_len}) lies past the end of the file"
                )),
            }
        }
        references.push(ExternalReference {
            kind: ReferenceKind::BackingFile,
            target: backing_file.clone().unwrap_or_default(),
        });
    }
    Ok(Described {
        detail: FormatDetail::Qed(QedInfo {
            cluster_size,
            virtual_size,
            features,
            backing_file,
        }),
        virtual_size: Some(virtual_size),
        references,
        anomalies,
    })
}

pub(super) fn zvhd(det: &Detection) -> Described {
    let footer_offset = det
        .signatures
        .iter()
        .find(|s| s.format == Format::Zvhd)
        .map_or(0, |s| s.offset);
    Described::new(FormatDetail::Zvhd(ZvhdInfo { footer_offset }), None)
}

const ISO_PVD: usize = 0x8000;
const ISO_SECTOR: usize = 2048;

pub(super) fn iso(head: &[u8], file_size: u64) -> Described {
    let volume_id = c_string(field(head, ISO_PVD + 40, 32).unwrap_or_default());
    let blocks = u64::from(le32(head, ISO_PVD + 80).unwrap_or(0));
    let block_size = u64::from(le16(head, ISO_PVD + 128).unwrap_or(0));
    let volume_size = blocks.saturating_mul(block_size);
    // Volume descriptors follow one another until the terminator (255).
    let mut el_torito = false;
    for i in 0..16 {
        let at = ISO_PVD + i * ISO_SECTOR;
        if !has(head, at + 1, b"CD001") {
            break;
        }
        match head.get(at) {
            Some(0) if has(head, at + 7, b"EL TORITO SPECIFICATION") => el_torito = true,
            Some(255) | None => break,
            _ => {}
        }
    }
    let mut d = Described::new(
        FormatDetail::Iso9660(IsoInfo {
            volume_id,
            volume_size,
            el_torito,
        }),
        Some(file_size),
    );
    if volume_size > file_size {
        d.anomalies.push(format!(
            "iso9660.volume_space_size: {volume_size} bytes, larger than the file ({file_size})"
        ));
    }
    d
}

pub(super) fn luks(head: &[u8]) -> Described {
    let version = be16(head, 6).unwrap_or(0);
    Described::new(FormatDetail::Luks(LuksInfo { version }), None)
}

const GZ_FEXTRA: u8 = 4;
const GZ_FNAME: u8 = 8;

pub(super) fn gzip(head: &[u8]) -> Described {
    let flags = head.get(3).copied().unwrap_or(0);
    let original_name = if flags & GZ_FNAME != 0 {
        let mut at = 10usize;
        if flags & GZ_FEXTRA != 0 {
            at += 2 + usize::from(le16(head, 10).unwrap_or(0));
        }
        head.get(at..).and_then(|rest| {
            let end = rest.iter().take(4096).position(|&c| c == 0)?;
            Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
        })
    } else {
        None
    };
    Described::new(FormatDetail::Gzip(GzipInfo { original_name }), None)
}

pub(super) fn tar(head: &[u8]) -> Described {
    let first_member = c_string(field(head, 0, 100).unwrap_or_default());
    let ova = first_member.to_ascii_lowercase().ends_with(".ovf");
    Described::new(FormatDetail::Tar(TarInfo { first_member, ova }), None)
}
