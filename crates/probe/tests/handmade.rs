//! Hand-built byte images for formats no tool here makes, and corrupt or
//! truncated headers: each gives facts or a typed error, never a panic.

mod common;

use imsprep_probe::{
    detect, inspect, inspect_disk, read_layout, Filesystem, Format, FormatDetail, PartitionKind,
    PartitionTable, ReferenceKind,
};

const MIB: usize = 1024 * 1024;

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

/// GUID text to its mixed-endian on-disk bytes.
fn guid_bytes(s: &str) -> [u8; 16] {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let mut raw = [0u8; 16];
    for (i, b) in raw.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap();
    }
    raw[0..4].reverse();
    raw[4..6].reverse();
    raw[6..8].reverse();
    raw
}

fn mbr_entry(buf: &mut [u8], slot: usize, status: u8, code: u8, first: u32, sectors: u32) {
    let at = 446 + slot * 16;
    buf[at] = status;
    buf[at + 4] = code;
    put(buf, at + 8, &first.to_le_bytes());
    put(buf, at + 12, &sectors.to_le_bytes());
}

/// A GPT disk of `size` bytes with the given partitions (type, first, last, name),
/// protective MBR, primary and backup headers with valid CRCs.
fn gpt_disk(size: usize, parts: &[(&str, u64, u64, &str)], entry_count: u32) -> Vec<u8> {
    let mut d = vec![0u8; size];
    let sectors = (size / 512) as u64;
    mbr_entry(&mut d, 0, 0, 0xEE, 1, (sectors - 1) as u32);
    put(&mut d, 510, &[0x55, 0xAA]);
    let mut entries = vec![0u8; 128 * 128];
    for (i, (ty, first, last, name)) in parts.iter().enumerate() {
        let e = &mut entries[i * 128..(i + 1) * 128];
        e[0..16].copy_from_slice(&guid_bytes(ty));
        e[16] = i as u8 + 1;
        e[32..40].copy_from_slice(&first.to_le_bytes());
        e[40..48].copy_from_slice(&last.to_le_bytes());
        for (j, u) in name.encode_utf16().enumerate() {
            e[56 + j * 2..58 + j * 2].copy_from_slice(&u.to_le_bytes());
        }
    }
    let entries_crc = crc32fast::hash(&entries);
    let backup_entries_lba = sectors - 1 - 32;
    put(&mut d, 1024, &entries);
    put(&mut d, backup_entries_lba as usize * 512, &entries);
    for (my, alt, elba) in [(1, sectors - 1, 2), (sectors - 1, 1, backup_entries_lba)] {
        let mut h = vec![0u8; 92];
        put(&mut h, 0, b"EFI PART");
        put(&mut h, 8, &0x0001_0000u32.to_le_bytes());
        put(&mut h, 12, &92u32.to_le_bytes());
        put(&mut h, 24, &my.to_le_bytes());
        put(&mut h, 32, &alt.to_le_bytes());
        put(&mut h, 40, &34u64.to_le_bytes());
        put(&mut h, 48, &(sectors - 34).to_le_bytes());
        put(&mut h, 56, &[0x11; 16]);
        put(&mut h, 72, &elba.to_le_bytes());
        put(&mut h, 80, &entry_count.to_le_bytes());
        put(&mut h, 84, &128u32.to_le_bytes());
        put(&mut h, 88, &entries_crc.to_le_bytes());
        let crc = crc32fast::hash(&h);
        put(&mut h, 16, &crc.to_le_bytes());
        put(&mut d, my as usize * 512, &h);
    }
    d
}

fn iso_image(blocks: u32) -> Vec<u8> {
    let mut d = vec![0u8; blocks as usize * 2048];
    let pvd = 0x8000;
    put(&mut d, pvd, b"\x01CD001\x01");
    put(&mut d, pvd + 40, b"TESTVOL                         ");
    put(&mut d, pvd + 80, &blocks.to_le_bytes());
    put(&mut d, pvd + 84, &blocks.to_be_bytes());
    put(&mut d, pvd + 128, &2048u16.to_le_bytes());
    put(&mut d, pvd + 130, &2048u16.to_be_bytes());
    put(&mut d, pvd + 2048, b"\x00CD001\x01EL TORITO SPECIFICATION");
    put(&mut d, pvd + 4096, b"\xffCD001\x01");
    d
}

