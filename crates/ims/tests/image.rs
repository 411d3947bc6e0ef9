//! Table-driven tests of the image checks, from hand-made facts.

use imsprep_ims::image::{Format, PartitionTable, GIB, MAX_IMAGE_BYTES};
use imsprep_ims::{
    check_image, Architecture, Finding, Firmware, ImageFacts, ImageType, Intent, LayoutFacts,
    RequestBuilder, Severity,
};

fn layout(table: PartitionTable) -> LayoutFacts {
    LayoutFacts {
        table,
        mbr_boot_signature: true,
        gpt_header_crc_ok: true,
        gpt_entries_crc_ok: true,
        gpt_backup_crc_ok: Some(true),
        has_esp: false,
        has_filesystem: true,
        luks_partitions: Vec::new(),
    }
}

/// A 40 GiB RAW system disk with an MBR and a file system.
fn raw() -> ImageFacts {
    let mut f = ImageFacts::new("disk.raw", Format::Raw, 40 * GIB);
    f.layout = Some(layout(PartitionTable::Mbr));
    f
}

fn zvhd2(curr_size: u64) -> ImageFacts {
    let mut f = ImageFacts::new("disk.zvhd2", Format::Zvhd2, 3 * GIB);
    f.disk_size = Some(curr_size);
    f.layout = Some(layout(PartitionTable::Gpt));
    if let Some(l) = f.layout.as_mut() {
        l.has_esp = true;
    }
    f
}

/// Intent with a bitmap named after the image, so RAW cases are quiet.
fn intent() -> Intent {
    Intent {
        min_disk: Some(40),
        image_object: Some("images/disk.raw".into()),
        bitmap_object: Some("images/disk.mf".into()),
        ..Intent::default()
    }
}

fn pairs(f: &[Finding]) -> Vec<(&'static str, &str)> {
    f.iter().map(|f| (f.code.id(), f.path.as_str())).collect()
}

fn codes(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.code.id()).collect()
}

fn fix_of<'a>(f: &'a [Finding], code: &str) -> &'a str {
    f.iter()
        .find(|f| f.code.id() == code)
        .map(|f| f.fix.as_str())
        .unwrap_or("")
}

#[test]
fn good_images_pass() {
    assert!(check_image(&raw(), &intent()).is_empty());
    let z = zvhd2(40 * GIB);
    let i = Intent {
        firmware: Some(Firmware::Uefi),
        ..intent()
    };
    assert!(check_image(&z, &i).is_empty());
    let arm = Intent {
        architecture: Architecture::Arm,
        ..intent()
    };
    assert!(check_image(&z, &arm).is_empty());
}

#[test]
fn formats() {
    let table: &[(Format, &str, &[&str])] = &[
        (Format::Raw, "d.raw", &[]),
        (Format::Zvhd2, "d.zvhd2", &[]),
        (Format::Zvhd, "d.zvhd", &["IMAGE-ZVHD-OLD"]),
        (Format::Qcow2, "d.qcow2", &["IMAGE-FORMAT-CONVERT"]),
        (Format::Vmdk, "d.vmdk", &["IMAGE-FORMAT-CONVERT"]),
        (Format::Vhd, "d.vhd", &["IMAGE-FORMAT-CONVERT"]),
        (Format::Vhdx, "d.vhdx", &["IMAGE-FORMAT-CONVERT"]),
        (Format::Vdi, "d.vdi", &["IMAGE-FORMAT-CONVERT"]),
        (Format::Qed, "d.qed", &["IMAGE-FORMAT-CONVERT"]),
        (Format::Iso9660, "d.iso", &["IMAGE-ISO"]),
        (Format::Luks, "d.luks", &["IMAGE-ENCRYPTED"]),
        (Format::Gzip, "d.gz", &["IMAGE-ARCHIVE"]),
        (Format::Xz, "d.xz", &["IMAGE-ARCHIVE"]),
        (Format::Zstd, "d.zst", &["IMAGE-ARCHIVE"]),
        (Format::Bzip2, "d.bz2", &["IMAGE-ARCHIVE"]),
        (Format::Zip, "d.zip", &["IMAGE-ARCHIVE"]),
        (Format::Tar, "d.tar", &["IMAGE-ARCHIVE"]),
    ];
    for (format, name, want) in table {
        let mut f = ImageFacts::new(*name, *format, 10 * GIB);
        f.disk_size = Some(10 * GIB);
        let got = check_image(&f, &intent());
        assert_eq!(codes(&got), *want, "{format:?}");
        assert!(got.iter().all(|f| f.path == "image"));
    }
}

