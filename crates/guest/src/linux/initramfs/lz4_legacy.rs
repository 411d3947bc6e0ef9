//! The LZ4 "legacy" format the kernel decompresses (`lz4 -l`): the magic
//! `0x184C2102`, then blocks, each a little-endian u32 compressed size and
//! an LZ4 block that expands to at most 8 MiB. It has no end marker: the
//! stream ends at the end of the input, at a zero or implausible size, or
//! where a new legacy magic starts (the kernel's reading). lz4_flex reads
//! the frame format only, so the framing is read here and each block is
//! decoded by `lz4_flex::block`.

use std::io::{self, BufRead, Write};

/// Decoded size of one legacy block.
const BLOCK_MAX: usize = 8 << 20;
/// Largest compressed block for an 8 MiB input (LZ4_compressBound).
const BLOCK_BOUND: usize = BLOCK_MAX + BLOCK_MAX / 255 + 16;

fn take(input: &mut dyn BufRead, n: usize, out: &mut Vec<u8>) -> io::Result<bool> {
    out.clear();
    while out.len() < n {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        let k = buf.len().min(n - out.len());
        out.extend_from_slice(buf.get(..k).unwrap_or_default());
        input.consume(k);
    }
    Ok(true)
}

/// Decode a legacy stream (magic included) into `out`.
pub fn decompress(input: &mut dyn BufRead, out: &mut dyn Write) -> io::Result<()> {
    let mut word = Vec::with_capacity(4);
    take(input, 4, &mut word)?;
    let mut block = Vec::new();
    let mut decoded = vec![0u8; BLOCK_MAX];
    loop {
        let peek = input.fill_buf()?;
        if peek.len() < 4 {
            return Ok(());
        }
        let size = u32::from_le_bytes([
            peek.first().copied().unwrap_or(0),
            peek.get(1).copied().unwrap_or(0),
            peek.get(2).copied().unwrap_or(0),
            peek.get(3).copied().unwrap_or(0),
        ]) as usize;
        if size == 0 || size > BLOCK_BOUND {
            // Padding or the next member: this stream has ended.
            return Ok(());
        }
        input.consume(4);
        if !take(input, size, &mut block)? {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("lz4 legacy block of {size} bytes is truncated"),
            ));
        }
        let n = lz4_flex::block::decompress_into(&block, &mut decoded).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, format!("lz4 legacy block: {e}"))
        })?;
        out.write_all(decoded.get(..n).unwrap_or_default())?;
    }
}
