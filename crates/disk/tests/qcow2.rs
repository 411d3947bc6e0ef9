//! qcow2: images made by qemu-img (and qemu-io) read exactly as
//! `qemu-img convert -O raw` reads them; hostile headers and tables give a
//! clean error naming the field.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_reads, qemu_img, qemu_raw, run, sample_raw};
use imsprep_disk::{extents, open_as, Allocation, Disk, DiskError, Kind, OpenOptions};

const MIB: u64 = 1 << 20;

fn open(path: &Path) -> Result<Box<dyn Disk>, DiskError> {
    open_as(path, Kind::Qcow2, &OpenOptions::default())
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `qemu-img convert` of a RAW file to qcow2 with `options`.
fn convert(raw: &Path, out: &Path, options: &[&str]) {
    let mut args = vec!["convert", "-f", "raw", "-O", "qcow2"];
    args.extend_from_slice(options);
    args.extend_from_slice(&[s(raw), s(out)]);
    qemu_img(&args);
}

/// Runs qemu-io commands on a qcow2 image.
fn qemu_io(image: &Path, commands: &[&str]) {
    let mut args = vec!["-f", "qcow2"];
    for c in commands {
        args.extend_from_slice(&["-c", c]);
    }
    args.push(s(image));
    run("qemu-io", &args);
}

/// Opens `image` and checks every byte against qemu-img's own reading.
fn check(image: &Path, dir: &Path) -> Box<dyn Disk> {
    let disk = open(image).unwrap_or_else(|e| panic!("{}: {e}", image.display()));
    assert_reads(&*disk, &qemu_raw(image, dir));
    disk
}

fn allocations(disk: &dyn Disk) -> Vec<Allocation> {
    extents(disk, 0, disk.size())
        .unwrap()
        .into_iter()
        .map(|e| e.allocation)
        .collect()
}

#[test]
fn versions_2_and_3_with_every_cluster_size() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    for compat in ["0.10", "1.1"] {
        for cluster in ["512", "4K", "64K", "2M"] {
            let image = dir.path().join(format!("v{compat}-{cluster}.qcow2"));
            let options = format!("compat={compat},cluster_size={cluster}");
            convert(&raw, &image, &["-o", &options]);
            let disk = check(&image, dir.path());
            let version = if compat == "0.10" { "v2" } else { "v3" };
            assert!(disk.info().variant.starts_with(version));
            assert_eq!(disk.info().format, "qcow2");
            // The sample has holes, which qemu-img leaves unallocated.
            let kinds = allocations(&*disk);
            assert!(kinds.contains(&Allocation::Data), "{cluster}");
            assert!(kinds.contains(&Allocation::Unallocated), "{cluster}");
        }
    }
}

#[test]
fn compressed_clusters_in_deflate_and_zstd() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    for (compat, kind) in [("0.10", "zlib"), ("1.1", "zlib"), ("1.1", "zstd")] {
        for cluster in ["512", "64K", "2M"] {
            let image = dir.path().join(format!("{compat}-{kind}-{cluster}.qcow2"));
            let mut options = format!("compat={compat},cluster_size={cluster}");
            if compat == "1.1" {
                options.push_str(&format!(",compression_type={kind}"));
            }
            convert(&raw, &image, &["-c", "-o", &options]);
            let disk = check(&image, dir.path());
            assert_eq!(disk.info().variant.contains("zstd"), kind == "zstd");
        }
    }
}

#[test]
fn compressed_clusters_read_by_many_threads_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 32 * MIB);
    let image = dir.path().join("c.qcow2");
    convert(&raw, &image, &["-c", "-o", "cluster_size=4K"]);
    let expected = qemu_raw(&image, dir.path());
    let disk = open(&image).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4u64 {
            let (disk, expected) = (&disk, &expected);
            scope.spawn(move || {
                // Each thread reads the disk in its own odd-sized steps.
                let step = 100_000 + t as usize * 3_333;
                let mut buf = vec![0u8; step];
                let mut pos = 0;
                while pos < expected.len() {
                    let n = step.min(expected.len() - pos);
                    disk.read_at(pos as u64, &mut buf[..n]).unwrap();
                    assert!(buf[..n] == expected[pos..pos + n], "thread {t} at {pos}");
                    pos += n;
                }
            });
        }
    });
}

