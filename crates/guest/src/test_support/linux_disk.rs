//! A small Linux system disk for end-to-end tests: a GPT disk made by
//! `sfdisk` with a 40 MiB ext4 root made by `mkfs.ext4 -d` from a
//! Debian-like tree (os-release, fstab by UUID, an init that is a real
//! ELF binary of this machine, a GRUB configuration).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The root file system's UUID.
pub const ROOT_UUID: &str = "2f3c5f2e-7a55-4d2c-9d6a-0c1f6a9b8e01";

/// A disk made by [`linux_disk`].
#[derive(Debug, Clone)]
pub struct LinuxDisk {
    /// The RAW image.
    pub path: PathBuf,
    /// The host directory the root was made from (change it and call
    /// [`linux_disk`] again for a variant).
    pub tree: PathBuf,
}

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> bool {
    let mut cmd = Command::new(program);
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let Ok(mut child) = cmd.spawn() else {
        eprintln!("note: {program} is not installed; case skipped");
        return false;
    };
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        let _ = input.write_all(text.as_bytes());
    }
    child.wait().is_ok_and(|s| s.success())
}

/// Writes the Debian-like tree into `dir/tree` (unless it exists) and
/// makes `dir/NAME` from it; `None` (with a printed note) where a tool is
/// missing.
pub fn linux_disk(dir: &Path, name: &str) -> Option<LinuxDisk> {
    let tree = dir.join("tree");
    if !tree.exists() {
        for d in ["etc", "sbin", "boot/grub", "lib/modules"] {
            fs::create_dir_all(tree.join(d)).ok()?;
        }
        fs::write(
            tree.join("etc/os-release"),
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
             VERSION_ID=\"12\"\nID=debian\n",
        )
        .ok()?;
        fs::write(tree.join("etc/debian_version"), "12.5\n").ok()?;
        fs::write(
            tree.join("etc/fstab"),
            format!("UUID={ROOT_UUID} / ext4 errors=remount-ro 0 1\n"),
        )
        .ok()?;
        fs::copy("/bin/sh", tree.join("sbin/init")).ok()?;
    }
    let root = dir.join(format!("{name}.root.ext4"));
    let _ = fs::remove_file(&root);
    if !run(
        "mkfs.ext4",
        &[
            "-q",
            "-F",
            "-U",
            ROOT_UUID,
            "-d",
            tree.to_str()?,
            root.to_str()?,
            "40M",
        ],
        None,
    ) {
        return None;
    }
    let disk = dir.join(name);
    fs::File::create(&disk).ok()?.set_len(48 << 20).ok()?;
    let table = "label: gpt\nstart=2048, size=81920, type=linux\n";
    if !run("sfdisk", &["-q", disk.to_str()?], Some(table)) {
        return None;
    }
    let dd = run(
        "dd",
        &[
            &format!("if={}", root.display()),
            &format!("of={}", disk.display()),
            "bs=1M",
            "seek=1",
            "conv=notrunc",
            "status=none",
        ],
        None,
    );
    let _ = fs::remove_file(&root);
    dd.then_some(LinuxDisk { path: disk, tree })
}
