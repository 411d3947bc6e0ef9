//! Whether the internal log was left clean. XFS has no clean flag in the
//! superblock: an unmount writes an unmount record as the last log
//! record, so the log is clean when the record just before the log head
//! is one. The head is found as the kernel finds it: every 512-byte log
//! block begins with its pass (cycle) number, and the head is where the
//! cycle number drops. The log is only looked at, never replayed.

use super::Xfs;
use crate::bytes::{be32, u8_at};

/// `XLOG_HEADER_MAGIC_NUM`.
const RECORD_MAGIC: u32 = 0xfeed_babe;
/// `XLOG_UNMOUNT_TRANS` in an operation header's flags.
const UNMOUNT_TRANS: u8 = 0x20;
/// The most log blocks searched backwards from the head for a record
/// header: a record holds at most 256 KiB of data and its headers.
const MAX_BACK: u64 = 1024;

impl Xfs {
    /// Whether the log was left clean; an error sentence when that cannot
    /// be told.
    pub(super) fn log_state(&self) -> Result<bool, String> {
        if self.sb.log_start == 0 {
            return Err("the log is on an external device: not checked".to_string());
        }
        self.find_log_state()
            .map_err(|problem| format!("log state unknown: {problem}"))
    }

    fn find_log_state(&self) -> Result<bool, String> {
        let start = self
            .sb
            .block_offset(self.sb.log_start, u64::from(self.sb.log_blocks), "log")
            .map_err(|e| e.to_string())?;
        let blocks = (u64::from(self.sb.log_blocks) << self.sb.block_log) / 512;
        if blocks < 2 {
            return Err("the log holds fewer than two blocks".to_string());
        }
        let read = |bb: u64| -> Result<Vec<u8>, String> {
            self.read_vec(start + bb * 512, 512)
                .map_err(|e| e.to_string())
        };
        let cycle = |bb: u64| -> Result<u32, String> {
            let b = read(bb)?;
            Ok(if be32(&b, 0) == RECORD_MAGIC {
                be32(&b, 4)
            } else {
                be32(&b, 0)
            })
        };
        let first = cycle(0)?;
        let last = cycle(blocks - 1)?;
        if first == 0 {
            return Err("the log's first block was never written".to_string());
        }
        // The head is the first block still holding the previous pass
        // (cycle `last`), found by bisection; when the whole log is of one
        // pass, the head is at its end.
        let head = if first == last {
            blocks
        } else {
            let (mut lo, mut hi) = (0u64, blocks - 1);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if cycle(mid)? == last {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            hi
        };
        let mut bb = head;
        for _ in 0..MAX_BACK.min(blocks) {
            bb = if bb == 0 { blocks - 1 } else { bb - 1 };
            let header = read(bb)?;
            if be32(&header, 0) != RECORD_MAGIC {
                continue;
            }
            let version = be32(&header, 8);
            let record_size = be32(&header, 320);
            let header_blocks = if version & 2 != 0 && record_size > 32768 {
                u64::from(record_size.div_ceil(32768))
            } else {
                1
            };
            let op = read((bb + header_blocks) % blocks)?;
            let ops = be32(&header, 40);
            let flags = u8_at(&op, 9);
            return Ok(ops >= 1 && flags & UNMOUNT_TRANS != 0);
        }
        Err(format!(
            "no log record header within {MAX_BACK} blocks before the head (block {head})"
        ))
    }
}
