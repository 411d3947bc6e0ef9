//! LX-INITRD-PARSE: initramfs archives made with cpio and each compressor.

mod common;

use common::{cpio_newc, pipe, write};
use imsprep_guest::linux::initramfs::{list, list_from, Compression, Limits};

const KVER: &str = "5.14.0-362.el9.x86_64";

/// An early microcode cpio, as dracut and Ubuntu put first.
fn early_cpio() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "early_cpio", "1\n");
    write(
        dir.path(),
        "kernel/x86/microcode/GenuineIntel.bin",
        vec![0xAAu8; 3001],
    );
    cpio_newc(dir.path())
}

/// The main archive: modules, a cmdline.d file and a udev rule.
fn main_cpio() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let m = format!("usr/lib/modules/{KVER}/kernel/drivers");
    write(
        dir.path(),
        &format!("{m}/block/virtio_blk.ko.xz"),
        b"xz-module",
    );
    write(dir.path(), &format!("{m}/virtio/virtio_pci.ko.xz"), b"m");
    write(
        dir.path(),
        "etc/cmdline.d/90lvm.conf",
        " rd.lvm.lv=rhel/root\n",
    );
    write(dir.path(), "etc/cmdline.d/00-root.conf", "root=/dev/sda2\n");
    write(dir.path(), "usr/bin/big", vec![7u8; 300_000]);
    cpio_newc(dir.path())
}

fn wanted(name: &str) -> bool {
    name.starts_with("etc/cmdline.d/") || name.starts_with("usr/bin/")
}

fn check(image: &[u8], compression: Compression) {
    let listing = list(image, Limits::default(), &wanted);
    assert_eq!(listing.incomplete, None, "{compression:?}");
    let kinds: Vec<Compression> = listing.members.iter().map(|m| m.compression).collect();
    assert_eq!(kinds, vec![Compression::None, compression]);
    let names: Vec<&str> = listing.entries.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"kernel/x86/microcode/GenuineIntel.bin"));
    assert!(names.contains(&"early_cpio"));
    let blk = format!("usr/lib/modules/{KVER}/kernel/drivers/block/virtio_blk.ko.xz");
    assert!(names.contains(&blk.as_str()), "{compression:?}: {names:?}");
    assert!(!names
        .iter()
        .any(|n| n.starts_with("./") || n.is_empty() || *n == "."));
    assert_eq!(
        listing
            .files
            .get("etc/cmdline.d/00-root.conf")
            .map(Vec::as_slice),
        Some(&b"root=/dev/sda2\n"[..])
    );
    // Larger than the per-file limit: listed, not kept.
    assert!(names.contains(&"usr/bin/big"));
    assert!(!listing.files.contains_key("usr/bin/big"));
    let micro = listing
        .entries
        .iter()
        .find(|e| e.name.ends_with("GenuineIntel.bin"))
        .unwrap();
    assert_eq!(micro.size, 3001);
}

fn image(compressed: Vec<u8>) -> Vec<u8> {
    let mut img = early_cpio();
    img.extend_from_slice(&compressed);
    img
}

#[test]
fn gzip() {
    check(
        &image(pipe("gzip", &["-c", "-9"], &main_cpio())),
        Compression::Gzip,
    );
}

#[test]
fn xz_crc32() {
    let c = pipe("xz", &["-c", "--check=crc32"], &main_cpio());
    check(&image(c), Compression::Xz);
}

#[test]
fn lzma_alone() {
    check(
        &image(pipe("lzma", &["-c"], &main_cpio())),
        Compression::Lzma,
    );
}

#[test]
fn bzip2() {
    check(
        &image(pipe("bzip2", &["-c"], &main_cpio())),
        Compression::Bzip2,
    );
}

#[test]
fn lz4_legacy() {
    let c = pipe("lz4", &["-l", "-c"], &main_cpio());
    check(&image(c), Compression::Lz4Legacy);
}

#[test]
fn lz4_frame() {
    check(
        &image(pipe("lz4", &["-c"], &main_cpio())),
        Compression::Lz4Frame,
    );
}

