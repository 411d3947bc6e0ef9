//! VMDK: hosted sparse header (`KDMV`) with its embedded descriptor, or a
//! text descriptor file. Extent lines are parsed; the files they name are
//! recorded, never opened.

use super::Described;
use crate::bytes::{has, le16, le32, le64, read_in_bounds, read_upto};
use crate::report::{
    ExternalReference, FormatDetail, ReferenceKind, VmdkExtent, VmdkInfo, VmdkKind,
};
use crate::{DiskRead, ProbeError};

/// Descriptors are a few hundred bytes; read no more than this.
const MAX_DESCRIPTOR: u64 = 64 * 1024;
const FLAG_COMPRESSED: u32 = 1 << 16;

pub(super) fn describe(
    disk: &dyn DiskRead,
    head: &[u8],
    file_name: &str,
) -> Result<Described, ProbeError> {
    let mut anomalies = Vec::new();
    let sparse = has(head, 0, b"KDMV");
    let (kind, version, capacity, text) = if sparse {
        let version = le32(head, 4).unwrap_or(0);
        let flags = le32(head, 8).unwrap_or(0);
        let capacity = le64(head, 12).unwrap_or(0);
        let desc_off = le64(head, 28).unwrap_or(0);
        let desc_len = le64(head, 36).unwrap_or(0);
        let compress = le16(head, 77).unwrap_or(0);
        let kind = if flags & FLAG_COMPRESSED != 0 || compress != 0 {
            VmdkKind::StreamOptimized
        } else {
            VmdkKind::Sparse
        };
        let text = if desc_off == 0 || desc_len == 0 {
            String::new()
        } else {
            match (desc_off.checked_mul(512), desc_len.checked_mul(512)) {
                (Some(off), Some(len)) if len <= MAX_DESCRIPTOR => {
                    match read_in_bounds(disk, off, len as usize)? {
                        Some(b) => descriptor_text(&b),
                        None => {
                            anomalies.push(format!(
                                "vmdk.descriptor_offset: sector {desc_off} (+{desc_len}) lies past the end of the file"
                            ));
                            String::new()
                        }
                    }
                }
                _ => {
                    anomalies.push(format!(
                        "vmdk.descriptor_size: {desc_len} sectors at sector {desc_off}, expected at most {} sectors",
                        MAX_DESCRIPTOR / 512
                    ));
                    String::new()
                }
            }
        };
        (kind, Some(version), Some(capacity), text)
    } else {
        let bytes = read_upto(disk, 0, MAX_DESCRIPTOR as usize)?;
        (VmdkKind::Descriptor, None, None, descriptor_text(&bytes))
    };

    let parsed = parse_descriptor(&text);
    let mut extents = parsed.extents;
    let mut references = Vec::new();
    let mut self_taken = false;
    for e in &mut extents {
        // A sparse file is its own single data extent whatever name its
        // embedded descriptor gives; qemu reads it that way.
        if sparse && !self_taken && e.extent_type.eq_ignore_ascii_case("SPARSE") {
            e.is_self = true;
            self_taken = true;
            continue;
        }
        if let Some(name) = &e.file_name {
            e.is_self = sparse && base_name(name) == file_name;
            if !e.is_self {
                references.push(ExternalReference {
                    kind: ReferenceKind::VmdkExtent,
                    target: name.clone(),
                });
            }
        }
    }
    if let Some(parent) = &parsed.parent_hint {
        references.push(ExternalReference {
            kind: ReferenceKind::VmdkParent,
            target: parent.clone(),
        });
    }
    let virtual_size = match capacity {
        Some(c) => c.checked_mul(512),
        None => extents
            .iter()
            .try_fold(0u64, |acc, e| acc.checked_add(e.size_sectors))
            .and_then(|s| s.checked_mul(512)),
    };
    let info = VmdkInfo {
        kind,
        version,
        capacity_sectors: capacity,
        create_type: parsed.create_type,
        extents,
        parent_file_name_hint: parsed.parent_hint,
    };
    Ok(Described {
        detail: FormatDetail::Vmdk(info),
        virtual_size,
        references,
        anomalies,
    })
}

fn descriptor_text(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(b.get(..end).unwrap_or_default()).into_owned()
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

#[derive(Debug, Default)]
struct Parsed {
    create_type: Option<String>,
    parent_hint: Option<String>,
    extents: Vec<VmdkExtent>,
}

/// Bounded number of extent lines kept; a real descriptor has a handful.
const MAX_EXTENTS: usize = 1024;

fn parse_descriptor(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().trim_matches('"').to_string();
            match key.trim() {
                "createType" => out.create_type = Some(value),
                "parentFileNameHint" => out.parent_hint = Some(value),
                _ => {}
            }
            continue;
        }
        if out.extents.len() < MAX_EXTENTS {
            if let Some(e) = parse_extent(line) {
                out.extents.push(e);
            }
        }
    }
    out
}

/// `ACCESS SIZE TYPE ["FILE" [OFFSET]]`
fn parse_extent(line: &str) -> Option<VmdkExtent> {
    let (access, rest) = line.split_once(char::is_whitespace)?;
    if !matches!(access, "RW" | "RDONLY" | "NOACCESS") {
        return None;
    }
    let rest = rest.trim_start();
    let (size, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let size_sectors = size.parse().ok()?;
    let rest = rest.trim_start();
    let (extent_type, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let rest = rest.trim_start();
    let (file_name, rest) = match rest.strip_prefix('"') {
        Some(r) => match r.split_once('"') {
            Some((name, after)) => (Some(name.to_string()), after),
            None => (Some(r.to_string()), ""),
        },
        None => (None, rest),
    };
    let offset = rest.split_whitespace().next().and_then(|o| o.parse().ok());
    Some(VmdkExtent {
        access: access.to_string(),
        size_sectors,
        extent_type: extent_type.to_string(),
        file_name,
        offset,
        is_self: false,
    })
}
