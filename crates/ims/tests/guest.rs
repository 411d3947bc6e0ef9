//! Guest-readiness rules over hand-made `LinuxFacts`: a guest that passes
//! every check, and one change per check that makes it fail, warn or stay
//! unknown. The identity parsing is also exercised through `DirGuest` so
//! the rules and the fact reader agree on how versions are split.

use imsprep_guest::linux::access::{AccessFacts, Account, PasswordState, SshFacts, SshdSetting};
use imsprep_guest::linux::advisory::AdvisoryFacts;
use imsprep_guest::linux::arch::{Arch, ArchInfo};
use imsprep_guest::linux::bootloader::{BootConfig, BootEntry, LoaderKind};
use imsprep_guest::linux::bootmode::{BootCapability, BootMode};
use imsprep_guest::linux::cloudinit::{CloudInitFacts, Setting};
use imsprep_guest::linux::identity::{OsFamily, OsIdentity};
use imsprep_guest::linux::initramfs::InitrdListing;
use imsprep_guest::linux::initrd_generator::InitrdGenerator;
use imsprep_guest::linux::kernels::KernelInfo;
use imsprep_guest::linux::leftovers::{GuestTool, LeftoverFacts, ToolKind};
use imsprep_guest::linux::network::udev::{Generator, PersistentRule};
use imsprep_guest::linux::network::{
    IfNaming, Matcher, NetProfile, NetworkFacts, Stack, StackState,
};
use imsprep_guest::linux::services::{DefaultTarget, UnitState};
use imsprep_guest::linux::storage::lvm::DeviceId;
use imsprep_guest::linux::storage::superblock::{CleanState, FsUsage};
use imsprep_guest::linux::storage::{classify_source, FstabEntry, Resolution, StorageFacts};
use imsprep_guest::linux::virtio::{InitrdSetting, ModuleState, VirtioFacts};
use imsprep_guest::{inspect_linux, DirGuest, Evidence, Fact, LinuxFacts};
use imsprep_ims::guest::check_fs_state;
use imsprep_ims::os::Cloud;
use imsprep_ims::{
    check_declared, check_linux, os_version_for, Architecture, Finding, Firmware, Intent, Severity,
};

const KVER: &str = "5.14.0-162.6.1.el9_1.x86_64";
const ROOT_UUID: &str = "0b6f3c1e-8a43-4c4c-9d7e-2b1d3c4e5f60";

fn ident(
    family: OsFamily,
    id: &str,
    version_id: &str,
    full: &str,
    major: u32,
    minor: Option<u32>,
    sp: Option<u32>,
) -> OsIdentity {
    OsIdentity {
        family,
        id: Some(id.to_owned()),
        id_like: Vec::new(),
        version_id: Some(version_id.to_owned()),
        version: None,
        name: None,
        pretty_name: None,
        variant_id: None,
        full_version: Some(full.to_owned()),
        major: Some(major),
        minor,
        service_pack: sp,
        release_line: None,
    }
}

fn arch64() -> ArchInfo {
    ArchInfo {
        arch: Arch::X86_64,
        bits: 64,
        little_endian: true,
        binary: "/usr/bin/bash".to_owned(),
    }
}

fn enabled_unit(name: &str, wants: &str) -> UnitState {
    UnitState {
        unit: name.to_owned(),
        unit_file: Some(format!("/usr/lib/systemd/system/{name}")),
        enabled_by: vec![format!("/etc/systemd/system/{wants}/{name}")],
        ..UnitState::default()
    }
}

fn module(name: &str, dir: &str) -> ModuleState {
    ModuleState {
        name: name.to_owned(),
        builtin: false,
        module_file: Some(format!(
            "/lib/modules/{KVER}/kernel/drivers/{dir}/{name}.ko.xz"
        )),
        in_initrd: Some(format!(
            "usr/lib/modules/{KVER}/kernel/drivers/{dir}/{name}.ko.xz"
        )),
        builtin_in_initrd: false,
    }
}

fn fstab(line: usize, source: &str, mp: &str, fs: &str, opts: &str, res: Resolution) -> FstabEntry {
    FstabEntry {
        file: "/etc/fstab".to_owned(),
        line,
        source: source.to_owned(),
        mount_point: mp.to_owned(),
        fs_type: fs.to_owned(),
        options: opts.split(',').map(str::to_owned).collect(),
        kind: classify_source(source, fs),
        resolution: res,
    }
}

fn dhcp_profile(name: &str) -> NetProfile {
    NetProfile {
        stack: Stack::RhIfcfg,
        file: format!("/etc/sysconfig/network-scripts/ifcfg-{name}"),
        id: name.to_owned(),
        matchers: vec![Matcher::Name(name.to_owned())],
        set_name: None,
        dhcp4: true,
        static_v4: false,
        at_boot: true,
        evidence: vec![Evidence::file(
            format!("/etc/sysconfig/network-scripts/ifcfg-{name}"),
            "BOOTPROTO=dhcp",
        )],
    }
}

/// A RHEL 9.1 guest prepared as IMS asks: every check passes.
fn good() -> LinuxFacts {
    let ev_os = vec![Evidence::file("/etc/os-release", "ID=rhel VERSION_ID=9.1")];
    let entry = BootEntry {
        title: "Red Hat Enterprise Linux (5.14.0) 9.1".to_owned(),
        id: Some("ffff-5.14.0".to_owned()),
        kernel: Some(format!("/vmlinuz-{KVER}")),
        initrd: vec![format!("/initramfs-{KVER}.img")],
        cmdline: Some(format!(
            "root=UUID={ROOT_UUID} ro console=tty0 console=ttyS0,115200n8 net.ifnames=0"
        )),
        kernel_path: Some(format!("/boot/vmlinuz-{KVER}")),
        initrd_paths: vec![format!("/boot/initramfs-{KVER}.img")],
        source: "/boot/loader/entries/ffff-5.14.0.conf".to_owned(),
    };
    let boot = BootConfig {
        loader: LoaderKind::Grub2Bls,
        config_path: "/boot/grub2/grub.cfg".to_owned(),
        entries: vec![entry],
        default_spec: Some("saved_entry=ffff-5.14.0".to_owned()),
        default_index: Some(0),
        grub_search_uuids: Vec::new(),
        grub_cmdline_linux: Some("console=ttyS0 net.ifnames=0".to_owned()),
        grub_cmdline_linux_default: None,
        grub_default: Some("saved".to_owned()),
        default_problem: None,
    };
    let modules = vec![
        module("virtio", "virtio"),
        module("virtio_ring", "virtio"),
        module("virtio_pci", "virtio"),
        module("virtio_blk", "block"),
        module("virtio_scsi", "scsi"),
        module("virtio_net", "net"),
    ];
    let root = fstab(
        1,
        &format!("UUID={ROOT_UUID}"),
        "/",
        "xfs",
        "defaults",
        Resolution::Found("/dev/vda2".to_owned()),
    );
    let storage = StorageFacts {
        fstab_read: true,
        root_fs_type: Some(("xfs".to_owned(), root.evidence())),
        fstab: vec![root],
        ..StorageFacts::default()
    };
    let naming_ev = Evidence::file("/proc/cmdline (default entry)", "net.ifnames=0");
    let network = NetworkFacts {
        stacks: vec![StackState {
            stack: Stack::NetworkManager,
            service: None,
            has_profiles: true,
            enabled: true,
            evidence: vec![Evidence::file(
                "/etc/systemd/system/multi-user.target.wants/NetworkManager.service",
                "enable link",
            )],
        }],
        profiles: vec![dhcp_profile("eth0")],
        naming: IfNaming {
            first_nic: Some("eth0".to_owned()),
            disabled_by: vec![naming_ev],
            grub_default: None,
        },
        ..NetworkFacts::default()
    };
    let ci_ev = Evidence::file(
        "/etc/cloud/cloud.cfg.d/99-ims.cfg",
        "datasource_list: [ OpenStack ]",
    );
    let cloud_init = CloudInitFacts {
        installed_by: vec![Evidence::file("/usr/bin/cloud-init", "present")],
        version: Some((
            "23.1.1".to_owned(),
            Evidence::file(
                "/usr/lib/python3.9/site-packages/cloudinit/version.py",
                "23.1.1",
            ),
        )),
        units: vec![
            enabled_unit("cloud-init-local.service", "cloud-init.target.wants"),
            enabled_unit("cloud-init.service", "cloud-init.target.wants"),
            enabled_unit("cloud-config.service", "cloud-init.target.wants"),
            enabled_unit("cloud-final.service", "cloud-init.target.wants"),
        ],
        datasource_list: Some((vec!["OpenStack".to_owned()], ci_ev.clone())),
        settings: vec![Setting {
            key: "network.config".to_owned(),
            value: "disabled".to_owned(),
            evidence: ci_ev,
        }],
        modules: vec![(
            "cloud_init_modules".to_owned(),
            vec![
                "growpart".to_owned(),
                "resizefs".to_owned(),
                "ssh".to_owned(),
            ],
        )],
        growpart_program: Some(Evidence::file("/usr/bin/growpart", "present")),
        ..CloudInitFacts::default()
    };
    let access = AccessFacts {
        ssh: SshFacts {
            binary: Some(Evidence::file("/usr/sbin/sshd", "present")),
            units: vec![enabled_unit("sshd.service", "multi-user.target.wants")],
            ..SshFacts::default()
        },
        accounts: vec![Account {
            name: "root".to_owned(),
            uid: 0,
            shell: "/bin/bash".to_owned(),
            password: Some(PasswordState::Locked),
            authorized_keys: None,
            evidence: vec![Evidence::file("/etc/shadow", "root: locked")],
        }],
        default_target: Some(DefaultTarget {
            target: "multi-user.target".to_owned(),
            evidence: Evidence::file("/etc/systemd/system/default.target", "-> multi-user.target"),
        }),
        ..AccessFacts::default()
    };
    LinuxFacts {
        identity: Fact::found(
            ident(OsFamily::Rhel, "rhel", "9.1", "9.1", 9, Some(1), None),
            ev_os,
        ),
        arch: Fact::found(
            arch64(),
            vec![Evidence::file("/usr/bin/bash", "ELF 64-bit x86-64")],
        ),
        kernels: Fact::found(
            vec![KernelInfo {
                version: KVER.to_owned(),
                image: Some(format!("/boot/vmlinuz-{KVER}")),
                modules_dir: Some(format!("/lib/modules/{KVER}")),
                initrds: vec![format!("/boot/initramfs-{KVER}.img")],
                ..KernelInfo::default()
            }],
            Vec::new(),
        ),
        boot: Fact::found(
            boot,
            vec![Evidence::file(
                "/boot/grub2/grubenv",
                "saved_entry=ffff-5.14.0",
            )],
        ),
        boot_mode: Fact::found(
            BootCapability {
                mode: BootMode::Bios,
                bios: true,
                uefi: false,
                uefi_fallback: Vec::new(),
                uefi_vendor_loaders: Vec::new(),
                esp_device: None,
            },
            vec![Evidence::disk("MBR boot code", "GRUB")],
        ),
        virtio: Fact::found(
            VirtioFacts {
                kernel_version: KVER.to_owned(),
                modules,
                initrd_path: Some(format!("/boot/initramfs-{KVER}.img")),
                initrd: Some(InitrdListing::default()),
                ..VirtioFacts::default()
            },
            vec![Evidence::file(
                format!("/lib/modules/{KVER}/modules.dep"),
                "read",
            )],
        ),
        initrd_generator: Fact::found(
            InitrdGenerator {
                dracut: true,
                dracut_add_drivers: [
                    "virtio_blk",
                    "virtio_scsi",
                    "virtio_net",
                    "virtio_pci",
                    "virtio_ring",
                    "virtio",
                ]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
                ..InitrdGenerator::default()
            },
            vec![Evidence::file(
                "/etc/dracut.conf.d/virtio.conf",
                "add_drivers+=\" virtio_blk ... \"",
            )],
        ),
        storage: Fact::found(storage, Vec::new()),
        network: Fact::found(network, Vec::new()),
        cloud_init: Fact::found(cloud_init, Vec::new()),
        access: Fact::found(access, Vec::new()),
        leftovers: Fact::found(LeftoverFacts::default(), Vec::new()),
        ..LinuxFacts::default()
    }
}

