//! LX-KERNEL, LX-VIRTIO-KERNEL, LX-VIRTIO-INITRD, LX-INITRD-HOSTONLY and
//! LX-INITRD-CMDLINE on guest trees with real initramfs archives.

mod common;

use common::{cpio_newc, pipe, symlink, write};
use imsprep_guest::linux::bootmode::BootMode;
use imsprep_guest::linux::identity::OsFamily;
use imsprep_guest::linux::initramfs::Compression;
use imsprep_guest::linux::{initrd_generator, inspect_linux, kernels};
use imsprep_guest::{DirGuest, DiskFacts, PartitionTable};
use std::path::Path;

const RHEL: &str = "5.14.0-362.8.1.el9_3.x86_64";
const UBUNTU: &str = "5.15.0-91-generic";

/// A RHEL 9 guest whose initramfs was built host-only on VMware: no virtio,
/// root named by a device name in etc/cmdline.d.
fn rhel_vmware_tree(root: &Path) {
    write(
        root,
        "/etc/os-release",
        "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"9.3\"\n",
    );
    write(
        root,
        "/boot/grub2/grub.cfg",
        "set default=\"${saved_entry}\"\nblscfg\n",
    );
    write(
        root,
        "/boot/grub2/grubenv",
        format!("saved_entry=abc-{RHEL}\n"),
    );
    write(
        root,
        &format!("/boot/loader/entries/abc-{RHEL}.conf"),
        format!("title Red Hat Enterprise Linux ({RHEL}) 9.3 (Plow)\nversion {RHEL}\nlinux /vmlinuz-{RHEL}\ninitrd /initramfs-{RHEL}.img $tuned_initrd\noptions root=/dev/mapper/rhel-root ro rd.lvm.lv=rhel/root\n"),
    );
    write(root, &format!("/boot/vmlinuz-{RHEL}"), "kernel");
    write(root, &format!("/boot/config-{RHEL}"), "CONFIG_VIRTIO=y\nCONFIG_VIRTIO_PCI=m\nCONFIG_VIRTIO_BLK=m\nCONFIG_SCSI_VIRTIO=m\nCONFIG_VIRTIO_NET=m\n# CONFIG_VIRTIO_CONSOLE is not set\n");
    write(root, &format!("/boot/System.map-{RHEL}"), "");
    let m = format!("/lib/modules/{RHEL}");
    write(
        root,
        &format!("{m}/modules.builtin"),
        "kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\n",
    );
    write(root, &format!("{m}/modules.dep"), "kernel/drivers/block/virtio_blk.ko.xz:\nkernel/drivers/scsi/virtio_scsi.ko.xz:\nkernel/drivers/net/virtio_net.ko.xz: kernel/net/core/failover.ko.xz\nkernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz\nkernel/drivers/virtio/virtio_pci_modern_dev.ko.xz:\nkernel/drivers/scsi/vmw_pvscsi.ko.xz:\n");
    write(
        root,
        "/etc/dracut.conf",
        "# PUT YOUR CONFIG IN separate files\n",
    );
    write(
        root,
        "/usr/lib/dracut/dracut.conf.d/01-dist.conf",
        "hostonly=\"yes\"\nomit_drivers+=\" virtio-net \"\n",
    );
    write(
        root,
        "/etc/dracut.conf.d/50-extra.conf",
        "add_drivers+=\" vmw_pvscsi \"\n",
    );

    // The initramfs: early microcode cpio + xz main archive.
    let early = tempfile::tempdir().unwrap();
    write(early.path(), "early_cpio", "1\n");
    write(
        early.path(),
        "kernel/x86/microcode/GenuineIntel.bin",
        "ucode",
    );
    let main = tempfile::tempdir().unwrap();
    write(
        main.path(),
        &format!("usr/lib/modules/{RHEL}/kernel/drivers/scsi/vmw_pvscsi.ko.xz"),
        "m",
    );
    write(
        main.path(),
        &format!("usr/lib/modules/{RHEL}/modules.builtin"),
        "kernel/drivers/virtio/virtio.ko\n",
    );
    write(main.path(), "etc/cmdline.d/00-btrfs.conf", "\n");
    write(
        main.path(),
        "etc/cmdline.d/90lvm.conf",
        " rd.lvm.lv=rhel/root\n",
    );
    write(
        main.path(),
        "etc/cmdline.d/95root-dev.conf",
        " root=/dev/sda2 rootfstype=xfs rootflags=rw,relatime\n",
    );
    symlink(main.path(), "lib", "usr/lib");
    let mut img = cpio_newc(early.path());
    img.extend(pipe(
        "xz",
        &["-c", "--check=crc32"],
        &cpio_newc(main.path()),
    ));
    write(root, &format!("/boot/initramfs-{RHEL}.img"), img);
}

