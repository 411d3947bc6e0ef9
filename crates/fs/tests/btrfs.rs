//! The Btrfs reader against file systems made by mkfs.btrfs (from a
//! directory, and filled through a loop mount with each compression),
//! with subvolumes and a default subvolume; then hostile patches.

mod fstree;

use std::fs;
use std::path::{Path, PathBuf};

use imsprep_fs::btrfs::Btrfs;
use imsprep_fs::FileSystem;

fn mkfs(img: &Path, extra: &[&str]) {
    let mut args = vec!["-q", "-f"];
    args.extend_from_slice(extra);
    args.push(img.to_str().unwrap());
    fstree::run("mkfs.btrfs", &args);
}

#[test]
fn made_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fstree::make_source(&src);
    // --rootdir has no preallocation; prealloc is an empty file there.
    let img = fstree::image(dir.path(), "btrfs.img", 512);
    mkfs(&img, &["--rootdir", src.to_str().unwrap()]);
    let fs = Btrfs::open(fstree::volume(&img)).unwrap();
    assert_eq!(fs.subvolume_id(), 5);
    let count = fstree::compare(&fs, "", &src);
    assert!(count > 5000, "compared {count}");
    fstree::assert_hard_links(&fs, "");
}

fn through_mount(options: &str) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fstree::make_source(&src);
    let img = fstree::image(dir.path(), "btrfs.img", 512);
    mkfs(&img, &[]);
    {
        let mnt = fstree::Mount::new(&img, &dir.path().join("mnt"), options);
        fstree::fill(&src, &mnt.dir);
    }
    let fs = Btrfs::open(fstree::volume(&img)).unwrap();
    assert!(fs.info().state.is_empty(), "{:?}", fs.info().state);
    let count = fstree::compare(&fs, "", &src);
    assert!(count > 5000, "compared {count}");
    fstree::assert_hard_links(&fs, "");
    let opened = imsprep_fs::open_filesystem(fstree::volume(&img))
        .unwrap()
        .unwrap();
    assert_eq!(opened.info().kind, imsprep_fs::FsKind::Btrfs);
}

#[test]
fn plain_through_a_mount() {
    through_mount("");
}

#[test]
fn zlib() {
    through_mount("compress-force=zlib");
}

#[test]
fn lzo() {
    through_mount("compress-force=lzo");
}

#[test]
fn zstd() {
    through_mount("compress-force=zstd");
}

/// A SUSE-like layout: `@`, `@/home`, `@/.snapshots/1/snapshot` as the
/// default subvolume.
fn subvolume_image(dir: &Path) -> PathBuf {
    let img = fstree::image(dir, "subvol.img", 512);
    mkfs(&img, &[]);
    let mnt = fstree::Mount::new(&img, &dir.join("mnt"), "");
    let m = |p: &str| mnt.dir.join(p).to_str().unwrap().to_string();
    fstree::run("btrfs", &["-q", "subvolume", "create", &m("@")]);
    fstree::run("btrfs", &["-q", "subvolume", "create", &m("@/home")]);
    fs::write(mnt.dir.join("@/home/user.txt"), b"home file\n").unwrap();
    fs::create_dir_all(mnt.dir.join("@/.snapshots/1")).unwrap();
    fs::write(mnt.dir.join("@/etc-release"), b"release 1\n").unwrap();
    fstree::run(
        "btrfs",
        &["-q", "subvolume", "create", &m("@/.snapshots/1/snapshot")],
    );
    fs::write(
        mnt.dir.join("@/.snapshots/1/snapshot/etc-release"),
        b"snapshot 1\n",
    )
    .unwrap();
    fstree::run(
        "btrfs",
        &[
            "-q",
            "subvolume",
            "set-default",
            &m("@/.snapshots/1/snapshot"),
        ],
    );
    drop(mnt);
    img
}

#[test]
fn subvolumes_by_default_path_and_id() {
    let dir = tempfile::tempdir().unwrap();
    let img = subvolume_image(dir.path());
    let fs = Btrfs::open(fstree::volume(&img)).unwrap();
    // The default subvolume is the snapshot.
    assert_eq!(fs.read_file(b"/etc-release", 100).unwrap(), b"snapshot 1\n");
    let subs = fs.subvolumes().unwrap();
    let paths: Vec<&str> = subs.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(paths, ["/", "@", "@/home", "@/.snapshots/1/snapshot"]);
    let root = fs.with_subvolume("@").unwrap();
    assert_eq!(
        root.read_file(b"/etc-release", 100).unwrap(),
        b"release 1\n"
    );
    // Crossing into a nested subvolume from its parent.
    assert_eq!(
        root.read_file(b"/home/user.txt", 100).unwrap(),
        b"home file\n"
    );
    let names: Vec<Vec<u8>> = root
        .read_dir(b"/")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(names.contains(&b"home".to_vec()));
    let home_id = subs.iter().find(|(_, p)| p == "@/home").unwrap().0;
    let home = fs.with_subvolume(&home_id.to_string()).unwrap();
    assert_eq!(home.read_file(b"/user.txt", 100).unwrap(), b"home file\n");
    let top = fs.with_subvolume("5").unwrap();
    assert_eq!(
        top.read_file(b"/@/.snapshots/1/snapshot/etc-release", 100)
            .unwrap(),
        b"snapshot 1\n"
    );
    assert!(fs.with_subvolume("@/.snapshots").is_err());
    assert!(fs.with_subvolume("999").is_err());
}

