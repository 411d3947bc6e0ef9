//! VMDK images made by qemu-img, read through the VMDK backend and compared
//! with what `qemu-img convert -O raw` reads; and qemu-img-made files with
//! patched fields, which must fail with an error naming the field.

mod common;

use std::fs::{self, OpenOptions as FileOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use common::{assert_reads, qemu_img, qemu_raw, run, sample_raw};
use imsprep_disk::{extents, open_as, Allocation, Disk, DiskError, Kind, OpenOptions, RawDisk};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn open(path: &Path) -> Result<Box<dyn Disk>, DiskError> {
    open_as(path, Kind::Vmdk, &OpenOptions::default())
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `qemu-img convert -O vmdk -o subformat=SUBFORMAT SOURCE DIR/SUBFORMAT.vmdk`.
fn convert(dir: &Path, source: &Path, subformat: &str) -> PathBuf {
    let out = dir.join(format!("{subformat}.vmdk"));
    qemu_img(&[
        "convert",
        "-O",
        "vmdk",
        "-o",
        &format!("subformat={subformat}"),
        s(source),
        s(&out),
    ]);
    out
}

/// Converts a 64 MiB sample to `subformat` and checks every byte.
fn check_subformat(subformat: &str) {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    let image = convert(dir.path(), &raw, subformat);
    let disk = open(&image).unwrap();
    assert_eq!(disk.info().format, "vmdk");
    assert_eq!(disk.info().variant, subformat);
    assert!(disk.info().backing.is_empty());
    assert_reads(&*disk, &qemu_raw(&image, dir.path()));
    // The sample is mostly holes: every subformat tells some, flat extents
    // through their file's holes.
    let map = extents(&*disk, 0, disk.size()).unwrap();
    assert!(map.iter().any(|e| e.allocation == Allocation::Unallocated));
    assert!(map.iter().any(|e| e.allocation == Allocation::Data));
    disk.check_unchanged().unwrap();
}

#[test]
fn monolithic_sparse() {
    check_subformat("monolithicSparse");
}

#[test]
fn monolithic_flat() {
    check_subformat("monolithicFlat");
}

#[test]
fn stream_optimized() {
    check_subformat("streamOptimized");
}

/// Compares `disk` with the RAW file `expected` in 64 MiB pieces (for
/// disks too large to hold twice in memory), and checks that ranges the
/// metadata calls empty are zeros there. The holes of `expected` are not
/// read (reading gigabytes of holes is slow); the disk is read whole.
fn assert_reads_file(disk: &dyn Disk, expected: &Path) {
    let reference = RawDisk::open(expected).unwrap();
    let len = reference.size();
    assert_eq!(disk.size(), len, "virtual size");
    let empty: Vec<_> = extents(disk, 0, len)
        .unwrap()
        .into_iter()
        .filter(|e| e.allocation != Allocation::Data)
        .collect();
    let chunk = 64 * MIB;
    let (mut mine, mut theirs) = (vec![0u8; chunk as usize], vec![0u8; chunk as usize]);
    let zeros = vec![0u8; chunk as usize];
    let mut pos = 0u64;
    while pos < len {
        let n = chunk.min(len - pos) as usize;
        // An odd split, so reads straddle grains and extents.
        let split = n / 3 + 7;
        disk.read_at(pos, &mut mine[..split]).unwrap();
        disk.read_at(pos + split as u64, &mut mine[split..n])
            .unwrap();
        for piece in extents(&reference, pos, pos + n as u64).unwrap() {
            let range = (piece.start - pos) as usize..(piece.end - pos) as usize;
            if piece.allocation == Allocation::Data {
                reference.read_at(piece.start, &mut theirs[range]).unwrap();
            } else {
                theirs[range].fill(0);
            }
        }
        if mine[..n] != theirs[..n] {
            let at = mine.iter().zip(&theirs).position(|(a, b)| a != b).unwrap();
            panic!("first difference at byte {}", pos + at as u64);
        }
        for e in empty
            .iter()
            .filter(|e| e.start < pos + n as u64 && e.end > pos)
        {
            let a = (e.start.max(pos) - pos) as usize;
            let b = (e.end.min(pos + n as u64) - pos) as usize;
            assert!(theirs[a..b] == zeros[..b - a], "{e:?} holds data");
        }
        pos += n as u64;
    }
    assert!(disk.read_at(len, &mut [0u8; 1]).is_err());
}

/// A 5 GiB sample split in 2 GiB extents: three extent files.
fn check_two_gb(subformat: &str, extent_suffix: &str) {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 5 * GIB);
    let image = convert(dir.path(), &raw, subformat);
    for n in 1..=3 {
        let extent = dir
            .path()
            .join(format!("{subformat}-{extent_suffix}{n:03}.vmdk"));
        assert!(extent.exists(), "{} missing", extent.display());
    }
    let disk = open(&image).unwrap();
    assert_eq!(disk.info().variant, subformat);
    let expected = dir.path().join("expected.raw");
    qemu_img(&["convert", "-O", "raw", s(&image), s(&expected)]);
    assert_reads_file(&*disk, &expected);
}

#[test]
fn two_gb_max_extent_sparse() {
    check_two_gb("twoGbMaxExtentSparse", "s");
}

#[test]
fn two_gb_max_extent_flat() {
    check_two_gb("twoGbMaxExtentFlat", "f");
}

/// Writes with qemu-io, which knows zeroed grains and delta disks.
fn qemu_io(image: &Path, commands: &[&str]) {
    let mut args = Vec::new();
    for c in commands {
        args.push("-c");
        args.push(c);
    }
    args.push(s(image));
    run("qemu-io", &args);
}

#[test]
fn delta_disk_reads_unwritten_grains_from_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    let base = convert(dir.path(), &raw, "monolithicSparse");
    let base_name = dir.path().join("base.vmdk");
    fs::rename(&base, &base_name).unwrap();
    let child = dir.path().join("child.vmdk");
    qemu_img(&[
        "create",
        "-f",
        "vmdk",
        "-o",
        "zeroed_grain=on",
        "-b",
        "base.vmdk",
        "-F",
        "vmdk",
        s(&child),
    ]);
    // New data over the parent's, zeros over the parent's data (a zeroed
    // grain, not a hole: the parent must not show through), and new data
    // where the parent has none.
    qemu_io(
        &child,
        &[
            "write -P 0x5a 100k 200k",
            "write -z 0 64k",
            "write -P 0xa5 40M 1M",
        ],
    );
    let disk = open(&child).unwrap();
    assert_eq!(disk.info().backing, vec![base_name.clone()]);
    assert_eq!(disk.extent_at(0).unwrap().allocation, Allocation::Zero);
    assert_reads(&*disk, &qemu_raw(&child, dir.path()));

    // The parent's extents show through where the child has nothing.
    let tail = disk.extent_at(disk.size() - 1).unwrap();
    assert_eq!(tail.allocation, Allocation::Data);
}