#[test]
fn extended_l2_entries_with_subclusters() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    let whole = dir.path().join("ext.qcow2");
    convert(&raw, &whole, &["-o", "extended_l2=on,cluster_size=128K"]);
    let disk = check(&whole, dir.path());
    assert!(disk.info().variant.contains("extended L2"));

    // Partial writes over a backing file allocate single subclusters (the
    // rest of the cluster still reads from the backing), and zero writes
    // set zero bits.
    let base = dir.path().join("ext-base.qcow2");
    convert(&raw, &base, &[]);
    let child = dir.path().join("ext-child.qcow2");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-o",
        "extended_l2=on,cluster_size=256K",
        "-b",
        "ext-base.qcow2",
        "-F",
        "qcow2",
        s(&child),
    ]);
    qemu_io(
        &child,
        &[
            "write -P 0xa5 8K 4K",
            "write -P 0x5a 300000 9000",
            "write -z 16K 8K",
            "write -z 22369621 65536",
            "write -P 0x11 40M 5K",
        ],
    );
    let disk = check(&child, dir.path());
    let kinds = allocations(&*disk);
    assert!(kinds.contains(&Allocation::Zero), "{kinds:?}");
}

#[test]
fn zero_clusters_read_as_zeros_without_data() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    let image = dir.path().join("z.qcow2");
    convert(&raw, &image, &["-o", "compat=1.1,cluster_size=64K"]);
    // Zero over stored data (zero flag with an offset) and over holes.
    qemu_io(
        &image,
        &["write -z 0 128K", "write -z 30M 4M", "write -z 60M 1M"],
    );
    let disk = check(&image, dir.path());
    let first = disk.extent_at(0).unwrap();
    assert_eq!(first.allocation, Allocation::Zero);
    assert_eq!(first.end, 128 * 1024, "two zero clusters, then data");
}

#[test]
fn backing_chains_read_through_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    // A RAW base with a qcow2 child.
    let child = dir.path().join("over-raw.qcow2");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-b",
        "source.raw",
        "-F",
        "raw",
        s(&child),
    ]);
    qemu_io(&child, &["write -P 0x42 1M 100K", "write -z 0 4K"]);
    let disk = check(&child, dir.path());
    assert_eq!(disk.info().backing, vec![raw.clone()]);
    // The range the child does not store reports the base's allocation.
    assert_eq!(
        disk.extent_at(50 * MIB).unwrap().allocation,
        Allocation::Unallocated
    );
    assert_eq!(
        disk.extent_at(21 * MIB + 500_000).unwrap().allocation,
        Allocation::Data
    );

    // Three qcow2 layers; the middle one made by converting with -B, the
    // top one smaller than its child... and a base smaller than the top.
    let base = dir.path().join("base.qcow2");
    convert(&raw, &base, &["-o", "compat=0.10"]);
    qemu_img(&["resize", "--shrink", s(&base), "48M"]);
    let mid_raw = dir.path().join("mid.raw");
    qemu_img(&["convert", "-O", "raw", s(&base), s(&mid_raw)]);
    common::write_pattern(&mid_raw, 5 * MIB, 300_000, 9);
    let mid = dir.path().join("mid.qcow2");
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        "-B",
        "base.qcow2",
        "-F",
        "qcow2",
        s(&mid_raw),
        s(&mid),
    ]);
    let top = dir.path().join("top.qcow2");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-b",
        "mid.qcow2",
        "-F",
        "qcow2",
        s(&top),
        "64M",
    ]);
    qemu_io(&top, &["write -P 0x77 47M 2M", "write -P 0x78 63M 1M"]);
    let disk = check(&top, dir.path());
    assert_eq!(disk.info().backing, vec![mid.clone(), base.clone()]);
    disk.check_unchanged().unwrap();
    qemu_io(&base, &["write -P 1 0 4K"]);
    assert!(disk.check_unchanged().is_err(), "a lower layer changed");
}

