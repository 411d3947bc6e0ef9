//! Windows checks on guest trees whose hives are written by `hivexsh`:
//! the ready Server 2019 tree passes (only the os_version and advisory
//! findings), then each change makes its check fail.

use imsprep_guest::test_support::{multi, sz, WinTree, CS, NIC_GUID, V};
use imsprep_guest::{inspect_windows, PartitionTable, VolumeState, WindowsFacts};
use imsprep_ims::guest::{check_windows, windows_os_version};
use imsprep_ims::os::Cloud;
use imsprep_ims::{Finding, Firmware, Intent, Severity};

fn facts(tree: &WinTree) -> WindowsFacts {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("s");
    std::fs::create_dir_all(&scratch).unwrap();
    let guest = tree.build(&dir.path().join("c"), &scratch);
    inspect_windows(&guest)
}

fn tree() -> (tempfile::TempDir, WinTree) {
    let d = tempfile::tempdir().unwrap();
    let t = WinTree::server_2019(d.path());
    (d, t)
}

fn check(tree: &WinTree) -> Vec<Finding> {
    check_windows(&facts(tree), &Intent::default(), Some(Cloud::Otc))
}

fn c(k: &str) -> String {
    format!("{CS}\\{k}")
}

/// Findings of `code` above info severity.
fn problems<'a>(f: &'a [Finding], code: &str) -> Vec<&'a Finding> {
    f.iter()
        .filter(|x| x.code.id() == code && x.severity > Severity::Info)
        .collect()
}

fn only(f: &[Finding], code: &str, severity: Severity) -> Finding {
    let p: Vec<&Finding> = f.iter().filter(|x| x.code.id() == code).collect();
    assert_eq!(p.len(), 1, "{code}: {f:#?}");
    assert_eq!(p[0].severity, severity, "{:#?}", p[0]);
    p[0].clone()
}

#[test]
fn ready_tree_passes() {
    let (_d, t) = tree();
    let f = check(&t);
    let blocking: Vec<&Finding> = f.iter().filter(|x| x.severity > Severity::Info).collect();
    assert!(blocking.is_empty(), "{blocking:#?}");
    let v = only(&f, "WIN-OS-VERSION", Severity::Info);
    assert!(
        v.message.contains("\"Windows Server 2019 Standard 64bit\""),
        "{}",
        v.message
    );
    assert!(v.message.contains("EditionID \"ServerStandard\""));
    assert!(v.fix.contains("Windows Server 2019 Standard 64bit"));
    assert!(
        f.iter().all(|x| x.code.id() != "WIN-CLOUDBASE-INIT"),
        "{f:#?}"
    );
    // Advisory: vioser and viorng are not installed.
    let o = only(&f, "WIN-VIRTIO-OTHER", Severity::Info);
    assert!(
        o.message.contains("not installed: vioser, viorng ("),
        "{}",
        o.message
    );
}

#[test]
fn windows_on_huawei_cloud_quick_import() {
    let (_d, t) = tree();
    let facts = facts(&t);
    let f = check_windows(&facts, &Intent::default(), Some(Cloud::HuaweiCloud));
    let s = only(&f, "IMG-OS-SUPPORTED", Severity::Error);
    assert!(s.message.contains("Huawei Cloud") && s.message.starts_with("FAIL"));
    let f = check_windows(&facts, &Intent::default(), None);
    assert!(only(&f, "IMG-OS-SUPPORTED", Severity::Warning)
        .message
        .contains("Huawei Cloud"));
    let f = check_windows(&facts, &Intent::default(), Some(Cloud::Otc));
    assert!(f.iter().all(|x| x.code.id() != "IMG-OS-SUPPORTED"));
}

