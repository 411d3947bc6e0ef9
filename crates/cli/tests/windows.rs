//! A Windows system disk end to end: the ready Windows tree of the guest
//! crate's test support (hives written by hivexsh) copied into an NTFS
//! volume made by `mkntfs` through an `ntfs-3g` mount, then read by
//! `imsprep reg` and `imsprep inspect`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use imsprep_guest::test_support::WinTree;

/// Unmounts when dropped, so a failing test leaves no mount behind.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A whole-disk NTFS image holding the Windows tree, or `None` (with a
/// printed reason) where the tools are missing.
fn windows_disk(dir: &Path) -> Option<PathBuf> {
    for t in ["mkntfs", "ntfs-3g", "hivexsh"] {
        tool(t)?;
    }
    if !Path::new("/dev/fuse").exists() {
        eprintln!("note: no /dev/fuse for ntfs-3g; case skipped");
        return None;
    }
    let tree = WinTree::server_2019(dir);
    let host = dir.join("tree");
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    tree.build(&host, &scratch);
    let img = dir.join("windows.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    run_tool(
        Path::new("mkntfs"),
        &["-F", "-f", "-Q", "-L", "Windows", s(&img)],
        None,
    );
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    run_tool(Path::new("ntfs-3g"), &[s(&img), s(&mnt)], None);
    {
        let _mount = Mount(mnt.clone());
        copy_tree(&host, &mnt);
    }
    Some(img)
}

#[test]
fn reg_lists_a_key_and_inspect_identifies_the_windows_guest() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = windows_disk(dir.path()) else {
        return;
    };
    let out = imsprep()
        .args(["reg", "--json", s(&img), "HKLM\\SYSTEM\\Select"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let key = json(&out.stdout);
    assert_eq!(key["key"], "HKLM\\SYSTEM\\Select");
    let current = key["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "Current")
        .expect("Select\\Current");
    assert_eq!(current["type"], "REG_DWORD");
    assert!(current["data"].as_str().unwrap().starts_with("1 "));
    // A key that is not there, and a hive that is not one, are bad input.
    let out = imsprep()
        .args(["reg", s(&img), "HKLM\\SYSTEM\\NoSuchKey"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    let out = imsprep()
        .args(["reg", s(&img), "HKCU\\Software"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");

    let out = imsprep()
        .args(["inspect", "--json", "--cloud", "otc", s(&img)])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    assert_eq!(report["guest"]["system"], "windows", "{report}");
    assert_eq!(report["guest"]["architecture"], "x86");
    assert!(report["guest"]["os_version"]
        .as_str()
        .unwrap()
        .contains("Windows Server 2019"));
    let codes = codes(&report["findings"]);
    assert!(
        codes
            .iter()
            .any(|c| c.starts_with("WIN-") || c == "IMG-BOOTMODE"),
        "{codes:?}"
    );

    // A declared os_version that names another system or Windows version
    // is an error showing both.
    for declared in ["CentOS 7.9 64bit", "Windows Server 2016 Standard 64bit"] {
        let out = imsprep()
            .args([
                "request",
                "--name",
                "w",
                "--image-url",
                "bucket:windows.img",
            ])
            .args(["--image", s(&img), "--os-version", declared])
            .output()
            .unwrap();
        assert_eq!(code(&out), 1, "{declared}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("WIN-OS-VERSION") && stderr.contains(declared),
            "{stderr}"
        );
    }
}
