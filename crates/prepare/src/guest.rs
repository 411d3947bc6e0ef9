//! The guest inside the image: what it is, and whether it will boot and be
//! reachable on ECS.

use std::sync::Arc;

use imsprep_disk::Disk;
use imsprep_guest::linux::arch::Arch;
use imsprep_guest::linux::bootmode::BootMode;
use imsprep_guest::windows::identity::WinArch;
use imsprep_guest::{inspect_disk, DiskInspection, LinuxFacts, WindowsFacts};
use imsprep_ims::guest::{
    check_declared, check_declared_windows, check_disk, check_fs_state, check_linux, check_windows,
    os_version_for, windows_os_version,
};
use imsprep_ims::{Architecture, Finding, Intent};
use serde::Serialize;

/// What the guest is, in a few words, for people and `--json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GuestSummary {
    /// `linux` or `windows`; `None` when no system was found.
    pub system: Option<&'static str>,
    /// The root file system's device.
    pub root: Option<String>,
    /// The system's own name for itself (os-release `PRETTY_NAME`,
    /// Windows `ProductName`).
    pub name: Option<String>,
    /// `x86` or `arm` as the request's `architecture` spells it; another
    /// word when it is neither.
    pub architecture: Option<String>,
    /// What firmware can start the disk: `bios`, `uefi`, `bios+uefi`,
    /// `none`.
    pub boot: Option<String>,
    /// The kernel the boot loader starts by default (Linux).
    pub default_kernel: Option<String>,
    /// The `os_version` string for the target cloud: the exact one when the
    /// catalogue lists it, else the nearest or the generic fallback.
    pub os_version: Option<String>,
    /// Whether `os_version` names exactly the guest's version.
    pub os_version_exact: bool,
    /// How `os_version` was chosen.
    pub os_version_reason: Option<String>,
    /// The mounts the guest's fstab makes: `MOUNT <- DEVICE`.
    pub mounts: Vec<String>,
}

/// The guest's facts turned into a summary and findings.
#[derive(Debug, Clone)]
pub struct GuestCheck {
    /// What was found on the disk, with every fact and its evidence.
    pub inspection: DiskInspection,
    /// The guest in a few words.
    pub summary: GuestSummary,
    /// Every finding of the guest checks (IMG-*, LX-*, WIN-*).
    pub findings: Vec<Finding>,
}

impl GuestCheck {
    /// The request's architecture the guest needs, when known.
    pub fn architecture(&self) -> Option<Architecture> {
        match self.summary.architecture.as_deref() {
            Some("x86") => Some(Architecture::X86),
            Some("arm") => Some(Architecture::Arm),
            _ => None,
        }
    }
}

/// Inspects the guest on `disk` and checks it for `intent`; a given
/// `os_version` or `architecture` is compared with what the guest is.
pub fn check_guest(
    disk: Arc<dyn Disk>,
    intent: &Intent,
    declared_os_version: Option<&str>,
    declared_architecture: Option<Architecture>,
) -> GuestCheck {
    let inspection = inspect_disk(disk);
    let mut findings = check_disk(&inspection);
    let mut summary = GuestSummary {
        root: inspection.roots.first().map(|r| r.device.clone()),
        mounts: inspection
            .mounts
            .iter()
            .map(|m| format!("{} <- {}", m.mount_point, m.device))
            .collect(),
        ..GuestSummary::default()
    };
    if let Some(facts) = &inspection.linux {
        linux_summary(facts, intent, &mut summary);
        // Without an architecture from the user, the guest's is the one the
        // request will carry, and the boot checks judge by it.
        let mut intent = intent.clone();
        if declared_architecture.is_none() {
            match summary.architecture.as_deref() {
                Some("arm") => intent.architecture = Architecture::Arm,
                Some("x86") => intent.architecture = Architecture::X86,
                _ => {}
            }
        }
        let intent = &intent;
        findings.extend(check_linux(facts, intent));
        findings.extend(check_declared(
            facts,
            declared_os_version,
            declared_architecture,
        ));
        for (mount, device, usage) in &inspection.usage {
            findings.extend(check_fs_state(mount, device, usage));
        }
    }
    if let Some(facts) = &inspection.windows {
        windows_summary(facts, intent, &mut summary);
        findings.extend(check_windows(facts, intent, intent.cloud));
        findings.extend(check_declared_windows(
            facts,
            declared_os_version,
            declared_architecture,
            intent.cloud,
        ));
    }
    GuestCheck {
        inspection,
        summary,
        findings,
    }
}

fn linux_summary(facts: &LinuxFacts, intent: &Intent, summary: &mut GuestSummary) {
    summary.system = Some("linux");
    let arch = facts.arch.get();
    summary.architecture = arch.map(|a| {
        match a.arch {
            Arch::X86_64 | Arch::I386 => "x86",
            Arch::Aarch64 | Arch::Arm => "arm",
            _ => "other",
        }
        .to_string()
    });
    summary.boot = facts.boot_mode.get().map(|b| {
        match b.mode {
            BootMode::Bios => "bios",
            BootMode::Uefi => "uefi",
            BootMode::Hybrid => "bios+uefi",
            BootMode::None => "none",
        }
        .to_string()
    });
    summary.default_kernel = facts
        .boot
        .get()
        .and_then(|b| b.default_entry())
        .and_then(|e| e.kernel.clone());
    if let Some(id) = facts.identity.get() {
        summary.name = id.pretty_name.clone().or_else(|| id.name.clone());
        let choice = os_version_for(id, arch, intent.cloud);
        summary.os_version = Some(choice.best().to_string());
        summary.os_version_exact = choice.exact.is_some();
        summary.os_version_reason = Some(choice.reason.clone());
    }
}

fn windows_summary(facts: &WindowsFacts, intent: &Intent, summary: &mut GuestSummary) {
    summary.system = Some("windows");
    let arch = facts.arch.get().map(|a| a.arch);
    summary.architecture = arch.map(|a| {
        match a {
            WinArch::Amd64 | WinArch::X86 => "x86",
            WinArch::Arm64 => "arm",
            WinArch::Other => "other",
        }
        .to_string()
    });
    if let Some(id) = facts.identity.get() {
        summary.name = id.product_name.clone();
        let choice = windows_os_version(id, arch, intent.cloud);
        summary.os_version_exact = choice.exact.is_some();
        summary.os_version = choice
            .exact
            .clone()
            .or_else(|| choice.candidates.first().cloned());
        summary.os_version_reason = Some(choice.reason.clone());
    }
}
