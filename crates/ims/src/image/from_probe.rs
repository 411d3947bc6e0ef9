//! Turning a probe report into [`ImageFacts`].

use imsprep_probe::{
    DiskLayout, ExternalReference, Filesystem, Format, FormatDetail, ReferenceKind, Report,
};

use super::{ImageFacts, LayoutFacts};

impl ImageFacts {
    /// The facts of a probed file.
    pub fn from_probe(report: &Report) -> ImageFacts {
        let mut facts = ImageFacts::new(report.path.clone(), report.format, report.file_size);
        facts.ambiguous = report.ambiguous.clone();
        facts.extension = report.extension.clone();
        facts.extension_format = report.extension_format;
        facts.disk_size = match (&report.detail, report.format) {
            (FormatDetail::Zvhd2(z), _) => Some(z.curr_size),
            (_, Format::Raw) => Some(report.file_size),
            _ => report.virtual_size,
        };
        match &report.detail {
            FormatDetail::Tar(t) => facts.ova = t.ova,
            FormatDetail::Qcow2(q) => facts.encrypted = q.encrypted,
            FormatDetail::Zvhd2(z) => {
                facts.zvhd2_problem = if !z.checksum_ok {
                    Some("the ZVHD2 footer checksum is wrong".to_owned())
                } else if !z.reader_opened {
                    Some(match &z.reader_error {
                        Some(e) => format!("the ZVHD2 file cannot be read: {e}"),
                        None => "the ZVHD2 file cannot be read".to_owned(),
                    })
                } else {
                    None
                };
            }
            _ => {}
        }
        facts.external_refs = report.unsafe_references.iter().map(describe_ref).collect();
        if let Some(layout) = &report.layout {
            if layout.whole_disk_filesystem == Some(Filesystem::Luks) {
                facts.encrypted = true;
            }
            facts.layout = Some(layout_facts(layout));
        }
        facts
    }
}

fn describe_ref(r: &ExternalReference) -> String {
    let kind = match r.kind {
        ReferenceKind::BackingFile => "backing file",
        ReferenceKind::DataFile => "external data file",
        ReferenceKind::VmdkExtent => "VMDK extent",
        ReferenceKind::VmdkParent => "VMDK parent",
        ReferenceKind::VhdParent => "VHD parent",
        ReferenceKind::VhdxParent => "VHDX parent",
        ReferenceKind::VdiParent => "VDI parent",
    };
    if r.target.is_empty() {
        format!("{kind} (unnamed)")
    } else {
        format!("{kind} \"{}\"", r.target)
    }
}

