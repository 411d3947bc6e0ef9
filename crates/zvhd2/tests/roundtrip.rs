//! RAW -> ZVHD2 -> RAW gives back the source, zero-padded to 512 bytes.

mod common;

use imsprep_zvhd2::{
    convert_raw, convert_to_raw, verify, Compression, Control, Reader, VerifyOptions, WriteOptions,
};
use proptest::prelude::*;

const MIB: usize = 1 << 20;

/// A region written into an otherwise zero image.
#[derive(Debug, Clone)]
enum Fill {
    Random { at: usize, len: usize, seed: u64 },
    Text { at: usize, len: usize },
    Byte { at: usize, value: u8 },
}

fn image(size: usize, fills: &[Fill]) -> Vec<u8> {
    let mut img = vec![0u8; size];
    for f in fills {
        match *f {
            Fill::Random { at, len, seed } => {
                let mut x = seed | 1;
                for b in img.iter_mut().skip(at).take(len) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
            }
            Fill::Text { at, len } => {
                let t = common::text_pattern("p", len);
                for (b, s) in img.iter_mut().skip(at).zip(t) {
                    *b = s;
                }
            }
            Fill::Byte { at, value } => {
                if let Some(b) = img.get_mut(at) {
                    *b = value;
                }
            }
        }
    }
    img
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        Just(511),
        Just(512),
        Just(MIB),
        Just(MIB + 1),
        Just(2 * MIB),
        Just(2 * MIB - 512),
        Just(3 * MIB + 100),
        1usize..4 * MIB,
    ]
}

fn fill() -> impl Strategy<Value = Fill> {
    prop_oneof![
        (0usize..4 * MIB, 1usize..300_000, any::<u64>()).prop_map(|(at, len, seed)| Fill::Random {
            at,
            len,
            seed
        }),
        (0usize..4 * MIB, 1usize..1_500_000).prop_map(|(at, len)| Fill::Text { at, len }),
        (0usize..4 * MIB, 1u8..=255).prop_map(|(at, value)| Fill::Byte { at, value }),
    ]
}

fn compression() -> impl Strategy<Value = Compression> {
    prop_oneof![
        Just(Compression::Zstd { level: 3 }),
        Just(Compression::Zstd { level: 1 }),
        Just(Compression::Zlib)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn raw_zvhd2_raw(
        size in size(),
        fills in proptest::collection::vec(fill(), 0..5),
        compression in compression(),
        block_size in prop_oneof![Just(1u32 << 20), Just(2u32 << 20)],
    ) {
        let src = image(size, &fills);
        let tmp = tempfile::tempdir().unwrap();
        let raw = tmp.path().join("in.raw");
        std::fs::write(&raw, &src).unwrap();
        let z = tmp.path().join("out.zvhd2");
        let opts = WriteOptions { block_size, compression, ..WriteOptions::default() };
        let summary = convert_raw(&raw, &z, &opts, &Control::default()).unwrap();
        let padded_len = size.div_ceil(512) * 512;
        prop_assert_eq!(summary.footer.orig_size, padded_len as u64);

        let r = Reader::open(&z).unwrap();
        let bs = block_size as usize;
        let nonzero = (0..padded_len.div_ceil(bs))
            .filter(|&n| src.iter().skip(n * bs).take(bs).any(|&b| b != 0))
            .count();
        prop_assert_eq!(r.footer().non_zero_blk_num as usize, nonzero);

        let back = tmp.path().join("back.raw");
        let n = convert_to_raw(&z, &back, false, &Control::default()).unwrap();
        prop_assert_eq!(n, padded_len as u64);
        let mut expected = src.clone();
        expected.resize(padded_len, 0);
        let got = std::fs::read(&back).unwrap();
        prop_assert!(got == expected);

        let report = verify(&z, &VerifyOptions { against: Some(&imsprep_disk::RawDisk::open(&raw).unwrap()) }, &Control::default()).unwrap();
        prop_assert!(report.is_ok(), "{:?}", report.problems);
    }
}
