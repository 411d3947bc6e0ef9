//! The zero test: is every byte of a buffer zero?

/// Returns true when every byte of `buf` is zero.
///
/// Samples the first, middle and last byte first (a data block is usually
/// caught there), then OR-folds the buffer in 64-byte chunks of `u64`s, a
/// loop the compiler turns into wide vector instructions, leaving the loop
/// at the first chunk that is not zero.
pub fn is_zero(buf: &[u8]) -> bool {
    if buf.is_empty() {
        return true;
    }
    if buf[0] != 0 || buf[buf.len() / 2] != 0 || buf[buf.len() - 1] != 0 {
        return false;
    }
    const CHUNK: usize = 64;
    let mut chunks = buf.chunks_exact(CHUNK);
    for chunk in &mut chunks {
        let mut acc = 0u64;
        for word in chunk.chunks_exact(8) {
            acc |= u64::from_ne_bytes(word.try_into().expect("8-byte slice"));
        }
        if acc != 0 {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| b == 0)
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
}
