//! WIN-VIRTIO-BLK, WIN-VIRTIO-NET, WIN-VIRTIO-OTHER, WIN-CLASS-FILTERS,
//! WIN-FOREIGN-TOOLS, WIN-DEVICE-INSTALL-POLICY, WIN-DRIVER-SIGNING.
//!
//! A driver is read as virt-v2v writes and checks it: the service key
//! (`Start`, `Type`, `Group`, `ImagePath`, `ErrorControl`), the `.sys`
//! file its `ImagePath` names (default `System32\drivers\<name>.sys`), the
//! DriverStore package `<name>.inf_*`, and the PCI-ID-to-driver mapping:
//! `Control\CriticalDeviceDatabase\pci#ven_1af4&dev_XXXX…` (Windows 7 /
//! 2008 R2 and older) and `SYSTEM\DriverDatabase\DeviceIds\PCI\
//! VEN_1AF4&DEV_XXXX…` (Windows 8 / 2012 and later). `Enum\PCI` entries
//! show the driver was bound to such a device once. Nothing is judged
//! here.

use super::paths::{find_file_ci, image_path_to_guest, list_ci};
use super::registry::{Reg, MAX_LISTED};
use crate::evidence::{Evidence, Fact};
use crate::files::{FileKind, GuestFiles};
use imsprep_regf::ValueData;

/// A virtio driver: service name and its (transitional, modern) PCI
/// device IDs (`1AF4:xxxx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtioDriver {
    /// Service and `.sys` name.
    pub service: &'static str,
    /// Device IDs (hex, upper case) the driver serves.
    pub device_ids: &'static [&'static str],
}

/// virtio-blk.
pub const VIOSTOR: VirtioDriver = VirtioDriver {
    service: "viostor",
    device_ids: &["1001", "1042"],
};
/// virtio-scsi.
pub const VIOSCSI: VirtioDriver = VirtioDriver {
    service: "vioscsi",
    device_ids: &["1004", "1048"],
};
/// virtio-net.
pub const NETKVM: VirtioDriver = VirtioDriver {
    service: "netkvm",
    device_ids: &["1000", "1041"],
};
/// The other virtio-win drivers and agents (WIN-VIRTIO-OTHER).
pub const OTHER_VIRTIO: &[VirtioDriver] = &[
    VirtioDriver {
        service: "balloon",
        device_ids: &["1002", "1045"],
    },
    VirtioDriver {
        service: "vioser",
        device_ids: &["1003", "1043"],
    },
    VirtioDriver {
        service: "viorng",
        device_ids: &["1005", "1044"],
    },
    VirtioDriver {
        service: "pvpanic",
        device_ids: &[],
    },
    VirtioDriver {
        service: "fwcfg",
        device_ids: &[],
    },
    VirtioDriver {
        service: "vioinput",
        device_ids: &[],
    },
    VirtioDriver {
        service: "viofs",
        device_ids: &[],
    },
    VirtioDriver {
        service: "QEMU-GA",
        device_ids: &[],
    },
    VirtioDriver {
        service: "BalloonService",
        device_ids: &[],
    },
];

/// How a PCI ID is mapped to a driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdMapping {
    /// A CriticalDeviceDatabase key and the `Service` it names.
    CriticalDeviceDatabase {
        /// Key name (`pci#ven_1af4&dev_1001&subsys_00021af4&rev_00`).
        key: String,
        /// Its `Service` value.
        service: Option<String>,
    },
    /// A DriverDatabase DeviceIds key and the INF names it lists.
    DriverDatabase {
        /// Key name (`VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00`).
        key: String,
        /// INF files named (`oem3.inf`, `viostor.inf`).
        infs: Vec<String>,
    },
}

/// What was found for one device ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdFacts {
    /// Device ID (`1001`).
    pub device_id: String,
    /// Mappings found for it.
    pub mappings: Vec<IdMapping>,
    /// `Enum\PCI\VEN_1AF4&DEV_xxxx…` instances (bound once).
    pub enumerated: Vec<String>,
}

