//! `imsprep fs`, `ls` and `cat` on a GPT disk made by sfdisk and
//! `mkfs.ext4 -d` (a /boot by UUID and a root with links), and on a qcow2
//! of the same disk made by `qemu-img convert`.

mod common;

use std::fs::File;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::*;

const BOOT_UUID: &str = "0b00700b-1111-4222-8333-444455556666";

fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn link(root: &Path, rel: &str, target: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    symlink(target, p).unwrap();
}

/// Bytes that do not repeat, `len` long.
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

struct Image {
    _dir: tempfile::TempDir,
    disk: PathBuf,
    big: Vec<u8>,
}

/// GPT: 1 /boot ext4 (by UUID in fstab), 2 root ext4 with links, a
/// 3 MiB file and, with `broken`, a directory whose extent header debugfs breaks.
fn image(broken: bool) -> Option<Image> {
    let (Some(sfdisk), Some(ext4), Some(dd)) = (tool("sfdisk"), tool("mkfs.ext4"), tool("dd"))
    else {
        return None;
    };
    let debugfs = tool("debugfs");
    if broken && debugfs.is_none() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    File::create(&disk).unwrap().set_len(80 * MIB).unwrap();
    run_tool(
        &sfdisk,
        &["-q", s(&disk)],
        Some("label: gpt\nstart=2048, size=16M, name=boot\nstart=34816, size=60M, name=root\n"),
    );
    let boot = dir.path().join("boot");
    write(&boot, "grub/grub.cfg", b"set default=0\n");
    let root = dir.path().join("root");
    write(
        &root,
        "etc/fstab",
        format!("LABEL=rootfs / ext4 defaults 0 1\nUUID={BOOT_UUID} /boot ext4 defaults 0 2\ntmpfs /tmp tmpfs defaults 0 0\n").as_bytes(),
    );
    write(&root, "usr/lib/systemd/systemd", b"#!systemd\n");
    link(&root, "sbin/init", "../usr/lib/systemd/systemd");
    write(&root, "usr/bin/vim.basic", b"vim\n");
    link(&root, "etc/alternatives/editor", "/usr/bin/vim.basic");
    link(&root, "usr/bin/editor", "/etc/alternatives/editor");
    link(&root, "lib", "usr/lib");
    link(&root, "loop", "loop");
    link(&root, "bootcfg", "/boot/grub/grub.cfg");
    std::fs::create_dir_all(root.join("boot")).unwrap();
    write(&root, "broken/sub/file", b"x\n");
    write(&root, "broken/ok.txt", b"ok\n");
    let big = noise(3 * MIB as usize + 4321);
    write(&root, "big.bin", &big);
    let boot_img = dir.path().join("boot.img");
    let root_img = dir.path().join("root.img");
    for (img, src, size, extra) in [
        (&boot_img, &boot, 16, ["-U", BOOT_UUID, "-L", "boot"]),
        (
            &root_img,
            &root,
            60,
            ["-L", "rootfs", "-E", "root_owner=0:0"],
        ),
    ] {
        File::create(img).unwrap().set_len(size * MIB).unwrap();
        let mut args = vec!["-q", "-F"];
        args.extend(extra);
        args.extend(["-d", s(src), s(img)]);
        run_tool(&ext4, &args, None);
    }
    if broken {
        run_tool(
            &debugfs.unwrap(),
            &["-w", "-R", "sif /broken/sub block[0] 0x1234", s(&root_img)],
            None,
        );
    }
    for (img, seek) in [(&boot_img, 1), (&root_img, 17)] {
        run_tool(
            &dd,
            &[
                &format!("if={}", s(img)),
                &format!("of={}", s(&disk)),
                "bs=1M",
                &format!("seek={seek}"),
                "conv=notrunc,sparse",
                "status=none",
            ],
            None,
        );
    }
    Some(Image {
        _dir: dir,
        disk,
        big,
    })
}

