//! The header section's first parts: the file type identifier and the two
//! headers, of which the valid one with the higher sequence number is
//! current. The current header says where the log is and whether it holds
//! entries still to replay.

use super::guid::Guid;
use super::{checksum, malformed, FORMAT, MIB};
use crate::error::DiskError;
use crate::formats::bytes::{le16, le32, le64};
use crate::io::ReadAt;

/// Size of the header section at the start of every VHDX file.
pub(super) const HEADER_SECTION: u64 = MIB;
/// Offsets of the two header copies.
pub(super) const HEADER_OFFSETS: [u64; 2] = [64 << 10, 128 << 10];
/// Bytes a header's checksum covers.
const HEADER_SIZE: u64 = 4 << 10;

/// The fields of the current header that reading needs.
#[derive(Debug, Clone)]
pub(super) struct Header {
    /// Where this copy lies in the file.
    pub offset: u64,
    /// Its sequence number.
    pub sequence: u64,
    /// Changes whenever the guest-visible data changes; a differencing
    /// child records its parent's.
    pub data_write_guid: Guid,
    /// Non-zero when the log holds entries to replay.
    pub log_guid: Guid,
    /// Where the log lies, in bytes.
    pub log_offset: u64,
    /// Its length in bytes.
    pub log_length: u64,
}

impl Header {
    /// The log's range in the file, when it has one.
    pub fn log_range(&self) -> Option<(u64, u64)> {
        (self.log_length > 0).then(|| (self.log_offset, self.log_offset + self.log_length))
    }
}

/// Checks the file type identifier and returns the current header, with
/// the log's location checked and a log to replay refused.
pub(super) fn read_current(src: &ReadAt) -> Result<Header, DiskError> {
    if src.len() < HEADER_SECTION {
        return Err(malformed(
            src,
            "header section",
            0,
            format!(
                "the file holds {} bytes; a VHDX file starts with a {HEADER_SECTION}-byte header section",
                src.len()
            ),
        ));
    }
    let mut signature = [0u8; 8];
    src.read_exact_at(0, &mut signature)?;
    if &signature != b"vhdxfile" {
        return Err(malformed(
            src,
            "file type identifier",
            0,
            format!("expected the signature \"vhdxfile\"; found {signature:02x?}"),
        ));
    }
    let first = read_one(src, HEADER_OFFSETS[0]);
    let second = read_one(src, HEADER_OFFSETS[1]);
    let current = match (first, second) {
        (Ok(a), Ok(b)) => pick(src, a, b)?,
        (Ok(a), Err(_)) => a.0,
        (Err(_), Ok(b)) => b.0,
        (Err(a), Err(b)) => {
            return Err(malformed(
                src,
                "headers",
                HEADER_OFFSETS[0],
                format!("neither copy is valid: the first {a}; the second {b}"),
            ))
        }
    };
    check_log(src, &current)?;
    Ok(current)
}

/// The stored checksums of both header copies: a writer that updates the
/// file rewrites a header, so a change here means the image changed.
pub(super) fn stamps(src: &ReadAt) -> Result<[u32; 2], DiskError> {
    let mut out = [0u32; 2];
    for (slot, at) in out.iter_mut().zip(HEADER_OFFSETS) {
        let mut field = [0u8; 4];
        src.read_exact_at(at + 4, &mut field)?;
        *slot = u32::from_le_bytes(field);
    }
    Ok(out)
}

/// One header copy with its raw bytes (to compare two copies), or why it
/// is not valid.
fn read_one(src: &ReadAt, at: u64) -> Result<(Header, Vec<u8>), DiskError> {
    let buf = src.read_vec(at, HEADER_SIZE)?;
    let fail = |problem: String| malformed(src, "header", at, problem);
    if buf.get(..4) != Some(b"head".as_slice()) {
        return Err(fail(format!(
            "expected the signature \"head\"; found {:02x?}",
            buf.get(..4).unwrap_or_default()
        )));
    }
    let (stored, computed) = checksum(&buf, 4);
    if stored != computed {
        return Err(fail(format!(
            "its CRC-32C is {computed:#010x} but the Checksum field holds {stored:#010x}"
        )));
    }
    let version = le16(&buf, 66);
    if version != 1 {
        return Err(fail(format!("field Version: expected 1; found {version}")));
    }
    let header = Header {
        offset: at,
        sequence: le64(&buf, 8),
        data_write_guid: Guid::read(&buf, 32),
        log_guid: Guid::read(&buf, 48),
        log_length: u64::from(le32(&buf, 68)),
        log_offset: le64(&buf, 72),
    };
    Ok((header, buf))
}

/// The current one of two valid copies: the higher sequence number; equal
/// numbers only when the copies are identical (as some tools write them).
fn pick(src: &ReadAt, a: (Header, Vec<u8>), b: (Header, Vec<u8>)) -> Result<Header, DiskError> {
    if a.0.sequence > b.0.sequence {
        Ok(a.0)
    } else if b.0.sequence > a.0.sequence {
        Ok(b.0)
    } else if a.1 == b.1 {
        Ok(a.0)
    } else {
        Err(malformed(
            src,
            "headers",
            HEADER_OFFSETS[0],
            format!(
                "both copies are valid with the same SequenceNumber {} but differ, so neither is \
                 known to be current",
                a.0.sequence
            ),
        ))
    }
}

/// The log: its location must be sane, and a log holding entries (a file
/// not closed cleanly) is refused, since reading the file without
/// replaying them would return stale data.
fn check_log(src: &ReadAt, header: &Header) -> Result<(), DiskError> {
    let aligned = header.log_offset % MIB == 0 && header.log_length % MIB == 0;
    let placed = header.log_length == 0
        || (header.log_offset >= HEADER_SECTION
            && header.log_offset.checked_add(header.log_length).is_some());
    if !aligned || !placed {
        return Err(malformed(
            src,
            "header fields LogOffset and LogLength",
            header.offset + 68,
            format!(
                "expected a log of whole MiB past the header section; found {} bytes at offset {}",
                header.log_length, header.log_offset
            ),
        ));
    }
    if !header.log_guid.is_zero() {
        return Err(DiskError::unsupported(
            src.path(),
            FORMAT,
            "a log with entries to replay",
            Some(
                "open it once in Hyper-V (or Mount-VHD) or run `qemu-img check -r all` on a copy, \
                 then try again"
                    .to_string(),
            ),
        ));
    }
    Ok(())
}