#[test]
fn os_version_spellings_per_cloud() {
    let (_d, mut t) = tree();
    let cv = "Microsoft\\Windows NT\\CurrentVersion";
    // Essentials 2012 R2: Huawei Cloud lists one spelling, OTC both.
    t.software
        .set(cv, "ProductName", sz("Windows Server 2012 R2 Essentials"))
        .set(cv, "EditionID", sz("ServerSolution"))
        .set(cv, "CurrentBuild", sz("9600"));
    let id = facts(&t).identity.value.unwrap();
    let hw = windows_os_version(&id, None, Some(Cloud::HuaweiCloud));
    assert_eq!(
        hw.exact.as_deref(),
        Some("Windows Server 2012 Essentials R2 64bit")
    );
    let otc = windows_os_version(&id, None, Some(Cloud::Otc));
    assert_eq!(
        otc.exact.as_deref(),
        Some("Windows Server 2012 R2 Essentials 64bit")
    );
    // Evaluation edition maps to the retail name; 2022 by build.
    let mut id2 = id.clone();
    id2.edition_id = Some("ServerDatacenterEval".into());
    id2.product_name = Some("Windows Server 2022 Datacenter Evaluation".into());
    id2.build = Some(20348);
    assert_eq!(
        windows_os_version(&id2, None, Some(Cloud::HuaweiCloud)).best(),
        "Windows Server 2022 Datacenter 64bit"
    );
    // Server 2025 is listed by OTC only.
    id2.build = Some(26100);
    id2.edition_id = Some("ServerStandard".into());
    let c = windows_os_version(&id2, None, Some(Cloud::HuaweiCloud));
    assert_eq!(c.exact, None);
    assert_eq!(
        c.other_cloud.as_ref().map(|o| o.0.as_str()),
        Some("Windows Server 2025 Standard 64bit")
    );
    assert_eq!(c.best(), "Other Windows(64 bit)");
    // Client: Windows 10 is one string; Windows 11 says "Windows 10" in
    // its product name but its build decides.
    let mut client = id.clone();
    client.installation_type = Some("Client".into());
    client.edition_id = Some("Professional".into());
    client.product_name = Some("Windows 10 Pro".into());
    client.build = Some(19045);
    assert_eq!(
        windows_os_version(&client, None, None).best(),
        "Windows 10 64bit"
    );
    client.build = Some(22631);
    assert_eq!(windows_os_version(&client, None, None).exact, None);
    // Windows 7 32-bit by architecture.
    client.build = Some(7601);
    client.product_name = Some("Windows 7 Professional".into());
    let w7 = windows_os_version(
        &client,
        Some(imsprep_guest::windows::identity::WinArch::X86),
        Some(Cloud::Otc),
    );
    assert_eq!(w7.exact.as_deref(), Some("Windows 7 Professional 32bit"));

    // The findings: warning with the other cloud's string.
    let mut t = WinTree::server_2019(_d.path());
    t.software.set(cv, "CurrentBuild", sz("26100"));
    t.software
        .set(cv, "ProductName", sz("Windows Server 2025 Standard"));
    let f = check_windows(&facts(&t), &Intent::default(), Some(Cloud::HuaweiCloud));
    let v = only(&f, "WIN-OS-VERSION", Severity::Warning);
    assert!(
        v.message.contains("Open Telekom Cloud only"),
        "{}",
        v.message
    );
}

#[test]
fn systemroot_and_hives() {
    let dir = tempfile::tempdir().unwrap();
    let f = check_windows(
        &inspect_windows(&imsprep_guest::DirGuest::new(dir.path())),
        &Intent::default(),
        Some(Cloud::Otc),
    );
    only(&f, "WIN-SYSTEMROOT", Severity::Error);
    let rdp = only(&f, "WIN-RDP", Severity::Error);
    assert!(rdp.message.starts_with("UNKNOWN"));
    assert!(only(&f, "WIN-SAN-POLICY", Severity::Warning)
        .message
        .starts_with("UNKNOWN"));

    // SYSTEM absent.
    let (_d, t) = tree();
    let mut facts = facts(&t);
    facts.hives = imsprep_guest::Fact::unknown("/Windows/System32/config/SYSTEM is absent", vec![]);
    let f = check_windows(&facts, &Intent::default(), Some(Cloud::Otc));
    assert!(only(&f, "WIN-SYSTEMROOT", Severity::Error)
        .message
        .contains("SYSTEM is absent"));
}

