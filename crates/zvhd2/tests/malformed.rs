//! Damaged files give typed errors or verifier problems, never panics.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use imsprep_zvhd2::{verify, Control, Error, Footer, ProblemKind, Reader, VerifyOptions, PAGE};

fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn reference(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap()
}

fn tail_footer(bytes: &[u8]) -> Footer {
    Footer::parse(&bytes[bytes.len() - PAGE as usize..]).unwrap()
}

fn problems(path: &Path) -> Vec<ProblemKind> {
    verify(path, &VerifyOptions::default(), &Control::default())
        .unwrap()
        .problems
        .into_iter()
        .map(|p| p.kind)
        .collect()
}

#[test]
fn truncation_at_every_boundary_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let full = reference("exact-two-blocks.zvhd2");
    let f = tail_footer(&full);
    let len = full.len();
    let cuts = [
        0,
        5,
        100,
        511,
        512,
        4095,
        4096,
        4096 + 48,
        20_000,
        40_960,
        45_056,
        f.index_lba as usize,
        f.index_lba as usize + 100,
        f.bitmap_lba as usize,
        f.bitmap_lba as usize + 1,
        len - 4096,
        len - 4096 + 511,
        len - 1,
    ];
    for cut in cuts {
        let p = write_tmp(tmp.path(), "cut.zvhd2", &full[..cut]);
        let e = Reader::open(&p).expect_err(&format!("cut at {cut}"));
        assert!(
            matches!(
                e,
                Error::TooShort { .. }
                    | Error::TailNotInLastPage { .. }
                    | Error::BadCookie { .. }
                    | Error::BadChecksum { .. }
                    | Error::BadLayout { .. }
            ),
            "cut at {cut}: {e}"
        );
        assert!(
            verify(&p, &VerifyOptions::default(), &Control::default()).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn every_tail_footer_byte_flipped_with_valid_checksum() {
    let tmp = tempfile::tempdir().unwrap();
    let full = reference("exact-two-blocks.zvhd2");
    let at = full.len() - PAGE as usize;
    // Fields a reader depends on: a flip there must be refused.
    let must_fail = |i: usize| i < 6 || (40..56).contains(&i) || (88..142).contains(&i);
    for i in 0..512 {
        let mut bytes = full.clone();
        bytes[at + i] ^= 0xff;
        let mut raw: [u8; 512] = bytes[at..at + 512].try_into().unwrap();
        let sum = Footer::compute_checksum(&raw);
        raw[64..68].copy_from_slice(&sum.to_le_bytes());
        bytes[at..at + 512].copy_from_slice(&raw);
        let p = write_tmp(tmp.path(), "flip.zvhd2", &bytes);
        let opened = Reader::open(&p);
        if must_fail(i) {
            assert!(
                opened.is_err(),
                "flipping tail footer byte {i} went unnoticed"
            );
        }
        // Whatever the verifier says, it must say it without panicking;
        // a geometry flip is reported.
        let v = verify(&p, &VerifyOptions::default(), &Control::default());
        if (56..60).contains(&i) {
            let kinds = v
                .unwrap()
                .problems
                .into_iter()
                .map(|p| p.kind)
                .collect::<Vec<_>>();
            assert!(
                matches!(kinds[..], [ProblemKind::Geometry { .. }]),
                "{kinds:?}"
            );
        }
    }
}

#[test]
fn checksum_and_cookie_errors_are_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let full = reference("mixed.zvhd2");
    let at = full.len() - 4096;
    let mut bytes = full.clone();
    bytes[at + 200] ^= 1;
    let p = write_tmp(tmp.path(), "sum.zvhd2", &bytes);
    match Reader::open(&p) {
        Err(Error::BadChecksum { offset, .. }) => assert_eq!(offset, at as u64),
        other => panic!("{other:?}"),
    }
    let mut bytes = full.clone();
    bytes[..8].copy_from_slice(b"stream\0\0");
    let p = write_tmp(tmp.path(), "zvhd.zvhd2", &bytes);
    let e = Reader::open(&p).unwrap_err();
    assert!(matches!(e, Error::Zvhd));
    assert!(e.to_string().contains("ZVHD2"));
    let mut vhd = vec![0u8; 8192];
    vhd[8192 - 512..8192 - 504].copy_from_slice(b"conectix");
    let p = write_tmp(tmp.path(), "fixed.vhd", &vhd);
    assert!(matches!(Reader::open(&p), Err(Error::Vhd { offset: 7680 })));
    vhd[..8].copy_from_slice(b"conectix");
    let p = write_tmp(tmp.path(), "dyn.vhd", &vhd);
    assert!(matches!(Reader::open(&p), Err(Error::Vhd { offset: 0 })));
    let p = write_tmp(tmp.path(), "junk", b"hello world");
    assert!(matches!(Reader::open(&p), Err(Error::BadCookie { .. })));
}

#[test]
fn index_outside_the_file_or_at_the_wrong_block() {
    let tmp = tempfile::tempdir().unwrap();
    let full = reference("mixed.zvhd2");
    let f = tail_footer(&full);
    let entry = |k: usize| f.index_lba as usize + 16 * k;

    let mut bytes = full.clone();
    bytes[entry(1)..entry(1) + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let p = write_tmp(tmp.path(), "far.zvhd2", &bytes);
    assert!(matches!(
        Reader::open(&p),
        Err(Error::BadIndex { entry: 1, .. })
    ));
    let kinds = problems(&p);
    assert!(
        matches!(kinds[..], [ProblemKind::IndexPlace { entry: 1, .. }]),
        "{kinds:?}"
    );

    let mut bytes = full.clone();
    // Entry 2 names block 1, which the bitmap says is absent.
    bytes[entry(2) + 8..entry(2) + 12].copy_from_slice(&1u32.to_le_bytes());
    let p = write_tmp(tmp.path(), "wrong.zvhd2", &bytes);
    assert!(matches!(
        Reader::open(&p),
        Err(Error::BadIndex { entry: 2, .. })
    ));
    let kinds = problems(&p);
    assert!(
        kinds.contains(&ProblemKind::IndexBlock {
            entry: 2,
            found: 1,
            expected: Some(3)
        }),
        "{kinds:?}"
    );

    let mut bytes = full.clone();
    // Entries 3 and 4 swapped: not ascending.
    let (a, b) = (
        bytes[entry(3)..entry(4)].to_vec(),
        bytes[entry(4)..entry(5)].to_vec(),
    );
    bytes[entry(3)..entry(4)].copy_from_slice(&b);
    bytes[entry(4)..entry(5)].copy_from_slice(&a);
    let p = write_tmp(tmp.path(), "swap.zvhd2", &bytes);
    assert!(Reader::open(&p).is_err());
    let kinds = problems(&p);
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, ProblemKind::IndexOrder { entry: 4, .. })),
        "{kinds:?}"
    );

    let mut bytes = full.clone();
    // A bit more in the bitmap than records.
    bytes[f.bitmap_lba as usize] |= 0x02;
    let p = write_tmp(tmp.path(), "bits.zvhd2", &bytes);
    assert!(matches!(
        Reader::open(&p),
        Err(Error::BitmapCount {
            set: 6,
            expected: 5
        })
    ));
    assert!(problems(&p).contains(&ProblemKind::BitmapCount {
        set: 6,
        expected: 5
    }));
}

