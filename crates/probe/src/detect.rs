//! Format detection from the first and last bytes of a file. Every
//! signature is looked for; when more than one format claims the file the
//! result says so instead of picking one (a file that one tool reads as
//! QCOW2 and another as RAW is how host files leak, cf. CVE-2022-47951 and
//! CVE-2024-32498).

use crate::bytes::{has, le16, le32};
use crate::report::{Format, Signature};

/// How many leading bytes [`detect`] wants: enough for the ISO 9660
/// volume descriptors (0x8000 onwards) and every header magic.
pub const HEAD_LEN: usize = 64 * 1024;
/// How many trailing bytes [`detect`] wants: one 4096-byte page, which
/// holds a VHD footer (last 512 bytes) and a ZVHD2 tail footer.
pub const TAIL_LEN: usize = 4096;

/// The outcome of signature matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The strongest candidate, or RAW when nothing matched.
    pub format: Format,
    /// Every signature found, strongest first.
    pub signatures: Vec<Signature>,
    /// Distinct candidate formats when more than one claims the file.
    pub ambiguous: Vec<Format>,
}

impl Detection {
    /// True when `format` has a signature at `offset`.
    pub fn has_at(&self, format: Format, offset: u64) -> bool {
        self.signatures
            .iter()
            .any(|s| s.format == format && s.offset == offset)
    }

    /// Formats other than the primary one that some signature claims.
    pub fn other_formats(&self) -> Vec<Format> {
        let mut out = Vec::new();
        for s in &self.signatures {
            if s.format != self.format && !out.contains(&s.format) {
                out.push(s.format);
            }
        }
        out
    }
}

const VDI_SIGNATURE: u32 = 0xbeda_107f;

/// Signatures that sit at offset 0 (or a fixed offset near it), in order
/// of strength.
fn head_signatures(head: &[u8]) -> Vec<Signature> {
    let at0 = |format| Signature { format, offset: 0 };
    let mut out = Vec::new();
    if has(head, 0, b"z2strm") {
        out.push(at0(Format::Zvhd2));
    } else if has(head, 0, b"stream") {
        out.push(at0(Format::Zvhd));
    }
    if has(head, 0, b"conectix") {
        out.push(at0(Format::Vhd));
    }
    if has(head, 0, b"vhdxfile") {
        out.push(at0(Format::Vhdx));
    }
    if has(head, 0, b"QFI\xfb") {
        out.push(at0(Format::Qcow2));
    }
    if has(head, 0, b"KDMV") || has(head, 0, b"# Disk DescriptorFile") {
        out.push(at0(Format::Vmdk));
    }
    if le32(head, 0x40) == Some(VDI_SIGNATURE) {
        out.push(Signature {
            format: Format::Vdi,
            offset: 0x40,
        });
    }
    if has(head, 0, b"QED\0") {
        out.push(at0(Format::Qed));
    }
    if has(head, 0, b"LUKS\xba\xbe") {
        out.push(at0(Format::Luks));
    }
    // gzip: magic plus the only defined method (deflate).
    if has(head, 0, b"\x1f\x8b\x08") {
        out.push(at0(Format::Gzip));
    }
    if has(head, 0, b"\xfd7zXZ\0") {
        out.push(at0(Format::Xz));
    }
    if has(head, 0, b"\x28\xb5\x2f\xfd") {
        out.push(at0(Format::Zstd));
    }
    if has(head, 0, b"BZh") && head.get(3).is_some_and(|c| (b'1'..=b'9').contains(c)) {
        out.push(at0(Format::Bzip2));
    }
    if has(head, 0, b"PK\x03\x04") || has(head, 0, b"PK\x05\x06") {
        out.push(at0(Format::Zip));
    }
    out
}

/// Footers in the last page of the file. `tail` is the last
/// `min(TAIL_LEN, file_size)` bytes.
fn tail_signatures(tail: &[u8], file_size: u64) -> Vec<Signature> {
    let mut out = Vec::new();
    let tail_start = file_size.saturating_sub(tail.len() as u64);
    // Offset inside `tail` of the file offset `file_size - back`.
    let at_back = |back: usize| -> Option<(usize, u64)> {
        let rel = tail.len().checked_sub(back)?;
        Some((rel, tail_start + rel as u64))
    };
    // Footers at offset 0 were already matched from the head; a file
    // smaller than one footer has no distinct tail.
    if let Some((rel, off)) = at_back(512) {
        if off > 0 && has(tail, rel, b"conectix") {
            out.push(Signature {
                format: Format::Vhd,
                offset: off,
            });
        }
        if off > 0 && has(tail, rel, b"stream") {
            out.push(Signature {
                format: Format::Zvhd,
                offset: off,
            });
        }
    }
    if let Some((rel, off)) = at_back(4096) {
        if off > 0 && has(tail, rel, b"z2strm") {
            out.push(Signature {
                format: Format::Zvhd2,
                offset: off,
            });
        }
        if off > 0 && has(tail, rel, b"stream") {
            out.push(Signature {
                format: Format::Zvhd,
                offset: off,
            });
        }
    }
    // A zip is read from its end: the end-of-central-directory record sits
    // 22 bytes plus its comment before the end of the file. Matching the
    // comment length to the distance keeps stray bytes from counting.
    for rel in (0..tail.len().saturating_sub(21)).rev() {
        if has(tail, rel, b"PK\x05\x06")
            && le16(tail, rel + 20).map(usize::from) == Some(tail.len() - rel - 22)
        {
            let offset = tail_start + rel as u64;
            if offset > 0 {
                out.push(Signature {
                    format: Format::Zip,
                    offset,
                });
            }
            break;
        }
    }
    out
}

/// Match every known signature in `head` (the first bytes of the file,
/// ideally [`HEAD_LEN`]) and `tail` (the last bytes, ideally
/// [`TAIL_LEN`]) of a file of `file_size` bytes. Never panics; short
/// slices simply match less.
pub fn detect(head: &[u8], tail: &[u8], file_size: u64) -> Detection {
    let mut signatures = head_signatures(head);
    signatures.extend(tail_signatures(tail, file_size));
    if has(head, 257, b"ustar") {
        signatures.push(Signature {
            format: Format::Tar,
            offset: 257,
        });
    }
    if has(head, 0x8001, b"CD001") {
        signatures.push(Signature {
            format: Format::Iso9660,
            offset: 0x8001,
        });
    }
    let mut distinct: Vec<Format> = Vec::new();
    for s in &signatures {
        if !distinct.contains(&s.format) {
            distinct.push(s.format);
        }
    }
    let format = distinct.first().copied().unwrap_or(Format::Raw);
    let ambiguous = if distinct.len() > 1 {
        distinct
    } else {
        Vec::new()
    };
    Detection {
        format,
        signatures,
        ambiguous,
    }
}
