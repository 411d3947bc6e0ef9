//! fstab, swap and resume facts on guest trees with the volumes the image
//! would report.

mod common;

use common::write;
use imsprep_guest::linux::storage::{
    classify_source, parse_fstab, split_mapper_name, storage_facts, unescape_fstab, Resolution,
    SourceKind,
};
use imsprep_guest::{DirGuest, VolumeInfo};

fn volumes() -> Vec<VolumeInfo> {
    vec![
        VolumeInfo {
            device: "/dev/vda1".into(),
            fs_type: Some("xfs".into()),
            uuid: Some("0b6f0d1e-5a3c-4c59-9d1c-3f7a2f0f2a11".into()),
            label: Some("boot".into()),
            partuuid: Some("c7a9e8b1-01".into()),
            mount_point: Some("/boot".into()),
            ..VolumeInfo::default()
        },
        VolumeInfo {
            device: "/dev/mapper/centos-root".into(),
            fs_type: Some("xfs".into()),
            uuid: Some("9e1f3c0a-7d55-4e1b-8a0e-2b9a1c5d6e7f".into()),
            vg_name: Some("centos".into()),
            lv_name: Some("root".into()),
            mount_point: Some("/".into()),
            ..VolumeInfo::default()
        },
        VolumeInfo {
            device: "/dev/mapper/centos-swap".into(),
            fs_type: Some("swap".into()),
            uuid: Some("5d2c1b0a-0000-4000-8000-000000000001".into()),
            vg_name: Some("centos".into()),
            lv_name: Some("swap".into()),
            ..VolumeInfo::default()
        },
    ]
}

/// A CentOS 7 fstab as anaconda writes it.
const ANACONDA_FSTAB: &str = "
#
# /etc/fstab
# Created by anaconda on Tue Mar  5 10:11:12 2024
#
# Accessible filesystems, by reference, are maintained under '/dev/disk'
# See man pages fstab(5), findfs(8), mount(8) and/or blkid(8) for more info
#
/dev/mapper/centos-root /                       xfs     defaults        0 0
UUID=0B6F0D1E-5A3C-4C59-9D1C-3F7A2F0F2A11 /boot                   xfs     defaults        0 0
/dev/mapper/centos-swap swap                    swap    defaults        0 0
";

#[test]
fn anaconda_fstab_resolves() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/etc/fstab", ANACONDA_FSTAB);
    let g = DirGuest::new(d.path()).with_volumes(volumes());
    let fact = storage_facts(&g, None);
    let f = fact.get().unwrap();
    assert!(f.fstab_read);
    assert_eq!(f.fstab.len(), 3);
    let root = f.root_entry().unwrap();
    assert_eq!(root.kind, SourceKind::Lvm("centos".into(), "root".into()));
    assert_eq!(
        root.resolution,
        Resolution::Found("/dev/mapper/centos-root".into())
    );
    let boot = &f.fstab[1];
    assert_eq!(
        boot.resolution,
        Resolution::Found("/dev/vda1".into()),
        "UUIDs compare case-insensitively"
    );
    assert_eq!(boot.line, 10);
    assert_eq!(f.swap_entries().count(), 1);
    assert_eq!(f.stalling_entries().count(), 0);
    assert!(f.usr_entry().is_none());
    assert_eq!(f.root_fs_type.as_ref().unwrap().0, "xfs");
    assert!(f.root_fs_type.as_ref().unwrap().1.value.contains("line 9"));
}

