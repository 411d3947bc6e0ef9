//! WIN-VIRTIO-BLK, WIN-VIRTIO-NET, WIN-VIRTIO-OTHER, WIN-CLASS-FILTERS,
//! WIN-FOREIGN-TOOLS, WIN-DEVICE-INSTALL-POLICY, WIN-DRIVER-SIGNING.
//!
//! A PCI-ID mapping counts only in the database the Windows version uses:
//! `CriticalDeviceDatabase` before Windows 8 / 2012 (build 9200),
//! `DriverDatabase` from then on (when the build is unknown, either).

use imsprep_guest::windows::drivers::{DriverFacts, IdMapping, ServiceFacts};
use imsprep_guest::WindowsFacts;

use super::system::control_set_name;
use super::{fail, info, read, warn, NOT_VERIFIED};
use crate::finding::{Code, Finding};

/// Filters of the old platforms (Xen, VMware, backup agents) that may
/// not work on KVM.
const FOREIGN_FILTERS: &[&str] = &[
    "xenfilt",
    "xenvbd",
    "scsifilt",
    "vmwvmcihostdev",
    "vsepflt",
    "vmkbd",
    "vmci",
    "prl_strg",
];

/// Which mapping database the build uses: Some(true) DriverDatabase,
/// Some(false) CriticalDeviceDatabase, None either.
fn uses_driver_database(build: Option<u32>) -> Option<bool> {
    build.map(|b| b >= 9200)
}

/// Device IDs mapped in the database this Windows uses.
fn mapped(d: &DriverFacts, dd: Option<bool>) -> Vec<String> {
    d.ids
        .iter()
        .filter(|i| {
            i.mappings.iter().any(|m| {
                matches!(
                    (m, dd),
                    (_, None)
                        | (IdMapping::DriverDatabase { .. }, Some(true))
                        | (IdMapping::CriticalDeviceDatabase { .. }, Some(false))
                )
            })
        })
        .map(|i| format!("DEV_{}", i.device_id))
        .collect()
}

/// Why a service will not load at boot: missing, disabled, no file.
fn service_problems(s: &ServiceFacts, boot_start: bool) -> Vec<String> {
    let mut p = Vec::new();
    if !s.present {
        p.push(format!("service {} is not installed", s.name));
        return p;
    }
    match s.start {
        Some(0) => {}
        Some(4) => p.push(format!("service {} is disabled (Start=4)", s.name)),
        Some(n) if boot_start => p.push(format!(
            "service {} is not boot-start (Start={n}; 0 is needed)",
            s.name
        )),
        None if boot_start => p.push(format!("service {} has no Start value", s.name)),
        _ => {}
    }
    if boot_start && s.service_type.is_some_and(|t| t != 1) {
        p.push(format!(
            "service {} is not a kernel driver (Type={}; 1 is needed)",
            s.name,
            s.service_type.unwrap_or_default()
        ));
    }
    if let Some(f) = &s.file {
        if !s.file_present {
            p.push(format!("its file {f} is missing"));
        }
    } else if s.image_path.is_some() {
        p.push(format!(
            "its ImagePath {:?} is not on the system volume",
            s.image_path.as_deref().unwrap_or_default()
        ));
    }
    p
}

pub(super) fn check(facts: &WindowsFacts, out: &mut Vec<Finding>) {
    let build = facts.identity.get().and_then(|i| i.build);
    let dd = uses_driver_database(build);
    let cs = control_set_name(facts);
    virtio_blk(facts, dd, &cs, out);
    virtio_net(facts, dd, &cs, out);
    virtio_other(facts, &cs, out);
    class_filters(facts, &cs, out);
    foreign_tools(facts, &cs, out);
    device_install_policy(facts, out);
    driver_signing(facts, out);
}

fn db_name(dd: Option<bool>) -> &'static str {
    match dd {
        Some(true) => "SYSTEM\\DriverDatabase\\DeviceIds\\PCI",
        Some(false) => "CriticalDeviceDatabase",
        None => "DriverDatabase or CriticalDeviceDatabase",
    }
}

