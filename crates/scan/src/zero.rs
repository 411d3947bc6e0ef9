//! The zero test: is every byte of a buffer zero?

/// Bytes folded together before each early-exit test.
///
/// 256 bytes is sixteen 128-bit loads: wide enough that the one branch per
/// chunk costs nothing next to the loads, small enough that a non-zero byte
/// stops the loop almost at once.
const CHUNK: usize = 256;

/// Returns true when every byte of `buf` is zero.
///
/// Like qemu's `buffer_is_zero`, a few bytes are sampled first (head, middle,
/// tail), since a block of data is nearly always caught there without a
/// loop. The rest is OR-folded over `u64` words in 256-byte chunks, a loop the
/// compiler turns into wide vector loads and ORs, with one early-exit test
/// per chunk.
pub fn is_zero(buf: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (buf.first(), buf.last()) else {
        return true;
    };
    let middle = buf.get(buf.len() / 2).copied().unwrap_or(0);
    if first | middle | last != 0 {
        return false;
    }
    let mut chunks = buf.chunks_exact(CHUNK);
    for chunk in &mut chunks {
        if fold_chunk(chunk) != 0 {
            return false;
        }
    }
    fold_tail(chunks.remainder()) == 0
}

/// ORs a 256-byte chunk down to one word.
#[inline(always)]
fn fold_chunk(chunk: &[u8]) -> u64 {
    // Four independent accumulators keep the OR chain short, so the loads
    // can issue back to back.
    let mut acc = [0u64; 4];
    for (i, word) in chunk.chunks_exact(8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        acc[i % 4] |= u64::from_ne_bytes(bytes);
    }
    acc[0] | acc[1] | acc[2] | acc[3]
}

/// ORs a tail shorter than a chunk down to one byte's worth of bits.
fn fold_tail(tail: &[u8]) -> u64 {
    let mut words = tail.chunks_exact(8);
    let mut acc = 0u64;
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        acc |= u64::from_ne_bytes(bytes);
    }
    words
        .remainder()
        .iter()
        .fold(acc, |acc, &b| acc | u64::from(b))
}

#[cfg(test)]
mod tests {
    use super::is_zero;

    #[test]
    fn finds_a_single_byte_anywhere() {
        let mut buf = vec![0u8; 4096 + 17];
        assert!(is_zero(&buf));
        for i in 0..buf.len() {
            buf[i] = 1;
            assert!(!is_zero(&buf), "byte {i} missed");
            buf[i] = 0;
        }
        assert!(is_zero(&[]));
    }

    #[test]
    fn every_length_and_offset_near_a_chunk() {
        let buf = vec![0u8; 1200];
        for start in 0..9 {
            for len in 0..(buf.len() - start) {
                let slice = &buf[start..start + len];
                assert!(is_zero(slice));
                let mut copy = slice.to_vec();
                if let Some(last) = copy.last_mut() {
                    *last = 0x80;
                    assert!(!is_zero(&copy), "start {start} len {len}");
                }
            }
        }
    }
}
