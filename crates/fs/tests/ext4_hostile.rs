//! ext4 images made by mke2fs, then damaged byte by byte: every damage is
//! a clean `FsError` naming the structure, never a panic or a hang.

mod common;

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use common::*;
use imsprep_fs::{FileKind, FsError, Volume};

/// A small ext4 image without metadata_csum (so the damaged field itself
/// is what the reader meets) holding /hello.txt and /a/b.
fn image(dir: &Path, extra: &[&str]) -> Option<PathBuf> {
    if !have("mkfs.ext4") || !have("debugfs") {
        return None;
    }
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("a/b")).unwrap();
    std::fs::write(src.join("hello.txt"), b"hello\n").unwrap();
    let image = dir.join("x.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    let mut args = vec!["-q", "-F", "-b", "1024"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-d", src.to_str().unwrap(), image.to_str().unwrap()]);
    run("mkfs.ext4", &args);
    Some(image)
}

/// Byte offset of inode `path` in the image, from debugfs.
fn inode_offset(image: &Path, path: &str) -> u64 {
    let out = run(
        "debugfs",
        &["-R", &format!("imap {path}"), image.to_str().unwrap()],
    );
    let located = &out[out.find("located at block").unwrap()..];
    let words: Vec<&str> = located.split_whitespace().collect();
    let block: u64 = words[3].trim_end_matches(',').parse().unwrap();
    let off = words.last().unwrap().trim_start_matches("0x");
    block * 1024 + u64::from_str_radix(off, 16).unwrap()
}

fn patch(image: &Path, offset: u64, bytes: &[u8]) {
    let f = std::fs::OpenOptions::new().write(true).open(image).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

fn open(image: &Path) -> Result<Option<Box<dyn imsprep_fs::FileSystem>>, FsError> {
    imsprep_fs::open_filesystem(Volume::whole(raw_disk(image), "/dev/vda"))
}

fn malformed(e: FsError, structure_part: &str) {
    match &e {
        FsError::Malformed { structure, .. } => {
            assert!(structure.contains(structure_part), "{e}")
        }
        other => panic!("expected Malformed about {structure_part}: {other}"),
    }
}

#[test]
fn extent_past_the_volume() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = image(dir.path(), &["-O", "^metadata_csum"]) else {
        return;
    };
    let inode = inode_offset(&img, "/hello.txt");
    // The first extent's ee_start_lo: i_block + header + 8.
    patch(&img, inode + 0x28 + 12 + 8, &0xFFFF_FF00u32.to_le_bytes());
    let fs = open(&img).unwrap().unwrap();
    let e = fs.read_file(b"/hello.txt", 100).unwrap_err();
    malformed(e, "logical block 0");
}

#[test]
fn extent_count_of_2_to_the_16_and_bad_magic() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = image(dir.path(), &["-O", "^metadata_csum"]) else {
        return;
    };
    let inode = inode_offset(&img, "/hello.txt");
    patch(&img, inode + 0x28 + 2, &0xFFFFu16.to_le_bytes());
    let fs = open(&img).unwrap().unwrap();
    malformed(fs.read_file(b"/hello.txt", 100).unwrap_err(), "extent node");
    patch(&img, inode + 0x28, &[0, 0]);
    malformed(fs.read_file(b"/hello.txt", 100).unwrap_err(), "extent node");
}

#[test]
fn block_count_of_2_to_the_32() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = image(dir.path(), &["-O", "^metadata_csum"]) else {
        return;
    };
    patch(&img, 1024 + 4, &u32::MAX.to_le_bytes());
    malformed(open(&img).unwrap_err(), "s_blocks_count");
}

/// Makes /a's entry "b" name inode `number`.
fn point_b_at(img: &Path, number: u32) {
    let out = run("debugfs", &["-R", "blocks /a", img.to_str().unwrap()]);
    let block: u64 = out.split_whitespace().next().unwrap().parse().unwrap();
    let mut data = vec![0u8; 1024];
    std::fs::File::open(img)
        .unwrap()
        .read_exact_at(&mut data, block * 1024)
        .unwrap();
    let name_at = data.windows(2).position(|w| w == b"b\0").unwrap();
    // The entry's inode field is 8 bytes before its name.
    patch(
        img,
        block * 1024 + name_at as u64 - 8,
        &number.to_le_bytes(),
    );
}

#[test]
fn inode_number_of_2_to_the_32_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = image(dir.path(), &["-O", "^metadata_csum"]) else {
        return;
    };
    // The superblock claims 2^32-1 inodes, an entry names the last one:
    // it lies in no block group.
    point_b_at(&img, u32::MAX);
    patch(&img, 1024, &u32::MAX.to_le_bytes());
    let fs = open(&img).unwrap().unwrap();
    malformed(fs.metadata(b"/a/b").unwrap_err(), "inode 4294967295");
    assert_eq!(fs.read_dir(b"/a").unwrap().len(), 1);
}

#[test]
fn directory_pointing_at_itself() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = image(dir.path(), &["-O", "^metadata_csum"]) else {
        return;
    };
    // Make /a's entry "b" name /a itself: a loop a/b/b/b...
    let a = open(&img).unwrap().unwrap().metadata(b"/a").unwrap().inode;
    point_b_at(&img, a as u32);
    let fs = open(&img).unwrap().unwrap();
    let a = fs.metadata(b"/a").unwrap();
    let deep = fs.metadata(b"/a/b/b/b/b/b/b/b").unwrap();
    assert_eq!((deep.inode, deep.kind), (a.inode, FileKind::Dir));
    assert_eq!(fs.read_dir(b"/a/b/b").unwrap().len(), 1);
}

#[test]
fn huge_directory_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = image(dir.path(), &["-O", "^metadata_csum"]) else {
        return;
    };
    let inode = inode_offset(&img, "/a");
    patch(&img, inode + 0x6C, &u32::MAX.to_le_bytes());
    let fs = open(&img).unwrap().unwrap();
    assert!(matches!(
        fs.read_dir(b"/a"),
        Err(FsError::LimitExceeded { .. })
    ));
}

#[test]
fn metadata_csum_catches_a_changed_inode() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = image(dir.path(), &[]) else {
        return;
    };
    let inode = inode_offset(&img, "/hello.txt");
    patch(&img, inode + 0x4, &7u32.to_le_bytes());
    let fs = open(&img).unwrap().unwrap();
    let e = fs.metadata(b"/hello.txt").unwrap_err();
    assert!(e.to_string().contains("checksum"), "{e}");
    malformed(e, "inode ");
}

#[test]
fn superblock_checksum_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = image(dir.path(), &[]) else {
        return;
    };
    patch(&img, 1024 + 0x78, b"changed label");
    malformed(open(&img).unwrap_err(), "s_checksum");
}