fn huawei() -> Intent {
    Intent {
        cloud: Some(Cloud::HuaweiCloud),
        ..Intent::default()
    }
}

/// Findings that are not info.
fn problems(f: &[Finding]) -> Vec<String> {
    f.iter()
        .filter(|f| f.severity != Severity::Info)
        .map(|f| format!("{} {}: {}", f.severity, f.code.id(), f.message))
        .collect()
}

/// The one finding of `code` with `severity`; its message must contain
/// every `needle` (the evidence).
fn one<'a>(f: &'a [Finding], code: &str, severity: Severity, needles: &[&str]) -> &'a Finding {
    let hits: Vec<&Finding> = f.iter().filter(|f| f.code.id() == code).collect();
    assert!(
        hits.iter().any(|h| h.severity == severity),
        "no {severity} {code} in {:#?}",
        f.iter()
            .map(|f| format!("{} {} {}", f.severity, f.code.id(), f.message))
            .collect::<Vec<_>>()
    );
    let hit = hits
        .into_iter()
        .find(|h| h.severity == severity && needles.iter().all(|n| h.message.contains(n)))
        .unwrap_or_else(|| panic!("{code} lacks {needles:?}: {f:#?}"));
    hit
}

fn none_of(f: &[Finding], code: &str) {
    assert!(
        !f.iter()
            .any(|x| x.code.id() == code && x.severity != Severity::Info),
        "unexpected {code}: {:#?}",
        f
    );
}

#[test]
fn prepared_guest_passes_every_check() {
    let f = check_linux(&good(), &huawei());
    assert!(problems(&f).is_empty(), "{:#?}", problems(&f));
    let v = one(
        &f,
        "LX-OS-VERSION",
        Severity::Info,
        &[
            "Red Hat Linux Enterprise 9.1 64bit",
            "not validated",
            "/etc/os-release",
        ],
    );
    assert!(v.fix.contains("\"Red Hat Linux Enterprise 9.1 64bit\""));
}

// --- LX-OS-VERSION -----------------------------------------------------------

fn best(id: OsIdentity, bits: u8, cloud: Option<Cloud>) -> imsprep_ims::OsVersionChoice {
    let a = ArchInfo {
        arch: if bits == 32 { Arch::I386 } else { Arch::X86_64 },
        bits,
        ..arch64()
    };
    os_version_for(&id, Some(&a), cloud)
}

fn exact(id: OsIdentity, cloud: Option<Cloud>) -> Option<String> {
    best(id, 64, cloud).exact
}

