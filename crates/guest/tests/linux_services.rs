//! Service enablement and installed packages, on guest trees built in a
//! temporary directory with the links `systemctl enable`/`mask` write
//! (made with `ln -s`).

mod common;

use std::path::Path;
use std::process::Command;

use common::write;
use imsprep_guest::linux::packages::{installed_packages, PackageSource};
use imsprep_guest::linux::services::{default_target, inittab_default, unit_state};
use imsprep_guest::DirGuest;

/// `ln -s target link` inside the tree.
fn ln_s(root: &Path, link: &str, target: &str) {
    let p = root.join(link.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let st = Command::new("ln")
        .arg("-s")
        .arg(target)
        .arg(&p)
        .status()
        .unwrap();
    assert!(st.success());
}

const SSHD_UNIT: &str = "[Unit]\nDescription=OpenSSH server daemon\n[Service]\nExecStart=/usr/sbin/sshd -D\n[Install]\nWantedBy=multi-user.target\n";

#[test]
fn enabled_unit_has_a_wants_link() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/usr/lib/systemd/system/sshd.service", SSHD_UNIT);
    ln_s(
        d.path(),
        "/etc/systemd/system/multi-user.target.wants/sshd.service",
        "/usr/lib/systemd/system/sshd.service",
    );
    let g = DirGuest::new(d.path());
    let st = unit_state(&g, "sshd.service", Some("sshd"));
    assert_eq!(
        st.unit_file.as_deref(),
        Some("/usr/lib/systemd/system/sshd.service")
    );
    assert!(st.installed() && st.enabled());
    assert_eq!(
        st.enabled_by,
        ["/etc/systemd/system/multi-user.target.wants/sshd.service"]
    );
    assert!(st.evidence().iter().any(|e| e.value == "enable link"));
}

#[test]
fn installed_but_not_enabled_and_vendor_wants_are_not_enablement() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/usr/lib/systemd/system/sshd.service", SSHD_UNIT);
    write(
        d.path(),
        "/usr/lib/systemd/system-preset/90-default.preset",
        "enable sshd.service\n",
    );
    ln_s(
        d.path(),
        "/usr/lib/systemd/system/multi-user.target.wants/sshd.service",
        "../sshd.service",
    );
    let g = DirGuest::new(d.path());
    let st = unit_state(&g, "sshd.service", None);
    assert!(st.installed());
    assert!(
        !st.enabled(),
        "a preset or vendor wants link is not enablement"
    );
    assert_eq!(st.vendor_wants.len(), 1);
    // Merged /usr: /lib is a link to usr/lib, the vendor link is seen once.
    ln_s(d.path(), "/lib", "usr/lib");
    let st = unit_state(&DirGuest::new(d.path()), "sshd.service", None);
    assert_eq!(
        st.vendor_wants,
        ["/usr/lib/systemd/system/multi-user.target.wants/sshd.service"]
    );
}

#[test]
fn masked_unit_never_starts() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/lib/systemd/system/ssh.service", SSHD_UNIT);
    ln_s(
        d.path(),
        "/etc/systemd/system/multi-user.target.wants/ssh.service",
        "/lib/systemd/system/ssh.service",
    );
    ln_s(d.path(), "/etc/systemd/system/ssh.service", "/dev/null");
    let g = DirGuest::new(d.path());
    let st = unit_state(&g, "ssh.service", None);
    assert_eq!(
        st.masked_by.as_deref(),
        Some("/etc/systemd/system/ssh.service")
    );
    assert_eq!(
        st.unit_file.as_deref(),
        Some("/lib/systemd/system/ssh.service")
    );
    assert!(!st.enabled());
}

#[test]
fn alias_link_enables_the_target_unit() {
    // Debian: `systemctl enable ssh` writes sshd.service -> ssh.service
    // and multi-user.target.wants/ssh.service.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/lib/systemd/system/ssh.service", SSHD_UNIT);
    ln_s(
        d.path(),
        "/etc/systemd/system/sshd.service",
        "/lib/systemd/system/ssh.service",
    );
    ln_s(
        d.path(),
        "/etc/systemd/system/sockets.target.wants/renamed.socket",
        "/lib/systemd/system/ssh.service",
    );
    let g = DirGuest::new(d.path());
    assert!(unit_state(&g, "ssh.service", None).enabled());
}