#[test]
fn device_names_missing_ids_and_data_disks() {
    let fstab = "\
/dev/sda1 / ext4 errors=remount-ro 0 1
UUID=11111111-2222-3333-4444-555555555555 /data ext4 defaults 0 2
LABEL=backup /backup ext4 defaults,nofail,x-systemd.device-timeout=5 0 2
/dev/xvdb1 /srv xfs noauto 0 0
/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part3 /var ext4 defaults 0 2
/dev/vdb1 /opt ext4 defaults 0 2
server:/export /mnt/nfs nfs defaults 0 0
tmpfs /tmp tmpfs defaults 0 0
/dev/sr0 /media/cdrom iso9660 ro 0 0
/srv/data /var/data none bind 0 0
LABEL=My\\040Disk /mnt/my\\040disk ext4 nofail 0 0
/dev/mapper/vg--data-lv--one /usr ext4 defaults 0 2
";
    let entries = parse_fstab(fstab, &volumes());
    assert_eq!(entries.len(), 12);
    assert_eq!(entries[0].kind, SourceKind::ForeignName("/dev/sda1".into()));
    assert_eq!(entries[1].resolution, Resolution::Missing);
    assert!(entries[1].would_stall_boot());
    assert_eq!(entries[2].kind, SourceKind::Label("backup".into()));
    assert!(entries[2].nofail() && !entries[2].would_stall_boot());
    assert_eq!(entries[2].systemd_options(), ["x-systemd.device-timeout=5"]);
    assert!(entries[3].noauto());
    assert_eq!(
        entries[3].kind,
        SourceKind::ForeignName("/dev/xvdb1".into())
    );
    assert!(matches!(entries[4].kind, SourceKind::ByIdOrPath(_)));
    assert_eq!(entries[5].kind, SourceKind::VirtioName("/dev/vdb1".into()));
    assert_eq!(
        entries[5].resolution,
        Resolution::Missing,
        "no second virtio disk in the image"
    );
    let stalling: Vec<&str> = entries
        .iter()
        .filter(|e| e.would_stall_boot())
        .map(|e| e.mount_point.as_str())
        .collect();
    assert_eq!(
        stalling,
        ["/data", "/var", "/opt", "/usr"],
        "root, nofail, noauto, network, pseudo and removable entries do not stall"
    );
    assert!(matches!(entries[6].kind, SourceKind::Network(_)));
    assert!(!entries[6].netdev());
    assert!(matches!(entries[7].kind, SourceKind::Pseudo(_)));
    assert!(matches!(entries[8].kind, SourceKind::Removable(_)));
    assert!(matches!(entries[9].kind, SourceKind::Bind(_)));
    assert_eq!(entries[10].kind, SourceKind::Label("My Disk".into()));
    assert_eq!(entries[10].mount_point, "/mnt/my disk");
    assert_eq!(
        entries[11].kind,
        SourceKind::Lvm("vg-data".into(), "lv-one".into())
    );
    assert_eq!(entries[11].resolution, Resolution::Missing);
}

#[test]
fn source_forms() {
    assert_eq!(
        classify_source("/dev/disk/by-uuid/abc", "ext4"),
        SourceKind::Uuid("abc".into())
    );
    assert_eq!(
        classify_source("PARTUUID=c7a9e8b1-01", "ext4"),
        SourceKind::PartUuid("c7a9e8b1-01".into())
    );
    assert_eq!(
        classify_source("PARTLABEL=root", "ext4"),
        SourceKind::PartLabel("root".into())
    );
    assert_eq!(
        classify_source("/dev/centos/root", "xfs"),
        SourceKind::Lvm("centos".into(), "root".into())
    );
    assert_eq!(
        classify_source("/dev/hda2", "ext3"),
        SourceKind::ForeignName("/dev/hda2".into())
    );
    assert_eq!(
        classify_source("/dev/nvme0n1p2", "ext4"),
        SourceKind::ForeignName("/dev/nvme0n1p2".into())
    );
    assert_eq!(
        classify_source("/dev/cciss/c0d0p1", "ext4"),
        SourceKind::ForeignName("/dev/cciss/c0d0p1".into())
    );
    assert_eq!(
        classify_source("/dev/mapper/luks-1234", "ext4"),
        SourceKind::Lvm("luks".into(), "1234".into())
    );
    assert_eq!(
        classify_source("/dev/mapper/cryptroot", "ext4"),
        SourceKind::Mapper("/dev/mapper/cryptroot".into())
    );
    assert_eq!(
        split_mapper_name("ubuntu--vg-ubuntu--lv"),
        Some(("ubuntu-vg".into(), "ubuntu-lv".into()))
    );
    assert_eq!(split_mapper_name("novg"), None);
    assert_eq!(unescape_fstab("a\\040b\\011c\\134d\\9"), "a b\tc\\d\\9");
}

#[test]
fn resume_references() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/etc/fstab", "/dev/sda5 none swap sw 0 0\n");
    write(
        d.path(),
        "/etc/default/grub",
        "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash resume=UUID=5d2c1b0a-0000-4000-8000-000000000001\"\nGRUB_CMDLINE_LINUX=\"\"\n",
    );
    write(
        d.path(),
        "/etc/initramfs-tools/conf.d/resume",
        "RESUME=/dev/sda5\n",
    );
    let g = DirGuest::new(d.path()).with_volumes(volumes());
    let fact = storage_facts(
        &g,
        Some("BOOT_IMAGE=/vmlinuz root=UUID=x ro resume=/dev/mapper/centos-swap"),
    );
    let f = fact.get().unwrap();
    assert_eq!(f.resume.len(), 3);
    assert_eq!(f.resume[0].evidence.location, "kernel command line");
    assert_eq!(
        f.resume[0].resolution,
        Resolution::Found("/dev/mapper/centos-swap".into())
    );
    assert_eq!(f.resume[1].evidence.location, "/etc/default/grub");
    assert!(matches!(f.resume[1].resolution, Resolution::Found(_)));
    assert_eq!(
        f.resume[2].kind,
        SourceKind::ForeignName("/dev/sda5".into())
    );
    let swap = f.swap_entries().next().unwrap();
    assert_eq!(swap.kind, SourceKind::ForeignName("/dev/sda5".into()));
}

