//! Network facts on guest trees with each stack's files as the
//! distributions write them.

mod common;

use common::{symlink, write};
use imsprep_guest::linux::network::{network_facts, FirstNicDhcp, Matcher, Stack};
use imsprep_guest::DirGuest;

fn enable(root: &std::path::Path, unit_dir: &str, unit: &str) {
    write(
        root,
        &format!("{unit_dir}/{unit}"),
        "[Install]\nWantedBy=multi-user.target\n",
    );
    symlink(
        root,
        &format!("/etc/systemd/system/multi-user.target.wants/{unit}"),
        &format!("{unit_dir}/{unit}"),
    );
}

const DEBIAN_INTERFACES: &str =
    "# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug ens3
iface ens3 inet dhcp
";

#[test]
fn debian_ifupdown_dhcp_with_include() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "/etc/network/interfaces", DEBIAN_INTERFACES);
    write(
        d.path(),
        "/etc/network/interfaces.d/eth1",
        "iface eth1 inet static\n    address 192.0.2.10/24\n    gateway 192.0.2.1\n    hwaddress ether 00:0c:29:ab:cd:ef\n",
    );
    enable(d.path(), "/lib/systemd/system", "networking.service");
    let g = DirGuest::new(d.path());
    let f = network_facts(&g, None);
    assert_eq!(f.profiles.len(), 2, "lo is skipped");
    // The include comes first in the file, so its stanza is read first.
    let ens3 = f.profiles.iter().find(|p| p.id == "ens3").unwrap();
    assert_eq!(ens3.stack, Stack::Ifupdown);
    assert!(ens3.dhcp4 && ens3.at_boot && !ens3.static_v4);
    assert_eq!(ens3.interface_name(), Some("ens3"));
    assert!(ens3.evidence[0]
        .value
        .contains("line 12: iface ens3 inet dhcp"));
    let eth1 = f.profiles.iter().find(|p| p.id == "eth1").unwrap();
    assert_eq!(eth1.file, "/etc/network/interfaces.d/eth1");
    assert!(eth1.static_v4 && !eth1.dhcp4 && !eth1.at_boot);
    assert!(eth1.mac_bound());
    assert_eq!(f.enabled_stacks().collect::<Vec<_>>(), [Stack::Ifupdown]);
    assert_eq!(f.naming.first_nic, None, "predictable naming is on");
    assert_eq!(f.first_nic_dhcp(), FirstNicDhcp::DependsOnName);
    let f = network_facts(&DirGuest::new(d.path()), Some("ro net.ifnames=0"));
    assert_eq!(
        f.first_nic_dhcp(),
        FirstNicDhcp::NoProfile,
        "ens3 is not eth0"
    );
}

#[test]
fn ifupdown_static_only_and_self_include() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "/etc/network/interfaces",
        "source /etc/network/interfaces\nsource-directory /etc/network/interfaces.d\nauto eth0\niface eth0 inet static\n  address 10.0.0.5\n",
    );
    write(
        d.path(),
        "/etc/network/interfaces.d/loop",
        "source /etc/network/interfaces.d/loop\n",
    );
    let f = network_facts(&DirGuest::new(d.path()), None);
    // The self-include is bounded; each read of the file adds its stanza.
    assert!(f.profiles.iter().all(|p| !p.dhcp4 && p.static_v4));
    assert!(f.profiles.len() <= imsprep_guest::linux::network::ifupdown::MAX_FILES);
    assert!(f.stacks.is_empty() || f.enabled_stacks().next().is_none());
}

const CLOUD_INIT_NETPLAN: &str =
    "# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.  To disable cloud-init's
# network configuration capabilities, write a file
# /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg with the following:
# network: {config: disabled}
network:
    ethernets:
        ens3:
            dhcp4: true
            match:
                macaddress: fa:16:3e:12:34:56
            set-name: ens3
    version: 2
";

#[test]
fn netplan_mac_bound_dhcp_renders_for_networkd() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "/etc/netplan/50-cloud-init.yaml",
        CLOUD_INIT_NETPLAN,
    );
    enable(d.path(), "/lib/systemd/system", "systemd-networkd.service");
    let f = network_facts(
        &DirGuest::new(d.path()),
        Some("root=UUID=x ro net.ifnames=0"),
    );
    let p = &f.profiles[0];
    assert_eq!(p.stack, Stack::Netplan);
    assert!(p.dhcp4 && p.mac_bound());
    assert_eq!(p.matchers, [Matcher::Mac("fa:16:3e:12:34:56".into())]);
    assert_eq!(p.set_name.as_deref(), Some("ens3"));
    assert!(f.enabled_stacks().any(|s| s == Stack::Netplan));
    assert_eq!(f.naming.first_nic.as_deref(), Some("eth0"));
    assert_eq!(f.naming.disabled_by[0].value, "net.ifnames=0");
    assert_eq!(
        f.first_nic_dhcp(),
        FirstNicDhcp::NoProfile,
        "bound to the old MAC"
    );
}