#[test]
fn a_snapshot_leaves_the_active_layer_read() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    let image = dir.path().join("snap.qcow2");
    convert(&raw, &image, &[]);
    qemu_img(&["snapshot", "-c", "s1", s(&image)]);
    qemu_io(&image, &["write -P 0x99 0 1M", "write -z 22M 1M"]);
    let disk = check(&image, dir.path());
    let mut first = [0u8; 16];
    disk.read_at(0, &mut first).unwrap();
    assert_eq!(first, [0x99; 16], "the active layer, not the snapshot");
}

#[test]
fn a_huge_empty_disk_opens_and_reads_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("huge.qcow2");
    qemu_img(&["create", "-f", "qcow2", s(&image), "16T"]);
    let disk = open(&image).unwrap();
    assert_eq!(disk.size(), 16 << 40);
    // The L1 table alone tells the whole disk is unallocated.
    assert_eq!(disk.extent_at(0).unwrap().end, disk.size());
    let all = extents(&*disk, 0, disk.size()).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].allocation, Allocation::Unallocated);
    let mut buf = vec![1u8; 1 << 20];
    disk.read_at(disk.size() - buf.len() as u64, &mut buf)
        .unwrap();
    assert!(buf.iter().all(|&b| b == 0));
}

// ---- hostile images ----

/// A small qemu-made image to patch, and its bytes.
fn victim(dir: &Path, name: &str, options: &[&str]) -> PathBuf {
    let raw = dir.join("victim.raw");
    if !raw.exists() {
        let f = std::fs::File::create(&raw).unwrap();
        f.set_len(4 * MIB).unwrap();
        common::write_pattern(&raw, 0, 1_000_000, 5);
    }
    let image = dir.join(name);
    convert(&raw, &image, options);
    image
}

fn be32(bytes: &[u8], at: u64) -> u32 {
    u32::from_be_bytes(bytes[at as usize..at as usize + 4].try_into().unwrap())
}

fn be64(bytes: &[u8], at: u64) -> u64 {
    u64::from_be_bytes(bytes[at as usize..at as usize + 8].try_into().unwrap())
}

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, at).unwrap();
}

/// The file offset of the first L2 entry of the first L2 table.
fn first_l2_entry(image: &Path) -> u64 {
    let bytes = std::fs::read(image).unwrap();
    let l1 = be64(&bytes, 40);
    be64(&bytes, l1) & 0x00ff_ffff_ffff_fe00
}

/// The error of opening `image`, or of reading all of it.
fn failure(image: &Path) -> DiskError {
    let disk = match open(image) {
        Err(e) => return e,
        Ok(disk) => disk,
    };
    let mut buf = vec![0u8; disk.size() as usize];
    match disk.read_at(0, &mut buf) {
        Err(e) => e,
        Ok(()) => panic!("{} read without error", image.display()),
    }
}

fn assert_fails(image: &Path, words: &[&str]) -> DiskError {
    let e = failure(image);
    let text = e.to_string();
    for w in words {
        assert!(text.contains(w), "{text:?} does not mention {w:?}");
    }
    e
}

