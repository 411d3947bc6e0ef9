//! Windows facts read from guest trees whose hives are written by
//! `hivexsh` and whose kernel image is made by `objcopy`: the ready
//! Server 2019 tree, then one change at a time.

use imsprep_guest::test_support::{multi, sz, WinTree, CS, NIC_GUID, V};
use imsprep_guest::windows::drivers::IdMapping;
use imsprep_guest::windows::identity::WinArch;
use imsprep_guest::{inspect_windows, DirGuest, PartitionTable, VolumeState, WindowsFacts};
use imsprep_regf::HiveState;

struct Built {
    _dir: tempfile::TempDir,
    guest: DirGuest,
}

fn build(tree: &WinTree) -> Built {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("c");
    let scratch = dir.path().join("s");
    std::fs::create_dir_all(&scratch).unwrap();
    let guest = tree.build(&root, &scratch);
    Built { _dir: dir, guest }
}

fn tree() -> (tempfile::TempDir, WinTree) {
    let d = tempfile::tempdir().unwrap();
    let t = WinTree::server_2019(d.path());
    (d, t)
}

fn inspect(tree: &WinTree) -> WindowsFacts {
    let b = build(tree);
    inspect_windows(&b.guest)
}

fn c(k: &str) -> String {
    format!("{CS}\\{k}")
}

fn evidence_has(f: &[imsprep_guest::Evidence], loc: &str, value: &str) -> bool {
    f.iter()
        .any(|e| e.location.contains(loc) && e.value.contains(value))
}

#[test]
fn ready_server_2019() {
    let (_d, t) = tree();
    let f = inspect(&t);
    let root = f.root.get().unwrap();
    assert_eq!(root.path, "/Windows");
    assert!(root.cmd_exe);
    let hives = f.hives.get().unwrap();
    assert!(hives.iter().all(|h| h.state == HiveState::Clean));
    let cs = f.control_set.get().unwrap();
    assert_eq!(
        (cs.current, cs.default, cs.name.as_str()),
        (1, Some(1), "ControlSet001")
    );
    assert!(evidence_has(
        &f.control_set.evidence,
        "SYSTEM\\Select\\Current",
        "1"
    ));

    let id = f.identity.get().unwrap();
    assert_eq!(
        id.product_name.as_deref(),
        Some("Windows Server 2019 Standard")
    );
    assert_eq!(id.edition_id.as_deref(), Some("ServerStandard"));
    assert_eq!(id.build, Some(17763));
    assert_eq!(id.ubr, Some(5329));
    assert_eq!(id.display_version.as_deref(), Some("1809"));
    assert!(id.is_server());

    let arch = f.arch.get().unwrap();
    assert_eq!(arch.arch, WinArch::Amd64);
    assert_eq!(arch.pe_machine, Some(0x8664));
    assert_eq!(arch.registry.as_deref(), Some("AMD64"));

    let boot = f.boot.get().unwrap();
    assert!(boot.bios(), "{:?}", f.boot);
    assert_eq!(boot.bios_store.as_deref(), Some("/"));
    assert!(!boot.uefi());

    let ntfs = f.ntfs.get().unwrap();
    assert!(!ntfs.hibernated);
    assert_eq!(ntfs.hiberboot_enabled, Some(0));

    let p = f.pending.get().unwrap();
    assert!(!p.reboot_pending() && !p.sealed());

    let blk = f.virtio_blk.get().unwrap();
    assert_eq!(blk.viostor.service.start, Some(0));
    assert_eq!(blk.viostor.service.group.as_deref(), Some("SCSI miniport"));
    assert!(blk.viostor.service.file_present);
    assert_eq!(blk.viostor.mapped_ids(), ["1001", "1042"]);
    assert!(matches!(
        &blk.viostor.ids[0].mappings[0],
        IdMapping::DriverDatabase { infs, .. } if infs == &["oem3.inf"]
    ));
    assert_eq!(blk.viostor.driver_store.len(), 1);
    assert!(!blk.vioscsi.service.present);
    // oem4.inf is netkvm's package: it does not count for viostor.
    let net = f.virtio_net.get().unwrap();
    assert_eq!(net.mapped_ids(), ["1000", "1041"]);
    assert!(net.service.file_present);

    let other = f.virtio_other.get().unwrap();
    let balloon = other
        .drivers
        .iter()
        .find(|d| d.service.name == "balloon")
        .unwrap();
    assert!(balloon.service.present && balloon.unmapped_ids().len() == 2);

    let filters = f.class_filters.get().unwrap();
    assert_eq!(filters.len(), 1);
    assert_eq!(filters[0].service.name, "partmgr");
    assert!(filters[0].service.file_present);

    assert!(f.foreign_tools.get().unwrap().is_empty());

    let dhcp = f.dhcp.get().unwrap();
    assert_eq!(dhcp.dhcp_service.start, Some(2));
    assert_eq!(dhcp.interfaces.len(), 1);
    assert!(dhcp.interfaces[0].is_virtio() && !dhcp.interfaces[0].is_static());

    let rdp = f.rdp.get().unwrap();
    assert!(!rdp.denied());
    assert_eq!(rdp.port, Some(3389));
    let fw = f.rdp_firewall.get().unwrap();
    assert!(fw.public_enabled() && fw.rdp_allowed());

    assert_eq!(f.san_policy.get(), Some(&1));
    let cb = f.cloudbase_init.get().unwrap();
    assert!(cb.installed() && !cb.winrm_plugins());
    assert_eq!(cb.real_time_clock_utc.as_deref(), Some("true"));
    assert_eq!(cb.product.as_deref(), Some("Cloudbase-Init 1.1.4"));
    assert!(cb
        .metadata_services
        .as_deref()
        .unwrap()
        .contains("HttpService"));
    assert_eq!(f.rtc.get(), Some(&1));
    let pf = f.pagefile.get().unwrap();
    assert!(pf.other_drives().is_empty() && !pf.automatic() && pf.pagefile_sys);
    assert!(f
        .device_install_policy
        .get()
        .unwrap()
        .restrictions
        .is_empty());
    assert!(!f.driver_signing.get().unwrap().needs_sha2_update);
    assert_eq!(f.display_power.get().unwrap().display_timeout_ac, Some(0));
}