#[test]
fn iso_and_hybrid_iso() {
    let iso = iso_image(64);
    let r = inspect_disk(&iso, "x.iso").unwrap();
    assert_eq!(r.format, Format::Iso9660);
    assert!(!r.name_mismatch);
    let FormatDetail::Iso9660(i) = &r.detail else {
        panic!()
    };
    assert_eq!(i.volume_id, "TESTVOL");
    assert_eq!(i.volume_size, 64 * 2048);
    assert!(i.el_torito);
    let l = r.layout.unwrap();
    assert_eq!(l.table, PartitionTable::None);
    assert_eq!(l.whole_disk_filesystem, Some(Filesystem::Iso9660));

    // Hybrid: an MBR in the system area as isohybrid writes it.
    let mut hybrid = iso_image(64);
    mbr_entry(&mut hybrid, 0, 0x80, 0x17, 0, 256);
    put(&mut hybrid, 510, &[0x55, 0xAA]);
    let r = inspect_disk(&hybrid, "h.img").unwrap();
    assert_eq!(r.format, Format::Iso9660);
    assert!(r.ambiguous.is_empty());
    assert!(r.name_mismatch);
    assert_eq!(r.extension_format, Some(Format::Raw));
    let l = r.layout.unwrap();
    assert_eq!(l.table, PartitionTable::Mbr);
    assert_eq!(l.whole_disk_filesystem, Some(Filesystem::Iso9660));
    assert!(l.mbr.unwrap().partitions[0].bootable);
}

#[test]
fn luks_zip_and_zvhd_renamed() {
    let mut luks = vec![0u8; 4096];
    put(&mut luks, 0, b"LUKS\xba\xbe\x00\x02");
    let r = inspect_disk(&luks, "secret.img").unwrap();
    assert_eq!(r.format, Format::Luks);
    assert!(r.name_mismatch);
    let FormatDetail::Luks(l) = &r.detail else {
        panic!()
    };
    assert_eq!(l.version, 2);

    let mut zip = b"PK\x03\x04\x14\x00".to_vec();
    zip.resize(64, 0);
    zip.extend_from_slice(b"PK\x05\x06");
    zip.resize(86, 0);
    let r = inspect_disk(&zip, "bundle.zip").unwrap();
    assert_eq!(r.format, Format::Zip);
    assert!(!r.name_mismatch);

    // A first-generation ZVHD footer in a file named .zvhd2.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.zvhd2");
    let mut footer = vec![0u8; 512];
    put(&mut footer, 0, b"stream\0\0");
    std::fs::write(&path, &footer).unwrap();
    let r = inspect(&path).unwrap();
    assert_eq!(r.format, Format::Zvhd);
    assert_eq!(r.extension_format, Some(Format::Zvhd2));
    assert!(r.name_mismatch);
    assert!(r.layout.is_none());
}

#[test]
fn hand_built_file_systems_in_mbr_partitions() {
    let mut d = vec![0u8; 6 * MIB];
    put(&mut d, 510, &[0x55, 0xAA]);
    mbr_entry(&mut d, 0, 0x80, 0x07, 2048, 2048);
    mbr_entry(&mut d, 1, 0, 0x83, 4096, 2048);
    mbr_entry(&mut d, 2, 0, 0x8E, 6144, 2048);
    mbr_entry(&mut d, 3, 0, 0x83, 8192, 2048);
    let ntfs = 2048 * 512;
    put(&mut d, ntfs, b"\xEB\x52\x90NTFS    ");
    put(&mut d, ntfs + 510, &[0x55, 0xAA]);
    put(&mut d, 4096 * 512, b"XFSB");
    put(&mut d, 6144 * 512 + 512, b"LABELONE");
    put(&mut d, 6144 * 512 + 512 + 24, b"LVM2 001");
    put(&mut d, 8192 * 512, b"LUKS\xba\xbe\x00\x01");
    let r = inspect_disk(&d, "win.raw").unwrap();
    assert_eq!(r.format, Format::Raw);
    let l = r.layout.unwrap();
    assert_eq!(l.table, PartitionTable::Mbr);
    let fs: Vec<Option<Filesystem>> = l
        .mbr
        .unwrap()
        .partitions
        .iter()
        .map(|p| p.filesystem)
        .collect();
    assert_eq!(
        fs,
        vec![
            Some(Filesystem::Ntfs),
            Some(Filesystem::Xfs),
            Some(Filesystem::LvmPv),
            Some(Filesystem::Luks)
        ]
    );
    assert_eq!(l.filesystems.len(), 4);
}

