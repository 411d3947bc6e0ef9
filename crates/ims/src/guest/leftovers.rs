//! LX-UVP-PV, LX-XEN-LEFTOVERS, LX-VMWARE-TOOLS, LX-XORG and
//! LX-AUTOCONF-TRACE.

use imsprep_guest::linux::leftovers::ToolKind;
use imsprep_guest::{Evidence, LinuxFacts};

use super::{info, unknown, warn};
use crate::finding::{Code, Finding};

/// Drivers inert on KVM that the old Xen-era IMS procedure added next to
/// the virtio modules: info only.
const XEN_FRONTENDS: [&str; 4] = [
    "xen-blkfront",
    "xen-netfront",
    "xen_blkfront",
    "xen_netfront",
];

/// X drivers of other hypervisors.
const FOREIGN_VIDEO: [&str; 6] = [
    "vmware",
    "vboxvideo",
    "hyperv_fb",
    "qxl",
    "vmwgfx",
    "fbdev_hyperv",
];

fn first_path(ev: &[Evidence]) -> &str {
    ev.first().map_or("/", |e| e.location.as_str())
}

pub(crate) fn check(facts: &LinuxFacts, out: &mut Vec<Finding>) {
    let Some(l) = facts.leftovers.get() else {
        if let Some(reason) = &facts.leftovers.unknown {
            out.push(unknown(
                Code::LxXenLeftovers,
                "/etc",
                format!("leftovers of other hypervisors could not be looked for: {reason}"),
                &facts.leftovers.evidence,
            ));
        }
        return;
    };
    for t in &l.tools {
        let path = first_path(&t.evidence);
        match t.kind {
            ToolKind::UvpPv => out.push(warn(
                Code::LxUvpPv,
                path,
                "Huawei UVP/Xen PV drivers are installed; a dead uvp-monitor fills the logs",
                &t.evidence,
            )),
            ToolKind::VmwareTarball => out.push(warn(
                Code::LxVmwareTools,
                path,
                "VMware Tools from VMware's tarball are installed: their services still start and the uninstaller restores old initrds",
                &t.evidence,
            )),
            ToolKind::OpenVmTools => out.push(info(
                Code::LxVmwareTools,
                path,
                "open-vm-tools is installed; it stays inactive outside VMware",
                &t.evidence,
            )),
            ToolKind::VirtualBox => out.push(warn(Code::LxVmwareTools, path, "VirtualBox Guest Additions are installed", &t.evidence)),
            ToolKind::Parallels => out.push(warn(Code::LxVmwareTools, path, "Parallels Tools are installed", &t.evidence)),
            ToolKind::Citrix => out.push(warn(Code::LxVmwareTools, path, "Citrix XenServer guest utilities are installed (they also comment out getty lines in /etc/inittab)", &t.evidence)),
        }
    }
    if let Some(k) = &l.kudzu {
        if k.enabled() {
            let ev = k.evidence();
            out.push(warn(
                Code::LxVmwareTools,
                first_path(&ev),
                "kudzu is enabled: it re-detects NICs and may disable the interface",
                &ev,
            ));
        }
    }
    let (inert, xen): (Vec<&Evidence>, Vec<&Evidence>) = l
        .xen_modules
        .iter()
        .partition(|e| XEN_FRONTENDS.iter().any(|f| e.value.contains(f)));
    if !xen.is_empty() {
        let ev: Vec<Evidence> = xen.into_iter().cloned().collect();
        out.push(warn(
            Code::LxXenLeftovers,
            first_path(&ev),
            "Xen drivers are named in initramfs module lists or modprobe aliases; they break initramfs builds on KVM",
            &ev,
        ));
    }
    if !inert.is_empty() {
        let ev: Vec<Evidence> = inert.into_iter().cloned().collect();
        out.push(info(
            Code::LxXenLeftovers,
            first_path(&ev),
            "xen-blkfront/xen-netfront are listed next to the virtio modules (old Xen-era IMS procedure); inert on KVM",
            &ev,
        ));
    }
    let (unplug, consoles): (Vec<&Evidence>, Vec<&Evidence>) = l
        .xen_consoles
        .iter()
        .partition(|e| e.value.contains("xen_emul_unplug"));
    if !consoles.is_empty() {
        let ev: Vec<Evidence> = consoles.into_iter().cloned().collect();
        out.push(warn(
            Code::LxXenLeftovers,
            first_path(&ev),
            "Xen consoles (hvc0/xvc0) are configured: no login prompt on the VNC console if they are the only ones",
            &ev,
        ));
    }
    if !unplug.is_empty() {
        let ev: Vec<Evidence> = unplug.into_iter().cloned().collect();
        out.push(info(
            Code::LxXenLeftovers,
            first_path(&ev),
            "xen_emul_unplug= on the command line is inert on KVM",
            &ev,
        ));
    }
    if !l.vmware_aliases.is_empty() {
        out.push(warn(
            Code::LxVmwareTools,
            first_path(&l.vmware_aliases),
            "modprobe aliases name VMware drivers (vmxnet, vmxnet3, pvscsi)",
            &l.vmware_aliases,
        ));
    }
    for (driver, e) in &l.xorg_drivers {
        if FOREIGN_VIDEO.iter().any(|d| driver.eq_ignore_ascii_case(d)) {
            out.push(warn(
                Code::LxXorg,
                &e.location,
                format!(
                    "the X server is pinned to the {driver} video driver of another hypervisor"
                ),
                std::slice::from_ref(e),
            ));
        }
    }
    advisory(facts, out);
    if let Some(e) = &l.autoconf_trace {
        out.push(info(
            Code::LxAutoconfTrace,
            &e.location,
            "the image was auto-configured by IMS before",
            std::slice::from_ref(e),
        ));
    }
}

/// LX-MACHINE-ID, LX-RTC, LX-DHCP-LEASES.
fn advisory(facts: &LinuxFacts, out: &mut Vec<Finding>) {
    let Some(a) = facts.advisory.get() else {
        return;
    };
    if let Some(e) = a.machine_id.as_ref().filter(|e| e.value == "set") {
        out.push(info(
            Code::LxMachineId,
            &e.location,
            "/etc/machine-id is set: every ECS from this image shares it",
            std::slice::from_ref(e),
        ));
    }
    if let Some((mode, e)) = &a.rtc {
        if mode.eq_ignore_ascii_case("LOCAL") {
            out.push(info(
                Code::LxRtc,
                &e.location,
                "the hardware clock is set to local time; Linux on KVM expects UTC",
                std::slice::from_ref(e),
            ));
        }
    }
    if !a.dhcp_leases.is_empty() {
        out.push(info(
            Code::LxDhcpLeases,
            first_path(&a.dhcp_leases),
            format!(
                "{} DHCP lease files of the source network are left",
                a.dhcp_leases.len()
            ),
            &a.dhcp_leases,
        ));
    }
}