#[test]
fn no_windows_or_no_hives_is_unknown_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let f = inspect_windows(&DirGuest::new(dir.path()));
    assert!(f.root.get().is_none() && f.root.is_known());
    assert!(f.virtio_blk.unknown.is_some() && f.rdp.unknown.is_some());

    let (_d, t) = tree();
    let b = build(&t);
    let root = b._dir.path().join("c");
    std::fs::remove_file(root.join("Windows/System32/config/SOFTWARE")).unwrap();
    let f = inspect_windows(&b.guest);
    assert!(f.root.get().is_some());
    let why = f.hives.unknown.as_deref().unwrap();
    assert!(why.contains("SOFTWARE"), "{why}");
    assert!(f.identity.unknown.is_some() && f.virtio_net.unknown.is_some());

    // A hive that is not a hive.
    std::fs::write(root.join("Windows/System32/config/SOFTWARE"), b"not a hive").unwrap();
    let f = inspect_windows(&b.guest);
    assert!(f.hives.unknown.as_deref().unwrap().contains("base block"));
}

#[test]
fn paths_case_insensitive() {
    let (_d, t) = tree();
    let b = build(&t);
    let root = b._dir.path().join("c");
    std::fs::rename(root.join("Windows"), root.join("WINDOWS")).unwrap();
    std::fs::rename(root.join("WINDOWS/System32"), root.join("WINDOWS/system32")).unwrap();
    std::fs::rename(
        root.join("WINDOWS/system32/drivers"),
        root.join("WINDOWS/system32/DRIVERS"),
    )
    .unwrap();
    let f = inspect_windows(&b.guest);
    assert_eq!(f.root.get().unwrap().path, "/WINDOWS");
    let blk = f.virtio_blk.get().unwrap();
    assert!(
        blk.viostor.service.file_present,
        "{:?}",
        blk.viostor.service
    );
    assert_eq!(
        blk.viostor.service.file.as_deref(),
        Some("/WINDOWS/system32/DRIVERS/viostor.sys")
    );
}

