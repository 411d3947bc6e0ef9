//! ext2/3/4 images made by mke2fs from a source tree, read back.

mod common;

use std::path::Path;

use common::*;
use imsprep_fs::{FileKind, FsError, FsKind, FsState};

fn tree(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("src");
    make_tree(
        &src,
        &TreeOptions {
            big_dir: 5000,
            links: true,
            long_name: true,
        },
    );
    src
}

const EXPECT: Expect = Expect {
    unix_metadata: true,
    hard_links: true,
    root_extras: &["lost+found"],
};

fn mkfs(dir: &Path, src: &Path, name: &str, tool: &str, extra: &[&str]) -> std::path::PathBuf {
    let image = dir.join(name);
    std::fs::File::create(&image)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let mut args = vec![
        "-q",
        "-F",
        "-L",
        "testlabel",
        "-U",
        "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        "-d",
    ];
    let src = src.to_str().unwrap();
    args.push(src);
    args.extend_from_slice(extra);
    args.push(image.to_str().unwrap());
    run(tool, &args);
    image
}

fn check(image: &Path, src: &Path, kind: FsKind) {
    let fs = open_whole(image, "/dev/vda");
    let info = fs.info();
    assert_eq!(info.kind, kind);
    assert_eq!(info.label.as_deref(), Some("testlabel"));
    assert_eq!(
        info.uuid.as_deref(),
        Some("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
    );
    assert_eq!(info.size, 64 << 20);
    assert!(info.state.is_empty(), "{:?}", info.state);
    let checked = assert_same_tree(fs.as_ref(), src, b"/", &EXPECT);
    assert!(checked > 5000);
    let a = fs.metadata(b"/links/target.txt").unwrap();
    let b = fs.metadata(b"/links/hard.txt").unwrap();
    assert_eq!((a.inode, a.nlink), (b.inode, 2));
    assert_pieces(fs.as_ref(), b"/large.bin", &src.join("large.bin"));
    assert_pieces(fs.as_ref(), b"/sparse.bin", &src.join("sparse.bin"));
    // Lookups never follow a link.
    assert!(matches!(
        fs.metadata(b"/links/dirlink/level-00"),
        Err(FsError::SymlinkInPath { .. })
    ));
    assert_eq!(
        fs.metadata(b"/links/dirlink").unwrap().kind,
        FileKind::Symlink
    );
    assert!(matches!(
        fs.metadata(b"/nope"),
        Err(FsError::NotFound { .. })
    ));
    assert!(matches!(
        fs.read_dir(b"/hello.txt"),
        Err(FsError::NotADirectory { .. })
    ));
    assert!(matches!(
        fs.read_link(b"/hello.txt"),
        Err(FsError::WrongKind { .. })
    ));
    assert!(matches!(
        fs.read_at(b"/big", 0, &mut [0; 4]),
        Err(FsError::WrongKind { .. })
    ));
    assert_eq!(fs.read_file(b"/large.bin", 10).unwrap().len(), 10);
}

#[test]
fn ext4_default() {
    if !have("mkfs.ext4") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = tree(dir.path());
    let image = mkfs(dir.path(), &src, "ext4.img", "mkfs.ext4", &[]);
    check(&image, &src, FsKind::Ext4);
}

#[test]
fn ext4_without_64bit_or_csum() {
    if !have("mkfs.ext4") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = tree(dir.path());
    let image = mkfs(
        dir.path(),
        &src,
        "ext4.img",
        "mkfs.ext4",
        &["-O", "^64bit,^metadata_csum"],
    );
    check(&image, &src, FsKind::Ext4);
}

#[test]
fn ext4_inline_data() {
    if !have("mkfs.ext4") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = tree(dir.path());
    // mke2fs -d with inline_data stores a file ending in a hole with the
    // size of its last data block, not its length; end in data instead.
    let sparse = std::fs::OpenOptions::new()
        .write(true)
        .open(src.join("sparse.bin"))
        .unwrap();
    sparse.set_len((5 << 20) + 70000).unwrap();
    let image = mkfs(
        dir.path(),
        &src,
        "ext4.img",
        "mkfs.ext4",
        &["-O", "inline_data", "-I", "512"],
    );
    check(&image, &src, FsKind::Ext4);
}

#[test]
fn ext3_block_maps() {
    if !have("mkfs.ext3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = tree(dir.path());
    let image = mkfs(dir.path(), &src, "ext3.img", "mkfs.ext3", &[]);
    check(&image, &src, FsKind::Ext3);
}

#[test]
fn ext2_one_kib_blocks() {
    if !have("mkfs.ext2") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = tree(dir.path());
    // 1 KiB blocks: the 3 MiB file needs double indirect blocks.
    let image = mkfs(dir.path(), &src, "ext2.img", "mkfs.ext2", &["-b", "1024"]);
    check(&image, &src, FsKind::Ext2);
}

#[test]
fn needs_recovery_is_reported() {
    if !have("mkfs.ext4") || !have("debugfs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("a"), b"a").unwrap();
    let image = mkfs(dir.path(), &src, "ext4.img", "mkfs.ext4", &[]);
    run(
        "debugfs",
        &[
            "-w",
            "-R",
            "feature needs_recovery",
            image.to_str().unwrap(),
        ],
    );
    let fs = open_whole(&image, "/dev/vda");
    assert!(
        fs.info().state.contains(&FsState::NeedsRecovery),
        "{:?}",
        fs.info().state
    );
    assert_eq!(fs.read_file(b"/a", 10).unwrap(), b"a");
}
