//! Every reference vector reads back to the hashes in its manifest.

mod common;

use std::os::unix::fs::FileExt;

use common::*;
use imsprep_zvhd2::{verify, Control, Reader, VerifyOptions};

#[test]
fn footers_match_the_manifest() {
    for (name, v) in manifest() {
        let r = Reader::open(&fixtures().join(text(&v, "zvhd2"))).unwrap();
        let f = r.footer();
        assert_eq!(f.orig_size, num(&v, "orig_size"), "{name}");
        assert_eq!(f.curr_size, num(&v, "curr_size"), "{name}");
        assert_eq!(u64::from(f.block_size), num(&v, "block_size"), "{name}");
        assert_eq!(u64::from(f.max_blk_num), num(&v, "max_blk_num"), "{name}");
        assert_eq!(
            u64::from(f.non_zero_blk_num),
            num(&v, "non_zero_blk_num"),
            "{name}"
        );
        assert_eq!(
            u64::from(f.compress_method),
            num(&v, "compress_method"),
            "{name}"
        );
        assert_eq!(
            u64::from(f.index_seg_num),
            num(&v, "index_seg_num"),
            "{name}"
        );
        assert_eq!(
            u64::from(f.bitmap_seg_num),
            num(&v, "bitmap_seg_num"),
            "{name}"
        );
        assert_eq!(
            f.geometry,
            imsprep_zvhd2::Geometry::for_size(f.orig_size).to_u32(),
            "{name}"
        );
    }
}

#[test]
fn files_are_the_manifest_files() {
    for (name, v) in manifest() {
        let bytes = std::fs::read(fixtures().join(text(&v, "zvhd2"))).unwrap();
        assert_eq!(sha256(&bytes), text(&v, "zvhd2_sha256"), "{name}");
    }
}

#[test]
fn blocks_match_the_manifest_hashes() {
    for (name, v) in manifest() {
        let r = Reader::open(&fixtures().join(text(&v, "zvhd2"))).unwrap();
        let f = r.footer();
        let hashes = v["nonzero_block_sha256"].as_object().unwrap();
        let mut buf = vec![0xaau8; f.block_size as usize];
        let zeros = vec![0u8; f.block_size as usize];
        for n in 0..f.max_blk_num {
            r.read_block(n, &mut buf).unwrap();
            match hashes.get(&n.to_string()) {
                Some(h) => {
                    assert!(r.is_block_present(n), "{name} block {n}");
                    assert_eq!(sha256(&buf), h.as_str().unwrap(), "{name} block {n}");
                }
                None => {
                    assert!(!r.is_block_present(n), "{name} block {n}");
                    assert!(buf == zeros, "{name} block {n}");
                }
            }
        }
        assert!(r.read_block(f.max_blk_num, &mut buf).is_err());
    }
}

#[test]
fn whole_disks_match_the_manifest_hashes() {
    for (name, v) in manifest() {
        let r = Reader::open(&fixtures().join(text(&v, "zvhd2"))).unwrap();
        let f = r.footer().clone();
        // Copy the disk as read into a sparse file (all-zero chunks become
        // holes) and let an external program hash it. An odd chunk size
        // exercises reads that straddle blocks.
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let file = tmp.as_file();
        let chunk = (8 << 20) + 4096 + 512;
        let mut buf = vec![0u8; chunk];
        let zeros = vec![0u8; chunk];
        let mut pos = 0u64;
        while pos < f.curr_size {
            let n = (chunk as u64).min(f.curr_size - pos) as usize;
            buf[..n].fill(0xee);
            r.read_at(pos, &mut buf[..n]).unwrap();
            if buf[..n] != zeros[..n] {
                file.write_all_at(&buf[..n], pos).unwrap();
            }
            pos += n as u64;
        }
        file.set_len(f.orig_size).unwrap();
        assert_eq!(
            ExternalSha256::of_file(tmp.path()),
            text(&v, "sha256_orig_size_bytes"),
            "{name}"
        );
        file.set_len(f.curr_size).unwrap();
        assert_eq!(
            ExternalSha256::of_file(tmp.path()),
            text(&v, "sha256_curr_size_bytes"),
            "{name}"
        );
        let mut one = [0u8; 1];
        assert!(r.read_at(f.curr_size, &mut one).is_err());
        assert!(r.read_at(u64::MAX, &mut one).is_err());
        r.read_at(f.curr_size - 1, &mut one).unwrap();
        assert_eq!(one, [0]);
    }
}