#[test]
fn hostile_header_fields_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: Vec<(&str, u64, Vec<u8>, Vec<&str>)> = vec![
        (
            "cluster_bits 8",
            20,
            8u32.to_be_bytes().to_vec(),
            vec!["cluster_bits", "found 8"],
        ),
        (
            "cluster_bits 22",
            20,
            22u32.to_be_bytes().to_vec(),
            vec!["cluster_bits", "found 22"],
        ),
        ("version 4", 4, 4u32.to_be_bytes().to_vec(), vec!["version"]),
        (
            "size 2^62",
            24,
            (1u64 << 62).to_be_bytes().to_vec(),
            vec!["header field size"],
        ),
        (
            "l1_size huge",
            36,
            u32::MAX.to_be_bytes().to_vec(),
            vec!["l1_size"],
        ),
        (
            "l1_size 0",
            36,
            0u32.to_be_bytes().to_vec(),
            vec!["l1_size", "at least 1"],
        ),
        (
            "l1 past EOF",
            40,
            (1u64 << 40).to_be_bytes().to_vec(),
            vec!["l1_table_offset", "past"],
        ),
        (
            "l1 unaligned",
            40,
            0x3_0008u64.to_be_bytes().to_vec(),
            vec!["l1_table_offset", "multiple"],
        ),
        (
            "l1 in header",
            40,
            0u64.to_be_bytes().to_vec(),
            vec!["l1_table_offset", "header cluster"],
        ),
        (
            "crypt 7",
            32,
            7u32.to_be_bytes().to_vec(),
            vec!["crypt_method"],
        ),
        (
            "refcount_order 7",
            96,
            7u32.to_be_bytes().to_vec(),
            vec!["refcount_order"],
        ),
        (
            "header_length 96",
            100,
            96u32.to_be_bytes().to_vec(),
            vec!["header_length"],
        ),
        (
            "nb_snapshots",
            60,
            u32::MAX.to_be_bytes().to_vec(),
            vec!["nb_snapshots"],
        ),
        (
            "backing size",
            8,
            512u64
                .to_be_bytes()
                .iter()
                .chain(&[0, 0, 8, 0])
                .copied()
                .collect(),
            vec!["backing_file_size"],
        ),
        ("magic", 0, b"QFI\xfa".to_vec(), vec!["magic"]),
    ];
    for (i, (what, at, bytes, words)) in cases.into_iter().enumerate() {
        let image = victim(d, &format!("h{i}.qcow2"), &[]);
        patch(&image, at, &bytes);
        let e = assert_fails(&image, &words);
        assert!(matches!(e, DiskError::Malformed { .. }), "{what}: {e}");
    }
    // A file shorter than a header.
    let short = d.join("short.qcow2");
    std::fs::write(&short, b"QFI\xfb\0\0\0\x03").unwrap();
    assert_fails(&short, &["header", "72 bytes"]);
}

#[test]
fn refused_features_say_how_to_get_a_readable_image() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: Vec<(u64, Vec<u8>, Vec<&str>)> = vec![
        (
            32,
            1u32.to_be_bytes().to_vec(),
            vec!["encryption (AES", "qemu-img convert"],
        ),
        (32, 2u32.to_be_bytes().to_vec(), vec!["encryption (LUKS"]),
        (
            72,
            4u64.to_be_bytes().to_vec(),
            vec!["external data file", "qemu-img convert"],
        ),
        (
            72,
            2u64.to_be_bytes().to_vec(),
            vec!["corrupt", "qemu-img check -r all"],
        ),
        (
            72,
            (1u64 << 10).to_be_bytes().to_vec(),
            vec!["incompatible feature bit 10"],
        ),
        (104, vec![7], vec!["compression type 7"]),
    ];
    for (i, (at, bytes, words)) in cases.into_iter().enumerate() {
        let image = victim(d, &format!("f{i}.qcow2"), &[]);
        patch(&image, at, &bytes);
        let e = assert_fails(&image, &words);
        assert!(matches!(e, DiskError::Unsupported { .. }), "{e}");
    }

    // The feature name table names unknown bits: rename the table's entry
    // for bit 0 ("dirty bit") to bit 9, and set bit 9.
    let image = victim(d, "named.qcow2", &[]);
    let bytes = std::fs::read(&image).unwrap();
    let table = (0..4096u64)
        .step_by(8)
        .find(|&at| at >= 104 && be32(&bytes, at) == 0x6803_f857)
        .expect("qemu-img writes a feature name table")
        + 8;
    let entry = (0..)
        .map(|i| table + i * 48)
        .find(|&at| bytes[at as usize] == 0 && bytes[at as usize + 1] == 0)
        .unwrap();
    patch(&image, entry + 1, &[9]);
    patch(&image, 72, &(1u64 << 9).to_be_bytes());
    assert_fails(&image, &["\"dirty bit\" (bit 9)"]);

    // The dirty bit itself (lazy refcounts) does not matter for reading,
    // nor do refcounts that lie.
    let image = victim(d, "dirty.qcow2", &[]);
    patch(&image, 72, &1u64.to_be_bytes());
    patch(&image, 48, &(1u64 << 50).to_be_bytes());
    patch(&image, 96, &0u32.to_be_bytes());
    check(&image, d);

    // A zstd header without incompatible bit 3 is inconsistent.
    let image = victim(d, "zstd.qcow2", &["-o", "compression_type=zstd"]);
    patch(&image, 72, &0u64.to_be_bytes());
    assert_fails(&image, &["compression_type", "bit 3"]);
}