/// A service (driver or agent) as the registry and files say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFacts {
    /// Service name as asked for.
    pub name: String,
    /// The `Services\<name>` key exists.
    pub present: bool,
    /// `Start` (0 boot, 1 system, 2 auto, 3 demand, 4 disabled).
    pub start: Option<u32>,
    /// `Type` (1 kernel driver, 0x10/0x20 service process).
    pub service_type: Option<u32>,
    /// `ErrorControl`.
    pub error_control: Option<u32>,
    /// `Group`.
    pub group: Option<String>,
    /// `ImagePath`, as stored.
    pub image_path: Option<String>,
    /// `ObjectName`: the account a service process runs as.
    pub object_name: Option<String>,
    /// Guest path of the image file (from `ImagePath` or the default).
    pub file: Option<String>,
    /// That file exists.
    pub file_present: bool,
}

/// A virtio driver's registration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverFacts {
    /// The service.
    pub service: ServiceFacts,
    /// DriverStore packages `<name>.inf_*`.
    pub driver_store: Vec<String>,
    /// Per device ID.
    pub ids: Vec<DeviceIdFacts>,
}

impl DriverFacts {
    /// Device IDs that have a mapping naming this driver (or an INF).
    pub fn mapped_ids(&self) -> Vec<&str> {
        self.ids
            .iter()
            .filter(|i| !i.mappings.is_empty())
            .map(|i| i.device_id.as_str())
            .collect()
    }

    /// Device IDs with no mapping.
    pub fn unmapped_ids(&self) -> Vec<&str> {
        self.ids
            .iter()
            .filter(|i| i.mappings.is_empty())
            .map(|i| i.device_id.as_str())
            .collect()
    }
}

/// Reads one service key and its image file. A kernel driver without
/// `ImagePath` loads `System32\drivers\<name>.sys`.
pub fn service(
    guest: &dyn GuestFiles,
    system: Reg<'_>,
    cs: &str,
    root: &str,
    name: &str,
    ev: &mut Vec<Evidence>,
) -> ServiceFacts {
    let key = format!("{cs}\\Services\\{name}");
    let mut s = ServiceFacts {
        name: name.to_string(),
        ..ServiceFacts::default()
    };
    s.present = system.exists(&key, ev);
    if !s.present {
        return s;
    }
    s.start = system.dword(&key, "Start", ev);
    s.service_type = system.dword(&key, "Type", ev);
    s.error_control = system.dword(&key, "ErrorControl", ev);
    s.group = system.string(&key, "Group", ev);
    s.image_path = system.string(&key, "ImagePath", ev);
    if s.service_type.is_some_and(|t| t & 0x30 != 0) {
        s.object_name = system.string(&key, "ObjectName", ev);
    }
    let is_driver = s.service_type.is_some_and(|t| t & 0x3 != 0);
    s.file = match &s.image_path {
        Some(ip) => image_path_to_guest(root, ip),
        None if is_driver => Some(format!("{root}/System32/drivers/{name}.sys")),
        None => None,
    };
    if let Some(f) = &s.file {
        match find_file_ci(guest, f) {
            Ok(Some(p)) => {
                ev.push(Evidence::file(&p, "present"));
                s.file = Some(p);
                s.file_present = true;
            }
            Ok(None) => ev.push(Evidence::absent(f)),
            Err(e) => ev.push(Evidence::file(f, format!("unreadable: {e}"))),
        }
    }
    s
}

fn id_prefix(dev: &str) -> String {
    format!("VEN_1AF4&DEV_{dev}")
}