#[test]
fn dirty_hive_and_logs() {
    let (_d, t) = tree();
    let b = build(&t);
    let path = b._dir.path().join("c/Windows/System32/config/SYSTEM");
    let mut hive = std::fs::read(&path).unwrap();
    // Primary sequence number one ahead: a write started and never ended.
    let seq = u32::from_le_bytes(hive[4..8].try_into().unwrap()) + 1;
    hive[4..8].copy_from_slice(&seq.to_le_bytes());
    let sum = imsprep_regf::checksum(&hive).unwrap();
    hive[508..512].copy_from_slice(&sum.to_le_bytes());
    std::fs::write(&path, &hive).unwrap();
    // An empty log is present but brings nothing.
    std::fs::write(path.with_file_name("SYSTEM.LOG1"), b"").unwrap();
    let f = inspect_windows(&b.guest);
    let h = f.hives.get().unwrap();
    assert_eq!(h[0].name, "SYSTEM");
    assert_eq!(h[0].state, HiveState::Stale);
    assert_eq!(h[0].sequence.0, h[0].sequence.1 + 1);
    assert_eq!(h[1].state, HiveState::Clean);
    // Stale data is still read.
    assert!(f.virtio_blk.get().unwrap().viostor.service.present);
}

#[test]
fn control_set() {
    let (_d, mut t) = tree();
    t.system.set("Select", "Default", V::Dword(2));
    let f = inspect(&t);
    assert_eq!(f.control_set.get().unwrap().default, Some(2));

    t.system.remove("Select");
    let f = inspect(&t);
    assert!(f.control_set.get().is_none() && f.control_set.is_known());
    assert!(f.virtio_blk.unknown.as_deref().unwrap().contains("Select"));
    // What does not need the control set is still read.
    assert!(f.identity.get().is_some());

    let (_d, mut t) = tree();
    t.system.set("Select", "Current", V::Dword(7));
    let f = inspect(&t);
    assert!(!f.control_set.get().unwrap().exists);
    assert!(f.rdp.unknown.is_some());
}

#[test]
fn identity_and_arch() {
    let (d, mut t) = tree();
    let cv = "Microsoft\\Windows NT\\CurrentVersion";
    t.software.remove(cv);
    t.files.remove("/Windows/System32/ntoskrnl.exe");
    t.system.unset(
        &c("Control\\Session Manager\\Environment"),
        "PROCESSOR_ARCHITECTURE",
    );
    let f = inspect(&t);
    assert!(f.identity.get().is_none());
    assert!(f.arch.unknown.is_some());

    // 32-bit kernel made by objcopy; the registry alone without a kernel.
    let mut t = WinTree::server_2019(d.path());
    t.files.insert(
        "/Windows/System32/ntoskrnl.exe".into(),
        imsprep_guest::test_support::pe_image(d.path(), "pei-i386"),
    );
    assert_eq!(inspect(&t).arch.get().unwrap().arch, WinArch::X86);
    t.files.remove("/Windows/System32/ntoskrnl.exe");
    t.system.set(
        &c("Control\\Session Manager\\Environment"),
        "PROCESSOR_ARCHITECTURE",
        sz("ARM64"),
    );
    assert_eq!(inspect(&t).arch.get().unwrap().arch, WinArch::Arm64);
    // ARM64 machine patched into an objcopy-made image (binutils here has
    // no ARM64 PE target).
    let mut pe = imsprep_guest::test_support::pe_image(d.path(), "pei-x86-64");
    let at = u32::from_le_bytes(pe[0x3C..0x40].try_into().unwrap()) as usize;
    pe[at + 4..at + 6].copy_from_slice(&0xAA64u16.to_le_bytes());
    t.files.insert("/Windows/System32/ntoskrnl.exe".into(), pe);
    let a = inspect(&t).arch;
    assert_eq!(a.get().unwrap().pe_machine, Some(0xAA64));
    // A kernel that is not a PE image falls back to the registry.
    t.files.insert(
        "/Windows/System32/ntoskrnl.exe".into(),
        vec![b'M', b'Z', 0xFF, 0xFF],
    );
    let a = inspect(&t).arch;
    assert_eq!(a.get().unwrap().arch, WinArch::Arm64);
    assert!(evidence_has(&a.evidence, "ntoskrnl.exe", "not a PE image"));
}

