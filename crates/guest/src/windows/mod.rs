//! Facts about a Windows guest, read from its files and registry hives.
//!
//! [`inspect_windows`] finds the Windows directory, loads the `SYSTEM` and
//! `SOFTWARE` hives (replaying their transaction logs in memory when they
//! are dirty), picks the control set from `SYSTEM\Select\Current`, and
//! reads each part in its own module. Every fact carries its evidence:
//! registry locations written `HIVE\key\value` with the value found, and
//! guest paths. When the hives cannot be read every fact is UNKNOWN with
//! the reason. Nothing is judged here: `imsprep-ims` turns facts into
//! findings.
//!
//! Guest paths are matched case-insensitively ([`paths::find_ci`]); the
//! registry reader matches key and value names case-insensitively.

pub mod access;
pub mod boot;
pub mod browse;
pub mod drivers;
pub mod hives;
pub mod identity;
pub mod paths;
pub mod registry;

use crate::evidence::Fact;
use crate::files::GuestFiles;
use registry::Reg;

/// Everything inspected in a Windows guest.
#[derive(Debug, Clone, Default)]
pub struct WindowsFacts {
    /// The Windows directory (WIN-SYSTEMROOT).
    pub root: Fact<hives::SystemRoot>,
    /// SYSTEM and SOFTWARE hive states (WIN-HIVE-DIRTY).
    pub hives: Fact<Vec<hives::HiveStatus>>,
    /// `SYSTEM\Select` (WIN-CONTROLSET).
    pub control_set: Fact<hives::ControlSet>,
    /// Product, edition, build (WIN-OS-ID).
    pub identity: Fact<identity::WindowsIdentity>,
    /// Architecture (WIN-ARCH).
    pub arch: Fact<identity::WindowsArch>,
    /// Boot loaders and BCD stores (WIN-BOOTMODE).
    pub boot: Fact<boot::WindowsBoot>,
    /// Hibernation, dirty flag, Fast Startup (WIN-NTFS-STATE).
    pub ntfs: Fact<boot::NtfsState>,
    /// Pending reboot and setup state (WIN-PENDING).
    pub pending: Fact<boot::PendingState>,
    /// viostor and vioscsi (WIN-VIRTIO-BLK).
    pub virtio_blk: Fact<drivers::VirtioBlk>,
    /// netkvm (WIN-VIRTIO-NET).
    pub virtio_net: Fact<drivers::DriverFacts>,
    /// Other virtio drivers (WIN-VIRTIO-OTHER).
    pub virtio_other: Fact<drivers::VirtioOther>,
    /// Storage class filters (WIN-CLASS-FILTERS).
    pub class_filters: Fact<Vec<drivers::ClassFilter>>,
    /// Other platforms' tools (WIN-FOREIGN-TOOLS).
    pub foreign_tools: Fact<Vec<drivers::ForeignTool>>,
    /// DHCP (WIN-DHCP).
    pub dhcp: Fact<access::DhcpFacts>,
    /// Remote Desktop (WIN-RDP).
    pub rdp: Fact<access::RdpFacts>,
    /// Firewall and the RDP rules (WIN-RDP-FIREWALL).
    pub rdp_firewall: Fact<access::FirewallFacts>,
    /// `SanPolicy` (WIN-SAN-POLICY).
    pub san_policy: Fact<u32>,
    /// Cloudbase-Init (WIN-CLOUDBASE-INIT).
    pub cloudbase_init: Fact<access::CloudbaseInit>,
    /// `RealTimeIsUniversal` (WIN-RTC).
    pub rtc: Fact<u64>,
    /// Page files (WIN-PAGEFILE).
    pub pagefile: Fact<access::Pagefile>,
    /// Device installation restrictions (WIN-DEVICE-INSTALL-POLICY).
    pub device_install_policy: Fact<drivers::DeviceInstallPolicy>,
    /// SHA-2 signing support (WIN-DRIVER-SIGNING).
    pub driver_signing: Fact<drivers::DriverSigning>,
    /// Display timeout (WIN-DISPLAY-POWER).
    pub display_power: Fact<access::DisplayPower>,
}

impl WindowsFacts {
    /// Every fact UNKNOWN for `reason` (hives missing or unreadable),
    /// except the root and hive facts given.
    fn unknown(
        root: Fact<hives::SystemRoot>,
        hives: Fact<Vec<hives::HiveStatus>>,
        reason: &str,
    ) -> WindowsFacts {
        let u = || reason.to_string();
        WindowsFacts {
            root,
            hives,
            control_set: Fact::unknown(u(), Vec::new()),
            identity: Fact::unknown(u(), Vec::new()),
            arch: Fact::unknown(u(), Vec::new()),
            boot: Fact::unknown(u(), Vec::new()),
            ntfs: Fact::unknown(u(), Vec::new()),
            pending: Fact::unknown(u(), Vec::new()),
            virtio_blk: Fact::unknown(u(), Vec::new()),
            virtio_net: Fact::unknown(u(), Vec::new()),
            virtio_other: Fact::unknown(u(), Vec::new()),
            class_filters: Fact::unknown(u(), Vec::new()),
            foreign_tools: Fact::unknown(u(), Vec::new()),
            dhcp: Fact::unknown(u(), Vec::new()),
            rdp: Fact::unknown(u(), Vec::new()),
            rdp_firewall: Fact::unknown(u(), Vec::new()),
            san_policy: Fact::unknown(u(), Vec::new()),
            cloudbase_init: Fact::unknown(u(), Vec::new()),
            rtc: Fact::unknown(u(), Vec::new()),
            pagefile: Fact::unknown(u(), Vec::new()),
            device_install_policy: Fact::unknown(u(), Vec::new()),
            driver_signing: Fact::unknown(u(), Vec::new()),
            display_power: Fact::unknown(u(), Vec::new()),
        }
    }
}

