//! Reading one data record and its payload.

use std::cell::RefCell;
use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::codec;
use crate::layout::{
    record_len, IndexEntry, RecordHeader, RECORD_END, RECORD_HEADER_LEN, RECORD_MAGIC,
};

/// What can be wrong with a record found through a sane index entry.
#[derive(Debug)]
pub(crate) enum RecordFault {
    Io(std::io::Error),
    Magic([u8; 12]),
    Block(u32),
    Length {
        payload_len: u32,
        expected_record: u64,
    },
    End([u8; 4]),
    Payload(String),
}

impl std::fmt::Display for RecordFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordFault::Io(e) => write!(f, "cannot be read: {e}"),
            RecordFault::Magic(m) => {
                write!(
                    f,
                    "starts with {}, expected \"hwstream bg\\x00\"",
                    crate::error::escape(m)
                )
            }
            RecordFault::Block(b) => write!(f, "names block {b}"),
            RecordFault::Length {
                payload_len,
                expected_record,
            } => write!(
                f,
                "has a {payload_len}-byte payload, which needs a {expected_record}-byte record, \
                 not the index entry's length"
            ),
            RecordFault::End(e) => {
                write!(
                    f,
                    "ends with {}, expected \"end\\x00\"",
                    crate::error::escape(e)
                )
            }
            RecordFault::Payload(d) => write!(f, "payload {d}"),
        }
    }
}

thread_local! {
    static RECORD: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reads the record `entry` points at, checks it holds block `block`, and
/// decompresses its payload into `out` (one block long). The caller has
/// checked that `entry.len` is a sane, bounded record length.
pub(crate) fn read_record(
    file: &File,
    entry: &IndexEntry,
    block: u32,
    method: u8,
    out: &mut [u8],
) -> Result<(), RecordFault> {
    RECORD.with(|cell| {
        let mut rec = cell.borrow_mut();
        rec.resize(entry.len as usize, 0);
        file.read_exact_at(&mut rec, entry.offset)
            .map_err(RecordFault::Io)?;
        let h = RecordHeader::parse(&rec).ok_or(RecordFault::Length {
            payload_len: 0,
            expected_record: 4096,
        })?;
        if h.magic != RECORD_MAGIC {
            return Err(RecordFault::Magic(h.magic));
        }
        if h.block != block {
            return Err(RecordFault::Block(h.block));
        }
        let expected_record = record_len(u64::from(h.payload_len)).unwrap_or(u64::MAX);
        if expected_record != u64::from(entry.len) {
            return Err(RecordFault::Length {
                payload_len: h.payload_len,
                expected_record,
            });
        }
        let end = rec.len().saturating_sub(RECORD_END.len());
        let mut marker = [0u8; 4];
        marker.copy_from_slice(rec.get(end..).unwrap_or(&[0; 4]));
        if marker != RECORD_END {
            return Err(RecordFault::End(marker));
        }
        let payload = rec
            .get(RECORD_HEADER_LEN..RECORD_HEADER_LEN + h.payload_len as usize)
            .ok_or(RecordFault::Length {
                payload_len: h.payload_len,
                expected_record,
            })?;
        codec::decompress(method, payload, out).map_err(RecordFault::Payload)
    })
}
