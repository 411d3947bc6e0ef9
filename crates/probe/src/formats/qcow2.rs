//! QCOW2 header: version, size, backing file, external data file,
//! encryption. Names are read with bounded lengths and never opened.

use super::Described;
use crate::bytes::{be32, be64, c_string, field, read_in_bounds, read_upto};
use crate::report::{ExternalReference, FormatDetail, Qcow2Info, ReferenceKind};
use crate::{DiskRead, ProbeError};

/// qemu refuses longer backing file names.
const MAX_BACKING_NAME: u64 = 1023;
/// Header extensions live in the first cluster; read at most this much.
const MAX_HEADER_AREA: usize = 2 * 1024 * 1024;
const EXT_END: u32 = 0;
const EXT_BACKING_FORMAT: u32 = 0xE279_2ACA;
const EXT_DATA_FILE: u32 = 0x4441_5441;
const INCOMPAT_DATA_FILE: u64 = 1 << 2;

pub(super) fn describe(disk: &dyn DiskRead, head: &[u8]) -> Result<Described, ProbeError> {
    let mut anomalies = Vec::new();
    let version = be32(head, 4).unwrap_or(0);
    let backing_offset = be64(head, 8).unwrap_or(0);
    let backing_size = be32(head, 16).unwrap_or(0);
    let cluster_bits = be32(head, 20).unwrap_or(0);
    let virtual_size = be64(head, 24).unwrap_or(0);
    let encryption_method = be32(head, 32).unwrap_or(0);
    let snapshots = be32(head, 60).unwrap_or(0);
    if head.len() < 72 {
        anomalies.push(format!(
            "qcow2.header: {} bytes, expected at least 72",
            head.len()
        ));
    }
    if version != 2 && version != 3 {
        anomalies.push(format!("qcow2.version: {version}, expected 2 or 3"));
    }
    if !(9..=21).contains(&cluster_bits) {
        anomalies.push(format!(
            "qcow2.cluster_bits: {cluster_bits}, expected 9..=21"
        ));
    }
    let (incompatible_features, header_length, compression_type) = if version >= 3 {
        let len = be32(head, 100).unwrap_or(0);
        let comp = if len > 104 {
            head.get(104).copied()
        } else {
            None
        };
        (be64(head, 72).unwrap_or(0), len, comp)
    } else {
        (0, 72, None)
    };
    if version >= 3 && (header_length < 104 || header_length % 8 != 0) {
        anomalies.push(format!(
            "qcow2.header_length: {header_length}, expected >= 104 and a multiple of 8"
        ));
    }
    let cluster_size = if (9..=21).contains(&cluster_bits) {
        1u64 << cluster_bits
    } else {
        65536
    };

    let mut references = Vec::new();
    let backing_file = if backing_offset != 0 {
        let name = read_name(
            disk,
            backing_offset,
            backing_size,
            cluster_size,
            "backing_file",
            &mut anomalies,
        )?;
        references.push(ExternalReference {
            kind: ReferenceKind::BackingFile,
            target: name.clone().unwrap_or_default(),
        });
        name
    } else {
        None
    };

    // Header extensions: from the end of the fixed header up to the end of
    // the first cluster (or the backing file name, whichever comes first).
    let ext_start = u64::from(header_length.max(72));
    let mut ext_end = cluster_size.min(MAX_HEADER_AREA as u64);
    if backing_offset > ext_start && backing_offset < ext_end {
        ext_end = backing_offset;
    }
    let area = read_upto(disk, 0, ext_end as usize)?;
    let mut backing_format = None;
    let mut data_file = None;
    let mut pos = ext_start as usize;
    while let (Some(kind), Some(len)) = (be32(&area, pos), be32(&area, pos + 4)) {
        if kind == EXT_END {
            break;
        }
        let data_at = pos + 8;
        let Some(data) = field(&area, data_at, len as usize) else {
            anomalies.push(format!(
                "qcow2.header_extension at {pos}: length {len} runs past the first cluster"
            ));
            break;
        };
        match kind {
            EXT_BACKING_FORMAT => backing_format = Some(c_string(data)),
            EXT_DATA_FILE => data_file = Some(c_string(data)),
            _ => {}
        }
        let padded = (len as usize).div_ceil(8) * 8;
        pos = data_at + padded;
    }

    let external_data_file = incompatible_features & INCOMPAT_DATA_FILE != 0;
    if external_data_file || data_file.is_some() {
        references.push(ExternalReference {
            kind: ReferenceKind::DataFile,
            target: data_file.clone().unwrap_or_default(),
        });
    }
    let info = Qcow2Info {
        version,
        virtual_size,
        cluster_bits,
        backing_file,
        backing_format,
        data_file,
        external_data_file,
        encryption_method,
        encrypted: encryption_method != 0,
        incompatible_features,
        snapshots,
        compression_type,
    };
    Ok(Described {
        detail: FormatDetail::Qcow2(info),
        virtual_size: Some(virtual_size),
        references,
        anomalies,
    })
}

/// Read a name stored at `offset` with `size` bytes, if both are sane.
fn read_name(
    disk: &dyn DiskRead,
    offset: u64,
    size: u32,
    cluster_size: u64,
    what: &str,
    anomalies: &mut Vec<String>,
) -> Result<Option<String>, ProbeError> {
    let size64 = u64::from(size);
    if size64 == 0 || size64 > MAX_BACKING_NAME {
        anomalies.push(format!(
            "qcow2.{what}_size: {size}, expected 1..={MAX_BACKING_NAME}"
        ));
        return Ok(None);
    }
    let end = offset.checked_add(size64);
    if end.map_or(true, |e| e > cluster_size) {
        anomalies.push(format!(
            "qcow2.{what}_offset: {offset} (+{size}) lies outside the first cluster ({cluster_size} bytes)"
        ));
        return Ok(None);
    }
    match read_in_bounds(disk, offset, size as usize)? {
        Some(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        None => {
            anomalies.push(format!(
                "qcow2.{what}_offset: {offset} (+{size}) lies past the end of the file"
            ));
            Ok(None)
        }
    }
}
