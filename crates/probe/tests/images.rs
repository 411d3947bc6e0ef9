//! Image formats made by the real tools (qemu-img, compressors, tar) are
//! recognised from their bytes, with header facts and unsafe references.

mod common;

use common::{p, run, s, tool};
use imsprep_probe::{inspect, Format, FormatDetail, ReferenceKind, VhdDiskType, VmdkKind};

const MIB: u64 = 1024 * 1024;

fn qemu_create(
    dir: &std::path::Path,
    fmt: &str,
    name: &str,
    extra: &[&str],
) -> Option<std::path::PathBuf> {
    let qemu = tool("qemu-img")?;
    let path = p(dir, name);
    let mut args = vec!["create", "-q", "-f", fmt];
    args.extend_from_slice(extra);
    args.push(s(&path));
    args.push("64M");
    run(&qemu, &args);
    Some(path)
}

#[test]
fn qcow2_plain() {
    let dir = tempfile::tempdir().unwrap();
    let Some(path) = qemu_create(dir.path(), "qcow2", "a.qcow2", &[]) else {
        return;
    };
    let r = inspect(&path).unwrap();
    assert_eq!(r.format, Format::Qcow2);
    assert!(r.ambiguous.is_empty());
    assert!(!r.name_mismatch);
    assert_eq!(r.virtual_size, Some(64 * MIB));
    assert!(r.unsafe_references.is_empty());
    // The virtual disk is read through the qcow2 backend: empty, 64 MiB.
    let layout = r.layout.as_ref().expect("qcow2 layout");
    assert_eq!(layout.disk_size, 64 * MIB);
    let FormatDetail::Qcow2(q) = &r.detail else {
        panic!("detail {:?}", r.detail)
    };
    assert_eq!(q.version, 3);
    assert_eq!(q.cluster_bits, 16);
    assert!(!q.encrypted);
    assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
}

#[test]
fn qcow2_renamed_raw_is_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let Some(path) = qemu_create(dir.path(), "qcow2", "disk.raw", &["-o", "compat=0.10"]) else {
        return;
    };
    let r = inspect(&path).unwrap();
    assert_eq!(r.format, Format::Qcow2);
    assert_eq!(r.extension.as_deref(), Some("raw"));
    assert_eq!(r.extension_format, Some(Format::Raw));
    assert!(r.name_mismatch);
    let FormatDetail::Qcow2(q) = &r.detail else {
        panic!()
    };
    assert_eq!(q.version, 2);
}

#[test]
fn qcow2_with_backing_file_is_unsafe() {
    let dir = tempfile::tempdir().unwrap();
    let Some(qemu) = tool("qemu-img") else { return };
    let base = p(dir.path(), "base.raw");
    common::zero_file(&base, 64 * MIB);
    let top = p(dir.path(), "top.qcow2");
    run(
        &qemu,
        &[
            "create",
            "-q",
            "-f",
            "qcow2",
            "-b",
            s(&base),
            "-F",
            "raw",
            s(&top),
        ],
    );
    let r = inspect(&top).unwrap();
    assert_eq!(r.format, Format::Qcow2);
    let FormatDetail::Qcow2(q) = &r.detail else {
        panic!()
    };
    assert_eq!(q.backing_file.as_deref(), Some(s(&base)));
    assert_eq!(q.backing_format.as_deref(), Some("raw"));
    assert_eq!(r.unsafe_references.len(), 1);
    assert_eq!(r.unsafe_references[0].kind, ReferenceKind::BackingFile);
    assert_eq!(r.unsafe_references[0].target, s(&base));
    assert_eq!(r.virtual_size, Some(64 * MIB));
}

#[test]
fn qcow2_with_external_data_file_is_unsafe() {
    let dir = tempfile::tempdir().unwrap();
    let data = p(dir.path(), "data.bin");
    let data_opt = format!("data_file={}", s(&data));
    let Some(path) = qemu_create(dir.path(), "qcow2", "d.qcow2", &["-o", &data_opt]) else {
        return;
    };
    let r = inspect(&path).unwrap();
    let FormatDetail::Qcow2(q) = &r.detail else {
        panic!()
    };
    assert!(q.external_data_file);
    assert_eq!(q.data_file.as_deref(), Some(s(&data)));
    assert!(r
        .unsafe_references
        .iter()
        .any(|x| x.kind == ReferenceKind::DataFile && x.target == s(&data)));
}

