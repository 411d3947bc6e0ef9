//! The guest checks in `inspect`, `prepare` and `request`: a small Debian
//! system disk made by sfdisk and `mkfs.ext4 -d` (the guest crate's test
//! support), as it is and with things broken.

mod common;

use std::fs;

use common::*;
use imsprep_guest::test_support::linux_disk;

#[test]
fn inspect_identifies_the_guest_and_prepare_fills_in_the_os_version() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = linux_disk(dir.path(), "debian.raw") else {
        return;
    };
    let out = imsprep()
        .args(["inspect", "--json", "--cloud", "huaweicloud", s(&disk.path)])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    assert_eq!(report["guest"]["system"], "linux", "{report}");
    assert_eq!(report["guest"]["root"], "/dev/vda1");
    assert_eq!(report["guest"]["architecture"], "x86");
    assert_eq!(
        report["guest"]["os_version"],
        "Debian GNU/Linux 12.0.0 64bit"
    );
    // The tiny tree has no boot loader or initramfs: those checks fail.
    let found = codes(&report["findings"]);
    for code in ["LX-BOOTLOADER", "LX-VIRTIO-INITRD"] {
        assert!(found.iter().any(|c| c == code), "{code} in {found:?}");
    }
    assert_eq!(code(&out), 1);

    // prepare stops on the guest's errors, and names them.
    let set = dir.path().join("set");
    let args = |extra: &[&str]| {
        let mut v: Vec<String> = [
            "prepare",
            s(&disk.path),
            "--name",
            "debian",
            "--bucket",
            BUCKET,
            "--out",
            s(&set),
            "--json",
            "--cloud",
            "huaweicloud",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        v.extend(extra.iter().map(|a| a.to_string()));
        v
    };
    let out = imsprep().args(args(&[])).output().unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    let refusal = json(&out.stdout);
    assert_eq!(refusal["prepared"], false);
    assert_eq!(refusal["guest"]["system"], "linux");
    assert!(!set.exists());

    // Every error the user judged is accepted by code; the request carries
    // the guest's os_version, and the manifest records what was accepted.
    let errors: Vec<String> = refusal["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    let mut extra = Vec::new();
    for code in &errors {
        extra.push("--accept");
        extra.push(code.as_str());
    }
    let out = imsprep().args(args(&extra)).output().unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let done = json(&out.stdout);
    assert_eq!(
        done["request"]["os_version"],
        "Debian GNU/Linux 12.0.0 64bit"
    );
    let accepted = codes(&done["manifest"]["accepted"]);
    for code in &errors {
        assert!(
            accepted.contains(code),
            "{code} not recorded in {accepted:?}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(set.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(codes(&manifest["accepted"]).len(), accepted.len());
}

#[test]
fn a_declared_os_version_that_contradicts_the_guest_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = linux_disk(dir.path(), "debian.raw") else {
        return;
    };
    let out = imsprep()
        .args([
            "request",
            "--name",
            "x",
            "--image-url",
            "bucket:debian.raw",
            "--image",
            s(&disk.path),
            "--os-version",
            "CentOS 7.9 64bit",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LX-OS-VERSION-DECLARED"), "{stderr}");
    assert!(
        stderr.contains("CentOS 7.9 64bit") && stderr.contains("Debian"),
        "{stderr}"
    );
}

#[test]
fn a_data_disk_gets_no_guest_checks() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = linux_disk(dir.path(), "data.raw") else {
        return;
    };
    let out = imsprep()
        .args(["inspect", "--json", "--type", "DataImage", s(&disk.path)])
        .output()
        .unwrap();
    let report = json(&out.stdout);
    let found = codes(&report["findings"]);
    assert!(!found.iter().any(|c| c.starts_with("LX-")), "{found:?}");
    // What the guest is is still told.
    assert_eq!(report["guest"]["system"], "linux");
}
