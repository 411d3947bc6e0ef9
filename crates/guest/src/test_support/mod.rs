//! Test support (feature `test-support`): Windows guest trees whose hives
//! are written by `hivexsh` and whose kernel image is made by `objcopy`,
//! and a small Linux system disk made by `sfdisk` and `mkfs.ext4 -d`
//! ([`linux_disk`]).
//!
//! [`WinTree::server_2019`] describes a Windows Server 2019 guest that is
//! ready for import (virtio drivers registered as Windows 8+ does, DHCP,
//! RDP allowed through the firewall, Cloudbase-Init, BIOS boot). Tests
//! change one thing and [`WinTree::build`] writes it to a directory laid
//! out as `C:\` with the case Windows writes. Panics on failure: it is
//! only for tests.

pub mod linux_disk;

pub use linux_disk::{linux_disk, LinuxDisk};

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::files::{DiskFacts, PartitionTable, VolumeInfo};
use crate::DirGuest;

/// A registry value for a test hive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V {
    /// REG_SZ.
    Sz(String),
    /// REG_EXPAND_SZ.
    ExpandSz(String),
    /// REG_DWORD.
    Dword(u32),
    /// REG_QWORD.
    Qword(u64),
    /// REG_MULTI_SZ.
    Multi(Vec<String>),
    /// REG_BINARY.
    Binary(Vec<u8>),
}

/// A REG_SZ.
pub fn sz(s: &str) -> V {
    V::Sz(s.to_string())
}

/// A REG_MULTI_SZ.
pub fn multi(items: &[&str]) -> V {
    V::Multi(items.iter().map(|s| s.to_string()).collect())
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain(std::iter::once(0))
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn hex(ty: u32, data: &[u8]) -> String {
    let bytes: Vec<String> = data.iter().map(|b| format!("{b:02x}")).collect();
    format!("hex:{ty}:{}", bytes.join(","))
}

impl V {
    fn hivexsh(&self) -> String {
        match self {
            V::Sz(s) => hex(1, &utf16z(s)),
            V::ExpandSz(s) => hex(2, &utf16z(s)),
            V::Dword(v) => format!("dword:{v:#010x}"),
            // hivexsh 1.3 stores garbage for `qword:`; the generic form is exact.
            V::Qword(v) => hex(11, &v.to_le_bytes()),
            V::Multi(items) => {
                let mut d: Vec<u8> = items.iter().flat_map(|s| utf16z(s)).collect();
                d.extend_from_slice(&[0, 0]);
                hex(7, &d)
            }
            V::Binary(b) => hex(3, b),
        }
    }
}

/// One hive as keys (backslash paths below the root) and their values.
#[derive(Debug, Clone, Default)]
pub struct HiveSpec {
    keys: BTreeMap<String, BTreeMap<String, V>>,
}

impl HiveSpec {
    /// Creates `key` (and its parents) with no values if absent.
    pub fn key(&mut self, key: &str) -> &mut Self {
        self.keys.entry(key.to_string()).or_default();
        self
    }

    /// Sets `key\name` (`""` is the default value).
    pub fn set(&mut self, key: &str, name: &str, v: V) -> &mut Self {
        self.keys
            .entry(key.to_string())
            .or_default()
            .insert(name.to_string(), v);
        self
    }

    /// Removes a value.
    pub fn unset(&mut self, key: &str, name: &str) -> &mut Self {
        if let Some(k) = self.keys.get_mut(key) {
            k.remove(name);
        }
        self
    }

    /// Removes `key` and everything below it.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        let lower = key.to_ascii_lowercase();
        let below = format!("{lower}\\");
        self.keys.retain(|k, _| {
            let k = k.to_ascii_lowercase();
            k != lower && !k.starts_with(&below)
        });
        self
    }

    /// The `hivexsh` script that builds this hive from an empty one.
    pub fn script(&self) -> String {
        let mut made: Vec<String> = Vec::new();
        let mut out = String::new();
        for (key, values) in &self.keys {
            let parts: Vec<&str> = key.split('\\').filter(|p| !p.is_empty()).collect();
            for i in 0..parts.len() {
                let path = parts[..=i].join("\\");
                if made.iter().any(|m| m.eq_ignore_ascii_case(&path)) {
                    continue;
                }
                let parent = parts[..i].join("\\");
                out.push_str(&format!("cd \\{parent} \nadd {}\n", parts[i]));
                made.push(path);
            }
            if !values.is_empty() {
                out.push_str(&format!("cd \\{key}\nsetval {}\n", values.len()));
                for (name, v) in values {
                    let name = if name.is_empty() { "@" } else { name };
                    out.push_str(&format!("{name}\n{}\n", v.hivexsh()));
                }
            }
        }
        out
    }

    /// Writes the hive with `hivexsh` (scratch files go to `dir`).
    pub fn write(&self, dir: &Path) -> Vec<u8> {
        imsprep_regf::test_support::build(dir, &self.script())
    }
}

