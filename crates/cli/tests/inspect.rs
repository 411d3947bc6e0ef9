//! `imsprep inspect --json`: the fields scripts rely on.

mod common;

use common::*;
use serde_json::Value;

fn inspect(args: &[&str]) -> (i32, Value) {
    let out = imsprep()
        .arg("inspect")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    (code(&out), json(&out.stdout))
}

#[test]
fn a_bootable_layout_with_empty_file_systems_has_no_guest() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = gpt_disk(dir.path(), "disk.raw") else {
        return;
    };
    let (code, report) = inspect(&[s(&disk)]);
    assert_eq!(report["file"]["format"], "raw");
    assert_eq!(report["file"]["file_size"], 64 * MIB);
    assert_eq!(report["disk_size"], 64 * MIB);
    assert_eq!(report["min_disk"], 1);
    // The layout is fine (only the bitmap is asked for); the guest checks
    // find no operating system in the empty file systems.
    assert_eq!(
        codes(&report["findings"]),
        ["IMAGE-RAW-NEEDS-BITMAP", "IMG-SINGLE-OS"]
    );
    assert_eq!(report["findings"][0]["severity"], "warning");
    assert_eq!(report["findings"][1]["severity"], "error");
    assert_eq!(report["guest"]["system"], serde_json::Value::Null);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["fast_import_ready"], false);

    // Arm boots with UEFI: the ESP is there, so the layout raises nothing more.
    let (_, report) = inspect(&[s(&disk), "--arch", "arm"]);
    assert_eq!(
        codes(&report["findings"]),
        ["IMAGE-RAW-NEEDS-BITMAP", "IMG-SINGLE-OS"]
    );
}

#[test]
fn a_zvhd2_vector_is_a_disk_of_curr_size() {
    let image = fixture("gib-plus-one.zvhd2");
    let (code, report) = inspect(&[s(&image)]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["file"]["format"], "zvhd2");
    assert_eq!(report["disk_size"], 2u64 << 30);
    assert_eq!(report["min_disk"], 2);
    // Test patterns are no bootable system disk.
    assert_eq!(report["fast_import_ready"], false);
    assert!(codes(&report["findings"]).contains(&"DISK-NOT-BOOTABLE".to_string()));

    let (code, report) = inspect(&[s(&image), "--type", "DataImage"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["fast_import_ready"], true);
    assert_eq!(codes(&report["findings"]), Vec::<String>::new());
}

#[test]
fn human_output_names_the_format_and_the_verdict() {
    let out = imsprep()
        .args(["inspect", s(&fixture("mixed.raw"))])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("format:    RAW"), "{text}");
    assert!(text.contains("IMAGE-RAW-ALIGNMENT"), "{text}");
    assert!(text.contains("cannot take this file"), "{text}");
}