#[test]
fn os_version_every_family() {
    let h = Some(Cloud::HuaweiCloud);
    let o = Some(Cloud::Otc);
    use OsFamily as F;
    // CentOS, 64 and 32 bit.
    assert_eq!(
        exact(
            ident(F::CentOs, "centos", "7", "7.9.2009", 7, Some(9), None),
            h
        )
        .as_deref(),
        Some("CentOS 7.9 64bit")
    );
    assert_eq!(
        best(
            ident(F::CentOs, "centos", "6", "6.5", 6, Some(5), None),
            32,
            h
        )
        .exact
        .as_deref(),
        Some("CentOS 6.5 32bit")
    );
    // RHEL: "Red Hat Linux Enterprise" for 8.1+, "Redhat Linux Enterprise" for older minors on Huawei Cloud,
    // OTC's own "Red Hat Enterprise Linux" where only it lists the version.
    assert_eq!(
        exact(ident(F::Rhel, "rhel", "9.0", "9.0", 9, Some(0), None), h).as_deref(),
        Some("Red Hat Linux Enterprise 9.0 64bit")
    );
    assert_eq!(
        exact(ident(F::Rhel, "rhel", "7.6", "7.6", 7, Some(6), None), h).as_deref(),
        Some("Redhat Linux Enterprise 7.6 64bit")
    );
    assert_eq!(
        exact(ident(F::Rhel, "rhel", "7.9", "7.9", 7, Some(9), None), o).as_deref(),
        Some("Red Hat Enterprise Linux 7.9 64bit")
    );
    let r = best(
        ident(F::Rhel, "rhel", "7.9", "7.9", 7, Some(9), None),
        64,
        h,
    );
    assert_eq!(
        (r.exact, r.nearest.as_deref()),
        (None, Some("Redhat Linux Enterprise 7.6 64bit"))
    );
    let r = best(
        ident(F::Rhel, "rhel", "9.2", "9.2", 9, Some(2), None),
        64,
        None,
    );
    assert_eq!(
        r.nearest.as_deref(),
        Some("Red Hat Linux Enterprise 9.1 64bit")
    );
    // Ubuntu: X.Y for the series, the point release where listed, "server"/"Server" per cloud.
    assert_eq!(
        exact(
            ident(F::Ubuntu, "ubuntu", "22.04", "22.04.3", 22, Some(4), None),
            h
        )
        .as_deref(),
        Some("Ubuntu 22.04 Server 64bit")
    );
    assert_eq!(
        exact(
            ident(F::Ubuntu, "ubuntu", "16.04", "16.04.3", 16, Some(4), None),
            h
        )
        .as_deref(),
        Some("Ubuntu 16.04.3 server 64bit")
    );
    assert_eq!(
        exact(
            ident(F::Ubuntu, "ubuntu", "24.04", "24.04.1", 24, Some(4), None),
            o
        )
        .as_deref(),
        Some("Ubuntu 24.04 server 64bit")
    );
    let u = best(
        ident(F::Ubuntu, "ubuntu", "24.04", "24.04", 24, Some(4), None),
        64,
        h,
    );
    assert_eq!(
        (u.exact, u.nearest, u.fallback.as_str()),
        (None, None, "Other Linux(64 bit)")
    );
    // Debian: GNU/Linux X.Y.0; 12.5 is not listed, 12.0.0 is the nearest.
    assert_eq!(
        exact(
            ident(F::Debian, "debian", "12", "12.0", 12, Some(0), None),
            h
        )
        .as_deref(),
        Some("Debian GNU/Linux 12.0.0 64bit")
    );
    assert_eq!(
        exact(
            ident(F::Debian, "debian", "11", "11.7", 11, Some(7), None),
            o
        )
        .as_deref(),
        Some("Debian GNU/Linux 11.7.0 64bit")
    );
    let d = best(
        ident(F::Debian, "debian", "12", "12.5", 12, Some(5), None),
        64,
        h,
    );
    assert_eq!(
        (
            d.candidate.as_deref(),
            d.exact.as_deref(),
            d.nearest.as_deref()
        ),
        (
            Some("Debian GNU/Linux 12.5.0 64bit"),
            None,
            Some("Debian GNU/Linux 12.0.0 64bit")
        )
    );
    // SUSE: " SP{n}" only when there is one.
    assert_eq!(
        exact(
            ident(F::Sles, "sles", "15.5", "15.5", 15, Some(5), Some(5)),
            h
        )
        .as_deref(),
        Some("SUSE Linux Enterprise Server 15 SP5 64bit")
    );
    assert_eq!(
        exact(ident(F::Sles, "sles", "12", "12", 12, None, None), o).as_deref(),
        Some("SUSE Linux Enterprise Server 12 64bit")
    );
    assert_eq!(
        exact(
            ident(
                F::OpenSuse,
                "opensuse-leap",
                "15.5",
                "15.5",
                15,
                Some(5),
                None
            ),
            h
        )
        .as_deref(),
        Some("openSUSE 15.5 64bit")
    );
    assert_eq!(
        exact(ident(F::Oracle, "ol", "7.6", "7.6", 7, Some(6), None), h).as_deref(),
        Some("Oracle Linux Server release 7.6 64bit")
    );
    assert_eq!(
        exact(ident(F::Fedora, "fedora", "39", "39", 39, None, None), h).as_deref(),
        Some("Fedora 39 64bit")
    );
    // EulerOS: the service pack is the list's minor.
    assert_eq!(
        exact(
            ident(F::EulerOs, "euleros", "2.0", "2.0", 2, Some(0), Some(8)),
            h
        )
        .as_deref(),
        Some("EulerOS 2.8 64bit")
    );
    assert_eq!(
        exact(
            ident(F::EulerOs, "euleros", "2.0", "2.0", 2, Some(0), Some(10)),
            h
        )
        .as_deref(),
        Some("EulerOS 2.10 64bit")
    );
    let e = best(
        ident(F::EulerOs, "euleros", "2.0", "2.0", 2, Some(0), None),
        64,
        h,
    );
    assert!(e.exact.is_none() && e.nearest.is_none() && e.candidate.is_none());
    // openEuler: "LTS" dropped, SP kept; not EulerOS.
    assert_eq!(
        exact(
            ident(
                F::OpenEuler,
                "openEuler",
                "22.03",
                "22.03",
                22,
                Some(3),
                Some(1)
            ),
            h
        )
        .as_deref(),
        Some("openEuler 22.03 SP1 64bit")
    );
    assert_eq!(
        exact(
            ident(
                F::OpenEuler,
                "openEuler",
                "22.03",
                "22.03",
                22,
                Some(3),
                None
            ),
            o
        )
        .as_deref(),
        Some("openEuler 22.03 64bit")
    );
    let oe = best(
        ident(
            F::OpenEuler,
            "openEuler",
            "22.03",
            "22.03",
            22,
            Some(3),
            Some(3),
        ),
        64,
        h,
    );
    assert_eq!(oe.nearest.as_deref(), Some("openEuler 22.03 SP1 64bit"));
    assert!(oe.reason.contains("openEuler is not EulerOS"));
    // Huawei Cloud EulerOS and Kylin: never another family's string.
    let hce = best(
        ident(F::HuaweiCloudEulerOs, "hce", "2.0", "2.0", 2, Some(0), None),
        64,
        h,
    );
    assert_eq!((hce.best(), hce.unverified), ("Other Linux(64 bit)", true));
    assert_eq!(
        hce.candidate.as_deref(),
        Some("Huawei Cloud EulerOS 2.0 64bit")
    );
    let ky = best(
        ident(F::Kylin, "kylin", "V10", "V10", 10, None, Some(2)),
        64,
        h,
    );
    assert_eq!(ky.best(), "Other Linux(64 bit)");
    assert!(ky.reason.contains("not NeoKylin"), "{}", ky.reason);
    assert_eq!(
        exact(
            ident(
                F::NeoKylin,
                "neokylin",
                "V7Update4",
                "V7Update4",
                7,
                Some(4),
                None
            ),
            h
        )
        .as_deref(),
        Some("NeoKylin 7.4 64bit")
    );
    // CentOS Stream has no minor: the listed row is only the nearest.
    let cs = best(
        ident(F::CentOsStream, "centos", "9", "9", 9, None, None),
        64,
        o,
    );
    assert_eq!(
        (cs.exact, cs.nearest.as_deref()),
        (None, Some("CentOS Stream 9.6 64bit"))
    );
    assert_eq!(
        exact(
            ident(F::Alma, "almalinux", "8.7", "8.7", 8, Some(7), None),
            o
        )
        .as_deref(),
        Some("Alma 8 64bit")
    );
    // Unknown family and 32-bit fallbacks as each list spells them.
    let other = ident(F::Other("arch".to_owned()), "arch", "1", "1", 1, None, None);
    assert_eq!(best(other.clone(), 64, h).best(), "Other Linux(64 bit)");
    assert_eq!(best(other.clone(), 32, h).best(), "Other(32 bit)");
    assert_eq!(best(other, 32, o).best(), "Other Linux(32 bit)");
}

#[test]
fn os_version_findings_near_and_generic() {
    let mut g = good();
    g.identity = Fact::found(
        ident(OsFamily::Debian, "debian", "12", "12.5", 12, Some(5), None),
        vec![Evidence::file("/etc/debian_version", "12.5")],
    );
    let f = check_linux(&g, &huawei());
    let v = one(
        &f,
        "LX-OS-VERSION",
        Severity::Warning,
        &[
            "Debian GNU/Linux 12.0.0 64bit",
            "/etc/debian_version: 12.5",
            "not validated",
        ],
    );
    assert!(v.fix.contains("--os-version"));
    none_of(&f, "IMG-OS-SUPPORTED");

    g.identity = Fact::found(
        ident(
            OsFamily::Other("slackware".to_owned()),
            "slackware",
            "15.0",
            "15.0",
            15,
            Some(0),
            None,
        ),
        vec![Evidence::file("/etc/os-release", "ID=slackware")],
    );
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-OS-VERSION",
        Severity::Warning,
        &["Other Linux(64 bit)"],
    );
    one(
        &f,
        "IMG-OS-SUPPORTED",
        Severity::Warning,
        &["slackware", "/etc/os-release: ID=slackware"],
    );

    g.identity = Fact::unknown(
        "/etc/os-release: I/O error",
        vec![Evidence::file("/etc/os-release", "unreadable")],
    );
    let f = check_linux(&g, &huawei());
    let id = one(&f, "LX-OS-ID", Severity::Error, &["UNKNOWN", "I/O error"]);
    assert!(id.message.starts_with("UNKNOWN"));
    one(&f, "LX-OS-VERSION", Severity::Error, &["UNKNOWN"]);

    g.identity = Fact::found(
        ident(OsFamily::CentOs, "centos", "7", "7", 7, None, None),
        vec![Evidence::file("/etc/os-release", "VERSION_ID=7")],
    );
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-OS-ID",
        Severity::Warning,
        &["only the major", "VERSION_ID=7"],
    );
}

#[test]
fn identity_through_dir_guest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).expect("etc");
    std::fs::write(
        etc.join("os-release"),
        "NAME=\"openEuler\"\nVERSION=\"22.03 (LTS-SP1)\"\nID=\"openEuler\"\nVERSION_ID=\"22.03\"\n",
    )
    .expect("os-release");
    std::fs::write(
        etc.join("openEuler-release"),
        "openEuler release 22.03 (LTS-SP1)\n",
    )
    .expect("release");
    let facts = inspect_linux(&DirGuest::new(dir.path()));
    let id = facts.identity.get().expect("identity");
    let c = os_version_for(id, None, Some(Cloud::HuaweiCloud));
    assert_eq!(
        c.exact.as_deref(),
        Some("openEuler 22.03 SP1 64bit"),
        "{id:?}"
    );

    std::fs::write(
        etc.join("os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\n",
    )
    .expect("os-release");
    std::fs::remove_file(etc.join("openEuler-release")).expect("rm");
    std::fs::write(etc.join("debian_version"), "12.5\n").expect("debian_version");
    let facts = inspect_linux(&DirGuest::new(dir.path()));
    let id = facts.identity.get().expect("identity");
    let c = os_version_for(id, None, None);
    assert_eq!(
        c.nearest.as_deref(),
        Some("Debian GNU/Linux 12.0.0 64bit"),
        "{id:?}"
    );
}

