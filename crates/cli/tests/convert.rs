//! `imsprep convert` both ways and `imsprep verify` of ZVHD2 files.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// `raw` padded with zeros to whole 512-byte sectors.
fn padded(raw: &Path) -> Vec<u8> {
    let mut bytes = fs::read(raw).unwrap();
    let len = bytes.len().div_ceil(512) * 512;
    bytes.resize(len, 0);
    bytes
}

fn round_trip(dir: &Path, raw: &Path) {
    let zvhd2 = dir.join("rt.zvhd2");
    let back = dir.join("rt.raw");
    let before = print(raw);
    let out = imsprep()
        .args(["convert", "--json", s(raw), s(&zvhd2)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let report = json(&out.stdout);
    assert_eq!(report["from"], "raw");
    assert_eq!(report["to"], "zvhd2");
    assert_eq!(report["input_size"], before.len);
    assert_eq!(report["output_size"], fs::metadata(&zvhd2).unwrap().len());
    assert_eq!(report["disk_size"], 1u64 << 30);
    imsprep().args(["verify", s(&zvhd2)]).assert().code(0);
    let zvhd2_print = print(&zvhd2);

    let out = imsprep()
        .args(["convert", "--json", s(&zvhd2), s(&back)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let report = json(&out.stdout);
    assert_eq!(report["from"], "zvhd2");
    assert_eq!(report["to"], "raw");
    let want = padded(raw);
    assert_eq!(report["output_size"], want.len() as u64);
    assert!(fs::read(&back).unwrap() == want, "round trip differs");
    assert_eq!(print(raw), before, "the RAW input changed");
    assert_eq!(print(&zvhd2), zvhd2_print, "the ZVHD2 input changed");
    fs::remove_file(zvhd2).unwrap();
    fs::remove_file(back).unwrap();
}

#[test]
fn raw_to_zvhd2_to_raw_gives_the_input_padded_to_512() {
    let dir = tempfile::tempdir().unwrap();
    // Unaligned size, data blocks, a hole block, and data in the last one.
    let raw = dir.path().join("in.raw");
    sparse_file(
        &raw,
        5 * MIB + 1000,
        &[(100, MIB), (4 * MIB + 7, MIB + 993 - 7)],
        21,
    );
    round_trip(dir.path(), &raw);
    let mixed = copy_fixture(dir.path(), "mixed.raw");
    round_trip(dir.path(), &mixed);
    let zeros = copy_fixture(dir.path(), "zeros.raw");
    round_trip(dir.path(), &zeros);
}

#[test]
fn huawei_vectors_convert_to_their_raw_sources() {
    let dir = tempfile::tempdir().unwrap();
    for (zvhd2, raw) in [
        ("mixed.zvhd2", "mixed.raw"),
        ("mixed-zlib.zvhd2", "mixed.raw"),
        ("exact-two-blocks.zvhd2", "exact-two-blocks.raw"),
        ("unaligned-size.zvhd2", "unaligned-size.raw"),
    ] {
        let out = dir.path().join("out.raw");
        imsprep()
            .args(["convert", s(&fixture(zvhd2)), s(&out)])
            .assert()
            .code(0);
        assert!(fs::read(&out).unwrap() == padded(&fixture(raw)), "{zvhd2}");
        fs::remove_file(&out).unwrap();
        imsprep()
            .args(["verify", s(&fixture(zvhd2)), "--against", s(&fixture(raw))])
            .assert()
            .code(0);
    }
}

#[test]
fn verify_against_names_the_block_that_differs() {
    let dir = tempfile::tempdir().unwrap();
    let raw = copy_fixture(dir.path(), "exact-two-blocks.raw");
    let zvhd2 = dir.path().join("e.zvhd2");
    imsprep()
        .args(["convert", s(&raw), s(&zvhd2)])
        .assert()
        .code(0);
    imsprep()
        .args(["verify", s(&zvhd2), "--against", s(&raw)])
        .assert()
        .code(0);
    // One byte of block 1 (of 2 MiB blocks) changes.
    let old = fs::read(&raw).unwrap()[3_000_000];
    patch(&raw, 3_000_000, &[old ^ 0x5a]);
    let out = imsprep()
        .args(["verify", s(&zvhd2), "--against", s(&raw)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("block 1 differs"), "{stdout}");
    assert!(!stdout.contains("block 0"), "{stdout}");
    assert!(stdout.contains("NOT sound"), "{stdout}");

    let out = imsprep()
        .args(["verify", "--json", s(&zvhd2), "--against", s(&raw)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let report = json(&out.stdout);
    assert_eq!(report["sound"], false);
    assert_eq!(report["blocks_compared"], 2);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0]["message"].as_str().unwrap().contains("block 1"));
}

#[test]
fn damaged_zvhd2_files_fail_verification() {
    let dir = tempfile::tempdir().unwrap();
    let good = copy_fixture(dir.path(), "mixed.zvhd2");

    // Truncated: not a ZVHD2 any more; one error line naming the file.
    let cut = dir.path().join("cut.zvhd2");
    fs::write(&cut, &fs::read(&good).unwrap()[..300_000]).unwrap();
    let out = imsprep().args(["verify", s(&cut)]).output().unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    assert_one_error_line(&out.stderr, "cut.zvhd2");
    let out = imsprep()
        .args(["convert", s(&cut), s(&dir.path().join("x.raw"))])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    assert_one_error_line(&out.stderr, "cut.zvhd2");
    assert!(!dir.path().join("x.raw").exists());

    // A record header that names the wrong block (bytes 16..20 of the
    // 48-byte header after the 12-byte magic and the payload length):
    // the file still opens, and verify lists the problem.
    let bad = dir.path().join("bad.zvhd2");
    let bytes = fs::read(&good).unwrap();
    let record = bytes
        .windows(12)
        .position(|w| w == b"hwstream bg\0")
        .expect("a data record");
    fs::write(&bad, &bytes).unwrap();
    patch(&bad, record as u64 + 16, &[bytes[record + 16] ^ 0x40]);
    let out = imsprep().args(["verify", s(&bad)]).output().unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("NOT sound"), "{stdout}");
    assert!(out.stderr.is_empty(), "{out:?}");
}

#[test]
fn existing_outputs_and_the_input_itself_are_protected() {
    let dir = tempfile::tempdir().unwrap();
    let raw = copy_fixture(dir.path(), "exact-two-blocks.raw");
    let out_path = dir.path().join("out.zvhd2");
    fs::write(&out_path, b"keep me").unwrap();
    let before = prints(dir.path());
    let out = imsprep()
        .args(["convert", s(&raw), s(&out_path)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{out:?}");
    assert_one_error_line(&out.stderr, "--force");
    assert_eq!(prints(dir.path()), before);

    // Never onto the input, --force or not.
    let out = imsprep()
        .args(["convert", "--force", s(&raw), s(&raw)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{out:?}");
    assert_one_error_line(&out.stderr, "input");
    assert_eq!(prints(dir.path()), before);

    imsprep()
        .args(["convert", "--force", s(&raw), s(&out_path)])
        .assert()
        .code(0);
    imsprep().args(["verify", s(&out_path)]).assert().code(0);
    assert_eq!(print(&raw), before["exact-two-blocks.raw"]);
    assert_eq!(names(dir.path()), ["exact-two-blocks.raw", "out.zvhd2"]);
}
