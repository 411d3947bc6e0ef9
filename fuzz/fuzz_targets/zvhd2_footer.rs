//! The 512-byte ZVHD2 footer: sniff, decode/encode round trip, parse,
//! field and layout checks. Bytes 512..520 of the input, when present,
//! give the file length the layout is checked against.
#![no_main]

use imsprep_zvhd2::{sniff, Footer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sniff(data);
    if let Some(f) = Footer::decode(data) {
        // Encoding what was decoded gives the same bytes back.
        assert_eq!(&f.to_bytes()[..], &data[..512]);
    }
    let file_len = data
        .get(512..520)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .unwrap_or(data.len() as u64);
    let Ok(f) = Footer::parse_at(data, 4096) else {
        return;
    };
    if f.check_fields(4096).is_ok() {
        if let Ok(r) = f.check_layout(4096, file_len) {
            assert!(r.data_start <= r.data_end && r.data_end < r.tail && r.tail < file_len);
        }
    }
});