#[test]
fn vmdk_sparse_and_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let Some(path) = qemu_create(dir.path(), "vmdk", "v.vmdk", &[]) else {
        return;
    };
    let r = inspect(&path).unwrap();
    assert_eq!(r.format, Format::Vmdk);
    assert_eq!(r.virtual_size, Some(64 * MIB));
    let FormatDetail::Vmdk(v) = &r.detail else {
        panic!()
    };
    assert_eq!(v.kind, VmdkKind::Sparse);
    assert_eq!(v.create_type.as_deref(), Some("monolithicSparse"));
    assert_eq!(v.extents.len(), 1);
    assert!(v.extents[0].is_self);
    assert!(r.unsafe_references.is_empty(), "{:?}", r.unsafe_references);

    // A descriptor with a separate flat extent points at another file.
    let flat = qemu_create(
        dir.path(),
        "vmdk",
        "f.vmdk",
        &["-o", "subformat=monolithicFlat"],
    )
    .unwrap();
    let r = inspect(&flat).unwrap();
    assert_eq!(r.format, Format::Vmdk);
    let FormatDetail::Vmdk(v) = &r.detail else {
        panic!()
    };
    assert_eq!(v.kind, VmdkKind::Descriptor);
    assert_eq!(v.create_type.as_deref(), Some("monolithicFlat"));
    assert_eq!(v.extents[0].extent_type, "FLAT");
    assert_eq!(v.extents[0].file_name.as_deref(), Some("f-flat.vmdk"));
    assert_eq!(v.extents[0].size_sectors, 64 * MIB / 512);
    assert_eq!(r.unsafe_references.len(), 1);
    assert_eq!(r.unsafe_references[0].kind, ReferenceKind::VmdkExtent);
    assert_eq!(r.unsafe_references[0].target, "f-flat.vmdk");
    assert_eq!(r.virtual_size, Some(64 * MIB));

    let so = qemu_create(
        dir.path(),
        "vmdk",
        "s.vmdk",
        &["-o", "subformat=streamOptimized"],
    )
    .unwrap();
    let r = inspect(&so).unwrap();
    let FormatDetail::Vmdk(v) = &r.detail else {
        panic!()
    };
    assert_eq!(v.kind, VmdkKind::StreamOptimized);
}

#[test]
fn vhd_fixed_and_dynamic() {
    let dir = tempfile::tempdir().unwrap();
    let Some(fixed) = qemu_create(
        dir.path(),
        "vpc",
        "f.vhd",
        &["-o", "subformat=fixed,force_size=on"],
    ) else {
        return;
    };
    let r = inspect(&fixed).unwrap();
    assert_eq!(r.format, Format::Vhd);
    assert!(r.ambiguous.is_empty(), "{:?}", r.ambiguous);
    let FormatDetail::Vhd(v) = &r.detail else {
        panic!()
    };
    assert_eq!(v.disk_type, VhdDiskType::Fixed);
    assert!(v.footer_at_end && !v.footer_at_start);
    assert!(v.checksum_ok);
    assert_eq!(r.virtual_size, Some(64 * MIB));
    // The data part of a fixed VHD is a plain disk.
    let layout = r.layout.expect("fixed VHD layout");
    assert_eq!(layout.disk_size, 64 * MIB);

    let dynamic = qemu_create(dir.path(), "vpc", "d.vhd", &["-o", "force_size=on"]).unwrap();
    let r = inspect(&dynamic).unwrap();
    assert_eq!(r.format, Format::Vhd);
    let FormatDetail::Vhd(v) = &r.detail else {
        panic!()
    };
    assert_eq!(v.disk_type, VhdDiskType::Dynamic);
    assert!(v.footer_at_end && v.footer_at_start);
    // A dynamic VHD's virtual disk is read through its backend.
    assert_eq!(
        r.layout.as_ref().expect("dynamic VHD layout").disk_size,
        64 * MIB
    );
    assert_eq!(r.virtual_size, Some(64 * MIB));
}

#[test]
fn vhdx_vdi_qed() {
    let dir = tempfile::tempdir().unwrap();
    let Some(vhdx) = qemu_create(dir.path(), "vhdx", "x.vhdx", &[]) else {
        return;
    };
    let r = inspect(&vhdx).unwrap();
    assert_eq!(r.format, Format::Vhdx);
    let FormatDetail::Vhdx(x) = &r.detail else {
        panic!()
    };
    assert_eq!(x.virtual_size, Some(64 * MIB));
    assert!(!x.has_parent);
    assert_eq!(x.logical_sector_size, Some(512));
    assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);

    let vdi = qemu_create(dir.path(), "vdi", "i.vdi", &[]).unwrap();
    let r = inspect(&vdi).unwrap();
    assert_eq!(r.format, Format::Vdi);
    assert_eq!(r.virtual_size, Some(64 * MIB));
    let FormatDetail::Vdi(i) = &r.detail else {
        panic!()
    };
    assert_eq!(i.image_type, 1);

    let qed = qemu_create(dir.path(), "qed", "q.qed", &[]).unwrap();
    let r = inspect(&qed).unwrap();
    assert_eq!(r.format, Format::Qed);
    assert_eq!(r.virtual_size, Some(64 * MIB));
    assert!(r.unsafe_references.is_empty());
}

