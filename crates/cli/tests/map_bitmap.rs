//! `imsprep map` and `imsprep bitmap`, compared with which blocks the test
//! itself wrote data to.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;

/// The ranges of `path` at `granularity`, computed here: a block is data
/// when any of its bytes is not zero; neighbours of one kind are merged.
fn expected_ranges(path: &Path, granularity: u64) -> Vec<(u64, u64, bool)> {
    let bytes = fs::read(path).unwrap();
    let mut out: Vec<(u64, u64, bool)> = Vec::new();
    for (i, block) in bytes.chunks(granularity as usize).enumerate() {
        let data = block.iter().any(|&b| b != 0);
        let start = i as u64 * granularity;
        let len = block.len() as u64;
        match out.last_mut() {
            Some(last) if last.2 == data => last.1 += len,
            _ => out.push((start, len, data)),
        }
    }
    out
}

fn ranges(value: &Value) -> Vec<(u64, u64, bool)> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["start"].as_u64().unwrap(),
                r["length"].as_u64().unwrap(),
                r["data"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Ranges cover `[0, size)` in order, without gaps, merged.
fn assert_cover(ranges: &[(u64, u64, bool)], size: u64) {
    let mut at = 0;
    for (i, &(start, len, data)) in ranges.iter().enumerate() {
        assert_eq!(start, at, "gap or overlap at range {i}");
        assert!(len > 0);
        if i > 0 {
            assert_ne!(ranges[i - 1].2, data, "ranges {} and {i} not merged", i - 1);
        }
        at += len;
    }
    assert_eq!(at, size);
}

fn map_json(path: &Path, granularity: &str) -> Vec<(u64, u64, bool)> {
    let out = imsprep()
        .args(["map", "--json", "-g", granularity, s(path)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    ranges(&json(&out.stdout))
}

#[test]
fn map_covers_the_file_and_agrees_with_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("m.raw");
    let size = 16 * MIB + 4096 + 512;
    sparse_file(
        &raw,
        size,
        &[
            (2 * MIB, 4 * MIB),
            (10 * MIB + 100, 100),
            (16 * MIB + 4096, 10),
        ],
        4,
    );
    let before = print(&raw);
    for (flag, g) in [("2M", 2 * MIB), ("4K", 4096), ("64K", 65536)] {
        let got = map_json(&raw, flag);
        assert_cover(&got, size);
        assert_eq!(got, expected_ranges(&raw, g), "granularity {flag}");
    }
    assert_eq!(
        map_json(&raw, "2M"),
        [
            (0, 2 * MIB, false),
            (2 * MIB, 4 * MIB, true),
            (6 * MIB, 4 * MIB, false),
            (10 * MIB, 2 * MIB, true),
            (12 * MIB, 4 * MIB, false),
            (16 * MIB, 4096 + 512, true),
        ]
    );
    let out = imsprep().args(["map", s(&raw)]).output().unwrap();
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("4 of 9 blocks"), "{text}");
    assert_eq!(print(&raw), before);
}

#[test]
fn map_of_a_zvhd2_shows_its_disk() {
    // Huawei's vector: blocks 0, 2, 3, 4, 5 of 6 have records.
    let got = map_json(&fixture("mixed.zvhd2"), "2M");
    assert_eq!(
        got,
        [
            (0, 2 * MIB, true),
            (2 * MIB, 2 * MIB, false),
            (4 * MIB, 11_547_136 - 4 * MIB, true),
        ]
    );
}

#[test]
fn bitmap_is_named_after_the_image_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("disks");
    fs::create_dir(&sub).unwrap();
    let raw = sub.join("image.raw");
    let size = 10 * MIB;
    sparse_file(&raw, size, &[(0, 4096), (6 * MIB, MIB)], 8);
    let before = print(&raw);

    let out = imsprep()
        .current_dir(dir.path())
        .args(["bitmap", "--json", "disks/image.raw"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(names(&sub), ["image.mf", "image.raw"]);
    let report = json(&out.stdout);
    assert_eq!(report["bitmap"], "disks/image.mf");
    assert_eq!(report["granularity"], 2 * MIB);
    assert_eq!(report["image_size"], size);
    assert_eq!(report["blocks"], 5);
    assert_eq!(report["data_blocks"], 2);
    assert_eq!(report["image_crc32"], format!("{:08x}", crc32_of(&raw)));
    imsprep()
        .args(["verify", s(&raw), "--bitmap", s(&sub.join("image.mf"))])
        .assert()
        .code(0);

    // Another granularity, to a named file.
    let fine = dir.path().join("fine.mf");
    let out = imsprep()
        .args([
            "bitmap",
            "--json",
            "--granularity",
            "4K",
            s(&raw),
            "-o",
            s(&fine),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let report = json(&out.stdout);
    assert_eq!(report["granularity"], 4096);
    assert_eq!(report["blocks"], size / 4096);
    assert_eq!(report["data_blocks"], 1 + MIB / 4096);
    imsprep()
        .args(["verify", s(&raw), "--bitmap", s(&fine)])
        .assert()
        .code(0);
    assert_eq!(print(&raw), before);

    // An existing bitmap is kept without --force.
    let kept = print(&sub.join("image.mf"));
    let out = imsprep().args(["bitmap", s(&raw)]).output().unwrap();
    assert_eq!(code(&out), 2, "{out:?}");
    assert_one_error_line(&out.stderr, "image.mf");
    assert_eq!(print(&sub.join("image.mf")), kept);

    // Data where the bitmap says zeros: both bitmaps stop matching.
    patch(&raw, 3 * MIB, b"x");
    for bitmap in [sub.join("image.mf"), fine] {
        let out = imsprep()
            .args(["verify", "--json", s(&raw), "--bitmap", s(&bitmap)])
            .output()
            .unwrap();
        assert_eq!(code(&out), 1, "{out:?}");
        let report = json(&out.stdout);
        assert_eq!(report["matches"], false);
        assert!(report["problem"].is_string());
    }
    // --force writes a bitmap that matches again.
    imsprep()
        .args(["bitmap", "--force", s(&raw)])
        .assert()
        .code(0);
    imsprep()
        .args(["verify", s(&raw), "--bitmap", s(&sub.join("image.mf"))])
        .assert()
        .code(0);
}

#[test]
fn bitmap_never_replaces_its_input() {
    // An image named like a bitmap is its own default output path.
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("odd.mf");
    sparse_file(&image, 4 * MIB, &[(0, MIB)], 6);
    let before = print(&image);
    for force in [&[][..], &["--force"]] {
        let out = imsprep()
            .arg("bitmap")
            .args(force)
            .arg(s(&image))
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{out:?}");
        assert_one_error_line(&out.stderr, "is the input file");
        assert_eq!(print(&image), before);
        assert_eq!(names(dir.path()), ["odd.mf"]);
    }
}