#[test]
fn zeroed_grains_read_as_zeros_without_data() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    let image = dir.path().join("zeroed.vmdk");
    qemu_img(&[
        "convert",
        "-O",
        "vmdk",
        "-o",
        "zeroed_grain=on",
        s(&raw),
        s(&image),
    ]);
    qemu_io(&image, &["write -z 0 192k", "write -z 32M 64k"]);
    let disk = open(&image).unwrap();
    let first = disk.extent_at(0).unwrap();
    assert_eq!((first.end, first.allocation), (192 << 10, Allocation::Zero));
    assert_reads(&*disk, &qemu_raw(&image, dir.path()));
}

#[test]
fn stream_optimized_with_its_grain_directory_in_the_footer() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    let image = convert(dir.path(), &raw, "streamOptimized");
    // Rewrite the end as a one-pass writer does: the header says "at the
    // end", a footer marker and a copy of the header with the real
    // gdOffset come before the end-of-stream marker.
    let mut bytes = fs::read(&image).unwrap();
    let header: Vec<u8> = bytes[..512].to_vec();
    let eos = bytes.split_off(bytes.len() - 512);
    assert!(
        eos.iter().all(|&b| b == 0),
        "qemu-img ends with an EOS marker"
    );
    let mut marker = vec![0u8; 512];
    marker[0..8].copy_from_slice(&1u64.to_le_bytes());
    marker[12..16].copy_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&marker);
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(&eos);
    bytes[56..64].copy_from_slice(&u64::MAX.to_le_bytes());
    let footer = dir.path().join("footer.vmdk");
    fs::write(&footer, &bytes).unwrap();

    let disk = open(&footer).unwrap();
    assert_reads(&*disk, &qemu_raw(&footer, dir.path()));

    // A footer that is not one is named.
    let len = bytes.len();
    bytes[len - 1024..len - 1020].copy_from_slice(b"XXXX");
    fs::write(&footer, &bytes).unwrap();
    assert_error(open(&footer), "footer field magicNumber");
}