#[test]
fn dirty_hive_warns() {
    let (_d, t) = tree();
    let mut fx = facts(&t);
    if let Some(h) = fx.hives.value.as_mut() {
        h[0].state = imsprep_guest::windows::hives::HiveState::Stale;
        h[0].sequence = (5, 4);
    }
    let f = check_windows(&fx, &Intent::default(), Some(Cloud::Otc));
    let w = only(&f, "WIN-HIVE-DIRTY", Severity::Warning);
    assert!(
        w.message.contains("sequence numbers 5 and 4"),
        "{}",
        w.message
    );
}

#[test]
fn control_set_checks() {
    let (_d, mut t) = tree();
    t.system.set("Select", "Default", V::Dword(2));
    only(&check(&t), "WIN-CONTROLSET", Severity::Warning);
    t.system.remove("Select");
    let f = check(&t);
    assert!(only(&f, "WIN-CONTROLSET", Severity::Error)
        .message
        .starts_with("FAIL"));
    assert!(only(&f, "WIN-VIRTIO-BLK", Severity::Error)
        .message
        .starts_with("UNKNOWN"));
}

#[test]
fn identity_and_arch_checks() {
    let (d, mut t) = tree();
    t.software.remove("Microsoft\\Windows NT\\CurrentVersion");
    let f = check(&t);
    only(&f, "WIN-OS-ID", Severity::Error);
    only(&f, "WIN-OS-VERSION", Severity::Error);

    let mut t = WinTree::server_2019(d.path());
    t.files.insert(
        "/Windows/System32/ntoskrnl.exe".into(),
        imsprep_guest::test_support::pe_image(d.path(), "pei-i386"),
    );
    let a = only(&check(&t), "WIN-ARCH", Severity::Warning);
    assert!(a.message.contains("PE Machine 0x014c"), "{}", a.message);
    let mut pe = imsprep_guest::test_support::pe_image(d.path(), "pei-x86-64");
    let at = u32::from_le_bytes(pe[0x3C..0x40].try_into().unwrap()) as usize;
    pe[at + 4..at + 6].copy_from_slice(&0xAA64u16.to_le_bytes());
    t.files.insert("/Windows/System32/ntoskrnl.exe".into(), pe);
    only(&check(&t), "WIN-ARCH", Severity::Error);
}

#[test]
fn boot_mode_checks() {
    let (_d, mut t) = tree();
    t.bcd = None;
    let b = only(&check(&t), "WIN-BOOTMODE", Severity::Error);
    assert!(b.message.contains("Boot\\BCD"), "{}", b.message);

    let (_d, mut t) = tree();
    t.disk.active_partition = false;
    t.disk.partition_table = PartitionTable::Gpt;
    let b = only(&check(&t), "WIN-BOOTMODE", Severity::Error);
    assert!(b.message.contains("GPT") && b.message.contains("no active partition"));

    // UEFI asked for, but no ESP.
    let (_d, t) = tree();
    let fx = facts(&t);
    let intent = Intent {
        firmware: Some(Firmware::Uefi),
        ..Intent::default()
    };
    let f = check_windows(&fx, &intent, Some(Cloud::Otc));
    assert!(only(&f, "WIN-BOOTMODE", Severity::Error)
        .message
        .contains("no EFI system partition"));

    // A UEFI-only disk registered for BIOS by default: warn to PATCH;
    // without the fallback loader: fail.
    let mut fx = facts(&t);
    if let Some(b) = fx.boot.value.as_mut() {
        b.bios_store = None;
        b.esp_device = Some("/dev/vda1".into());
        b.uefi_bootmgfw = true;
        b.uefi_bcd = true;
        b.uefi_fallback = true;
    }
    let f = check_windows(&fx, &Intent::default(), Some(Cloud::Otc));
    assert!(only(&f, "WIN-BOOTMODE", Severity::Warning)
        .message
        .contains("hw_firmware_type"));
    let f = check_windows(&fx, &intent, Some(Cloud::Otc));
    assert!(problems(&f, "WIN-BOOTMODE").is_empty());
    if let Some(b) = fx.boot.value.as_mut() {
        b.uefi_fallback = false;
    }
    let f = check_windows(&fx, &intent, Some(Cloud::Otc));
    assert!(only(&f, "WIN-BOOTMODE", Severity::Error)
        .message
        .contains("BOOTX64.EFI"));
}