// --- Declared values ---------------------------------------------------------

#[test]
fn declared_os_version_and_architecture() {
    let g = good();
    assert!(check_declared(
        &g,
        Some("Red Hat Linux Enterprise 9.1 64bit"),
        Some(Architecture::X86)
    )
    .is_empty());
    let f = check_declared(&g, Some("CentOS 7.9 64bit"), None);
    let x = one(
        &f,
        "LX-OS-VERSION-DECLARED",
        Severity::Error,
        &[
            "CentOS 7.9 64bit",
            "Red Hat Enterprise Linux",
            "VERSION_ID=9.1",
        ],
    );
    assert!(x.fix.contains("Red Hat Linux Enterprise 9.1 64bit"));
    let f = check_declared(&g, Some("Red Hat Linux Enterprise 8.4 64bit"), None);
    one(
        &f,
        "LX-OS-VERSION-DECLARED",
        Severity::Error,
        &["8.4", "VERSION_ID=9.1"],
    );
    let f = check_declared(&g, Some("Redhat Linux Enterprise 6.6 32bit"), None);
    one(
        &f,
        "LX-OS-VERSION-DECLARED",
        Severity::Error,
        &["32-bit", "64-bit"],
    );
    let f = check_declared(&g, Some("Red Hat Linux Enterprise 9.0 64bit"), None);
    one(&f, "LX-OS-VERSION-DECLARED", Severity::Warning, &["minor"]);
    let f = check_declared(&g, None, Some(Architecture::Arm));
    one(
        &f,
        "LX-ARCH-DECLARED",
        Severity::Error,
        &["\"arm\"", "/usr/bin/bash", "X86_64"],
    );
    // EulerOS: another service pack is another release.
    let mut e = good();
    e.identity = Fact::found(
        ident(
            OsFamily::EulerOs,
            "euleros",
            "2.0",
            "2.0",
            2,
            Some(0),
            Some(10),
        ),
        Vec::new(),
    );
    let f = check_declared(&e, Some("EulerOS 2.8 64bit"), None);
    one(
        &f,
        "LX-OS-VERSION-DECLARED",
        Severity::Error,
        &["EulerOS 2.8", "SP10"],
    );
    assert!(check_declared(&e, Some("EulerOS 2.10 64bit"), None).is_empty());
    // Debian 12.5 registered as the nearest listed 12.0.0: the user's confirmation.
    let mut d = good();
    d.identity = Fact::found(
        ident(OsFamily::Debian, "debian", "12", "12.5", 12, Some(5), None),
        Vec::new(),
    );
    assert!(check_declared(&d, Some("Debian GNU/Linux 12.0.0 64bit"), None).is_empty());
    let f = check_declared(&d, Some("Ubuntu 22.04 server 64bit"), None);
    one(
        &f,
        "LX-OS-VERSION-DECLARED",
        Severity::Error,
        &["Ubuntu", "Debian"],
    );
}

// --- IMG-BOOTMODE ------------------------------------------------------------

fn with_mode(mode: BootMode, fallback: &[&str]) -> LinuxFacts {
    let mut g = good();
    g.boot_mode = Fact::found(
        BootCapability {
            mode,
            bios: matches!(mode, BootMode::Bios | BootMode::Hybrid),
            uefi: matches!(mode, BootMode::Uefi | BootMode::Hybrid),
            uefi_fallback: fallback.iter().map(|s| (*s).to_owned()).collect(),
            uefi_vendor_loaders: vec!["EFI/redhat/shimx64.efi".to_owned()],
            esp_device: Some("/dev/vda1".to_owned()),
        },
        vec![Evidence::disk("EFI system partition", "/dev/vda1 (vfat)")],
    );
    g
}

#[test]
fn bootmode_x86_uefi_only() {
    let g = with_mode(BootMode::Uefi, &["EFI/BOOT/BOOTX64.EFI"]);
    let f = check_linux(&g, &huawei());
    let x = one(
        &f,
        "IMG-BOOTMODE",
        Severity::Error,
        &["only by UEFI", "/dev/vda1"],
    );
    assert!(
        x.fix.contains("PATCH /v2/cloudimages/{image_id}") && x.fix.contains("BIOS"),
        "{}",
        x.fix
    );
    let otc = Intent {
        cloud: Some(Cloud::Otc),
        ..Intent::default()
    };
    let f = check_linux(&g, &otc);
    let x = one(&f, "IMG-BOOTMODE", Severity::Error, &["only by UEFI"]);
    assert!(
        x.fix
            .contains("Open Telekom Cloud's quick-import request takes the field"),
        "{}",
        x.fix
    );
    let chosen = Intent {
        firmware: Some(Firmware::Uefi),
        ..huawei()
    };
    let f = check_linux(&g, &chosen);
    none_of(&f, "IMG-BOOTMODE");
    one(
        &f,
        "IMG-BOOTMODE",
        Severity::Info,
        &["hw_firmware_type uefi is chosen", "PATCH"],
    );
}

#[test]
fn bootmode_other_cases() {
    assert!(problems(&check_linux(
        &with_mode(BootMode::Hybrid, &["EFI/BOOT/BOOTX64.EFI"]),
        &huawei()
    ))
    .is_empty());
    // UEFI without the fallback loader.
    let f = check_linux(&with_mode(BootMode::Uefi, &[]), &huawei());
    one(
        &f,
        "IMG-BOOTMODE",
        Severity::Error,
        &["EFI/BOOT/BOOTX64.EFI", "EFI/redhat/shimx64.efi"],
    );
    // arm must be UEFI.
    let mut arm = good();
    arm.arch = Fact::found(
        ArchInfo {
            arch: Arch::Aarch64,
            ..arch64()
        },
        Vec::new(),
    );
    let f = check_linux(&arm, &huawei());
    one(
        &f,
        "IMG-BOOTMODE",
        Severity::Error,
        &["arm image always starts by UEFI", "MBR boot code: GRUB"],
    );
    let mut arm_uefi = with_mode(BootMode::Uefi, &["EFI/BOOT/BOOTAA64.EFI"]);
    arm_uefi.arch = arm.arch.clone();
    none_of(&check_linux(&arm_uefi, &huawei()), "IMG-BOOTMODE");
    // UEFI asked for a BIOS-only disk; nothing bootable; unknown.
    let f = check_linux(
        &good(),
        &Intent {
            firmware: Some(Firmware::Uefi),
            ..huawei()
        },
    );
    one(&f, "IMG-BOOTMODE", Severity::Error, &["boots only by BIOS"]);
    let f = check_linux(&with_mode(BootMode::None, &[]), &huawei());
    one(&f, "IMG-BOOTMODE", Severity::Error, &["neither"]);
    let mut u = good();
    u.boot_mode = Fact::unknown("the ESP could not be read", Vec::new());
    one(
        &check_linux(&u, &huawei()),
        "IMG-BOOTMODE",
        Severity::Error,
        &["UNKNOWN", "ESP could not be read"],
    );
}

// --- Boot chain --------------------------------------------------------------

fn entry_mut(g: &mut LinuxFacts) -> &mut BootEntry {
    let b = g.boot.value.as_mut().expect("boot");
    &mut b.entries[0]
}

#[test]
fn bootloader_and_kernel() {
    let mut g = good();
    entry_mut(&mut g).kernel_path = None;
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-BOOTLOADER",
        Severity::Error,
        &["does not exist", "/boot/loader/entries/ffff-5.14.0.conf"],
    );

    let mut g = good();
    if let Some(b) = g.boot.value.as_mut() {
        b.default_index = None;
        b.default_problem = Some("saved_entry names no entry".to_owned());
    }
    one(
        &check_linux(&g, &huawei()),
        "LX-BOOTLOADER",
        Severity::Error,
        &["UNKNOWN", "saved_entry names no entry"],
    );

    let mut g = good();
    g.boot = Fact::absent(vec![Evidence::absent("/boot/grub2/grub.cfg")]);
    one(
        &check_linux(&g, &huawei()),
        "LX-BOOTLOADER",
        Severity::Error,
        &["FAIL", "/boot/grub2/grub.cfg: absent"],
    );

    let mut g = good();
    if let Some(k) = g.kernels.value.as_mut() {
        k[0].modules_dir = None;
        k.push(KernelInfo {
            version: "5.14.0-284.el9.x86_64".to_owned(),
            modules_dir: Some("/lib/modules/5.14.0-284.el9.x86_64".to_owned()),
            ..KernelInfo::default()
        });
    }
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-KERNEL",
        Severity::Error,
        &["no module directory", "absent"],
    );
    one(
        &f,
        "LX-KERNEL",
        Severity::Warning,
        &["5.14.0-284.el9.x86_64", KVER],
    );
}