fn layout_facts(l: &DiskLayout) -> LayoutFacts {
    let (header_ok, entries_ok, backup_ok) = match &l.gpt {
        Some(g) => (
            g.primary.header_crc_ok,
            g.primary.entries_crc_ok,
            g.backup
                .as_ref()
                .map(|b| b.header_crc_ok && b.entries_crc_ok),
        ),
        None => (true, true, None),
    };
    LayoutFacts {
        table: l.table,
        mbr_boot_signature: l.mbr.as_ref().is_some_and(|m| m.boot_signature),
        gpt_header_crc_ok: header_ok,
        gpt_entries_crc_ok: entries_ok,
        gpt_backup_crc_ok: backup_ok,
        has_esp: l.esp.is_some(),
        has_filesystem: !l.filesystems.is_empty() || l.whole_disk_filesystem.is_some(),
        luks_partitions: l
            .filesystems
            .iter()
            .filter(|f| f.filesystem == Filesystem::Luks)
            .filter_map(|f| f.partition)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imsprep_probe::{GptHeader, GptInfo, MbrInfo, PartitionTable, Qcow2Info, Zvhd2Info};

    fn report(format: Format, file_size: u64) -> Report {
        Report {
            path: "disk.img".into(),
            file_size,
            file_size_mod_512: file_size % 512,
            format,
            signatures: Vec::new(),
            other_signatures: Vec::new(),
            ambiguous: Vec::new(),
            extension: Some("img".into()),
            extension_format: Some(Format::Raw),
            name_mismatch: false,
            virtual_size: Some(file_size),
            detail: FormatDetail::None,
            unsafe_references: Vec::new(),
            layout: None,
            layout_error: None,
            anomalies: Vec::new(),
        }
    }

    fn header(ok: bool) -> GptHeader {
        GptHeader {
            lba: 1,
            signature_ok: true,
            header_crc_ok: ok,
            entries_crc_ok: true,
            my_lba: 1,
            alternate_lba: 100,
            entries_lba: 2,
            entry_count: 128,
            entry_size: 128,
            first_usable_lba: 34,
            last_usable_lba: 66,
            entries_bounded: true,
        }
    }

    #[test]
    fn raw_with_gpt() {
        let mut r = report(Format::Raw, 1 << 20);
        r.layout = Some(DiskLayout {
            disk_size: 1 << 20,
            table: PartitionTable::Gpt,
            mbr: Some(MbrInfo {
                boot_signature: true,
                has_boot_code: false,
                protective: true,
                disk_signature: 0,
                partitions: Vec::new(),
            }),
            gpt: Some(GptInfo {
                sector_size: 512,
                disk_guid: String::new(),
                primary: header(false),
                backup: Some(header(true)),
                partitions: Vec::new(),
            }),
            esp: Some(1),
            bios_boot: false,
            whole_disk_filesystem: None,
            filesystems: Vec::new(),
            anomalies: Vec::new(),
        });
        let f = ImageFacts::from_probe(&r);
        assert_eq!(f.disk_size, Some(1 << 20));
        let l = f.layout.unwrap_or_else(|| panic!("layout"));
        assert!(!l.gpt_header_crc_ok && l.gpt_entries_crc_ok);
        assert_eq!(l.gpt_backup_crc_ok, Some(true));
        assert!(l.has_esp && !l.has_filesystem && l.mbr_boot_signature);
    }

    #[test]
    fn qcow2_refs_and_encryption() {
        let mut r = report(Format::Qcow2, 4096);
        r.virtual_size = Some(10 << 30);
        r.detail = FormatDetail::Qcow2(Qcow2Info {
            version: 3,
            virtual_size: 10 << 30,
            cluster_bits: 16,
            backing_file: Some("base.qcow2".into()),
            backing_format: None,
            data_file: None,
            external_data_file: false,
            encryption_method: 2,
            encrypted: true,
            incompatible_features: 0,
            snapshots: 0,
            compression_type: None,
        });
        r.unsafe_references = vec![ExternalReference {
            kind: ReferenceKind::BackingFile,
            target: "base.qcow2".into(),
        }];
        let f = ImageFacts::from_probe(&r);
        assert!(f.encrypted);
        assert_eq!(
            f.external_refs,
            vec!["backing file \"base.qcow2\"".to_owned()]
        );
        assert_eq!(f.disk_size, Some(10 << 30));
    }

    #[test]
    fn zvhd2_uses_curr_size_and_reader_error() {
        let mut r = report(Format::Zvhd2, 8192);
        r.detail = FormatDetail::Zvhd2(Zvhd2Info {
            head_footer: true,
            tail_footer: true,
            checksum_ok: true,
            zvhd2_version: 1,
            orig_size: (1 << 30) + 512,
            curr_size: 2 << 30,
            block_size: 2 << 20,
            max_blk_num: 513,
            non_zero_blk_num: 1,
            compress_method: 1,
            reader_opened: false,
            reader_error: Some("index out of range".into()),
        });
        let f = ImageFacts::from_probe(&r);
        assert_eq!(f.disk_size, Some(2 << 30));
        assert!(f
            .zvhd2_problem
            .as_deref()
            .is_some_and(|p| p.contains("index out of range")));
    }
}