#[test]
fn bare_btrfs_and_ntfs() {
    let mut d = vec![0u8; 128 * 1024];
    put(&mut d, 65600, b"_BHRfS_M");
    let l = read_layout(&d).unwrap();
    assert_eq!(l.table, PartitionTable::None);
    assert_eq!(l.whole_disk_filesystem, Some(Filesystem::Btrfs));

    // An NTFS boot sector carries 55 AA: it is a volume, not an MBR.
    let mut n = vec![0u8; 64 * 1024];
    put(&mut n, 0, b"\xEB\x52\x90NTFS    ");
    put(
        &mut n,
        446,
        &[0x80, 1, 2, 3, 0x07, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0],
    );
    put(&mut n, 510, &[0x55, 0xAA]);
    let l = read_layout(&n).unwrap();
    assert_eq!(l.table, PartitionTable::None);
    assert!(l.mbr.is_none());
    assert_eq!(l.whole_disk_filesystem, Some(Filesystem::Ntfs));
}

#[test]
fn gpt_hand_built_and_hostile() {
    let size = 4 * MIB;
    let parts = [
        (
            "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
            2048u64,
            4095u64,
            "ESP",
        ),
        ("B921B045-1DF0-41C3-AF44-4C6F280D3FAE", 4096, 8000, "rootfs"),
    ];
    let d = gpt_disk(size, &parts, 128);
    let l = read_layout(&d).unwrap();
    assert_eq!(l.table, PartitionTable::Gpt);
    let g = l.gpt.as_ref().unwrap();
    assert!(g.primary.header_crc_ok && g.primary.entries_crc_ok && g.primary.entries_bounded);
    assert!(g.backup.as_ref().unwrap().header_crc_ok);
    assert_eq!(g.partitions[1].kind, PartitionKind::LinuxRootAarch64);
    assert_eq!(g.partitions[1].name, "rootfs");
    assert_eq!(l.esp, Some(1));
    assert!(l.anomalies.is_empty(), "{:?}", l.anomalies);

    // 2^31 entries: never read, reported as out of bounds.
    let d = gpt_disk(size, &parts, 1 << 31);
    let l = read_layout(&d).unwrap();
    assert_eq!(l.table, PartitionTable::Gpt);
    let g = l.gpt.unwrap();
    assert!(g.primary.header_crc_ok);
    assert!(!g.primary.entries_bounded);
    assert!(!g.primary.entries_crc_ok);
    assert!(g.partitions.is_empty());
    assert!(l.anomalies.iter().any(|a| a.contains("out of bounds")));

    // Bad header CRC on both copies: facts, partitions still listed.
    let mut d = gpt_disk(size, &parts, 128);
    d[512 + 16] ^= 1;
    let last = size - 512;
    d[last + 16] ^= 1;
    let l = read_layout(&d).unwrap();
    let g = l.gpt.unwrap();
    assert!(!g.primary.header_crc_ok);
    assert!(!g.backup.unwrap().header_crc_ok);
    assert_eq!(g.partitions.len(), 2);

    // Partition beyond the disk.
    let far = [(
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
        2048u64,
        1u64 << 40,
        "big",
    )];
    let l = read_layout(&gpt_disk(size, &far, 128)).unwrap();
    let g = l.gpt.unwrap();
    assert!(g.partitions[0].beyond_disk);
    assert_eq!(g.partitions[0].filesystem, None);

    // Truncated: the disk ends right after the primary header.
    let d = gpt_disk(size, &parts, 128);
    let l = read_layout(&&d[..1024]).unwrap();
    assert_eq!(l.table, PartitionTable::Gpt);
    let g = l.gpt.unwrap();
    assert!(!g.primary.entries_bounded);
}