#[test]
fn many_threads_read_one_disk() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 64 * MIB);
    let image = convert(dir.path(), &raw, "streamOptimized");
    let disk = open(&image).unwrap();
    let expected = fs::read(&raw).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4u64 {
            let (disk, expected) = (&disk, &expected);
            scope.spawn(move || {
                let mut buf = vec![0u8; 3 * MIB as usize + 5];
                let mut pos = t * 1000;
                while pos + buf.len() as u64 <= disk.size() {
                    disk.read_at(pos, &mut buf).unwrap();
                    assert!(buf[..] == expected[pos as usize..pos as usize + buf.len()]);
                    pos += 7 * MIB;
                }
            });
        }
    });
}

// Hostile input: qemu-img-made files with one field patched.

/// Asserts that `result` is an error whose message names `what`.
fn assert_error<T: std::fmt::Debug>(result: Result<T, DiskError>, what: &str) {
    let err = result.expect_err("the damaged image was accepted");
    let message = err.to_string();
    assert!(message.contains(what), "{what:?} not in: {message}");
    assert!(err.is_bad_image(), "not reported as a bad image: {message}");
}

fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    let f = FileOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

fn read_u32(path: &Path, offset: u64) -> u32 {
    let mut f = fs::File::open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut b = [0u8; 4];
    f.read_exact(&mut b).unwrap();
    u32::from_le_bytes(b)
}

/// A small monolithicSparse (and its reading) to damage.
fn sparse_image(dir: &Path, subformat: &str) -> PathBuf {
    let raw = sample_raw(dir, 8 * MIB);
    convert(dir, &raw, subformat)
}

/// Byte offset of the first grain table entry (grain 0, which the sample
/// stores).
fn first_gte(image: &Path) -> u64 {
    let gd = u64::from(read_u32(image, 56)) * 512;
    u64::from(read_u32(image, gd)) * 512
}

#[test]
fn patched_header_fields_are_named() {
    let cases: &[(u64, &[u8], &str)] = &[
        (20, &0u64.to_le_bytes(), "header field grainSize"),
        (20, &(1u64 << 40).to_le_bytes(), "header field grainSize"),
        (20, &100u64.to_le_bytes(), "header field grainSize"),
        (44, &u32::MAX.to_le_bytes(), "header field numGTEsPerGT"),
        (44, &0u32.to_le_bytes(), "header field numGTEsPerGT"),
        (56, &(1u64 << 40).to_le_bytes(), "header field gdOffset"),
        (12, &(1u64 << 62).to_le_bytes(), "header field capacity"),
        (
            12,
            &(1u64 << 50).to_le_bytes(),
            "capacity is 1125899906842624",
        ),
        (
            28,
            &(1u64 << 40).to_le_bytes(),
            "header field descriptorOffset",
        ),
        (
            36,
            &(1u64 << 30).to_le_bytes(),
            "header field descriptorSize",
        ),
        (64, &(1u64 << 40).to_le_bytes(), "header field overHead"),
        (73, b"\r\n\r\n", "header field newline test bytes"),
        (0, b"KDMX", "descriptor"),
    ];
    for (offset, bytes, what) in cases {
        let dir = tempfile::tempdir().unwrap();
        let image = sparse_image(dir.path(), "monolithicSparse");
        patch(&image, *offset, bytes);
        assert_error(open(&image), what);
    }
}

