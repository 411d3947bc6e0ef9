//! CRC-32 of a file whose zeros are never hashed byte by byte.
//!
//! The CRC of a run of `n` zero bytes is built from cached CRCs of `2^k`
//! zeros, each made from the one below by combining it with itself
//! (`crc(0^2m) = combine(crc(0^m), crc(0^m), m)`). A hole of a terabyte thus
//! costs a few dozen combinations instead of a terabyte of hashing.

use std::sync::OnceLock;

use crc32fast::Hasher;

/// CRC-32 of `2^k` zero bytes, for k = 0..64.
fn zero_powers() -> &'static [u32; 64] {
    static POWERS: OnceLock<[u32; 64]> = OnceLock::new();
    POWERS.get_or_init(|| {
        let mut powers = [0u32; 64];
        let mut crc = crc32fast::hash(&[0]);
        for (k, slot) in powers.iter_mut().enumerate() {
            *slot = crc;
            if k == 63 {
                break;
            }
            let len = 1u64 << k;
            let mut doubled = Hasher::new_with_initial_len(crc, len);
            doubled.combine(&Hasher::new_with_initial_len(crc, len));
            crc = doubled.finalize();
        }
        powers
    })
}

/// A hasher in the state of having hashed `len` zero bytes.
pub fn zeros(len: u64) -> Hasher {
    let powers = zero_powers();
    let mut hasher = Hasher::new();
    for (k, &crc) in powers.iter().enumerate() {
        if len & (1u64 << k) != 0 {
            hasher.combine(&Hasher::new_with_initial_len(crc, 1u64 << k));
        }
    }
    hasher
}

/// A CRC under construction, in file order, that defers runs of zeros.
///
/// Consecutive zero runs are added up and folded in with one combination
/// when data follows (or at the end), so a file of alternating holes and
/// zero blocks costs nothing per block.
#[derive(Debug, Clone, Default)]
pub struct Crc {
    hasher: Hasher,
    pending_zeros: u64,
}

impl Crc {
    /// An empty CRC.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `len` zero bytes.
    pub fn zeros(&mut self, len: u64) {
        self.pending_zeros += len;
    }

    /// Appends bytes that are hashed now.
    pub fn update(&mut self, bytes: &[u8]) {
        self.flush();
        self.hasher.update(bytes);
    }

    /// Appends another CRC that covers the bytes following this one.
    pub fn append(&mut self, other: Crc) {
        if other.hasher.total_len() == 0 {
            self.pending_zeros += other.pending_zeros;
            return;
        }
        self.flush();
        self.hasher.combine(&other.hasher);
        self.pending_zeros = other.pending_zeros;
    }

    /// Number of bytes covered so far.
    pub fn len(&self) -> u64 {
        self.hasher.total_len() + self.pending_zeros
    }

    /// True when no bytes have been appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The CRC-32 of every byte appended, in order.
    pub fn finish(mut self) -> u32 {
        self.flush();
        self.hasher.finalize()
    }

    fn flush(&mut self) {
        if self.pending_zeros != 0 {
            self.hasher.combine(&zeros(self.pending_zeros));
            self.pending_zeros = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_runs_match_plain_hashing() {
        for len in [
            0u64,
            1,
            2,
            3,
            7,
            8,
            4095,
            4096,
            65537,
            1 << 20,
            (1 << 20) + 13,
        ] {
            let plain = crc32fast::hash(&vec![0u8; len as usize]);
            assert_eq!(zeros(len).finalize(), plain, "len {len}");
            assert_eq!(zeros(len).total_len(), len);
        }
    }

    #[test]
    fn pieces_in_order_match_plain_hashing() {
        let mut bytes = vec![0u8; 10_000];
        bytes[5] = 1;
        bytes[6000] = 0xff;
        bytes[9999] = 7;
        let mut first = Crc::new();
        first.zeros(5);
        first.update(&bytes[5..7]);
        first.zeros(6000 - 7);
        let mut second = Crc::new();
        second.update(&bytes[6000..6001]);
        second.zeros(9999 - 6001);
        second.update(&bytes[9999..]);
        let mut zeros_only = Crc::new();
        zeros_only.zeros(0);
        first.append(zeros_only);
        first.append(second);
        assert_eq!(first.len(), 10_000);
        assert_eq!(first.finish(), crc32fast::hash(&bytes));
    }
}