#[test]
fn conversion_commands_name_the_files() {
    let f = ImageFacts::new("vm/disk.qcow2", Format::Qcow2, GIB);
    let got = check_image(&f, &intent());
    let fix = fix_of(&got, "IMAGE-FORMAT-CONVERT");
    assert!(
        fix.contains("qemu-img convert -f qcow2 -O raw vm/disk.qcow2 vm/disk.raw"),
        "{fix}"
    );
    assert!(
        fix.contains("imsprep convert vm/disk.raw vm/disk.zvhd2"),
        "{fix}"
    );
    assert_eq!(got[0].code.service_code(), Some("IMG.0158"));

    let f = ImageFacts::new("my disk.vhd", Format::Vhd, GIB);
    let fix = check_image(&f, &intent()).remove(0).fix;
    assert!(
        fix.contains("-f vpc -O raw 'my disk.vhd' 'my disk.raw'"),
        "{fix}"
    );

    let f = ImageFacts::new("d.raw.gz", Format::Gzip, GIB);
    assert!(fix_of(&check_image(&f, &intent()), "IMAGE-ARCHIVE").contains("gzip -dk d.raw.gz"));

    let mut f = ImageFacts::new("vm.ova", Format::Tar, GIB);
    f.ova = true;
    let got = check_image(&f, &intent());
    assert!(got[0].message.contains("OVA"));
    assert!(
        got[0].fix.contains("tar -xf vm.ova") && got[0].fix.contains("qemu-img convert -f vmdk")
    );

    let f = ImageFacts::new("old.zvhd", Format::Zvhd, GIB);
    assert!(fix_of(&check_image(&f, &intent()), "IMAGE-ZVHD-OLD")
        .contains("imsprep convert old.raw old.zvhd2"));
}

#[test]
fn raw_needs_bitmap_named_after_it() {
    let none = Intent {
        bitmap_object: None,
        ..intent()
    };
    let got = check_image(&raw(), &none);
    assert_eq!(pairs(&got), [("IMAGE-RAW-NEEDS-BITMAP", "image")]);
    assert_eq!(got[0].severity, Severity::Warning);
    assert!(got[0].fix.contains("imsprep bitmap disk.raw"));
    assert!(got[0].fix.contains("imsprep convert disk.raw disk.zvhd2"));

    let table = [
        ("images/disk.raw", "images/disk.mf", true),
        ("disk.raw", "disk.mf", true),
        ("disk", "disk.mf", true),
        ("a.b/disk.raw", "a.b/disk.mf", true),
        ("images/disk.raw", "disk.mf", false),
        ("images/disk.raw", "images/disk.raw.mf", false),
        ("images/disk.raw", "images/disk.MF", false),
        ("images/disk.raw", "images/disk2.mf", false),
    ];
    for (image, bitmap, ok) in table {
        let i = Intent {
            image_object: Some(image.into()),
            bitmap_object: Some(bitmap.into()),
            ..intent()
        };
        let got = check_image(&raw(), &i);
        if ok {
            assert!(got.is_empty(), "{image} {bitmap}: {got:?}");
        } else {
            assert_eq!(
                pairs(&got),
                [("IMAGE-BITMAP-NAME", "bitmap")],
                "{image} {bitmap}"
            );
        }
    }
    // A ZVHD2 needs no bitmap at all.
    assert!(check_image(&zvhd2(40 * GIB), &none).is_empty());
}