#[test]
fn zstd() {
    check(
        &image(pipe("zstd", &["-c", "-q"], &main_cpio())),
        Compression::Zstd,
    );
}

#[test]
fn uncompressed_only_and_padding_between_members() {
    let mut img = early_cpio();
    img.extend_from_slice(&[0u8; 512]);
    img.extend_from_slice(&main_cpio());
    img.extend_from_slice(&[0u8; 100]);
    let listing = list(&img, Limits::default(), &wanted);
    assert_eq!(listing.incomplete, None);
    assert_eq!(listing.members.len(), 2);
    assert!(listing.files.contains_key("etc/cmdline.d/90lvm.conf"));
}

#[test]
fn member_after_compressed_stream_is_read() {
    // gzip member followed by a zstd member: consumed input must be exact.
    let mut img = pipe("gzip", &["-c"], &early_cpio());
    img.extend_from_slice(&pipe("zstd", &["-c", "-q"], &main_cpio()));
    let listing = list(&img, Limits::default(), &wanted);
    assert_eq!(listing.incomplete, None);
    let kinds: Vec<Compression> = listing.members.iter().map(|m| m.compression).collect();
    assert_eq!(kinds, vec![Compression::Gzip, Compression::Zstd]);
}

#[test]
fn name_length_2_pow_32_is_refused() {
    let mut img = main_cpio();
    // namesize is field 11 of the first header: bytes 6 + 11*8 .. +8.
    img[94..102].copy_from_slice(b"FFFFFFFF");
    let listing = list(&img, Limits::default(), &wanted);
    let why = listing.incomplete.unwrap();
    assert!(why.contains("namesize"), "{why}");
}

#[test]
fn truncated_members_are_reported() {
    let raw = main_cpio();
    let cut = &raw[..raw.len() / 2];
    let listing = list(cut, Limits::default(), &wanted);
    assert!(listing.incomplete.unwrap().contains("TRAILER"));
    assert!(!listing.entries.is_empty());

    let gz = pipe("gzip", &["-c"], &raw);
    let listing = list(&gz[..gz.len() / 2], Limits::default(), &wanted);
    assert!(listing.incomplete.is_some());

    let xz = pipe("xz", &["-c", "--check=crc32"], &raw);
    let listing = list(&xz[..xz.len() - 20], Limits::default(), &wanted);
    assert!(listing.incomplete.is_some());
}

#[test]
fn decompression_bomb_hits_the_cap() {
    // One 4 GiB-1 file of zeros in a cpio header, then zeros: zstd makes it
    // tiny; the reader must stop at the cap without holding the output.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x", b"");
    let mut header = cpio_newc(dir.path());
    // Patch the last entry's filesize (the "x" entry is after ".").
    let x = header.windows(2).position(|w| w == b"x\0").unwrap();
    let hdr = x - 110;
    header[hdr + 54..hdr + 62].copy_from_slice(b"FFFFFFFF");
    header.truncate(x + 2 + 2);
    let mut stream = header.clone();
    stream.resize(header.len() + (64 << 20), 0);
    let compressed = pipe("zstd", &["-c", "-q", "-1"], &stream);
    let limits = Limits {
        max_output: 16 << 20,
        ..Limits::default()
    };
    let listing = list(&compressed, limits, &wanted);
    let why = listing.incomplete.unwrap();
    assert!(why.contains("cap"), "{why}");
    assert!(listing.entries.iter().any(|e| e.name == "x"));
}

#[test]
fn unknown_and_refused_formats() {
    let listing = list(b"hsqs....", Limits::default(), &wanted);
    assert!(listing.incomplete.unwrap().contains("squashfs"));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a", b"a");
    let odc = std::process::Command::new("sh")
        .arg("-c")
        .arg("find . | cpio -o -H odc --quiet")
        .current_dir(dir.path())
        .output()
        .unwrap()
        .stdout;
    let listing = list(&odc, Limits::default(), &wanted);
    assert!(listing.incomplete.unwrap().contains("odc"));
}