#[test]
fn ntfs_state_checks() {
    let (d, mut t) = tree();
    let mut hiber = vec![0u8; 4096];
    hiber[..4].copy_from_slice(b"hibr");
    t.files.insert("/hiberfil.sys".into(), hiber);
    let n = only(&check(&t), "WIN-NTFS-STATE", Severity::Error);
    assert!(n.message.contains("\"hibr\"") && n.message.contains("/hiberfil.sys"));

    // Dirty volume from the file-system state.
    let t = WinTree::server_2019(d.path());
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    std::fs::create_dir_all(&s).unwrap();
    let g = t
        .build(&dir.path().join("c"), &s)
        .with_volume_state("/dev/vda1", vec![VolumeState::Dirty]);
    let f = check_windows(&inspect_windows(&g), &Intent::default(), Some(Cloud::Otc));
    assert!(only(&f, "WIN-NTFS-STATE", Severity::Warning)
        .message
        .contains("dirty"));

    // Fast Startup on a client.
    let mut t = WinTree::server_2019(d.path());
    let cv = "Microsoft\\Windows NT\\CurrentVersion";
    t.software.set(cv, "InstallationType", sz("Client"));
    t.system.set(
        &c("Control\\Session Manager\\Power"),
        "HiberbootEnabled",
        V::Dword(1),
    );
    assert!(only(&check(&t), "WIN-NTFS-STATE", Severity::Warning)
        .message
        .contains("Fast Startup"));
}

#[test]
fn pending_checks() {
    let (d, mut t) = tree();
    t.software
        .key("Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired");
    let p = only(&check(&t), "WIN-PENDING", Severity::Warning);
    assert!(p.message.contains("RebootRequired"));
    let mut t = WinTree::server_2019(d.path());
    t.system.set("Setup", "SystemSetupInProgress", V::Dword(1));
    assert!(only(&check(&t), "WIN-PENDING", Severity::Warning)
        .message
        .contains("OOBE"));
    t.files.insert(
        "/Program Files/Cloudbase Solutions/Cloudbase-Init/conf/Unattend.xml".into(),
        b"<unattend/>".to_vec(),
    );
    assert!(problems(&check(&t), "WIN-PENDING").is_empty());
}

