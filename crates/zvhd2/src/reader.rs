//! Random access to the virtual disk inside a ZVHD2 file.

use std::cell::RefCell;
use std::fs::File;
use std::path::Path;

use crate::error::Error;
use crate::footer::Footer;
use crate::layout::{bit, IndexEntry};
use crate::meta::Meta;
use crate::problem::{check_structure, Problem, ProblemKind, Problems};
use crate::record::{read_record, RecordFault};

/// A ZVHD2 file opened for reading.
///
/// Reads use positioned I/O and per-thread buffers, so one `Reader` can be
/// shared by many threads.
#[derive(Debug)]
pub struct Reader {
    file: File,
    footer: Footer,
    bitmap: Vec<u8>,
    /// Present blocks with their records, ascending by block.
    records: Vec<(u32, IndexEntry)>,
}

thread_local! {
    static BLOCK: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Reader {
    /// Opens a ZVHD2 file read-only: reads the head footer, then the tail
    /// footer (authoritative when the head's zvhd2_version is non-zero),
    /// the bitmap and the index, and checks that they agree. Records are
    /// only checked when read.
    pub fn open(path: &Path) -> Result<Reader, Error> {
        let meta = Meta::load(path)?;
        let mut problems = Problems::default();
        let pairs = check_structure(&meta, &mut problems);
        // Stray bits past the last block are harmless to a reader, unless
        // there are so many that other problems may hide behind them.
        let harmless = |p: &Problem| matches!(p.kind, ProblemKind::BitmapPastEnd { .. });
        let mut listed = problems.list.into_iter();
        if let Some(p) = listed.clone().find(|p| !harmless(p)) {
            return Err(p.into_error());
        }
        if problems.omitted > 0 {
            if let Some(p) = listed.next() {
                return Err(p.into_error());
            }
        }
        let mut records = Vec::with_capacity(pairs.len());
        for (block, entry) in pairs {
            let entry = entry.ok_or_else(|| {
                Problem {
                    offset: meta.footer.index_lba,
                    kind: ProblemKind::NoEntry { block },
                }
                .into_error()
            })?;
            records.push((block, entry));
        }
        Ok(Reader {
            file: meta.file,
            footer: meta.footer,
            bitmap: meta.bitmap,
            records,
        })
    }

    /// The authoritative footer.
    pub fn footer(&self) -> &Footer {
        &self.footer
    }

    /// Whether block `n` has a data record (reads as zeros otherwise).
    pub fn is_block_present(&self, n: u32) -> bool {
        n < self.footer.max_blk_num && bit(&self.bitmap, u64::from(n))
    }

    /// The present blocks in ascending order, with their index entries.
    pub fn records(&self) -> &[(u32, IndexEntry)] {
        &self.records
    }

    /// Reads block `n` into `buf`, which must be block_size long: the
    /// decompressed payload, or zeros for an absent block.
    pub fn read_block(&self, n: u32, buf: &mut [u8]) -> Result<(), Error> {
        let f = &self.footer;
        if n >= f.max_blk_num {
            return Err(Error::BlockOutOfRange {
                block: n,
                max_blk_num: f.max_blk_num,
            });
        }
        if buf.len() != f.block_size as usize {
            return Err(Error::BufferSize {
                got: buf.len(),
                expected: f.block_size as usize,
            });
        }
        let Ok(i) = self.records.binary_search_by_key(&n, |r| r.0) else {
            buf.fill(0);
            return Ok(());
        };
        let Some((_, entry)) = self.records.get(i) else {
            buf.fill(0);
            return Ok(());
        };
        read_record(&self.file, entry, n, f.compress_method, buf).map_err(|fault| {
            let offset = entry.offset;
            match fault {
                RecordFault::Io(e) => {
                    Error::io(format!("reading the record of block {n} at {offset}"), e)
                }
                RecordFault::Payload(detail) => Error::BadPayload {
                    block: n,
                    offset,
                    detail,
                },
                other => Error::BadRecord {
                    block: n,
                    offset,
                    detail: other.to_string(),
                },
            }
        })
    }

    /// Reads `buf.len()` bytes of the virtual disk (curr_size bytes long)
    /// starting at `offset`. Absent blocks and bytes past orig_size read as
    /// zeros; a read reaching past curr_size fails.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let f = &self.footer;
        let len = buf.len() as u64;
        if offset
            .checked_add(len)
            .map_or(true, |end| end > f.curr_size)
        {
            return Err(Error::ReadPastEnd {
                offset,
                len,
                size: f.curr_size,
            });
        }
        let bs = u64::from(f.block_size);
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let block = pos / bs;
            let within = (pos % bs) as usize;
            let take = (bs as usize - within).min(buf.len() - done);
            let Some(out) = buf.get_mut(done..done + take) else {
                break;
            };
            if pos >= f.orig_size {
                out.fill(0);
            } else {
                // pos < orig_size, so block < max_blk_num <= u32::MAX.
                let n = block as u32;
                if !self.is_block_present(n) {
                    out.fill(0);
                } else if take == bs as usize {
                    self.read_block(n, out)?;
                } else {
                    BLOCK.with(|cell| -> Result<(), Error> {
                        let mut b = cell.borrow_mut();
                        b.resize(bs as usize, 0);
                        self.read_block(n, &mut b)?;
                        out.copy_from_slice(b.get(within..within + take).unwrap_or(&[]));
                        Ok(())
                    })?;
                }
                // Bytes of the last block past orig_size read as zeros.
                let valid = f.orig_size.saturating_sub(pos);
                if (take as u64) > valid {
                    if let Some(tail) = out.get_mut(valid as usize..) {
                        tail.fill(0);
                    }
                }
            }
            done += take;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Reader;

    #[test]
    fn reader_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Reader>();
    }
}