/// Node size and where the root tree's root block lies on the image.
fn root_block(data: &[u8]) -> (usize, usize) {
    let sb = &data[0x10000..0x11000];
    let node = u32::from_le_bytes(sb[0x94..0x98].try_into().unwrap()) as usize;
    let root = u64::from_le_bytes(sb[0x50..0x58].try_into().unwrap());
    // Single-device mkfs maps metadata logical addresses through chunks;
    // find the block by its header bytenr.
    let at = (0..data.len() / 4096)
        .map(|i| i * 4096)
        .find(|&o| {
            o + 0x38 <= data.len()
                && u64::from_le_bytes(data[o + 0x30..o + 0x38].try_into().unwrap()) == root
                && data[o + 0x20..o + 0x30] == sb[0x20..0x30]
        })
        .unwrap();
    (node, at)
}

fn fix_node_csum(block: &mut [u8]) {
    let crc = crc32c::crc32c(&block[32..]);
    block[..4].copy_from_slice(&crc.to_le_bytes());
}

fn fix_sb_csum(data: &mut [u8]) {
    let crc = crc32c::crc32c(&data[0x10020..0x11000]);
    data[0x10000..0x10004].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn hostile_images_are_refused_by_structure() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(&src).unwrap();
    let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    fs::write(src.join("f"), &text).unwrap();
    let img = fstree::image(dir.path(), "h.img", 256);
    mkfs(&img, &[]);
    {
        let mnt = fstree::Mount::new(&img, &dir.path().join("mnt"), "compress-force=zstd");
        fs::copy(src.join("f"), mnt.dir.join("f")).unwrap();
    }
    let pristine = fs::read(&img).unwrap();
    let try_read = |data: &[u8]| -> String {
        fs::write(&img, data).unwrap();
        match Btrfs::open(fstree::volume(&img)) {
            Err(e) => e.to_string(),
            Ok(fs) => match fs.read_file(b"/f", u64::MAX) {
                Err(e) => e.to_string(),
                Ok(bytes) => {
                    assert_ne!(
                        bytes,
                        text.as_bytes(),
                        "a hostile image read as the original"
                    );
                    "read".to_string()
                }
            },
        }
    };
    let sb_field = |at: usize, bytes: &[u8]| {
        let mut d = pristine.clone();
        d[0x10000 + at..0x10000 + at + bytes.len()].copy_from_slice(bytes);
        fix_sb_csum(&mut d);
        d
    };
    assert!(try_read(&sb_field(0x90, &0u32.to_le_bytes())).contains("sectorsize"));
    assert!(try_read(&sb_field(0x94, &(1u32 << 31).to_le_bytes())).contains("nodesize"));
    assert!(try_read(&sb_field(0xa0, &5000u32.to_le_bytes())).contains("sys_chunk_array"));
    assert!(try_read(&sb_field(0x88, &2u64.to_le_bytes())).contains("devices"));
    let mut d = pristine.clone();
    d[0x10100] ^= 1;
    assert!(try_read(&d).contains("csum"));
    // A root-tree node pointing to itself: make the root a level-1 node
    // whose one child is its own address.
    let (node, at) = root_block(&pristine);
    let mut d = pristine.clone();
    let bytenr = d[at + 0x30..at + 0x38].to_vec();
    d[at + 0x64] = 1;
    d[at + 0x60..at + 0x64].copy_from_slice(&1u32.to_le_bytes());
    d[at + 101 + 17..at + 101 + 25].copy_from_slice(&bytenr);
    fix_node_csum(&mut d[at..at + node]);
    d[0x10000 + 0xc6] = 1;
    fix_sb_csum(&mut d);
    let err = try_read(&d);
    assert!(err.contains("level"), "{err}");
    // Flip a byte in the root block without fixing its checksum.
    let mut d = pristine.clone();
    d[at + 200] ^= 0xff;
    assert!(try_read(&d).contains("checksum"));
    // Extent items patched: find the file's EXTENT_DATA in the fs tree by
    // its compression byte (zstd = 3) after a 108 key.
    let patch_extent = |f: &dyn Fn(&mut [u8])| -> String {
        let mut d = pristine.clone();
        let mut hits = 0;
        for blk in (0..d.len() / node).map(|i| i * node) {
            let b = &d[blk..blk + node];
            if u32::from_le_bytes(b[..4].try_into().unwrap()) != crc32c::crc32c(&b[32..])
                || b[0x64] != 0
            {
                continue;
            }
            let count = u32::from_le_bytes(b[0x60..0x64].try_into().unwrap()) as usize;
            let mut changed = false;
            for i in 0..count {
                let it = 101 + i * 25;
                if d[blk + it + 8] != 108 {
                    continue;
                }
                let off = 101
                    + u32::from_le_bytes(d[blk + it + 17..blk + it + 21].try_into().unwrap())
                        as usize;
                if d[blk + off + 20] == 1 && d[blk + off + 16] == 3 {
                    f(&mut d[blk + off..blk + off + 53]);
                    changed = true;
                    hits += 1;
                }
            }
            if changed {
                fix_node_csum(&mut d[blk..blk + node]);
            }
        }
        assert!(hits > 0, "no compressed extent found");
        try_read(&d)
    };
    let err = patch_extent(&|e| e[8..16].copy_from_slice(&(1u64 << 40).to_le_bytes()));
    assert!(err.contains("extent"), "{err}");
    let err = patch_extent(&|e| e[21..29].copy_from_slice(&(1u64 << 50).to_le_bytes()));
    assert!(err.contains("logical address"), "{err}");
}