#[test]
fn virtio_blk_checks() {
    let (d, mut t) = tree();
    t.system.set(&c("Services\\viostor"), "Start", V::Dword(3));
    let b = only(&check(&t), "WIN-VIRTIO-BLK", Severity::Error);
    assert!(b.message.contains("0x7B") && b.message.contains("Start=3"));
    assert!(
        b.message
            .contains("SYSTEM\\ControlSet001\\Services\\viostor\\Start: 3"),
        "{}",
        b.message
    );

    let mut t = WinTree::server_2019(d.path());
    t.system
        .set(&c("Services\\viostor"), "Type", V::Dword(0x20));
    assert!(only(&check(&t), "WIN-VIRTIO-BLK", Severity::Error)
        .message
        .contains("Type=32"));

    let mut t = WinTree::server_2019(d.path());
    t.files.remove("/Windows/System32/drivers/viostor.sys");
    assert!(only(&check(&t), "WIN-VIRTIO-BLK", Severity::Error)
        .message
        .contains("viostor.sys is missing"));

    // Only the transitional ID mapped: warning.
    let mut t = WinTree::server_2019(d.path());
    t.system
        .remove("DriverDatabase\\DeviceIds\\PCI\\VEN_1AF4&DEV_1042&SUBSYS_11001AF4&REV_01");
    assert!(only(&check(&t), "WIN-VIRTIO-BLK", Severity::Warning)
        .message
        .contains("DEV_1042"));

    // A CriticalDeviceDatabase entry does not count on Windows Server 2019.
    let mut t = WinTree::server_2019(d.path());
    t.system.remove("DriverDatabase");
    t.system.set(
        &c("Control\\CriticalDeviceDatabase\\pci#ven_1af4&dev_1001&subsys_00021af4&rev_00"),
        "Service",
        sz("viostor"),
    );
    let f = check(&t);
    assert!(only(&f, "WIN-VIRTIO-BLK", Severity::Error)
        .message
        .contains("DriverDatabase"));
    // ... but it does on Windows 7 / 2008 R2.
    let cv = "Microsoft\\Windows NT\\CurrentVersion";
    t.software
        .set(cv, "CurrentBuild", sz("7601"))
        .set(cv, "ProductName", sz("Windows Server 2008 R2 Enterprise"))
        .set(cv, "EditionID", sz("ServerEnterprise"));
    let f = check(&t);
    assert!(only(&f, "WIN-VIRTIO-BLK", Severity::Warning)
        .message
        .contains("DEV_1042"));

    // vioscsi ready, viostor absent: warning.
    let mut t = WinTree::server_2019(d.path());
    t.system.remove(&c("Services\\viostor"));
    let k = c("Services\\vioscsi");
    t.system
        .set(&k, "Start", V::Dword(0))
        .set(&k, "Type", V::Dword(1))
        .set(
            &k,
            "ImagePath",
            V::ExpandSz("System32\\drivers\\vioscsi.sys".into()),
        )
        .set(
            "DriverDatabase\\DeviceIds\\PCI\\VEN_1AF4&DEV_1048&SUBSYS_11001AF4&REV_01",
            "vioscsi.inf",
            V::Binary(vec![1, 0xff, 0, 0]),
        );
    t.files.insert(
        "/Windows/System32/drivers/vioscsi.sys".into(),
        b"x".to_vec(),
    );
    assert!(only(&check(&t), "WIN-VIRTIO-BLK", Severity::Warning)
        .message
        .contains("only vioscsi"));
}

#[test]
fn virtio_net_other_filters_tools() {
    let (d, mut t) = tree();
    t.system.remove(&c("Services\\netkvm"));
    assert!(only(&check(&t), "WIN-VIRTIO-NET", Severity::Error)
        .message
        .contains("netkvm is not installed"));

    let mut t = WinTree::server_2019(d.path());
    t.files.insert(
        "/Program Files (x86)/virtio/bin/version".into(),
        b"2.5.0\n".to_vec(),
    );
    let f = check(&t);
    assert!(f
        .iter()
        .any(|x| x.code.id() == "WIN-VIRTIO-OTHER" && x.message.contains("UVP VMTools 2.5.0")));

    let mut t = WinTree::server_2019(d.path());
    t.system.set(
        &c("Control\\Class\\{4D36E967-E325-11CE-BFC1-08002BE10318}"),
        "UpperFilters",
        multi(&["partmgr", "gonefilt"]),
    );
    let fl = only(&check(&t), "WIN-CLASS-FILTERS", Severity::Error);
    assert!(
        fl.message.contains("gonefilt") && fl.message.contains("DiskDrive"),
        "{}",
        fl.message
    );
    t.system.set(
        &c("Control\\Class\\{4D36E967-E325-11CE-BFC1-08002BE10318}"),
        "UpperFilters",
        multi(&["partmgr", "xenfilt"]),
    );
    t.system
        .set(&c("Services\\xenfilt"), "Start", V::Dword(0))
        .set(&c("Services\\xenfilt"), "Type", V::Dword(1));
    t.files.insert(
        "/Windows/System32/drivers/xenfilt.sys".into(),
        b"x".to_vec(),
    );
    let f = check(&t);
    only(&f, "WIN-CLASS-FILTERS", Severity::Warning);
    let ft = only(&f, "WIN-FOREIGN-TOOLS", Severity::Warning);
    assert!(
        ft.message.contains("Xen: service xenfilt (Start=0)"),
        "{}",
        ft.message
    );
    t.system.set(&c("Services\\xenfilt"), "Start", V::Dword(4));
    only(&check(&t), "WIN-CLASS-FILTERS", Severity::Error);
}