#[test]
fn root_argument_forms() {
    let set = |cmd: &str| {
        let mut g = good();
        entry_mut(&mut g).cmdline = Some(cmd.to_owned());
        check_linux(&g, &huawei())
    };
    let f = set("root=/dev/sda2 ro console=ttyS0");
    one(
        &f,
        "LX-BOOT-ROOTARG",
        Severity::Error,
        &[
            "root=/dev/sda2",
            "old hardware",
            "root=/dev/sda2 ro console=ttyS0",
        ],
    );
    let f = set("root=/dev/vda2 ro console=ttyS0");
    one(
        &f,
        "LX-BOOT-ROOTARG",
        Severity::Warning,
        &["root=/dev/vda2"],
    );
    let f = set("root=/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part2 console=ttyS0");
    one(&f, "LX-BOOT-ROOTARG", Severity::Error, &["by-id"]);
    let f = set("ro console=ttyS0");
    one(
        &f,
        "LX-BOOT-ROOTARG",
        Severity::Error,
        &["UNKNOWN", "no root="],
    );
    // An identifier fstab could not find in the image.
    let mut g = good();
    let missing = "1111-2222";
    entry_mut(&mut g).cmdline = Some(format!("root=UUID={missing} console=ttyS0"));
    if let Some(s) = g.storage.value.as_mut() {
        s.fstab[0] = fstab(
            1,
            &format!("UUID={missing}"),
            "/",
            "xfs",
            "defaults",
            Resolution::Missing,
        );
    }
    one(
        &check_linux(&g, &huawei()),
        "LX-BOOT-ROOTARG",
        Severity::Error,
        &["in no file system"],
    );
    if let Some(b) = g.boot.value.as_mut() {
        b.grub_search_uuids = vec![missing.to_owned()];
    }
    one(
        &check_linux(&g, &huawei()),
        "LX-BOOT-ROOTARG",
        Severity::Error,
        &["rescue prompt", "search --fs-uuid 1111-2222"],
    );
    // Advisories: no serial console, crashkernel.
    let f = set(&format!("root=UUID={ROOT_UUID} crashkernel=auto"));
    one(
        &f,
        "LX-CONSOLE-TTYS0",
        Severity::Info,
        &["no console=ttyS0"],
    );
    one(&f, "LX-KDUMP", Severity::Info, &["crashkernel=auto"]);
}

// --- Drivers -----------------------------------------------------------------

fn virtio_mut(g: &mut LinuxFacts) -> &mut VirtioFacts {
    g.virtio.value.as_mut().expect("virtio")
}

#[test]
fn virtio_kernel_and_initrd() {
    let mut g = good();
    virtio_mut(&mut g)
        .modules
        .retain(|m| m.name != "virtio_blk");
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-VIRTIO-KERNEL",
        Severity::Error,
        &["virtio_blk", "modules.dep"],
    );

    let mut g = good();
    virtio_mut(&mut g)
        .modules
        .retain(|m| m.name != "virtio_scsi");
    one(
        &check_linux(&g, &huawei()),
        "LX-VIRTIO-KERNEL",
        Severity::Warning,
        &["virtio_scsi"],
    );

    // Module exists but not in the initramfs: FAIL; built in: PASS.
    let mut g = good();
    for m in &mut virtio_mut(&mut g).modules {
        if m.name == "virtio_blk" {
            m.in_initrd = None;
        }
    }
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-VIRTIO-INITRD",
        Severity::Error,
        &[
            "virtio_blk: not built in, not in the initramfs",
            "initramfs-",
        ],
    );
    for m in &mut virtio_mut(&mut g).modules {
        if m.name == "virtio_blk" {
            m.builtin = true;
        }
    }
    none_of(&check_linux(&g, &huawei()), "LX-VIRTIO-INITRD");

    // The initramfs could not be read.
    let mut g = good();
    {
        let v = virtio_mut(&mut g);
        v.initrd = None;
        v.initrd_unknown = Some("unknown compression at offset 0".to_owned());
        for m in &mut v.modules {
            m.in_initrd = None;
        }
    }
    one(
        &check_linux(&g, &huawei()),
        "LX-VIRTIO-INITRD",
        Severity::Error,
        &["UNKNOWN", "unknown compression"],
    );
}

#[test]
fn initrd_host_values_and_generator() {
    let mut g = good();
    {
        let v = virtio_mut(&mut g);
        v.initrd_cmdline.push(InitrdSetting {
            file: "etc/cmdline.d/00-btrfs.conf".to_owned(),
            value: "root=/dev/sda1".to_owned(),
        });
        v.initrd_persistent_net.push(InitrdSetting {
            file: "etc/udev/rules.d/70-persistent-net.rules".to_owned(),
            value: "ATTR{address}==\"00:0c:29:aa:bb:cc\", NAME=\"eth0\"".to_owned(),
        });
    }
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-INITRD-CMDLINE",
        Severity::Error,
        &["root=/dev/sda1", "!etc/cmdline.d/00-btrfs.conf"],
    );
    one(
        &f,
        "LX-INITRD-CMDLINE",
        Severity::Error,
        &["persistent-net", "00:0c:29:aa:bb:cc"],
    );

    let mut g = good();
    g.initrd_generator = Fact::found(
        InitrdGenerator {
            dracut: true,
            dracut_hostonly: Some("yes".to_owned()),
            ..InitrdGenerator::default()
        },
        vec![Evidence::file(
            "/etc/dracut.conf.d/hostonly.conf",
            "hostonly=\"yes\"",
        )],
    );
    one(
        &check_linux(&g, &huawei()),
        "LX-INITRD-HOSTONLY",
        Severity::Warning,
        &["hostonly=yes", "/etc/dracut.conf.d/hostonly.conf"],
    );
    g.initrd_generator = Fact::found(
        InitrdGenerator {
            initramfs_tools: true,
            initramfs_tools_modules: Some("dep".to_owned()),
            ..InitrdGenerator::default()
        },
        vec![Evidence::file(
            "/etc/initramfs-tools/initramfs.conf",
            "MODULES=dep",
        )],
    );
    one(
        &check_linux(&g, &huawei()),
        "LX-INITRD-HOSTONLY",
        Severity::Warning,
        &["MODULES=dep"],
    );
}

// --- Storage -----------------------------------------------------------------

fn storage_mut(g: &mut LinuxFacts) -> &mut StorageFacts {
    g.storage.value.as_mut().expect("storage")
}

#[test]
fn fstab_entries() {
    let mut g = good();
    storage_mut(&mut g).fstab.extend([
        fstab(
            3,
            "/dev/sdb1",
            "/data",
            "ext4",
            "defaults",
            Resolution::NotApplicable,
        ),
        fstab(
            4,
            "/dev/sdc1",
            "/backup",
            "ext4",
            "defaults,nofail",
            Resolution::NotApplicable,
        ),
        fstab(
            5,
            "UUID=dead-beef",
            "/srv",
            "xfs",
            "defaults",
            Resolution::Missing,
        ),
        fstab(
            6,
            "/dev/sda3",
            "none",
            "swap",
            "sw",
            Resolution::NotApplicable,
        ),
        fstab(
            7,
            "/dev/vdb1",
            "/opt",
            "ext4",
            "defaults",
            Resolution::NotApplicable,
        ),
        fstab(
            8,
            "nfs:/export",
            "/mnt/nfs",
            "nfs",
            "defaults",
            Resolution::NotApplicable,
        ),
        fstab(
            9,
            "/dev/sdd1",
            "/usr",
            "xfs",
            "defaults",
            Resolution::NotApplicable,
        ),
    ]);
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-FSTAB-SPEC",
        Severity::Error,
        &["/etc/fstab: line 3: /dev/sdb1 /data ext4 defaults"],
    );
    one(
        &f,
        "LX-FSTAB-SPEC",
        Severity::Warning,
        &["line 4: /dev/sdc1", "nofail"],
    );
    one(
        &f,
        "LX-FSTAB-REFS",
        Severity::Error,
        &["line 5: UUID=dead-beef /srv"],
    );
    one(
        &f,
        "LX-SWAP-RESUME",
        Severity::Warning,
        &["line 6: /dev/sda3"],
    );
    one(
        &f,
        "LX-FSTAB-SPEC",
        Severity::Warning,
        &["line 7: /dev/vdb1", "virtio-blk"],
    );
    one(
        &f,
        "LX-FSTAB-SPEC",
        Severity::Warning,
        &["nfs:/export", "_netdev"],
    );
    one(
        &f,
        "LX-USR-SEPARATE",
        Severity::Warning,
        &["line 9: /dev/sdd1 /usr"],
    );

    // The root entry under systemd: a warning only.
    let mut g = good();
    storage_mut(&mut g).fstab[0] = fstab(
        2,
        "/dev/sda2",
        "/",
        "ext4",
        "errors=remount-ro",
        Resolution::NotApplicable,
    );
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-FSTAB-SPEC",
        Severity::Warning,
        &["line 2: /dev/sda2 /", "systemd"],
    );

    let mut g = good();
    g.storage = Fact::unknown("/etc/fstab: read error", Vec::new());
    one(
        &check_linux(&g, &huawei()),
        "LX-FSTAB-REFS",
        Severity::Error,
        &["UNKNOWN", "read error"],
    );
}