#[test]
fn records_without_end_or_magic_are_all_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let full = reference("mixed.zvhd2");
    let r = Reader::open(&fixtures().join("mixed.zvhd2")).unwrap();
    let recs = r.records().to_vec();
    let mut bytes = full.clone();
    let (_, e0) = recs[0];
    let end0 = (e0.offset + u64::from(e0.len)) as usize;
    bytes[end0 - 4..end0].copy_from_slice(b"xyz\0");
    let (_, e2) = recs[2];
    bytes[e2.offset as usize] = b'H';
    let (_, e3) = recs[3];
    bytes[e3.offset as usize + 16] = 9;
    let p = write_tmp(tmp.path(), "rec.zvhd2", &bytes);
    let r = Reader::open(&p).unwrap();
    let mut buf = vec![0u8; 2 << 20];
    assert!(matches!(
        r.read_block(0, &mut buf),
        Err(Error::BadRecord { block: 0, .. })
    ));
    assert!(matches!(
        r.read_block(3, &mut buf),
        Err(Error::BadRecord { block: 3, .. })
    ));
    r.read_block(2, &mut buf).unwrap();
    let kinds = problems(&p);
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(matches!(kinds[0], ProblemKind::RecordEnd { block: 0, .. }));
    assert!(matches!(
        kinds[1],
        ProblemKind::RecordMagic { block: 3, .. }
    ));
    assert!(matches!(
        kinds[2],
        ProblemKind::RecordBlock { block: 4, found: 9 }
    ));
}