#[test]
fn dhcp_checks() {
    let (d, mut t) = tree();
    let ifk = c(&format!(
        "Services\\Tcpip\\Parameters\\Interfaces\\{NIC_GUID}"
    ));
    t.system
        .set(&ifk, "EnableDHCP", V::Dword(0))
        .set(&ifk, "IPAddress", multi(&["10.0.0.7"]));
    let f = only(&check(&t), "WIN-DHCP", Severity::Error);
    assert!(f.message.contains("10.0.0.7") && f.message.contains("virtio"));
    let nic = c("Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}\\0001");
    t.system
        .set(&nic, "ComponentId", sz("pci\\ven_15ad&dev_07b0"));
    only(&check(&t), "WIN-DHCP", Severity::Warning);
    let mut t = WinTree::server_2019(d.path());
    t.system.set(&c("Services\\Dhcp"), "Start", V::Dword(4));
    assert!(only(&check(&t), "WIN-DHCP", Severity::Error)
        .message
        .contains("Dhcp service is disabled"));
}

#[test]
fn rdp_and_firewall_checks() {
    let (d, mut t) = tree();
    t.system.set(
        &c("Control\\Terminal Server"),
        "fDenyTSConnections",
        V::Dword(1),
    );
    assert!(only(&check(&t), "WIN-RDP", Severity::Error)
        .message
        .contains("fDenyTSConnections = 1"));
    let mut t = WinTree::server_2019(d.path());
    t.system.set(
        &c("Control\\Terminal Server\\WinStations\\RDP-Tcp"),
        "PortNumber",
        V::Dword(3390),
    );
    only(&check(&t), "WIN-RDP", Severity::Info);

    let mut t = WinTree::server_2019(d.path());
    let rules = c("Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules");
    t.system.set(
        &rules,
        "RemoteDesktop-UserMode-In-TCP",
        sz("v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Profile=Domain|Profile=Private|LPort=3389|"),
    );
    let fw = only(&check(&t), "WIN-RDP-FIREWALL", Severity::Error);
    assert!(
        fw.message.contains("Profile=Domain+Private"),
        "{}",
        fw.message
    );
    // The firewall off for Public passes.
    t.system.set(
        &c("Services\\SharedAccess\\Parameters\\FirewallPolicy\\PublicProfile"),
        "EnableFirewall",
        V::Dword(0),
    );
    assert!(problems(&check(&t), "WIN-RDP-FIREWALL").is_empty());
}

