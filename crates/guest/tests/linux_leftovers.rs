//! Leftovers of other hypervisors.

mod common;

use common::{symlink, write};
use imsprep_guest::linux::leftovers::{leftover_facts, ToolKind};
use imsprep_guest::linux::packages::installed_packages;
use imsprep_guest::DirGuest;

#[test]
fn uvp_xen_and_vmware_tarball() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/etc/.uvp-monitor/uninstall", "#!/bin/bash\n");
    write(r, "/usr/bin/uvp-monitor", "\x7fELF");
    write(r, "/usr/bin/vmware-uninstall-tools.pl", "#!/usr/bin/perl\n");
    write(r, "/etc/vmware-tools/locations", "answer BINDIR /usr/bin\n");
    write(
        r,
        "/etc/yum.repos.d/vmware-tools.repo",
        "[vmware-tools]\nbaseurl=https://packages.vmware.com/tools/esx/latest/rhel6/x86_64\n",
    );
    write(r, "/etc/sysconfig/kernel", "INITRD_MODULES=\"xenblk xennet processor thermal\"\nDOMU_INITRD_MODULES=\"xennet xenblk\"\n");
    write(
        r,
        "/etc/modprobe.d/xen.conf",
        "alias eth0 xennet\nalias scsi_hostadapter xenblk\noptions foo bar=1\n",
    );
    write(
        r,
        "/etc/modprobe.conf",
        "alias eth0 vmxnet3\nalias scsi_hostadapter vmw_pvscsi\n",
    );
    write(r, "/etc/inittab", "id:3:initdefault:\n#co:2345:respawn:/sbin/agetty xvc0 9600 vt100-nav\nco:2345:respawn:/sbin/agetty hvc0 9600 vt100-nav\n");
    write(r, "/etc/securetty", "console\nvc/1\ntty1\nxvc0\nhvc0\n");
    write(r, "/etc/X11/xorg.conf", "Section \"Device\"\n    Identifier  \"VMware SVGA\"\n    Driver      \"vmware\"\nEndSection\n");
    write(
        r,
        "/var/log/rainbow_modification_record.log",
        "2019-01-01 modified /etc/fstab\n",
    );
    write(r, "/etc/rc.d/init.d/kudzu", "#!/bin/sh\n");
    symlink(r, "/etc/rc.d/rc3.d/S05kudzu", "../init.d/kudzu");
    let g = DirGuest::new(r);
    let f = leftover_facts(
        &g,
        Some("ro root=/dev/xvda1 console=hvc0 xen_emul_unplug=never"),
        None,
    );
    assert_eq!(f.tool(ToolKind::UvpPv).unwrap().evidence.len(), 2);
    assert_eq!(f.tool(ToolKind::VmwareTarball).unwrap().evidence.len(), 3);
    assert!(f.tool(ToolKind::OpenVmTools).is_none());
    assert_eq!(
        f.xen_modules.len(),
        4,
        "two module lists and two aliases: {:?}",
        f.xen_modules
    );
    assert_eq!(f.vmware_aliases.len(), 2);
    // inittab: the hvc0 line (the commented xvc0 is not); securetty: two;
    // command line: two.
    assert_eq!(f.xen_consoles.len(), 5, "{:?}", f.xen_consoles);
    assert!(f.kudzu.as_ref().unwrap().enabled());
    assert_eq!(f.xorg_drivers[0].0, "vmware");
    assert_eq!(f.xorg_drivers[0].1.value, "line 3: Driver \"vmware\"");
    assert!(f.autoconf_trace.is_some());
}

#[test]
fn open_vm_tools_and_virtualbox_by_package() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        "/var/lib/dpkg/status",
        "Package: open-vm-tools\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2:12.1.5-3~ubuntu0.22.04.1\n\nPackage: virtualbox-guest-utils\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6.1.50-dfsg-1~ubuntu1.22.04.1\n\nPackage: xe-guest-utilities\nStatus: deinstall ok config-files\nVersion: 7.20.2-0ubuntu1\n",
    );
    write(r, "/usr/bin/vmtoolsd", "\x7fELF");
    write(
        r,
        "/opt/VBoxGuestAdditions-7.0.10/init/vboxadd",
        "#!/bin/sh\n",
    );
    let g = DirGuest::new(r);
    let pk = installed_packages(&g);
    let f = leftover_facts(&g, None, pk.get());
    assert_eq!(f.tool(ToolKind::OpenVmTools).unwrap().evidence.len(), 2);
    assert!(f.tool(ToolKind::VmwareTarball).is_none());
    let vbox = f.tool(ToolKind::VirtualBox).unwrap();
    assert!(vbox
        .evidence
        .iter()
        .any(|e| e.value.starts_with("virtualbox-guest-utils")));
    assert!(vbox
        .evidence
        .iter()
        .any(|e| e.location == "/opt/VBoxGuestAdditions-7.0.10"));
    assert!(
        f.tool(ToolKind::Citrix).is_none(),
        "config files only is not installed"
    );
}

#[test]
fn clean_guest_has_no_leftovers() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(
        r,
        "/etc/X11/xorg.conf",
        "Section \"Device\"\n  Identifier \"c\"\n  Driver \"modesetting\"\nEndSection\n",
    );
    write(
        r,
        "/etc/inittab",
        "id:3:initdefault:\n1:2345:respawn:/sbin/mingetty tty1\n",
    );
    let f = leftover_facts(&DirGuest::new(r), Some("ro console=ttyS0"), None);
    assert!(f.tools.is_empty() && f.xen_modules.is_empty() && f.xen_consoles.is_empty());
    assert!(f.kudzu.is_none() && f.autoconf_trace.is_none());
    assert_eq!(f.xorg_drivers[0].0, "modesetting");
}

#[test]
fn hostile_leftover_files_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    symlink(r, "/etc/modprobe.d", "/etc/modprobe.d");
    symlink(r, "/etc/X11/xorg.conf", "/etc/X11/xorg.conf");
    let big = r.join("etc/inittab");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(32 << 20)
        .unwrap();
    write(r, "/etc/securetty", "Section\nDriver\n\0\0\0hvc");
    let f = leftover_facts(&DirGuest::new(r), None, None);
    assert!(f.xen_consoles.is_empty() && f.xorg_drivers.is_empty());
}