#[test]
fn netplan_static_and_pattern_and_broken_file() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "/etc/netplan/00-installer-config.yaml",
        "# This is the network config written by 'subiquity'\nnetwork:\n  ethernets:\n    ens33:\n      dhcp4: no\n      addresses:\n      - 192.168.1.20/24\n      routes:\n      - to: default\n        via: 192.168.1.1\n  version: 2\n",
    );
    write(
        d.path(),
        "/etc/netplan/60-all.yaml",
        "network:\n  version: 2\n  renderer: NetworkManager\n  ethernets:\n    any:\n      match: {name: \"en*\"}\n      dhcp4: yes\n",
    );
    write(d.path(), "/etc/netplan/99-bad.yaml", "network: [unclosed\n");
    let f = network_facts(&DirGuest::new(d.path()), None);
    let ens33 = f.profiles.iter().find(|p| p.id == "ens33").unwrap();
    assert!(!ens33.dhcp4 && ens33.static_v4);
    let any = f.profiles.iter().find(|p| p.id == "any").unwrap();
    assert_eq!(any.matchers, [Matcher::Pattern("en*".into())]);
    assert!(any.dhcp4);
    assert_eq!(f.netplan_renderer.as_deref(), Some("NetworkManager"));
    assert_eq!(f.unreadable[0].path, "/etc/netplan/99-bad.yaml");
    let netplan = f.stacks.iter().find(|s| s.stack == Stack::Netplan).unwrap();
    assert!(!netplan.enabled, "NetworkManager is not enabled");
}

const RHEL9_KEYFILE: &str = "[connection]
id=ens192
uuid=3c3e4c57-7f5f-3b0a-8c61-8f8e1d1a0d11
type=ethernet
autoconnect-priority=-999
interface-name=ens192
timestamp=1700000000

[ethernet]

[ipv4]
method=auto

[ipv6]
addr-gen-mode=eui64
method=auto

[proxy]
";

#[test]
fn networkmanager_keyfiles() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "/etc/NetworkManager/system-connections/ens192.nmconnection",
        RHEL9_KEYFILE,
    );
    write(
        d.path(),
        "/etc/NetworkManager/system-connections/static.nmconnection",
        "[connection]\nid=static\ntype=802-3-ethernet\nautoconnect=false\n[802-3-ethernet]\nmac-address=00:0C:29:AB:CD:EF\n[ipv4]\nmethod=manual\naddress1=10.1.1.5/24,10.1.1.1\n",
    );
    write(
        d.path(),
        "/etc/NetworkManager/system-connections/wifi.nmconnection",
        "[connection]\nid=w\ntype=wifi\n",
    );
    write(
        d.path(),
        "/etc/NetworkManager/conf.d/00-server.conf",
        "[main]\nno-auto-default=*\nignore-carrier=*\n",
    );
    enable(
        d.path(),
        "/usr/lib/systemd/system",
        "NetworkManager.service",
    );
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert_eq!(f.profiles.len(), 2, "wifi is not an ethernet profile");
    let ens192 = &f.profiles[0];
    assert_eq!(ens192.stack, Stack::NetworkManager);
    assert!(ens192.dhcp4 && ens192.at_boot);
    assert_eq!(ens192.interface_name(), Some("ens192"));
    assert_eq!(
        ens192.evidence.len(),
        2,
        "written 0644 here: {:?}",
        ens192.evidence
    );
    assert!(ens192.evidence[1]
        .value
        .contains("ignores keyfiles not 0600"));
    let st = &f.profiles[1];
    assert!(st.static_v4 && !st.dhcp4 && !st.at_boot && st.mac_bound());
    assert_eq!(f.nm_no_auto_default.as_ref().unwrap().0, "*");
    assert_eq!(f.active_profiles().count(), 2);
    assert_eq!(f.first_nic_dhcp(), FirstNicDhcp::DependsOnName);
    let f = network_facts(&DirGuest::new(d.path()), Some("net.ifnames=0"));
    assert_eq!(
        f.first_nic_dhcp(),
        FirstNicDhcp::NoProfile,
        "no-auto-default=* stops the automatic profile"
    );
    std::fs::remove_file(d.path().join("etc/NetworkManager/conf.d/00-server.conf")).unwrap();
    let f = network_facts(&DirGuest::new(d.path()), Some("net.ifnames=0"));
    assert_eq!(f.first_nic_dhcp(), FirstNicDhcp::NetworkManagerDefault);
}