#[test]
fn hostonly_vmware_initramfs_gives_the_fail_side_facts() {
    let dir = tempfile::tempdir().unwrap();
    rhel_vmware_tree(dir.path());
    let guest = DirGuest::new(dir.path());
    let facts = inspect_linux(&guest);

    let ks = facts.kernels.value.as_ref().unwrap();
    assert_eq!(ks.len(), 1);
    assert_eq!(ks[0].initrds, vec![format!("/boot/initramfs-{RHEL}.img")]);
    assert_eq!(
        ks[0].system_map.as_deref(),
        Some(&*format!("/boot/System.map-{RHEL}"))
    );

    let v = facts.virtio.value.as_ref().unwrap();
    assert_eq!(v.kernel_version, RHEL);
    let blk = v.module("virtio_blk").unwrap();
    assert!(!blk.builtin);
    assert_eq!(
        blk.module_file.as_deref(),
        Some(&*format!(
            "/lib/modules/{RHEL}/kernel/drivers/block/virtio_blk.ko.xz"
        ))
    );
    assert_eq!(blk.in_initrd, None, "host-only initramfs has no virtio_blk");
    assert!(v.module("virtio_pci").unwrap().in_initrd.is_none());
    assert!(v.module("virtio").unwrap().builtin);
    assert!(v.module("virtio").unwrap().builtin_in_initrd);
    assert!(v.module("virtio_ring").unwrap().builtin);
    assert!(v.module("virtio_console").unwrap().module_file.is_none());
    assert_eq!(v.initrd_unknown, None);
    let listing = v.initrd.as_ref().unwrap();
    assert_eq!(
        listing
            .members
            .iter()
            .map(|m| m.compression)
            .collect::<Vec<_>>(),
        vec![Compression::None, Compression::Xz]
    );
    let cmd: Vec<&str> = v.initrd_cmdline.iter().map(|s| s.value.as_str()).collect();
    assert!(cmd.contains(&"root=/dev/sda2"), "{cmd:?}");
    assert!(cmd.contains(&"rd.lvm.lv=rhel/root"));
    assert!(facts.virtio.evidence.iter().any(|e| e.location
        == format!("/boot/initramfs-{RHEL}.img!etc/cmdline.d/95root-dev.conf")
        && e.value == "root=/dev/sda2"));
    assert!(facts
        .virtio
        .evidence
        .iter()
        .any(|e| e.value == "CONFIG_VIRTIO_BLK=m"));

    let g = facts.initrd_generator.value.as_ref().unwrap();
    assert!(g.dracut);
    assert_eq!(g.dracut_hostonly.as_deref(), Some("yes"));
    assert_eq!(g.dracut_add_drivers, vec!["vmw_pvscsi"]);
    assert_eq!(g.dracut_omit_drivers, vec!["virtio_net"]);

    let boot = facts.boot.value.as_ref().unwrap();
    assert_eq!(
        boot.default_entry().unwrap().arg("root"),
        vec!["/dev/mapper/rhel-root"]
    );
    assert_eq!(
        facts.identity.value.as_ref().unwrap().family,
        OsFamily::Rhel
    );
}

