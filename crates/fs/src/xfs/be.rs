//! Big-endian integers read out of a buffer without panicking: a field
//! past the buffer reads as zero (buffers are sized from the format before
//! any field is read, so that only happens on input already refused).

macro_rules! reader {
    ($name:ident, $ty:ty) => {
        /// The big-endian integer at `at`, or 0 when it lies past `buf`.
        pub(crate) fn $name(buf: &[u8], at: usize) -> $ty {
            const N: usize = std::mem::size_of::<$ty>();
            buf.get(at..at.saturating_add(N))
                .and_then(|s| <[u8; N]>::try_from(s).ok())
                .map_or(0, <$ty>::from_be_bytes)
        }
    };
}

reader!(be16, u16);
reader!(be32, u32);
reader!(be64, u64);

/// The byte at `at`, or 0 past `buf`.
pub(crate) fn u8_at(buf: &[u8], at: usize) -> u8 {
    buf.get(at).copied().unwrap_or(0)
}