#[test]
fn hostile_table_entries_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let copied = 1u64 << 63;

    // An L1 entry pointing past the end of the file.
    let image = victim(d, "l1.qcow2", &[]);
    let l1 = be64(&std::fs::read(&image).unwrap(), 40);
    patch(&image, l1, &(copied | (1 << 40)).to_be_bytes());
    assert_fails(&image, &["L1 entry 0", "past"]);

    let cases: Vec<(&str, u64, Vec<&str>)> = vec![
        (
            "past EOF",
            copied | (1 << 40),
            vec!["L2 entry 0", "past the end"],
        ),
        (
            "unaligned",
            copied | (3 << 16) | 0x200,
            vec!["L2 entry 0", "multiple of 65536"],
        ),
        (
            "compressed in header",
            (1 << 62) | 0x40,
            vec!["L2 entry 0", "header cluster"],
        ),
        (
            "compressed past EOF",
            (1 << 62) | (1 << 40),
            vec!["L2 entry 0", "past the end"],
        ),
    ];
    for (i, (what, entry, words)) in cases.into_iter().enumerate() {
        let image = victim(d, &format!("t{i}.qcow2"), &[]);
        patch(&image, first_l2_entry(&image), &entry.to_be_bytes());
        let e = assert_fails(&image, &words);
        assert!(matches!(e, DiskError::Malformed { .. }), "{what}: {e}");
    }

    // A compressed entry claiming more sectors than the file holds.
    // (64 KiB clusters: the offset is bits 0..54, the count bits 54..62.)
    let image = victim(d, "c.qcow2", &["-c"]);
    let at = first_l2_entry(&image);
    let bytes = std::fs::read(&image).unwrap();
    assert!(
        be64(&bytes, at) & (1 << 62) != 0,
        "qemu-img -c compressed the first cluster"
    );
    let near_end = bytes.len() as u64 - 1000;
    patch(
        &image,
        at,
        &((1u64 << 62) | (0xff << 54) | near_end).to_be_bytes(),
    );
    assert_fails(&image, &["L2 entry 0", "compressed", "past the end"]);

    // A compressed stream damaged in place.
    let image = victim(d, "c2.qcow2", &["-c"]);
    let entry = be64(&std::fs::read(&image).unwrap(), first_l2_entry(&image));
    patch(&image, entry & ((1 << 54) - 1), &[0xff; 64]);
    assert_fails(&image, &["compressed cluster"]);

    // The zero flag in a version 2 image, which has none.
    let image = victim(d, "v2.qcow2", &["-o", "compat=0.10"]);
    let at = first_l2_entry(&image);
    let entry = be64(&std::fs::read(&image).unwrap(), at);
    patch(&image, at, &(entry | 1).to_be_bytes());
    assert_fails(&image, &["L2 entry 0", "zero flag"]);

    // Extended L2: a subcluster both allocated and zero.
    let image = victim(d, "x.qcow2", &["-o", "extended_l2=on,cluster_size=64K"]);
    let at = first_l2_entry(&image) + 8;
    patch(&image, at, &0x0000_0001_0000_0001u64.to_be_bytes());
    assert_fails(&image, &["L2 entry 0", "both allocated and zero"]);
}

