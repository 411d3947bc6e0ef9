//! Marvin32, the hash that guards new-format transaction log entries.

/// Seed used by the registry for log entry hashes.
pub(crate) const LOG_SEED: u64 = 0x82EF_4D88_7A4E_55C5;

fn mix(s0: &mut u32, s1: &mut u32) {
    *s1 ^= *s0;
    *s0 = s0.rotate_left(20).wrapping_add(*s1);
    *s1 = s1.rotate_left(9) ^ *s0;
    *s0 = s0.rotate_left(27).wrapping_add(*s1);
    *s1 = s1.rotate_left(19);
}

/// Marvin32 of `data` with the registry's log seed: the hash that guards
/// new-format (`HvLE`) transaction log entries. Public so that tools and
/// tests can check or build log entries.
pub fn log_entry_hash(data: &[u8]) -> u64 {
    marvin32(LOG_SEED, data)
}

/// Marvin32 of `data` with `seed`.
pub(crate) fn marvin32(seed: u64, data: &[u8]) -> u64 {
    let mut s0 = seed as u32;
    let mut s1 = (seed >> 32) as u32;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        let w = <[u8; 4]>::try_from(w).map_or(0, u32::from_le_bytes);
        s0 = s0.wrapping_add(w);
        mix(&mut s0, &mut s1);
    }
    // The tail (0 to 3 bytes) is padded with a single 0x80 byte.
    let tail = words.remainder();
    let mut last = 0x80u32 << (8 * tail.len());
    for (i, &b) in tail.iter().enumerate() {
        last |= u32::from(b) << (8 * i);
    }
    s0 = s0.wrapping_add(last);
    mix(&mut s0, &mut s1);
    mix(&mut s0, &mut s1);
    u64::from(s0) | (u64::from(s1) << 32)
}

#[cfg(test)]
mod tests {
    use super::marvin32;

    // Published Marvin32 test vectors (the .NET runtime's test suite).
    #[test]
    fn known_vectors() {
        let seed = 0x004F_B61A_001B_DBCC;
        assert_eq!(marvin32(seed, &[]), 0x30ED_35C1_00CD_3C7D);
        assert_eq!(marvin32(seed, &[0xAF]), 0x48E7_3FC7_7D75_DDC1);
        assert_eq!(marvin32(seed, &[0xE7, 0x0F]), 0xB5F6_E1FC_485D_BFF8);
        assert_eq!(marvin32(seed, &[0x37, 0xF4, 0x95]), 0xF0B0_7C78_9B8C_F7E8);
        assert_eq!(
            marvin32(seed, &[0x86, 0x42, 0xDC, 0x59]),
            0x7008_F2E8_7E9C_F556
        );
        assert_eq!(
            marvin32(seed, &[0xAB, 0x42, 0x7E, 0xA8, 0xD1, 0x0F, 0xC7]),
            0xE118_47E4_F067_8C41
        );
    }
}