#[test]
fn boot_modes() {
    let (_d, mut t) = tree();
    t.bcd = None;
    let f = inspect(&t);
    let b = f.boot.get().unwrap();
    assert!(!b.bios() && b.bios_bcd_missing);

    // UEFI: an ESP with the Windows loader, its BCD and the fallback.
    let (d, mut t) = tree();
    t.files.remove("/bootmgr");
    t.bcd = None;
    t.disk.partition_table = PartitionTable::Gpt;
    t.disk.active_partition = false;
    t.disk.esp_device = Some("/dev/vda1".into());
    let b = build(&t);
    let esp = d.path().join("esp");
    let scratch = d.path().join("s2");
    std::fs::create_dir_all(esp.join("EFI/Microsoft/Boot")).unwrap();
    std::fs::create_dir_all(esp.join("EFI/Boot")).unwrap();
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::write(esp.join("EFI/Microsoft/Boot/bootmgfw.efi"), b"x").unwrap();
    std::fs::write(esp.join("EFI/Boot/bootx64.efi"), b"x").unwrap();
    let bcd = WinTree::server_2019(&scratch).bcd.unwrap().write(&scratch);
    std::fs::write(esp.join("EFI/Microsoft/Boot/BCD"), bcd).unwrap();
    let guest = b.guest.clone().with_volume_root("/dev/vda1", &esp);
    let f = inspect_windows(&guest);
    let boot = f.boot.get().unwrap();
    assert!(
        boot.uefi() && boot.uefi_fallback && !boot.bios(),
        "{:?}",
        f.boot
    );
    std::fs::remove_file(esp.join("EFI/Boot/bootx64.efi")).unwrap();
    std::fs::write(esp.join("EFI/Microsoft/Boot/BCD"), b"garbage").unwrap();
    let f = inspect_windows(&guest);
    let boot = f.boot.get().unwrap();
    assert!(!boot.uefi() && !boot.uefi_fallback);
    assert!(evidence_has(
        &f.boot.evidence,
        "BCD",
        "not a usable BCD store"
    ));
}

#[test]
fn volume_state_and_fast_startup() {
    let (_d, mut t) = tree();
    let mut hiber = vec![0u8; 8192];
    hiber[..4].copy_from_slice(b"HIBR");
    t.files.insert("/hiberfil.sys".into(), hiber);
    t.system.set(
        &c("Control\\Session Manager\\Power"),
        "HiberbootEnabled",
        V::Dword(1),
    );
    let b = build(&t);
    let guest = b
        .guest
        .clone()
        .with_volume_state("/dev/vda1", vec![VolumeState::Dirty]);
    let f = inspect_windows(&guest);
    let n = f.ntfs.get().unwrap();
    assert!(n.hibernated && n.dirty == Some(true));
    assert_eq!(n.hiberfil_signature.as_deref(), Some("HIBR"));
    assert_eq!(n.hiberboot_enabled, Some(1));
    // A zeroed hiberfil.sys is no hibernation image.
    let (_d, mut t) = tree();
    t.files.insert("/hiberfil.sys".into(), vec![0u8; 8192]);
    let f = inspect(&t);
    assert!(!f.ntfs.get().unwrap().hibernated);
    assert_eq!(f.ntfs.get().unwrap().dirty, None);
}

#[test]
fn pending_and_sysprep() {
    let (_d, mut t) = tree();
    t.software
        .key("Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending");
    t.system.set(
        &c("Control\\Session Manager"),
        "PendingFileRenameOperations",
        multi(&["\\??\\C:\\Windows\\temp\\a.dll", "", "\\??\\C:\\x", ""]),
    );
    t.system.set("Setup", "OOBEInProgress", V::Dword(1));
    t.software.set(
        "Microsoft\\Windows\\CurrentVersion\\Setup\\State",
        "ImageState",
        sz("IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"),
    );
    let f = inspect(&t);
    let p = f.pending.get().unwrap();
    assert!(p.cbs_reboot_pending && p.reboot_pending());
    assert_eq!(p.pending_renames, 2);
    assert!(p.sealed() && p.unattend_files.is_empty());
    t.files.insert(
        "/Windows/Panther/Unattend.xml".into(),
        b"<unattend/>".to_vec(),
    );
    let f = inspect(&t);
    assert_eq!(
        f.pending.get().unwrap().unattend_files,
        ["/Windows/Panther/Unattend.xml"]
    );
}

