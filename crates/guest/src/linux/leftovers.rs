//! Leftovers from other hypervisors: Huawei UVP/Xen PV drivers, Xen
//! module lists and consoles, VMware Tools (tarball or open-vm-tools),
//! VirtualBox, Parallels and Citrix guest tools, `kudzu`, an X server
//! pinned to a foreign video driver, and the trace IMS automatic
//! configuration leaves.
//!
//! Read: the files and packages the spec lists for each (packages only
//! when the dpkg list is known; on RPM guests the files decide);
//! `/etc/sysconfig/kernel` `INITRD_MODULES`/`DOMU_INITRD_MODULES`;
//! modprobe files (`/etc/modprobe.conf`, `/etc/modprobe.conf.local`,
//! `/etc/modprobe.d/*.conf`, `/etc/modules.conf`) for `alias` lines naming
//! Xen or VMware drivers; `/etc/inittab` and `/etc/securetty` for
//! `hvc0`/`xvc0`; the kernel command line for `console=hvc0|xvc0` and
//! `xen_emul_unplug=`; `/etc/X11/xorg.conf` and `/etc/X11/XF86Config`
//! `Section "Device"` `Driver`; VMware repositories in `/etc/yum.repos.d`;
//! `/var/log/rainbow_modification_record.log`.

use super::packages::InstalledPackages;
use super::services::{exists, join, list_dir, read_config, unit_state, UnitState};
use crate::text::{last_value, shell_assignments};
use crate::{Evidence, GuestFiles};

/// Xen PV driver module names (both spellings).
pub const XEN_MODULES: [&str; 12] = [
    "xennet",
    "xen-vnif",
    "xen_vnif",
    "xenblk",
    "xen-vbd",
    "xen_vbd",
    "xen_platform_pci",
    "xen-platform-pci",
    "xen-blkfront",
    "xen_blkfront",
    "xen-netfront",
    "xen_netfront",
];

/// VMware driver names seen in modprobe aliases.
pub const VMWARE_MODULES: [&str; 4] = ["vmxnet", "vmxnet3", "vmw_pvscsi", "pvscsi"];

/// Which guest-tools family a finding belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// Huawei UVP monitor / PV drivers.
    UvpPv,
    /// VMware Tools installed from VMware's tarball.
    VmwareTarball,
    /// The distribution's open-vm-tools (inactive outside VMware).
    OpenVmTools,
    /// VirtualBox Guest Additions.
    VirtualBox,
    /// Parallels Tools.
    Parallels,
    /// Citrix XenServer guest utilities.
    Citrix,
}

/// One guest-tools installation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestTool {
    /// Family.
    pub kind: ToolKind,
    /// Files and packages that show it.
    pub evidence: Vec<Evidence>,
}

/// Leftover facts of a Linux guest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeftoverFacts {
    /// Guest tools found, one entry per family.
    pub tools: Vec<GuestTool>,
    /// Xen modules in initrd module lists or modprobe aliases.
    pub xen_modules: Vec<Evidence>,
    /// VMware drivers in modprobe aliases.
    pub vmware_aliases: Vec<Evidence>,
    /// `hvc0`/`xvc0` in inittab/securetty, `console=hvc0|xvc0` and
    /// `xen_emul_unplug=` on the command line.
    pub xen_consoles: Vec<Evidence>,
    /// `kudzu` service state, if installed.
    pub kudzu: Option<UnitState>,
    /// `Driver` values of X server `Device` sections.
    pub xorg_drivers: Vec<(String, Evidence)>,
    /// `/var/log/rainbow_modification_record.log` (image auto-configured
    /// by IMS before).
    pub autoconf_trace: Option<Evidence>,
}

impl LeftoverFacts {
    /// The tools of one family, if found.
    pub fn tool(&self, kind: ToolKind) -> Option<&GuestTool> {
        self.tools.iter().find(|t| t.kind == kind)
    }
}

