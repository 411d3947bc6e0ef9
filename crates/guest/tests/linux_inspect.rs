//! The Linux facts gathered by `inspect_linux`: the default entry's
//! kernel command line reaches the storage, network, cloud-init and
//! leftover facts.

mod common;

use common::{symlink, write};
use imsprep_guest::linux::network::{FirstNicDhcp, Stack};
use imsprep_guest::linux::storage::{Resolution, SourceKind};
use imsprep_guest::{inspect_linux, DirGuest, VolumeInfo};

#[test]
fn debian_guest_end_to_end() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        "/boot/grub/grub.cfg",
        "set default=\"0\"\nmenuentry 'Debian GNU/Linux' --class debian {\n\tlinux\t/boot/vmlinuz-6.1.0-18-amd64 root=UUID=2f4b1c9e-0e1d-4c0a-9a3b-5f0e7d6c1b2a ro net.ifnames=0 cloud-init=disabled resume=/dev/sda5 console=hvc0\n\tinitrd\t/boot/initrd.img-6.1.0-18-amd64\n}\n",
    );
    write(r, "/boot/vmlinuz-6.1.0-18-amd64", "kernel");
    write(r, "/boot/initrd.img-6.1.0-18-amd64", "initrd");
    write(r, "/etc/fstab", "UUID=2f4b1c9e-0e1d-4c0a-9a3b-5f0e7d6c1b2a / ext4 errors=remount-ro 0 1\n/dev/sda5 none swap sw 0 0\n");
    write(
        r,
        "/etc/network/interfaces",
        "auto eth0\niface eth0 inet dhcp\n",
    );
    write(
        r,
        "/lib/systemd/system/networking.service",
        "[Install]\nWantedBy=multi-user.target\n",
    );
    symlink(
        r,
        "/etc/systemd/system/multi-user.target.wants/networking.service",
        "/lib/systemd/system/networking.service",
    );
    write(
        r,
        "/var/lib/dpkg/status",
        "Package: cloud-init\nStatus: install ok installed\nVersion: 22.4.2-1\n",
    );
    write(r, "/usr/bin/cloud-init", "#!/usr/bin/python3\n");
    let vols = vec![VolumeInfo {
        device: "/dev/vda1".into(),
        fs_type: Some("ext4".into()),
        uuid: Some("2f4b1c9e-0e1d-4c0a-9a3b-5f0e7d6c1b2a".into()),
        mount_point: Some("/".into()),
        ..VolumeInfo::default()
    }];
    let facts = inspect_linux(&DirGuest::new(r).with_volumes(vols));
    let storage = facts.storage.get().unwrap();
    assert_eq!(
        storage.root_entry().unwrap().resolution,
        Resolution::Found("/dev/vda1".into())
    );
    assert_eq!(
        storage.resume[0].kind,
        SourceKind::ForeignName("/dev/sda5".into())
    );
    assert_eq!(storage.resume[0].evidence.location, "kernel command line");
    let net = facts.network.get().unwrap();
    assert_eq!(net.naming.first_nic.as_deref(), Some("eth0"));
    assert_eq!(net.enabled_stacks().collect::<Vec<_>>(), [Stack::Ifupdown]);
    assert_eq!(
        net.first_nic_dhcp(),
        FirstNicDhcp::Profile("/etc/network/interfaces".into(), "eth0".into())
    );
    let ci = facts.cloud_init.get().unwrap();
    assert_eq!(ci.version.as_ref().unwrap().0, "22.4.2");
    assert_eq!(ci.disabled_by[0].value, "cloud-init=disabled");
    assert_eq!(
        facts.leftovers.get().unwrap().xen_consoles[0].value,
        "console=hvc0"
    );
    assert!(facts.packages.get().unwrap().listed());
    assert!(facts.access.get().unwrap().ssh.binary.is_none());
}
