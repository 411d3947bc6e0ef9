//! ZVHD2 files written by Huawei's reference driver (fixtures) are
//! recognised with their footer facts.

use std::path::PathBuf;

use imsprep_probe::{inspect, Format, FormatDetail};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/zvhd2")
        .join(name)
}

#[test]
fn reference_zvhd2_footer_facts() {
    let r = inspect(&fixture("mixed.zvhd2")).unwrap();
    assert_eq!(r.format, Format::Zvhd2);
    assert!(r.ambiguous.is_empty(), "{:?}", r.signatures);
    assert!(!r.name_mismatch);
    assert_eq!(r.virtual_size, Some(1 << 30));
    let FormatDetail::Zvhd2(z) = &r.detail else {
        panic!("{:?}", r.detail)
    };
    assert!(z.head_footer && z.tail_footer);
    assert!(z.checksum_ok);
    assert_eq!(z.zvhd2_version, 1);
    assert_eq!(z.orig_size, 11_547_136);
    assert_eq!(z.curr_size, 1 << 30);
    assert_eq!(z.block_size, 2 * 1024 * 1024);
    assert_eq!(z.max_blk_num, 6);
    assert_eq!(z.non_zero_blk_num, 5);
    assert_eq!(z.compress_method, 1);
    assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);

    let r = inspect(&fixture("mixed-zlib.zvhd2")).unwrap();
    let FormatDetail::Zvhd2(z) = &r.detail else {
        panic!()
    };
    assert_eq!(z.compress_method, 0);

    let r = inspect(&fixture("zeros.zvhd2")).unwrap();
    let FormatDetail::Zvhd2(z) = &r.detail else {
        panic!()
    };
    assert_eq!(z.non_zero_blk_num, 0);
}

#[test]
fn unaligned_raw_source() {
    let r = inspect(&fixture("mixed.raw")).unwrap();
    assert_eq!(r.format, Format::Raw);
    assert_eq!(r.file_size_mod_512, 11_546_681 % 512);
    assert_ne!(r.file_size_mod_512, 0);
}
