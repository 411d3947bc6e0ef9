//! CRC32C as ext4 computes it for metadata_csum: the reflected
//! Castagnoli polynomial, the running value passed in and returned raw
//! (no final inversion), so checksums chain like the kernel's
//! `ext4_chksum`.

const POLY: u32 = 0x82F6_3B78;

const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Continues the CRC32C `crc` over `data`.
pub fn crc32c(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_value() {
        // The standard CRC32C check value of "123456789" is 0xE3069283
        // (initial and final inversion).
        assert_eq!(!super::crc32c(!0, b"123456789"), 0xE306_9283);
    }
}