/// The listings every driver lookup needs, read once: DriverStore
/// package folders and the subkeys of CriticalDeviceDatabase,
/// `DriverDatabase\DeviceIds\PCI` and `Enum\PCI`.
#[derive(Debug, Clone, Default)]
pub struct DriverIndex {
    /// Folder names in `System32\DriverStore\FileRepository`.
    pub store: Vec<String>,
    /// Subkeys of `Control\CriticalDeviceDatabase`.
    pub cddb: Vec<String>,
    /// Subkeys of `SYSTEM\DriverDatabase\DeviceIds\PCI`.
    pub driver_database: Vec<String>,
    /// Subkeys of `Enum\PCI`.
    pub enumerated: Vec<String>,
}

const DEVICE_IDS_KEY: &str = "DriverDatabase\\DeviceIds\\PCI";

impl DriverIndex {
    /// Reads the listings.
    pub fn read(guest: &dyn GuestFiles, system: Reg<'_>, cs: &str, root: &str) -> DriverIndex {
        DriverIndex {
            store: list_ci(
                guest,
                &format!("{root}/System32/DriverStore/FileRepository"),
            )
            .into_iter()
            .filter(|(_, k)| *k == FileKind::Dir)
            .map(|(n, _)| n)
            .collect(),
            cddb: system.subkey_names(&format!("{cs}\\Control\\CriticalDeviceDatabase")),
            driver_database: system.subkey_names(DEVICE_IDS_KEY),
            enumerated: system.subkey_names(&format!("{cs}\\Enum\\PCI")),
        }
    }
}

/// Reads a virtio driver's registration.
pub fn driver(
    guest: &dyn GuestFiles,
    system: Reg<'_>,
    cs: &str,
    root: &str,
    index: &DriverIndex,
    d: VirtioDriver,
    ev: &mut Vec<Evidence>,
) -> DriverFacts {
    let service = service(guest, system, cs, root, d.service, ev);
    let store_prefix = format!("{}.inf_", d.service.to_ascii_lowercase());
    let driver_store: Vec<String> = index
        .store
        .iter()
        .filter(|n| n.to_ascii_lowercase().starts_with(&store_prefix))
        .map(|n| format!("{root}/System32/DriverStore/FileRepository/{n}"))
        .collect();
    for p in &driver_store {
        ev.push(Evidence::file(p, "driver package present"));
    }
    let cddb_key = format!("{cs}\\Control\\CriticalDeviceDatabase");
    let cddb = &index.cddb;
    let dd_key = DEVICE_IDS_KEY;
    let dd = &index.driver_database;
    let enum_key = format!("{cs}\\Enum\\PCI");
    let enumerated = &index.enumerated;
    let mut ids = Vec::new();
    for dev in d.device_ids {
        let prefix = id_prefix(dev);
        let cddb_prefix = format!("PCI#{prefix}");
        let mut mappings = Vec::new();
        for k in cddb
            .iter()
            .filter(|k| k.to_ascii_uppercase().starts_with(&cddb_prefix))
        {
            let svc = system.string(&format!("{cddb_key}\\{k}"), "Service", ev);
            if svc
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(d.service))
            {
                mappings.push(IdMapping::CriticalDeviceDatabase {
                    key: k.clone(),
                    service: svc,
                });
            }
        }
        for k in dd
            .iter()
            .filter(|k| k.to_ascii_uppercase().starts_with(&prefix))
        {
            let infs: Vec<String> = system
                .values(&format!("{dd_key}\\{k}"))
                .into_iter()
                .map(|(n, _)| n)
                .filter(|n| !n.is_empty())
                .collect();
            let wanted = infs.iter().any(|inf| inf_serves(system, inf, d.service));
            ev.push(Evidence::registry(
                format!("SYSTEM\\{dd_key}\\{k}"),
                format!("INF files [{}]", infs.join(", ")),
            ));
            if wanted {
                mappings.push(IdMapping::DriverDatabase {
                    key: k.clone(),
                    infs,
                });
            }
        }
        if mappings.is_empty() {
            ev.push(Evidence::registry(
                format!("SYSTEM\\{cddb_key}\\PCI#{prefix}*, SYSTEM\\{dd_key}\\{prefix}*"),
                format!("no mapping to {}", d.service),
            ));
        }
        let en: Vec<String> = enumerated
            .iter()
            .filter(|k| k.to_ascii_uppercase().starts_with(&prefix))
            .cloned()
            .collect();
        for e in &en {
            ev.push(Evidence::registry(
                format!("SYSTEM\\{enum_key}\\{e}"),
                "key present",
            ));
        }
        ids.push(DeviceIdFacts {
            device_id: dev.to_string(),
            mappings,
            enumerated: en,
        });
    }
    DriverFacts {
        service,
        driver_store,
        ids,
    }
}