const CENTOS7_IFCFG: &str = "TYPE=Ethernet
PROXY_METHOD=none
BROWSER_ONLY=no
BOOTPROTO=dhcp
DEFROUTE=yes
IPV4_FAILURE_FATAL=no
IPV6INIT=yes
NAME=eth0
UUID=5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03
DEVICE=eth0
ONBOOT=yes
HWADDR=00:0C:29:AB:CD:EF
";

#[test]
fn redhat_ifcfg_with_initscripts_and_nozeroconf() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "/etc/sysconfig/network-scripts/ifcfg-eth0",
        CENTOS7_IFCFG,
    );
    write(
        d.path(),
        "/etc/sysconfig/network-scripts/ifcfg-lo",
        "DEVICE=lo\nIPADDR=127.0.0.1\n",
    );
    write(
        d.path(),
        "/etc/sysconfig/network-scripts/ifcfg-eth0.bak",
        "BOOTPROTO=none\n",
    );
    write(
        d.path(),
        "/etc/sysconfig/network-scripts/ifcfg-ens3",
        "DEVICE=ens3\nBOOTPROTO=none\nIPADDR=10.0.0.3\nONBOOT=no\n",
    );
    write(
        d.path(),
        "/etc/sysconfig/network",
        "# Created by anaconda\nNETWORKING=yes\n",
    );
    write(d.path(), "/etc/rc.d/init.d/network", "#!/bin/sh\n");
    symlink(d.path(), "/etc/rc.d/rc3.d/S10network", "../init.d/network");
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert_eq!(f.profiles.len(), 2);
    let eth0 = f.profiles.iter().find(|p| p.id == "eth0").unwrap();
    assert!(eth0.dhcp4 && eth0.at_boot && eth0.mac_bound());
    assert!(eth0.evidence[0].value.contains("HWADDR=00:0C:29:AB:CD:EF"));
    let ens3 = f.profiles.iter().find(|p| p.id == "ens3").unwrap();
    assert!(ens3.static_v4 && !ens3.at_boot);
    assert_eq!(f.enabled_stacks().collect::<Vec<_>>(), [Stack::RhIfcfg]);
    let with_eth0 = network_facts(&DirGuest::new(d.path()), Some("net.ifnames=0"));
    assert_eq!(
        with_eth0.first_nic_dhcp(),
        FirstNicDhcp::NoProfile,
        "HWADDR pins the old NIC"
    );
    assert!(f.nozeroconf.is_none());
    write(
        d.path(),
        "/etc/sysconfig/network",
        "NETWORKING=yes\nNOZEROCONF=yes\n",
    );
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert_eq!(f.nozeroconf.as_ref().unwrap().0, "yes");
    assert!(f.resolv_conf.is_none());
    write(
        d.path(),
        "/etc/resolv.conf",
        "# Generated by NetworkManager\nnameserver 192.0.2.53\n",
    );
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert_eq!(
        f.resolv_conf.unwrap().value,
        "static file; nameserver 192.0.2.53"
    );
}

#[test]
fn suse_wicked_ifcfg() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "/etc/sysconfig/network/ifcfg-eth0",
        "BOOTPROTO='dhcp'\nSTARTMODE='auto'\nLLADDR='52:54:00:aa:bb:cc'\n",
    );
    write(
        d.path(),
        "/etc/sysconfig/network/ifcfg-eth1",
        "BOOTPROTO='static'\nIPADDR='10.0.0.9/24'\nSTARTMODE='manual'\n",
    );
    write(
        d.path(),
        "/etc/sysconfig/network/dhcp",
        "DHCLIENT_SET_HOSTNAME=\"yes\"\nDHCLIENT_USE_LAST_LEASE=\"no\"\n",
    );
    write(
        d.path(),
        "/usr/lib/systemd/system/wicked.service",
        "[Install]\nAlias=network.service\n",
    );
    symlink(
        d.path(),
        "/etc/systemd/system/network.service",
        "/usr/lib/systemd/system/wicked.service",
    );
    symlink(
        d.path(),
        "/etc/systemd/system/multi-user.target.wants/wicked.service",
        "/usr/lib/systemd/system/wicked.service",
    );
    let f = network_facts(&DirGuest::new(d.path()), None);
    let eth0 = f.profiles.iter().find(|p| p.id == "eth0").unwrap();
    assert_eq!(eth0.stack, Stack::Wicked);
    assert!(eth0.dhcp4 && eth0.at_boot && eth0.mac_bound());
    let eth1 = f.profiles.iter().find(|p| p.id == "eth1").unwrap();
    assert!(eth1.static_v4 && !eth1.at_boot);
    assert!(f.enabled_stacks().any(|s| s == Stack::Wicked));
    assert_eq!(f.suse_dhcp[0].1, "yes");
}

