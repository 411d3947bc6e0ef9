//! The image checks on real files: the reference ZVHD2 vectors, probed.

use std::path::PathBuf;

use imsprep_ims::image::{Format, GIB};
use imsprep_ims::{check_image, smallest_min_disk, Finding, ImageFacts, ImageType, Intent};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/zvhd2")
        .join(name)
}

fn facts(name: &str) -> ImageFacts {
    let report = imsprep_probe::inspect(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    ImageFacts::from_probe(&report)
}

fn codes(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.code.id()).collect()
}

#[test]
fn reference_zvhd2_gib_plus_one_needs_two_gib() {
    let f = facts("gib-plus-one.zvhd2");
    assert_eq!(f.format, Format::Zvhd2);
    assert_eq!(f.zvhd2_problem, None);
    assert_eq!(f.disk_size, Some(2 * GIB));
    assert_eq!(smallest_min_disk(2 * GIB), 2);
    let data = Intent {
        image_type: ImageType::DataImage,
        min_disk: Some(1),
        ..Intent::default()
    };
    assert_eq!(codes(&check_image(&f, &data)), ["IMAGE-MIN-DISK-SMALL"]);
    let data = Intent {
        min_disk: Some(2),
        ..data
    };
    assert!(check_image(&f, &data).is_empty());
}

#[test]
fn reference_zvhd2_files_are_well_formed() {
    for name in [
        "exact-two-blocks.zvhd2",
        "mixed.zvhd2",
        "mixed-zlib.zvhd2",
        "zeros.zvhd2",
        "unaligned-size.zvhd2",
    ] {
        let f = facts(name);
        assert_eq!(f.format, Format::Zvhd2, "{name}");
        assert_eq!(f.zvhd2_problem, None, "{name}");
        let data = Intent {
            image_type: ImageType::DataImage,
            min_disk: Some(1),
            ..Intent::default()
        };
        assert!(
            check_image(&f, &data).is_empty(),
            "{name}: {:?}",
            check_image(&f, &data)
        );
    }
}

#[test]
fn unaligned_raw_is_flagged() {
    let f = facts("unaligned-size.raw");
    assert_eq!(f.format, Format::Raw);
    let data = Intent {
        image_type: ImageType::DataImage,
        min_disk: Some(1),
        ..Intent::default()
    };
    let got = codes(&check_image(&f, &data));
    assert!(got.contains(&"IMAGE-RAW-ALIGNMENT"), "{got:?}");
    assert!(got.contains(&"IMAGE-RAW-NEEDS-BITMAP"), "{got:?}");
}

#[test]
fn pattern_raw_is_not_a_bootable_system_disk() {
    let f = facts("exact-two-blocks.raw");
    let got = codes(&check_image(
        &f,
        &Intent {
            min_disk: Some(1),
            ..Intent::default()
        },
    ));
    assert!(got.contains(&"DISK-NOT-BOOTABLE"), "{got:?}");
}