/// Whether an INF named in DriverDatabase installs `service`: its
/// `DriverInfFiles\<inf>` names a package whose `DriverPackages\<pkg>`
/// key name starts with `<service>.inf_`, or the INF name itself is
/// `<service>.inf`. When DriverDatabase lists the INF but the package
/// cannot be told, an INF named `oemN.inf` counts (it cannot be refuted
/// offline without reading the INF's text).
fn inf_serves(system: Reg<'_>, inf: &str, service: &str) -> bool {
    let inf_l = inf.to_ascii_lowercase();
    let own = format!("{}.inf", service.to_ascii_lowercase());
    if inf_l == own {
        return true;
    }
    let mut scratch = Vec::new();
    let pkgs = system
        .multi(
            &format!("DriverDatabase\\DriverInfFiles\\{inf}"),
            "",
            &mut scratch,
        )
        .unwrap_or_default();
    if pkgs.is_empty() {
        return inf_l.starts_with("oem");
    }
    pkgs.iter()
        .any(|p| p.to_ascii_lowercase().starts_with(&format!("{own}_")))
}

/// The boot-disk drivers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VirtioBlk {
    /// viostor (virtio-blk).
    pub viostor: DriverFacts,
    /// vioscsi (virtio-scsi).
    pub vioscsi: DriverFacts,
}

/// Other virtio drivers and Huawei UVP VMTools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VirtioOther {
    /// Each driver or agent looked for.
    pub drivers: Vec<DriverFacts>,
    /// UVP VMTools version (`Program Files (x86)\virtio\bin\version`).
    pub uvp_vmtools: Option<String>,
}

/// A storage class filter and whether it would load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassFilter {
    /// Class name (`DiskDrive`, `SCSIAdapter`, `HDC`, `Volume`).
    pub class: String,
    /// `UpperFilters` or `LowerFilters`.
    pub list: String,
    /// The filter's service.
    pub service: ServiceFacts,
}

/// Storage classes whose filters sit on the boot path: (name, GUID).
pub const STORAGE_CLASSES: &[(&str, &str)] = &[
    ("DiskDrive", "{4D36E967-E325-11CE-BFC1-08002BE10318}"),
    ("SCSIAdapter", "{4D36E97B-E325-11CE-BFC1-08002BE10318}"),
    ("HDC", "{4D36E96A-E325-11CE-BFC1-08002BE10318}"),
    ("Volume", "{71A27CDD-812A-11D0-BEC7-08002BE2092F}"),
];

/// Reads the storage class filters.
pub fn class_filters(
    guest: &dyn GuestFiles,
    system: Reg<'_>,
    cs: &str,
    root: &str,
) -> Fact<Vec<ClassFilter>> {
    let mut ev = Vec::new();
    let mut out = Vec::new();
    for (class, guid) in STORAGE_CLASSES {
        let key = format!("{cs}\\Control\\Class\\{guid}");
        for list in ["UpperFilters", "LowerFilters"] {
            for name in system.multi(&key, list, &mut ev).unwrap_or_default() {
                let name = name.trim().to_string();
                if name.is_empty() || out.len() >= 256 {
                    continue;
                }
                let service = service(guest, system, cs, root, &name, &mut ev);
                out.push(ClassFilter {
                    class: class.to_string(),
                    list: list.to_string(),
                    service,
                });
            }
        }
    }
    Fact::found(out, ev)
}