#[test]
fn mbr_without_signature() {
    let mut d = vec![0u8; MIB];
    mbr_entry(&mut d, 0, 0x80, 0x83, 2048, 20);
    let l = read_layout(&d).unwrap();
    assert_eq!(l.table, PartitionTable::None);
    let m = l.mbr.unwrap();
    assert!(!m.boot_signature);
    assert_eq!(m.partitions.len(), 1);
    assert!(l.anomalies.iter().any(|a| a.contains("55 AA")));

    // Garbage status bytes and no signature: not an MBR at all.
    let mut g = vec![0u8; MIB];
    mbr_entry(&mut g, 0, 0x33, 0x83, 2048, 20);
    let l = read_layout(&g).unwrap();
    assert!(l.mbr.is_none());
    assert_eq!(l.table, PartitionTable::None);
}

fn qcow2_header(size: u64, backing_off: u64, backing_len: u32) -> Vec<u8> {
    let mut h = vec![0u8; 128 * 1024];
    put(&mut h, 0, b"QFI\xfb");
    put(&mut h, 4, &3u32.to_be_bytes());
    put(&mut h, 8, &backing_off.to_be_bytes());
    put(&mut h, 16, &backing_len.to_be_bytes());
    put(&mut h, 20, &16u32.to_be_bytes());
    put(&mut h, 24, &size.to_be_bytes());
    put(&mut h, 100, &104u32.to_be_bytes());
    h
}

#[test]
fn qcow2_hostile_headers() {
    // Absurd size and a backing file offset far beyond the file.
    let h = qcow2_header(u64::MAX, 1 << 62, 5000);
    let r = inspect_disk(&h, "x.qcow2").unwrap();
    assert_eq!(r.format, Format::Qcow2);
    assert_eq!(r.virtual_size, Some(u64::MAX));
    assert_eq!(r.unsafe_references.len(), 1);
    assert_eq!(r.unsafe_references[0].kind, ReferenceKind::BackingFile);
    assert!(!r.anomalies.is_empty());

    // A valid-length name whose bytes lie past the end of a short file.
    let h = qcow2_header(1 << 30, 60_000, 100);
    let r = inspect_disk(&&h[..1024], "x.qcow2").unwrap();
    assert_eq!(r.unsafe_references.len(), 1);
    assert!(
        r.anomalies
            .iter()
            .any(|a| a.contains("backing_file_offset")),
        "{:?}",
        r.anomalies
    );

    // A header extension claiming a huge length.
    let mut h = qcow2_header(1 << 30, 0, 0);
    put(&mut h, 104, &0x4441_5441u32.to_be_bytes());
    put(&mut h, 108, &u32::MAX.to_be_bytes());
    let r = inspect_disk(&h, "x.qcow2").unwrap();
    assert!(r.anomalies.iter().any(|a| a.contains("header_extension")));

    // Truncated header.
    let r = inspect_disk(&&b"QFI\xfb\0\0\0"[..], "t.qcow2").unwrap();
    assert_eq!(r.format, Format::Qcow2);
    assert!(!r.anomalies.is_empty());
}

#[test]
fn qcow2_with_iso_signature_is_ambiguous() {
    let mut h = qcow2_header(1 << 30, 0, 0);
    put(&mut h, 0x8001, b"CD001");
    let r = inspect_disk(&h, "x.qcow2").unwrap();
    assert_eq!(r.ambiguous, vec![Format::Qcow2, Format::Iso9660]);
    assert_eq!(r.other_signatures, vec![Format::Iso9660]);
    assert_eq!(r.format, Format::Qcow2);
}

#[test]
fn qcow2_that_is_also_a_zip_is_ambiguous() {
    let mut h = qcow2_header(1 << 30, 0, 0);
    let mut eocd = b"PK\x05\x06".to_vec();
    eocd.resize(20, 0);
    eocd.extend_from_slice(&3u16.to_le_bytes());
    eocd.extend_from_slice(b"abc");
    h.extend_from_slice(&eocd);
    let r = inspect_disk(&h, "x.qcow2").unwrap();
    assert_eq!(r.ambiguous, vec![Format::Qcow2, Format::Zip]);
    assert!(r
        .signatures
        .iter()
        .any(|s| s.format == Format::Zip && s.offset == h.len() as u64 - 25));

    // The same record with a comment length that does not reach the end
    // is not a zip.
    let n = h.len();
    h[n - 5] = 9;
    let r = inspect_disk(&h, "x.qcow2").unwrap();
    assert!(r.ambiguous.is_empty());
}

