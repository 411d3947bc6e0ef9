//! ZVHD2 footer facts read straight from the footer bytes (head page at 0,
//! tail page at the end), so a probe works even on files the full reader
//! rejects.

use super::Described;
use crate::bytes::{has, le32, le64, read_in_bounds};
use crate::detect::Detection;
use crate::report::{Format, FormatDetail, Zvhd2Info};
use crate::{DiskRead, ProbeError};

const FOOTER_LEN: usize = 512;
const PAGE: u64 = 4096;

/// Footer facts from a 512-byte footer, with the two presence flags left
/// for the caller. `None` when the cookie is missing.
pub(crate) fn zvhd2_footer_facts(footer: &[u8]) -> Option<Zvhd2Info> {
    if !has(footer, 0, b"z2strm") || footer.len() < FOOTER_LEN {
        return None;
    }
    let stored = le32(footer, 64)?;
    let sum = footer
        .iter()
        .take(FOOTER_LEN)
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .fold(0u32, |acc, (_, &b)| acc.wrapping_add(u32::from(b)));
    Some(Zvhd2Info {
        head_footer: false,
        tail_footer: false,
        checksum_ok: !sum == stored,
        zvhd2_version: footer.get(87).copied().unwrap_or(0),
        orig_size: le64(footer, 40)?,
        curr_size: le64(footer, 48)?,
        block_size: le32(footer, 88)?,
        max_blk_num: le32(footer, 92)?,
        non_zero_blk_num: le32(footer, 136)?,
        compress_method: footer.get(141).copied().unwrap_or(0),
        reader_opened: false,
        reader_error: None,
    })
}

pub(super) fn describe(
    disk: &dyn DiskRead,
    head: &[u8],
    det: &Detection,
) -> Result<Described, ProbeError> {
    let size = disk.size();
    let head_footer = det.has_at(Format::Zvhd2, 0);
    let tail_off = size.saturating_sub(PAGE);
    let tail_footer = tail_off > 0 && det.has_at(Format::Zvhd2, tail_off);
    let head_facts = if head_footer {
        zvhd2_footer_facts(head)
    } else {
        None
    };
    let tail_facts = if tail_footer {
        read_in_bounds(disk, tail_off, FOOTER_LEN)?
            .as_deref()
            .and_then(zvhd2_footer_facts)
    } else {
        None
    };
    let mut anomalies = Vec::new();
    if !tail_footer {
        anomalies.push(format!(
            "zvhd2.tail_footer at {tail_off}: cookie z2strm missing (file truncated or never finished)"
        ));
    }
    if size % PAGE != 0 {
        anomalies.push(format!(
            "zvhd2.file_size: {size}, expected a multiple of {PAGE}"
        ));
    }
    // The tail footer is the complete one; the head is written at creation.
    let mut info = match (tail_facts, head_facts) {
        (Some(t), _) => t,
        (None, Some(h)) => h,
        (None, None) => Zvhd2Info {
            head_footer: false,
            tail_footer: false,
            checksum_ok: false,
            zvhd2_version: 0,
            orig_size: 0,
            curr_size: 0,
            block_size: 0,
            max_blk_num: 0,
            non_zero_blk_num: 0,
            compress_method: 0,
            reader_opened: false,
            reader_error: None,
        },
    };
    info.head_footer = head_footer;
    info.tail_footer = tail_footer;
    if !info.checksum_ok {
        anomalies.push("zvhd2.checksum: footer checksum does not match".to_string());
    }
    let virtual_size = (info.curr_size != 0).then_some(info.curr_size);
    Ok(Described {
        detail: FormatDetail::Zvhd2(info),
        virtual_size,
        references: Vec::new(),
        anomalies,
    })
}