#[test]
fn absent_and_unreadable_fstab() {
    let d = tempfile::tempdir().unwrap();
    let g = DirGuest::new(d.path());
    let fact = storage_facts(&g, None);
    assert!(!fact.get().unwrap().fstab_read);
    assert_eq!(fact.evidence[0].value, "absent");
    // A directory where the file should be: exists, cannot be read.
    std::fs::create_dir_all(d.path().join("etc/fstab")).unwrap();
    let fact = storage_facts(&g, None);
    assert!(fact.unknown.is_some());
}

#[test]
fn hostile_fstab_is_bounded() {
    let many: String = (0..5000)
        .map(|i| format!("UUID={i} /m{i} ext4 defaults 0 0\n"))
        .collect();
    assert_eq!(
        parse_fstab(&many, &[]).len(),
        imsprep_guest::linux::storage::MAX_FSTAB_ENTRIES
    );
    let junk = "\\\\\\0\\7777 \\ \n/dev/sd\n\0\0\0 / \n\\040\\040\\040";
    let _ = parse_fstab(junk, &[]);
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("etc/fstab");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::File::create(&path)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let fact = storage_facts(&DirGuest::new(d.path()), None);
    assert!(fact.unknown.as_deref().unwrap().contains("limit"));
}

#[test]
fn mount_units_crypttab_and_lvm_config() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/etc/fstab", "/dev/mapper/luks-0b6f /home ext4 defaults 0 2\n/dev/mapper/centos-root / xfs defaults 0 0\n");
    write(
        r,
        "/etc/crypttab",
        "# <name> <device> <password> <options>\nluks-0b6f UUID=0b6f0d1e-aaaa none luks,discard\n",
    );
    write(r, "/etc/systemd/system/data.mount", "[Unit]\nDescription=Data\n[Mount]\nWhat=/dev/disk/by-uuid/77777777-0000-4000-8000-000000000000\nWhere=/data\nType=xfs\nOptions=defaults\n[Install]\nWantedBy=local-fs.target\n");
    common::symlink(
        r,
        "/etc/systemd/system/local-fs.target.wants/data.mount",
        "/etc/systemd/system/data.mount",
    );
    write(
        r,
        "/etc/systemd/system/idle.mount",
        "[Mount]\nWhat=/dev/sdz1\nWhere=/idle\n",
    );
    write(
        r,
        "/etc/lvm/lvm.conf",
        "devices {\n\t# filter = [ \"a|.*|\" ]\n\tfilter = [ \"a|^/dev/sd.*|\", \"r|.*|\" ]\n\tuse_devicesfile = 1\n}\n",
    );
    write(
        r,
        "/etc/lvm/devices/system.devices",
        "# LVM uses devices listed in this file.\n# Created by LVM command vgimportdevices pid 1234 at Mon Jan  1 00:00:00 2024\nVERSION=1.1.2\nIDTYPE=sys_wwid IDNAME=t10.ATA_VBOX_HARDDISK_VB1234-5678 DEVNAME=/dev/sda2 PVID=Xk3lP0aBcDeFgHiJkLmNoPqRsTuVwXyZ PART=2\n",
    );
    let g = DirGuest::new(r).with_volumes(volumes());
    let fact = storage_facts(&g, None);
    let f = fact.get().unwrap();
    assert_eq!(f.crypttab_names, ["luks-0b6f"]);
    assert_eq!(
        f.fstab[0].kind,
        SourceKind::Mapper("/dev/mapper/luks-0b6f".into())
    );
    assert!(!f.fstab[0].would_stall_boot());
    assert_eq!(f.mount_units.len(), 1, "idle.mount is not enabled");
    let unit = &f.mount_units[0];
    assert_eq!(unit.file, "/etc/systemd/system/data.mount");
    assert_eq!(unit.mount_point, "/data");
    assert_eq!(unit.resolution, Resolution::Missing);
    assert!(unit
        .evidence()
        .value
        .starts_with("What=/dev/disk/by-uuid/7777"));
    assert_eq!(f.stalling_entries().count(), 1);
    assert_eq!(f.lvm.filters.len(), 1);
    assert!(f.lvm.filters[0].value.contains("/dev/sd"));
    assert_eq!(f.lvm.use_devicesfile.as_ref().unwrap().0, "1");
    let devs = f.lvm.devices_file.as_ref().unwrap();
    assert_eq!(devs.len(), 1);
    assert_eq!(devs[0].dev_name, "/dev/sda2");
    assert_eq!(devs[0].id_type, "sys_wwid");
    assert_eq!(
        f.device_for("/", &volumes()).as_deref(),
        Some("/dev/mapper/centos-root")
    );
    assert_eq!(
        f.device_for("/boot", &volumes()).as_deref(),
        Some("/dev/vda1"),
        "from the volume's mount point"
    );
    assert_eq!(f.device_for("/srv", &volumes()), None);
}
