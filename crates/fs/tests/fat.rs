//! FAT12, FAT16 and FAT32 volumes made by mkfs.vfat and filled by mcopy,
//! read back through the reader and compared with the source tree; then
//! damaged byte by byte: every damage is a clean `FsError` naming the
//! structure, never a panic or a hang.

mod common;

use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use imsprep_fs::fat::Fat;
use imsprep_fs::{FileKind, FileSystem, FsError, FsKind, FsState, Volume};

/// Names written to the root, each checked to list as written.
const LONG_NAMES: &[&str] = &[
    "A Long Name With Spaces.Text",
    "MiXeD.Txt",
    "Makefile",
    "Ünïcödé Fïlé.txt",
    "日本語のファイル.txt",
    "name.with.many.dots.tar.gz",
];

/// Fills `root` with what a FAT reader must get right: long, mixed-case
/// and Unicode names, 8.3 names in lower case (stored with the NT case
/// flags), a deep path, a directory of 600 entries, an empty file, a
/// 3 MiB file, a file of exactly one `cluster`-byte cluster, and the
/// UEFI boot path.
fn source_tree(root: &Path, cluster: usize) {
    std::fs::create_dir_all(root.join("EFI/BOOT")).unwrap();
    std::fs::write(root.join("EFI/BOOT/BOOTX64.EFI"), noise(70_001, 7)).unwrap();
    std::fs::write(root.join("hello.txt"), b"hello, world\n").unwrap();
    std::fs::write(root.join("README"), b"read me\n").unwrap();
    for (i, name) in LONG_NAMES.iter().enumerate() {
        std::fs::write(root.join(name), format!("{name} {i}\n")).unwrap();
    }
    std::fs::write(root.join("empty"), b"").unwrap();
    std::fs::write(root.join("large.bin"), noise(3 << 20, 3)).unwrap();
    std::fs::write(root.join("one-cluster.bin"), noise(cluster, 4)).unwrap();
    let mut deep = root.join("deep");
    for i in 0..12 {
        deep = deep.join(format!("Level {i:02}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("bottom.txt"), b"at the bottom\n").unwrap();
    let big = root.join("big");
    std::fs::create_dir(&big).unwrap();
    for i in 0..600 {
        std::fs::write(big.join(format!("entry-{i:05}.dat")), format!("{i}\n")).unwrap();
    }
}

/// Runs an mtools command in a UTF-8 locale (so names keep their Unicode)
/// and UTC (so FAT's local times are UTC).
fn mtools(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A FAT image of `kib` KiB made by `mkfs.vfat -F bits -s per_cluster`,
/// holding `src` (every entry of it copied to the root) and labelled
/// `label`.
fn make_image(dir: &Path, bits: &str, kib: u64, per_cluster: &str, src: &Path) -> PathBuf {
    let image = dir.join(format!("fat{bits}.img"));
    run(
        "mkfs.vfat",
        &[
            "-C",
            "-F",
            bits,
            "-s",
            per_cluster,
            image.to_str().unwrap(),
            &kib.to_string(),
        ],
    );
    let img = image.to_str().unwrap();
    mtools("mlabel", &["-i", img, "::IMSPREP FAT"]);
    let mut args = vec!["-s".to_owned(), "-i".to_owned(), img.to_owned()];
    for entry in std::fs::read_dir(src).unwrap() {
        args.push(entry.unwrap().path().to_str().unwrap().to_owned());
    }
    args.push("::".to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    mtools("mcopy", &args);
    image
}

fn have_tools() -> bool {
    have("mkfs.vfat") && have("mcopy") && have("mlabel")
}

/// blkid's value of `tag` for `image`, when blkid is installed.
fn blkid(image: &Path, tag: &str) -> Option<String> {
    let out = Command::new("blkid")
        .args(["-p", "-o", "value", "-s", tag, image.to_str().unwrap()])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Makes, reads and compares one FAT variant.
fn round_trip(bits: &str, kib: u64, per_cluster: usize, kind: FsKind) {
    if !have_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source_tree(&src, per_cluster * 512);
    let image = make_image(dir.path(), bits, kib, &per_cluster.to_string(), &src);
    let fs = open_whole(&image, "/dev/vda");
    let info = fs.info().clone();
    assert_eq!(info.kind, kind);
    assert_eq!(info.block_size as usize, per_cluster * 512);
    assert_eq!(info.size, kib * 1024);
    assert_eq!(info.label.as_deref(), Some("IMSPREP FAT"));
    assert!(info.state.is_empty(), "{:?}", info.state);
    let uuid = info.uuid.clone().unwrap();
    assert_eq!(uuid.len(), 9, "{uuid}");
    if let Some(want) = blkid(&image, "UUID") {
        assert_eq!(uuid, want);
        assert_eq!(info.label.clone(), blkid(&image, "LABEL"));
    }

    let expect = Expect {
        unix_metadata: false,
        hard_links: false,
        root_extras: &[],
    };
    let checked = assert_same_tree(fs.as_ref(), &src, b"/", &expect);
    assert!(checked > 600 + 12, "{checked} objects compared");
    assert_pieces(fs.as_ref(), b"/large.bin", &src.join("large.bin"));

    // Lookups ignore case, as firmware and Windows see the volume.
    let efi = std::fs::read(src.join("EFI/BOOT/BOOTX64.EFI")).unwrap();
    assert_eq!(
        fs.read_file(b"/efi/boot/bootx64.efi", u64::MAX).unwrap(),
        efi
    );
    assert_eq!(fs.metadata(b"/Efi/Boot/BootX64.efi").unwrap().size, 70_001);
    assert_eq!(
        fs.read_file("/ÜNÏCÖDÉ FÏLÉ.TXT".as_bytes(), 100).unwrap(),
        b"\xc3\x9cn\xc3\xafc\xc3\xb6d\xc3\xa9 F\xc3\xafl\xc3\xa9.txt 3\n"
    );
    assert!(fs.metadata(b"/MIXED.TXT").is_ok());
    // The 8.3 alias mtools gives a long name finds it too.
    assert_eq!(
        fs.read_file(b"/alongn~1.tex", 100).unwrap(),
        b"A Long Name With Spaces.Text 0\n"
    );

    // Synthesized metadata: modes, times (mtools wrote UTC local times).
    let hello = fs.metadata(b"/hello.txt").unwrap();
    assert_eq!(
        (hello.kind, hello.mode, hello.size),
        (FileKind::File, 0o644, 13)
    );
    let src_mtime = std::fs::metadata(src.join("hello.txt")).unwrap().mtime();
    assert!((hello.mtime.secs - src_mtime).abs() <= 2, "{hello:?}");
    let deep = fs.metadata(b"/deep/level 00").unwrap();
    assert_eq!((deep.kind, deep.mode), (FileKind::Dir, 0o755));
    assert_ne!(
        fs.metadata(b"/empty").unwrap().inode,
        fs.metadata(b"/hello.txt").unwrap().inode
    );

    // Wrong kinds and missing paths.
    assert!(matches!(
        fs.read_dir(b"/hello.txt"),
        Err(FsError::NotADirectory { .. })
    ));
    assert!(matches!(
        fs.metadata(b"/hello.txt/x"),
        Err(FsError::NotADirectory { .. })
    ));
    assert!(matches!(
        fs.read_link(b"/hello.txt"),
        Err(FsError::WrongKind { .. })
    ));
    assert!(matches!(
        fs.read_at(b"/EFI", 0, &mut [0u8; 4]),
        Err(FsError::WrongKind { .. })
    ));
    assert!(matches!(
        fs.metadata(b"/no such file"),
        Err(FsError::NotFound { .. })
    ));
}

#[test]
fn fat12_round_trip() {
    // 12 MiB in 4 KiB clusters: about 3000 clusters, FAT12.
    round_trip("12", 12 * 1024, 8, FsKind::Fat12);
}

#[test]
fn fat16_round_trip() {
    // 64 MiB in 2 KiB clusters: about 32000 clusters, FAT16.
    round_trip("16", 64 * 1024, 4, FsKind::Fat16);
}

#[test]
fn fat32_round_trip() {
    // 40 MiB in 512-byte clusters: about 80000 clusters, FAT32.
    round_trip("32", 40 * 1024, 1, FsKind::Fat32);
}

// ---- Damaged volumes ------------------------------------------------------

/// Where the structures of a FAT image lie, read from its BPB.
struct Layout {
    fat: u64,
    root: u64,
    root_len: u64,
    fat32: bool,
}

fn layout(image: &Path) -> Layout {
    let b = std::fs::read(image).unwrap();
    let le16 = |o: usize| u64::from(u16::from_le_bytes([b[o], b[o + 1]]));
    let le32 = |o: usize| u64::from(u32::from_le_bytes(b[o..o + 4].try_into().unwrap()));
    let sector = le16(11);
    let fat16_size = le16(22);
    let fat_size = if fat16_size != 0 {
        fat16_size
    } else {
        le32(36)
    };
    let fat = le16(14) * sector;
    let root = fat + u64::from(b[16]) * fat_size * sector;
    let root_len = le16(17) * 32;
    Layout {
        fat,
        root,
        root_len,
        fat32: fat16_size == 0,
    }
}

fn patch(image: &Path, offset: u64, bytes: &[u8]) {
    let f = std::fs::OpenOptions::new().write(true).open(image).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

fn read_bytes(image: &Path, offset: u64, len: usize) -> Vec<u8> {
    let f = std::fs::File::open(image).unwrap();
    let mut buf = vec![0u8; len];
    f.read_exact_at(&mut buf, offset).unwrap();
    buf
}

/// Writes FAT entry `cluster` of the first FAT (the one the reader reads).
fn set_fat_entry(image: &Path, l: &Layout, cluster: u64, value: u32) {
    if l.fat32 {
        patch(image, l.fat + 4 * cluster, &value.to_le_bytes());
    } else {
        patch(image, l.fat + 2 * cluster, &(value as u16).to_le_bytes());
    }
}

/// Volume offset of the 8.3 entry `short` (11 bytes) in the FAT12/16 root.
fn root_entry(image: &Path, l: &Layout, short: &[u8; 11]) -> u64 {
    let root = read_bytes(image, l.root, l.root_len as usize);
    let at = root
        .chunks(32)
        .position(|e| &e[..11] == short)
        .expect("entry in the root");
    l.root + at as u64 * 32
}

/// A small image of `bits` (16 or 32) holding /hello.txt, /loop.bin of
/// three clusters, a long name and /sub/inner.txt.
fn small_image(dir: &Path, bits: &str) -> Option<PathBuf> {
    if !have_tools() {
        return None;
    }
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("hello.txt"), b"hello\n").unwrap();
    std::fs::write(src.join("A Long Name With Spaces.Text"), b"long\n").unwrap();
    std::fs::write(src.join("sub/inner.txt"), b"inner\n").unwrap();
    let (kib, per_cluster) = if bits == "32" {
        (40 * 1024, 1)
    } else {
        (20 * 1024, 4)
    };
    std::fs::write(src.join("loop.bin"), noise(3 * per_cluster * 512, 9)).unwrap();
    Some(make_image(dir, bits, kib, &per_cluster.to_string(), &src))
}

fn open_fat(image: &Path) -> Result<Fat, FsError> {
    Fat::open(Volume::whole(raw_disk(image), "/dev/vda"))
}

/// `e` is `Malformed` with `structure_part` in its structure and
/// `problem_part` in its problem.
fn malformed(e: FsError, structure_part: &str, problem_part: &str) {
    println!("{e}");
    match &e {
        FsError::Malformed {
            structure, problem, ..
        } => {
            assert!(structure.contains(structure_part), "{e}");
            assert!(problem.contains(problem_part), "{e}");
        }
        other => panic!("expected Malformed about {structure_part}: {other}"),
    }
}

#[test]
fn a_chain_that_loops_names_the_cluster() {
    for bits in ["16", "32"] {
        let dir = tempfile::tempdir().unwrap();
        let Some(img) = small_image(dir.path(), bits) else {
            return;
        };
        let l = layout(&img);
        let fs = open_fat(&img).unwrap();
        let first = fs.metadata(b"/loop.bin").unwrap().inode;
        // The third cluster links back to the first.
        set_fat_entry(&img, &l, first + 2, first as u32);
        let fs = open_fat(&img).unwrap();
        let e = fs.read_file(b"/loop.bin", u64::MAX).unwrap_err();
        malformed(
            e,
            "cluster chain of file /loop.bin",
            &format!("cluster {} links back to cluster {first}", first + 2),
        );
        // A directory whose only cluster links to itself.
        let sub = fs.metadata(b"/sub").unwrap().inode;
        set_fat_entry(&img, &l, sub, sub as u32);
        let fs = open_fat(&img).unwrap();
        let e = fs.read_dir(b"/sub").unwrap_err();
        malformed(
            e,
            "cluster chain of directory /sub",
            &format!("cluster {sub} links back to cluster {sub}"),
        );
    }
}

#[test]
fn a_cluster_past_the_end_and_free_links() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = small_image(dir.path(), "16") else {
        return;
    };
    let l = layout(&img);
    let first = open_fat(&img)
        .unwrap()
        .metadata(b"/loop.bin")
        .unwrap()
        .inode;
    set_fat_entry(&img, &l, first, 0xFFF0);
    let fs = open_fat(&img).unwrap();
    let e = fs.read_file(b"/loop.bin", u64::MAX).unwrap_err();
    let entry = format!("the FAT entry of cluster {first}");
    malformed(
        e,
        "cluster chain of file /loop.bin",
        &format!("{entry} links to cluster 65520"),
    );
    set_fat_entry(&img, &l, first, 0);
    let e = open_fat(&img)
        .unwrap()
        .read_at(b"/loop.bin", 0, &mut [0u8; 10])
        .unwrap_err();
    malformed(
        e,
        "cluster chain of file /loop.bin",
        &format!("{entry} is 0 (free)"),
    );
    set_fat_entry(&img, &l, first, 0xFFF7);
    let e = open_fat(&img)
        .unwrap()
        .read_file(b"/loop.bin", u64::MAX)
        .unwrap_err();
    malformed(
        e,
        "cluster chain of file /loop.bin",
        &format!("{entry} is 0xfff7 (bad"),
    );

    // A directory entry whose first cluster is past the end.
    let hello = root_entry(&img, &l, b"HELLO   TXT");
    patch(&img, hello + 26, &0xFFEEu16.to_le_bytes());
    let e = open_fat(&img)
        .unwrap()
        .read_file(b"/hello.txt", u64::MAX)
        .unwrap_err();
    malformed(
        e,
        "cluster chain of file /hello.txt",
        "starts at cluster 65518",
    );
}

#[test]
fn a_size_of_4_gib_with_a_short_chain() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = small_image(dir.path(), "16") else {
        return;
    };
    let l = layout(&img);
    let hello = root_entry(&img, &l, b"HELLO   TXT");
    patch(&img, hello + 28, &u32::MAX.to_le_bytes());
    let fs = open_fat(&img).unwrap();
    assert_eq!(
        fs.metadata(b"/hello.txt").unwrap().size,
        u64::from(u32::MAX)
    );
    let e = fs.read_file(b"/hello.txt", u64::MAX).unwrap_err();
    malformed(
        e,
        "cluster chain of file /hello.txt",
        "needs 2097152 clusters",
    );
    let e = fs
        .read_at(b"/hello.txt", 1 << 31, &mut [0u8; 16])
        .unwrap_err();
    malformed(e, "cluster chain of file /hello.txt", "ends after 1");
}

#[test]
fn impossible_boot_sector_fields() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = small_image(dir.path(), "16") else {
        return;
    };
    let good = std::fs::read(&img).unwrap();
    let cases: &[(usize, &[u8], &str)] = &[
        (13, &[0], "BPB_SecPerClus"),
        (13, &[3], "BPB_SecPerClus"),
        (11, &100u16.to_le_bytes(), "BPB_BytsPerSec"),
        (17, &0xFFFFu16.to_le_bytes(), "BPB_RootEntCnt"),
        (14, &[0, 0], "BPB_RsvdSecCnt"),
        (16, &[0], "BPB_NumFATs"),
        (19, &[0, 0], "BPB_TotSec"),
        (22, &0xFFFFu16.to_le_bytes(), "BPB_FATSz"),
    ];
    for (offset, bytes, field) in cases {
        std::fs::write(&img, &good).unwrap();
        patch(&img, *offset as u64, bytes);
        let e = open_fat(&img).unwrap_err();
        malformed(e, field, "");
        // The probe may not recognise it at all; it never panics.
        let _ = imsprep_fs::open_filesystem(Volume::whole(raw_disk(&img), "/dev/vda"));
    }
}

#[test]
fn a_broken_long_name_falls_back_to_the_short_name() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = small_image(dir.path(), "16") else {
        return;
    };
    let l = layout(&img);
    let short = root_entry(&img, &l, b"ALONGN~1TEX");
    // The long-name entry just before the 8.3 entry: a wrong checksum.
    let sum = read_bytes(&img, short - 32 + 13, 1)[0];
    patch(&img, short - 32 + 13, &[sum.wrapping_add(1)]);
    let fs = open_fat(&img).unwrap();
    let names: Vec<Vec<u8>> = fs
        .read_dir(b"/")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(names.contains(&b"ALONGN~1.TEX".to_vec()), "{names:?}");
    assert!(!names.contains(&b"A Long Name With Spaces.Text".to_vec()));
    assert_eq!(fs.read_file(b"/alongn~1.tex", 100).unwrap(), b"long\n");
}

#[test]
fn a_cleared_clean_shutdown_bit_is_dirty() {
    for bits in ["16", "32"] {
        let dir = tempfile::tempdir().unwrap();
        let Some(img) = small_image(dir.path(), bits) else {
            return;
        };
        let l = layout(&img);
        assert!(open_fat(&img).unwrap().info().state.is_empty());
        if l.fat32 {
            let raw = read_bytes(&img, l.fat + 4, 4);
            let entry = u32::from_le_bytes(raw.try_into().unwrap()) & !0x0800_0000;
            patch(&img, l.fat + 4, &entry.to_le_bytes());
        } else {
            let raw = read_bytes(&img, l.fat + 2, 2);
            let entry = u16::from_le_bytes(raw.try_into().unwrap()) & !0x8000;
            patch(&img, l.fat + 2, &entry.to_le_bytes());
        }
        let fs = open_fat(&img).unwrap();
        assert_eq!(fs.info().state, vec![FsState::Dirty], "fat{bits}");
        // Dirty or not, it reads.
        assert_eq!(fs.read_file(b"/sub/inner.txt", 100).unwrap(), b"inner\n");
    }
}

#[test]
fn the_boot_sector_state_byte_is_dirty_too() {
    for bits in ["16", "32"] {
        let dir = tempfile::tempdir().unwrap();
        let Some(img) = small_image(dir.path(), bits) else {
            return;
        };
        // BS_Reserved1, where Linux sets bit 0 while the volume is mounted.
        let state = if layout(&img).fat32 { 65 } else { 37 };
        patch(&img, state, &[0x01]);
        let fs = open_fat(&img).unwrap();
        assert_eq!(fs.info().state, vec![FsState::Dirty], "fat{bits}");
    }
}

#[test]
fn the_root_label_entry_wins_over_the_boot_sector() {
    for bits in ["16", "32"] {
        let dir = tempfile::tempdir().unwrap();
        let Some(img) = small_image(dir.path(), bits) else {
            return;
        };
        let label_at = if layout(&img).fat32 { 71 } else { 43 };
        assert_eq!(read_bytes(&img, label_at, 11), b"IMSPREP FAT");
        patch(&img, label_at, b"BOOT COPY  ");
        let fs = open_fat(&img).unwrap();
        assert_eq!(fs.info().label.as_deref(), Some("IMSPREP FAT"));
        if let Some(want) = blkid(&img, "LABEL") {
            assert_eq!(want, "IMSPREP FAT");
        }
    }
}

/// Reads everything under `path` (at most `budget` objects, `depth`
/// levels: a damaged directory may name its parent), ignoring errors.
fn walk(fs: &dyn FileSystem, path: &[u8], depth: usize, budget: &mut usize) {
    let Ok(entries) = fs.read_dir(path) else {
        return;
    };
    for entry in entries {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let mut child = path.to_vec();
        if child.last() != Some(&b'/') {
            child.push(b'/');
        }
        child.extend_from_slice(&entry.name);
        let _ = fs.metadata(&child);
        match entry.kind {
            FileKind::Dir if depth > 0 => walk(fs, &child, depth - 1, budget),
            _ => {
                let _ = fs.read_file(&child, 1 << 20);
            }
        }
    }
}

#[test]
fn random_damage_never_panics() {
    for bits in ["12", "16", "32"] {
        if !have_tools() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
        std::fs::write(src.join("A Long Name With Spaces.Text"), b"long\n").unwrap();
        std::fs::write(src.join("hello.txt"), b"hello\n").unwrap();
        std::fs::write(src.join("sub/deeper/data.bin"), noise(20_000, 5)).unwrap();
        let (kib, per_cluster) = match bits {
            "12" => (4 * 1024, "4"),
            "16" => (20 * 1024, "4"),
            _ => (40 * 1024, "1"),
        };
        let img = make_image(dir.path(), bits, kib, per_cluster, &src);
        let good = std::fs::read(&img).unwrap();
        let l = layout(&img);
        // Damage the boot sector, the FAT's start and the root directory
        // (on FAT32, the first data cluster, which holds the root), where
        // one byte changes the most.
        let regions = [(0u64, 512u64), (l.fat, 256), (l.root, 512)];
        let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ bits.len() as u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..400 {
            let mut changed = Vec::new();
            for _ in 0..4 {
                let (start, len) = regions[(next() % 3) as usize];
                let at = start + next() % len;
                patch(&img, at, &[next() as u8]);
                changed.push(at);
            }
            if let Ok(fs) = open_fat(&img) {
                let mut budget = 2000;
                walk(&fs, b"/", 6, &mut budget);
            }
            for at in changed.into_iter().rev() {
                patch(&img, at, &good[at as usize..at as usize + 1]);
            }
        }
    }
}