#[test]
fn random_garbage_does_not_panic() {
    let mut seed = 0x1234_5678u32;
    for len in [0usize, 1, 5, 110, 111, 4096] {
        let mut data = b"070701".to_vec();
        for _ in 0..len {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            data.push((seed >> 16) as u8);
        }
        let _ = list(&data, Limits::default(), &wanted);
        for magic in [
            &[0x1Fu8, 0x8B][..],
            &[0xFD, b'7', b'z', b'X', b'Z', 0],
            &[0x28, 0xB5, 0x2F, 0xFD],
            &[0x02, 0x21, 0x4C, 0x18],
            &[0x5D, 0, 0],
            b"BZh9",
        ] {
            let mut d = magic.to_vec();
            d.extend_from_slice(&data);
            let listing = list(&d, Limits::default(), &wanted);
            assert!(listing.incomplete.is_some());
        }
    }
}

#[test]
fn short_reads_and_members_across_buffer_refills() {
    // Every member kind in one file, read 7 bytes at a time: the listing
    // must be the same as from one slice.
    let mut img = early_cpio();
    img.extend(pipe("gzip", &["-c"], &main_cpio()));
    img.extend([0u8; 3]);
    img.extend(pipe("bzip2", &["-c"], &early_cpio()));
    img.extend(pipe("xz", &["-c", "--check=crc32"], &early_cpio()));
    img.extend(pipe("zstd", &["-c", "-q"], &early_cpio()));
    img.extend(pipe("lz4", &["-c"], &early_cpio()));
    img.extend(pipe("lzma", &["-c"], &early_cpio()));
    img.extend(pipe("lz4", &["-l", "-c"], &main_cpio()));
    let whole = list(&img, Limits::default(), &wanted);
    assert_eq!(whole.incomplete, None);
    assert_eq!(whole.members.len(), 8);
    let read_at = |offset: u64, buf: &mut [u8]| -> std::io::Result<usize> {
        let rest = img.get(offset as usize..).unwrap_or_default();
        let n = rest.len().min(buf.len()).min(7);
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    };
    let short = list_from(&read_at, Limits::default(), &wanted);
    assert_eq!(short, whole);
}

#[test]
fn archive_larger_than_the_read_buffer() {
    // Incompressible data so the compressed member spans several 1 MiB
    // refills, followed by another member.
    let dir = tempfile::tempdir().unwrap();
    let mut x = 0x9E37_79B9u32;
    let noise: Vec<u8> = (0..3_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    write(dir.path(), "usr/share/noise", &noise);
    write(dir.path(), "etc/cmdline.d/01.conf", "root=UUID=abc\n");
    let mut img = early_cpio();
    img.extend(pipe("gzip", &["-c", "-1"], &cpio_newc(dir.path())));
    img.extend(pipe("zstd", &["-c", "-q"], &main_cpio()));
    let listing = list(&img, Limits::default(), &wanted);
    assert_eq!(listing.incomplete, None);
    assert_eq!(listing.members.len(), 3);
    assert!(listing
        .entries
        .iter()
        .any(|e| e.name == "usr/share/noise" && e.size == 3_000_000));
    assert!(listing.files.contains_key("etc/cmdline.d/01.conf"));
    assert!(listing.files.contains_key("etc/cmdline.d/00-root.conf"));
}

#[test]
fn entry_and_name_limits_stop_the_listing() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..50 {
        write(dir.path(), &format!("d/{}{i}", "n".repeat(200)), "");
    }
    let img = cpio_newc(dir.path());
    let few = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let listing = list(&img, few, &wanted);
    assert_eq!(listing.entries.len(), 10);
    assert!(listing.incomplete.unwrap().contains("more than 10 entries"));
    let short = Limits {
        max_name_bytes: 2000,
        ..Limits::default()
    };
    let listing = list(&img, short, &wanted);
    assert!(listing.incomplete.unwrap().contains("bytes of entry names"));
    assert!(listing.entries.len() <= 10);
}