#[test]
fn after_adding_virtio_to_the_initramfs() {
    let dir = tempfile::tempdir().unwrap();
    rhel_vmware_tree(dir.path());
    let main = tempfile::tempdir().unwrap();
    for m in [
        "block/virtio_blk",
        "virtio/virtio_pci",
        "virtio/virtio_pci_modern_dev",
        "scsi/virtio_scsi",
    ] {
        write(
            main.path(),
            &format!("usr/lib/modules/{RHEL}/kernel/drivers/{m}.ko.xz"),
            "m",
        );
    }
    let img = pipe("gzip", &["-c"], &cpio_newc(main.path()));
    write(dir.path(), &format!("/boot/initramfs-{RHEL}.img"), img);
    let facts = inspect_linux(&DirGuest::new(dir.path()));
    let v = facts.virtio.value.unwrap();
    assert_eq!(
        v.module("virtio_blk").unwrap().in_initrd.as_deref(),
        Some(&*format!(
            "usr/lib/modules/{RHEL}/kernel/drivers/block/virtio_blk.ko.xz"
        ))
    );
    assert!(v.module("virtio_pci").unwrap().in_initrd.is_some());
    assert!(v.initrd_cmdline.is_empty());
}

/// Ubuntu: virtio_blk and virtio_pci built in, only virtio_scsi in the
/// initramfs (the IMS example), initramfs-tools with MODULES=dep.
fn ubuntu_tree(root: &Path) {
    write(root, "/etc/os-release", "NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.3 LTS (Jammy Jellyfish)\"\n");
    write(root, "/boot/grub/grub.cfg", format!("set default=\"0\"\nmenuentry 'Ubuntu' $menuentry_id_option 'gnulinux-simple-x' {{\n\tlinux\t/boot/vmlinuz-{UBUNTU} root=UUID=0f3c ro console=ttyS0\n\tinitrd\t/boot/initrd.img-{UBUNTU}\n}}\n"));
    write(root, &format!("/boot/vmlinuz-{UBUNTU}"), "k");
    write(root, &format!("/boot/config-{UBUNTU}"), "CONFIG_VIRTIO=y\nCONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_BLK=y\nCONFIG_SCSI_VIRTIO=m\nCONFIG_VIRTIO_NET=y\n");
    symlink(root, "/lib", "usr/lib");
    let m = format!("/usr/lib/modules/{UBUNTU}");
    write(root, &format!("{m}/modules.builtin"), "kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/block/virtio_blk.ko\nkernel/drivers/net/virtio_net.ko\n");
    write(
        root,
        &format!("{m}/kernel/drivers/scsi/virtio_scsi.ko"),
        "m",
    );
    // An older kernel without modules: listed, not the default.
    write(root, "/boot/vmlinuz-5.15.0-88-generic", "k");
    write(
        root,
        "/etc/initramfs-tools/initramfs.conf",
        "MODULES=most\nBUSYBOX=auto\n",
    );
    write(
        root,
        "/etc/initramfs-tools/conf.d/driver-policy",
        "# Driver inclusion policy selected during installation\nMODULES=dep\n",
    );
    write(
        root,
        "/etc/initramfs-tools/modules",
        "# List of modules\nvirtio-scsi\n",
    );

    let early = tempfile::tempdir().unwrap();
    write(
        early.path(),
        "kernel/x86/microcode/AuthenticAMD.bin",
        "ucode",
    );
    let main = tempfile::tempdir().unwrap();
    write(
        main.path(),
        &format!("usr/lib/modules/{UBUNTU}/kernel/drivers/scsi/virtio_scsi.ko"),
        "m",
    );
    write(main.path(), "conf/conf.d/resume", "RESUME=/dev/sda3\n");
    write(main.path(), "conf/param.conf", "");
    write(main.path(), "etc/udev/rules.d/70-persistent-net.rules", "# net device\nSUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"00:50:56:aa:bb:cc\", NAME=\"eth0\"\n");
    let mut img = cpio_newc(early.path());
    img.extend(pipe("zstd", &["-c", "-q"], &cpio_newc(main.path())));
    write(root, &format!("/boot/initrd.img-{UBUNTU}"), img);
    write(root, "/boot/efi/EFI/ubuntu/shimx64.efi", "MZ");
    write(root, "/boot/efi/EFI/BOOT/BOOTX64.EFI", "MZ");
    let sh = std::fs::read(std::fs::canonicalize("/bin/sh").unwrap()).unwrap();
    write(root, "/usr/bin/dash", sh);
    symlink(root, "/bin", "usr/bin");
    symlink(root, "/usr/bin/sh", "dash");
}