fn virtio_blk(facts: &WindowsFacts, dd: Option<bool>, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.virtio_blk;
    let path = format!("SYSTEM\\{cs}\\Services\\viostor");
    let Some(blk) = read(
        fact,
        Code::WinVirtioBlk,
        &path,
        "the virtio block drivers",
        out,
    ) else {
        return;
    };
    let ev = &fact.evidence;
    let judge = |d: &DriverFacts| {
        let mut problems = service_problems(&d.service, true);
        let ids = mapped(d, dd);
        if ids.is_empty() {
            problems.push(format!(
                "no PCI ID VEN_1AF4&{} is mapped to {} in {}",
                d.ids
                    .iter()
                    .map(|i| format!("DEV_{}", i.device_id))
                    .collect::<Vec<_>>()
                    .join("/"),
                d.service.name,
                db_name(dd)
            ));
        }
        (problems, ids)
    };
    let (vs_problems, vs_ids) = judge(&blk.viostor);
    let (sc_problems, sc_ids) = judge(&blk.vioscsi);
    if vs_problems.is_empty() {
        if vs_ids.len() < blk.viostor.ids.len() {
            let missing: Vec<String> = blk
                .viostor
                .ids
                .iter()
                .map(|i| format!("DEV_{}", i.device_id))
                .filter(|i| !vs_ids.contains(i))
                .collect();
            out.push(warn(
                Code::WinVirtioBlk,
                &path,
                format!(
                    "viostor is boot-start and mapped to {} but not to {}: a virtio disk presented with that ID would not be found{NOT_VERIFIED}",
                    vs_ids.join(", "),
                    missing.join(", ")
                ),
                ev,
            ));
        }
        return;
    }
    if sc_problems.is_empty() {
        out.push(warn(
            Code::WinVirtioBlk,
            &path,
            format!(
                "only vioscsi (virtio-scsi, {}) is ready to boot; the ECS system disk is virtio-blk, for which viostor is not ready: {}{NOT_VERIFIED}",
                sc_ids.join(", "),
                vs_problems.join("; ")
            ),
            ev,
        ));
        return;
    }
    out.push(fail(
        Code::WinVirtioBlk,
        &path,
        format!(
            "Windows would stop with INACCESSIBLE_BOOT_DEVICE (0x7B) on a virtio disk: {}",
            vs_problems.join("; ")
        ),
        ev,
    ));
}

fn virtio_net(facts: &WindowsFacts, dd: Option<bool>, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.virtio_net;
    let path = format!("SYSTEM\\{cs}\\Services\\netkvm");
    let Some(d) = read(
        fact,
        Code::WinVirtioNet,
        &path,
        "the virtio network driver",
        out,
    ) else {
        return;
    };
    let ev = &fact.evidence;
    let mut problems = service_problems(&d.service, false);
    let ids = mapped(d, dd);
    if ids.is_empty() {
        problems.push(format!(
            "no PCI ID VEN_1AF4&DEV_1000/DEV_1041 is mapped to netkvm in {}",
            db_name(dd)
        ));
    }
    if !problems.is_empty() {
        out.push(fail(
            Code::WinVirtioNet,
            &path,
            format!(
                "the instance would have no working NIC: {}",
                problems.join("; ")
            ),
            ev,
        ));
    } else if ids.len() < d.ids.len() {
        out.push(warn(
            Code::WinVirtioNet,
            &path,
            format!("netkvm is mapped to {} only{NOT_VERIFIED}", ids.join(", ")),
            ev,
        ));
    }
}

fn virtio_other(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.virtio_other;
    let path = format!("SYSTEM\\{cs}\\Services");
    let Some(o) = read(
        fact,
        Code::WinVirtioOther,
        &path,
        "the other virtio drivers",
        out,
    ) else {
        return;
    };
    let missing: Vec<&str> = o
        .drivers
        .iter()
        .filter(|d| ["balloon", "vioser", "viorng"].contains(&d.service.name.as_str()))
        .filter(|d| !d.service.present)
        .map(|d| d.service.name.as_str())
        .collect();
    if !missing.is_empty() {
        out.push(info(
            Code::WinVirtioOther,
            &path,
            format!(
                "not installed: {} (memory ballooning, the serial channel and the RNG device will not work)",
                missing.join(", ")
            ),
            &[],
        ));
    }
    if let Some(v) = &o.uvp_vmtools {
        out.push(info(
            Code::WinVirtioOther,
            "/Program Files (x86)/virtio/bin/version",
            format!("Huawei UVP VMTools {v} are installed (IMS: 2.5.0 or later is usable); they count as virtio drivers only where WIN-VIRTIO-BLK and WIN-VIRTIO-NET pass{NOT_VERIFIED}"),
            &fact.evidence,
        ));
    }
}