#[test]
fn qed_with_backing_file_is_unsafe() {
    let dir = tempfile::tempdir().unwrap();
    let Some(qemu) = tool("qemu-img") else { return };
    let base = p(dir.path(), "base.raw");
    common::zero_file(&base, MIB);
    let top = p(dir.path(), "top.qed");
    run(
        &qemu,
        &[
            "create",
            "-q",
            "-f",
            "qed",
            "-b",
            s(&base),
            "-F",
            "raw",
            s(&top),
        ],
    );
    let r = inspect(&top).unwrap();
    assert_eq!(r.format, Format::Qed);
    assert_eq!(r.unsafe_references.len(), 1);
    assert_eq!(r.unsafe_references[0].target, s(&base));
}

/// Compress a 1 MiB file with `tool args...`; returns the output path.
fn compressed(
    dir: &std::path::Path,
    program: &str,
    args: &[&str],
    suffix: &str,
) -> Option<std::path::PathBuf> {
    let bin = tool(program)?;
    let src = p(dir, &format!("src-{program}.raw"));
    std::fs::write(&src, vec![7u8; 1 << 20]).unwrap();
    let mut all: Vec<&str> = args.to_vec();
    all.push(s(&src));
    run(&bin, &all);
    Some(p(dir, &format!("src-{program}.raw{suffix}")))
}

#[test]
fn compressed_streams() {
    let dir = tempfile::tempdir().unwrap();
    for (program, args, suffix, format) in [
        ("gzip", &["-k", "-1"][..], ".gz", Format::Gzip),
        ("xz", &["-k", "-0"][..], ".xz", Format::Xz),
        ("zstd", &["-q", "-k"][..], ".zst", Format::Zstd),
        ("bzip2", &["-k", "-1"][..], ".bz2", Format::Bzip2),
    ] {
        let Some(path) = compressed(dir.path(), program, args, suffix) else {
            continue;
        };
        let r = inspect(&path).unwrap();
        assert_eq!(r.format, format, "{program}");
        assert!(!r.name_mismatch, "{program}");
        assert!(r.layout.is_none());
        assert_eq!(r.virtual_size, None);
        if let FormatDetail::Gzip(g) = &r.detail {
            assert_eq!(g.original_name.as_deref(), Some("src-gzip.raw"));
        }
    }
}

#[test]
fn tar_renamed_raw_and_ova() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tar) = tool("tar") else { return };
    std::fs::write(dir.path().join("vm.ovf"), b"<Envelope/>").unwrap();
    std::fs::write(dir.path().join("disk1.vmdk"), b"data").unwrap();
    let out = p(dir.path(), "bundle.raw");
    run(
        &tar,
        &[
            "-C",
            s(dir.path()),
            "--format=ustar",
            "-cf",
            s(&out),
            "vm.ovf",
            "disk1.vmdk",
        ],
    );
    let r = inspect(&out).unwrap();
    assert_eq!(r.format, Format::Tar);
    assert!(r.name_mismatch);
    assert_eq!(r.extension_format, Some(Format::Raw));
    let FormatDetail::Tar(t) = &r.detail else {
        panic!()
    };
    assert_eq!(t.first_member, "vm.ovf");
    assert!(t.ova);
    assert!(r.layout.is_none());
}

#[test]
fn the_partitions_inside_every_format_are_read_through_its_backend() {
    let dir = tempfile::tempdir().unwrap();
    let (Some(qemu), Some(sfdisk)) = (tool("qemu-img"), tool("sfdisk")) else {
        return;
    };
    let raw = p(dir.path(), "disk.raw");
    std::fs::File::create(&raw)
        .unwrap()
        .set_len(64 * MIB)
        .unwrap();
    let script = "label: gpt\nstart=2048, size=20480, type=uefi\nstart=22528, type=linux\n";
    let out = std::process::Command::new(&sfdisk)
        .args(["-q", s(&raw)])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(script.as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(out.success());
    let want = inspect(&raw).unwrap().layout.unwrap();
    assert_eq!(want.gpt.as_ref().unwrap().partitions.len(), 2);
    for (fmt, name, opts) in [
        ("qcow2", "d.qcow2", ""),
        ("vmdk", "d.vmdk", "subformat=streamOptimized"),
        ("vpc", "d.vhd", "subformat=dynamic,force_size=on"),
        ("vhdx", "d.vhdx", ""),
        ("vdi", "d.vdi", ""),
    ] {
        let image = p(dir.path(), name);
        let mut args = vec!["convert", "-f", "raw", "-O", fmt];
        if !opts.is_empty() {
            args.extend(["-o", opts]);
        }
        args.extend([s(&raw), s(&image)]);
        run(&qemu, &args);
        let got = inspect(&image).unwrap();
        assert_eq!(
            got.layout.as_ref(),
            Some(&want),
            "{fmt}: {:?}",
            got.layout_error
        );
    }
}
