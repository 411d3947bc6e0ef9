//! Verification against a RAW file, cancellation and progress.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::*;
use imsprep_zvhd2::{
    convert_raw, convert_to_raw, verify, Control, Error, ProblemKind, VerifyOptions, WriteOptions,
};

#[test]
fn a_single_changed_byte_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let z = fixtures().join("mixed.zvhd2");
    let mut raw = std::fs::read(fixtures().join("mixed.raw")).unwrap();
    for (pos, block) in [
        (5_000_000usize, 2u32),
        (2_097_152 + 10, 1),
        (raw.len() - 1, 5),
    ] {
        let saved = raw[pos];
        raw[pos] ^= 0x40;
        let p = tmp.path().join("changed.raw");
        std::fs::write(&p, &raw).unwrap();
        let rep = verify(
            &z,
            &VerifyOptions {
                against: Some(&imsprep_disk::RawDisk::open(&p).unwrap()),
            },
            &Control::default(),
        )
        .unwrap();
        let kinds: Vec<_> = rep.problems.iter().map(|p| p.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![ProblemKind::BlockDiffers { block }],
            "byte {pos}"
        );
        assert!(rep.problems[0]
            .to_string()
            .contains(&format!("block {block}")));
        raw[pos] = saved;
    }
}

#[test]
fn a_raw_of_another_size_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let z = fixtures().join("mixed.zvhd2");
    let mut raw = std::fs::read(fixtures().join("mixed.raw")).unwrap();
    // Within the same 512-byte sector: still the same disk.
    raw.push(0);
    let p = tmp.path().join("plus1.raw");
    std::fs::write(&p, &raw).unwrap();
    assert!(verify(
        &z,
        &VerifyOptions {
            against: Some(&imsprep_disk::RawDisk::open(&p).unwrap())
        },
        &Control::default()
    )
    .unwrap()
    .is_ok());
    raw.resize(raw.len() + 1024, 0);
    std::fs::write(&p, &raw).unwrap();
    let rep = verify(
        &z,
        &VerifyOptions {
            against: Some(&imsprep_disk::RawDisk::open(&p).unwrap()),
        },
        &Control::default(),
    )
    .unwrap();
    assert!(matches!(
        rep.problems[..],
        [imsprep_zvhd2::Problem {
            kind: ProblemKind::SizeMismatch { .. },
            ..
        }]
    ));
}

#[test]
fn progress_is_monotone_and_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = fixtures().join("mixed.raw");
    let last = AtomicU64::new(0);
    let progress = |n: u64| {
        assert!(n >= last.load(Ordering::SeqCst));
        last.store(n, Ordering::SeqCst);
    };
    let flag = AtomicBool::new(false);
    let ctl = Control {
        progress: &progress,
        cancel: &flag,
    };
    let out = tmp.path().join("p.zvhd2");
    convert_raw(&raw, &out, &WriteOptions::default(), &ctl).unwrap();
    assert_eq!(last.load(Ordering::SeqCst), 11_546_681);
    last.store(0, Ordering::SeqCst);
    verify(
        &out,
        &VerifyOptions {
            against: Some(&imsprep_disk::RawDisk::open(&raw).unwrap()),
        },
        &ctl,
    )
    .unwrap();
    assert_eq!(last.load(Ordering::SeqCst), 11_547_136);
    last.store(0, Ordering::SeqCst);
    convert_to_raw(&out, &tmp.path().join("p.raw"), false, &ctl).unwrap();
    assert_eq!(last.load(Ordering::SeqCst), 11_547_136);
}

#[test]
fn cancel_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = fixtures().join("mixed.raw");
    let flag = AtomicBool::new(false);
    // Cancel as soon as the first progress report arrives.
    let progress = |_| flag.store(true, Ordering::SeqCst);
    let ctl = Control {
        progress: &progress,
        cancel: &flag,
    };
    let out = tmp.path().join("c.zvhd2");
    let r = convert_raw(&raw, &out, &WriteOptions::default(), &ctl);
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    flag.store(true, Ordering::SeqCst);
    let z = fixtures().join("mixed.zvhd2");
    let r = convert_to_raw(&z, &tmp.path().join("c.raw"), false, &ctl);
    assert!(matches!(r, Err(Error::Cancelled)));
    assert!(matches!(
        verify(&z, &VerifyOptions::default(), &ctl),
        Err(Error::Cancelled)
    ));
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn existing_outputs_are_kept_unless_overwriting() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = fixtures().join("zeros.raw");
    let out = tmp.path().join("o.zvhd2");
    std::fs::write(&out, b"keep me").unwrap();
    let r = convert_raw(&raw, &out, &WriteOptions::default(), &Control::default());
    assert!(matches!(r, Err(Error::OutputExists { .. })));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let opts = WriteOptions {
        overwrite: true,
        ..WriteOptions::default()
    };
    convert_raw(&raw, &out, &opts, &Control::default()).unwrap();
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 16384);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}
