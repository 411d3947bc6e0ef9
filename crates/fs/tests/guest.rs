//! The guest's view on disks made by the real tools: a GPT disk with a
//! separate /boot, an XFS data volume by label and swap by PARTUUID; a
//! Btrfs root in `@` with `@home` on an MBR disk; an LVM root named by its
//! device-mapper name. File systems are made by mkfs (from directories
//! where the tool can) and written into the disk with dd at their
//! partition's offset.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use imsprep_disk::{Disk, RawDisk};
use imsprep_fs::guest::{Content, Guest, OsFamily};
use imsprep_fs::{FileKind, FsError};

const MIB: u64 = 1 << 20;
const BOOT_UUID: &str = "0b00700b-1111-4222-8333-444455556666";
const ROOT_UUID: &str = "a0070070-1111-4222-8333-444455556666";
const SWAP_UUID: &str = "5aa50000-1111-4222-8333-444455556666";

fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("skipped: {program} is not installed");
    }
    found
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sh(script: &str) -> String {
    run("sh", &["-c", script])
}

fn sized_file(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

/// Writes the file `fs` into `disk` at byte `offset` (dd, keeping holes).
fn dd(fs: &Path, disk: &Path, offset: u64) {
    assert_eq!(offset % MIB, 0);
    run(
        "dd",
        &[
            &format!("if={}", fs.display()),
            &format!("of={}", disk.display()),
            "bs=1M",
            &format!("seek={}", offset / MIB),
            "conv=notrunc,sparse",
            "status=none",
        ],
    );
}

fn write(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn link(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    symlink(target, p).unwrap();
}

/// A Linux root tree: init through a relative link, `/lib -> usr/lib`,
/// an alternatives chain of absolute links, links above `/` and loops.
fn linux_tree(root: &Path, fstab: &str) {
    write(root, "etc/fstab", fstab);
    write(root, "etc/hostname", "guest\n");
    write(root, "usr/lib/systemd/systemd", "#!systemd\n");
    link(root, "sbin/init", "../usr/lib/systemd/systemd");
    write(root, "usr/lib/os-release", "ID=test\n");
    link(root, "lib", "usr/lib");
    write(root, "usr/bin/vim.basic", "vim\n");
    link(root, "etc/alternatives/editor", "/usr/bin/vim.basic");
    link(root, "usr/bin/editor", "/etc/alternatives/editor");
    link(root, "escape", "../../../../../etc/hostname");
    link(root, "abs-escape", "/../../etc/./hostname");
    link(root, "loop-a", "loop-b");
    link(root, "loop-b", "/loop-a");
    link(root, "self", "self");
    link(root, "bootcfg", "/boot/grub/grub.cfg");
    link(root, "dangling", "/nowhere");
    // Each target is short enough; expanded together they pass 4096 bytes.
    // (Links of small ext4 file systems hold less than a 1 KiB block.)
    for i in 1..=5 {
        let next = if i == 5 {
            "etc".to_owned()
        } else {
            format!("grow{}", i + 1)
        };
        link(
            root,
            &format!("grow{i}"),
            &format!("/{next}/{}", "q/".repeat(440)),
        );
    }
    for d in ["boot", "home", "srv/my data", "tmp", "mnt/nfs", "opt"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
}

fn mkfs_ext4(dir: &Path, src: &Path, name: &str, mib: u64, extra: &[&str]) -> PathBuf {
    let img = dir.join(name);
    sized_file(&img, mib * MIB);
    let mut args = vec!["-q", "-F"];
    args.extend_from_slice(extra);
    args.extend(["-d", src.to_str().unwrap(), img.to_str().unwrap()]);
    run("mkfs.ext4", &args);
    img
}

/// A loop mount, unmounted when dropped.
struct LoopMount(PathBuf);

impl LoopMount {
    fn new(img: &Path, at: &Path) -> LoopMount {
        std::fs::create_dir_all(at).unwrap();
        run(
            "mount",
            &["-o", "loop", img.to_str().unwrap(), at.to_str().unwrap()],
        );
        LoopMount(at.to_owned())
    }
}

impl Drop for LoopMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn open(disk: &Path) -> Guest {
    let disk: Arc<dyn Disk> = Arc::new(RawDisk::open(disk).unwrap());
    Guest::open(disk).unwrap()
}

fn text(g: &Guest, path: &str) -> String {
    String::from_utf8(g.read_file(path.as_bytes(), 4096).unwrap()).unwrap()
}

struct GptDisk {
    _dir: tempfile::TempDir,
    disk: PathBuf,
    swap_partuuid: String,
}

/// GPT: 1 /boot ext4 (by UUID), 2 root ext4, 3 XFS "data" (by LABEL,
/// mount point with a space), 4 swap (by PARTUUID).
fn gpt_disk() -> Option<GptDisk> {
    for tool in ["sfdisk", "mkfs.ext4", "mkfs.xfs", "mkswap", "dd", "mount"] {
        if !have(tool) {
            return None;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    sized_file(&disk, 410 * MIB);
    sh(&format!(
        "printf 'label: gpt\\nstart=2048, size=32M, name=boot\\nstart=67584, size=48M, name=root\\n\
         start=165888, size=320M, name=data\\nstart=821248, size=8M, name=swap\\n' | sfdisk -q {}",
        disk.display()
    ));
    let swap_partuuid = sh(&format!("sfdisk --part-uuid {} 4", disk.display()))
        .trim()
        .to_owned();
    let fstab = format!(
        "# /etc/fstab: static file system information.\n\
         UUID={ROOT_UUID} / ext4 errors=remount-ro 0 1\n\
         UUID={BOOT_UUID}  /boot ext4 defaults 0 2\n\
         LABEL=data /srv/my\\040data xfs defaults 0 0\n\
         PARTUUID={swap_partuuid} none swap sw 0 0\n\
         tmpfs /tmp tmpfs defaults 0 0\n\
         server:/export /mnt/nfs nfs defaults 0 0\n\
         /srv/x /mnt/bind none bind 0 0\n\
         UUID=deadbeef-0000-4000-8000-000000000000 /opt ext4 defaults 0 0\n\
         garbage\n"
    );
    let boot = dir.path().join("boot-src");
    write(&boot, "grub/grub.cfg", "set default=0\n");
    let root = dir.path().join("root-src");
    linux_tree(&root, &fstab);
    let boot_img = mkfs_ext4(
        dir.path(),
        &boot,
        "boot.img",
        32,
        &["-U", BOOT_UUID, "-L", "boot"],
    );
    let root_img = mkfs_ext4(dir.path(), &root, "root.img", 48, &["-U", ROOT_UUID]);
    let data_img = dir.path().join("data.img");
    sized_file(&data_img, 320 * MIB);
    run(
        "mkfs.xfs",
        &["-q", "-f", "-L", "data", data_img.to_str().unwrap()],
    );
    {
        let m = LoopMount::new(&data_img, &dir.path().join("mnt"));
        std::fs::write(m.0.join("readme"), "data volume\n").unwrap();
    }
    let swap_img = dir.path().join("swap.img");
    sized_file(&swap_img, 8 * MIB);
    run(
        "mkswap",
        &[
            "-q",
            "-L",
            "swp",
            "-U",
            SWAP_UUID,
            swap_img.to_str().unwrap(),
        ],
    );
    dd(&boot_img, &disk, MIB);
    dd(&root_img, &disk, 33 * MIB);
    dd(&data_img, &disk, 81 * MIB);
    dd(&swap_img, &disk, 401 * MIB);
    Some(GptDisk {
        _dir: dir,
        disk,
        swap_partuuid,
    })
}

#[test]
fn gpt_volumes_root_and_fstab() {
    let Some(t) = gpt_disk() else { return };
    let g = open(&t.disk);
    let vols = g.volumes();
    let names: Vec<&str> = vols.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["/dev/vda1", "/dev/vda2", "/dev/vda3", "/dev/vda4"]);
    let types: Vec<_> = vols.iter().map(|v| v.fs_type()).collect();
    assert_eq!(
        types,
        [Some("ext4"), Some("ext4"), Some("xfs"), Some("swap")]
    );
    assert_eq!(vols[0].uuid.as_deref(), Some(BOOT_UUID));
    assert_eq!(vols[0].label.as_deref(), Some("boot"));
    assert_eq!(vols[2].label.as_deref(), Some("data"));
    assert_eq!(vols[3].label.as_deref(), Some("swp"));
    assert_eq!(vols[3].uuid.as_deref(), Some(SWAP_UUID));
    assert!(matches!(vols[3].content, Content::Swap));
    assert_eq!(
        vols[3].partuuid.as_deref(),
        Some(t.swap_partuuid.to_ascii_lowercase().as_str())
    );
    assert_eq!(vols[1].partlabel.as_deref(), Some("root"));

    let root = g.root().unwrap();
    assert_eq!(
        (root.device.as_str(), root.os),
        ("/dev/vda2", OsFamily::Linux)
    );
    assert!(root.evidence.contains("/sbin/init"), "{}", root.evidence);
    assert_eq!(g.root_candidates().len(), 1);

    let mounts: Vec<(String, &str)> = g
        .mounts()
        .iter()
        .map(|m| {
            (
                String::from_utf8_lossy(&m.mount_point).into_owned(),
                m.device.as_str(),
            )
        })
        .collect();
    assert_eq!(
        mounts,
        [
            ("/".to_owned(), "/dev/vda2"),
            ("/boot".to_owned(), "/dev/vda1"),
            ("/srv/my data".to_owned(), "/dev/vda3"),
        ]
    );
    assert!(g.mounts()[0]
        .evidence
        .contains(&format!("UUID {ROOT_UUID}")));
    assert!(g.mounts()[1]
        .evidence
        .contains(&format!("UUID {BOOT_UUID} is that of /dev/vda1")));
    assert!(g.mounts()[2].evidence.contains("LABEL data"));
    let reasons: Vec<(usize, &str)> = g
        .not_mounted()
        .iter()
        .map(|n| (n.line, n.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    assert!(reasons[0].1.contains("swap"));
    assert!(reasons[1].1.contains("tmpfs"));
    assert!(reasons[2].1.contains("network"));
    assert!(reasons[3].1.contains("bind"));
    assert!(reasons[4].1.contains("no volume of this disk has UUID"));
    assert!(reasons[5].1.contains("one field"));

    // Across mounts.
    assert_eq!(text(&g, "/boot/grub/grub.cfg"), "set default=0\n");
    assert_eq!(text(&g, "/bootcfg"), "set default=0\n");
    assert_eq!(text(&g, "/boot/../etc/hostname"), "guest\n");
    assert_eq!(text(&g, "/srv/my data/readme"), "data volume\n");
    let listed: Vec<Vec<u8>> = g
        .read_dir(b"/boot/grub")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(listed, [b"grub.cfg".to_vec()]);
    let (resolved, device, fs_path) = g.locate(b"/lib/os-release").unwrap();
    assert_eq!(
        (resolved, device, fs_path),
        (
            b"/usr/lib/os-release".to_vec(),
            "/dev/vda2".to_owned(),
            b"/usr/lib/os-release".to_vec()
        )
    );
    assert_eq!(g.locate(b"/boot/grub").unwrap().2, b"/grub");

    // Links.
    assert_eq!(text(&g, "/usr/bin/editor"), "vim\n");
    assert_eq!(
        g.read_link(b"/usr/bin/editor").unwrap(),
        b"/etc/alternatives/editor"
    );
    assert_eq!(
        g.symlink_metadata(b"/usr/bin/editor").unwrap().kind,
        FileKind::Symlink
    );
    assert_eq!(g.metadata(b"/usr/bin/editor").unwrap().kind, FileKind::File);
    assert_eq!(g.metadata(b"/lib").unwrap().kind, FileKind::Dir);
    assert_eq!(text(&g, "/escape"), "guest\n");
    assert_eq!(text(&g, "/abs-escape"), "guest\n");
    assert_eq!(text(&g, "/../../etc/hostname"), "guest\n");
    let mut buf = [0u8; 3];
    assert_eq!(g.read_at(b"/lib/os-release", 3, &mut buf).unwrap(), 3);
    assert_eq!(&buf, b"tes");

    for looped in ["/loop-a", "/self", "/self/x"] {
        let e = g.metadata(looped.as_bytes()).unwrap_err();
        assert!(matches!(e, FsError::LimitExceeded { .. }), "{e}");
        assert!(e.to_string().contains("loop"), "{e}");
        assert!(e.to_string().contains(looped), "{e}");
    }
    assert_eq!(
        g.symlink_metadata(b"/self").unwrap().kind,
        FileKind::Symlink
    );

    // Errors name the guest path and the file system.
    let e = g.metadata(b"/boot/grub/nope").unwrap_err();
    assert_eq!(e.to_string(), "/dev/vda1: ext4: /boot/grub/nope not found");
    let e = g.metadata(b"/dangling").unwrap_err();
    assert_eq!(e.to_string(), "/dev/vda2: ext4: /nowhere not found");
    let e = g.metadata(b"/etc/hostname/x").unwrap_err();
    assert!(matches!(e, FsError::NotADirectory { .. }), "{e}");
    assert!(!g.exists(b"/etc/nope").unwrap());
    assert!(!g.exists(b"/dangling").unwrap());
    assert!(g.exists(b"/lib").unwrap());
    assert!(g.exists(b"/loop-a").is_err());
    let e = g.metadata(b"/grow1").unwrap_err();
    assert!(e.to_string().contains("grows past 4096 bytes"), "{e}");
    let long = format!("/{}", "a/".repeat(2100));
    assert!(matches!(
        g.metadata(long.as_bytes()),
        Err(FsError::InvalidPath { .. })
    ));
    assert!(matches!(
        g.metadata(b"etc"),
        Err(FsError::InvalidPath { .. })
    ));

    // One file system alone, by label and by device.
    let boot = g.only("LABEL=boot").unwrap();
    assert_eq!(text(&boot, "/grub/grub.cfg"), "set default=0\n");
    let data = g.only("/dev/vda3").unwrap();
    assert_eq!(text(&data, "/readme"), "data volume\n");
    assert!(g.only("/dev/vda4").is_err());
    assert!(g.only("UUID=nothing").is_err());
}

#[test]
fn btrfs_root_in_subvolumes_on_mbr() {
    for tool in ["sfdisk", "mkfs.btrfs", "btrfs", "dd", "mount"] {
        if !have(tool) {
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    sized_file(&disk, 260 * MIB);
    sh(&format!(
        "printf 'label: dos\\nlabel-id: 0x1a2b3c4d\\nstart=2048, size=256M, type=83\\n' | sfdisk -q {}",
        disk.display()
    ));
    let img = dir.path().join("btrfs.img");
    sized_file(&img, 256 * MIB);
    run(
        "mkfs.btrfs",
        &["-q", "-f", "-L", "sys", img.to_str().unwrap()],
    );
    let uuid = run(
        "blkid",
        &["-s", "UUID", "-o", "value", img.to_str().unwrap()],
    )
    .trim()
    .to_owned();
    {
        let m = LoopMount::new(&img, &dir.path().join("mnt"));
        run(
            "btrfs",
            &["-q", "subvolume", "create", m.0.join("@").to_str().unwrap()],
        );
        run(
            "btrfs",
            &[
                "-q",
                "subvolume",
                "create",
                m.0.join("@home").to_str().unwrap(),
            ],
        );
        let fstab = format!(
            "PARTUUID=1a2b3c4d-01 / btrfs subvol=@,compress=zstd 0 0\n\
             UUID={uuid} /home btrfs subvol=/@home 0 0\n\
             UUID={uuid} /snap btrfs subvol=@missing 0 0\n"
        );
        linux_tree(&m.0.join("@"), &fstab);
        write(&m.0.join("@home"), "user/notes.txt", "my notes\n");
        write(&m.0, "top-level-only", "top\n");
    }
    dd(&img, &disk, MIB);

    let g = open(&disk);
    assert_eq!(g.volumes()[0].partuuid.as_deref(), Some("1a2b3c4d-01"));
    assert_eq!(g.volumes()[0].fs_type(), Some("btrfs"));
    let root = g.root().unwrap();
    assert_eq!(root.subvolume.as_deref(), Some("@"));
    let m = g.mounts();
    assert_eq!(m.len(), 2);
    assert!(
        m[0].evidence.contains("PARTUUID 1a2b3c4d-01"),
        "{}",
        m[0].evidence
    );
    assert_eq!(
        (m[1].mount_point.as_slice(), m[1].subvolume.as_deref()),
        (&b"/home"[..], Some("@home"))
    );
    assert_eq!(text(&g, "/home/user/notes.txt"), "my notes\n");
    assert_eq!(text(&g, "/usr/bin/editor"), "vim\n");
    assert!(!g.exists(b"/top-level-only").unwrap());
    assert_eq!(g.not_mounted().len(), 1);
    assert!(
        g.not_mounted()[0].reason.contains("@missing"),
        "{:?}",
        g.not_mounted()
    );
}

/// Loop devices, detached when dropped.
struct Loops(Vec<String>);

impl Drop for Loops {
    fn drop(&mut self) {
        for l in &self.0 {
            let _ = Command::new("losetup").args(["-d", l]).status();
        }
    }
}

#[test]
fn lvm_root_by_mapper_name_and_boot_by_kernel_name() {
    for tool in ["sfdisk", "mkfs.ext4", "pvcreate", "losetup", "dd"] {
        if !have(tool) {
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    sized_file(&disk, 100 * MIB);
    sh(&format!(
        "printf 'label: gpt\\nstart=2048, size=16M\\nstart=34816, size=80M\\n' | sfdisk -q {}",
        disk.display()
    ));
    let pv_start = 34816 * 512;
    let out = Command::new("losetup")
        .args([
            "-f",
            "--show",
            "-o",
            &pv_start.to_string(),
            "--sizelimit",
            &(80 * MIB).to_string(),
        ])
        .arg(&disk)
        .output()
        .unwrap();
    if !out.status.success() {
        println!("skipped: no loop device");
        return;
    }
    let loops = Loops(vec![String::from_utf8_lossy(&out.stdout).trim().to_owned()]);
    let dev = loops.0[0].clone();
    let vg = format!("imsguest{}", std::process::id());
    let config =
        format!("devices {{ use_devicesfile = 0 filter = [ \"a|^{dev}$|\", \"r|.*|\" ] }}");
    let lvm = |args: &[&str]| {
        let mut full = vec!["--driverloaded", "n", "--config", &config];
        full.extend_from_slice(&args[1..]);
        run(args[0], &full)
    };
    lvm(&["pvcreate", "-q", &dev]);
    lvm(&["vgcreate", "-q", &vg, &dev]);
    lvm(&[
        "lvcreate", "-q", "-an", "-Zn", "-L", "32M", "-n", "root", &vg,
    ]);
    let pe_start: u64 = lvm(&[
        "pvs",
        "--noheadings",
        "--units",
        "b",
        "--nosuffix",
        "-o",
        "pe_start",
        &dev,
    ])
    .trim()
    .parse()
    .unwrap();
    let ranges = lvm(&[
        "lvs",
        "--noheadings",
        "-o",
        "seg_pe_ranges",
        &format!("{vg}/root"),
    ]);
    let first_pe: u64 = ranges
        .trim()
        .split(':')
        .nth(1)
        .unwrap()
        .split('-')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let extent: u64 = lvm(&[
        "vgs",
        "--noheadings",
        "--units",
        "b",
        "--nosuffix",
        "-o",
        "vg_extent_size",
        &vg,
    ])
    .trim()
    .parse()
    .unwrap();
    drop(loops);

    let fstab = format!("/dev/mapper/{vg}-root / ext4 defaults 0 1\n/dev/sda1 /boot ext4 defaults 0 2\n/dev/{vg}/missing /opt ext4 defaults 0 0\n/dev/sdb1 /srv ext4 defaults 0 0\n");
    let root = dir.path().join("root-src");
    linux_tree(&root, &fstab);
    let boot = dir.path().join("boot-src");
    write(&boot, "grub/grub.cfg", "lvm boot\n");
    let root_img = mkfs_ext4(dir.path(), &root, "root.img", 32, &[]);
    let boot_img = mkfs_ext4(dir.path(), &boot, "boot.img", 16, &[]);
    let lv_offset = pv_start + pe_start + first_pe * extent;
    let f = std::fs::OpenOptions::new().write(true).open(&disk).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &std::fs::read(&root_img).unwrap(), lv_offset)
        .unwrap();
    dd(&boot_img, &disk, MIB);

    let g = open(&disk);
    let lv = g
        .volumes()
        .iter()
        .find(|v| v.name == format!("/dev/{vg}/root"))
        .unwrap();
    assert_eq!(lv.aliases, [format!("/dev/mapper/{vg}-root")]);
    assert_eq!(g.root().unwrap().device, format!("/dev/{vg}/root"));
    let m = g.mounts();
    assert_eq!(m.len(), 2);
    assert!(
        m[0].evidence
            .contains(&format!("device name /dev/mapper/{vg}-root")),
        "{}",
        m[0].evidence
    );
    assert_eq!(m[1].device, "/dev/vda1");
    assert!(
        m[1].evidence
            .contains("kernel name /dev/sda1 taken as partition 1"),
        "{}",
        m[1].evidence
    );
    assert_eq!(text(&g, "/boot/grub/grub.cfg"), "lvm boot\n");
    let reasons: Vec<&str> = g.not_mounted().iter().map(|n| n.reason.as_str()).collect();
    assert_eq!(reasons.len(), 2);
    assert!(
        reasons[0].contains("no volume of this disk is called"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("no volume of this disk is called /dev/sdb1"),
        "{reasons:?}"
    );
}

#[test]
fn several_systems_keep_every_candidate() {
    for tool in ["sfdisk", "mkfs.ext4", "dd"] {
        if !have(tool) {
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    sized_file(&disk, 40 * MIB);
    sh(&format!(
        "printf 'label: dos\\nstart=2048, size=16M, type=7\\nstart=34816, size=16M\\n' | sfdisk -q {}",
        disk.display()
    ));
    // A file system holding the Windows system hive (the rule is the
    // path; any reader will do) before a Linux root.
    let win = dir.path().join("win-src");
    write(&win, "Windows/System32/config/SYSTEM", "regf");
    let linux = dir.path().join("linux-src");
    linux_tree(&linux, "/dev/vda2 / ext4 defaults 0 1\n");
    let win_img = mkfs_ext4(dir.path(), &win, "win.img", 16, &[]);
    let linux_img = mkfs_ext4(dir.path(), &linux, "linux.img", 16, &[]);
    dd(&win_img, &disk, MIB);
    dd(&linux_img, &disk, 17 * MIB);
    let g = open(&disk);
    let found: Vec<(&str, OsFamily)> = g
        .root_candidates()
        .iter()
        .map(|r| (r.device.as_str(), r.os))
        .collect();
    assert_eq!(
        found,
        [
            ("/dev/vda1", OsFamily::Windows),
            ("/dev/vda2", OsFamily::Linux)
        ]
    );
    let root = g.root().unwrap();
    assert_eq!(root.device, "/dev/vda1");
    assert!(root.evidence.contains("System32/config/SYSTEM"));
    // The chosen root has no fstab: it alone is mounted.
    assert_eq!(g.mounts().len(), 1);
    assert_eq!(
        g.read_file(b"/Windows/System32/config/SYSTEM", 10).unwrap(),
        b"regf"
    );
    // The other system is still readable on its own.
    let other = g.only("/dev/vda2").unwrap();
    assert_eq!(text(&other, "/usr/bin/editor"), "vim\n");
}

#[test]
fn fat_esp_by_its_serial() {
    for tool in ["sfdisk", "mkfs.ext4", "mkfs.vfat", "mcopy", "dd"] {
        if !have(tool) {
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    sized_file(&disk, 80 * MIB);
    sh(&format!(
        "printf 'label: gpt\\nstart=2048, size=40M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\\n\
         start=83968, size=32M\\n' | sfdisk -q {}",
        disk.display()
    ));
    let esp = dir.path().join("esp.img");
    sized_file(&esp, 40 * MIB);
    run(
        "mkfs.vfat",
        &[
            "-F",
            "32",
            "-i",
            "1234ABCD",
            "-n",
            "ESP",
            esp.to_str().unwrap(),
        ],
    );
    let efi = dir.path().join("BOOTX64.EFI");
    std::fs::write(&efi, "efi binary").unwrap();
    let esp_s = esp.to_str().unwrap();
    run("mmd", &["-i", esp_s, "::EFI", "::EFI/BOOT"]);
    run(
        "mcopy",
        &["-i", esp_s, efi.to_str().unwrap(), "::EFI/BOOT/BOOTX64.EFI"],
    );
    let root = dir.path().join("root-src");
    linux_tree(
        &root,
        "/dev/vda2 / ext4 defaults 0 1\nUUID=1234-ABCD /boot/efi vfat umask=0077 0 1\n",
    );
    std::fs::create_dir_all(root.join("boot/efi")).unwrap();
    let root_img = mkfs_ext4(dir.path(), &root, "root.img", 32, &[]);
    dd(&esp, &disk, MIB);
    dd(&root_img, &disk, 41 * MIB);

    let g = open(&disk);
    let esp_vol = &g.volumes()[0];
    assert_eq!(
        esp_vol.partition_kind,
        Some(imsprep_probe::PartitionKind::Esp)
    );
    assert_eq!(esp_vol.fs_type(), Some("vfat"));
    assert_eq!(esp_vol.uuid.as_deref(), Some("1234-ABCD"));
    assert_eq!(esp_vol.label.as_deref(), Some("ESP"));
    let m = g.mounts();
    assert_eq!(m.len(), 2, "{:?}", g.not_mounted());
    assert_eq!(
        (m[1].mount_point.as_slice(), m[1].device.as_str()),
        (&b"/boot/efi"[..], "/dev/vda1")
    );
    assert_eq!(text(&g, "/boot/efi/EFI/BOOT/BOOTX64.EFI"), "efi binary");
    // FAT names match case-insensitively, as the guest sees them.
    assert_eq!(text(&g, "/boot/efi/efi/boot/bootx64.efi"), "efi binary");
}

/// Walks the guest's tree from `/` (bounded), reading every file's first
/// bytes: errors are fine, a panic or a hang is not.
fn walk_all(g: &Guest) -> usize {
    let mut seen = 0;
    let mut stack = vec![b"/".to_vec()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = g.read_dir(&dir) else {
            continue;
        };
        for e in entries.into_iter().take(200) {
            seen += 1;
            if seen > 5000 {
                return seen;
            }
            let mut path = dir.clone();
            if path.len() > 1 {
                path.push(b'/');
            }
            path.extend_from_slice(&e.name);
            match g.symlink_metadata(&path).map(|m| m.kind) {
                Ok(FileKind::Dir) if path.len() < 512 => stack.push(path),
                Ok(_) => {
                    let _ = g.read_file(&path, 4096);
                    let _ = g.metadata(&path);
                }
                Err(_) => {}
            }
        }
    }
    seen
}

#[test]
fn damaged_disks_give_errors_not_panics() {
    for tool in ["sfdisk", "mkfs.ext4", "dd"] {
        if !have(tool) {
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    sized_file(&disk, 12 * MIB);
    sh(&format!(
        "printf 'label: gpt\\nstart=2048, size=2M\\nstart=6144, size=8M\\n' | sfdisk -q {}",
        disk.display()
    ));
    let boot = dir.path().join("boot-src");
    write(&boot, "grub/grub.cfg", "x\n");
    let root = dir.path().join("root-src");
    linux_tree(
        &root,
        "/dev/vda2 / ext4 defaults\n/dev/vda1 /boot ext4 defaults\n",
    );
    let boot_img = mkfs_ext4(dir.path(), &boot, "boot.img", 2, &[]);
    let root_img = mkfs_ext4(dir.path(), &root, "root.img", 8, &[]);
    dd(&boot_img, &disk, MIB);
    dd(&root_img, &disk, 3 * MIB);
    assert!(walk_all(&open(&disk)) > 20);

    let pristine = std::fs::read(&disk).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&disk).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // The metadata lives in the first blocks of each file system and in
    // the partition table: damage lands there.
    let regions = [(0u64, 34 * 512), (MIB, 512 * 1024), (3 * MIB, 1024 * 1024)];
    for round in 0..60 {
        let (start, len) = regions[round % regions.len()];
        let mut patched = Vec::new();
        for _ in 0..8 {
            let at = start + next() % len;
            let byte = next() as u8;
            patched.push(at);
            std::os::unix::fs::FileExt::write_all_at(&f, &[byte], at).unwrap();
        }
        let damaged: Arc<dyn Disk> = Arc::new(RawDisk::open(&disk).unwrap());
        if let Ok(g) = Guest::open(damaged) {
            walk_all(&g);
        }
        for at in patched {
            let orig = pristine[at as usize];
            std::os::unix::fs::FileExt::write_all_at(&f, &[orig], at).unwrap();
        }
    }
}

#[test]
fn windows_root_on_ntfs() {
    for tool in ["sfdisk", "mkntfs", "ntfs-3g", "dd"] {
        if !have(tool) {
            return;
        }
    }
    if !Path::new("/dev/fuse").exists() {
        println!("skipped: no /dev/fuse for ntfs-3g");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    sized_file(&disk, 70 * MIB);
    sh(&format!(
        "printf 'label: dos\\nlabel-id: 0x0badcafe\\nstart=2048, size=64M, type=7\\n' | sfdisk -q {}",
        disk.display()
    ));
    let img = dir.path().join("ntfs.img");
    sized_file(&img, 64 * MIB);
    run(
        "mkntfs",
        &["-F", "-f", "-Q", "-L", "System", img.to_str().unwrap()],
    );
    {
        let at = dir.path().join("mnt");
        std::fs::create_dir_all(&at).unwrap();
        run("ntfs-3g", &[img.to_str().unwrap(), at.to_str().unwrap()]);
        let unmount = LoopMount(at.clone());
        write(&at, "Windows/System32/config/SYSTEM", "regf");
        write(
            &at,
            "Windows/System32/drivers/etc/hosts",
            "127.0.0.1 localhost\n",
        );
        write(&at, "Users/Public/readme.txt", "public\n");
        drop(unmount);
    }
    dd(&img, &disk, MIB);

    let g = open(&disk);
    let v = &g.volumes()[0];
    assert_eq!(v.fs_type(), Some("ntfs"));
    assert_eq!(v.label.as_deref(), Some("System"));
    assert_eq!(v.partuuid.as_deref(), Some("0badcafe-01"));
    let root = g.root().unwrap();
    assert_eq!(
        (root.device.as_str(), root.os),
        ("/dev/vda1", OsFamily::Windows)
    );
    assert_eq!(g.mounts().len(), 1);
    assert!(g.not_mounted().is_empty());
    // Windows looks names up without regard to case; so does the view.
    assert_eq!(
        text(&g, "/windows/system32/DRIVERS/etc/HOSTS"),
        "127.0.0.1 localhost\n"
    );
    assert_eq!(text(&g, "/Users/Public/readme.txt"), "public\n");
    assert!(g.exists(b"/WINDOWS/System32/config/system").unwrap());
}