#[test]
fn unsupported_versions_and_compression_are_refused() {
    for (offset, bytes, what) in [
        (4u64, &9u32.to_le_bytes()[..], "version 9"),
        (77, &7u16.to_le_bytes()[..], "compression algorithm 7"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let image = sparse_image(dir.path(), "monolithicSparse");
        patch(&image, offset, bytes);
        let err = open(&image).unwrap_err();
        assert!(matches!(err, DiskError::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains(what), "{err}");
    }
}

#[test]
fn grain_table_entries_past_the_end_or_into_the_header_are_named() {
    // 1 is a zeroed grain only when the header's flag says so; it has not.
    for gte in [0x7fff_ffffu32, 1, 2, 127] {
        let dir = tempfile::tempdir().unwrap();
        let image = sparse_image(dir.path(), "monolithicSparse");
        patch(&image, first_gte(&image), &gte.to_le_bytes());
        let disk = open(&image).unwrap();
        assert_error(
            disk.read_at(0, &mut [0u8; 4096]),
            "grain table entry 0 of grain table 0",
        );
        assert_error(disk.extent_at(0), "grain table entry 0");
    }
}

#[test]
fn a_grain_table_past_the_end_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let image = sparse_image(dir.path(), "monolithicSparse");
    let gd = u64::from(read_u32(&image, 56)) * 512;
    patch(&image, gd, &0x7fff_0000u32.to_le_bytes());
    let disk = open(&image).unwrap();
    assert_error(disk.read_at(0, &mut [0u8; 512]), "grain directory entry 0");
}

#[test]
fn damaged_compressed_grains_are_named() {
    // (offset in the marker, bytes, message)
    let cases: &[(u64, &[u8], &str)] = &[
        (8, &(1u32 << 31).to_le_bytes(), "grain marker of grain 0"),
        (0, &77u64.to_le_bytes(), "expected lba 0"),
        (12, b"\xff\xff\xff\xff", "compressed grain 0"),
    ];
    for (at, bytes, what) in cases {
        let dir = tempfile::tempdir().unwrap();
        let image = sparse_image(dir.path(), "streamOptimized");
        let grain = u64::from(read_u32(&image, first_gte(&image))) * 512;
        patch(&image, grain + at, bytes);
        let disk = open(&image).unwrap();
        assert_error(disk.read_at(0, &mut [0u8; 512]), what);
    }
}

#[test]
fn a_compressed_grain_expanding_past_its_grain_is_refused() {
    use flate2::{write::ZlibEncoder, Compression};
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let image = sparse_image(dir.path(), "streamOptimized");
    let grain = u64::from(read_u32(&image, first_gte(&image))) * 512;
    // 128 KiB of zeros compress to a few hundred bytes, twice a grain.
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&vec![0u8; 128 << 10]).unwrap();
    let stream = encoder.finish().unwrap();
    let mut marker = 0u64.to_le_bytes().to_vec();
    marker.extend_from_slice(&(stream.len() as u32).to_le_bytes());
    marker.extend_from_slice(&stream);
    patch(&image, grain, &marker);
    let disk = open(&image).unwrap();
    assert_error(
        disk.read_at(0, &mut [0u8; 512]),
        "expands past the 65536-byte grain",
    );
}

/// A monolithicFlat image whose descriptor is edited by `edit`.
fn flat_with_descriptor(dir: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
    let raw = sample_raw(dir, 8 * MIB);
    let image = convert(dir, &raw, "monolithicFlat");
    let text = fs::read_to_string(&image).unwrap();
    let text = text.trim_end_matches('\0');
    fs::write(&image, edit(text)).unwrap();
    image
}

#[test]
fn extent_files_outside_the_descriptors_folder_are_refused() {
    for name in ["/etc/passwd", "../x.vmdk", "sub/x.vmdk"] {
        let dir = tempfile::tempdir().unwrap();
        let image = flat_with_descriptor(dir.path(), |t| {
            t.replace("\"monolithicFlat-flat.vmdk\"", &format!("\"{name}\""))
        });
        assert_error(open(&image), "descriptor extent line");
        assert_error(open(&image), "only a plain file name");
    }
}

#[test]
fn missing_and_short_extent_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let image = flat_with_descriptor(dir.path(), |t| t.to_string());
    let flat = dir.path().join("monolithicFlat-flat.vmdk");
    let f = FileOptions::new().write(true).open(&flat).unwrap();
    f.set_len(4 * MIB).unwrap();
    assert_error(open(&image), "the flat extent holds 4194304 bytes");
    fs::remove_file(&flat).unwrap();
    assert_error(open(&image), "cannot be opened");
}

#[test]
fn descriptor_lines_that_cannot_be_read_are_named() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "RW 16384 FLAT",
            "RW many FLAT",
            "is not a number of sectors",
        ),
        (
            "createType=\"monolithicFlat\"",
            "version=1",
            "no createType line",
        ),
        (" 0\n", " zero\n", "extent offset"),
        // A line that is neither is skipped; the extent line after it,
        // without quotes, is named by its number.
        (
            "RW 16384 FLAT \"",
            "not a key\nRW 16384 FLAT ",
            "descriptor line 9",
        ),
    ];
    for (from, to, what) in cases {
        let dir = tempfile::tempdir().unwrap();
        let image = flat_with_descriptor(dir.path(), |t| t.replacen(from, to, 1));
        assert_error(open(&image), what);
    }
}

