//! VHD footer (big-endian, 512 bytes) and, for differencing disks, the
//! parent name from the dynamic header.

use super::Described;
use crate::bytes::{be32, be64, c_string, field, has, read_in_bounds, utf16};
use crate::detect::Detection;
use crate::report::{ExternalReference, Format, FormatDetail, ReferenceKind, VhdDiskType, VhdInfo};
use crate::{DiskRead, ProbeError};

pub(super) fn describe(disk: &dyn DiskRead, det: &Detection) -> Result<Described, ProbeError> {
    let size = disk.size();
    let tail_off = size.saturating_sub(512);
    let footer_at_end = tail_off > 0 && det.has_at(Format::Vhd, tail_off);
    let footer_at_start = det.has_at(Format::Vhd, 0);
    let mut anomalies = Vec::new();
    // The footer at the end is authoritative; the copy at 0 stands in when
    // the end is missing (a truncated dynamic disk).
    let at = if footer_at_end { tail_off } else { 0 };
    let footer = match read_in_bounds(disk, at, 512)? {
        Some(f) => f,
        None => {
            anomalies.push(format!(
                "vhd.footer: {size} bytes in the file, expected at least 512"
            ));
            crate::bytes::read_upto(disk, at, 512)?
        }
    };
    let original_size = be64(&footer, 40).unwrap_or(0);
    let current_size = be64(&footer, 48).unwrap_or(0);
    let disk_type_value = be32(&footer, 60).unwrap_or(0);
    let stored = be32(&footer, 64).unwrap_or(0);
    let sum = footer
        .iter()
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .fold(0u32, |acc, (_, &b)| acc.wrapping_add(u32::from(b)));
    let checksum_ok = !sum == stored;
    let disk_type = match disk_type_value {
        2 => VhdDiskType::Fixed,
        3 => VhdDiskType::Dynamic,
        4 => VhdDiskType::Differencing,
        _ => VhdDiskType::Other,
    };
    if disk_type == VhdDiskType::Other {
        anomalies.push(format!(
            "vhd.disk_type: {disk_type_value}, expected 2 (fixed), 3 (dynamic) or 4 (differencing)"
        ));
    }
    if !checksum_ok {
        anomalies.push(format!(
            "vhd.checksum at {at}: stored {stored:#x}, computed {:#x}",
            !sum
        ));
    }
    if disk_type == VhdDiskType::Fixed && footer_at_end && current_size != tail_off {
        anomalies.push(format!(
            "vhd.current_size: {current_size}, expected the data size {tail_off} of a fixed disk"
        ));
    }
    let mut references = Vec::new();
    if disk_type == VhdDiskType::Differencing {
        let data_offset = be64(&footer, 16).unwrap_or(u64::MAX);
        let name = match read_in_bounds(disk, data_offset, 1024)? {
            Some(h) if has(&h, 0, b"cxsparse") => {
                Some(utf16(field(&h, 64, 512).unwrap_or_default(), true))
            }
            _ => {
                anomalies.push(format!(
                    "vhd.data_offset: {data_offset}, no dynamic header (cxsparse) there"
                ));
                None
            }
        };
        references.push(ExternalReference {
            kind: ReferenceKind::VhdParent,
            target: name.unwrap_or_default(),
        });
    }
    let info = VhdInfo {
        disk_type,
        disk_type_value,
        current_size,
        original_size,
        footer_at_end,
        footer_at_start,
        checksum_ok,
        creator_app: c_string(field(&footer, 28, 4).unwrap_or_default()),
    };
    Ok(Described {
        detail: FormatDetail::Vhd(info),
        virtual_size: Some(current_size),
        references,
        anomalies,
    })
}