/// A piece of another platform's guest tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignTool {
    /// The platform (`VMware`, `Xen`, `Citrix`, `Hyper-V`, `Parallels`,
    /// `VirtualBox`, `Huawei Xen PV`).
    pub platform: String,
    /// What was found (an Uninstall `DisplayName`, `service vmtools
    /// (Start=2)`, a marker file).
    pub what: String,
    /// For a service: its `Start`.
    pub start: Option<u32>,
}

/// Services of other platforms' tools: (name, platform).
pub const FOREIGN_SERVICES: &[(&str, &str)] = &[
    ("vmtools", "VMware"),
    ("vmhgfs", "VMware"),
    ("vm3dservice", "VMware"),
    ("vmci", "VMware"),
    ("vmmouse", "VMware"),
    ("vmxnet3ndis6", "VMware"),
    ("pvscsi", "VMware"),
    ("VGAuthService", "VMware"),
    ("rhelscsi", "Xen"),
    ("xenvbd", "Xen"),
    ("xennet", "Xen"),
    ("xenbus", "Xen"),
    ("xenfilt", "Xen"),
    ("xeniface", "Xen"),
    ("xenvif", "Xen"),
    ("xensvc", "Citrix"),
    ("XenPVInstall", "Citrix"),
    ("prl_tools", "Parallels"),
    ("prl_fs", "Parallels"),
    ("VBoxService", "VirtualBox"),
    ("VBoxGuest", "VirtualBox"),
    ("vmicheartbeat", "Hyper-V"),
    ("vmicvss", "Hyper-V"),
    ("storvsc", "Hyper-V"),
    ("netvsc", "Hyper-V"),
];

/// Uninstall `DisplayName` words of other platforms' tools:
/// (lower-case text, platform).
pub const FOREIGN_PRODUCTS: &[(&str, &str)] = &[
    ("vmware tools", "VMware"),
    ("parallels tools", "Parallels"),
    ("virtuozzo tools", "Parallels"),
    ("paravirtualized xen drivers", "Xen"),
    ("gpl pv drivers", "Xen"),
    ("xenserver", "Citrix"),
    ("citrix vm tools", "Citrix"),
    ("xen pv", "Xen"),
    ("virtualbox guest additions", "VirtualBox"),
    ("hyper-v integration", "Hyper-V"),
];

/// Huawei Xen PV driver marker file.
pub const XEN_PV_MARKER: &str = "/Program Files (x86)/Xen PV Drivers/bin/version";

/// Uninstall keys read (native and 32-bit views).
const UNINSTALL_KEYS: &[&str] = &[
    "Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
];

/// Uninstall entries' display names (both views).
pub fn installed_products(software: Reg<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for base in UNINSTALL_KEYS {
        for k in software.subkey_names(base).into_iter().take(MAX_LISTED) {
            let key = format!("{base}\\{k}");
            let mut scratch = Vec::new();
            if let Some(n) = software.string(&key, "DisplayName", &mut scratch) {
                out.push((format!("SOFTWARE\\{key}\\DisplayName"), n));
            }
        }
    }
    out
}