#[test]
fn san_cloudbase_rtc_pagefile_policy_signing_display() {
    let (d, mut t) = tree();
    t.system.set(
        &c("Services\\partmgr\\Parameters"),
        "SanPolicy",
        V::Dword(2),
    );
    assert!(only(&check(&t), "WIN-SAN-POLICY", Severity::Warning)
        .message
        .contains("OfflineShared"));
    t.system
        .unset(&c("Services\\partmgr\\Parameters"), "SanPolicy");
    t.system.key(&c("Services\\partmgr\\Parameters"));
    assert!(only(&check(&t), "WIN-SAN-POLICY", Severity::Warning)
        .message
        .contains("not set"));

    let mut t = WinTree::server_2019(d.path());
    t.system.remove(&c("Services\\cloudbase-init"));
    t.software.remove("Cloudbase Solutions");
    t.software
        .remove("Microsoft\\Windows\\CurrentVersion\\Uninstall");
    t.files
        .remove("/Program Files/Cloudbase Solutions/Cloudbase-Init/conf/cloudbase-init.conf");
    let f = check(&t);
    assert!(only(&f, "WIN-CLOUDBASE-INIT", Severity::Warning)
        .message
        .contains("not installed"));
    // RealTimeIsUniversal=1 without Cloudbase-Init: advisory only.
    only(&f, "WIN-RTC", Severity::Info);

    let mut t = WinTree::server_2019(d.path());
    t.files.insert(
        "/Program Files/Cloudbase Solutions/Cloudbase-Init/conf/cloudbase-init.conf".into(),
        b"[DEFAULT]\nmetadata_services=cloudbaseinit.metadata.services.ec2service.EC2Service\nreal_time_clock_utc=false\nplugins=cloudbaseinit.plugins.windows.winrmlistener.ConfigWinRMListenerPlugin\n".to_vec(),
    );
    let f = check(&t);
    let cb: Vec<&Finding> = f
        .iter()
        .filter(|x| x.code.id() == "WIN-CLOUDBASE-INIT")
        .collect();
    assert_eq!(cb.len(), 3, "{cb:#?}");
    assert!(cb[0].message.contains("EC2Service") && cb[0].severity == Severity::Warning);
    assert!(cb[1]
        .message
        .contains("netbios_host_name_compatibility=false"));
    assert!(cb[1]
        .message
        .contains("add_metadata_private_ip_route=False"));
    assert!(!cb[1].message.contains("username=") && cb[1].severity == Severity::Info);
    assert!(cb[2].message.contains("WinRM") && cb[2].severity == Severity::Info);
    assert!(only(&f, "WIN-RTC", Severity::Warning)
        .message
        .contains("real_time_clock_utc is false"));

    let mut t = WinTree::server_2019(d.path());
    t.system.set(
        &c("Control\\Session Manager\\Memory Management"),
        "PagingFiles",
        multi(&["E:\\pagefile.sys 1024 1024"]),
    );
    assert!(only(&check(&t), "WIN-PAGEFILE", Severity::Warning)
        .message
        .contains("E:"));
    t.system.set(
        &c("Control\\Session Manager\\Memory Management"),
        "PagingFiles",
        multi(&["?:\\pagefile.sys"]),
    );
    only(&check(&t), "WIN-PAGEFILE", Severity::Info);

    let mut t = WinTree::server_2019(d.path());
    t.software.set(
        "Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions",
        "DenyDeviceIDs",
        V::Dword(1),
    );
    assert!(
        only(&check(&t), "WIN-DEVICE-INSTALL-POLICY", Severity::Warning)
            .message
            .contains("DenyDeviceIDs")
    );

    let mut t = WinTree::server_2019(d.path());
    let cv = "Microsoft\\Windows NT\\CurrentVersion";
    t.software.set(cv, "CurrentBuild", sz("7601")).set(
        cv,
        "ProductName",
        sz("Windows Server 2008 R2 Standard"),
    );
    let f = check(&t);
    assert!(only(&f, "WIN-DRIVER-SIGNING", Severity::Warning)
        .message
        .contains("KB4474419"));
    t.software.key("Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\Package_for_KB4474419~31bf3856ad364e35~amd64~~6.1.3.2");
    assert!(check(&t)
        .iter()
        .all(|x| x.code.id() != "WIN-DRIVER-SIGNING"));

    let mut t = WinTree::server_2019(d.path());
    t.system.set(
        &c("Control\\Power\\User\\PowerSchemes\\381b4222-f694-41f0-9685-ff5bb260df2e\\7516b95f-f776-4464-8c53-06167f40cc99\\3c0bc021-c8a8-4e07-a973-6b14cbcb2b7e"),
        "ACSettingIndex",
        V::Dword(600),
    );
    assert!(only(&check(&t), "WIN-DISPLAY-POWER", Severity::Info)
        .message
        .contains("600 s"));
}