#[test]
fn hostile_backing_files_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (i, name) in ["/etc/passwd", "../x", "sub/base.qcow2"]
        .into_iter()
        .enumerate()
    {
        let image = d.join(format!("b{i}.qcow2"));
        qemu_img(&[
            "create",
            "-f",
            "qcow2",
            "-u",
            "-b",
            name,
            "-F",
            "raw",
            s(&image),
            "1M",
        ]);
        let e = failure(&image);
        assert!(matches!(e, DiskError::Backing { .. }), "{name}: {e}");
        assert!(e.to_string().contains(name), "{e}");
    }

    // a.qcow2 -> b.qcow2 -> a.qcow2: b is made naming "x.qcow2", then the
    // name is patched to "a.qcow2".
    let a = d.join("a.qcow2");
    let b = d.join("b.qcow2");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-u",
        "-b",
        "x.qcow2",
        "-F",
        "qcow2",
        s(&b),
        "1M",
    ]);
    let bytes = std::fs::read(&b).unwrap();
    patch(&b, be64(&bytes, 8), b"a");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-u",
        "-b",
        "b.qcow2",
        "-F",
        "qcow2",
        s(&a),
        "1M",
    ]);
    let e = failure(&a);
    assert!(e.to_string().contains("loops"), "{e}");

    // A backing format this reader does not know is refused, not guessed.
    let raw = d.join("base.raw");
    std::fs::write(&raw, vec![1u8; 4096]).unwrap();
    let image = d.join("qed-child.qcow2");
    qemu_img(&[
        "create",
        "-f",
        "qcow2",
        "-u",
        "-b",
        "base.raw",
        "-F",
        "qed",
        s(&image),
        "1M",
    ]);
    let e = failure(&image);
    assert!(matches!(e, DiskError::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("\"qed\""), "{e}");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Where to patch: the header and its extensions half the time, else
    /// anywhere in the refcount, L1 and L2 tables and compressed data.
    fn offset() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..512, 0u64..0x3_0000]
    }

    /// What to do to the 8 bytes there: flip one bit, or replace them.
    fn change() -> impl Strategy<Value = (bool, u64)> {
        prop_oneof![(Just(true), 0u64..64), (Just(false), any::<u64>())]
    }

    /// The image every case damages: compressed, 4 KiB clusters, made
    /// once.
    fn pristine() -> &'static [u8] {
        static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        BYTES.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let image = victim(dir.path(), "fuzz.qcow2", &["-c", "-o", "cluster_size=4K"]);
            let bytes = std::fs::read(image).unwrap();
            assert!(
                bytes.len() > 0x3_0008,
                "the patched range lies inside the image"
            );
            bytes
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Damaged header, tables or compressed data: open, read and map
        /// give a result or an error, never a panic.
        #[test]
        fn patched_metadata_never_panics(
            patches in proptest::collection::vec((offset(), change()), 1..6)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let image = dir.path().join("fuzz.qcow2");
            let mut bytes = pristine().to_vec();
            for (at, (flip, value)) in patches {
                let at = (at & !7) as usize;
                let old = be64(&bytes, at as u64);
                let new = if flip { old ^ (1 << value) } else { value };
                bytes[at..at + 8].copy_from_slice(&new.to_be_bytes());
            }
            std::fs::write(&image, &bytes).unwrap();
            if let Ok(disk) = open(&image) {
                let size = disk.size().min(8 * MIB);
                let mut buf = vec![0u8; 256 * 1024];
                let mut pos = 0;
                while pos < size {
                    let n = (size - pos).min(buf.len() as u64) as usize;
                    let _ = disk.read_at(pos, &mut buf[..n]);
                    pos += n as u64;
                }
                let _ = extents(&*disk, 0, size);
            }
        }
    }
}