#[test]
fn virtio_blk_variants() {
    // Windows 7 style: CriticalDeviceDatabase instead of DriverDatabase.
    let (_d, mut t) = tree();
    t.system.remove("DriverDatabase");
    let cddb = c("Control\\CriticalDeviceDatabase");
    t.system
        .set(
            &format!("{cddb}\\pci#ven_1af4&dev_1001&subsys_00021af4&rev_00"),
            "Service",
            sz("viostor"),
        )
        .set(
            &format!("{cddb}\\pci#ven_1af4&dev_1001&subsys_00021af4&rev_00"),
            "ClassGUID",
            sz("{4D36E97B-E325-11CE-BFC1-08002BE10318}"),
        )
        .set(
            &format!("{cddb}\\PCI#VEN_1AF4&DEV_1000"),
            "Service",
            sz("netkvm"),
        );
    t.system.set(
        &c("Enum\\PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00"),
        "Service",
        sz("viostor"),
    );
    let f = inspect(&t);
    let v = &f.virtio_blk.get().unwrap().viostor;
    assert_eq!(v.mapped_ids(), ["1001"]);
    assert_eq!(v.unmapped_ids(), ["1042"]);
    assert!(
        matches!(&v.ids[0].mappings[0], IdMapping::CriticalDeviceDatabase { service: Some(s), .. } if s == "viostor")
    );
    assert_eq!(v.ids[0].enumerated.len(), 1);
    // netkvm's CDDB entry does not map a block ID.
    assert_eq!(f.virtio_net.get().unwrap().mapped_ids(), ["1000"]);

    // Service demand-start, file missing.
    let (_d, mut t) = tree();
    t.system.set(&c("Services\\viostor"), "Start", V::Dword(3));
    t.files.remove("/Windows/System32/drivers/viostor.sys");
    let f = inspect(&t);
    let v = &f.virtio_blk.get().unwrap().viostor;
    assert_eq!(v.service.start, Some(3));
    assert!(!v.service.file_present);
    assert!(evidence_has(
        &f.virtio_blk.evidence,
        "viostor.sys",
        "absent"
    ));

    // No service at all.
    let (_d, mut t) = tree();
    t.system.remove(&c("Services\\viostor"));
    t.system.remove(&c("Services\\netkvm"));
    let f = inspect(&t);
    assert!(!f.virtio_blk.get().unwrap().viostor.service.present);
    assert!(!f.virtio_net.get().unwrap().service.present);
}

#[test]
fn class_filters_and_foreign_tools() {
    let (_d, mut t) = tree();
    t.system.set(
        &c("Control\\Class\\{4D36E967-E325-11CE-BFC1-08002BE10318}"),
        "UpperFilters",
        multi(&["partmgr", "EhStorClass"]),
    );
    t.system.set(
        &c("Control\\Class\\{4D36E97B-E325-11CE-BFC1-08002BE10318}"),
        "LowerFilters",
        multi(&["xenfilt"]),
    );
    t.system
        .set(&c("Services\\xenfilt"), "Start", V::Dword(0))
        .set(&c("Services\\xenfilt"), "Type", V::Dword(1))
        .set(&c("Services\\vmtools"), "Start", V::Dword(2));
    t.software.set(
        "Microsoft\\Windows\\CurrentVersion\\Uninstall\\{VMTOOLS}",
        "DisplayName",
        sz("VMware Tools"),
    );
    let f = inspect(&t);
    let filters = f.class_filters.get().unwrap();
    let eh = filters
        .iter()
        .find(|x| x.service.name == "EhStorClass")
        .unwrap();
    assert!(!eh.service.present);
    let xen = filters
        .iter()
        .find(|x| x.service.name == "xenfilt")
        .unwrap();
    assert_eq!(
        (xen.class.as_str(), xen.list.as_str()),
        ("SCSIAdapter", "LowerFilters")
    );
    assert!(xen.service.present && !xen.service.file_present);
    let tools = f.foreign_tools.get().unwrap();
    let platforms: Vec<&str> = tools.iter().map(|t| t.platform.as_str()).collect();
    assert!(
        platforms.contains(&"VMware") && platforms.contains(&"Xen"),
        "{tools:?}"
    );
    assert!(tools.iter().any(|t| t.what.contains("VMware Tools")));
}