#[test]
fn raw_alignment() {
    for (size, bad) in [
        (40 * GIB, false),
        (40 * GIB + 512, false),
        (40 * GIB - 1, true),
        (513, true),
    ] {
        let mut f = raw();
        f.file_size = size;
        f.disk_size = Some(size);
        let got = codes(&check_image(
            &f,
            &Intent {
                min_disk: Some(1024),
                ..intent()
            },
        ));
        assert_eq!(got.contains(&"IMAGE-RAW-ALIGNMENT"), bad, "{size}: {got:?}");
    }
}

#[test]
fn sizes_and_min_disk() {
    // (disk bytes, min_disk, expected codes)
    let table: &[(u64, u32, &[&str])] = &[
        (40 * GIB, 40, &[]),
        (40 * GIB, 39, &["IMAGE-MIN-DISK-SMALL"]),
        (40 * GIB + 512, 40, &["IMAGE-MIN-DISK-SMALL"]),
        (40 * GIB + 512, 41, &[]),
        (512, 1, &[]),
        (MAX_IMAGE_BYTES, 1024, &[]),
        (
            MAX_IMAGE_BYTES + 512,
            1024,
            &["IMAGE-FILE-TOO-LARGE", "IMAGE-DISK-TOO-LARGE"],
        ),
    ];
    for (disk, min_disk, want) in table {
        let mut f = raw();
        f.file_size = *disk;
        f.disk_size = Some(*disk);
        let got = check_image(
            &f,
            &Intent {
                min_disk: Some(*min_disk),
                ..intent()
            },
        );
        assert_eq!(codes(&got), *want, "{disk} {min_disk}");
    }
    let mut f = raw();
    f.disk_size = Some(40 * GIB + 1);
    f.file_size = 40 * GIB;
    let got = check_image(&f, &intent());
    assert_eq!(pairs(&got), [("IMAGE-MIN-DISK-SMALL", "$.min_disk")]);
    assert!(got[0].fix.contains("41"), "{}", got[0].fix);
}

#[test]
fn zvhd2_min_disk_uses_curr_size() {
    let z = zvhd2(50 * GIB);
    let got = check_image(&z, &intent());
    assert_eq!(pairs(&got), [("IMAGE-MIN-DISK-SMALL", "$.min_disk")]);
    assert!(got[0].fix.contains("50"));
    // The virtual disk limit applies to curr_size, not to the (small) file.
    let got = check_image(
        &zvhd2(MAX_IMAGE_BYTES + GIB),
        &Intent {
            min_disk: None,
            ..intent()
        },
    );
    assert_eq!(codes(&got), ["IMAGE-DISK-TOO-LARGE"]);
}

#[test]
fn damaged_zvhd2() {
    let mut z = zvhd2(40 * GIB);
    z.zvhd2_problem = Some("block index entry 3 points past the end".into());
    if let Some(l) = z.layout.as_mut() {
        l.has_esp = false;
    }
    let got = check_image(
        &z,
        &Intent {
            firmware: Some(Firmware::Uefi),
            ..intent()
        },
    );
    // The layout of a damaged file is not judged.
    assert_eq!(codes(&got), ["ZVHD2-STRUCTURE"]);
    assert!(got[0].message.contains("block index entry 3"));
}

#[test]
fn ambiguous_is_refused() {
    let mut f = ImageFacts::new("d.qcow2", Format::Qcow2, GIB);
    f.ambiguous = vec![Format::Qcow2, Format::Vmdk];
    let got = check_image(&f, &intent());
    assert_eq!(codes(&got), ["IMAGE-AMBIGUOUS"]);
    assert!(got[0].message.contains("QCOW2") && got[0].message.contains("VMDK"));
}

