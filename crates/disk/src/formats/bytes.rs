//! Integers read out of a buffer without ever panicking: a field that lies
//! past the buffer reads as zero (callers size their buffers from the
//! format, so that only happens on a short read they already refused).

macro_rules! reader {
    ($name:ident, $ty:ty, $from:ident) => {
        /// The integer at `at`, or 0 when it lies past the buffer.
        pub(crate) fn $name(buf: &[u8], at: usize) -> $ty {
            const N: usize = std::mem::size_of::<$ty>();
            buf.get(at..at.saturating_add(N))
                .and_then(|s| <[u8; N]>::try_from(s).ok())
                .map_or(0, <$ty>::$from)
        }
    };
}

reader!(be32, u32, from_be_bytes);
reader!(be64, u64, from_be_bytes);
reader!(le16, u16, from_le_bytes);
reader!(le32, u32, from_le_bytes);
reader!(le64, u64, from_le_bytes);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_orders_and_never_panics_past_the_end() {
        let b = [1u8, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(be32(&b, 0), 0x0102_0304);
        assert_eq!(le32(&b, 0), 0x0403_0201);
        assert_eq!(be64(&b, 0), 0x0102_0304_0506_0708);
        assert_eq!(le16(&b, 6), 0x0807);
        assert_eq!(be32(&b, 6), 0);
        assert_eq!(le64(&b, usize::MAX), 0);
    }
}