#[test]
fn rootfs_lvm_and_fs_state() {
    let mut g = good();
    storage_mut(&mut g).root_fs_type = Some((
        "jfs".to_owned(),
        Evidence::file("/etc/fstab", "line 1: /dev/vda2 / jfs"),
    ));
    one(
        &check_linux(&g, &huawei()),
        "LX-ROOTFS-TYPE",
        Severity::Warning,
        &["jfs", "line 1"],
    );

    let mut g = good();
    storage_mut(&mut g).lvm.devices_file = Some(vec![DeviceId {
        id_type: "sys_wwid".to_owned(),
        id_name: "naa.6000c29f".to_owned(),
        dev_name: "/dev/sda2".to_owned(),
        pvid: "abc".to_owned(),
    }]);
    let f = check_linux(&g, &huawei());
    let l = one(
        &f,
        "LX-LVM",
        Severity::Error,
        &[
            "IDTYPE=sys_wwid",
            "DEVNAME=/dev/sda2",
            "not verified on a live ECS",
        ],
    );
    assert!(l.fix.contains("use_devicesfile"));
    storage_mut(&mut g).lvm.filters = vec![Evidence::file(
        "/etc/lvm/lvm.conf",
        "filter = [ \"a|^/dev/sd|\", \"r|.*|\" ]",
    )];
    one(
        &check_linux(&g, &huawei()),
        "LX-LVM",
        Severity::Warning,
        &["a|^/dev/sd|"],
    );

    let usage = |clean: CleanState, free: u64| FsUsage {
        fs_type: "ext4",
        size: 20 << 30,
        free,
        reserved: 0,
        clean,
        fields: vec![
            "s_state=0x0000".to_owned(),
            "s_free_blocks_count=1024".to_owned(),
        ],
    };
    let f = check_fs_state(
        "/",
        "/dev/vda2",
        &usage(
            CleanState::NotClean(vec!["journal needs recovery".to_owned()]),
            10 << 30,
        ),
    );
    one(
        &f,
        "IMG-FS-CLEAN",
        Severity::Warning,
        &["journal needs recovery", "s_state=0x0000"],
    );
    let f = check_fs_state("/", "/dev/vda2", &usage(CleanState::Clean, 512 << 20));
    one(
        &f,
        "IMG-FREE-SPACE",
        Severity::Warning,
        &["512 MiB free", "/dev/vda2 ext4 superblock"],
    );
    assert!(check_fs_state("/", "/dev/vda2", &usage(CleanState::Clean, 10 << 30)).is_empty());
    let f = check_fs_state("/boot", "/dev/vda1", &usage(CleanState::Clean, 50 << 20));
    one(&f, "IMG-FREE-SPACE", Severity::Warning, &["/boot"]);
}

// --- Network -----------------------------------------------------------------

fn net_mut(g: &mut LinuxFacts) -> &mut NetworkFacts {
    g.network.value.as_mut().expect("network")
}

#[test]
fn network_stack_and_dhcp() {
    let mut g = good();
    net_mut(&mut g).stacks[0].enabled = false;
    one(
        &check_linux(&g, &huawei()),
        "LX-NET-STACK",
        Severity::Error,
        &["no network stack", "NetworkManager.service"],
    );

    let mut g = good();
    {
        let n = net_mut(&mut g);
        n.profiles[0].dhcp4 = false;
        n.profiles[0].static_v4 = true;
        n.profiles[0].evidence = vec![Evidence::file(
            "/etc/sysconfig/network-scripts/ifcfg-eth0",
            "BOOTPROTO=static IPADDR=192.168.1.10",
        )];
        n.nm_no_auto_default = Some((
            "*".to_owned(),
            Evidence::file(
                "/etc/NetworkManager/NetworkManager.conf",
                "no-auto-default=*",
            ),
        ));
    }
    one(
        &check_linux(&g, &huawei()),
        "LX-NET-DHCP",
        Severity::Error,
        &[
            "static IPv4 profile applies to the ECS NIC",
            "IPADDR=192.168.1.10",
            "no-auto-default=*",
        ],
    );
    // A static profile for eth0 also stops NetworkManager's automatic connection.
    net_mut(&mut g).nm_no_auto_default = None;
    one(
        &check_linux(&g, &huawei()),
        "LX-NET-DHCP",
        Severity::Error,
        &["applies to the ECS NIC"],
    );
    // A static profile for another NIC: the automatic connection serves
    // eth0, the static profile only coexists ...
    net_mut(&mut g).profiles[0].matchers = vec![Matcher::Name("eth1".to_owned())];
    let f = check_linux(&g, &huawei());
    assert!(
        !f.iter()
            .any(|x| x.code.id() == "LX-NET-DHCP" && x.is_error()),
        "{f:#?}"
    );
    one(
        &f,
        "LX-NET-DHCP",
        Severity::Warning,
        &["coexists", "IPADDR=192.168.1.10"],
    );
    // ... unless no-auto-default lists "*".
    net_mut(&mut g).nm_no_auto_default = Some((
        "eth2,*".to_owned(),
        Evidence::file(
            "/etc/NetworkManager/conf.d/x.conf",
            "no-auto-default=eth2,*",
        ),
    ));
    one(
        &check_linux(&g, &huawei()),
        "LX-NET-DHCP",
        Severity::Error,
        &["only static", "no-auto-default=eth2,*"],
    );
}

#[test]
fn network_names_and_mac_bindings() {
    let no_auto = || {
        Some((
            "*".to_owned(),
            Evidence::file(
                "/etc/NetworkManager/conf.d/no-auto.conf",
                "no-auto-default=*",
            ),
        ))
    };
    // NetworkManager's automatic connection matches any NIC a profile misses.
    let mut g = good();
    net_mut(&mut g).profiles = vec![dhcp_profile("ens192")];
    none_of(&check_linux(&g, &huawei()), "LX-NET-IFNAME");
    net_mut(&mut g).nm_no_auto_default = no_auto();
    one(
        &check_linux(&g, &huawei()),
        "LX-NET-IFNAME",
        Severity::Error,
        &["ens192", "other virtual hardware", "ifcfg-ens192"],
    );
    net_mut(&mut g).profiles = vec![dhcp_profile("ens3")];
    one(
        &check_linux(&g, &huawei()),
        "LX-NET-IFNAME",
        Severity::Warning,
        &["ens3"],
    );
    // eth0 while predictable naming is on.
    let mut g = good();
    net_mut(&mut g).naming = IfNaming::default();
    net_mut(&mut g).nm_no_auto_default = no_auto();
    one(
        &check_linux(&g, &huawei()),
        "LX-NET-IFNAME",
        Severity::Error,
        &["eth0", "predictable"],
    );
    // A pattern is name-agnostic.
    let mut g = good();
    {
        let n = net_mut(&mut g);
        n.naming = IfNaming::default();
        n.nm_no_auto_default = no_auto();
        n.profiles[0].matchers = vec![Matcher::Pattern("en*".to_owned())];
    }
    none_of(&check_linux(&g, &huawei()), "LX-NET-IFNAME");

    let rule = PersistentRule {
        file: "/etc/udev/rules.d/70-persistent-net.rules".to_owned(),
        mac: "00:0c:29:aa:bb:cc".to_owned(),
        name: "eth0".to_owned(),
        evidence: Evidence::file(
            "/etc/udev/rules.d/70-persistent-net.rules",
            "line 2: ATTR{address}==\"00:0c:29:aa:bb:cc\", NAME=\"eth0\"",
        ),
    };
    let mut g = good();
    {
        let n = net_mut(&mut g);
        n.persistent_net.push(rule.clone());
        n.generator = Some(Generator {
            file: "/lib/udev/rules.d/75-persistent-net-generator.rules".to_owned(),
            overridden_by: None,
        });
    }
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-NET-MAC-BINDING",
        Severity::Error,
        &["00:0c:29:aa:bb:cc", "line 2"],
    );
    one(
        &f,
        "LX-NET-MAC-BINDING",
        Severity::Warning,
        &["75-persistent-net-generator.rules"],
    );
    // Matching by pattern: the new NIC is still configured.
    g.network.value.as_mut().expect("n").profiles[0].matchers =
        vec![Matcher::Pattern("e*".to_owned())];
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-NET-MAC-BINDING",
        Severity::Warning,
        &["00:0c:29:aa:bb:cc", "pattern"],
    );

    let mut g = good();
    net_mut(&mut g).profiles[0].matchers = vec![Matcher::Mac("00:0c:29:aa:bb:cc".to_owned())];
    one(
        &check_linux(&g, &huawei()),
        "LX-NET-MAC-BINDING",
        Severity::Error,
        &["every DHCP profile is bound to a MAC", "BOOTPROTO=dhcp"],
    );
}