#[test]
fn vmdk_descriptor_pointing_at_host_files() {
    let text = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n\
                createType=\"monolithicFlat\"\n\n# Extent description\n\
                RW 2048 FLAT \"/etc/passwd\" 0\nRDONLY 100 ZERO\n";
    let r = inspect_disk(&text.as_bytes(), "evil.vmdk").unwrap();
    assert_eq!(r.format, Format::Vmdk);
    assert_eq!(r.unsafe_references.len(), 1);
    assert_eq!(r.unsafe_references[0].target, "/etc/passwd");
    let FormatDetail::Vmdk(v) = &r.detail else {
        panic!()
    };
    assert_eq!(v.extents.len(), 2);
    assert_eq!(v.extents[0].offset, Some(0));
    assert_eq!(v.extents[1].file_name, None);
    assert_eq!(r.virtual_size, Some(2148 * 512));
}

#[test]
fn tiny_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    for len in [0usize, 1, 100, 511, 513] {
        let path = dir.path().join(format!("t{len}.raw"));
        std::fs::write(&path, vec![0xffu8; len]).unwrap();
        let r = inspect(&path).unwrap();
        assert_eq!(r.format, Format::Raw);
        assert_eq!(r.file_size, len as u64);
        assert_eq!(r.file_size_mod_512, (len % 512) as u64);
        assert_eq!(r.layout.unwrap().table, PartitionTable::None);
    }
    let missing = dir.path().join("nope.raw");
    assert!(matches!(
        inspect(&missing),
        Err(imsprep_probe::ProbeError::Open { .. })
    ));
    // detect() on nothing at all.
    assert_eq!(detect(&[], &[], 0).format, Format::Raw);
}

#[test]
fn report_serialises_with_stable_names() {
    let d = gpt_disk(
        2 * MIB,
        &[("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", 2048, 3000, "EFI")],
        128,
    );
    let r = inspect_disk(&d, "d.img").unwrap();
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["format"], "raw");
    assert_eq!(v["detail"]["kind"], "none");
    assert_eq!(v["layout"]["table"], "gpt");
    assert_eq!(v["layout"]["esp"], 1);
    assert_eq!(v["layout"]["gpt"]["partitions"][0]["kind"], "esp");
    assert_eq!(v["layout"]["gpt"]["primary"]["header_crc_ok"], true);
    assert_eq!(v["extension_format"], "raw");
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// A minimal differencing VHDX: file identifier, region table, metadata
/// table with file parameters (has-parent flag), size and a parent locator.
#[test]
fn vhdx_differencing_names_its_parent() {
    let mut d = vec![0u8; 2 * MIB];
    put(&mut d, 0, b"vhdxfile");
    put(&mut d, 8, &utf16le("test"));
    let rt = 192 * 1024;
    put(&mut d, rt, b"regi");
    put(&mut d, rt + 8, &1u32.to_le_bytes());
    put(
        &mut d,
        rt + 16,
        &guid_bytes("8B7CA206-4790-4B9A-B8FE-575F050F886E"),
    );
    let meta = MIB;
    put(&mut d, rt + 32, &(meta as u64).to_le_bytes());
    put(&mut d, rt + 40, &(MIB as u32).to_le_bytes());
    put(&mut d, meta, b"metadata");
    put(&mut d, meta + 10, &3u16.to_le_bytes());
    let items = [
        ("CAA16737-FA36-4D43-B3B6-33F0AA44E76B", 0x10000u32, 8u32),
        ("2FA54224-CD1B-4876-B211-5DBED83BF4B8", 0x10008, 8),
        ("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C", 0x10010, 200),
    ];
    for (i, (id, off, len)) in items.iter().enumerate() {
        let e = meta + 32 + i * 32;
        put(&mut d, e, &guid_bytes(id));
        put(&mut d, e + 16, &off.to_le_bytes());
        put(&mut d, e + 20, &len.to_le_bytes());
    }
    put(&mut d, meta + 0x10000, &(2u32 << 20).to_le_bytes());
    put(&mut d, meta + 0x10004, &2u32.to_le_bytes());
    put(&mut d, meta + 0x10008, &(10u64 << 30).to_le_bytes());
    // Parent locator: header, one key/value entry, then the strings.
    let loc = meta + 0x10010;
    put(&mut d, loc + 18, &1u16.to_le_bytes());
    let key = utf16le("relative_path");
    let value = utf16le("..\\base.vhdx");
    put(&mut d, loc + 20, &40u32.to_le_bytes());
    put(&mut d, loc + 24, &(40 + key.len() as u32).to_le_bytes());
    put(&mut d, loc + 28, &(key.len() as u16).to_le_bytes());
    put(&mut d, loc + 30, &(value.len() as u16).to_le_bytes());
    put(&mut d, loc + 40, &key);
    put(&mut d, loc + 40 + key.len(), &value);

    let r = inspect_disk(&d, "diff.vhdx").unwrap();
    assert_eq!(r.format, Format::Vhdx);
    assert_eq!(r.virtual_size, Some(10 << 30));
    let FormatDetail::Vhdx(x) = &r.detail else {
        panic!()
    };
    assert!(x.has_parent);
    assert_eq!(x.creator, "test");
    assert_eq!(x.block_size, Some(2 << 20));
    assert_eq!(r.unsafe_references.len(), 1);
    assert_eq!(r.unsafe_references[0].kind, ReferenceKind::VhdxParent);
    assert_eq!(r.unsafe_references[0].target, "..\\base.vhdx");
}