/// Reads the foreign tools.
pub fn foreign_tools(
    guest: &dyn GuestFiles,
    system: Reg<'_>,
    software: Reg<'_>,
    cs: &str,
) -> Fact<Vec<ForeignTool>> {
    let mut ev = Vec::new();
    let mut out = Vec::new();
    for (loc, name) in installed_products(software) {
        let lower = name.to_ascii_lowercase();
        if let Some((_, platform)) = FOREIGN_PRODUCTS.iter().find(|(w, _)| lower.contains(w)) {
            ev.push(Evidence::registry(loc, format!("\"{name}\"")));
            out.push(ForeignTool {
                platform: platform.to_string(),
                what: format!("installed product \"{name}\""),
                start: None,
            });
        }
    }
    for (svc, platform) in FOREIGN_SERVICES {
        let key = format!("{cs}\\Services\\{svc}");
        if system.has_key(&key) {
            let start = system.dword(&key, "Start", &mut ev);
            let shown = start.map_or("no Start".to_string(), |s| format!("Start={s}"));
            out.push(ForeignTool {
                platform: platform.to_string(),
                what: format!("service {svc} ({shown})"),
                start,
            });
        }
    }
    if let Ok(Some(p)) = find_file_ci(guest, XEN_PV_MARKER) {
        ev.push(Evidence::file(&p, "present"));
        out.push(ForeignTool {
            platform: "Huawei Xen PV".into(),
            what: format!("marker file {p}"),
            start: None,
        });
    }
    if out.is_empty() {
        ev.push(Evidence::registry(
            format!("SYSTEM\\{cs}\\Services, SOFTWARE\\…\\Uninstall"),
            "no VMware, Xen, Citrix, Parallels, VirtualBox or Hyper-V tools",
        ));
    }
    Fact::found(out, ev)
}

/// Device installation restrictions set by policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInstallPolicy {
    /// Values under `Policies\Microsoft\Windows\DeviceInstall\Restrictions`
    /// that restrict (non-zero numbers), by name.
    pub restrictions: Vec<String>,
    /// `System32\GroupPolicy\Machine\Registry.pol` exists.
    pub registry_pol: bool,
}

/// Reads the device installation policy.
pub fn device_install_policy(
    guest: &dyn GuestFiles,
    software: Reg<'_>,
    root: &str,
) -> Fact<DeviceInstallPolicy> {
    let mut ev = Vec::new();
    let key = "Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions";
    let mut p = DeviceInstallPolicy::default();
    if software.exists(key, &mut ev) {
        for (name, data) in software.values(key) {
            let on = match &data {
                ValueData::Dword(v) => *v != 0,
                ValueData::Qword(v) => *v != 0,
                _ => false,
            };
            if on {
                ev.push(Evidence::registry(
                    format!("SOFTWARE\\{key}\\{name}"),
                    super::registry::show(&data),
                ));
                p.restrictions.push(name);
            }
        }
    }
    let pol = format!("{root}/System32/GroupPolicy/Machine/Registry.pol");
    p.registry_pol = matches!(find_file_ci(guest, &pol), Ok(Some(_)));
    ev.push(Evidence::file(
        pol,
        if p.registry_pol { "present" } else { "absent" },
    ));
    Fact::found(p, ev)
}

/// SHA-2 code-signing support on Windows 7 / 2008 R2.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverSigning {
    /// The OS needs KB4474419 for SHA-2-only signatures (build 7600/7601).
    pub needs_sha2_update: bool,
    /// A `Package_for_KB4474419*` package is installed.
    pub sha2_update: bool,
}

/// Reads the SHA-2 update state.
pub fn driver_signing(software: Reg<'_>, build: Option<u32>) -> Fact<DriverSigning> {
    let mut ev = Vec::new();
    let needs = matches!(build, Some(7600 | 7601));
    let key = "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages";
    let found: Vec<String> = if needs {
        software
            .subkey_names(key)
            .into_iter()
            .filter(|k| k.to_ascii_uppercase().starts_with("PACKAGE_FOR_KB4474419"))
            .collect()
    } else {
        Vec::new()
    };
    if needs {
        ev.push(Evidence::registry(
            format!("SOFTWARE\\{key}\\Package_for_KB4474419*"),
            if found.is_empty() {
                "absent".to_string()
            } else {
                found.join(", ")
            },
        ));
    }
    Fact::found(
        DriverSigning {
            needs_sha2_update: needs,
            sha2_update: !found.is_empty(),
        },
        ev,
    )
}