#[test]
fn sysv_start_links() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/etc/rc.d/init.d/network", "#!/bin/sh\n");
    ln_s(d.path(), "/etc/rc.d/rc3.d/S10network", "../init.d/network");
    ln_s(d.path(), "/etc/rc.d/rc3.d/K90other", "../init.d/other");
    let g = DirGuest::new(d.path());
    let st = unit_state(&g, "network.service", Some("network"));
    assert_eq!(st.sysv_script.as_deref(), Some("/etc/rc.d/init.d/network"));
    assert_eq!(st.sysv_start_links, ["/etc/rc.d/rc3.d/S10network"]);
    assert!(st.enabled());
    let off = unit_state(&g, "other.service", Some("other"));
    assert!(!off.enabled(), "a K link is not a start link");
}

#[test]
fn default_target_and_inittab() {
    let d = tempfile::tempdir().unwrap();
    ln_s(
        d.path(),
        "/etc/systemd/system/default.target",
        "/usr/lib/systemd/system/rescue.target",
    );
    write(d.path(), "/etc/inittab", "# default\nid:3:initdefault:\n");
    let g = DirGuest::new(d.path());
    let t = default_target(&g).unwrap();
    assert_eq!(t.target, "rescue.target");
    assert_eq!(t.evidence.location, "/etc/systemd/system/default.target");
    assert_eq!(inittab_default(&g).unwrap().0, "3");
    let empty = tempfile::tempdir().unwrap();
    assert!(default_target(&DirGuest::new(empty.path())).is_none());
}

#[test]
fn wants_link_loop_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    ln_s(
        d.path(),
        "/etc/systemd/system/multi-user.target.wants/a.service",
        "b.service",
    );
    ln_s(
        d.path(),
        "/etc/systemd/system/multi-user.target.wants/b.service",
        "a.service",
    );
    ln_s(d.path(), "/etc/systemd/system/loop.wants", "loop.wants");
    let g = DirGuest::new(d.path());
    let st = unit_state(&g, "a.service", None);
    assert!(!st.installed());
    assert_eq!(
        st.enabled_by.len(),
        2,
        "the link named a.service and the one pointing to it"
    );
}

/// A dpkg status file as dpkg writes it (fields, multi-line description,
/// conffiles, a removed package that left config files).
const DPKG_STATUS: &str = "Package: cloud-init
Status: install ok installed
Priority: optional
Section: admin
Installed-Size: 2884
Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>
Architecture: all
Version: 23.4.4-0ubuntu0~22.04.1
Depends: cloud-guest-utils | cloud-utils, isc-dhcp-client, netplan.io, procps, python3
Conffiles:
 /etc/cloud/cloud.cfg 9ad6d7b41b0a7e0f7a58a1e4fb0f27a5
Description: initialization and customization tool for cloud instances
 Cloud-init is the industry standard multi-distribution method for
 cross-platform cloud instance initialization.

Package: open-vm-tools
Status: deinstall ok config-files
Architecture: amd64
Version: 2:12.1.5-3~ubuntu0.22.04.1

Package: openssh-server
Status: install ok installed
Architecture: amd64
Version: 1:8.9p1-3ubuntu0.6
";

#[test]
fn dpkg_status_lists_installed_packages_only() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/var/lib/dpkg/status", DPKG_STATUS);
    let g = DirGuest::new(d.path());
    let f = installed_packages(&g);
    let p = f.get().unwrap();
    assert_eq!(p.source, PackageSource::Dpkg);
    assert_eq!(p.has_package("cloud-init"), Some(true));
    assert_eq!(p.packages["cloud-init"].version, "23.4.4-0ubuntu0~22.04.1");
    assert_eq!(
        p.has_package("open-vm-tools"),
        Some(false),
        "config-files only is not installed"
    );
    assert_eq!(p.has_package("openssh-server"), Some(true));
    assert_eq!(
        p.evidence_for("open-vm-tools").value,
        "open-vm-tools not installed"
    );
}

#[test]
fn rpm_database_is_noted_not_read() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/var/lib/rpm/rpmdb.sqlite", b"SQLite format 3\0");
    let g = DirGuest::new(d.path());
    let f = installed_packages(&g);
    let p = f.get().unwrap();
    assert_eq!(
        p.source,
        PackageSource::RpmNotRead {
            database: "/var/lib/rpm/rpmdb.sqlite".into()
        }
    );
    assert_eq!(
        p.has_package("cloud-init"),
        None,
        "unknown, callers use files"
    );
    assert_eq!(f.evidence[0].value, "rpm database not read");
}

#[test]
fn oversized_dpkg_status_is_unknown() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("var/lib/dpkg/status");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(imsprep_guest::linux::packages::DPKG_STATUS_LIMIT + 1)
        .unwrap();
    let fact = installed_packages(&DirGuest::new(d.path()));
    assert!(fact.unknown.as_deref().unwrap().contains("limit"));
}