/// A Windows guest to write into a directory.
#[derive(Debug, Clone)]
pub struct WinTree {
    /// The SYSTEM hive.
    pub system: HiveSpec,
    /// The SOFTWARE hive.
    pub software: HiveSpec,
    /// The BCD store at `\Boot\BCD` (BIOS), if any.
    pub bcd: Option<HiveSpec>,
    /// Files by guest path (`/Windows/System32/cmd.exe`).
    pub files: BTreeMap<String, Vec<u8>>,
    /// Empty directories by guest path.
    pub dirs: Vec<String>,
    /// Disk facts reported.
    pub disk: DiskFacts,
    /// Volumes reported.
    pub volumes: Vec<VolumeInfo>,
}

/// Control set used by [`WinTree::server_2019`].
pub const CS: &str = "ControlSet001";
/// Interface GUID of the virtio NIC in [`WinTree::server_2019`].
pub const NIC_GUID: &str = "{6A1D2C5E-0F3B-4C1E-9D21-3F4A5B6C7D8E}";

/// A PE image made by `objcopy -O <bfd>` (`pei-x86-64`, `pei-i386`) from
/// a compiled C object, in `dir`.
pub fn pe_image(dir: &Path, bfd: &str) -> Vec<u8> {
    let c = dir.join("pe.c");
    let o = dir.join("pe.o");
    let exe = dir.join("pe.exe");
    std::fs::write(&c, "int entry(void) { return 0; }\n").expect("write pe.c");
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("run tool");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("cc").arg("-c").arg(&c).arg("-o").arg(&o));
    run(Command::new("objcopy").arg("-O").arg(bfd).arg(&o).arg(&exe));
    std::fs::read(&exe).expect("read pe.exe")
}