#[test]
fn extension_mismatch_and_refs_and_encryption() {
    let mut f = raw();
    f.file_name = "disk.qcow2".into();
    f.extension = Some("qcow2".into());
    f.extension_format = Some(Format::Qcow2);
    let got = check_image(
        &f,
        &Intent {
            image_object: Some("disk.qcow2".into()),
            bitmap_object: Some("disk.mf".into()),
            ..intent()
        },
    );
    // A name that promises QCOW2 over bytes that show no format: refused.
    assert_eq!(codes(&got), ["IMAGE-NAME-CONTRADICTS"]);
    assert_eq!(got[0].severity, Severity::Error);
    assert!(
        got[0].message.contains("no QCOW2 signature"),
        "{}",
        got[0].message
    );

    // A real QCOW2 under a RAW name is read by its content, with a warning.
    let mut f = ImageFacts::new("disk.raw", Format::Qcow2, GIB);
    f.disk_size = Some(GIB);
    let got = check_image(&f, &intent());
    assert!(codes(&got).contains(&"IMAGE-EXTENSION-MISMATCH"));
    let mismatch = got
        .iter()
        .find(|f| f.code.id() == "IMAGE-EXTENSION-MISMATCH")
        .unwrap();
    assert_eq!(mismatch.severity, Severity::Warning);
    assert!(mismatch.fix.contains("disk.qcow2"), "{}", mismatch.fix);

    let mut f = ImageFacts::new("d.qcow2", Format::Qcow2, GIB);
    f.external_refs = vec!["backing file \"base.qcow2\"".into()];
    f.encrypted = true;
    let got = check_image(&f, &intent());
    assert_eq!(
        codes(&got),
        [
            "IMAGE-FORMAT-CONVERT",
            "IMAGE-EXTERNAL-REF",
            "IMAGE-ENCRYPTED"
        ]
    );
    assert!(got[1].message.contains("base.qcow2"));
}

#[test]
fn empty_file() {
    let f = ImageFacts::new("d.raw", Format::Raw, 0);
    assert_eq!(codes(&check_image(&f, &intent())), ["IMAGE-EMPTY"]);
}

