//! Arbitrary bytes never make the probe panic, and detection is total.

use imsprep_probe::{detect, inspect_disk, read_layout};
use proptest::prelude::*;

/// Bytes that are mostly random but often carry real magics at the
/// offsets the probe looks at, so parsers past the magic get exercised.
fn seeded_bytes() -> impl Strategy<Value = Vec<u8>> {
    let magics: Vec<(usize, &'static [u8])> = vec![
        (0, b"QFI\xfb"),
        (0, b"KDMV"),
        (0, b"# Disk DescriptorFile\nRW 1 FLAT \"x\" 0\n"),
        (0, b"conectix"),
        (0, b"vhdxfile"),
        (0, b"QED\0"),
        (0, b"z2strm"),
        (0, b"\x1f\x8b\x08\x08"),
        (512, b"EFI PART"),
        (510, b"\x55\xAA"),
        (1080, b"\x53\xEF"),
        (0x40, b"\x7f\x10\xda\xbe"),
        (0x8001, b"CD001"),
    ];
    (
        proptest::collection::vec(any::<u8>(), 0..40_000),
        proptest::sample::select(magics),
    )
        .prop_map(|(mut bytes, (at, magic))| {
            if bytes.len() >= at + magic.len() {
                bytes[at..at + magic.len()].copy_from_slice(magic);
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn detect_never_panics(head in proptest::collection::vec(any::<u8>(), 0..2048),
                           tail in proptest::collection::vec(any::<u8>(), 0..4096),
                           size in any::<u64>()) {
        let d = detect(&head, &tail, size);
        prop_assert!(d.ambiguous.is_empty() || d.ambiguous.len() > 1);
    }

    #[test]
    fn layout_never_panics(bytes in seeded_bytes()) {
        let l = read_layout(&bytes).unwrap();
        prop_assert_eq!(l.disk_size, bytes.len() as u64);
    }

    #[test]
    fn inspect_never_panics(bytes in seeded_bytes()) {
        let r = inspect_disk(&bytes, "f.img").unwrap();
        prop_assert_eq!(r.file_size, bytes.len() as u64);
        let json = serde_json::to_string(&r).unwrap();
        prop_assert!(json.contains("\"format\""));
    }
}