#[test]
fn ubuntu_builtins_count_and_host_values_are_found() {
    let dir = tempfile::tempdir().unwrap();
    ubuntu_tree(dir.path());
    let guest = DirGuest::new(dir.path())
        .with_volumes(vec![imsprep_guest::VolumeInfo {
            device: "/dev/vda15".into(),
            mount_point: Some("/boot/efi".into()),
            is_esp: true,
            ..Default::default()
        }])
        .with_disk(DiskFacts {
            partition_table: PartitionTable::Gpt,
            mbr_boot_code: true,
            bios_boot_partition: true,
            esp_device: Some("/dev/vda15".into()),
            ..DiskFacts::default()
        });
    let facts = inspect_linux(&guest);
    let ks = facts.kernels.value.as_ref().unwrap();
    assert_eq!(
        ks.iter().map(|k| k.version.as_str()).collect::<Vec<_>>(),
        vec!["5.15.0-88-generic", UBUNTU]
    );
    assert!(ks[0].modules_dir.is_none());
    assert_eq!(
        ks[1].modules_dir.as_deref(),
        Some(&*format!("/lib/modules/{UBUNTU}"))
    );

    let v = facts.virtio.value.as_ref().unwrap();
    for name in [
        "virtio",
        "virtio_ring",
        "virtio_pci",
        "virtio_blk",
        "virtio_net",
    ] {
        let m = v.module(name).unwrap();
        assert!(m.builtin, "{name}");
        assert!(m.in_initrd.is_none(), "{name}");
    }
    let scsi = v.module("virtio_scsi").unwrap();
    assert!(!scsi.builtin);
    assert_eq!(
        scsi.module_file.as_deref(),
        Some(&*format!(
            "/lib/modules/{UBUNTU}/kernel/drivers/scsi/virtio_scsi.ko"
        ))
    );
    assert!(scsi.in_initrd.is_some());
    assert_eq!(
        v.initrd_cmdline
            .iter()
            .map(|s| s.value.as_str())
            .collect::<Vec<_>>(),
        vec!["resume=/dev/sda3"]
    );
    assert_eq!(v.initrd_persistent_net.len(), 1);
    assert!(v.initrd_persistent_net[0]
        .value
        .contains("00:50:56:aa:bb:cc"));

    let g = facts.initrd_generator.value.as_ref().unwrap();
    assert!(g.initramfs_tools && !g.dracut);
    assert_eq!(g.initramfs_tools_modules.as_deref(), Some("dep"));
    assert_eq!(g.initramfs_tools_module_list, vec!["virtio_scsi"]);

    assert_eq!(
        facts.boot_mode.value.as_ref().unwrap().mode,
        BootMode::Hybrid
    );
    assert_eq!(facts.arch.value.as_ref().unwrap().binary, "/usr/bin/dash");
    assert_eq!(
        facts
            .identity
            .value
            .as_ref()
            .unwrap()
            .full_version
            .as_deref(),
        Some("22.04.3")
    );
}

