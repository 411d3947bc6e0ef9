//! `imsprep prepare`: the upload sets it writes for RAW and ZVHD2 images,
//! checked field by field against values computed here, and what it refuses.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Reads a JSON file of an upload set.
fn read_json(path: &Path) -> Value {
    json(&fs::read(path).expect("read JSON file"))
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Checks one `files` entry of a manifest against the file it names.
fn check_entry(entry: &Value, set: &Path, role: &str, path: &Path, shown: &str, object: &str) {
    assert_eq!(entry["role"], role);
    assert_eq!(entry["path"], shown);
    assert_eq!(entry["object"], object);
    let size = fs::metadata(path).expect("listed file exists").len();
    assert_eq!(entry["size"], size, "size of {shown}");
    let crc = entry["crc32"].as_str().expect("crc32 string");
    assert_eq!(crc.len(), 8, "{crc}");
    assert!(
        crc.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "crc32 must be lowercase hex: {crc}"
    );
    assert_eq!(crc, format!("{:08x}", crc32_of(path)), "crc32 of {shown}");
    // A relative path is relative to the set's folder.
    if !Path::new(shown).is_absolute() {
        assert_eq!(set.join(shown), path);
    }
}

fn verify_manifest(set: &Path) -> std::process::Output {
    imsprep()
        .args(["verify", "--manifest", s(&set.join("manifest.json"))])
        .output()
        .expect("run")
}

fn assert_mismatch(set: &Path, what: &str) {
    let out = verify_manifest(set);
    assert_eq!(code(&out), 1, "{what}: {out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("MANIFEST-MISMATCH"), "{what}: {stdout}");
    let out = imsprep()
        .args([
            "verify",
            "--json",
            "--manifest",
            s(&set.join("manifest.json")),
        ])
        .output()
        .expect("run");
    assert_eq!(code(&out), 1);
    let report = json(&out.stdout);
    assert_eq!(report["sound"], false);
    assert_eq!(codes(&report["findings"]), ["MANIFEST-MISMATCH"], "{what}");
}

#[test]
fn raw_with_partitions_gets_a_bitmap_and_a_checked_set() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = gpt_disk(dir.path(), "disk.raw") else {
        return;
    };
    let before = print(&disk);
    let set = dir.path().join("set");
    let out = imsprep()
        .args(["prepare", s(&disk), "--name", "web-server", "--os-version"])
        .args([OS_VERSION, "--bucket", BUCKET, "--prefix", "images/2024"])
        .args(["--out", s(&set), "--accept", "IMG-SINGLE-OS"])
        .output()
        .expect("run");
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(print(&disk), before, "the input changed");
    assert_eq!(names(&set), ["disk.mf", "manifest.json", "request.json"]);

    let manifest = read_json(&set.join("manifest.json"));
    assert_eq!(manifest["imsprep_version"], env!("CARGO_PKG_VERSION"));
    // The empty file systems hold no system; the finding was accepted.
    assert_eq!(codes(&manifest["accepted"]), ["IMG-SINGLE-OS"]);
    assert_eq!(manifest["format"], "raw");
    assert_eq!(manifest["disk_size"], 64 * MIB);
    assert_eq!(
        manifest["image_url"],
        format!("{BUCKET}:images/2024/disk.raw")
    );
    assert_eq!(manifest["min_disk"], 1);
    let reason = manifest["min_disk_reason"].as_str().unwrap();
    assert!(reason.contains(&(64 * MIB).to_string()), "{reason}");
    assert_eq!(manifest["request"], "request.json");
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    check_entry(
        &files[0],
        &set,
        "image",
        &disk,
        s(&disk),
        "images/2024/disk.raw",
    );
    check_entry(
        &files[1],
        &set,
        "bitmap",
        &set.join("disk.mf"),
        "disk.mf",
        "images/2024/disk.mf",
    );
    // The set is complete, so the bitmap needs no mention; a known OS
    // version and a bootable disk leave nothing to say.
    assert_eq!(codes(&manifest["findings"]), Vec::<String>::new());

    let request = read_json(&set.join("request.json"));
    assert_eq!(
        keys(&request),
        ["image_url", "min_disk", "name", "os_version", "type"]
    );
    assert_eq!(request["name"], "web-server");
    assert_eq!(request["os_version"], OS_VERSION);
    assert_eq!(request["image_url"], manifest["image_url"]);
    assert_eq!(request["min_disk"], 1);
    assert_eq!(request["type"], "ECS");

    imsprep()
        .args(["verify", s(&disk), "--bitmap", s(&set.join("disk.mf"))])
        .assert()
        .code(0);
    let out = verify_manifest(&set);
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(print(&disk), before, "the input changed");

    // Damage the set: the manifest check must notice every kind.
    let bitmap = set.join("disk.mf");
    let good = fs::read(&bitmap).unwrap();
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    fs::write(&bitmap, &flipped).unwrap();
    assert_mismatch(&set, "a flipped byte");
    fs::write(&bitmap, &good[..good.len() - 1]).unwrap();
    assert_mismatch(&set, "a truncated bitmap");
    fs::remove_file(&bitmap).unwrap();
    assert_mismatch(&set, "a missing bitmap");
    fs::write(&bitmap, &good).unwrap();
    assert_eq!(code(&verify_manifest(&set)), 0);
}

#[test]
fn raw_converted_to_zvhd2_makes_a_zvhd2_set() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = gpt_disk(dir.path(), "disk.raw") else {
        return;
    };
    let before = print(&disk);
    let set = dir.path().join("set");
    let out = imsprep()
        .args(["prepare", s(&disk), "--zvhd2", "--name", "web-server"])
        .args(["--os-version", OS_VERSION, "--bucket", BUCKET])
        .args(["--out", s(&set), "--json", "--accept", "img-single-os"])
        .output()
        .expect("run");
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(print(&disk), before, "the input changed");
    assert_eq!(names(&set), ["disk.zvhd2", "manifest.json", "request.json"]);

    // --json prints what the files hold.
    let printed = json(&out.stdout);
    let manifest = read_json(&set.join("manifest.json"));
    let request = read_json(&set.join("request.json"));
    assert_eq!(printed["manifest"], manifest);
    assert_eq!(printed["request"], request);

    assert_eq!(manifest["format"], "zvhd2");
    // The disk of a ZVHD2 is its curr_size: the RAW rounded up to 1 GiB.
    assert_eq!(manifest["disk_size"], 1u64 << 30);
    assert_eq!(manifest["image_url"], format!("{BUCKET}:disk.zvhd2"));
    assert_eq!(manifest["min_disk"], 1);
    assert!(manifest["min_disk_reason"]
        .as_str()
        .unwrap()
        .contains("curr_size"));
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    let zvhd2 = set.join("disk.zvhd2");
    check_entry(&files[0], &set, "image", &zvhd2, "disk.zvhd2", "disk.zvhd2");
    // No advice about bitmaps for a set that has no RAW file in it.
    assert_eq!(codes(&manifest["findings"]), Vec::<String>::new());
    assert_eq!(
        keys(&request),
        ["image_url", "min_disk", "name", "os_version", "type"]
    );
    assert_eq!(request["image_url"], manifest["image_url"]);
    assert_eq!(request["min_disk"], 1);
    assert_eq!(request["type"], "ECS");

    imsprep()
        .args(["verify", s(&zvhd2), "--against", s(&disk)])
        .assert()
        .code(0);
    assert_eq!(code(&verify_manifest(&set)), 0);
    let len = fs::metadata(&zvhd2).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&zvhd2)
        .unwrap()
        .set_len(len - 4096)
        .unwrap();
    assert_mismatch(&set, "a truncated ZVHD2");
    assert_eq!(print(&disk), before, "the input changed");
}