impl WinTree {
    /// A Windows Server 2019 Standard guest ready for import.
    pub fn server_2019(scratch: &Path) -> WinTree {
        let mut s = HiveSpec::default();
        s.set("Select", "Current", V::Dword(1))
            .set("Select", "Default", V::Dword(1))
            .set("Select", "LastKnownGood", V::Dword(1))
            .set("Select", "Failed", V::Dword(0));
        let c = |k: &str| format!("{CS}\\{k}");
        s.set(
            &c("Control\\Session Manager\\Environment"),
            "PROCESSOR_ARCHITECTURE",
            sz("AMD64"),
        )
        .set(
            &c("Control\\Session Manager\\Power"),
            "HiberbootEnabled",
            V::Dword(0),
        )
        .set(&c("Control\\Power"), "HibernateEnabled", V::Dword(0))
        .set(
            &c("Control\\Session Manager\\Memory Management"),
            "PagingFiles",
            multi(&["C:\\pagefile.sys 4096 4096"]),
        );
        let driver = |s: &mut HiveSpec, name: &str, start: u32, group: &str, image: &str| {
            let k = c(&format!("Services\\{name}"));
            s.set(&k, "Start", V::Dword(start))
                .set(&k, "Type", V::Dword(1))
                .set(&k, "ErrorControl", V::Dword(1))
                .set(&k, "ImagePath", V::ExpandSz(image.to_string()));
            if !group.is_empty() {
                s.set(&k, "Group", sz(group));
            }
        };
        driver(
            &mut s,
            "viostor",
            0,
            "SCSI miniport",
            "System32\\drivers\\viostor.sys",
        );
        driver(
            &mut s,
            "netkvm",
            3,
            "NDIS",
            "\\SystemRoot\\System32\\drivers\\netkvm.sys",
        );
        driver(
            &mut s,
            "balloon",
            3,
            "",
            "\\SystemRoot\\System32\\drivers\\balloon.sys",
        );
        driver(
            &mut s,
            "partmgr",
            0,
            "Boot Bus Extender",
            "System32\\drivers\\partmgr.sys",
        );
        driver(
            &mut s,
            "Tcpip",
            0,
            "PNP_TDI",
            "System32\\drivers\\tcpip.sys",
        );
        let ids = "DriverDatabase\\DeviceIds\\PCI";
        for (dev, inf) in [
            ("VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00", "oem3.inf"),
            ("VEN_1AF4&DEV_1042&SUBSYS_11001AF4&REV_01", "oem3.inf"),
            ("VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00", "oem4.inf"),
            ("VEN_1AF4&DEV_1041&SUBSYS_11001AF4&REV_01", "oem4.inf"),
        ] {
            s.set(
                &format!("{ids}\\{dev}"),
                inf,
                V::Binary(vec![1, 0xff, 0, 0]),
            );
        }
        s.set(
            "DriverDatabase\\DriverInfFiles\\oem3.inf",
            "",
            multi(&["viostor.inf_amd64_5c3b1d7a2e9f0c11"]),
        )
        .set(
            "DriverDatabase\\DriverInfFiles\\oem4.inf",
            "",
            multi(&["netkvm.inf_amd64_0a1b2c3d4e5f6071"]),
        );
        s.set(
            &c("Control\\Class\\{4D36E967-E325-11CE-BFC1-08002BE10318}"),
            "UpperFilters",
            multi(&["partmgr"]),
        );
        s.set(
            &c("Services\\partmgr\\Parameters"),
            "SanPolicy",
            V::Dword(1),
        );
        let svc = |s: &mut HiveSpec, name: &str, start: u32, image: &str| {
            let k = c(&format!("Services\\{name}"));
            s.set(&k, "Start", V::Dword(start))
                .set(&k, "Type", V::Dword(0x20))
                .set(&k, "ImagePath", V::ExpandSz(image.to_string()));
        };
        svc(
            &mut s,
            "Dhcp",
            2,
            "%SystemRoot%\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p",
        );
        svc(
            &mut s,
            "TermService",
            3,
            "%SystemRoot%\\System32\\svchost.exe -k NetworkService",
        );
        svc(
            &mut s,
            "MpsSvc",
            2,
            "%SystemRoot%\\system32\\svchost.exe -k LocalServiceNoNetworkFirewall -p",
        );
        svc(
            &mut s,
            "cloudbase-init",
            2,
            "\"C:\\Program Files\\Cloudbase Solutions\\Cloudbase-Init\\bin\\OpenStackService.exe\" cloudbase-init \"C:\\Program Files\\Cloudbase Solutions\\Cloudbase-Init\\Python\\Scripts\\cloudbase-init.exe\"",
        );
        s.set(&c("Services\\cloudbase-init"), "Type", V::Dword(0x10))
            .set(
                &c("Services\\cloudbase-init"),
                "ObjectName",
                sz("cloudbase-init"),
            );
        let ifk = c(&format!(
            "Services\\Tcpip\\Parameters\\Interfaces\\{NIC_GUID}"
        ));
        s.set(&ifk, "EnableDHCP", V::Dword(1));
        let nic = c("Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}\\0001");
        s.set(&nic, "NetCfgInstanceId", sz(NIC_GUID))
            .set(
                &nic,
                "ComponentId",
                sz("pci\\ven_1af4&dev_1000&subsys_00011af4&rev_00"),
            )
            .set(&nic, "DriverDesc", sz("Red Hat VirtIO Ethernet Adapter"));
        let ts = c("Control\\Terminal Server");
        s.set(&ts, "fDenyTSConnections", V::Dword(0));
        let tcp = format!("{ts}\\WinStations\\RDP-Tcp");
        s.set(&tcp, "PortNumber", V::Dword(3389))
            .set(&tcp, "UserAuthentication", V::Dword(1))
            .set(&tcp, "SecurityLayer", V::Dword(2));
        let fw = c("Services\\SharedAccess\\Parameters\\FirewallPolicy");
        for p in ["DomainProfile", "StandardProfile", "PublicProfile"] {
            s.set(&format!("{fw}\\{p}"), "EnableFirewall", V::Dword(1));
        }
        s.set(
            &format!("{fw}\\FirewallRules"),
            "RemoteDesktop-UserMode-In-TCP",
            sz("v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=3389|App=%SystemRoot%\\system32\\svchost.exe|Svc=termservice|Name=@FirewallAPI.dll,-28775|Desc=@FirewallAPI.dll,-28756|EmbedCtxt=@FirewallAPI.dll,-28752|"),
        );
        s.set(
            &c("Control\\TimeZoneInformation"),
            "RealTimeIsUniversal",
            V::Dword(1),
        );
        let schemes = c("Control\\Power\\User\\PowerSchemes");
        let balanced = "381b4222-f694-41f0-9685-ff5bb260df2e";
        s.set(&schemes, "ActivePowerScheme", sz(balanced)).set(
            &format!("{schemes}\\{balanced}\\7516b95f-f776-4464-8c53-06167f40cc99\\3c0bc021-c8a8-4e07-a973-6b14cbcb2b7e"),
            "ACSettingIndex",
            V::Dword(0),
        );
        s.set("Setup", "SystemSetupInProgress", V::Dword(0))
            .set("Setup", "OOBEInProgress", V::Dword(0))
            .set("Setup", "SetupType", V::Dword(0))
            .set("Setup", "CmdLine", sz(""));

        let mut w = HiveSpec::default();
        let cv = "Microsoft\\Windows NT\\CurrentVersion";
        w.set(cv, "ProductName", sz("Windows Server 2019 Standard"))
            .set(cv, "EditionID", sz("ServerStandard"))
            .set(cv, "InstallationType", sz("Server"))
            .set(cv, "CurrentMajorVersionNumber", V::Dword(10))
            .set(cv, "CurrentMinorVersionNumber", V::Dword(0))
            .set(cv, "CurrentVersion", sz("6.3"))
            .set(cv, "CurrentBuild", sz("17763"))
            .set(cv, "CurrentBuildNumber", sz("17763"))
            .set(cv, "ReleaseId", sz("1809"))
            .set(cv, "UBR", V::Dword(5329));
        w.key("Cloudbase Solutions\\Cloudbase-Init");
        w.set(
            "Microsoft\\Windows\\CurrentVersion\\Uninstall\\{7D3C4C1E-52A4-4D7B-8A7C-1E2A3B4C5D6E}",
            "DisplayName",
            sz("Cloudbase-Init 1.1.4"),
        );
        w.set(
            "Microsoft\\Windows\\CurrentVersion\\Setup\\State",
            "ImageState",
            sz("IMAGE_STATE_COMPLETE"),
        );

        let mut bcd = HiveSpec::default();
        bcd.set(
            "Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\\Description",
            "Type",
            V::Dword(0x1010_0002),
        );

        let mut files = BTreeMap::new();
        let kernel = pe_image(scratch, "pei-x86-64");
        files.insert("/Windows/System32/ntoskrnl.exe".to_string(), kernel.clone());
        files.insert("/Windows/System32/cmd.exe".to_string(), kernel);
        for d in ["viostor", "netkvm", "balloon", "partmgr", "tcpip"] {
            files.insert(
                format!("/Windows/System32/drivers/{d}.sys"),
                format!("driver {d}").into_bytes(),
            );
        }
        files.insert("/bootmgr".into(), b"bootmgr".to_vec());
        files.insert("/pagefile.sys".into(), vec![0; 16]);
        files.insert(
            "/Program Files/Cloudbase Solutions/Cloudbase-Init/conf/cloudbase-init.conf".into(),
            b"[DEFAULT]\nusername=Administrator\nmetadata_services=cloudbaseinit.metadata.services.httpservice.HttpService\nreal_time_clock_utc=true\nplugins=cloudbaseinit.plugins.common.mtu.MTUPlugin,cloudbaseinit.plugins.common.sethostname.SetHostNamePlugin,cloudbaseinit.plugins.common.setuserpassword.SetUserPasswordPlugin\nnetbios_host_name_compatibility=false\n[openstack]\nadd_metadata_private_ip_route=False\n".to_vec(),
        );
        let dirs = vec![
            "/Windows/System32/DriverStore/FileRepository/viostor.inf_amd64_5c3b1d7a2e9f0c11"
                .into(),
            "/Windows/System32/DriverStore/FileRepository/netkvm.inf_amd64_0a1b2c3d4e5f6071".into(),
        ];
        WinTree {
            system: s,
            software: w,
            bcd: Some(bcd),
            files,
            dirs,
            disk: DiskFacts {
                partition_table: PartitionTable::Mbr,
                mbr_boot_code: true,
                mbr_loader: Some("Windows".into()),
                active_partition: true,
                ..DiskFacts::default()
            },
            volumes: vec![VolumeInfo {
                device: "/dev/vda1".into(),
                fs_type: Some("ntfs".into()),
                mount_point: Some("/".into()),
                ..VolumeInfo::default()
            }],
        }
    }

    /// Writes the tree under `root` (hives with `hivexsh`, scratch files
    /// in `scratch`) and returns a guest over it.
    pub fn build(&self, root: &Path, scratch: &Path) -> DirGuest {
        let put = |path: &str, data: &[u8]| {
            let p = root.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, data).expect("write");
        };
        put(
            "/Windows/System32/config/SYSTEM",
            &self.system.write(scratch),
        );
        put(
            "/Windows/System32/config/SOFTWARE",
            &self.software.write(scratch),
        );
        if let Some(bcd) = &self.bcd {
            put("/Boot/BCD", &bcd.write(scratch));
        }
        for (p, d) in &self.files {
            put(p, d);
        }
        for d in &self.dirs {
            std::fs::create_dir_all(root.join(d.trim_start_matches('/'))).expect("mkdir");
        }
        DirGuest::new(root)
            .with_disk(self.disk.clone())
            .with_volumes(self.volumes.clone())
    }
}