#[test]
fn refused_types_and_access_say_so() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "\"monolithicFlat\"",
            "\"fancyNewType\"",
            "createType \"fancyNewType\"",
        ),
        ("\"monolithicFlat\"", "\"seSparse\"", "seSparse"),
        ("\"monolithicFlat\"", "\"vmfsSparse\"", "vmfsSparse"),
        ("RW 16384", "NOACCESS 16384", "NOACCESS extents"),
        (" FLAT ", " VMFSRDM ", "VMFSRDM extents"),
        (
            "version=1",
            "version=1\nencryption.keySafe = \"x\"",
            "encrypted",
        ),
    ];
    for (from, to, what) in cases {
        let dir = tempfile::tempdir().unwrap();
        let image = flat_with_descriptor(dir.path(), |t| t.replacen(from, to, 1));
        let err = open(&image).unwrap_err();
        assert!(matches!(err, DiskError::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains(what), "{what:?} not in {err}");
    }
}

#[test]
fn flat_and_zero_extents_in_one_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    // Two flat extents from one file (the second from an offset), then a
    // zero extent.
    let image = flat_with_descriptor(dir.path(), |t| {
        t.replace(
            "RW 16384 FLAT \"monolithicFlat-flat.vmdk\" 0",
            "RW 8000 FLAT \"monolithicFlat-flat.vmdk\" 0\n\
             RDONLY 8384 FLAT \"monolithicFlat-flat.vmdk\" 8000\nRW 2048 ZERO",
        )
    });
    let disk = open(&image).unwrap();
    assert_eq!(disk.size(), 9 * MIB);
    let mut expected = fs::read(dir.path().join("source.raw")).unwrap();
    expected.resize(9 * MIB as usize, 0);
    assert_reads(&*disk, &expected);
    let last = disk.extent_at(8 * MIB).unwrap();
    assert_eq!((last.end, last.allocation), (9 * MIB, Allocation::Zero));
}

#[test]
fn a_parent_outside_the_folder_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let raw = sample_raw(dir.path(), 8 * MIB);
    convert(dir.path(), &raw, "monolithicSparse");
    let child = dir.path().join("child.vmdk");
    qemu_img(&[
        "create",
        "-f",
        "vmdk",
        "-b",
        "monolithicSparse.vmdk",
        "-F",
        "vmdk",
        s(&child),
    ]);
    let mut bytes = fs::read(&child).unwrap();
    let hint = b"parentFileNameHint=\"monolithicSparse.vmdk\"";
    let at = bytes.windows(hint.len()).position(|w| w == hint).unwrap();
    let evil = b"parentFileNameHint=\"../../../etc/passwd\"\n#";
    bytes[at..at + evil.len()].copy_from_slice(evil);
    fs::write(&child, &bytes).unwrap();
    let err = open(&child).unwrap_err();
    assert!(matches!(err, DiskError::Backing { .. }), "{err}");
}

#[test]
fn a_vmfs_descriptor_reads_its_flat_extent() {
    let dir = tempfile::tempdir().unwrap();
    let image = flat_with_descriptor(dir.path(), |t| {
        t.replace("\"monolithicFlat\"", "\"vmfs\"").replace(
            "RW 16384 FLAT \"monolithicFlat-flat.vmdk\" 0",
            "RW 16384 VMFS \"monolithicFlat-flat.vmdk\"",
        )
    });
    let disk = open(&image).unwrap();
    assert_eq!(disk.info().variant, "vmfs");
    assert_reads(&*disk, &fs::read(dir.path().join("source.raw")).unwrap());
}

#[test]
fn a_one_tib_disk_opens_and_maps_through_a_bounded_table_cache() {
    // 1 TiB of 64 KiB grains has 64 MiB of grain tables, far more than
    // the cache holds.
    for subformat in ["monolithicSparse", "streamOptimized"] {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("big.vmdk");
        let option = format!("subformat={subformat}");
        qemu_img(&["create", "-f", "vmdk", "-o", &option, s(&image), "1T"]);
        qemu_io(&image, &["write -P 0x77 1023G 64k"]);
        let disk = open(&image).unwrap();
        assert_eq!(disk.size(), 1 << 40);
        let map = extents(&*disk, 0, disk.size()).unwrap();
        let data: Vec<_> = map
            .iter()
            .filter(|e| e.allocation == Allocation::Data)
            .collect();
        assert_eq!(data.len(), 1, "{subformat}: {map:?}");
        assert_eq!((data[0].start, data[0].len()), (1023 * GIB, 64 << 10));
        let mut buf = vec![0u8; 128 << 10];
        disk.read_at(1023 * GIB - 1024, &mut buf).unwrap();
        assert!(buf[..1024].iter().all(|&b| b == 0));
        assert!(buf[1024..1024 + (64 << 10)].iter().all(|&b| b == 0x77));
    }
}
