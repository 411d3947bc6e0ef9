//! Advisory facts (§3.9).

mod common;

use common::write;
use imsprep_guest::linux::advisory::advisory_facts;
use imsprep_guest::DirGuest;

#[test]
fn source_machine_traces() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/etc/machine-id", "4f2b0a6c9d8e4f10a1b2c3d4e5f60718\n");
    write(
        r,
        "/etc/adjtime",
        "0.000000 1700000000 0.000000\n1700000000\nLOCAL\n",
    );
    write(r, "/var/lib/dhclient/dhclient-eth0.leases", "lease {}\n");
    write(r, "/var/lib/dhclient/dhclient--eth0.lease", "lease {}\n");
    write(
        r,
        "/var/lib/NetworkManager/internal-1a2b-ens192.lease",
        "ADDRESS=10.0.0.5\n",
    );
    write(
        r,
        "/var/lib/NetworkManager/NetworkManager.state",
        "[main]\n",
    );
    write(r, "/var/lib/wicked/lease-eth0-dhcp-ipv4.xml", "<lease/>\n");
    let f = advisory_facts(
        &DirGuest::new(r),
        Some("BOOT_IMAGE=/vmlinuz root=/dev/mapper/rhel-root ro crashkernel=auto rhgb quiet console=tty0"),
    );
    assert_eq!(f.consoles, ["tty0"]);
    assert_eq!(f.quiet_boot, ["rhgb", "quiet"]);
    assert_eq!(f.crashkernel.as_deref(), Some("auto"));
    assert_eq!(f.machine_id.unwrap().value, "set");
    assert_eq!(f.rtc.unwrap().0, "LOCAL");
    let leases: Vec<&str> = f.dhcp_leases.iter().map(|e| e.location.as_str()).collect();
    assert_eq!(
        leases,
        [
            "/var/lib/dhclient/dhclient--eth0.lease",
            "/var/lib/dhclient/dhclient-eth0.leases",
            "/var/lib/NetworkManager/internal-1a2b-ens192.lease",
            "/var/lib/wicked/lease-eth0-dhcp-ipv4.xml"
        ]
    );
}

#[test]
fn generalised_image() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "/etc/machine-id", "");
    write(r, "/etc/adjtime", "0.0 0 0.0\n0\nUTC\n");
    let f = advisory_facts(
        &DirGuest::new(r),
        Some("root=UUID=x ro console=tty0 console=ttyS0,115200n8"),
    );
    assert_eq!(f.consoles, ["tty0", "ttyS0,115200n8"]);
    assert!(f.quiet_boot.is_empty() && f.crashkernel.is_none() && f.dhcp_leases.is_empty());
    assert_eq!(f.machine_id.unwrap().value, "empty");
    assert_eq!(f.rtc.unwrap().0, "UTC");
    let none = advisory_facts(&DirGuest::new(tempfile::tempdir().unwrap().path()), None);
    assert!(none.machine_id.is_none() && none.rtc.is_none());
}