#[test]
fn unaligned_raw_can_be_prepared_by_conversion() {
    // A RAW of a size that is not whole sectors cannot be uploaded as it is,
    // but the conversion pads it, so the set is fine.
    let dir = tempfile::tempdir().unwrap();
    let raw = copy_fixture(dir.path(), "mixed.raw");
    let set = dir.path().join("set");
    let base = ["prepare", s(&raw), "--name", "data", "--os-type", "Linux"];
    let out = imsprep()
        .args(base)
        .args(["--bucket", BUCKET, "--out", s(&set)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("IMAGE-RAW-ALIGNMENT"), "{stdout}");
    assert!(!set.exists());

    let out = imsprep()
        .args(base)
        .args(["--zvhd2", "--bucket", BUCKET, "--out", s(&set)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    let manifest = read_json(&set.join("manifest.json"));
    assert_eq!(codes(&manifest["findings"]), Vec::<String>::new());
    let request = read_json(&set.join("request.json"));
    // --os-type makes a data-disk request.
    assert_eq!(request["type"], "DataImage");
    assert_eq!(request["os_type"], "Linux");
    imsprep()
        .args(["verify", s(&set.join("mixed.zvhd2")), "--against", s(&raw)])
        .assert()
        .code(0);
}

#[test]
fn zvhd2_without_partitions_is_refused_as_system_disk_and_taken_as_data_disk() {
    let dir = tempfile::tempdir().unwrap();
    let image = copy_fixture(dir.path(), "gib-plus-one.zvhd2");
    let before = print(&image);
    let set = dir.path().join("set");

    // Huawei's vectors hold test patterns, not a disk with a partition table.
    let out = imsprep()
        .args([
            "prepare",
            s(&image),
            "--name",
            "sys",
            "--os-version",
            OS_VERSION,
        ])
        .args(["--bucket", BUCKET, "--out", s(&set)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("DISK-NOT-BOOTABLE"), "{stdout}");
    assert!(stdout.contains("nothing was written"), "{stdout}");
    assert!(!set.exists(), "a refused run created {}", set.display());
    let out = imsprep()
        .args([
            "prepare",
            s(&image),
            "--name",
            "sys",
            "--os-version",
            OS_VERSION,
        ])
        .args(["--bucket", BUCKET, "--out", s(&set), "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "{out:?}");
    let refusal = json(&out.stdout);
    assert_eq!(refusal["prepared"], false);
    assert!(codes(&refusal["findings"]).contains(&"DISK-NOT-BOOTABLE".to_string()));
    assert!(!set.exists());

    let out = imsprep()
        .args([
            "prepare",
            s(&image),
            "--name",
            "data-disk",
            "--type",
            "DataImage",
        ])
        .args(["--os-type", "Linux", "--bucket", BUCKET, "--out", s(&set)])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(print(&image), before, "the input changed");
    assert_eq!(names(&set), ["manifest.json", "request.json"]);
    let manifest = read_json(&set.join("manifest.json"));
    assert_eq!(manifest["format"], "zvhd2");
    assert_eq!(manifest["disk_size"], 2u64 << 30, "curr_size of the vector");
    assert_eq!(manifest["min_disk"], 2);
    assert_eq!(
        manifest["image_url"],
        format!("{BUCKET}:gib-plus-one.zvhd2")
    );
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    // Used where it is: the manifest names it by its absolute path.
    check_entry(
        &files[0],
        &set,
        "image",
        &image,
        s(&image),
        "gib-plus-one.zvhd2",
    );
    let request = read_json(&set.join("request.json"));
    assert_eq!(
        keys(&request),
        ["image_url", "min_disk", "name", "os_type", "type"]
    );
    assert_eq!(request["name"], "data-disk");
    assert_eq!(request["os_type"], "Linux");
    assert_eq!(request["type"], "DataImage");
    assert_eq!(request["min_disk"], 2);
    assert_eq!(request["image_url"], manifest["image_url"]);
    assert_eq!(code(&verify_manifest(&set)), 0);
    assert_eq!(print(&image), before, "the input changed");
}

#[test]
fn a_qcow2_is_converted_to_zvhd2_or_copied_to_raw() {
    let dir = tempfile::tempdir().unwrap();
    let Some(qemu_img) = tool("qemu-img") else {
        return;
    };
    let raw = dir.path().join("src.raw");
    sparse_file(&raw, 8 * MIB, &[(0, MIB)], 7);
    let qcow2 = dir.path().join("disk.qcow2");
    run_tool(
        &qemu_img,
        &["convert", "-f", "raw", "-O", "qcow2", s(&raw), s(&qcow2)],
        None,
    );
    let before = print(&qcow2);
    for (flag, format) in [(None, "zvhd2"), (Some("--raw"), "raw")] {
        let set = dir.path().join(format!("set-{format}"));
        let mut cmd = imsprep();
        cmd.current_dir(dir.path())
            .args(["prepare", "disk.qcow2", "--name", "x", "--os-type", "Linux"])
            .args(["--bucket", BUCKET, "--out", s(&set), "--json"]);
        if let Some(flag) = flag {
            cmd.arg(flag);
        }
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 0, "{out:?}");
        let report = json(&out.stdout);
        assert_eq!(report["manifest"]["format"], format);
        // No finding about the qcow2 itself: the set holds what was written.
        let findings = &report["manifest"]["findings"];
        assert!(!codes(findings).contains(&"IMAGE-FORMAT-CONVERT".to_string()));
        let image = set.join(report["manifest"]["files"][0]["object"].as_str().unwrap());
        if format == "zvhd2" {
            imsprep()
                .args(["verify", s(&image), "--against", s(&raw)])
                .assert()
                .code(0);
        } else {
            assert!(fs::read(&image).unwrap() == fs::read(&raw).unwrap());
        }
        imsprep()
            .args(["verify", "--manifest", s(&set.join("manifest.json"))])
            .assert()
            .code(0);
    }
    assert_eq!(print(&qcow2), before, "the input is never changed");
}

#[test]
fn a_second_run_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("data.raw");
    sparse_file(&raw, 16 * MIB, &[(0, MIB), (5 * MIB, 2 * MIB)], 3);
    let set = dir.path().join("set");
    let run = |force: bool| {
        let mut cmd = imsprep();
        cmd.args(["prepare", s(&raw), "--name", "data", "--os-type", "Linux"])
            .args(["--bucket", BUCKET, "--out", s(&set)]);
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    assert_eq!(code(&run(false)), 0);
    let input = print(&raw);
    let first = prints(&set);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["data.mf", "manifest.json", "request.json"]
    );
    // Let a rewrite show in the mtimes, however coarse the clock.
    std::thread::sleep(std::time::Duration::from_millis(20));

    let out = run(false);
    assert_eq!(code(&out), 2, "{out:?}");
    assert_one_error_line(&out.stderr, "--force");
    assert_eq!(prints(&set), first, "a refused run changed the set");
    assert_eq!(print(&raw), input);

    let out = run(true);
    assert_eq!(code(&out), 0, "{out:?}");
    let second = prints(&set);
    assert_eq!(
        second.keys().collect::<Vec<_>>(),
        first.keys().collect::<Vec<_>>()
    );
    for (name, p) in &second {
        assert_eq!(p.crc, first[name].crc, "{name} differs after --force");
    }
    assert_eq!(print(&raw), input);
    assert_eq!(code(&verify_manifest(&set)), 0);
}

#[test]
fn link_puts_the_image_in_the_set_but_never_replaces_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    fs::create_dir(&set).unwrap();
    let raw = set.join("d.raw");
    sparse_file(&raw, 8 * MIB, &[(0, MIB)], 12);
    let before = print(&raw);
    let args = ["--name", "d", "--os-type", "Linux", "--bucket", BUCKET];
    // The image already is where --link would put it: with or without
    // --force, it is refused and left alone.
    for force in [false, true] {
        let mut cmd = imsprep();
        cmd.args(["prepare", s(&raw), "--link", "--out", s(&set)])
            .args(args);
        if force {
            cmd.arg("--force");
        }
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 2, "{out:?}");
        assert_one_error_line(&out.stderr, "is the input file");
        assert_eq!(names(&set), ["d.raw"]);
        assert_eq!(print(&raw), before);
    }

    // Into another folder: a hard link, named in the manifest by its
    // place in the set; --force replaces the link, not the image.
    let other = dir.path().join("other");
    for force in [false, true] {
        let mut cmd = imsprep();
        cmd.args(["prepare", s(&raw), "--link", "--out", s(&other)])
            .args(args);
        if force {
            cmd.arg("--force");
        }
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 0, "{out:?}");
        assert_eq!(
            names(&other),
            ["d.mf", "d.raw", "manifest.json", "request.json"]
        );
        let manifest = read_json(&other.join("manifest.json"));
        check_entry(
            &manifest["files"][0],
            &other,
            "image",
            &other.join("d.raw"),
            "d.raw",
            "d.raw",
        );
        assert_eq!(print(&raw), before);
        assert_eq!(code(&verify_manifest(&other)), 0);
    }
}

#[test]
fn an_oversized_or_broken_manifest_is_refused_by_name() {
    // Exit 1: the input is unfit (as for any bad input), not unreadable.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("manifest.json");
    // Sparse: the refusal must come from the size limit, not from parsing.
    fs::File::create(&big).unwrap().set_len(5 << 20).unwrap();
    let out = verify_manifest(dir.path());
    assert_eq!(code(&out), 1, "{out:?}");
    assert_one_error_line(&out.stderr, "larger than 4 MiB, too large for a manifest");

    fs::write(&big, b"{\"files\": 3}").unwrap();
    let out = verify_manifest(dir.path());
    assert_eq!(code(&out), 1, "{out:?}");
    assert_one_error_line(&out.stderr, "manifest.json: not an imsprep manifest");
}