#[test]
fn partition_tables_and_boot() {
    struct Case {
        label: &'static str,
        table: PartitionTable,
        esp: bool,
        fs: bool,
        mbr_sig: bool,
        gpt_ok: (bool, bool, Option<bool>),
        ty: ImageType,
        arch: Architecture,
        fw: Option<Firmware>,
        want: &'static [&'static str],
    }
    let base = Case {
        label: "",
        table: PartitionTable::Mbr,
        esp: false,
        fs: true,
        mbr_sig: true,
        gpt_ok: (true, true, Some(true)),
        ty: ImageType::Ecs,
        arch: Architecture::X86,
        fw: None,
        want: &[],
    };
    use Architecture::*;

    let cases = [
        Case {
            label: "mbr bios",
            ..base
        },
        Case {
            label: "no table, bare fs",
            table: PartitionTable::None,
            ..base
        },
        Case {
            label: "nothing",
            table: PartitionTable::None,
            fs: false,
            want: &["DISK-NOT-BOOTABLE"],
            ..base
        },
        Case {
            label: "nothing, BMS",
            table: PartitionTable::None,
            fs: false,
            ty: ImageType::Bms,
            want: &["DISK-NOT-BOOTABLE"],
            ..base
        },
        Case {
            label: "nothing, data disk",
            table: PartitionTable::None,
            fs: false,
            ty: ImageType::DataImage,
            ..base
        },
        Case {
            label: "mbr no signature",
            mbr_sig: false,
            want: &["DISK-MBR-SIGNATURE"],
            ..base
        },
        Case {
            label: "mbr no signature, data",
            mbr_sig: false,
            ty: ImageType::DataImage,
            ..base
        },
        Case {
            label: "gpt bios",
            table: PartitionTable::Gpt,
            ..base
        },
        Case {
            label: "gpt uefi esp",
            table: PartitionTable::Gpt,
            esp: true,
            fw: Some(Firmware::Uefi),
            ..base
        },
        Case {
            label: "gpt uefi no esp",
            table: PartitionTable::Gpt,
            fw: Some(Firmware::Uefi),
            want: &["DISK-NO-ESP"],
            ..base
        },
        Case {
            label: "gpt arm no esp",
            table: PartitionTable::Gpt,
            arch: Arm,
            want: &["DISK-NO-ESP"],
            ..base
        },
        Case {
            label: "gpt arm bios asked",
            table: PartitionTable::Gpt,
            arch: Arm,
            fw: Some(Firmware::Bios),
            want: &["DISK-NO-ESP"],
            ..base
        },
        Case {
            label: "mbr uefi esp",
            esp: true,
            fw: Some(Firmware::Uefi),
            want: &["DISK-MBR-UEFI"],
            ..base
        },
        Case {
            label: "mbr uefi no esp",
            fw: Some(Firmware::Uefi),
            want: &["DISK-MBR-UEFI", "DISK-NO-ESP"],
            ..base
        },
        Case {
            label: "gpt header crc",
            table: PartitionTable::Gpt,
            gpt_ok: (false, true, Some(true)),
            want: &["DISK-GPT-CRC"],
            ..base
        },
        Case {
            label: "gpt entries crc",
            table: PartitionTable::Gpt,
            gpt_ok: (true, false, Some(true)),
            want: &["DISK-GPT-CRC"],
            ..base
        },
        Case {
            label: "gpt backup crc",
            table: PartitionTable::Gpt,
            gpt_ok: (true, true, Some(false)),
            want: &["DISK-GPT-CRC"],
            ..base
        },
        Case {
            label: "gpt no backup",
            table: PartitionTable::Gpt,
            gpt_ok: (true, true, None),
            ..base
        },
        Case {
            label: "gpt crc, data disk",
            table: PartitionTable::Gpt,
            gpt_ok: (false, true, Some(true)),
            ty: ImageType::DataImage,
            want: &["DISK-GPT-CRC"],
            ..base
        },
    ];
    for c in cases {
        let mut f = raw();
        f.layout = Some(LayoutFacts {
            table: c.table,
            mbr_boot_signature: c.mbr_sig,
            gpt_header_crc_ok: c.gpt_ok.0,
            gpt_entries_crc_ok: c.gpt_ok.1,
            gpt_backup_crc_ok: c.gpt_ok.2,
            has_esp: c.esp,
            has_filesystem: c.fs,
            luks_partitions: Vec::new(),
        });
        let i = Intent {
            image_type: c.ty,
            architecture: c.arch,
            firmware: c.fw,
            ..intent()
        };
        let got = check_image(&f, &i);
        assert_eq!(codes(&got), c.want, "{}", c.label);
        assert!(got.iter().all(|f| f.path == "image"), "{}", c.label);
    }
}

#[test]
fn luks_partition_is_reported() {
    let mut f = raw();
    if let Some(l) = f.layout.as_mut() {
        l.luks_partitions = vec![2];
    }
    let got = check_image(&f, &intent());
    assert_eq!(codes(&got), ["IMAGE-ENCRYPTED"]);
    assert!(got[0].message.contains("partition 2"));
}

#[test]
fn intent_from_request() {
    let r = RequestBuilder::new("n", "bkt:dir/disk.raw", 20)
        .os_version("EulerOS 2.9 64bit")
        .architecture(Architecture::Arm)
        .build();
    let i = Intent::from_request(&r);
    assert_eq!(i.architecture, Architecture::Arm);
    assert_eq!(i.effective_firmware(), Firmware::Uefi);
    assert_eq!(i.min_disk, Some(20));
    assert_eq!(i.image_object.as_deref(), Some("dir/disk.raw"));
    assert_eq!(i.image_type, ImageType::Ecs);
}