#[test]
fn small_reads_agree_with_the_raw() {
    let v = &manifest()["mixed"];
    let r = Reader::open(&fixtures().join("mixed.zvhd2")).unwrap();
    let raw = padded_raw(&fixtures().join(text(v, "raw_source")));
    let mut buf = vec![0u8; 10_000];
    for start in [
        0u64,
        1,
        2_097_150,
        4_194_000,
        raw.len() as u64 - 10_000,
        raw.len() as u64 - 5,
    ] {
        let n = (raw.len() as u64 - start).min(10_000) as usize;
        r.read_at(start, &mut buf[..n]).unwrap();
        assert!(
            buf[..n] == raw[start as usize..start as usize + n],
            "at {start}"
        );
    }
}

#[test]
fn vectors_verify_clean_and_match_their_raws() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, v) in manifest() {
        let zvhd2 = fixtures().join(text(&v, "zvhd2"));
        let report = verify(&zvhd2, &VerifyOptions::default(), &Control::default()).unwrap();
        assert!(report.is_ok(), "{name}: {:?}", report.problems);
        assert_eq!(
            report.records_checked,
            num(&v, "non_zero_blk_num"),
            "{name}"
        );
        let raw = raw_source(&name, &v, tmp.path());
        assert_eq!(
            std::fs::metadata(&raw).unwrap().len(),
            num(&v, "raw_size"),
            "{name}"
        );
        let opts = VerifyOptions {
            against: Some(&imsprep_disk::RawDisk::open(&raw).unwrap()),
        };
        let report = verify(&zvhd2, &opts, &Control::default()).unwrap();
        assert!(report.is_ok(), "{name}: {:?}", report.problems);
        assert_eq!(report.blocks_compared, num(&v, "max_blk_num"), "{name}");
    }
}

#[test]
fn to_raw_gives_back_the_padded_source() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, v) in manifest() {
        let zvhd2 = fixtures().join(text(&v, "zvhd2"));
        let out = tmp.path().join(format!("{name}.back.raw"));
        let n = imsprep_zvhd2::convert_to_raw(&zvhd2, &out, false, &Control::default()).unwrap();
        assert_eq!(n, num(&v, "orig_size"), "{name}");
        let meta = std::fs::metadata(&out).unwrap();
        assert_eq!(meta.len(), num(&v, "orig_size"), "{name}");
        if name == "gib-plus-one" {
            // Holes stay holes: far fewer blocks allocated than the size.
            use std::os::unix::fs::MetadataExt;
            assert!(meta.blocks() * 512 < 64 << 20, "{name} is not sparse");
            let mut h = ExternalSha256::new();
            let data = std::fs::read(&out).unwrap();
            h.update(&data);
            assert_eq!(h.finish(), text(&v, "sha256_orig_size_bytes"));
        } else {
            let back = std::fs::read(&out).unwrap();
            let raw = padded_raw(&fixtures().join(text(&v, "raw_source")));
            assert!(back == raw, "{name}");
        }
        // No overwrite without asking; overwrite when asked.
        let again = imsprep_zvhd2::convert_to_raw(&zvhd2, &out, false, &Control::default());
        assert!(
            matches!(again, Err(imsprep_zvhd2::Error::OutputExists { .. })),
            "{name}"
        );
        std::fs::remove_file(&out).unwrap();
    }
    // Nothing but what the tests created is left behind (no temp files).
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}