fn ok(args: &[&str]) -> Vec<u8> {
    let out = imsprep().args(args).output().unwrap();
    assert_eq!(
        code(&out),
        0,
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn text(args: &[&str]) -> String {
    String::from_utf8(ok(args)).unwrap()
}

#[test]
fn fs_lists_volumes_and_mounts() {
    let Some(t) = image(false) else { return };
    let v = json(&ok(&["fs", s(&t.disk), "--json"]));
    let vols = v["volumes"].as_array().unwrap();
    assert_eq!(vols.len(), 2);
    assert_eq!(vols[0]["device"], "/dev/vda1");
    assert_eq!(vols[0]["type"], "ext4");
    assert_eq!(vols[0]["uuid"], BOOT_UUID);
    assert_eq!(vols[0]["label"], "boot");
    assert_eq!(vols[0]["partlabel"], "boot");
    assert_eq!(vols[0]["mounted_at"][0], "/boot");
    assert_eq!(vols[1]["mounted_at"][0], "/");
    assert_eq!(vols[1]["size"], 60 * MIB);
    assert_eq!(v["root"]["device"], "/dev/vda2");
    assert_eq!(v["root"]["os"], "linux");
    assert!(v["mounts"][1]["evidence"]
        .as_str()
        .unwrap()
        .contains("UUID"));
    assert_eq!(v["not_mounted"][0]["fstab_line"], 3);

    let human = text(&["fs", s(&t.disk)]);
    assert!(human.contains("/dev/vda1"), "{human}");
    assert!(human.contains("root: /dev/vda2"), "{human}");
    assert!(
        human.contains("not mounted: fstab line 3: tmpfs /tmp"),
        "{human}"
    );
}

#[test]
fn ls_and_cat_through_the_guest() {
    let Some(t) = image(false) else { return };
    let d = s(&t.disk);
    assert_eq!(text(&["ls", d, "/boot/grub"]), "grub.cfg\n");
    let long = text(&["ls", d, "-l", "/usr/bin"]);
    let editor = long.lines().find(|l| l.contains("editor")).unwrap();
    assert!(editor.starts_with("lrwxrwxrwx"), "{long}");
    assert!(
        editor.ends_with("editor -> /etc/alternatives/editor"),
        "{long}"
    );
    let vim = long.lines().find(|l| l.contains("vim.basic")).unwrap();
    assert!(vim.starts_with("-rw-r--r--"), "{long}");
    // A link to a directory: followed, or with -l shown itself.
    assert_eq!(text(&["ls", d, "/lib"]), "systemd\n");
    assert!(text(&["ls", "-l", d, "/lib"]).ends_with(" lib -> usr/lib\n"));
    // A file (through links) is listed as itself.
    assert_eq!(text(&["ls", d, "/usr/bin/editor"]), "editor\n");
    assert_eq!(text(&["cat", d, "/usr/bin/editor"]), "vim\n");
    assert_eq!(text(&["cat", d, "/bootcfg"]), "set default=0\n");
    assert_eq!(ok(&["cat", d, "/big.bin"]), t.big);
    // One file system directly.
    assert_eq!(
        text(&["cat", d, "--fs", "LABEL=boot", "/grub/grub.cfg"]),
        "set default=0\n"
    );
    assert_eq!(
        text(&["ls", d, "--fs", &format!("UUID={BOOT_UUID}"), "/"]),
        "grub\nlost+found\n"
    );
    assert!(text(&["ls", d, "--fs", "/dev/vda2", "/"]).contains("big.bin"));
}

#[test]
fn errors_name_image_file_system_and_path() {
    let Some(t) = image(false) else { return };
    let d = s(&t.disk);
    let out = imsprep().args(["cat", d, "/etc/nope"]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert_one_error_line(&out.stderr, "/dev/vda2: ext4: /etc/nope not found");
    assert!(String::from_utf8_lossy(&out.stderr).contains("disk.img"));
    let out = imsprep().args(["cat", d, "/etc"]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert_one_error_line(&out.stderr, "not a regular file");
    let out = imsprep().args(["cat", d, "/loop"]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert_one_error_line(&out.stderr, "loop");
    let out = imsprep()
        .args(["ls", d, "--fs", "/dev/vda9", "/"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert_one_error_line(&out.stderr, "/dev/vda9");
    let out = imsprep().args(["ls", d, "etc"]).output().unwrap();
    assert_eq!(code(&out), 2);
    let missing = t.disk.with_file_name("missing.img");
    let out = imsprep().args(["ls", s(&missing), "/"]).output().unwrap();
    assert_eq!(code(&out), 3);
    assert_one_error_line(&out.stderr, "missing.img");
    // A disk with no file system at all: a bad image.
    let blank = t.disk.with_file_name("blank.img");
    File::create(&blank).unwrap().set_len(4 * MIB).unwrap();
    let out = imsprep().args(["ls", s(&blank), "/"]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert_one_error_line(&out.stderr, "no root file system");
}

#[test]
fn recursive_json_is_the_same_from_qcow2() {
    let Some(t) = image(false) else { return };
    let Some(qemu_img) = tool("qemu-img") else {
        return;
    };
    let qcow2 = t.disk.with_extension("qcow2");
    run_tool(
        &qemu_img,
        &["convert", "-O", "qcow2", s(&t.disk), s(&qcow2)],
        None,
    );
    let raw = json(&ok(&["ls", "-R", "--json", s(&t.disk), "/"]));
    let from_qcow2 = json(&ok(&["ls", "-R", "--json", s(&qcow2), "/"]));
    assert_eq!(raw, from_qcow2);
    let paths: Vec<&str> = raw
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for want in [
        "/boot/grub/grub.cfg",
        "/usr/lib/systemd/systemd",
        "/lib",
        "/etc/alternatives/editor",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
    // Links are listed, not entered.
    assert!(!paths.contains(&"/lib/systemd"));
    let lib = raw
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/lib")
        .unwrap();
    assert_eq!(
        (lib["type"].as_str(), lib["target"].as_str()),
        (Some("symlink"), Some("usr/lib"))
    );
    assert_eq!(ok(&["cat", s(&qcow2), "/big.bin"]), t.big);
    let human = text(&["ls", "-R", s(&qcow2), "/boot"]);
    assert_eq!(
        human,
        "/boot:\ngrub\nlost+found\n\n/boot/grub:\ngrub.cfg\n\n/boot/lost+found:\n"
    );
}

#[test]
fn a_broken_subtree_is_reported_and_the_rest_listed() {
    let Some(t) = image(true) else { return };
    let out = imsprep()
        .args(["ls", "-R", s(&t.disk), "/"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/broken/sub"), "{stderr}");
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.contains("ok.txt"), "{stdout}");
    assert!(
        stdout.contains("/usr/bin:\neditor\nvim.basic\n"),
        "{stdout}"
    );
}

#[test]
fn a_disk_without_a_root_lists_its_volumes() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = gpt_disk(dir.path(), "plain.img") else {
        return;
    };
    let v = json(&ok(&["fs", "--json", s(&disk)]));
    let types: Vec<&str> = v["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["vfat", "ext4"]);
    assert_eq!(v["volumes"][0]["partition_type"], "esp");
    assert!(v["root"].is_null());
    assert_eq!(v["mounts"].as_array().unwrap().len(), 0);
    let human = text(&["fs", s(&disk)]);
    assert!(human.contains("root: none found"), "{human}");
    // Each file system is still readable on its own.
    assert_eq!(
        text(&["ls", s(&disk), "--fs", "/dev/vda2", "/"]),
        "lost+found\n"
    );
    let out = imsprep().args(["ls", s(&disk), "/"]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert_one_error_line(&out.stderr, "no root file system");
}