/// Files that show each tool family.
const TOOL_FILES: [(ToolKind, &[&str]); 6] = [
    (
        ToolKind::UvpPv,
        &[
            "/etc/.uvp-monitor/uninstall",
            "/usr/bin/uvp-monitor",
            "/etc/init.d/uvp-monitor",
        ],
    ),
    (
        ToolKind::VmwareTarball,
        &[
            "/usr/bin/vmware-uninstall-tools.pl",
            "/etc/vmware-tools/locations",
            "/etc/init.d/vmware-tools",
        ],
    ),
    (ToolKind::OpenVmTools, &["/usr/bin/vmtoolsd"]),
    (
        ToolKind::VirtualBox,
        &[
            "/var/lib/VBoxGuestAdditions/config",
            "/usr/sbin/VBoxService",
        ],
    ),
    (ToolKind::Parallels, &["/usr/lib/parallels-tools/install"]),
    (
        ToolKind::Citrix,
        &["/usr/sbin/xe-daemon", "/etc/init.d/xe-linux-distribution"],
    ),
];

/// Package-name prefixes of each family.
const TOOL_PACKAGES: [(ToolKind, &[&str]); 6] = [
    (
        ToolKind::UvpPv,
        &["uvp-monitor", "kmod-uvpmod", "libxenstore_uvp"],
    ),
    (
        ToolKind::VmwareTarball,
        &["vmware-tools-", "VMwareTools", "kmod-vmware-tools"],
    ),
    (ToolKind::OpenVmTools, &["open-vm-tools"]),
    (ToolKind::VirtualBox, &["virtualbox-guest-"]),
    (ToolKind::Parallels, &["parallels-tools"]),
    (ToolKind::Citrix, &["xe-guest-utilities"]),
];

/// Reads the leftover facts.
pub fn leftover_facts(
    g: &dyn GuestFiles,
    cmdline: Option<&str>,
    packages: Option<&InstalledPackages>,
) -> LeftoverFacts {
    let mut f = LeftoverFacts::default();
    for ((kind, files), (_, prefixes)) in TOOL_FILES.iter().zip(TOOL_PACKAGES.iter()) {
        let mut evidence: Vec<Evidence> = files
            .iter()
            .filter(|p| exists(g, p))
            .map(|p| Evidence::file(*p, "present"))
            .collect();
        if let Some(pk) = packages {
            for prefix in prefixes.iter() {
                for p in pk.with_prefix(prefix) {
                    evidence.push(Evidence::file(
                        super::packages::DPKG_STATUS,
                        format!("{} {} installed", p.name, p.version),
                    ));
                }
            }
        }
        if *kind == ToolKind::VmwareTarball {
            for name in list_dir(g, "/etc/yum.repos.d")
                .into_iter()
                .filter(|n| n.to_ascii_lowercase().contains("vmware"))
            {
                evidence.push(Evidence::file(
                    join("/etc/yum.repos.d", &name),
                    "VMware repository",
                ));
            }
        }
        if *kind == ToolKind::VirtualBox {
            for name in list_dir(g, "/opt")
                .into_iter()
                .filter(|n| n.starts_with("VBoxGuestAdditions"))
            {
                evidence.push(Evidence::file(join("/opt", &name), "present"));
            }
        }
        if !evidence.is_empty() {
            f.tools.push(GuestTool {
                kind: *kind,
                evidence,
            });
        }
    }
    xen_module_lists(g, &mut f);
    modprobe_aliases(g, &mut f);
    consoles(g, cmdline, &mut f);
    let kudzu = unit_state(g, "kudzu.service", Some("kudzu"));
    if kudzu.installed() {
        f.kudzu = Some(kudzu);
    }
    for path in ["/etc/X11/xorg.conf", "/etc/X11/XF86Config"] {
        if let Some(text) = read_config(g, path) {
            f.xorg_drivers
                .extend(xorg_device_drivers(&text).into_iter().map(|(line, d)| {
                    let ev = Evidence::file(path, format!("line {line}: Driver \"{d}\""));
                    (d, ev)
                }));
        }
    }
    let rainbow = "/var/log/rainbow_modification_record.log";
    if exists(g, rainbow) {
        f.autoconf_trace = Some(Evidence::file(rainbow, "present"));
    }
    f
}