#[test]
fn networkd_and_link_files_and_naming_overrides() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "/etc/systemd/network/20-wired.network",
        "[Match]\nName=en*\n\n[Network]\nDHCP=ipv4\n",
    );
    write(
        d.path(),
        "/usr/lib/systemd/network/20-wired.network",
        "[Match]\nName=*\n[Network]\nDHCP=no\n",
    );
    write(
        d.path(),
        "/etc/systemd/network/10-static.network",
        "[Match]\nMACAddress=52:54:00:12:34:56\n[Network]\nAddress=10.0.0.2/24\n",
    );
    write(
        d.path(),
        "/etc/systemd/network/10-lan.link",
        "[Match]\nMACAddress=52:54:00:12:34:56\n[Link]\nName=lan0\n",
    );
    symlink(
        d.path(),
        "/etc/udev/rules.d/80-net-setup-link.rules",
        "/dev/null",
    );
    enable(d.path(), "/lib/systemd/system", "systemd-networkd.service");
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert_eq!(f.profiles.len(), 2, "/etc hides the same name in /usr/lib");
    let wired = f
        .profiles
        .iter()
        .find(|p| p.id == "20-wired.network")
        .unwrap();
    assert_eq!(wired.matchers, [Matcher::Pattern("en*".into())]);
    assert!(wired.dhcp4);
    let st = f
        .profiles
        .iter()
        .find(|p| p.id == "10-static.network")
        .unwrap();
    assert!(st.static_v4 && st.mac_bound() && !st.dhcp4);
    assert_eq!(f.persistent_net[0].name, "lan0");
    assert_eq!(f.naming.first_nic.as_deref(), Some("eth0"));
    assert_eq!(
        f.naming.disabled_by[0].location,
        "/etc/udev/rules.d/80-net-setup-link.rules"
    );
}

const CENTOS6_RULES: &str = "# This file was automatically generated by the /lib/udev/write_net_rules
# program, run by the persistent-net-generator.rules rules file.
#
# You can modify it, as long as you keep each rule on a single
# line, and change only the value of the NAME= key.

# PCI device 0x8086:0x100f (e1000)
SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", ATTR{address}==\"00:0C:29:AB:CD:EF\", ATTR{type}==\"1\", KERNEL==\"eth*\", NAME=\"eth0\"
";

#[test]
fn persistent_net_rules_and_generator() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "/etc/udev/rules.d/70-persistent-net.rules",
        CENTOS6_RULES,
    );
    write(
        d.path(),
        "/lib/udev/rules.d/75-persistent-net-generator.rules",
        "# generator\n",
    );
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert_eq!(f.persistent_net.len(), 1);
    assert_eq!(f.persistent_net[0].mac, "00:0c:29:ab:cd:ef");
    assert_eq!(f.persistent_net[0].name, "eth0");
    assert!(f.persistent_net[0].evidence.value.starts_with("line 8:"));
    let gen = f.generator.as_ref().unwrap();
    assert!(gen.overridden_by.is_none());
    // IMS's fix: an empty override in /etc.
    write(
        d.path(),
        "/etc/udev/rules.d/75-persistent-net-generator.rules",
        "",
    );
    std::fs::remove_file(d.path().join("etc/udev/rules.d/70-persistent-net.rules")).unwrap();
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert!(f.persistent_net.is_empty());
    assert_eq!(
        f.generator.unwrap().overridden_by.unwrap().value,
        "empty file"
    );
}

#[test]
fn no_stack_at_all() {
    let d = tempfile::tempdir().unwrap();
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert!(f.profiles.is_empty() && f.stacks.is_empty());
}

#[test]
fn hostile_network_files_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let deep = format!(
        "network:\n  ethernets: {}{}\n",
        "{a: ".repeat(5000),
        "}".repeat(5000)
    );
    write(d.path(), "/etc/netplan/01-deep.yaml", deep);
    let block: String = (0..300)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    write(d.path(), "/etc/netplan/02-block.yaml", block);
    let path = d.path().join("etc/network/interfaces");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::File::create(&path)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    symlink(d.path(), "/etc/NetworkManager/system-connections/a", "b");
    symlink(d.path(), "/etc/NetworkManager/system-connections/b", "a");
    symlink(d.path(), "/etc/systemd/network", "/etc/systemd/network");
    let f = network_facts(&DirGuest::new(d.path()), None);
    assert_eq!(f.unreadable.len(), 5, "{:?}", f.unreadable);
    assert_eq!(
        f.unreadable
            .iter()
            .filter(|u| u.reason.contains("symbolic links"))
            .count(),
        2
    );
    assert_eq!(
        f.unreadable
            .iter()
            .filter(|u| u.reason.contains("nesting"))
            .count(),
        2
    );
    assert!(f
        .unreadable
        .iter()
        .any(|u| u.path == "/etc/network/interfaces" && u.reason.contains("limit")));
    assert!(f.profiles.is_empty());
}