#[test]
fn missing_pieces_are_said() {
    // Default kernel not installed; no generator configuration.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/boot/grub/grub.cfg", "menuentry 'x' {\n linux /boot/vmlinuz-6.1.0-9-amd64 root=UUID=1\n initrd /boot/initrd.img-6.1.0-9-amd64\n}\n");
    let facts = inspect_linux(&DirGuest::new(dir.path()));
    assert!(facts.virtio.unknown.unwrap().contains("6.1.0-9-amd64"));
    assert!(facts.initrd_generator.value.is_none() && facts.initrd_generator.unknown.is_none());
    assert!(kernels::inspect(&DirGuest::new(dir.path()))
        .value
        .unwrap()
        .is_empty());
    assert!(initrd_generator::inspect(&DirGuest::new(dir.path()))
        .value
        .is_none());

    // A damaged initramfs: the listing says why.
    let dir = tempfile::tempdir().unwrap();
    ubuntu_tree(dir.path());
    let path = dir.path().join(format!("boot/initrd.img-{UBUNTU}"));
    let mut data = std::fs::read(&path).unwrap();
    data.truncate(data.len() - 30);
    std::fs::write(&path, data).unwrap();
    let facts = inspect_linux(&DirGuest::new(dir.path()));
    let v = facts.virtio.value.unwrap();
    assert!(v.initrd_unknown.is_some());
    assert!(v.module("virtio_blk").unwrap().builtin);
}

#[test]
fn xen_pv_only_kernels_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/boot/vmlinuz-3.0.101-63-xen", "k");
    write(dir.path(), "/boot/vmlinuz-2.6.32-754.el6.x86_64", "k");
    write(
        dir.path(),
        "/boot/config-2.6.32-754.el6.x86_64",
        "CONFIG_X86_64_XEN=y\n",
    );
    write(dir.path(), "/boot/vmlinuz-5.14.0-1.el9.x86_64", "k");
    write(
        dir.path(),
        "/boot/config-5.14.0-1.el9.x86_64",
        "CONFIG_XEN=y\nCONFIG_XEN_PV=y\n",
    );
    let ks = kernels::inspect(&DirGuest::new(dir.path())).value.unwrap();
    let by = |v: &str| ks.iter().find(|k| k.version == v).unwrap().xen_pv.clone();
    assert!(by("3.0.101-63-xen").unwrap().contains("flavour"));
    assert!(by("2.6.32-754.el6.x86_64")
        .unwrap()
        .starts_with("CONFIG_X86_64_XEN=y"));
    assert_eq!(
        by("5.14.0-1.el9.x86_64"),
        None,
        "pvops kernels also boot on KVM"
    );
}

#[test]
fn suse_vmlinuz_link_names_the_default_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ver = "5.14.21-150500.55.39-default";
    write(root, "/boot/grub2/grub.cfg", "menuentry 'SLES 15-SP5' {\n\tlinux\t/boot/vmlinuz root=UUID=5a1e ${extra_cmdline} splash=silent\n\tinitrd\t/boot/initrd\n}\n");
    write(root, &format!("/boot/vmlinuz-{ver}"), "k");
    symlink(root, "/boot/vmlinuz", &format!("vmlinuz-{ver}"));
    let main = tempfile::tempdir().unwrap();
    write(
        main.path(),
        &format!("lib/modules/{ver}/kernel/drivers/block/virtio_blk.ko.zst"),
        "m",
    );
    write(
        root,
        &format!("/boot/initrd-{ver}"),
        pipe("xz", &["-c", "--check=crc32"], &cpio_newc(main.path())),
    );
    symlink(root, "/boot/initrd", &format!("initrd-{ver}"));
    write(
        root,
        &format!("/lib/modules/{ver}/modules.builtin"),
        "kernel/drivers/virtio/virtio.ko\n",
    );
    let facts = inspect_linux(&DirGuest::new(root));
    let v = facts.virtio.value.unwrap();
    assert_eq!(v.kernel_version, ver);
    assert!(v.module("virtio_blk").unwrap().in_initrd.is_some());
    assert!(v.module("virtio").unwrap().builtin);
}