fn class_filters(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.class_filters;
    let path = format!("SYSTEM\\{cs}\\Control\\Class");
    let Some(list) = read(
        fact,
        Code::WinClassFilters,
        &path,
        "the storage class filters",
        out,
    ) else {
        return;
    };
    for f in list {
        let name = &f.service.name;
        let ev: Vec<_> = fact
            .evidence
            .iter()
            .filter(|e| {
                e.location.contains(&format!("\\{name}\\"))
                    || e.location.ends_with(&format!("\\{name}"))
                    || e.value.contains(name.as_str())
                    || e.location.ends_with(&f.list)
            })
            .cloned()
            .collect();
        let mut problems = service_problems(&f.service, false);
        if f.service.start == Some(4)
            || !f.service.present
            || (f.service.file.is_some() && !f.service.file_present)
        {
            problems.retain(|p| !p.contains("boot-start"));
            out.push(fail(
                Code::WinClassFilters,
                &path,
                format!(
                    "{} filter {name} of the {} class will not load, so the storage stack fails at boot (0x7B): {}",
                    f.list,
                    f.class,
                    problems.join("; ")
                ),
                &ev,
            ));
        } else if FOREIGN_FILTERS.iter().any(|x| x.eq_ignore_ascii_case(name)) {
            out.push(warn(
                Code::WinClassFilters,
                &path,
                format!(
                    "{} filter {name} of the {} class belongs to the old platform and may not work on KVM",
                    f.list, f.class
                ),
                &ev,
            ));
        }
    }
}

fn foreign_tools(facts: &WindowsFacts, cs: &str, out: &mut Vec<Finding>) {
    let fact = &facts.foreign_tools;
    let path = format!("SYSTEM\\{cs}\\Services");
    let Some(list) = read(
        fact,
        Code::WinForeignTools,
        &path,
        "other platforms' tools",
        out,
    ) else {
        return;
    };
    if list.is_empty() {
        return;
    }
    let items: Vec<String> = list
        .iter()
        .map(|t| format!("{}: {}", t.platform, t.what))
        .collect();
    out.push(warn(
        Code::WinForeignTools,
        &path,
        format!(
            "tools of another platform are installed: {}",
            items.join("; ")
        ),
        &fact.evidence,
    ));
}

fn device_install_policy(facts: &WindowsFacts, out: &mut Vec<Finding>) {
    let fact = &facts.device_install_policy;
    let path = "SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions";
    let Some(p) = read(
        fact,
        Code::WinDeviceInstallPolicy,
        path,
        "the device installation policy",
        out,
    ) else {
        return;
    };
    if !p.restrictions.is_empty() {
        out.push(warn(
            Code::WinDeviceInstallPolicy,
            path,
            format!(
                "device installation is restricted by policy ({}): the virtio devices may be refused",
                p.restrictions.join(", ")
            ),
            &fact.evidence,
        ));
    }
}

fn driver_signing(facts: &WindowsFacts, out: &mut Vec<Finding>) {
    let fact = &facts.driver_signing;
    let path = "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages";
    let Some(s) = read(
        fact,
        Code::WinDriverSigning,
        path,
        "the SHA-2 signing support",
        out,
    ) else {
        return;
    };
    if s.needs_sha2_update && !s.sha2_update {
        out.push(warn(
            Code::WinDriverSigning,
            path,
            format!("Windows 7 / 2008 R2 without KB4474419: drivers signed with SHA-2 only (recent virtio-win releases) will not load{NOT_VERIFIED}"),
            &fact.evidence,
        ));
    }
}