/// Replaces the payload of the record of `block` with `payload` (which must
/// fit the record as it is).
fn replace_payload(bytes: &mut [u8], file: &Path, block: u32, payload: &[u8]) {
    let r = Reader::open(file).unwrap();
    let (_, e) = *r.records().iter().find(|x| x.0 == block).unwrap();
    let off = e.offset as usize;
    assert!(48 + payload.len() + 4 <= e.len as usize);
    assert!(imsprep_zvhd2::record_len(payload.len() as u64) == Some(u64::from(e.len)));
    bytes[off + 12..off + 16].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes[off + 48..off + 48 + payload.len()].copy_from_slice(payload);
}

fn sparse_block(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    for i in (0..len).step_by(4099) {
        v[i] = (i % 251) as u8 + 1;
    }
    v
}

#[test]
fn payloads_of_the_wrong_size_are_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let bs = 2usize << 20;
    // zstd: block 1 of exact-two-blocks has a 4096-byte record.
    let src = fixtures().join("exact-two-blocks.zvhd2");
    for len in [bs - 1, bs + 1, bs + 4096] {
        let mut bytes = std::fs::read(&src).unwrap();
        let z = zstd::bulk::compress(&sparse_block(len), 3).unwrap();
        replace_payload(&mut bytes, &src, 1, &z);
        let p = write_tmp(tmp.path(), "z.zvhd2", &bytes);
        let r = Reader::open(&p).unwrap();
        let mut buf = vec![0u8; bs];
        assert!(
            matches!(
                r.read_block(1, &mut buf),
                Err(Error::BadPayload { block: 1, .. })
            ),
            "{len}"
        );
        let kinds = problems(&p);
        assert!(
            matches!(kinds[..], [ProblemKind::Payload { block: 1, .. }]),
            "{len}: {kinds:?}"
        );
    }
    // zlib: block 5 of mixed-zlib has a 98304-byte record.
    let src = fixtures().join("mixed-zlib.zvhd2");
    for len in [bs - 1, bs + 1] {
        let mut bytes = std::fs::read(&src).unwrap();
        let mut c = flate2::Compress::new(flate2::Compression::new(1), true);
        let mut z = Vec::with_capacity(bs * 2);
        c.compress_vec(&sparse_block(len), &mut z, flate2::FlushCompress::Sync)
            .unwrap();
        assert!(
            imsprep_zvhd2::record_len(z.len() as u64) <= Some(98304),
            "{}",
            z.len()
        );
        // Fill the record with an empty stored block repeated, still valid.
        while imsprep_zvhd2::record_len(z.len() as u64) != Some(98304) {
            z.extend_from_slice(&[0, 0, 0, 0xff, 0xff]);
        }
        replace_payload(&mut bytes, &src, 5, &z);
        let p = write_tmp(tmp.path(), "zl.zvhd2", &bytes);
        let r = Reader::open(&p).unwrap();
        let mut buf = vec![0u8; bs];
        assert!(
            matches!(
                r.read_block(5, &mut buf),
                Err(Error::BadPayload { block: 5, .. })
            ),
            "{len}"
        );
        let kinds = problems(&p);
        assert!(
            matches!(kinds[..], [ProblemKind::Payload { block: 5, .. }]),
            "{len}: {kinds:?}"
        );
    }
}

#[test]
fn reference_quirks_are_tolerated() {
    let tmp = tempfile::tempdir().unwrap();
    let full = reference("mixed.zvhd2");
    let f = tail_footer(&full);
    let mut bytes = full.clone();
    // Garbage in the head footer padding, the unused index entries and the
    // footer copy's checksum.
    for b in &mut bytes[600..4096] {
        *b = 0x5a;
    }
    let unused = f.index_lba as usize + 16 * 5;
    for b in &mut bytes[unused..unused + 4096] {
        *b = 0xa7;
    }
    let copy = f.index_lba as usize - 4096;
    bytes[copy + 64] ^= 0x33;
    let p = write_tmp(tmp.path(), "quirks.zvhd2", &bytes);
    assert!(problems(&p).is_empty());
    let raw = fixtures().join("mixed.raw");
    let rep = verify(
        &p,
        &VerifyOptions {
            against: Some(&imsprep_disk::RawDisk::open(&raw).unwrap()),
        },
        &Control::default(),
    )
    .unwrap();
    assert!(rep.is_ok(), "{:?}", rep.problems);
}