#[test]
fn network_and_access() {
    let (_d, mut t) = tree();
    let ifk = c(&format!(
        "Services\\Tcpip\\Parameters\\Interfaces\\{NIC_GUID}"
    ));
    t.system
        .set(&ifk, "EnableDHCP", V::Dword(0))
        .set(&ifk, "IPAddress", multi(&["192.168.10.5"]))
        .set(&c("Services\\Dhcp"), "Start", V::Dword(4))
        .set(
            &c("Control\\Terminal Server"),
            "fDenyTSConnections",
            V::Dword(1),
        )
        .set(
            &c("Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules"),
            "RemoteDesktop-UserMode-In-TCP",
            sz("v2.30|Action=Allow|Active=FALSE|Dir=In|Protocol=6|Profile=Domain|LPort=3389|"),
        )
        .set(
            &c("Services\\partmgr\\Parameters"),
            "SanPolicy",
            V::Dword(2),
        )
        .set(
            &c("Control\\TimeZoneInformation"),
            "RealTimeIsUniversal",
            V::Qword(0),
        )
        .set(
            &c("Control\\Session Manager\\Memory Management"),
            "PagingFiles",
            multi(&["D:\\pagefile.sys 0 0"]),
        );
    t.system.remove(&c("Services\\cloudbase-init"));
    t.software.remove("Cloudbase Solutions");
    t.software
        .remove("Microsoft\\Windows\\CurrentVersion\\Uninstall");
    t.software.set(
        "Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions",
        "DenyUnspecified",
        V::Dword(1),
    );
    t.files
        .remove("/Program Files/Cloudbase Solutions/Cloudbase-Init/conf/cloudbase-init.conf");
    let f = inspect(&t);
    let d = f.dhcp.get().unwrap();
    assert_eq!(d.dhcp_service.start, Some(4));
    assert!(d.interfaces[0].is_static() && d.interfaces[0].is_virtio());
    assert!(f.rdp.get().unwrap().denied());
    let fw = f.rdp_firewall.get().unwrap();
    assert!(fw.public_enabled() && !fw.rdp_allowed());
    assert_eq!(f.san_policy.get(), Some(&2));
    assert!(!f.cloudbase_init.get().unwrap().installed());
    assert_eq!(f.rtc.get(), Some(&0));
    let pf = f.pagefile.get().unwrap();
    assert_eq!(pf.other_drives(), ["D:"]);
    assert!(pf.automatic());
    assert_eq!(
        f.device_install_policy.get().unwrap().restrictions,
        ["DenyUnspecified"]
    );

    // Policy overrides: RDP denied by policy, firewall off by policy.
    let (_d, mut t) = tree();
    t.software
        .set(
            "Policies\\Microsoft\\Windows NT\\Terminal Services",
            "fDenyTSConnections",
            V::Dword(1),
        )
        .set(
            "Policies\\Microsoft\\WindowsFirewall\\PublicProfile",
            "EnableFirewall",
            V::Dword(0),
        );
    let f = inspect(&t);
    assert!(f.rdp.get().unwrap().denied());
    assert!(!f.rdp_firewall.get().unwrap().public_enabled());
}

#[test]
fn windows_7_signing() {
    let (_d, mut t) = tree();
    let cv = "Microsoft\\Windows NT\\CurrentVersion";
    t.software
        .set(cv, "ProductName", sz("Windows 7 Professional"))
        .set(cv, "CurrentBuild", sz("7601"))
        .set(cv, "InstallationType", sz("Client"));
    let f = inspect(&t);
    let s = f.driver_signing.get().unwrap();
    assert!(s.needs_sha2_update && !s.sha2_update);
    t.software.key(
        "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\Package_for_KB4474419~31bf3856ad364e35~amd64~~6.1.3.2",
    );
    let f = inspect(&t);
    assert!(f.driver_signing.get().unwrap().sha2_update);
}

/// A tiny deterministic generator for the damage test.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[test]
fn damaged_hives_and_wrong_types_never_panic() {
    let (_d, mut t) = tree();
    // Values of the wrong type read as absent, with what was found.
    t.system
        .set(&c("Services\\viostor"), "Start", sz("0"))
        .set("Select", "Current", sz("1"));
    let f = inspect(&t);
    assert!(f.control_set.get().is_none());

    let (_d, t) = tree();
    let b = build(&t);
    let root = b._dir.path().join("c/Windows/System32/config");
    let system = std::fs::read(root.join("SYSTEM")).unwrap();
    let software = std::fs::read(root.join("SOFTWARE")).unwrap();
    let mut seed = 7u64;
    for round in 0..60 {
        let (name, orig) = if round % 2 == 0 {
            ("SYSTEM", &system)
        } else {
            ("SOFTWARE", &software)
        };
        let mut hive = orig.clone();
        for _ in 0..24 {
            let at = 4096 + (lcg(&mut seed) as usize) % (hive.len() - 4096);
            hive[at] ^= 1 << (lcg(&mut seed) % 8);
        }
        if round % 10 == 9 {
            hive.truncate(4096 + (lcg(&mut seed) as usize) % (hive.len() - 4096));
        }
        std::fs::write(root.join(name), &hive).unwrap();
        let f = inspect_windows(&b.guest);
        // Either the hive opened (facts, maybe partial) or the reason is given.
        assert!(f.hives.get().is_some() || f.hives.unknown.is_some());
        std::fs::write(root.join(name), orig).unwrap();
    }
}
