//! The entry points that put detection, header parsing and layout together.

use std::path::Path;

use crate::bytes::read_upto;
use crate::detect::{detect, Detection, HEAD_LEN, TAIL_LEN};
use crate::disk::SubDisk;
use crate::formats::{describe, Described};
use crate::layout::read_layout;
use crate::report::{DiskLayout, Format, FormatDetail, Report, VhdDiskType};
use crate::{DiskRead, ProbeError};

/// Probe the file at `path`: open it read-only, read a few known offsets,
/// and report what it is.
pub fn inspect(path: &Path) -> Result<Report, ProbeError> {
    let open_err = |source| ProbeError::Open {
        path: path.to_path_buf(),
        source,
    };
    // A regular file or a block device, sized the one way every command
    // sizes its input (a device's metadata says 0 bytes).
    let disk = imsprep_disk::RawDisk::open(path).map_err(|e| match e {
        imsprep_disk::DiskError::Io { source, .. } => open_err(source),
        other => open_err(std::io::Error::other(other)),
    })?;
    let disk: &dyn imsprep_disk::Disk = &disk;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut report = inspect_disk(&crate::DiskView(disk), &name)?;
    report.path = path.to_string_lossy().into_owned();
    if report.format == Format::Zvhd2 {
        crate::zvhd2_layout::attach(path, &mut report);
    } else if report.layout.is_none() && crate::open::disk_kind(report.format).is_some() {
        attach_guest_layout(path, &mut report);
    }
    Ok(report)
}

/// The layout of the virtual disk of a qcow2, VMDK, OVA, VHD, VHDX or VDI
/// image, read through its disk-model backend; why not, when it cannot be.
fn attach_guest_layout(path: &Path, report: &mut Report) {
    let options = imsprep_disk::OpenOptions::default();
    match crate::open::open_disk(path, report.format, &options) {
        Ok(disk) => match read_layout(&crate::DiskView(&*disk)) {
            Ok(layout) => report.layout = Some(layout),
            Err(e) => report.layout_error = Some(e.to_string()),
        },
        Err(e) => {
            report.layout_error = Some(format!("the {} reader refused it: {e}", report.format))
        }
    }
}

/// Probe any byte source. `name` is the file name (its extension is
/// compared with the content; it also tells a VMDK extent naming the file
/// itself). ZVHD2 layout needs the file and is only read by [`inspect`].
pub fn inspect_disk(disk: &dyn DiskRead, name: &str) -> Result<Report, ProbeError> {
    let size = disk.size();
    let head = read_upto(disk, 0, HEAD_LEN)?;
    let tail = read_upto(disk, size.saturating_sub(TAIL_LEN as u64), TAIL_LEN)?;
    let det = detect(&head, &tail, size);
    let Described {
        detail,
        virtual_size,
        references,
        anomalies,
    } = describe(disk, &head, &det, name)?;
    let (layout, layout_error) = match plain_disk(&det, &detail, size) {
        Some((start, len)) => {
            let sub = SubDisk::new(disk, start, len);
            (Some(read_layout(&sub)?), None)
        }
        None => (None, None),
    };
    let extension = extension_of(name);
    let extension_format = extension.as_deref().and_then(Format::from_extension);
    Ok(assemble(
        name,
        size,
        det,
        extension,
        extension_format,
        Parts {
            detail,
            virtual_size,
            references,
            anomalies,
            layout,
            layout_error,
        },
    ))
}

struct Parts {
    detail: FormatDetail,
    virtual_size: Option<u64>,
    references: Vec<crate::report::ExternalReference>,
    anomalies: Vec<String>,
    layout: Option<DiskLayout>,
    layout_error: Option<String>,
}

fn assemble(
    name: &str,
    size: u64,
    det: Detection,
    extension: Option<String>,
    extension_format: Option<Format>,
    p: Parts,
) -> Report {
    let other_signatures = det.other_formats();
    Report {
        path: name.to_string(),
        file_size: size,
        file_size_mod_512: size % 512,
        format: det.format,
        other_signatures,
        ambiguous: det.ambiguous,
        signatures: det.signatures,
        name_mismatch: extension_format.is_some_and(|f| f != det.format),
        extension,
        extension_format,
        virtual_size: p.virtual_size,
        detail: p.detail,
        unsafe_references: p.references,
        layout: p.layout,
        layout_error: p.layout_error,
        anomalies: p.anomalies,
    }
}

/// The byte range that is a plain disk, for formats stored without
/// translation: RAW, ISO 9660 and fixed VHD (everything before the footer).
fn plain_disk(det: &Detection, detail: &FormatDetail, size: u64) -> Option<(u64, u64)> {
    match (det.format, detail) {
        (Format::Raw | Format::Iso9660, _) => Some((0, size)),
        (Format::Vhd, FormatDetail::Vhd(v))
            if v.disk_type == VhdDiskType::Fixed && v.footer_at_end =>
        {
            Some((0, size.saturating_sub(512)))
        }
        _ => None,
    }
}

/// Last extension of a file name, lowercased.
fn extension_of(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}