/// Inspect a Windows guest.
pub fn inspect_windows(guest: &dyn GuestFiles) -> WindowsFacts {
    let root = hives::system_root(guest);
    let Some(sr) = root.get().cloned() else {
        let reason = root
            .unknown
            .clone()
            .unwrap_or_else(|| "no Windows directory with System32/config".into());
        return WindowsFacts::unknown(root, Fact::unknown(reason.clone(), Vec::new()), &reason);
    };
    let system = hives::load_hive(guest, &sr.config_dir, "SYSTEM");
    let software = hives::load_hive(guest, &sr.config_dir, "SOFTWARE");
    let (system, software) = match (system, software) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            let mut ev = Vec::new();
            let mut reasons = Vec::new();
            for r in [a.err(), b.err()].into_iter().flatten() {
                reasons.push(r.0);
                ev.extend(r.1);
            }
            let reason = reasons.join("; ");
            return WindowsFacts::unknown(root, Fact::unknown(reason.clone(), ev), &reason);
        }
    };
    let hive_facts = hives::hive_status(&[("SYSTEM", &system), ("SOFTWARE", &software)]);
    let sys = Reg::new(&system.hive, "SYSTEM");
    let soft = Reg::new(&software.hive, "SOFTWARE");
    let control_set = hives::control_set(sys);
    let cs_name = control_set
        .get()
        .filter(|c| c.exists)
        .map(|c| c.name.clone());
    let sr_path = sr.path.as_str();
    let identity = identity::identity(soft);
    let arch = identity::arch(guest, sys, cs_name.as_deref(), sr_path);
    let boot = boot::boot(guest);
    let ntfs = boot::ntfs_state(guest, sys, cs_name.as_deref());
    let pending = boot::pending(guest, sys, soft, cs_name.as_deref(), sr_path);
    let device_install_policy = drivers::device_install_policy(guest, soft, sr_path);
    let driver_signing = drivers::driver_signing(soft, identity.get().and_then(|i| i.build));
    let mut facts = WindowsFacts {
        root,
        hives: hive_facts,
        identity,
        arch,
        boot,
        ntfs,
        pending,
        device_install_policy,
        driver_signing,
        ..WindowsFacts::unknown(Fact::default(), Fact::default(), "")
    };
    let Some(cs) = cs_name else {
        let reason = "SYSTEM\\Select\\Current names no control set";
        let keep = WindowsFacts {
            root: facts.root,
            hives: facts.hives,
            identity: facts.identity,
            arch: facts.arch,
            boot: facts.boot,
            ntfs: facts.ntfs,
            pending: facts.pending,
            device_install_policy: facts.device_install_policy,
            driver_signing: facts.driver_signing,
            control_set,
            ..WindowsFacts::unknown(Fact::default(), Fact::default(), reason)
        };
        return keep;
    };
    facts.control_set = control_set;
    let cs = cs.as_str();
    let mut ev = Vec::new();
    let index = drivers::DriverIndex::read(guest, sys, cs, sr_path);
    let blk = drivers::VirtioBlk {
        viostor: drivers::driver(guest, sys, cs, sr_path, &index, drivers::VIOSTOR, &mut ev),
        vioscsi: drivers::driver(guest, sys, cs, sr_path, &index, drivers::VIOSCSI, &mut ev),
    };
    facts.virtio_blk = Fact::found(blk, std::mem::take(&mut ev));
    let net = drivers::driver(guest, sys, cs, sr_path, &index, drivers::NETKVM, &mut ev);
    facts.virtio_net = Fact::found(net, std::mem::take(&mut ev));
    let other: Vec<drivers::DriverFacts> = drivers::OTHER_VIRTIO
        .iter()
        .map(|d| drivers::driver(guest, sys, cs, sr_path, &index, *d, &mut ev))
        .collect();
    let uvp = paths::find_file_ci(guest, "/Program Files (x86)/virtio/bin/version")
        .ok()
        .flatten()
        .and_then(|p| guest.read_file(&p, 4096).ok().flatten())
        .map(|b| String::from_utf8_lossy(&b).trim().to_string());
    if let Some(v) = &uvp {
        ev.push(crate::Evidence::file(
            "/Program Files (x86)/virtio/bin/version",
            v.clone(),
        ));
    }
    facts.virtio_other = Fact::found(
        drivers::VirtioOther {
            drivers: other,
            uvp_vmtools: uvp,
        },
        std::mem::take(&mut ev),
    );
    facts.class_filters = drivers::class_filters(guest, sys, cs, sr_path);
    facts.foreign_tools = drivers::foreign_tools(guest, sys, soft, cs);
    facts.dhcp = access::dhcp(guest, sys, cs, sr_path);
    facts.rdp = access::rdp(guest, sys, soft, cs, sr_path);
    facts.rdp_firewall = access::rdp_firewall(guest, sys, soft, cs, sr_path);
    facts.san_policy = access::san_policy(sys, cs);
    facts.cloudbase_init = access::cloudbase_init(guest, sys, soft, cs, sr_path);
    facts.rtc = access::rtc(sys, cs);
    facts.pagefile = access::pagefile(guest, sys, cs);
    facts.display_power = access::display_power(sys, cs);
    facts
}