#[test]
fn nozeroconf_for_initscripts() {
    let mut g = good();
    net_mut(&mut g).stacks.push(StackState {
        stack: Stack::RhIfcfg,
        service: None,
        has_profiles: true,
        enabled: true,
        evidence: vec![Evidence::file(
            "/etc/rc.d/rc3.d/S10network",
            "SysV start link",
        )],
    });
    one(
        &check_linux(&g, &huawei()),
        "LX-NOZEROCONF",
        Severity::Warning,
        &["NOZEROCONF", "/etc/sysconfig/network"],
    );
    net_mut(&mut g).nozeroconf = Some((
        "yes".to_owned(),
        Evidence::file("/etc/sysconfig/network", "NOZEROCONF=yes"),
    ));
    none_of(&check_linux(&g, &huawei()), "LX-NOZEROCONF");
}

// --- Cloud-Init and login ----------------------------------------------------

fn ci_mut(g: &mut LinuxFacts) -> &mut CloudInitFacts {
    g.cloud_init.value.as_mut().expect("cloud-init")
}

fn root_password(g: &mut LinuxFacts, state: PasswordState) {
    g.access.value.as_mut().expect("access").accounts[0].password = Some(state);
}

#[test]
fn cloud_init_missing_escalates_without_another_login() {
    let mut g = good();
    *ci_mut(&mut g) = CloudInitFacts::default();
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-CLOUDINIT-INSTALLED",
        Severity::Error,
        &[
            "not installed",
            "/usr/bin/cloud-init: absent",
            "only way in",
        ],
    );
    one(
        &f,
        "LX-LOGIN-PATH",
        Severity::Error,
        &["no way in", "root: locked"],
    );
    one(&f, "LX-GROWPART", Severity::Warning, &["no mechanism"]);
    // A usable root password: console login works, Cloud-Init is a warning.
    root_password(&mut g, PasswordState::Set);
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-CLOUDINIT-INSTALLED",
        Severity::Warning,
        &["not installed"],
    );
    none_of(&f, "LX-LOGIN-PATH");
}

#[test]
fn cloud_init_enabled_and_datasource() {
    let mut g = good();
    root_password(&mut g, PasswordState::Set);
    ci_mut(&mut g).disabled_by = vec![Evidence::file("/etc/cloud/cloud-init.disabled", "present")];
    one(
        &check_linux(&g, &huawei()),
        "LX-CLOUDINIT-ENABLED",
        Severity::Warning,
        &["disabled", "/etc/cloud/cloud-init.disabled: present"],
    );

    let mut g = good();
    root_password(&mut g, PasswordState::Set);
    ci_mut(&mut g).units.truncate(2);
    one(
        &check_linux(&g, &huawei()),
        "LX-CLOUDINIT-ENABLED",
        Severity::Warning,
        &["only some", "cloud-config.service"],
    );

    let mut g = good();
    ci_mut(&mut g).datasource_list = Some((
        vec!["None".to_owned()],
        Evidence::file(
            "/etc/cloud/cloud.cfg.d/99-installer.cfg",
            "datasource_list: [None]",
        ),
    ));
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-CLOUDINIT-DATASOURCE",
        Severity::Error,
        &["neither OpenStack nor ConfigDrive", "99-installer.cfg"],
    );
    one(&f, "LX-LOGIN-PATH", Severity::Error, &["no way in"]);

    let mut g = good();
    {
        let c = ci_mut(&mut g);
        c.datasource_list = Some((
            vec!["NoCloud".to_owned(), "OpenStack".to_owned()],
            Evidence::file(
                "/etc/cloud/cloud.cfg",
                "datasource_list: [NoCloud, OpenStack]",
            ),
        ));
        c.version = Some((
            "19.4".to_owned(),
            Evidence::file(
                "/usr/lib/python3/dist-packages/cloudinit/version.py",
                "19.4",
            ),
        ));
    }
    one(
        &check_linux(&g, &huawei()),
        "LX-CLOUDINIT-DATASOURCE",
        Severity::Warning,
        &["older than 22.4", "19.4"],
    );
}

#[test]
fn ssh_and_targets() {
    let mut g = good();
    g.access.value.as_mut().expect("a").ssh.binary = None;
    one(
        &check_linux(&g, &huawei()),
        "LX-SSHD",
        Severity::Error,
        &["/usr/sbin/sshd: absent"],
    );

    let mut g = good();
    g.access.value.as_mut().expect("a").ssh.units[0]
        .enabled_by
        .clear();
    one(
        &check_linux(&g, &huawei()),
        "LX-SSHD",
        Severity::Error,
        &["not enabled", "/usr/lib/systemd/system/sshd.service"],
    );

    let mut g = good();
    g.access.value.as_mut().expect("a").ssh.settings = vec![
        SshdSetting {
            keyword: "listenaddress".to_owned(),
            values: vec!["10.0.0.5".to_owned(), "0.0.0.0".to_owned()],
            evidence: Evidence::file("/etc/ssh/sshd_config", "line 20: ListenAddress 10.0.0.5"),
        },
        SshdSetting {
            keyword: "port".to_owned(),
            values: vec!["2222".to_owned()],
            evidence: Evidence::file("/etc/ssh/sshd_config", "line 17: Port 2222"),
        },
    ];
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-SSHD-CONFIG",
        Severity::Error,
        &["10.0.0.5", "line 20"],
    );
    one(&f, "LX-SSHD-CONFIG", Severity::Info, &["2222"]);

    let mut g = good();
    g.access.value.as_mut().expect("a").default_target = Some(DefaultTarget {
        target: "rescue.target".to_owned(),
        evidence: Evidence::file("/etc/systemd/system/default.target", "-> rescue.target"),
    });
    one(
        &check_linux(&g, &huawei()),
        "LX-BOOT-TARGET",
        Severity::Error,
        &["rescue.target", "/etc/systemd/system/default.target"],
    );

    let mut g = good();
    g.access.value.as_mut().expect("a").firewalls = vec![imsprep_guest::linux::access::Firewall {
        kind: "firewalld".to_owned(),
        enabled: true,
        allows_ssh: Some(false),
        evidence: vec![Evidence::file(
            "/etc/firewalld/zones/public.xml",
            "no ssh service",
        )],
    }];
    one(
        &check_linux(&g, &huawei()),
        "LX-FIREWALL",
        Severity::Warning,
        &["firewalld", "public.xml"],
    );

    let mut g = good();
    g.access.value.as_mut().expect("a").selinux.autorelabel =
        Some(Evidence::file("/.autorelabel", "present"));
    one(
        &check_linux(&g, &huawei()),
        "LX-SELINUX",
        Severity::Warning,
        &["/.autorelabel: present"],
    );
}

// --- Leftovers ---------------------------------------------------------------

#[test]
fn other_hypervisor_leftovers() {
    let mut g = good();
    g.leftovers = Fact::found(
        LeftoverFacts {
            tools: vec![
                GuestTool {
                    kind: ToolKind::UvpPv,
                    evidence: vec![Evidence::file("/etc/.uvp-monitor/uninstall", "present")],
                },
                GuestTool {
                    kind: ToolKind::VmwareTarball,
                    evidence: vec![Evidence::file(
                        "/usr/bin/vmware-uninstall-tools.pl",
                        "present",
                    )],
                },
                GuestTool {
                    kind: ToolKind::OpenVmTools,
                    evidence: vec![Evidence::file(
                        "/var/lib/dpkg/status",
                        "open-vm-tools 2:12.1.5",
                    )],
                },
            ],
            xen_modules: vec![
                Evidence::file("/etc/modprobe.d/xen.conf", "alias eth0 xennet"),
                Evidence::file(
                    "/etc/dracut.conf.d/virtio.conf",
                    "add_drivers+=\" xen-blkfront \"",
                ),
            ],
            xen_consoles: vec![Evidence::file(
                "/etc/inittab",
                "co:2345:respawn:/sbin/agetty xvc0 9600 vt100-nav",
            )],
            xorg_drivers: vec![(
                "vmware".to_owned(),
                Evidence::file("/etc/X11/xorg.conf", "line 30: Driver \"vmware\""),
            )],
            autoconf_trace: Some(Evidence::file(
                "/var/log/rainbow_modification_record.log",
                "present",
            )),
            ..LeftoverFacts::default()
        },
        Vec::new(),
    );
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-UVP-PV",
        Severity::Warning,
        &["/etc/.uvp-monitor/uninstall"],
    );
    one(
        &f,
        "LX-VMWARE-TOOLS",
        Severity::Warning,
        &["vmware-uninstall-tools.pl"],
    );
    one(&f, "LX-VMWARE-TOOLS", Severity::Info, &["open-vm-tools"]);
    one(
        &f,
        "LX-XEN-LEFTOVERS",
        Severity::Warning,
        &["alias eth0 xennet"],
    );
    one(&f, "LX-XEN-LEFTOVERS", Severity::Info, &["xen-blkfront"]);
    one(&f, "LX-XEN-LEFTOVERS", Severity::Warning, &["xvc0"]);
    one(
        &f,
        "LX-XORG",
        Severity::Warning,
        &["Driver \"vmware\"", "line 30"],
    );
    one(
        &f,
        "LX-AUTOCONF-TRACE",
        Severity::Info,
        &["rainbow_modification_record.log"],
    );
}

