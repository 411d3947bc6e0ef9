//! A RAW disk read from a stream (standard input, a pipe, a FIFO) as a
//! block source.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Mutex;

use crate::error::Error;
use crate::source::{BlockData, BlockSource};

/// A RAW disk of a stated size read once, front to back, from a stream.
///
/// The writer asks for blocks from many threads, a bounded number ahead of
/// the one it writes, in ascending order of starting but not of asking;
/// blocks read ahead of their asker wait here, so memory stays bounded by
/// the writer's blocks in flight. A block asked for twice, or after the
/// stream ended, is an error, not a silent zero.
pub struct StreamSource<R> {
    size: u64,
    state: Mutex<State<R>>,
}

struct State<R> {
    reader: R,
    /// The next block the stream holds.
    next: u64,
    /// Blocks read but not yet taken: `None` for an all-zero block.
    waiting: BTreeMap<u64, Option<Vec<u8>>>,
    /// Set when the stream held more bytes than the stated size.
    longer: bool,
}

impl<R: Read + Send> StreamSource<R> {
    /// Reads a disk of `size` bytes from `reader`.
    pub fn new(reader: R, size: u64) -> Self {
        StreamSource {
            size,
            state: Mutex::new(State {
                reader,
                next: 0,
                waiting: BTreeMap::new(),
                longer: false,
            }),
        }
    }
}

impl<R: Read + Send> BlockSource for StreamSource<R> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_block(&self, index: u64, block_size: usize, buf: &mut [u8]) -> io::Result<BlockData> {
        let buf = buf.get_mut(..block_size).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "buffer shorter than a block")
        })?;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(block) = state.waiting.remove(&index) {
            return Ok(take(block, buf));
        }
        if index < state.next {
            return Err(io::Error::other(format!(
                "block {index} of the stream was already read"
            )));
        }
        loop {
            let n = state.next;
            let start = n.saturating_mul(block_size as u64);
            let len = self.size.saturating_sub(start).min(block_size as u64) as usize;
            let (head, tail) = buf.split_at_mut(len);
            read_full(&mut state.reader, head, start, self.size)?;
            tail.fill(0);
            state.next += 1;
            if state.next.saturating_mul(block_size as u64) >= self.size {
                // The last block: the stream must end here.
                let mut probe = [0u8; 1];
                if state.reader.read(&mut probe)? != 0 {
                    state.longer = true;
                }
            }
            let zero = imsprep_scan::is_zero(head);
            if n == index {
                return Ok(if zero {
                    BlockData::Zero
                } else {
                    BlockData::Data
                });
            }
            let kept = (!zero).then(|| buf.to_vec());
            state.waiting.insert(n, kept);
        }
    }

    fn check_unchanged(&self) -> Result<(), Error> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.longer {
            return Err(Error::SourceChanged {
                detail: format!("the stream holds more than the stated {} bytes", self.size),
            });
        }
        Ok(())
    }
}

/// Copies a waiting block into `buf`.
fn take(block: Option<Vec<u8>>, buf: &mut [u8]) -> BlockData {
    match block {
        Some(data) => {
            buf.copy_from_slice(&data);
            BlockData::Data
        }
        None => BlockData::Zero,
    }
}

/// Fills `buf` from the stream; an early end names how many bytes came.
fn read_full(reader: &mut impl Read, buf: &mut [u8], start: u64, size: u64) -> io::Result<()> {
    let mut got = 0usize;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the stream ended after {} bytes; the stated size is {size}",
                        start + got as u64
                    ),
                ))
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_blocks_asked_out_of_order_and_checks_the_length() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 7) as u8).collect();
        let src = StreamSource::new(&data[..], data.len() as u64);
        let mut buf = vec![0u8; 4096];
        // Block 1 first: block 0 is read and kept.
        assert_eq!(src.read_block(1, 4096, &mut buf).unwrap(), BlockData::Data);
        assert_eq!(&buf[..], &data[4096..8192]);
        assert_eq!(src.read_block(0, 4096, &mut buf).unwrap(), BlockData::Data);
        assert_eq!(&buf[..], &data[..4096]);
        assert_eq!(src.read_block(2, 4096, &mut buf).unwrap(), BlockData::Data);
        assert_eq!(&buf[..10_000 - 8192], &data[8192..]);
        assert!(buf[10_000 - 8192..].iter().all(|&b| b == 0));
        assert!(src.read_block(0, 4096, &mut buf).is_err());
        src.check_unchanged().unwrap();

        let short = StreamSource::new(&data[..], 20_000);
        assert!(short.read_block(4, 4096, &mut buf).is_err());
        let long = StreamSource::new(&data[..], 8192);
        long.read_block(1, 4096, &mut buf).unwrap();
        assert!(long.check_unchanged().is_err());
    }
}
