//! LX-VIRTIO-KERNEL, LX-VIRTIO-INITRD, LX-INITRD-CMDLINE and
//! LX-INITRD-HOSTONLY.

use imsprep_guest::linux::bootloader::cmdline_args;
use imsprep_guest::linux::storage::{classify_source, SourceKind};
use imsprep_guest::linux::virtio::{ModuleState, VirtioFacts};
use imsprep_guest::{Evidence, LinuxFacts};

use super::{fail, info, unknown, warn};
use crate::finding::{Code, Finding};

/// Modules the kernel must provide (LX-VIRTIO-KERNEL FAIL).
const KERNEL_REQUIRED: [&str; 5] = [
    "virtio",
    "virtio_ring",
    "virtio_pci",
    "virtio_blk",
    "virtio_net",
];
/// Modules the early boot needs to reach a virtio-blk disk.
const INITRD_REQUIRED: [&str; 4] = ["virtio", "virtio_ring", "virtio_pci", "virtio_blk"];
/// The modules IMS recommends for dracut `add_drivers`.
const RECOMMENDED: [&str; 6] = [
    "virtio_blk",
    "virtio_scsi",
    "virtio_net",
    "virtio_pci",
    "virtio_ring",
    "virtio",
];

pub(crate) fn check(facts: &LinuxFacts, out: &mut Vec<Finding>) {
    let fact = &facts.virtio;
    match fact.get() {
        Some(v) => {
            kernel(v, &fact.evidence, out);
            initrd(v, &fact.evidence, out);
            initrd_cmdline(v, out);
        }
        None => {
            let reason = fact
                .unknown
                .clone()
                .unwrap_or_else(|| "no default kernel was found".to_owned());
            for code in [Code::LxVirtioKernel, Code::LxVirtioInitrd] {
                out.push(unknown(
                    code,
                    "/lib/modules",
                    format!("the default kernel's virtio drivers could not be examined: {reason}"),
                    &fact.evidence,
                ));
            }
        }
    }
    hostonly(facts, out);
}

fn state_text(m: &ModuleState) -> String {
    if m.builtin {
        format!("{} built in", m.name)
    } else if let Some(f) = &m.module_file {
        format!("{} module {f}", m.name)
    } else {
        format!("{} absent", m.name)
    }
}

fn provided(m: Option<&ModuleState>) -> bool {
    m.is_some_and(|m| m.builtin || m.module_file.is_some())
}

fn kernel(v: &VirtioFacts, ev: &[Evidence], out: &mut Vec<Finding>) {
    let path = format!("/lib/modules/{}", v.kernel_version);
    let missing: Vec<&str> = KERNEL_REQUIRED
        .iter()
        .copied()
        .filter(|n| !provided(v.module(n)))
        .collect();
    let states: Vec<String> = v.modules.iter().map(state_text).collect();
    if !missing.is_empty() {
        out.push(fail(
            Code::LxVirtioKernel,
            &path,
            format!(
                "kernel {} lacks {} (neither built in nor a module): without virtio_blk there is no system disk, without virtio_net no NIC; found: {}",
                v.kernel_version,
                missing.join(", "),
                states.join(", ")
            ),
            ev,
        ));
    } else if !provided(v.module("virtio_scsi")) {
        out.push(warn(
            Code::LxVirtioKernel,
            &path,
            format!(
                "kernel {} has no virtio_scsi: SCSI-type EVS disks will not be seen",
                v.kernel_version
            ),
            ev,
        ));
    }
}

/// Satisfied for the early boot: built in, or inside the initramfs.
fn early(m: Option<&ModuleState>) -> bool {
    m.is_some_and(|m| m.builtin || m.builtin_in_initrd || m.in_initrd.is_some())
}

