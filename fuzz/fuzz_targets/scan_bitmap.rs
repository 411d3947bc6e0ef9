//! The RAW bitmap file (`.mf`) reader; a file it accepts encodes back to
//! the same bytes.
#![no_main]

use imsprep_scan::{encode_bitmap, read_bitmap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = imsprep_fuzz::scratch_path("mf");
    imsprep_fuzz::write_file(&path, data);
    if let Ok(b) = read_bitmap(&path) {
        assert_eq!(encode_bitmap(&b), data);
        let _ = b.map.ranges().count();
    }
});