/// Xen names in `/etc/sysconfig/kernel` module lists.
fn xen_module_lists(g: &dyn GuestFiles, f: &mut LeftoverFacts) {
    let path = "/etc/sysconfig/kernel";
    let Some(text) = read_config(g, path) else {
        return;
    };
    let vars = shell_assignments(&text);
    for key in ["INITRD_MODULES", "DOMU_INITRD_MODULES"] {
        if let Some(v) = last_value(&vars, key).map(str::to_string) {
            if v.split_whitespace().any(|m| XEN_MODULES.contains(&m)) {
                f.xen_modules
                    .push(Evidence::file(path, format!("{key}=\"{v}\"")));
            }
        }
    }
}

/// `alias` lines naming Xen or VMware drivers in modprobe files.
fn modprobe_aliases(g: &dyn GuestFiles, f: &mut LeftoverFacts) {
    let mut files: Vec<String> = [
        "/etc/modprobe.conf",
        "/etc/modprobe.conf.local",
        "/etc/modules.conf",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    files.extend(
        list_dir(g, "/etc/modprobe.d")
            .into_iter()
            .filter(|n| n.ends_with(".conf"))
            .map(|n| join("/etc/modprobe.d", &n)),
    );
    for path in files {
        let Some(text) = read_config(g, &path) else {
            continue;
        };
        for (idx, line) in text.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let ["alias", _, module, ..] = words.as_slice() else {
                continue;
            };
            let ev = || Evidence::file(&path, format!("line {}: {}", idx + 1, line.trim()));
            if XEN_MODULES.contains(module) {
                f.xen_modules.push(ev());
            } else if VMWARE_MODULES.contains(module) {
                f.vmware_aliases.push(ev());
            }
        }
    }
}

/// Xen consoles in inittab/securetty and on the command line.
fn consoles(g: &dyn GuestFiles, cmdline: Option<&str>, f: &mut LeftoverFacts) {
    for path in ["/etc/inittab", "/etc/securetty"] {
        let Some(text) = read_config(g, path) else {
            continue;
        };
        for (idx, line) in text.lines().enumerate() {
            let l = line.trim();
            if !l.starts_with('#') && (l.contains("hvc0") || l.contains("xvc0")) {
                f.xen_consoles
                    .push(Evidence::file(path, format!("line {}: {l}", idx + 1)));
            }
        }
    }
    if let Some(cmd) = cmdline {
        for arg in cmd.split_whitespace() {
            if arg == "console=hvc0" || arg == "console=xvc0" || arg.starts_with("xen_emul_unplug=")
            {
                f.xen_consoles
                    .push(Evidence::file("kernel command line", arg));
            }
        }
    }
}

/// `Driver` values inside `Section "Device"` blocks, with line numbers.
pub fn xorg_device_drivers(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_device = false;
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some(k), Some(v)) if k.eq_ignore_ascii_case("Section") => {
                in_device = v.trim_matches('"').eq_ignore_ascii_case("Device");
            }
            (Some(k), _) if k.eq_ignore_ascii_case("EndSection") => in_device = false,
            (Some(k), Some(v)) if in_device && k.eq_ignore_ascii_case("Driver") => {
                out.push((idx + 1, v.trim_matches('"').to_string()));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorg_device_sections() {
        let text = "Section \"InputDevice\"\n  Driver \"kbd\"\nEndSection\nSection \"Device\"\n  Identifier \"c\"\n  Driver \"vmware\" # pinned\nEndSection\n";
        assert_eq!(xorg_device_drivers(text), [(6, "vmware".to_string())]);
    }
}