fn initrd(v: &VirtioFacts, ev: &[Evidence], out: &mut Vec<Finding>) {
    let path = v
        .initrd_path
        .clone()
        .unwrap_or_else(|| format!("/boot (initramfs of {})", v.kernel_version));
    let mut required: Vec<&str> = INITRD_REQUIRED.to_vec();
    // Newer kernels split virtio_pci's helpers into their own modules;
    // when the kernel has them as modules the initramfs needs them too.
    for helper in ["virtio_pci_modern_dev", "virtio_pci_legacy_dev"] {
        if v.module(helper)
            .is_some_and(|m| !m.builtin && m.module_file.is_some())
        {
            required.push(helper);
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|n| !early(v.module(n)))
        .collect();
    let listing = v.initrd.as_ref();
    if missing.is_empty() {
        for extra in ["virtio_net", "virtio_scsi"] {
            if !early(v.module(extra)) && provided(v.module(extra)) && listing.is_some() {
                out.push(info(
                    Code::LxVirtioInitrd,
                    &path,
                    format!("{extra} is not in the initramfs (udev loads it later from /lib/modules; IMS nevertheless recommends adding all six virtio modules)"),
                    ev,
                ));
            }
        }
        return;
    }
    let details: Vec<String> = missing
        .iter()
        .map(|n| match v.module(n) {
            Some(m) => format!("{}: not built in, not in the initramfs", m.name),
            None => format!("{n}: not examined"),
        })
        .collect();
    if listing.is_none() {
        let why = v
            .initrd_unknown
            .clone()
            .unwrap_or_else(|| "the initramfs was not read".to_owned());
        out.push(unknown(
            Code::LxVirtioInitrd,
            &path,
            format!(
                "{} are not built into kernel {} and the initramfs could not be listed: {why}",
                missing.join(", "),
                v.kernel_version
            ),
            ev,
        ));
        return;
    }
    if let Some(why) = listing.and_then(|l| l.incomplete.clone()) {
        out.push(unknown(
            Code::LxVirtioInitrd,
            &path,
            format!(
                "{} were not found, but the initramfs was listed only in part: {why}",
                missing.join(", ")
            ),
            ev,
        ));
        return;
    }
    out.push(fail(
        Code::LxVirtioInitrd,
        &path,
        format!(
            "the initramfs {path} of kernel {} cannot reach a virtio-blk system disk: {}",
            v.kernel_version,
            details.join("; ")
        ),
        ev,
    ));
}

/// A device named in the initramfs that will not exist on ECS.
fn bad_device(value: &str) -> bool {
    matches!(
        classify_source(value, ""),
        SourceKind::ForeignName(_) | SourceKind::ByIdOrPath(_)
    )
}

fn initrd_cmdline(v: &VirtioFacts, out: &mut Vec<Finding>) {
    let archive = v.initrd_path.clone().unwrap_or_default();
    for s in &v.initrd_cmdline {
        let ev = [Evidence::archive(&archive, &s.file, s.value.clone())];
        for (k, val) in cmdline_args(&s.value) {
            let Some(val) = val else { continue };
            // `rd.lvm.lv=` names a VG/LV, never a disk of the old hardware.
            let names_device = matches!(k.as_str(), "root" | "resume" | "RESUME");
            if names_device && bad_device(&val) {
                out.push(fail(
                    Code::LxInitrdCmdline,
                    &archive,
                    format!(
                        "the initramfs sets {k}={val} ({}), a device of the old hardware",
                        s.file
                    ),
                    &ev,
                ));
            }
        }
    }
    for s in &v.initrd_persistent_net {
        out.push(fail(
            Code::LxInitrdCmdline,
            &archive,
            format!(
                "the initramfs holds a persistent-net rule ({}) pinning a NIC to its old MAC",
                s.file
            ),
            &[Evidence::archive(&archive, &s.file, s.value.clone())],
        ));
    }
}

fn hostonly(facts: &LinuxFacts, out: &mut Vec<Finding>) {
    let fact = &facts.initrd_generator;
    let Some(g) = fact.get() else {
        if let Some(reason) = &fact.unknown {
            out.push(unknown(
                Code::LxInitrdHostonly,
                "/etc/dracut.conf",
                format!("the initramfs generator settings could not be read: {reason}"),
                &fact.evidence,
            ));
        }
        return;
    };
    let ev = &fact.evidence;
    let norm = |s: &str| s.replace('-', "_");
    if g.dracut {
        let hostonly = g.dracut_hostonly.as_deref() != Some("no");
        let added: Vec<String> = g.dracut_add_drivers.iter().map(|d| norm(d)).collect();
        let lacking: Vec<&str> = INITRD_REQUIRED
            .iter()
            .copied()
            .filter(|m| !added.iter().any(|a| a == m))
            .collect();
        if hostonly && added.iter().all(|a| a != "virtio_blk") {
            out.push(warn(
                Code::LxInitrdHostonly,
                "/etc/dracut.conf",
                format!(
                    "dracut builds host-only images (hostonly={}) and add_drivers lacks {}: the next kernel update will build an initramfs without virtio",
                    g.dracut_hostonly.as_deref().unwrap_or("default yes"),
                    lacking.join(", ")
                ),
                ev,
            ).with_fix(format!("Add `add_drivers+=\" {} \"` to /etc/dracut.conf.d/virtio.conf.", RECOMMENDED.join(" "))));
        }
        let omitted: Vec<&String> = g
            .dracut_omit_drivers
            .iter()
            .filter(|d| norm(d).starts_with("virtio"))
            .collect();
        if !omitted.is_empty() {
            out.push(warn(
                Code::LxInitrdHostonly,
                "/etc/dracut.conf",
                format!(
                    "dracut omit_drivers names {}",
                    omitted
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                ev,
            ));
        }
    }
    if g.initramfs_tools && g.initramfs_tools_modules.as_deref() == Some("dep") {
        out.push(warn(
            Code::LxInitrdHostonly,
            "/etc/initramfs-tools/initramfs.conf",
            "initramfs-tools MODULES=dep includes only the drivers of the machine that builds the initramfs",
            ev,
        ).with_fix("Set MODULES=most, or list the virtio modules in /etc/initramfs-tools/modules."));
    }
}