#[test]
fn unknown_architecture_is_an_error() {
    let mut g = good();
    g.arch = Fact::unknown("/bin/sh: link loop", Vec::new());
    one(
        &check_linux(&g, &huawei()),
        "LX-ARCH",
        Severity::Error,
        &["UNKNOWN", "link loop"],
    );
    g.arch = Fact::found(
        ArchInfo {
            arch: Arch::I386,
            bits: 32,
            ..arch64()
        },
        Vec::new(),
    );
    one(
        &check_linux(&g, &huawei()),
        "LX-ARCH",
        Severity::Warning,
        &["32-bit"],
    );
    g.arch = Fact::found(
        ArchInfo {
            arch: Arch::Ppc64,
            ..arch64()
        },
        Vec::new(),
    );
    one(
        &check_linux(&g, &huawei()),
        "LX-ARCH",
        Severity::Error,
        &["Ppc64"],
    );
}

#[test]
fn findings_serialize_with_their_codes() {
    let mut g = good();
    entry_mut(&mut g).cmdline = Some("root=/dev/sda2 console=ttyS0".to_owned());
    let f = check_linux(&g, &huawei());
    let v = serde_json::to_value(&f).unwrap_or_default();
    assert!(v.as_array().is_some_and(|a| a
        .iter()
        .any(|x| x["code"] == "LX-BOOT-ROOTARG" && x["severity"] == "error")));
}

#[test]
fn advisories_and_kernel_arch() {
    let mut g = good();
    g.advisory = Fact::found(
        AdvisoryFacts {
            consoles: vec!["tty0".to_owned()],
            quiet_boot: vec!["rhgb".to_owned(), "quiet".to_owned()],
            crashkernel: Some("1G-4G:192M".to_owned()),
            machine_id: Some(Evidence::file("/etc/machine-id", "set")),
            rtc: Some((
                "LOCAL".to_owned(),
                Evidence::file("/etc/adjtime", "line 3: LOCAL"),
            )),
            dhcp_leases: vec![Evidence::file(
                "/var/lib/NetworkManager/internal-eth0.lease",
                "present",
            )],
        },
        Vec::new(),
    );
    let f = check_linux(&g, &huawei());
    assert!(problems(&f).is_empty(), "{:#?}", problems(&f));
    one(
        &f,
        "LX-CONSOLE-TTYS0",
        Severity::Info,
        &["tty0", "rhgb quiet"],
    );
    one(&f, "LX-KDUMP", Severity::Info, &["1G-4G:192M"]);
    one(
        &f,
        "LX-MACHINE-ID",
        Severity::Info,
        &["/etc/machine-id: set"],
    );
    one(
        &f,
        "LX-RTC",
        Severity::Info,
        &["/etc/adjtime: line 3: LOCAL"],
    );
    one(
        &f,
        "LX-DHCP-LEASES",
        Severity::Info,
        &["internal-eth0.lease"],
    );

    let mut g = good();
    virtio_mut(&mut g).kernel_arch = Some(ArchInfo {
        arch: Arch::Aarch64,
        binary: format!("/lib/modules/{KVER}/kernel/drivers/block/virtio_blk.ko.xz"),
        ..arch64()
    });
    one(
        &check_linux(&g, &huawei()),
        "LX-ARCH",
        Severity::Error,
        &["disagree", "virtio_blk.ko.xz", "Aarch64"],
    );
}

fn put(root: &std::path::Path, path: &str, contents: &str) {
    let p = root.join(path.trim_start_matches('/'));
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(p, contents).expect("write");
}

/// Facts read by the guest crate from a Debian tree, judged end to end.
#[test]
fn debian_tree_end_to_end() {
    let d = tempfile::tempdir().expect("tempdir");
    let r = d.path();
    put(
        r,
        "/etc/os-release",
        "ID=debian\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\n",
    );
    put(r, "/etc/debian_version", "12.5\n");
    put(
        r,
        "/boot/grub/grub.cfg",
        "set default=\"0\"\nmenuentry 'Debian GNU/Linux' --class debian {\n\tlinux\t/boot/vmlinuz-6.1.0-18-amd64 root=UUID=2f4b1c9e-0e1d-4c0a-9a3b-5f0e7d6c1b2a ro net.ifnames=0 cloud-init=disabled resume=/dev/sda5 console=hvc0\n\tinitrd\t/boot/initrd.img-6.1.0-18-amd64\n}\n",
    );
    put(r, "/boot/vmlinuz-6.1.0-18-amd64", "kernel");
    put(r, "/boot/initrd.img-6.1.0-18-amd64", "initrd");
    put(
        r,
        "/etc/fstab",
        "UUID=2f4b1c9e-0e1d-4c0a-9a3b-5f0e7d6c1b2a / ext4 errors=remount-ro 0 1\n/dev/sda5 none swap sw 0 0\n/dev/sdb1 /data ext4 defaults 0 2\n",
    );
    put(
        r,
        "/etc/network/interfaces",
        "auto eth0\niface eth0 inet dhcp\n",
    );
    put(
        r,
        "/var/lib/dpkg/status",
        "Package: cloud-init\nStatus: install ok installed\nVersion: 22.4.2-1\n",
    );
    put(r, "/usr/bin/cloud-init", "#!/usr/bin/python3\n");
    let vols = vec![imsprep_guest::VolumeInfo {
        device: "/dev/vda1".into(),
        fs_type: Some("ext4".into()),
        uuid: Some("2f4b1c9e-0e1d-4c0a-9a3b-5f0e7d6c1b2a".into()),
        mount_point: Some("/".into()),
        ..imsprep_guest::VolumeInfo::default()
    }];
    let facts = inspect_linux(&DirGuest::new(r).with_volumes(vols));
    let f = check_linux(&facts, &huawei());
    if std::env::var_os("SHOW_FINDINGS").is_some() {
        for x in &f {
            eprintln!("{x}\n    fix: {}", x.fix);
        }
    }
    one(
        &f,
        "LX-OS-VERSION",
        Severity::Warning,
        &["Debian GNU/Linux 12.0.0 64bit", "12.5"],
    );
    one(
        &f,
        "LX-FSTAB-SPEC",
        Severity::Error,
        &["/etc/fstab: line 3: /dev/sdb1 /data"],
    );
    one(
        &f,
        "LX-SWAP-RESUME",
        Severity::Warning,
        &["resume=/dev/sda5"],
    );
    one(
        &f,
        "LX-SWAP-RESUME",
        Severity::Warning,
        &["line 2: /dev/sda5"],
    );
    none_of(&f, "LX-BOOT-ROOTARG");
    one(
        &f,
        "LX-CLOUDINIT-ENABLED",
        Severity::Error,
        &["cloud-init=disabled", "only way in"],
    );
    one(&f, "LX-SSHD", Severity::Error, &["/usr/sbin/sshd: absent"]);
    one(&f, "LX-LOGIN-PATH", Severity::Error, &["no way in"]);
    one(&f, "LX-XEN-LEFTOVERS", Severity::Warning, &["console=hvc0"]);
    one(&f, "LX-NET-STACK", Severity::Error, &["no network stack"]);
}

/// Nothing read at all: every blocking check says UNKNOWN (an error), none
/// passes silently.
#[test]
fn nothing_read_is_unknown_not_pass() {
    let f = check_linux(&LinuxFacts::default(), &Intent::default());
    for code in [
        "LX-OS-ID",
        "LX-OS-VERSION",
        "LX-ARCH",
        "IMG-BOOTMODE",
        "LX-VIRTIO-KERNEL",
        "LX-VIRTIO-INITRD",
        "LX-FSTAB-REFS",
        "LX-NET-STACK",
        "LX-LOGIN-PATH",
    ] {
        one(&f, code, Severity::Error, &["UNKNOWN"]);
    }
    one(
        &f,
        "LX-BOOTLOADER",
        Severity::Error,
        &["FAIL", "no boot loader configuration"],
    );
}

#[test]
fn cloud_init_injection_modules() {
    let mut g = good();
    {
        let c = ci_mut(&mut g);
        c.modules = vec![
            ("cloud_init_modules".to_owned(), vec!["growpart".to_owned()]),
            ("cloud_config_modules".to_owned(), vec!["locale".to_owned()]),
        ];
        c.config_files = vec!["/etc/cloud/cloud.cfg".to_owned()];
    }
    let f = check_linux(&g, &huawei());
    one(
        &f,
        "LX-CLOUDINIT-CONFIG",
        Severity::Warning,
        &[
            "cloud_init_modules does not list ssh",
            "/etc/cloud/cloud.cfg",
        ],
    );
    one(
        &f,
        "LX-CLOUDINIT-CONFIG",
        Severity::Warning,
        &["cloud_config_modules does not list set_passwords"],
    );
}