/// A differencing VHD (footer copy at 0, dynamic header at 512 with the
/// parent's name) and a differencing VDI: both name a parent.
#[test]
fn differencing_vhd_and_vdi_are_unsafe() {
    let mut footer = vec![0u8; 512];
    put(&mut footer, 0, b"conectix");
    put(&mut footer, 16, &512u64.to_be_bytes());
    put(&mut footer, 28, b"qemu");
    put(&mut footer, 40, &(1u64 << 30).to_be_bytes());
    put(&mut footer, 48, &(1u64 << 30).to_be_bytes());
    put(&mut footer, 60, &4u32.to_be_bytes());
    let sum: u32 = footer.iter().map(|&b| u32::from(b)).sum();
    put(&mut footer, 64, &(!sum).to_be_bytes());
    let mut d = vec![0u8; 4096];
    put(&mut d, 0, &footer);
    put(&mut d, 512, b"cxsparse");
    let name: Vec<u8> = "base.vhd"
        .encode_utf16()
        .flat_map(|u| u.to_be_bytes())
        .collect();
    put(&mut d, 512 + 64, &name);
    d.extend_from_slice(&footer);
    let r = inspect_disk(&d, "diff.vhd").unwrap();
    assert_eq!(r.format, Format::Vhd);
    let FormatDetail::Vhd(v) = &r.detail else {
        panic!()
    };
    assert_eq!(v.disk_type, imsprep_probe::VhdDiskType::Differencing);
    assert!(v.checksum_ok && v.footer_at_end && v.footer_at_start);
    assert_eq!(v.creator_app, "qemu");
    assert_eq!(r.unsafe_references[0].kind, ReferenceKind::VhdParent);
    assert_eq!(r.unsafe_references[0].target, "base.vhd");
    assert!(r.layout.is_none());

    let mut vdi = vec![0u8; 4096];
    put(&mut vdi, 0x40, &0xbeda_107fu32.to_le_bytes());
    put(&mut vdi, 0x44, &0x0001_0001u32.to_le_bytes());
    put(&mut vdi, 0x4c, &4u32.to_le_bytes());
    put(&mut vdi, 0x170, &(1u64 << 30).to_le_bytes());
    put(
        &mut vdi,
        0x1b8,
        &guid_bytes("01234567-89AB-CDEF-0123-456789ABCDEF"),
    );
    let r = inspect_disk(&vdi, "diff.vdi").unwrap();
    assert_eq!(r.format, Format::Vdi);
    assert_eq!(r.virtual_size, Some(1 << 30));
    assert_eq!(r.unsafe_references[0].kind, ReferenceKind::VdiParent);
    assert_eq!(
        r.unsafe_references[0].target,
        "01234567-89AB-CDEF-0123-456789ABCDEF"
    );
}
